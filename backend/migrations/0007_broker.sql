-- The embedded Pact Broker. Its rules (selectors, pending, the matrix) live in
-- backend/src/broker; the store keeps its records by kind, scope and key, in creation
-- order (`seq`: "latest" in the Pact Broker means most recently created).
CREATE TABLE broker_records (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    body        TEXT NOT NULL,
    UNIQUE (kind, scope, key)
);
