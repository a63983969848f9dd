"""HTTP-level scenarios against the local-api binary, each on a local-api of its own.

- every event in events/expected.json, sent as plain HTTP, gets the status it gets
  through the Lambda functions (test_lambda_events.py): one API, two ways to run it;
- a full flow with paging, unknown routes (404), wrong methods (405), CORS, and bodies
  that are too large or not UTF-8;
- a post's whole life and a session's, on the embedded store and on DynamoDB;
- login lockout per client address (the TCP peer, never X-Forwarded-For), and a trusted
  device getting in from a locked-out address;
- persistence: sign up and post, stop (SIGTERM, then separately SIGKILL right after the
  201), start again on the same data dir: login works, the post is listed, and tokens
  issued before the restart still verify;
- 20 concurrent signups with one email: exactly one 201;
- email verification: signup's message as an .eml file in the data directory (read with
  Python's email parser), its link logged, the token working once, posting refused until
  then where the deployment requires it, a new link at most once a minute; a password
  reset (the same answer for an unknown email, which gets no message; the new password
  set once, every session ended); deleting an account with its password (its posts gone
  from every listing at once, its sessions ended, its email free again), on both stores;
- Google sign-in (tests/e2e/google.py) on both stores, against a local stand-in for
  Google: every rule of the ID token, account creation, linking, racing first sign-ins,
  unreachable keys (503) and Google sign-in turned off (404);
- the README's curl walkthrough, run as written (only the port changed);
- Schemathesis, with all its checks, against the OpenAPI document local-api serves
  (`openapi.yaml`), bounded in time: no 5xx, every status, header and body as specified;
- `local-api create-table`, then the flow on DynamoDB;
- realtime: pages subscribed over WebSockets (the AppSync Events protocol) see a post
  created, edited and deleted over HTTP, on the feed, the author's channel and a
  wildcard, in order; a refused channel and a refused client publish.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.google import Client, FakeGoogle, check_google_sign_in, check_racing_first_sign_ins, claims
from tests.e2e.realtime_client import Subscriber
from tests.e2e.support import (
    DEV_SIGNING_KEYS_FILE,
    ROOT,
    Answer,
    LocalApi,
    Replay,
    load_manifest,
    local_api_create_table,
    local_api_dynamodb_env,
    read_mail,
    sample_google,
    short,
    token_of,
)

PASSWORD = "correct horse battery staple"
MANIFEST = load_manifest()
NEVER_A_POST = "01KAQZ8Y4M1W2X3V5T6R7P8N00"


def signup(api: LocalApi, email: str, name: str = "Ada Lovelace") -> tuple[int, Any]:
    status, _, body = api.request("POST", "/signup", {"email": email, "password": PASSWORD, "display_name": name})
    return status, body


def login(api: LocalApi, email: str) -> tuple[int, Any]:
    status, _, body = api.request("POST", "/login", {"email": email, "password": PASSWORD})
    return status, body


def post(api: LocalApi, token: str, title: str) -> tuple[int, dict[str, str], Any]:
    return api.request("POST", "/posts", {"title": title, "body": "Written over HTTP."},
                       {"authorization": f"Bearer {token}"})


def race(count: int, attempt: Callable[[int], Any]) -> list[Any]:
    """Runs attempt(i) for each i in range(count) on its own thread, all released at once; the results, sorted."""
    results: list[Any] = []
    lock = threading.Lock()
    gate = threading.Barrier(count)

    def run(i: int) -> None:
        gate.wait()
        result = attempt(i)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results)


# --------------------------------------------------------------------------- the sample events

def send_over_http(api: LocalApi, event: dict[str, Any]) -> Answer:
    """An API Gateway event (payload 2.0 or REST v1) sent as the HTTP request it describes."""
    if event.get("version") == "2.0":
        method = event["requestContext"]["http"]["method"]
        target = event["rawPath"] + (f"?{event['rawQueryString']}" if event.get("rawQueryString") else "")
    else:
        method = event["httpMethod"]
        query = urllib.parse.urlencode(event.get("multiValueQueryStringParameters") or {}, doseq=True)
        target = event["path"] + (f"?{query}" if query else "")
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() not in ("host", "content-length")}
    raw = event.get("body")
    payload = None if raw is None else (base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode())
    status, _, body = api.request(method, target, headers=headers, raw=payload)
    text = json.dumps(body)
    return Answer(status=status, body=text, detail=short(text))


@pytest.fixture(scope="module")
def http_replay(local_api_binary: Path) -> Iterator[Replay]:
    """One local-api, in memory, with the keys the events' bearer tokens are signed with,
    and Google sign-in on the stand-in whose key signed their Google credentials."""
    env = {"SIGNING_JWKS_FILE": str(DEV_SIGNING_KEYS_FILE), **sample_google().env()}
    with LocalApi(local_api_binary, ["--memory"], env=env) as api:
        yield Replay(MANIFEST, lambda _entry, text: send_over_http(api, json.loads(text)))


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["event"] for entry in MANIFEST])
def test_event_over_http(http_replay: Replay, entry: dict[str, Any]) -> None:
    """The sample events, as HTTP requests, get the statuses they get through Lambda."""
    problem = http_replay.problem(entry)
    assert problem is None, problem


# --------------------------------------------------------------------------- one server, many routes

def test_full_flow(memory_api: LocalApi) -> None:
    """Signup to paging, then what a client gets wrong: unknown routes, wrong methods,
    other origins, bodies too large or not UTF-8; and what the access log keeps of it."""
    api = memory_api
    assert api.ready_ms < 5000, f"ready in {api.ready_ms:.0f} ms (process start to accepting connections)"
    status, created = signup(api, "ada@example.com")
    assert status == 201, f"signup: {status} {created}"
    status, session = login(api, "ADA@example.com")
    assert status == 200, f"login: {status} {session}"
    token = session["access_token"]
    ids = []
    for i in range(25):
        status, headers, body = post(api, token, f"Post {i}")
        ids.append(body["post"]["id"])
    assert status == 201 and headers.get("location") == f"/posts/{ids[-1]}", f"create-post 201 with Location: {headers}"
    seen, cursor, pages = [], None, 0
    while True:
        target = "/posts?limit=10" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        status, _, page = api.request("GET", target)
        pages += 1
        seen += [p["id"] for p in page["posts"]]
        cursor = page["next_cursor"]
        if cursor is None or pages > 10:
            break
    assert seen == list(reversed(ids)) and pages == 3, \
        f"paging returns every post once, newest first: {pages} pages, {len(seen)} posts"
    status, headers, body = api.request("GET", "/nowhere")
    assert status == 404 and body["error"]["code"] == "not_found", f"unknown route: {status} {body}"
    status, headers, body = api.request("DELETE", "/posts")
    assert status == 405 and body["error"]["code"] == "method_not_allowed" \
        and set(headers.get("allow", "").replace(" ", "").split(",")) == {"GET", "POST"}, \
        f"wrong method, 405 with Allow: {status} {headers} {body}"
    status, headers, _ = api.request("OPTIONS", "/posts", headers={
        "origin": "http://localhost:5173", "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type"})
    assert status in (200, 204) and headers.get("access-control-allow-origin") == "http://localhost:5173", \
        f"CORS preflight allows the default front-end origin: {status} {headers}"
    status, headers, _ = api.request("GET", "/posts", headers={"origin": "http://evil.example"})
    assert status == 200 and "access-control-allow-origin" not in headers, \
        f"CORS gives no grant to other origins: {status} {headers}"
    status, _, body = api.request("POST", "/signup", raw=b"{" + b" " * (200 * 1024) + b"}",
                                  headers={"content-type": "application/json"})
    assert status == 413 and body["error"]["code"] == "payload_too_large", f"body over 128 KiB: {status} {body}"
    status, _, body = api.request("POST", "/signup", raw=b'{"email":"\xff"}', headers={"content-type": "application/json"})
    assert status == 400 and body["error"]["code"] == "malformed_json", f"non-UTF-8 body: {status} {body}"
    log = api.output()
    assert re.search(r"POST /signup 201 [0-9.]+ms", log) is not None and PASSWORD not in log and token not in log, \
        f"access log: one line per request, no secrets:\n{log[-2000:]}"


def test_post_lifecycle(api: LocalApi) -> None:
    """Read, edit, race, hide and delete one post over HTTP: every rule of issue 7's post routes."""
    _, ada = signup(api, "ada@example.com", "Ada")
    _, grace = signup(api, "grace@example.com", "Grace")
    ada_auth = {"authorization": f"Bearer {ada['access_token']}"}
    grace_auth = {"authorization": f"Bearer {grace['access_token']}"}
    _, headers, created = post(api, ada["access_token"], "Lifecycle")
    post_id = created["post"]["id"]
    assert headers.get("etag") == '"1"', f"create-post answers ETag \"1\": {headers}"
    status, headers, body = api.request("GET", f"/posts/{post_id}")
    assert status == 200 and headers.get("etag") == '"1"' and body["post"] == created["post"], \
        f"GET /posts/{{id}} 200 with ETag: {status} {headers} {body}"

    status, _, body = api.request("PATCH", f"/posts/{post_id}", {"title": "Grace was here"}, grace_auth)
    assert status == 403 and body["error"]["code"] == "forbidden" and "Lifecycle" not in json.dumps(body), \
        f"someone else's PATCH, 403 without the post: {status} {body}"
    status, headers, body = api.request("PATCH", f"/posts/{post_id}", {"title": "Edited"}, {**ada_auth, "if-match": '"1"'})
    assert status == 200 and headers.get("etag") == '"2"' and body["post"]["updated_at"] is not None, \
        f"PATCH with the current If-Match, 200 at version 2: {status} {headers} {body}"
    status, _, body = api.request("PATCH", f"/posts/{post_id}", {"title": "Stale"}, {**ada_auth, "if-match": '"1"'})
    assert status == 412 and body["error"]["code"] == "precondition_failed", \
        f"PATCH with a stale If-Match, 412: {status} {body}"

    statuses = race(6, lambda i: api.request("PATCH", f"/posts/{post_id}", {"title": f"Racer {i}"},
                                             {**ada_auth, "if-match": '"2"'})[0])
    assert sorted(statuses) == [200, 412, 412, 412, 412, 412], \
        f"6 racing PATCHes against version 2: one 200, five 412; got {sorted(statuses)}"
    _, headers, body = api.request("GET", f"/posts/{post_id}")
    assert headers.get("etag") == '"3"' and body["post"]["title"].startswith("Racer "), \
        f"the race's winner is stored as version 3: {headers} {body}"

    status, _, page = api.request("GET", f"/users/{ada['user']['id']}/posts")
    assert status == 200 and [p["id"] for p in page["posts"]] == [post_id], \
        f"GET /users/{{id}}/posts lists the author's post: {status} {page}"
    status, _, body = api.request("GET", "/me", headers=grace_auth)
    assert status == 200 and body["user"] == grace["user"], f"GET /me, the token's user: {status} {body}"

    status, _, _ = api.request("DELETE", f"/posts/{post_id}", headers=grace_auth)
    assert status == 403, f"someone else's DELETE: {status}"
    status, headers, body = api.request("DELETE", f"/posts/{post_id}", headers=ada_auth)
    assert status == 204 and body is None, f"DELETE, 204 and no body: {status} {body}"
    deleted = api.request("GET", f"/posts/{post_id}")
    never = api.request("GET", f"/posts/{NEVER_A_POST}")
    same = {k: v for k, v in deleted[1].items() if k != "date"} == {k: v for k, v in never[1].items() if k != "date"}
    assert deleted[0] == 404 and deleted[2] == never[2] and same, \
        f"a deleted post's 404 is the same as a never-existing one's: {deleted} vs {never}"
    status, _, _ = api.request("DELETE", f"/posts/{post_id}", headers=ada_auth)
    assert status == 404, f"a second DELETE: {status}"
    _, _, everyone = api.request("GET", "/posts")
    _, _, adas = api.request("GET", f"/users/{ada['user']['id']}/posts")
    assert post_id not in [p["id"] for p in everyone["posts"] + adas["posts"]], \
        f"the deleted post is in no listing: {everyone} {adas}"


def test_sessions(api: LocalApi) -> None:
    """Refresh-token rotation, replay detection, racing refreshes and logout over HTTP."""
    email = "session@example.com"
    status, first = signup(api, email)
    assert status == 201 and len(first.get("refresh_token", "")) == 43 and first["expires_in"] == 900, \
        f"signup returns a refresh token: {status} {first}"

    def refresh(token: str) -> tuple[int, Any]:
        status, _, body = api.request("POST", "/token/refresh", {"refresh_token": token})
        return status, body

    status, renewed = refresh(first["refresh_token"])
    assert status == 200 and renewed["refresh_token"] != first["refresh_token"] and renewed["access_token"], \
        f"refresh, 200 with new tokens: {status} {renewed}"
    status, body = refresh(first["refresh_token"])
    assert status == 401 and body["error"]["code"] == "invalid_refresh_token", f"the used token replayed: {status} {body}"
    status, _ = refresh(renewed["refresh_token"])
    assert status == 401, f"the replay revoked the family, so the current token is refused: {status}"

    _, again = login(api, email)
    statuses = race(2, lambda _: refresh(again["refresh_token"])[0])
    assert statuses == [200, 401], f"two racing refreshes with one token: one 200, one 401; got {statuses}"

    _, third = login(api, email)
    for attempt in ("logout", "logout again"):
        status, _, body = api.request("POST", "/logout", {"refresh_token": third["refresh_token"]})
        assert status == 204 and body is None, f"{attempt}: {status} {body}"
    status, _ = refresh(third["refresh_token"])
    assert status == 401, f"refresh after logout: {status}"
    status, _, _ = api.request("GET", "/me", headers={"authorization": f"Bearer {third['access_token']}"})
    assert status == 200, f"the access token is stateless, it works until it expires: {status}"


def test_email_verification(local_api_binary: Path) -> None:
    """Signup mails a link (an .eml file in the data directory, its link logged); the link's
    token verifies the email once; a deployment requiring a verified email refuses posts
    until then; a new link at most once a minute, none once verified."""
    with LocalApi(local_api_binary, ["--memory"], env={"REQUIRE_VERIFIED_EMAIL": "true"}) as api:
        status, created = signup(api, "verify@example.com")
        assert status == 201 and created["user"]["email_verified"] is False, f"{status} {created}"
        bearer = {"authorization": f"Bearer {created['access_token']}"}
        status, _, body = post(api, created["access_token"], "Too early")
        assert (status, body["error"]["code"]) == (403, "email_not_verified"), f"{status} {body}"

        link = api.mailed_link("verify@example.com")
        assert link.startswith(f"http://127.0.0.1:{api.port}/#/verify-email?token="), link
        token = token_of(link)
        assert len(token) == 43, "256 random bits, base64url"
        assert f"open {link}" in api.output(), "the link is logged in one line for the developer"

        status, headers, body = api.request("POST", "/email/verify/resend", headers=bearer)
        assert (status, body["error"]["code"], headers.get("retry-after")) == (429, "too_many_requests", "60"), \
            f"signup's message went out less than a minute ago: {status} {headers} {body}"

        status, _, body = api.request("POST", "/email/verify", {"token": token})
        assert status == 200 and body["user"]["email_verified"] is True, f"{status} {body}"
        status, _, body = api.request("POST", "/email/verify", {"token": token})
        assert (status, body["error"]["code"]) == (400, "invalid_token"), f"a token works once: {status} {body}"
        status, _, body = api.request("GET", "/me", headers=bearer)
        assert body["user"]["email_verified"] is True, body
        status, _, body = post(api, created["access_token"], "Verified now")
        assert status == 201, f"{status} {body}"
        status, _, body = api.request("POST", "/email/verify/resend", headers=bearer)
        assert (status, body["error"]["code"]) == (409, "email_already_verified"), f"{status} {body}"
        assert len(read_mail(api.data_dir / "mail")) == 1, "exactly one message was sent"


def test_password_reset(memory_api: LocalApi) -> None:
    """Forgot: the same answer for an unknown email, which gets no message; the mailed
    link's token sets a new password once, every session ends, the old password no
    longer works and the new one does."""
    api = memory_api
    status, created = signup(api, "reset@example.com")
    assert status == 201, created
    answers = [api.request("POST", "/password/forgot", {"email": email})
               for email in ("Reset@Example.com", "nobody-here@example.com")]
    assert [(status, body) for status, _, body in answers] == [(202, {"status": "sending"})] * 2, answers
    assert answers[0][1] == answers[1][1], "the same headers for both"
    link = api.mailed_link("reset@example.com", seen=1)  # after signup's verification message
    assert link.startswith(f"http://127.0.0.1:{api.port}/#/reset-password?token="), link
    deadline = time.monotonic() + 10
    while "no account has this email" not in api.output():
        assert time.monotonic() < deadline, "the unknown email's request was never handled"
        time.sleep(0.05)
    assert all(m["To"] != "nobody-here@example.com" for m in read_mail(api.data_dir / "mail"))

    new_password = "a brand new passphrase"
    reset = {"token": token_of(link), "new_password": new_password}
    status, _, body = api.request("POST", "/password/reset", reset)
    assert (status, body) == (204, None), f"{status} {body}"
    status, _, body = api.request("POST", "/password/reset", reset)
    assert (status, body["error"]["code"]) == (400, "invalid_token"), f"a token works once: {status} {body}"
    status, _, body = api.request("POST", "/token/refresh", {"refresh_token": created["refresh_token"]})
    assert status == 401, f"signup's session ended: {status} {body}"
    assert login(api, "reset@example.com")[0] == 401, "the old password no longer works"
    status, _, body = api.request("POST", "/login", {"email": "reset@example.com", "password": new_password})
    assert status == 200 and body["user"]["email_verified"] is True, f"{status} {body}"


def test_delete_account(api: LocalApi) -> None:
    """DELETE /me with the password: the account, its sessions and its posts are gone
    (from every listing at once), the email is free again; a wrong password deletes
    nothing. On the embedded store and on DynamoDB."""
    status, created = signup(api, "delete-me@example.com")
    assert status == 201, created
    token, user_id = created["access_token"], created["user"]["id"]
    bearer = {"authorization": f"Bearer {token}"}
    status, _, body = post(api, token, "Soon gone")
    assert status == 201, body
    post_id = body["post"]["id"]
    _, second = login(api, "delete-me@example.com")
    status, _, body = api.request("DELETE", "/me", {"password": "not my password"}, bearer)
    assert (status, body["error"]["code"]) == (401, "invalid_credentials"), f"{status} {body}"
    assert api.request("GET", f"/posts/{post_id}")[0] == 200, "a wrong password deleted nothing"

    status, _, body = api.request("DELETE", "/me", {"password": PASSWORD}, bearer)
    assert (status, body) == (204, None), f"{status} {body}"
    assert api.request("GET", f"/posts/{post_id}")[0] == 404
    listed = [p["id"] for p in api.request("GET", "/posts?limit=100")[2]["posts"]]
    assert post_id not in listed, "the post left the feed at once"
    assert api.request("GET", f"/users/{user_id}/posts")[0] == 404
    assert api.request("GET", "/me", headers=bearer)[0] == 404, "the token outlives the account, which is gone"
    for session in (created, second):
        assert api.request("POST", "/token/refresh", {"refresh_token": session["refresh_token"]})[0] == 401
    assert login(api, "delete-me@example.com")[0] == 401
    assert signup(api, "delete-me@example.com")[0] == 201, "the email is free again"


def test_login_lockout_is_per_client_address(memory_api: LocalApi) -> None:
    """Five wrong passwords from one client lock out that client, whatever X-Forwarded-For
    it sends, not the owner connecting from elsewhere; a trusted device gets in anyway."""
    assert signup(memory_api, "lock@example.com")[0] == 201
    wrong = {"email": "lock@example.com", "password": "not the password"}
    right = {"email": "lock@example.com", "password": PASSWORD}
    for i in range(5):
        status, _, _ = memory_api.request("POST", "/login", wrong, {"x-forwarded-for": f"198.51.100.{i}"},
                                          source="127.0.0.2")
        assert status == 401
    status, headers, body = memory_api.request("POST", "/login", right, {"x-forwarded-for": "203.0.113.9"},
                                               source="127.0.0.2")
    assert (status, body["error"]["code"]) == (429, "too_many_attempts")
    assert 1 <= int(headers["retry-after"]) <= 30
    status, _, body = memory_api.request("POST", "/login", right, source="127.0.0.3")
    assert status == 200, body
    trusted = {**right, "device_token": body["device_token"]}
    status, _, again = memory_api.request("POST", "/login", trusted, source="127.0.0.2")
    assert status == 200, again
    assert again["device_token"] == body["device_token"]


def test_cors_for_post_routes(memory_api: LocalApi) -> None:
    """A browser front end can edit with If-Match and read the ETag it needs for that."""
    status, headers, _ = memory_api.request("OPTIONS", f"/posts/{NEVER_A_POST}", headers={
        "origin": "http://localhost:5173", "access-control-request-method": "PATCH",
        "access-control-request-headers": "authorization,content-type,if-match"})
    allowed = headers.get("access-control-allow-methods", "") + headers.get("access-control-allow-headers", "")
    assert status in (200, 204) and "PATCH" in allowed and "if-match" in allowed.lower(), \
        f"CORS preflight allows PATCH with If-Match: {status} {headers}"
    _, headers, _ = memory_api.request("GET", "/posts", headers={"origin": "http://localhost:5173"})
    assert "etag" in headers.get("access-control-expose-headers", "").lower(), f"CORS exposes ETag: {headers}"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_persistence(local_api_binary: Path, tmp_path: Path, sig: signal.Signals) -> None:
    """What was written survives the process ending, cleanly or killed right after the 201."""
    with LocalApi(local_api_binary, ["--data-dir", str(tmp_path)]) as api:
        _, created = signup(api, "kept@example.com")
        token = created["access_token"]
        status, _, body = post(api, token, "Survives a restart")
        assert status == 201, f"post created before stopping: {status} {body}"
        code = api.stop(sig)
        assert code == (0 if sig == signal.SIGTERM else -signal.SIGKILL), \
            f"process ended ({'exit 0' if sig == signal.SIGTERM else 'killed'}): exit {code}"
    with LocalApi(local_api_binary, ["--data-dir", str(tmp_path)]) as api:
        status, session = login(api, "kept@example.com")
        assert status == 200, f"login after restart: {status} {session}"
        _, _, page = api.request("GET", "/posts")
        assert [p["title"] for p in page["posts"]] == ["Survives a restart"], f"the post is listed after restart: {page}"
        status, _, body = post(api, token, "Token from before the restart")
        assert status == 201, f"the JWT secret was kept (a token from before works): {status} {body}"


def test_concurrent_signups(memory_api: LocalApi) -> None:
    """One email, 20 signups at once: the uniqueness holds under a race."""
    statuses = race(20, lambda i: signup(memory_api, "race@example.com", f"Racer {i}")[0])
    assert statuses.count(201) == 1 and statuses.count(409) == 19, \
        f"20 concurrent signups with one email: exactly one 201; got {sorted(statuses)}"


def test_readme_walkthrough(memory_api: LocalApi) -> None:
    """The README's curl walkthrough runs as written (only the port changed), so it cannot drift."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- walkthrough:begin -->\s*```sh\n(.*?)```\s*<!-- walkthrough:end -->", readme, re.S)
    assert match is not None, "README has no walkthrough block"
    for tool in ("curl", "jq"):
        assert shutil.which(tool) is not None, f"{tool} is not installed (the walkthrough uses it)"
    script = match.group(1).replace("127.0.0.1:3000", f"127.0.0.1:{memory_api.port}")
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"README walkthrough exited {run.returncode}:\n{run.stdout}{run.stderr}"
    assert '"title": "Hello, Lambda"' in run.stdout and '"version": 2' in run.stdout \
        and 'etag: "2"' in run.stdout.lower() and '"next_cursor": null' in run.stdout \
        and run.stdout.count("204") >= 2 and run.stdout.rstrip().endswith("204"), \
        f"walkthrough: the post it creates is edited, listed, then deleted:\n{run.stdout[-500:]}"


def test_schemathesis(memory_api: LocalApi) -> None:
    """Every check Schemathesis has, against the spec local-api serves: the spec cannot
    drift from the code without this failing."""
    st = Path(sys.executable).parent / "st"
    assert st.is_file(), f"schemathesis is not installed: no {st}"
    status, session = signup(memory_api, "schemathesis@example.com")
    assert status == 201, f"signup for schemathesis's bearer token: {status} {session}"
    run = subprocess.run(
        [str(st), "--config-file", str(Path(__file__).with_name("schemathesis.toml")), "run",
         f"http://127.0.0.1:{memory_api.port}/openapi.json", "--checks", "all", "--max-examples", "100",
         "--max-time", "120", "--seed", "1", "--no-color",
         "-H", f"Authorization: Bearer {session['access_token']}"],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"schemathesis found problems:\n{run.stdout[-4000:]}{run.stderr[-2000:]}"


def test_dynamodb_mode(local_api_binary: Path, dynamodb_endpoint: str, tmp_path: Path) -> None:
    """`local-api create-table`, then TABLE_NAME and AWS_ENDPOINT_URL_DYNAMODB put local-api on DynamoDB."""
    env = local_api_dynamodb_env(dynamodb_endpoint)
    created = local_api_create_table(local_api_binary, env)
    assert created.returncode == 0, f"local-api create-table failed:\n{created.stdout}{created.stderr}"
    with LocalApi(local_api_binary, ["--data-dir", str(tmp_path)], env=env) as api:
        assert "store: DynamoDB" in api.output(), f"TABLE_NAME + AWS_ENDPOINT_URL_DYNAMODB select DynamoDB:\n{api.output()}"
        status, account = signup(api, "dynamo@example.com")
        assert status == 201, f"signup: {status} {account}"
        status, _, body = post(api, account["access_token"], "Stored in DynamoDB")
        assert status == 201, f"create-post: {status} {body}"
        _, _, page = api.request("GET", "/posts")
        assert [p["title"] for p in page["posts"]] == ["Stored in DynamoDB"], f"the post is listed: {page}"


# --------------------------------------------------------------------------- Google sign-in

def over_http(api: LocalApi) -> Client:
    def send(method: str, path: str, body: Any = None, bearer: str | None = None) -> tuple[int, Any]:
        headers = {"authorization": f"Bearer {bearer}"} if bearer else None
        status, _, answer = api.request(method, path, body, headers)
        return status, answer
    return send


@pytest.mark.parametrize("store", ["embedded", "DynamoDB"])
def test_google_sign_in(store: str, local_api_binary: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Every rule of Google sign-in over HTTP, with the keys from a local stand-in."""
    with FakeGoogle([0]) as google:
        args, env = ["--memory"], google.env()
        if store == "DynamoDB":
            env = {**local_api_dynamodb_env(request.getfixturevalue("dynamodb_endpoint")), **env}
            created = local_api_create_table(local_api_binary, env)
            assert created.returncode == 0, f"local-api create-table failed:\n{created.stdout}{created.stderr}"
            args = ["--data-dir", str(tmp_path)]
        with LocalApi(local_api_binary, args, env=env) as api:
            check_google_sign_in(over_http(api), google, "example.com")
            check_racing_first_sign_ins([over_http(api)] * 6, google, "race@example.com")
            assert google.fetches <= 3, f"{google.fetches} fetches of Google's keys: the cache is not used"


def test_google_sign_in_unreachable_keys_and_turned_off(local_api_binary: Path) -> None:
    """Google's keys unreachable: 503, never 500; no client ID: 404 google_sign_in_disabled."""
    with FakeGoogle([0]) as google:
        google.failing = True
        credential = google.keys.id_token(claims("109000000000000000060", "ada@example.com"))
        with LocalApi(local_api_binary, ["--memory"], env=google.env()) as api:
            status, _, body = api.request("POST", "/auth/google", {"credential": credential})
            assert (status, body["error"]["code"]) == (503, "service_unavailable"), body
        with LocalApi(local_api_binary, ["--memory"], env={"GOOGLE_CLIENT_IDS": ""}) as api:
            status, _, body = api.request("POST", "/auth/google", {"credential": credential})
            assert (status, body["error"]["code"]) == (404, "google_sign_in_disabled"), body
            assert "GoogleClientIds" in body["error"]["message"], body


# --------------------------------------------------------------------------- realtime

def test_realtime_over_websockets(memory_api: LocalApi) -> None:
    """What a page subscribed to the feed, to the author's channel and to everything sees
    while a post is created, edited and deleted over HTTP."""
    url = f"ws://127.0.0.1:{memory_api.port}/event/realtime"
    status, session = signup(memory_api, "live@example.com")
    assert status == 201, session
    token, author = session["access_token"], session["user"]["id"]
    bearer = {"authorization": f"Bearer {token}"}
    with Subscriber(url, ["/posts/feed", f"/posts/authors/{author}"]) as page, Subscriber(url, ["/posts/*"]) as everything:
        refused = page.subscribe("/default/feed")
        assert refused["type"] == "subscribe_error", refused
        page.send({"type": "publish", "id": "p1", "channel": "/posts/feed", "events": ["{}"]})
        assert page.receive()["type"] == "publish_error"

        status, _, created = post(memory_api, token, "Live over HTTP")
        assert status == 201, created
        post_id = created["post"]["id"]
        status, _, edited = memory_api.request("PATCH", f"/posts/{post_id}", {"title": "Edited"}, bearer)
        assert status == 200, edited
        status, _, _ = memory_api.request("DELETE", f"/posts/{post_id}", None, bearer)
        assert status == 204
        expected = [("post.created", 1), ("post.updated", 2), ("post.deleted", 2)]
        for subscriber in (page, everything):
            seen = [subscriber.event() for _ in range(6)]
            by_channel: dict[str, list[tuple[str, int]]] = {}
            for channel, event in seen:
                assert event["post"]["id"] == post_id, event
                by_channel.setdefault(channel, []).append((event["type"], event["post"]["version"]))
            if subscriber is page:
                assert by_channel == {"/posts/feed": expected, f"/posts/authors/{author}": expected}, by_channel
            else:
                assert by_channel == {"/posts/*": [change for change in expected for _ in range(2)]}, by_channel
