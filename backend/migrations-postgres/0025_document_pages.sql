-- Each page of a processed document with its layout (blocks, lines and words with their
-- boxes, as JSON), so that a page range is read without the rest of a long document.
CREATE TABLE document_pages (
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    layout      TEXT NOT NULL,
    PRIMARY KEY (document_id, number)
);
