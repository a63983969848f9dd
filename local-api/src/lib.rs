//! The whole API on one machine: an HTTP server that turns each request into the
//! `lambda_http::Request` the Lambda handlers take and calls the very same handlers.
//! Routes and CORS settings come from `template.yaml`; nothing is declared twice.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request as HttpRequest, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::{Router, middleware};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextHttpDescription,
};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{MAX_BODY_BYTES, respond};
use shared::store::Store;
use shared::template::{Cors, Route, TemplateError};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

pub mod functions;
pub mod keys;
pub mod mail;
pub mod realtime;
pub mod web;

/// One route of the table: a method, a path pattern (`/posts/{id}`) and its function.
#[derive(Debug, Clone)]
struct RouteEntry {
    method: Method,
    segments: Vec<String>,
    /// The function's binary, one of [`functions::BINARIES`].
    function: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("template.yaml routes {route} to {binary:?}, which local-api does not know")]
    UnknownFunction { binary: String, route: String },
    #[error("invalid {what} in template.yaml or options: {value:?}")]
    Invalid { what: &'static str, value: String },
}

/// The routes of `template.yaml`, each bound to its handler.
pub struct RouteTable {
    routes: Vec<RouteEntry>,
}

/// What a request path and method resolve to.
enum Resolved {
    Found(&'static str, HashMap<String, String>),
    WrongMethod(Vec<Method>),
    NotFound,
}

impl RouteTable {
    pub fn from_template() -> Result<Self, SetupError> {
        Self::new(shared::template::routes()?)
    }

    fn new(routes: Vec<Route>) -> Result<Self, SetupError> {
        let routes = routes
            .into_iter()
            .map(|route| {
                let function = functions::BINARIES.iter().copied().find(|b| *b == route.binary).ok_or_else(|| {
                    SetupError::UnknownFunction {
                        binary: route.binary.clone(),
                        route: format!("{} {}", route.method, route.path),
                    }
                })?;
                let method = Method::from_bytes(route.method.as_bytes())
                    .map_err(|_| SetupError::Invalid { what: "method", value: route.method.clone() })?;
                Ok(RouteEntry { method, segments: segments(&route.path).map(str::to_owned).collect(), function })
            })
            .collect::<Result<_, SetupError>>()?;
        Ok(Self { routes })
    }

    fn resolve(&self, method: &Method, path: &str) -> Resolved {
        let mut allowed = Vec::new();
        for route in &self.routes {
            let Some(params) = match_path(&route.segments, path) else { continue };
            if route.method == method {
                return Resolved::Found(route.function, params);
            }
            allowed.push(route.method.clone());
        }
        if allowed.is_empty() { Resolved::NotFound } else { Resolved::WrongMethod(allowed) }
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// Matches `path` against a pattern's segments, collecting `{name}` parameters.
fn match_path(pattern: &[String], path: &str) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    let mut parts = segments(path);
    for expected in pattern {
        let actual = parts.next()?;
        match expected.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) => {
                params.insert(name.to_owned(), actual.to_owned());
            }
            None if expected == actual => {}
            None => return None,
        }
    }
    parts.next().is_none().then_some(params)
}

struct Server<S> {
    app: App<S>,
    routes: RouteTable,
}

/// The API's OpenAPI document, `openapi.yaml` at the repository root.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// `openapi.yaml` as JSON, for `GET /openapi.json`.
pub fn openapi_json() -> Result<String, SetupError> {
    let spec: serde_json::Value = serde_yaml_ng::from_str(OPENAPI_YAML)
        .map_err(|e| SetupError::Invalid { what: "openapi.yaml", value: e.to_string() })?;
    Ok(spec.to_string())
}

/// The HTTP application: template routes → Lambda handlers, plus `GET /openapi.json`,
/// with CORS and an access log.
pub fn router<S: Store + 'static>(app: App<S>, routes: RouteTable, cors: CorsLayer) -> Result<Router, SetupError> {
    let state = Arc::new(Server { app, routes });
    let spec = openapi_json()?;
    let serve_spec = move || async move { ([(header::CONTENT_TYPE, "application/json")], spec) };
    Ok(Router::new()
        .route("/openapi.json", axum::routing::get(serve_spec))
        .fallback(dispatch::<S>)
        .with_state(state)
        .layer(cors)
        // The handlers' answers carry it already (shared::http::respond); this covers the
        // spec and CORS preflights, which local-api answers itself.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(middleware::from_fn(access_log)))
}

/// CORS as the HTTP API does it: the template's methods, headers and max age, for `origins`.
pub fn cors_layer(cors: &Cors, origins: &[String]) -> Result<CorsLayer, SetupError> {
    let parse_all = |what: &'static str, values: &[String]| {
        values
            .iter()
            .map(|v| HeaderValue::from_str(v).map_err(|_| SetupError::Invalid { what, value: v.clone() }))
            .collect::<Result<Vec<_>, _>>()
    };
    let methods = cors
        .allow_methods
        .iter()
        .map(|m| Method::from_bytes(m.as_bytes()).map_err(|_| SetupError::Invalid { what: "method", value: m.clone() }))
        .collect::<Result<Vec<_>, _>>()?;
    let headers = |what, values: &[String]| -> Result<Vec<HeaderName>, SetupError> {
        values
            .iter()
            .map(|h| HeaderName::from_bytes(h.as_bytes()).map_err(|_| SetupError::Invalid { what, value: h.clone() }))
            .collect()
    };
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(parse_all("origin", origins)?))
        .allow_methods(methods)
        .allow_headers(headers("header", &cors.allow_headers)?)
        .expose_headers(headers("header", &cors.expose_headers)?)
        .max_age(Duration::from_secs(cors.max_age_seconds)))
}

async fn dispatch<S: Store + 'static>(State(server): State<Arc<Server<S>>>, request: HttpRequest) -> HttpResponse {
    let (function, params) = match server.routes.resolve(request.method(), request.uri().path()) {
        Resolved::Found(function, params) => (function, params),
        Resolved::WrongMethod(allowed) => {
            return method_not_allowed(&allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", "));
        }
        Resolved::NotFound => return to_http(respond(Err(ApiError::NotFound))),
    };
    match to_lambda(request, params).await {
        Ok(req) => to_http(respond(functions::call(function, &server.app, req).await)),
        Err(err) => to_http(respond(Err(err))),
    }
}

/// `405 method_not_allowed` in the API's envelope, with the methods the path takes.
fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut response = to_http(respond(Err(ApiError::MethodNotAllowed)));
    if let Ok(allow) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

/// Converts an HTTP request into what API Gateway would hand the function: the body as
/// text (or bytes when not UTF-8), decoded query parameters, the path parameters, and the
/// TCP peer's address as the request context's `sourceIp` (never a header).
async fn to_lambda(
    request: HttpRequest,
    path_params: HashMap<String, String>,
) -> Result<lambda_http::Request, ApiError> {
    let (parts, body) = request.into_parts();
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip());
    // Read one byte past the limit so the handler itself answers 413, as on Lambda.
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES + 1)
        .await
        .map_err(|_| ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES })?;
    let body = match String::from_utf8(bytes.to_vec()) {
        Ok(text) if text.is_empty() => Body::Empty,
        Ok(text) => Body::Text(text),
        Err(not_utf8) => Body::Binary(not_utf8.into_bytes()),
    };
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()) {
        query.entry(name.into_owned()).or_default().push(value.into_owned());
    }
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.source_ip = peer.map(|ip| ip.to_string());
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http = http;
    Ok(lambda_http::Request::from_parts(parts, body)
        .with_query_string_parameters(query)
        .with_path_parameters(path_params)
        .with_request_context(RequestContext::ApiGatewayV2(context)))
}

fn to_http(response: lambda_http::Response<Body>) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    HttpResponse::from_parts(parts, axum::body::Body::from(bytes))
}

/// One line per request: method, path, status and latency. Never bodies, query strings
/// or headers, which may carry passwords and tokens.
async fn access_log(request: HttpRequest, next: middleware::Next) -> impl IntoResponse {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(target: "access", "{method} {path} {} {latency_ms:.1}ms", response.status().as_u16());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(binary: &str, method: &str, path: &str) -> Route {
        Route { binary: binary.into(), method: method.into(), path: path.into() }
    }

    #[test]
    fn the_function_list_is_exactly_the_templates_functions() {
        let listed: std::collections::BTreeSet<&str> = functions::BINARIES.iter().copied().collect();
        let routes = shared::template::routes().unwrap();
        let deployed: std::collections::BTreeSet<&str> = routes.iter().map(|r| r.binary.as_str()).collect();
        assert_eq!(listed, deployed);
        assert_eq!(listed.len(), functions::BINARIES.len(), "a function is listed twice");
        assert_eq!(RouteTable::from_template().unwrap().routes.len(), routes.len());
    }

    #[test]
    fn an_unknown_function_is_refused_at_start() {
        let err = RouteTable::new(vec![route("delete-everything", "POST", "/x")]).err().unwrap();
        assert!(matches!(err, SetupError::UnknownFunction { .. }), "{err}");
    }

    #[test]
    fn paths_match_segment_by_segment_with_parameters() {
        let table = RouteTable::new(vec![
            route("list-posts", "GET", "/posts"),
            route("create-post", "POST", "/posts"),
            route("list-posts", "GET", "/users/{id}/posts"),
        ])
        .unwrap();
        assert!(matches!(table.resolve(&Method::GET, "/posts"), Resolved::Found("list-posts", _)));
        assert!(matches!(table.resolve(&Method::GET, "/posts/"), Resolved::Found("list-posts", _)));
        let Resolved::Found(_, params) = table.resolve(&Method::GET, "/users/01ABC/posts") else { panic!() };
        assert_eq!(params["id"], "01ABC");
        let Resolved::WrongMethod(allowed) = table.resolve(&Method::DELETE, "/posts") else { panic!() };
        assert_eq!(allowed, [Method::GET, Method::POST]);
        for path in ["/", "/post", "/posts/1", "/users//posts", "/users/1/posts/2"] {
            assert!(matches!(table.resolve(&Method::GET, path), Resolved::NotFound), "{path}");
        }
    }
}
