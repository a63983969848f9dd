//! Delivering a stored mail request: look up what it needs now, make its single-use token,
//! send. Runs after the write that asked (the `send-mail` stream consumer on AWS, a worker
//! task on local-api), so it decides then whether there is still anything to send.
use time::OffsetDateTime;

use super::{Links, MailError, Mailer, messages};
use crate::auth::{NewMailedToken, RandomnessError, TokenPurpose};
use crate::model::MailRequest;
use crate::store::{Store, StoreError};

/// What delivering a request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Nothing needed sending any more, and why (for the log).
    NotNeeded(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Randomness(#[from] RandomnessError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// Delivers `request` at `at` through `mailer`, with links to `links`. An error leaves the
/// request to be tried again (a token stored before a failed send simply expires unused).
pub async fn deliver<S: Store, M: Mailer>(
    store: &S,
    mailer: &M,
    links: &Links,
    request: &MailRequest,
    at: OffsetDateTime,
) -> Result<Delivery, DeliveryError> {
    match request {
        MailRequest::VerifyEmail { user_id } => {
            let Some(user) = store.get_user(user_id).await? else { return Ok(Delivery::NotNeeded("no such account")) };
            if user.email_verified {
                return Ok(Delivery::NotNeeded("the email is verified already"));
            }
            let purpose = TokenPurpose::VerifyEmail;
            let token = NewMailedToken::generate(purpose, &user.id, &user.email, at)?;
            store.store_mailed_token(&token.stored).await?;
            let link = links.verify_email(&token.token);
            mailer.send(&messages::verify_email(&user.email, &link, purpose.lifetime().whole_hours())).await?;
            Ok(Delivery::Sent)
        }
    }
}
