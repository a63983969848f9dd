//! Identities: an `IDENTITY#` item per linked identity, naming its account, written in one
//! transaction with the account's items.
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};

use super::codec::{Reader, SIGN_IN_METHODS, s, sign_in_methods};
use super::keys::{email_key, identity_key, owned_identity_key, schema::PK, user_key};
use super::users::account_items;
use super::{DynamoStore, cancelled_on, classify};
use crate::model::{Credentials, Identity, User};
use crate::store::{IdentityStore, NewSession, StoreError, UserStore};

impl IdentityStore for DynamoStore {
    async fn user_by_identity(&self, identity: &Identity) -> Result<Option<User>, StoreError> {
        let Some(item) = self.get(identity_key(&identity.key())).await? else { return Ok(None) };
        let user_id = Reader(&item).string("user_id")?;
        self.get_user(&user_id).await
    }

    async fn create_user_with_identity(
        &self,
        user: &User,
        identity: &Identity,
        first_session: Option<&NewSession>,
    ) -> Result<(), StoreError> {
        let (user_item, email_item) = account_items(&Credentials { user: user.clone(), password_hash: None })?;
        let mut identity_item = identity_key(&identity.key());
        identity_item.insert("user_id".to_owned(), s(&user.id));
        let mut items = vec![
            self.put_new(user_item)?,
            self.put_new(email_item)?,
            self.put_new(identity_item)?,
            self.put_new(owned_identity_key(&user.id, &identity.key()))?,
        ];
        if let Some(session) = first_session {
            items.extend(self.session_items(session)?);
        }
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => Ok(()),
            // The identity is the third item and decides first: a racing first sign-in of
            // the same person also claimed the same email.
            Err(err) if cancelled_on(&err, 2) => Err(StoreError::IdentityTaken),
            Err(err) if cancelled_on(&err, 1) => Err(StoreError::EmailTaken),
            Err(err) => Err(classify(err)),
        }
    }

    async fn link_identity(&self, user: &User, identity: &Identity) -> Result<User, StoreError> {
        let mut linked = user.clone();
        linked.sign_in_methods.insert(identity.method);
        let mut identity_item = identity_key(&identity.key());
        identity_item.insert("user_id".to_owned(), s(&user.id));
        let claim = Put::builder()
            .table_name(&self.table)
            .set_item(Some(identity_item))
            .condition_expression("attribute_not_exists(#pk) OR user_id = :user")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":user", s(&user.id))
            .build()
            .map_err(|e| StoreError::Corrupt(format!("building a transaction item: {e}")))?;
        // Both copies of the account (profile and email item) get the whole set, so an
        // account made before sign-in methods were stored keeps its password.
        let methods = sign_in_methods(&linked)?;
        let set_methods = |key| {
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key))
                .update_expression("SET #methods = :methods")
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#methods", SIGN_IN_METHODS)
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":methods", methods.clone())
                .build()
                .map(|update| TransactWriteItem::builder().update(update).build())
                .map_err(|e| StoreError::Corrupt(format!("building a transaction item: {e}")))
        };
        // Its place among what the account owns (linking again rewrites it unchanged).
        let owned = Put::builder()
            .table_name(&self.table)
            .set_item(Some(owned_identity_key(&user.id, &identity.key())))
            .build()
            .map_err(|e| StoreError::Corrupt(format!("building a transaction item: {e}")))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(claim).build())
            .transact_items(set_methods(user_key(&user.id))?)
            .transact_items(set_methods(email_key(&user.email))?)
            .transact_items(TransactWriteItem::builder().put(owned).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(linked),
            Err(err) if cancelled_on(&err, 0) => Err(StoreError::IdentityTaken),
            Err(err) if cancelled_on(&err, 1) || cancelled_on(&err, 2) => Err(StoreError::NotFound),
            Err(err) => Err(classify(err)),
        }
    }
}
