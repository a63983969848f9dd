//! Refresh tokens: opaque, 256 bits from the operating system's CSPRNG, kept by the store
//! only as their SHA-256. A token belongs to a family (every token rotated from one login);
//! the store rotates, detects reuse and revokes families.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::model::Secret;

/// Random bytes in a refresh token: 256 bits.
pub const REFRESH_TOKEN_BYTES: usize = 32;

/// A refresh token that was just made: the token for the client, its hash for the store.
#[derive(Debug)]
pub struct NewRefreshToken {
    pub token: Secret,
    pub hash: String,
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomnessError(String);

impl RandomnessError {
    pub(crate) fn new(reason: String) -> Self {
        Self(reason)
    }
}

impl NewRefreshToken {
    pub fn generate(expires_at: OffsetDateTime) -> Result<Self, RandomnessError> {
        let mut bytes = [0u8; REFRESH_TOKEN_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| RandomnessError(e.to_string()))?;
        let token = URL_SAFE_NO_PAD.encode(bytes);
        Ok(Self { hash: refresh_token_hash(&token), token: Secret(token), expires_at })
    }
}

/// What the store keeps of a refresh token. A plain SHA-256 suffices: the token has 256
/// bits of entropy, so there is nothing to guess, and a leaked table reveals no token.
pub fn refresh_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits_and_only_their_hash_is_kept() {
        let at = crate::model::now();
        let first = NewRefreshToken::generate(at).unwrap();
        let second = NewRefreshToken::generate(at).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(&first.token.0).unwrap().len(), REFRESH_TOKEN_BYTES);
        assert_ne!(first.token, second.token);
        assert_eq!(first.hash, refresh_token_hash(&first.token.0));
        assert!(!first.hash.contains(&first.token.0) && first.hash != first.token.0);
        assert!(!format!("{first:?}").contains(&first.token.0), "Debug hides the token");
    }
}
