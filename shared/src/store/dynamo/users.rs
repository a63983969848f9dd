//! Accounts: the user and email items written together (with the verification mail's request at signup).
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::codec::{Item, PASSWORD_HASH, Reader, s, user_attributes};
use super::keys::{email_key, user_key};
use super::mail::mail_request_item;
use super::{DynamoStore, cancellation_reason, cancelled_on, classify, condition_held};
use crate::model::{Credentials, MailRequest, User};
use crate::store::{NewSession, StoreError, UserStore};

/// A new account's two items: its profile (by id) and its email item (the uniqueness
/// guard, which login reads), with the password hash if it has one.
pub(super) fn account_items(credentials: &Credentials) -> Result<(Item, Item), StoreError> {
    let user = &credentials.user;
    let mut user_item = user_key(&user.id);
    user_item.extend(user_attributes(user)?);

    let mut email_item = email_key(&user.email);
    email_item.extend(user_attributes(user)?);
    email_item.insert("user_id".to_owned(), s(&user.id));
    email_item.remove("id");
    if let Some(hash) = &credentials.password_hash {
        email_item.insert(PASSWORD_HASH.to_owned(), s(hash));
    }
    Ok((user_item, email_item))
}

impl UserStore for DynamoStore {
    async fn create_user(
        &self,
        credentials: &Credentials,
        first_session: Option<&NewSession>,
    ) -> Result<(), StoreError> {
        let (user_item, email_item) = account_items(credentials)?;
        let user = &credentials.user;
        let verification = mail_request_item(&MailRequest::VerifyEmail { user_id: user.id.clone() }, user.created_at);
        let mut items = vec![self.put_new(user_item)?, self.put_new(email_item)?, self.put_new(verification)?];
        if let Some(session) = first_session {
            items.extend(self.session_items(session)?);
        }
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => Ok(()),
            // The email item is the transaction's second.
            Err(err) if cancelled_on(&err, 1) => Err(StoreError::EmailTaken),
            Err(err) => Err(classify(err)),
        }
    }

    async fn replace_password_hash(&self, email: &str, old_hash: &str, new_hash: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(email_key(email)))
            .update_expression("SET #hash = :new")
            .condition_expression("#hash = :old")
            .expression_attribute_names("#hash", PASSWORD_HASH)
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(old_hash))
            .send()
            .await;
        condition_held(result)
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.get(user_key(id)).await?.map(|item| Reader(&item).user("id")).transpose()
    }

    async fn rename_user(&self, id: &str, display_name: &str) -> Result<Option<User>, StoreError> {
        let Some(mut user) = self.get_user(id).await? else { return Ok(None) };
        let rename = |key, condition: &str| {
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key))
                .update_expression("SET display_name = :name")
                .condition_expression(condition)
                .expression_attribute_values(":name", s(display_name))
                .expression_attribute_values(":id", s(id))
                .build()
                .map_err(|e| StoreError::Corrupt(format!("building the rename: {e}")))
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(rename(user_key(id), "id = :id")?).build())
            .transact_items(
                TransactWriteItem::builder().update(rename(email_key(&user.email), "user_id = :id")?).build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => {
                user.display_name = display_name.to_owned();
                Ok(Some(user))
            }
            // The account was deleted after the read.
            Err(err) if cancellation_reason(&err, 0) == Some("ConditionalCheckFailed") => Ok(None),
            Err(err) => Err(classify(err)),
        }
    }
}
