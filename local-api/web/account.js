// Signing up, logging in (with a password or Google), the mailed links (verifying the
// email, resetting a forgotten password), and the account page: `GET /me`, the account's sessions, and changing the password.
import { request } from "./api.js";
import { el, errorBox, field, formatDate, sendsWith, showError, statusForm } from "./dom.js";
import * as session from "./session.js";

const FORMS = {
  login: {
    heading: "Log in",
    submit: "Log in",
    fields: [
      ["Email", { name: "email", type: "email", autocomplete: "username", required: true }],
      ["Password", { name: "password", type: "password", autocomplete: "current-password", required: true }],
    ],
    send: (values) => request("POST", "/login", { body: { ...values, device_token: session.deviceToken() } }),
    other: ["No account yet? ", "#/signup", "Sign up"],
    forgot: true,
  },
  signup: {
    heading: "Sign up",
    submit: "Create account",
    fields: [
      ["Display name", { name: "display_name", autocomplete: "nickname", required: true, maxlength: 50 }],
      ["Email", { name: "email", type: "email", autocomplete: "username", required: true }],
      ["Password (8 characters or more)", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }],
    ],
    send: (values) => request("POST", "/signup", { body: values }),
    other: ["Have an account? ", "#/login", "Log in"],
  },
};

export function authForm(kind, googleClientId) {
  const spec = FORMS[kind];
  const problem = errorBox();
  const submit = el("button", { type: "submit" }, spec.submit);
  const form = el("form", { class: "auth", "aria-labelledby": "form-heading" },
    ...spec.fields.map(([label, attributes]) => field(label, attributes)), problem, submit);
  const signIn = async (values) => {
    session.begin(await spec.send(values));
    location.hash = "#/";
  };
  sendsWith(form, submit, problem, signIn, { invalid_credentials: "Wrong email or password." });
  const [text, href, link] = spec.other;
  const google = googleClientId ? googleButton(googleClientId, problem, async (credential) => {
    session.begin(await request("POST", "/auth/google", { body: { credential } }));
    location.hash = "#/";
  }) : null;
  return el("section", { class: "panel" }, el("h1", { id: "form-heading", tabindex: -1 }, spec.heading), form,
    google, el("p", {}, text, el("a", { href }, link)),
    spec.forgot ? el("p", {}, el("a", { href: "#/forgot" }, "Forgot your password?")) : null);
}

// Google Identity Services, loaded from Google only when a client id is configured. Its
// button hands the page an ID token (`credential`), which our API verifies.
let googleReady = null;
let onGoogleCredential = () => {};
function loadGoogle(clientId) {
  googleReady ??= new Promise((resolve, reject) => {
    const script = el("script", { src: "https://accounts.google.com/gsi/client", async: true });
    script.addEventListener("load", () => {
      window.google.accounts.id.initialize({
        client_id: clientId,
        callback: ({ credential }) => onGoogleCredential(credential),
      });
      resolve(window.google.accounts.id);
    });
    script.addEventListener("error", () => reject(new Error("Google sign-in could not be loaded.")));
    document.head.append(script);
  });
  return googleReady;
}

function googleButton(clientId, problem, use) {
  const holder = el("div", { class: "google" });
  onGoogleCredential = (credential) => use(credential).catch((error) => showError(problem, error));
  loadGoogle(clientId)
    .then((id) => id.renderButton(holder, { type: "standard", theme: "outline", text: "continue_with" }))
    .catch((error) => holder.replaceChildren(el("p", {}, error.message)));
  return holder;
}

export async function accountPage(googleClientId) {
  const problem = errorBox();
  const section = el("section", { class: "panel" }, el("h1", { tabindex: -1 }, "Your account"), problem);
  try {
    const { user } = await session.authed("GET", "/me");
    const row = (term, ...value) => [el("dt", {}, term), el("dd", {}, ...value)];
    section.append(
      el("dl", {},
        row("Display name", user.display_name),
        row("Email", user.email, user.email_verified ? " (verified)" : " (not verified)"),
        row("Member since", formatDate(user.created_at)),
        row("Signs in with", user.sign_in_methods.join(", "))),
      el("p", {}, el("a", { href: `#/users/${user.id}` }, "Your posts")),
    );
    if (googleClientId && !user.sign_in_methods.includes("google")) {
      section.append(el("h2", {}, "Link a Google account"), googleButton(googleClientId, problem, async (credential) => {
        session.setUser((await session.authed("POST", "/me/identities/google", { body: { credential } })).user);
      }));
    }
    if (!user.email_verified) section.append(resendForm());
    section.append(await sessionsPanel());
    if (user.sign_in_methods.includes("password")) section.append(passwordForm());
    section.append(deleteAccountForm(user, googleClientId));
  } catch (error) {
    showError(problem, error);
  }
  return section;
}

// Where the account is signed in (`GET /me/sessions`): any session can be ended, or all.
async function sessionsPanel() {
  const problem = errorBox();
  const list = el("ul", { class: "sessions" });
  const panel = el("section", { "aria-labelledby": "sessions-heading" },
    el("h2", { id: "sessions-heading" }, "Where you are signed in"), problem, list,
    el("button", { type: "button", onclick: () => everywhere() }, "Log out everywhere"));
  const refresh = async () => {
    const { sessions } = await session.authed("GET", "/me/sessions");
    list.replaceChildren(...sessions.map((listed) => el("li", { "data-id": listed.id },
      el("span", {}, listed.user_agent ?? "An unnamed client"),
      el("span", { class: "meta" }, ` · since ${formatDate(listed.created_at)} · last used ${formatDate(listed.last_used_at)}`),
      listed.current
        ? el("strong", {}, " · this session")
        : el("button", { type: "button", onclick: () => end(listed.id) }, "End"))));
  };
  const end = async (id) => {
    try {
      await session.authed("DELETE", `/me/sessions/${id}`);
      await refresh();
    } catch (error) {
      showError(problem, error);
    }
  };
  const everywhere = async () => {
    try {
      await session.authed("POST", "/logout/all");
      await session.logout();
      location.hash = "#/";
    } catch (error) {
      showError(problem, error);
    }
  };
  await refresh();
  return panel;
}

// A new password, checked against the current one as a login is.
function passwordForm() {
  const fields = [
    el("h2", { id: "password-heading" }, "Change your password"),
    field("Current password", { name: "current_password", type: "password", autocomplete: "current-password", required: true }),
    field("New password (8 characters or more)", { name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }),
  ];
  const change = async (values, form) => {
    await session.authed("POST", "/me/password", { body: values });
    form.reset();
    return "Password changed. Every other session has ended.";
  };
  return statusForm("password-heading", "Change password", fields, change, { invalid_credentials: "The current password is wrong." });
}

// Until the email is verified: a new link, at most once a minute (the API's 429 counts down).
function resendForm() {
  const intro = [el("h2", { id: "verify-heading" }, "Verify your email"), el("p", {}, "We mailed you a link when you signed up. Lost it?")];
  return statusForm("verify-heading", "Send a new link", intro, async () => {
    await session.authed("POST", "/email/verify/resend");
    return "A new link is on its way: check your mail.";
  });
}

// The view a mailed link opens: `#/verify-email?token=…`. The token leaves the address bar
// (and the history) at once; the API uses it up.
export async function verifyEmailPage(token) {
  history.replaceState(null, "", "#/verify-email");
  const problem = errorBox();
  const section = el("section", { class: "panel" }, el("h1", { tabindex: -1 }, "Verify your email"), problem);
  try {
    const { user } = await request("POST", "/email/verify", { body: { token } });
    section.append(el("p", { role: "status" }, `${user.email} is verified. Thank you!`),
      el("p", {}, el("a", { href: "#/" }, "Go to the latest posts")));
  } catch (error) {
    if (error.code === "invalid_token") error.message = "This link has expired or was used already. Ask for a new one on your account page.";
    showError(problem, error);
  }
  return section;
}

// A forgotten password: the API answers alike for every email, and so does the page.
export function forgotPasswordPage() {
  const email = field("Email", { name: "email", type: "email", autocomplete: "username", required: true });
  const form = statusForm("forgot-heading", "Send me a link", [email], async (values) => {
    await request("POST", "/password/forgot", { body: values });
    return "If an account has this email, a link to choose a new password is on its way. It works for 30 minutes.";
  });
  return el("section", { class: "panel" }, el("h1", { id: "forgot-heading", tabindex: -1 }, "Forgot your password?"), form);
}

// The view a reset link opens: `#/reset-password?token=…`. The token leaves the address bar
// at once. A new password ends every session: one open in this browser signs out at its
// next refresh, as anywhere else.
export function resetPasswordPage(token) {
  history.replaceState(null, "", "#/reset-password");
  const problem = errorBox();
  const done = el("p", { role: "status" });
  const submit = el("button", { type: "submit" }, "Set the new password");
  const form = el("form", { "aria-labelledby": "reset-heading" },
    field("New password (8 characters or more)", { name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }),
    problem, done, submit);
  sendsWith(form, submit, problem, async (values) => {
    await request("POST", "/password/reset", { body: { token, new_password: values.new_password } });
    form.replaceChildren(el("p", { role: "status" }, "Your password is changed, and every session has ended."),
      el("p", {}, el("a", { href: "#/login" }, "Log in with the new password")));
  }, { invalid_token: "This link has expired or was used already. Ask for a new one." });
  return el("section", { class: "panel" }, el("h1", { id: "reset-heading", tabindex: -1 }, "Choose a new password"), form);
}

// Deleting the account, after proving again that it is yours: the password, or for an
// account without one, Google. Everything it owns goes with it.
function deleteAccountForm(user, googleClientId) {
  const problem = errorBox();
  const heading = el("h2", { id: "delete-heading" }, "Delete your account");
  const warning = el("p", {}, "Your posts, sessions and sign-in methods are deleted with it. This cannot be undone.");
  const remove = async (proof) => {
    if (!window.confirm("Delete your account and all your posts?")) return;
    await session.authed("DELETE", "/me", { body: proof });
    await session.logout().catch(() => {});
    location.hash = "#/";
  };
  if (!user.sign_in_methods.includes("password")) {
    const google = googleClientId
      ? googleButton(googleClientId, problem, (credential) => remove({ credential }))
      : el("p", {}, "Google sign-in is off on this server, so the account cannot be confirmed.");
    return el("section", { "aria-labelledby": "delete-heading" }, heading, warning, problem, google);
  }
  const submit = el("button", { type: "submit", class: "danger" }, "Delete my account");
  const form = el("form", { "aria-labelledby": "delete-heading" }, heading, warning,
    field("Your password", { name: "password", type: "password", autocomplete: "current-password", required: true }),
    problem, submit);
  sendsWith(form, submit, problem, remove, { invalid_credentials: "The password is wrong." });
  return form;
}
