//! Sessions: refresh tokens by hash and the families they belong to.
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{DEVICES, EmbeddedStore, REFRESH_TOKENS, SESSION_FAMILIES, encode, get_json, unavailable};
use crate::model::{SessionUser, TrustedDevice};
use crate::store::{RefreshGrant, Rotation, SessionStore, StoreError};

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

#[derive(Serialize, Deserialize)]
struct StoredFamily {
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
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

impl SessionStore for EmbeddedStore {
    async fn start_session(&self, first: &RefreshGrant, new_device: Option<&TrustedDevice>) -> Result<(), StoreError> {
        let token = encode(&StoredRefreshToken {
            family_id: first.family_id.clone(),
            user: first.user.clone(),
            expires_at: first.expires_at,
            used_at: None,
            session_ends_at: Some(first.session_ends_at),
        })?;
        let family = encode(&StoredFamily { revoked_at: None })?;
        let (hash, family_id) = (first.hash.clone(), first.family_id.clone());
        let device =
            new_device.map(|device| Ok::<_, StoreError>((device.token_hash.clone(), encode(device)?))).transpose()?;
        self.run(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            if let Some((device_hash, device)) = &device {
                txn.open_table(DEVICES)
                    .map_err(unavailable)?
                    .insert(device_hash.as_str(), device.as_slice())
                    .map_err(unavailable)?;
            }
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
                } else if presented.expires_at <= at
                    || presented.session_ends_at.is_some_and(|end| end <= at)
                    || family.is_none_or(|f| f.revoked_at.is_some())
                {
                    return Ok(Rotation::Refused);
                } else {
                    presented.used_at = Some(at);
                    tokens.insert(presented_hash.as_str(), encode(&presented)?.as_slice()).map_err(unavailable)?;
                    let expires_at = presented.session_ends_at.map_or(next_expires_at, |end| end.min(next_expires_at));
                    let next = StoredRefreshToken { expires_at, used_at: None, ..presented };
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
