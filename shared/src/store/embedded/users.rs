//! Accounts: credentials keyed by email (the uniqueness guard), profiles by id, and
//! failed logins.
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{CREDENTIALS, EmbeddedStore, LOGIN_FAILURES, USERS, decode, encode, unavailable};
use crate::auth::throttle::LoginFailures;
use crate::model::{Credentials, User};
use crate::store::{LoginState, StoreError, UserStore};

#[derive(Serialize, Deserialize)]
struct StoredCredentials {
    user: User,
    password_hash: String,
}

impl UserStore for EmbeddedStore {
    async fn create_user(&self, credentials: &Credentials) -> Result<(), StoreError> {
        let user = credentials.user.clone();
        let stored =
            encode(&StoredCredentials { user: user.clone(), password_hash: credentials.password_hash.clone() })?;
        let profile = encode(&user)?;
        self.run(move |db| {
            // redb has one writer at a time, so check-then-insert in one transaction is atomic.
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut by_email = txn.open_table(CREDENTIALS).map_err(unavailable)?;
                if by_email.get(user.email.as_str()).map_err(unavailable)?.is_some() {
                    return Err(StoreError::EmailTaken);
                }
                by_email.insert(user.email.as_str(), stored.as_slice()).map_err(unavailable)?;
                let mut users = txn.open_table(USERS).map_err(unavailable)?;
                users.insert(user.id.as_str(), profile.as_slice()).map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn login_state(&self, email: &str) -> Result<LoginState, StoreError> {
        let email = email.to_owned();
        self.run(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let failures = txn.open_table(LOGIN_FAILURES).map_err(unavailable)?;
            let failures = failures.get(email.as_str()).map_err(unavailable)?;
            let credentials = txn.open_table(CREDENTIALS).map_err(unavailable)?;
            let credentials = credentials.get(email.as_str()).map_err(unavailable)?;
            Ok(LoginState {
                failures: failures.map(|bytes| decode(bytes.value())).transpose()?,
                credentials: credentials
                    .map(|bytes| decode::<StoredCredentials>(bytes.value()))
                    .transpose()?
                    .map(|stored| Credentials { user: stored.user, password_hash: stored.password_hash }),
            })
        })
        .await
    }

    async fn replace_password_hash(&self, email: &str, old_hash: &str, new_hash: &str) -> Result<bool, StoreError> {
        let (email, old_hash, new_hash) = (email.to_owned(), old_hash.to_owned(), new_hash.to_owned());
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            let replaced = {
                let mut table = txn.open_table(CREDENTIALS).map_err(unavailable)?;
                let current: Option<StoredCredentials> =
                    table.get(email.as_str()).map_err(unavailable)?.map(|b| decode(b.value())).transpose()?;
                match current {
                    Some(mut stored) if stored.password_hash == old_hash => {
                        stored.password_hash = new_hash;
                        table.insert(email.as_str(), encode(&stored)?.as_slice()).map_err(unavailable)?;
                        true
                    }
                    _ => false,
                }
            };
            txn.commit().map_err(unavailable)?;
            Ok(replaced)
        })
        .await
    }

    async fn record_login_failure(&self, email: &str, at: OffsetDateTime) -> Result<LoginFailures, StoreError> {
        let email = email.to_owned();
        self.run(move |db| {
            // One writer at a time: the read-modify-write below is atomic.
            let txn = db.begin_write().map_err(unavailable)?;
            let updated = {
                let mut table = txn.open_table(LOGIN_FAILURES).map_err(unavailable)?;
                let previous =
                    table.get(email.as_str()).map_err(unavailable)?.map(|b| decode(b.value())).transpose()?;
                let updated = LoginFailures::after_failure(previous, at);
                table.insert(email.as_str(), encode(&updated)?.as_slice()).map_err(unavailable)?;
                updated
            };
            txn.commit().map_err(unavailable)?;
            Ok(updated)
        })
        .await
    }

    async fn clear_login_failures(&self, email: &str) -> Result<(), StoreError> {
        let email = email.to_owned();
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            txn.open_table(LOGIN_FAILURES).map_err(unavailable)?.remove(email.as_str()).map_err(unavailable)?;
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.read_one(USERS, id).await
    }
}
