//! Every rule the gate reports, registered once: its id (the string reports, JSON output
//! and `accepted-breaking-changes.json` carry), the check or kind of change it belongs to,
//! its usual level and what it means. Findings name rules by these constants, and the
//! tables of `docintel-governance catalogue` are made from [`ALL`].

use crate::report::Severity;

/// One rule of the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable id, as reports and accepted changes spell it.
    pub id: &'static str,
    pub family: Family,
    /// The level it is usually reported at (an accepted change, `--require-lint` and
    /// `--fail-on` change what fails).
    pub level: Severity,
    /// What it reports, for the documentation tables.
    pub meaning: &'static str,
}

/// Where a rule comes from: a kind of change the OpenAPI diff reports, or another check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// The diff: a change that breaks clients.
    Breaking,
    /// The diff: a change clients relying on more than the document promised may notice.
    Warning,
    /// The diff: a change that breaks nobody.
    Note,
    /// The diff: a change to documentation only.
    Docs,
    /// The version check.
    Version,
    /// The drift check.
    Drift,
    /// The breaking-change check's own inputs (baselines, accepted changes).
    Baseline,
    /// The event schema check.
    Events,
    /// The contracts check.
    Contracts,
    /// The deprecation policy check.
    Deprecations,
    /// The lint check.
    Lint,
    /// The recorded traffic check.
    Traffic,
}

impl Family {
    /// The report sections its findings appear in.
    pub fn check(self) -> &'static str {
        match self {
            Family::Breaking | Family::Warning | Family::Note | Family::Docs => "breaking changes",
            Family::Version => "versions, changelog",
            Family::Drift => "spec drift",
            Family::Baseline => "breaking changes, versions",
            Family::Events => "event schemas",
            Family::Contracts => "contracts",
            Family::Deprecations => "deprecations",
            Family::Lint => "lint",
            Family::Traffic => "traffic",
        }
    }
}

/// Declares each rule as a constant and lists them all in [`ALL`], in this order.
macro_rules! rules {
    ($($name:ident = ($id:literal, $family:ident, $level:ident, $meaning:literal);)*) => {
        $(
            #[doc = $meaning]
            pub const $name: Rule = Rule {
                id: $id,
                family: Family::$family,
                level: Severity::$level,
                meaning: $meaning,
            };
        )*
        /// Every rule, each once.
        pub const ALL: &[Rule] = &[$($name),*];
    };
}

rules! {
    // The diff: changes that break clients (its catalogue maps oasdiff onto these).
    OPERATION_REMOVED = ("operation-removed", Breaking, Breaking, "an operation of the base is gone");
    OPERATION_REMOVED_BEFORE_SUNSET = ("operation-removed-before-sunset", Breaking, Breaking, "a deprecated operation is gone before its sunset");
    WEBHOOK_REMOVED = ("webhook-removed", Breaking, Breaking, "a webhook (OpenAPI 3.1 `webhooks`) the API sent is gone");
    RESPONSE_PROPERTY_REMOVED = ("response-property-removed", Breaking, Breaking, "a response property is gone");
    RESPONSE_PROPERTY_TYPE_CHANGED = ("response-property-type-changed", Breaking, Breaking, "a response value's type or format changed, or it may have a new type");
    RESPONSE_PROPERTY_MADE_OPTIONAL = ("response-property-made-optional", Breaking, Breaking, "a required response property became optional");
    RESPONSE_PROPERTY_MADE_NULLABLE = ("response-property-made-nullable", Breaking, Breaking, "a response value may now be null");
    RESPONSE_CONSTRAINT_LOOSENED = ("response-constraint-loosened", Breaking, Breaking, "a response value may exceed a bound clients relied on (maximum raised, minimum lowered, pattern, format or const dropped…)");
    RESPONSE_UNION_WIDENED = ("response-union-widened", Breaking, Breaking, "a response oneOf/anyOf gained a branch clients do not know");
    RESPONSE_HEADER_REMOVED = ("response-header-removed", Breaking, Breaking, "a required response header is gone");
    RESPONSE_HEADER_MADE_OPTIONAL = ("response-header-made-optional", Breaking, Breaking, "a required response header became optional");
    REQUEST_PROPERTY_REQUIRED_ADDED = ("request-property-required-added", Breaking, Breaking, "a new required request body property (or a body made required)");
    REQUEST_PARAMETER_REQUIRED_ADDED = ("request-parameter-required-added", Breaking, Breaking, "a new required query, header or path parameter (or an optional one made required)");
    REQUEST_PARAMETER_REMOVED_BEFORE_SUNSET = ("request-parameter-removed-before-sunset", Breaking, Breaking, "a deprecated parameter is gone before its sunset");
    REQUEST_PROPERTY_TYPE_CHANGED = ("request-property-type-changed", Breaking, Breaking, "a request value changed type or format, or no longer accepts null or a media type");
    REQUEST_UNION_NARROWED = ("request-union-narrowed", Breaking, Breaking, "a request oneOf/anyOf lost a branch clients may send");
    REQUEST_BODY_REMOVED = ("request-body-removed", Breaking, Breaking, "an operation no longer takes the request body clients send");
    REQUEST_DEFAULT_CHANGED = ("request-default-changed", Breaking, Breaking, "an optional parameter's default changed, appeared or disappeared");
    REQUEST_ENUM_NARROWED = ("request-enum-narrowed", Breaking, Breaking, "a request enum lost values (or gained an enum or a const)");
    RESPONSE_ENUM_WIDENED = ("response-enum-widened", Breaking, Breaking, "a response enum gained values (or lost its enum) without x-extensible-enum");
    REQUEST_CONSTRAINT_TIGHTENED = ("request-constraint-tightened", Breaking, Breaking, "a request constraint is stricter (maxLength, maximum, pattern, minItems, if/then, patternProperties…)");
    SUCCESS_STATUS_REMOVED = ("success-status-removed", Breaking, Breaking, "a success status code of an operation is gone");
    RESPONSE_MEDIA_TYPE_REMOVED = ("response-media-type-removed", Breaking, Breaking, "a response media type is gone");
    SECURITY_CHANGED = ("security-changed", Breaking, Breaking, "an operation needs other or more credentials");
    DEPRECATION_SUNSET_INVALID = ("deprecation-sunset-invalid", Breaking, Breaking, "something newly deprecated has an unreadable sunset, or (with --min-sunset-days) none or one too soon");
    SUNSET_MOVED_EARLIER = ("sunset-moved-earlier", Breaking, Breaking, "a deprecated operation or parameter lost its sunset or got an earlier one");

    // The diff: changes some clients may notice.
    RESPONSE_OPTIONAL_PROPERTY_REMOVED = ("response-optional-property-removed", Warning, Warning, "an optional response property is gone");
    RESPONSE_OPTIONAL_HEADER_REMOVED = ("response-optional-header-removed", Warning, Warning, "an optional response header is gone");
    REQUEST_PROPERTY_REMOVED = ("request-property-removed", Warning, Warning, "a request property is no longer documented (clients may still send it)");
    REQUEST_PARAMETER_REMOVED = ("request-parameter-removed", Warning, Warning, "a parameter is no longer documented (clients may still send it)");

    // The diff: changes that break nobody.
    OPERATION_ADDED = ("operation-added", Note, Info, "a new operation");
    OPERATION_DEPRECATED = ("operation-deprecated", Note, Info, "an operation is now deprecated");
    SUNSET_ADDED = ("sunset-added", Note, Info, "something deprecated without a sunset now has one");
    SUNSET_MOVED_LATER = ("sunset-moved-later", Note, Info, "a deprecated operation or parameter's sunset moved later");
    OPERATION_RETIRED = ("operation-retired", Note, Info, "a deprecated operation was removed after its sunset");
    PATH_PARAMETER_RENAMED = ("path-parameter-renamed", Note, Info, "a path parameter has another name (the request is the same)");
    WEBHOOK_ADDED = ("webhook-added", Note, Info, "a new webhook (OpenAPI 3.1 `webhooks`)");
    REQUEST_PARAMETER_ADDED = ("request-parameter-added", Note, Info, "a new optional parameter");
    REQUEST_PARAMETER_MADE_OPTIONAL = ("request-parameter-made-optional", Note, Info, "a required parameter became optional");
    REQUEST_PARAMETER_DEPRECATED = ("request-parameter-deprecated", Note, Info, "a parameter is now deprecated");
    REQUEST_PARAMETER_RETIRED = ("request-parameter-retired", Note, Info, "a deprecated parameter was removed after its sunset");
    REQUEST_BODY_MADE_OPTIONAL = ("request-body-made-optional", Note, Info, "an operation accepts requests without a body, or takes a new optional one");
    REQUEST_MEDIA_TYPE_ADDED = ("request-media-type-added", Note, Info, "a request body media type is new");
    REQUEST_PROPERTY_ADDED = ("request-property-added", Note, Info, "a new optional request property");
    REQUEST_PROPERTY_MADE_OPTIONAL = ("request-property-made-optional", Note, Info, "a required request property became optional");
    REQUEST_TYPE_WIDENED = ("request-type-widened", Note, Info, "a request value accepts more types, formats or null");
    REQUEST_ENUM_WIDENED = ("request-enum-widened", Note, Info, "a request enum accepts more values");
    REQUEST_UNION_WIDENED = ("request-union-widened", Note, Info, "a request oneOf/anyOf accepts a new branch");
    REQUEST_CONSTRAINT_LOOSENED = ("request-constraint-loosened", Note, Info, "a request constraint accepts more (a bound relaxed, a pattern dropped…)");
    SECURITY_LOOSENED = ("security-loosened", Note, Info, "an operation accepts more credentials, or none");
    SECURITY_SCOPES_CHANGED = ("security-scopes-changed", Note, Info, "an operation takes the same schemes with other scopes or roles (oasdiff's api-security-scope-added/-removed, INFO: keys that hold every scope keep working)");
    RESPONSE_STATUS_ADDED = ("response-status-added", Note, Info, "an operation may answer a new status");
    RESPONSE_HEADER_ADDED = ("response-header-added", Note, Info, "a response header is new");
    RESPONSE_HEADER_MADE_REQUIRED = ("response-header-made-required", Note, Info, "an optional response header is now always sent");
    RESPONSE_MEDIA_TYPE_ADDED = ("response-media-type-added", Note, Info, "a response media type is new");
    RESPONSE_PROPERTY_ADDED = ("response-property-added", Note, Info, "a new response property");
    RESPONSE_PROPERTY_MADE_REQUIRED = ("response-property-made-required", Note, Info, "an optional response property is now always sent");
    PROPERTY_DEPRECATED = ("property-deprecated", Note, Info, "a property is now deprecated");
    RESPONSE_TYPE_NARROWED = ("response-type-narrowed", Note, Info, "a response value has fewer possible types, or is no longer null");
    RESPONSE_ENUM_NARROWED = ("response-enum-narrowed", Note, Info, "a response value is limited to fewer values (an enum added, values removed)");
    RESPONSE_UNION_NARROWED = ("response-union-narrowed", Note, Info, "a response oneOf/anyOf lost a branch (clients still know the others)");
    RESPONSE_ENUM_VALUE_ADDED = ("response-enum-value-added", Note, Info, "an `x-extensible-enum` response value gained values clients were told to expect");
    RESPONSE_CONSTRAINT_TIGHTENED = ("response-constraint-tightened", Note, Info, "a response value promises a stricter bound");

    // The diff: documentation only.
    DESCRIPTION_CHANGED = ("description-changed", Docs, Info, "a `description` is new, changed or gone");
    SUMMARY_CHANGED = ("summary-changed", Docs, Info, "an operation's `summary` changed");
    TITLE_CHANGED = ("title-changed", Docs, Info, "a schema's `title` changed");
    EXAMPLE_CHANGED = ("example-changed", Docs, Info, "an `example` or `examples` changed (schemas, parameters, media types)");
    EXTERNAL_DOCS_CHANGED = ("external-docs-changed", Docs, Info, "an `externalDocs` link changed");
    INFO_CHANGED = ("info-changed", Docs, Info, "the API's title, description, contact, license or terms changed");

    // The version check and the changelog.
    VERSION_NOT_BUMPED = ("version-not-bumped", Version, Breaking, "the document changed since its baseline but its version is not higher");
    VERSION_BUMP_TOO_SMALL = ("version-bump-too-small", Version, Breaking, "the version went up by less than the changes need (a patch for an additive change, a minor for a breaking one)");
    VERSION_BUMP_LARGER_THAN_NEEDED = ("version-bump-larger-than-needed", Version, Warning, "(warning) the version is higher than the next one the changes need");
    VERSION_CHANGED_WITHOUT_CHANGES = ("version-changed-without-changes", Version, Breaking, "the document equals its baseline but its version is another");
    VERSION_UNREADABLE = ("version-unreadable", Version, Breaking, "a version is not MAJOR.MINOR.PATCH numbers");
    CHANGELOG_DRIFT = ("changelog-drift", Version, Breaking, "a committed `docs/changelog/<version>.md` differs from what `changelog` writes");
    UNCLASSIFIED_CHANGE = ("unclassified-change", Version, Info, "a change the diff has no rule for, counted as additive");

    // The other checks.
    SPEC_DRIFT = ("spec-drift", Drift, Breaking, "a committed OpenAPI document differs from what the code generates");
    SERVED_SPEC_DRIFT = ("served-spec-drift", Drift, Breaking, "the server serves another document than the code generates, or none");
    NO_BASELINE = ("no-baseline", Baseline, Warning, "a version has no released baseline to compare against");
    ACCEPTED_CHANGE_UNUSED = ("accepted-change-unused", Baseline, Warning, "an accepted breaking change no longer happens");
    UNUSABLE_INPUT = ("unusable-input", Baseline, Breaking, "a document or the accepted-changes file cannot be read");
    SCHEMA_UNREADABLE = ("schema-unreadable", Events, Breaking, "an event schema file cannot be read");
    SCHEMA_INCOMPATIBLE = ("schema-incompatible", Events, Breaking, "an event schema breaks its subject's compatibility mode");
    REGISTRY_UNREACHABLE = ("registry-unreachable", Events, Breaking, "the schema registry cannot be reached");
    SUBJECT_NEW = ("subject-new", Events, Info, "an event subject is not registered in the registry yet");
    REGISTRY_INCOMPATIBLE = ("registry-incompatible", Events, Breaking, "the schema registry refuses a schema as incompatible");
    PACT_MISMATCH = ("pact-mismatch", Contracts, Breaking, "the provider does not answer as a pact expects");
    PACT_PENDING_FAILURE = ("pact-pending-failure", Contracts, Warning, "a pending pact is not met yet");
    CONTRACTS_UNVERIFIABLE = ("contracts-unverifiable", Contracts, Breaking, "the pacts cannot be verified at all");
    PACT_UNDOCUMENTED = ("pact-undocumented", Contracts, Breaking, "a pact asks for what the provider's OpenAPI document does not promise: a path, method, status, media type, undeclared response field, body the schema refuses, or a required parameter it does not send");
    DEPRECATION_NOTICE_TOO_SHORT = ("deprecation-notice-too-short", Deprecations, Breaking, "a deprecation gives less notice before its sunset than the policy asks");
    DEPRECATION_WITHOUT_SUCCESSOR = ("deprecation-without-successor", Deprecations, Breaking, "a deprecation names no successor");
    DEPRECATION_NOT_IN_CALENDAR = ("deprecation-not-in-calendar", Deprecations, Breaking, "a deprecation has no row in deprecations.md");
    DEPRECATION_CALENDAR_MISMATCH = ("deprecation-calendar-mismatch", Deprecations, Breaking, "a row of deprecations.md disagrees with the code");
    DEPRECATED_WITHOUT_CALENDAR = ("deprecated-without-calendar", Deprecations, Breaking, "an operation is deprecated in a document but no deprecation covers it");
    DEPRECATION_NOT_IN_SPEC = ("deprecation-not-in-spec", Deprecations, Breaking, "a deprecation covers an operation the document does not mark deprecated");
    DEPRECATION_SUNSET_MISMATCH = ("deprecation-sunset-mismatch", Deprecations, Breaking, "an operation's `x-sunset` differs from the calendar's");
    DEPRECATION_410_UNDOCUMENTED = ("deprecation-410-undocumented", Deprecations, Breaking, "a deprecated operation does not document its 410 after sunset");
    DEPRECATION_HEADERS = ("deprecation-headers", Deprecations, Breaking, "a deprecated route does not send the Deprecation, Sunset and Link headers");
    SUNSET_NOT_ENFORCED = ("sunset-not-enforced", Deprecations, Breaking, "a route does not answer 410 Gone after its sunset");
    LINT_UNAVAILABLE = ("lint-unavailable", Lint, Warning, "spectral or the OWASP ruleset is missing: the documents were not linted (fails with --require-lint)");
    LINT_FAILED_TO_RUN = ("lint-failed-to-run", Lint, Breaking, "spectral did not run or its output cannot be read");
    TRAFFIC_UNREADABLE = ("traffic-unreadable", Traffic, Breaking, "a recording cannot be read");
    TRAFFIC_EMPTY = ("traffic-empty", Traffic, Breaking, "no response was recorded");
    TRAFFIC_UNDOCUMENTED_STATUS = ("traffic-undocumented-status", Traffic, Breaking, "an operation answered a status it does not document");
    TRAFFIC_UNDOCUMENTED_CONTENT_TYPE = ("traffic-undocumented-content-type", Traffic, Breaking, "a response had a content type its operation does not document");
    TRAFFIC_UNDOCUMENTED_HEADER = ("traffic-undocumented-header", Traffic, Breaking, "a response had a header its operation does not document");
}

/// The rules of one family, in registration order.
pub fn of(family: Family) -> impl Iterator<Item = &'static Rule> {
    ALL.iter().filter(move |r| r.family == family)
}

/// The registered rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.id == id)
}
