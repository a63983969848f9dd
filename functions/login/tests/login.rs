use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use shared::app::App;
use shared::auth::throttle::{AttemptCounter, PER_ACCOUNT, PER_ADDRESS, PER_DEVICE};
use shared::store::{EmbeddedStore, LoginStore, Rotation, UserStore};
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
        assert!(
            matches!(rotation, Rotation::Rotated { user, .. } if user.user_id == claims.sub),
            "a session per login"
        );
        assert!(!body.to_string().contains("argon2"));
        assert!(body["device_token"].as_str().is_some_and(|t| t.len() >= 43), "every login trusts its device");
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

async fn attempt(app: &App<EmbeddedStore>, email: &str, password: &str, address: &str) -> Response<Body> {
    attempt_with(app, &json!({"email": email, "password": password}), address).await
}

async fn attempt_with(app: &App<EmbeddedStore>, body: &Value, address: &str) -> Response<Body> {
    // A client-set X-Forwarded-For that changes every time: it must change nothing.
    let forged = format!("198.18.0.{}", rand_octet());
    let req = TestRequest::new("POST", "/login").source_ip(address).header("x-forwarded-for", &forged).json(body);
    call(login::handle, app, req.http_api()).await
}

fn rand_octet() -> u8 {
    use std::sync::atomic::{AtomicU8, Ordering};
    static NEXT: AtomicU8 = AtomicU8::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn retry_after(response: &Response<Body>) -> u64 {
    response.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn five_failures_lock_out_that_address_not_the_owner() {
    let app = app_with_ada().await;
    for i in 0..PER_ADDRESS.max {
        let response = attempt(&app, "ada@example.com", "wrong password", "198.51.100.7").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // From that address even the right password waits, whatever header it sends…
    let locked = attempt(&app, "ada@example.com", PASSWORD, "198.51.100.7").await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body_json(&locked)["error"]["code"], "too_many_attempts");
    assert!((1..=30).contains(&retry_after(&locked)), "{}", retry_after(&locked));
    // …while the owner, from another address, gets in.
    assert_eq!(attempt(&app, "ada@example.com", PASSWORD, "203.0.113.99").await.status(), StatusCode::OK);
    // The REST API (payload 1.0) names the address in another place; it counts the same.
    let rest = TestRequest::new("POST", "/login")
        .source_ip("198.51.100.7")
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}));
    assert_eq!(call(login::handle, &app, rest.rest_api()).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_refused_attempt_counts_on_no_counter() {
    let app = app_with_ada().await;
    for _ in 0..PER_ADDRESS.max + 3 {
        attempt(&app, "ada@example.com", "wrong password", "198.51.100.7").await;
    }
    let account = AttemptCounter::Account { email: "ada@example.com".into() };
    let state = app.store.login_state("ada@example.com", std::slice::from_ref(&account), None).await.unwrap();
    assert_eq!(state.attempts_on(&account).map(|a| a.count), Some(PER_ADDRESS.max), "only the verified ones");
}

#[tokio::test]
async fn unknown_emails_are_throttled_exactly_like_known_ones() {
    let app = app_with_ada().await;
    let mut statuses = Vec::new();
    for email in ["ada@example.com", "nobody@example.com"] {
        let mut these = Vec::new();
        for _ in 0..=PER_ADDRESS.max {
            these.push(attempt(&app, email, "wrong password", "198.51.100.1").await.status().as_u16());
        }
        statuses.push(these);
    }
    assert_eq!(statuses[0], statuses[1]);
    assert_eq!(statuses[0], [401, 401, 401, 401, 401, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_guesses_from_one_address_get_no_more_than_the_limit() {
    let app = std::sync::Arc::new(app_with_ada().await);
    let guesses = (0..12).map(|_| {
        let app = app.clone();
        tokio::spawn(async move { attempt(&app, "ada@example.com", "wrong password", "198.51.100.9").await.status() })
    });
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap().as_u16());
    }
    statuses.sort_unstable();
    let verified = statuses.iter().filter(|&&s| s == 401).count();
    assert_eq!(verified, PER_ADDRESS.max as usize, "{statuses:?}");
    assert!(statuses.iter().all(|&s| s == 401 || s == 429), "{statuses:?}");
}

#[tokio::test]
async fn a_success_resets_the_count() {
    let app = app_with_ada().await;
    for round in 0..2 {
        for _ in 0..PER_ADDRESS.max - 1 {
            assert_eq!(attempt(&app, "ada@example.com", "wrong", "192.0.2.1").await.status(), StatusCode::UNAUTHORIZED);
        }
        let status = attempt(&app, "ada@example.com", PASSWORD, "192.0.2.1").await.status();
        assert_eq!(status, StatusCode::OK, "round {round}");
    }
}

#[tokio::test]
async fn a_lockout_ends() {
    let app = app_with_ada().await;
    let long_ago = shared::model::now() - time::Duration::seconds(31);
    let counter = AttemptCounter::AccountFromAddress { email: "ada@example.com".into(), address: "192.0.2.1".into() };
    for _ in 0..PER_ADDRESS.max {
        app.store.reserve_attempt(&counter, None, long_ago).await.unwrap();
    }
    assert_eq!(attempt(&app, "ada@example.com", PASSWORD, "192.0.2.1").await.status(), StatusCode::OK);
}

/// The account's limit, used up as a botnet would (each address staying under its own).
async fn botnet_attack(app: &App<EmbeddedStore>, email: &str) {
    let counter = AttemptCounter::Account { email: email.into() };
    for _ in 0..PER_ACCOUNT.max {
        app.store.reserve_attempt(&counter, None, shared::model::now()).await.unwrap();
    }
}

#[tokio::test]
async fn under_a_botnet_only_a_trusted_device_gets_in() {
    let app = app_with_ada().await;
    let first = attempt(&app, "ada@example.com", PASSWORD, "192.0.2.1").await;
    let device_token = body_json(&first)["device_token"].as_str().unwrap().to_owned();
    botnet_attack(&app, "ada@example.com").await;

    let from_anywhere = attempt(&app, "ada@example.com", PASSWORD, "203.0.113.50").await;
    assert_eq!(from_anywhere.status(), StatusCode::TOO_MANY_REQUESTS);
    let from_device = json!({"email": "ada@example.com", "password": PASSWORD, "device_token": device_token});
    let trusted = attempt_with(&app, &from_device, "203.0.113.50").await;
    assert_eq!(trusted.status(), StatusCode::OK);
    assert_eq!(body_json(&trusted)["device_token"], device_token, "the device stays trusted by the same token");

    // Neither a made-up token nor another account's device is an exemption.
    let grace = json!({"email": "grace@example.com", "password": PASSWORD, "display_name": "Grace"});
    let signed_up = call(signup::handle, &app, TestRequest::new("POST", "/signup").json(&grace).http_api()).await;
    let graces_device = body_json(&signed_up)["device_token"].as_str().unwrap().to_owned();
    for token in [graces_device.as_str(), "made-up"] {
        let body = json!({"email": "ada@example.com", "password": PASSWORD, "device_token": token});
        assert_eq!(attempt_with(&app, &body, "203.0.113.50").await.status(), StatusCode::TOO_MANY_REQUESTS, "{token}");
    }
}

#[tokio::test]
async fn a_trusted_device_has_its_own_small_limit() {
    let app = app_with_ada().await;
    let first = attempt(&app, "ada@example.com", PASSWORD, "192.0.2.1").await;
    let device_token = body_json(&first)["device_token"].as_str().unwrap().to_owned();
    let guess = json!({"email": "ada@example.com", "password": "wrong password", "device_token": device_token});
    for i in 0..PER_DEVICE.max {
        // Each guess from a new address: the device's counter is the one that counts.
        let address = format!("198.51.100.{i}");
        assert_eq!(attempt_with(&app, &guess, &address).await.status(), StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let right = json!({"email": "ada@example.com", "password": PASSWORD, "device_token": device_token});
    assert_eq!(attempt_with(&app, &right, "198.51.100.200").await.status(), StatusCode::TOO_MANY_REQUESTS);
    // The device's guesses counted on no address: the owner elsewhere is not locked out.
    assert_eq!(attempt(&app, "ada@example.com", PASSWORD, "198.51.100.0").await.status(), StatusCode::OK);
}

/// old@example.com, an account stored before today's rules, with `password_hash`.
async fn old_account(app: &App<EmbeddedStore>, password_hash: &str) {
    let created_at = shared::model::now();
    let user = shared::model::User {
        id: shared::model::new_id(created_at),
        email: "old@example.com".into(),
        display_name: "Old Timer".into(),
        created_at,
        sign_in_methods: shared::model::password_only(),
        email_verified: false,
    };
    let credentials = shared::model::Credentials { user, password_hash: Some(password_hash.into()) };
    app.store.create_user(&credentials, None).await.unwrap();
}

#[tokio::test]
async fn a_weaker_stored_hash_is_upgraded_on_login() {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
    let app = in_memory_app();
    let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8192, 1, 1, None).unwrap())
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    old_account(&app, &weak).await;

    assert_eq!(attempt(&app, "old@example.com", PASSWORD, "192.0.2.1").await.status(), StatusCode::OK);
    let stored =
        app.store.login_state("old@example.com", &[], None).await.unwrap().credentials.unwrap().password_hash.unwrap();
    assert_ne!(stored, weak);
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    assert!(!shared::auth::needs_rehash(&stored));
    assert_eq!(attempt(&app, "old@example.com", PASSWORD, "192.0.2.1").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn passwords_are_compared_in_their_nfkc_form() {
    let app = in_memory_app();
    let body = json!({"email": "zoe@example.com", "password": "ｗｉｄｅ ｐａｓｓｐｈｒａｓｅ", "display_name": "Zoë"});
    let response = call(signup::handle, &app, TestRequest::new("POST", "/signup").json(&body).http_api()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    for password in ["ｗｉｄｅ ｐａｓｓｐｈｒａｓｅ", "wide passphrase", "wide\u{a0}passphrase"] {
        assert_eq!(
            attempt(&app, "zoe@example.com", password, "192.0.2.1").await.status(),
            StatusCode::OK,
            "{password}"
        );
    }
    assert_eq!(
        attempt(&app, "zoe@example.com", "WIDE PASSPHRASE", "192.0.2.1").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_hash_of_a_password_as_sent_still_logs_in_and_is_replaced_by_its_nfkc_form() {
    let app = in_memory_app();
    let as_sent = "ｗｉｄｅ ｐａｓｓｐｈｒａｓｅ";
    let legacy = shared::auth::hash_password(as_sent.into()).await.unwrap();
    old_account(&app, &legacy).await;
    assert_eq!(
        attempt(&app, "old@example.com", "wide passphrase", "192.0.2.1").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(attempt(&app, "old@example.com", as_sent, "192.0.2.1").await.status(), StatusCode::OK);
    let stored =
        app.store.login_state("old@example.com", &[], None).await.unwrap().credentials.unwrap().password_hash.unwrap();
    assert_ne!(stored, legacy, "the hash is now of the NFKC form");
    assert_eq!(attempt(&app, "old@example.com", "wide passphrase", "192.0.2.1").await.status(), StatusCode::OK);
}
