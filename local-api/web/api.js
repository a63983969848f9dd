// One HTTP call to the API: JSON in, JSON out, and every failure an ApiError carrying
// the error envelope's code, message and details (docs/api.md).
let baseUrl = "";

export function useApi(url) {
  baseUrl = url;
}

export class ApiError extends Error {
  constructor(status, envelope, retryAfterSeconds = null) {
    super(envelope?.error?.message ?? `The server answered ${status}.`);
    this.status = status;
    this.code = envelope?.error?.code ?? "http_error";
    this.details = envelope?.error?.details ?? [];
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export async function request(method, path, { body, token, headers = {} } = {}) {
  const sent = { ...headers };
  if (body !== undefined) sent["content-type"] = "application/json";
  if (token) sent.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(baseUrl + path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      // Public answers may be cached a few seconds; the page always asks whether its copy
      // is current (a 304 when it is), so a re-list after a live change is never stale.
      cache: "no-cache",
    });
  } catch {
    throw new ApiError(0, { error: { code: "network", message: "The server cannot be reached. Check your connection and try again." } });
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const retryAfter = Number(response.headers.get("retry-after")) || null;
    throw new ApiError(response.status, json, retryAfter);
  }
  return json;
}
