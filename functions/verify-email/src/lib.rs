//! `POST /email/verify`: use the single-use token a verification link carries; the
//! account's email is verified. No bearer token: the link may be opened anywhere.
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::auth::mailed_token_hash;
use shared::error::ApiError;
use shared::http::{parse_json_body, user_response};
use shared::model::{MailedTokenRequest, now};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let token = parse_json_body::<MailedTokenRequest>(&req)?.validate()?;
    let user = app.store.verify_email(&mailed_token_hash(&token.0), now()).await?.ok_or(ApiError::InvalidToken)?;
    tracing::info!(user_id = user.id, "an email was verified");
    Ok(user_response(&user))
}
