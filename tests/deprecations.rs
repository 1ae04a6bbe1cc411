//! The deprecation table in code, deprecations.md, openapi/v1.json and the policy agree.

use docintel_api::deprecation::DEPRECATIONS;

const MIN_NOTICE_DAYS: i64 = 180;

fn calendar() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deprecations.md")).unwrap()
}

/// The rows of the first table whose header starts with `| id |`.
fn calendar_rows(md: &str) -> Vec<Vec<String>> {
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

#[test]
fn the_calendar_matches_the_code_table() {
    let md = calendar();
    let rows = calendar_rows(&md);
    assert_eq!(
        rows.len(),
        DEPRECATIONS.len(),
        "one row per deprecation: {rows:?}"
    );
    for d in DEPRECATIONS {
        let row = rows
            .iter()
            .find(|r| r[0] == d.anchor)
            .unwrap_or_else(|| panic!("no deprecations.md row for {}", d.anchor));
        assert_eq!(row[1], format!("{}/*", d.prefix));
        assert_eq!(
            row[2],
            d.deprecated.to_string(),
            "deprecation date of {}",
            d.anchor
        );
        assert_eq!(row[3], d.sunset.to_string(), "sunset date of {}", d.anchor);
        assert_eq!(row[4], format!("{}/*", d.successor_prefix));
        assert!(
            md.contains(&format!("\n## {}\n", d.anchor)),
            "a section for #{}",
            d.anchor
        );
    }
}

#[test]
fn the_code_table_obeys_the_notice_policy() {
    for d in DEPRECATIONS {
        let notice = (d.sunset - d.deprecated).whole_days();
        assert!(
            notice >= MIN_NOTICE_DAYS,
            "{}: {notice} days of notice",
            d.anchor
        );
        assert!(!d.successor_prefix.is_empty());
    }
}

#[test]
fn openapi_v1_marks_every_operation_deprecated_with_its_sunset() {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/v1.json")).unwrap(),
    )
    .unwrap();
    let mut n = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let d = docintel_api::deprecation::Deprecation::for_path(path).expect("a v1 path");
            assert_eq!(op["deprecated"], true, "{method} {path}");
            assert_eq!(op["x-sunset"], d.sunset.to_string(), "{method} {path}");
            assert!(op["responses"].get("410").is_some(), "{method} {path}");
            n += 1;
        }
    }
    assert_eq!(n, 3);
    // And nothing in v2 is deprecated.
    let v2: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/v2.json")).unwrap(),
    )
    .unwrap();
    assert!(!v2.to_string().contains("\"deprecated\":true"));
}
