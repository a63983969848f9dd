//! Deleting an account and everything it owns.
use std::future::Future;

use time::OffsetDateTime;

use super::StoreError;

/// What deleting an account removed besides the account itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeletedAccount {
    pub sessions: usize,
    pub posts: usize,
}

/// Accounts as a whole. Futures are `Send` so handlers can run on any executor.
pub trait AccountStore: Send + Sync {
    /// Deletes account `user_id` at `at`: first, in one atomic write, its profile, its email
    /// (free for a new account at once) and its identities at other providers; then its
    /// sessions, its trusted devices and its posts. `None` if there is no such account (a
    /// racing deletion won). A failure after the first write leaves an account that no
    /// longer exists, whose leftovers a retry does not reach: see docs/data-model.md.
    fn delete_account(
        &self,
        user_id: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<DeletedAccount>, StoreError>> + Send;
}
