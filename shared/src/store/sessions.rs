//! Sessions: refresh-token families, rotated on every refresh, revoked on replay and logout.
use std::future::Future;

use time::OffsetDateTime;

use super::StoreError;
use crate::model::{SessionInfo, SessionStart, SessionUser, TrustedDevice};

/// A refresh token as the store keeps it: its hash (never the token), the family of
/// tokens rotated from one login, whose session it is, when it expires, and when its
/// session ends (no token of the family is honoured after that, however fresh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    pub hash: String,
    pub family_id: String,
    pub user: SessionUser,
    pub expires_at: OffsetDateTime,
    pub session_ends_at: OffsetDateTime,
}

/// A session's first write, as signup, login and Google sign-in make it: a new family
/// (`first.family_id`) holding its first refresh token, listed among its user's sessions as
/// `started`, and the device the login newly trusts, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub first: RefreshGrant,
    pub started: SessionStart,
    pub new_device: Option<TrustedDevice>,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was current: it is used up now, and the next token replaces it in session
    /// `session_id`.
    Rotated { user: SessionUser, session_id: String },
    /// It had been used before: a replay, so its whole family is revoked now.
    Reused,
    /// Unknown, expired, or of a revoked family: nothing changed.
    Refused,
}

/// Sessions. Futures are `Send` so handlers can run on any executor.
pub trait SessionStore: Send + Sync {
    /// Starts `session`, all of it in one atomic write.
    fn start_session(&self, session: &NewSession) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Exchanges the refresh token hashed `presented_hash` at `at` for a new one of the same
    /// family, hashed `next_hash`, expiring at `next_expires_at` or when the session ends,
    /// whichever comes first; atomically: of racing rotations of one token, exactly one is
    /// `Rotated`. A token presented again after its rotation revokes its family (`Reused`);
    /// one presented once its session has ended is `Refused`.
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

    /// `user_id`'s sessions that are neither revoked nor expired at `at`, oldest first.
    fn list_sessions(
        &self,
        user_id: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<SessionInfo>, StoreError>> + Send;

    /// Revokes `user_id`'s session `session_id`, in one write with its listing; false
    /// when `user_id` has no such session (another user's is none of theirs).
    fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes every session `user_id` has but `keep` (the caller's own, when it goes on);
    /// how many it revoked. One transaction per session.
    fn revoke_all_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send {
        async move {
            let mut revoked = 0;
            for session in self.list_sessions(user_id, at).await? {
                if keep != Some(session.id.as_str()) {
                    revoked += usize::from(self.revoke_session(user_id, &session.id, at).await?);
                }
            }
            Ok(revoked)
        }
    }
}
