//! The checker's rules and its work budget, against hand-written reader/writer pairs.

use super::*;

fn parse(json: serde_json::Value) -> Schema {
    Schema::parse(&json).unwrap()
}

fn kinds(writer: &Schema, reader: &Schema) -> Vec<Kind> {
    incompatibilities(writer, reader, &mut Budget::default())
        .unwrap()
        .into_iter()
        .map(|i| i.kind)
        .collect()
}

fn strict_kinds(writer: &Schema, reader: &Schema) -> Vec<Kind> {
    let strict = Rules {
        refuse_bytes_as_string: true,
    };
    incompatibilities_with(writer.into(), reader.into(), strict, &mut Budget::default())
        .unwrap()
        .into_iter()
        .map(|i| i.kind)
        .collect()
}

fn record(name: &str, aliases: &[&str], fields: serde_json::Value) -> Schema {
    parse(serde_json::json!({
        "type": "record", "name": name, "namespace": "com.acme",
        "aliases": aliases, "fields": fields
    }))
}

#[test]
fn a_renamed_record_reads_old_data_when_it_keeps_the_old_name_as_an_alias() {
    let fields = serde_json::json!([{"name": "id", "type": "string"}]);
    let old = record("Uploaded", &[], fields.clone());
    let renamed = record("DocUploaded", &[], fields.clone());
    let aliased = record("DocUploaded", &["Uploaded"], fields.clone());
    let qualified = record("DocUploaded", &["com.acme.Uploaded"], fields.clone());
    let elsewhere = record("DocUploaded", &["org.other.Uploaded"], fields);
    assert_eq!(kinds(&old, &renamed), [Kind::NameMismatch]);
    // A relative alias is qualified with the reader's namespace, as in Java.
    assert_eq!(kinds(&old, &aliased), []);
    assert_eq!(kinds(&old, &qualified), []);
    assert_eq!(kinds(&old, &elsewhere), [Kind::NameMismatch]);
    // Aliases serve the reader only: old readers do not know the new name.
    assert_eq!(kinds(&aliased, &old), [Kind::NameMismatch]);
}

#[test]
fn renamed_enums_and_fixed_follow_the_same_rule() {
    let e = |name: &str, aliases: &[&str]| {
        parse(
            serde_json::json!({"type": "enum", "name": name, "namespace": "n",
            "aliases": aliases, "symbols": ["A", "B"]}),
        )
    };
    assert_eq!(
        kinds(&e("Kind", &[]), &e("Label", &[])),
        [Kind::NameMismatch]
    );
    assert_eq!(kinds(&e("Kind", &[]), &e("Label", &["Kind"])), []);
    let f = |name: &str, aliases: &[&str], size: usize| {
        parse(
            serde_json::json!({"type": "fixed", "name": name, "namespace": "n",
            "aliases": aliases, "size": size}),
        )
    };
    assert_eq!(kinds(&f("Md5", &[], 16), &f("Hash", &["Md5"], 16)), []);
    assert_eq!(
        kinds(&f("Md5", &[], 16), &f("Hash", &["Md5"], 32)),
        [Kind::FixedSizeMismatch]
    );
}

#[test]
fn a_renamed_field_is_found_through_its_aliases() {
    let old = record(
        "E",
        &[],
        serde_json::json!([{"name": "size", "type": "long"}]),
    );
    let renamed = record(
        "E",
        &[],
        serde_json::json!([{"name": "bytes", "type": "long"}]),
    );
    let aliased = record(
        "E",
        &[],
        serde_json::json!([{"name": "bytes", "type": "long", "aliases": ["size"]}]),
    );
    assert_eq!(
        kinds(&old, &renamed),
        [Kind::ReaderFieldMissingDefaultValue]
    );
    assert_eq!(kinds(&old, &aliased), []);
}

#[test]
fn promotions_go_one_way() {
    let p = |t: &str| parse(serde_json::json!(t));
    let order = ["int", "long", "float", "double"];
    for (i, writer) in order.iter().enumerate() {
        for (j, reader) in order.iter().enumerate() {
            let ok = kinds(&p(writer), &p(reader)).is_empty();
            assert_eq!(ok, j >= i, "{writer} read as {reader}");
        }
    }
    assert_eq!(kinds(&p("string"), &p("bytes")), []);
    // As Java and Confluent: bytes are read as a string by default…
    assert_eq!(kinds(&p("bytes"), &p("string")), []);
    let u = |j: serde_json::Value| parse(j);
    assert_eq!(
        kinds(&p("bytes"), &u(serde_json::json!(["string", "bytes"]))),
        []
    );
    // …and refused under the opt-in rule (bytes need not be UTF-8), which never touches
    // the other direction.
    assert_eq!(
        strict_kinds(&p("bytes"), &p("string")),
        [Kind::TypeMismatch]
    );
    assert_eq!(strict_kinds(&p("string"), &p("bytes")), []);
    assert_eq!(
        strict_kinds(&p("bytes"), &u(serde_json::json!(["string", "bytes"]))),
        [Kind::TypeMismatch]
    );
    assert_eq!(
        strict_kinds(&p("bytes"), &u(serde_json::json!(["bytes", "string"]))),
        []
    );
    assert_eq!(strict_kinds(&p("int"), &p("string")), [Kind::TypeMismatch]);
    assert_eq!(kinds(&p("string"), &p("int")), [Kind::TypeMismatch]);
}

#[test]
fn unions_and_enum_defaults() {
    let u = |ts: serde_json::Value| parse(ts);
    let narrow = u(serde_json::json!(["null", "int"]));
    let wide = u(serde_json::json!(["null", "int", "string"]));
    assert_eq!(kinds(&narrow, &wide), []);
    assert_eq!(kinds(&wide, &narrow), [Kind::MissingUnionBranch]);
    // A plain writer needs one reader branch; a union writer needs all of its.
    assert_eq!(kinds(&u(serde_json::json!("int")), &wide), []);
    assert_eq!(
        kinds(&wide, &u(serde_json::json!("long"))),
        [Kind::TypeMismatch, Kind::TypeMismatch]
    );
    let e = |symbols: &[&str], default: Option<&str>| {
        let mut j = serde_json::json!({"type": "enum", "name": "K", "symbols": symbols});
        if let Some(d) = default {
            j["default"] = d.into();
        }
        parse(j)
    };
    assert_eq!(
        kinds(&e(&["A", "B", "C"], None), &e(&["A", "B"], None)),
        [Kind::MissingEnumSymbols]
    );
    assert_eq!(
        kinds(&e(&["A", "B", "C"], None), &e(&["A", "B"], Some("A"))),
        []
    );
}

#[test]
fn a_recursive_type_is_compatible_with_itself() {
    let list = parse(
        serde_json::json!({"type": "record", "name": "Node", "fields": [
            {"name": "value", "type": "int"},
            {"name": "next", "type": ["null", "Node"]}
        ]}),
    );
    assert_eq!(kinds(&list, &list), []);
    let wider = parse(
        serde_json::json!({"type": "record", "name": "Node", "fields": [
            {"name": "value", "type": "long"},
            {"name": "next", "type": ["null", "Node"]}
        ]}),
    );
    assert_eq!(kinds(&list, &wider), []);
    assert_eq!(kinds(&wider, &list), [Kind::TypeMismatch]);
}

/// Three nested named records, each level with `n` fields of the next level's type
/// (the bottom one `int`); the reader renames every field (keeping the old name as an
/// alias) and makes the bottom `string`, so every bottom field is incompatible and
/// every named type is reached through n^k paths.
fn nested(n: usize, reader: bool) -> Schema {
    let level = |name: &str, inner: serde_json::Value, inner_ref: &str| {
        let fields: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let ty = if i == 0 { inner.clone() } else { serde_json::json!(inner_ref) };
                if reader {
                    serde_json::json!({"name": format!("r{i}"), "aliases": [format!("f{i}")], "type": ty})
                } else {
                    serde_json::json!({"name": format!("f{i}"), "type": ty})
                }
            })
            .collect();
        serde_json::json!({"type": "record", "name": name, "fields": fields})
    };
    let bottom = if reader { "string" } else { "int" };
    let c = level("C", serde_json::json!(bottom), bottom);
    let b = level("B", c, "C");
    parse(level("A", b, "B"))
}

/// A union of `n` differently named empty records.
fn wide_union(prefix: &str, n: usize) -> Schema {
    parse(serde_json::Value::Array(
        (0..n)
            .map(|i| serde_json::json!({"type": "record", "name": format!("{prefix}{i}"), "fields": []}))
            .collect(),
    ))
}

#[test]
fn named_types_reached_many_ways_are_compared_once() {
    for n in [10, 40, 700] {
        let (writer, reader) = (nested(n, false), nested(n, true));
        let mut budget = Budget::default();
        let found = incompatibilities(&writer, &reader, &mut budget).unwrap();
        // Each bottom field once, where it is first met, not n^2 times.
        assert_eq!(found.len(), n, "n = {n}");
        assert!(found.iter().all(|i| i.kind == Kind::TypeMismatch));
        assert_eq!(
            found[0].location,
            "/fields/0/type/fields/0/type/fields/0/type"
        );
        // The work is linear in the schemas' size: a few steps per field.
        assert!(
            budget.spent() <= 10 * 3 * n as u64,
            "n = {n}: {} steps",
            budget.spent()
        );
    }
}

#[test]
fn a_check_beyond_its_budget_is_refused_not_finished() {
    // Unions of 400 records: 160,000 pairs of types, more than a comparison keeps.
    let (w, r) = (wide_union("W", 400), wide_union("R", 400));
    let err = incompatibilities(&w, &r, &mut Budget::default()).unwrap_err();
    assert_eq!(err, TooComplex::Pairs(MAX_PAIRS));
    // Two unions of 300 differently named records: the reader's branches are tried
    // for each writer branch, 90,000 pairs.
    let (writer, reader) = (wide_union("W", 300), wide_union("R", 300));
    let err = incompatibilities(&writer, &reader, &mut Budget::new(50_000)).unwrap_err();
    assert_eq!(err, TooComplex::Steps(50_000));
    // With room enough, the same question has an answer: every writer branch is missing.
    let found = incompatibilities(&writer, &reader, &mut Budget::new(1_000_000)).unwrap();
    assert_eq!(found.len(), 300);
    assert!(found.iter().all(|i| i.kind == Kind::MissingUnionBranch));
}

#[test]
fn named_types_from_references_resolve_on_both_sides() {
    let address = parse(serde_json::json!({
        "type": "record", "name": "Address", "namespace": "com.acme",
        "fields": [{"name": "city", "type": "string"}]
    }));
    let address_zip = parse(serde_json::json!({
        "type": "record", "name": "Address", "namespace": "com.acme",
        "fields": [{"name": "city", "type": "string"}, {"name": "zip", "type": "string"}]
    }));
    let (order, refs) = Schema::parse_str_with_list(
        r#"{"type":"record","name":"Order","namespace":"com.acme","fields":[{"name":"to","type":"com.acme.Address"}]}"#,
        [r#"{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"city","type":"string"}]}"#],
    )
    .unwrap();
    assert_eq!(refs, std::slice::from_ref(&address));
    let with = |refs: &'static [Schema]| WithRefs {
        schema: &order,
        refs,
    };
    let old: &'static [Schema] = Box::leak(Box::new([address]));
    let new: &'static [Schema] = Box::leak(Box::new([address_zip]));
    let found = |w, r| {
        incompatibilities_with(w, r, Rules::default(), &mut Budget::default())
            .unwrap()
            .into_iter()
            .map(|i| i.kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(found(with(old), with(old)), []);
    // The reader's Address needs a zip the writer's lacks: found through the references.
    assert_eq!(
        found(with(old), with(new)),
        [Kind::ReaderFieldMissingDefaultValue]
    );
    assert_eq!(found(with(new), with(old)), []);
}
