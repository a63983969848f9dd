//! Test support (feature `test-support`): an app on an in-memory embedded store and requests built
//! from the real API Gateway payloads in `events/`, in both payload versions.
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::config::TokenConfig;
use crate::store::{DynamoStore, EmbeddedStore};

/// The secret used by tests and the local sample events; never a deployed value.
pub const TEST_JWT_SECRET: &str = "local-dev-secret-do-not-use-in-production-0123456789";

pub fn token_config() -> TokenConfig {
    TokenConfig::from_lookup(|name| (name == "JWT_SECRET").then(|| TEST_JWT_SECRET.to_owned()))
        .unwrap_or_else(|e| panic!("test token config: {e}"))
}

/// An app on a fresh in-memory embedded store.
pub fn in_memory_app() -> App<EmbeddedStore> {
    let store = EmbeddedStore::in_memory().unwrap_or_else(|e| panic!("in-memory store: {e}"));
    App::new(store, token_config())
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
        .http_client(crate::aws::https_client())
        .build();
    App::new(DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), "blog"), token_config())
}

const HTTP_API_EVENT: &str = include_str!("../../events/list-posts.json");
const REST_API_EVENT: &str = include_str!("../../events/list-posts-rest-v1.json");

/// A request description, rendered as an HTTP API (2.0) or REST API (1.0) event.
#[derive(Debug, Clone)]
pub struct TestRequest {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl TestRequest {
    pub fn new(method: &str, path: &str) -> Self {
        Self { method: method.into(), path: path.into(), query: vec![], headers: vec![], body: None }
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// A JSON body with `content-type: application/json`.
    pub fn json(self, body: &Value) -> Self {
        self.header("content-type", "application/json").raw_body(&body.to_string())
    }

    pub fn raw_body(mut self, body: &str) -> Self {
        self.body = Some(body.into());
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
        event["rawPath"] = json!(self.path);
        event["rawQueryString"] = json!(self.query_string());
        event["queryStringParameters"] = Self::single_valued(&self.query);
        let headers = event["headers"].as_object_mut().unwrap_or_else(|| panic!("fixture headers"));
        for (k, v) in &self.headers {
            headers.insert(k.to_ascii_lowercase(), json!(v));
        }
        event["requestContext"]["http"]["method"] = json!(self.method);
        event["requestContext"]["http"]["path"] = json!(self.path);
        event["requestContext"]["routeKey"] = json!(route);
        event["requestContext"]["stage"] = json!(stage);
        self.set_body(&mut event);
        Self::parse(event)
    }

    /// An API Gateway REST API (payload 1.0) request.
    pub fn rest_api(&self) -> Request {
        let mut event: Value = serde_json::from_str(REST_API_EVENT).unwrap_or_else(|e| panic!("fixture: {e}"));
        event["resource"] = json!(self.path);
        event["path"] = json!(self.path);
        event["httpMethod"] = json!(self.method);
        event["queryStringParameters"] = Self::single_valued(&self.query);
        event["multiValueQueryStringParameters"] = Self::multi_valued(&self.query);
        for (k, v) in &self.headers {
            event["headers"][k] = json!(v);
            event["multiValueHeaders"][k] = json!([v]);
        }
        event["requestContext"]["httpMethod"] = json!(self.method);
        event["requestContext"]["resourcePath"] = json!(self.path);
        self.set_body(&mut event);
        Self::parse(event)
    }

    fn set_body(&self, event: &mut Value) {
        event["body"] = self.body.as_ref().map_or(Value::Null, |b| json!(b));
        event["isBase64Encoded"] = json!(false);
    }

    fn parse(event: Value) -> Request {
        lambda_http::request::from_str(&event.to_string()).unwrap_or_else(|e| panic!("event does not parse: {e}"))
    }
}

/// The JSON body of a response.
pub fn body_json(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or_else(|e| panic!("response body is not JSON: {e}"))
}
