use lambda_http::http::StatusCode;
use serde_json::json;
use shared::sessions::start_session;
use shared::store::Rotation;
use shared::testing::{TestRequest, body_json, call, in_memory_app, present_refresh_token, user_with_token};

fn logout_request(token: &str) -> TestRequest {
    TestRequest::new("POST", "/logout").json(&json!({ "refresh_token": token }))
}

#[tokio::test]
async fn logout_ends_the_session_and_repeating_it_is_harmless() {
    let app = in_memory_app();
    let (ada, _) = user_with_token(&app, "ada@example.com", "Ada").await;
    let session = body_json(&start_session(&app, &ada, None, StatusCode::OK, None).await.unwrap());
    let other_device = body_json(&start_session(&app, &ada, None, StatusCode::OK, None).await.unwrap());
    let token = session["refresh_token"].as_str().unwrap();
    for req in
        [logout_request(token).http_api(), logout_request(token).http_api(), logout_request("never-issued").http_api()]
    {
        let response = call(logout::handle, &app, req).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(response.body().is_empty());
    }
    assert_eq!(present_refresh_token(&app, &session).await, Rotation::Refused);
    assert!(matches!(present_refresh_token(&app, &other_device).await, Rotation::Rotated { .. }), "one session ends");
    // Access tokens are stateless: one issued before the logout works until it expires.
    assert!(app.tokens.verify(session["access_token"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn a_body_without_a_token_is_422() {
    let app = in_memory_app();
    let response = call(logout::handle, &app, TestRequest::new("POST", "/logout").json(&json!({})).http_api()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body_json(&response)["error"]["details"][0]["field"], "refresh_token");
}
