//! How request bodies are checked: each invalid field is named with a message, and all
//! of a body's mistakes are reported at once.
use std::ops::RangeInclusive;

use serde::Serialize;

/// One invalid field of a request, named in the error's `details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

/// A request body that broke one or more rules: every field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

/// Applies `rule` to a present field, recording "is required" or the rule's message.
pub(crate) fn check(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    value: Option<String>,
    rule: impl FnOnce(String) -> Result<String, String>,
) -> Option<String> {
    let Some(value) = value else {
        errors.push(FieldError::new(field, "is required"));
        return None;
    };
    rule(value).map_err(|message| errors.push(FieldError::new(field, message))).ok()
}

/// A body of one field: `rule` applied to it, or the one error.
pub(crate) fn check_only(
    field: &'static str,
    value: Option<String>,
    rule: impl FnOnce(String) -> Result<String, String>,
) -> Result<String, Invalid> {
    let mut errors = Vec::new();
    check(&mut errors, field, value, rule).ok_or(Invalid(errors))
}

/// How long a text field may be: in characters where a person reads the limit, in
/// UTF-8 bytes where the platform's limits (response and item sizes) are what count.
pub(crate) enum TextLength {
    Chars(RangeInclusive<usize>),
    Bytes(RangeInclusive<usize>),
}

/// Length within `limit`, and no control characters (line breaks and tabs allowed only
/// where `multiline`).
pub(crate) fn check_text(value: &str, limit: TextLength, multiline: bool) -> Result<String, String> {
    let (length, range, unit) = match limit {
        TextLength::Chars(range) => (value.chars().count(), range, "characters"),
        TextLength::Bytes(range) => (value.len(), range, "bytes (UTF-8)"),
    };
    if !range.contains(&length) {
        return Err(if length == 0 {
            "must not be empty".to_owned()
        } else {
            format!("must be {} to {} {unit}", range.start(), range.end())
        });
    }
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'));
    if !value.chars().all(allowed) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(value.to_owned())
}
