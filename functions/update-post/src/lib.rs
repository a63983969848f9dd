//! `PATCH /posts/{id}`: change the title or body of one's own post.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{authenticate, if_match, parse_json_body, path_id, post_response};
use shared::model::{UpdatePostRequest, now};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    let id = path_id(&req)?;
    let precondition = if_match(&req)?;
    let edit = parse_json_body::<UpdatePostRequest>(&req)?.validate()?;
    // Existence, authorship and version are one conditional write in the store.
    let post = app.store.update_post(&id, &claims.sub, &edit, &precondition, now()).await?;
    Ok(post_response(StatusCode::OK, &post))
}
