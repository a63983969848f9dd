//! `POST /me/identities/google`: link a Google account to the signed-in account, so that
//! either signs in to it.
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{authenticate, parse_json_body, user_response};
use shared::model::{GoogleCredentialRequest, Identity};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    if !app.google.enabled() {
        return Err(ApiError::GoogleSignInDisabled);
    }
    let credential = parse_json_body::<GoogleCredentialRequest>(&req)?.validate()?;
    // Presenting a fresh ID token for our client proves the caller holds the Google account.
    let google = app.google.verify(&credential.0).await?;
    let user = app.store.get_user(&claims.sub).await?.ok_or(ApiError::NotFound)?;
    let linked = app.store.link_identity(&user, &Identity::google(google.sub)).await?;
    Ok(user_response(&linked))
}
