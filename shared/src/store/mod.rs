//! Persistence behind one trait, with two implementations: DynamoDB (Lambda) and an
//! embedded redb database (local-api and fast tests, feature `local`).
//! `shared/tests/store_conformance.rs` runs one suite against both.
use std::future::Future;

use time::OffsetDateTime;

use crate::auth::throttle::LoginFailures;
use crate::model::{Credentials, Post};

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
}
