//! `GET /me`: the signed-in user, with the ways they can sign in.
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{authenticate, user_response};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    let user = app.store.get_user(&claims.sub).await?.ok_or(ApiError::NotFound)?;
    Ok(user_response(&user))
}
