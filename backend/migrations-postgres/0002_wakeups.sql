-- Wake-ups across processes: a commit that queues work notifies every docintel process
-- listening on the channel (LISTEN/NOTIFY delivers on commit, once per transaction and
-- channel), so an idle worker, relay or webhook sender in another process starts at once
-- instead of at its next poll. Polling stays as the fallback for a lost notification.

CREATE FUNCTION docintel_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], '');
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_wake AFTER INSERT OR UPDATE OF state ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION docintel_wake('docintel_jobs');
CREATE TRIGGER outbox_wake AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION docintel_wake('docintel_events');
CREATE TRIGGER deliveries_wake AFTER INSERT ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION docintel_wake('docintel_deliveries');
