//! The embedded store: redb, in a file (local-api's default, durable when a write
//! returns) or in memory (tests, `local-api --memory`). Same contract as DynamoDB. Split
//! by aggregate: `users`, `identities`, `logins`, `posts`, `sessions`, `mail`; each table is named here.
use std::path::Path;
use std::sync::Arc;

use redb::backends::InMemoryBackend;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, broadcast};

use super::StoreError;
use crate::realtime::PostChange;

mod accounts;
mod identities;
mod logins;
mod mail;
mod posts;
mod sessions;
mod users;

/// email → [`StoredCredentials`] as JSON: the uniqueness guard and login record.
pub(super) const CREDENTIALS: TableDefinition<&str, &[u8]> = TableDefinition::new("credentials_by_email");
/// user id → [`User`] as JSON.
pub(super) const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
/// identity key ([`Identity::key`](crate::model::Identity::key)) → the id of its account.
pub(super) const IDENTITIES: TableDefinition<&str, &str> = TableDefinition::new("identities");
/// attempt counter key → [`Attempts`](crate::auth::throttle::Attempts) as JSON.
pub(super) const ATTEMPTS: TableDefinition<&str, &[u8]> = TableDefinition::new("login_attempts");
/// device token hash → [`TrustedDevice`](crate::model::TrustedDevice) as JSON.
pub(super) const DEVICES: TableDefinition<&str, &[u8]> = TableDefinition::new("trusted_devices");
/// "<author id>\n<key>" → [`StoredIdempotencyKey`] as JSON.
pub(super) const IDEMPOTENCY_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("idempotency_keys");
/// post id → [`Post`] as JSON. Post ids are ULIDs, so key order is creation order.
pub(super) const POSTS: TableDefinition<&str, &[u8]> = TableDefinition::new("posts");
/// "<author id>\n<post id>" → nothing: each author's posts in creation order.
pub(super) const POSTS_BY_AUTHOR: TableDefinition<&str, ()> = TableDefinition::new("posts_by_author");
/// refresh token hash → [`StoredRefreshToken`] as JSON.
pub(super) const REFRESH_TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("refresh_tokens");
/// family id → [`StoredFamily`] as JSON.
pub(super) const SESSION_FAMILIES: TableDefinition<&str, &[u8]> = TableDefinition::new("session_families");
/// "<user id>\n<family id>" → nothing: each user's listed sessions, oldest first.
pub(super) const SESSIONS_BY_USER: TableDefinition<&str, ()> = TableDefinition::new("sessions_by_user");
/// [`MailRequest::key`](crate::model::MailRequest::key) → its latest request as JSON.
pub(super) const MAIL_REQUESTS: TableDefinition<&str, &[u8]> = TableDefinition::new("mail_requests");
/// mailed token hash → [`MailedToken`](crate::auth::MailedToken) as JSON.
pub(super) const MAILED_TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("mailed_tokens");

#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    /// Where each committed post change is announced (local-api's realtime), if anywhere.
    changes: Option<broadcast::Sender<PostChange>>,
    /// Woken when mail is asked for (local-api's mail worker waits on it).
    mail_waker: Arc<Notify>,
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
        for table in [
            CREDENTIALS,
            USERS,
            ATTEMPTS,
            DEVICES,
            IDEMPOTENCY_KEYS,
            POSTS,
            REFRESH_TOKENS,
            SESSION_FAMILIES,
            MAIL_REQUESTS,
            MAILED_TOKENS,
        ] {
            txn.open_table(table).map_err(unavailable)?;
        }
        txn.open_table(POSTS_BY_AUTHOR).map_err(unavailable)?;
        txn.open_table(SESSIONS_BY_USER).map_err(unavailable)?;
        txn.open_table(IDENTITIES).map_err(unavailable)?;
        txn.commit().map_err(unavailable)?;
        Ok(Self { db: Arc::new(db), changes: None, mail_waker: Arc::new(Notify::new()) })
    }

    /// Announces every post change to `changes` once it is committed, in commit order as
    /// near as one writer at a time makes it (subscribers order by `post.version`).
    pub fn announcing_changes(self, changes: broadcast::Sender<PostChange>) -> Self {
        Self { changes: Some(changes), ..self }
    }

    /// Waits until mail is asked for (at once if it was since the last wait).
    pub async fn mail_requested(&self) {
        self.mail_waker.notified().await;
    }

    /// The sender a write announces its committed change on, if any.
    pub(super) fn announcer(&self) -> Announcer {
        Announcer(self.changes.clone())
    }

    /// One JSON value by key from `table`, in a read transaction of its own.
    pub(super) async fn read_one<T: for<'de> Deserialize<'de> + Send + 'static>(
        &self,
        table: TableDefinition<'static, &'static str, &'static [u8]>,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let key = key.to_owned();
        self.run(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let table = txn.open_table(table).map_err(unavailable)?;
            table.get(key.as_str()).map_err(unavailable)?.map(|bytes| decode(bytes.value())).transpose()
        })
        .await
    }

    /// Runs `work` in one write transaction, committed if it succeeds.
    pub(super) async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            let result = work(&txn)?;
            txn.commit().map_err(unavailable)?;
            Ok(result)
        })
        .await
    }

    /// Runs blocking database work (file I/O, fsync on commit) off the async executor.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db)).await.map_err(unavailable)?
    }
}

/// Sends a committed change to whoever listens; nobody listening is fine.
pub(super) struct Announcer(Option<broadcast::Sender<PostChange>>);

impl Announcer {
    pub(super) fn announce(&self, change: impl FnOnce() -> PostChange) {
        if let Some(changes) = &self.0 {
            let _nobody_listening = changes.send(change());
        }
    }
}

pub(super) fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(err))
}

pub(super) fn encode(value: &impl Serialize) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(format!("encoding an item: {e}")))
}

pub(super) fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("decoding an item: {e}")))
}

pub(super) fn get_json<T: for<'de> Deserialize<'de>>(
    table: &redb::Table<&str, &[u8]>,
    key: &str,
) -> Result<Option<T>, StoreError> {
    table.get(key).map_err(unavailable)?.map(|bytes| decode(bytes.value())).transpose()
}
