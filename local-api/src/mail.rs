//! Mail on local-api: no network. Each message is written to the data directory's `mail/`
//! folder as an `.eml` file (one per message, openable in any mail client), and its link is
//! logged in one line for the developer to open. A worker delivers what the embedded store
//! was asked to send, after the request that asked, as the `send-mail` function does on AWS.
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::MultiPart;
use shared::mail::{Delivery, Links, MailError, Mailer, Message, deliver};
use shared::model::{new_id, now};
use shared::store::EmbeddedStore;

/// The sender address of every local message.
const FROM: &str = "Blog <blog@localhost>";
/// How long the worker waits before trying a failed delivery again.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Writes each message to `dir` as `<ULID>.eml`.
pub struct FileMailer {
    dir: PathBuf,
}

impl FileMailer {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The message as an RFC 5322 file: plain text and HTML alternatives.
    fn eml(message: &Message) -> Result<Vec<u8>, MailError> {
        let fail = |e: &dyn std::fmt::Display| MailError(e.to_string());
        let email = lettre::Message::builder()
            .from(FROM.parse().map_err(|e| fail(&e))?)
            .to(message.to.parse().map_err(|e| fail(&e))?)
            .subject(&message.subject)
            .multipart(MultiPart::alternative_plain_html(message.text.clone(), message.html.clone()))
            .map_err(|e| fail(&e))?;
        Ok(email.formatted())
    }
}

impl Mailer for FileMailer {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        let eml = Self::eml(message)?;
        let path = self.dir.join(format!("{}.eml", new_id(now())));
        let written = tokio::fs::create_dir_all(&self.dir).await.and(tokio::fs::write(&path, eml).await);
        written.map_err(|e| MailError(format!("writing {}: {e}", path.display())))?;
        // Local only: the developer is the recipient, and this line is how they open the link.
        tracing::info!("mail to {} ({}) in {}: open {}", message.to, message.subject, path.display(), message.link.0);
        Ok(())
    }
}

/// Delivers the store's mail requests as they come, for as long as the server runs.
pub fn start_worker(store: EmbeddedStore, mailer: FileMailer, links: Links) {
    tokio::spawn(async move {
        loop {
            let mut failed = false;
            match store.undelivered_mail().await {
                Ok(requests) => {
                    for (request, requested_at) in requests {
                        let delivered = match deliver(&store, &mailer, &links, &request, now()).await {
                            Ok(delivery) => {
                                if let Delivery::NotNeeded(why) = delivery {
                                    tracing::info!(kind = request.kind(), why, "mail not needed any more");
                                }
                                store.mail_delivered(&request, requested_at).await.map_err(|e| e.to_string())
                            }
                            Err(err) => Err(err.to_string()),
                        };
                        if let Err(error) = delivered {
                            tracing::warn!(kind = request.kind(), error, "mail not delivered; trying again shortly");
                            failed = true;
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "reading the mail requests failed; trying again shortly");
                    failed = true;
                }
            }
            if failed {
                tokio::time::sleep(RETRY_AFTER).await;
            } else {
                store.mail_requested().await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::model::Secret;

    #[test]
    fn a_message_becomes_a_two_part_email_file() {
        let message = Message {
            to: "ada@example.com".into(),
            subject: "Verify your email address".into(),
            text: "Open http://127.0.0.1:3000/#/verify-email?token=abc".into(),
            html: "<p><a href=\"http://127.0.0.1:3000/#/verify-email?token=abc\">link</a></p>".into(),
            link: Secret::from("http://127.0.0.1:3000/#/verify-email?token=abc"),
        };
        let eml = String::from_utf8(FileMailer::eml(&message).unwrap()).unwrap();
        for header in ["To: ada@example.com", "Subject: Verify your email address", "multipart/alternative"] {
            assert!(eml.contains(header), "{header} in {eml}");
        }
        assert!(eml.contains("text/plain") && eml.contains("text/html"));
        assert!(FileMailer::eml(&Message { to: "not an address".into(), ..message }).is_err());
    }
}
