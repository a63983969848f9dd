//! Sessions: a family item per login and an item per refresh token, rotated in one
//! transaction.
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use time::OffsetDateTime;

use super::codec::{Reader, n, s};
use super::keys::{device_key, family_key, refresh_token_key, schema::*};
use super::{DynamoStore, cancellation_reason, cancelled_on, classify, unless_nothing_to_do};
use crate::model::{SessionUser, TrustedDevice};
use crate::store::{RefreshGrant, Rotation, SessionStore, StoreError};

/// When a refresh token's session ends (epoch seconds), copied to every token of the family.
const SESSION_ENDS_AT: &str = "session_ends_at";

impl DynamoStore {
    /// Marks family `id` revoked at `at`, unless it already is or has expired away.
    async fn revoke_family(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(family_key(id)))
            .update_expression("SET revoked_at = if_not_exists(revoked_at, :now)")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":now", n(at.unix_timestamp()))
            .send()
            .await;
        // Already revoked, or expired away: nothing to do.
        unless_nothing_to_do(result)
    }
}

impl SessionStore for DynamoStore {
    async fn start_session(&self, first: &RefreshGrant, new_device: Option<&TrustedDevice>) -> Result<(), StoreError> {
        let expires_at = n(first.expires_at.unix_timestamp());
        let mut family = family_key(&first.family_id);
        family.extend([("user_id".to_owned(), s(&first.user.user_id)), (TTL.to_owned(), expires_at.clone())]);
        let mut token = refresh_token_key(&first.hash);
        token.extend([
            ("family_id".to_owned(), s(&first.family_id)),
            ("user_id".to_owned(), s(&first.user.user_id)),
            ("display_name".to_owned(), s(&first.user.display_name)),
            (TTL.to_owned(), expires_at),
            (SESSION_ENDS_AT.to_owned(), n(first.session_ends_at.unix_timestamp())),
        ]);
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(self.put_new(family)?)
            .transact_items(self.put_new(token)?);
        if let Some(device) = new_device {
            let mut item = device_key(&device.token_hash);
            item.extend([
                ("user_id".to_owned(), s(&device.user_id)),
                (TTL.to_owned(), n(device.expires_at.unix_timestamp())),
            ]);
            transaction = transaction.transact_items(self.put_new(item)?);
        }
        transaction.send().await.map_err(classify)?;
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next_hash: &str,
        next_expires_at: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        let now = n(at.unix_timestamp());
        // The read finds the family and the user; the transaction's conditions decide. A
        // lost race reads again, and then finds the token used: a replay.
        for _ in 0..3 {
            let Some(item) = self.get(refresh_token_key(presented_hash)).await? else { return Ok(Rotation::Refused) };
            let presented = Reader(&item);
            let family_id = presented.string("family_id")?;
            if item.contains_key("used_at") {
                self.revoke_family(&family_id, at).await?;
                return Ok(Rotation::Reused);
            }
            // Tokens stored before sessions had an end carry none.
            let session_ends_at = item.contains_key(SESSION_ENDS_AT).then(|| presented.number::<i64>(SESSION_ENDS_AT));
            let session_ends_at = session_ends_at.transpose()?;
            if presented.number::<i64>(TTL)? <= at.unix_timestamp()
                || session_ends_at.is_some_and(|end| end <= at.unix_timestamp())
            {
                return Ok(Rotation::Refused);
            }
            let expires = next_expires_at.unix_timestamp();
            let next_expires = n(session_ends_at.map_or(expires, |end| end.min(expires)));
            let user =
                SessionUser { user_id: presented.string("user_id")?, display_name: presented.string("display_name")? };
            let use_presented = Update::builder()
                .table_name(&self.table)
                .set_key(Some(refresh_token_key(presented_hash)))
                .update_expression("SET used_at = :now")
                .condition_expression("attribute_exists(#pk) AND attribute_not_exists(used_at) AND #ttl > :now")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#ttl", TTL)
                .expression_attribute_values(":now", now.clone())
                .build();
            let extend_family = Update::builder()
                .table_name(&self.table)
                .set_key(Some(family_key(&family_id)))
                .update_expression("SET #ttl = :expires")
                .condition_expression("attribute_exists(#pk) AND attribute_not_exists(revoked_at)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#ttl", TTL)
                .expression_attribute_values(":expires", next_expires.clone())
                .build();
            let mut next = refresh_token_key(next_hash);
            next.extend([
                ("family_id".to_owned(), s(&family_id)),
                ("user_id".to_owned(), s(&user.user_id)),
                ("display_name".to_owned(), s(&user.display_name)),
                (TTL.to_owned(), next_expires.clone()),
            ]);
            if let Some(end) = session_ends_at {
                next.insert(SESSION_ENDS_AT.to_owned(), n(end));
            }
            let put_next = Put::builder()
                .table_name(&self.table)
                .set_item(Some(next))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .build();
            let (use_presented, extend_family, put_next) = match (use_presented, extend_family, put_next) {
                (Ok(a), Ok(b), Ok(c)) => (a, b, c),
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                    return Err(StoreError::Corrupt(format!("building the rotation: {e}")));
                }
            };
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(use_presented).build())
                .transact_items(TransactWriteItem::builder().update(extend_family).build())
                .transact_items(TransactWriteItem::builder().put(put_next).build())
                .send()
                .await;
            match result {
                Ok(_) => return Ok(Rotation::Rotated(user)),
                // The family was revoked (or expired away) after the read.
                Err(err) if cancellation_reason(&err, 1) == Some("ConditionalCheckFailed") => {
                    return Ok(Rotation::Refused);
                }
                Err(err) if cancelled_on(&err, 0) || cancelled_on(&err, 1) => {}
                Err(err) => return Err(classify(err)),
            }
        }
        Err(StoreError::Unavailable("refresh token kept changing under contention".into()))
    }

    async fn end_session(&self, token_hash: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        match self.get(refresh_token_key(token_hash)).await? {
            Some(item) => self.revoke_family(&Reader(&item).string("family_id")?, at).await,
            None => Ok(()),
        }
    }
}
