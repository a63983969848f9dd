//! Sessions: refresh tokens by hash, the families they belong to, and each user's list.
use redb::{ReadableDatabase, ReadableTable, Table, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    DEVICES, EmbeddedStore, REFRESH_TOKENS, SESSION_FAMILIES, SESSIONS_BY_USER, decode, encode, get_json, unavailable,
};
use crate::model::{SessionInfo, SessionUser, id_time};
use crate::store::{NewSession, Rotation, SessionStore, StoreError};

#[derive(Serialize, Deserialize)]
struct StoredRefreshToken {
    family_id: String,
    user: SessionUser,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    /// When it was exchanged for the next token: presenting it again is a replay.
    #[serde(with = "time::serde::rfc3339::option")]
    used_at: Option<OffsetDateTime>,
    /// When its session ends; absent in tokens stored before sessions had an end.
    #[serde(default, with = "time::serde::rfc3339::option")]
    session_ends_at: Option<OffsetDateTime>,
}

/// A session. The fields after `revoked_at` are absent in families stored before sessions
/// were listed, until their next refresh.
#[derive(Serialize, Deserialize, Default)]
struct StoredFamily {
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    created_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    last_used_at: Option<OffsetDateTime>,
    /// Its newest token's.
    #[serde(default, with = "time::serde::rfc3339::option")]
    expires_at: Option<OffsetDateTime>,
    #[serde(default)]
    user_agent: Option<String>,
}

pub(super) fn listing_key(user_id: &str, family_id: &str) -> String {
    format!("{user_id}\n{family_id}")
}

/// Marks family `id` revoked at `at` (unless it already is) and takes it off `user_id`'s list.
pub(super) fn revoke_family(
    families: &mut Table<&str, &[u8]>,
    listing: &mut Table<&str, ()>,
    id: &str,
    user_id: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    listing.remove(listing_key(user_id, id).as_str()).map_err(unavailable)?;
    if let Some(mut family) = get_json::<StoredFamily>(families, id)?
        && family.revoked_at.is_none()
    {
        family.revoked_at = Some(at);
        families.insert(id, encode(&family)?.as_slice()).map_err(unavailable)?;
    }
    Ok(())
}

/// Writes `session` in `txn`: its family, its first refresh token, its listing, and the
/// device the login newly trusts.
pub(super) fn insert_session(txn: &WriteTransaction, session: &NewSession) -> Result<(), StoreError> {
    let NewSession { first, started, new_device } = session;
    let token = encode(&StoredRefreshToken {
        family_id: first.family_id.clone(),
        user: first.user.clone(),
        expires_at: first.expires_at,
        used_at: None,
        session_ends_at: Some(first.session_ends_at),
    })?;
    let family = encode(&StoredFamily {
        revoked_at: None,
        created_at: Some(started.at),
        last_used_at: Some(started.at),
        expires_at: Some(first.expires_at),
        user_agent: started.user_agent.clone(),
    })?;
    if let Some(device) = new_device {
        txn.open_table(DEVICES)
            .map_err(unavailable)?
            .insert(device.token_hash.as_str(), encode(device)?.as_slice())
            .map_err(unavailable)?;
    }
    txn.open_table(SESSION_FAMILIES)
        .map_err(unavailable)?
        .insert(first.family_id.as_str(), family.as_slice())
        .map_err(unavailable)?;
    let listed = listing_key(&first.user.user_id, &first.family_id);
    txn.open_table(SESSIONS_BY_USER).map_err(unavailable)?.insert(listed.as_str(), ()).map_err(unavailable)?;
    txn.open_table(REFRESH_TOKENS)
        .map_err(unavailable)?
        .insert(first.hash.as_str(), token.as_slice())
        .map_err(unavailable)?;
    Ok(())
}

impl SessionStore for EmbeddedStore {
    async fn start_session(&self, session: &NewSession) -> Result<(), StoreError> {
        let session = session.clone();
        self.write(move |txn| insert_session(txn, &session)).await
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
                let mut listing = txn.open_table(SESSIONS_BY_USER).map_err(unavailable)?;
                let Some(mut presented) = get_json::<StoredRefreshToken>(&tokens, &presented_hash)? else {
                    return Ok(Rotation::Refused);
                };
                let (family_id, user_id) = (presented.family_id.clone(), presented.user.user_id.clone());
                let family = get_json::<StoredFamily>(&families, &family_id)?;
                match family {
                    _ if presented.used_at.is_some() => {
                        revoke_family(&mut families, &mut listing, &family_id, &user_id, at)?;
                        Rotation::Reused
                    }
                    Some(mut family)
                        if presented.expires_at > at
                            && presented.session_ends_at.is_none_or(|end| end > at)
                            && family.revoked_at.is_none() =>
                    {
                        presented.used_at = Some(at);
                        tokens.insert(presented_hash.as_str(), encode(&presented)?.as_slice()).map_err(unavailable)?;
                        let expires_at =
                            presented.session_ends_at.map_or(next_expires_at, |end| end.min(next_expires_at));
                        let next = StoredRefreshToken { expires_at, used_at: None, ..presented };
                        tokens.insert(next_hash.as_str(), encode(&next)?.as_slice()).map_err(unavailable)?;
                        // A session started before sessions were listed is listed from now on.
                        family.created_at = family.created_at.or(id_time(&family_id));
                        family.last_used_at = Some(at);
                        family.expires_at = Some(expires_at);
                        families.insert(family_id.as_str(), encode(&family)?.as_slice()).map_err(unavailable)?;
                        listing.insert(listing_key(&user_id, &family_id).as_str(), ()).map_err(unavailable)?;
                        Rotation::Rotated { user: next.user, session_id: family_id }
                    }
                    _ => return Ok(Rotation::Refused),
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
                    let mut listing = txn.open_table(SESSIONS_BY_USER).map_err(unavailable)?;
                    revoke_family(&mut families, &mut listing, &token.family_id, &token.user.user_id, at)?;
                }
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn list_sessions(&self, user_id: &str, at: OffsetDateTime) -> Result<Vec<SessionInfo>, StoreError> {
        let user_id = user_id.to_owned();
        self.run(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let listing = txn.open_table(SESSIONS_BY_USER).map_err(unavailable)?;
            let families = txn.open_table(SESSION_FAMILIES).map_err(unavailable)?;
            let (start, end) = (listing_key(&user_id, ""), listing_key(&user_id, "\u{10FFFF}"));
            let mut sessions = Vec::new();
            for entry in listing.range::<&str>(start.as_str()..end.as_str()).map_err(unavailable)? {
                let (key, _) = entry.map_err(unavailable)?;
                let id = key.value()[start.len()..].to_owned();
                let Some(family) = families.get(id.as_str()).map_err(unavailable)? else { continue };
                let family: StoredFamily = decode(family.value())?;
                let (Some(created_at), Some(last_used_at), Some(expires_at)) =
                    (family.created_at, family.last_used_at, family.expires_at)
                else {
                    continue;
                };
                if family.revoked_at.is_none() && expires_at > at {
                    sessions.push(SessionInfo { id, created_at, last_used_at, user_agent: family.user_agent });
                }
            }
            Ok(sessions)
        })
        .await
    }

    async fn revoke_session(&self, user_id: &str, session_id: &str, at: OffsetDateTime) -> Result<bool, StoreError> {
        let (user_id, session_id) = (user_id.to_owned(), session_id.to_owned());
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            let listed = {
                let mut listing = txn.open_table(SESSIONS_BY_USER).map_err(unavailable)?;
                let listed = listing.get(listing_key(&user_id, &session_id).as_str()).map_err(unavailable)?.is_some();
                if listed {
                    let mut families = txn.open_table(SESSION_FAMILIES).map_err(unavailable)?;
                    revoke_family(&mut families, &mut listing, &session_id, &user_id, at)?;
                }
                listed
            };
            txn.commit().map_err(unavailable)?;
            Ok(listed)
        })
        .await
    }
}
