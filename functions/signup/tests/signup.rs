use std::sync::Arc;

use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use shared::app::App;
use shared::store::{EmbeddedStore, Rotation};
use shared::testing::{TestRequest, body_json, in_memory_app};

fn signup_request(body: &Value) -> TestRequest {
    TestRequest::new("POST", "/signup").json(body)
}

fn ada() -> Value {
    json!({"email": "  Ada@Example.com ", "password": "correct horse battery staple", "display_name": " Ada Lovelace "})
}

async fn call(app: &App<EmbeddedStore>, req: Request) -> (StatusCode, Value, lambda_http::Response<lambda_http::Body>) {
    let response = shared::testing::call(signup::handle, app, req).await;
    (response.status(), body_json(&response), response)
}

#[tokio::test]
async fn signup_returns_the_user_and_a_working_token() {
    let app = in_memory_app();
    let (status, body, response) = call(&app, signup_request(&ada()).http_api()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!((body["expires_in"].as_u64(), body["refresh_expires_in"].as_u64()), (Some(900), Some(30 * 86_400)));
    assert_eq!(body["refresh_token"].as_str().map(str::len), Some(43), "256 bits, base64url");
    let user = &body["user"];
    let keys: Vec<&str> = user.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["created_at", "display_name", "email", "email_verified", "id", "sign_in_methods"]);
    assert_eq!(user["sign_in_methods"], serde_json::json!(["password"]));
    assert_eq!(user["email_verified"], false);
    let asked: Vec<_> = app.store.undelivered_mail().await.unwrap().into_iter().map(|(request, _)| request).collect();
    let verification = shared::model::MailRequest::VerifyEmail { user_id: user["id"].as_str().unwrap().to_owned() };
    assert_eq!(asked, [verification], "signup asks for the verification mail");
    let claims = app.tokens.verify(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims.sub, user["id"].as_str().unwrap());
    let rotation = shared::testing::present_refresh_token(&app, &body).await;
    assert!(matches!(rotation, Rotation::Rotated { user, .. } if user.user_id == claims.sub));
    time::OffsetDateTime::parse(user["created_at"].as_str().unwrap(), &time::format_description::well_known::Rfc3339)
        .unwrap();
}

#[tokio::test]
async fn signup_normalises_and_never_returns_the_password_or_hash() {
    let app = in_memory_app();
    let (status, body, _) = call(&app, signup_request(&ada()).http_api()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["display_name"], "Ada Lovelace");
    let text = body.to_string();
    assert!(!text.contains("correct horse") && !text.contains("argon2"), "{text}");
}

#[tokio::test]
async fn a_base64_body_that_is_not_json_is_400() {
    // Base64 bodies that are JSON are tested on every route (local-api/tests/every_route.rs).
    let app = in_memory_app();
    let not_json = TestRequest::new("POST", "/signup")
        .header("content-type", "application/json")
        .raw_body("\u{0}\u{1}binary")
        .base64_encoded();
    assert_eq!(call(&app, not_json.http_api()).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_registered_email_is_409_whatever_its_case_or_width() {
    let app = in_memory_app();
    assert_eq!(call(&app, signup_request(&ada()).http_api()).await.0, StatusCode::CREATED);
    for email in ["ADA@example.COM", "ＡＤＡ@example.com", "ａｄａ@ｅｘａｍｐｌｅ.ｃｏｍ"] {
        let again = json!({"email": email, "password": "another password", "display_name": "Imposter"});
        let (status, body, _) = call(&app, signup_request(&again).http_api()).await;
        assert_eq!(status, StatusCode::CONFLICT, "{email}");
        assert_eq!(body["error"]["code"], "email_taken");
    }
}

#[tokio::test]
async fn display_names_refuse_characters_that_hide_or_reorder_text() {
    let app = in_memory_app();
    let with_name = |i: usize, name: &str| json!({"email": format!("user{i}@example.com"), "password": "a fine passphrase", "display_name": name});
    let hidden = ["Ad\u{202e}min\u{200b}", "a\u{2066}b", "a\u{2060}b", "\u{feff}Ada", "Ad\u{ad}a", "A\u{2063}da"];
    for (i, name) in hidden.into_iter().enumerate() {
        let (status, body, _) = call(&app, signup_request(&with_name(i, name)).http_api()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        assert_eq!(body["error"]["details"][0]["field"], "display_name");
    }
    let real = "Zoë 👩\u{200d}💻 \u{200f}مرحبا";
    let (status, body, _) = call(&app, signup_request(&with_name(99, real)).http_api()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["user"]["display_name"], real);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_signups_with_one_email_create_one_account() {
    let app = Arc::new(in_memory_app());
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let app = Arc::clone(&app);
            let body = json!({"email": "race@example.com", "password": format!("password-{i}"), "display_name": format!("Racer {i}")});
            tokio::spawn(async move { call(&app, signup_request(&body).http_api()).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 19, "{statuses:?}");
}

#[tokio::test]
async fn invalid_fields_are_422_with_details_naming_each() {
    let app = in_memory_app();
    let body = json!({"email": "not-an-email", "password": "short", "display_name": "   "});
    let (status, body, _) = call(&app, signup_request(&body).http_api()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "validation_failed");
    let fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "password", "display_name"]);
}

#[tokio::test]
async fn bad_bodies_get_the_contract_status() {
    let app = in_memory_app();
    let cases = [
        (
            TestRequest::new("POST", "/signup").header("content-type", "application/json").raw_body("{\"email\": "),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            TestRequest::new("POST", "/signup").json(&json!({"email": 5, "password": "x", "display_name": "y"})),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (TestRequest::new("POST", "/signup"), StatusCode::BAD_REQUEST, "malformed_json"),
        (
            TestRequest::new("POST", "/signup").header("content-type", "text/plain").raw_body(&ada().to_string()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            TestRequest::new("POST", "/signup")
                .json(&json!({"email": "a@b.co", "password": "x".repeat(140 * 1024), "display_name": "y"})),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            TestRequest::new("POST", "/signup")
                .json(&json!({"email": null, "password": "password", "display_name": "y"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ];
    for (req, expected_status, expected_code) in cases {
        let (status, body, _) = call(&app, req.http_api()).await;
        assert_eq!((status, body["error"]["code"].as_str().unwrap()), (expected_status, expected_code), "{body}");
    }
}
