-- The transactional outbox: every state change writes its event here in the transaction
-- that makes the change; the relay publishes rows in `seq` order and stamps `sent_at`.
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL UNIQUE,
    topic        TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL;

-- The embedded schema registry (Confluent REST API). A schema has one global id however
-- many subjects use it; versions are soft-deleted first, then may be purged.
CREATE TABLE registry_schemas (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    schema  TEXT NOT NULL UNIQUE
);
CREATE TABLE registry_versions (
    subject    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    schema_id  INTEGER NOT NULL REFERENCES registry_schemas(id),
    deleted    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, version)
);
-- Compatibility levels; the subject '' holds the global level.
CREATE TABLE registry_config (
    subject        TEXT PRIMARY KEY,
    compatibility  TEXT NOT NULL
);

-- Admin keys may write to the registry; they are ordinary tenant keys otherwise.
ALTER TABLE api_keys ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
