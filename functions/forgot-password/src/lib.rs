//! `POST /password/forgot`: ask for a link that sets a new password. The answer is the
//! same `202` whether or not an account has the email, after the same work (a counter and
//! one stored request): whether a message goes out is decided later, by the mail sender.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::app::App;
use shared::auth::throttle::{AttemptCounter, Reservation, address_name};
use shared::error::ApiError;
use shared::http::{client_address, json_response, parse_json_body};
use shared::model::{ForgotPasswordRequest, MAIL_INTERVAL, MailRequest, now};
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let email = parse_json_body::<ForgotPasswordRequest>(&req)?.validate()?;
    let at = now();
    let from_address = AttemptCounter::ResetRequestsFrom { address: address_name(client_address(&req)) };
    if let Reservation::Refused { retry_after_seconds } = app.store.reserve_attempt(&from_address, None, at).await? {
        return Err(ApiError::TooManyRequests { retry_after_seconds });
    }
    if !app.store.request_mail(&MailRequest::ResetPassword { email }, at).await? {
        return Err(ApiError::TooManyRequests { retry_after_seconds: MAIL_INTERVAL.whole_seconds().unsigned_abs() });
    }
    Ok(json_response(StatusCode::ACCEPTED, &json!({ "status": "sending" })))
}
