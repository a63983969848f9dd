//! Device tokens: every successful login (and signup) hands the client one; a later login
//! that sends it back is from a trusted device (OWASP's device cookie, for a bearer API).
//! Made and kept like refresh tokens: 256 random bits, stored only as their SHA-256.
use time::OffsetDateTime;

use super::refresh::{NewRefreshToken, RandomnessError, refresh_token_hash};
use crate::model::{Secret, TrustedDevice};

/// How long a device stays trusted after the login that trusted it.
pub const DEVICE_TOKEN_TTL: time::Duration = time::Duration::days(365);

/// A device token that was just made: the token for the client, the device for the store.
#[derive(Debug)]
pub struct NewDeviceToken {
    pub token: Secret,
    pub device: TrustedDevice,
}

impl NewDeviceToken {
    pub fn generate(user_id: &str, at: OffsetDateTime) -> Result<Self, RandomnessError> {
        let random = NewRefreshToken::generate(at + DEVICE_TOKEN_TTL)?;
        let device =
            TrustedDevice { token_hash: random.hash, user_id: user_id.to_owned(), expires_at: random.expires_at };
        Ok(Self { token: random.token, device })
    }
}

/// What the store keeps of a device token, and looks it up by.
pub fn device_token_hash(token: &str) -> String {
    refresh_token_hash(token)
}
