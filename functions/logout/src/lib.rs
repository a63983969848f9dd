//! `POST /logout`: end the session a refresh token belongs to (its whole family).
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::auth::refresh_token_hash;
use shared::error::ApiError;
use shared::http::{no_content, parse_json_body};
use shared::model::{RefreshTokenRequest, now};
use shared::store::Store;

/// An unknown, expired or already revoked token is answered the same: logging out twice
/// is harmless, and the answer tells nothing about a token.
pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let presented = parse_json_body::<RefreshTokenRequest>(&req)?.validate()?;
    app.store.end_session(&refresh_token_hash(&presented.0), now()).await?;
    Ok(no_content())
}
