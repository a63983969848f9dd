//! `POST /token/refresh`: exchange a refresh token for a new access token and a new
//! refresh token. The presented one is used up (rotation); presenting it again revokes
//! its whole family.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::auth::refresh_token_hash;
use shared::error::ApiError;
use shared::http::parse_json_body;
use shared::model::{RefreshTokenRequest, now};
use shared::sessions::session_response;
use shared::store::{Rotation, Store};

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let presented = parse_json_body::<RefreshTokenRequest>(&req)?.validate()?;
    let at = now();
    // The presented token is used up only when the answer can carry the next one's.
    app.tokens.ready_to_issue().await?;
    let next = app.tokens.new_refresh_token(at)?;
    match app.store.rotate_refresh_token(&refresh_token_hash(&presented.0), &next.hash, next.expires_at, at).await? {
        Rotation::Rotated { user, session_id } => {
            let access = app.tokens.issue(&user.user_id, &user.display_name, &session_id).await?;
            Ok(session_response(StatusCode::OK, &access, &next, app.tokens.refresh_ttl_seconds(), None))
        }
        Rotation::Reused => {
            tracing::warn!("a refresh token was presented again after its rotation: its session is revoked");
            Err(ApiError::InvalidRefreshToken)
        }
        Rotation::Refused => Err(ApiError::InvalidRefreshToken),
    }
}
