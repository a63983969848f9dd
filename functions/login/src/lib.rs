//! `POST /login`: exchange email and password for a session.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::auth::{PasswordError, hash_password, needs_rehash, verify_password};
use shared::error::ApiError;
use shared::http::parse_json_body;
use shared::model::{LoginRequest, Secret, now};
use shared::sessions::start_session;
use shared::store::{LoginState, Store};

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let attempt = parse_json_body::<LoginRequest>(&req)?.validate()?;
    let now = now();
    // A locked account is refused before any password work, known or not.
    let LoginState { failures, credentials } = app.store.login_state(&attempt.email).await?;
    if let Some(retry_after_seconds) = failures.as_ref().and_then(|f| f.retry_after(now)) {
        return Err(ApiError::TooManyAttempts { retry_after_seconds });
    }
    // An unknown email is verified against a dummy hash: same time, same answer. A password
    // whose NFKC form differs is tried as sent too (hashes made before passwords were
    // normalised), whether or not the account exists, so that costs the same either way.
    let stored_hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let password = attempt.password.clone();
    let mut verified = verify(attempt.password, stored_hash.clone()).await?;
    let mut hashed_as_sent = false;
    if let Some(as_sent) = attempt.password_as_sent.filter(|_| !verified) {
        verified = verify(as_sent, stored_hash).await?;
        hashed_as_sent = verified;
    }
    match credentials {
        Some(credentials) if verified => {
            if failures.is_some() {
                app.store.clear_login_failures(&attempt.email).await?;
            }
            if hashed_as_sent || needs_rehash(&credentials.password_hash) {
                upgrade_hash(app, &attempt.email, &credentials.password_hash, password).await;
            }
            start_session(app, &credentials.user, StatusCode::OK).await
        }
        _ => {
            app.store.record_login_failure(&attempt.email, now).await?;
            Err(ApiError::InvalidCredentials)
        }
    }
}

/// Whether `password` matches `stored` (the dummy hash when `None`). A stored hash this
/// code refuses (tampered, or beyond the cost caps) is logged and matches nothing.
async fn verify(password: Secret, stored: Option<String>) -> Result<bool, ApiError> {
    match verify_password(password, stored).await {
        Ok(verified) => Ok(verified),
        Err(PasswordError::StoredHashRefused(reason)) => {
            tracing::warn!(reason, "stored password hash refused");
            Ok(false)
        }
        Err(err) => Err(err.into()),
    }
}

/// Stores a hash of the NFKC password with today's parameters in place of a weaker or older one. The login has already
/// succeeded, so a failure here is logged, not returned.
async fn upgrade_hash<S: Store>(app: &App<S>, email: &str, old_hash: &str, password: Secret) {
    let upgraded = match hash_password(password).await {
        Ok(new_hash) => app.store.replace_password_hash(email, old_hash, &new_hash).await.map_err(|e| e.to_string()),
        Err(err) => Err(err.to_string()),
    };
    match upgraded {
        Ok(replaced) => tracing::info!(replaced, "password hash upgraded to current parameters"),
        Err(err) => tracing::warn!(error = %err, "password hash upgrade failed"),
    }
}
