//! `GET /me`: the signed-in user.
use std::convert::Infallible;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::App;
use shared::error::ApiError;
use shared::http::{bearer_token, json_response, respond};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, Infallible> {
    Ok(respond(me(app, &req).await))
}

async fn me<S: Store>(app: &App<S>, req: &Request) -> Result<Response<Body>, ApiError> {
    let claims = app.tokens.verify(bearer_token(req)?).map_err(|_| ApiError::Unauthorized)?;
    let user = app.store.get_user(&claims.sub).await?.ok_or(ApiError::NotFound)?;
    Ok(json_response(StatusCode::OK, &json!({ "user": user })))
}
