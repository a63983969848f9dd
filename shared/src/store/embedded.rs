//! The embedded store: redb, in a file (local-api's default, durable when a write
//! returns) or in memory (tests, `local-api --memory`). Same contract as DynamoDB.
use std::path::Path;
use std::sync::Arc;

use redb::backends::InMemoryBackend;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::{LoginState, PostCreation, PostPage, Store, StoreError};
use crate::auth::throttle::LoginFailures;
use crate::model::{Credentials, IDEMPOTENCY_KEY_TTL, Post, User};
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
        for table in [CREDENTIALS, USERS, LOGIN_FAILURES, IDEMPOTENCY_KEYS, POSTS] {
            txn.open_table(table).map_err(unavailable)?;
        }
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
                        let original = posts.get(used.post_id.as_str()).map_err(unavailable)?;
                        let original =
                            original.ok_or_else(|| StoreError::Corrupt("idempotency key of a missing post".into()))?;
                        return Ok(PostCreation::Replayed(decode(original.value())?));
                    }
                    let remembered = StoredIdempotencyKey { post_id: id.clone(), expires_at: at + IDEMPOTENCY_KEY_TTL };
                    keys.insert(key.as_str(), encode(&remembered)?.as_slice()).map_err(unavailable)?;
                }
                posts.insert(id.as_str(), bytes.as_slice()).map_err(unavailable)?;
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
}
