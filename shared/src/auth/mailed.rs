//! Tokens sent in mailed links (email verification, password reset): single-use, made and
//! kept like refresh tokens (256 random bits, stored only as their SHA-256), each for one
//! purpose and account, expiring soon.
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::refresh::{NewRefreshToken, RandomnessError, refresh_token_hash};
use crate::model::Secret;

/// What a mailed token may be used for, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
}

impl TokenPurpose {
    pub const ALL: [Self; 2] = [Self::VerifyEmail, Self::ResetPassword];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|purpose| purpose.as_str() == name)
    }

    /// How long a token of this purpose stays usable after it is mailed.
    pub fn lifetime(self) -> time::Duration {
        match self {
            Self::VerifyEmail => time::Duration::hours(24),
            // Short: whoever reads the mailbox in that window can take the account.
            Self::ResetPassword => time::Duration::minutes(30),
        }
    }
}

/// What the store keeps of a mailed token: its hash, and what it was made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailedToken {
    pub hash: String,
    pub purpose: TokenPurpose,
    pub user_id: String,
    /// The address it was mailed to: the token proves that address, so it is void once the
    /// account's email is another.
    pub email: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl MailedToken {
    /// Whether it may be used for `purpose` at `at`.
    pub fn usable_for(&self, purpose: TokenPurpose, at: OffsetDateTime) -> bool {
        self.purpose == purpose && self.expires_at > at
    }
}

/// A token that was just made: the token for the link, the record for the store.
#[derive(Debug)]
pub struct NewMailedToken {
    pub token: Secret,
    pub stored: MailedToken,
}

impl NewMailedToken {
    pub fn generate(
        purpose: TokenPurpose,
        user_id: &str,
        email: &str,
        at: OffsetDateTime,
    ) -> Result<Self, RandomnessError> {
        // Whole seconds, as the store keeps it (DynamoDB's TTL is in epoch seconds).
        let expires_at = at + purpose.lifetime();
        let random = NewRefreshToken::generate(expires_at.replace_nanosecond(0).unwrap_or(expires_at))?;
        let stored = MailedToken {
            hash: random.hash,
            purpose,
            user_id: user_id.to_owned(),
            email: email.to_owned(),
            expires_at: random.expires_at,
        };
        Ok(Self { token: random.token, stored })
    }
}

/// What the store keeps of a mailed token, and looks it up by.
pub fn mailed_token_hash(token: &str) -> String {
    refresh_token_hash(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailed_token_is_random_kept_hashed_and_expires_with_its_purpose() {
        let at = crate::model::now();
        let new = NewMailedToken::generate(TokenPurpose::VerifyEmail, "01U", "ada@example.com", at).unwrap();
        let again = NewMailedToken::generate(TokenPurpose::VerifyEmail, "01U", "ada@example.com", at).unwrap();
        assert_ne!(new.token, again.token);
        assert_eq!(new.stored.hash, mailed_token_hash(&new.token.0));
        assert_ne!(new.stored.hash, new.token.0);
        assert_eq!(new.stored.expires_at, (at + time::Duration::hours(24)).replace_nanosecond(0).unwrap());
        assert!(!format!("{new:?}").contains(&new.token.0), "Debug hides the token");
        for purpose in TokenPurpose::ALL {
            assert_eq!(TokenPurpose::from_name(purpose.as_str()), Some(purpose));
            assert_eq!(serde_json::to_value(purpose).unwrap(), purpose.as_str());
        }
    }
}
