-- Small documents' bytes, kept beside their row and written in the upload's own
-- transaction instead of an object of their own (see `blobs/`, `inline_max_bytes`). A
-- document's bytes go when it does, whichever way it is deleted.
CREATE TABLE document_bytes (
    document_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    bytes       BYTEA NOT NULL
);
-- Documents come mostly compressed already: out of line, without a compression attempt.
ALTER TABLE document_bytes ALTER COLUMN bytes SET STORAGE EXTERNAL;
