//! Logins: what a login reads in one go, and the attempt counters it reserves and gives
//! back (`auth::throttle` has the rules).
use std::collections::HashMap;
use std::future::Future;

use time::OffsetDateTime;

use super::StoreError;
use crate::auth::throttle::{AttemptCounter, Attempts, Reservation};
use crate::model::{Credentials, TrustedDevice};

/// What [`LoginStore::login_state`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoginState {
    pub credentials: Option<Credentials>,
    /// What the counters asked for hold, by [`AttemptCounter::key`] (absent: none counted).
    pub attempts: HashMap<String, Attempts>,
    /// The trusted device asked for, if it is stored.
    pub device: Option<TrustedDevice>,
}

impl LoginState {
    /// What `counter` held when read.
    pub fn attempts_on(&self, counter: &AttemptCounter) -> Option<Attempts> {
        self.attempts.get(&counter.key()).copied()
    }
}

/// Logins. Futures are `Send` so handlers can run on any executor.
pub trait LoginStore: Send + Sync {
    /// What a login must know, read together (one round trip on DynamoDB): the account of
    /// `email` (already normalised), what each of `counters` holds, and the trusted device
    /// whose token hashes to `device_hash`, each if any.
    fn login_state(
        &self,
        email: &str,
        counters: &[AttemptCounter],
        device_hash: Option<&str>,
    ) -> impl Future<Output = Result<LoginState, StoreError>> + Send;

    /// Reserves one attempt on `counter` at `at`, if its limit allows, atomically: of racing
    /// reservations on one counter, no more are granted than the limit. `seen` is what the
    /// counter held when read (a guess: if it changed since, the store reads it again).
    fn reserve_attempt(
        &self,
        counter: &AttemptCounter,
        seen: Option<Attempts>,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Reservation, StoreError>> + Send;

    /// Gives one reserved attempt back (a login that succeeded), without touching when the
    /// last one was made; nothing if the counter holds none.
    fn give_back_attempt(&self, counter: &AttemptCounter) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Forgets every attempt `counter` holds (a login that succeeded from where others failed).
    fn clear_attempts(&self, counter: &AttemptCounter) -> impl Future<Output = Result<(), StoreError>> + Send;
}
