//! `POST /signup`: create an account and start a session.
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::auth::hash_password;
use shared::error::ApiError;
use shared::http::{parse_json_body, user_agent};
use shared::model::{Credentials, SignInMethod, SignupRequest, User, new_id, now};
use shared::sessions::SessionOpening;
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let account = parse_json_body::<SignupRequest>(&req)?.validate()?;
    let password_hash = hash_password(account.password).await?;
    let created_at = now();
    let user = User {
        id: new_id(created_at),
        email: account.email,
        display_name: account.display_name,
        created_at,
        sign_in_methods: [SignInMethod::Password].into(),
        email_verified: false,
    };
    // The account, its verification mail's request and its first session: one write.
    let session = SessionOpening::new(app, &user, user_agent(&req), None).await?;
    let credentials = Credentials { user, password_hash: Some(password_hash) };
    app.store.create_user(&credentials, Some(session.write())).await?;
    session.respond(app, &credentials.user, StatusCode::CREATED).await
}
