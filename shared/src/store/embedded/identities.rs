//! Identities: identity key → the id of the account it signs in to, written in the same
//! transaction as the account.
use redb::{ReadableDatabase, ReadableTable};

use super::sessions::insert_session;
use super::users::{StoredCredentials, insert_account};
use super::{CREDENTIALS, EmbeddedStore, IDENTITIES, USERS, encode, get_json, unavailable};
use crate::model::{Credentials, Identity, User};
use crate::store::{IdentityStore, NewSession, StoreError, UserStore};

impl IdentityStore for EmbeddedStore {
    async fn user_by_identity(&self, identity: &Identity) -> Result<Option<User>, StoreError> {
        let key = identity.key();
        let user_id = self
            .run(move |db| {
                let txn = db.begin_read().map_err(unavailable)?;
                let table = txn.open_table(IDENTITIES).map_err(unavailable)?;
                Ok(table.get(key.as_str()).map_err(unavailable)?.map(|id| id.value().to_string()))
            })
            .await?;
        match user_id {
            Some(id) => self.get_user(&id).await,
            None => Ok(None),
        }
    }

    async fn create_user_with_identity(
        &self,
        user: &User,
        identity: &Identity,
        first_session: Option<&NewSession>,
    ) -> Result<(), StoreError> {
        let (credentials, key) = (Credentials { user: user.clone(), password_hash: None }, identity.key());
        let first_session = first_session.cloned();
        self.write(move |txn| {
            {
                let mut identities = txn.open_table(IDENTITIES).map_err(unavailable)?;
                if identities.get(key.as_str()).map_err(unavailable)?.is_some() {
                    return Err(StoreError::IdentityTaken);
                }
                identities.insert(key.as_str(), credentials.user.id.as_str()).map_err(unavailable)?;
            }
            insert_account(txn, &credentials)?;
            first_session.map_or(Ok(()), |session| insert_session(txn, &session))
        })
        .await
    }

    async fn link_identity(&self, user: &User, identity: &Identity) -> Result<User, StoreError> {
        let (user, identity) = (user.clone(), identity.clone());
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            let linked = {
                let mut identities = txn.open_table(IDENTITIES).map_err(unavailable)?;
                let owner =
                    identities.get(identity.key().as_str()).map_err(unavailable)?.map(|id| id.value().to_string());
                if owner.is_some_and(|owner| owner != user.id) {
                    return Err(StoreError::IdentityTaken);
                }
                identities.insert(identity.key().as_str(), user.id.as_str()).map_err(unavailable)?;
                // Both copies of the account, profile and credentials, as they are stored now.
                let mut users = txn.open_table(USERS).map_err(unavailable)?;
                let mut linked: User = get_json(&users, &user.id)?.ok_or(StoreError::NotFound)?;
                linked.sign_in_methods.insert(identity.method);
                users.insert(user.id.as_str(), encode(&linked)?.as_slice()).map_err(unavailable)?;
                let mut by_email = txn.open_table(CREDENTIALS).map_err(unavailable)?;
                let mut stored: StoredCredentials = get_json(&by_email, &linked.email)?.ok_or(StoreError::NotFound)?;
                stored.user = linked.clone();
                by_email.insert(linked.email.as_str(), encode(&stored)?.as_slice()).map_err(unavailable)?;
                linked
            };
            txn.commit().map_err(unavailable)?;
            Ok(linked)
        })
        .await
    }
}
