//! Persistence behind one trait, with two implementations: DynamoDB (Lambda) and an
//! embedded redb database (local-api and fast tests, feature `local`).
//! `shared/tests/store_conformance.rs` runs one suite against both.
use std::future::Future;

use time::OffsetDateTime;

use crate::auth::throttle::LoginFailures;
use crate::model::{Credentials, Post, PostEdit, Precondition, SessionUser, User};

pub mod dynamo;
#[cfg(feature = "local")]
pub mod embedded;

pub use dynamo::DynamoStore;
#[cfg(feature = "local")]
pub use embedded::EmbeddedStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("no such item")]
    NotFound,
    /// The post exists, but the caller did not write it.
    #[error("the post belongs to another user")]
    NotAuthor,
    /// The post exists and is the caller's, but not at a version the write allowed.
    #[error("the post is at another version")]
    VersionMismatch,
    /// Throttling, timeouts, network or server failures: worth retrying later.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored item that cannot be read back, or a request the store refused as invalid.
    #[error("store error: {0}")]
    Corrupt(String),
}

/// What [`Store::login_state`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoginState {
    pub failures: Option<LoginFailures>,
    pub credentials: Option<Credentials>,
}

/// What [`Store::create_post`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostCreation {
    Created,
    /// The idempotency key was used before: nothing was stored; this is the original.
    Replayed(Post),
    /// The idempotency key was used before, for a post since deleted: nothing was stored.
    OriginalDeleted,
}

/// A refresh token as the store keeps it: its hash (never the token), the family of
/// tokens rotated from one login, whose session it is and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    pub hash: String,
    pub family_id: String,
    pub user: SessionUser,
    pub expires_at: OffsetDateTime,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was current: it is used up now, and the next token replaces it.
    Rotated(SessionUser),
    /// It had been used before: a replay, so its whole family is revoked now.
    Reused,
    /// Unknown, expired, or of a revoked family: nothing changed.
    Refused,
}

/// One page of posts, newest first. `next` is the id of the last post returned when more
/// posts follow it, and `None` on the last page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPage {
    pub posts: Vec<Post>,
    pub next: Option<String>,
}

impl PostPage {
    /// Builds a page from up to `limit + 1` posts: the extra one only tells that more follow.
    pub fn from_overfetched(mut posts: Vec<Post>, limit: usize) -> Self {
        let next = if posts.len() > limit {
            posts.truncate(limit);
            posts.last().map(|post| post.id.clone())
        } else {
            None
        };
        Self { posts, next }
    }
}

/// The operations the API needs. Futures are `Send` so handlers can run on any executor.
pub trait Store: Send + Sync {
    /// Stores a new account; `EmailTaken` if the email is registered already, atomically
    /// (of two racing signups with one email, exactly one succeeds).
    fn create_user(&self, credentials: &Credentials) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// What a login must know of `email` (already normalised), read together: its failed
    /// logins and its account, each if any. One round trip on DynamoDB.
    fn login_state(&self, email: &str) -> impl Future<Output = Result<LoginState, StoreError>> + Send;

    /// Replaces the password hash of `email` if it is still `old_hash` (a racing change
    /// wins); returns whether it was replaced.
    fn replace_password_hash(
        &self,
        email: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Counts one failed login at `at`, atomically: within the failure window the count
    /// grows by one, otherwise a new window starts at one. Returns the new state.
    fn record_login_failure(
        &self,
        email: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<LoginFailures, StoreError>> + Send;

    /// Forgets the failed logins of `email` (after a successful login).
    fn clear_login_failures(&self, email: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores a new post. With an idempotency key (scoped to the post's author, kept for
    /// [`IDEMPOTENCY_KEY_TTL`]) a repeat stores nothing and returns the original post,
    /// atomically: of racing creates with one key, exactly one stores a post.
    ///
    /// [`IDEMPOTENCY_KEY_TTL`]: crate::model::IDEMPOTENCY_KEY_TTL
    fn create_post(
        &self,
        post: &Post,
        idempotency_key: Option<&str>,
    ) -> impl Future<Output = Result<PostCreation, StoreError>> + Send;

    /// Up to `limit` posts, newest first, strictly older than the post `after` if given.
    fn list_posts(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> impl Future<Output = Result<PostPage, StoreError>> + Send;

    /// Like [`Store::list_posts`], for the posts of one author; `None` if there is no such user.
    fn list_posts_by_author(
        &self,
        author_id: &str,
        limit: usize,
        after: Option<&str>,
    ) -> impl Future<Output = Result<Option<PostPage>, StoreError>> + Send;

    /// The post `id`, read consistently (a write that returned is seen).
    fn get_post(&self, id: &str) -> impl Future<Output = Result<Option<Post>, StoreError>> + Send;

    /// Applies `edit` to post `id` at `at` and returns the post as stored, one version on.
    /// One atomic conditional write checks, in this order, that the post exists
    /// (`NotFound`), that `editor_id` wrote it (`NotAuthor`) and that its version meets
    /// `precondition` (`VersionMismatch`): racing edits each get their own version, and
    /// of racing edits made against one version, exactly one succeeds.
    fn update_post(
        &self,
        id: &str,
        editor_id: &str,
        edit: &PostEdit,
        precondition: &Precondition,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Post, StoreError>> + Send;

    /// Deletes post `id`, with the checks and errors of [`Store::update_post`], atomically.
    fn delete_post(
        &self,
        id: &str,
        author_id: &str,
        precondition: &Precondition,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The user `id`, if there is one.
    fn get_user(&self, id: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Starts a session: a new family (`first.family_id`) holding its first refresh token.
    fn start_session(&self, first: &RefreshGrant) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Exchanges the refresh token hashed `presented_hash` at `at` for a new one of the same
    /// family, hashed `next_hash`, expiring at `next_expires_at`; atomically: of racing
    /// rotations of one token, exactly one is `Rotated`. A token presented again after its
    /// rotation revokes its family (`Reused`).
    fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next_hash: &str,
        next_expires_at: OffsetDateTime,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Rotation, StoreError>> + Send;

    /// Revokes the family of the refresh token hashed `token_hash`, if it is known;
    /// repeating it, or an unknown token, changes nothing.
    fn end_session(&self, token_hash: &str, at: OffsetDateTime) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The rule every write to a post obeys, checked in this order: the post exists
/// (`NotFound`), `author_id` wrote it (`NotAuthor`), its version meets `precondition`
/// (`VersionMismatch`). `current` is the post's author and version, `None` if it is missing.
/// The embedded store checks it before writing; DynamoDB evaluates it as the write's
/// condition expression, and uses this to explain a refusal.
pub fn check_post_write(
    current: Option<(&str, u64)>,
    author_id: &str,
    precondition: &Precondition,
) -> Result<(), StoreError> {
    match current {
        None => Err(StoreError::NotFound),
        Some((owner, _)) if owner != author_id => Err(StoreError::NotAuthor),
        Some((_, version)) if !precondition.allows(version) => Err(StoreError::VersionMismatch),
        Some(_) => Ok(()),
    }
}
