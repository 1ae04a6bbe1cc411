-- The classifier's verdict (JSON) and the thumbnail's blob key.
ALTER TABLE documents ADD COLUMN classification TEXT;
ALTER TABLE documents ADD COLUMN thumbnail_key TEXT;
