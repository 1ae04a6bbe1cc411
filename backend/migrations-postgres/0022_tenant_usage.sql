-- What each tenant stores (the uploaded bytes and the documents), kept in the same
-- transaction as every document insert and delete, and the tenant's own quotas (NULL:
-- the operator's default; the largest BIGINT: unlimited). An upload updates its tenant's
-- row only while it stays within the quotas, so concurrent uploads cannot pass them.
CREATE TABLE tenant_usage (
    tenant_id      TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    bytes          BIGINT NOT NULL DEFAULT 0,
    documents      BIGINT NOT NULL DEFAULT 0,
    max_bytes      BIGINT,
    max_documents  BIGINT
);
INSERT INTO tenant_usage (tenant_id, bytes, documents)
SELECT t.id, COALESCE(SUM(d.size_bytes), 0), COUNT(d.id)
FROM tenants t LEFT JOIN documents d ON d.tenant_id = t.id
GROUP BY t.id;
