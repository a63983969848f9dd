//! `POST /login`: exchange email and password for a session.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{client_address, parse_json_body, user_agent};
use shared::model::LoginRequest;
use shared::password_check::check_password;
use shared::sessions::start_session;
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let attempt = parse_json_body::<LoginRequest>(&req)?.validate()?;
    let verified = check_password(app, attempt, client_address(&req)).await?;
    // The session's write and the attempt's release go together; the hash upgrade after.
    let device_token = verified.trusted_device_token.clone();
    let (released, session) = tokio::join!(
        verified.release(app),
        start_session(app, &verified.credentials.user, user_agent(&req), StatusCode::OK, device_token)
    );
    released?;
    let session = session?;
    verified.upgrade_weaker_hash(app).await;
    Ok(session)
}
