//! Posts: by id (ULIDs, so key order is creation order), by author, and the
//! idempotency keys of creates.
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{EmbeddedStore, IDEMPOTENCY_KEYS, POSTS, POSTS_BY_AUTHOR, USERS, decode, encode, unavailable};
use crate::model::{IDEMPOTENCY_KEY_TTL, Post, PostEdit, Precondition};
use crate::realtime::PostChange;
use crate::store::{PageBuilder, PostCreation, PostPage, PostStore, StoreError, check_post_write};

#[derive(Serialize, Deserialize)]
struct StoredIdempotencyKey {
    post_id: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    /// The created post's content fingerprint; absent in keys stored before it was kept.
    #[serde(default)]
    fingerprint: Option<String>,
}

pub(super) fn author_key(author_id: &str, post_id: &str) -> String {
    format!("{author_id}\n{post_id}")
}

/// Reads post `id` inside a write transaction and checks that `author_id` may write it.
fn post_to_write(
    posts: &redb::Table<&str, &[u8]>,
    id: &str,
    author_id: &str,
    precondition: &Precondition,
) -> Result<Post, StoreError> {
    let current: Option<Post> = posts.get(id).map_err(unavailable)?.map(|b| decode(b.value())).transpose()?;
    check_post_write(current.as_ref().map(|p| (p.author.id.as_str(), p.version)), author_id, precondition)?;
    current.ok_or(StoreError::NotFound)
}

impl PostStore for EmbeddedStore {
    async fn create_post(&self, post: &Post, idempotency_key: Option<&str>) -> Result<PostCreation, StoreError> {
        let id = post.id.clone();
        let bytes = encode(post)?;
        let at = post.created_at;
        let key = idempotency_key.map(|key| format!("{}\n{key}", post.author.id));
        let fingerprint = post.content_fingerprint();
        let author_id = post.author.id.clone();
        let (announcer, created) = (self.announcer(), post.clone());
        self.run(move |db| {
            // One writer at a time: checking the key and storing the post is atomic.
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut posts = txn.open_table(POSTS).map_err(unavailable)?;
                if let Some(key) = &key {
                    let mut keys = txn.open_table(IDEMPOTENCY_KEYS).map_err(unavailable)?;
                    let used: Option<StoredIdempotencyKey> =
                        keys.get(key.as_str()).map_err(unavailable)?.map(|b| decode(b.value())).transpose()?;
                    if let Some(used) = used.filter(|used| used.expires_at > at) {
                        if used.fingerprint.is_some_and(|used| used != fingerprint) {
                            return Ok(PostCreation::KeyMismatch);
                        }
                        return match posts.get(used.post_id.as_str()).map_err(unavailable)? {
                            Some(original) => Ok(PostCreation::Replayed(decode(original.value())?)),
                            None => Ok(PostCreation::OriginalDeleted),
                        };
                    }
                    let remembered = StoredIdempotencyKey {
                        post_id: id.clone(),
                        expires_at: at + IDEMPOTENCY_KEY_TTL,
                        fingerprint: Some(fingerprint),
                    };
                    keys.insert(key.as_str(), encode(&remembered)?.as_slice()).map_err(unavailable)?;
                }
                posts.insert(id.as_str(), bytes.as_slice()).map_err(unavailable)?;
                let mut by_author = txn.open_table(POSTS_BY_AUTHOR).map_err(unavailable)?;
                by_author.insert(author_key(&author_id, &id).as_str(), ()).map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)?;
            announcer.announce(|| PostChange::Created(created));
            Ok(PostCreation::Created)
        })
        .await
    }

    async fn list_posts(&self, limit: usize, after: Option<&str>) -> Result<PostPage, StoreError> {
        let after = after.map(str::to_owned);
        self.run(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let table = txn.open_table(POSTS).map_err(unavailable)?;
            let older = match &after {
                Some(after) => table.range::<&str>(..after.as_str()),
                None => table.range::<&str>(..),
            }
            .map_err(unavailable)?;
            let mut page = PageBuilder::new(limit);
            for entry in older.rev() {
                let (_, value) = entry.map_err(unavailable)?;
                if !page.push(decode(value.value())?) {
                    break;
                }
            }
            Ok(page.finish())
        })
        .await
    }

    async fn list_posts_by_author(
        &self,
        author_id: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Option<PostPage>, StoreError> {
        let (author_id, after) = (author_id.to_owned(), after.map(str::to_owned));
        self.run(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            if txn.open_table(USERS).map_err(unavailable)?.get(author_id.as_str()).map_err(unavailable)?.is_none() {
                return Ok(None);
            }
            let by_author = txn.open_table(POSTS_BY_AUTHOR).map_err(unavailable)?;
            let posts = txn.open_table(POSTS).map_err(unavailable)?;
            let start = author_key(&author_id, "");
            let end = author_key(&author_id, after.as_deref().unwrap_or("\u{10FFFF}"));
            let mut page = PageBuilder::new(limit);
            for entry in by_author.range::<&str>(start.as_str()..end.as_str()).map_err(unavailable)?.rev() {
                let (key, _) = entry.map_err(unavailable)?;
                let post_id = key.value().rsplit('\n').next().unwrap_or_default().to_owned();
                let post = posts.get(post_id.as_str()).map_err(unavailable)?;
                let post =
                    post.ok_or_else(|| StoreError::Corrupt(format!("author index names missing post {post_id}")))?;
                if !page.push(decode(post.value())?) {
                    break;
                }
            }
            Ok(Some(page.finish()))
        })
        .await
    }

    async fn get_post(&self, id: &str) -> Result<Option<Post>, StoreError> {
        self.read_one(POSTS, id).await
    }

    async fn update_post(
        &self,
        id: &str,
        editor_id: &str,
        edit: &PostEdit,
        precondition: &Precondition,
        at: OffsetDateTime,
    ) -> Result<Post, StoreError> {
        let (id, editor_id, edit, precondition) =
            (id.to_owned(), editor_id.to_owned(), edit.clone(), precondition.clone());
        let announcer = self.announcer();
        self.run(move |db| {
            // One writer at a time: the check and the write below are atomic.
            let txn = db.begin_write().map_err(unavailable)?;
            let (before, post) = {
                let mut posts = txn.open_table(POSTS).map_err(unavailable)?;
                let before = post_to_write(&posts, &id, &editor_id, &precondition)?;
                let mut post = before.clone();
                post.title = edit.title.unwrap_or(post.title);
                post.body = edit.body.unwrap_or(post.body);
                post.updated_at = Some(at);
                post.version += 1;
                posts.insert(id.as_str(), encode(&post)?.as_slice()).map_err(unavailable)?;
                (before, post)
            };
            txn.commit().map_err(unavailable)?;
            announcer.announce(|| PostChange::Updated { before: Some(before), after: post.clone() });
            Ok(post)
        })
        .await
    }

    async fn delete_post(&self, id: &str, author_id: &str, precondition: &Precondition) -> Result<(), StoreError> {
        let (id, author_id, precondition) = (id.to_owned(), author_id.to_owned(), precondition.clone());
        let announcer = self.announcer();
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            let deleted = {
                let mut posts = txn.open_table(POSTS).map_err(unavailable)?;
                let deleted = post_to_write(&posts, &id, &author_id, &precondition)?;
                posts.remove(id.as_str()).map_err(unavailable)?;
                let mut by_author = txn.open_table(POSTS_BY_AUTHOR).map_err(unavailable)?;
                by_author.remove(author_key(&author_id, &id).as_str()).map_err(unavailable)?;
                deleted
            };
            txn.commit().map_err(unavailable)?;
            announcer.announce(|| PostChange::Deleted(deleted));
            Ok(())
        })
        .await
    }
}
