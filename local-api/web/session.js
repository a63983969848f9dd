// The signed-in session. The refresh token (and the trusted-device token) live in
// localStorage, so a reload or a second tab stays signed in; the access token lives only
// in this tab's memory. localStorage is readable by any script on the page, which is why
// the page runs under a strict Content-Security-Policy and inserts no HTML, and why a
// stolen refresh token is single use, replay-detected and bounded by the session's end
// (docs/web-page.md states the trade-off).
import { ApiError, request } from "./api.js";

const REFRESH_TOKEN = "blog.refresh_token";
const DEVICE_TOKEN = "blog.device_token";
const REFRESH_LOCK = "blog.token-refresh";

let access = null; // { token, expiresAt }
let user = null;
let refreshTimer = 0;
let inflight = null;
export const changes = new EventTarget();

export const currentUser = () => user;
export const deviceToken = () => localStorage.getItem(DEVICE_TOKEN);

function changed() {
  changes.dispatchEvent(new Event("change"));
}

// A new session, from signup, login or Google sign-in.
export function begin(session) {
  localStorage.setItem(REFRESH_TOKEN, session.refresh_token);
  localStorage.setItem(DEVICE_TOKEN, session.device_token);
  keep(session);
  setUser(session.user);
}

export function setUser(next) {
  user = next;
  changed();
}

function keep(tokens) {
  access = { token: tokens.access_token, expiresAt: Date.now() + tokens.expires_in * 1000 };
  clearTimeout(refreshTimer);
  // Renew ahead of expiry, so a request never waits for a refresh.
  refreshTimer = setTimeout(() => refresh().catch(() => {}), tokens.expires_in * 750);
}

function forget() {
  localStorage.removeItem(REFRESH_TOKEN);
  access = null;
  clearTimeout(refreshTimer);
  setUser(null);
}

// New tokens for the refresh token. Refresh tokens are single use and two refreshes racing
// with one token end the session (docs/api.md), so one refresh runs at a time across all
// tabs (the Web Locks API) and reads the token inside the lock: a tab that waited uses the
// token the other tab just stored.
export function refresh() {
  inflight ??= navigator.locks
    .request(REFRESH_LOCK, async () => {
      const token = localStorage.getItem(REFRESH_TOKEN);
      if (token === null) throw new ApiError(401, { error: { code: "signed_out", message: "You are signed out." } });
      try {
        const tokens = await request("POST", "/token/refresh", { body: { refresh_token: token } });
        localStorage.setItem(REFRESH_TOKEN, tokens.refresh_token);
        keep(tokens);
        return tokens.access_token;
      } catch (error) {
        if (error.status === 401) forget();
        throw error;
      }
    })
    .finally(() => {
      inflight = null;
    });
  return inflight;
}

async function accessToken() {
  if (access && access.expiresAt - Date.now() > 10_000) return access.token;
  return refresh();
}

// An API call as the signed-in user; an access token the API refuses is renewed once.
export async function authed(method, path, options = {}) {
  const attempt = async () => request(method, path, { ...options, token: await accessToken() });
  try {
    return await attempt();
  } catch (error) {
    if (error.code !== "unauthorized") throw error;
    access = null;
    return attempt();
  }
}

// On page load: a stored session is resumed (new tokens, then the account).
export async function resume() {
  if (localStorage.getItem(REFRESH_TOKEN) === null) return;
  try {
    await refresh();
    setUser((await authed("GET", "/me")).user);
  } catch (error) {
    if (error.status !== 401) throw error;
  }
}

export async function logout() {
  await navigator.locks.request(REFRESH_LOCK, async () => {
    const token = localStorage.getItem(REFRESH_TOKEN);
    forget();
    if (token) await request("POST", "/logout", { body: { refresh_token: token } });
  });
}

// Another tab signed in or out.
window.addEventListener("storage", (event) => {
  if (event.key !== REFRESH_TOKEN) return;
  if (event.newValue === null && user) forget();
  else if (event.newValue !== null && !user) resume().catch(() => {});
});
