//! The DynamoDB store: one table, two GSIs (`docs/data-model.md` has every item and
//! access pattern). Split by aggregate: `users`, `identities`, `logins`, `posts`, `sessions`, `mail`; `keys` names every
//! item, `codec` turns attributes into models and back.
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{KeysAndAttributes, Put, TransactWriteItem};

use super::StoreError;
use codec::Item;

mod accounts;
mod changes;
mod codec;
mod identities;
mod keys;
mod logins;
mod mail;
mod posts;
mod sessions;
mod users;

pub use changes::post_change;
pub use keys::schema;
pub use mail::mail_request;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A transaction item that puts `item` only where nothing is stored yet.
    pub(super) fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", schema::PK)
            .build()
            .map(|put| TransactWriteItem::builder().put(put).build())
            .map_err(|e| StoreError::Corrupt(format!("building a transaction item: {e}")))
    }

    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

/// Throttling, timeouts, transport and server faults are `Unavailable` (a 503 the client
/// may retry); anything else means our request was wrong, which is not the client's fault.
pub(super) fn classify<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => {
            service.raw().status().is_server_error()
                || matches!(
                    service.err().code(),
                    Some(
                        "ProvisionedThroughputExceededException"
                            | "ThrottlingException"
                            | "RequestLimitExceeded"
                            | "TransactionConflictException"
                    )
                )
        }
        _ => false,
    };
    if retryable {
        StoreError::Unavailable(Box::new(err))
    } else {
        StoreError::Corrupt(format!("DynamoDB refused the request: {}", DisplayErrorContext(&err)))
    }
}

/// The outcome of a write whose condition failing means there was nothing to do.
pub(super) fn unless_nothing_to_do<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(err) if is_condition_failure(&err) => Ok(()),
        Err(err) => Err(classify(err)),
    }
}

/// Whether a conditional write was made: `false` when its condition did not hold.
pub(super) fn condition_held<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if is_condition_failure(&err) => Ok(false),
        Err(err) => Err(classify(err)),
    }
}

/// True when a request failed only because its condition expression did not hold.
pub(super) fn is_condition_failure<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    err.as_service_error().and_then(ProvideErrorMetadata::code) == Some("ConditionalCheckFailedException")
}

/// Why a transaction's `item`-th item (in the order the items were given) cancelled it,
/// if it did: `ConditionalCheckFailed`, or `TransactionConflict` (a racing transaction held it).
pub(super) fn cancellation_reason(err: &SdkError<TransactWriteItemsError, HttpResponse>, item: usize) -> Option<&str> {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() else {
        return None;
    };
    cancelled.cancellation_reasons().get(item).and_then(|reason| reason.code()).filter(|code| *code != "None")
}

/// True when a transaction was cancelled because of its `item`-th item: its condition
/// failed, or a racing transaction held it.
pub(super) fn cancelled_on(err: &SdkError<TransactWriteItemsError, HttpResponse>, item: usize) -> bool {
    matches!(cancellation_reason(err, item), Some("ConditionalCheckFailed" | "TransactionConflict"))
}

impl DynamoStore {
    /// One item by key, read consistently: every read here must see the latest write.
    pub(super) async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.item)
    }

    /// The items that exist of a few keys, read consistently in one `BatchGetItem`. Keys
    /// DynamoDB leaves unprocessed (it may, when throttled) are asked for again, twice at
    /// most; after that the store is `Unavailable`.
    pub(super) async fn get_many(&self, mut keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for _ in 0..3 {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Corrupt(format!("building a batch read: {e}")))?;
            let output =
                self.client.batch_get_item().request_items(&self.table, request).send().await.map_err(classify)?;
            found.extend(output.responses.and_then(|mut tables| tables.remove(&self.table)).unwrap_or_default());
            keys = output
                .unprocessed_keys
                .and_then(|mut tables| tables.remove(&self.table))
                .map_or_else(Vec::new, |k| k.keys);
            if keys.is_empty() {
                return Ok(found);
            }
        }
        Err(StoreError::Unavailable("DynamoDB left keys of a batch read unprocessed three times".into()))
    }
}
