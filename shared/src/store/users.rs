//! Accounts: what signup, login and `GET /me` need of the store.
use std::future::Future;

use time::OffsetDateTime;

use super::StoreError;
use crate::auth::throttle::LoginFailures;
use crate::model::{Credentials, User};

/// What [`UserStore::login_state`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoginState {
    pub failures: Option<LoginFailures>,
    pub credentials: Option<Credentials>,
}

/// Accounts and their logins. Futures are `Send` so handlers can run on any executor.
pub trait UserStore: Send + Sync {
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

    /// The user `id`, if there is one.
    fn get_user(&self, id: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
}
