-- Webhook subscriptions. The signing secret is kept in clear: docintel must sign with it.
-- After a rotation the previous secret also signs until `previous_expires_at`.
CREATE TABLE webhooks (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    url                   TEXT NOT NULL,
    description           TEXT,
    event_types           TEXT NOT NULL,            -- JSON array of event names
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_expires_at   INTEGER,
    status                TEXT NOT NULL,            -- active | disabled
    disabled_reason       TEXT,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL
);
CREATE INDEX webhooks_by_tenant ON webhooks (tenant_id, id);

-- One row per (subscription, event), written in the transaction of the state change
-- (with the outbox row), so no event is lost if the process dies.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    tenant_id        TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    document_id      TEXT NOT NULL,
    event            TEXT NOT NULL,                 -- the event record (JSON)
    body             TEXT,                          -- rendered at the first attempt, then reused
    status           TEXT NOT NULL,                 -- pending | delivered | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id DESC);

-- Per-tenant request rate limits; tenants without a row get the server's default.
CREATE TABLE tenant_rate_limits (
    tenant_id    TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    quota        INTEGER NOT NULL,
    window_secs  INTEGER NOT NULL
);
