//! Deleting an account: everything it owns, found by its id, in one write transaction.
use redb::{ReadableTable, WriteTransaction};
use time::OffsetDateTime;

use super::posts::author_key;
use super::sessions::{listing_key, revoke_family};
use super::{
    CREDENTIALS, DEVICES, EmbeddedStore, IDENTITIES, POSTS, POSTS_BY_AUTHOR, SESSION_FAMILIES, SESSIONS_BY_USER, USERS,
    decode, get_json, unavailable,
};
use crate::model::{Post, TrustedDevice, User};
use crate::realtime::PostChange;
use crate::store::{AccountStore, DeletedAccount, StoreError};

/// The keys of `table` whose entry `owned` says belongs to the account.
fn keys_where<V: redb::Value + 'static>(
    table: &impl ReadableTable<&'static str, V>,
    owned: impl Fn(V::SelfType<'_>) -> Result<bool, StoreError>,
) -> Result<Vec<String>, StoreError> {
    let mut keys = Vec::new();
    for entry in table.iter().map_err(unavailable)? {
        let (key, value) = entry.map_err(unavailable)?;
        if owned(value.value())? {
            keys.push(key.value().to_owned());
        }
    }
    Ok(keys)
}

/// The ids under `user_id` in a by-user index table whose keys `key` makes.
fn ids_of(
    table: &impl ReadableTable<&'static str, ()>,
    user_id: &str,
    key: fn(&str, &str) -> String,
) -> Result<Vec<String>, StoreError> {
    let (start, end) = (key(user_id, ""), key(user_id, "\u{10FFFF}"));
    let mut ids = Vec::new();
    for entry in table.range::<&str>(start.as_str()..end.as_str()).map_err(unavailable)? {
        ids.push(entry.map_err(unavailable)?.0.value()[start.len()..].to_owned());
    }
    Ok(ids)
}

/// Deletes account `user_id` and what it owns in `txn`: what was deleted, and its posts.
fn delete_everything(
    txn: &WriteTransaction,
    user_id: &str,
    at: OffsetDateTime,
) -> Result<Option<(DeletedAccount, Vec<Post>)>, StoreError> {
    let mut users = txn.open_table(USERS).map_err(unavailable)?;
    let Some(user) =
        users.remove(user_id).map_err(unavailable)?.map(|user| decode::<User>(user.value())).transpose()?
    else {
        return Ok(None);
    };
    txn.open_table(CREDENTIALS).map_err(unavailable)?.remove(user.email.as_str()).map_err(unavailable)?;
    let mut identities = txn.open_table(IDENTITIES).map_err(unavailable)?;
    for key in keys_where(&identities, |owner: &str| Ok(owner == user_id))? {
        identities.remove(key.as_str()).map_err(unavailable)?;
    }
    let mut devices = txn.open_table(DEVICES).map_err(unavailable)?;
    let trusted_by_user = |device: &[u8]| decode::<TrustedDevice>(device).map(|device| device.user_id == user_id);
    for key in keys_where(&devices, trusted_by_user)? {
        devices.remove(key.as_str()).map_err(unavailable)?;
    }
    let mut families = txn.open_table(SESSION_FAMILIES).map_err(unavailable)?;
    let mut listing = txn.open_table(SESSIONS_BY_USER).map_err(unavailable)?;
    let sessions = ids_of(&listing, user_id, listing_key)?;
    for family in &sessions {
        revoke_family(&mut families, &mut listing, family, user_id, at)?;
    }
    let mut posts = txn.open_table(POSTS).map_err(unavailable)?;
    let mut by_author = txn.open_table(POSTS_BY_AUTHOR).map_err(unavailable)?;
    let mut deleted = Vec::new();
    for id in ids_of(&by_author, user_id, author_key)? {
        by_author.remove(author_key(user_id, &id).as_str()).map_err(unavailable)?;
        if let Some(post) = get_json::<Post>(&posts, &id)? {
            posts.remove(id.as_str()).map_err(unavailable)?;
            deleted.push(post);
        }
    }
    Ok(Some((DeletedAccount { sessions: sessions.len(), posts: deleted.len() }, deleted)))
}

impl AccountStore for EmbeddedStore {
    async fn delete_account(&self, user_id: &str, at: OffsetDateTime) -> Result<Option<DeletedAccount>, StoreError> {
        let user_id = user_id.to_owned();
        let deleted = self.write(move |txn| delete_everything(txn, &user_id, at)).await?;
        Ok(deleted.map(|(deleted, posts)| {
            let announcer = self.announcer();
            for post in posts {
                announcer.announce(|| PostChange::Deleted(post));
            }
            deleted
        }))
    }
}
