//! Posts: one item each, in both listing indexes; idempotent creates; every write to an
//! existing post one conditional request.
use std::collections::HashMap;

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use time::OffsetDateTime;

use super::codec::{Item, Reader, n, s, timestamp};
use super::keys::{PostListing, idempotency_item_key, post_table_key, schema::*, user_key};
use super::{DynamoStore, cancelled_on, classify};
use crate::model::{IDEMPOTENCY_KEY_TTL, Post, PostEdit, Precondition};
use crate::store::{PageBuilder, PostCreation, PostPage, PostStore, StoreError, check_post_write};

/// The idempotency key item's attribute holding the created post's content fingerprint.
const FINGERPRINT: &str = "fingerprint";

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

/// A post's item: the post, in the table and in both listing indexes.
fn post_item(post: &Post) -> Result<Item, StoreError> {
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
    Ok(item)
}

impl DynamoStore {
    /// What repeating an idempotency key answers: that the content differs, the post it
    /// created, or that the post was deleted since; `None` if the key item is not there
    /// (any more).
    async fn replay(&self, key: &Item, fingerprint: &str) -> Result<Option<PostCreation>, StoreError> {
        let Some(item) = self.get(key.clone()).await? else { return Ok(None) };
        // Keys stored before fingerprints were kept have none, and match any content.
        if item.get(FINGERPRINT).and_then(|v| v.as_s().ok()).is_some_and(|used| used != fingerprint) {
            return Ok(Some(PostCreation::KeyMismatch));
        }
        let post_id = Reader(&item).string("post_id")?;
        Ok(Some(match self.get(post_table_key(&post_id)).await? {
            Some(post) => PostCreation::Replayed(Reader(&post).post()?),
            None => PostCreation::OriginalDeleted,
        }))
    }

    /// A page of `listing`, newest first, strictly older than the post `after`.
    async fn query_posts(
        &self,
        listing: PostListing,
        limit: usize,
        after: Option<&str>,
    ) -> Result<PostPage, StoreError> {
        // Read one post past the page, so that `next` is None exactly on the last page, and
        // keep querying while DynamoDB's 1 MB read limit cuts a page short.
        let mut page = PageBuilder::new(limit);
        let mut start = after.map(|id| listing.key(id));
        'reading: loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(listing.index)
                .key_condition_expression("#pk = :partition")
                .expression_attribute_names("#pk", listing.partition_attribute)
                .expression_attribute_values(":partition", s(&listing.partition))
                .scan_index_forward(false)
                .limit(i32::try_from(page.wanted()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            for item in output.items() {
                if !page.push(Reader(item).post()?) {
                    break 'reading;
                }
            }
            match output.last_evaluated_key() {
                Some(last) if page.wanted() > 0 => start = Some(last.clone()),
                _ => break,
            }
        }
        Ok(page.finish())
    }
}

impl PostStore for DynamoStore {
    async fn create_post(&self, post: &Post, idempotency_key: Option<&str>) -> Result<PostCreation, StoreError> {
        let item = post_item(post)?;
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
        let fingerprint = post.content_fingerprint();
        let mut key_item = key_item_key.clone();
        key_item.extend([
            ("post_id".to_owned(), s(&post.id)),
            (FINGERPRINT.to_owned(), s(&fingerprint)),
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
                    if let Some(replay) = self.replay(&key_item_key, &fingerprint).await? {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::PAGE_LIMIT;
    use crate::model::{Author, DISPLAY_NAME_CHARS, PAGE_CONTENT_BYTES, POST_BODY_BYTES, TITLE_CHARS};

    /// An item's size as DynamoDB counts it: each attribute's name and value in bytes
    /// (strings as UTF-8; a number at most 21 bytes).
    fn item_size(item: &Item) -> usize {
        item.iter().map(|(name, value)| name.len() + value.as_s().map_or(21, String::len)).sum()
    }

    #[test]
    fn the_largest_page_is_one_dynamodb_read() {
        // The page's posts fill the content budget; reading stops at the first post past
        // it, so one more full-size post is read, and every item brings its keys.
        let largest = |content: usize| {
            let author = Author {
                id: crate::model::new_id(crate::model::now()),
                display_name: "é".repeat(*DISPLAY_NAME_CHARS.end()),
            };
            let mut post = Post::new("€".repeat(*TITLE_CHARS.end()), "b".repeat(content), author, crate::model::now());
            post.updated_at = Some(post.created_at);
            item_size(&post_item(&post).unwrap())
        };
        let overhead = largest(0);
        let worst_read = PAGE_CONTENT_BYTES + largest(*POST_BODY_BYTES.end()) + (PAGE_LIMIT.end() + 1) * overhead;
        assert!(worst_read < 1_000_000, "{worst_read} bytes");
    }
}
