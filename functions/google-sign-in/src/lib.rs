//! `POST /auth/google`: sign in with a Google ID token; the first time, make the account.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{parse_json_body, user_agent};
use shared::model::{GoogleCredentialRequest, Identity, SignInMethod, User, google_profile, new_id, now};
use shared::sessions::{SessionOpening, start_session};
use shared::store::{Store, StoreError};

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    if !app.google.enabled() {
        return Err(ApiError::GoogleSignInDisabled);
    }
    let credential = parse_json_body::<GoogleCredentialRequest>(&req)?.validate()?;
    let google = app.google.verify(&credential.0).await?;
    // The account is Google's `sub`, never the email: an email can change hands.
    let identity = Identity::google(google.sub);
    if let Some(user) = app.store.user_by_identity(&identity).await? {
        return start_session(app, &user, user_agent(&req), StatusCode::OK, None).await;
    }

    // A new account takes the email only when Google vouches for it, and never one that
    // is another account's: its owner links Google from inside that account instead.
    let email = google.email.filter(|_| google.email_verified).ok_or(ApiError::EmailNotVerified)?;
    let (email, display_name) = google_profile(&email, google.name.as_deref())?;
    let created_at = now();
    let user = User {
        id: new_id(created_at),
        email,
        display_name,
        created_at,
        sign_in_methods: [SignInMethod::Google].into(),
        // Only an email Google has verified makes an account.
        email_verified: true,
    };
    // The account, its identity and its first session: one write.
    let session = SessionOpening::new(app, &user, user_agent(&req), None).await?;
    match app.store.create_user_with_identity(&user, &identity, Some(session.write())).await {
        Ok(()) => session.respond(app, &user, StatusCode::CREATED).await,
        // A racing first sign-in of the same person made the account: sign in to it.
        Err(StoreError::IdentityTaken) => {
            let user =
                app.store.user_by_identity(&identity).await?.ok_or_else(|| {
                    ApiError::Internal("an identity taken by a racing sign-in has no account".to_owned())
                })?;
            start_session(app, &user, user_agent(&req), StatusCode::OK, None).await
        }
        Err(StoreError::EmailTaken) => Err(ApiError::AccountExists),
        Err(err) => Err(err.into()),
    }
}
