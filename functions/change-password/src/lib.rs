//! `POST /me/password`: change the signed-in account's password. The current password is
//! checked as a login checks it (a wrong one counts against the login limits); then every
//! other session of the account ends, and this one goes on.
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::auth::hash_password;
use shared::error::ApiError;
use shared::http::{authenticate, client_address, no_content, parse_json_body};
use shared::model::{ChangePasswordRequest, LoginAttempt, now};
use shared::password_check::check_password;
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    let change = parse_json_body::<ChangePasswordRequest>(&req)?.validate()?;
    let user = app.store.get_user(&claims.sub).await?.ok_or(ApiError::NotFound)?;
    let attempt = LoginAttempt {
        email: user.email,
        password: change.current,
        password_as_sent: change.current_as_sent,
        device_token: None,
    };
    let verified = check_password(app, attempt, client_address(&req)).await?;
    let new_hash = hash_password(change.new).await?;
    let email = &verified.credentials.user.email;
    // Only over the hash that was just checked: a change racing this one wins, and this
    // one's current password is no longer current.
    if !app.store.replace_password_hash(email, &verified.password_hash, &new_hash).await? {
        return Err(ApiError::InvalidCredentials);
    }
    verified.release(app).await?;
    app.store.revoke_all_sessions(&claims.sub, claims.sid.as_deref(), now()).await?;
    Ok(no_content())
}
