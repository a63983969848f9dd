//! `GET /posts?limit&cursor`: every post, newest first, a page at a time.
use std::convert::Infallible;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;
use shared::app::App;
use shared::error::ApiError;
use shared::http::{json_response, respond};
use shared::model::page_limit;
use shared::store::Store;

/// Binds cursors to this listing: one from another listing is refused.
const CURSOR_SCOPE: &str = "posts";

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, Infallible> {
    Ok(respond(list_posts(app, &req).await))
}

async fn list_posts<S: Store>(app: &App<S>, req: &Request) -> Result<Response<Body>, ApiError> {
    let params = req.query_string_parameters();
    let limit = page_limit(params.first("limit"))?;
    let after = params.first("cursor").map(|cursor| app.cursors.decode(CURSOR_SCOPE, cursor)).transpose()?;
    let page = app.store.list_posts(limit, after.as_deref()).await?;
    let next_cursor = page.next.map(|id| app.cursors.encode(CURSOR_SCOPE, &id));
    Ok(json_response(StatusCode::OK, &json!({ "posts": page.posts, "next_cursor": next_cursor })))
}
