// Building the page. User text only ever becomes a text node (`el`'s string children,
// `textContent`), never HTML: a post cannot inject markup or script.
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

// Screen readers hear live changes (new, edited, deleted posts) through one polite region.
export function announce(message) {
  document.getElementById("announcer").textContent = message;
}

// An API error shown where it happened: the message, each invalid field, and for 429
// the wait, counted down on the form's submit button.
export function showError(box, error, submit = null) {
  const lines = error.details.map((detail) => el("li", {}, `${detail.field}: ${detail.message}`));
  box.replaceChildren(el("p", {}, error.message));
  if (lines.length) box.append(el("ul", {}, lines));
  box.hidden = false;
  if (error.status === 429 && error.retryAfterSeconds && submit) {
    let left = error.retryAfterSeconds;
    const wait = el("p", { class: "wait" });
    box.append(wait);
    submit.disabled = true;
    const tick = () => {
      if (left <= 0) {
        clearInterval(timer);
        submit.disabled = false;
        wait.textContent = "You can try again now.";
        return;
      }
      wait.textContent = `Try again in ${left} s.`;
      left -= 1;
    };
    const timer = setInterval(tick, 1000);
    tick();
  }
}

// A form sent by script with its fields' values: its button disabled while the request is
// on its way, any error shown in `problem` (with `messages` saying some codes better), and
// a 429 keeping the button disabled for the wait.
export function sendsWith(form, submit, problem, send, messages = {}) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    submit.disabled = true;
    try {
      await send(Object.fromEntries(new FormData(form)));
    } catch (error) {
      error.message = messages[error.code] ?? error.message;
      showError(problem, error, submit);
    } finally {
      if (!problem.querySelector(".wait")) submit.disabled = false;
    }
  });
}

// A form whose sending ends in a sentence: `send(values, form)` resolves to what its status
// line then says (errors go to its alert, as `sendsWith` shows them).
export function statusForm(labelledBy, submitLabel, children, send, messages = {}) {
  const problem = errorBox();
  const done = el("p", { role: "status" });
  const submit = el("button", { type: "submit" }, submitLabel);
  const form = el("form", { "aria-labelledby": labelledBy }, ...children, problem, done, submit);
  sendsWith(form, submit, problem, async (values) => {
    done.textContent = "";
    done.textContent = await send(values, form);
  }, messages);
  return form;
}

export function errorBox() {
  return el("div", { class: "error", role: "alert", hidden: true });
}

// A labelled input (or textarea); the label's `control` is the field.
export function field(label, attributes) {
  const control = el(attributes.multiline ? "textarea" : "input", { ...attributes, multiline: null });
  return el("label", {}, el("span", {}, label), control);
}

export function formatDate(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
