//! `POST /auth/google` on the embedded store, with a local stand-in for Google's keys.
use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use shared::config::GoogleConfig;
use shared::google::GoogleSignIn;
use shared::model::Identity;
use shared::store::IdentityStore;
use shared::testing::{GoogleTestKeys, TestRequest, body_json, call, google_app, google_claims, in_memory_app};

fn sign_in_request(credential: &str) -> lambda_http::Request {
    TestRequest::new("POST", "/auth/google").json(&json!({ "credential": credential })).http_api()
}

fn token(claims: &Value) -> String {
    GoogleTestKeys::load().id_token(0, claims)
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    claims
}

#[tokio::test]
async fn the_first_sign_in_makes_the_account_and_later_ones_sign_in_to_it() {
    let (app, _google) = google_app().await;
    let first =
        call(google_sign_in::handle, &app, sign_in_request(&token(&google_claims("1", "Grace@Example.com")))).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(first.headers()["cache-control"], "no-store");
    let session = body_json(&first);
    assert_eq!(session["user"]["email"], "grace@example.com", "normalised as signup does");
    assert_eq!(session["user"]["display_name"], "Ada Lovelace");
    assert_eq!(session["user"]["sign_in_methods"], json!(["google"]));
    assert!(app.tokens.verify(session["access_token"].as_str().unwrap()).is_ok());
    assert!(session["refresh_token"].is_string() && session["device_token"].is_string());

    let renamed = with(google_claims("1", "grace.new@example.com"), json!({"name": "Someone Else"}));
    let again = call(google_sign_in::handle, &app, sign_in_request(&token(&renamed))).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(body_json(&again)["user"], session["user"], "the account is the sub's, whatever the claims say now");
}

#[tokio::test]
async fn a_new_account_needs_a_verified_email_that_no_account_has() {
    let (app, _google) = google_app().await;
    for unverified in [
        with(google_claims("2", "eve@example.com"), json!({"email_verified": false})),
        with(google_claims("2", "eve@example.com"), json!({"email": null})),
    ] {
        let response = call(google_sign_in::handle, &app, sign_in_request(&token(&unverified))).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(body_json(&response)["error"]["code"], "email_not_verified");
    }

    let signup = TestRequest::new("POST", "/signup")
        .json(&json!({"email": "ada@example.com", "password": "a-fine-passphrase", "display_name": "Ada"}))
        .http_api();
    assert_eq!(call(signup::handle, &app, signup).await.status(), StatusCode::CREATED);
    let response =
        call(google_sign_in::handle, &app, sign_in_request(&token(&google_claims("3", "ADA@example.com")))).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(&response)["error"]["code"], "account_exists");
    assert_eq!(app.store.user_by_identity(&Identity::google("3")).await.unwrap(), None, "nothing was linked");
}

#[tokio::test]
async fn a_google_only_account_has_no_password() {
    let (app, _google) = google_app().await;
    let made =
        call(google_sign_in::handle, &app, sign_in_request(&token(&google_claims("4", "grace@example.com")))).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let login = |email: &str| {
        TestRequest::new("POST", "/login")
            .json(&json!({"email": email, "password": "whatever she tries"}))
            .source_ip("198.51.100.1")
            .http_api()
    };
    let google_only = call(login::handle, &app, login("grace@example.com")).await;
    let unknown = call(login::handle, &app, login("nobody@example.com")).await;
    assert_eq!(google_only.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(&google_only), body_json(&unknown), "the same answer as any wrong password");
    let signup = TestRequest::new("POST", "/signup")
        .json(&json!({"email": "grace@example.com", "password": "a-fine-passphrase", "display_name": "G"}))
        .http_api();
    let response = call(signup::handle, &app, signup).await;
    assert_eq!(
        (response.status(), body_json(&response)["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("email_taken"))
    );
}

#[tokio::test]
async fn racing_first_sign_ins_make_one_account() {
    let (app, _google) = google_app().await;
    let app = std::sync::Arc::new(app);
    let credential = token(&google_claims("5", "race@example.com"));
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (app, credential) = (std::sync::Arc::clone(&app), credential.clone());
        racers.spawn(async move {
            let response = call(google_sign_in::handle, &app, sign_in_request(&credential)).await;
            (response.status().as_u16(), body_json(&response)["user"]["id"].as_str().unwrap_or_default().to_owned())
        });
    }
    let answers = racers.join_all().await;
    let mut statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 201]);
    let ids: std::collections::BTreeSet<&String> = answers.iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 1, "one account: {ids:?}");
}

#[tokio::test]
async fn a_refused_credential_is_401_and_unreachable_keys_503() {
    let (app, google) = google_app().await;
    let expired = with(google_claims("6", "a@example.com"), json!({"exp": 1_000_000_000}));
    let response = call(google_sign_in::handle, &app, sign_in_request(&token(&expired))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_json(&response)["error"]["code"], "invalid_credentials");

    let unreachable = in_memory_app().with_google(GoogleSignIn::new(GoogleConfig {
        jwks_url: "http://127.0.0.1:9/certs".into(),
        ..google.config()
    }));
    let response =
        call(google_sign_in::handle, &unreachable, sign_in_request(&token(&google_claims("6", "a@b.co")))).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body_json(&response)["error"]["code"], "service_unavailable");
}

#[tokio::test]
async fn without_a_client_id_the_route_says_google_sign_in_is_off() {
    let app = in_memory_app();
    let response = call(google_sign_in::handle, &app, sign_in_request("anything")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(&response)["error"]["code"], "google_sign_in_disabled");
    assert!(body_json(&response)["error"]["message"].as_str().unwrap().contains("GoogleClientIds"));
}
