-- A key's scopes (names separated by spaces; NULL: every scope, as keys made before
-- scopes hold), its expiry, and when it was last used (written at most once a minute).
ALTER TABLE api_keys ADD COLUMN scopes TEXT;
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at);

-- Moved by every change of what a key grants (a revocation above all), in the change's
-- own transaction: each process forgets the keys it has cached when it moves.
CREATE TABLE key_generation (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   BIGINT NOT NULL
);
INSERT INTO key_generation (id, n) VALUES (1, 0);
CREATE FUNCTION api_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE key_generation SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER api_keys_changed AFTER UPDATE OF revoked_at, scopes, expires_at, admin OR DELETE
ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION api_keys_changed();
