//! Accounts: the user, their stored credentials, and the signup and login bodies with
//! their rules.
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Secret;
use super::unicode::{email_key, hidden_in_names, nfkc};
use super::validation::{FieldError, Invalid, TextLength, check, check_only, check_text};

pub const EMAIL_MAX_CHARS: usize = 254;
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;
pub const DISPLAY_NAME_CHARS: std::ops::RangeInclusive<usize> = 1..=50;

/// A registered user as clients see it: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub display_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// How the account signs in; records made before Google sign-in had passwords alone.
    #[serde(default = "password_only")]
    pub sign_in_methods: BTreeSet<SignInMethod>,
    /// Whether the account has shown it receives mail at `email` (a verification link, or
    /// Google's word for a Google account). Records made before verification existed: no.
    #[serde(default)]
    pub email_verified: bool,
}

/// How an account signs in. Its name is the same in the API and in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    Password,
    Google,
}

impl SignInMethod {
    pub const ALL: [Self; 2] = [Self::Password, Self::Google];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Google => "google",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|method| method.as_str() == name)
    }
}

/// An account's methods before any but passwords existed.
pub fn password_only() -> BTreeSet<SignInMethod> {
    BTreeSet::from([SignInMethod::Password])
}

/// A user together with their password hash: what signup stores and login reads. An
/// account made with Google has no password (`None`), so no password signs in to it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: User,
    pub password_hash: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).field("password_hash", &"<redacted>").finish()
    }
}

/// `POST /signup` body. Fields are optional here so that a missing one is a 422 naming the
/// field, while a wrong JSON type is a 400.
#[derive(Deserialize)]
pub struct SignupRequest {
    pub email: Option<String>,
    pub password: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginRequest {
    pub email: Option<String>,
    pub password: Option<String>,
    /// The `device_token` an earlier login returned: a login from a trusted device.
    pub device_token: Option<String>,
}

/// `PATCH /me` body: what the account changes of itself.
#[derive(Deserialize)]
pub struct ProfileChange {
    pub display_name: Option<String>,
}

impl ProfileChange {
    /// The display name, by signup's rules.
    pub fn validate(self) -> Result<String, Invalid> {
        check_only("display_name", self.display_name, check_display_name)
    }
}

/// `POST /email/verify` body: the token a mailed link carries.
#[derive(Deserialize)]
pub struct MailedTokenRequest {
    pub token: Option<String>,
}

impl MailedTokenRequest {
    /// Only presence is checked: whether it is a live token is the store's to say.
    pub fn validate(self) -> Result<Secret, Invalid> {
        Secret::required("token", self.token)
    }
}

/// `DELETE /me` body: the account's password, or for an account that signs in with
/// Google, a fresh Google ID token (`credential`) of its Google account.
#[derive(Deserialize)]
pub struct DeleteAccountRequest {
    pub password: Option<String>,
    pub credential: Option<String>,
}

/// How the caller proves, again, that the account is theirs.
pub enum Reauthentication {
    /// The password as a login tries it (NFKC, and as sent when that differs).
    Password {
        password: Secret,
        as_sent: Option<Secret>,
    },
    Google(Secret),
}

impl DeleteAccountRequest {
    pub fn validate(self) -> Result<Reauthentication, Invalid> {
        match (self.password, self.credential) {
            (Some(password), None) => {
                let password = check_only("password", Some(password), Ok)?;
                let (password, as_sent) = as_tried(password);
                Ok(Reauthentication::Password { password, as_sent })
            }
            (None, Some(credential)) => {
                let request = super::GoogleCredentialRequest { credential: Some(credential) };
                request.validate().map(Reauthentication::Google)
            }
            (None, None) => Err(Invalid(vec![FieldError::new(
                "password",
                "is required (or, for an account that signs in with Google, `credential`)",
            )])),
            (Some(_), Some(_)) => {
                Err(Invalid(vec![FieldError::new("credential", "send a password or a credential, not both")]))
            }
        }
    }
}

/// `POST /password/forgot` body.
#[derive(Deserialize)]
pub struct ForgotPasswordRequest {
    pub email: Option<String>,
}

impl ForgotPasswordRequest {
    /// The email as signup normalises it (a malformed one cannot be an account's).
    pub fn validate(self) -> Result<String, Invalid> {
        check_only("email", self.email, normalize_email)
    }
}

/// `POST /password/reset` body.
#[derive(Deserialize)]
pub struct PasswordResetRequest {
    pub token: Option<String>,
    pub new_password: Option<String>,
}

/// A validated reset: the mailed token, and the new password by signup's rules.
pub struct PasswordReset {
    pub token: Secret,
    pub new_password: Secret,
}

impl PasswordResetRequest {
    pub fn validate(self) -> Result<PasswordReset, Invalid> {
        let token = Secret::required("token", self.token);
        let mut errors = token.as_ref().err().map(|Invalid(errors)| errors.clone()).unwrap_or_default();
        let new_password = check(&mut errors, "new_password", self.new_password, check_password);
        match (token, new_password) {
            (Ok(token), Some(new_password)) if errors.is_empty() => {
                Ok(PasswordReset { token, new_password: Secret(new_password) })
            }
            _ => Err(Invalid(errors)),
        }
    }
}

/// `POST /me/password` body.
#[derive(Deserialize)]
pub struct ChangePasswordRequest {
    pub current_password: Option<String>,
    pub new_password: Option<String>,
}

/// A validated password change: the current password as a login tries it, and the new one
/// by signup's rules.
pub struct PasswordChange {
    pub current: Secret,
    pub current_as_sent: Option<Secret>,
    pub new: Secret,
}

/// A validated signup.
#[derive(Debug)]
pub struct NewAccount {
    pub email: String,
    pub password: Secret,
    pub display_name: String,
}

/// A validated login attempt: the email as a key, the password in NFKC as signup hashes
/// it, and the password as sent when that differs, for accounts whose hash predates NFKC.
#[derive(Debug)]
pub struct LoginAttempt {
    pub email: String,
    pub password: Secret,
    pub password_as_sent: Option<Secret>,
    /// As sent; whether it is a trusted device of this account is the store's to say.
    pub device_token: Option<Secret>,
}

impl SignupRequest {
    pub fn validate(self) -> Result<NewAccount, Invalid> {
        let mut errors = Vec::new();
        let email = check(&mut errors, "email", self.email, normalize_email);
        let password = check(&mut errors, "password", self.password, check_password);
        let display_name = check(&mut errors, "display_name", self.display_name, check_display_name);
        match (email, password, display_name) {
            (Some(email), Some(password), Some(display_name)) if errors.is_empty() => {
                Ok(NewAccount { email, password: Secret(password), display_name })
            }
            _ => Err(Invalid(errors)),
        }
    }
}

impl LoginRequest {
    /// Presence is checked, and the email's length, which no account can exceed (and
    /// which keeps a key within the store's limits); any other mistake is simply wrong
    /// credentials, and a password rule must never lock out an account made under older
    /// rules.
    pub fn validate(self) -> Result<LoginAttempt, Invalid> {
        let mut errors = Vec::new();
        let email = check(&mut errors, "email", self.email, |v| within_email_length(email_key(v.trim())));
        let password = check(&mut errors, "password", self.password, Ok);
        let device_token = self.device_token.filter(|token| {
            let empty = token.is_empty();
            if empty {
                errors.push(FieldError::new("device_token", "must not be empty (leave it out instead)"));
            }
            !empty
        });
        match (email, password) {
            (Some(email), Some(as_sent)) if errors.is_empty() => {
                let (password, password_as_sent) = as_tried(as_sent);
                let device_token = device_token.map(Secret);
                Ok(LoginAttempt { email, password, password_as_sent, device_token })
            }
            _ => Err(Invalid(errors)),
        }
    }
}

impl ChangePasswordRequest {
    /// The current password is only required, as at login; the new one follows signup's rules.
    pub fn validate(self) -> Result<PasswordChange, Invalid> {
        let mut errors = Vec::new();
        let current = check(&mut errors, "current_password", self.current_password, Ok);
        let new = check(&mut errors, "new_password", self.new_password, check_password);
        match (current, new) {
            (Some(current), Some(new)) if errors.is_empty() => {
                let (current, current_as_sent) = as_tried(current);
                Ok(PasswordChange { current, current_as_sent, new: Secret(new) })
            }
            _ => Err(Invalid(errors)),
        }
    }
}

/// A password as it is tried: NFKC-normalised, and as sent when that differs (hashes made
/// before passwords were normalised).
fn as_tried(as_sent: String) -> (Secret, Option<Secret>) {
    let password = nfkc(&as_sent);
    let as_sent = (password != as_sent).then_some(Secret(as_sent));
    (Secret(password), as_sent)
}

fn within_email_length(email: String) -> Result<String, String> {
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err(format!("must be at most {EMAIL_MAX_CHARS} characters"));
    }
    Ok(email)
}

pub(super) fn normalize_email(raw: String) -> Result<String, String> {
    let email = within_email_length(email_key(raw.trim()))?;
    let invalid = || Err("must be a valid email address".to_owned());
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid();
    }
    let Some((local, domain)) = email.split_once('@') else { return invalid() };
    let labels_ok = domain.split('.').all(|label| !label.is_empty());
    if local.is_empty() || domain.contains('@') || !domain.contains('.') || !labels_ok {
        return invalid();
    }
    Ok(email)
}

/// A display name: the text rules, and no character that hides or reorders text.
pub(super) fn check_display_name(name: String) -> Result<String, String> {
    let name = check_text(name.trim(), TextLength::Chars(DISPLAY_NAME_CHARS), false)?;
    match name.chars().find(|&c| hidden_in_names(c)) {
        Some(c) => Err(format!(
            "must not contain invisible or text-reordering characters (U+{:04X}); joiners, non-joiners and the LRM/RLM marks are allowed",
            u32::from(c)
        )),
        None => Ok(name),
    }
}

/// A new password, in NFKC (what is hashed), within the length and not a common one.
fn check_password(password: String) -> Result<String, String> {
    let password = nfkc(&password);
    let chars = password.chars().count();
    if !PASSWORD_CHARS.contains(&chars) {
        Err(format!("must be {} to {} characters", PASSWORD_CHARS.start(), PASSWORD_CHARS.end()))
    } else if super::common_passwords::is_common(&password) {
        Err("is one of the most common passwords; choose another".to_owned())
    } else {
        Ok(password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldError;

    fn signup(email: &str, password: &str, name: &str) -> Result<NewAccount, Vec<FieldError>> {
        SignupRequest { email: Some(email.into()), password: Some(password.into()), display_name: Some(name.into()) }
            .validate()
            .map_err(|Invalid(details)| details)
    }

    fn fields(errors: Vec<FieldError>) -> Vec<&'static str> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn signup_normalises_email_and_name_and_never_trims_the_password() {
        let account = signup("  Ada@Example.COM ", " pass word ", "  Ada  ").unwrap();
        assert_eq!(account.email, "ada@example.com");
        assert_eq!(account.display_name, "Ada");
        assert_eq!(account.password.0, " pass word ");
        assert!(!format!("{account:?}").contains("pass word"));
    }

    #[test]
    fn invalid_emails_are_rejected() {
        let long = format!("{}@example.com", "a".repeat(243));
        for email in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a@b@example.com",
            "ada@.com",
            "ada@example.",
            "a da@example.com",
            "ada\0@example.com",
            long.as_str(),
        ] {
            assert_eq!(fields(signup(email, "a-fine-passphrase", "Ada").unwrap_err()), ["email"], "{email:?}");
        }
        let longest = format!("{}@example.com", "a".repeat(242));
        assert_eq!(longest.chars().count(), EMAIL_MAX_CHARS);
        assert!(signup(&longest, "a-fine-passphrase", "Ada").is_ok());
    }

    #[test]
    fn password_length_is_counted_in_characters_at_the_bounds() {
        assert!(signup("a@b.co", &"x".repeat(7), "Ada").is_err());
        assert!(signup("a@b.co", "abcdefgX", "Ada").is_ok());
        assert!(signup("a@b.co", &"é".repeat(128), "Ada").is_ok());
        assert!(signup("a@b.co", &"x".repeat(129), "Ada").is_err());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in ["password123", "PASSWORD123", "Qwertyuiop", "iloveyou"] {
            let details = signup("a@b.co", common, "Ada").unwrap_err();
            assert_eq!(details.len(), 1);
            assert_eq!((details[0].field, details[0].message.contains("common")), ("password", true), "{common}");
        }
    }

    #[test]
    fn display_name_bounds_and_control_characters() {
        assert!(signup("a@b.co", "a-fine-passphrase", &"n".repeat(50)).is_ok());
        assert!(signup("a@b.co", "a-fine-passphrase", "🦀🦀").is_ok());
        for name in ["   ", "", &"n".repeat(51), "Ada\u{0}", "A\nda"] {
            assert_eq!(fields(signup("a@b.co", "a-fine-passphrase", name).unwrap_err()), ["display_name"], "{name:?}");
        }
    }

    #[test]
    fn sign_in_methods_have_one_name_in_the_api_and_the_store() {
        for method in SignInMethod::ALL {
            assert_eq!(serde_json::to_value(method).unwrap(), method.as_str());
            assert_eq!(SignInMethod::from_name(method.as_str()), Some(method));
        }
        assert_eq!(SignInMethod::from_name("github"), None);
    }

    #[test]
    fn every_missing_field_is_named() {
        let err = SignupRequest { email: None, password: None, display_name: None }.validate().unwrap_err();
        let Invalid(details) = err;
        assert_eq!(fields(details), ["email", "password", "display_name"]);
    }
}
