//! Mail in tests: a mailer that keeps what it is given, and the token a message's link carries.
use std::sync::Mutex;

use crate::mail::{Links, MailError, Mailer, Message, deliver};
use crate::model::{MailRequest, now};
use crate::store::Store;

/// Keeps every message it is asked to send, in order.
#[derive(Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<Message>>,
}

impl RecordingMailer {
    pub fn sent(&self) -> Vec<Message> {
        self.sent.lock().map(|sent| sent.clone()).unwrap_or_else(|e| panic!("mailer lock: {e}"))
    }
}

impl Mailer for RecordingMailer {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        self.sent.lock().map_err(|e| MailError(e.to_string()))?.push(message.clone());
        Ok(())
    }
}

/// Where test links lead (local-api's own page).
pub fn test_links() -> Links {
    Links::new("http://127.0.0.1:3000/").unwrap_or_else(|e| panic!("test links: {e}"))
}

/// Delivers `request` now, as the mail sender would: the message sent.
pub async fn deliver_now<S: Store>(store: &S, request: &MailRequest) -> Message {
    let mailer = RecordingMailer::default();
    deliver(store, &mailer, &test_links(), request, now()).await.unwrap_or_else(|e| panic!("delivering: {e}"));
    mailer.sent().pop().unwrap_or_else(|| panic!("nothing was sent for {request:?}"))
}

/// The token in `message`'s link (`…?token=<token>`), which its plain-text body carries too.
pub fn token_in(message: &Message) -> String {
    assert!(message.text.contains(&message.link.0), "the text carries the link");
    let (_, token) = message.link.0.split_once("token=").unwrap_or_else(|| panic!("no token in {message:?}'s link"));
    token.to_owned()
}
