"""The blog page (local-api/web/) in a real browser: Debian's Chromium, driven by Playwright.

Each person is an independent browser context (own storage, own WebSocket) on one
local-api. Every page is watched: a console error, an uncaught exception, a failed request
or an HTTP error the scenario did not expect fails the test, and axe-core (from npm,
tests/e2e/package.json) checks accessibility at the main states. Screenshots go to
target/screenshots/ (docs/web-page.md shows them).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.e2e.google import FakeGoogle, claims
from tests.e2e.support import ROOT, LocalApi, free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "tests" / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "target" / "screenshots"
# The shortest access-token lifetime the API allows: the session must outlive it.
TOKEN_TTL_SECONDS = 60
PASSWORD = "correct horse battery staple"
# Google's script, as the page loads it; the browser gets the stand-in below instead.
GSI_CLIENT = "https://accounts.google.com/gsi/client"
GSI_STAND_IN = """
window.google = { accounts: { id: {
  initialize(config) { window.gsiConfig = config; },
  renderButton(parent) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Continue with Google";
    button.addEventListener("click", () => window.gsiConfig.callback({ credential: %s }));
    parent.append(button);
  },
} } };
"""


class Watched:
    """A page with everything that goes wrong on it recorded."""

    FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")

    def __init__(self, page: Page):
        self.page = page
        self.problems: list[str] = []
        self.http_errors: list[tuple[int, str]] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("requestfailed", lambda request: self.problems.append(
            f"request failed: {request.method} {request.url} {request.failure}"))
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error" and not self.FAILED_LOAD.search(message.text):
            self.problems.append(f"console error: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.http_errors.append((response.status, response.request.method + " " + response.url.split("?")[0]))

    def check(self, expected_http_errors: set[tuple[int, str]] = frozenset()) -> None:
        """No problem at all, and exactly the HTTP errors the scenario caused on purpose
        (as (status, "METHOD path") pairs)."""
        assert self.problems == [], self.problems
        got = {(status, re.sub(r"^(\w+) https?://[^/]+", r"\1 ", what)) for status, what in self.http_errors}
        assert got == set(expected_http_errors), got


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture(scope="module")
def site(local_api_binary: Path, google: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    """One local-api for the module, on a data directory (so a test can restart it), with a
    one-minute access-token lifetime and Google sign-in against the stand-in."""
    data = tmp_path_factory.mktemp("site")
    env = {"TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS), **google.env()}
    with LocalApi(local_api_binary, ["--data-dir", str(data)], env=env) as api:
        yield api


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: tests/run-all.sh installs Debian's `chromium`, or set CHROMIUM")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            # Root in a container needs --no-sandbox; the rest keep Chromium off the network.
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


class Person:
    """One person's browser (an independent context) with their pages, all watched."""

    def __init__(self, browser: Browser, site: LocalApi, name: str, google_credential: str | None = None,
                 phone: bool = False, base_url: str | None = None):
        self.site = site
        self.base_url = base_url or f"http://127.0.0.1:{site.port}"
        self.name = name
        self.email = f"{name.lower()}-{time.time_ns()}@example.com"
        viewport = {"width": 390, "height": 844} if phone else {"width": 1000, "height": 900}
        self.context: BrowserContext = browser.new_context(viewport=viewport)
        self.context.route(GSI_CLIENT, lambda route: route.fulfill(
            content_type="text/javascript", body=GSI_STAND_IN % json.dumps(google_credential)))
        self.pages: list[Watched] = []
        self.page = self.open()

    def open(self, path: str = "/") -> Page:
        page = self.context.new_page()
        self.pages.append(Watched(page))
        page.goto(self.base_url + path)
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        return page

    def sign_up(self) -> None:
        page = self.page
        page.get_by_role("link", name="Sign up").click()
        page.get_by_label("Display name").fill(self.name)
        page.get_by_label("Email").fill(self.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.locator("#whoami")).to_have_text(f"Signed in as {self.name}")

    def log_in(self) -> None:
        page = self.page
        page.get_by_role("link", name="Log in").click()
        page.get_by_label("Email").fill(self.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#whoami")).to_have_text(f"Signed in as {self.name}")

    def publish(self, title: str, body: str) -> None:
        form = self.page.get_by_role("form", name="Write a post")
        form.get_by_label("Title").fill(title)
        form.get_by_label("Body").fill(body)
        form.get_by_role("button", name="Publish").click()
        expect(post(self.page, title)).to_be_visible()

    def check(self, expected_http_errors: set[tuple[int, str]] = frozenset()) -> None:
        for watched in self.pages:
            watched.check(expected_http_errors if watched.page is self.page else frozenset())

    def close(self) -> None:
        self.context.close()


def post(page: Page, title: str):
    return page.locator("article.post").filter(has=page.get_by_role("heading", name=title, exact=True))


def editing(page: Page):
    """The post being edited: its form."""
    return page.locator("form.editing")


def check_accessibility(page: Page, state: str) -> None:
    """axe-core's WCAG 2 A/AA rules: nothing serious or critical."""
    # evaluate() runs outside the page's CSP, which forbids injected scripts (rightly).
    page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice'] })")
    serious = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{state}: {serious}"


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def long_session(browser: Browser, site: LocalApi) -> Iterator[tuple[Person, float]]:
    """Someone who signs up before the other scenarios run, so that their access token has
    expired by the time test_a_session_outlives_its_access_token checks on them."""
    carol = Person(browser, site, "Carol")
    refreshes: list[int] = []
    carol.page.on("response", lambda r: refreshes.append(r.status) if r.url.endswith("/token/refresh") else None)
    carol.sign_up()
    carol.refreshes = refreshes
    yield carol, time.monotonic()
    carol.close()


def test_two_people_see_each_others_posts_live(browser: Browser, site: LocalApi, long_session) -> None:
    ada, bob = Person(browser, site, "Ada"), Person(browser, site, "Bob")
    ada.sign_up()
    bob.sign_up()
    title = "Hello from Ada <b>not bold</b>"
    ada.publish(title, "First words.\nSecond line.")
    screenshot(ada.page, "feed-signed-in")

    # Bob sees it arrive without reloading, as text (the markup in the title stays text).
    seen = post(bob.page, title)
    expect(seen).to_be_visible()
    assert seen.locator("b").count() == 0
    expect(seen.locator(".body")).to_have_text("First words.\nSecond line.")
    expect(bob.page.locator("#announcer")).to_contain_text(f"New post by Ada: {title}")
    # Not his post: no controls, and the API refuses him if he forces an edit.
    expect(seen.get_by_role("button", name="Edit")).to_have_count(0)
    expect(seen.get_by_role("button", name="Delete")).to_have_count(0)
    post_id = seen.get_attribute("data-id")
    forced = bob.page.evaluate("""async (id) => {
        const session = await import("./session.js");
        try { await session.authed("PATCH", `/posts/${id}`, { body: { title: "Bob was here" } }); return 200; }
        catch (error) { return error.status; }
    }""", post_id)
    assert forced == 403
    check_accessibility(bob.page, "feed with someone else's post")

    # Ada edits: Bob sees the edit.
    mine = post(ada.page, title)
    mine.get_by_role("button", name="Edit").click()
    editing(ada.page).get_by_label("Body").fill("Edited, live.")
    screenshot(ada.page, "editing")
    check_accessibility(ada.page, "editing a post")
    editing(ada.page).get_by_role("button", name="Save").click()
    expect(mine.locator(".body")).to_have_text("Edited, live.")
    expect(seen.locator(".body")).to_have_text("Edited, live.")
    expect(seen.locator(".meta")).to_contain_text("edited")
    screenshot(bob.page, "feed-live")

    # Ada deletes: it disappears for Bob.
    ada.page.once("dialog", lambda dialog: dialog.accept())
    mine.get_by_role("button", name="Delete").click()
    expect(mine).to_have_count(0)
    expect(seen).to_have_count(0)
    expect(bob.page.locator("#announcer")).to_contain_text(f"Post deleted: {title}")

    ada.check()
    bob.check({(403, f"PATCH /posts/{post_id}")})
    ada.close()
    bob.close()


def test_an_edit_made_elsewhere_is_a_conflict_not_an_overwrite(browser: Browser, site: LocalApi) -> None:
    dan = Person(browser, site, "Dan")
    dan.sign_up()
    dan.publish("Draft", "Version one.")
    other_tab = dan.open()
    # The first tab starts editing; the second saves an edit meanwhile.
    post(dan.page, "Draft").get_by_role("button", name="Edit").click()
    editing(dan.page).get_by_label("Body").fill("From the first tab.")
    in_other = post(other_tab, "Draft")
    in_other.get_by_role("button", name="Edit").click()
    editing(other_tab).get_by_label("Body").fill("From the second tab.")
    editing(other_tab).get_by_role("button", name="Save").click()
    expect(in_other.locator(".body")).to_have_text("From the second tab.")
    # The first tab's save is refused (412), its draft kept; saving again replaces the new version.
    editing(dan.page).get_by_role("button", name="Save").click()
    expect(editing(dan.page).get_by_role("alert")).to_contain_text("changed elsewhere")
    expect(editing(dan.page).get_by_label("Body")).to_have_value("From the first tab.")
    screenshot(dan.page, "edit-conflict")
    editing(dan.page).get_by_role("button", name="Save").click()
    expect(post(dan.page, "Draft").locator(".body")).to_have_text("From the first tab.")
    expect(in_other.locator(".body")).to_have_text("From the first tab.")
    post_id = post(dan.page, "Draft").get_attribute("data-id")
    dan.check({(412, f"PATCH /posts/{post_id}")})
    dan.close()


def test_wrong_password_and_too_many_attempts_are_explained(browser: Browser, site: LocalApi) -> None:
    eve = Person(browser, site, "Eve")
    eve.sign_up()
    eve.page.get_by_role("button", name="Log out").click()
    eve.page.get_by_role("link", name="Log in").click()
    # By keyboard alone: the new view's heading has the focus, the form follows it, and
    # the focused field shows it.
    expect(eve.page.get_by_role("heading", level=1)).to_be_focused()
    keyboard = eve.page.keyboard
    keyboard.press("Tab")
    expect(eve.page.get_by_label("Email")).to_be_focused()
    assert eve.page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    keyboard.type(eve.email)
    keyboard.press("Tab")
    keyboard.type("not my password")
    keyboard.press("Enter")
    submit = eve.page.get_by_role("button", name="Log in")
    expect(eve.page.get_by_role("alert")).to_have_text("Wrong email or password.")
    screenshot(eve.page, "login-error")
    check_accessibility(eve.page, "login form with an error")
    # Failures go on until a lockout (this browser is a trusted device, which has its own
    # limit): the page says how long, and waits.
    for _ in range(30):
        expect(submit).to_be_enabled()
        with eve.page.expect_response(lambda r: r.url.endswith("/login")) as answer:
            submit.click()
        if answer.value.status == 429:
            break
    expect(eve.page.get_by_role("alert")).to_contain_text(re.compile(r"Try again in \d+ s"))
    expect(submit).to_be_disabled()
    eve.check({(401, "POST /login"), (429, "POST /login")})
    eve.close()


def test_load_more_pages_through_the_feed(browser: Browser, site: LocalApi) -> None:
    status, _, session = site.request("POST", "/signup", {"email": f"fay-{time.time_ns()}@example.com",
                                                          "password": PASSWORD, "display_name": "Fay"})
    assert status == 201
    token = session["access_token"]
    for n in range(12):
        status, _, _ = site.request("POST", "/posts", {"title": f"Fay's post {n}", "body": "…"},
                                    {"authorization": f"Bearer {token}"})
        assert status == 201
    reader = Person(browser, site, "Reader", phone=True)
    articles = reader.page.locator("article.post")
    expect(articles).to_have_count(10)
    expect(articles.first.get_by_role("heading")).to_have_text("Fay's post 11")
    reader.page.get_by_role("button", name="Load more").click()
    expect(reader.page.locator("article.post", has_text="Fay's post 0")).to_be_visible()
    count = articles.count()
    assert count >= 12 and len(set(articles.evaluate_all("a => a.map(e => e.dataset.id)"))) == count
    # The author's page lists only hers.
    articles.filter(has_text="Fay's post 3").get_by_role("link", name="Fay").click()
    expect(reader.page.get_by_role("heading", level=1)).to_have_text("Posts by Fay")
    expect(reader.page.locator("article.post")).to_have_count(10)
    check_accessibility(reader.page, "author page")
    # Readable on a phone: nothing wider than the screen.
    assert reader.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(reader.page, "author-page-phone")
    reader.check()
    reader.close()


def test_without_a_client_id_there_is_no_google_button(browser: Browser, local_api_binary: Path) -> None:
    with LocalApi(local_api_binary, ["--memory"]) as plain:
        visitor = Person(browser, plain, "Visitor")
        visitor.page.get_by_role("link", name="Log in").click()
        expect(visitor.page.get_by_role("heading", level=1)).to_have_text("Log in")
        expect(visitor.page.get_by_role("button", name="Continue with Google")).to_have_count(0)
        expect(visitor.page.locator(".google")).to_have_count(0)
        visitor.check()
        visitor.close()


def test_google_sign_in_and_the_account_page(browser: Browser, site: LocalApi, google: FakeGoogle) -> None:
    email = f"gail-{time.time_ns()}@example.com"
    credential = google.keys.id_token(claims(f"1090{time.time_ns()}", email))
    gail = Person(browser, site, "Gail", google_credential=credential)
    gail.page.get_by_role("link", name="Log in").click()
    gail.page.get_by_role("button", name="Continue with Google").click()
    expect(gail.page.locator("#whoami")).to_contain_text("Signed in as")
    gail.page.get_by_role("link", name="Account").click()
    expect(gail.page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(gail.page.locator("dl")).to_contain_text(email)
    expect(gail.page.locator("dl")).to_contain_text("google")
    screenshot(gail.page, "account")
    check_accessibility(gail.page, "account page")
    gail.check()
    gail.close()


def test_the_account_page_ends_a_session_and_changes_the_password(browser: Browser, site: LocalApi) -> None:
    ivy = Person(browser, site, "Ivy")
    ivy.sign_up()
    laptop = Person(browser, site, "Ivy")  # another device of hers
    laptop.email = ivy.email
    laptop.log_in()
    ivy.page.get_by_role("link", name="Account").click()
    sessions = ivy.page.locator(".sessions li")
    expect(sessions).to_have_count(2)
    expect(sessions.filter(has_text="this session")).to_have_count(1)
    expect(sessions.first).to_contain_text("HeadlessChrome")  # the client's own User-Agent
    screenshot(ivy.page, "account-sessions")
    check_accessibility(ivy.page, "account page with sessions")
    # Ending the laptop's session signs it out there (at its next refresh: here, a reload).
    sessions.get_by_role("button", name="End").click()
    expect(sessions).to_have_count(1)
    laptop.page.reload()
    expect(laptop.page.get_by_role("link", name="Log in")).to_be_visible()
    # A new password: the current one is checked first.
    new_password = "another long passphrase"
    form = ivy.page.get_by_role("form", name="Change your password")
    form.get_by_label("Current password").fill("not my password at all")
    form.get_by_label("New password").fill(new_password)
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_role("alert")).to_have_text("The current password is wrong.")
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_label("New password").fill(new_password)
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_role("status")).to_have_text("Password changed. Every other session has ended.")
    assert site.request("POST", "/login", {"email": ivy.email, "password": new_password})[0] == 200
    expect(ivy.page.locator("#whoami")).to_have_text("Signed in as Ivy")
    ivy.check({(401, "POST /me/password")})
    laptop.check({(401, "POST /token/refresh")})
    ivy.close()
    laptop.close()


def test_a_mailed_link_verifies_the_email(browser: Browser, site: LocalApi) -> None:
    """Signup mails a link (local-api writes it to its mail folder); opening it verifies the
    email, takes the token out of the address bar, and works once; until then the account
    page offers a new link, at most once a minute."""
    uma = Person(browser, site, "Uma")
    uma.sign_up()
    uma.page.get_by_role("link", name="Account").click()
    expect(uma.page.locator("dd").filter(has_text=uma.email)).to_have_text(f"{uma.email} (not verified)")
    resend = uma.page.get_by_role("form", name="Verify your email")
    resend.get_by_role("button", name="Send a new link").click()
    expect(resend.get_by_role("alert")).to_contain_text("Try again in")  # signup's link went out just now
    expect(resend.get_by_role("button", name="Send a new link")).to_be_disabled()
    check_accessibility(uma.page, "account page, email not verified")

    link = site.mailed_link(uma.email)
    base = f"http://127.0.0.1:{site.port}"
    assert link.startswith(f"{base}/#/verify-email?token="), link
    opened = uma.open(link.removeprefix(base))
    expect(opened.locator("#main").get_by_role("status")).to_have_text(f"{uma.email} is verified. Thank you!")
    assert "token" not in opened.url, f"the token stays out of the address bar and history: {opened.url}"
    screenshot(opened, "email-verified")
    check_accessibility(opened, "email verified")
    uma.page.reload()
    expect(uma.page.locator("dd").filter(has_text=uma.email)).to_have_text(f"{uma.email} (verified)")
    expect(uma.page.get_by_role("form", name="Verify your email")).to_have_count(0)

    again = uma.open(link.removeprefix(base))
    expect(again.get_by_role("alert")).to_have_text(
        "This link has expired or was used already. Ask for a new one on your account page.")
    uma.pages[0].check({(429, "POST /email/verify/resend")})
    uma.pages[1].check()
    uma.pages[2].check({(400, "POST /email/verify")})
    uma.close()


def test_a_forgotten_password_is_reset_from_the_mailed_link(browser: Browser, site: LocalApi) -> None:
    """Forgot password: the page answers alike for any email; the mailed link opens the
    reset view (the token out of the address bar), the new password works, the old one
    and the used link do not."""
    vera = Person(browser, site, "Vera")
    vera.sign_up()
    vera.page.get_by_role("button", name="Log out").click()
    vera.page.get_by_role("link", name="Log in").click()
    vera.page.get_by_role("link", name="Forgot your password?").click()
    form = vera.page.get_by_role("form", name="Forgot your password?")
    form.get_by_label("Email").fill(vera.email)
    form.get_by_role("button", name="Send me a link").click()
    expect(form.get_by_role("status")).to_contain_text("If an account has this email, a link")
    check_accessibility(vera.page, "forgot password")

    link = site.mailed_link(vera.email, seen=1)  # after signup's verification message
    base = f"http://127.0.0.1:{site.port}"
    assert link.startswith(f"{base}/#/reset-password?token="), link
    opened = vera.open(link.removeprefix(base))
    assert "token" not in opened.url, opened.url
    reset = opened.get_by_role("form", name="Choose a new password")
    new_password = "a freshly reset passphrase"
    reset.get_by_label("New password").fill(new_password)
    reset.get_by_role("button", name="Set the new password").click()
    expect(reset.get_by_role("status")).to_have_text("Your password is changed, and every session has ended.")
    check_accessibility(opened, "password reset")
    screenshot(opened, "password-reset")
    assert site.request("POST", "/login", {"email": vera.email, "password": PASSWORD})[0] == 401
    assert site.request("POST", "/login", {"email": vera.email, "password": new_password})[0] == 200

    again = vera.open(link.removeprefix(base))
    retry = again.get_by_role("form", name="Choose a new password")
    retry.get_by_label("New password").fill("yet another passphrase")
    retry.get_by_role("button", name="Set the new password").click()
    expect(retry.get_by_role("alert")).to_have_text("This link has expired or was used already. Ask for a new one.")
    vera.pages[0].check()
    vera.pages[1].check()
    vera.pages[2].check({(400, "POST /password/reset")})
    vera.close()


def test_deleting_the_account_takes_its_posts_from_every_page(browser: Browser, site: LocalApi) -> None:
    """The account page deletes the account after its password (a wrong one shown as
    such) and a confirmation; the author is signed out, and a reader's feed loses their
    post live."""
    wes = Person(browser, site, "Wes")
    wes.sign_up()
    wes.publish("Leaving soon", "Written before deleting the account.")
    reader = Person(browser, site, "Xena")
    expect(post(reader.page, "Leaving soon")).to_be_visible()
    wes.page.once("dialog", lambda dialog: dialog.accept())
    wes.page.get_by_role("link", name="Account").click()
    form = wes.page.get_by_role("form", name="Delete your account")
    form.get_by_label("Your password").fill("not my password at all")
    form.get_by_role("button", name="Delete my account").click()
    expect(form.get_by_role("alert")).to_have_text("The password is wrong.")
    check_accessibility(wes.page, "account page with the delete form")
    wes.page.once("dialog", lambda dialog: dialog.accept())
    form.get_by_label("Your password").fill(PASSWORD)
    form.get_by_role("button", name="Delete my account").click()
    expect(wes.page.get_by_role("link", name="Log in")).to_be_visible()
    expect(post(reader.page, "Leaving soon")).to_have_count(0)  # live, without reload
    assert site.request("POST", "/login", {"email": wes.email, "password": PASSWORD})[0] == 401
    wes.check({(401, "DELETE /me")})
    reader.check()
    wes.close()
    reader.close()


def test_the_page_keeps_up_across_a_lost_connection(browser: Browser, site: LocalApi, local_api_binary: Path) -> None:
    """The server goes away; meanwhile a post is written and another deleted; when it is
    back the page reconnects and lists again, so it shows both changes."""
    status, _, session = site.request("POST", "/signup", {"email": f"hal-{time.time_ns()}@example.com",
                                                          "password": PASSWORD, "display_name": "Hal"})
    auth = {"authorization": f"Bearer {session['access_token']}"}
    _, _, doomed = site.request("POST", "/posts", {"title": "Soon gone", "body": "…"}, auth)
    watcher = Person(browser, site, "Watcher")
    expect(post(watcher.page, "Soon gone")).to_be_visible()
    site.stop()
    expect(watcher.page.locator("#live-status")).to_have_attribute("data-state", "offline")
    with LocalApi(local_api_binary, site.args, env=site.extra_env) as meanwhile:
        assert meanwhile.request("POST", "/posts", {"title": "Written while you were away", "body": "…"}, auth)[0] == 201
        assert meanwhile.request("DELETE", f"/posts/{doomed['post']['id']}", None, auth)[0] == 204
    site.restart()
    expect(watcher.page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=40_000)
    expect(post(watcher.page, "Written while you were away")).to_be_visible()
    expect(post(watcher.page, "Soon gone")).to_have_count(0)
    # While the server was down, the page's reconnect attempts failed: that is the scenario.
    watcher.pages[0].problems = [p for p in watcher.pages[0].problems if "WebSocket connection" not in p]
    watcher.check()
    watcher.close()


def test_a_session_outlives_its_access_token(site: LocalApi, long_session) -> None:
    carol, signed_up_at = long_session
    wait = signed_up_at + TOKEN_TTL_SECONDS + 5 - time.monotonic()
    if wait > 0:
        carol.page.wait_for_timeout(wait * 1000)  # not time.sleep: the page's events must flow
    # The first access token has expired; the page renewed it ahead of time.
    assert 200 in carol.refreshes, carol.refreshes
    carol.publish("Still here", "After the first access token expired.")
    # A reload starts from the stored refresh token alone.
    carol.page.reload()
    expect(carol.page.locator("#whoami")).to_have_text("Signed in as Carol")
    carol.check()


def test_logout_ends_the_session_in_every_tab(site: LocalApi, long_session) -> None:
    carol, _ = long_session
    second_tab = carol.open()
    expect(second_tab.locator("#whoami")).to_have_text("Signed in as Carol")
    stored = carol.page.evaluate("localStorage.getItem('blog.refresh_token')")
    carol.page.get_by_role("button", name="Log out").click()
    expect(carol.page.get_by_role("link", name="Log in")).to_be_visible()
    expect(second_tab.get_by_role("link", name="Log in")).to_be_visible()
    assert carol.page.evaluate("localStorage.getItem('blog.refresh_token')") is None
    # The refresh token the page held no longer works.
    status, _, body = site.request("POST", "/token/refresh", {"refresh_token": stored})
    assert (status, body["error"]["code"]) == (401, "invalid_refresh_token")
    carol.page.reload()
    expect(carol.page.get_by_role("link", name="Log in")).to_be_visible()
    screenshot(carol.page, "signed-out")
    check_accessibility(carol.page, "feed, signed out")
    carol.check()


def test_the_page_works_as_static_files_on_another_origin(browser: Browser, local_api_binary: Path,
                                                         tmp_path: Path) -> None:
    """Deployed as static files: the files of local-api/web/ and a config.json, served by
    another host (a plain static server here) than the API, which allows that origin."""
    static_port = free_port()
    origin = f"http://127.0.0.1:{static_port}"
    with LocalApi(local_api_binary, ["--memory", "--cors-origin", origin]) as api:
        site_dir = tmp_path / "site"
        shutil.copytree(ROOT / "local-api" / "web", site_dir)
        (site_dir / "config.json").write_text(json.dumps({
            "api_url": f"http://127.0.0.1:{api.port}/",
            "realtime_url": f"ws://127.0.0.1:{api.port}/event/realtime",
            "realtime_http_endpoint": f"http://127.0.0.1:{api.port}/event",
            "realtime_key": None,
            "google_client_id": "",
        }))
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site_dir))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", static_port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            writer = Person(browser, api, "Jo", base_url=origin)
            reader = Person(browser, api, "Kim", base_url=origin)
            writer.sign_up()
            writer.publish("From a static host", "The API is on another origin.")
            expect(post(reader.page, "From a static host")).to_be_visible()
            expect(writer.page.get_by_role("link", name="Log in")).to_have_count(0)
            writer.check()
            reader.check()
            writer.close()
            reader.close()
        finally:
            server.shutdown()
