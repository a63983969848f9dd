// The page: loads config.json, resumes the session, routes `#/…` addresses to views, and
// feeds live events to the listing on screen.
import { loadConfig } from "./config.js";
import { useApi } from "./api.js";
import { accountPage, authForm, forgotPasswordPage, resetPasswordPage, verifyEmailPage } from "./account.js";
import { el, showError } from "./dom.js";
import { composer, PostList } from "./posts.js";
import { subscribe } from "./realtime.js";
import * as session from "./session.js";

const FEED_CHANNEL = "/posts/feed";
const LIVE_STATUS = { connecting: "Connecting to live updates…", live: "Live: new posts appear as they are written.", offline: "Live updates lost; reconnecting…" };

const main = document.getElementById("main");
let config;
let listing = null; // the PostList on screen, which live events update
let shown = 0; // which call of show() is current: a slower earlier one must not draw

async function show() {
  const call = ++shown;
  const [, view, id] = location.hash.match(/^#\/(\w+)?\/?([0-9A-Z]+)?/) ?? [];
  // A mailed link: `#/verify-email?token=…` or `#/reset-password?token=…`.
  const [, mailedView, query] = location.hash.match(/^#\/(verify-email|reset-password)\?(.*)$/) ?? [];
  const mailedToken = mailedView && new URLSearchParams(query).get("token");
  const user = session.currentUser();
  const page = document.createDocumentFragment();
  listing = null;
  if (mailedToken) {
    page.append(mailedView === "verify-email" ? await verifyEmailPage(mailedToken) : resetPasswordPage(mailedToken));
  } else if (view === "forgot") {
    page.append(forgotPasswordPage());
  } else if ((view === "login" || view === "signup" || view === "me") && !user) {
    page.append(authForm(view === "signup" ? "signup" : "login", config.googleClientId));
  } else if (view === "me") {
    page.append(await accountPage(config.googleClientId));
  } else if (view === "users" && id) {
    const heading = el("h1", { tabindex: -1 }, user?.id === id ? "Your posts" : "Posts by this author");
    page.append(heading);
    const list = (listing = new PostList(page, id));
    await list.loadMore();
    const first = list.shown.values().next().value;
    if (first && user?.id !== id) heading.textContent = `Posts by ${first.post.author.display_name}`;
  } else {
    page.append(el("h1", { tabindex: -1 }, "Latest posts"));
    if (user) page.append(composer((post) => listing?.upsert(post, true)));
    listing = new PostList(page);
    await listing.loadMore();
  }
  if (call === shown) main.replaceChildren(page);
}

function updateNav() {
  const user = session.currentUser();
  for (const part of document.querySelectorAll("[data-when]")) part.hidden = (part.dataset.when === "signed-in") !== Boolean(user);
  document.getElementById("whoami").textContent = user ? `Signed in as ${user.display_name}` : "";
  document.getElementById("my-posts").href = user ? `#/users/${user.id}` : "#/";
}

async function start() {
  config = await loadConfig();
  useApi(config.apiUrl);
  document.getElementById("logout").addEventListener("click", async () => {
    // The tokens are forgotten here whatever happens; an unreachable server only misses the revocation.
    await session.logout().catch(() => {});
    location.hash = "#/";
  });
  await session.resume();
  updateNav();
  // Signing in or out changes the navigation, the composer and who may edit what.
  session.changes.addEventListener("change", () => {
    updateNav();
    show();
  });
  window.addEventListener("hashchange", async () => {
    await show();
    main.querySelector("h1")?.focus();
  });
  const status = document.getElementById("live-status");
  if (config.realtime) {
    subscribe(config.realtime, FEED_CHANNEL, {
      onEvent: (event) => listing?.apply(event),
      onStatus: (state) => {
        status.textContent = LIVE_STATUS[state];
        status.dataset.state = state;
      },
      onLive: () => listing?.relist(),
    });
  } else {
    status.textContent = "Live updates are off on this server.";
  }
  await show();
}

start().catch((error) => {
  const box = el("div", { class: "error", role: "alert" });
  main.replaceChildren(box);
  showError(box, { message: error.message, details: [] });
});
