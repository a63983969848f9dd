//! Deleting an account: the profile's partition holds what it owns (its trusted devices
//! and identities, `keys`), so one query finds it all; its posts are found on the author
//! index.
use aws_sdk_dynamodb::types::{Delete, DeleteRequest, TransactWriteItem, WriteRequest};
use time::OffsetDateTime;

use super::codec::{Item, Reader, s};
use super::keys::{
    OWNED_DEVICE_PREFIX, OWNED_IDENTITY_PREFIX, PROFILE, PostListing, device_key, email_key, identity_key, schema,
    user_partition,
};
use super::{DynamoStore, cancelled_on, classify};
use crate::model::SignInMethod;
use crate::store::{AccountStore, DeletedAccount, SessionStore, StoreError};

/// DynamoDB takes at most this many writes in one `BatchWriteItem`.
const BATCH_WRITE_MAX: usize = 25;

fn build<T, E: std::fmt::Display>(built: Result<T, E>) -> Result<T, StoreError> {
    built.map_err(|e| StoreError::Corrupt(format!("building a request: {e}")))
}

impl DynamoStore {
    /// Every item of one partition of the table (read consistently) or of an index, with
    /// only the table's key when `keys_only`.
    async fn partition_items(
        &self,
        index: Option<&'static str>,
        partition_attribute: &str,
        partition: &str,
        keys_only: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .consistent_read(index.is_none())
                .key_condition_expression("#partition = :partition")
                .expression_attribute_names("#partition", partition_attribute)
                .expression_attribute_values(":partition", s(partition))
                .set_exclusive_start_key(start);
            if keys_only {
                query = query
                    .projection_expression("#pk, #sk")
                    .expression_attribute_names("#pk", schema::PK)
                    .expression_attribute_names("#sk", schema::SK);
            }
            let page = query.send().await.map_err(classify)?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Deletes the items at `keys`, in batches; what DynamoDB leaves unprocessed is sent
    /// again, twice at most, then the store is `Unavailable`.
    async fn delete_all(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        for chunk in keys.chunks(BATCH_WRITE_MAX) {
            let mut requests = chunk
                .iter()
                .map(|key| {
                    let delete = build(DeleteRequest::builder().set_key(Some(key.clone())).build())?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            for attempt in 0.. {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(classify)?;
                requests = output.unprocessed_items.and_then(|mut left| left.remove(&self.table)).unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                if attempt == 2 {
                    return Err(StoreError::Unavailable("DynamoDB left deletes unprocessed three times".into()));
                }
            }
        }
        Ok(())
    }
}

impl AccountStore for DynamoStore {
    async fn delete_account(&self, user_id: &str, at: OffsetDateTime) -> Result<Option<DeletedAccount>, StoreError> {
        let owned = self.partition_items(None, schema::PK, &user_partition(user_id), false).await?;
        let sort_key = |item: &Item| Reader(item).string(schema::SK);
        let Some(profile) = owned.iter().find(|item| sort_key(item).is_ok_and(|sk| sk == PROFILE)) else {
            return Ok(None);
        };
        let user = Reader(profile).user("id")?;
        let mut identities: Vec<String> = Vec::new();
        let mut devices = Vec::new();
        for item in &owned {
            let sk = sort_key(item)?;
            if let Some(identity) = sk.strip_prefix(OWNED_IDENTITY_PREFIX) {
                identities.push(identity.to_owned());
            } else if let Some(hash) = sk.strip_prefix(OWNED_DEVICE_PREFIX) {
                devices.push(hash.to_owned());
            }
        }

        if identities.is_empty() && user.sign_in_methods.contains(&SignInMethod::Google) {
            // Linked before identities were listed in the partition: its item cannot be found.
            tracing::warn!(user_id = user.id, "a Google identity linked before it was listed stays behind");
        }

        // The account and every way into it, at once: profile, email and identities.
        let delete = |key: Item, condition: &str| {
            build(
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key))
                    .condition_expression(condition)
                    .expression_attribute_names("#pk", schema::PK)
                    .expression_attribute_values(":id", s(&user.id))
                    .build(),
            )
            .map(|delete| TransactWriteItem::builder().delete(delete).build())
        };
        let mut items = vec![
            delete(key_of_item(profile), "attribute_exists(#pk) AND id = :id")?,
            delete(email_key(&user.email), "attribute_exists(#pk) AND user_id = :id")?,
        ];
        for identity in &identities {
            items.push(delete(identity_key(identity), "attribute_not_exists(#pk) OR user_id = :id")?);
        }
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => {}
            // A racing deletion won.
            Err(err) if cancelled_on(&err, 0) => return Ok(None),
            Err(err) => return Err(classify(err)),
        }

        // Then what opens nothing any more: sessions, trusted devices, what the partition
        // still holds, and the posts.
        let sessions = self.revoke_all_sessions(&user.id, None, at).await?;
        let mut leftovers: Vec<Item> = devices.iter().map(|hash| device_key(hash)).collect();
        leftovers.extend(owned.iter().filter(|item| sort_key(item).is_ok_and(|sk| sk != PROFILE)).map(key_of_item));
        self.delete_all(leftovers).await?;
        let by_author = PostListing::by_author(&user.id);
        let posts = self
            .partition_items(Some(by_author.index), by_author.partition_attribute, &by_author.partition, true)
            .await?;
        let deleted_posts = posts.len();
        self.delete_all(posts.iter().map(key_of_item).collect()).await?;
        Ok(Some(DeletedAccount { sessions, posts: deleted_posts }))
    }
}

/// The table key of a stored item.
fn key_of_item(item: &Item) -> Item {
    item.iter()
        .filter(|(name, _)| *name == schema::PK || *name == schema::SK)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
