//! Identities at other providers (Google), and the Google sign-in body with the account
//! it makes.
use serde::Deserialize;

use super::Secret;
use super::unicode::hidden_in_names;
use super::user::{DISPLAY_NAME_CHARS, SignInMethod, check_display_name, normalize_email};
use super::validation::{FieldError, Invalid, check};

/// A Google ID token is about a kilobyte; anything far larger is not one.
pub const GOOGLE_CREDENTIAL_MAX_BYTES: usize = 8 * 1024;
/// The display name of a Google account whose own name and email make none.
const FALLBACK_DISPLAY_NAME: &str = "Google user";

/// An account at another provider (Google's `sub`, never its email): it signs in to one
/// account of ours, and an account may have several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub method: SignInMethod,
    pub subject: String,
}

impl Identity {
    pub fn google(sub: impl Into<String>) -> Self {
        Self { method: SignInMethod::Google, subject: sub.into() }
    }

    /// What the store keys it by: provider and subject.
    pub fn key(&self) -> String {
        format!("{}#{}", self.method.as_str(), self.subject)
    }
}

/// `POST /auth/google` and `POST /me/identities/google` body: the ID token Google Identity
/// Services hands the page as `credential`.
#[derive(Deserialize)]
pub struct GoogleCredentialRequest {
    pub credential: Option<String>,
}

impl GoogleCredentialRequest {
    /// Present, and short enough to be a token; whether it is one is Google's keys' to say.
    pub fn validate(self) -> Result<Secret, Invalid> {
        let mut errors = Vec::new();
        let credential = check(&mut errors, "credential", self.credential, |token| {
            if token.is_empty() {
                Err("must not be empty".to_owned())
            } else if token.len() > GOOGLE_CREDENTIAL_MAX_BYTES {
                Err(format!("must be at most {GOOGLE_CREDENTIAL_MAX_BYTES} bytes"))
            } else {
                Ok(token)
            }
        });
        credential.map(Secret).ok_or(Invalid(errors))
    }
}

/// The email and display name of an account made from a Google identity: the email as
/// signup keys it, and Google's `name` (made to fit our rules), else the email's local part.
pub fn google_profile(email: &str, name: Option<&str>) -> Result<(String, String), Invalid> {
    let email = normalize_email(email.to_owned()).map_err(|message| {
        Invalid(vec![FieldError::new("credential", format!("the Google account's email {message}"))])
    })?;
    let local_part = email.split('@').next().unwrap_or_default();
    let fit = |candidate: &str| {
        let visible: String = candidate.chars().filter(|&c| !hidden_in_names(c) && !c.is_control()).collect();
        let trimmed: String = visible.trim().chars().take(*DISPLAY_NAME_CHARS.end()).collect();
        check_display_name(trimmed).ok()
    };
    let display_name = name.and_then(fit).or_else(|| fit(local_part)).unwrap_or_else(|| FALLBACK_DISPLAY_NAME.into());
    Ok((email, display_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: Vec<FieldError>) -> Vec<&'static str> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_google_profile_fits_our_rules() {
        let (email, name) = google_profile("Ada@Example.com", Some("  Ada\u{202E} Lovelace ")).unwrap();
        assert_eq!((email.as_str(), name.as_str()), ("ada@example.com", "Ada Lovelace"));
        let long = "n".repeat(80);
        assert_eq!(google_profile("a@b.co", Some(&long)).unwrap().1.chars().count(), *DISPLAY_NAME_CHARS.end());
        assert_eq!(google_profile("grace@example.com", Some(" \u{200B} ")).unwrap().1, "grace");
        assert_eq!(google_profile("grace@example.com", None).unwrap().1, "grace");
        assert!(google_profile("not-an-email", None).is_err());
    }

    #[test]
    fn a_google_credential_is_present_and_token_sized() {
        let credential =
            |value: Option<&str>| GoogleCredentialRequest { credential: value.map(str::to_owned) }.validate();
        assert_eq!(credential(Some("header.payload.signature")).unwrap().0, "header.payload.signature");
        for bad in [None, Some(""), Some(&*"x".repeat(GOOGLE_CREDENTIAL_MAX_BYTES + 1))] {
            let Invalid(details) = credential(bad).unwrap_err();
            assert_eq!(fields(details), ["credential"]);
        }
    }

    #[test]
    fn an_identity_is_keyed_by_provider_and_subject() {
        assert_eq!(Identity::google("123").key(), "google#123");
    }
}
