//! The sender over a stream event in Lambda's shape (`tests/data/stream-event.json`): a
//! request for Ada's verification, one for an account that is gone, the removal of Ada's
//! request by its TTL, and a request of a kind this version does not know.
use send_mail::{Event, Sender};
use shared::mail::{MailError, Mailer, Message};
use shared::model::{Credentials, User, now};
use shared::store::{EmbeddedStore, MailStore, UserStore};
use shared::testing::{RecordingMailer, password_user, test_links, token_in};

const ADA: &str = "01KAQZ8Y4M1W2X3V5T6R7P8N9B";

fn event() -> Event {
    serde_json::from_str(include_str!("data/stream-event.json")).unwrap()
}

async fn store_with_ada() -> EmbeddedStore {
    let store = EmbeddedStore::in_memory().unwrap();
    let ada = User { id: ADA.into(), ..password_user("ada@example.com", "Ada", now()) };
    store.create_user(&Credentials { user: ada, password_hash: None }, None).await.unwrap();
    store
}

fn failed(response: &aws_lambda_events::event::streams::DynamoDbEventResponse) -> Vec<&str> {
    response.batch_item_failures.iter().map(|failure| failure.item_identifier.as_deref().unwrap_or_default()).collect()
}

#[tokio::test]
async fn sends_each_request_once_and_reports_the_unreadable_one() {
    let sender = Sender { store: store_with_ada().await, mailer: RecordingMailer::default(), links: test_links() };
    let response = sender.handle(event()).await.unwrap();
    assert_eq!(failed(&response), ["200000000000000000000004"], "the unknown kind is retried, then kept aside");
    let sent = sender.mailer.sent();
    assert_eq!(sent.len(), 1, "only Ada's request needed a message: {sent:?}");
    assert_eq!(sent[0].to, "ada@example.com");
    let token = token_in(&sent[0]);
    let verified = sender.store.verify_email(&shared::auth::mailed_token_hash(&token), now()).await.unwrap();
    assert!(verified.is_some_and(|user| user.email_verified), "the mailed token verifies Ada");
}

/// Refuses every message, as SES does when the sender is not verified.
struct RefusingMailer;

impl Mailer for RefusingMailer {
    async fn send(&self, _: &Message) -> Result<(), MailError> {
        Err(MailError("MessageRejected: Email address is not verified".into()))
    }
}

#[tokio::test]
async fn a_message_the_mail_service_refuses_is_retried() {
    let sender = Sender { store: store_with_ada().await, mailer: RefusingMailer, links: test_links() };
    let response = sender.handle(event()).await.unwrap();
    assert_eq!(failed(&response), ["200000000000000000000001", "200000000000000000000004"]);
}
