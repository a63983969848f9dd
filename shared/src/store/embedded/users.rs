//! Accounts: credentials keyed by email (the uniqueness guard) and profiles by id.
use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::mail::insert_mail_request;
use super::sessions::insert_session;
use super::{CREDENTIALS, EmbeddedStore, USERS, decode, encode, unavailable};
use crate::model::{Credentials, MailRequest, User};
use crate::store::{NewSession, StoreError, UserStore};

#[derive(Serialize, Deserialize)]
pub(super) struct StoredCredentials {
    pub(super) user: User,
    /// Absent for an account made with Google alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) password_hash: Option<String>,
}

impl StoredCredentials {
    pub(super) fn into_credentials(self) -> Credentials {
        Credentials { user: self.user, password_hash: self.password_hash }
    }
}

/// Stores a new account in `txn`: `EmailTaken` if its email has one already. redb has one
/// writer at a time, so check-then-insert in one transaction is atomic.
pub(super) fn insert_account(txn: &WriteTransaction, credentials: &Credentials) -> Result<(), StoreError> {
    let user = &credentials.user;
    let stored = StoredCredentials { user: user.clone(), password_hash: credentials.password_hash.clone() };
    let mut by_email = txn.open_table(CREDENTIALS).map_err(unavailable)?;
    if by_email.get(user.email.as_str()).map_err(unavailable)?.is_some() {
        return Err(StoreError::EmailTaken);
    }
    by_email.insert(user.email.as_str(), encode(&stored)?.as_slice()).map_err(unavailable)?;
    let mut users = txn.open_table(USERS).map_err(unavailable)?;
    users.insert(user.id.as_str(), encode(user)?.as_slice()).map_err(unavailable)?;
    Ok(())
}

impl UserStore for EmbeddedStore {
    async fn create_user(
        &self,
        credentials: &Credentials,
        first_session: Option<&NewSession>,
    ) -> Result<(), StoreError> {
        let (credentials, first_session) = (credentials.clone(), first_session.cloned());
        self.write(move |txn| {
            insert_account(txn, &credentials)?;
            let user = &credentials.user;
            insert_mail_request(txn, &MailRequest::VerifyEmail { user_id: user.id.clone() }, user.created_at)?;
            first_session.map_or(Ok(()), |session| insert_session(txn, &session))
        })
        .await?;
        self.mail_waker.notify_one();
        Ok(())
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
                    Some(mut stored) if stored.password_hash.as_deref() == Some(old_hash.as_str()) => {
                        stored.password_hash = Some(new_hash);
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

    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.read_one(USERS, id).await
    }

    async fn rename_user(&self, id: &str, display_name: &str) -> Result<Option<User>, StoreError> {
        let (id, display_name) = (id.to_owned(), display_name.to_owned());
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            let renamed = {
                let mut users = txn.open_table(USERS).map_err(unavailable)?;
                let user: Option<User> =
                    users.get(id.as_str()).map_err(unavailable)?.map(|b| decode(b.value())).transpose()?;
                match user {
                    Some(mut user) => {
                        user.display_name = display_name;
                        users.insert(id.as_str(), encode(&user)?.as_slice()).map_err(unavailable)?;
                        let mut by_email = txn.open_table(CREDENTIALS).map_err(unavailable)?;
                        let stored: Option<StoredCredentials> = by_email
                            .get(user.email.as_str())
                            .map_err(unavailable)?
                            .map(|b| decode(b.value()))
                            .transpose()?;
                        let mut stored =
                            stored.ok_or_else(|| StoreError::Corrupt(format!("user {id} has no login record")))?;
                        stored.user = user.clone();
                        by_email.insert(user.email.as_str(), encode(&stored)?.as_slice()).map_err(unavailable)?;
                        Some(user)
                    }
                    None => None,
                }
            };
            txn.commit().map_err(unavailable)?;
            Ok(renamed)
        })
        .await
    }
}
