//! The embedded store: redb, in a file (local-api's default, durable when a write
//! returns) or in memory (tests, `local-api --memory`). Same contract as DynamoDB.
use std::path::Path;
use std::sync::Arc;

use redb::backends::InMemoryBackend;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{LoginState, PostCreation, PostPage, RefreshGrant, Rotation, Store, StoreError, check_post_write};
use crate::auth::throttle::LoginFailures;
use crate::model::{Credentials, IDEMPOTENCY_KEY_TTL, Post, PostEdit, Precondition, SessionUser, User};
use time::OffsetDateTime;

/// email → [`StoredCredentials`] as JSON: the uniqueness guard and login record.
const CREDENTIALS: TableDefinition<&str, &[u8]> = TableDefinition::new("credentials_by_email");
/// user id → [`User`] as JSON.
const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
/// email → [`LoginFailures`] as JSON.
const LOGIN_FAILURES: TableDefinition<&str, &[u8]> = TableDefinition::new("login_failures");
/// "<author id>\n<key>" → [`StoredIdempotencyKey`] as JSON.
const IDEMPOTENCY_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("idempotency_keys");
/// post id → [`Post`] as JSON. Post ids are ULIDs, so key order is creation order.
const POSTS: TableDefinition<&str, &[u8]> = TableDefinition::new("posts");
/// "<author id>\n<post id>" → nothing: each author's posts in creation order.
const POSTS_BY_AUTHOR: TableDefinition<&str, ()> = TableDefinition::new("posts_by_author");
/// refresh token hash → [`StoredRefreshToken`] as JSON.
const REFRESH_TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("refresh_tokens");
/// family id → [`StoredFamily`] as JSON.
const SESSION_FAMILIES: TableDefinition<&str, &[u8]> = TableDefinition::new("session_families");

#[derive(Serialize, Deserialize)]
struct StoredCredentials {
    user: User,
    password_hash: String,
}

#[derive(Serialize, Deserialize)]
struct StoredIdempotencyKey {
    post_id: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct StoredRefreshToken {
    family_id: String,
    user: SessionUser,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    /// When it was exchanged for the next token: presenting it again is a replay.
    #[serde(with = "time::serde::rfc3339::option")]
    used_at: Option<OffsetDateTime>,
}

#[derive(Serialize, Deserialize)]
struct StoredFamily {
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
}

#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
}

impl EmbeddedStore {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(unavailable)?;
        Self::with_tables(db)
    }

    /// A database that lives only as long as this store.
    pub fn in_memory() -> Result<Self, StoreError> {
        let db = Database::builder().create_with_backend(InMemoryBackend::new()).map_err(unavailable)?;
        Self::with_tables(db)
    }

    fn with_tables(db: Database) -> Result<Self, StoreError> {
        let txn = db.begin_write().map_err(unavailable)?;
        for table in [CREDENTIALS, USERS, LOGIN_FAILURES, IDEMPOTENCY_KEYS, POSTS, REFRESH_TOKENS, SESSION_FAMILIES] {
            txn.open_table(table).map_err(unavailable)?;
        }
        txn.open_table(POSTS_BY_AUTHOR).map_err(unavailable)?;
        txn.commit().map_err(unavailable)?;
        Ok(Self { db: Arc::new(db) })
    }

    /// Runs blocking database work (file I/O, fsync on commit) off the async executor.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db)).await.map_err(unavailable)?
    }
}

fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(err))
}

fn encode(value: &impl Serialize) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(format!("encoding an item: {e}")))
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("decoding an item: {e}")))
}

fn author_key(author_id: &str, post_id: &str) -> String {
    format!("{author_id}\n{post_id}")
}

fn get_json<T: for<'de> Deserialize<'de>>(
    table: &redb::Table<&str, &[u8]>,
    key: &str,
) -> Result<Option<T>, StoreError> {
    table.get(key).map_err(unavailable)?.map(|bytes| decode(bytes.value())).transpose()
}

/// Marks family `id` revoked at `at`, unless it already is.
fn revoke_family(families: &mut redb::Table<&str, &[u8]>, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    if let Some(mut family) = get_json::<StoredFamily>(families, id)?
        && family.revoked_at.is_none()
    {
        family.revoked_at = Some(at);
        families.insert(id, encode(&family)?.as_slice()).map_err(unavailable)?;
    }
    Ok(())
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

impl Store for EmbeddedStore {
    async fn create_user(&self, credentials: &Credentials) -> Result<(), StoreError> {
        let user = credentials.user.clone();
        let stored =
            encode(&StoredCredentials { user: user.clone(), password_hash: credentials.password_hash.clone() })?;
        let profile = encode(&user)?;
        self.run(move |db| {
            // redb has one writer at a time, so check-then-insert in one transaction is atomic.
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut by_email = txn.open_table(CREDENTIALS).map_err(unavailable)?;
                if by_email.get(user.email.as_str()).map_err(unavailable)?.is_some() {
                    return Err(StoreError::EmailTaken);
                }
                by_email.insert(user.email.as_str(), stored.as_slice()).map_err(unavailable)?;
                let mut users = txn.open_table(USERS).map_err(unavailable)?;
                users.insert(user.id.as_str(), profile.as_slice()).map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn login_state(&self, email: &str) -> Result<LoginState, StoreError> {
        let email = email.to_owned();
        self.run(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let failures = txn.open_table(LOGIN_FAILURES).map_err(unavailable)?;
            let failures = failures.get(email.as_str()).map_err(unavailable)?;
            let credentials = txn.open_table(CREDENTIALS).map_err(unavailable)?;
            let credentials = credentials.get(email.as_str()).map_err(unavailable)?;
            Ok(LoginState {
                failures: failures.map(|bytes| decode(bytes.value())).transpose()?,
                credentials: credentials
                    .map(|bytes| decode::<StoredCredentials>(bytes.value()))
                    .transpose()?
                    .map(|stored| Credentials { user: stored.user, password_hash: stored.password_hash }),
            })
        })
        .await
    }

    async fn replace_password_hash(&self, email: &str, old_hash: &str, new_hash: &str) -> Result<bool, StoreError> {
        let (email, old_hash, new_hash) = (email.to_owned(), old_hash.to_owned(), new_hash.to_owned());
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            let replaced = {
                let mut table = txn.open_table(CREDENTIALS).map_err(unavailable)?;
                let current: Option<StoredCredentials> =
                    table.get(email.as_str()).map_err(unavailable)?.map(|b| decode(b.value())).transpose()?;
                match current {
                    Some(mut stored) if stored.password_hash == old_hash => {
                        stored.password_hash = new_hash;
                        table.insert(email.as_str(), encode(&stored)?.as_slice()).map_err(unavailable)?;
                        true
                    }
                    _ => false,
                }
            };
            txn.commit().map_err(unavailable)?;
            Ok(replaced)
        })
        .await
    }

    async fn record_login_failure(&self, email: &str, at: OffsetDateTime) -> Result<LoginFailures, StoreError> {
        let email = email.to_owned();
        self.run(move |db| {
            // One writer at a time: the read-modify-write below is atomic.
            let txn = db.begin_write().map_err(unavailable)?;
            let updated = {
                let mut table = txn.open_table(LOGIN_FAILURES).map_err(unavailable)?;
                let previous =
                    table.get(email.as_str()).map_err(unavailable)?.map(|b| decode(b.value())).transpose()?;
                let updated = LoginFailures::after_failure(previous, at);
                table.insert(email.as_str(), encode(&updated)?.as_slice()).map_err(unavailable)?;
                updated
            };
            txn.commit().map_err(unavailable)?;
            Ok(updated)
        })
        .await
    }

    async fn clear_login_failures(&self, email: &str) -> Result<(), StoreError> {
        let email = email.to_owned();
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            txn.open_table(LOGIN_FAILURES).map_err(unavailable)?.remove(email.as_str()).map_err(unavailable)?;
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn create_post(&self, post: &Post, idempotency_key: Option<&str>) -> Result<PostCreation, StoreError> {
        let id = post.id.clone();
        let bytes = encode(post)?;
        let at = post.created_at;
        let key = idempotency_key.map(|key| format!("{}\n{key}", post.author.id));
        let author_id = post.author.id.clone();
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
                        return match posts.get(used.post_id.as_str()).map_err(unavailable)? {
                            Some(original) => Ok(PostCreation::Replayed(decode(original.value())?)),
                            None => Ok(PostCreation::OriginalDeleted),
                        };
                    }
                    let remembered = StoredIdempotencyKey { post_id: id.clone(), expires_at: at + IDEMPOTENCY_KEY_TTL };
                    keys.insert(key.as_str(), encode(&remembered)?.as_slice()).map_err(unavailable)?;
                }
                posts.insert(id.as_str(), bytes.as_slice()).map_err(unavailable)?;
                let mut by_author = txn.open_table(POSTS_BY_AUTHOR).map_err(unavailable)?;
                by_author.insert(author_key(&author_id, &id).as_str(), ()).map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)?;
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
            let mut posts = Vec::with_capacity(limit + 1);
            for entry in older.rev().take(limit + 1) {
                let (_, value) = entry.map_err(unavailable)?;
                posts.push(decode(value.value())?);
            }
            Ok(PostPage::from_overfetched(posts, limit))
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
            let mut page = Vec::with_capacity(limit + 1);
            for entry in
                by_author.range::<&str>(start.as_str()..end.as_str()).map_err(unavailable)?.rev().take(limit + 1)
            {
                let (key, _) = entry.map_err(unavailable)?;
                let post_id = key.value().rsplit('\n').next().unwrap_or_default().to_owned();
                let post = posts.get(post_id.as_str()).map_err(unavailable)?;
                let post =
                    post.ok_or_else(|| StoreError::Corrupt(format!("author index names missing post {post_id}")))?;
                page.push(decode(post.value())?);
            }
            Ok(Some(PostPage::from_overfetched(page, limit)))
        })
        .await
    }

    async fn get_post(&self, id: &str) -> Result<Option<Post>, StoreError> {
        let id = id.to_owned();
        self.run(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let posts = txn.open_table(POSTS).map_err(unavailable)?;
            let post = posts.get(id.as_str()).map_err(unavailable)?;
            post.map(|bytes| decode(bytes.value())).transpose()
        })
        .await
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
        self.run(move |db| {
            // One writer at a time: the check and the write below are atomic.
            let txn = db.begin_write().map_err(unavailable)?;
            let post = {
                let mut posts = txn.open_table(POSTS).map_err(unavailable)?;
                let mut post = post_to_write(&posts, &id, &editor_id, &precondition)?;
                post.title = edit.title.unwrap_or(post.title);
                post.body = edit.body.unwrap_or(post.body);
                post.updated_at = Some(at);
                post.version += 1;
                posts.insert(id.as_str(), encode(&post)?.as_slice()).map_err(unavailable)?;
                post
            };
            txn.commit().map_err(unavailable)?;
            Ok(post)
        })
        .await
    }

    async fn delete_post(&self, id: &str, author_id: &str, precondition: &Precondition) -> Result<(), StoreError> {
        let (id, author_id, precondition) = (id.to_owned(), author_id.to_owned(), precondition.clone());
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut posts = txn.open_table(POSTS).map_err(unavailable)?;
                post_to_write(&posts, &id, &author_id, &precondition)?;
                posts.remove(id.as_str()).map_err(unavailable)?;
                let mut by_author = txn.open_table(POSTS_BY_AUTHOR).map_err(unavailable)?;
                by_author.remove(author_key(&author_id, &id).as_str()).map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let id = id.to_owned();
        self.run(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let users = txn.open_table(USERS).map_err(unavailable)?;
            let user = users.get(id.as_str()).map_err(unavailable)?;
            user.map(|bytes| decode(bytes.value())).transpose()
        })
        .await
    }

    async fn start_session(&self, first: &RefreshGrant) -> Result<(), StoreError> {
        let token = encode(&StoredRefreshToken {
            family_id: first.family_id.clone(),
            user: first.user.clone(),
            expires_at: first.expires_at,
            used_at: None,
        })?;
        let family = encode(&StoredFamily { revoked_at: None })?;
        let (hash, family_id) = (first.hash.clone(), first.family_id.clone());
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            txn.open_table(SESSION_FAMILIES)
                .map_err(unavailable)?
                .insert(family_id.as_str(), family.as_slice())
                .map_err(unavailable)?;
            txn.open_table(REFRESH_TOKENS)
                .map_err(unavailable)?
                .insert(hash.as_str(), token.as_slice())
                .map_err(unavailable)?;
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next_hash: &str,
        next_expires_at: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        let (presented_hash, next_hash) = (presented_hash.to_owned(), next_hash.to_owned());
        self.run(move |db| {
            // One writer at a time: the checks and the rotation are atomic.
            let txn = db.begin_write().map_err(unavailable)?;
            let rotation = {
                let mut tokens = txn.open_table(REFRESH_TOKENS).map_err(unavailable)?;
                let mut families = txn.open_table(SESSION_FAMILIES).map_err(unavailable)?;
                let Some(mut presented) = get_json::<StoredRefreshToken>(&tokens, &presented_hash)? else {
                    return Ok(Rotation::Refused);
                };
                let family = get_json::<StoredFamily>(&families, &presented.family_id)?;
                if presented.used_at.is_some() {
                    revoke_family(&mut families, &presented.family_id, at)?;
                    Rotation::Reused
                } else if presented.expires_at <= at || family.is_none_or(|f| f.revoked_at.is_some()) {
                    return Ok(Rotation::Refused);
                } else {
                    presented.used_at = Some(at);
                    tokens.insert(presented_hash.as_str(), encode(&presented)?.as_slice()).map_err(unavailable)?;
                    let next = StoredRefreshToken { expires_at: next_expires_at, used_at: None, ..presented };
                    tokens.insert(next_hash.as_str(), encode(&next)?.as_slice()).map_err(unavailable)?;
                    Rotation::Rotated(next.user)
                }
            };
            txn.commit().map_err(unavailable)?;
            Ok(rotation)
        })
        .await
    }

    async fn end_session(&self, token_hash: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let tokens = txn.open_table(REFRESH_TOKENS).map_err(unavailable)?;
                if let Some(token) = get_json::<StoredRefreshToken>(&tokens, &token_hash)? {
                    let mut families = txn.open_table(SESSION_FAMILIES).map_err(unavailable)?;
                    revoke_family(&mut families, &token.family_id, at)?;
                }
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }
}
