//! `POST /login`: exchange email and password for a session.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::auth::throttle::AttemptCounter;
use shared::auth::{PasswordError, device_token_hash, hash_password, needs_rehash, verify_password};
use shared::error::ApiError;
use shared::http::{client_address, parse_json_body, user_agent};
use shared::model::{LoginRequest, Secret, now};
use shared::sessions::start_session;
use shared::store::Store;

/// Where a client's address is unknown, its logins all count as from this one address.
const UNKNOWN_ADDRESS: &str = "unknown";

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let attempt = parse_json_body::<LoginRequest>(&req)?.validate()?;
    let now = now();
    let address = client_address(&req).map_or_else(|| UNKNOWN_ADDRESS.to_owned(), |ip| ip.to_string());
    let device_hash = attempt.device_token.as_ref().map(|token| device_token_hash(&token.0));
    let from_address = AttemptCounter::AccountFromAddress { email: attempt.email.clone(), address };
    let account = AttemptCounter::Account { email: attempt.email.clone() };
    let device = device_hash.clone().map(|token_hash| AttemptCounter::Device { token_hash });
    let counters: Vec<AttemptCounter> =
        [from_address.clone(), account.clone()].into_iter().chain(device.clone()).collect();
    let state = app.store.login_state(&attempt.email, &counters, device_hash.as_deref()).await?;

    // A trusted device of this very account answers only to its own counter; any other
    // login to the address's and the account's (both at once: one round trip). Each attempt
    // is reserved before any password work, and a refusal comes before it too, known email
    // or not.
    let trusted_device = device.filter(|_| {
        state.device.as_ref().is_some_and(|trusted| {
            trusted.expires_at > now && state.credentials.as_ref().is_some_and(|c| c.user.id == trusted.user_id)
        })
    });
    let seen = |counter: &AttemptCounter| state.attempts_on(counter);
    let reservations = match &trusted_device {
        Some(device) => vec![(device, app.store.reserve_attempt(device, seen(device), now).await?)],
        None => {
            let (by_address, by_account) = tokio::join!(
                app.store.reserve_attempt(&from_address, seen(&from_address), now),
                app.store.reserve_attempt(&account, seen(&account), now),
            );
            vec![(&from_address, by_address?), (&account, by_account?)]
        }
    };
    if let Some(retry_after_seconds) = reservations.iter().filter_map(|(_, r)| r.retry_after_seconds()).max() {
        // A refused attempt counts nowhere: what one counter granted it is given back.
        for (counter, reservation) in &reservations {
            if reservation.retry_after_seconds().is_none() {
                app.store.give_back_attempt(counter).await?;
            }
        }
        return Err(ApiError::TooManyAttempts { retry_after_seconds });
    }

    // An unknown email, or an account with no password (made with Google), is verified
    // against a dummy hash: same time, same answer. A password whose NFKC form differs is
    // tried as sent too (hashes made before passwords were normalised), whether or not the
    // account exists, so that costs the same either way.
    let stored_hash = state.credentials.as_ref().and_then(|c| c.password_hash.clone());
    let password = attempt.password.clone();
    let mut verified = verify(attempt.password, stored_hash.clone()).await?;
    let mut hashed_as_sent = false;
    if let Some(as_sent) = attempt.password_as_sent.filter(|_| !verified) {
        verified = verify(as_sent, stored_hash.clone()).await?;
        hashed_as_sent = verified;
    }
    // A failure leaves its reservations counted; a success gives them back (alongside the
    // session's write): the address and the device start afresh, the account forgets this
    // one attempt.
    let (Some(credentials), Some(stored_hash), true) = (state.credentials, stored_hash, verified) else {
        return Err(ApiError::InvalidCredentials);
    };
    if hashed_as_sent || needs_rehash(&stored_hash) {
        upgrade_hash(app, &attempt.email, &stored_hash, password).await;
    }
    let device_token = attempt.device_token.filter(|_| trusted_device.is_some());
    let release = async {
        match &trusted_device {
            Some(device) => app.store.clear_attempts(device).await,
            None => {
                let (address, account) =
                    tokio::join!(app.store.clear_attempts(&from_address), app.store.give_back_attempt(&account));
                address.and(account)
            }
        }
    };
    let (released, session) =
        tokio::join!(release, start_session(app, &credentials.user, user_agent(&req), StatusCode::OK, device_token));
    released?;
    session
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

/// Stores a hash of the NFKC password with today's parameters in place of a weaker or
/// older one. The login has already succeeded, so a failure here is logged, not returned.
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
