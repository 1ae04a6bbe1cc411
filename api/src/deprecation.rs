//! Deprecated versions at the edge: the `Deprecation`, `Sunset` and `Link` headers and
//! the 410 after sunset. Their dates come from the version table
//! ([`crate::versions::VERSIONS`]), the one place they are written; `openapi/v1.json` and
//! `deprecations.md` follow it (and the gate holds them to it).

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use time::{Date, OffsetDateTime};

use crate::error::PendingProblem;
use crate::state::Clock;
use crate::versions::{ApiVersion, VERSIONS};

/// One deprecated version, as its headers and the calendar name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deprecation {
    /// Anchor of this deprecation's section in `deprecations.md` (the version's name).
    pub anchor: &'static str,
    /// Every route under this path prefix is deprecated.
    pub prefix: &'static str,
    /// The prefix of the successor routes (same paths below it).
    pub successor_prefix: &'static str,
    /// From this day (00:00 UTC) the routes are deprecated.
    pub deprecated: Date,
    /// From this day (00:00 UTC) the routes answer 410 Gone.
    pub sunset: Date,
}

/// Every deprecated version, newest first.
pub fn all() -> Vec<Deprecation> {
    VERSIONS.iter().filter_map(Deprecation::of).collect()
}

/// Where the human calendar is served (and the `Link rel="deprecation"` points).
pub const CALENDAR_PATH: &str = "/deprecations.md";
pub const CALENDAR: &str = include_str!("../../deprecations.md");

impl Deprecation {
    /// `version`'s deprecation, if it is deprecated.
    pub fn of(version: &ApiVersion) -> Option<Self> {
        let r = version.retirement.as_ref()?;
        Some(Self {
            anchor: version.name,
            prefix: version.prefix,
            successor_prefix: r.successor.prefix,
            deprecated: r.deprecated,
            sunset: r.sunset,
        })
    }

    /// The deprecation covering `path`, if any.
    pub fn for_path(path: &str) -> Option<Self> {
        VERSIONS.iter().find(|v| v.covers(path)).and_then(Self::of)
    }

    /// Whether `path` is one of this deprecation's routes.
    pub fn covers(&self, path: &str) -> bool {
        crate::versions::is_under(self.prefix, path)
    }

    /// `Deprecation` header value: an RFC 9745 structured-field date, `@<unix seconds>`.
    pub fn deprecation_header(&self) -> String {
        format!(
            "@{}",
            self.deprecated.midnight().assume_utc().unix_timestamp()
        )
    }

    /// `Sunset` header value: an RFC 8594 HTTP-date (IMF-fixdate).
    pub fn sunset_header(&self) -> String {
        httpdate::fmt_http_date(self.sunset.midnight().assume_utc().into())
    }

    pub fn sunset_passed(&self, now: OffsetDateTime) -> bool {
        now >= self.sunset.midnight().assume_utc()
    }

    /// The successor of a concrete request path.
    pub fn successor(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.successor_prefix,
            path.strip_prefix(self.prefix).unwrap_or_default()
        )
    }

    pub fn link_header(&self, path: &str) -> String {
        format!(
            "<{CALENDAR_PATH}#{}>; rel=\"deprecation\"; type=\"text/markdown\", <{}>; rel=\"successor-version\"",
            self.anchor,
            self.successor(path)
        )
    }
}

/// For deprecated routes: answers 410 after the sunset; otherwise adds the deprecation
/// headers to every response (errors included) and renders errors in the legacy
/// `{"error": "…"}` shape instead of a problem document. Called by the request context
/// middleware rather than being a layer of its own: each `from_fn` layer costs every
/// request a boxed clone of the route's service stack (measured: /healthz 92k → 106k req/s).
/// `refused` is an answer decided before routing (a rate limit), given instead of running
/// the route.
pub async fn deprecated_routes(
    clock: &Clock,
    req: Request,
    next: Next,
    refused: Option<Response>,
) -> Response {
    let run = |req| async move {
        match refused {
            Some(r) => r,
            None => next.run(req).await,
        }
    };
    // Most traffic is not deprecated: decide before copying anything.
    let Some(dep) = Deprecation::for_path(req.uri().path()) else {
        return run(req).await;
    };
    let path = req.uri().path().to_owned();
    let mut response = if dep.sunset_passed(clock()) {
        let mut r = StatusCode::GONE.into_response();
        r.extensions_mut().insert(PendingProblem {
            status: StatusCode::GONE,
            code: crate::problems::ErrorCode::Gone,
            detail: format!(
                "{} was switched off on {} (see {CALENDAR_PATH}#{}); use {} instead",
                dep.prefix,
                dep.sunset,
                dep.anchor,
                dep.successor(&path)
            ),
            usage: None,
        });
        r
    } else {
        let mut r = run(req).await;
        if let Some(p) = r.extensions_mut().remove::<PendingProblem>() {
            legacy_error(
                &mut r,
                &crate::error::bounded(&p.detail, crate::error::MAX_DETAIL_CHARS),
            );
        }
        r
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("deprecation", dep.deprecation_header()),
        ("sunset", dep.sunset_header()),
        ("link", dep.link_header(&path)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    response
}

fn legacy_error(response: &mut Response, message: &str) {
    let body = serde_json::json!({ "error": message }).to_string();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.headers_mut().remove(header::CONTENT_LENGTH);
    *response.body_mut() = axum::body::Body::from(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_follow_the_rfcs() {
        let d = all()[0];
        assert_eq!(d.deprecation_header(), "@1780272000");
        assert_eq!(d.sunset_header(), "Tue, 01 Jun 2027 00:00:00 GMT");
        assert!(d.sunset >= d.deprecated);
        assert_eq!(d.successor("/v1/documents/abc"), "/v2/documents/abc");
        assert_eq!(
            d.link_header("/v1/documents"),
            "</deprecations.md#v1>; rel=\"deprecation\"; type=\"text/markdown\", </v2/documents>; rel=\"successor-version\""
        );
    }

    #[test]
    fn only_deprecated_versions_have_one() {
        assert!(Deprecation::for_path("/v1/documents").is_some());
        assert!(Deprecation::for_path("/v1").is_some());
        assert!(Deprecation::for_path("/v10/documents").is_none());
        assert!(Deprecation::for_path("/v2/documents").is_none());
    }

    #[test]
    fn sunset_is_inclusive_at_midnight_utc() {
        let d = all()[0];
        let midnight = d.sunset.midnight().assume_utc();
        assert!(!d.sunset_passed(midnight - time::Duration::seconds(1)));
        assert!(d.sunset_passed(midnight));
    }
}
