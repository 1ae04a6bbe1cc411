//! Every API version the server serves, declared once: its name, where it is mounted,
//! its routes and OpenAPI description, its release number and, when deprecated, its
//! dates and successor. The router, the served and committed OpenAPI documents, the
//! deprecation headers, the 410 after sunset, Swagger UI and the governance gate all read
//! this table; adding a version is adding a row (see docs/openapi.md, "Adding a version").

use time::Date;
use time::macros::date;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// One published API version.
pub struct ApiVersion {
    /// File stem under `openapi/` and under `/openapi/` on the server.
    pub name: &'static str,
    /// Where its routes are mounted; paths inside a version never repeat it.
    pub prefix: &'static str,
    /// `info.version` of its OpenAPI document.
    pub release: &'static str,
    /// Its description (title, tags, shared schemas), without paths.
    pub doc: fn() -> OpenApi,
    /// Its resource routes, relative to `prefix`.
    pub routes: fn() -> OpenApiRouter<AppState>,
    /// Set once the version is deprecated.
    pub retirement: Option<Retirement>,
}

/// When a deprecated version stops and what replaces it.
pub struct Retirement {
    /// From this day (00:00 UTC) the routes are deprecated.
    pub deprecated: Date,
    /// From this day (00:00 UTC) the routes answer 410 Gone.
    pub sunset: Date,
    /// The version whose routes (same paths below its prefix) replace these.
    pub successor: &'static ApiVersion,
}

pub const V2: ApiVersion = ApiVersion {
    name: "v2",
    prefix: "/v2",
    release: "2.1.0",
    doc: crate::v2::doc,
    routes: crate::v2::routes,
    retirement: None,
};

pub const V1: ApiVersion = ApiVersion {
    name: "v1",
    prefix: "/v1",
    release: "1.1.0",
    doc: crate::v1::doc,
    routes: crate::v1::routes,
    retirement: Some(Retirement {
        deprecated: date!(2026 - 06 - 01),
        sunset: date!(2027 - 06 - 01),
        successor: &V2,
    }),
};

/// Every version the server serves, newest first.
pub const VERSIONS: &[ApiVersion] = &[V2, V1];

impl ApiVersion {
    /// The version's routes mounted under its prefix, with its OpenAPI description.
    pub fn router(&self) -> OpenApiRouter<AppState> {
        let mut doc = (self.doc)();
        doc.info.version = self.release.to_owned();
        OpenApiRouter::with_openapi(doc).nest(self.prefix, (self.routes)())
    }

    /// Whether `path` is one of this version's routes (whole segments: `/v10` is not
    /// under `/v1`).
    pub fn covers(&self, path: &str) -> bool {
        is_under(self.prefix, path)
    }

    /// The path of `relative` (e.g. `/documents/{id}`) in this version.
    pub fn path(&self, relative: &str) -> String {
        format!("{}{relative}", self.prefix)
    }
}

/// Whether `path` is `prefix` or below it, in whole segments.
pub fn is_under(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_prefixes_and_releases_are_unique_and_agree() {
        for (i, v) in VERSIONS.iter().enumerate() {
            assert_eq!(v.prefix, format!("/{}", v.name));
            assert!(v.release.split('.').count() == 3, "{}", v.release);
            for w in &VERSIONS[i + 1..] {
                assert_ne!(v.name, w.name);
                assert!(!v.covers(w.prefix) && !w.covers(v.prefix));
            }
            if let Some(r) = &v.retirement {
                assert!(r.sunset > r.deprecated);
                assert!(r.successor.retirement.is_none() || r.successor.name != v.name);
            }
        }
    }

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(V1.covers("/v1/documents"));
        assert!(V1.covers("/v1"));
        assert!(!V1.covers("/v10/documents"));
        assert!(!V1.covers("/v2/documents"));
    }
}
