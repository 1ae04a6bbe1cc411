-- The broker lists a scope's records in creation order: read them in that order from
-- the index instead of sorting each answer.
CREATE INDEX broker_records_by_scope_seq ON broker_records (kind, scope, seq);

-- A counter that every change of a broker record moves, in the change's own transaction:
-- replicas keep what they have computed from the records for as long as it is unchanged,
-- and no write path can forget to say it changed something.
CREATE TABLE broker_generation (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   INTEGER NOT NULL
);
INSERT INTO broker_generation (id, n) VALUES (1, 0);
CREATE TRIGGER broker_records_inserted AFTER INSERT ON broker_records
BEGIN UPDATE broker_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER broker_records_updated AFTER UPDATE ON broker_records
BEGIN UPDATE broker_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER broker_records_deleted AFTER DELETE ON broker_records
BEGIN UPDATE broker_generation SET n = n + 1 WHERE id = 1; END;
