-- The embedded Pact Broker: the same records as the SQLite store's broker_records.
CREATE TABLE broker_records (
    seq         BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    body        TEXT NOT NULL,
    UNIQUE (kind, scope, key)
);
