use std::sync::Arc;

use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use shared::app::App;
use shared::sessions::start_session;
use shared::store::{EmbeddedStore, Store};
use shared::testing::{TestRequest, body_json, call, in_memory_app, user_with_token};

fn refresh_request(token: &str) -> TestRequest {
    TestRequest::new("POST", "/token/refresh").json(&json!({ "refresh_token": token }))
}

/// A session as login starts one: its response body.
async fn logged_in(app: &App<impl Store>) -> Value {
    let (user, _) = user_with_token(app, "ada@example.com", "Ada").await;
    body_json(&start_session(app, &user, None, StatusCode::OK, None).await.unwrap())
}

fn refresh_token_of(body: &Value) -> &str {
    body["refresh_token"].as_str().unwrap()
}

#[tokio::test]
async fn a_refresh_token_is_exchanged_once_for_new_tokens() {
    let app = in_memory_app();
    let session = logged_in(&app).await;
    let response = call(refresh_token::handle, &app, refresh_request(refresh_token_of(&session)).http_api()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let renewed = body_json(&response);
    let claims = app.tokens.verify(renewed["access_token"].as_str().unwrap()).unwrap();
    assert_eq!((claims.sub.as_str(), claims.name.as_str()), (session["user"]["id"].as_str().unwrap(), "Ada"));
    assert_eq!((renewed["expires_in"].as_u64(), renewed["token_type"].as_str()), (Some(900), Some("Bearer")));
    assert_ne!(renewed["refresh_token"], session["refresh_token"]);
    let again = call(refresh_token::handle, &app, refresh_request(refresh_token_of(&renewed)).http_api()).await;
    assert_eq!(again.status(), StatusCode::OK, "the new one works in turn");
}

#[tokio::test]
async fn a_replayed_token_is_401_and_ends_the_session_for_everyone() {
    let app = in_memory_app();
    let session = logged_in(&app).await;
    let stolen = refresh_token_of(&session).to_owned();
    let renewed = body_json(&call(refresh_token::handle, &app, refresh_request(&stolen).http_api()).await);
    let replay = call(refresh_token::handle, &app, refresh_request(&stolen).http_api()).await;
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(&replay)["error"]["code"], "invalid_refresh_token");
    let current = call(refresh_token::handle, &app, refresh_request(refresh_token_of(&renewed)).http_api()).await;
    assert_eq!(current.status(), StatusCode::UNAUTHORIZED, "the family is revoked: the current token too");
}

#[tokio::test]
async fn two_racing_refreshes_with_one_token_one_succeeds() {
    let app = Arc::new(in_memory_app());
    let session = logged_in(&*app).await;
    let token = refresh_token_of(&session).to_owned();
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let (app, req) = (Arc::clone(&app), refresh_request(&token).http_api());
            tokio::spawn(async move { call(refresh_token::handle, &*app, req).await.status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for racer in racers {
        statuses.push(racer.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401]);
}

#[tokio::test]
async fn bad_requests_are_client_errors() {
    let app = in_memory_app();
    logged_in(&app).await;
    let cases = [
        (TestRequest::new("POST", "/token/refresh").json(&json!({})), StatusCode::UNPROCESSABLE_ENTITY),
        (
            TestRequest::new("POST", "/token/refresh").json(&json!({"refresh_token": ""})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (TestRequest::new("POST", "/token/refresh").json(&json!({"refresh_token": 5})), StatusCode::BAD_REQUEST),
        (TestRequest::new("POST", "/token/refresh").raw_body("{"), StatusCode::BAD_REQUEST),
        (refresh_request("never-issued"), StatusCode::UNAUTHORIZED),
        (refresh_request(&"x".repeat(100_000)), StatusCode::UNAUTHORIZED),
    ];
    for (req, status) in cases {
        assert_eq!(call(refresh_token::handle, &app, req.http_api()).await.status(), status);
    }
}

#[tokio::test]
async fn the_store_keeps_only_a_hash_of_each_refresh_token() {
    let dir = std::env::temp_dir().join(format!("refresh-hash-{}", shared::model::new_id(shared::model::now())));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("blog.redb");
    let app = shared::testing::dev_app(EmbeddedStore::open(&path).unwrap());
    let session = logged_in(&app).await;
    let renewed =
        body_json(&call(refresh_token::handle, &app, refresh_request(refresh_token_of(&session)).http_api()).await);
    drop(app);
    let bytes = std::fs::read(&path).unwrap();
    let contains = |needle: &str| bytes.windows(needle.len()).any(|window| window == needle.as_bytes());
    for token in [refresh_token_of(&session), refresh_token_of(&renewed)] {
        assert!(!contains(token), "a refresh token is stored as issued");
        assert!(contains(&shared::auth::refresh_token_hash(token)), "its hash is what is stored");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
