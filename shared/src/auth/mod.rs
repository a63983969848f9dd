//! Passwords (argon2id) and access tokens (HS256 JWTs).
pub mod common_passwords;
mod jwt_hmac;
pub mod password;
pub mod throttle;
pub mod token;

pub use password::{PasswordError, hash_password, needs_rehash, verify_password};
pub use token::{AccessToken, Claims, TokenError, TokenService};

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::json;

use crate::model::User;

/// The body signup and login answer with. Token responses must not be cached (RFC 6749 §5.1).
pub fn session_response(status: StatusCode, user: &User, token: &AccessToken) -> Response<Body> {
    let body = json!({
        "user": user,
        "access_token": token.token,
        "token_type": "Bearer",
        "expires_in": token.expires_in,
    });
    let mut response = crate::http::json_response(status, &body);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
