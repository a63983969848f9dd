//! `GET /users/{id}/posts?limit&cursor`: one author's posts, newest first, a page at a time.
//! Public: cacheable.
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{page_request, page_response, path_id, public_response};
use shared::store::Store;

/// Binds cursors to this author's listing: one from another listing is refused.
fn cursor_scope(author_id: &str) -> String {
    format!("posts-by:{author_id}")
}

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let author_id = path_id(&req)?;
    let scope = cursor_scope(&author_id);
    let (limit, after) = page_request(&req, &scope)?;
    let page = app.store.list_posts_by_author(&author_id, limit, after.as_deref()).await?.ok_or(ApiError::NotFound)?;
    Ok(public_response(&req, page_response(page, &scope)))
}
