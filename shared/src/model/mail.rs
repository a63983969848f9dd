//! Mail the API sends on an account's behalf. A request is stored with the write that asks
//! for it and delivered after (`shared::mail`), so a slow or failing mail service never
//! slows or fails the request, and no asked-for message is lost.
use serde::{Deserialize, Serialize};

/// At most one message of a kind to one recipient this often: resends and reset requests
/// within it are refused (429), which also bounds what one caller can make us send.
pub const MAIL_INTERVAL: time::Duration = time::Duration::seconds(60);

/// A message to send: which kind, and to whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MailRequest {
    /// A link that verifies the account's email (at signup, and on request).
    VerifyEmail { user_id: String },
    /// A link that sets a new password, for whatever account has `email` (by then), if any.
    ResetPassword { email: String },
}

impl MailRequest {
    /// The kind's name, the same in the store and in the logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::VerifyEmail { .. } => "verify_email",
            Self::ResetPassword { .. } => "reset_password",
        }
    }

    /// Who the request is for; with the kind, what [`MAIL_INTERVAL`] is counted by.
    pub fn recipient(&self) -> &str {
        match self {
            Self::VerifyEmail { user_id } => user_id,
            Self::ResetPassword { email } => email,
        }
    }

    /// One key per kind and recipient: where the store keeps the latest request.
    pub fn key(&self) -> String {
        format!("{}#{}", self.kind(), self.recipient())
    }
}
