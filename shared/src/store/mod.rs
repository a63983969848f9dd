//! Persistence, one trait per aggregate (users, identities, logins, posts, sessions, mail), and
//! `accounts` for deleting one with everything it owns, and [`Store`]
//! for all of them, with two implementations: DynamoDB (Lambda) and an embedded redb database
//! (local-api and fast tests, feature `local`). `shared/tests/store_conformance.rs` runs
//! one suite against both.
mod accounts;
pub mod dynamo;
#[cfg(feature = "local")]
pub mod embedded;
mod identities;
mod logins;
mod mail;
mod posts;
mod sessions;
mod users;

pub use accounts::{AccountStore, DeletedAccount};
pub use dynamo::DynamoStore;
#[cfg(feature = "local")]
pub use embedded::EmbeddedStore;
pub use identities::IdentityStore;
pub use logins::{LoginState, LoginStore};
pub use mail::MailStore;
pub use posts::{PageBuilder, PostCreation, PostPage, PostStore, check_post_write};
pub use sessions::{NewSession, RefreshGrant, Rotation, SessionStore};
pub use users::UserStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("this identity is linked to an account already")]
    IdentityTaken,
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

/// Everything the API needs of a store: what handlers are generic over.
pub trait Store: UserStore + IdentityStore + LoginStore + PostStore + SessionStore + MailStore + AccountStore {}

impl<T: UserStore + IdentityStore + LoginStore + PostStore + SessionStore + MailStore + AccountStore> Store for T {}
