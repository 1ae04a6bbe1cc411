-- A key's scopes (names separated by spaces; NULL: every scope, as keys made before
-- scopes hold), its expiry, and when it was last used (written at most once a minute).
ALTER TABLE api_keys ADD COLUMN scopes TEXT;
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at);

-- Moved by every change of what a key grants (a revocation above all), in the change's
-- own transaction: each process forgets the keys it has cached when it moves.
CREATE TABLE key_generation (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   INTEGER NOT NULL
);
INSERT INTO key_generation (id, n) VALUES (1, 0);
CREATE TRIGGER api_keys_changed AFTER UPDATE OF revoked_at, scopes, expires_at, admin ON api_keys
BEGIN UPDATE key_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
BEGIN UPDATE key_generation SET n = n + 1 WHERE id = 1; END;
