//! An in-process store for fast tests: the same contract as DynamoDB, kept in maps.
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use super::{PostPage, Store, StoreError};
use crate::model::{Credentials, Post};

#[derive(Default)]
pub struct MemoryStore {
    data: Mutex<Data>,
}

#[derive(Default)]
struct Data {
    credentials_by_email: HashMap<String, Credentials>,
    /// Keyed by post id; ids sort by creation time.
    posts: BTreeMap<String, Post>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> Result<MutexGuard<'_, Data>, StoreError> {
        self.data.lock().map_err(|_| StoreError::Corrupt("memory store lock poisoned".into()))
    }
}

impl Store for MemoryStore {
    async fn create_user(&self, credentials: &Credentials) -> Result<(), StoreError> {
        let mut data = self.data()?;
        if data.credentials_by_email.contains_key(&credentials.user.email) {
            return Err(StoreError::EmailTaken);
        }
        data.credentials_by_email.insert(credentials.user.email.clone(), credentials.clone());
        Ok(())
    }

    async fn credentials_by_email(&self, email: &str) -> Result<Option<Credentials>, StoreError> {
        Ok(self.data()?.credentials_by_email.get(email).cloned())
    }

    async fn create_post(&self, post: &Post) -> Result<(), StoreError> {
        self.data()?.posts.insert(post.id.clone(), post.clone());
        Ok(())
    }

    async fn list_posts(&self, limit: usize, after: Option<&str>) -> Result<PostPage, StoreError> {
        let data = self.data()?;
        let end = after.map_or(Bound::Unbounded, Bound::Excluded);
        let older = data.posts.range::<str, _>((Bound::Unbounded, end));
        let posts: Vec<Post> = older.rev().take(limit + 1).map(|(_, post)| post.clone()).collect();
        Ok(PostPage::from_overfetched(posts, limit))
    }
}
