-- Every process keeps recently read documents in memory; each change of a document row
-- (status, result, thumbnail, deletion, by any process, statement or cascade) notifies
-- its id on `docintel_documents`, delivered at commit, and every process forgets that id.
-- Inserts need no notice: only documents that were read are kept.

CREATE FUNCTION docintel_document_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('docintel_documents', OLD.id);
    RETURN NULL;
END $$;

CREATE TRIGGER documents_changed AFTER UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION docintel_document_changed();
