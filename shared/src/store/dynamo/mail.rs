//! Mail requests (one item per kind and recipient, its latest request: the mail sender
//! reads it from the table's stream) and mailed tokens (by hash, gone when used).
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};
use time::OffsetDateTime;

use super::codec::{EMAIL_VERIFIED, Item, PASSWORD_HASH, Reader, n, s, unix_millis};
use super::keys::{MAIL_KEY_PREFIX, attempts_key, email_key, mail_request_key, mailed_token_key, schema, user_key};
use super::{DynamoStore, cancellation_reason, classify, condition_held};
use crate::auth::throttle::AttemptCounter;
use crate::auth::{MailedToken, TokenPurpose};
use crate::model::{MAIL_INTERVAL, MailRequest, User};
use crate::store::{MailStore, StoreError, UserStore};

const KIND: &str = "kind";
const RECIPIENT: &str = "recipient";
const REQUESTED_AT: &str = "requested_at";
/// A request's item outlives its interval by this much, then DynamoDB's TTL removes it.
const REQUEST_KEPT_FOR: time::Duration = time::Duration::days(1);

/// The item recording `mail`, asked for at `at`.
pub(super) fn mail_request_item(mail: &MailRequest, at: OffsetDateTime) -> Item {
    let mut item = mail_request_key(&mail.key());
    item.extend([
        (KIND.to_owned(), s(mail.kind())),
        (RECIPIENT.to_owned(), s(mail.recipient())),
        (REQUESTED_AT.to_owned(), n(unix_millis(at))),
        (schema::TTL.to_owned(), n((at + REQUEST_KEPT_FOR).unix_timestamp())),
    ]);
    item
}

/// The mail a stream record's new image asks for: `None` for any item but a mail request.
pub fn mail_request(image: &Item) -> Result<Option<MailRequest>, StoreError> {
    let reader = Reader(image);
    if !reader.string(schema::PK)?.starts_with(MAIL_KEY_PREFIX) {
        return Ok(None);
    }
    let recipient = reader.string(RECIPIENT)?;
    match reader.string(KIND)?.as_str() {
        "verify_email" => Ok(Some(MailRequest::VerifyEmail { user_id: recipient })),
        "reset_password" => Ok(Some(MailRequest::ResetPassword { email: recipient })),
        other => Err(StoreError::Corrupt(format!("unknown kind of mail {other:?}"))),
    }
}

fn mailed_token(item: &Item) -> Result<MailedToken, StoreError> {
    let reader = Reader(item);
    let purpose = reader.string("purpose")?;
    let expires_at = OffsetDateTime::from_unix_timestamp(reader.number(schema::TTL)?)
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", schema::TTL)))?;
    Ok(MailedToken {
        hash: reader.string("hash")?,
        purpose: TokenPurpose::from_name(&purpose)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown token purpose {purpose:?}")))?,
        user_id: reader.string("user_id")?,
        email: reader.string("email")?,
        expires_at,
    })
}

fn build<T, E: std::fmt::Display>(built: Result<T, E>) -> Result<T, StoreError> {
    built.map_err(|e| StoreError::Corrupt(format!("building a transaction item: {e}")))
}

impl MailStore for DynamoStore {
    async fn request_mail(&self, mail: &MailRequest, at: OffsetDateTime) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(mail_request_item(mail, at)))
            .condition_expression("attribute_not_exists(#pk) OR #at <= :cutoff")
            .expression_attribute_names("#pk", schema::PK)
            .expression_attribute_names("#at", REQUESTED_AT)
            .expression_attribute_values(":cutoff", n(unix_millis(at - MAIL_INTERVAL)))
            .send()
            .await;
        condition_held(result)
    }

    async fn store_mailed_token(&self, token: &MailedToken) -> Result<(), StoreError> {
        let mut item = mailed_token_key(&token.hash);
        item.extend([
            ("hash".to_owned(), s(&token.hash)),
            ("purpose".to_owned(), s(token.purpose.as_str())),
            ("user_id".to_owned(), s(&token.user_id)),
            ("email".to_owned(), s(&token.email)),
            (schema::TTL.to_owned(), n(token.expires_at.unix_timestamp())),
        ]);
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(classify)?;
        Ok(())
    }

    async fn find_mailed_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        at: OffsetDateTime,
    ) -> Result<Option<MailedToken>, StoreError> {
        let token = self.get(mailed_token_key(token_hash)).await?.map(|item| mailed_token(&item)).transpose()?;
        Ok(token.filter(|token| token.usable_for(purpose, at)))
    }

    async fn verify_email(&self, token_hash: &str, at: OffsetDateTime) -> Result<Option<User>, StoreError> {
        let Some(user) = self.token_account(token_hash, TokenPurpose::VerifyEmail, at).await? else { return Ok(None) };
        let writes = vec![
            self.mark_verified(user_key(&user.id), "id = :id", &user.id, None)?,
            self.mark_verified(email_key(&user.email), "user_id = :id", &user.id, None)?,
        ];
        self.use_token_with(token_hash, user, writes).await
    }

    async fn reset_password(
        &self,
        token_hash: &str,
        new_hash: &str,
        at: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
        let Some(user) = self.token_account(token_hash, TokenPurpose::ResetPassword, at).await? else {
            return Ok(None);
        };
        let lockout = attempts_key(&AttemptCounter::Account { email: user.email.clone() }.key());
        let clear_lockout = build(Delete::builder().table_name(&self.table).set_key(Some(lockout)).build())?;
        let writes = vec![
            self.mark_verified(user_key(&user.id), "id = :id", &user.id, None)?,
            self.mark_verified(email_key(&user.email), "user_id = :id", &user.id, Some(new_hash))?,
            TransactWriteItem::builder().delete(clear_lockout).build(),
        ];
        self.use_token_with(token_hash, user, writes).await
    }
}

impl DynamoStore {
    /// The account a live token of `purpose` is for, while its email is still the one the
    /// token was mailed to.
    async fn token_account(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        at: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
        let Some(token) = self.find_mailed_token(token_hash, purpose, at).await? else { return Ok(None) };
        Ok(self.get_user(&token.user_id).await?.filter(|user| user.email == token.email))
    }

    /// Marks the item at `key` verified (and sets its password hash, if given), on `condition`.
    fn mark_verified(
        &self,
        key: Item,
        condition: &str,
        user_id: &str,
        password_hash: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(condition)
            .expression_attribute_names("#verified", EMAIL_VERIFIED)
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":id", s(user_id));
        let update = match password_hash {
            None => update.update_expression("SET #verified = :yes"),
            Some(hash) => update
                .update_expression("SET #verified = :yes, #hash = :hash")
                .expression_attribute_names("#hash", PASSWORD_HASH)
                .expression_attribute_values(":hash", s(hash)),
        };
        Ok(TransactWriteItem::builder().update(build(update.build())?).build())
    }

    /// Deletes the token in one transaction with `writes` to `user`: the account, now
    /// verified, or `None` when a racing use took the token or the account changed under it.
    async fn use_token_with(
        &self,
        token_hash: &str,
        mut user: User,
        writes: Vec<TransactWriteItem>,
    ) -> Result<Option<User>, StoreError> {
        let use_up = build(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(mailed_token_key(token_hash)))
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#pk", schema::PK)
                .build(),
        )?;
        let mut items = vec![TransactWriteItem::builder().delete(use_up).build()];
        items.extend(writes);
        let count = items.len();
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match result {
            Ok(_) => {
                user.email_verified = true;
                Ok(Some(user))
            }
            Err(err) if (0..count).any(|item| cancellation_reason(&err, item).is_some()) => Ok(None),
            Err(err) => Err(classify(err)),
        }
    }
}
