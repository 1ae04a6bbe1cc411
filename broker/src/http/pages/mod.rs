//! Pages for people: the index, a pact, and the matrix of a pair, server-rendered HTML
//! without scripts, for browsers (a request whose `Accept` names `text/html`); clients
//! asking for HAL get HAL from the same URLs. Everything shown is other teams' bytes, so
//! every value is escaped by the templates (maud), the pages forbid scripts outright
//! (`Content-Security-Policy`), and each page shows a bounded amount, saying so.
//!
//! A page needs a key like every other read: a browser sends it as Basic credentials
//! (any user name, the key as the password), which a `401` asks it for.

mod index;
mod matrix;
mod pact;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Access, BrokerState, Failure};
use crate::PactStatus;

pub(super) use index::index_page;
pub(super) use pact::version_page;

pub(super) fn router() -> Router<BrokerState> {
    Router::new().merge(pact::router()).merge(matrix::router())
}

/// Whether the client asked for a page: browsers name `text/html` in `Accept`; the
/// Pact Foundation's clients ask for `application/hal+json` and never name it.
pub(super) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            let mut parts = media.split(';');
            let kind = parts.next().unwrap_or("").trim();
            // `text/html;q=0` is a refusal, not a request.
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            kind.eq_ignore_ascii_case("text/html") && !refused
        })
}

/// A refusal as a browser needs it: a `401` asks for Basic credentials (a browser
/// prompts for those, never for a bearer token); the body stays the broker's error.
pub(super) fn for_browser(failure: Failure) -> Response {
    let mut response = failure.into_response();
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Basic realm=\"docintel Pact Broker: your docintel key as the password\", charset=\"UTF-8\"",
            ),
        );
    }
    response
}

/// A key, for a page: a missing one is asked for as a browser can answer.
pub(super) struct PageAccess(pub(super) Access);

impl FromRequestParts<BrokerState> for PageAccess {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &BrokerState) -> Result<Self, Response> {
        Access::from_request_parts(parts, state)
            .await
            .map(PageAccess)
            .map_err(for_browser)
    }
}

/// The pages' style sheet: inline, allowed by its digest, so no script or other style
/// may run even if something slipped past the escaping.
const CSS: &str = "
body{font-family:system-ui,sans-serif;margin:0;color:#1f2328;background:#fff;line-height:1.45}
header{background:#24292f;padding:.6rem 1.2rem}
header a{color:#fff;font-weight:600;text-decoration:none}
main{padding:1rem 1.2rem;max-width:80rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
a{color:#0550ae}
.status{display:inline-block;padding:0 .5rem;border-radius:.6rem;color:#fff;font-weight:600}
.verified{background:#116329}.failed{background:#a40e26}.unknown{background:#57606a}
.note{background:#fff8c5;border:1px solid #d4a72c;padding:.4rem .8rem}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.6rem;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere}
section.interaction{border-top:1px solid #d0d7de;margin-top:1rem}
fieldset{display:inline-block;margin:0 1rem .6rem 0;border:1px solid #d0d7de}
label{display:block;margin:.2rem 0}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dt{font-weight:600}dd{margin:0}
";

fn csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS));
        format!(
            "default-src 'none'; style-src 'sha256-{digest}'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    })
}

/// A whole page: `title` is its `<title>` and `<h1>`.
fn page(base: &str, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – docintel Pact Broker" }
                // No icon: without this, browsers ask the server's root for one.
                link rel="icon" href="data:,";
                style { (PreEscaped(CSS)) }
            }
            body {
                header { nav aria-label="Broker" { a href={ (base) "/" } { "docintel Pact Broker" } } }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    let mut response = (StatusCode::OK, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(csp) = HeaderValue::from_str(csp()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    // Another team's data behind a key: never kept by a shared cache.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A verification state as a coloured word.
fn status(s: PactStatus) -> Markup {
    let word = match s {
        PactStatus::Verified => "verified",
        PactStatus::Failed => "failed",
        PactStatus::Unknown => "unverified",
    };
    html! { span class={ "status " (s.label()) } { (word) } }
}

/// A stored timestamp and how long ago it was.
fn when(at: &str) -> Markup {
    html! { time datetime=(at) title=(at) { (age(at, OffsetDateTime::now_utc())) } }
}

fn age(at: &str, now: OffsetDateTime) -> String {
    let Ok(then) = OffsetDateTime::parse(at, &Rfc3339) else {
        return at.to_owned();
    };
    let secs = (now - then).whole_seconds().max(0);
    let (n, unit) = match secs {
        0..60 => return "just now".to_owned(),
        60..3600 => (secs / 60, "minute"),
        3600..86_400 => (secs / 3600, "hour"),
        86_400..2_592_000 => (secs / 86_400, "day"),
        2_592_000..31_536_000 => (secs / 2_592_000, "month"),
        _ => (secs / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// At most `max` bytes of `text`, cut at a character boundary; whether it was cut.
fn clip(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_wanted_only_when_named() {
        let accept = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
            wants_html(&h)
        };
        assert!(accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!accept("application/hal+json"));
        assert!(!accept("*/*"));
        assert!(!accept("application/hal+json, text/html;q=0"));
        assert!(!wants_html(&HeaderMap::new()));
    }

    #[test]
    fn ages_read_as_people_say_them() {
        let now = OffsetDateTime::parse("2026-01-02T00:00:00Z", &Rfc3339).unwrap();
        assert_eq!(age("2026-01-01T23:59:30Z", now), "just now");
        assert_eq!(age("2026-01-01T23:00:00Z", now), "1 hour ago");
        assert_eq!(age("2025-12-30T00:00:00Z", now), "3 days ago");
        assert_eq!(age("not a time", now), "not a time");
    }

    #[test]
    fn clipping_keeps_whole_characters() {
        assert_eq!(clip("héllo", 2), ("h", true));
        assert_eq!(clip("abc", 3), ("abc", false));
    }

    #[test]
    fn the_style_sheet_is_allowed_by_its_digest_and_nothing_runs() {
        let policy = csp();
        assert!(policy.starts_with("default-src 'none'; style-src 'sha256-"));
        assert!(!policy.contains("script-src"));
    }
}
