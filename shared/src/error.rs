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
    #[error("The post has changed since you read it (If-Match does not match its current ETag).")]
    PreconditionFailed,
    #[error("The email or password is incorrect.")]
    InvalidCredentials,
    #[error("The refresh token is invalid, expired or revoked; log in again.")]
    InvalidRefreshToken,
    #[error("The pagination cursor is invalid.")]
    InvalidCursor,
    #[error("Too many failed login attempts for this account; retry after {retry_after_seconds} seconds.")]
    TooManyAttempts { retry_after_seconds: u64 },
    #[error("No such resource.")]
    NotFound,
    #[error("This method is not allowed on this resource.")]
    MethodNotAllowed,
    #[error("The service is temporarily unavailable; retry shortly.")]
    ServiceUnavailable(#[source] StoreError),
    /// The detail is for the log; clients get a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// Every `code` a response can carry, for documentation and the tests that check it.
    pub const ALL_CODES: [&'static str; 17] = [
        "malformed_json",
        "validation_failed",
        "unsupported_media_type",
        "payload_too_large",
        "unauthorized",
        "forbidden",
        "email_taken",
        "idempotency_key_reused",
        "precondition_failed",
        "invalid_credentials",
        "invalid_refresh_token",
        "invalid_cursor",
        "too_many_attempts",
        "not_found",
        "method_not_allowed",
        "service_unavailable",
        "internal_error",
    ];

    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) | Self::InvalidCursor => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized | Self::InvalidCredentials | Self::InvalidRefreshToken => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::EmailTaken | Self::IdempotencyKeyReused => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::Validation(_) => "validation_failed",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::EmailTaken => "email_taken",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::PreconditionFailed => "precondition_failed",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::InvalidCursor => "invalid_cursor",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::ServiceUnavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

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
            StoreError::NotFound => Self::NotFound,
            StoreError::NotAuthor => Self::Forbidden,
            StoreError::VersionMismatch => Self::PreconditionFailed,
            StoreError::Unavailable(_) => Self::ServiceUnavailable(err),
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
    fn all_codes_lists_every_variant_once() {
        let one_of_each = [
            ApiError::MalformedJson(String::new()),
            ApiError::Validation(vec![]),
            ApiError::UnsupportedMediaType,
            ApiError::PayloadTooLarge { limit: 1 },
            ApiError::Unauthorized,
            ApiError::Forbidden,
            ApiError::EmailTaken,
            ApiError::IdempotencyKeyReused,
            ApiError::PreconditionFailed,
            ApiError::InvalidCredentials,
            ApiError::InvalidRefreshToken,
            ApiError::InvalidCursor,
            ApiError::TooManyAttempts { retry_after_seconds: 1 },
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
            ApiError::ServiceUnavailable(StoreError::EmailTaken),
            ApiError::Internal(String::new()),
        ];
        let codes: Vec<&str> = one_of_each.iter().map(ApiError::code).collect();
        assert_eq!(codes, ApiError::ALL_CODES);
        assert!(one_of_each.iter().all(|e| e.status().is_client_error() || e.status().is_server_error()));
    }
}
