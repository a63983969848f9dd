//! Sessions: whose session a refresh token continues, and the body that presents one.
use serde::{Deserialize, Serialize};

use super::Secret;
use super::validation::{FieldError, Invalid};

/// `POST /token/refresh` and `POST /logout` body.
#[derive(Deserialize)]
pub struct RefreshTokenRequest {
    pub refresh_token: Option<String>,
}

impl RefreshTokenRequest {
    /// Only presence is checked: any other string is simply not a token we issued.
    pub fn validate(self) -> Result<Secret, Invalid> {
        match self.refresh_token {
            Some(token) if !token.is_empty() => Ok(Secret(token)),
            Some(_) => Err(Invalid(vec![FieldError::new("refresh_token", "must not be empty")])),
            None => Err(Invalid(vec![FieldError::new("refresh_token", "is required")])),
        }
    }
}

/// Whose session a refresh token continues: what a new access token is issued for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub user_id: String,
    pub display_name: String,
}

/// A device a successful login trusted: the client holds the token, the store only its
/// hash. Presenting it exempts a login to `user_id`'s account from the address and
/// account limits (`auth::throttle`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedDevice {
    pub token_hash: String,
    pub user_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}
