//! What every route shares, tested once over the route table of `template.yaml`, so a new
//! route is covered with no new test code:
//! - a route `openapi.yaml` marks with bearer security refuses every kind of bad
//!   `Authorization` with `401` and `WWW-Authenticate: Bearer`; a public one needs none;
//! - every route that uses the store (`openapi.yaml` documents a 503) answers
//!   `503 service_unavailable` when it is unreachable;
//! - every route answers API Gateway's payload 1.0, 2.0 (also on a named stage) and
//!   base64-encoded bodies alike;
//! - a route whose answer `openapi.yaml` marks public (`PublicCache`) is cacheable with a
//!   strong `ETag` and revalidates to `304`; no other route answers so.
//!
//! Each route is exercised with its function's sample event, `events/<function>.json`.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use shared::app::App;
use shared::google::GoogleSignIn;
use shared::http::PUBLIC_CACHE_CONTROL;
use shared::http::respond;
use shared::model::{Author, Credentials, Post, User, now};
use shared::store::{DynamoStore, EmbeddedStore};
use shared::store::{PostStore, Store};
use shared::testing::{
    FakeGoogle, TestRequest, bad_authorization_headers, body_json, in_memory_app, password_user, unreachable_dynamo_app,
};

/// One route of the template with what the tests need to know about it.
struct RouteCase {
    binary: String,
    route: String,
    /// Whether `openapi.yaml` asks for a bearer token.
    protected: bool,
    /// Whether `openapi.yaml` says the route may answer 503 (it uses the store).
    uses_store: bool,
    /// The function's sample event: a request that is right in every way.
    sample: TestRequest,
}

fn cases() -> Vec<RouteCase> {
    let spec: Value = serde_json::from_str(&local_api::openapi_json().unwrap()).unwrap();
    let cases: Vec<RouteCase> = shared::template::routes()
        .unwrap()
        .into_iter()
        .map(|route| {
            let operation = &spec["paths"][&route.path][route.method.to_lowercase()];
            assert!(operation.is_object(), "{} {} is not in openapi.yaml", route.method, route.path);
            let protected = operation["security"].as_array().is_some_and(|s| !s.is_empty());
            let uses_store = !operation["responses"]["503"].is_null();
            let file = format!("{}/../events/{}.json", env!("CARGO_MANIFEST_DIR"), route.binary);
            let event: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            let route_key = format!("{} {}", route.method, route.path);
            assert_eq!(event["routeKey"], route_key.as_str(), "{file} is not an event of its function's route");
            RouteCase {
                binary: route.binary,
                route: route_key,
                protected,
                uses_store,
                sample: TestRequest::from_event(&event),
            }
        })
        .collect();
    assert!(cases.iter().any(|c| c.protected) && cases.iter().any(|c| !c.protected));
    cases
}

async fn call<S: Store>(app: &App<S>, case: &RouteCase, req: Request) -> Response<Body> {
    respond(local_api::functions::call(&case.binary, app, req).await)
}

/// Stores a user with this id, as signup would have.
async fn store_user<S: Store>(app: &App<S>, id: &str, name: &str) {
    let user = User { id: id.into(), ..password_user("sample@example.com", name, now()) };
    let credentials = Credentials { user, password_hash: Some("$argon2id$not-a-real-hash".into()) };
    app.store.create_user(&credentials, None).await.unwrap();
}

/// Apps as a deployment with Google sign-in has them, Google's keys from a local stand-in
/// (the samples' Google credentials are signed with its keys).
struct Apps {
    google: FakeGoogle,
}

impl Apps {
    async fn start() -> Self {
        Self { google: FakeGoogle::start(&[0]).await }
    }

    fn in_memory(&self) -> App<EmbeddedStore> {
        in_memory_app().with_google(GoogleSignIn::new(self.google.config()))
    }

    fn unreachable_store(&self) -> App<DynamoStore> {
        unreachable_dynamo_app().with_google(GoogleSignIn::new(self.google.config()))
    }
}

fn code(response: &Response<Body>) -> Value {
    serde_json::from_slice::<Value>(response.body().as_ref()).map(|b| b["error"]["code"].clone()).unwrap_or_default()
}

#[tokio::test]
async fn protected_routes_refuse_every_bad_authorization_and_public_ones_need_none() {
    let apps = Apps::start().await;
    for case in cases() {
        let app = apps.in_memory();
        if case.protected {
            let sample = call(&app, &case, case.sample.http_api()).await;
            assert_ne!(
                sample.status(),
                StatusCode::UNAUTHORIZED,
                "{}: its sample's token must be accepted",
                case.route
            );
            for (bad, authorization) in bad_authorization_headers(&app.tokens) {
                let req = case.sample.clone().authorization(authorization.as_deref()).http_api();
                let response = call(&app, &case, req).await;
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{}: {bad}", case.route);
                assert_eq!(response.headers()["www-authenticate"], "Bearer", "{}: {bad}", case.route);
                assert_eq!(code(&response), "unauthorized", "{}: {bad}", case.route);
            }
        } else {
            let response = call(&app, &case, case.sample.clone().authorization(None).http_api()).await;
            assert_ne!(code(&response), "unauthorized", "{} is public in openapi.yaml", case.route);
        }
    }
}

#[tokio::test]
async fn every_route_that_uses_the_store_is_503_when_it_is_unreachable() {
    let apps = Apps::start().await;
    let app = apps.unreachable_store();
    for case in cases().into_iter().filter(|c| c.uses_store) {
        let response = call(&app, &case, case.sample.http_api()).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{}", case.route);
        assert_eq!(body_json(&response)["error"]["code"], "service_unavailable", "{}", case.route);
    }
}

#[tokio::test]
async fn every_route_answers_every_payload_version_alike() {
    let apps = Apps::start().await;
    for case in cases() {
        let mut renderings = vec![
            ("2.0", case.sample.http_api()),
            ("1.0", case.sample.rest_api()),
            ("2.0 on a named stage", case.sample.http_api_on_stage("prod")),
        ];
        if case.sample.has_body() {
            renderings.push(("2.0 base64-encoded", case.sample.clone().base64_encoded().http_api()));
            renderings.push(("1.0 base64-encoded", case.sample.clone().base64_encoded().rest_api()));
        }
        let mut answers = Vec::new();
        for (version, req) in renderings {
            // Each on a fresh store, so every version sees the same state.
            let response = call(&apps.in_memory(), &case, req).await;
            assert!(!response.status().is_server_error(), "{} ({version}): {}", case.route, response.status());
            answers.push((version, response.status(), code(&response)));
        }
        let (_, status, code) = &answers[0];
        for (version, other_status, other_code) in &answers[1..] {
            assert_eq!((other_status, other_code), (status, code), "{} ({version} vs 2.0)", case.route);
        }
    }
}

#[tokio::test]
async fn every_answer_forbids_content_sniffing() {
    let apps = Apps::start().await;
    for case in cases() {
        let app = apps.in_memory();
        let answers = [
            call(&app, &case, case.sample.http_api()).await,
            call(&app, &case, case.sample.clone().raw_body("{").http_api()).await,
            call(&apps.unreachable_store(), &case, case.sample.http_api()).await,
        ];
        for response in answers {
            let status = response.status();
            assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{} ({status})", case.route);
        }
    }
}

/// True when `value` holds an email address or a token anywhere: what no cache may keep.
fn is_personal(value: &Value) -> bool {
    match value {
        Value::Object(fields) => fields.iter().any(|(k, v)| k == "email" || k.ends_with("_token") || is_personal(v)),
        Value::Array(items) => items.iter().any(is_personal),
        _ => false,
    }
}

#[tokio::test]
async fn answers_with_personal_data_or_tokens_are_never_cached() {
    let apps = Apps::start().await;
    let mut personal = Vec::new();
    for case in cases() {
        let app = apps.in_memory();
        // The sample's caller exists, so a route that reads the caller answers in full.
        let bearer =
            case.sample.header_value("authorization").and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned));
        if let Some(claims) = bearer.and_then(|token| app.tokens.verify(&token).ok()) {
            store_user(&app, &claims.sub, &claims.name).await;
        }
        let response = call(&app, &case, case.sample.http_api()).await;
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
        if is_personal(&body) {
            assert_eq!(
                response.headers().get("cache-control").map(|v| v.to_str().unwrap()),
                Some("no-store"),
                "{}",
                case.route
            );
            personal.push(case.route);
        }
    }
    // From samples on a fresh store: signup answers a session, /me the account.
    assert!(personal.len() >= 2, "the check saw personal answers: {personal:?}");
}

/// Whether `operation` answers with a JSON body of schema `name`.
fn answers_with(operation: &Value, name: &str) -> bool {
    let responses = operation["responses"].as_object().into_iter().flat_map(|r| r.values());
    responses
        .filter_map(|response| response["content"]["application/json"]["schema"]["$ref"].as_str())
        .any(|schema| schema.rsplit('/').next() == Some(name))
}

/// Whether `operation` answers with a new session: the functions that issue tokens.
fn issues_tokens(operation: &Value) -> bool {
    answers_with(operation, "Session") || answers_with(operation, "RefreshedSession")
}

/// No function holds a key it does not use: the private signing key (its secret's id)
/// goes exactly to the functions whose route answers with a new session (they issue
/// tokens), the public keys exactly to those whose route has bearer security
/// (`openapi.yaml`) or publishes the keys, nothing to the others, and nothing through
/// `Globals`; Google's settings go exactly to the routes whose body may carry a Google
/// credential.
#[test]
fn only_functions_that_issue_tokens_hold_the_signing_key_and_only_verifiers_the_public_keys() {
    let spec: Value = serde_json::from_str(&local_api::openapi_json().unwrap()).unwrap();
    let template = shared::template::template().unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    for name in ["SIGNING_KEY_SECRET_ID", "TOKEN_PUBLIC_JWKS", "JWT_SECRET"] {
        assert!(globals.get(name).is_none(), "Globals would give {name} to every function");
    }
    let (mut issuers, mut verifiers) = (0, 0);
    for case in cases() {
        let (method, path) = case.route.split_once(' ').unwrap();
        let operation = &spec["paths"][path][method.to_lowercase()];
        let resource = resources
            .values()
            .find(|r| r["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(case.binary.as_str()))
            .unwrap();
        let variables = &resource["Properties"]["Environment"]["Variables"];
        let holds = |name: &str| !variables[name].is_null();
        let reads_secrets = format!("{:?}", resource["Properties"]["Policies"]).contains("secretsmanager:");
        let issues = issues_tokens(operation);
        assert_eq!(holds("SIGNING_KEY_SECRET_ID"), issues, "{}: the signing key", case.binary);
        assert_eq!(reads_secrets, issues, "{}: may read the signing key (IAM)", case.binary);
        let main =
            std::fs::read_to_string(format!("{}/../functions/{}/src/main.rs", env!("CARGO_MANIFEST_DIR"), case.binary))
                .unwrap();
        assert_eq!(main.contains("run_issuing("), issues, "{}: loads the signing key at init", case.binary);
        let public_keys = (case.protected && !issues) || answers_with(operation, "JwkSet");
        assert_eq!(holds("TOKEN_PUBLIC_JWKS"), public_keys, "{}: the public keys", case.binary);
        assert!(!holds("JWT_SECRET"), "{}: no shared secret any more", case.binary);
        // A body with a `credential` (a Google ID token), as the route's schema says.
        let takes_google_credentials = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .and_then(|schema| schema.rsplit('/').next())
            .is_some_and(|name| !spec["components"]["schemas"][name]["properties"]["credential"].is_null());
        for google in ["GOOGLE_CLIENT_IDS", "GOOGLE_JWKS_URL"] {
            assert_eq!(holds(google), takes_google_credentials, "{}: {google}", case.binary);
        }
        issuers += usize::from(issues);
        verifiers += usize::from(case.protected);
    }
    assert!(issuers >= 3 && verifiers >= 4, "{issuers} issuers, {verifiers} verifiers");
}

/// The author and the post the sample events name.
const SAMPLE_AUTHOR: &str = "01KAQZ8Y4M1W2X3V5T6R7P8N9B";
const SAMPLE_POST: &str = "01KAQZ8Y4M1W2X3V5T6R7P8N9P";

#[tokio::test]
async fn public_answers_are_cacheable_and_revalidate_to_not_modified() {
    let spec: Value = serde_json::from_str(&local_api::openapi_json().unwrap()).unwrap();
    let app = in_memory_app();
    store_user(&app, SAMPLE_AUTHOR, "Ada").await;
    let author = Author { id: SAMPLE_AUTHOR.into(), display_name: "Ada".into() };
    let post = Post { id: SAMPLE_POST.into(), ..Post::new("Cached".into(), "Body".into(), author, now()) };
    app.store.create_post(&post, None).await.unwrap();
    let mut public = Vec::new();
    let marked_public = |case: &RouteCase| {
        let (method, path) = case.route.split_once(' ').unwrap();
        let answer = &spec["paths"][path][method.to_lowercase()]["responses"]["200"];
        answer["headers"]["Cache-Control"]["$ref"].as_str().is_some_and(|r| r.ends_with("/PublicCache"))
    };
    // The public routes first: other samples change the store (delete-post deletes the post).
    let (mut cases, others): (Vec<_>, Vec<_>) = cases().into_iter().partition(|case| marked_public(case));
    cases.extend(others);
    for case in cases {
        let marked = marked_public(&case);
        let response = call(&app, &case, case.sample.http_api()).await;
        let cache_control = response.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned());
        if !marked {
            let unmarked = cache_control.as_deref() != Some(PUBLIC_CACHE_CONTROL);
            assert!(unmarked, "{}: openapi.yaml must say it is public", case.route);
            continue;
        }
        assert_eq!(response.status(), StatusCode::OK, "{}", case.route);
        assert_eq!(cache_control.as_deref(), Some(PUBLIC_CACHE_CONTROL), "{}", case.route);
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{}: a strong tag, {etag}", case.route);
        for held in [etag.clone(), format!("W/{etag}")] {
            let revalidated = call(&app, &case, case.sample.clone().header("if-none-match", &held).http_api()).await;
            assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED, "{}: {held}", case.route);
            assert!(revalidated.body().as_ref().is_empty(), "{}: no body", case.route);
            assert_eq!(revalidated.headers()["etag"], etag.as_str());
        }
        let stale = call(&app, &case, case.sample.clone().header("if-none-match", "\"stale\"").http_api()).await;
        assert_eq!(stale.status(), StatusCode::OK, "{}", case.route);
        public.push(case.route);
    }
    public.sort_unstable();
    assert_eq!(public, ["GET /posts", "GET /posts/{id}", "GET /users/{id}/posts"], "the public routes");
}
