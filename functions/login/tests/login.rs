use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use shared::app::App;
use shared::store::EmbeddedStore;
use shared::testing::{TestRequest, body_json, in_memory_app};

const PASSWORD: &str = "correct horse battery staple";

async fn app_with_ada() -> App<EmbeddedStore> {
    let app = in_memory_app();
    let body = json!({"email": "ada@example.com", "password": PASSWORD, "display_name": "Ada"});
    let response = signup::handle(&app, TestRequest::new("POST", "/signup").json(&body).http_api()).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    app
}

async fn login(app: &App<EmbeddedStore>, body: &Value) -> Response<Body> {
    login::handle(app, TestRequest::new("POST", "/login").json(body).http_api()).await.unwrap()
}

#[tokio::test]
async fn right_password_returns_a_session_for_the_same_user() {
    let app = app_with_ada().await;
    for email in ["ada@example.com", "  ADA@example.com "] {
        let response = login(&app, &json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body = body_json(&response);
        assert_eq!(body["user"]["email"], "ada@example.com");
        assert_eq!(body["token_type"], "Bearer");
        let claims = app.tokens.verify(body["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(claims.sub, body["user"]["id"].as_str().unwrap());
        assert!(!body.to_string().contains("argon2"));
    }
}

#[tokio::test]
async fn rest_api_events_work_too() {
    let app = app_with_ada().await;
    let req = TestRequest::new("POST", "/login").json(&json!({"email": "ada@example.com", "password": PASSWORD}));
    assert_eq!(login::handle(&app, req.rest_api()).await.unwrap().status(), StatusCode::OK);
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
async fn an_unreachable_store_is_503() {
    let app = shared::testing::unreachable_dynamo_app();
    let req = TestRequest::new("POST", "/login").json(&json!({"email": "ada@example.com", "password": PASSWORD}));
    let response = login::handle(&app, req.http_api()).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body_json(&response)["error"]["code"], "service_unavailable");
}
