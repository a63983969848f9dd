//! `GET /posts?limit&cursor`: every post, newest first, a page at a time. Public: cacheable.
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{page_request, page_response, public_response};
use shared::store::Store;

/// Binds cursors to this listing: one from another listing is refused.
const CURSOR_SCOPE: &str = "posts";

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let (limit, after) = page_request(&req, CURSOR_SCOPE)?;
    let page = app.store.list_posts(limit, after.as_deref()).await?;
    Ok(public_response(&req, page_response(page, CURSOR_SCOPE)))
}
