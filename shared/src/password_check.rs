//! An account's password checked under the login throttle (`auth::throttle`). Login and
//! every route that asks for the password again (changing it) go through here, so none of
//! them is a way round the limits, and each answers an unknown account exactly as a wrong
//! password.
use std::net::IpAddr;

use crate::app::App;
use crate::auth::throttle::{AttemptCounter, address_name};
use crate::auth::{PasswordError, device_token_hash, hash_password, needs_rehash, verify_password};
use crate::error::ApiError;
use crate::model::{Credentials, LoginAttempt, Secret, now};
use crate::store::Store;

/// A password that matched its account. The attempt stays counted until [`Self::release`].
pub struct Verified {
    pub credentials: Credentials,
    /// The hash the password matched.
    pub password_hash: String,
    /// The attempt's device token, when it is a trusted device of this account.
    pub trusted_device_token: Option<Secret>,
    counted: Counted,
    /// Set when the stored hash should be replaced: the password matched only as sent (not
    /// NFKC-normalised), or the hash's parameters are weaker than today's.
    rehash: Option<Secret>,
}

/// The counters an attempt was reserved on.
enum Counted {
    Device(AttemptCounter),
    AddressAndAccount { address: AttemptCounter, account: AttemptCounter },
}

/// Checks `attempt` from `address`: the attempt is reserved on its counters before any
/// password work, refused with `429` when a limit is reached, and the password verified
/// (an unknown account, or one without a password, against a dummy hash: same time, same
/// `401`).
pub async fn check_password<S: Store>(
    app: &App<S>,
    attempt: LoginAttempt,
    address: Option<IpAddr>,
) -> Result<Verified, ApiError> {
    let now = now();
    let address = address_name(address);
    let device_hash = attempt.device_token.as_ref().map(|token| device_token_hash(&token.0));
    let from_address = AttemptCounter::AccountFromAddress { email: attempt.email.clone(), address };
    let account = AttemptCounter::Account { email: attempt.email.clone() };
    let device = device_hash.clone().map(|token_hash| AttemptCounter::Device { token_hash });
    let counters: Vec<AttemptCounter> =
        [from_address.clone(), account.clone()].into_iter().chain(device.clone()).collect();
    let state = app.store.login_state(&attempt.email, &counters, device_hash.as_deref()).await?;

    // A trusted device of this very account answers only to its own counter; any other
    // attempt to the address's and the account's (both at once: one round trip). Each
    // attempt is reserved before any password work, and a refusal comes before it too,
    // known email or not.
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

    // A password whose NFKC form differs is tried as sent too (hashes made before
    // passwords were normalised), whether or not the account exists, so that costs the
    // same either way.
    let stored_hash = state.credentials.as_ref().and_then(|c| c.password_hash.clone());
    let password = attempt.password.clone();
    let mut verified = verify(attempt.password, stored_hash.clone()).await?;
    let mut matched_as_sent = false;
    if let Some(as_sent) = attempt.password_as_sent.filter(|_| !verified) {
        verified = verify(as_sent, stored_hash.clone()).await?;
        matched_as_sent = verified;
    }
    // A failure leaves its reservations counted.
    let (Some(credentials), Some(password_hash), true) = (state.credentials, stored_hash, verified) else {
        return Err(ApiError::InvalidCredentials);
    };
    let rehash = (matched_as_sent || needs_rehash(&password_hash)).then_some(password);
    let counted = match trusted_device {
        Some(device) => Counted::Device(device),
        None => Counted::AddressAndAccount { address: from_address, account },
    };
    let trusted_device_token = attempt.device_token.filter(|_| matches!(counted, Counted::Device(_)));
    Ok(Verified { credentials, password_hash, trusted_device_token, counted, rehash })
}

impl Verified {
    /// The attempt succeeded: the address (or the device) starts afresh, and the account
    /// forgets this one attempt.
    pub async fn release<S: Store>(&self, app: &App<S>) -> Result<(), ApiError> {
        match &self.counted {
            Counted::Device(device) => app.store.clear_attempts(device).await?,
            Counted::AddressAndAccount { address, account } => {
                let (address, account) =
                    tokio::join!(app.store.clear_attempts(address), app.store.give_back_attempt(account));
                address.and(account)?;
            }
        }
        Ok(())
    }

    /// Stores a hash of the NFKC password with today's parameters in place of a weaker or
    /// older one, if it needs one. The password has already matched, so a failure here is
    /// logged, not returned.
    pub async fn upgrade_weaker_hash<S: Store>(self, app: &App<S>) {
        let Some(password) = self.rehash else { return };
        let email = &self.credentials.user.email;
        let upgraded = match hash_password(password).await {
            Ok(new_hash) => {
                app.store.replace_password_hash(email, &self.password_hash, &new_hash).await.map_err(|e| e.to_string())
            }
            Err(err) => Err(err.to_string()),
        };
        match upgraded {
            Ok(replaced) => tracing::info!(replaced, "password hash upgraded to current parameters"),
            Err(err) => tracing::warn!(error = %err, "password hash upgrade failed"),
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
