//! Realtime on local-api: the AppSync Events WebSocket protocol at `/event/realtime`
//! (docs/realtime.md), fed by the embedded store's committed post changes through the same
//! event code the Lambda publisher uses, so one browser client works here and on AWS.
//!
//! A subscriber never slows a write or another subscriber: changes are broadcast into a
//! bounded buffer, and a connection that falls behind it is closed (the client reconnects
//! and lists again). A malformed frame closes its own connection only.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};
use shared::realtime::{ChannelPattern, PostChange};
use tokio::sync::broadcast;

pub const PATH: &str = "/event/realtime";
/// The subprotocol every AppSync Events client offers.
pub const SUBPROTOCOL: &str = "aws-appsync-event-ws";
/// How long a client may go without hearing from us before it should reconnect; `ka`
/// messages come well within it.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(300);
pub const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(60);
/// Changes a connection may fall behind by before it is dropped (local-api's setting).
pub const BACKLOG: usize = 1024;
/// Subscriptions one connection may hold.
pub const MAX_SUBSCRIPTIONS: usize = 100;
/// No client message is anywhere near this large.
const MAX_FRAME_BYTES: usize = 64 * 1024;
/// A client sending more messages than this within a second is flooding: it is dropped.
pub const MAX_MESSAGES_PER_SECOND: u32 = 100;
/// Close code for a client too slow for the stream of events (RFC 6455: try again later).
const CLOSE_TRY_AGAIN_LATER: u16 = 1013;
/// Close code for a frame that breaks the protocol.
const CLOSE_PROTOCOL_ERROR: u16 = 1002;
/// Close code for a client that breaks the endpoint's limits (RFC 6455: policy violation).
const CLOSE_POLICY_VIOLATION: u16 = 1008;

/// One change as it goes out: its channels and its event's JSON.
#[derive(Debug)]
struct Published {
    channels: [String; 2],
    json: String,
}

/// The realtime endpoint's shared state: the changes, and the API key, if any is required.
#[derive(Clone)]
pub struct Realtime {
    events: broadcast::Sender<Arc<Published>>,
    api_key: Option<String>,
}

impl Realtime {
    /// Announces every change `changes` receives; subscribing needs `api_key` when given; a
    /// connection more than `backlog` events behind is dropped.
    pub fn start(mut changes: broadcast::Receiver<PostChange>, api_key: Option<String>, backlog: usize) -> Self {
        let (events, _) = broadcast::channel(backlog);
        let sender = events.clone();
        tokio::spawn(async move {
            loop {
                match changes.recv().await {
                    Ok(change) => {
                        let Some(event) = change.event() else { continue };
                        match event.to_json() {
                            Ok(json) => {
                                let _nobody_subscribed =
                                    sender.send(Arc::new(Published { channels: event.channels(), json }));
                            }
                            Err(err) => tracing::error!(error = %err, "post event not serialisable"),
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "realtime fell behind the store; some changes were not announced");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Self { events, api_key }
    }

    pub fn router(self) -> Router {
        Router::new().route(PATH, axum::routing::get(upgrade)).with_state(self)
    }
}

/// The auth headers a client packs into its `header-<base64url JSON>` subprotocol.
fn connection_auth(headers: &HeaderMap) -> (bool, Option<Value>) {
    let offered: Vec<&str> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let speaks_appsync = offered.contains(&SUBPROTOCOL);
    let auth = offered
        .iter()
        .find_map(|p| p.strip_prefix("header-"))
        .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded.trim_end_matches('=')).ok())
        .and_then(|json| serde_json::from_slice(&json).ok());
    (speaks_appsync, auth)
}

fn api_key_of(authorization: Option<&Value>) -> Option<&str> {
    authorization?.get("x-api-key")?.as_str()
}

async fn upgrade(State(realtime): State<Realtime>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let (speaks_appsync, auth) = connection_auth(&headers);
    if !speaks_appsync {
        return (StatusCode::BAD_REQUEST, format!("offer the {SUBPROTOCOL} subprotocol")).into_response();
    }
    if realtime.api_key.is_some() && api_key_of(auth.as_ref()) != realtime.api_key.as_deref() {
        return (StatusCode::UNAUTHORIZED, "a valid x-api-key is required").into_response();
    }
    ws.protocols([SUBPROTOCOL])
        .max_message_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| Connection::new(realtime).serve(socket))
}

/// A client message: only the fields some message type uses.
#[derive(Deserialize)]
struct ClientMessage {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    channel: Option<String>,
    authorization: Option<Value>,
}

/// Why a connection ends early.
enum Close {
    Protocol(&'static str),
    Flood,
    TooSlow,
}

struct Connection {
    realtime: Realtime,
    subscriptions: HashMap<String, ChannelPattern>,
    /// The start of the current one-second window, and the messages received in it.
    window: (tokio::time::Instant, u32),
}

fn valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_+".contains(&b))
}

fn errors(error_type: &str, message: impl Into<String>) -> Value {
    json!([{ "errorType": error_type, "message": message.into() }])
}

impl Connection {
    fn new(realtime: Realtime) -> Self {
        Self { realtime, subscriptions: HashMap::new(), window: (tokio::time::Instant::now(), 0) }
    }

    async fn serve(mut self, mut socket: WebSocket) {
        let mut events = self.realtime.events.subscribe();
        let mut keep_alive = tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE_EVERY, KEEP_ALIVE_EVERY);
        let close = loop {
            let outgoing: Vec<Value> = tokio::select! {
                message = socket.recv() => match message {
                    Some(Ok(Message::Text(_))) if self.flooding() => break Some(Close::Flood),
                    Some(Ok(Message::Text(text))) => match self.answer(&text) {
                        Ok(answer) => answer.into_iter().collect(),
                        Err(close) => break Some(close),
                    },
                    Some(Ok(Message::Binary(_))) => break Some(Close::Protocol("binary frames are not part of the protocol")),
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => break None,
                },
                event = events.recv() => match event {
                    Ok(event) => self.deliveries(&event),
                    Err(broadcast::error::RecvError::Lagged(_)) => break Some(Close::TooSlow),
                    Err(broadcast::error::RecvError::Closed) => break None,
                },
                _ = keep_alive.tick() => vec![json!({"type": "ka"})],
            };
            for message in outgoing {
                if socket.send(Message::Text(Utf8Bytes::from(message.to_string()))).await.is_err() {
                    return;
                }
            }
        };
        if let Some(close) = close {
            let (code, reason) = match close {
                Close::Protocol(reason) => (CLOSE_PROTOCOL_ERROR, reason),
                Close::Flood => (CLOSE_POLICY_VIOLATION, "too many messages"),
                Close::TooSlow => (CLOSE_TRY_AGAIN_LATER, "fell behind the events: reconnect and list again"),
            };
            let frame = CloseFrame { code, reason: Utf8Bytes::from(reason) };
            let _already_gone = socket.send(Message::Close(Some(frame))).await;
        }
    }

    /// Counts one more message; whether the connection has sent too many this second.
    fn flooding(&mut self) -> bool {
        let now = tokio::time::Instant::now();
        if now.duration_since(self.window.0) >= Duration::from_secs(1) {
            self.window = (now, 0);
        }
        self.window.1 += 1;
        self.window.1 > MAX_MESSAGES_PER_SECOND
    }

    /// The `data` messages `event` makes: one per channel it is published on and
    /// subscription that channel reaches, as AppSync delivers its separate publishes (so
    /// `/posts/*` hears a change twice: on the feed and on the author's channel).
    fn deliveries(&self, event: &Published) -> Vec<Value> {
        event
            .channels
            .iter()
            .flat_map(|channel| self.subscriptions.iter().filter(|(_, pattern)| pattern.matches(channel)))
            .map(|(id, _)| json!({"type": "data", "id": id, "event": event.json}))
            .collect()
    }

    /// The answer to one client message, if it has one; `Err` closes the connection.
    fn answer(&mut self, text: &str) -> Result<Option<Value>, Close> {
        let message: ClientMessage =
            serde_json::from_str(text).map_err(|_| Close::Protocol("a message is a JSON object with a type"))?;
        let id = message.id.clone().unwrap_or_default();
        Ok(Some(match message.kind.as_str() {
            "connection_init" => {
                json!({"type": "connection_ack", "connectionTimeoutMs": CONNECTION_TIMEOUT.as_millis() as u64})
            }
            "subscribe" => match self.subscribe(&message) {
                Ok(()) => json!({"type": "subscribe_success", "id": id}),
                Err(reason) => json!({"type": "subscribe_error", "id": id,
                    "errors": errors("SubscriptionProcessingError", reason)}),
            },
            "unsubscribe" => match self.subscriptions.remove(&id) {
                Some(_) => json!({"type": "unsubscribe_success", "id": id}),
                None => json!({"type": "unsubscribe_error", "id": id,
                    "errors": errors("UnknownOperationError", format!("Unknown operation id {id}"))}),
            },
            "publish" => json!({"type": "publish_error", "id": id,
                "errors": errors("UnauthorizedException", "only the server publishes on these channels")}),
            _ => return Err(Close::Protocol("unknown message type")),
        }))
    }

    fn subscribe(&mut self, message: &ClientMessage) -> Result<(), String> {
        let id = message.id.as_deref().filter(|id| valid_id(id)).ok_or("an id of 1 to 128 letters, digits, - _ +")?;
        if self.realtime.api_key.is_some()
            && api_key_of(message.authorization.as_ref()) != self.realtime.api_key.as_deref()
        {
            return Err("a valid x-api-key is required".to_owned());
        }
        if self.subscriptions.contains_key(id) {
            return Err(format!("subscription {id} exists already"));
        }
        if self.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            return Err(format!("at most {MAX_SUBSCRIPTIONS} subscriptions per connection"));
        }
        let channel = message.channel.as_deref().ok_or("a channel is required")?;
        let pattern = ChannelPattern::parse(channel).map_err(|e| e.to_string())?;
        self.subscriptions.insert(id.to_owned(), pattern);
        Ok(())
    }
}
