//! Mail the API sends (email verification, password reset): what a message says (`messages`), the links it carries, and its
//! delivery (`delivery`), once the request for it is stored. How it is sent is a
//! [`Mailer`]'s: Amazon SES on AWS (the `send-mail` function), `.eml` files on local-api.
mod delivery;
mod messages;

use std::future::Future;

pub use delivery::{Delivery, DeliveryError, deliver};

use crate::config::{ConfigError, is_https_or_loopback};
use crate::model::Secret;

/// One message to one address, in plain text and HTML, both carrying `link`.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The link the message is for (local-api logs it for the developer to open).
    pub link: Secret,
}

/// The link and bodies carry a single-use token: never in `Debug` output or logs.
impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message").field("to", &self.to).field("subject", &self.subject).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the message was not sent: {0}")]
pub struct MailError(pub String);

/// Sends messages. Futures are `Send` so delivery can run on any executor.
pub trait Mailer: Send + Sync {
    fn send(&self, message: &Message) -> impl Future<Output = Result<(), MailError>> + Send;
}

/// Where mailed links lead: the blog page (`APP_URL`), which reads the token from the
/// link's fragment. A fragment never reaches a server, so no access log holds the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    app_url: String,
}

impl Links {
    /// `app_url` is the page as people open it: HTTPS, or plain HTTP to a loopback address.
    pub fn new(app_url: &str) -> Result<Self, ConfigError> {
        if !is_https_or_loopback(app_url) || app_url.contains('#') {
            return Err(ConfigError::Invalid {
                name: "APP_URL",
                reason: format!(
                    "must be an https:// URL without a fragment (or http:// to a loopback address), got {app_url:?}"
                ),
            });
        }
        Ok(Self { app_url: app_url.to_owned() })
    }

    /// The page's view that verifies an email with `token`.
    pub fn verify_email(&self, token: &Secret) -> Secret {
        self.view("verify-email", token)
    }

    /// The page's view that sets a new password with `token`.
    pub fn reset_password(&self, token: &Secret) -> Secret {
        self.view("reset-password", token)
    }

    fn view(&self, view: &str, token: &Secret) -> Secret {
        Secret(format!("{}#/{view}?token={}", self.app_url, token.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_lead_to_the_page_with_the_token_in_the_fragment() {
        let links = Links::new("https://blog.example.com/").unwrap();
        assert_eq!(links.verify_email(&Secret::from("abc")).0, "https://blog.example.com/#/verify-email?token=abc");
        assert_eq!(links.reset_password(&Secret::from("d")).0, "https://blog.example.com/#/reset-password?token=d");
        assert!(Links::new("http://127.0.0.1:3000/").is_ok());
        for refused in ["http://blog.example.com/", "ftp://x/", "https://blog.example.com/#/feed", ""] {
            assert!(Links::new(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn a_message_never_shows_its_bodies_in_debug_output() {
        let message = Message {
            to: "a@b.co".into(),
            subject: "s".into(),
            text: "token-1".into(),
            html: "token-2".into(),
            link: Secret::from("token-3"),
        };
        let shown = format!("{message:?}");
        assert!(shown.contains("a@b.co") && !shown.contains("token-"));
    }
}
