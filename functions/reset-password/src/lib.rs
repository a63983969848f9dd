//! `POST /password/reset`: use the single-use token a reset link carries to set a new
//! password. The token, the new hash, the account's verified email and its cleared
//! lockout are one write; then every session of the account ends.
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::auth::{TokenPurpose, hash_password, mailed_token_hash};
use shared::error::ApiError;
use shared::http::{no_content, parse_json_body};
use shared::model::{PasswordResetRequest, now};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let reset = parse_json_body::<PasswordResetRequest>(&req)?.validate()?;
    let token_hash = mailed_token_hash(&reset.token.0);
    // A token that cannot be used costs no password hashing.
    if app.store.find_mailed_token(&token_hash, TokenPurpose::ResetPassword, now()).await?.is_none() {
        return Err(ApiError::InvalidToken);
    }
    let new_hash = hash_password(reset.new_password).await?;
    let at = now();
    let user = app.store.reset_password(&token_hash, &new_hash, at).await?.ok_or(ApiError::InvalidToken)?;
    let ended = app.store.revoke_all_sessions(&user.id, None, at).await?;
    tracing::info!(user_id = user.id, ended, "a password was reset; every session ended");
    Ok(no_content())
}
