//! `PATCH /me`: change the signed-in account's display name. Posts written from then on
//! carry the new name; posts already written keep the name they were published under
//! (docs/api.md).
use lambda_http::{Body, Request, Response};
use shared::app::App;
use shared::error::ApiError;
use shared::http::{authenticate, parse_json_body, user_response};
use shared::model::ProfileChange;
use shared::store::Store;

pub async fn handle<S: Store>(app: &App<S>, req: Request) -> Result<Response<Body>, ApiError> {
    let claims = authenticate(app, &req)?;
    let display_name = parse_json_body::<ProfileChange>(&req)?.validate()?;
    let user = app.store.rename_user(&claims.sub, &display_name).await?.ok_or(ApiError::NotFound)?;
    Ok(user_response(&user))
}
