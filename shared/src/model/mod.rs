//! The domain: users, posts and sessions, the request bodies they are made from, and every
//! validation rule and limit of a body (each written once, in its aggregate's module).
//! Nothing here knows about HTTP, the store or the runtime.
mod common_passwords;
mod id;
mod identity;
mod mail;
mod post;
mod secret;
mod session;
mod unicode;
mod user;
mod validation;

pub use id::{id_time, is_id, new_id, now};
pub use identity::*;
pub use mail::{MAIL_INTERVAL, MailRequest};
pub use post::*;
pub use secret::Secret;
pub use session::{
    ListedSession, RefreshTokenRequest, SessionInfo, SessionStart, SessionUser, TrustedDevice, USER_AGENT_MAX_CHARS,
};
pub use user::*;
pub use validation::{FieldError, Invalid};
