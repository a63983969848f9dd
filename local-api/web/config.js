// Where the API and the realtime endpoint are: `config.json` beside this page. local-api
// answers it from its own settings; a static deployment ships one made from the stack's
// outputs (docs/web-page.md).
export async function loadConfig() {
  const response = await fetch(new URL("config.json", import.meta.url), { cache: "no-cache" });
  if (!response.ok) throw new Error(`config.json could not be loaded (HTTP ${response.status}).`);
  const raw = await response.json();
  const page = new URL(document.baseURI);
  let realtime = null;
  if (raw.realtime_url) {
    const url = new URL(raw.realtime_url, page);
    url.protocol = url.protocol.replace(/^http/, "ws");
    const http = raw.realtime_http_endpoint ? new URL(raw.realtime_http_endpoint, page) : page;
    realtime = { url: url.href, host: http.host, apiKey: raw.realtime_key ?? null };
  }
  return {
    apiUrl: new URL(raw.api_url ?? "/", page).href.replace(/\/$/, ""),
    realtime,
    googleClientId: raw.google_client_id ?? null,
  };
}
