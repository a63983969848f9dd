//! Mail: the requests for messages (delivered after the write, `shared::mail`) and the
//! single-use tokens the messages carry.
use std::future::Future;

use time::OffsetDateTime;

use super::StoreError;
use crate::auth::{MailedToken, TokenPurpose};
use crate::model::{MailRequest, User};

/// Mail requests and mailed tokens. Futures are `Send` so handlers can run on any executor.
pub trait MailStore: Send + Sync {
    /// Asks for `mail` at `at`, unless a message of its kind to its recipient was asked for
    /// less than [`MAIL_INTERVAL`](crate::model::MAIL_INTERVAL) before: whether it was
    /// asked for. Atomic: of racing requests within the interval, one is.
    fn request_mail(
        &self,
        mail: &MailRequest,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Keeps `token` until it is used or expires.
    fn store_mailed_token(&self, token: &MailedToken) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The token whose hash is `token_hash`, if it is one of `purpose` still live at `at`.
    fn find_mailed_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<MailedToken>, StoreError>> + Send;

    /// Uses up the email-verification token whose hash is `token_hash` and marks its
    /// account's email verified, in one atomic write (of racing uses of one token, exactly
    /// one succeeds): the account as it is now. `None` when the token is unknown, used,
    /// expired at `at`, made for another purpose, or for an address the account no longer has.
    fn verify_email(
        &self,
        token_hash: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Uses up the password-reset token whose hash is `token_hash` and, in the same atomic
    /// write, gives its account the password hash `new_hash`, marks its email verified
    /// (the link reached it) and clears its account-wide login lockout: the account. `None`
    /// as for [`Self::verify_email`]. The account's sessions are the caller's to end.
    fn reset_password(
        &self,
        token_hash: &str,
        new_hash: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
}
