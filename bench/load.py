#!/usr/bin/env python3
"""The load test: local-api on the embedded store under many concurrent HTTP clients.

Run it through `bash bench/run.sh` (after the benchmark), or on its own:
`python -m bench.load --local-api target/debug/local-api --smoke`. It starts the local-api
binary it is given on a fresh data directory (the embedded store, redb, every write
committed with fsync) and a free loopback port, seeds it over HTTP, and loads four
requests, each with 1, 16 and 64 concurrent clients (keep-alive connections, each
sending its next request when the previous one is answered) for a fixed time:

- `GET /posts`: the first page of the feed (the default 20 of the seeded posts);
- `GET /posts/{id}`: one seeded post;
- `POST /posts`: new posts, all by one author (an account of its own, which had none);
- `POST /login`: one account per connection (see `login_accounts`).

The load generator is autocannon, pinned by tests/e2e/package-lock.json (installed by the
test command's `npm ci`), driven by bench/load.js, which says what it adds. It shares
the machine with local-api: on a small machine the figures are the two together.

It fails (exit 1) when any request under load is not answered with the expected 2xx (a
4xx, a 5xx, a socket error, a timeout), and when a post is lost: the 201s counted must be
exactly the author's posts afterwards (`GET /users/{id}/posts`, page by page), the same
ids, each readable with `GET /posts/{id}`. Timings never fail it.

It prints one table and writes <out>/load.json and <out>/load.md; with --doc, that page too.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.bench import machine_description, peak_rss_kib, write_doc
from tests.e2e.support import ROOT, LocalApi

DRIVER = ROOT / "bench" / "load.js"
AUTOCANNON = ROOT / "tests" / "e2e" / "node_modules" / "autocannon"
HOST = "127.0.0.1"  # loopback only: the load never leaves this machine

REQUESTS = ("GET /posts", "GET /posts/{id}", "POST /posts", "POST /login")
EXPECTED_STATUS = {"GET /posts": 200, "GET /posts/{id}": 200, "POST /posts": 201, "POST /login": 200}


@dataclass(frozen=True)
class Mode:
    clients: tuple[int, ...]
    seconds: int


FULL = Mode(clients=(1, 16, 64), seconds=5)
# CI runs the smoke mode on every test run: it proves the load test works, and must stay short.
SMOKE = Mode(clients=(1, 16), seconds=1)
SEEDED_POSTS = 50
PASSWORD = "load test: a long enough password"
# A request unanswered this long counts as a timeout (an error). Logins at 64 clients queue
# behind each other's argon2 verifies, so it is far above any answer's expected time.
TIMEOUT_SECONDS = 10
# How long, after the measured window, the connections may take to answer what they have in
# flight before the run is cut (which then fails: requests would be unaccounted for).
GRACE_SECONDS = TIMEOUT_SECONDS + 5
# The access tokens the POST /posts load sends are issued once, at seeding; the whole run
# must end before they expire (a 401 would fail it). Set rather than inherited.
TOKEN_TTL_SECONDS = 900


class Failure(Exception):
    """An error under load, a lost post, or a set-up step answered wrongly: the load test's only failure."""


@dataclass
class Row:
    request: str
    clients: int
    seconds: float
    requests_per_second: float
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    answered: int
    non_2xx: int
    errors: int
    timeouts: int
    status_counts: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- HTTP

class Connection:
    """One keep-alive HTTP/1.1 connection to local-api: seeding and checking thousands of
    posts one request at a time would otherwise spend most of its time connecting."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"content-type": "application/json"} if body is not None else {}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        try:
            return response.status, json.loads(data) if data else None
        except ValueError:
            return response.status, data

    def expect(self, want: int, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        status, answer = self.request(method, path, body, token)
        if status != want:
            raise Failure(f"{method} {path}: {status}, want {want}: {str(answer)[:300]}")
        return answer

    def close(self) -> None:
        self.conn.close()


def signup(port: int, email: str, name: str) -> dict[str, Any]:
    """A new account's session (signup answers with its user and access token)."""
    conn = Connection(port)
    try:
        return conn.expect(201, "POST", "/signup", {"email": email, "password": PASSWORD, "display_name": name})
    finally:
        conn.close()


# --------------------------------------------------------------------------- seeding

@dataclass
class Seed:
    post_id: str
    writer_id: str
    writer_token: str
    login_emails: list[str]


def login_accounts(count: int) -> list[str]:
    """The emails of the accounts the login load uses: one per connection.

    Login reserves each attempt on the account's per-address and per-account counters
    before it verifies the password (shared/src/password_check.rs), and a success gives the
    reservation back only when it is done. One account logged in to by many connections
    from one address has that many attempts in flight at once; the per-address limit
    (5, shared/src/auth/throttle.rs) then refuses the next ones with 429, by design: from
    the server's side they look like a guesser. With an account per connection each
    account has at most one login in flight, never reaches a limit, and every login is
    answered 200, which is what many users logging in at once look like.
    """
    return [f"login-{i}@load.example.com" for i in range(count)]


def seed(port: int, login_count: int) -> Seed:
    """The data the loads read and write, made over HTTP as a client would."""
    conn = Connection(port)
    try:
        reader = conn.expect(201, "POST", "/signup",
                             {"email": "author@load.example.com", "password": PASSWORD, "display_name": "Seed Author"})
        ids = [conn.expect(201, "POST", "/posts", {"title": f"Seeded post {i}", "body": f"Body of seeded post {i}."},
                           reader["access_token"])["post"]["id"] for i in range(SEEDED_POSTS)]
        # The POST /posts load's author: an account with no post yet, so its posts
        # afterwards are exactly the ones the load created.
        writer = conn.expect(201, "POST", "/signup",
                             {"email": "writer@load.example.com", "password": PASSWORD, "display_name": "Load Writer"})
    finally:
        conn.close()
    emails = login_accounts(login_count)
    # Each signup hashes a password (argon2, deliberately slow): a few at once.
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda pair: signup(port, pair[1], f"Login {pair[0]}"), enumerate(emails)))
    return Seed(post_id=ids[0], writer_id=writer["user"]["id"], writer_token=writer["access_token"],
                login_emails=emails)


# --------------------------------------------------------------------------- one load

def load_spec(request: str, clients: int, seconds: int, port: int, seeded: Seed) -> dict[str, Any]:
    """What bench/load.js runs for `request` with `clients` connections."""
    base = f"http://{HOST}:{port}"
    json_headers = {"content-type": "application/json"}
    spec: dict[str, Any] = {"autocannon": str(AUTOCANNON), "connections": clients, "seconds": seconds,
                            "timeout_seconds": TIMEOUT_SECONDS, "grace_seconds": GRACE_SECONDS,
                            "method": "GET", "headers": {}, "bodies": [], "collect_ids": False}
    if request == "GET /posts":
        spec["url"] = f"{base}/posts"
    elif request == "GET /posts/{id}":
        spec["url"] = f"{base}/posts/{seeded.post_id}"
    elif request == "POST /posts":
        # The same title and body every time: without an Idempotency-Key nothing is
        # deduplicated (each request is a new post), which the count afterwards checks.
        spec.update(url=f"{base}/posts", method="POST", collect_ids=True,
                    headers={**json_headers, "authorization": f"Bearer {seeded.writer_token}"},
                    bodies=[json.dumps({"title": "Under load", "body": "Written by bench/load.py."})])
    elif request == "POST /login":
        spec.update(url=f"{base}/login", method="POST", headers=json_headers,
                    bodies=[json.dumps({"email": email, "password": PASSWORD})
                            for email in seeded.login_emails[:clients]])
    else:
        raise ValueError(request)
    return spec


def run_load(spec: dict[str, Any]) -> dict[str, Any]:
    """Runs bench/load.js on `spec`; its JSON answer."""
    node = shutil.which("node")
    if node is None:
        raise Failure("node is not on PATH: the load generator (autocannon) runs on Node.js")
    with tempfile.NamedTemporaryFile("w", prefix="load-spec-", suffix=".json") as file:
        json.dump(spec, file)
        file.flush()
        limit = spec["seconds"] + spec["grace_seconds"] + 30
        try:
            done = subprocess.run([node, str(DRIVER), file.name], capture_output=True, text=True, timeout=limit)
        except subprocess.TimeoutExpired as err:
            raise Failure(f"the load generator did not finish within {limit} s") from err
    if done.returncode != 0:
        raise Failure(f"the load generator exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def to_row(request: str, result: dict[str, Any]) -> Row:
    return Row(request=request, clients=result["connections"], seconds=result["window_seconds"],
               requests_per_second=result["answered_in_window"] / result["window_seconds"],
               p50_ms=result["p50_ms"], p99_ms=result["p99_ms"], max_ms=result["max_ms"], answered=result["answered"],
               non_2xx=result["non_2xx"], errors=result["errors"], timeouts=result["timeouts"],
               status_counts=result["status_counts"])


def problems(request: str, result: dict[str, Any]) -> list[str]:
    """What went wrong in one load: any answer but the expected one, any socket error or
    timeout, a request sent but never answered, a 201 without a post."""
    found = []
    want = str(EXPECTED_STATUS[request])
    unexpected = {status: n for status, n in result["status_counts"].items() if status != want}
    if unexpected:
        found.append(f"answers other than {want}: {unexpected}")
    if result["errors"]:
        found.append(f"{result['errors']} socket errors or timeouts ({result['timeouts']} timeouts)")
    if not result["drained"]:
        found.append(f"requests still in flight {GRACE_SECONDS} s after the window: cut off, unaccounted for")
    if result["sent"] != result["answered"] + result["timeouts"]:
        found.append(f"{result['sent']} requests sent, {result['answered']} answered, {result['timeouts']} timed out")
    if result["answered"] == 0:
        found.append("no request answered")
    found += result["body_errors"][:5]
    return [f"{request} with {result['connections']} client(s): {p}" for p in found]


# --------------------------------------------------------------------------- nothing lost

def check_posts_kept(port: int, writer_id: str, created: list[str]) -> int:
    """Every post the POST /posts load was answered 201 for is the author's, listed and
    readable, and the author has no other: nothing lost, nothing doubled. The number checked."""
    conn = Connection(port)
    try:
        listed: list[str] = []
        cursor: str | None = None
        while True:
            query = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            page = conn.expect(200, "GET", f"/users/{writer_id}/posts?{urllib.parse.urlencode(query)}")
            listed += [post["id"] for post in page["posts"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        if len(set(created)) != len(created):
            raise Failure(f"POST /posts: {len(created) - len(set(created))} post ids answered twice")
        if len(listed) != len(created) or set(listed) != set(created):
            missing, extra = set(created) - set(listed), set(listed) - set(created)
            raise Failure(f"POST /posts: {len(created)} answered 201, the author lists {len(listed)} posts; "
                          f"{len(missing)} answered but not listed (e.g. {sorted(missing)[:3]}), "
                          f"{len(extra)} listed but never answered (e.g. {sorted(extra)[:3]})")
        for post_id in created:
            status, answer = conn.request("GET", f"/posts/{post_id}")
            if status != 200 or answer["post"]["id"] != post_id:
                raise Failure(f"GET /posts/{post_id} (answered 201 under load): {status} {str(answer)[:200]}")
        return len(created)
    finally:
        conn.close()


# --------------------------------------------------------------------------- output

def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render(rows: list[Row], header: str) -> str:
    lines = [header, "", "| request | clients | req/s | p50 ms | p99 ms | requests | non-2xx | errors |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.request} | {r.clients} | {r.requests_per_second:,.0f} | {fmt_ms(r.p50_ms)} | "
                     f"{fmt_ms(r.p99_ms)} | {r.answered:,} | {r.non_2xx:,} | {r.errors:,} |")
    return "\n".join(lines)


def build_description(binary: Path, debug_build: bool) -> str:
    """The binary's version and the commit it was built from (as far as git can tell)."""
    try:
        version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        version = binary.name
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True,
                                timeout=10).stdout.strip()
    except OSError:
        commit = ""
    kind = "debug build (the tests': figures not representative)" if debug_build else "release build"
    return f"{version or binary.name}, {kind}" + (f", source tree at {commit}" if commit else "")


def log_tail(api: LocalApi, lines: int = 20) -> str:
    """The end of local-api's log: under load it is mostly access lines."""
    return "\n".join(api.output().splitlines()[-lines:])


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--local-api", type=Path, default=ROOT / "target" / "release" / "local-api")
    ap.add_argument("--out", type=Path, default=ROOT / "target" / "bench")
    ap.add_argument("--smoke", action="store_true",
                    help=f"{SMOKE.seconds} s per load, clients {SMOKE.clients}: CI's check that it runs")
    ap.add_argument("--debug-build", action="store_true",
                    help="the binary is a debug build, the figures say little (implied by a path through target/debug)")
    ap.add_argument("--doc", type=Path, help="also write the table here, as the generated page docs/ link to")
    args = ap.parse_args(argv)

    mode = SMOKE if args.smoke else FULL
    clients, seconds = mode.clients, mode.seconds
    if not (AUTOCANNON / "package.json").is_file():
        print("FAIL autocannon is not installed: run (cd tests/e2e && npm ci)", file=sys.stderr)
        return 1
    binary = args.local_api.resolve()
    debug_build = args.debug_build or "debug" in binary.parts
    rows: list[Row] = []
    failures: list[str] = []
    started = time.monotonic()
    env = {"TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS), "REQUIRE_VERIFIED_EMAIL": "false"}
    with tempfile.TemporaryDirectory(prefix="load-data-") as data_dir, \
            LocalApi(binary, ["--host", HOST, "--data-dir", data_dir], env) as api:
        try:
            print(f"seeding local-api ({binary.name}, embedded store in {data_dir}): {SEEDED_POSTS} posts, "
                  f"{max(clients)} login accounts", flush=True)
            data = seed(api.port, max(clients))
            created: list[str] = []
            for request in REQUESTS:
                for n in clients:
                    print(f"loading {request} with {n} client(s) for {seconds} s", flush=True)
                    result = run_load(load_spec(request, n, seconds, api.port, data))
                    if api.proc.poll() is not None:
                        raise Failure(f"local-api exited with {api.proc.returncode} during {request} with {n} "
                                      f"clients:\n{log_tail(api)}")
                    created += result.pop("ids", None) or []
                    rows.append(to_row(request, result))
                    failures += problems(request, result)
            if not failures:
                print(f"checking the {len(created):,} posts answered 201: listed, readable, no other", flush=True)
                check_posts_kept(api.port, data.writer_id, created)
        except Failure as failure:
            failures.append(str(failure))
        peak = peak_rss_kib(api.proc.pid) / 1024 if api.proc.poll() is None else None
        if api.proc.poll() is None and api.stop() != 0:
            failures.append(f"local-api exited with {api.proc.returncode} on SIGTERM:\n{log_tail(api)}")

    elapsed = time.monotonic() - started
    peak_text = f"; local-api's peak RSS {peak:.0f} MiB" if peak is not None else ""
    header = (f"Machine: {machine_description()}\n"
              f"Build: {build_description(binary, debug_build)}\n"
              f"local-api on the embedded store (redb, fsync per write), over loopback ({HOST}); autocannon "
              f"{autocannon_version()} on the same machine; {seconds} s per load, keep-alive connections with one "
              f"request in flight each{peak_text}")
    table_text = render(rows, header)
    print()
    print(table_text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.md").write_text(table_text + "\n")
    (args.out / "load.json").write_text(json.dumps({
        "machine": machine_description(),
        "build": build_description(binary, debug_build),
        "mode": "smoke" if args.smoke else "full",
        "generator": f"autocannon {autocannon_version()}",
        "seconds_per_load": seconds,
        "elapsed_seconds": round(elapsed, 1),
        "local_api_peak_rss_mib": peak,
        "rows": [asdict(r) for r in rows],
        "failures": failures,
    }, indent=2) + "\n")
    print(f"\nwrote {args.out / 'load.md'} and {args.out / 'load.json'} ({elapsed:.0f} s)", flush=True)
    if failures:
        for failure in failures:
            print(f"FAIL {failure}", file=sys.stderr, flush=True)
        return 1
    if args.doc:
        write_doc(args.doc, "The load test's last full run", table_text)
    return 0


def autocannon_version() -> str:
    return json.loads((AUTOCANNON / "package.json").read_text())["version"]


if __name__ == "__main__":
    sys.exit(main())
