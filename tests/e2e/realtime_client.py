"""A realtime subscriber as a page is one: the AppSync Events WebSocket protocol, over the
`websockets` library, against local-api's endpoint (or AppSync's: the same messages)."""

from __future__ import annotations

import base64
import json
import uuid
from contextlib import ExitStack
from typing import Any

from websockets.sync.client import ClientConnection, connect

SUBPROTOCOL = "aws-appsync-event-ws"


def auth_subprotocol(auth: dict[str, str]) -> str:
    """The `header-<base64url JSON>` subprotocol that carries the connection's auth."""
    return "header-" + base64.urlsafe_b64encode(json.dumps(auth).encode()).decode().rstrip("=")


class Subscriber:
    """One connection: connected, acknowledged, subscribed to `channels` (one id each)."""

    def __init__(self, url: str, channels: list[str], auth: dict[str, str] | None = None, timeout: float = 5.0):
        self.auth = auth or {"host": "localhost"}
        self.timeout = timeout
        self.stack = ExitStack()
        self.socket: ClientConnection = self.stack.enter_context(
            connect(url, subprotocols=[SUBPROTOCOL, auth_subprotocol(self.auth)],  # type: ignore[list-item]
                    open_timeout=timeout))
        self.send({"type": "connection_init"})
        ack = self.receive()
        assert ack["type"] == "connection_ack" and ack["connectionTimeoutMs"] > 0, ack
        self.ids: dict[str, str] = {}
        for channel in channels:
            answer = self.subscribe(channel)
            assert answer["type"] == "subscribe_success", answer

    def send(self, message: dict[str, Any]) -> None:
        self.socket.send(json.dumps(message))

    def receive(self) -> dict[str, Any]:
        """The next message other than a keep-alive."""
        while True:
            message = json.loads(self.socket.recv(timeout=self.timeout))
            if message.get("type") != "ka":
                return message

    def subscribe(self, channel: str) -> dict[str, Any]:
        sub_id = uuid.uuid4().hex
        self.ids[sub_id] = channel
        self.send({"type": "subscribe", "id": sub_id, "channel": channel, "authorization": self.auth})
        return self.receive()

    def event(self) -> tuple[str, dict[str, Any]]:
        """The channel subscribed to and the event of the next `data` message."""
        message = self.receive()
        assert message["type"] == "data", message
        return self.ids[message["id"]], json.loads(message["event"])

    def close(self) -> None:
        self.stack.close()

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
