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

/// The length, size and count bounds the spec states are the ones the code enforces.
#[test]
fn the_specs_bounds_are_the_validation_rules() {
    use shared::http::{DEFAULT_PAGE_LIMIT, IDEMPOTENCY_KEY_CHARS, PAGE_LIMIT};
    use shared::model::{
        DISPLAY_NAME_CHARS, EMAIL_MAX_CHARS, GOOGLE_CREDENTIAL_MAX_BYTES, PASSWORD_CHARS, POST_BODY_BYTES,
        SignInMethod, TITLE_CHARS,
    };
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let length = |schema: &Value| (schema["minLength"].as_u64(), schema["maxLength"].as_u64());
    let range = |r: std::ops::RangeInclusive<usize>| (Some(*r.start() as u64), Some(*r.end() as u64));
    let cases = [
        ("SignupRequest.password", &schemas["SignupRequest"]["properties"]["password"], range(PASSWORD_CHARS)),
        (
            "ChangePasswordRequest.new_password",
            &schemas["ChangePasswordRequest"]["properties"]["new_password"],
            range(PASSWORD_CHARS),
        ),
        ("User.display_name", &schemas["User"]["properties"]["display_name"], range(DISPLAY_NAME_CHARS)),
        ("Author.display_name", &schemas["Author"]["properties"]["display_name"], range(DISPLAY_NAME_CHARS)),
        ("Post.title", &schemas["Post"]["properties"]["title"], range(TITLE_CHARS)),
        ("Post.body", &schemas["Post"]["properties"]["body"], range(POST_BODY_BYTES)),
        ("CreatePostRequest.body", &schemas["CreatePostRequest"]["properties"]["body"], range(POST_BODY_BYTES)),
        ("PostPatch.body", &schemas["PostPatch"]["properties"]["body"], range(POST_BODY_BYTES)),
    ];
    for (name, schema, expected) in cases {
        assert_eq!(length(schema), expected, "{name}");
    }
    assert_eq!(schemas["User"]["properties"]["email"]["maxLength"].as_u64(), Some(EMAIL_MAX_CHARS as u64));
    let user_agent = &schemas["ActiveSession"]["properties"]["user_agent"]["maxLength"];
    assert_eq!(user_agent.as_u64(), Some(shared::model::USER_AGENT_MAX_CHARS as u64));
    let credential = &schemas["GoogleCredentialRequest"]["properties"]["credential"];
    assert_eq!(length(credential), (Some(1), Some(GOOGLE_CREDENTIAL_MAX_BYTES as u64)));
    let methods: Vec<&str> = SignInMethod::ALL.iter().map(|m| m.as_str()).collect();
    assert_eq!(schemas["User"]["properties"]["sign_in_methods"]["items"]["enum"], serde_json::json!(methods));
    assert_eq!(schemas["PostPage"]["properties"]["posts"]["maxItems"].as_u64(), Some(*PAGE_LIMIT.end() as u64));
    let page_budget = format!("{} KiB", shared::model::PAGE_CONTENT_BYTES / 1024);
    let page_description = schemas["PostPage"]["properties"]["posts"]["description"].as_str().unwrap();
    assert!(page_description.contains(&page_budget), "{page_description}");

    let parameters: Vec<&Value> = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .flat_map(|operation| operation["parameters"].as_array().into_iter().flatten())
        .collect();
    let named =
        |name: &str| -> Vec<&Value> { parameters.iter().filter(|p| p["name"] == name).map(|p| &p["schema"]).collect() };
    assert_eq!(named("limit").len(), 2, "both listings take a limit");
    for limit in named("limit") {
        let bounds = (limit["minimum"].as_u64(), limit["maximum"].as_u64(), limit["default"].as_u64());
        assert_eq!(
            bounds,
            (Some(*PAGE_LIMIT.start() as u64), Some(*PAGE_LIMIT.end() as u64), Some(DEFAULT_PAGE_LIMIT as u64))
        );
    }
    let keys = named("Idempotency-Key");
    assert_eq!(keys.len(), 1);
    assert_eq!(length(keys[0]), range(IDEMPOTENCY_KEY_CHARS));
}

/// What local-api answers itself (the spec, an unknown path) forbids sniffing as the
/// handlers' answers do.
#[tokio::test]
async fn local_apis_own_answers_forbid_content_sniffing() {
    use tower::ServiceExt;
    let router = support::router(in_memory_app());
    for path in ["/openapi.json", "/no-such-route"] {
        let request = axum::http::Request::builder().uri(path).body(axum::body::Body::empty()).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{path}");
    }
}
