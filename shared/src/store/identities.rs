//! Identities at other providers (Google): which account each signs in to, and accounts
//! made with one.
use std::future::Future;

use super::{NewSession, StoreError};
use crate::model::{Identity, User};

/// Identities. Futures are `Send` so handlers can run on any executor.
pub trait IdentityStore: Send + Sync {
    /// The account `identity` signs in to, if it is linked to one.
    fn user_by_identity(&self, identity: &Identity) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Stores a new account that signs in with `identity` and has no password: the
    /// account, its email, the identity and `first_session` (the first sign-in's) in one
    /// atomic write. `IdentityTaken` if the identity is linked already (a racing first
    /// sign-in won), else `EmailTaken` if the email belongs to an account.
    fn create_user_with_identity(
        &self,
        user: &User,
        identity: &Identity,
        first_session: Option<&NewSession>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Links `identity` to `user` and adds its method to the account's: the account as it
    /// is now. Linking it to the same account again changes nothing; `IdentityTaken` if
    /// another account has it.
    fn link_identity(&self, user: &User, identity: &Identity) -> impl Future<Output = Result<User, StoreError>> + Send;
}
