//! Reading a request: the body (size, content type, JSON), the caller's access token and
//! address, path ids, headers (`If-Match`, `Idempotency-Key`) and paging parameters, each
//! rule here once.
use std::net::IpAddr;

use lambda_http::http::{HeaderValue, header};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::auth::{Claims, TokenError};
use crate::error::ApiError;
use crate::model::{FieldError, Precondition, is_id};

/// The client's address: the TCP peer API Gateway saw (`requestContext.http.sourceIp` in
/// payload 2.0, `requestContext.identity.sourceIp` in 1.0; local-api puts its peer
/// there). Never `X-Forwarded-For` or any other header, which the client writes. `None`
/// when absent or not an IP address.
pub fn client_address(req: &Request) -> Option<IpAddr> {
    let source_ip = match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context.http.source_ip.as_deref(),
        RequestContext::ApiGatewayV1(context) => context.identity.source_ip.as_deref(),
        _ => None,
    };
    source_ip?.parse().ok()
}

/// Request bodies larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 128 * 1024;
/// How many posts a page may hold (`?limit`), and how many it holds when none is asked for.
pub const PAGE_LIMIT: std::ops::RangeInclusive<usize> = 1..=100;
pub const DEFAULT_PAGE_LIMIT: usize = 20;
/// The length of an `Idempotency-Key`, in bytes.
pub const IDEMPOTENCY_KEY_CHARS: std::ops::RangeInclusive<usize> = 1..=128;
/// At most this many entity tags in one `If-Match` header.
pub const MAX_IF_MATCH_TAGS: usize = 20;

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

/// The claims of the caller's access token: the one check every protected route makes
/// first. Any fault in the header or the token is the same `401`.
pub fn authenticate<S>(app: &App<S>, req: &Request) -> Result<Claims, ApiError> {
    match app.tokens.verify(bearer_token(req)?) {
        Ok(claims) => Ok(claims),
        Err(err @ TokenError::NoKey(_)) => Err(ApiError::Internal(err.to_string())),
        Err(_) => Err(ApiError::Unauthorized),
    }
}

/// The client's `User-Agent`, as it sent it (when it is text): what a session is listed
/// with, so its owner can tell their sessions apart.
pub fn user_agent(req: &Request) -> Option<&str> {
    req.headers().get(header::USER_AGENT).and_then(|value| value.to_str().ok())
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

/// Parses an `If-Match` header. Entity tags compare strongly (RFC 9110 §13.1.1): only
/// `"<version>"` can match, so a weak or foreign tag matches nothing.
fn precondition(raw: Option<&[u8]>) -> Result<Precondition, ApiError> {
    let Some(raw) = raw else { return Ok(Precondition::Any) };
    let too_many = || {
        ApiError::Validation(vec![FieldError::new(
            "If-Match",
            format!("must list at most {MAX_IF_MATCH_TAGS} entity tags"),
        )])
    };
    let text = String::from_utf8_lossy(raw);
    let tags: Vec<&str> = text.split(',').map(str::trim).filter(|tag| !tag.is_empty()).collect();
    if tags.len() > MAX_IF_MATCH_TAGS {
        return Err(too_many());
    }
    if tags.contains(&"*") {
        return Ok(Precondition::Any);
    }
    let mut versions: Vec<u64> = tags
        .iter()
        .filter_map(|tag| tag.strip_prefix('"')?.strip_suffix('"'))
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|digits| digits.parse().ok())
        .collect();
    versions.sort_unstable();
    versions.dedup();
    Ok(Precondition::OneOf(versions))
}

/// The request's `Idempotency-Key`, when it sends one.
pub fn idempotency_key(req: &Request) -> Result<Option<String>, ApiError> {
    parse_idempotency_key(req.headers().get("idempotency-key").map(HeaderValue::as_bytes))
}

/// Validates an `Idempotency-Key` header value: 1 to 128 visible ASCII characters.
fn parse_idempotency_key(raw: Option<&[u8]>) -> Result<Option<String>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let visible = raw.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
    match std::str::from_utf8(raw) {
        Ok(key) if visible && IDEMPOTENCY_KEY_CHARS.contains(&key.len()) => Ok(Some(key.to_owned())),
        _ => Err(ApiError::Validation(vec![FieldError::new(
            "Idempotency-Key",
            format!(
                "must be {} to {} visible ASCII characters",
                IDEMPOTENCY_KEY_CHARS.start(),
                IDEMPOTENCY_KEY_CHARS.end()
            ),
        )])),
    }
}

/// What a listing asks for: `?limit` (default and bounds above) and `?cursor`, the
/// cursor checked against the listing's `scope`.
pub fn page_request(req: &Request, scope: &str) -> Result<(usize, Option<String>), ApiError> {
    let params = req.query_string_parameters();
    let limit = page_limit(params.first("limit"))?;
    let after = params.first("cursor").map(|cursor| crate::cursor::decode(scope, cursor)).transpose()?;
    Ok((limit, after))
}

/// Parses the `limit` query parameter: absent means the default.
pub fn page_limit(raw: Option<&str>) -> Result<usize, ApiError> {
    let Some(raw) = raw else { return Ok(DEFAULT_PAGE_LIMIT) };
    match raw.parse::<usize>() {
        Ok(limit) if PAGE_LIMIT.contains(&limit) => Ok(limit),
        _ => Err(ApiError::Validation(vec![FieldError::new(
            "limit",
            format!("must be a whole number from {} to {}", PAGE_LIMIT.start(), PAGE_LIMIT.end()),
        )])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Author, Post, now};
    use lambda_http::Body;
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
    fn if_match_compares_strongly() {
        assert_eq!(precondition(None).unwrap(), Precondition::Any);
        assert_eq!(precondition(Some(b"*")).unwrap(), Precondition::Any);
        assert_eq!(precondition(Some(b"\"3\"")).unwrap(), Precondition::OneOf(vec![3]));
        assert_eq!(precondition(Some(b" \"7\" , \"2\",\"7\"")).unwrap(), Precondition::OneOf(vec![2, 7]));
        for never in
            [&b"W/\"3\""[..], b"3", b"\"\"", b"\"-1\"", b"\"3a\"", b"\"99999999999999999999999\"", b"", b"\xff"]
        {
            assert_eq!(precondition(Some(never)).unwrap(), Precondition::OneOf(vec![]), "{never:?}");
        }
        let at_limit = vec!["\"1\""; MAX_IF_MATCH_TAGS].join(",");
        assert!(precondition(Some(at_limit.as_bytes())).is_ok());
        let over = vec!["\"1\""; MAX_IF_MATCH_TAGS + 1].join(",");
        assert!(matches!(precondition(Some(over.as_bytes())), Err(ApiError::Validation(_))));
        let post = Post {
            version: 4,
            ..Post::new("t".into(), "b".into(), Author { id: "a".into(), display_name: "A".into() }, now())
        };
        assert_eq!(precondition(Some(post.etag().as_bytes())).unwrap(), Precondition::OneOf(vec![4]), "a post's ETag");
    }

    #[test]
    fn page_limit_rules() {
        assert_eq!(page_limit(None).unwrap(), DEFAULT_PAGE_LIMIT);
        assert_eq!(page_limit(Some("1")).unwrap(), 1);
        assert_eq!(page_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "ten", "", "1.5"] {
            assert!(page_limit(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn idempotency_key_rules() {
        assert_eq!(parse_idempotency_key(None).unwrap(), None);
        assert_eq!(parse_idempotency_key(Some(b"order-42")).unwrap().as_deref(), Some("order-42"));
        assert!(parse_idempotency_key(Some("k".repeat(128).as_bytes())).is_ok());
        for bad in [&b""[..], "k".repeat(129).as_bytes(), b"tab\there", b"nul\0", "caf\u{e9}".as_bytes()] {
            assert!(parse_idempotency_key(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
