//! `POST /email/verify/resend`: mail the signed-in account a new verification link, at
//! most once a minute (the request is stored; `send-mail` delivers it).
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::App;
use shared::error::ApiError;
use shared::http::{authenticate, json_response};
use shared::model::{MAIL_INTERVAL, MailRequest, now};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    let user = app.store.get_user(&claims.sub).await?.ok_or(ApiError::NotFound)?;
    if user.email_verified {
        return Err(ApiError::EmailAlreadyVerified);
    }
    let request = MailRequest::VerifyEmail { user_id: user.id };
    if !app.store.request_mail(&request, now()).await? {
        return Err(ApiError::TooManyRequests { retry_after_seconds: MAIL_INTERVAL.whole_seconds().unsigned_abs() });
    }
    Ok(json_response(StatusCode::ACCEPTED, &json!({ "status": "sending" })))
}
