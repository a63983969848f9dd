//! The DynamoDB store: one table, one GSI (see the access-pattern table in the README).
//!
//! | item    | pk              | sk        | gsi1pk | gsi1sk  |
//! |---------|-----------------|-----------|--------|---------|
//! | user    | `USER#<id>`     | `PROFILE` |        |         |
//! | email   | `EMAIL#<email>` | `EMAIL`   |        |         |
//! | post    | `POST#<id>`     | `POST`    | `POSTS`| `<id>`  |
//!
//! Posts are also in `gsi2`, keyed `gsi2pk = AUTHOR#<author id>`, `gsi2sk = <id>`.
//! | failed logins | `LOGINFAIL#<email>` | `LOGINFAIL` |  |     |
//! | idempotency key | `IDEMPOTENCY#<user id>#<key>` | `IDEMPOTENCY` | | |
//! | refresh token | `REFRESH#<token hash>` | `REFRESH` | | |
//! | session family | `FAMILY#<family id>` | `FAMILY` | | |
//!
//! Post ids are ULIDs, so sorting either index by its sort key descending lists newest first.
use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{LoginState, PostCreation, PostPage, RefreshGrant, Rotation, Store, StoreError, check_post_write};
use crate::auth::throttle::{FAILURE_WINDOW, LoginFailures};
use crate::model::{Author, Credentials, IDEMPOTENCY_KEY_TTL, Post, PostEdit, Precondition, SessionUser, User};

/// Key attribute and index names; `shared/tests/template.rs` checks them against the
/// table in `template.yaml`.
pub mod schema {
    pub const PK: &str = "pk";
    pub const SK: &str = "sk";
    pub const POSTS_INDEX: &str = "gsi1";
    pub const POSTS_INDEX_PK: &str = "gsi1pk";
    pub const POSTS_INDEX_SK: &str = "gsi1sk";
    pub const AUTHOR_INDEX: &str = "gsi2";
    pub const AUTHOR_INDEX_PK: &str = "gsi2pk";
    pub const AUTHOR_INDEX_SK: &str = "gsi2sk";
    /// DynamoDB deletes items once this epoch-seconds attribute has passed.
    pub const TTL: &str = "expires_at";
}
use schema::*;

const ALL_POSTS: &str = "POSTS";

type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn key_of(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

fn user_key(id: &str) -> Item {
    key_of(format!("USER#{id}"), "PROFILE")
}

fn login_failures_key(email: &str) -> Item {
    key_of(format!("LOGINFAIL#{email}"), "LOGINFAIL")
}

fn idempotency_item_key(author_id: &str, key: &str) -> Item {
    key_of(format!("IDEMPOTENCY#{author_id}#{key}"), "IDEMPOTENCY")
}

fn refresh_token_key(hash: &str) -> Item {
    key_of(format!("REFRESH#{hash}"), "REFRESH")
}

fn family_key(id: &str) -> Item {
    key_of(format!("FAMILY#{id}"), "FAMILY")
}

fn email_key(email: &str) -> Item {
    key_of(format!("EMAIL#{email}"), "EMAIL")
}

/// The table key of a post, for reading it.
fn post_table_key(id: &str) -> Item {
    key_of(format!("POST#{id}"), "POST")
}

/// One of the two indexes that list posts, newest first: all of them, or one author's.
struct PostListing {
    index: &'static str,
    partition_attribute: &'static str,
    sort_attribute: &'static str,
    partition: String,
}

impl PostListing {
    fn all() -> Self {
        Self {
            index: POSTS_INDEX,
            partition_attribute: POSTS_INDEX_PK,
            sort_attribute: POSTS_INDEX_SK,
            partition: ALL_POSTS.to_owned(),
        }
    }

    fn by_author(author_id: &str) -> Self {
        Self {
            index: AUTHOR_INDEX,
            partition_attribute: AUTHOR_INDEX_PK,
            sort_attribute: AUTHOR_INDEX_SK,
            partition: format!("AUTHOR#{author_id}"),
        }
    }

    /// A post's key in this index (with its table key): also the `ExclusiveStartKey` to
    /// list after it, which need not exist any more.
    fn key(&self, post_id: &str) -> Item {
        let mut item = post_table_key(post_id);
        item.insert(self.partition_attribute.to_owned(), s(&self.partition));
        item.insert(self.sort_attribute.to_owned(), s(post_id));
        item
    }
}

/// The condition of every write to an existing post, as [`check_post_write`] states it.
struct PostWriteCondition {
    expression: String,
    names: HashMap<String, String>,
    values: Item,
}

impl PostWriteCondition {
    fn new(author_id: &str, precondition: &Precondition) -> Self {
        let mut expression = "attribute_exists(#pk) AND author_id = :caller".to_owned();
        let mut names = HashMap::from([("#pk".to_owned(), PK.to_owned())]);
        let mut values = HashMap::from([(":caller".to_owned(), s(author_id))]);
        if let Precondition::OneOf(versions) = precondition {
            names.insert("#version".to_owned(), "version".to_owned());
            if versions.is_empty() {
                // Versions start at 1: no post is at version 0.
                expression.push_str(" AND #version = :no_version");
                values.insert(":no_version".to_owned(), n(0));
            } else {
                let names: Vec<String> = (0..versions.len()).map(|i| format!(":v{i}")).collect();
                expression.push_str(&format!(" AND #version IN ({})", names.join(", ")));
                values.extend(names.into_iter().zip(versions.iter().map(n)));
            }
        }
        Self { expression, names, values }
    }

    /// Why the write was refused, from the item as it was (DynamoDB returns it, so no
    /// second read is needed).
    fn refusal(old: Option<&Item>, author_id: &str, precondition: &Precondition) -> StoreError {
        let current =
            old.map(|item| Ok::<_, StoreError>((Reader(item).string("author_id")?, Reader(item).number("version")?)));
        let current = match current.transpose() {
            Ok(current) => current,
            Err(err) => return err,
        };
        match check_post_write(current.as_ref().map(|(a, v)| (a.as_str(), *v)), author_id, precondition) {
            Err(refusal) => refusal,
            Ok(()) => StoreError::Unavailable("a post write was refused, yet its condition holds".into()),
        }
    }
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn unix_millis(at: OffsetDateTime) -> i128 {
    at.unix_timestamp_nanos() / 1_000_000
}

fn timestamp(at: OffsetDateTime) -> Result<AttributeValue, StoreError> {
    at.format(&Rfc3339).map(s).map_err(|e| StoreError::Corrupt(format!("formatting a timestamp: {e}")))
}

fn user_attributes(user: &User) -> Result<Item, StoreError> {
    Ok(HashMap::from([
        ("id".to_owned(), s(&user.id)),
        ("email".to_owned(), s(&user.email)),
        ("display_name".to_owned(), s(&user.display_name)),
        ("created_at".to_owned(), timestamp(user.created_at)?),
    ]))
}

/// Reads one attribute of a stored item.
struct Reader<'a>(&'a Item);

impl Reader<'_> {
    fn string(&self, name: &str) -> Result<String, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::S(value)) => Ok(value.clone()),
            _ => Err(StoreError::Corrupt(format!("item has no string attribute {name:?}"))),
        }
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<T, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::N(value)) => value.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| StoreError::Corrupt(format!("item has no numeric attribute {name:?}")))
    }

    fn login_failures(&self) -> Result<LoginFailures, StoreError> {
        let millis: i128 = self.number("last_failure_at")?;
        let last_failure_at = OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000)
            .map_err(|e| StoreError::Corrupt(format!("last_failure_at: {e}")))?;
        Ok(LoginFailures { count: self.number("count")?, last_failure_at })
    }

    fn time(&self, name: &str) -> Result<OffsetDateTime, StoreError> {
        OffsetDateTime::parse(&self.string(name)?, &Rfc3339)
            .map_err(|e| StoreError::Corrupt(format!("attribute {name:?} is not RFC 3339: {e}")))
    }

    fn user(&self, id_attribute: &str) -> Result<User, StoreError> {
        Ok(User {
            id: self.string(id_attribute)?,
            email: self.string("email")?,
            display_name: self.string("display_name")?,
            created_at: self.time("created_at")?,
        })
    }

    fn post(&self) -> Result<Post, StoreError> {
        Ok(Post {
            id: self.string("id")?,
            title: self.string("title")?,
            body: self.string("body")?,
            author: Author { id: self.string("author_id")?, display_name: self.string("author_display_name")? },
            created_at: self.time("created_at")?,
            updated_at: self.0.contains_key("updated_at").then(|| self.time("updated_at")).transpose()?,
            version: self.number("version")?,
        })
    }
}

/// Throttling, timeouts, transport and server faults are `Unavailable` (a 503 the client
/// may retry); anything else means our request was wrong, which is not the client's fault.
fn classify<E>(err: SdkError<E, HttpResponse>) -> StoreError
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

/// True when a request failed only because its condition expression did not hold.
fn is_condition_failure<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    err.as_service_error().and_then(ProvideErrorMetadata::code) == Some("ConditionalCheckFailedException")
}

/// Why a transaction's `item`-th item (in the order the items were given) cancelled it,
/// if it did: `ConditionalCheckFailed`, or `TransactionConflict` (a racing transaction held it).
fn cancellation_reason(err: &SdkError<TransactWriteItemsError, HttpResponse>, item: usize) -> Option<&str> {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() else {
        return None;
    };
    cancelled.cancellation_reasons().get(item).and_then(|reason| reason.code()).filter(|code| *code != "None")
}

/// True when a transaction was cancelled because of its `item`-th item: its condition
/// failed, or a racing transaction held it.
fn cancelled_on(err: &SdkError<TransactWriteItemsError, HttpResponse>, item: usize) -> bool {
    matches!(cancellation_reason(err, item), Some("ConditionalCheckFailed" | "TransactionConflict"))
}

impl DynamoStore {
    /// One item by key, read consistently: every read here must see the latest write.
    async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
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

    /// Both items that exist of two keys, read consistently in one `BatchGetItem`. Keys
    /// DynamoDB leaves unprocessed (it may, when throttled) are asked for again, twice at
    /// most; after that the store is `Unavailable`.
    async fn get_both(&self, first: Item, second: Item) -> Result<Vec<Item>, StoreError> {
        let mut keys = vec![first, second];
        let mut found = Vec::with_capacity(2);
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

    /// What repeating an idempotency key answers: the post it created, or that the post
    /// was deleted since; `None` if the key item is not there (any more).
    async fn replay(&self, key: &Item) -> Result<Option<PostCreation>, StoreError> {
        let Some(item) = self.get(key.clone()).await? else { return Ok(None) };
        let post_id = Reader(&item).string("post_id")?;
        Ok(Some(match self.get(post_table_key(&post_id)).await? {
            Some(post) => PostCreation::Replayed(Reader(&post).post()?),
            None => PostCreation::OriginalDeleted,
        }))
    }

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
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(classify(err)),
        }
    }

    /// A page of `listing`, newest first, strictly older than the post `after`.
    async fn query_posts(
        &self,
        listing: PostListing,
        limit: usize,
        after: Option<&str>,
    ) -> Result<PostPage, StoreError> {
        // Ask for one more than the page so that `next` is None exactly on the last page,
        // and keep querying while DynamoDB's 1 MB page limit cuts a page short.
        let wanted = limit + 1;
        let mut posts = Vec::with_capacity(wanted);
        let mut start = after.map(|id| listing.key(id));
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(listing.index)
                .key_condition_expression("#pk = :partition")
                .expression_attribute_names("#pk", listing.partition_attribute)
                .expression_attribute_values(":partition", s(&listing.partition))
                .scan_index_forward(false)
                .limit(i32::try_from(wanted - posts.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            for item in output.items() {
                posts.push(Reader(item).post()?);
            }
            match output.last_evaluated_key() {
                Some(last) if posts.len() < wanted => start = Some(last.clone()),
                _ => break,
            }
        }
        Ok(PostPage::from_overfetched(posts, limit))
    }
}

impl Store for DynamoStore {
    async fn create_user(&self, credentials: &Credentials) -> Result<(), StoreError> {
        let user = &credentials.user;
        let mut user_item = user_key(&user.id);
        user_item.extend(user_attributes(user)?);

        let mut email_item = email_key(&user.email);
        email_item.extend(user_attributes(user)?);
        email_item.insert("user_id".to_owned(), s(&user.id));
        email_item.remove("id");
        email_item.insert("password_hash".to_owned(), s(&credentials.password_hash));

        let put = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(|e| StoreError::Corrupt(format!("building the signup transaction: {e}")))
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(put(user_item)?)
            .transact_items(put(email_item)?)
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

    async fn create_post(&self, post: &Post, idempotency_key: Option<&str>) -> Result<PostCreation, StoreError> {
        let mut item = PostListing::all().key(&post.id);
        item.extend(PostListing::by_author(&post.author.id).key(&post.id));
        item.extend([
            ("id".to_owned(), s(&post.id)),
            ("title".to_owned(), s(&post.title)),
            ("body".to_owned(), s(&post.body)),
            ("author_id".to_owned(), s(&post.author.id)),
            ("author_display_name".to_owned(), s(&post.author.display_name)),
            ("created_at".to_owned(), timestamp(post.created_at)?),
            ("version".to_owned(), n(post.version)),
        ]);
        if let Some(updated_at) = post.updated_at {
            item.insert("updated_at".to_owned(), timestamp(updated_at)?);
        }
        let Some(key) = idempotency_key else {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .send()
                .await
                .map_err(classify)?;
            return Ok(PostCreation::Created);
        };
        let key_item_key = idempotency_item_key(&post.author.id, key);
        let mut key_item = key_item_key.clone();
        key_item.extend([
            ("post_id".to_owned(), s(&post.id)),
            (TTL.to_owned(), n((post.created_at + IDEMPOTENCY_KEY_TTL).unix_timestamp())),
        ]);
        let now = n(post.created_at.unix_timestamp());
        let put_post = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .build();
        // A key whose TTL has passed counts as unused, even before DynamoDB deletes it.
        let put_key = Put::builder()
            .table_name(&self.table)
            .set_item(Some(key_item))
            .condition_expression("attribute_not_exists(#pk) OR #ttl < :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":now", now)
            .build();
        let (put_post, put_key) = match (put_post, put_key) {
            (Ok(post), Ok(key)) => (post, key),
            (Err(e), _) | (_, Err(e)) => return Err(StoreError::Corrupt(format!("building the transaction: {e}"))),
        };
        // Racing creates with one key: one transaction wins; the others are cancelled on
        // the key item and replay the winner's post (retrying if it is not visible yet).
        for _ in 0..3 {
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put_post.clone()).build())
                .transact_items(TransactWriteItem::builder().put(put_key.clone()).build())
                .send()
                .await;
            match result {
                Ok(_) => return Ok(PostCreation::Created),
                Err(err) if cancelled_on(&err, 1) => {
                    if let Some(replay) = self.replay(&key_item_key).await? {
                        return Ok(replay);
                    }
                }
                Err(err) => return Err(classify(err)),
            }
        }
        Err(StoreError::Unavailable("idempotency key kept changing under contention".into()))
    }

    async fn list_posts(&self, limit: usize, after: Option<&str>) -> Result<PostPage, StoreError> {
        self.query_posts(PostListing::all(), limit, after).await
    }

    async fn list_posts_by_author(
        &self,
        author_id: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Option<PostPage>, StoreError> {
        // Both at once: the user check costs no extra latency.
        let (user, page) = tokio::join!(
            self.get(user_key(author_id)),
            self.query_posts(PostListing::by_author(author_id), limit, after)
        );
        match user? {
            Some(_) => page.map(Some),
            None => Ok(None),
        }
    }

    async fn get_post(&self, id: &str) -> Result<Option<Post>, StoreError> {
        self.get(post_table_key(id)).await?.map(|item| Reader(&item).post()).transpose()
    }

    async fn update_post(
        &self,
        id: &str,
        editor_id: &str,
        edit: &PostEdit,
        precondition: &Precondition,
        at: OffsetDateTime,
    ) -> Result<Post, StoreError> {
        let condition = PostWriteCondition::new(editor_id, precondition);
        let mut sets = vec!["updated_at = :at", "#version = #version + :one"];
        let mut names = condition.names;
        names.insert("#version".to_owned(), "version".to_owned());
        let mut values = condition.values;
        values.insert(":at".to_owned(), timestamp(at)?);
        values.insert(":one".to_owned(), n(1));
        if let Some(title) = &edit.title {
            sets.push("title = :title");
            values.insert(":title".to_owned(), s(title));
        }
        if let Some(body) = &edit.body {
            sets.push("body = :body");
            values.insert(":body".to_owned(), s(body));
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(post_table_key(id)))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => {
                Reader(output.attributes().ok_or_else(|| StoreError::Corrupt("no attributes returned".into()))?).post()
            }
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    Err(PostWriteCondition::refusal(failed.item.as_ref(), editor_id, precondition))
                }
                _ => Err(classify(err)),
            },
        }
    }

    async fn delete_post(&self, id: &str, author_id: &str, precondition: &Precondition) -> Result<(), StoreError> {
        let condition = PostWriteCondition::new(author_id, precondition);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(post_table_key(id)))
            .condition_expression(condition.expression)
            .set_expression_attribute_names(Some(condition.names))
            .set_expression_attribute_values(Some(condition.values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(failed)) => {
                    Err(PostWriteCondition::refusal(failed.item.as_ref(), author_id, precondition))
                }
                _ => Err(classify(err)),
            },
        }
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.get(user_key(id)).await?.map(|item| Reader(&item).user("id")).transpose()
    }

    async fn start_session(&self, first: &RefreshGrant) -> Result<(), StoreError> {
        let expires_at = n(first.expires_at.unix_timestamp());
        let mut family = family_key(&first.family_id);
        family.extend([("user_id".to_owned(), s(&first.user.user_id)), (TTL.to_owned(), expires_at.clone())]);
        let mut token = refresh_token_key(&first.hash);
        token.extend([
            ("family_id".to_owned(), s(&first.family_id)),
            ("user_id".to_owned(), s(&first.user.user_id)),
            ("display_name".to_owned(), s(&first.user.display_name)),
            (TTL.to_owned(), expires_at),
        ]);
        let put = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(|e| StoreError::Corrupt(format!("building the session transaction: {e}")))
        };
        self.client
            .transact_write_items()
            .transact_items(put(family)?)
            .transact_items(put(token)?)
            .send()
            .await
            .map_err(classify)?;
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
        let next_expires = n(next_expires_at.unix_timestamp());
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
            if presented.number::<i64>(TTL)? <= at.unix_timestamp() {
                return Ok(Rotation::Refused);
            }
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
