#!/usr/bin/env python3
"""HTTP-level scenarios against the local-api binary (standard library only).

    .venv/bin/python tests/local_api_scenarios.py --binary target/debug/local-api \
        [--dynamodb-endpoint http://127.0.0.1:PORT]

Each scenario starts its own local-api on a free loopback port:
- every event in events/expected.json, sent as plain HTTP, gets the status it gets
  through the Lambda functions (tests/rie_events.py): one API, two ways to run it;
- a full flow with paging, unknown routes (404), wrong methods (405), CORS, and bodies
  that are too large or not UTF-8;
- persistence: sign up and post, stop (SIGTERM, then separately SIGKILL right after the
  201), start again on the same data dir: login works, the post is listed, and tokens
  issued before the restart still verify;
- 20 concurrent signups with one email: exactly one 201;
- the README's curl walkthrough, run as written (only the port changed);
- Schemathesis, with all its checks, against the OpenAPI document local-api serves
  (`openapi.yaml`), bounded in time: no 5xx, every status, header and body as specified;
- with --dynamodb-endpoint: `local-api create-table`, then the flow on DynamoDB.
Prints one line per check and `N passed, M failed`; exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rie_events import apply_captures, load_manifest, record_captures  # noqa: E402 - shared with the event replay

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
RESULTS = {"passed": 0, "failed": 0}


def check(name: str, condition: bool, detail: Any = "") -> bool:
    RESULTS["passed" if condition else "failed"] += 1
    print(f"{'ok  ' if condition else 'FAIL'} {name}{'' if condition else f' -- {detail}'}", flush=True)
    return condition


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalApi:
    """One local-api process on a free port; its output goes to a log file."""

    def __init__(self, binary: Path, args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="local-api-", suffix=".log", delete=False)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TABLE_NAME", "JWT_"))}
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [str(binary), "--port", str(self.port), *args],
            env={**base_env, **(env or {})},
            cwd=cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = started + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"local-api exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    self.ready_ms = (time.monotonic() - started) * 1000
                    return
            except OSError:
                time.sleep(0.01)
        self.stop()
        raise TimeoutError(f"local-api did not listen within 20 s:\n{self.output()}")

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                raw: bytes | None = None) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = dict(headers or {})
        payload = raw
        if body is not None:
            payload = json.dumps(body).encode()
            headers.setdefault("content-type", "application/json")
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = data
        return response.status, {k.lower(): v for k, v in response.getheaders()}, parsed

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def __enter__(self) -> "LocalApi":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        Path(self.log.name).unlink(missing_ok=True)


def signup(api: LocalApi, email: str, name: str = "Ada Lovelace") -> tuple[int, Any]:
    status, _, body = api.request("POST", "/signup", {"email": email, "password": PASSWORD, "display_name": name})
    return status, body


def login(api: LocalApi, email: str) -> tuple[int, Any]:
    status, _, body = api.request("POST", "/login", {"email": email, "password": PASSWORD})
    return status, body


def post(api: LocalApi, token: str, title: str) -> tuple[int, dict[str, str], Any]:
    return api.request("POST", "/posts", {"title": title, "body": "Written over HTTP."},
                       {"authorization": f"Bearer {token}"})


# --------------------------------------------------------------------------- scenarios

def events_over_http(binary: Path) -> None:
    """The sample events, as HTTP requests, get the statuses they get through Lambda."""
    manifest = load_manifest(ROOT / "events")
    captured: dict[str, str] = {}
    with LocalApi(binary, ["--memory"], env={"JWT_SECRET": "local-dev-secret-do-not-use-in-production-0123456789"}) as api:
        for entry in manifest:
            event = json.loads(apply_captures((ROOT / "events" / entry["event"]).read_text(), captured))
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
            problem = record_captures(entry, json.dumps(body), captured) if status == entry["status"] else None
            check(f"event {entry['event']} over HTTP -> {entry['status']}", status == entry["status"] and problem is None,
                  f"{status} {body} {problem or ''}")


def full_flow(binary: Path) -> None:
    with LocalApi(binary, ["--memory"]) as api:
        check(f"ready in {api.ready_ms:.0f} ms (process start to accepting connections)", api.ready_ms < 5000)
        status, created = signup(api, "ada@example.com")
        check("signup 201", status == 201, created)
        status, session = login(api, "ADA@example.com")
        check("login 200", status == 200, session)
        token = session["access_token"]
        ids = []
        for i in range(25):
            status, headers, body = post(api, token, f"Post {i}")
            ids.append(body["post"]["id"])
        check("create-post 201 with Location", status == 201 and headers.get("location") == f"/posts/{ids[-1]}", headers)
        seen, cursor, pages = [], None, 0
        while True:
            target = "/posts?limit=10" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
            status, _, page = api.request("GET", target)
            pages += 1
            seen += [p["id"] for p in page["posts"]]
            cursor = page["next_cursor"]
            if cursor is None or pages > 10:
                break
        check("paging returns every post once, newest first", seen == list(reversed(ids)) and pages == 3, (pages, len(seen)))
        status, headers, body = api.request("GET", "/nowhere")
        check("unknown route 404 in the envelope", status == 404 and body["error"]["code"] == "not_found", body)
        status, headers, body = api.request("DELETE", "/posts")
        check("wrong method 405 with Allow", status == 405 and body["error"]["code"] == "method_not_allowed"
              and set(headers.get("allow", "").replace(" ", "").split(",")) == {"GET", "POST"}, (headers, body))
        status, headers, _ = api.request("OPTIONS", "/posts", headers={
            "origin": "http://localhost:5173", "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type"})
        check("CORS preflight allows the default front-end origin",
              status in (200, 204) and headers.get("access-control-allow-origin") == "http://localhost:5173", headers)
        status, headers, _ = api.request("GET", "/posts", headers={"origin": "http://evil.example"})
        check("CORS gives no grant to other origins", status == 200 and "access-control-allow-origin" not in headers, headers)
        status, _, body = api.request("POST", "/signup", raw=b"{" + b" " * (200 * 1024) + b"}",
                                      headers={"content-type": "application/json"})
        check("body over 128 KiB -> 413", status == 413 and body["error"]["code"] == "payload_too_large", body)
        status, _, body = api.request("POST", "/signup", raw=b'{"email":"\xff"}', headers={"content-type": "application/json"})
        check("non-UTF-8 body -> 400", status == 400 and body["error"]["code"] == "malformed_json", body)
        log = api.output()
        check("access log: one line per request, no secrets", re.search(r"POST /signup 201 [0-9.]+ms", log) is not None
              and PASSWORD not in log and token not in log, log[-2000:])


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


def post_lifecycle(api: LocalApi, label: str) -> None:
    """Read, edit, race, hide and delete one post over HTTP: every rule of issue 7's post routes."""
    _, ada = signup(api, f"ada-{label}@example.com", "Ada")
    _, grace = signup(api, f"grace-{label}@example.com", "Grace")
    ada_auth = {"authorization": f"Bearer {ada['access_token']}"}
    grace_auth = {"authorization": f"Bearer {grace['access_token']}"}
    _, headers, created = post(api, ada["access_token"], "Lifecycle")
    post_id = created["post"]["id"]
    check(f"{label}: create-post answers ETag \"1\"", headers.get("etag") == '"1"', headers)
    status, headers, body = api.request("GET", f"/posts/{post_id}")
    check(f"{label}: GET /posts/{{id}} 200 with ETag", status == 200 and headers.get("etag") == '"1"'
          and body["post"] == created["post"], (status, headers, body))

    status, _, body = api.request("PATCH", f"/posts/{post_id}", {"title": "Grace was here"}, grace_auth)
    check(f"{label}: someone else's PATCH -> 403 without the post", status == 403
          and body["error"]["code"] == "forbidden" and "Lifecycle" not in json.dumps(body), (status, body))
    status, headers, body = api.request("PATCH", f"/posts/{post_id}", {"title": "Edited"}, {**ada_auth, "if-match": '"1"'})
    check(f"{label}: PATCH with the current If-Match -> 200, version 2", status == 200
          and headers.get("etag") == '"2"' and body["post"]["updated_at"] is not None, (status, headers, body))
    status, _, body = api.request("PATCH", f"/posts/{post_id}", {"title": "Stale"}, {**ada_auth, "if-match": '"1"'})
    check(f"{label}: PATCH with a stale If-Match -> 412", status == 412
          and body["error"]["code"] == "precondition_failed", (status, body))

    statuses = race(6, lambda i: api.request("PATCH", f"/posts/{post_id}", {"title": f"Racer {i}"},
                                             {**ada_auth, "if-match": '"2"'})[0])
    check(f"{label}: 6 racing PATCHes against version 2: one 200, five 412",
          sorted(statuses) == [200, 412, 412, 412, 412, 412], sorted(statuses))
    _, headers, body = api.request("GET", f"/posts/{post_id}")
    check(f"{label}: the race's winner is stored as version 3", headers.get("etag") == '"3"'
          and body["post"]["title"].startswith("Racer "), (headers, body))

    status, _, page = api.request("GET", f"/users/{ada['user']['id']}/posts")
    check(f"{label}: GET /users/{{id}}/posts lists the author's post", status == 200
          and [p["id"] for p in page["posts"]] == [post_id], (status, page))
    status, _, body = api.request("GET", "/me", headers=grace_auth)
    check(f"{label}: GET /me -> the token's user", status == 200 and body["user"] == grace["user"], (status, body))

    status, _, _ = api.request("DELETE", f"/posts/{post_id}", headers=grace_auth)
    check(f"{label}: someone else's DELETE -> 403", status == 403, status)
    status, headers, body = api.request("DELETE", f"/posts/{post_id}", headers=ada_auth)
    check(f"{label}: DELETE -> 204, no body", status == 204 and body is None, (status, body))
    deleted = api.request("GET", f"/posts/{post_id}")
    never = api.request("GET", "/posts/01KAQZ8Y4M1W2X3V5T6R7P8N00")
    same = {k: v for k, v in deleted[1].items() if k != "date"} == {k: v for k, v in never[1].items() if k != "date"}
    check(f"{label}: a deleted post's 404 is the same as a never-existing one's",
          deleted[0] == 404 and deleted[2] == never[2] and same, (deleted, never))
    status, _, _ = api.request("DELETE", f"/posts/{post_id}", headers=ada_auth)
    check(f"{label}: a second DELETE -> 404", status == 404, status)
    _, _, everyone = api.request("GET", "/posts")
    _, _, adas = api.request("GET", f"/users/{ada['user']['id']}/posts")
    check(f"{label}: the deleted post is in no listing", post_id not in [p["id"] for p in everyone["posts"] + adas["posts"]],
          (everyone, adas))


def sessions(api: LocalApi, label: str) -> None:
    """Refresh-token rotation, replay detection, racing refreshes and logout over HTTP."""
    status, first = signup(api, f"session-{label}@example.com")
    check(f"{label}: signup returns a refresh token", status == 201 and len(first.get("refresh_token", "")) == 43
          and first["expires_in"] == 900, first)

    def refresh(token: str) -> tuple[int, Any]:
        status, _, body = api.request("POST", "/token/refresh", {"refresh_token": token})
        return status, body

    status, renewed = refresh(first["refresh_token"])
    check(f"{label}: refresh -> 200 with new tokens", status == 200
          and renewed["refresh_token"] != first["refresh_token"] and renewed["access_token"], renewed)
    status, body = refresh(first["refresh_token"])
    check(f"{label}: the used token replayed -> 401", status == 401 and body["error"]["code"] == "invalid_refresh_token", body)
    status, _ = refresh(renewed["refresh_token"])
    check(f"{label}: the replay revoked the family: the current token -> 401", status == 401, status)

    _, again = login(api, f"session-{label}@example.com")
    statuses = race(2, lambda _: refresh(again["refresh_token"])[0])
    check(f"{label}: two racing refreshes with one token: one 200, one 401", statuses == [200, 401], statuses)

    _, third = login(api, f"session-{label}@example.com")
    for attempt in ("", " again"):
        status, _, body = api.request("POST", "/logout", {"refresh_token": third["refresh_token"]})
        check(f"{label}: logout{attempt} -> 204", status == 204 and body is None, (status, body))
    status, _ = refresh(third["refresh_token"])
    check(f"{label}: refresh after logout -> 401", status == 401, status)
    status, _, _ = api.request("GET", "/me", headers={"authorization": f"Bearer {third['access_token']}"})
    check(f"{label}: the access token is stateless: it works until it expires", status == 200, status)


def post_routes(binary: Path) -> None:
    with LocalApi(binary, ["--memory"]) as api:
        post_lifecycle(api, "embedded")
        sessions(api, "embedded")
        status, headers, _ = api.request("OPTIONS", "/posts/01KAQZ8Y4M1W2X3V5T6R7P8N00", headers={
            "origin": "http://localhost:5173", "access-control-request-method": "PATCH",
            "access-control-request-headers": "authorization,content-type,if-match"})
        allowed = headers.get("access-control-allow-methods", "") + headers.get("access-control-allow-headers", "")
        check("CORS preflight allows PATCH with If-Match", status in (200, 204)
              and "PATCH" in allowed and "if-match" in allowed.lower(), headers)
        _, headers, _ = api.request("GET", "/posts", headers={"origin": "http://localhost:5173"})
        check("CORS exposes ETag to the front end", "etag" in headers.get("access-control-expose-headers", "").lower(), headers)


def persistence(binary: Path, sig: int) -> None:
    name = signal.Signals(sig).name
    data_dir = Path(tempfile.mkdtemp(prefix="local-api-data-"))
    try:
        with LocalApi(binary, ["--data-dir", str(data_dir)]) as api:
            _, created = signup(api, "kept@example.com")
            token = created["access_token"]
            status, _, body = post(api, token, "Survives a restart")
            check(f"{name}: post created before stopping", status == 201, body)
            code = api.stop(sig)
            check(f"{name}: process ended ({'exit 0' if sig == signal.SIGTERM else 'killed'})",
                  code == 0 if sig == signal.SIGTERM else code == -signal.SIGKILL, code)
        with LocalApi(binary, ["--data-dir", str(data_dir)]) as api:
            status, session = login(api, "kept@example.com")
            check(f"{name}: login works after restart", status == 200, session)
            _, _, page = api.request("GET", "/posts")
            check(f"{name}: the post is listed after restart", [p["title"] for p in page["posts"]] == ["Survives a restart"], page)
            status, _, body = post(api, token, "Token from before the restart")
            check(f"{name}: the JWT secret was kept (old token still works)", status == 201, body)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def concurrent_signups(binary: Path) -> None:
    with LocalApi(binary, ["--memory"]) as api:
        statuses = race(20, lambda i: signup(api, "race@example.com", f"Racer {i}")[0])
        check("20 concurrent signups with one email: exactly one 201",
              statuses.count(201) == 1 and statuses.count(409) == 19, sorted(statuses))


def readme_walkthrough(binary: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- walkthrough:begin -->\s*```sh\n(.*?)```\s*<!-- walkthrough:end -->", readme, re.S)
    if not check("README has a walkthrough block", match is not None):
        return
    for tool in ("curl", "jq"):
        if not check(f"{tool} is installed (the walkthrough uses it)", shutil.which(tool) is not None):
            return
    with LocalApi(binary, ["--memory"]) as api:
        script = match.group(1).replace("127.0.0.1:3000", f"127.0.0.1:{api.port}")
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
        print("--- walkthrough output", flush=True)
        print(run.stdout + run.stderr, flush=True)
        check("README walkthrough runs as written", run.returncode == 0, run.returncode)
        check("walkthrough: the post it creates is edited, listed, then deleted", '"title": "Hello, Lambda"' in run.stdout
              and '"version": 2' in run.stdout and 'etag: "2"' in run.stdout.lower() and '"next_cursor": null' in run.stdout
              and run.stdout.count("204") >= 2 and run.stdout.rstrip().endswith("204"), run.stdout[-500:])


def schemathesis(binary: Path) -> None:
    """Every check Schemathesis has, against the spec local-api serves: the spec cannot
    drift from the code without this failing."""
    st = Path(sys.executable).parent / "st"
    if not check("schemathesis is installed", st.is_file(), st):
        return
    with LocalApi(binary, ["--memory"]) as api:
        status, session = signup(api, "schemathesis@example.com")
        check("signup for schemathesis's bearer token", status == 201, session)
        run = subprocess.run(
            [str(st), "--config-file", str(ROOT / "tests" / "schemathesis.toml"), "run",
             f"http://127.0.0.1:{api.port}/openapi.json", "--checks", "all", "--max-examples", "100",
             "--max-time", "120", "--seed", "1", "--no-color",
             "-H", f"Authorization: Bearer {session['access_token']}"],
            capture_output=True, text=True, timeout=300)
        summary = [line for line in run.stdout.splitlines() if "generated" in line or "passed" in line]
        print("\n".join(summary[-3:]), flush=True)
        check("schemathesis: all checks pass", run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:])


def on_dynamodb(binary: Path, endpoint: str) -> None:
    table = f"local-api-{uuid.uuid4().hex[:12]}"
    env = {"TABLE_NAME": table, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_MAX_ATTEMPTS": "1",
           "AWS_EC2_METADATA_DISABLED": "true", "PATH": os.environ.get("PATH", "")}
    created = subprocess.run([str(binary), "create-table"], env=env, capture_output=True, text=True, timeout=60)
    check("local-api create-table", created.returncode == 0, created.stdout + created.stderr)
    data_dir = Path(tempfile.mkdtemp(prefix="local-api-dynamo-"))
    try:
        with LocalApi(binary, ["--data-dir", str(data_dir)], env=env) as api:
            check("TABLE_NAME + AWS_ENDPOINT_URL_DYNAMODB select DynamoDB", "store: DynamoDB" in api.output(), api.output())
            status, created = signup(api, "dynamo@example.com")
            check("DynamoDB: signup 201", status == 201, created)
            status, _, body = post(api, created["access_token"], "Stored in DynamoDB")
            check("DynamoDB: create-post 201", status == 201, body)
            _, _, page = api.request("GET", "/posts")
            check("DynamoDB: the post is listed", [p["title"] for p in page["posts"]] == ["Stored in DynamoDB"], page)
            post_lifecycle(api, "DynamoDB")
            sessions(api, "DynamoDB")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", type=Path, required=True)
    ap.add_argument("--dynamodb-endpoint", help="a moto/DynamoDB Local endpoint for the DynamoDB scenario")
    args = ap.parse_args()
    binary = args.binary.absolute()
    scenarios: list[tuple[str, Callable[[], None]]] = [
        ("events over HTTP", lambda: events_over_http(binary)),
        ("full flow", lambda: full_flow(binary)),
        ("post routes and sessions", lambda: post_routes(binary)),
        ("persistence across SIGTERM", lambda: persistence(binary, signal.SIGTERM)),
        ("persistence across SIGKILL", lambda: persistence(binary, signal.SIGKILL)),
        ("concurrent signups", lambda: concurrent_signups(binary)),
        ("README walkthrough", lambda: readme_walkthrough(binary)),
        ("Schemathesis", lambda: schemathesis(binary)),
    ]
    if args.dynamodb_endpoint:
        scenarios.append(("DynamoDB mode", lambda: on_dynamodb(binary, args.dynamodb_endpoint)))
    for name, scenario in scenarios:
        print(f"-- {name}", flush=True)
        try:
            scenario()
        except Exception as err:  # noqa: BLE001 - a crashed scenario is a failed check
            check(f"{name} ran to the end", False, f"{type(err).__name__}: {err}")
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed", flush=True)
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
