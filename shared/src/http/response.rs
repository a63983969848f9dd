//! Writing a response: JSON bodies, an account, a post with its `ETag`, a page of posts with its
//! cursor, and the single place where an [`ApiError`] becomes a response.
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::cursor;
use crate::error::ApiError;
use crate::model::{Post, User};
use crate::store::PostPage;

/// `{"user": …}`, the signed-in account as it is now: private to its owner, never cached.
pub fn user_response(user: &User) -> Response<Body> {
    no_store(json_response(StatusCode::OK, &serde_json::json!({ "user": user })))
}

/// `{"post": …}` with the post's `ETag`.
pub fn post_response(status: StatusCode, post: &Post) -> Response<Body> {
    let mut response = json_response(status, &serde_json::json!({ "post": post }));
    if let Ok(etag) = HeaderValue::try_from(post.etag()) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// `{"posts": […], "next_cursor": …}`, the cursor bound to the listing's `scope`.
pub fn page_response(page: PostPage, scope: &str) -> Response<Body> {
    let next_cursor = page.next.map(|id| cursor::encode(scope, &id));
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
/// errors are not logged with their input: bodies may hold passwords. Every response
/// passes here, so headers every response carries are set here.
pub fn respond(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    let mut response = match result {
        Ok(response) => response,
        Err(err) => {
            if err.status().is_server_error() {
                tracing::error!(code = err.code(), cause = %cause_chain(&err), "request failed");
            } else {
                tracing::info!(code = err.code(), status = err.status().as_u16(), "request refused");
            }
            error_response(&err)
        }
    };
    // A browser must never guess a type other than the one declared (no MIME sniffing).
    response.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Marks a response that carries personal data or tokens as never to be stored by any
/// cache (RFC 9111 §5.2.2.5; RFC 6749 §5.1 for tokens).
pub fn no_store(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
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
        ApiError::TooManyAttempts { retry_after_seconds } | ApiError::TooManyRequests { retry_after_seconds } => {
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

        assert_eq!(response.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let internal = respond(Err(ApiError::Internal("secret detail".into())));
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!String::from_utf8_lossy(internal.body().as_ref()).contains("secret detail"));
    }
}
