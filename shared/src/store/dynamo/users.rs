//! Accounts: the user and email items written together.
use super::codec::{Reader, s, user_attributes};
use super::keys::{email_key, user_key};
use super::{DynamoStore, cancelled_on, classify, is_condition_failure};
use crate::model::{Credentials, User};
use crate::store::{StoreError, UserStore};

impl UserStore for DynamoStore {
    async fn create_user(&self, credentials: &Credentials) -> Result<(), StoreError> {
        let user = &credentials.user;
        let mut user_item = user_key(&user.id);
        user_item.extend(user_attributes(user)?);

        let mut email_item = email_key(&user.email);
        email_item.extend(user_attributes(user)?);
        email_item.insert("user_id".to_owned(), s(&user.id));
        email_item.remove("id");
        email_item.insert("password_hash".to_owned(), s(&credentials.password_hash));

        let result = self
            .client
            .transact_write_items()
            .transact_items(self.put_new(user_item)?)
            .transact_items(self.put_new(email_item)?)
            .send()
            .await;
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
            .update_expression("SET password_hash = :new")
            .condition_expression("password_hash = :old")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(old_hash))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(classify(err)),
        }
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.get(user_key(id)).await?.map(|item| Reader(&item).user("id")).transpose()
    }
}
