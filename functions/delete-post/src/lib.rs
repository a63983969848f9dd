//! `DELETE /posts/{id}`: remove one's own post.
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{authenticate, if_match, no_content, path_id};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    let id = path_id(&req)?;
    let precondition = if_match(&req)?;
    // Existence, authorship and version are one conditional delete in the store.
    app.store.delete_post(&id, &claims.sub, &precondition).await?;
    Ok(no_content())
}
