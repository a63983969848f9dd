//! Pagination cursors that need no key.
//!
//! A cursor is `base64url(scope "\n" post id)`: where the next page starts, and the listing
//! it belongs to. Nothing in it needs to be secret or signed: the position is a post id a
//! client may read anyway, and a cursor made up by hand can only start a listing where
//! paging could have reached. So no function keeps a key for cursors. Decoding is strict:
//! anything but the exact shape, the expected scope and a well-formed post id is
//! `invalid_cursor`, and never reaches the store.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ApiError;
use crate::model::is_id;

/// Longer cursors are refused before any decoding.
const MAX_CURSOR_CHARS: usize = 512;

/// The cursor that continues listing `scope` after the post `position`.
pub fn encode(scope: &str, position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{scope}\n{position}"))
}

/// The post id a cursor of listing `scope` continues after.
pub fn decode(scope: &str, cursor: &str) -> Result<String, ApiError> {
    if cursor.len() > MAX_CURSOR_CHARS {
        return Err(ApiError::InvalidCursor);
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| ApiError::InvalidCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| ApiError::InvalidCursor)?;
    match text.split_once('\n') {
        Some((found, position)) if found == scope && is_id(position) => Ok(position.to_owned()),
        _ => Err(ApiError::InvalidCursor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POST: &str = "01J0000000000000000000000A";

    #[test]
    fn round_trips_and_is_url_safe() {
        let cursor = encode("posts", POST);
        assert!(cursor.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)), "{cursor}");
        assert_eq!(decode("posts", &cursor).unwrap(), POST);
    }

    #[test]
    fn anything_but_a_cursor_of_this_listing_is_refused() {
        let raw = |text: &str| URL_SAFE_NO_PAD.encode(text);
        let too_long = "a".repeat(MAX_CURSOR_CHARS + 1);
        for bad in [
            encode("posts-by:01ADA", POST),
            raw(&format!("posts\n{POST}\n")),
            raw(&format!("posts\n{}", POST.to_lowercase())),
            raw("posts\nnot-an-id"),
            raw("posts\n"),
            raw(POST),
            URL_SAFE_NO_PAD.encode([0xff, 0xfe]),
            format!("{}=", encode("posts", POST)),
            too_long,
            "".into(),
            "not a cursor".into(),
        ] {
            assert!(matches!(decode("posts", &bad), Err(ApiError::InvalidCursor)), "{bad}");
        }
    }
}
