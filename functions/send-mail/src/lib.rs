//! The mail sender on AWS: DynamoDB Streams hands it the table's mail requests (`MAIL#`
//! items, the event source's filter), and it delivers each (`shared::mail::deliver`): the
//! message's single-use token is made now, and the message goes out through Amazon SES.
//!
//! A request that cannot be delivered (the store or SES failing) is reported as a batch
//! item failure: Lambda retries from it, then hands it to the on-failure destination.
//! Delivery is at least once: a retried batch may send a message twice, each with a
//! working link.
use std::collections::HashMap;

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message as SesMessage};
use shared::mail::{Delivery, Links, MailError, Mailer, Message, deliver};
use shared::model::{MailRequest, now};
use shared::store::Store;
use shared::store::dynamo::mail_request;

pub use aws_lambda_events::event::dynamodb::Event;

/// Sends through Amazon SES (the v2 API), from one verified identity.
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    /// `MAIL_FROM`: the sender address, an identity verified in SES.
    from: String,
    /// `SES_CONFIGURATION_SET`, if any: where SES reports deliveries, bounces and complaints.
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: String, configuration_set: Option<String>) -> Self {
        Self { client, from, configuration_set }
    }
}

fn utf8(text: &str) -> Result<Content, MailError> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| MailError(e.to_string()))
}

impl Mailer for SesMailer {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        let body = Body::builder().text(utf8(&message.text)?).html(utf8(&message.html)?).build();
        let content = EmailContent::builder()
            .simple(SesMessage::builder().subject(utf8(&message.subject)?).body(body).build())
            .build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&message.to).build())
            .content(content)
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| MailError(aws_sdk_sesv2::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}

/// What the sender needs, built once per sandbox.
pub struct Sender<S, M> {
    pub store: S,
    pub mailer: M,
    pub links: Links,
}

/// The mail request a stream record carries, if any (a record of any other item: none).
fn record_request(record: &EventRecord) -> Result<Option<MailRequest>, String> {
    if !matches!(record.event_name.as_str(), "INSERT" | "MODIFY") {
        return Ok(None);
    }
    let image: HashMap<String, AttributeValue> =
        record.change.new_image.iter().map(|(name, value)| (name.clone(), value.clone().into())).collect();
    mail_request(&image).map_err(|e| e.to_string())
}

impl<S: Store, M: Mailer> Sender<S, M> {
    /// Delivers every mail request in `event`; the records that could not be, for Lambda to retry.
    pub async fn handle(&self, event: Event) -> Result<DynamoDbEventResponse, lambda_runtime::Error> {
        let mut response = DynamoDbEventResponse::default();
        for record in &event.records {
            let delivered = match record_request(record) {
                Ok(Some(request)) => self.deliver(&request).await,
                Ok(None) => Ok(()),
                Err(reason) => Err(reason),
            };
            if let Err(reason) = delivered {
                tracing::error!(event_id = %record.event_id, reason, "mail request not delivered");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = record.change.sequence_number.clone();
                response.batch_item_failures.push(failure);
            }
        }
        Ok(response)
    }

    async fn deliver(&self, request: &MailRequest) -> Result<(), String> {
        let delivery =
            deliver(&self.store, &self.mailer, &self.links, request, now()).await.map_err(|e| e.to_string())?;
        match delivery {
            Delivery::Sent => tracing::info!(kind = request.kind(), "mail sent"),
            Delivery::NotNeeded(why) => tracing::info!(kind = request.kind(), why, "mail not needed any more"),
        }
        Ok(())
    }
}
