//! `POST /posts`: publish a post as the signed-in user.
use std::convert::Infallible;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::App;
use shared::error::ApiError;
use shared::http::{bearer_token, json_response, parse_json_body, respond};
use shared::model::{Author, CreatePostRequest, Post, new_id, now};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, Infallible> {
    Ok(respond(create_post(app, &req).await))
}

async fn create_post<S: Store>(app: &App<S>, req: &Request) -> Result<Response<Body>, ApiError> {
    let claims = app.tokens.verify(bearer_token(req)?).map_err(|_| ApiError::Unauthorized)?;
    let new_post = parse_json_body::<CreatePostRequest>(req)?.validate()?;
    let created_at = now();
    let post = Post {
        id: new_id(created_at),
        title: new_post.title,
        body: new_post.body,
        author: Author { id: claims.sub, display_name: claims.name },
        created_at,
    };
    app.store.create_post(&post).await?;
    let mut response = json_response(StatusCode::CREATED, &json!({ "post": post }));
    let location = HeaderValue::try_from(format!("/posts/{}", post.id))
        .map_err(|e| ApiError::Internal(format!("location header: {e}")))?;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}
