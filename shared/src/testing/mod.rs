//! Test support (feature `test-support`): an app on an in-memory embedded store and requests built
//! from the real API Gateway payloads in `events/`, in both payload versions.
mod google;
mod mail;

use std::future::Future;

use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::auth::signing_keys::PrivateJwkSet;
use crate::auth::{TokenKeys, TokenService};
use crate::config::TokenConfig;
use crate::error::ApiError;
use crate::model::{Author, Credentials, Post, User, new_id, now, password_only};
use crate::store::{DynamoStore, EmbeddedStore, Store};

pub use google::{FakeGoogle, GoogleTestKeys, TEST_GOOGLE_CLIENT_ID, google_claims};
pub use mail::{RecordingMailer, deliver_now, test_links, token_in};

/// The development signing keys, `events/dev-signing-keys.json`: the sample events' tokens
/// are signed with them, `sam local` and the emulator tests run with them, and so do these
/// tests. Never deployed: a stack makes its own key (`functions/signing-key`).
pub fn dev_signing_keys() -> PrivateJwkSet {
    PrivateJwkSet::from_json(include_str!("../../../events/dev-signing-keys.json"))
        .unwrap_or_else(|e| panic!("events/dev-signing-keys.json: {e}"))
}

/// The keys of a function that issues tokens, with the development keys.
pub fn dev_token_keys() -> TokenKeys {
    TokenKeys::signing(dev_signing_keys())
}

pub fn token_config() -> TokenConfig {
    TokenConfig::from_lookup(|_| None).unwrap_or_else(|e| panic!("test token config: {e}"))
}

/// An app on `store` holding the development keys (it issues and verifies).
pub fn dev_app<S: Store>(store: S) -> App<S> {
    let tokens =
        TokenService::new(token_config(), &dev_token_keys()).unwrap_or_else(|e| panic!("development keys: {e}"));
    App::new(store, tokens)
}

/// Calls `handler` as the runtime does: an error becomes its rendered response.
pub async fn call<'a, S, F>(
    handler: impl FnOnce(&'a App<S>, Request) -> F,
    app: &'a App<S>,
    req: Request,
) -> Response<Body>
where
    F: Future<Output = Result<Response<Body>, ApiError>>,
{
    crate::http::respond(handler(app, req).await)
}

/// An app on a fresh in-memory embedded store.
pub fn in_memory_app() -> App<EmbeddedStore> {
    dev_app(EmbeddedStore::in_memory().unwrap_or_else(|e| panic!("in-memory store: {e}")))
}

/// An app on a fresh in-memory store with Google sign-in on, for [`TEST_GOOGLE_CLIENT_ID`],
/// Google's keys served by the stand-in returned with it (key 0 published).
pub async fn google_app() -> (App<EmbeddedStore>, FakeGoogle) {
    let google = FakeGoogle::start(&[0]).await;
    (in_memory_app().with_google(crate::google::GoogleSignIn::new(google.config())), google)
}

/// An app whose DynamoDB endpoint refuses connections, with retries off: every store
/// call fails the way an outage does.
pub fn unreachable_dynamo_app() -> App<DynamoStore> {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url("http://127.0.0.1:1")
        .retry_config(RetryConfig::disabled())
        .http_client(crate::aws::https_client().unwrap_or_else(|e| panic!("the SDK's HTTPS client: {e}")))
        .build();
    dev_app(DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), "blog"))
}

/// A new account that signs in with a password, made at `created_at`, its email unverified.
pub fn password_user(email: &str, name: &str, created_at: time::OffsetDateTime) -> User {
    User {
        id: new_id(created_at),
        email: email.into(),
        display_name: name.into(),
        created_at,
        sign_in_methods: password_only(),
        email_verified: false,
    }
}

/// A user stored directly (no password hashing) and an access token for them.
pub async fn user_with_token<S: Store>(app: &App<S>, email: &str, name: &str) -> (User, String) {
    let created_at = now();
    let user = password_user(email, name, created_at);
    let credentials = Credentials { user: user.clone(), password_hash: Some("$argon2id$not-a-real-hash".into()) };
    app.store.create_user(&credentials, None).await.unwrap_or_else(|e| panic!("storing a test user: {e}"));
    // A session id no session has: the user holds a token and no stored session.
    let session_id = new_id(created_at);
    let token =
        app.tokens.issue(&user.id, &user.display_name, &session_id).await.unwrap_or_else(|e| panic!("test token: {e}"));
    let token = token.token;
    (user, token)
}

/// A new session of `user` from a client calling itself `user_agent`: the session
/// response's body (its tokens).
pub async fn new_session<S: Store>(app: &App<S>, user: &User, user_agent: Option<&str>) -> Value {
    let response = crate::sessions::start_session(app, user, user_agent, lambda_http::http::StatusCode::OK, None).await;
    body_json(&response.unwrap_or_else(|e| panic!("starting a test session: {e}")))
}

/// The bearer token of a session response.
pub fn access_token(session: &Value) -> &str {
    session["access_token"].as_str().unwrap_or_else(|| panic!("no access_token in {session}"))
}

/// What the store does with the refresh token of a session response, presented now.
pub async fn present_refresh_token<S: Store>(app: &App<S>, session: &Value) -> crate::store::Rotation {
    let token = session["refresh_token"].as_str().unwrap_or_else(|| panic!("no refresh_token in {session}"));
    let next = crate::auth::refresh_token_hash(&new_id(now()));
    let at = now();
    app.store
        .rotate_refresh_token(&crate::auth::refresh_token_hash(token), &next, at + time::Duration::DAY, at)
        .await
        .unwrap_or_else(|e| panic!("rotating: {e}"))
}

/// A post by `author`, stored directly.
pub async fn stored_post<S: Store>(app: &App<S>, author: &User, title: &str) -> Post {
    let author = Author { id: author.id.clone(), display_name: author.display_name.clone() };
    let post = Post::new(title.into(), "A body.".into(), author, now());
    app.store.create_post(&post, None).await.unwrap_or_else(|e| panic!("storing a test post: {e}"));
    post
}

const HTTP_API_EVENT: &str = include_str!("../../../events/list-posts.json");
const REST_API_EVENT: &str = include_str!("../../../events/list-posts-rest-v1.json");

/// A request description, rendered as an HTTP API (2.0) or REST API (1.0) event.
#[derive(Debug, Clone)]
pub struct TestRequest {
    method: String,
    /// The route's path, with `{name}` parameters as in `template.yaml`.
    path: String,
    path_params: Vec<(String, String)>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<String>,
    base64: bool,
    /// The client address API Gateway saw; the fixture's when `None`.
    source_ip: Option<String>,
}

impl TestRequest {
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            path_params: vec![],
            query: vec![],
            headers: vec![],
            body: None,
            base64: false,
            source_ip: None,
        }
    }

    /// The request a sample API Gateway event (payload 2.0, as in `events/`) describes:
    /// its route, path parameters, query, headers and body.
    pub fn from_event(event: &Value) -> Self {
        let route = event["routeKey"].as_str().unwrap_or_else(|| panic!("event without routeKey"));
        let (method, path) = route.split_once(' ').unwrap_or_else(|| panic!("routeKey {route:?}"));
        let pairs = |key: &str| -> Vec<(String, String)> {
            event[key]
                .as_object()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
                .unwrap_or_default()
        };
        let body = event["body"].as_str().map(|body| {
            if event["isBase64Encoded"].as_bool() == Some(true) {
                use base64::Engine;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .unwrap_or_else(|e| panic!("event body is not base64: {e}"));
                String::from_utf8(bytes).unwrap_or_else(|e| panic!("event body is not UTF-8: {e}"))
            } else {
                body.to_owned()
            }
        });
        // The body may be re-encoded, so its length is left for each rendering to imply.
        let headers = pairs("headers").into_iter().filter(|(k, _)| k != "content-length").collect();
        Self {
            method: method.into(),
            path: path.into(),
            path_params: pairs("pathParameters"),
            query: pairs("queryStringParameters"),
            headers,
            body,
            base64: false,
            source_ip: event["requestContext"]["http"]["sourceIp"].as_str().map(str::to_owned),
        }
    }

    /// Fills the route's `{name}` parameter with `value`.
    pub fn path_param(mut self, name: &str, value: &str) -> Self {
        self.path_params.push((name.into(), value.into()));
        self
    }

    /// The path as requested: the route with its parameters filled in.
    fn raw_path(&self) -> String {
        self.path_params.iter().fold(self.path.clone(), |path, (k, v)| path.replace(&format!("{{{k}}}"), v))
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets `Authorization` to `value` in place of any, or leaves it out when `None`.
    pub fn authorization(mut self, value: Option<&str>) -> Self {
        self.headers.retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
        match value {
            Some(value) => self.header("authorization", value),
            None => self,
        }
    }

    pub fn bearer(self, token: &str) -> Self {
        self.authorization(Some(&format!("Bearer {token}")))
    }

    /// A JSON body with `content-type: application/json`.
    pub fn json(self, body: &Value) -> Self {
        self.header("content-type", "application/json").raw_body(&body.to_string())
    }

    pub fn raw_body(mut self, body: &str) -> Self {
        self.body = Some(body.into());
        self
    }

    /// The value of header `name` (case-insensitive), if set.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether the request has a body.
    pub fn has_body(&self) -> bool {
        self.body.is_some()
    }

    /// The client's address, as API Gateway puts the TCP peer into the request context.
    pub fn source_ip(mut self, address: &str) -> Self {
        self.source_ip = Some(address.into());
        self
    }

    /// Sends the body base64-encoded, as API Gateway does for binary media types.
    pub fn base64_encoded(mut self) -> Self {
        self.base64 = true;
        self
    }

    fn query_string(&self) -> String {
        self.query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
    }

    fn single_valued(pairs: &[(String, String)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<_, _>>())
    }

    fn multi_valued(pairs: &[(String, String)]) -> Value {
        let mut map: Map<String, Value> = Map::new();
        for (k, v) in pairs {
            if let Value::Array(values) = map.entry(k.clone()).or_insert_with(|| json!([])) {
                values.push(json!(v));
            }
        }
        Value::Object(map)
    }

    /// An API Gateway HTTP API (payload 2.0) request on the `$default` stage.
    pub fn http_api(&self) -> Request {
        self.http_api_on_stage("$default")
    }

    /// An HTTP API (payload 2.0) request on a named stage, whose name lambda_http puts
    /// into the request path.
    pub fn http_api_on_stage(&self, stage: &str) -> Request {
        let mut event: Value = serde_json::from_str(HTTP_API_EVENT).unwrap_or_else(|e| panic!("fixture: {e}"));
        let route = format!("{} {}", self.method, self.path);
        event["routeKey"] = json!(route);
        event["rawPath"] = json!(self.raw_path());
        event["pathParameters"] = Self::single_valued(&self.path_params);
        event["rawQueryString"] = json!(self.query_string());
        event["queryStringParameters"] = Self::single_valued(&self.query);
        let headers = event["headers"].as_object_mut().unwrap_or_else(|| panic!("fixture headers"));
        for (k, v) in &self.headers {
            headers.insert(k.to_ascii_lowercase(), json!(v));
        }
        event["requestContext"]["http"]["method"] = json!(self.method);
        event["requestContext"]["http"]["path"] = json!(self.raw_path());
        event["requestContext"]["routeKey"] = json!(route);
        event["requestContext"]["stage"] = json!(stage);
        if let Some(address) = &self.source_ip {
            event["requestContext"]["http"]["sourceIp"] = json!(address);
        }
        self.set_body(&mut event);
        Self::parse(event)
    }

    /// An API Gateway REST API (payload 1.0) request.
    pub fn rest_api(&self) -> Request {
        let mut event: Value = serde_json::from_str(REST_API_EVENT).unwrap_or_else(|e| panic!("fixture: {e}"));
        event["resource"] = json!(self.path);
        event["path"] = json!(self.raw_path());
        event["pathParameters"] = Self::single_valued(&self.path_params);
        event["httpMethod"] = json!(self.method);
        event["queryStringParameters"] = Self::single_valued(&self.query);
        event["multiValueQueryStringParameters"] = Self::multi_valued(&self.query);
        for (k, v) in &self.headers {
            event["headers"][k] = json!(v);
            event["multiValueHeaders"][k] = json!([v]);
        }
        event["requestContext"]["httpMethod"] = json!(self.method);
        event["requestContext"]["resourcePath"] = json!(self.path);
        if let Some(address) = &self.source_ip {
            event["requestContext"]["identity"]["sourceIp"] = json!(address);
        }
        self.set_body(&mut event);
        Self::parse(event)
    }

    fn set_body(&self, event: &mut Value) {
        use base64::Engine;
        let encode =
            |b: &String| if self.base64 { base64::engine::general_purpose::STANDARD.encode(b) } else { b.clone() };
        event["body"] = self.body.as_ref().map_or(Value::Null, |b| json!(encode(b)));
        event["isBase64Encoded"] = json!(self.base64);
    }

    fn parse(event: Value) -> Request {
        lambda_http::request::from_str(&event.to_string()).unwrap_or_else(|e| panic!("event does not parse: {e}"))
    }
}

/// The JSON body of a response.
pub fn body_json(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or_else(|e| panic!("response body is not JSON: {e}"))
}

/// Every way a bearer token can be wrong, named: for the token matrix each protected
/// route is tested with. Each must get `401` with `WWW-Authenticate: Bearer`.
pub fn bad_authorization_headers(tokens: &TokenService) -> Vec<(&'static str, Option<String>)> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use std::time::{SystemTime, UNIX_EPOCH};

    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let claims = || {
        json!({"sub": "01USERID", "name": "Ada", "iat": now, "exp": now + 600,
               "iss": crate::config::DEFAULT_JWT_ISSUER, "aud": crate::config::DEFAULT_JWT_AUDIENCE, "jti": "01JTI"})
    };
    let sign = |claims: Value| tokens.sign_claims(&claims).unwrap_or_else(|e| panic!("signing a test token: {e}"));
    let with = |key: &str, value: Value| {
        let mut c = claims();
        c[key] = value;
        sign(c)
    };
    let without = |key: &str| {
        let mut c = claims();
        if let Some(object) = c.as_object_mut() {
            object.remove(key);
        }
        sign(c)
    };
    let b64 = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let valid = sign(claims());
    let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    let header = |alg: &str, typ: &str| b64(&json!({"alg": alg, "typ": typ, "kid": "dev-1"}));
    let alg_none = format!("{}.{}.", header("none", "at+jwt"), parts[1]);
    let hs256 = format!("{}.{}.{}", header("HS256", "at+jwt"), parts[1], parts[2]);
    let rs256 = format!("{}.{}.{}", header("RS256", "at+jwt"), parts[1], parts[2]);
    let plain_jwt = format!("{}.{}.{}", header("EdDSA", "JWT"), parts[1], parts[2]);
    let stranger_keys = crate::auth::signing_keys::PrivateJwk::generate("dev-1")
        .map(|key| TokenKeys::signing(PrivateJwkSet { keys: vec![key] }))
        .unwrap_or_else(|e| panic!("a stranger's key: {e}"));
    let stranger = TokenService::new(token_config(), &stranger_keys)
        .map(|service| service.sign_claims(&claims()).unwrap_or_default())
        .unwrap_or_default();
    let mut forged = claims();
    forged["sub"] = json!("01SOMEONEELSE");
    parts[1] = b64(&forged);
    let tampered = parts.join(".");
    let bearer = |token: String| Some(format!("Bearer {token}"));
    vec![
        ("missing header", None),
        ("wrong scheme", Some(format!("Basic {}", URL_SAFE_NO_PAD.encode("ada:pw")))),
        ("token without scheme", Some(valid.clone())),
        ("garbage", bearer("garbage".into())),
        ("alg none", bearer(alg_none)),
        ("HS256 header", bearer(hs256)),
        ("RS256 header", bearer(rs256)),
        ("typ JWT, not at+jwt", bearer(plain_jwt)),
        ("another key with our kid", bearer(stranger)),
        ("tampered payload", bearer(tampered)),
        ("expired beyond leeway", bearer(with("exp", json!(now - crate::auth::token::LEEWAY_SECONDS - 60)))),
        ("nbf in the future", bearer(with("nbf", json!(now + 600)))),
        ("wrong iss", bearer(with("iss", json!("someone-else")))),
        ("wrong aud", bearer(with("aud", json!("someone-else")))),
        ("missing sub", bearer(without("sub"))),
        ("exp as a string", bearer(with("exp", json!((now + 600).to_string())))),
    ]
}
