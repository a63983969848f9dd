//! Posts: what writing, reading and listing posts need of the store, and the one rule
//! every write to a post obeys.
use std::future::Future;

use time::OffsetDateTime;

use super::StoreError;
use crate::model::{PAGE_CONTENT_BYTES, Post, PostEdit, Precondition};

/// What [`PostStore::create_post`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostCreation {
    Created,
    /// The idempotency key was used before: nothing was stored; this is the original.
    Replayed(Post),
    /// The idempotency key was used before, for a post since deleted: nothing was stored.
    OriginalDeleted,
    /// The idempotency key was used before with other content: nothing was stored.
    KeyMismatch,
}

/// One page of posts, newest first. `next` is the id of the last post returned when more
/// posts follow it, and `None` on the last page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPage {
    pub posts: Vec<Post>,
    pub next: Option<String>,
}

/// Fills a page from posts read newest first: up to `limit` posts and at most
/// [`PAGE_CONTENT_BYTES`] of their content. Reading one post past the page is what tells
/// that more follow, so `next` is `None` exactly on the last page.
pub struct PageBuilder {
    limit: usize,
    posts: Vec<Post>,
    content_bytes: usize,
    more: bool,
}

impl PageBuilder {
    pub fn new(limit: usize) -> Self {
        Self { limit, posts: Vec::with_capacity(limit), content_bytes: 0, more: false }
    }

    /// Adds the next older post; `false` once the page is complete (this post did not
    /// fit, and is not kept), so reading can stop.
    pub fn push(&mut self, post: Post) -> bool {
        let bytes = self.content_bytes + post.content_bytes();
        // The first post always goes in: no single post is larger than a page.
        if self.posts.len() == self.limit || (bytes > PAGE_CONTENT_BYTES && !self.posts.is_empty()) {
            self.more = true;
            return false;
        }
        self.content_bytes = bytes;
        self.posts.push(post);
        true
    }

    /// How many more posts are worth reading: the rest of the page and one past it.
    pub fn wanted(&self) -> usize {
        if self.more { 0 } else { self.limit + 1 - self.posts.len() }
    }

    pub fn finish(self) -> PostPage {
        let next = if self.more { self.posts.last().map(|post| post.id.clone()) } else { None };
        PostPage { posts: self.posts, next }
    }
}

/// Posts. Futures are `Send` so handlers can run on any executor.
pub trait PostStore: Send + Sync {
    /// Stores a new post. With an idempotency key (scoped to the post's author, kept for
    /// [`IDEMPOTENCY_KEY_TTL`]) a repeat stores nothing and returns the original post,
    /// atomically: of racing creates with one key, exactly one stores a post. The key
    /// remembers the post's [`content_fingerprint`]; a repeat whose content differs is
    /// [`PostCreation::KeyMismatch`].
    ///
    /// [`IDEMPOTENCY_KEY_TTL`]: crate::model::IDEMPOTENCY_KEY_TTL
    /// [`content_fingerprint`]: Post::content_fingerprint
    fn create_post(
        &self,
        post: &Post,
        idempotency_key: Option<&str>,
    ) -> impl Future<Output = Result<PostCreation, StoreError>> + Send;

    /// Up to `limit` posts, newest first, strictly older than the post `after` if given;
    /// fewer when their content would pass [`PAGE_CONTENT_BYTES`] (see [`PageBuilder`]).
    fn list_posts(
        &self,
        limit: usize,
        after: Option<&str>,
    ) -> impl Future<Output = Result<PostPage, StoreError>> + Send;

    /// Like [`PostStore::list_posts`], for the posts of one author; `None` if there is no such user.
    fn list_posts_by_author(
        &self,
        author_id: &str,
        limit: usize,
        after: Option<&str>,
    ) -> impl Future<Output = Result<Option<PostPage>, StoreError>> + Send;

    /// The post `id`, read consistently (a write that returned is seen).
    fn get_post(&self, id: &str) -> impl Future<Output = Result<Option<Post>, StoreError>> + Send;

    /// Applies `edit` to post `id` at `at` and returns the post as stored, one version on.
    /// One atomic conditional write checks, in this order, that the post exists
    /// (`NotFound`), that `editor_id` wrote it (`NotAuthor`) and that its version meets
    /// `precondition` (`VersionMismatch`): racing edits each get their own version, and
    /// of racing edits made against one version, exactly one succeeds.
    fn update_post(
        &self,
        id: &str,
        editor_id: &str,
        edit: &PostEdit,
        precondition: &Precondition,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Post, StoreError>> + Send;

    /// Deletes post `id`, with the checks and errors of [`PostStore::update_post`], atomically.
    fn delete_post(
        &self,
        id: &str,
        author_id: &str,
        precondition: &Precondition,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The rule every write to a post obeys, checked in this order: the post exists
/// (`NotFound`), `author_id` wrote it (`NotAuthor`), its version meets `precondition`
/// (`VersionMismatch`). `current` is the post's author and version, `None` if it is missing.
/// The embedded store checks it before writing; DynamoDB evaluates it as the write's
/// condition expression, and uses this to explain a refusal.
pub fn check_post_write(
    current: Option<(&str, u64)>,
    author_id: &str,
    precondition: &Precondition,
) -> Result<(), StoreError> {
    match current {
        None => Err(StoreError::NotFound),
        Some((owner, _)) if owner != author_id => Err(StoreError::NotAuthor),
        Some((_, version)) if !precondition.allows(version) => Err(StoreError::VersionMismatch),
        Some(_) => Ok(()),
    }
}
