//! `DELETE /me/sessions/{id}`: end one of the signed-in account's sessions (its refresh
//! tokens stop working; an access token already issued lives out its short lifetime).
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{authenticate, no_content, path_id};
use shared::model::now;
use shared::store::Store;

/// Another account's session, an ended one and an unknown id are all 404: the answer tells
/// nothing about sessions that are not the caller's.
pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    let session_id = path_id(&req)?;
    match app.store.revoke_session(&claims.sub, &session_id, now()).await? {
        true => Ok(no_content()),
        false => Err(ApiError::NotFound),
    }
}
