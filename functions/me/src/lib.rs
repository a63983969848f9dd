//! `GET /me`: the signed-in user.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::App;
use shared::error::ApiError;
use shared::http::{authenticate, json_response, no_store};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    let user = app.store.get_user(&claims.sub).await?.ok_or(ApiError::NotFound)?;
    Ok(no_store(json_response(StatusCode::OK, &json!({ "user": user }))))
}
