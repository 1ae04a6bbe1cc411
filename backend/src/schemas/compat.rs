//! Whether a reader schema can read everything a writer schema writes: the rules of
//! Avro's Java `SchemaValidator`/`ReaderWriterCompatibilityChecker`, which Confluent's
//! registry runs (and PyPI `avro` ports). Written here because `apache_avro`'s own
//! checker judges renamed records, enums and fixed types incompatible even when the
//! reader keeps the old name in `aliases`, and field aliases not at all.
//!
//! The rules, reader against writer:
//! - same primitive: fine; promotions int→long→float→double and string→bytes;
//! - one deliberate difference from Java and the specification: a writer's `bytes` are not
//!   read as a `string` (nor through a reader union whose first string-or-bytes branch is
//!   a string, since the specification picks the first matching branch). Bytes need not
//!   be UTF-8, and readers fail on those that are not; the differential test
//!   (`backend/tests/avro_reference.rs`) shows fastavro failing on exactly these pairs;
//! - records, enums and fixed match by unqualified name, or by a reader alias equal to
//!   the writer's full name (aliases are qualified with the reader's namespace, as the
//!   specification says and Java does);
//! - a reader field is found in the writer by its name, else by one of its aliases; a
//!   reader field the writer lacks needs a default;
//! - every writer enum symbol is a reader symbol, unless the reader enum has a default;
//! - fixed sizes are equal;
//! - every branch of a writer union is readable by the reader; a non-union writer needs
//!   one reader branch that reads it;
//! - logical types compare as their underlying types.

use std::collections::HashMap;

use apache_avro::Schema;
use apache_avro::schema::{
    EnumSchema, FixedSchema, InnerDecimalSchema, Name, NamesRef, RecordSchema, ResolvedSchema,
    UuidSchema,
};

/// One reason a reader cannot read a writer's data, with where (a JSON-pointer-like path
/// into the reader schema, as the Java checker reports it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    pub kind: Kind,
    pub location: String,
    pub message: String,
}

/// The Java checker's incompatibility types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    NameMismatch,
    FixedSizeMismatch,
    MissingEnumSymbols,
    ReaderFieldMissingDefaultValue,
    TypeMismatch,
    MissingUnionBranch,
}

impl Kind {
    /// The Java enum's name, which registry clients see in `messages`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NameMismatch => "NAME_MISMATCH",
            Kind::FixedSizeMismatch => "FIXED_SIZE_MISMATCH",
            Kind::MissingEnumSymbols => "MISSING_ENUM_SYMBOLS",
            Kind::ReaderFieldMissingDefaultValue => "READER_FIELD_MISSING_DEFAULT_VALUE",
            Kind::TypeMismatch => "TYPE_MISMATCH",
            Kind::MissingUnionBranch => "MISSING_UNION_BRANCH",
        }
    }
}

impl std::fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at {}: {}",
            self.kind.as_str(),
            self.location,
            self.message
        )
    }
}

/// Every reason `reader` cannot read data written with `writer`; empty when it can.
pub fn incompatibilities(writer: &Schema, reader: &Schema) -> Vec<Incompatibility> {
    let (Ok(w), Ok(r)) = (ResolvedSchema::new(writer), ResolvedSchema::new(reader)) else {
        // A schema whose references do not resolve was refused when it was parsed; keep
        // the answer total anyway.
        return vec![Incompatibility {
            kind: Kind::TypeMismatch,
            location: "/".to_owned(),
            message: "a named type is referenced but not defined".to_owned(),
        }];
    };
    let mut checker = Checker {
        writer_names: w.get_names(),
        reader_names: r.get_names(),
        memo: HashMap::new(),
    };
    checker.check(reader, writer, "")
}

/// A schema as the checker sees it: logical types as their underlying types and named
/// references resolved.
enum View<'s> {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array(&'s Schema),
    Map(&'s Schema),
    Union(&'s [Schema]),
    Record(&'s RecordSchema),
    Enum(&'s EnumSchema),
    Fixed(&'s FixedSchema),
}

impl View<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            View::Null => "null",
            View::Boolean => "boolean",
            View::Int => "int",
            View::Long => "long",
            View::Float => "float",
            View::Double => "double",
            View::Bytes => "bytes",
            View::String => "string",
            View::Array(_) => "array",
            View::Map(_) => "map",
            View::Union(_) => "union",
            View::Record(_) => "record",
            View::Enum(_) => "enum",
            View::Fixed(_) => "fixed",
        }
    }
}

/// The outcome of a pair that is being checked further up the stack: a recursive type
/// is compatible with itself unless something else says otherwise (as in Java).
enum Memo {
    InProgress,
    Done(Vec<Incompatibility>),
}

struct Checker<'s> {
    writer_names: &'s NamesRef<'s>,
    reader_names: &'s NamesRef<'s>,
    memo: HashMap<(*const Schema, *const Schema), Memo>,
}

fn view<'s>(schema: &'s Schema, names: &NamesRef<'s>) -> (View<'s>, &'s Schema) {
    let mut s = schema;
    // A reference names a type defined elsewhere in the same schema; a chain of them is
    // short (a reference never points at a reference), the bound is a guard.
    for _ in 0..8 {
        match s {
            Schema::Ref { name } => match names.get(name) {
                Some(target) => s = target,
                None => break,
            },
            _ => break,
        }
    }
    let v = match s {
        Schema::Null => View::Null,
        Schema::Boolean => View::Boolean,
        Schema::Int | Schema::Date | Schema::TimeMillis => View::Int,
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => View::Long,
        Schema::Float => View::Float,
        Schema::Double => View::Double,
        Schema::Bytes | Schema::BigDecimal => View::Bytes,
        Schema::String => View::String,
        Schema::Array(a) => View::Array(&a.items),
        Schema::Map(m) => View::Map(&m.types),
        Schema::Union(u) => View::Union(u.variants()),
        Schema::Record(r) => View::Record(r),
        Schema::Enum(e) => View::Enum(e),
        Schema::Fixed(f) | Schema::Duration(f) => View::Fixed(f),
        Schema::Decimal(d) => match &d.inner {
            InnerDecimalSchema::Bytes => View::Bytes,
            InnerDecimalSchema::Fixed(f) => View::Fixed(f),
        },
        Schema::Uuid(u) => match u {
            UuidSchema::String => View::String,
            UuidSchema::Bytes => View::Bytes,
            UuidSchema::Fixed(f) => View::Fixed(f),
        },
        // Unresolvable (refused at parse time): nothing reads it.
        Schema::Ref { .. } => View::Null,
    };
    (v, s)
}

fn incompatible(kind: Kind, location: &str, message: String) -> Vec<Incompatibility> {
    vec![Incompatibility {
        kind,
        location: if location.is_empty() {
            "/".to_owned()
        } else {
            location.to_owned()
        },
        message,
    }]
}

fn name_mismatch(writer: &Name, at: &str) -> Vec<Incompatibility> {
    incompatible(
        Kind::NameMismatch,
        &format!("{at}/name"),
        format!("expected: {}", writer.fullname(None)),
    )
}

/// Same unqualified name, or the writer's full name among the reader's aliases.
fn names_match(
    reader: &Name,
    reader_aliases: &Option<Vec<apache_avro::schema::Alias>>,
    writer: &Name,
) -> bool {
    if reader.name() == writer.name() {
        return true;
    }
    let writer_full = writer.fullname(None);
    reader_aliases.iter().flatten().any(|alias| {
        alias
            .fully_qualified_name(reader.namespace())
            .fullname(None)
            == writer_full
    })
}

impl<'s> Checker<'s> {
    fn first_text_branch_is_string(&self, branches: &'s [Schema]) -> bool {
        branches
            .iter()
            .map(|b| view(b, self.reader_names).0)
            .find(|v| matches!(v, View::String | View::Bytes))
            .is_some_and(|v| matches!(v, View::String))
    }

    fn check(&mut self, reader: &'s Schema, writer: &'s Schema, at: &str) -> Vec<Incompatibility> {
        let (rv, r) = view(reader, self.reader_names);
        let (wv, w) = view(writer, self.writer_names);
        let key = (r as *const Schema, w as *const Schema);
        match self.memo.get(&key) {
            Some(Memo::InProgress) => return Vec::new(),
            Some(Memo::Done(found)) => return found.clone(),
            None => {}
        }
        self.memo.insert(key, Memo::InProgress);
        let found = self.compare(r, w, rv, wv, at);
        self.memo.insert(key, Memo::Done(found.clone()));
        found
    }

    fn compare(
        &mut self,
        r_schema: &'s Schema,
        w_schema: &'s Schema,
        rv: View<'s>,
        wv: View<'s>,
        at: &str,
    ) -> Vec<Incompatibility> {
        use View::*;
        match (&rv, &wv) {
            (Null, Null)
            | (Boolean, Boolean)
            | (Int, Int)
            | (Long, Long)
            | (Float, Float)
            | (Double, Double)
            | (Bytes, Bytes)
            | (String, String) => Vec::new(),
            (Array(r), Array(w)) => self.check(r, w, &format!("{at}/items")),
            (Map(r), Map(w)) => self.check(r, w, &format!("{at}/values")),
            (Fixed(r), Fixed(w)) => {
                let mut found = Vec::new();
                if !names_match(&r.name, &r.aliases, &w.name) {
                    found.extend(name_mismatch(&w.name, at));
                }
                if r.size != w.size {
                    found.extend(incompatible(
                        Kind::FixedSizeMismatch,
                        &format!("{at}/size"),
                        format!("expected: {}, found: {}", w.size, r.size),
                    ));
                }
                found
            }
            (Enum(r), Enum(w)) => {
                let mut found = Vec::new();
                if !names_match(&r.name, &r.aliases, &w.name) {
                    found.extend(name_mismatch(&w.name, at));
                }
                let missing: Vec<&str> = w
                    .symbols
                    .iter()
                    .filter(|s| !r.symbols.contains(s))
                    .map(std::string::String::as_str)
                    .collect();
                let has_default = r.default.as_ref().is_some_and(|d| r.symbols.contains(d));
                if !missing.is_empty() && !has_default {
                    found.extend(incompatible(
                        Kind::MissingEnumSymbols,
                        &format!("{at}/symbols"),
                        format!("[{}]", missing.join(", ")),
                    ));
                }
                found
            }
            (Record(r), Record(w)) => {
                let mut found = Vec::new();
                if !names_match(&r.name, &r.aliases, &w.name) {
                    found.extend(name_mismatch(&w.name, at));
                }
                for (i, field) in r.fields.iter().enumerate() {
                    let here = format!("{at}/fields/{i}");
                    let in_writer = w.fields.iter().find(|f| f.name == field.name).or_else(|| {
                        field
                            .aliases
                            .iter()
                            .find_map(|a| w.fields.iter().find(|f| &f.name == a))
                    });
                    match in_writer {
                        Some(wf) => found.extend(self.check(
                            &field.schema,
                            &wf.schema,
                            &format!("{here}/type"),
                        )),
                        None if field.default.is_none() => found.extend(incompatible(
                            Kind::ReaderFieldMissingDefaultValue,
                            &here,
                            field.name.clone(),
                        )),
                        None => {}
                    }
                }
                found
            }
            (Union(_), Union(ws)) => {
                let mut found = Vec::new();
                for (i, branch) in ws.iter().enumerate() {
                    if !self.check(r_schema, branch, at).is_empty() {
                        found.extend(incompatible(
                            Kind::MissingUnionBranch,
                            &format!("{at}/{i}"),
                            format!(
                                "reader union lacking writer type: {}",
                                view(branch, self.writer_names).0.type_name().to_uppercase()
                            ),
                        ));
                    }
                }
                found
            }
            (_, Union(ws)) => {
                let mut found = Vec::new();
                for branch in ws.iter() {
                    found.extend(self.check(r_schema, branch, at));
                }
                found
            }
            (Long, Int) | (Float, Int | Long) | (Double, Int | Long | Float) | (Bytes, String) => {
                Vec::new()
            }
            (String, Bytes) => incompatible(
                Kind::TypeMismatch,
                at,
                "reader type: string not compatible with writer type: bytes (bytes need not be UTF-8)"
                    .to_owned(),
            ),
            (Union(rs), Bytes) if self.first_text_branch_is_string(rs) => incompatible(
                Kind::TypeMismatch,
                at,
                "the reader union's first string-or-bytes branch is a string, which readers \
                 that take the first matching branch would decode bytes with"
                    .to_owned(),
            ),
            (Union(rs), _) => {
                if rs
                    .iter()
                    .any(|branch| self.check(branch, w_schema, at).is_empty())
                {
                    Vec::new()
                } else {
                    incompatible(
                        Kind::MissingUnionBranch,
                        at,
                        format!("reader union lacking writer type {}", wv.type_name()),
                    )
                }
            }
            _ => incompatible(
                Kind::TypeMismatch,
                at,
                format!(
                    "reader type: {} not compatible with writer type: {}",
                    rv.type_name(),
                    wv.type_name()
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Schema {
        Schema::parse(&json).unwrap()
    }

    fn kinds(writer: &Schema, reader: &Schema) -> Vec<Kind> {
        incompatibilities(writer, reader)
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
        // Deliberately stricter than Java: bytes need not be UTF-8.
        assert_eq!(kinds(&p("bytes"), &p("string")), [Kind::TypeMismatch]);
        let u = |j: serde_json::Value| parse(j);
        assert_eq!(
            kinds(&p("bytes"), &u(serde_json::json!(["string", "bytes"]))),
            [Kind::TypeMismatch]
        );
        assert_eq!(
            kinds(&p("bytes"), &u(serde_json::json!(["bytes", "string"]))),
            []
        );
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
}
