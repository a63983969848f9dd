//! Realtime over a real WebSocket, as a browser speaks it: the AppSync Events protocol on
//! local-api, fed by the embedded store's committed post changes.
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::{SinkExt, StreamExt};
use local_api::realtime::{BACKLOG, MAX_MESSAGES_PER_SECOND, Realtime, SUBPROTOCOL};
use serde_json::{Value, json};
use shared::model::{Author, Post, PostEdit, Precondition, now};
use shared::store::{EmbeddedStore, PostStore};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A realtime endpoint on a loopback port over a fresh in-memory store; the store (to
/// write posts through) and the endpoint's URL.
async fn serve(api_key: Option<&str>, backlog: usize) -> (EmbeddedStore, String) {
    let (changes, announced) = tokio::sync::broadcast::channel(backlog);
    let store = EmbeddedStore::in_memory().unwrap().announcing_changes(changes);
    let router = Realtime::start(announced, api_key.map(str::to_owned), backlog).router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/event/realtime", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (store, url)
}

async fn connect_with(url: &str, protocols: &str) -> Result<Socket, WsError> {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("sec-websocket-protocol", protocols.parse().unwrap());
    tokio_tungstenite::connect_async(request).await.map(|(socket, _)| socket)
}

fn auth_protocol(auth: &Value) -> String {
    format!("{SUBPROTOCOL}, header-{}", URL_SAFE_NO_PAD.encode(auth.to_string()))
}

/// Connected and acknowledged, as a client starts.
async fn connect(url: &str) -> Socket {
    let mut socket = connect_with(url, &auth_protocol(&json!({"host": "localhost"}))).await.unwrap();
    send(&mut socket, json!({"type": "connection_init"})).await;
    let ack = next(&mut socket).await;
    assert_eq!((ack["type"].as_str(), ack["connectionTimeoutMs"].as_u64()), (Some("connection_ack"), Some(300_000)));
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.unwrap();
}

/// The next JSON message, within a few seconds.
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("a message in time");
        match message.expect("the connection is open").expect("a frame") {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

async fn subscribe(socket: &mut Socket, id: &str, channel: &str) -> Value {
    send(socket, json!({"type": "subscribe", "id": id, "channel": channel, "authorization": {"host": "localhost"}}))
        .await;
    next(socket).await
}

fn post(author: &str, title: &str) -> Post {
    Post::new(title.into(), "Body.".into(), Author { id: author.into(), display_name: "Ada".into() }, now())
}

/// The (subscription id, event) of the next `count` data messages, sorted by id.
async fn deliveries(socket: &mut Socket, count: usize) -> Vec<(String, Value)> {
    let mut got = Vec::new();
    for _ in 0..count {
        let message = next(socket).await;
        assert_eq!(message["type"], "data", "{message}");
        let event: Value = serde_json::from_str(message["event"].as_str().unwrap()).unwrap();
        got.push((message["id"].as_str().unwrap().to_owned(), event));
    }
    got.sort_by(|a, b| a.0.cmp(&b.0));
    got
}

#[tokio::test]
async fn creates_edits_and_deletes_reach_the_feed_the_authors_channel_and_wildcards() {
    let (store, url) = serve(None, BACKLOG).await;
    let mut socket = connect(&url).await;
    for (id, channel) in [
        ("all", "/posts/*"),
        ("feed", "/posts/feed"),
        ("mine", "/posts/authors/01ADA"),
        ("theirs", "/posts/authors/01BOB"),
    ] {
        assert_eq!(subscribe(&mut socket, id, channel).await, json!({"type": "subscribe_success", "id": id}));
    }
    let written = post("01ADA", "Live");
    store.create_post(&written, None).await.unwrap();
    // One delivery per channel published on and subscription it reaches, as on AppSync.
    let created = deliveries(&mut socket, 4).await;
    assert_eq!(
        created.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        ["all", "all", "feed", "mine"],
        "not theirs"
    );
    assert_eq!(created[0].1, json!({"type": "post.created", "post": serde_json::to_value(&written).unwrap()}));

    let edit = PostEdit { title: Some("Live, edited".into()), body: None };
    store.update_post(&written.id, "01ADA", &edit, &Precondition::Any, now()).await.unwrap();
    let updated = deliveries(&mut socket, 4).await;
    assert_eq!(
        (updated[2].1["type"].as_str(), updated[2].1["post"]["version"].as_u64()),
        (Some("post.updated"), Some(2))
    );

    assert_eq!(
        subscribe_then_unsubscribe(&mut socket, "feed").await,
        json!({"type": "unsubscribe_success", "id": "feed"})
    );
    store.delete_post(&written.id, "01ADA", &Precondition::Any).await.unwrap();
    let deleted = deliveries(&mut socket, 3).await;
    assert_eq!(
        deleted.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        ["all", "all", "mine"],
        "feed unsubscribed"
    );
    assert_eq!(
        deleted[0].1["post"],
        json!({"id": written.id, "author": {"id": "01ADA", "display_name": "Ada"}, "version": 2})
    );
}

async fn subscribe_then_unsubscribe(socket: &mut Socket, id: &str) -> Value {
    send(socket, json!({"type": "unsubscribe", "id": id})).await;
    next(socket).await
}

#[tokio::test]
async fn bad_channels_ids_and_client_publishes_are_refused_on_an_open_connection() {
    let (_store, url) = serve(None, BACKLOG).await;
    let mut socket = connect(&url).await;
    for (id, channel) in [("a", "/default/feed"), ("b", "/posts/a/b/c/d/e"), ("c", "/posts/fe ed"), ("d", "/posts/*/x")]
    {
        let refused = subscribe(&mut socket, id, channel).await;
        assert_eq!(
            (refused["type"].as_str(), refused["id"].as_str()),
            (Some("subscribe_error"), Some(id)),
            "{channel}"
        );
        assert_eq!(refused["errors"][0]["errorType"], "SubscriptionProcessingError");
    }
    assert_eq!(subscribe(&mut socket, "bad id!", "/posts/feed").await["type"], "subscribe_error");
    assert_eq!(subscribe(&mut socket, "same", "/posts/feed").await["type"], "subscribe_success");
    assert_eq!(subscribe(&mut socket, "same", "/posts/feed").await["type"], "subscribe_error", "ids are unique");
    send(&mut socket, json!({"type": "publish", "id": "p", "channel": "/posts/feed", "events": ["{}"]})).await;
    let refused = next(&mut socket).await;
    assert_eq!((refused["type"].as_str(), refused["id"].as_str()), (Some("publish_error"), Some("p")));
    let unknown = subscribe_then_unsubscribe(&mut socket, "never").await;
    assert_eq!(
        (unknown["type"].as_str(), &unknown["errors"][0]["errorType"]),
        (Some("unsubscribe_error"), &json!("UnknownOperationError"))
    );
    socket.send(Message::text("not json")).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap();
    assert!(
        matches!(closed, Some(Ok(Message::Close(Some(ref frame)))) if frame.code == CloseCode::Protocol),
        "{closed:?}"
    );
    let mut other = connect(&url).await;
    assert_eq!(subscribe(&mut other, "x", "/posts/feed").await["type"], "subscribe_success", "the server lives on");
}

#[tokio::test]
async fn a_flooding_client_is_dropped_and_others_are_not() {
    let (_store, url) = serve(None, BACKLOG).await;
    let mut flood = connect(&url).await;
    let mut calm = connect(&url).await;
    for i in 0..=MAX_MESSAGES_PER_SECOND * 2 {
        if flood.send(Message::text(json!({"type": "unsubscribe", "id": format!("u{i}")}).to_string())).await.is_err() {
            break;
        }
    }
    let mut closed_for_policy = false;
    while let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(5), flood.next()).await {
        if let Message::Close(frame) = message {
            closed_for_policy = frame.is_some_and(|frame| frame.code == CloseCode::Policy);
            break;
        }
    }
    assert!(closed_for_policy, "the flooding connection is closed");
    assert_eq!(subscribe(&mut calm, "still", "/posts/feed").await["type"], "subscribe_success");
}

#[tokio::test]
async fn connections_need_the_subprotocol_and_the_api_key_when_one_is_set() {
    let (_store, url) = serve(Some("da2-local"), BACKLOG).await;
    assert!(connect_with(&url, "graphql-ws").await.is_err(), "not an AppSync Events client");
    assert!(connect_with(&url, &auth_protocol(&json!({"x-api-key": "wrong"}))).await.is_err());
    let auth = json!({"host": "localhost", "x-api-key": "da2-local"});
    let mut socket = connect_with(&url, &auth_protocol(&auth)).await.unwrap();
    send(
        &mut socket,
        json!({"type": "subscribe", "id": "k", "channel": "/posts/feed", "authorization": {"x-api-key": "wrong"}}),
    )
    .await;
    assert_eq!(next(&mut socket).await["type"], "subscribe_error");
    send(&mut socket, json!({"type": "subscribe", "id": "k", "channel": "/posts/feed", "authorization": auth})).await;
    assert_eq!(next(&mut socket).await["type"], "subscribe_success");
}

#[tokio::test]
async fn every_one_of_25_subscribers_receives_the_event() {
    let (store, url) = serve(None, BACKLOG).await;
    let mut sockets = Vec::new();
    for i in 0..25 {
        let mut socket = connect(&url).await;
        assert_eq!(subscribe(&mut socket, &format!("s{i}"), "/posts/feed").await["type"], "subscribe_success");
        sockets.push(socket);
    }
    store.create_post(&post("01ADA", "For everyone"), None).await.unwrap();
    for socket in &mut sockets {
        assert_eq!(deliveries(socket, 1).await[0].1["post"]["title"], "For everyone");
    }
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_slows_no_write_and_is_dropped() {
    let backlog = 8;
    let (store, url) = serve(None, backlog).await;
    let mut silent = connect(&url).await;
    assert_eq!(subscribe(&mut silent, "silent", "/posts/*").await["type"], "subscribe_success");
    // Enough large events to fill the socket's buffers and then the backlog.
    let body = "x".repeat(30 * 1024);
    for i in 0..300 {
        let mut large = post("01ADA", &format!("Post {i}"));
        large.body = body.clone();
        store.create_post(&large, None).await.unwrap();
    }
    let mut closed_as_too_slow = false;
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(5), silent.next()).await {
        match message {
            Ok(Message::Close(Some(frame))) => {
                closed_as_too_slow = frame.code == CloseCode::Again;
                break;
            }
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    assert!(closed_as_too_slow, "a lagging subscriber is told to reconnect");
    let mut fresh = connect(&url).await;
    assert_eq!(subscribe(&mut fresh, "back", "/posts/feed").await["type"], "subscribe_success");
    store.create_post(&post("01ADA", "After"), None).await.unwrap();
    assert_eq!(deliveries(&mut fresh, 1).await[0].1["post"]["title"], "After");
}
