//! The stream consumer behind realtime on AWS: DynamoDB Streams hands it the table's
//! changes (post items only: the event source's filter), and it announces each on the
//! AppSync Events API with SigV4-signed HTTP publishes, on the feed and on the author's
//! channel (`shared::realtime`).
//!
//! A record that cannot be announced (an unreadable image, a refused or failed publish)
//! is reported as a batch item failure: Lambda retries from it (bisecting, a few times),
//! then hands it to the on-failure destination, so one bad record neither blocks the
//! shard nor is lost. Records after it may be announced twice: delivery is at least once,
//! and subscribers tell repeats by `post.version`.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use serde::Deserialize;
use shared::https::HttpsClient;
use shared::realtime::PostEvent;
use shared::store::dynamo::post_change;

pub use aws_lambda_events::event::dynamodb::Event;

/// AppSync Events takes at most this many events in one publish.
pub const EVENTS_PER_PUBLISH: usize = 5;
/// A publish that takes longer fails (and is retried), well inside the function's timeout.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);
/// AppSync's answer lists the events' outcomes; a larger one is not its answer.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// The name SigV4 signs AppSync's requests for.
const SIGNING_NAME: &str = "appsync";

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("no AWS credentials: {0}")]
    Credentials(String),
    #[error("signing the publish: {0}")]
    Signing(String),
    #[error("sending the publish: {0}")]
    Transport(String),
    #[error("AppSync Events answered {status}: {body}")]
    Refused { status: u16, body: String },
}

/// Publishes to one AppSync Events API over HTTP, signed with the function's credentials.
pub struct Publisher {
    client: HttpsClient,
    /// `https://<the API's HTTP domain>/event` (`REALTIME_PUBLISH_URL`).
    url: String,
    region: String,
    credentials: SharedCredentialsProvider,
}

/// AppSync's answer to a publish: which of the events it took (by index).
#[derive(Deserialize)]
struct PublishAnswer {
    #[serde(default)]
    failed: Vec<FailedEvent>,
}

#[derive(Deserialize)]
struct FailedEvent {
    index: usize,
}

impl Publisher {
    /// From `REALTIME_PUBLISH_URL` and the SDK's region and credentials.
    pub fn from_env(sdk_config: &aws_config::SdkConfig) -> Result<Self, lambda_runtime::Error> {
        let url = std::env::var("REALTIME_PUBLISH_URL").map_err(|_| "REALTIME_PUBLISH_URL is not set")?;
        Self::new(sdk_config, url)
    }

    pub fn new(sdk_config: &aws_config::SdkConfig, url: String) -> Result<Self, lambda_runtime::Error> {
        let region = sdk_config.region().ok_or("no AWS region is configured")?.to_string();
        let credentials = sdk_config.credentials_provider().ok_or("no AWS credentials provider")?;
        Ok(Self { client: shared::https::client()?, url, region, credentials })
    }

    /// Publishes `events` (JSON texts, at most [`EVENTS_PER_PUBLISH`]) on `channel`: the
    /// indexes of those AppSync did not take.
    pub async fn publish(&self, channel: &str, events: &[String]) -> Result<Vec<usize>, PublishError> {
        let body = serde_json::json!({ "channel": channel, "events": events }).to_string();
        let request = self.signed_request(body).await?;
        let answer = tokio::time::timeout(PUBLISH_TIMEOUT, async {
            let response = self.client.request(request).await.map_err(|e| PublishError::Transport(e.to_string()))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| PublishError::Transport(e.to_string()))?
                .to_bytes();
            Ok::<_, PublishError>((status, body))
        })
        .await
        .map_err(|_| PublishError::Transport(format!("no answer within {PUBLISH_TIMEOUT:?}")))??;
        let (status, body) = answer;
        let text = String::from_utf8_lossy(&body);
        if !status.is_success() {
            return Err(PublishError::Refused { status: status.as_u16(), body: text.chars().take(500).collect() });
        }
        let answer: PublishAnswer = serde_json::from_slice(&body)
            .map_err(|e| PublishError::Refused { status: status.as_u16(), body: format!("unreadable answer ({e})") })?;
        Ok(answer.failed.into_iter().map(|failed| failed.index).collect())
    }

    async fn signed_request(&self, body: String) -> Result<hyper::Request<Full<Bytes>>, PublishError> {
        let credentials =
            self.credentials.provide_credentials().await.map_err(|e| PublishError::Credentials(e.to_string()))?;
        let identity = credentials.into();
        let params = SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SIGNING_NAME)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| PublishError::Signing(e.to_string()))?
            .into();
        let headers = [("content-type", "application/json")];
        let signable =
            SignableRequest::new("POST", &self.url, headers.into_iter(), SignableBody::Bytes(body.as_bytes()))
                .map_err(|e| PublishError::Signing(e.to_string()))?;
        let (instructions, _signature) =
            sign(signable, &params).map_err(|e| PublishError::Signing(e.to_string()))?.into_parts();
        let mut request = hyper::Request::post(&self.url)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| PublishError::Signing(e.to_string()))?;
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }
}

/// What `record` announces: the event of the post change it records, if any.
fn record_event(record: &EventRecord) -> Result<Option<PostEvent>, String> {
    let image = |item: &serde_dynamo::Item| {
        (!item.is_empty()).then(|| {
            item.iter()
                .map(|(name, value)| (name.clone(), value.clone().into()))
                .collect::<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>()
        })
    };
    let change = &record.change;
    let change = post_change(&record.event_name, image(&change.old_image), image(&change.new_image))
        .map_err(|e| e.to_string())?;
    Ok(change.and_then(|change| change.event()))
}

/// Announces every post change in `event`; the records that could not be, for Lambda to retry.
pub async fn handle(publisher: &Publisher, event: Event) -> Result<DynamoDbEventResponse, lambda_runtime::Error> {
    let mut failed = BTreeSet::new();
    // Each channel's events in stream order, with the record each came from.
    let mut by_channel: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for (index, record) in event.records.iter().enumerate() {
        let announced = record_event(record).and_then(|event| {
            event.map(|event| Ok((event.to_json().map_err(|e| e.to_string())?, event.channels()))).transpose()
        });
        match announced {
            Ok(Some((json, channels))) => {
                for channel in channels {
                    by_channel.entry(channel).or_default().push((index, json.clone()));
                }
            }
            Ok(None) => {}
            Err(reason) => {
                tracing::error!(event_id = %record.event_id, reason, "stream record not announced");
                failed.insert(index);
            }
        }
    }
    for (channel, events) in &by_channel {
        for batch in events.chunks(EVENTS_PER_PUBLISH) {
            let texts: Vec<String> = batch.iter().map(|(_, json)| json.clone()).collect();
            match publisher.publish(channel, &texts).await {
                Ok(refused) => {
                    failed.extend(refused.into_iter().filter_map(|i| batch.get(i)).map(|(record, _)| *record))
                }
                Err(err) => {
                    tracing::warn!(channel, error = %err, "publish failed");
                    failed.extend(batch.iter().map(|(record, _)| *record));
                }
            }
        }
    }
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|index| {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = event.records[index].change.sequence_number.clone();
            failure
        })
        .collect();
    Ok(response)
}
