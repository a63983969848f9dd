//! Logins: the account, its attempt counters and a trusted device read in one
//! `BatchGetItem`; each reservation one conditional write on what was read.
use std::collections::HashMap;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use time::OffsetDateTime;

use super::codec::{COUNT, Item, LAST_ATTEMPT_AT, PASSWORD_HASH, Reader, n, unix_millis};
use super::keys::{attempts_key, device_key, email_key, schema::*};
use super::{DynamoStore, classify, unless_nothing_to_do};
use crate::auth::throttle::{AttemptCounter, Attempts, Reservation};
use crate::model::{Credentials, TrustedDevice};
use crate::store::{LoginState, LoginStore, StoreError};

/// How often a reservation reads a counter again after racing writers changed it.
const RESERVATION_ROUNDS: usize = 8;

/// A trusted device item; its key holds the token's hash.
fn trusted_device(item: &Item) -> Result<TrustedDevice, StoreError> {
    let reader = Reader(item);
    let pk = reader.string(PK)?;
    let token_hash = pk.strip_prefix("DEVICE#").ok_or_else(|| StoreError::Corrupt(format!("not a device: {pk}")))?;
    let expires_at: i64 = reader.number(TTL)?;
    Ok(TrustedDevice {
        token_hash: token_hash.to_owned(),
        user_id: reader.string("user_id")?,
        expires_at: OffsetDateTime::from_unix_timestamp(expires_at)
            .map_err(|e| StoreError::Corrupt(format!("device expiry: {e}")))?,
    })
}

impl LoginStore for DynamoStore {
    async fn login_state(
        &self,
        email: &str,
        counters: &[AttemptCounter],
        device_hash: Option<&str>,
    ) -> Result<LoginState, StoreError> {
        let account = email_key(email);
        let counter_keys: Vec<(String, Item)> = counters.iter().map(|c| (c.key(), attempts_key(&c.key()))).collect();
        let device = device_hash.map(device_key);
        let mut keys = vec![account.clone()];
        keys.extend(counter_keys.iter().map(|(_, key)| key.clone()));
        keys.extend(device.iter().cloned());
        let items = self.get_many(keys).await?;
        let find = |key: &Item| items.iter().find(|item| item.get(PK) == key.get(PK));
        let credentials = find(&account)
            .map(|item| {
                let reader = Reader(item);
                Ok::<_, StoreError>(Credentials {
                    user: reader.user("user_id")?,
                    password_hash: item
                        .contains_key(PASSWORD_HASH)
                        .then(|| reader.string(PASSWORD_HASH))
                        .transpose()?,
                })
            })
            .transpose()?;
        let mut attempts = HashMap::new();
        for (counter, key) in counter_keys {
            if let Some(item) = find(&key) {
                attempts.insert(counter, Reader(item).attempts()?);
            }
        }
        Ok(LoginState {
            credentials,
            attempts,
            device: device.as_ref().and_then(find).map(trusted_device).transpose()?,
        })
    }

    async fn reserve_attempt(
        &self,
        counter: &AttemptCounter,
        mut seen: Option<Attempts>,
        at: OffsetDateTime,
    ) -> Result<Reservation, StoreError> {
        let (key, limit) = (attempts_key(&counter.key()), counter.limit());
        // Kept a day past the window, then DynamoDB's TTL removes the item.
        let expires_at = n((at + limit.window + time::Duration::DAY).unix_timestamp());
        // Write what one more attempt makes of what was seen, on condition that the counter
        // still holds that; if a racing login changed it, decide again on what it holds now.
        for _ in 0..RESERVATION_ROUNDS {
            let next = match Attempts::reserve(seen, limit, at) {
                Reservation::Granted(next) => next,
                refused @ Reservation::Refused { .. } => return Ok(refused),
            };
            let mut item = key.clone();
            item.extend([
                (COUNT.to_owned(), n(next.count)),
                (LAST_ATTEMPT_AT.to_owned(), n(unix_millis(next.last_at))),
                (TTL.to_owned(), expires_at.clone()),
            ]);
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            let put = match seen {
                None => put.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", PK),
                Some(seen) => put
                    .condition_expression("#count = :count AND #last = :last")
                    .expression_attribute_names("#count", COUNT)
                    .expression_attribute_names("#last", LAST_ATTEMPT_AT)
                    .expression_attribute_values(":count", n(seen.count))
                    .expression_attribute_values(":last", n(unix_millis(seen.last_at))),
            };
            match put.send().await {
                Ok(_) => return Ok(Reservation::Granted(next)),
                Err(err) => match err.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                        seen = failed.item.as_ref().map(|item| Reader(item).attempts()).transpose()?;
                    }
                    _ => return Err(classify(err)),
                },
            }
        }
        Err(StoreError::Unavailable("an attempt counter kept changing under contention".into()))
    }

    async fn give_back_attempt(&self, counter: &AttemptCounter) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(attempts_key(&counter.key())))
            .update_expression("SET #count = #count - :one")
            .condition_expression("#count > :zero")
            .expression_attribute_names("#count", COUNT)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        // Nothing counted: nothing to give back.
        unless_nothing_to_do(result)
    }

    async fn clear_attempts(&self, counter: &AttemptCounter) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(attempts_key(&counter.key())))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
