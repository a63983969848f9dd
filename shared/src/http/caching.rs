//! Public answers (the feed, a post, an author's posts): the same for everyone, so any
//! cache may keep them for a short while, and a client that holds the current one gets
//! `304 Not Modified` without a body. Personal answers are `no-store` (`response`).
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};

/// Fresh for a few seconds (a new post shows within them), then served stale for longer
/// while one request revalidates it in the background (RFC 5861): a burst of readers
/// costs one call to the API per cache.
pub const PUBLIC_CACHE_CONTROL: &str = "public, max-age=5, stale-while-revalidate=30";

/// Makes `response`, a public answer to `req`, cacheable: `Cache-Control`
/// ([`PUBLIC_CACHE_CONTROL`]) and a strong `ETag` (the one it carries, or one made from its
/// body), and `304 Not Modified` with neither body nor type when `If-None-Match` names it.
pub fn public_response(req: &Request, mut response: Response<Body>) -> Response<Body> {
    if response.status() != StatusCode::OK {
        return response;
    }
    let etag = match response.headers().get(header::ETAG) {
        Some(etag) => etag.clone(),
        None => body_etag(response.body().as_ref()),
    };
    if if_none_match_names(req, &etag) {
        response = Response::new(Body::Empty);
        *response.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(PUBLIC_CACHE_CONTROL));
    headers.insert(header::ETAG, etag);
    response
}

/// A strong entity tag of a body: its SHA-256, base64url, quoted.
fn body_etag(body: &[u8]) -> HeaderValue {
    let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(body));
    HeaderValue::try_from(format!("\"{digest}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// Whether the request's `If-None-Match` names `etag`: `*`, or a tag equal to it by the
/// weak comparison (RFC 9110 §13.1.2: a `W/` prefix is ignored). Our tags hold no commas.
fn if_none_match_names(req: &Request, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else { return false };
    req.headers().get_all(header::IF_NONE_MATCH).iter().filter_map(|value| value.to_str().ok()).any(|value| {
        value.split(',').map(str::trim).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::json_response;

    fn request(if_none_match: &[&str]) -> Request {
        let mut builder = lambda_http::http::Request::builder().uri("/posts");
        for value in if_none_match {
            builder = builder.header(header::IF_NONE_MATCH, *value);
        }
        builder.body(Body::Empty).unwrap()
    }

    #[test]
    fn a_body_has_one_strong_tag_and_a_request_holding_it_gets_304() {
        let answer = || json_response(StatusCode::OK, &serde_json::json!({ "posts": [] }));
        let fresh = public_response(&request(&[]), answer());
        assert_eq!(fresh.status(), StatusCode::OK);
        assert_eq!(fresh.headers()[header::CACHE_CONTROL], PUBLIC_CACHE_CONTROL);
        let etag = fresh.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 45, "{etag}");
        let held = [etag.clone(), format!("W/{etag}"), format!("\"other\", {etag}"), "*".into()];
        for value in &held {
            let revalidated = public_response(&request(&[value]), answer());
            assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED, "{value}");
            assert!(
                revalidated.body().as_ref().is_empty() && revalidated.headers().get(header::CONTENT_TYPE).is_none()
            );
            assert_eq!(revalidated.headers()[header::ETAG], etag.as_str());
            assert_eq!(revalidated.headers()[header::CACHE_CONTROL], PUBLIC_CACHE_CONTROL);
        }
        assert_eq!(public_response(&request(&["\"other\"", "\"x\""]), answer()).status(), StatusCode::OK);
        let other = json_response(StatusCode::OK, &serde_json::json!({ "posts": [1] }));
        assert_ne!(public_response(&request(&[]), other).headers()[header::ETAG], etag.as_str());
    }

    #[test]
    fn an_answer_that_is_not_a_success_is_left_alone() {
        let missing = json_response(StatusCode::NOT_FOUND, &serde_json::json!({}));
        let response = public_response(&request(&["*"]), missing);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(response.headers().get(header::CACHE_CONTROL).is_none());
    }
}
