//! `openapi.yaml` documents exactly the routes of `template.yaml`, and local-api serves it.
mod support;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::Value;
use shared::testing::in_memory_app;

fn spec() -> Value {
    serde_json::from_str(&local_api::openapi_json().unwrap()).unwrap()
}

#[test]
fn the_spec_documents_exactly_the_template_routes() {
    let spec = spec();
    assert_eq!(spec["openapi"].as_str().map(|v| v.starts_with("3.1")), Some(true));
    let documented: BTreeSet<String> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| format!("{} {path}", m.to_uppercase())))
        .collect();
    let deployed: BTreeSet<String> =
        shared::template::routes().unwrap().into_iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(documented, deployed);
}

#[test]
fn every_error_code_is_in_the_spec() {
    let spec = spec();
    let codes = &spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"];
    let documented: BTreeSet<&str> = codes.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for code in shared::error::ApiError::ALL_CODES {
        assert!(documented.contains(code), "{code} is not documented");
    }
    assert_eq!(documented.len(), shared::error::ApiError::ALL_CODES.len());
}

#[tokio::test]
async fn local_api_serves_the_spec_as_json() {
    let router = support::router(in_memory_app());
    let (status, body) = support::send(&router, support::get("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, spec());
}
