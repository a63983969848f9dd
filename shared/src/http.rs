//! Reading requests and writing responses: body limits, content types, JSON parsing,
//! bearer tokens, and the single place where an [`ApiError`] becomes a response.
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cursor::CursorCodec;
use crate::error::ApiError;
use crate::model::{Post, Precondition, is_id, page_limit, precondition};
use crate::store::PostPage;

/// Request bodies larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// Parses a JSON request body, enforcing the size limit and the content type first.
pub fn parse_json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    if let Some(content_type) = req.headers().get(header::CONTENT_TYPE)
        && !is_json_media_type(content_type)
    {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    if bytes.is_empty() {
        return Err(ApiError::MalformedJson("the request body is empty".to_owned()));
    }
    // serde would also read a struct from a JSON array; only an object is the right type.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::MalformedJson("the request body must be a JSON object".to_owned()));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))
}

/// `application/json` or any `application/*+json`, with or without parameters.
fn is_json_media_type(value: &HeaderValue) -> bool {
    let Ok(value) = value.to_str() else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", subtype)) => subtype == "json" || subtype.ends_with("+json"),
        _ => false,
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer_token(req: &Request) -> Result<&str, ApiError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or(ApiError::Unauthorized)?;
    let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::Unauthorized)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::Unauthorized);
    }
    Ok(token)
}

/// The `{id}` of a route such as `/posts/{id}`. An id we could never have written is
/// answered 404 like an unknown one, without reaching the store.
pub fn path_id(req: &Request) -> Result<String, ApiError> {
    req.path_parameters().first("id").filter(|id| is_id(id)).map(str::to_owned).ok_or(ApiError::NotFound)
}

/// The request's `If-Match` precondition.
pub fn if_match(req: &Request) -> Result<Precondition, ApiError> {
    precondition(req.headers().get(header::IF_MATCH).map(HeaderValue::as_bytes))
}

/// `{"post": …}` with the post's `ETag`.
pub fn post_response(status: StatusCode, post: &Post) -> Response<Body> {
    let mut response = json_response(status, &serde_json::json!({ "post": post }));
    if let Ok(etag) = HeaderValue::try_from(post.etag()) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// What a listing asks for: `?limit` (default and bounds in `model`) and `?cursor`, the
/// cursor checked against the listing's `scope`.
pub fn page_request(req: &Request, cursors: &CursorCodec, scope: &str) -> Result<(usize, Option<String>), ApiError> {
    let params = req.query_string_parameters();
    let limit = page_limit(params.first("limit"))?;
    let after = params.first("cursor").map(|cursor| cursors.decode(scope, cursor)).transpose()?;
    Ok((limit, after))
}

/// `{"posts": […], "next_cursor": …}`, the cursor bound to the listing's `scope`.
pub fn page_response(page: PostPage, cursors: &CursorCodec, scope: &str) -> Response<Body> {
    let next_cursor = page.next.map(|id| cursors.encode(scope, &id));
    json_response(StatusCode::OK, &serde_json::json!({ "posts": page.posts, "next_cursor": next_cursor }))
}

/// `204 No Content`.
pub fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// A JSON response with the given status.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    match serde_json::to_string(body) {
        Ok(json) => with_json_body(status, json),
        Err(e) => error_response(&ApiError::Internal(format!("serialising the response: {e}"))),
    }
}

/// Turns a handler's result into the response, logging server-side failures. Client
/// errors are not logged with their input: bodies may hold passwords.
pub fn respond(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    match result {
        Ok(response) => response,
        Err(err) => {
            if err.status().is_server_error() {
                tracing::error!(code = err.code(), cause = %cause_chain(&err), "request failed");
            } else {
                tracing::info!(code = err.code(), status = err.status().as_u16(), "request refused");
            }
            error_response(&err)
        }
    }
}

/// `error: cause: cause…`, for the log: an SDK error's own Display says little.
fn cause_chain(err: &dyn std::error::Error) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

fn error_response(err: &ApiError) -> Response<Body> {
    // The envelope holds only strings, so serialising it cannot fail.
    let json = serde_json::to_string(&err.envelope()).unwrap_or_default();
    let mut response = with_json_body(err.status(), json);
    match err {
        ApiError::Unauthorized => {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        ApiError::TooManyAttempts { retry_after_seconds } => {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
        }
        _ => {}
    }
    response
}

fn with_json_body(status: StatusCode, json: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(json));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Probe {
        #[allow(dead_code)]
        name: Option<String>,
    }

    fn request(content_type: Option<&str>, body: impl Into<Body>) -> Request {
        let mut builder = lambda_http::http::Request::builder().method("POST").uri("/x");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(body.into()).unwrap()
    }

    fn parse(content_type: Option<&str>, body: impl Into<Body>) -> Result<Probe, ApiError> {
        parse_json_body(&request(content_type, body))
    }

    #[test]
    fn json_media_types_are_accepted_and_others_refused() {
        for ct in [
            None,
            Some("application/json"),
            Some("Application/JSON; charset=utf-8"),
            Some("application/merge-patch+json"),
        ] {
            assert!(parse(ct, r#"{"name":"x"}"#).is_ok(), "{ct:?}");
        }
        for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "json", ""] {
            assert!(matches!(parse(Some(ct), r#"{"name":"x"}"#), Err(ApiError::UnsupportedMediaType)), "{ct}");
        }
    }

    #[test]
    fn size_limit_is_checked_before_parsing() {
        let at_limit = format!(r#"{{"name":"{}"}}"#, "a".repeat(MAX_BODY_BYTES - 11));
        assert_eq!(at_limit.len(), MAX_BODY_BYTES);
        assert!(parse(None, at_limit).is_ok());
        let over = vec![b'{'; MAX_BODY_BYTES + 1];
        assert!(matches!(parse(None, over), Err(ApiError::PayloadTooLarge { .. })));
    }

    #[test]
    fn malformed_bodies_are_400() {
        let cases: Vec<Body> = vec![
            Body::Empty,
            "".into(),
            "{".into(),
            r#"{"name": 5}"#.into(),
            r#"{"name": "a", "name": "b"}"#.into(),
            "[]".into(),
            r#"["x"]"#.into(),
            "null".into(),
            Body::Binary(vec![b'"', 0xff, 0xfe, b'"']),
        ];
        for body in cases {
            let shown = format!("{body:?}");
            assert!(matches!(parse(None, body), Err(ApiError::MalformedJson(_))), "{shown}");
        }
    }

    #[test]
    fn bearer_tokens_are_extracted() {
        let with_auth = |value: &str| {
            lambda_http::http::Request::builder().header("authorization", value).body(Body::Empty).unwrap()
        };
        assert_eq!(bearer_token(&with_auth("Bearer abc.def.ghi")).unwrap(), "abc.def.ghi");
        assert_eq!(bearer_token(&with_auth("bearer abc")).unwrap(), "abc");
        for bad in ["Basic abc", "Bearer", "Bearer ", "abc", "Token abc"] {
            assert!(matches!(bearer_token(&with_auth(bad)), Err(ApiError::Unauthorized)), "{bad}");
        }
        assert!(bearer_token(&lambda_http::http::Request::new(Body::Empty)).is_err());
    }

    #[test]
    fn errors_render_the_envelope_once() {
        let response = respond(Err(ApiError::Unauthorized));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(body["error"].get("details").is_none());

        let internal = respond(Err(ApiError::Internal("secret detail".into())));
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!String::from_utf8_lossy(internal.body().as_ref()).contains("secret detail"));
    }
}
