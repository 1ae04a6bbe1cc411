//! 5. Deprecations: every deprecated operation has a sunset at least the policy's notice
//!    after its deprecation, a successor, a `deprecations.md` row and a matching
//!    `x-sunset`; a running server sends the matching headers; past the sunset the routes
//!    answer 410.

use std::path::Path;

use docintel_api::deprecation::{self, Deprecation};
use docintel_backend::pipeline::Isolation;
use serde_json::Value;

use crate::report::{Finding, Section};
use crate::rules;

/// Least notice between deprecation and sunset.
pub const MIN_NOTICE_DAYS: i64 = 180;

/// The rows of the first table in `md` whose header starts with `| id |`.
pub fn calendar_rows(md: &str) -> Vec<Vec<String>> {
    md.lines()
        .skip_while(|l| !l.starts_with("| id |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect()
}

/// The policy against a table, a calendar and the OpenAPI documents (no server).
pub fn static_findings(
    table: &[Deprecation],
    calendar: &str,
    specs: &[(String, Value)],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let rows = calendar_rows(calendar);
    for d in table {
        let at = format!("deprecation {}", d.anchor);
        let notice = (d.sunset - d.deprecated).whole_days();
        if notice < MIN_NOTICE_DAYS {
            findings.push(Finding::failure(
                rules::DEPRECATION_NOTICE_TOO_SHORT.id,
                at.clone(),
                format!(
                    "{notice} days between deprecation ({}) and sunset ({})",
                    d.deprecated, d.sunset
                ),
                "move the sunset to at least 180 days after the deprecation",
            ));
        }
        if d.successor_prefix.is_empty() {
            findings.push(Finding::failure(
                rules::DEPRECATION_WITHOUT_SUCCESSOR.id,
                at.clone(),
                "no successor",
                "name the routes that replace it",
            ));
        }
        match rows
            .iter()
            .find(|r| r.first().map(String::as_str) == Some(d.anchor))
        {
            None => findings.push(Finding::failure(
                rules::DEPRECATION_NOT_IN_CALENDAR.id,
                "deprecations.md",
                format!("no row for {}", d.anchor),
                "add a row to the table in deprecations.md",
            )),
            Some(row) => {
                let expected = [
                    format!("{}/*", d.prefix),
                    d.deprecated.to_string(),
                    d.sunset.to_string(),
                    format!("{}/*", d.successor_prefix),
                ];
                if row.get(1..5).map(|r| r.to_vec()) != Some(expected.to_vec()) {
                    findings.push(Finding::failure(
                        rules::DEPRECATION_CALENDAR_MISMATCH.id,
                        format!("deprecations.md row {}", d.anchor),
                        format!("the row says {:?}; the code says {expected:?}", &row[1..]),
                        "make deprecations.md agree with api/src/versions.rs",
                    ));
                }
            }
        }
    }
    for (file, spec) in specs {
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let deprecated = op["deprecated"] == true;
                let pointer = format!("{file}#/paths/{}/{method}", path.replace('/', "~1"));
                match (deprecated, table.iter().find(|d| d.covers(path))) {
                    (true, None) => findings.push(Finding::failure(
                        rules::DEPRECATED_WITHOUT_CALENDAR.id,
                        pointer,
                        "deprecated in the document, but no deprecation covers it",
                        "give its version a retirement in api/src/versions.rs (sunset and successor) or undeprecate it",
                    )),
                    (false, Some(_)) => findings.push(Finding::failure(
                        rules::DEPRECATION_NOT_IN_SPEC.id,
                        pointer,
                        "covered by a deprecation but not marked `deprecated: true`",
                        "regenerate the OpenAPI documents",
                    )),
                    (true, Some(d)) => {
                        if op["x-sunset"].as_str() != Some(d.sunset.to_string().as_str()) {
                            findings.push(Finding::failure(
                                rules::DEPRECATION_SUNSET_MISMATCH.id,
                                pointer.clone(),
                                format!(
                                    "x-sunset is {}, the calendar says {}",
                                    op["x-sunset"], d.sunset
                                ),
                                "regenerate the OpenAPI documents",
                            ));
                        }
                        if op["responses"].get("410").is_none() {
                            findings.push(Finding::failure(
                                rules::DEPRECATION_410_UNDOCUMENTED.id,
                                pointer,
                                "the 410 after sunset is not documented",
                                "document the 410 response",
                            ));
                        }
                    }
                    (false, None) => {}
                }
            }
        }
    }
    findings
}

/// The headers a running server sends on a deprecated route, and its 410 after sunset.
pub async fn live_findings(base: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for d in deprecation::all() {
        let url = format!("{base}{}/documents", d.prefix);
        match reqwest::get(&url).await {
            Err(e) => findings.push(Finding::failure(
                rules::DEPRECATION_HEADERS.id,
                url,
                e.to_string(),
                "",
            )),
            Ok(r) => {
                let h = r.headers();
                let get = |n: &str| {
                    h.get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                if get("deprecation") != d.deprecation_header()
                    || get("sunset") != d.sunset_header()
                {
                    findings.push(Finding::failure(
                        rules::DEPRECATION_HEADERS.id,
                        url.clone(),
                        format!(
                            "Deprecation {:?}, Sunset {:?}; expected {:?}, {:?}",
                            get("deprecation"),
                            get("sunset"),
                            d.deprecation_header(),
                            d.sunset_header()
                        ),
                        "send the headers from the deprecation table",
                    ));
                }
                if !get("link").contains("rel=\"successor-version\"")
                    || !get("link").contains("rel=\"deprecation\"")
                {
                    findings.push(Finding::failure(
                        rules::DEPRECATION_HEADERS.id,
                        url.clone(),
                        format!(
                            "Link {:?} lacks the deprecation or successor link",
                            get("link")
                        ),
                        "send both links",
                    ));
                }
            }
        }
    }
    findings
}

/// After the sunset a deprecated route answers 410: the real app, with its clock set past
/// the sunset.
pub async fn after_sunset_findings(parser: &Isolation) -> Vec<Finding> {
    let mut findings = Vec::new();
    for d in deprecation::all() {
        let result = async {
            let after = d.sunset.midnight().assume_utc() + time::Duration::days(1);
            let server = crate::server::Server::start_with(parser.clone(), |launch| {
                launch.clock = std::sync::Arc::new(move || after);
            })
            .await?;
            let url = server.url(&format!("{}/documents", d.prefix));
            let status = reqwest::get(&url).await?.status().as_u16();
            anyhow::Ok((url, status))
        }
        .await;
        match result {
            Ok((_, 410)) => {}
            Ok((url, status)) => findings.push(Finding::failure(
                rules::SUNSET_NOT_ENFORCED.id,
                url,
                format!("answers {status} the day after its sunset, not 410"),
                "answer 410 Gone after the sunset",
            )),
            Err(e) => findings.push(Finding::failure(
                rules::SUNSET_NOT_ENFORCED.id,
                d.prefix,
                e.to_string(),
                "",
            )),
        }
    }
    findings
}

pub async fn check(root: &Path, served_base: Option<&str>, parser: &Isolation) -> Section {
    let calendar = std::fs::read_to_string(root.join("deprecations.md")).unwrap_or_default();
    let specs: Vec<(String, Value)> = docintel_api::versions::VERSIONS
        .iter()
        .filter_map(|v| {
            let file = format!("openapi/{}.json", v.name);
            let text = std::fs::read_to_string(root.join(&file)).ok()?;
            Some((file, serde_json::from_str(&text).ok()?))
        })
        .collect();
    let mut findings = static_findings(&deprecation::all(), &calendar, &specs);
    if let Some(base) = served_base {
        findings.extend(live_findings(base).await);
    }
    findings.extend(after_sunset_findings(parser).await);
    Section::new(
        "deprecations",
        format!("policy: {MIN_NOTICE_DAYS} days' notice, successor, calendar, headers, 410"),
        findings,
    )
}
