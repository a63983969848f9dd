//! The publisher against a local stand-in for the AppSync Events HTTP endpoint, with the
//! DynamoDB stream event Lambda sends (`tests/data/stream-event.json`, the real shape).
use std::sync::{Arc, Mutex, PoisonError};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use publish_post_events::{Event, Publisher, handle};
use serde_json::{Value, json};

/// What the stand-in received, and how it answers.
#[derive(Default)]
struct Endpoint {
    publishes: Vec<(HeaderMap, Value)>,
    /// Refuse the event at this index of publishes to this channel.
    refuse: Option<(String, usize)>,
    /// Answer every publish with a 500.
    failing: bool,
}

type Shared = Arc<Mutex<Endpoint>>;

async fn publish(State(endpoint): State<Shared>, headers: HeaderMap, body: String) -> (StatusCode, String) {
    let mut endpoint = endpoint.lock().unwrap_or_else(PoisonError::into_inner);
    let body: Value = serde_json::from_str(&body).unwrap();
    let channel = body["channel"].as_str().unwrap().to_owned();
    let count = body["events"].as_array().unwrap().len();
    endpoint.publishes.push((headers, body));
    if endpoint.failing {
        return (StatusCode::INTERNAL_SERVER_ERROR, "{}".into());
    }
    let refused = endpoint.refuse.as_ref().filter(|(c, _)| *c == channel).map(|(_, index)| *index);
    let successful: Vec<Value> = (0..count)
        .filter(|i| Some(*i) != refused)
        .map(|i| json!({"identifier": format!("id-{i}"), "index": i}))
        .collect();
    let failed: Vec<Value> = refused
        .filter(|i| *i < count)
        .map(|i| json!({"identifier": format!("id-{i}"), "index": i, "errorCode": 400, "errorMessage": "refused"}))
        .into_iter()
        .collect();
    (StatusCode::OK, json!({"successful": successful, "failed": failed}).to_string())
}

async fn stand_in() -> (Publisher, Shared) {
    let endpoint = Shared::default();
    let app = axum::Router::new().route("/event", axum::routing::post(publish)).with_state(Arc::clone(&endpoint));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/event", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        )))
        .build();
    (Publisher::new(&config, url).unwrap(), endpoint)
}

fn sample() -> Event {
    serde_json::from_str(include_str!("data/stream-event.json")).unwrap()
}

fn sequence_numbers(response: &aws_lambda_events::event::streams::DynamoDbEventResponse) -> Vec<String> {
    response.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect()
}

#[tokio::test]
async fn every_change_is_published_on_the_feed_and_the_authors_channel_signed() {
    let (publisher, endpoint) = stand_in().await;
    let response = handle(&publisher, sample()).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    let endpoint = endpoint.lock().unwrap();
    let channels: Vec<&str> = endpoint.publishes.iter().map(|(_, body)| body["channel"].as_str().unwrap()).collect();
    assert_eq!(channels, ["/posts/authors/01KAQZ8Y4M1W2X3V5T6R7P8N9B", "/posts/feed"]);
    for (headers, body) in &endpoint.publishes {
        let events: Vec<Value> = body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| serde_json::from_str(e.as_str().unwrap()).unwrap())
            .collect();
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["post.created", "post.updated", "post.deleted"], "in stream order");
        assert_eq!(events[0]["post"]["title"], "Hello, realtime");
        assert_eq!(
            events[0]["post"]["author"],
            json!({"id": "01KAQZ8Y4M1W2X3V5T6R7P8N9B", "display_name": "Ada Lovelace"})
        );
        assert_eq!(
            (events[1]["post"]["version"].as_u64(), &events[1]["post"]["updated_at"]),
            (Some(2), &json!("2026-11-30T12:01:00Z"))
        );
        assert_eq!(
            events[2]["post"],
            json!({"id": "01KAQZ8Y4M1W2X3V5T6R7P8N9P", "author": {"id": "01KAQZ8Y4M1W2X3V5T6R7P8N9B", "display_name": "Ada Lovelace"}, "version": 2})
        );
        let authorization = headers["authorization"].to_str().unwrap();
        assert!(authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"), "{authorization}");
        assert!(authorization.contains("/us-east-1/appsync/aws4_request"), "{authorization}");
        assert!(authorization.contains("SignedHeaders=content-type;host;x-amz-date"), "{authorization}");
        assert!(headers.contains_key("x-amz-date"));
    }
}

#[tokio::test]
async fn publishes_carry_at_most_five_events() {
    let (publisher, endpoint) = stand_in().await;
    let mut event = sample();
    let insert = event.records[0].clone();
    event.records = (0..7)
        .map(|i| {
            let mut record = insert.clone();
            record.change.sequence_number = Some(format!("{i:024}"));
            record
        })
        .collect();
    assert!(handle(&publisher, event).await.unwrap().batch_item_failures.is_empty());
    let sizes: Vec<usize> =
        endpoint.lock().unwrap().publishes.iter().map(|(_, body)| body["events"].as_array().unwrap().len()).collect();
    assert_eq!(sizes, [5, 2, 5, 2]);
}

#[tokio::test]
async fn refused_and_failed_publishes_report_their_records_only() {
    let (publisher, endpoint) = stand_in().await;
    endpoint.lock().unwrap().refuse = Some(("/posts/feed".into(), 1));
    let response = handle(&publisher, sample()).await.unwrap();
    assert_eq!(sequence_numbers(&response), ["111100000000000000000002"], "the update, refused on the feed");

    let (publisher, endpoint) = stand_in().await;
    endpoint.lock().unwrap().failing = true;
    let response = handle(&publisher, sample()).await.unwrap();
    assert_eq!(sequence_numbers(&response).len(), 3, "every record of a failed publish is retried");
}

#[tokio::test]
async fn an_unreadable_record_is_reported_and_the_rest_published_while_other_items_are_ignored() {
    let (publisher, endpoint) = stand_in().await;
    let mut event = sample();
    let mut broken = event.records[0].clone();
    broken.change.new_image.remove("title");
    broken.change.sequence_number = Some("111100000000000000000000".into());
    let mut user = event.records[0].clone();
    user.change
        .new_image
        .insert("pk".into(), serde_dynamo::AttributeValue::S("USER#01KAQZ8Y4M1W2X3V5T6R7P8N9B".into()));
    event.records.insert(0, broken);
    event.records.push(user);
    let response = handle(&publisher, event).await.unwrap();
    assert_eq!(sequence_numbers(&response), ["111100000000000000000000"]);
    let endpoint = endpoint.lock().unwrap();
    let published: usize = endpoint.publishes.iter().map(|(_, body)| body["events"].as_array().unwrap().len()).sum();
    assert_eq!(published, 6, "three changes, two channels each; nothing for the user item");
}
