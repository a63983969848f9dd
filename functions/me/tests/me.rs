use lambda_http::http::StatusCode;
use shared::testing::{TestRequest, body_json, call, in_memory_app, user_with_token};

#[tokio::test]
async fn returns_the_token_holder_without_secrets() {
    let app = in_memory_app();
    let (ada, token) = user_with_token(&app, "ada@example.com", "Ada").await;
    user_with_token(&app, "grace@example.com", "Grace").await;
    let response = call(me::handle, &app, TestRequest::new("GET", "/me").bearer(&token).http_api()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(&response);
    assert_eq!(body["user"], serde_json::to_value(&ada).unwrap());
    assert_eq!(body["user"]["sign_in_methods"], serde_json::json!(["password"]), "how the account signs in");
    assert!(!String::from_utf8_lossy(response.body().as_ref()).contains("argon2"), "no password hash");
}

#[tokio::test]
async fn a_valid_token_for_a_user_that_is_not_stored_is_404() {
    let app = in_memory_app();
    let token = app.tokens.issue("01KAQZ8Y4M1W2X3V5T6R7P8N9B", "Nobody", "01SESSION").await.unwrap().token;
    let response = call(me::handle, &app, TestRequest::new("GET", "/me").bearer(&token).http_api()).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(&response)["error"]["code"], "not_found");
}
