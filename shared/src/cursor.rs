//! Opaque, tamper-evident pagination cursors.
//!
//! A cursor is `base64url(position) "." base64url(HMAC-SHA256(key, scope || 0 || position))`.
//! The scope names the listing it belongs to, so a cursor from one listing is refused by
//! another. Anything that does not verify is `invalid_cursor`, and never reaches the store.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::ApiError;

type HmacSha256 = Hmac<Sha256>;

/// Longer cursors are refused before any decoding.
const MAX_CURSOR_CHARS: usize = 512;

#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl CursorCodec {
    /// Derives the cursor key from the service secret, so the two are never the same key.
    pub fn new(secret: &[u8]) -> Self {
        let key = Self::mac_with(secret, b"blog-api pagination cursor v1").finalize().into_bytes().to_vec();
        Self { key }
    }

    pub fn encode(&self, scope: &str, position: &str) -> String {
        let tag = self.tag(scope, position).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(position), URL_SAFE_NO_PAD.encode(tag))
    }

    pub fn decode(&self, scope: &str, cursor: &str) -> Result<String, ApiError> {
        if cursor.len() > MAX_CURSOR_CHARS {
            return Err(ApiError::InvalidCursor);
        }
        let (position, tag) = cursor.split_once('.').ok_or(ApiError::InvalidCursor)?;
        let position = URL_SAFE_NO_PAD.decode(position).map_err(|_| ApiError::InvalidCursor)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| ApiError::InvalidCursor)?;
        let position = String::from_utf8(position).map_err(|_| ApiError::InvalidCursor)?;
        // verify_slice compares in constant time.
        self.tag(scope, &position).verify_slice(&tag).map_err(|_| ApiError::InvalidCursor)?;
        Ok(position)
    }

    fn tag(&self, scope: &str, position: &str) -> HmacSha256 {
        let mut mac = Self::mac_with(&self.key, scope.as_bytes());
        mac.update(&[0]);
        mac.update(position.as_bytes());
        mac
    }

    fn mac_with(key: &[u8], data: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        mac.update(data);
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> CursorCodec {
        CursorCodec::new(b"test-secret-that-is-at-least-32-bytes-long")
    }

    #[test]
    fn round_trips_and_is_url_safe() {
        let cursor = codec().encode("posts", "01J0000000000000000000000A");
        assert!(cursor.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "{cursor}");
        assert_eq!(codec().decode("posts", &cursor).unwrap(), "01J0000000000000000000000A");
    }

    #[test]
    fn anything_not_issued_by_us_is_refused() {
        let cursor = codec().encode("posts", "01J0000000000000000000000A");
        let (_, tag) = cursor.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("01J0000000000000000000000B"));
        let other_key =
            CursorCodec::new(b"another-secret-that-is-32-bytes-or-more").encode("posts", "01J0000000000000000000000A");
        let mut flipped = cursor.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let too_long = "a".repeat(MAX_CURSOR_CHARS + 1);
        for bad in [forged, other_key, flipped, too_long, "".into(), "not-a-cursor".into(), ".".into(), "!!.!!".into()]
        {
            assert!(matches!(codec().decode("posts", &bad), Err(ApiError::InvalidCursor)), "{bad}");
        }
        assert!(codec().decode("posts-by-author", &cursor).is_err(), "scope is bound");
    }
}
