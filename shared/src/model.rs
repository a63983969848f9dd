//! Domain models, the request bodies they are made from, and every validation rule and
//! limit of the API (each written once, here).
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{ApiError, FieldError};

pub const EMAIL_MAX_CHARS: usize = 254;
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;
pub const DISPLAY_NAME_CHARS: std::ops::RangeInclusive<usize> = 1..=50;
pub const TITLE_CHARS: std::ops::RangeInclusive<usize> = 1..=200;
pub const POST_BODY_CHARS: std::ops::RangeInclusive<usize> = 1..=20_000;
pub const PAGE_LIMIT: std::ops::RangeInclusive<usize> = 1..=100;
pub const DEFAULT_PAGE_LIMIT: usize = 20;
pub const IDEMPOTENCY_KEY_CHARS: std::ops::RangeInclusive<usize> = 1..=128;
/// How long a create-post idempotency key is remembered.
pub const IDEMPOTENCY_KEY_TTL: time::Duration = time::Duration::hours(24);
/// At most this many entity tags in one `If-Match` header.
pub const MAX_IF_MATCH_TAGS: usize = 20;
/// A new post's version; every edit adds one.
pub const FIRST_VERSION: u64 = 1;

/// A registered user as clients see it: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub display_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A user together with their password hash: what signup stores and login reads.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).field("password_hash", &"<redacted>").finish()
    }
}

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

    /// The post's strong entity tag: its version, quoted.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// The current time in UTC at millisecond precision (what the store keeps).
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.millisecond() as u32 * 1_000_000).unwrap_or(now)
}

/// A new, sortable id: ULIDs order by creation time, which the post listing relies on.
pub fn new_id(at: OffsetDateTime) -> String {
    ulid::Ulid::from_datetime(at.into()).to_string()
}

/// Whether `id` could be one of ours: an id as [`new_id`] writes it (26 characters of
/// upper-case Crockford base32). Anything else is answered 404 without reaching the store.
pub fn is_id(id: &str) -> bool {
    id.len() == 26 && ulid::Ulid::from_string(id).is_ok_and(|ulid| ulid.to_string() == id)
}

/// A password as sent, which never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

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
}

#[derive(Debug, Deserialize)]
pub struct CreatePostRequest {
    pub title: Option<String>,
    pub body: Option<String>,
}

/// `POST /token/refresh` and `POST /logout` body.
#[derive(Deserialize)]
pub struct RefreshTokenRequest {
    pub refresh_token: Option<String>,
}

impl RefreshTokenRequest {
    /// Only presence is checked: any other string is simply not a token we issued.
    pub fn validate(self) -> Result<Secret, ApiError> {
        match self.refresh_token {
            Some(token) if !token.is_empty() => Ok(Secret(token)),
            Some(_) => Err(ApiError::Validation(vec![FieldError::new("refresh_token", "must not be empty")])),
            None => Err(ApiError::Validation(vec![FieldError::new("refresh_token", "is required")])),
        }
    }
}

/// Whose session a refresh token continues: what a new access token is issued for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub user_id: String,
    pub display_name: String,
}

/// `PATCH /posts/{id}` body: the fields to change (a `null` is the same as leaving one out).
#[derive(Debug, Deserialize)]
pub struct UpdatePostRequest {
    pub title: Option<String>,
    pub body: Option<String>,
}

/// A validated signup.
#[derive(Debug)]
pub struct NewAccount {
    pub email: String,
    pub password: Secret,
    pub display_name: String,
}

/// A validated login attempt. The email is normalised; the password is as sent.
#[derive(Debug)]
pub struct LoginAttempt {
    pub email: String,
    pub password: Secret,
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

impl SignupRequest {
    pub fn validate(self) -> Result<NewAccount, ApiError> {
        let mut errors = Vec::new();
        let email = check(&mut errors, "email", self.email, normalize_email);
        let password = check(&mut errors, "password", self.password, check_password);
        let display_name =
            check(&mut errors, "display_name", self.display_name, |v| check_text(v.trim(), DISPLAY_NAME_CHARS, false));
        match (email, password, display_name) {
            (Some(email), Some(password), Some(display_name)) if errors.is_empty() => {
                Ok(NewAccount { email, password: Secret(password), display_name })
            }
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

impl LoginRequest {
    /// Only presence is checked: any other mistake is simply wrong credentials, and a
    /// password rule must never lock out an account made under older rules.
    pub fn validate(self) -> Result<LoginAttempt, ApiError> {
        let mut errors = Vec::new();
        let email = check(&mut errors, "email", self.email, |v| Ok(v.trim().to_lowercase()));
        let password = check(&mut errors, "password", self.password, Ok);
        match (email, password) {
            (Some(email), Some(password)) if errors.is_empty() => {
                Ok(LoginAttempt { email, password: Secret(password) })
            }
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

impl CreatePostRequest {
    pub fn validate(self) -> Result<NewPost, ApiError> {
        let mut errors = Vec::new();
        let title = check(&mut errors, "title", self.title, check_title);
        let body = check(&mut errors, "body", self.body, check_body);
        match (title, body) {
            (Some(title), Some(body)) if errors.is_empty() => Ok(NewPost { title, body }),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

impl UpdatePostRequest {
    /// The same rules as a new post, for each field sent; at least one must be.
    pub fn validate(self) -> Result<PostEdit, ApiError> {
        if self.title.is_none() && self.body.is_none() {
            return Err(ApiError::Validation(vec![FieldError::new("title", "title or body is required")]));
        }
        let mut errors = Vec::new();
        let title = self.title.and_then(|v| check_title(v).map_err(|m| errors.push(FieldError::new("title", m))).ok());
        let body = self.body.and_then(|v| check_body(v).map_err(|m| errors.push(FieldError::new("body", m))).ok());
        if errors.is_empty() { Ok(PostEdit { title, body }) } else { Err(ApiError::Validation(errors)) }
    }
}

/// Parses an `If-Match` header. Entity tags compare strongly (RFC 9110 §13.1.1): only
/// `"<version>"` can match, so a weak or foreign tag matches nothing.
pub fn precondition(raw: Option<&[u8]>) -> Result<Precondition, ApiError> {
    let Some(raw) = raw else { return Ok(Precondition::Any) };
    let too_many = || {
        ApiError::Validation(vec![FieldError::new(
            "If-Match",
            format!("must list at most {MAX_IF_MATCH_TAGS} entity tags"),
        )])
    };
    let text = String::from_utf8_lossy(raw);
    let tags: Vec<&str> = text.split(',').map(str::trim).filter(|tag| !tag.is_empty()).collect();
    if tags.len() > MAX_IF_MATCH_TAGS {
        return Err(too_many());
    }
    if tags.contains(&"*") {
        return Ok(Precondition::Any);
    }
    let mut versions: Vec<u64> = tags
        .iter()
        .filter_map(|tag| tag.strip_prefix('"')?.strip_suffix('"'))
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|digits| digits.parse().ok())
        .collect();
    versions.sort_unstable();
    versions.dedup();
    Ok(Precondition::OneOf(versions))
}

/// Validates an `Idempotency-Key` header value: 1 to 128 visible ASCII characters.
pub fn idempotency_key(raw: Option<&[u8]>) -> Result<Option<String>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let visible = raw.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
    match std::str::from_utf8(raw) {
        Ok(key) if visible && IDEMPOTENCY_KEY_CHARS.contains(&key.len()) => Ok(Some(key.to_owned())),
        _ => Err(ApiError::Validation(vec![FieldError::new(
            "Idempotency-Key",
            format!(
                "must be {} to {} visible ASCII characters",
                IDEMPOTENCY_KEY_CHARS.start(),
                IDEMPOTENCY_KEY_CHARS.end()
            ),
        )])),
    }
}

/// Parses the `limit` query parameter: absent means the default.
pub fn page_limit(raw: Option<&str>) -> Result<usize, ApiError> {
    let Some(raw) = raw else { return Ok(DEFAULT_PAGE_LIMIT) };
    match raw.parse::<usize>() {
        Ok(limit) if PAGE_LIMIT.contains(&limit) => Ok(limit),
        _ => Err(ApiError::Validation(vec![FieldError::new(
            "limit",
            format!("must be a whole number from {} to {}", PAGE_LIMIT.start(), PAGE_LIMIT.end()),
        )])),
    }
}

/// Applies `rule` to a present field, recording "is required" or the rule's message.
fn check(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    value: Option<String>,
    rule: impl FnOnce(String) -> Result<String, String>,
) -> Option<String> {
    let Some(value) = value else {
        errors.push(FieldError::new(field, "is required"));
        return None;
    };
    rule(value).map_err(|message| errors.push(FieldError::new(field, message))).ok()
}

fn normalize_email(raw: String) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err(format!("must be at most {EMAIL_MAX_CHARS} characters"));
    }
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

fn check_title(title: String) -> Result<String, String> {
    check_text(title.trim(), TITLE_CHARS, false)
}

fn check_body(body: String) -> Result<String, String> {
    check_text(&body, POST_BODY_CHARS, true)
}

fn check_password(password: String) -> Result<String, String> {
    let chars = password.chars().count();
    if !PASSWORD_CHARS.contains(&chars) {
        Err(format!("must be {} to {} characters", PASSWORD_CHARS.start(), PASSWORD_CHARS.end()))
    } else if crate::auth::common_passwords::is_common(&password) {
        Err("is one of the most common passwords; choose another".to_owned())
    } else {
        Ok(password)
    }
}

/// Length in characters within `range`, and no control characters (line breaks and tabs
/// allowed only where `multiline`).
fn check_text(value: &str, range: std::ops::RangeInclusive<usize>, multiline: bool) -> Result<String, String> {
    let chars = value.chars().count();
    if !range.contains(&chars) {
        return Err(if chars == 0 {
            "must not be empty".to_owned()
        } else {
            format!("must be {} to {} characters", range.start(), range.end())
        });
    }
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'));
    if !value.chars().all(allowed) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signup(email: &str, password: &str, name: &str) -> Result<NewAccount, Vec<FieldError>> {
        SignupRequest { email: Some(email.into()), password: Some(password.into()), display_name: Some(name.into()) }
            .validate()
            .map_err(|e| match e {
                ApiError::Validation(details) => details,
                other => panic!("unexpected {other:?}"),
            })
    }

    fn fields(errors: Vec<FieldError>) -> Vec<&'static str> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn signup_normalises_email_and_name_but_not_password() {
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
    fn every_missing_field_is_named() {
        let err = SignupRequest { email: None, password: None, display_name: None }.validate().unwrap_err();
        let ApiError::Validation(details) = err else { panic!() };
        assert_eq!(fields(details), ["email", "password", "display_name"]);
    }

    #[test]
    fn post_rules() {
        let post = |title: &str, body: &str| {
            CreatePostRequest { title: Some(title.into()), body: Some(body.into()) }.validate()
        };
        let ok = post("  Hello  ", "line one\nline two\t").unwrap();
        assert_eq!((ok.title.as_str(), ok.body.as_str()), ("Hello", "line one\nline two\t"));
        assert!(post(&"t".repeat(200), &"b".repeat(20_000)).is_ok());
        for (title, body) in
            [("  ", "b"), (&"t".repeat(201) as &str, "b"), ("t", ""), ("t", &"b".repeat(20_001)), ("t", "nul\0")]
        {
            assert!(post(title, body).is_err(), "{title:?} {}", body.len());
        }
    }

    #[test]
    fn edit_rules_are_the_create_rules_for_each_field_sent() {
        let edit = |title: Option<&str>, body: Option<&str>| {
            UpdatePostRequest { title: title.map(Into::into), body: body.map(Into::into) }.validate()
        };
        assert_eq!(edit(Some("  New  "), None).unwrap(), PostEdit { title: Some("New".into()), body: None });
        assert_eq!(edit(None, Some("b\n")).unwrap(), PostEdit { title: None, body: Some("b\n".into()) });
        let ApiError::Validation(details) = edit(None, None).unwrap_err() else { panic!() };
        assert_eq!(fields(details), ["title"]);
        let ApiError::Validation(details) = edit(Some(" "), Some(&"b".repeat(20_001))).unwrap_err() else { panic!() };
        assert_eq!(fields(details), ["title", "body"]);
        assert!(edit(Some(&"t".repeat(201)), None).is_err());
        assert!(edit(None, Some("nul\0")).is_err());
    }

    #[test]
    fn if_match_compares_strongly() {
        assert_eq!(precondition(None).unwrap(), Precondition::Any);
        assert_eq!(precondition(Some(b"*")).unwrap(), Precondition::Any);
        assert_eq!(precondition(Some(b"\"3\"")).unwrap(), Precondition::OneOf(vec![3]));
        assert_eq!(precondition(Some(b" \"7\" , \"2\",\"7\"")).unwrap(), Precondition::OneOf(vec![2, 7]));
        for never in
            [&b"W/\"3\""[..], b"3", b"\"\"", b"\"-1\"", b"\"3a\"", b"\"99999999999999999999999\"", b"", b"\xff"]
        {
            assert_eq!(precondition(Some(never)).unwrap(), Precondition::OneOf(vec![]), "{never:?}");
        }
        let at_limit = vec!["\"1\""; MAX_IF_MATCH_TAGS].join(",");
        assert!(precondition(Some(at_limit.as_bytes())).is_ok());
        let over = vec!["\"1\""; MAX_IF_MATCH_TAGS + 1].join(",");
        assert!(matches!(precondition(Some(over.as_bytes())), Err(ApiError::Validation(_))));
    }

    #[test]
    fn only_ids_we_write_are_ids() {
        let id = new_id(now());
        assert!(is_id(&id));
        for bad in [&id[1..], &id.to_lowercase(), "01KAQZ8Y4M1W2X3V5T6R7P8N9U", "", "../../etc", &"0".repeat(2000)] {
            assert!(!is_id(bad), "{bad}");
        }
    }

    #[test]
    fn etag_is_the_quoted_version() {
        let post = Post {
            version: 4,
            ..Post::new("t".into(), "b".into(), Author { id: "a".into(), display_name: "A".into() }, now())
        };
        assert_eq!(post.etag(), "\"4\"");
        assert_eq!(precondition(Some(post.etag().as_bytes())).unwrap(), Precondition::OneOf(vec![4]));
    }

    #[test]
    fn page_limit_rules() {
        assert_eq!(page_limit(None).unwrap(), DEFAULT_PAGE_LIMIT);
        assert_eq!(page_limit(Some("1")).unwrap(), 1);
        assert_eq!(page_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "ten", "", "1.5"] {
            assert!(page_limit(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn idempotency_key_rules() {
        assert_eq!(idempotency_key(None).unwrap(), None);
        assert_eq!(idempotency_key(Some(b"order-42")).unwrap().as_deref(), Some("order-42"));
        assert!(idempotency_key(Some("k".repeat(128).as_bytes())).is_ok());
        for bad in [&b""[..], "k".repeat(129).as_bytes(), b"tab\there", b"nul\0", "caf\u{e9}".as_bytes()] {
            assert!(idempotency_key(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn new_ids_sort_by_time() {
        let earlier = time::macros::datetime!(2026-01-01 00:00:00 UTC);
        let later = earlier + time::Duration::milliseconds(1);
        assert!(new_id(earlier) < new_id(later));
    }
}
