use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use shared::app::App;
use shared::auth::throttle::PER_ADDRESS;
use shared::store::{EmbeddedStore, Rotation};
use shared::testing::{TestRequest, access_token, body_json, call, in_memory_app, present_refresh_token};

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a new and longer passphrase";

async fn post(app: &App<EmbeddedStore>, handler: &str, body: &Value, token: Option<&str>) -> Response<Body> {
    let mut request = TestRequest::new("POST", handler).json(body);
    if let Some(token) = token {
        request = request.bearer(token);
    }
    match handler {
        "/signup" => call(signup::handle, app, request.http_api()).await,
        "/login" => call(login::handle, app, request.http_api()).await,
        _ => call(change_password::handle, app, request.http_api()).await,
    }
}

async fn ada(app: &App<EmbeddedStore>) -> Value {
    let body = json!({"email": "ada@example.com", "password": PASSWORD, "display_name": "Ada"});
    let response = post(app, "/signup", &body, None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    body_json(&response)
}

async fn login(app: &App<EmbeddedStore>, password: &str) -> Response<Body> {
    post(app, "/login", &json!({"email": "ada@example.com", "password": password}), None).await
}

fn change(current: &str, new: &str) -> Value {
    json!({"current_password": current, "new_password": new})
}

#[tokio::test]
async fn changes_the_password_and_ends_every_other_session() {
    let app = in_memory_app();
    let this_session = ada(&app).await;
    let other_session = body_json(&login(&app, PASSWORD).await);
    let response = post(&app, "/me/password", &change(PASSWORD, NEW_PASSWORD), Some(access_token(&this_session))).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.body().is_empty());
    assert_eq!(login(&app, PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login(&app, NEW_PASSWORD).await.status(), StatusCode::OK);
    assert!(matches!(present_refresh_token(&app, &this_session).await, Rotation::Rotated { .. }), "this one goes on");
    assert_eq!(present_refresh_token(&app, &other_session).await, Rotation::Refused, "the others end");
}

#[tokio::test]
async fn a_wrong_current_password_counts_as_a_failed_login() {
    let app = in_memory_app();
    let session = ada(&app).await;
    for _ in 0..PER_ADDRESS.max {
        let response =
            post(&app, "/me/password", &change("not my password", NEW_PASSWORD), Some(access_token(&session))).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(body_json(&response)["error"]["code"], "invalid_credentials");
    }
    let locked = post(&app, "/me/password", &change(PASSWORD, NEW_PASSWORD), Some(access_token(&session))).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers().contains_key("retry-after"));
    assert_eq!(login(&app, PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS, "one limit for both routes");
}

#[tokio::test]
async fn the_new_password_follows_the_signup_rules_and_the_route_needs_a_login() {
    let app = in_memory_app();
    let session = ada(&app).await;
    let token = access_token(&session);
    for (body, field) in [
        (change(PASSWORD, "short"), "new_password"),
        (change(PASSWORD, "password123"), "new_password"),
        (json!({"new_password": NEW_PASSWORD}), "current_password"),
    ] {
        let response = post(&app, "/me/password", &body, Some(token)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body_json(&response)["error"]["details"][0]["field"], field, "{body}");
    }
    let response = post(&app, "/me/password", &change(PASSWORD, NEW_PASSWORD), None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login(&app, PASSWORD).await.status(), StatusCode::OK, "nothing changed");
}
