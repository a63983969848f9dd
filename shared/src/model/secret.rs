use super::validation::{FieldError, Invalid};

/// A password as sent, which never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    /// A token sent in `field` of a body: present and not empty, nothing more (any other
    /// string is simply not a token we issued).
    pub(crate) fn required(field: &'static str, value: Option<String>) -> Result<Self, Invalid> {
        match value {
            Some(token) if !token.is_empty() => Ok(Self(token)),
            Some(_) => Err(Invalid(vec![FieldError::new(field, "must not be empty")])),
            None => Err(Invalid(vec![FieldError::new(field, "is required")])),
        }
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}
