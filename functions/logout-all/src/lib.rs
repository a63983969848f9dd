//! `POST /logout/all`: end every session of the signed-in account, this one included
//! ("log out everywhere").
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{authenticate, no_content};
use shared::model::now;
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    let ended = app.store.revoke_all_sessions(&claims.sub, None, now()).await?;
    tracing::info!(ended, "every session of an account was ended");
    Ok(no_content())
}
