//! `POST /login`: exchange email and password for a session.
use std::convert::Infallible;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::auth::{PasswordError, session_response, verify_password};
use shared::error::ApiError;
use shared::http::{parse_json_body, respond};
use shared::model::LoginRequest;
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, Infallible> {
    Ok(respond(login(app, &req).await))
}

async fn login<S: Store>(app: &App<S>, req: &Request) -> Result<Response<Body>, ApiError> {
    let attempt = parse_json_body::<LoginRequest>(req)?.validate()?;
    let credentials = app.store.credentials_by_email(&attempt.email).await?;
    // An unknown email is verified against a dummy hash: same time, same answer.
    let stored_hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let verified = match verify_password(attempt.password, stored_hash).await {
        Ok(verified) => verified,
        Err(PasswordError::StoredHashRefused(reason)) => {
            tracing::warn!(reason, "stored password hash refused");
            false
        }
        Err(err) => return Err(err.into()),
    };
    match credentials {
        Some(credentials) if verified => {
            let token = app.tokens.issue(&credentials.user.id, &credentials.user.display_name)?;
            Ok(session_response(StatusCode::OK, &credentials.user, &token))
        }
        _ => Err(ApiError::InvalidCredentials),
    }
}
