//! Sessions: whose session a refresh token continues, and the body that presents one.
use serde::{Deserialize, Serialize};

use super::Secret;
use super::validation::Invalid;

/// `POST /token/refresh` and `POST /logout` body.
#[derive(Deserialize)]
pub struct RefreshTokenRequest {
    pub refresh_token: Option<String>,
}

impl RefreshTokenRequest {
    /// Only presence is checked: any other string is simply not a token we issued.
    pub fn validate(self) -> Result<Secret, Invalid> {
        Secret::required("refresh_token", self.refresh_token)
    }
}

/// Whose session a refresh token continues: what a new access token is issued for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub user_id: String,
    pub display_name: String,
}

/// How a session started: when, and from which client (its `User-Agent`, as sent, cut to
/// [`USER_AGENT_MAX_CHARS`] characters with control characters dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStart {
    pub at: time::OffsetDateTime,
    pub user_agent: Option<String>,
}

/// The longest `User-Agent` a session keeps; the rest is dropped.
pub const USER_AGENT_MAX_CHARS: usize = 256;

impl SessionStart {
    pub fn new(at: time::OffsetDateTime, user_agent: Option<&str>) -> Self {
        let user_agent = user_agent
            .map(|agent| agent.chars().filter(|c| !c.is_control()).take(USER_AGENT_MAX_CHARS).collect::<String>())
            .filter(|agent| !agent.trim().is_empty());
        Self { at, user_agent }
    }
}

/// One of an account's active sessions, as `GET /me/sessions` lists it: `last_used_at` is
/// its start or its latest refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: time::OffsetDateTime,
    pub user_agent: Option<String>,
}

/// A session as `GET /me/sessions` lists it: `current` is the caller's own.
#[derive(Debug, Clone, Serialize)]
pub struct ListedSession {
    #[serde(flatten)]
    pub session: SessionInfo,
    pub current: bool,
}

/// A device a successful login trusted: the client holds the token, the store only its
/// hash. Presenting it exempts a login to `user_id`'s account from the address and
/// account limits (`auth::throttle`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedDevice {
    pub token_hash: String,
    pub user_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}
