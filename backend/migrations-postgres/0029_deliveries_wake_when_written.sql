-- Webhook senders are woken when deliveries are written, not by every statement that
-- could write some: a batch of results inserts the deliveries its events fan out to with
-- one INSERT … SELECT, which writes none when no subscription wants them, and a statement
-- trigger fires all the same. Woken, every sender looked for due deliveries after every
-- batch of results. The transition table holds only the rows inserted.
CREATE FUNCTION docintel_wake_if_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted) THEN
        PERFORM pg_notify(TG_ARGV[0], '');
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER deliveries_wake ON webhook_deliveries;
CREATE TRIGGER deliveries_wake AFTER INSERT ON webhook_deliveries
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION docintel_wake_if_inserted('docintel_deliveries');
