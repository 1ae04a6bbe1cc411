//! What a name, version number, branch or tag may be, and what makes content a pact.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{BrokerError, MAX_NAME_CHARS, Result};

/// Checks a name, version number, branch or tag: filled, one line, bounded, and
/// nothing that would make two names look alike or text render out of order (controls,
/// bidirectional overrides, zero-width and other invisible characters, spaces around it).
pub fn check_name(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(BrokerError::invalid(field, "can't be blank"));
    }
    if value.chars().any(char::is_control) {
        return Err(BrokerError::invalid(
            field,
            "cannot contain multiple lines or control characters",
        ));
    }
    if value.chars().any(invisible) {
        return Err(BrokerError::invalid(
            field,
            "cannot contain invisible or bidirectional formatting characters",
        ));
    }
    if value.trim() != value {
        return Err(BrokerError::invalid(
            field,
            "cannot start or end with a space",
        ));
    }
    if value == "." || value == ".." {
        return Err(BrokerError::invalid(field, "cannot be '.' or '..'"));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(BrokerError::invalid(
            field,
            format!("is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(())
}

/// [`check_name`] for a pacticipant, which is also who may write as it: in Unicode NFC
/// (so one name has one spelling), without `..`, and in one alphabet (a Latin name with
/// a Cyrillic or Greek look-alike letter would be another team's name to a reader).
pub fn check_pacticipant_name(field: &str, value: &str) -> Result<()> {
    check_name(field, value)?;
    if value.contains("..") {
        return Err(BrokerError::invalid(field, "cannot contain '..'"));
    }
    if !unicode_normalization::is_nfc(value) {
        return Err(BrokerError::invalid(
            field,
            "must be in Unicode normalization form C (NFC)",
        ));
    }
    let scripts = [is_latin, is_cyrillic, is_greek]
        .iter()
        .filter(|script| value.chars().any(script))
        .count();
    if scripts > 1 {
        return Err(BrokerError::invalid(
            field,
            "cannot mix Latin, Cyrillic and Greek letters",
        ));
    }
    Ok(())
}

/// Characters that render as nothing or reorder what follows: zero-width spaces and
/// joiners, bidirectional marks, embeddings, overrides and isolates, the byte-order
/// mark, and the other format characters a name has no use for.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0000}'..='\u{E007F}'
    )
}

fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}')
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}')
}

fn is_greek(c: char) -> bool {
    matches!(c, '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}')
}

/// The digest the broker knows a pact's content by (of its canonical JSON, so key order
/// and whitespace do not make two publications of one pact differ).
pub fn content_sha(content: &Value) -> String {
    hex::encode(Sha256::digest(content.to_string().as_bytes()))
}

/// Why `content` is not a pact between `consumer` and `provider` (the reason for a 400).
pub(crate) fn pact_problem(content: &Value, consumer: &str, provider: &str) -> Option<String> {
    let Some(object) = content.as_object() else {
        return Some(format!(
            "parsed content was expected to be a Hash but was a {}",
            json_class(content)
        ));
    };
    for (role, expected, field) in [
        ("consumer", consumer, "consumerName"),
        ("provider", provider, "providerName"),
    ] {
        match object
            .get(role)
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
        {
            None => {
                return Some(format!(
                    "was not found at expected path $.{role}.name in the submitted pact file."
                ));
            }
            Some(name) if name != expected => {
                return Some(format!(
                    "{role} name in contract content ('{name}') must match {field} in contract params ('{expected}')"
                ));
            }
            Some(_) => {}
        }
    }
    let interactions = object
        .get("interactions")
        .or_else(|| object.get("messages"));
    match interactions {
        Some(Value::Array(items)) => items.iter().enumerate().find_map(|(i, item)| {
            (!item.get("description").is_some_and(Value::is_string))
                .then(|| format!("interaction {i} of the pact has no description: not a pact"))
        }),
        _ => Some("the pact has no interactions or messages array: not a pact".to_owned()),
    }
}

fn json_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "NilClass",
        Value::Bool(_) => "Boolean",
        Value::Number(_) => "Number",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Hash",
    }
}
