//! `DELETE /posts/{id}`: remove one's own post.
use std::convert::Infallible;

use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{bearer_token, if_match, no_content, path_id, respond};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, Infallible> {
    Ok(respond(delete_post(app, &req).await))
}

async fn delete_post<S: Store>(app: &App<S>, req: &Request) -> Result<Response<Body>, ApiError> {
    let claims = app.tokens.verify(bearer_token(req)?).map_err(|_| ApiError::Unauthorized)?;
    let id = path_id(req)?;
    let precondition = if_match(req)?;
    // Existence, authorship and version are one conditional delete in the store.
    app.store.delete_post(&id, &claims.sub, &precondition).await?;
    Ok(no_content())
}
