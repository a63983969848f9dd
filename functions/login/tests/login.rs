use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use shared::app::App;
use shared::store::{EmbeddedStore, Rotation, UserStore};
use shared::testing::{TestRequest, body_json, call, in_memory_app};

const PASSWORD: &str = "correct horse battery staple";

async fn app_with_ada() -> App<EmbeddedStore> {
    let app = in_memory_app();
    let body = json!({"email": "ada@example.com", "password": PASSWORD, "display_name": "Ada"});
    let response = call(signup::handle, &app, TestRequest::new("POST", "/signup").json(&body).http_api()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    app
}

async fn login(app: &App<EmbeddedStore>, body: &Value) -> Response<Body> {
    call(login::handle, app, TestRequest::new("POST", "/login").json(body).http_api()).await
}

#[tokio::test]
async fn right_password_returns_a_session_for_the_same_user() {
    let app = app_with_ada().await;
    for email in ["ada@example.com", "  ADA@example.com ", "ＡＤＡ@example.com"] {
        let response = login(&app, &json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body = body_json(&response);
        assert_eq!(body["user"]["email"], "ada@example.com");
        assert_eq!(body["token_type"], "Bearer");
        let claims = app.tokens.verify(body["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(claims.sub, body["user"]["id"].as_str().unwrap());
        let rotation = shared::testing::present_refresh_token(&app, &body).await;
        assert!(matches!(rotation, Rotation::Rotated(session) if session.user_id == claims.sub), "a session per login");
        assert!(!body.to_string().contains("argon2"));
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_identical_answers() {
    let app = app_with_ada().await;
    let wrong_password = login(&app, &json!({"email": "ada@example.com", "password": "wrong password"})).await;
    let unknown_email = login(&app, &json!({"email": "nobody@example.com", "password": PASSWORD})).await;
    // The password is checked exactly as sent: no trimming.
    let padded = login(&app, &json!({"email": "ada@example.com", "password": format!(" {PASSWORD}")})).await;
    for response in [&wrong_password, &unknown_email, &padded] {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(body_json(response)["error"]["code"], "invalid_credentials");
    }
    assert_eq!(wrong_password.body().as_ref(), unknown_email.body().as_ref());
    assert_eq!(wrong_password.headers(), unknown_email.headers());
}

#[tokio::test]
async fn missing_fields_are_422_and_bad_json_400() {
    let app = app_with_ada().await;
    let response = login(&app, &json!({"email": "ada@example.com"})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(&response)["error"]["details"][0]["field"], "password");
    let response = login(&app, &json!({"email": "ada@example.com", "password": ["x"]})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_email_longer_than_any_account_is_422_without_reaching_the_store() {
    // The unreachable store answers 503 to anything that reaches it; DynamoDB would refuse
    // such a key outright (a 500 before this rule).
    let app = shared::testing::unreachable_dynamo_app();
    let longest = format!("{}@example.com", "a".repeat(242));
    for (email, status) in
        [(format!("a{longest}"), StatusCode::UNPROCESSABLE_ENTITY), (longest, StatusCode::SERVICE_UNAVAILABLE)]
    {
        let req = TestRequest::new("POST", "/login").json(&json!({"email": email, "password": PASSWORD}));
        let response = call(login::handle, &app, req.http_api()).await;
        assert_eq!(response.status(), status, "{} characters", email.chars().count());
    }
    let req = TestRequest::new("POST", "/login").json(&json!({"email": "a".repeat(3000), "password": PASSWORD}));
    let response = call(login::handle, &app, req.http_api()).await;
    assert_eq!(body_json(&response)["error"]["details"][0]["field"], "email");
}

async fn attempt(app: &App<EmbeddedStore>, email: &str, password: &str, forwarded_for: &str) -> Response<Body> {
    let req = TestRequest::new("POST", "/login")
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": email, "password": password}));
    call(login::handle, app, req.http_api()).await
}

#[tokio::test]
async fn five_failures_lock_the_account_whatever_the_claimed_ip() {
    let app = app_with_ada().await;
    for i in 0..shared::auth::throttle::MAX_FAILURES {
        let response = attempt(&app, "ada@example.com", "wrong password", &format!("198.51.100.{i}")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Even the right password, from a "new" address, is refused while locked.
    let locked = attempt(&app, "ada@example.com", PASSWORD, "203.0.113.99").await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body_json(&locked)["error"]["code"], "too_many_attempts");
    let retry_after: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    // Other accounts are unaffected.
    let other = json!({"email": "grace@example.com", "password": PASSWORD, "display_name": "Grace"});
    call(signup::handle, &app, TestRequest::new("POST", "/signup").json(&other).http_api()).await;
    assert_eq!(attempt(&app, "grace@example.com", PASSWORD, "198.51.100.1").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_emails_are_throttled_exactly_like_known_ones() {
    let app = app_with_ada().await;
    let mut statuses = Vec::new();
    for email in ["ada@example.com", "nobody@example.com"] {
        let mut these = Vec::new();
        for _ in 0..=shared::auth::throttle::MAX_FAILURES {
            these.push(attempt(&app, email, "wrong password", "198.51.100.1").await.status().as_u16());
        }
        statuses.push(these);
    }
    assert_eq!(statuses[0], statuses[1]);
    assert_eq!(statuses[0], [401, 401, 401, 401, 401, 429]);
}

#[tokio::test]
async fn a_success_resets_the_count() {
    let app = app_with_ada().await;
    for round in 0..2 {
        for _ in 0..shared::auth::throttle::MAX_FAILURES - 1 {
            assert_eq!(attempt(&app, "ada@example.com", "wrong", "x").await.status(), StatusCode::UNAUTHORIZED);
        }
        assert_eq!(attempt(&app, "ada@example.com", PASSWORD, "x").await.status(), StatusCode::OK, "round {round}");
    }
    assert_eq!(app.store.login_state("ada@example.com").await.unwrap().failures, None);
}

#[tokio::test]
async fn a_lockout_ends() {
    let app = app_with_ada().await;
    let long_ago = shared::model::now() - time::Duration::seconds(31);
    for _ in 0..shared::auth::throttle::MAX_FAILURES {
        app.store.record_login_failure("ada@example.com", long_ago).await.unwrap();
    }
    assert_eq!(attempt(&app, "ada@example.com", PASSWORD, "x").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_weaker_stored_hash_is_upgraded_on_login() {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
    let app = in_memory_app();
    let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8192, 1, 1, None).unwrap())
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    let created_at = shared::model::now();
    let user = shared::model::User {
        id: shared::model::new_id(created_at),
        email: "old@example.com".into(),
        display_name: "Old Timer".into(),
        created_at,
    };
    app.store.create_user(&shared::model::Credentials { user, password_hash: weak.clone() }).await.unwrap();

    assert_eq!(attempt(&app, "old@example.com", PASSWORD, "x").await.status(), StatusCode::OK);
    let stored = app.store.login_state("old@example.com").await.unwrap().credentials.unwrap().password_hash;
    assert_ne!(stored, weak);
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    assert!(!shared::auth::needs_rehash(&stored));
    assert_eq!(attempt(&app, "old@example.com", PASSWORD, "x").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn passwords_are_compared_in_their_nfkc_form() {
    let app = in_memory_app();
    let body = json!({"email": "zoe@example.com", "password": "ｗｉｄｅ ｐａｓｓｐｈｒａｓｅ", "display_name": "Zoë"});
    let response = call(signup::handle, &app, TestRequest::new("POST", "/signup").json(&body).http_api()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    for password in ["ｗｉｄｅ ｐａｓｓｐｈｒａｓｅ", "wide passphrase", "wide\u{a0}passphrase"] {
        assert_eq!(attempt(&app, "zoe@example.com", password, "x").await.status(), StatusCode::OK, "{password}");
    }
    assert_eq!(attempt(&app, "zoe@example.com", "WIDE PASSPHRASE", "x").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_hash_of_a_password_as_sent_still_logs_in_and_is_replaced_by_its_nfkc_form() {
    let app = in_memory_app();
    let as_sent = "ｗｉｄｅ ｐａｓｓｐｈｒａｓｅ";
    let created_at = shared::model::now();
    let user = shared::model::User {
        id: shared::model::new_id(created_at),
        email: "old@example.com".into(),
        display_name: "Old Timer".into(),
        created_at,
    };
    let legacy = shared::auth::hash_password(as_sent.into()).await.unwrap();
    app.store.create_user(&shared::model::Credentials { user, password_hash: legacy.clone() }).await.unwrap();
    assert_eq!(attempt(&app, "old@example.com", "wide passphrase", "x").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(attempt(&app, "old@example.com", as_sent, "x").await.status(), StatusCode::OK);
    let stored = app.store.login_state("old@example.com").await.unwrap().credentials.unwrap().password_hash;
    assert_ne!(stored, legacy, "the hash is now of the NFKC form");
    assert_eq!(attempt(&app, "old@example.com", "wide passphrase", "x").await.status(), StatusCode::OK);
}
