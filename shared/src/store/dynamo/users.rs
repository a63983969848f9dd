//! Accounts: the user and email items written together, logins and their failures.
use time::OffsetDateTime;

use super::codec::{Reader, n, s, unix_millis, user_attributes};
use super::keys::{email_key, login_failures_key, schema::*, user_key};
use super::{DynamoStore, cancelled_on, classify, is_condition_failure};
use crate::auth::throttle::{FAILURE_WINDOW, LoginFailures};
use crate::model::{Credentials, User};
use crate::store::{LoginState, StoreError, UserStore};

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

    async fn login_state(&self, email: &str) -> Result<LoginState, StoreError> {
        let email_pk = email_key(email);
        let items = self.get_both(email_pk.clone(), login_failures_key(email)).await?;
        let mut state = LoginState::default();
        for item in &items {
            if item.get(PK) == email_pk.get(PK) {
                let reader = Reader(item);
                state.credentials =
                    Some(Credentials { user: reader.user("user_id")?, password_hash: reader.string("password_hash")? });
            } else {
                state.failures = Some(Reader(item).login_failures()?);
            }
        }
        Ok(state)
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

    async fn record_login_failure(&self, email: &str, at: OffsetDateTime) -> Result<LoginFailures, StoreError> {
        let cutoff = unix_millis(at - FAILURE_WINDOW);
        // Kept a day past the window, then DynamoDB's TTL removes the item.
        let expires_at = (at + FAILURE_WINDOW + time::Duration::DAY).unix_timestamp();
        // Count on while the window is open; otherwise start again at one. Each step is
        // conditional, so racing failures are all counted; a lost race just retries.
        for _ in 0..3 {
            let counted = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(login_failures_key(email)))
                .update_expression("SET #count = #count + :one, last_failure_at = :now, #ttl = :expires")
                .condition_expression("last_failure_at > :cutoff")
                .expression_attribute_names("#count", "count")
                .expression_attribute_names("#ttl", TTL)
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(unix_millis(at)))
                .expression_attribute_values(":expires", n(expires_at))
                .expression_attribute_values(":cutoff", n(cutoff))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
                .send()
                .await;
            match counted {
                Ok(output) => {
                    let item =
                        output.attributes().ok_or_else(|| StoreError::Corrupt("no attributes returned".into()))?;
                    return Reader(item).login_failures();
                }
                Err(err) if !is_condition_failure(&err) => return Err(classify(err)),
                Err(_) => {}
            }
            let mut item = login_failures_key(email);
            item.extend([
                ("count".to_owned(), n(1)),
                ("last_failure_at".to_owned(), n(unix_millis(at))),
                (TTL.to_owned(), n(expires_at)),
            ]);
            let started = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#pk) OR last_failure_at <= :cutoff")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":cutoff", n(cutoff))
                .send()
                .await;
            match started {
                Ok(_) => return Ok(LoginFailures { count: 1, last_failure_at: at }),
                Err(err) if !is_condition_failure(&err) => return Err(classify(err)),
                Err(_) => {}
            }
        }
        Err(StoreError::Unavailable("failed-login counter kept changing under contention".into()))
    }

    async fn clear_login_failures(&self, email: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(login_failures_key(email)))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.get(user_key(id)).await?.map(|item| Reader(&item).user("id")).transpose()
    }
}
