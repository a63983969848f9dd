//! `POST /posts`: publish a post as the signed-in user.
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{authenticate, idempotency_key, parse_json_body, post_response};
use shared::model::{Author, CreatePostRequest, Post, now};
use shared::store::{PostCreation, Store};

/// Marks an answer that repeats an earlier one for the same idempotency key.
const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    let key = idempotency_key(&req)?;
    let new_post = parse_json_body::<CreatePostRequest>(&req)?.validate()?;
    // The author's name as it is now (`PATCH /me` may have changed it since the token was
    // issued), read at the same time as the body is checked.
    let user = app.store.get_user(&claims.sub).await?.ok_or(ApiError::NotFound)?;
    if app.accounts.require_verified_email && !user.email_verified {
        return Err(ApiError::EmailNotVerified);
    }
    let author = Author { id: user.id, display_name: user.display_name };
    let post = Post::new(new_post.title, new_post.body, author, now());
    // A repeated key answers as the first request did, with the original post.
    let (post, replayed) = match app.store.create_post(&post, key.as_deref()).await? {
        PostCreation::Created => (post, false),
        PostCreation::Replayed(original) => (original, true),
        PostCreation::OriginalDeleted => return Err(ApiError::IdempotencyKeyReused),
        PostCreation::KeyMismatch => return Err(ApiError::IdempotencyKeyMismatch),
    };
    let mut response = post_response(StatusCode::CREATED, &post);
    if replayed {
        response.headers_mut().insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    let location = HeaderValue::try_from(format!("/posts/{}", post.id))
        .map_err(|e| ApiError::Internal(format!("location header: {e}")))?;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}
