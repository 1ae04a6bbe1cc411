//! The error catalogue: every problem `code` the API answers with, its one status and
//! what it means. The OpenAPI documents (the `code` enum, every operation's problem
//! responses and their examples), the pages served at `/problems/{code}` and
//! `docs/errors.md` are all generated from this one table.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Declares the catalogue once: the enum, its wire names, statuses, meanings and where
/// each code can come from.
macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $status:ident, $scope:ident, $meaning:literal; )*) => {
        /// A problem's stable, machine-readable `code`. New codes may be added in a minor
        /// release: treat an unknown one by its HTTP status.
        // The wire names are the variants' in snake case; a test holds them to `as_str`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in the catalogue's order (by status).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code as sent in `code` and in `/problems/{code}`.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name,)* }
            }

            /// The one status every problem with this code has.
            pub const fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }

            /// Which operations can answer with it (see [`Scope`]).
            pub const fn scope(self) -> Scope {
                match self { $(ErrorCode::$variant => Scope::$scope,)* }
            }

            /// What it means and what a client should do, in a sentence or two.
            pub const fn meaning(self) -> &'static str {
                match self { $(ErrorCode::$variant => $meaning,)* }
            }
        }
    };
}

/// Which operations a code can come from. Codes an operation raises itself are listed
/// in its `x-problem-codes`; the others follow from what every request goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Raised by an operation's own handling: listed per operation.
    Operation,
    /// Any operation that needs an API key.
    Authenticated,
    /// Any operation: decided by the connection layer before the route runs (rendered as
    /// a problem document in every version).
    Connection,
    /// Any operation: a shared service or the server itself failed.
    Any,
    /// Operations that write (store) something.
    Writes,
    /// Operations that take a request body.
    Body,
    /// Routes of a version past its sunset.
    Retired,
    /// Not an operation's answer: an unknown route or method.
    Router,
}

catalogue! {
    InvalidId = "invalid_id", BAD_REQUEST, Operation,
        "A path id is malformed: not a UUID (a key's id: not `key_` and 16 hex digits). \
         Ids are the `id` values the API returned.";
    InvalidParameter = "invalid_parameter", BAD_REQUEST, Operation,
        "A query parameter is unknown, malformed or out of range; `detail` names it.";
    InvalidPageToken = "invalid_page_token", BAD_REQUEST, Operation,
        "The page token is malformed, expired (tokens last 24 hours) or was issued for \
         another key; list again from the first page.";
    InvalidFilename = "invalid_filename", BAD_REQUEST, Operation,
        "The upload's `filename` is empty, too long, a path, or holds control, \
         bidirectional or invisible characters only.";
    EmptyBody = "empty_body", BAD_REQUEST, Operation,
        "The upload has no bytes.";
    InvalidMultipart = "invalid_multipart", BAD_REQUEST, Operation,
        "The legacy upload form is not one `multipart/form-data` part named `file` with a \
         file name.";
    MalformedJson = "malformed_json", BAD_REQUEST, Operation,
        "The request body is not well-formed JSON.";
    InvalidIdempotencyKey = "invalid_idempotency_key", BAD_REQUEST, Operation,
        "The `Idempotency-Key` header is empty, longer than 255 characters or not \
         visible ASCII.";
    BodyReadFailed = "body_read_failed", BAD_REQUEST, Body,
        "The request body could not be read: the connection broke or the body was not \
         valid chunked encoding. Send the request again.";
    Unauthorized = "unauthorized", UNAUTHORIZED, Authenticated,
        "No API key, a malformed `Authorization` header, or a key the server does not \
         know. Send `Authorization: Bearer <API key>`.";
    InsufficientScope = "insufficient_scope", FORBIDDEN, Authenticated,
        "The key is valid but does not hold the scope this operation needs; `detail` \
         names it. Use a key made with that scope.";
    NotFound = "not_found", NOT_FOUND, Operation,
        "No such resource for this key: it never existed, was deleted, or belongs to \
         another tenant (which is never told apart).";
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, Router,
        "The route exists but not with this method; the OpenAPI document lists its \
         operations.";
    BodyTooSlow = "body_too_slow", REQUEST_TIMEOUT, Connection,
        "The request body paused too long, came slower than the server's minimum rate, \
         or was not whole within its deadline; the connection is closed. Send it again \
         on a faster link.";
    TooManyKeys = "too_many_keys", CONFLICT, Operation,
        "The tenant already has the most unrevoked keys it may (100); revoke one first.";
    TooManyWebhooks = "too_many_webhooks", CONFLICT, Operation,
        "The tenant already has the most subscriptions it may (20); delete one first.";
    NotProcessed = "not_processed", CONFLICT, Operation,
        "The document is still queued or processing; retry once its `status` is \
         `processed` (or subscribe to `doc.processed`).";
    ProcessingFailed = "processing_failed", CONFLICT, Operation,
        "The document failed processing, so it has no text or thumbnail; its `failure` \
         says why.";
    Gone = "gone", GONE, Retired,
        "The API version is past its sunset; `detail` names the successor route.";
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE, Operation,
        "The request body is over the limit `detail` states (by `Content-Length` before \
         a byte is read, else while reading).";
    QuotaExceeded = "quota_exceeded", PAYLOAD_TOO_LARGE, Operation,
        "The upload would take the tenant past its storage quota (documents or bytes); \
         `usage` gives what it stores and its limits. Waiting does not help: delete \
         documents (which frees their share at once) or ask the operator for more.";
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, Operation,
        "The upload is not a PDF, PNG, JPEG, TIFF or UTF-8 text, or not the type its \
         `Content-Type` declares; or a JSON body was sent without `application/json`.";
    InvalidBody = "invalid_body", UNPROCESSABLE_ENTITY, Operation,
        "The JSON body is well-formed but not the shape the operation takes (a missing or \
         unknown field, a wrong type); `detail` says where.";
    InvalidWebhook = "invalid_webhook", UNPROCESSABLE_ENTITY, Operation,
        "The subscription is refused: a URL that is not http(s), resolves to a private \
         address, an unknown event type or a description over 500 characters.";
    IdempotencyKeyReused = "idempotency_key_reused", UNPROCESSABLE_ENTITY, Operation,
        "This `Idempotency-Key` was used for a different request within 24 hours; use a \
         new key for a new document.";
    RateLimited = "rate_limited", TOO_MANY_REQUESTS, Any,
        "The key (or, without a key, the client address) spent its request budget; wait \
         `Retry-After` seconds. `RateLimit` and `RateLimit-Policy` tell the budget.";
    TooManyInFlight = "too_many_in_flight", TOO_MANY_REQUESTS, Connection,
        "This client address already has the most requests in flight it may; retry \
         after `Retry-After` (1 s).";
    Internal = "internal", INTERNAL_SERVER_ERROR, Any,
        "The server failed unexpectedly; nothing about the request is wrong. Quote the \
         `request_id` when reporting it.";
    Unavailable = "unavailable", SERVICE_UNAVAILABLE, Any,
        "A service the server needs (its database, its object storage) is unreachable; \
         retry after `Retry-After` seconds.";
    Overloaded = "overloaded", SERVICE_UNAVAILABLE, Connection,
        "The server is serving as many requests as it may; retry after `Retry-After` \
         seconds.";
    InsufficientStorage = "insufficient_storage", INSUFFICIENT_STORAGE, Writes,
        "The server has no room left to store what the request writes; retry after \
         `Retry-After` seconds.";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ErrorCode {
    /// The code named `name`, if the catalogue has it.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == name)
    }

    /// The HTTP reason phrase of its status: a problem's `title`.
    pub fn title(self) -> &'static str {
        self.status().canonical_reason().unwrap_or("Error")
    }

    /// The problem's `type`: where its page is served.
    pub fn type_uri(self) -> String {
        format!("{PATH}/{}", self.as_str())
    }

    /// Whether the problem tells the client when to retry (`Retry-After`).
    pub fn retry_after(self) -> bool {
        matches!(
            self.status(),
            StatusCode::TOO_MANY_REQUESTS
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::INSUFFICIENT_STORAGE
        )
    }
}

/// Where the catalogue is served: `/problems` lists it, `/problems/{code}` explains one.
pub const PATH: &str = "/problems";

/// One catalogue entry as served to API clients.
#[derive(Debug, Serialize)]
struct Entry {
    code: ErrorCode,
    status: u16,
    title: &'static str,
    meaning: &'static str,
    #[serde(rename = "type")]
    type_uri: String,
}

impl From<ErrorCode> for Entry {
    fn from(code: ErrorCode) -> Self {
        Self {
            code,
            status: code.status().as_u16(),
            title: code.title(),
            meaning: code.meaning(),
            type_uri: code.type_uri(),
        }
    }
}

/// Whether the client prefers a page for people: a browser sends `text/html` first.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            let html = accept.find("text/html");
            let json = accept.find("json");
            matches!((html, json), (Some(h), j) if j.is_none_or(|j| h < j))
        })
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Inline code spans (`…`) of a meaning, as HTML.
fn html_text(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in html_escape(s).split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} · docintel</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;\
         padding:0 1rem;line-height:1.5}}code{{background:#f2f2f2;padding:0 .2em}}\
         td{{padding:.3em .6em;vertical-align:top}}</style></head>\n<body>\n{body}\n</body></html>\n"
    );
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response()
}

/// `GET /problems`: the whole catalogue.
pub async fn index(headers: HeaderMap) -> Response {
    if !wants_html(&headers) {
        let entries: Vec<Entry> = ErrorCode::ALL.iter().copied().map(Entry::from).collect();
        return axum::Json(entries).into_response();
    }
    let rows: String = ErrorCode::ALL
        .iter()
        .map(|c| {
            format!(
                "<tr><td><a href=\"{PATH}/{0}\"><code>{0}</code></a></td><td>{1}</td><td>{2}</td></tr>\n",
                c.as_str(),
                c.status().as_u16(),
                html_text(c.meaning())
            )
        })
        .collect();
    page(
        "Problems",
        &format!(
            "<h1>docintel problem codes</h1>\n<p>Every error is an RFC 9457 problem document \
             (<code>application/problem+json</code>) whose <code>code</code> is one of these \
             and whose <code>type</code> is this page's address for it.</p>\n\
             <table>\n<tr><th>code</th><th>status</th><th>meaning</th></tr>\n{rows}</table>"
        ),
    )
}

/// `GET /problems/{code}`: one code's page; 404 (a problem itself) for an unknown one.
pub async fn show(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(code) = ErrorCode::parse(&name) else {
        return crate::error::ApiError::NotFound(format!(
            "no problem code {name:?}; {PATH} lists them all"
        ))
        .into_response();
    };
    if !wants_html(&headers) {
        return axum::Json(Entry::from(code)).into_response();
    }
    page(
        code.as_str(),
        &format!(
            "<h1><code>{0}</code></h1>\n<p>HTTP {1} {2}</p>\n<p>{3}</p>\n\
             <p>The problem document carries this code in <code>code</code>, what went wrong \
             with the request in <code>detail</code>, and its <code>request_id</code>.</p>\n\
             <p><a href=\"{PATH}\">Every problem code</a></p>",
            code.as_str(),
            code.status().as_u16(),
            code.title(),
            html_text(code.meaning())
        ),
    )
}

/// `docs/errors.md`: the catalogue for readers of the repository.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Problem codes\n\n\
         <!-- Generated from api/src/problems.rs by `cargo run -p docintel-api -- openapi`; \
         a test fails when it differs. -->\n\n\
         Every v2 error is an RFC 9457 problem document (`application/problem+json`) with a \
         stable `code`. Each code has one HTTP status. A running server explains each one \
         at `/problems/{code}` (JSON, or a page in a browser) and lists them at `/problems`.\n\
         New codes may come in a minor release: treat an unknown code by its status.\n\n\
         | code | status | meaning |\n|---|---|---|\n",
    );
    for c in ErrorCode::ALL {
        out.push_str(&format!(
            "| `{}` | {} {} | {} |\n",
            c.as_str(),
            c.status().as_u16(),
            c.title(),
            c.meaning()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_parse_back() {
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert!(
                c.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{c}"
            );
            assert_eq!(ErrorCode::parse(c.as_str()), Some(*c));
            assert!(
                ErrorCode::ALL[i + 1..]
                    .iter()
                    .all(|d| d.as_str() != c.as_str())
            );
            let wire = serde_json::to_value(c).unwrap();
            assert_eq!(wire, c.as_str());
            assert!(c.status().is_client_error() || c.status().is_server_error());
        }
        assert_eq!(ErrorCode::parse("nope"), None);
    }

    #[test]
    fn browsers_get_html_and_clients_json() {
        let mut h = HeaderMap::new();
        assert!(!wants_html(&h));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,*/*;q=0.8"),
        );
        assert!(wants_html(&h));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/html"),
        );
        assert!(!wants_html(&h));
    }

    #[test]
    fn meanings_are_escaped_and_code_spans_rendered() {
        assert_eq!(html_text("a `<b>` c"), "a <code>&lt;b&gt;</code> c");
    }
}
