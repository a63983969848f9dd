//! `GET /.well-known/jwks.json`: the public keys that verify our access tokens, so other
//! services can verify them too. Public, and cacheable: keys change only at a rotation,
//! and the previous key stays in the set while its tokens live.
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::json_response;
use shared::store::Store;

/// How long clients and caches may keep the set: well within a rotation's overlap.
const CACHE_CONTROL: &str = "public, max-age=300";

pub async fn handle<S: Store>(app: &App<S>, _req: Request) -> Result<Response<Body>, ApiError> {
    let keys = app.tokens.public_keys();
    if keys.keys.is_empty() {
        return Err(ApiError::Internal("this function was given no public keys (TOKEN_PUBLIC_JWKS)".into()));
    }
    let mut response = json_response(StatusCode::OK, keys);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
    Ok(response)
}
