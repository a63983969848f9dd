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
            let token = NewMailedToken::generate(TokenPurpose::VerifyEmail, &user.id, &user.email, at)?;
            store.store_mailed_token(&token.stored).await?;
            mailer.send(&messages::verify_email(&user.email, &links.verify_email(&token.token))).await?;
            Ok(Delivery::Sent)
        }
        // Asked for by anyone, for any email: whether an account has it is decided here,
        // after the request was answered alike either way.
        MailRequest::ResetPassword { email } => {
            let account = store.login_state(email, &[], None).await?.credentials;
            let Some(credentials) = account else { return Ok(Delivery::NotNeeded("no account has this email")) };
            if credentials.password_hash.is_none() {
                return Ok(Delivery::NotNeeded("the account signs in with Google alone"));
            }
            let user = credentials.user;
            let token = NewMailedToken::generate(TokenPurpose::ResetPassword, &user.id, &user.email, at)?;
            store.store_mailed_token(&token.stored).await?;
            mailer.send(&messages::reset_password(&user.email, &links.reset_password(&token.token))).await?;
            Ok(Delivery::Sent)
        }
    }
}
