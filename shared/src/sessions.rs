//! Sessions: what signup and login start and refresh continues. A session is an access
//! token plus a refresh token whose grant is stored; the answer must not be cached.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use crate::app::App;
use crate::auth::{AccessToken, NewDeviceToken, NewRefreshToken};
use crate::error::ApiError;
use crate::http::{json_response, no_store};
use crate::model::{Secret, SessionStart, SessionUser, User, new_id, now};
use crate::store::{NewSession, RefreshGrant, Store};

/// Starts a session for `user` (at login and a returning Google sign-in): a new token
/// family holding its first refresh token, listed with the client's `user_agent`, and an
/// access token. The device token is `trusted_device`, the one the login came with, or else
/// a new one the session's write stores. Answers with [`session_response`].
pub async fn start_session<S: Store>(
    app: &App<S>,
    user: &User,
    user_agent: Option<&str>,
    status: StatusCode,
    trusted_device: Option<Secret>,
) -> Result<Response<Body>, ApiError> {
    let opening = SessionOpening::new(app, user, user_agent, trusted_device).await?;
    app.store.start_session(opening.write()).await?;
    opening.respond(app, user, status).await
}

/// A session made but not yet stored: its write, for the store (on its own, or in the same
/// transaction as a new account), and the tokens to answer with once it is stored.
pub struct SessionOpening {
    write: NewSession,
    device_token: Secret,
    refresh: NewRefreshToken,
}

impl SessionOpening {
    /// A new session for `user`, as [`start_session`] describes, once its access token can
    /// be issued (see [`crate::auth::TokenService::ready_to_issue`]).
    pub async fn new<S: Store>(
        app: &App<S>,
        user: &User,
        user_agent: Option<&str>,
        trusted_device: Option<Secret>,
    ) -> Result<Self, ApiError> {
        app.tokens.ready_to_issue().await?;
        let at = now();
        let (device_token, new_device) = match trusted_device {
            Some(token) => (token, None),
            None => {
                let new = NewDeviceToken::generate(&user.id, at)?;
                (new.token, Some(new.device))
            }
        };
        let refresh = app.tokens.new_refresh_token(at)?;
        let session_user = SessionUser { user_id: user.id.clone(), display_name: user.display_name.clone() };
        let session_ends_at = app.tokens.session_ends_at(at);
        let first = RefreshGrant {
            hash: refresh.hash.clone(),
            family_id: new_id(at),
            user: session_user,
            expires_at: refresh.expires_at.min(session_ends_at),
            session_ends_at,
        };
        let write = NewSession { first, started: SessionStart::new(at, user_agent), new_device };
        Ok(Self { write, device_token, refresh })
    }

    /// What the store writes to start it.
    pub fn write(&self) -> &NewSession {
        &self.write
    }

    /// The answer once it is stored: its tokens, with a new access token.
    pub async fn respond<S: Store>(
        self,
        app: &App<S>,
        user: &User,
        status: StatusCode,
    ) -> Result<Response<Body>, ApiError> {
        let access = app.tokens.issue(&user.id, &user.display_name, &self.write.first.family_id).await?;
        let started = Some((user, &self.device_token));
        Ok(session_response(status, &access, &self.refresh, app.tokens.refresh_ttl_seconds(), started))
    }
}

/// The body signup, login and refresh answer with: a session `started` (signup and login)
/// also carries its `user` and `device_token`. Token responses must not be cached.
pub fn session_response(
    status: StatusCode,
    access: &AccessToken,
    refresh: &NewRefreshToken,
    refresh_expires_in: u64,
    started: Option<(&User, &Secret)>,
) -> Response<Body> {
    let mut body = json!({
        "access_token": access.token,
        "token_type": "Bearer",
        "expires_in": access.expires_in,
        "refresh_token": refresh.token.0,
        "refresh_expires_in": refresh_expires_in,
    });
    if let Some((user, device_token)) = started {
        body["user"] = json!(user);
        body["device_token"] = json!(device_token.0);
    }
    no_store(json_response(status, &body))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::auth::TokenService;
    use crate::store::{EmbeddedStore, SessionStore};
    use crate::testing::{dev_signing_keys, password_user, token_config};

    #[tokio::test]
    async fn no_session_is_stored_before_its_token_can_be_signed() {
        let (tokens, arrival) = TokenService::awaiting_signing_key(token_config()).unwrap();
        let app = App::new(EmbeddedStore::in_memory().unwrap(), tokens);
        let user = password_user("ada@example.com", "Ada", now());
        let session = start_session(&app, &user, Some("test"), StatusCode::OK, None);
        tokio::pin!(session);
        assert!(tokio::time::timeout(Duration::from_millis(50), &mut session).await.is_err(), "answered without a key");
        assert!(app.store.list_sessions(&user.id, now()).await.unwrap().is_empty(), "stored without a key");
        arrival.deliver(&dev_signing_keys()).unwrap();
        assert_eq!(session.await.unwrap().status(), StatusCode::OK);
        assert_eq!(app.store.list_sessions(&user.id, now()).await.unwrap().len(), 1);
    }
}
