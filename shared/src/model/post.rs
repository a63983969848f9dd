//! Posts: the post and its author, the create and edit bodies with their rules, and the
//! versions a write may change.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::new_id;
use super::validation::{FieldError, Invalid, TextLength, check, check_text};

pub const TITLE_CHARS: std::ops::RangeInclusive<usize> = 1..=200;
/// A body's size in UTF-8 bytes: bytes, not characters, because a listing page must fit
/// Lambda's response limit whatever the script (see [`PAGE_CONTENT_BYTES`]).
pub const POST_BODY_BYTES: std::ops::RangeInclusive<usize> = 1..=32 * 1024;
/// At most this much post content ([`Post::content_bytes`]) goes into one listing page:
/// a page of large posts holds fewer than its `limit`, and its `next` cursor goes on.
/// Kept well under DynamoDB's 1 MB per query read and Lambda's 6 MB response, even with
/// the worst JSON escaping (`shared/tests/page_size.rs` builds that page).
pub const PAGE_CONTENT_BYTES: usize = 512 * 1024;
/// How long a create-post idempotency key is remembered.
pub const IDEMPOTENCY_KEY_TTL: time::Duration = time::Duration::hours(24);
/// A new post's version; every edit adds one.
pub const FIRST_VERSION: u64 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub id: String,
    pub title: String,
    pub body: String,
    pub author: Author,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the post was last edited; `None` until its first edit.
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
    /// [`FIRST_VERSION`] when created, one more with every edit: the post's `ETag`.
    pub version: u64,
}

impl Post {
    /// A new post at its first version, its id made from `created_at`.
    pub fn new(title: String, body: String, author: Author, created_at: OffsetDateTime) -> Self {
        Self { id: new_id(created_at), title, body, author, created_at, updated_at: None, version: FIRST_VERSION }
    }

    /// The bytes of the post's free-text fields: what a listing page's size is counted in.
    pub fn content_bytes(&self) -> usize {
        self.title.len() + self.body.len() + self.author.display_name.len()
    }

    /// What an idempotency key remembers of the request that created the post: a hash of
    /// its title and body (length-prefixed, so no two pairs share an input).
    pub fn content_fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        for field in [&self.title, &self.body] {
            hash.update((field.len() as u64).to_be_bytes());
            hash.update(field.as_bytes());
        }
        URL_SAFE_NO_PAD.encode(hash.finalize())
    }

    /// The post's strong entity tag: its version, quoted.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

#[derive(Debug, Deserialize)]
pub struct CreatePostRequest {
    pub title: Option<String>,
    pub body: Option<String>,
}

/// `PATCH /posts/{id}` body: the fields to change (a `null` is the same as leaving one out).
#[derive(Debug, Deserialize)]
pub struct UpdatePostRequest {
    pub title: Option<String>,
    pub body: Option<String>,
}

/// A validated post.
#[derive(Debug)]
pub struct NewPost {
    pub title: String,
    pub body: String,
}

/// A validated edit: at least one field is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostEdit {
    pub title: Option<String>,
    pub body: Option<String>,
}

/// Which versions of a post a write may change: what `If-Match` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`, or `If-Match: *`: whichever version is current.
    Any,
    /// Only one of these versions (none, when no tag could match).
    OneOf(Vec<u64>),
}

impl Precondition {
    pub fn allows(&self, version: u64) -> bool {
        match self {
            Self::Any => true,
            Self::OneOf(versions) => versions.contains(&version),
        }
    }
}

impl CreatePostRequest {
    pub fn validate(self) -> Result<NewPost, Invalid> {
        let mut errors = Vec::new();
        let title = check(&mut errors, "title", self.title, check_title);
        let body = check(&mut errors, "body", self.body, check_body);
        match (title, body) {
            (Some(title), Some(body)) if errors.is_empty() => Ok(NewPost { title, body }),
            _ => Err(Invalid(errors)),
        }
    }
}

impl UpdatePostRequest {
    /// The same rules as a new post, for each field sent; at least one must be.
    pub fn validate(self) -> Result<PostEdit, Invalid> {
        if self.title.is_none() && self.body.is_none() {
            return Err(Invalid(vec![FieldError::new("title", "title or body is required")]));
        }
        let mut errors = Vec::new();
        let title = self.title.and_then(|v| check_title(v).map_err(|m| errors.push(FieldError::new("title", m))).ok());
        let body = self.body.and_then(|v| check_body(v).map_err(|m| errors.push(FieldError::new("body", m))).ok());
        if errors.is_empty() { Ok(PostEdit { title, body }) } else { Err(Invalid(errors)) }
    }
}

/// The legacy bidirectional embeddings and overrides (LRE, RLE, PDF, LRO, RLO): they make
/// a title read differently from what it is. Isolates, marks and joiners stay allowed.
const BIDI_EMBEDDINGS_AND_OVERRIDES: std::ops::RangeInclusive<char> = '\u{202A}'..='\u{202E}';

fn check_title(title: String) -> Result<String, String> {
    let title = check_text(title.trim(), TextLength::Chars(TITLE_CHARS), false)?;
    if title.chars().any(|c| BIDI_EMBEDDINGS_AND_OVERRIDES.contains(&c)) {
        return Err("must not contain bidirectional embedding or override characters (U+202A to U+202E)".to_owned());
    }
    Ok(title)
}

fn check_body(body: String) -> Result<String, String> {
    check_text(&body, TextLength::Bytes(POST_BODY_BYTES), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::now;

    #[test]
    fn post_rules() {
        let post = |title: &str, body: &str| {
            CreatePostRequest { title: Some(title.into()), body: Some(body.into()) }.validate()
        };
        let ok = post("  Hello  ", "line one\nline two\t").unwrap();
        assert_eq!((ok.title.as_str(), ok.body.as_str()), ("Hello", "line one\nline two\t"));
        assert!(post(&"t".repeat(200), &"b".repeat(32_768)).is_ok());
        // The body's limit is in bytes: 10,923 three-byte characters are 32,769 bytes.
        assert!(post("t", &"€".repeat(10_922)).is_ok());
        for (title, body) in [
            ("  ", "b"),
            (&"t".repeat(201) as &str, "b"),
            ("t", ""),
            ("t", &"b".repeat(32_769)),
            ("t", &"€".repeat(10_923)),
            ("t", "nul\0"),
        ] {
            assert!(post(title, body).is_err(), "{title:?} {}", body.len());
        }
    }

    #[test]
    fn titles_refuse_bidi_overrides_but_keep_isolates_marks_and_joiners() {
        let title = |title: &str| CreatePostRequest { title: Some(title.into()), body: Some("b".into()) }.validate();
        for spoof in ["invoice\u{202E}fdp.exe", "\u{202A}a", "a\u{202B}b\u{202C}", "\u{202D}x"] {
            let Invalid(details) = title(spoof).unwrap_err();
            assert_eq!(details[0].field, "title", "{spoof:?}");
        }
        for fine in ["\u{2067}שלום\u{2069} world", "\u{200F}مرحبا", "👩\u{200D}💻 dev", "Zoë"] {
            assert!(title(fine).is_ok(), "{fine:?}");
        }
        let edit = UpdatePostRequest { title: Some("a\u{202E}b".into()), body: None }.validate();
        assert!(edit.is_err(), "an edit obeys the same rule");
    }

    #[test]
    fn edit_rules_are_the_create_rules_for_each_field_sent() {
        let edit = |title: Option<&str>, body: Option<&str>| {
            UpdatePostRequest { title: title.map(Into::into), body: body.map(Into::into) }.validate()
        };
        assert_eq!(edit(Some("  New  "), None).unwrap(), PostEdit { title: Some("New".into()), body: None });
        assert_eq!(edit(None, Some("b\n")).unwrap(), PostEdit { title: None, body: Some("b\n".into()) });
        let Invalid(details) = edit(None, None).unwrap_err();
        assert_eq!(details.iter().map(|e| e.field).collect::<Vec<_>>(), ["title"]);
        let Invalid(details) = edit(Some(" "), Some(&"b".repeat(POST_BODY_BYTES.end() + 1))).unwrap_err();
        assert_eq!(details.iter().map(|e| e.field).collect::<Vec<_>>(), ["title", "body"]);
        assert!(edit(Some(&"t".repeat(201)), None).is_err());
        assert!(edit(None, Some("nul\0")).is_err());
    }

    #[test]
    fn etag_is_the_quoted_version() {
        let post = Post {
            version: 4,
            ..Post::new("t".into(), "b".into(), Author { id: "a".into(), display_name: "A".into() }, now())
        };
        assert_eq!(post.etag(), "\"4\"");
    }
}
