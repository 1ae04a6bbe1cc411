-- docintel's schema on PostgreSQL: the SQLite schema of migrations/ (0001–0005) in one
-- step, with Postgres types. Times are unix milliseconds (BIGINT), ids UUIDv7 text, so
-- both stores order and compare them alike.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

-- Only a SHA-256 of each key is kept; keys are 256-bit random, so a slow hash adds nothing.
CREATE TABLE api_keys (
    key_hash    TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    prefix      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    admin       BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE tenant_rate_limits (
    tenant_id    TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    quota        BIGINT NOT NULL,
    window_secs  BIGINT NOT NULL
);

CREATE TABLE documents (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    filename        TEXT NOT NULL,
    status          TEXT NOT NULL,
    failure         TEXT,
    content_type    TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    blob_key        TEXT NOT NULL,
    extracted       TEXT,
    warnings        TEXT NOT NULL DEFAULT '[]',
    classification  TEXT,
    thumbnail_key   TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX documents_by_tenant ON documents (tenant_id, id DESC);
CREATE INDEX documents_by_tenant_status ON documents (tenant_id, status, id DESC);

-- Kept apart from documents so listings never read large texts.
CREATE TABLE document_texts (
    document_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    text        TEXT NOT NULL
);

-- The durable job queue. A job is `queued`, or `running` under a lease; a finished job
-- is deleted in the transaction that records its result.
CREATE TABLE jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id  TEXT NOT NULL UNIQUE REFERENCES documents(id) ON DELETE CASCADE,
    state        TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    lease_owner  TEXT,
    lease_until  BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, lease_until);

CREATE TABLE idempotency_keys (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        BIGINT NOT NULL,
    location      TEXT,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

CREATE TABLE outbox (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     TEXT NOT NULL UNIQUE,
    topic        TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    sent_at      BIGINT
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL;

-- A schema is unique by its digest: a unique index on the text itself fails for large
-- schemas (a B-tree entry is limited to about 2.7 kB).
CREATE TABLE registry_schemas (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256  TEXT NOT NULL UNIQUE,
    schema  TEXT NOT NULL
);
CREATE TABLE registry_versions (
    subject    TEXT NOT NULL,
    version    BIGINT NOT NULL,
    schema_id  BIGINT NOT NULL REFERENCES registry_schemas(id),
    deleted    BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (subject, version)
);
CREATE TABLE registry_config (
    subject        TEXT PRIMARY KEY,
    compatibility  TEXT NOT NULL
);

CREATE TABLE webhooks (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    url                   TEXT NOT NULL,
    description           TEXT,
    event_types           TEXT NOT NULL,            -- JSON array of event names
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_expires_at   BIGINT,
    status                TEXT NOT NULL,
    disabled_reason       TEXT,
    consecutive_failures  BIGINT NOT NULL DEFAULT 0,
    created_at            BIGINT NOT NULL
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, id);

CREATE TABLE webhook_deliveries (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id       TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    tenant_id        TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    document_id      TEXT NOT NULL,
    event            TEXT NOT NULL,
    body             TEXT,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id DESC);
