//! Drives the local-api router in process, with no sockets.
#![allow(dead_code)] // each test binary uses a different part

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use shared::app::App;
use shared::store::Store;
use tower::ServiceExt;

pub fn router<S: Store + 'static>(app: App<S>) -> Router {
    let cors = shared::template::cors().unwrap();
    let layer = local_api::cors_layer(&cors, &cors.default_origins).unwrap();
    local_api::router(app, local_api::RouteTable::from_template().unwrap(), layer).unwrap()
}

/// Sends one request; returns the status and the body as JSON (Null when not JSON).
pub async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

pub fn json_request(method: &str, path: &str, body: &Value, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

/// A request with no body, as the holder of `token`.
pub fn bearer_request(method: &str, path: &str, token: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

pub fn get(path: &str) -> Request<Body> {
    Request::builder().uri(path).body(Body::empty()).unwrap()
}
