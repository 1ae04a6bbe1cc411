-- Why a document's thumbnail could not be rendered (as in the SQLite store).
ALTER TABLE documents ADD COLUMN thumbnail_failure TEXT;
