//! The API's one client-facing error type and the JSON error envelope it renders to.
//!
//! Every handler returns `Result<Response, ApiError>`; [`crate::http::respond`] turns the
//! error into a response exactly once, in `shared::lambda::run` and in local-api, so no
//! handler ever returns `Err` to the Lambda runtime (API Gateway would answer 502).
use lambda_http::http::StatusCode;
use serde::Serialize;

use crate::model::{FieldError, Invalid};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("The request body is not valid JSON of the expected shape: {0}")]
    MalformedJson(String),
    #[error("One or more fields are invalid.")]
    Validation(Vec<FieldError>),
    #[error("The request body must be JSON (Content-Type: application/json).")]
    UnsupportedMediaType,
    #[error("The request body is larger than {limit} bytes.")]
    PayloadTooLarge { limit: usize },
    #[error("A valid bearer token is required.")]
    Unauthorized,
    #[error("You may only change your own posts.")]
    Forbidden,
    #[error("An account with this email already exists.")]
    EmailTaken,
    #[error("This Idempotency-Key created a post that has since been deleted; send a new key.")]
    IdempotencyKeyReused,
    #[error("This Idempotency-Key was used with a different request; send a new key.")]
    IdempotencyKeyMismatch,
    #[error("The post has changed since you read it (If-Match does not match its current ETag).")]
    PreconditionFailed,
    /// A wrong email or password, or a Google credential that is not a valid ID token for us.
    #[error("The credentials are not valid.")]
    InvalidCredentials,
    /// Google's unverified email at sign-in, or ours where posting requires a verified one.
    #[error(
        "This email address is not verified (for our own, follow the link mailed at signup or ask for a new one with POST /email/verify/resend)."
    )]
    EmailNotVerified,
    #[error("This account's email is verified already.")]
    EmailAlreadyVerified,
    #[error("The token is invalid, expired or already used; ask for a new one.")]
    InvalidToken,
    #[error(
        "An account with this email already exists: sign in to it, then link Google with POST /me/identities/google."
    )]
    AccountExists,
    #[error("This Google account is linked to another account.")]
    IdentityTaken,
    #[error("Google sign-in is not enabled on this deployment (its GoogleClientIds parameter is empty).")]
    GoogleSignInDisabled,
    #[error("The refresh token is invalid, expired or revoked; log in again.")]
    InvalidRefreshToken,
    #[error("The pagination cursor is invalid.")]
    InvalidCursor,
    #[error("Too many failed login attempts for this account; retry after {retry_after_seconds} seconds.")]
    TooManyAttempts { retry_after_seconds: u64 },
    #[error("Too many requests of this kind; retry after {retry_after_seconds} seconds.")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("No such resource.")]
    NotFound,
    #[error("This method is not allowed on this resource.")]
    MethodNotAllowed,
    #[error("The service is temporarily unavailable; retry shortly.")]
    ServiceUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The detail is for the log; clients get a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The one table of every variant's `code` and status: [`ApiError::code`],
/// [`ApiError::status`] and [`ApiError::ALL_CODES`] are all made from it.
macro_rules! codes_and_statuses {
    ($($variant:pat => $code:literal, $status:ident;)+) => {
        impl ApiError {
            /// Every `code` a response can carry, for documentation and the tests that check it.
            pub const ALL_CODES: &[&str] = &[$($code),+];

            pub fn code(&self) -> &'static str {
                match self {
                    $($variant => $code,)+
                }
            }

            pub fn status(&self) -> StatusCode {
                match self {
                    $($variant => StatusCode::$status,)+
                }
            }
        }
    };
}

codes_and_statuses! {
    Self::MalformedJson(_) => "malformed_json", BAD_REQUEST;
    Self::Validation(_) => "validation_failed", UNPROCESSABLE_ENTITY;
    Self::UnsupportedMediaType => "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE;
    Self::PayloadTooLarge { .. } => "payload_too_large", PAYLOAD_TOO_LARGE;
    Self::Unauthorized => "unauthorized", UNAUTHORIZED;
    Self::Forbidden => "forbidden", FORBIDDEN;
    Self::EmailTaken => "email_taken", CONFLICT;
    Self::IdempotencyKeyReused => "idempotency_key_reused", CONFLICT;
    Self::IdempotencyKeyMismatch => "idempotency_key_mismatch", UNPROCESSABLE_ENTITY;
    Self::PreconditionFailed => "precondition_failed", PRECONDITION_FAILED;
    Self::InvalidCredentials => "invalid_credentials", UNAUTHORIZED;
    Self::EmailNotVerified => "email_not_verified", FORBIDDEN;
    Self::EmailAlreadyVerified => "email_already_verified", CONFLICT;
    Self::InvalidToken => "invalid_token", BAD_REQUEST;
    Self::AccountExists => "account_exists", CONFLICT;
    Self::IdentityTaken => "identity_taken", CONFLICT;
    Self::GoogleSignInDisabled => "google_sign_in_disabled", NOT_FOUND;
    Self::InvalidRefreshToken => "invalid_refresh_token", UNAUTHORIZED;
    Self::InvalidCursor => "invalid_cursor", BAD_REQUEST;
    Self::TooManyAttempts { .. } => "too_many_attempts", TOO_MANY_REQUESTS;
    Self::TooManyRequests { .. } => "too_many_requests", TOO_MANY_REQUESTS;
    Self::NotFound => "not_found", NOT_FOUND;
    Self::MethodNotAllowed => "method_not_allowed", METHOD_NOT_ALLOWED;
    Self::ServiceUnavailable(_) => "service_unavailable", SERVICE_UNAVAILABLE;
    Self::Internal(_) => "internal_error", INTERNAL_SERVER_ERROR;
}

impl ApiError {
    /// The message a client sees. Server-side causes (store errors, internal detail)
    /// stay in the logs.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "An internal error occurred.".to_owned(),
            other => other.to_string(),
        }
    }

    pub fn envelope(&self) -> ErrorEnvelope<'_> {
        ErrorEnvelope {
            error: ErrorBody {
                code: self.code(),
                message: self.public_message(),
                details: match self {
                    Self::Validation(details) => Some(details),
                    _ => None,
                },
            },
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(Invalid(details): Invalid) -> Self {
        Self::Validation(details)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::EmailTaken => Self::EmailTaken,
            StoreError::IdentityTaken => Self::IdentityTaken,
            StoreError::NotFound => Self::NotFound,
            StoreError::NotAuthor => Self::Forbidden,
            StoreError::VersionMismatch => Self::PreconditionFailed,
            StoreError::Unavailable(_) => Self::ServiceUnavailable(Box::new(err)),
            StoreError::Corrupt(detail) => Self::Internal(format!("corrupt item: {detail}")),
        }
    }
}

/// `{"error": {"code", "message", "details"?}}`
#[derive(Debug, Serialize)]
pub struct ErrorEnvelope<'a> {
    pub error: ErrorBody<'a>,
}

#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<&'a [FieldError]>,
}

impl From<crate::google::GoogleError> for ApiError {
    fn from(err: crate::google::GoogleError) -> Self {
        use crate::google::GoogleError;
        match err {
            GoogleError::NotConfigured => Self::GoogleSignInDisabled,
            // Why is for the log alone: a client learns only that the credential failed.
            GoogleError::Rejected(reason) => {
                tracing::info!(reason, "Google credential refused");
                Self::InvalidCredentials
            }
            GoogleError::KeysUnavailable(_) => Self::ServiceUnavailable(Box::new(err)),
        }
    }
}

impl From<crate::auth::PasswordError> for ApiError {
    fn from(err: crate::auth::PasswordError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<crate::auth::RandomnessError> for ApiError {
    fn from(err: crate::auth::RandomnessError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<crate::auth::TokenError> for ApiError {
    fn from(err: crate::auth::TokenError) -> Self {
        Self::Internal(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_snake_case_and_every_status_is_an_error() {
        let unique: std::collections::BTreeSet<&str> = ApiError::ALL_CODES.iter().copied().collect();
        assert_eq!(unique.len(), ApiError::ALL_CODES.len(), "a code is listed twice");
        assert!(ApiError::ALL_CODES.iter().all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        let samples = [
            ApiError::Validation(vec![]),
            ApiError::TooManyAttempts { retry_after_seconds: 1 },
            ApiError::ServiceUnavailable(Box::new(StoreError::NotFound)),
            ApiError::Internal(String::new()),
        ];
        for err in samples {
            assert!(err.status().is_client_error() || err.status().is_server_error(), "{err:?}");
            assert!(ApiError::ALL_CODES.contains(&err.code()));
        }
    }
}
