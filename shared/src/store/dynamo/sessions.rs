//! Sessions: a family item per login, an item per refresh token, rotated in one
//! transaction, and a listing item per session in its user's `SESSIONS#` partition.
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use time::OffsetDateTime;

use super::codec::{Item, Reader, n, s, timestamp};
use super::keys::{
    SESSION_KEY_PREFIX, device_key, family_key, owned_device_key, refresh_token_key, schema::*, session_listing_key,
    sessions_partition,
};
use super::{DynamoStore, cancellation_reason, cancelled_on, classify};
use crate::model::{SessionInfo, SessionUser, id_time};
use crate::store::{NewSession, Rotation, SessionStore, StoreError};

/// When a refresh token's session ends (epoch seconds), copied to every token of the family.
const SESSION_ENDS_AT: &str = "session_ends_at";

fn built<T, E: std::fmt::Display>(built: Result<T, E>) -> Result<T, StoreError> {
    built.map_err(|e| StoreError::Corrupt(format!("building a session write: {e}")))
}

impl DynamoStore {
    /// The items that start `session`, each new (conditioned on its key being free), for a
    /// transaction: the family, its first refresh token, the listing, and the device the
    /// login newly trusts with its place among what the account owns.
    pub(super) fn session_items(&self, session: &NewSession) -> Result<Vec<TransactWriteItem>, StoreError> {
        let NewSession { first, started, new_device } = session;
        let expires_at = n(first.expires_at.unix_timestamp());
        let mut family = family_key(&first.family_id);
        family.extend([("user_id".to_owned(), s(&first.user.user_id)), (TTL.to_owned(), expires_at.clone())]);
        let mut listing = session_listing_key(&first.user.user_id, &first.family_id);
        listing.extend([
            ("created_at".to_owned(), timestamp(started.at)?),
            ("last_used_at".to_owned(), timestamp(started.at)?),
            (TTL.to_owned(), expires_at.clone()),
        ]);
        if let Some(agent) = &started.user_agent {
            listing.insert("user_agent".to_owned(), s(agent));
        }
        let mut token = refresh_token_key(&first.hash);
        token.extend([
            ("family_id".to_owned(), s(&first.family_id)),
            ("user_id".to_owned(), s(&first.user.user_id)),
            ("display_name".to_owned(), s(&first.user.display_name)),
            (TTL.to_owned(), expires_at),
            (SESSION_ENDS_AT.to_owned(), n(first.session_ends_at.unix_timestamp())),
        ]);
        let mut items = vec![self.put_new(family)?, self.put_new(token)?, self.put_new(listing)?];
        if let Some(device) = new_device {
            let expires_at = n(device.expires_at.unix_timestamp());
            let mut item = device_key(&device.token_hash);
            item.extend([("user_id".to_owned(), s(&device.user_id)), (TTL.to_owned(), expires_at.clone())]);
            // Its place among what the account owns, for deleting the account.
            let mut owned = owned_device_key(&device.user_id, &device.token_hash);
            owned.insert(TTL.to_owned(), expires_at);
            items.extend([self.put_new(item)?, self.put_new(owned)?]);
        }
        Ok(items)
    }

    /// Marks `user_id`'s family `id` revoked at `at` (unless it already is) and takes it off
    /// the user's list, in one transaction; with `must_be_listed`, only if it is listed.
    /// False when it had to be listed and was not.
    async fn revoke_family(
        &self,
        id: &str,
        user_id: &str,
        at: OffsetDateTime,
        must_be_listed: bool,
    ) -> Result<bool, StoreError> {
        let mut unlist = Delete::builder().table_name(&self.table).set_key(Some(session_listing_key(user_id, id)));
        if must_be_listed {
            unlist = unlist.condition_expression("attribute_exists(#pk)").expression_attribute_names("#pk", PK);
        }
        let revoke = Update::builder()
            .table_name(&self.table)
            .set_key(Some(family_key(id)))
            .update_expression("SET revoked_at = if_not_exists(revoked_at, :now)")
            .condition_expression("attribute_exists(#pk) AND user_id = :user")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":now", n(at.unix_timestamp()))
            .expression_attribute_values(":user", s(user_id))
            .build();
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(built(unlist.build())?).build())
            .transact_items(TransactWriteItem::builder().update(built(revoke)?).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if cancellation_reason(&err, 0) == Some("ConditionalCheckFailed") => Ok(false),
            // The family expired away (DynamoDB's TTL): only the listing may be left.
            Err(err) if cancellation_reason(&err, 1) == Some("ConditionalCheckFailed") => {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(session_listing_key(user_id, id)))
                    .send()
                    .await
                    .map_err(classify)?;
                Ok(true)
            }
            Err(err) => Err(classify(err)),
        }
    }
}

/// A listing item as a session.
fn session_info(item: &Item) -> Result<SessionInfo, StoreError> {
    let reader = Reader(item);
    let sort_key = reader.string(SK)?;
    let id = sort_key.strip_prefix(SESSION_KEY_PREFIX).unwrap_or(&sort_key).to_owned();
    let last_used_at = reader.time("last_used_at")?;
    let created_at = match item.contains_key("created_at") {
        true => reader.time("created_at")?,
        false => id_time(&id).unwrap_or(last_used_at),
    };
    let user_agent = match item.get("user_agent") {
        Some(AttributeValue::S(agent)) => Some(agent.clone()),
        _ => None,
    };
    Ok(SessionInfo { id, created_at, last_used_at, user_agent })
}

impl SessionStore for DynamoStore {
    async fn start_session(&self, session: &NewSession) -> Result<(), StoreError> {
        let items = self.session_items(session)?;
        self.client.transact_write_items().set_transact_items(Some(items)).send().await.map_err(classify)?;
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
                self.revoke_family(&family_id, &presented.string("user_id")?, at, false).await?;
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
            // The listing says when the session was last used; a session started before
            // sessions were listed gets its listing here.
            let touch_listing = Update::builder()
                .table_name(&self.table)
                .set_key(Some(session_listing_key(&user.user_id, &family_id)))
                .update_expression(
                    "SET last_used_at = :used, #ttl = :expires, created_at = if_not_exists(created_at, :started)",
                )
                .expression_attribute_names("#ttl", TTL)
                .expression_attribute_values(":used", timestamp(at)?)
                .expression_attribute_values(":expires", next_expires.clone())
                .expression_attribute_values(":started", timestamp(id_time(&family_id).unwrap_or(at))?)
                .build();
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(built(use_presented)?).build())
                .transact_items(TransactWriteItem::builder().update(built(extend_family)?).build())
                .transact_items(TransactWriteItem::builder().put(built(put_next)?).build())
                .transact_items(TransactWriteItem::builder().update(built(touch_listing)?).build())
                .send()
                .await;
            match result {
                Ok(_) => return Ok(Rotation::Rotated { user, session_id: family_id }),
                // The family was revoked (or expired away) after the read.
                Err(err) if cancellation_reason(&err, 1) == Some("ConditionalCheckFailed") => {
                    return Ok(Rotation::Refused);
                }
                Err(err) if (0..4).any(|item| cancelled_on(&err, item)) => {}
                Err(err) => return Err(classify(err)),
            }
        }
        Err(StoreError::Unavailable("refresh token kept changing under contention".into()))
    }

    async fn end_session(&self, token_hash: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        if let Some(item) = self.get(refresh_token_key(token_hash)).await? {
            let token = Reader(&item);
            self.revoke_family(&token.string("family_id")?, &token.string("user_id")?, at, false).await?;
        }
        Ok(())
    }

    async fn list_sessions(&self, user_id: &str, at: OffsetDateTime) -> Result<Vec<SessionInfo>, StoreError> {
        let mut sessions = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("#pk = :partition AND begins_with(#sk, :prefix)")
                .filter_expression("#ttl > :now")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#ttl", TTL)
                .expression_attribute_values(":partition", s(sessions_partition(user_id)))
                .expression_attribute_values(":prefix", s(SESSION_KEY_PREFIX))
                .expression_attribute_values(":now", n(at.unix_timestamp()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in page.items() {
                sessions.push(session_info(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(sessions);
            }
        }
    }

    async fn revoke_session(&self, user_id: &str, session_id: &str, at: OffsetDateTime) -> Result<bool, StoreError> {
        self.revoke_family(session_id, user_id, at, true).await
    }
}
