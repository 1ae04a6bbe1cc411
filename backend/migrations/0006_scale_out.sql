-- The blob sweep asks which of a batch of keys a document is stored under.
CREATE INDEX documents_blob_key ON documents (blob_key);
-- How many times processing was started for the document's result (an operator's view of
-- retries after crashes and lease expiries; jobs rows are gone once done).
ALTER TABLE documents ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
