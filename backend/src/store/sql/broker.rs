//! The SQL of the embedded Pact Broker's records, one text for SQLite and PostgreSQL
//! (sqlx binds `$N` by position on both), so the two stores cannot drift apart.

pub const INSERT: &str = "INSERT INTO broker_records (kind, scope, key, body) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (kind, scope, key) DO NOTHING";

pub const REPLACE: &str = "UPDATE broker_records SET body = $5 \
     WHERE kind = $1 AND scope = $2 AND key = $3 AND body = $4";

pub const GET: &str = "SELECT seq, scope, key, body FROM broker_records \
     WHERE kind = $1 AND scope = $2 AND key = $3";

// Two statements, not `(scope IS NULL OR scope = …)`: with the OR the planner can only
// use the index's `kind` prefix, and a scoped list would read every record of its kind.
pub const LIST_IN_SCOPE: &str = "SELECT seq, scope, key, body FROM broker_records \
     WHERE kind = $1 AND scope = $2 ORDER BY seq";

pub const LIST: &str =
    "SELECT seq, scope, key, body FROM broker_records WHERE kind = $1 ORDER BY seq";

pub const SCOPES: &str = "SELECT DISTINCT scope FROM broker_records WHERE kind = $1 ORDER BY scope";

// The CAST: PostgreSQL cannot tell a parameter's type from `IS NULL` alone.
pub const DELETE: &str = "DELETE FROM broker_records \
     WHERE kind = $1 AND scope = $2 AND (CAST($3 AS TEXT) IS NULL OR key = $3)";

/// The most scopes one statement lists: far below either database's limit on parameters.
pub const SCOPES_PER_QUERY: usize = 1000;

/// The records of `$1` in the `n` scopes bound after it.
pub fn list_in(n: usize) -> String {
    format!(
        "SELECT seq, scope, key, body FROM broker_records \
         WHERE kind = $1 AND scope IN ({}) ORDER BY seq",
        scope_parameters(n)
    )
}

/// How many records of `$1` the `n` scopes bound after it hold, and their bytes.
pub fn usage(n: usize) -> String {
    format!(
        "SELECT COUNT(*), CAST(COALESCE(SUM(octet_length(body)), 0) AS BIGINT) \
         FROM broker_records WHERE kind = $1 AND scope IN ({})",
        scope_parameters(n)
    )
}

/// `$2, $3, …` for `n` scopes.
fn scope_parameters(n: usize) -> String {
    (2..n + 2)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
