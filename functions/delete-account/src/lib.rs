//! `DELETE /me`: delete the signed-in account, once the caller proves again that it is
//! theirs (the password, checked as a login checks it, or a fresh Google ID token of its
//! Google account). The account, its email, identities, sessions, trusted devices and
//! posts are gone; the email is free for a new account at once.
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{authenticate, client_address, no_content, parse_json_body};
use shared::model::{DeleteAccountRequest, Identity, LoginAttempt, Reauthentication, now};
use shared::password_check::check_password;
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    let proof = parse_json_body::<DeleteAccountRequest>(&req)?.validate()?;
    let user = app.store.get_user(&claims.sub).await?.ok_or(ApiError::NotFound)?;
    match proof {
        Reauthentication::Password { password, as_sent } => {
            let attempt = LoginAttempt { email: user.email, password, password_as_sent: as_sent, device_token: None };
            check_password(app, attempt, client_address(&req)).await?.release(app).await?;
        }
        Reauthentication::Google(credential) => {
            if !app.google.enabled() {
                return Err(ApiError::GoogleSignInDisabled);
            }
            let google = app.google.verify(&credential.0).await?;
            let owner = app.store.user_by_identity(&Identity::google(google.sub)).await?;
            if owner.is_none_or(|owner| owner.id != claims.sub) {
                return Err(ApiError::InvalidCredentials);
            }
        }
    }
    let deleted = app.store.delete_account(&claims.sub, now()).await?.ok_or(ApiError::NotFound)?;
    tracing::info!(sessions = deleted.sessions, posts = deleted.posts, "an account was deleted");
    Ok(no_content())
}
