-- The registry keeps each schema's text as submitted, its references, and modes and options.
-- `registry_schemas.schema` (unique by its digest, `sha256`) stays the schema's identity:
-- its JSON without spacing, keys sorted, followed by its references when it has any;
-- `submitted` is the text as the client sent it (NULL for schemas stored before, whose
-- identity is their text).
ALTER TABLE registry_schemas ADD COLUMN submitted TEXT;
-- A schema's references (Confluent's `references`: a named type defined by a version of
-- another subject), in the order given.
CREATE TABLE registry_references (
    schema_id  BIGINT NOT NULL REFERENCES registry_schemas(id),
    position   BIGINT NOT NULL,
    name       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    version    BIGINT NOT NULL,
    PRIMARY KEY (schema_id, position)
);
CREATE INDEX registry_references_by_target ON registry_references (subject, version);
CREATE INDEX registry_versions_by_schema ON registry_versions (schema_id);
-- Settings beyond the compatibility level, per subject ('' is global): `mode`
-- (READWRITE, READONLY, IMPORT) and `refuseBytesAsString`.
CREATE TABLE registry_settings (
    subject  TEXT NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (subject, key)
);
