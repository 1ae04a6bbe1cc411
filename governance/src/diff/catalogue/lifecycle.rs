//! oasdiff's lifecycle rules (sunsets, stability levels, removal of deprecated paths and
//! operations) against docintel's.

use super::Coverage::{self, NotApplicable, Rule};
use super::NA_STABILITY;
use crate::rules;

pub(super) const ROWS: &[(&str, Coverage)] = &[
    (
        "request-property-deprecated-sunset-missing",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    (
        "request-property-deprecated-sunset-invalid",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    (
        "request-property-sunset-date-too-small",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    (
        "response-property-deprecated-sunset-missing",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    (
        "response-property-deprecated-sunset-invalid",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    (
        "response-property-sunset-date-too-small",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    ("api-stability-decreased", NotApplicable(NA_STABILITY)),
    (
        "request-property-stability-decreased",
        NotApplicable(NA_STABILITY),
    ),
    (
        "response-property-stability-decreased",
        NotApplicable(NA_STABILITY),
    ),
    (
        "api-deprecated-sunset-parse",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    (
        "api-deprecated-sunset-missing",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    ("api-invalid-stability-level", NotApplicable(NA_STABILITY)),
    (
        "api-sunset-date-too-small",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    (
        "request-parameter-deprecated-sunset-missing",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    (
        "request-parameter-sunset-date-too-small",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    (
        "api-path-removed-without-deprecation",
        Rule(rules::OPERATION_REMOVED),
    ),
    (
        "api-path-sunset-parse",
        Rule(rules::OPERATION_REMOVED_BEFORE_SUNSET),
    ),
    (
        "api-path-removed-before-sunset",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    (
        "api-removed-without-deprecation",
        Rule(rules::OPERATION_REMOVED),
    ),
    (
        "api-removed-before-sunset",
        Rule(rules::DEPRECATION_SUNSET_INVALID),
    ),
    ("sunset-deleted", Rule(rules::SUNSET_MOVED_EARLIER)),
    (
        "api-sunset-date-changed-too-small",
        Rule(rules::SUNSET_MOVED_EARLIER),
    ),
    (
        "request-parameter-sunset-deleted",
        Rule(rules::SUNSET_MOVED_EARLIER),
    ),
    (
        "request-parameter-sunset-date-changed-too-small",
        Rule(rules::SUNSET_MOVED_EARLIER),
    ),
];
