//! `GET /me/sessions`: the signed-in account's active sessions, oldest first; the one the
//! caller's access token belongs to is `current`.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::App;
use shared::error::ApiError;
use shared::http::{authenticate, json_response, no_store};
use shared::model::{ListedSession, now};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    let sessions: Vec<ListedSession> = app
        .store
        .list_sessions(&claims.sub, now())
        .await?
        .into_iter()
        .map(|session| ListedSession { current: claims.sid.as_deref() == Some(session.id.as_str()), session })
        .collect();
    Ok(no_store(json_response(StatusCode::OK, &json!({ "sessions": sessions }))))
}
