//! The key of every item in the table, and the two indexes that list posts.
use std::collections::HashMap;

use super::codec::{Item, s};

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

pub(super) const ALL_POSTS: &str = "POSTS";

pub(super) fn key_of(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

pub(super) fn user_partition(id: &str) -> String {
    format!("USER#{id}")
}

pub(super) fn user_key(id: &str) -> Item {
    key_of(user_partition(id), PROFILE)
}

/// A login attempt counter, by its key (`auth::throttle::AttemptCounter::key`).
pub(super) fn attempts_key(counter: &str) -> Item {
    key_of(format!("LOGINFAIL#{counter}"), "LOGINFAIL")
}

/// A trusted device, by its token's hash.
pub(super) fn device_key(token_hash: &str) -> Item {
    key_of(format!("DEVICE#{token_hash}"), "DEVICE")
}

/// An identity at another provider, by [`Identity::key`](crate::model::Identity::key).
pub(super) fn identity_key(identity: &str) -> Item {
    key_of(format!("IDENTITY#{identity}"), "IDENTITY")
}

pub(super) fn idempotency_item_key(author_id: &str, key: &str) -> Item {
    key_of(format!("IDEMPOTENCY#{author_id}#{key}"), "IDEMPOTENCY")
}

pub(super) fn refresh_token_key(hash: &str) -> Item {
    key_of(format!("REFRESH#{hash}"), "REFRESH")
}

pub(super) fn family_key(id: &str) -> Item {
    key_of(format!("FAMILY#{id}"), "FAMILY")
}

/// The partition listing one user's sessions, and a session's place in it.
pub(super) fn sessions_partition(user_id: &str) -> String {
    format!("SESSIONS#{user_id}")
}

pub(super) const SESSION_KEY_PREFIX: &str = "SESSION#";

pub(super) fn session_listing_key(user_id: &str, session_id: &str) -> Item {
    key_of(sessions_partition(user_id), &format!("{SESSION_KEY_PREFIX}{session_id}"))
}

/// Every mail request's partition key starts so (the mail sender's stream filter says it too).
pub(super) const MAIL_KEY_PREFIX: &str = "MAIL#";

/// The latest request for a kind of message to one recipient ([`MailRequest::key`](crate::model::MailRequest::key)).
pub(super) fn mail_request_key(key: &str) -> Item {
    key_of(format!("{MAIL_KEY_PREFIX}{key}"), "MAIL")
}

/// A mailed single-use token, by its hash.
pub(super) fn mailed_token_key(hash: &str) -> Item {
    key_of(format!("TOKEN#{hash}"), "TOKEN")
}

/// What an account owns besides its profile sits in the profile's partition, so that one
/// query finds it all when the account is deleted: its trusted devices and its identities.
pub(super) const OWNED_DEVICE_PREFIX: &str = "DEVICE#";
pub(super) const OWNED_IDENTITY_PREFIX: &str = "IDENTITY#";
/// The profile's sort key.
pub(super) const PROFILE: &str = "PROFILE";

pub(super) fn owned_device_key(user_id: &str, token_hash: &str) -> Item {
    key_of(user_partition(user_id), &format!("{OWNED_DEVICE_PREFIX}{token_hash}"))
}

pub(super) fn owned_identity_key(user_id: &str, identity: &str) -> Item {
    key_of(user_partition(user_id), &format!("{OWNED_IDENTITY_PREFIX}{identity}"))
}

pub(super) fn email_key(email: &str) -> Item {
    key_of(format!("EMAIL#{email}"), "EMAIL")
}

/// Every post item's partition key starts so (the stream consumer's filter says it too).
pub(super) const POST_KEY_PREFIX: &str = "POST#";

/// The table key of a post, for reading it.
pub(super) fn post_table_key(id: &str) -> Item {
    key_of(format!("{POST_KEY_PREFIX}{id}"), "POST")
}

/// One of the two indexes that list posts, newest first: all of them, or one author's.
pub(super) struct PostListing {
    pub(super) index: &'static str,
    pub(super) partition_attribute: &'static str,
    pub(super) sort_attribute: &'static str,
    pub(super) partition: String,
}

impl PostListing {
    pub(super) fn all() -> Self {
        Self {
            index: POSTS_INDEX,
            partition_attribute: POSTS_INDEX_PK,
            sort_attribute: POSTS_INDEX_SK,
            partition: ALL_POSTS.to_owned(),
        }
    }

    pub(super) fn by_author(author_id: &str) -> Self {
        Self {
            index: AUTHOR_INDEX,
            partition_attribute: AUTHOR_INDEX_PK,
            sort_attribute: AUTHOR_INDEX_SK,
            partition: format!("AUTHOR#{author_id}"),
        }
    }

    /// A post's key in this index (with its table key): also the `ExclusiveStartKey` to
    /// list after it, which need not exist any more.
    pub(super) fn key(&self, post_id: &str) -> Item {
        let mut item = post_table_key(post_id);
        item.insert(self.partition_attribute.to_owned(), s(&self.partition));
        item.insert(self.sort_attribute.to_owned(), s(post_id));
        item
    }
}
