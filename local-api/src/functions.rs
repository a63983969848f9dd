//! The Lambda functions local-api serves: the one list to extend when a function is added
//! (with its path dependency in Cargo.toml). Each is named by its binary, as
//! `BuildProperties.Binary` in `template.yaml`; a test checks that the template, this list
//! and `functions/` agree.
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::store::Store;

macro_rules! lambda_functions {
    ($($binary:literal => $krate:ident),+ $(,)?) => {
        /// Every function's binary name.
        pub const BINARIES: &[&str] = &[$($binary),+];

        /// Calls the handler of the function built as `binary` (one of [`BINARIES`]).
        pub async fn call<S: Store>(
            binary: &str,
            app: &App<S>,
            req: Request,
        ) -> Result<Response<Body>, ApiError> {
            match binary {
                $($binary => $krate::handle(app, req).await,)+
                _ => Err(ApiError::Internal(format!("no function is built as {binary:?}"))),
            }
        }
    };
}

lambda_functions! {
    "signup" => signup,
    "login" => login,
    "google-sign-in" => google_sign_in,
    "link-google-identity" => link_google_identity,
    "refresh-token" => refresh_token,
    "logout" => logout,
    "logout-all" => logout_all,
    "change-password" => change_password,
    "list-sessions" => list_sessions,
    "revoke-session" => revoke_session,
    "verify-email" => verify_email,
    "resend-verification" => resend_verification,
    "forgot-password" => forgot_password,
    "reset-password" => reset_password,
    "me" => me,
    "update-profile" => update_profile,
    "delete-account" => delete_account,
    "create-post" => create_post,
    "list-posts" => list_posts,
    "get-post" => get_post,
    "update-post" => update_post,
    "delete-post" => delete_post,
    "list-user-posts" => list_user_posts,
    "jwks" => jwks,
}
