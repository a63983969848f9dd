//! `GET /posts/{id}`: one post, with its `ETag`. Public: cacheable.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{path_id, post_response, public_response};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let id = path_id(&req)?;
    let post = app.store.get_post(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(public_response(&req, post_response(StatusCode::OK, &post)))
}
