//! A full signup → its verification mail delivered → email verified (and the used token
//! refused) → login (also from a trusted device) → create-post → list → refresh → logout →
//! sessions listed, one ended, all ended → forgotten password reset → account deleted flow, with every log line of every crate
//! captured at TRACE (through the same filter the functions use, which caps the SDK's
//! wire logs): no password, password hash, token or JWT secret may appear. Runs on
//! the embedded store and, where a local DynamoDB is configured, on DynamoDB (SDK logs
//! included); under CI that DynamoDB run is required.
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::prelude::*;

use axum::http::StatusCode;
use serde_json::json;
use shared::model::MailRequest;
use shared::store::{DynamoStore, EmbeddedStore, Store};
use shared::testing::{deliver_now, dev_app, dev_signing_keys, token_in};
use support::{bearer_request, get, json_request, router, send};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a reset passphrase";

/// Runs the flow on `store`; returns every secret it saw.
async fn flow<S: Store + Clone + 'static>(store: &S, email: &str) -> Vec<String> {
    let router = router(dev_app(store.clone()));
    let (status, signup) = send(
        &router,
        json_request("POST", "/signup", &json!({"email": email, "password": PASSWORD, "display_name": "Ada"}), None),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{signup}");
    let hash_at = |store: &S| {
        let store = store.clone();
        let email = email.to_owned();
        async move { store.login_state(&email, &[], None).await.unwrap().credentials.unwrap().password_hash.unwrap() }
    };
    let first_hash = hash_at(store).await;
    let user_id = signup["user"]["id"].as_str().unwrap().to_owned();
    let message = deliver_now(store, &MailRequest::VerifyEmail { user_id }).await;
    let mailed_token = token_in(&message);
    let verify = json!({ "token": mailed_token });
    let (status, _) = send(&router, json_request("POST", "/email/verify", &verify, None)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(&router, json_request("POST", "/email/verify", &verify, None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, login) =
        send(&router, json_request("POST", "/login", &json!({"email": email, "password": PASSWORD}), None)).await;
    assert_eq!(status, StatusCode::OK);
    let device_token = login["device_token"].as_str().unwrap().to_owned();
    let from_device = json!({"email": email, "password": PASSWORD, "device_token": device_token});
    let (status, _) = send(&router, json_request("POST", "/login", &from_device, None)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) =
        send(&router, json_request("POST", "/login", &json!({"email": email, "password": "wrong password!"}), None))
            .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let token = login["access_token"].as_str().unwrap().to_owned();
    let (status, _) =
        send(&router, json_request("POST", "/posts", &json!({"title": "Hi", "body": "There"}), Some(&token))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = send(&router, get("/posts")).await;
    assert_eq!(status, StatusCode::OK);
    let refresh_token = signup["refresh_token"].as_str().unwrap().to_owned();
    let body = json!({ "refresh_token": refresh_token });
    let (status, refreshed) = send(&router, json_request("POST", "/token/refresh", &body, None)).await;
    assert_eq!(status, StatusCode::OK);
    // The replay is logged as a warning: the token itself must not be.
    let (status, _) = send(&router, json_request("POST", "/token/refresh", &body, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(&router, json_request("POST", "/logout", &body, None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // The account's sessions: listed, one ended, then all.
    let (status, listed) = send(&router, bearer_request("GET", "/me/sessions", &token)).await;
    assert_eq!(status, StatusCode::OK);
    let first = listed["sessions"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = send(&router, bearer_request("DELETE", &format!("/me/sessions/{first}"), &token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(&router, bearer_request("POST", "/logout/all", &token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // A forgotten password, reset from the mailed link.
    let (status, _) = send(&router, json_request("POST", "/password/forgot", &json!({ "email": email }), None)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let message = deliver_now(store, &MailRequest::ResetPassword { email: email.to_owned() }).await;
    let reset_token = token_in(&message);
    let reset = json!({ "token": reset_token, "new_password": NEW_PASSWORD });
    let (status, _) = send(&router, json_request("POST", "/password/reset", &reset, None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let reset_hash = hash_at(store).await;
    // The email is verified already; then the account goes, with the new password.
    let (status, _) = send(&router, bearer_request("POST", "/email/verify/resend", &token)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let delete = json!({ "password": NEW_PASSWORD });
    let (status, _) = send(&router, json_request("DELETE", "/me", &delete, Some(&token))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    vec![
        first_hash,
        reset_hash,
        reset_token,
        mailed_token,
        signup["access_token"].as_str().unwrap().to_owned(),
        token,
        refresh_token,
        login["refresh_token"].as_str().unwrap().to_owned(),
        device_token,
        signup["device_token"].as_str().unwrap().to_owned(),
        refreshed["refresh_token"].as_str().unwrap().to_owned(),
        refreshed["access_token"].as_str().unwrap().to_owned(),
    ]
}

#[test]
fn no_secret_is_ever_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::registry()
        .with(shared::logging::filter("trace"))
        .with(tracing_subscriber::fmt::layer().with_writer(move || writer.clone()).with_ansi(false));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut secrets = vec![PASSWORD.to_owned(), NEW_PASSWORD.to_owned(), "wrong password!".to_owned()];
    secrets.extend(dev_signing_keys().keys.into_iter().map(|key| key.d));
    runtime.block_on(async {
        let store = EmbeddedStore::in_memory().unwrap();
        secrets.extend(flow(&store, "ada@example.com").await);

        if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some() {
            let client = aws_sdk_dynamodb::Client::new(&shared::aws::load_sdk_config().await.unwrap());
            let table = format!("logs-{}", std::process::id());
            shared::template::create_table(&client, &table).await.unwrap();
            let store = DynamoStore::new(client, table);
            secrets.extend(flow(&store, "ada@example.com").await);
        } else {
            assert!(std::env::var_os("CI").is_none(), "CI must run this test against DynamoDB too");
            eprintln!("SKIPPED: the DynamoDB half (AWS_ENDPOINT_URL_DYNAMODB is not set)");
        }
    });

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("POST /signup 201"), "the capture works: {}", &log[..log.len().min(2000)]);
    for secret in &secrets {
        // A token's signature alone must not appear either.
        let needle = secret.rsplit('.').next().unwrap_or(secret);
        if let Some(line) = log.lines().find(|line| line.contains(needle)) {
            panic!("a secret was logged: {needle}\nin: {}", &line[..line.len().min(400)]);
        }
    }
}
