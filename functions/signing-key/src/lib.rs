//! The `Custom::SigningKeys` resource of `template.yaml`: CloudFormation calls it at deploy
//! to make the Ed25519 JWK Set that signs access tokens, so no key is ever in the
//! repository or typed by hand.
//!
//! - Create: a set of one new key, written to the secret `SecretId` names.
//! - Update: when `Rotation` changed, a new key goes first (it signs from then on) and the
//!   previous one stays (it verifies the tokens it signed until they expire); otherwise the
//!   set is kept as it is. A secret with no key yet (a new `SecretId`) gets its first set.
//! - Delete: nothing (the secret is the stack's own resource and goes with it).
//!
//! Every answer carries `PublicJwks`, the public half of the set, for the functions that
//! verify tokens. Whatever happens, CloudFormation gets an answer (a failure is `FAILED`
//! with its reason), or it would wait an hour for one.
use std::collections::HashMap;

use aws_lambda_events::cloudformation::{
    CloudFormationCustomResourceRequest, CloudFormationCustomResourceResponse,
    CloudFormationCustomResourceResponseStatus,
};
use aws_sdk_secretsmanager::Client;
use http_body_util::Full;
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use shared::auth::signing_keys::{KeySetError, PrivateJwk, PrivateJwkSet};
use shared::model::{new_id, now};

/// How many keys before the newest a rotation keeps: the previous one, whose tokens are
/// all expired within the longest access-token lifetime.
const KEYS_KEPT_AFTER_ROTATION: usize = 1;

/// The resource's properties in `template.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Properties {
    /// The secret that holds the private JWK Set.
    pub secret_id: String,
    /// Any text; changing it rotates the key.
    #[serde(default)]
    pub rotation: String,
}

pub type Request = CloudFormationCustomResourceRequest<Properties, Properties>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Secrets Manager: {0}")]
    Secrets(String),
    #[error("the secret holds no usable key set: {0}")]
    KeySet(#[from] KeySetError),
    #[error("no randomness: {0}")]
    Randomness(#[from] shared::auth::RandomnessError),
    #[error("answering CloudFormation: {0}")]
    Answer(String),
}

/// Sends CloudFormation its answer: a `PUT` of the response to the request's presigned URL.
pub struct Responder {
    client: shared::https::HttpsClient,
}

impl Responder {
    pub fn new() -> Result<Self, std::io::Error> {
        // The presigned URL is HTTPS on AWS; tests answer a local plain-HTTP listener.
        Ok(Self { client: shared::https::client()? })
    }

    pub async fn send(&self, url: &str, response: &CloudFormationCustomResourceResponse) -> Result<(), Error> {
        let body = serde_json::to_vec(response).map_err(|e| Error::Answer(e.to_string()))?;
        // The presigned URL is signed for an empty content type.
        let request = hyper::Request::put(url)
            .header(hyper::header::CONTENT_TYPE, "")
            .header(hyper::header::CONTENT_LENGTH, body.len())
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| Error::Answer(e.to_string()))?;
        let answer = self.client.request(request).await.map_err(|e| Error::Answer(e.to_string()))?;
        if !answer.status().is_success() {
            return Err(Error::Answer(format!("the response URL answered {}", answer.status())));
        }
        Ok(())
    }
}

/// Answers one request from CloudFormation.
pub async fn handle(secrets: &Client, responder: &Responder, request: Request) -> Result<(), lambda_runtime::Error> {
    let (url, response) = answer(secrets, request).await;
    responder.send(&url, &response).await.inspect_err(|e| tracing::error!("{e}"))?;
    Ok(())
}

/// The response to `request`, and where it goes. Never fails: a failure is the response.
pub async fn answer(secrets: &Client, request: Request) -> (String, CloudFormationCustomResourceResponse) {
    let mut response = CloudFormationCustomResourceResponse::default();
    let (url, outcome) = match request {
        Request::Create(create) => {
            response.stack_id = create.stack_id;
            response.request_id = create.request_id;
            response.logical_resource_id = create.logical_resource_id;
            response.physical_resource_id = create.resource_properties.secret_id.clone();
            (create.response_url, create_set(secrets, &create.resource_properties).await)
        }
        Request::Update(update) => {
            response.stack_id = update.stack_id;
            response.request_id = update.request_id;
            response.logical_resource_id = update.logical_resource_id;
            response.physical_resource_id = update.resource_properties.secret_id.clone();
            let rotate = update.resource_properties.rotation != update.old_resource_properties.rotation;
            (update.response_url, update_set(secrets, &update.resource_properties, rotate).await)
        }
        Request::Delete(delete) => {
            response.stack_id = delete.stack_id;
            response.request_id = delete.request_id;
            response.logical_resource_id = delete.logical_resource_id;
            response.physical_resource_id = delete.physical_resource_id;
            (delete.response_url, Ok(None))
        }
        // The enum is non-exhaustive; CloudFormation sends no other kind, and without a
        // response URL there is no one to answer.
        _ => (String::new(), Err(Error::Answer("a request of an unknown type".into()))),
    };
    match outcome {
        Ok(set) => {
            response.status = CloudFormationCustomResourceResponseStatus::Success;
            if let Some(set) = set {
                let public = serde_json::to_string(&set.public()).unwrap_or_default();
                response.data = HashMap::from([("PublicJwks".to_owned(), public)]);
            }
        }
        Err(err) => {
            tracing::error!("{err}");
            response.status = CloudFormationCustomResourceResponseStatus::Failed;
            response.reason = Some(err.to_string());
        }
    }
    (url, response)
}

async fn create_set(secrets: &Client, properties: &Properties) -> Result<Option<PrivateJwkSet>, Error> {
    let set = PrivateJwkSet { keys: vec![PrivateJwk::generate(&new_id(now()))?] };
    store(secrets, &properties.secret_id, &set).await?;
    Ok(Some(set))
}

async fn update_set(secrets: &Client, properties: &Properties, rotate: bool) -> Result<Option<PrivateJwkSet>, Error> {
    let current = secrets
        .get_secret_value()
        .secret_id(&properties.secret_id)
        .send()
        .await
        .map_err(|e| Error::Secrets(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string()))?;
    let current = match PrivateJwkSet::from_json(current.secret_string().unwrap_or_default()) {
        Ok(current) => current,
        // A secret still holding the template's placeholder (the resource now names a new
        // secret): it gets its first set, as at Create.
        Err(KeySetError::Empty) => return create_set(secrets, properties).await,
        Err(err) => return Err(err.into()),
    };
    if !rotate {
        return Ok(Some(current));
    }
    let rotated = current.rotated(&new_id(now()), KEYS_KEPT_AFTER_ROTATION)?;
    store(secrets, &properties.secret_id, &rotated).await?;
    Ok(Some(rotated))
}

async fn store(secrets: &Client, secret_id: &str, set: &PrivateJwkSet) -> Result<(), Error> {
    let json = serde_json::to_string(set).map_err(|e| Error::Secrets(e.to_string()))?;
    secrets
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(json)
        .send()
        .await
        .map_err(|e| Error::Secrets(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string()))?;
    Ok(())
}
