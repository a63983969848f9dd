//! Sessions: what signup and login start and refresh continues. A session is an access
//! token plus a refresh token whose grant is stored; the answer must not be cached.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use crate::app::App;
use crate::auth::{AccessToken, NewRefreshToken};
use crate::error::ApiError;
use crate::http::{json_response, no_store};
use crate::model::{SessionUser, User, new_id, now};
use crate::store::{RefreshGrant, Store};

/// Starts a session for `user` (at signup and login): a new token family holding its first
/// refresh token, and an access token. Answers with [`session_response`].
pub async fn start_session<S: Store>(
    app: &App<S>,
    user: &User,
    status: StatusCode,
) -> Result<Response<Body>, ApiError> {
    let at = now();
    let refresh = app.tokens.new_refresh_token(at)?;
    let session_user = SessionUser { user_id: user.id.clone(), display_name: user.display_name.clone() };
    let session_ends_at = app.tokens.session_ends_at(at);
    let grant = RefreshGrant {
        hash: refresh.hash.clone(),
        family_id: new_id(at),
        user: session_user,
        expires_at: refresh.expires_at.min(session_ends_at),
        session_ends_at,
    };
    app.store.start_session(&grant).await?;
    let access = app.tokens.issue(&user.id, &user.display_name)?;
    Ok(session_response(status, Some(user), &access, &refresh, app.tokens.refresh_ttl_seconds()))
}

/// The body signup, login and refresh answer with (refresh has no `user`). Token responses
/// must not be cached.
pub fn session_response(
    status: StatusCode,
    user: Option<&User>,
    access: &AccessToken,
    refresh: &NewRefreshToken,
    refresh_expires_in: u64,
) -> Response<Body> {
    let mut body = json!({
        "access_token": access.token,
        "token_type": "Bearer",
        "expires_in": access.expires_in,
        "refresh_token": refresh.token.0,
        "refresh_expires_in": refresh_expires_in,
    });
    if let Some(user) = user {
        body["user"] = json!(user);
    }
    no_store(json_response(status, &body))
}
