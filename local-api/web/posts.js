// A listing of posts (the feed, or one author's page) that live events keep current, with
// writing, editing and deleting for the signed-in author.
import { request } from "./api.js";
import { announce, el, errorBox, field, formatDate, sendsWith, showError } from "./dom.js";
import * as session from "./session.js";

const PAGE_SIZE = 10;

// Events arrive at least once and maybe late: per post, only a newer state applies, and a
// deletion at version n is newer than the post at version n.
const rank = (post, deleted = false) => post.version * 2 + (deleted ? 1 : 0);
const etag = (post) => `"${post.version}"`;

export class PostList {
  constructor(container, authorId = null) {
    this.authorId = authorId;
    this.path = authorId ? `/users/${encodeURIComponent(authorId)}/posts` : "/posts";
    this.ranks = new Map(); // post id → rank of the newest state seen
    this.shown = new Map(); // post id → { post, article, editing }
    this.cursor = null;
    this.pages = 0;
    this.status = errorBox();
    this.list = el("div", { class: "posts" });
    this.empty = el("p", { class: "empty", hidden: true }, "No posts yet.");
    this.more = el("button", { type: "button", class: "more", hidden: true, onclick: () => this.loadMore() }, "Load more");
    container.append(this.status, this.empty, this.list, this.more);
  }

  // The first page, or the next one.
  async loadMore() {
    const query = new URLSearchParams({ limit: PAGE_SIZE });
    if (this.cursor) query.set("cursor", this.cursor);
    try {
      const page = await request("GET", `${this.path}?${query}`);
      page.posts.forEach((post) => this.upsert(post, true));
      this.cursor = page.next_cursor;
      this.pages += 1;
      this.status.hidden = true;
      this.refreshControls();
    } catch (error) {
      showError(this.status, error);
    }
  }

  // After (re)connecting: the first page again, since events sent meanwhile were missed.
  // Shown posts in its span that it no longer has were deleted.
  async relist() {
    if (this.pages === 0) return;
    try {
      const page = await request("GET", `${this.path}?limit=${PAGE_SIZE}`);
      const listed = new Set(page.posts.map((post) => post.id));
      const oldest = page.posts.at(-1)?.id ?? "";
      for (const [id, { post }] of this.shown) {
        if (!listed.has(id) && (page.next_cursor === null || id >= oldest)) this.remove(post, false);
      }
      page.posts.forEach((post) => this.upsert(post, true));
      if (this.pages === 1) this.cursor = page.next_cursor;
      this.status.hidden = true;
      this.refreshControls();
    } catch (error) {
      showError(this.status, error);
    }
  }

  // A realtime event: `post.created`, `post.updated` or `post.deleted`.
  apply({ type, post }) {
    if (this.authorId && post.author.id !== this.authorId) return;
    const deleted = type === "post.deleted";
    if ((this.ranks.get(post.id) ?? 0) >= rank(post, deleted)) return;
    if (deleted) {
      this.remove(post, true);
    } else if (this.upsert(post, type === "post.created")) {
      const verb = type === "post.created" ? "New post" : "Post edited";
      announce(`${verb} by ${post.author.display_name}: ${post.title}`);
    }
    this.refreshControls();
  }

  // Shows a post, or its newer state; false when nothing changed on screen.
  upsert(post, mayAdd) {
    if ((this.ranks.get(post.id) ?? 0) >= rank(post)) return false;
    this.ranks.set(post.id, rank(post));
    const item = this.shown.get(post.id);
    if (item) {
      item.post = post;
      if (!item.editing) item.article.replaceWith((item.article = this.render(post)));
      return true;
    }
    // Past the loaded pages, a post shows up when "load more" reaches it.
    const inLoadedSpan = this.cursor === null || post.id > this.oldestShownId();
    if (!mayAdd && !inLoadedSpan) return false;
    const article = this.render(post);
    this.shown.set(post.id, { post, article, editing: false });
    const next = [...this.list.children].find((child) => child.dataset.id < post.id);
    this.list.insertBefore(article, next ?? null);
    return true;
  }

  remove(post, announced) {
    this.ranks.set(post.id, Math.max(this.ranks.get(post.id) ?? 0, rank(post, true)));
    const item = this.shown.get(post.id);
    if (!item) return;
    item.article.remove();
    this.shown.delete(post.id);
    if (announced) announce(`Post deleted: ${item.post.title}`);
  }

  oldestShownId() {
    return this.list.lastElementChild?.dataset.id ?? "";
  }

  refreshControls() {
    this.more.hidden = this.cursor === null;
    this.empty.hidden = this.shown.size > 0 || this.cursor !== null;
  }

  render(post) {
    const mine = session.currentUser()?.id === post.author.id;
    const titleId = `title-${post.id}`;
    return el(
      "article",
      { class: "post", "data-id": post.id, "aria-labelledby": titleId },
      el("h2", { id: titleId }, post.title),
      el(
        "p",
        { class: "meta" },
        "by ",
        el("a", { href: `#/users/${post.author.id}` }, post.author.display_name),
        " · ",
        el("time", { datetime: post.created_at }, formatDate(post.created_at)),
        post.updated_at ? " · edited" : null,
      ),
      el("p", { class: "body" }, post.body),
      mine
        ? el(
            "div",
            { class: "actions" },
            el("button", { type: "button", onclick: () => this.edit(post.id) }, "Edit"),
            el("button", { type: "button", onclick: () => this.delete(post.id) }, "Delete"),
          )
        : null,
      errorBox(),
    );
  }

  // Editing sends the version it started from as If-Match: a 412 means the post changed
  // elsewhere meanwhile; the draft is kept and the next save replaces that version.
  edit(id) {
    const item = this.shown.get(id);
    let base = item.post;
    const problem = errorBox();
    const title = field("Title", { name: "title", required: true, maxlength: 200, value: base.title });
    const body = field("Body", { name: "body", required: true, multiline: true, rows: 6 });
    body.control.value = base.body;
    const save = el("button", { type: "submit" }, "Save");
    const close = () => {
      item.editing = false;
      const article = this.render(item.post);
      item.article.replaceWith(article);
      item.article = article;
      article.querySelector("button")?.focus();
    };
    const form = el(
      "form",
      { class: "post editing", "data-id": id, "aria-label": `Edit “${base.title}”` },
      title,
      body,
      problem,
      el("div", { class: "actions" }, save, el("button", { type: "button", onclick: close }, "Cancel")),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      save.disabled = true;
      try {
        const changes = { title: title.control.value, body: body.control.value };
        const { post } = await session.authed("PATCH", `/posts/${id}`, { body: changes, headers: { "if-match": etag(base) } });
        this.ranks.set(id, Math.max(this.ranks.get(id) ?? 0, rank(post)));
        item.post = post;
        close();
      } catch (error) {
        if (error.status === 412) {
          base = item.post = await latest(id, item.post);
          error.message = `This post was changed elsewhere (it is now at version ${base.version}). Your text is kept: save again to replace that version, or cancel.`;
        }
        showError(problem, error, save);
      } finally {
        save.disabled = false;
      }
    });
    item.editing = true;
    item.article.replaceWith(form);
    item.article = form;
    title.control.focus();
  }

  async delete(id) {
    const { post } = this.shown.get(id);
    if (!window.confirm(`Delete “${post.title}”?`)) return;
    try {
      await session.authed("DELETE", `/posts/${id}`, { headers: { "if-match": etag(post) } });
      this.remove(post, true);
    } catch (error) {
      if (error.status === 404) {
        this.remove(post, true);
      } else {
        if (error.status === 412) {
          this.upsert(await latest(id, post), false);
          error.message = "This post was changed elsewhere; it now shows the latest version. Delete again if you still mean to.";
        }
        showError(this.shown.get(id).article.querySelector(".error"), error);
      }
    }
    this.refreshControls();
  }
}

// The post as it is now (or as last known, if that cannot be read).
async function latest(id, known) {
  try {
    return (await request("GET", `/posts/${id}`)).post;
  } catch {
    return known;
  }
}

// The form for a new post. Its idempotency key lives as long as the draft, so a retried
// or double-clicked publish stores one post.
export function composer(onPublished) {
  const problem = errorBox();
  const title = field("Title", { name: "title", required: true, maxlength: 200 });
  const body = field("Body", { name: "body", required: true, multiline: true, rows: 5 });
  const publish = el("button", { type: "submit" }, "Publish");
  let key = crypto.randomUUID();
  const form = el("form", { class: "composer", "aria-labelledby": "composer-heading" },
    el("h2", { id: "composer-heading" }, "Write a post"), title, body, problem, publish);
  sendsWith(form, publish, problem, async (values) => {
    const { post } = await session.authed("POST", "/posts", { body: values, headers: { "idempotency-key": key } });
    form.reset();
    key = crypto.randomUUID();
    onPublished(post);
    announce(`Published: ${post.title}`);
  });
  return form;
}
