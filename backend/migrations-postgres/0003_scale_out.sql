-- The blob sweep asks which of a batch of keys a document is stored under.
CREATE INDEX documents_blob_key ON documents (blob_key);
-- How many times processing was started for the document's result (an operator's view of
-- retries after crashes and lease expiries; jobs rows are gone once done).
ALTER TABLE documents ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;

-- Request quotas shared by API replicas: per key and fixed window, how many requests
-- have been handed out in slices (and the size of the last slice, which the upsert that
-- takes it returns).
CREATE TABLE rate_windows (
    key_hash     TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    granted      INTEGER NOT NULL,
    last_grant   INTEGER NOT NULL,
    PRIMARY KEY (key_hash, window_start)
);

-- Since when a webhook endpoint has been failing (NULL: its last attempt succeeded). It is
-- disabled only after failing for a while, not after a burst of retries in a short outage.
ALTER TABLE webhooks ADD COLUMN failing_since BIGINT;
