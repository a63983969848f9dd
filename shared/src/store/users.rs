//! Accounts: what signup, login and `GET /me` need of the store (a login's own reads and
//! counters are in `logins`).
use std::future::Future;

use super::{NewSession, StoreError};
use crate::model::{Credentials, User};

/// Accounts. Futures are `Send` so handlers can run on any executor.
pub trait UserStore: Send + Sync {
    /// Stores a new account with a password, asks for the mail that verifies its email
    /// ([`MailRequest::VerifyEmail`](crate::model::MailRequest)) and starts `first_session`
    /// (signup's), all in one write; `EmailTaken` if the email is registered already,
    /// atomically (of two racing signups with one email, exactly one succeeds).
    fn create_user(
        &self,
        credentials: &Credentials,
        first_session: Option<&NewSession>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces the password hash of `email` if it is still `old_hash` (a racing change
    /// wins); returns whether it was replaced.
    fn replace_password_hash(
        &self,
        email: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The user `id`, if there is one.
    fn get_user(&self, id: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Gives user `id` the display name `display_name`, in its profile and its login record
    /// in one write; the account as it is now, or `None` when there is no such user.
    fn rename_user(
        &self,
        id: &str,
        display_name: &str,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
}
