//! The custom resource against Secrets Manager (moto, at `AWS_ENDPOINT_URL_SECRETS_MANAGER`)
//! and a local listener standing in for CloudFormation's response URL. Skipped without
//! that variable, except under CI, where it fails.
use std::sync::{Arc, Mutex};

use aws_lambda_events::cloudformation::CloudFormationCustomResourceResponse;
use serde_json::{Value, json};
use shared::auth::signing_keys::{PrivateJwkSet, PublicJwkSet};
use signing_key::{Request, Responder, handle};

async fn secrets() -> Option<aws_sdk_secretsmanager::Client> {
    if std::env::var_os("AWS_ENDPOINT_URL_SECRETS_MANAGER").is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must run this against Secrets Manager (moto)");
        eprintln!("SKIPPED: AWS_ENDPOINT_URL_SECRETS_MANAGER is not set");
        return None;
    }
    Some(aws_sdk_secretsmanager::Client::new(&shared::aws::load_sdk_config().await.unwrap()))
}

/// A stand-in for CloudFormation's presigned response URL: keeps every body PUT to it.
async fn response_url() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = received.clone();
    let app = axum::Router::new().route(
        "/response",
        axum::routing::put(move |body: axum::body::Bytes| async move {
            kept.lock().unwrap().push(serde_json::from_slice::<Value>(&body).unwrap());
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/response", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

fn request(kind: &str, url: &str, secret_id: &str, rotation: &str, old_rotation: &str) -> Request {
    serde_json::from_value(json!({
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:signing-key",
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/blog/1",
        "RequestId": format!("request-{kind}-{rotation}"),
        "ResourceType": "Custom::SigningKeys",
        "LogicalResourceId": "SigningKeys",
        "PhysicalResourceId": secret_id,
        "ResourceProperties": {"ServiceToken": "arn", "SecretId": secret_id, "Rotation": rotation},
        "OldResourceProperties": {"ServiceToken": "arn", "SecretId": secret_id, "Rotation": old_rotation},
    }))
    .unwrap()
}

async fn stored(secrets: &aws_sdk_secretsmanager::Client, id: &str) -> PrivateJwkSet {
    let value = secrets.get_secret_value().secret_id(id).send().await.unwrap();
    PrivateJwkSet::from_json(value.secret_string().unwrap()).unwrap()
}

fn published(response: &Value) -> PublicJwkSet {
    serde_json::from_str(response["Data"]["PublicJwks"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn makes_keeps_and_rotates_the_key_set_and_always_answers() {
    let Some(secrets) = secrets().await else { return };
    let id = format!("signing-keys-{}", std::process::id());
    secrets.create_secret().name(&id).secret_string("{\"keys\": []}").send().await.unwrap();
    let (url, received) = response_url().await;
    let responder = Responder::new().unwrap();
    let last = || received.lock().unwrap().last().cloned().unwrap();

    handle(&secrets, &responder, request("Create", &url, &id, "1", "")).await.unwrap();
    let created = last();
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(
        (created["PhysicalResourceId"].as_str(), created["LogicalResourceId"].as_str()),
        (Some(&*id), Some("SigningKeys"))
    );
    let first = stored(&secrets, &id).await;
    assert_eq!(first.keys.len(), 1);
    assert_eq!(published(&created), first.public());
    assert!(!created.to_string().contains(&first.keys[0].d), "the private key never leaves the secret");

    handle(&secrets, &responder, request("Update", &url, &id, "1", "1")).await.unwrap();
    assert_eq!(stored(&secrets, &id).await, first, "an update that does not rotate keeps the set");
    assert_eq!(published(&last()), first.public());

    handle(&secrets, &responder, request("Update", &url, &id, "2", "1")).await.unwrap();
    let rotated = stored(&secrets, &id).await;
    assert_eq!(rotated.keys.len(), 2);
    assert_eq!(rotated.keys[1], first.keys[0], "the old key still verifies what it signed");
    assert_ne!(rotated.keys[0].kid, first.keys[0].kid, "a new key signs");
    assert_eq!(published(&last()), rotated.public());

    let fresh = format!("{id}-replaced");
    secrets.create_secret().name(&fresh).secret_string("{\"keys\": []}").send().await.unwrap();
    handle(&secrets, &responder, request("Update", &url, &fresh, "2", "2")).await.unwrap();
    let first_of_fresh = stored(&secrets, &fresh).await;
    assert_eq!((last()["Status"].as_str(), first_of_fresh.keys.len()), (Some("SUCCESS"), 1), "a new secret gets a set");
    assert_eq!(published(&last()), first_of_fresh.public());

    handle(&secrets, &responder, request("Delete", &url, &id, "2", "")).await.unwrap();
    assert_eq!(last()["Status"], "SUCCESS");
    assert_eq!(stored(&secrets, &id).await, rotated, "the secret goes with the stack, not here");

    handle(&secrets, &responder, request("Update", &url, "no-such-secret", "3", "2")).await.unwrap();
    let failed = last();
    assert_eq!(failed["Status"], "FAILED", "{failed}");
    assert!(failed["Reason"].as_str().unwrap().contains("Secrets Manager"), "{failed}");
    assert_eq!(received.lock().unwrap().len(), 6, "every request was answered");
    let _: Vec<CloudFormationCustomResourceResponse> =
        received.lock().unwrap().iter().map(|r| serde_json::from_value(r.clone()).unwrap()).collect();
}
