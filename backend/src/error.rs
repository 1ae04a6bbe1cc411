//! The backend's error type. The façade maps each variant to an HTTP status once.

use thiserror::Error;

/// Why an ingest was refused before anything was stored.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum IngestError {
    #[error("the document is empty")]
    Empty,
    #[error("the document is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error(
        "unsupported content type {detected}; supported: application/pdf, image/png, image/jpeg, image/tiff, text/plain (UTF-8)"
    )]
    Unsupported { detected: String },
    #[error(
        "the body is {detected}, not the declared {declared}; the content type is detected from the bytes"
    )]
    Mismatch {
        declared: &'static str,
        detected: &'static str,
    },
    #[error("invalid filename: {0}")]
    BadFilename(&'static str),
    #[error("{}", quota_detail(.0))]
    QuotaExceeded(crate::model::Usage),
}

/// Why a quota refused an upload, with the usage and the limits.
fn quota_detail(u: &crate::model::Usage) -> String {
    let limit = |l: Option<u64>| l.map_or("unlimited".to_owned(), |n| n.to_string());
    format!(
        "this upload would pass the tenant's storage quota (now {} of {} documents, {} of {} bytes); \
         delete documents or ask the operator for a larger quota",
        u.documents,
        limit(u.limits.max_documents),
        u.bytes,
        limit(u.limits.max_bytes)
    )
}

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Webhook(#[from] crate::webhooks::WebhookError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("blob storage error: {0}")]
    Io(#[from] std::io::Error),
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot use the database {url}")]
    Connect {
        /// Without its password.
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    #[error("rendering the response to keep: {0}")]
    Render(String),
    /// A shared service (the database, object storage) is busy or unreachable for now.
    #[error("{service} temporarily unavailable: {detail}")]
    Unavailable {
        service: &'static str,
        detail: String,
    },
}

impl Error {
    /// Whether a shared service (the database, object storage) could not be reached (down, restarting, no free connection),
    /// as opposed to refusing the request: the same request may succeed later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::Unavailable { .. } => true,
            Error::Database(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                // SQLSTATE class 08 (connection exception) and 57P0x (the server is
                // shutting down, restarting, or not accepting connections yet).
                sqlx::Error::Database(db) => db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P0")),
                _ => false,
            },
            _ => false,
        }
    }
}

impl Error {
    /// Whether the disk (or filesystem) holding the data is full: the same request may
    /// succeed once space is freed.
    pub fn is_storage_full(&self) -> bool {
        fn io_full(e: &std::io::Error) -> bool {
            e.kind() == std::io::ErrorKind::StorageFull
                || e.raw_os_error() == Some(28) // ENOSPC
                || e.raw_os_error() == Some(122) // EDQUOT
        }
        match self {
            Error::Io(e) => io_full(e),
            Error::Database(sqlx::Error::Io(e)) => io_full(e),
            // SQLITE_FULL: "database or disk is full".
            Error::Database(sqlx::Error::Database(db)) => db.code().as_deref() == Some("13"),
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            _ => false,
        }
    }

    /// Which shared service [`Self::is_unavailable`] is about.
    pub fn unavailable_service(&self) -> Option<&'static str> {
        match self {
            Error::Unavailable { service, .. } => Some(service),
            e if e.is_unavailable() => Some("database"),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
