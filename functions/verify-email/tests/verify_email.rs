use lambda_http::http::StatusCode;
use serde_json::json;
use shared::model::MailRequest;
use shared::store::UserStore;
use shared::testing::{TestRequest, body_json, call, deliver_now, in_memory_app, token_in, user_with_token};

fn verify(token: &str) -> lambda_http::Request {
    TestRequest::new("POST", "/email/verify").json(&json!({ "token": token })).http_api()
}

#[tokio::test]
async fn the_mailed_link_verifies_the_email_once() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let message = deliver_now(&app.store, &MailRequest::VerifyEmail { user_id: ada.id.clone() }).await;
    assert_eq!(message.to, "ada@example.com");
    let token = token_in(&message);

    let response = call(verify_email::handle, &app, verify(&token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = &body_json(&response)["user"];
    assert_eq!((body["id"].as_str(), body["email_verified"].as_bool()), (Some(ada.id.as_str()), Some(true)));
    assert!(app.store.get_user(&ada.id).await.unwrap().unwrap().email_verified);

    let again = call(verify_email::handle, &app, verify(&token)).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(&again)["error"]["code"], "invalid_token");
}

#[tokio::test]
async fn unknown_missing_and_malformed_tokens_are_refused() {
    let app = in_memory_app();
    let unknown = call(verify_email::handle, &app, verify("not-a-token-we-mailed")).await;
    assert_eq!(
        (unknown.status(), body_json(&unknown)["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_token"))
    );
    for (body, status, code) in [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (json!({ "token": "" }), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        (json!({ "token": 42 }), StatusCode::BAD_REQUEST, "malformed_json"),
    ] {
        let response =
            call(verify_email::handle, &app, TestRequest::new("POST", "/email/verify").json(&body).http_api()).await;
        assert_eq!((response.status(), body_json(&response)["error"]["code"].clone()), (status, json!(code)), "{body}");
    }
}
