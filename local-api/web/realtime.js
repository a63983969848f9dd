// Live post changes over the AppSync Events WebSocket protocol (docs/realtime.md): one
// client for AppSync on AWS and for local-api. A lost connection is retried with growing,
// jittered delays; every (re)subscription calls `onLive`, whose caller lists again, since
// events sent while disconnected are not replayed.
const SUBPROTOCOL = "aws-appsync-event-ws";
const MAX_DELAY_MS = 30_000;

const base64url = (text) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export function subscribe({ url, host, apiKey }, channel, { onEvent, onStatus, onLive }) {
  const authorization = apiKey ? { host, "x-api-key": apiKey } : { host };
  const header = `header-${base64url(JSON.stringify(authorization))}`;
  let failures = 0;
  let socket = null;
  let silenceTimer = 0;

  const connect = () => {
    onStatus("connecting");
    socket = new WebSocket(url, [SUBPROTOCOL, header]);
    let timeoutMs = 300_000;
    // No message (not even a keep-alive) for the server's stated timeout: the link is dead.
    const watch = () => {
      clearTimeout(silenceTimer);
      silenceTimer = setTimeout(() => socket.close(), timeoutMs);
    };
    socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init" }));
    socket.onmessage = ({ data }) => {
      const message = JSON.parse(data);
      watch();
      if (message.type === "connection_ack") {
        timeoutMs = message.connectionTimeoutMs ?? timeoutMs;
        socket.send(JSON.stringify({ type: "subscribe", id: crypto.randomUUID(), channel, authorization }));
      } else if (message.type === "subscribe_success") {
        failures = 0;
        onStatus("live");
        onLive();
      } else if (message.type === "data") {
        onEvent(JSON.parse(message.event));
      } else if (message.type === "subscribe_error" || message.type === "error") {
        socket.close();
      }
    };
    socket.onclose = () => {
      clearTimeout(silenceTimer);
      onStatus("offline");
      const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** failures) * (0.5 + Math.random() / 2);
      failures += 1;
      setTimeout(connect, delay);
    };
  };
  connect();
}
