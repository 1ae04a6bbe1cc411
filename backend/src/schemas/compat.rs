//! Whether a reader schema can read everything a writer schema writes: the rules of
//! Avro's Java `SchemaValidator`/`ReaderWriterCompatibilityChecker`, which Confluent's
//! registry runs (and PyPI `avro` ports). Written here because `apache_avro`'s own
//! checker judges renamed records, enums and fixed types incompatible even when the
//! reader keeps the old name in `aliases`, and field aliases not at all.
//!
//! The rules, reader against writer:
//! - same primitive: fine; promotions int→long→float→double, string→bytes and
//!   bytes→string (as Java, Confluent and the specification allow);
//! - an opt-in stricter rule ([`Rules::refuse_bytes_as_string`]): a writer's `bytes` are
//!   not read as a `string` (nor through a reader union whose first string-or-bytes branch
//!   is a string, since the specification picks the first matching branch). Bytes need
//!   not be UTF-8, and readers fail on those that are not; the differential test
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

use std::collections::{HashMap, HashSet};

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

/// How much work one compatibility question may take, in steps (a pair of types
/// compared, a field looked up, an enum symbol or union branch visited). Each pair of
/// types is compared once whatever the number of places it is used in, so the work is
/// linear in the schemas' size; the budget bounds what is left, e.g. two wide unions
/// compared branch by branch. Real schemas, even at the registry's size limit and
/// against many versions, need a small fraction of it.
pub const DEFAULT_BUDGET: u64 = 2_000_000;

/// The most pairs of types one comparison of two schemas keeps (what bounds its
/// memory, a few hundred bytes each): ten times what two schemas at the registry's size
/// limit need when they match up.
pub const MAX_PAIRS: usize = 100_000;

/// The question cost more than a check may spend before its answer was known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TooComplex {
    #[error(
        "the schemas are too complex to check for compatibility: the check needs more than {0} steps"
    )]
    Steps(u64),
    #[error(
        "the schemas are too complex to check for compatibility: they pair up more than {0} types"
    )]
    Pairs(usize),
}

/// Work left for a compatibility question; shared by every pair a mode compares.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    limit: u64,
    left: u64,
}

impl Budget {
    pub fn new(limit: u64) -> Self {
        Self { limit, left: limit }
    }

    /// Steps spent so far.
    pub fn spent(&self) -> u64 {
        self.limit - self.left
    }

    fn spend(&mut self, steps: usize) -> Result<(), TooComplex> {
        let steps = u64::try_from(steps).unwrap_or(u64::MAX);
        match self.left.checked_sub(steps) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => {
                self.left = 0;
                Err(TooComplex::Steps(self.limit))
            }
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET)
    }
}

/// Which of the optional rules a check applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    /// Refuse a writer's `bytes` read as a reader's `string` (which Java, Confluent and the
    /// specification accept): bytes need not be UTF-8, and readers such as fastavro fail on
    /// those that are not.
    pub refuse_bytes_as_string: bool,
}

/// A schema and the schemas defining the named types it refers to but does not define
/// (a registry's schema references, resolved), each after those it refers to.
#[derive(Debug, Clone, Copy)]
pub struct WithRefs<'a> {
    pub schema: &'a Schema,
    pub refs: &'a [Schema],
}

impl<'a> From<&'a Schema> for WithRefs<'a> {
    fn from(schema: &'a Schema) -> Self {
        Self { schema, refs: &[] }
    }
}

impl<'a> WithRefs<'a> {
    /// Names resolve in order, so the referenced schemas (each after those it refers to)
    /// come before the schema.
    fn resolve(self) -> apache_avro::AvroResult<ResolvedSchema<'a>> {
        let mut all: Vec<&Schema> = self.refs.iter().collect();
        all.push(self.schema);
        ResolvedSchema::try_from(all)
    }
}

/// Every reason `reader` cannot read data written with `writer`; empty when it can.
/// Each reason is reported once, where the pair of types it concerns is first met.
pub fn incompatibilities(
    writer: &Schema,
    reader: &Schema,
    budget: &mut Budget,
) -> Result<Vec<Incompatibility>, TooComplex> {
    incompatibilities_with(writer.into(), reader.into(), Rules::default(), budget)
}

/// [`incompatibilities`] of schemas with references, under `rules`.
pub fn incompatibilities_with(
    writer: WithRefs<'_>,
    reader: WithRefs<'_>,
    rules: Rules,
    budget: &mut Budget,
) -> Result<Vec<Incompatibility>, TooComplex> {
    let (Ok(w), Ok(r)) = (writer.resolve(), reader.resolve()) else {
        // A schema whose references do not resolve was refused when it was parsed; keep
        // the answer total anyway.
        return Ok(vec![Incompatibility {
            kind: Kind::TypeMismatch,
            location: "/".to_owned(),
            message: "a named type is referenced but not defined".to_owned(),
        }]);
    };
    let mut checker = Checker {
        writer_names: w.get_names(),
        reader_names: r.get_names(),
        memo: HashMap::new(),
        pairs: Vec::new(),
        writer_fields: HashMap::new(),
        budget,
        rules,
    };
    let root = checker.check(reader.schema, writer.schema, "")?;
    Ok(checker.report(root))
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

/// What comparing one (reader type, writer type) pair found, in order: its own
/// reasons, and the pairs it compared that found some. Each pair is compared once and
/// referred to wherever else it is met, so neither the work nor the report grows with
/// the number of places a named type is used.
enum Entry {
    Own(Incompatibility),
    Pair(usize),
}

struct Pair {
    /// False while the pair is being compared further up the stack: a recursive type
    /// is compatible with itself unless something else says otherwise (as in Java).
    done: bool,
    entries: Vec<Entry>,
}

struct Checker<'s, 'b> {
    writer_names: &'s NamesRef<'s>,
    reader_names: &'s NamesRef<'s>,
    memo: HashMap<(*const Schema, *const Schema), usize>,
    pairs: Vec<Pair>,
    /// Each writer record's fields by name, built once.
    writer_fields: HashMap<*const RecordSchema, HashMap<&'s str, usize>>,
    budget: &'b mut Budget,
    rules: Rules,
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

fn incompatible(kind: Kind, location: &str, message: String) -> Entry {
    Entry::Own(Incompatibility {
        kind,
        location: if location.is_empty() {
            "/".to_owned()
        } else {
            location.to_owned()
        },
        message,
    })
}

fn name_mismatch(writer: &Name, at: &str) -> Entry {
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

/// The failing pair a comparison found, if any.
type Outcome = Result<Option<usize>, TooComplex>;

impl<'s> Checker<'s, '_> {
    fn first_text_branch_is_string(&mut self, branches: &'s [Schema]) -> Result<bool, TooComplex> {
        self.budget.spend(branches.len())?;
        Ok(branches
            .iter()
            .map(|b| view(b, self.reader_names).0)
            .find(|v| matches!(v, View::String | View::Bytes))
            .is_some_and(|v| matches!(v, View::String)))
    }

    /// Compares the pair once; later calls answer from the memo.
    fn check(&mut self, reader: &'s Schema, writer: &'s Schema, at: &str) -> Outcome {
        self.budget.spend(1)?;
        let (rv, r) = view(reader, self.reader_names);
        let (wv, w) = view(writer, self.writer_names);
        let key = (r as *const Schema, w as *const Schema);
        if let Some(&id) = self.memo.get(&key) {
            let pair = &self.pairs[id];
            return Ok((pair.done && !pair.entries.is_empty()).then_some(id));
        }
        let id = self.pairs.len();
        if id >= MAX_PAIRS {
            return Err(TooComplex::Pairs(MAX_PAIRS));
        }
        self.pairs.push(Pair {
            done: false,
            entries: Vec::new(),
        });
        self.memo.insert(key, id);
        let entries = self.compare(r, w, rv, wv, at)?;
        let failed = !entries.is_empty();
        self.pairs[id] = Pair {
            done: true,
            entries,
        };
        Ok(failed.then_some(id))
    }

    /// The reasons found from `root` on, each pair's once, in the order met.
    fn report(&self, root: Option<usize>) -> Vec<Incompatibility> {
        let mut found = Vec::new();
        let mut seen = vec![false; self.pairs.len()];
        let mut stack: Vec<&Entry> = Vec::new();
        if let Some(id) = root {
            seen[id] = true;
            stack.extend(self.pairs[id].entries.iter().rev());
        }
        while let Some(entry) = stack.pop() {
            match entry {
                Entry::Own(i) => found.push(i.clone()),
                Entry::Pair(id) => {
                    if !std::mem::replace(&mut seen[*id], true) {
                        stack.extend(self.pairs[*id].entries.iter().rev());
                    }
                }
            }
        }
        found
    }

    /// The index of a writer record's field by name.
    fn writer_field(
        &mut self,
        w: &'s RecordSchema,
        name: &str,
    ) -> Result<Option<usize>, TooComplex> {
        let key = w as *const RecordSchema;
        if !self.writer_fields.contains_key(&key) {
            self.budget.spend(w.fields.len())?;
            let by_name = w
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name.as_str(), i))
                .collect();
            self.writer_fields.insert(key, by_name);
        }
        Ok(self
            .writer_fields
            .get(&key)
            .and_then(|by_name| by_name.get(name).copied()))
    }

    fn compare(
        &mut self,
        r_schema: &'s Schema,
        w_schema: &'s Schema,
        rv: View<'s>,
        wv: View<'s>,
        at: &str,
    ) -> Result<Vec<Entry>, TooComplex> {
        use View::*;
        let mut found = Vec::new();
        match (&rv, &wv) {
            (Null, Null)
            | (Boolean, Boolean)
            | (Int, Int)
            | (Long, Long)
            | (Float, Float)
            | (Double, Double)
            | (Bytes, Bytes)
            | (String, String) => {}
            (Array(r), Array(w)) => {
                found.extend(self.check(r, w, &format!("{at}/items"))?.map(Entry::Pair));
            }
            (Map(r), Map(w)) => {
                found.extend(self.check(r, w, &format!("{at}/values"))?.map(Entry::Pair));
            }
            (Fixed(r), Fixed(w)) => {
                if !names_match(&r.name, &r.aliases, &w.name) {
                    found.push(name_mismatch(&w.name, at));
                }
                if r.size != w.size {
                    found.push(incompatible(
                        Kind::FixedSizeMismatch,
                        &format!("{at}/size"),
                        format!("expected: {}, found: {}", w.size, r.size),
                    ));
                }
            }
            (Enum(r), Enum(w)) => {
                self.budget.spend(r.symbols.len() + w.symbols.len())?;
                if !names_match(&r.name, &r.aliases, &w.name) {
                    found.push(name_mismatch(&w.name, at));
                }
                let known: HashSet<&str> =
                    r.symbols.iter().map(std::string::String::as_str).collect();
                let missing: Vec<&str> = w
                    .symbols
                    .iter()
                    .map(std::string::String::as_str)
                    .filter(|s| !known.contains(s))
                    .collect();
                let has_default = r.default.as_deref().is_some_and(|d| known.contains(d));
                if !missing.is_empty() && !has_default {
                    found.push(incompatible(
                        Kind::MissingEnumSymbols,
                        &format!("{at}/symbols"),
                        format!("[{}]", missing.join(", ")),
                    ));
                }
            }
            (Record(r), Record(w)) => {
                if !names_match(&r.name, &r.aliases, &w.name) {
                    found.push(name_mismatch(&w.name, at));
                }
                for (i, field) in r.fields.iter().enumerate() {
                    self.budget.spend(1 + field.aliases.len())?;
                    let mut in_writer = self.writer_field(w, &field.name)?;
                    for alias in &field.aliases {
                        if in_writer.is_some() {
                            break;
                        }
                        in_writer = self.writer_field(w, alias)?;
                    }
                    let here = format!("{at}/fields/{i}");
                    match in_writer {
                        Some(wf) => found.extend(
                            self.check(
                                &field.schema,
                                &w.fields[wf].schema,
                                &format!("{here}/type"),
                            )?
                            .map(Entry::Pair),
                        ),
                        None if field.default.is_none() => found.push(incompatible(
                            Kind::ReaderFieldMissingDefaultValue,
                            &here,
                            field.name.clone(),
                        )),
                        None => {}
                    }
                }
            }
            (Union(_), Union(ws)) => {
                for (i, branch) in ws.iter().enumerate() {
                    if self.check(r_schema, branch, at)?.is_some() {
                        found.push(incompatible(
                            Kind::MissingUnionBranch,
                            &format!("{at}/{i}"),
                            format!(
                                "reader union lacking writer type: {}",
                                view(branch, self.writer_names).0.type_name().to_uppercase()
                            ),
                        ));
                    }
                }
            }
            (_, Union(ws)) => {
                for branch in ws.iter() {
                    found.extend(self.check(r_schema, branch, at)?.map(Entry::Pair));
                }
            }
            (Long, Int) | (Float, Int | Long) | (Double, Int | Long | Float) | (Bytes, String) => {}
            (String, Bytes) if self.rules.refuse_bytes_as_string => found.push(incompatible(
                Kind::TypeMismatch,
                at,
                "reader type: string not compatible with writer type: bytes (refused because \
                 refuseBytesAsString is set: bytes need not be UTF-8)"
                    .to_owned(),
            )),
            (String, Bytes) => {}
            (Union(rs), Bytes)
                if self.rules.refuse_bytes_as_string && self.first_text_branch_is_string(rs)? =>
            {
                found.push(incompatible(
                    Kind::TypeMismatch,
                    at,
                    "the reader union's first string-or-bytes branch is a string, which readers \
                     that take the first matching branch would decode bytes with (refused \
                     because refuseBytesAsString is set)"
                        .to_owned(),
                ))
            }
            (Union(rs), _) => {
                let mut readable = false;
                for branch in rs.iter() {
                    if self.check(branch, w_schema, at)?.is_none() {
                        readable = true;
                        break;
                    }
                }
                if !readable {
                    found.push(incompatible(
                        Kind::MissingUnionBranch,
                        at,
                        format!("reader union lacking writer type {}", wv.type_name()),
                    ));
                }
            }
            _ => found.push(incompatible(
                Kind::TypeMismatch,
                at,
                format!(
                    "reader type: {} not compatible with writer type: {}",
                    rv.type_name(),
                    wv.type_name()
                ),
            )),
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests;
