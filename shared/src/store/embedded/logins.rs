//! Logins: the attempt counters by key, trusted devices by token hash, read with the
//! account in one transaction.
use std::collections::HashMap;

use redb::{ReadableDatabase, ReadableTable};
use time::OffsetDateTime;

use super::users::StoredCredentials;
use super::{ATTEMPTS, CREDENTIALS, DEVICES, EmbeddedStore, decode, encode, unavailable};
use crate::auth::throttle::{AttemptCounter, Attempts, Reservation};
use crate::store::{LoginState, LoginStore, StoreError};

impl LoginStore for EmbeddedStore {
    async fn login_state(
        &self,
        email: &str,
        counters: &[AttemptCounter],
        device_hash: Option<&str>,
    ) -> Result<LoginState, StoreError> {
        let email = email.to_owned();
        let keys: Vec<String> = counters.iter().map(AttemptCounter::key).collect();
        let device_hash = device_hash.map(str::to_owned);
        self.run(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let credentials = txn.open_table(CREDENTIALS).map_err(unavailable)?;
            let credentials = credentials.get(email.as_str()).map_err(unavailable)?;
            let attempts = txn.open_table(ATTEMPTS).map_err(unavailable)?;
            let mut found = HashMap::new();
            for key in keys {
                if let Some(bytes) = attempts.get(key.as_str()).map_err(unavailable)? {
                    found.insert(key, decode(bytes.value())?);
                }
            }
            let devices = txn.open_table(DEVICES).map_err(unavailable)?;
            let device = match &device_hash {
                Some(hash) => {
                    devices.get(hash.as_str()).map_err(unavailable)?.map(|b| decode(b.value())).transpose()?
                }
                None => None,
            };
            Ok(LoginState {
                credentials: credentials
                    .map(|bytes| decode::<StoredCredentials>(bytes.value()))
                    .transpose()?
                    .map(StoredCredentials::into_credentials),
                attempts: found,
                device,
            })
        })
        .await
    }

    async fn reserve_attempt(
        &self,
        counter: &AttemptCounter,
        _seen: Option<Attempts>,
        at: OffsetDateTime,
    ) -> Result<Reservation, StoreError> {
        let (key, limit) = (counter.key(), counter.limit());
        self.run(move |db| {
            // One writer at a time: reading the counter and writing it back is atomic, so
            // what was seen before does not matter.
            let txn = db.begin_write().map_err(unavailable)?;
            let reservation = {
                let mut table = txn.open_table(ATTEMPTS).map_err(unavailable)?;
                let current = table.get(key.as_str()).map_err(unavailable)?.map(|b| decode(b.value())).transpose()?;
                let reservation = Attempts::reserve(current, limit, at);
                if let Reservation::Granted(attempts) = &reservation {
                    table.insert(key.as_str(), encode(attempts)?.as_slice()).map_err(unavailable)?;
                }
                reservation
            };
            txn.commit().map_err(unavailable)?;
            Ok(reservation)
        })
        .await
    }

    async fn give_back_attempt(&self, counter: &AttemptCounter) -> Result<(), StoreError> {
        let key = counter.key();
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut table = txn.open_table(ATTEMPTS).map_err(unavailable)?;
                let current: Option<Attempts> =
                    table.get(key.as_str()).map_err(unavailable)?.map(|b| decode(b.value())).transpose()?;
                if let Some(mut attempts) = current.filter(|a| a.count > 0) {
                    attempts.count -= 1;
                    table.insert(key.as_str(), encode(&attempts)?.as_slice()).map_err(unavailable)?;
                }
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn clear_attempts(&self, counter: &AttemptCounter) -> Result<(), StoreError> {
        let key = counter.key();
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            txn.open_table(ATTEMPTS).map_err(unavailable)?.remove(key.as_str()).map_err(unavailable)?;
            txn.commit().map_err(unavailable)
        })
        .await
    }
}
