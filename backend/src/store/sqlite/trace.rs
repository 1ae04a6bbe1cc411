//! Test-only: what the embedded store sends its write connections' threads. Every
//! statement such a connection runs (BEGIN and COMMIT included) becomes a tracing event
//! (target [`STATEMENT`]) in the span of the call that sent it, beside the event sqlx
//! logs for each statement text it hands over (`sqlx::query`), so a test can count what
//! an operation costs ([`tests`]).

use std::ffi::{CStr, c_char, c_int, c_uint, c_void};

use libsqlite3_sys as ffi;

/// The target of the event for each statement SQLite runs.
pub(super) const STATEMENT: &str = "docintel::sqlite::statement";
/// The target of the event for each check of a pooled connection (a hand-off too).
pub(super) const PING: &str = "docintel::sqlite::ping";

/// Reports every statement `conn` runs from now on.
pub(super) async fn install(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is this connection's open handle; the hook goes with it when it
    // closes, and the callback reads only the text SQLite passes it.
    let rc = unsafe {
        ffi::sqlite3_trace_v2(
            db,
            ffi::SQLITE_TRACE_STMT as c_uint,
            Some(on_statement),
            std::ptr::null_mut(),
        )
    };
    if rc != ffi::SQLITE_OK {
        return Err(sqlx::Error::Protocol(format!("sqlite3_trace_v2: {rc}")));
    }
    Ok(())
}

/// For `SQLITE_TRACE_STMT`, `sql` is the statement's text (a trigger's statements come
/// as `-- trigger name`: part of the statement that fired them, not counted).
unsafe extern "C" fn on_statement(
    kind: c_uint,
    _context: *mut c_void,
    _statement: *mut c_void,
    sql: *mut c_void,
) -> c_int {
    if kind == ffi::SQLITE_TRACE_STMT as c_uint && !sql.is_null() {
        // SAFETY: SQLite passes a NUL-terminated string that lives for this call.
        let text = unsafe { CStr::from_ptr(sql as *const c_char) }.to_string_lossy();
        if !text.starts_with("--") {
            tracing::trace!(target: STATEMENT, sql = %text);
        }
    }
    0
}

#[cfg(test)]
mod tests;
