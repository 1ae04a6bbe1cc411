-- Why a document's thumbnail could not be rendered. Set once, so that later requests
-- answer at once instead of rendering it again.
ALTER TABLE documents ADD COLUMN thumbnail_failure TEXT;
