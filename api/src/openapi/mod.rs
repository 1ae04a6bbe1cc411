//! The OpenAPI documents: what every version shares, and the
//! one serialization used both to serve a document and to write it to `openapi/`.

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::{Deprecated, OpenApi, RefOr};

pub mod common;

pub use common::{Common, SECURITY_SCHEME, add_request_id_headers};
use common::{operations, string_header};

use crate::state::AppState;
use crate::versions::ApiVersion;

/// The OpenAPI document of `version`, exactly as committed and served.
pub fn document(version: &ApiVersion) -> OpenApi {
    split(version).1
}

/// The version's routes and its document, from the one router that yields both.
pub fn split(version: &ApiVersion) -> (axum::Router<AppState>, OpenApi) {
    let (router, mut doc) = version.router().split_for_parts();
    crate::answers::document(&mut doc, version);
    mark_deprecations(&mut doc);
    add_request_id_headers(&mut doc);
    crate::answers::bound_headers(&mut doc);
    // Last: the connection layer's 431 carries none of the headers above.
    crate::answers::headers_too_large(&mut doc);
    (router, doc)
}

/// How to bring the committed documents up to date.
pub const REGENERATE: &str = "cargo run -p docintel-api -- openapi";

/// A committed document (`<dir>/<version>.json`) that is not what the code generates.
#[derive(Debug)]
pub struct Drift {
    pub version: &'static str,
    pub file: std::path::PathBuf,
    /// Why: it differs, or it cannot be read.
    pub problem: String,
}

/// The one check of the committed documents against the code, used by
/// `docintel openapi --check`, the test suite and the governance gate.
pub fn committed_drift(dir: &std::path::Path) -> Vec<Drift> {
    crate::versions::VERSIONS
        .iter()
        .filter_map(|version| {
            let file = dir.join(format!("{}.json", version.name));
            let problem = match std::fs::read_to_string(&file) {
                Ok(committed) if committed == to_json(&document(version)) => return None,
                Ok(_) => "differs from what the code generates".to_owned(),
                Err(e) => format!("cannot be read: {e}"),
            };
            Some(Drift {
                version: version.name,
                file,
                problem,
            })
        })
        .collect()
}

/// Writes every version's document into `dir`; returns the files written.
pub fn write_committed(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    crate::versions::VERSIONS
        .iter()
        .map(|version| {
            let file = dir.join(format!("{}.json", version.name));
            std::fs::write(&file, to_json(&document(version)))?;
            Ok(file)
        })
        .collect()
}

/// Pretty JSON with a trailing newline: the bytes of `openapi/<name>.json`. It goes
/// through `serde_json::Value`, whose maps are sorted, because utoipa keeps extensions in
/// a `HashMap` whose order changes from run to run.
pub fn to_json(doc: &OpenApi) -> String {
    // Serializing a tree of plain structs and maps cannot fail.
    let value = serde_json::to_value(doc)
        .unwrap_or_else(|e| unreachable!("OpenAPI serialization failed: {e}"));
    let mut s = serde_json::to_string_pretty(&value)
        .unwrap_or_else(|e| unreachable!("OpenAPI serialization failed: {e}"));
    s.push('\n');
    s
}

/// Marks every operation under a deprecated prefix from the one deprecation table:
/// `deprecated: true`, its sunset date as `x-sunset`, and the headers it answers with.
pub fn mark_deprecations(doc: &mut OpenApi) {
    for (path, _, op) in operations(doc) {
        let Some(dep) = crate::deprecation::Deprecation::for_path(path) else {
            continue;
        };
        op.deprecated = Some(Deprecated::True);
        let mut ext = Extensions::default();
        ext.insert("x-sunset".to_owned(), dep.sunset.to_string().into());
        op.extensions
            .get_or_insert_with(Extensions::default)
            .merge(ext);
        let note = format!(
            "\n\nDeprecated since {}; switched off on {} (410 Gone from then on). \
             Successor: `{}`.",
            dep.deprecated,
            dep.sunset,
            dep.successor(path)
        );
        let description = op.description.get_or_insert_with(String::new);
        description.push_str(&note);
        for response in op.responses.responses.values_mut() {
            if let RefOr::T(r) = response {
                r.headers.insert(
                    "Deprecation".to_owned(),
                    string_header("RFC 9745 date this route was deprecated, `@<unix-seconds>`."),
                );
                r.headers.insert(
                    "Sunset".to_owned(),
                    string_header("RFC 8594 HTTP-date from which this route answers 410 Gone."),
                );
                r.headers.insert(
                    "Link".to_owned(),
                    string_header(
                        "`rel=\"deprecation\"` (the calendar) and `rel=\"successor-version\"`.",
                    ),
                );
            }
        }
    }
}
