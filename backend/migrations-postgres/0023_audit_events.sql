-- The audit trail: one row per change a caller made, written in the change's own
-- transaction. `actor` is a key id or `operator` (the CLI); nothing secret is kept.
CREATE TABLE audit_events (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    at             BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    address        TEXT,
    request_id     TEXT
);
-- A tenant's listing, newest first; retention deletes by time.
CREATE INDEX audit_events_by_tenant ON audit_events (tenant_id, seq);
CREATE INDEX audit_events_by_time ON audit_events (at);
