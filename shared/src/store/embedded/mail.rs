//! Mail requests (the latest per kind and recipient, until local-api's mail worker has
//! delivered it) and mailed tokens (by hash, gone when used).
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::users::StoredCredentials;
use super::{
    ATTEMPTS, CREDENTIALS, EmbeddedStore, MAIL_REQUESTS, MAILED_TOKENS, USERS, decode, encode, get_json, unavailable,
};
use crate::auth::throttle::AttemptCounter;
use crate::auth::{MailedToken, TokenPurpose};
use crate::model::{MAIL_INTERVAL, MailRequest, User};
use crate::store::{MailStore, StoreError};

#[derive(Serialize, Deserialize)]
struct StoredMailRequest {
    request: MailRequest,
    #[serde(with = "time::serde::rfc3339")]
    requested_at: OffsetDateTime,
    delivered: bool,
}

/// Records `mail` as asked for at `at` in `txn`, unless it was within the interval: whether it was.
pub(super) fn insert_mail_request(
    txn: &WriteTransaction,
    mail: &MailRequest,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let mut requests = txn.open_table(MAIL_REQUESTS).map_err(unavailable)?;
    let key = mail.key();
    let latest: Option<StoredMailRequest> = get_json(&requests, &key)?;
    if latest.is_some_and(|latest| latest.requested_at > at - MAIL_INTERVAL) {
        return Ok(false);
    }
    let stored = StoredMailRequest { request: mail.clone(), requested_at: at, delivered: false };
    requests.insert(key.as_str(), encode(&stored)?.as_slice()).map_err(unavailable)?;
    Ok(true)
}

impl EmbeddedStore {
    /// The requests not delivered yet, each with when it was asked for.
    pub async fn undelivered_mail(&self) -> Result<Vec<(MailRequest, OffsetDateTime)>, StoreError> {
        self.run(|db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let requests = txn.open_table(MAIL_REQUESTS).map_err(unavailable)?;
            let mut undelivered = Vec::new();
            for entry in requests.iter().map_err(unavailable)? {
                let (_, value) = entry.map_err(unavailable)?;
                let stored: StoredMailRequest = decode(value.value())?;
                if !stored.delivered {
                    undelivered.push((stored.request, stored.requested_at));
                }
            }
            Ok(undelivered)
        })
        .await
    }

    /// Marks `mail`, asked for at `requested_at`, delivered (a later request stays undelivered).
    pub async fn mail_delivered(&self, mail: &MailRequest, requested_at: OffsetDateTime) -> Result<(), StoreError> {
        let key = mail.key();
        self.write(move |txn| {
            let mut requests = txn.open_table(MAIL_REQUESTS).map_err(unavailable)?;
            let stored: Option<StoredMailRequest> = get_json(&requests, &key)?;
            if let Some(mut stored) = stored.filter(|stored| stored.requested_at == requested_at) {
                stored.delivered = true;
                requests.insert(key.as_str(), encode(&stored)?.as_slice()).map_err(unavailable)?;
            }
            Ok(())
        })
        .await
    }
}

impl MailStore for EmbeddedStore {
    async fn request_mail(&self, mail: &MailRequest, at: OffsetDateTime) -> Result<bool, StoreError> {
        let mail = mail.clone();
        let requested = self.write(move |txn| insert_mail_request(txn, &mail, at)).await?;
        if requested {
            self.mail_waker.notify_one();
        }
        Ok(requested)
    }

    async fn store_mailed_token(&self, token: &MailedToken) -> Result<(), StoreError> {
        let token = token.clone();
        self.write(move |txn| {
            let mut tokens = txn.open_table(MAILED_TOKENS).map_err(unavailable)?;
            tokens.insert(token.hash.as_str(), encode(&token)?.as_slice()).map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn find_mailed_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        at: OffsetDateTime,
    ) -> Result<Option<MailedToken>, StoreError> {
        let token: Option<MailedToken> = self.read_one(MAILED_TOKENS, token_hash).await?;
        Ok(token.filter(|token| token.usable_for(purpose, at)))
    }

    async fn verify_email(&self, token_hash: &str, at: OffsetDateTime) -> Result<Option<User>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |txn| use_token(txn, &token_hash, TokenPurpose::VerifyEmail, at, None)).await
    }

    async fn reset_password(
        &self,
        token_hash: &str,
        new_hash: &str,
        at: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
        let (token_hash, new_hash) = (token_hash.to_owned(), new_hash.to_owned());
        self.write(move |txn| {
            let user = use_token(txn, &token_hash, TokenPurpose::ResetPassword, at, Some(new_hash))?;
            if let Some(user) = &user {
                let lockout = AttemptCounter::Account { email: user.email.clone() }.key();
                txn.open_table(ATTEMPTS).map_err(unavailable)?.remove(lockout.as_str()).map_err(unavailable)?;
            }
            Ok(user)
        })
        .await
    }
}

/// Uses up the live token of `purpose` whose hash is `token_hash` in `txn`: its account
/// marked verified, with the password hash `new_hash` if given; the account, or `None`
/// when the token is not usable or the account's email is no longer the token's.
fn use_token(
    txn: &WriteTransaction,
    token_hash: &str,
    purpose: TokenPurpose,
    at: OffsetDateTime,
    new_hash: Option<String>,
) -> Result<Option<User>, StoreError> {
    let mut tokens = txn.open_table(MAILED_TOKENS).map_err(unavailable)?;
    let token: Option<MailedToken> = get_json(&tokens, token_hash)?;
    let Some(token) = token.filter(|token| token.usable_for(purpose, at)) else { return Ok(None) };
    let mut users = txn.open_table(USERS).map_err(unavailable)?;
    let user: Option<User> = get_json(&users, &token.user_id)?;
    let Some(mut user) = user.filter(|user| user.email == token.email) else { return Ok(None) };
    user.email_verified = true;
    users.insert(user.id.as_str(), encode(&user)?.as_slice()).map_err(unavailable)?;
    let mut by_email = txn.open_table(CREDENTIALS).map_err(unavailable)?;
    let stored: Option<StoredCredentials> = get_json(&by_email, &user.email)?;
    let mut stored = stored.ok_or_else(|| StoreError::Corrupt(format!("user {} has no login record", user.id)))?;
    stored.user = user.clone();
    if new_hash.is_some() {
        stored.password_hash = new_hash;
    }
    by_email.insert(user.email.as_str(), encode(&stored)?.as_slice()).map_err(unavailable)?;
    tokens.remove(token_hash).map_err(unavailable)?;
    Ok(Some(user))
}
