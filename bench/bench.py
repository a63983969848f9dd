#!/usr/bin/env python3
"""The benchmark: cold start, latency, memory, package size and cost of every function.

Run it through `bash bench/run.sh` (it builds the binaries and starts moto). Each
release bootstrap runs as Lambda runs it, under the Lambda Runtime Interface Emulator,
against a DynamoDB wire-protocol server (moto), next to two floors built with the same
profile: `floor-bare` (lambda_http answering "hello") and `floor-sdk` (the same plus the
DynamoDB client built at init and one PutItem + one consistent GetItem per request).

The functions are those of template.yaml (every resource with a
`Metadata.BuildProperties.Binary`); each is exercised by its entry in SCENARIOS, which
prepares its table and makes a request that succeeds on every call. A function of the
template with no entry fails the run.

Per function it measures:
- init: the emulator's `INIT REPORT` duration, median over fresh emulators (cold starts);
- first: the `REPORT` duration of the first invocation after init;
- warm p50/p99: `REPORT` durations of the invocations after that, in one sandbox;
- peak RSS: `VmHWM` of the bootstrap process, read from /proc before it is stopped;
- CPU per warm invocation: the process's on-CPU time (/proc/<pid>/task/*/schedstat);
- the zipped bootstrap (deflate, as `sam build` / `cargo lambda build -o zip` pack it);
- next to it, the same store calls made directly in one process (bench-direct), a bare
  argon2id verify next to login, login's own handler on the embedded store, and
  list-posts at two table sizes on the embedded store and on moto.

It prints one table, writes JSON and Markdown under --out, and checks the budgets of
issues 6 and 18, printing each as `ok` or `MISS`. Timings never fail it: it exits
non-zero only when a function answers with the wrong status, does not run, or has no
way to be exercised.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

from tests.e2e.appsync import FakeAppSync
from tests.e2e.realtime_client import Subscriber
from tests.e2e.support import (  # the emulator and template helpers are shared with the e2e tests
    EVENTS,
    ROOT,
    Emulator,
    LocalApi,
    MotoServer,
    aws_client,
    create_table,
    declared_variables,
    function_resource,
    function_setting,
    lambda_env,
    load_template,
    rie_path,
    ses_messages,
    store_sample_author,
)

REPORT = re.compile(r"^REPORT RequestId: \S+\s+(?:Init Duration: [0-9.]+ ms\s+)?Duration: ([0-9.]+) ms", re.M)
INIT_REPORT = re.compile(r"INIT REPORT\([^)]*?durationMs: ([0-9.]+)")

# AWS Lambda on arm64 in us-east-1, first pricing tier, as published on
# https://aws.amazon.com/lambda/pricing/ (checked 2026-11-22 against stored copies of the
# page). Duration is billed per 1 ms, rounded up; a custom runtime's init is billed too.
PRICE_PER_GB_SECOND = 0.0000133334
PRICE_PER_MILLION_REQUESTS = 0.20
FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB, a share in proportion below.
MEMORY_SIZES_MB = (128, 256, 512, 1024, FULL_VCPU_MB)
ZIP_BUDGET_BYTES = 4_000_000
# Issue 18's goal line: a function's init within this of the bare floor's.
INIT_ABOVE_BARE_FLOOR_MS = 1.5
# The functions whose happy path hashes or verifies a password: argon2id holds 19 MiB
# while it runs, so their peak RSS budget is the SDK floor + 24 MiB, not 1.5x the floor.
ARGON2_FUNCTIONS = ("signup", "login", "change-password", "delete-account", "reset-password")

# The functions whose store calls bench-direct repeats in one process.
DIRECT = ("signup", "login", "create-post", "list-posts")
FLOORS = ("floor-bare", "floor-sdk")
# A stream consumer answers Lambda's batch response, not HTTP: it is right when no record failed.
NO_FAILED_RECORDS = "no failed records"
# The stream events Lambda hands the consumers: for the publisher, a post created, edited
# and deleted; for the mail sender, the shape of a record (its item is the bench's own).
STREAM_EVENT = ROOT / "functions" / "publish-post-events" / "tests" / "data" / "stream-event.json"
MAIL_STREAM_EVENT = ROOT / "functions" / "send-mail" / "tests" / "data" / "stream-event.json"
# The sender the mail goes out from: verified in moto's SES (SES refuses any other).
MAIL_FROM = "blog-bench@example.com"
BENCH_PASSWORDS = ("a bench passphrase, first", "a bench passphrase, second")


@dataclass
class Stats:
    p50: float
    p99: float
    n: int

    @staticmethod
    def of(samples: list[float]) -> "Stats":
        ordered = sorted(samples)
        return Stats(p50=percentile(ordered, 50), p99=percentile(ordered, 99), n=len(ordered))


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of a sorted, non-empty list."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class FunctionResult:
    name: str
    memory_mb: int | None
    zip_bytes: int
    init_ms: list[float] = field(default_factory=list)
    first_ms: list[float] = field(default_factory=list)
    warm: Stats | None = None
    billed_ms_mean: float | None = None
    cpu_ms_per_call: float | None = None
    peak_rss_kib: int | None = None
    direct: Stats | None = None

    @property
    def init_median(self) -> float:
        return statistics.median(self.init_ms)

    @property
    def first_median(self) -> float:
        return statistics.median(self.first_ms)


class Failure(Exception):
    """A function answered wrongly or did not run: the benchmark's only failure."""


# --------------------------------------------------------------------------- events

def sample(function: str) -> dict[str, Any]:
    """The sample event of `function`: events/<function>.json."""
    return json.loads((EVENTS / f"{function}.json").read_text())


_KEEP = object()


def http_event(function: str, *, body: Any = _KEEP, bearer: Any = _KEEP, path: dict[str, str] | None = None,
               headers: dict[str, str] | None = None, source_ip: str | None = None) -> bytes:
    """`function`'s sample API Gateway event (payload 2.0), with what is given replaced: the
    JSON body (None: no body), the bearer token (None: none), the path parameters (the
    path made from the route), extra headers, and the client address."""
    event = sample(function)
    context = event["requestContext"]["http"]
    lowered = {key.lower(): key for key in event["headers"]}
    if path is not None:
        event["pathParameters"] = path
        event["rawPath"] = context["path"] = event["routeKey"].split(" ", 1)[1].format(**path)
    if bearer is not _KEEP:
        event["headers"].pop(lowered.get("authorization", "authorization"), None)
        if bearer is not None:
            event["headers"]["authorization"] = f"Bearer {bearer}"
    if body is not _KEEP:
        event["body"] = None if body is None else json.dumps(body)
        event["isBase64Encoded"] = False
        event["headers"][lowered.get("content-length", "content-length")] = str(len((event["body"] or "").encode()))
        if body is not None:
            event["headers"][lowered.get("content-type", "content-type")] = "application/json"
    if source_ip is not None:
        context["sourceIp"] = source_ip
        event["headers"][lowered.get("x-forwarded-for", "x-forwarded-for")] = source_ip
    event["headers"].update(headers or {})
    return json.dumps(event).encode()


def sample_bearer() -> str:
    """The bearer token of the sample events: the sample author's (store_sample_author)."""
    return sample("create-post")["headers"]["authorization"].split()[1]


def claims_of(access_token: str) -> dict[str, Any]:
    """An access token's claims, read without checking it (the function checks it)."""
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def list_limit() -> str:
    """The page size events/list-posts.json asks for, so direct Queries ask for the same."""
    return sample("list-posts")["queryStringParameters"]["limit"]


def login_credentials() -> tuple[str, str]:
    """The email and password events/login.json logs in with."""
    body = json.loads(sample("login")["body"])
    return body["email"], body["password"]


# --------------------------------------------------------------------------- the emulator

@dataclass
class Reply:
    """What a function answered: its outcome (an HTTP status, NO_FAILED_RECORDS for a
    stream batch with no failure, else None), its headers (lower-cased) and its body
    (parsed when it is JSON)."""

    outcome: Any
    headers: dict[str, str]
    body: Any

    @staticmethod
    def of(raw: bytes) -> "Reply":
        try:
            answer = json.loads(raw)
        except ValueError:
            return Reply(None, {}, raw)
        if answer == {"batchItemFailures": []}:
            return Reply(NO_FAILED_RECORDS, {}, answer)
        if not isinstance(answer, dict) or "statusCode" not in answer:
            return Reply(None, {}, answer)
        headers = {key.lower(): value for key, value in (answer.get("headers") or {}).items()}
        try:
            body = json.loads(answer.get("body") or "null")
        except ValueError:
            body = answer.get("body")
        return Reply(answer["statusCode"], headers, body)


class Sandbox:
    """One emulator with one bootstrap: a Lambda execution environment."""

    def __init__(self, rie: Path, binary: Path, env: dict[str, str]):
        self.emulator = Emulator(rie, binary, env)
        self.binary = binary

    def __enter__(self) -> "Sandbox":
        self.emulator.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        self.emulator.stop()
        self.emulator.remove_log()

    def invoke(self, payload: bytes, want: int | str, outcome: Callable[[Reply], Any] | None = None,
               timeout: float = 30.0) -> Reply:
        """Invokes the function with `payload`; its reply, whose outcome (or what
        `outcome` makes of it) must be `want`."""
        http_status, raw = self.emulator.invoke(payload, timeout=timeout)
        reply = Reply.of(raw)
        if outcome is not None and http_status == 200:
            reply.outcome = outcome(reply)
        if http_status != 200 or reply.outcome != want:
            tail = "\n".join(self.emulator.output().splitlines()[-20:])
            raise Failure(f"{self.binary.parent.name}: got {reply.outcome} (emulator HTTP {http_status}), want {want}\n"
                          f"{raw[:500]!r}\n{tail}")
        return reply

    def reports(self, count: int, timeout: float = 5.0) -> tuple[list[float], list[float]]:
        """The init durations and the first `count` invocation durations, once logged."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.emulator.output()
            durations = [float(d) for d in REPORT.findall(out)]
            if len(durations) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if len(durations) < count:
            raise Failure(f"{self.binary.parent.name}: {len(durations)} REPORT lines, want {count}")
        return [float(d) for d in INIT_REPORT.findall(out)], durations[:count]

    def bootstrap_pid(self) -> int:
        """The bootstrap process: the emulator's child running our binary."""
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                exe = os.readlink(entry / "exe")
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.emulator.proc.pid and Path(exe) == self.binary.resolve():
                return int(entry.name)
        raise Failure(f"{self.binary.parent.name}: bootstrap process not found")


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise Failure(f"no VmHWM for {pid}")


def cpu_ns(pid: int) -> int:
    """On-CPU time of every thread of `pid` so far (schedstat: nanoseconds, not ticks)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended between listing and reading
    return total


# --------------------------------------------------------------------------- what each function is given

@dataclass
class Requests:
    """How one function is exercised: `make` gives the event of the next call (first making,
    through other functions' sandboxes, whatever that one call uses up), its reply's outcome
    must be `want`, and `answered` sees each reply (the refresh token or ETag the next call
    sends). Nothing done in `make` runs in the measured sandbox, so none of it is counted."""

    make: Callable[[], bytes]
    want: int | str = 200
    answered: Callable[[Reply], None] = lambda reply: None
    outcome: Callable[[Reply], Any] | None = None

    def call(self, sandbox: Sandbox) -> None:
        self.answered(sandbox.invoke(self.make(), self.want, self.outcome))


def fixed(payload: bytes, want: int | str = 200) -> Requests:
    return Requests(lambda: payload, want)


@dataclass
class Account:
    """An account made by signup, with its first session's tokens."""

    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str


class ResponseUrl:
    """A stand-in for the presigned URL CloudFormation gives a custom resource for its
    answer: plain HTTP on loopback, keeping the `Status` of each response PUT to it."""

    def __init__(self) -> None:
        statuses: list[str | None] = []
        self.statuses = statuses

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    statuses.append(json.loads(body).get("Status"))
                except (ValueError, AttributeError):
                    statuses.append(None)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/response"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, _: Reply) -> str | None:
        """The status of the one answer received since the last call (None: none, or several)."""
        received, self.statuses[:] = list(self.statuses), []
        return received[0] if len(received) == 1 else None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Setup:
    """What every measurement shares: the template, the emulator and the bootstraps, the
    stand-ins, bench-direct, and the moto in use now (a fresh one for each measurement)."""

    def __init__(self, template: dict[str, Any], rie: Path, bin_dir: Path, direct_binary: Path, posts: int):
        self.template, self.rie, self.bin_dir, self.posts = template, rie, bin_dir, posts
        self.direct_binary = direct_binary
        self.sdk_env = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
        self.sdk_env["PATH"] = os.environ.get("PATH", "")
        self.moto: MotoServer | None = None
        self.endpoint = ""
        self.direct = Direct(direct_binary, self.sdk_env)
        self.appsync = FakeAppSync()

    def fresh_moto(self) -> None:
        """A moto of its own for the next measurement: moto grows with every transaction it
        serves (each copies the tables it names) and everything after it slows down, so one
        function's figures must not depend on what was measured before it."""
        self.stop_moto()
        self.moto = MotoServer()
        self.endpoint = self.moto.endpoint
        self.direct = Direct(self.direct_binary, self.sdk_env | {"AWS_ENDPOINT_URL_DYNAMODB": self.endpoint})

    def stop_moto(self) -> None:
        if self.moto is not None:
            self.moto.stop()
            self.moto = None

    def close(self) -> None:
        self.stop_moto()
        self.appsync.close()

    def bootstrap(self, name: str) -> Path:
        return (self.bin_dir / name / "bootstrap").resolve()

    def env_for(self, name: str, table: str) -> tuple[dict[str, str], int | None]:
        """The environment the template gives `name`, on `table`; every AWS service it
        calls is moto, and every other service a local stand-in. Its memory size."""
        if name in FLOORS:
            return lambda_env(self.template, {}, name, table, self.endpoint), None
        _, props = function_resource(self.template, name)
        memory = function_setting(self.template, props, "MemorySize", 128)
        env = lambda_env(self.template, props, name, table, self.endpoint)
        env.update(AWS_ENDPOINT_URL_SECRETS_MANAGER=self.endpoint, AWS_ENDPOINT_URL_SESV2=self.endpoint)
        declared = declared_variables(self.template, props)
        if "REALTIME_PUBLISH_URL" in declared:  # a stand-in for AppSync that checks each signature
            env["REALTIME_PUBLISH_URL"] = self.appsync.url
        if "MAIL_FROM" in declared:
            aws_client("ses", self.endpoint).verify_email_identity(EmailAddress=MAIL_FROM)
            env.update(MAIL_FROM=MAIL_FROM, APP_URL="https://blog.example.com/")
        return env, int(memory)


class World:
    """One measurement's table, and what it takes to fill it: sandboxes of any function
    (apart from the measured one, kept for the whole measurement), and the accounts,
    sessions, posts and mailed tokens made through them. Made empty: each measurement
    gets a table of its own, because moto's costs grow with what a table holds."""

    def __init__(self, setup: Setup):
        self.setup = setup
        self.client, self.table = create_table(setup.template, setup.endpoint)
        self.helpers: dict[str, Sandbox] = {}
        self.closers: list[Callable[[], None]] = []

    def __enter__(self) -> "World":
        return self

    def __exit__(self, *exc: object) -> None:
        for sandbox in self.helpers.values():
            sandbox.__exit__()
        for close in self.closers:
            close()

    def keys(self) -> frozenset[tuple[tuple[str, str], ...]]:
        """The key of every item the table holds."""
        names = [key["AttributeName"] for key in self.setup.template["Resources"]["BlogTable"]["Properties"]["KeySchema"]]
        pages = self.client.get_paginator("scan").paginate(TableName=self.table, ProjectionExpression=", ".join(names))
        return frozenset(tuple((name, item[name]["S"]) for name in names) for page in pages for item in page["Items"])

    def empty(self, keep: frozenset[tuple[tuple[str, str], ...]] = frozenset()) -> None:
        """Deletes every item of the table but those keyed in `keep`: moto's transactions
        copy what the table holds, so they slow down as it fills; DynamoDB's do not."""
        for key in self.keys() - keep:
            self.client.delete_item(TableName=self.table, Key={name: {"S": value} for name, value in key})

    def call(self, function: str, payload: bytes, want: int | str) -> Reply:
        """`function`'s reply to `payload`, which must be `want`, from its own sandbox."""
        sandbox = self.helpers.get(function)
        if sandbox is None:
            env, _ = self.setup.env_for(function, self.table)
            sandbox = self.helpers[function] = Sandbox(self.setup.rie, self.setup.bootstrap(function), env).__enter__()
        try:
            return sandbox.invoke(payload, want)
        except Failure as failure:
            raise Failure(f"while preparing a call: {failure}") from None

    def account(self, email: str | None = None, password: str = BENCH_PASSWORDS[0]) -> Account:
        """A new account, made by signup."""
        email = email or f"{uuid.uuid4().hex}@bench.example.com"
        body = {**json.loads(sample("signup")["body"]), "email": email, "password": password}
        made = self.call("signup", http_event("signup", body=body), 201).body
        return Account(made["user"]["id"], email, password, made["access_token"], made["refresh_token"])

    def login(self, account: Account) -> dict[str, Any]:
        """A new session of `account` (login's answer: its tokens)."""
        body = {"email": account.email, "password": account.password}
        return self.call("login", http_event("login", body=body), 200).body

    def sample_post(self) -> Reply:
        """A new post by the sample author (stored first with store_sample_author), made by
        create-post: its reply (the post, its ETag)."""
        return self.call("create-post", sample_event_bytes("create-post"), 201)

    def mail_record(self, key: str) -> dict[str, Any]:
        """The stream record Lambda hands send-mail for the mail request at `pk = key` (the
        record's shape from send-mail's test event, its item read from the table)."""
        item = self.client.get_item(TableName=self.table, Key={"pk": {"S": key}, "sk": {"S": "MAIL"}},
                                    ConsistentRead=True).get("Item")
        if item is None:
            raise Failure(f"while preparing a call: no mail request {key} in the table")
        record = json.loads(MAIL_STREAM_EVENT.read_text())["Records"][0]
        record["dynamodb"].update(Keys={"pk": item["pk"], "sk": item["sk"]}, NewImage=item,
                                  SequenceNumber=str(uuid.uuid4().int)[:24])
        return record

    def mailed_token(self, key: str) -> str:
        """The token of a message send-mail sends now for the mail request at `pk = key`,
        read from what moto's SES sent."""
        seen = len(ses_messages(self.setup.endpoint))
        self.call("send-mail", json.dumps({"Records": [self.mail_record(key)]}).encode(), NO_FAILED_RECORDS)
        sent = ses_messages(self.setup.endpoint)[seen:]
        tokens = [token for message in sent for token in re.findall(r"token=([A-Za-z0-9_-]{43})", message["body"])]
        if not tokens:
            raise Failure(f"while preparing a call: send-mail sent no token for {key}: {sent}")
        return tokens[-1]


def sample_event_bytes(function: str) -> bytes:
    return (EVENTS / f"{function}.json").read_bytes()


# Each function's requests, made on a World: the key is the function's Binary in
# template.yaml. The wanted outcome is the success its API or event source defines.
SCENARIOS: dict[str, Callable[[World], Requests]] = {}
# Each call of these needs a token send-mail has just mailed, read back from moto's dump of
# its whole state, which grows with every call: a full run's count would take most of an hour.
WARM_CALLS_AT_MOST = {"verify-email": 40, "reset-password": 40}


def scenario(name: str) -> Callable[[Callable[[World], Requests]], Callable[[World], Requests]]:
    def register(make: Callable[[World], Requests]) -> Callable[[World], Requests]:
        SCENARIOS[name] = make
        return make
    return register


@scenario("signup")
def _signup(world: World) -> Requests:
    """A new email each call, on an empty table: its eight-item transaction on moto grows
    slower with every account the table holds (past its 2 s timeout in a full run)."""
    body = json.loads(sample("signup")["body"])
    return Requests(lambda: http_event("signup", body={**body, "email": f"{uuid.uuid4().hex}@bench.example.com"}), 201,
                    answered=lambda reply: world.empty())


@scenario("login")
def _login(world: World) -> Requests:
    """The sample login, to its account made by signup; after each call the table is back
    to that account alone, as signup's is emptied (its session's transaction on moto grows
    slower with every session the table holds)."""
    email, password = login_credentials()
    world.account(email, password)
    account_alone = world.keys()
    return Requests(lambda: sample_event_bytes("login"), 200, answered=lambda reply: world.empty(keep=account_alone))


@scenario("google-sign-in")
def _google_sign_in(world: World) -> Requests:
    """A returning sign-in: the sample's Google account made by its first sign-in; Google's
    keys from a local stand-in, fetched at the first call as on AWS, but nearer."""
    world.call("google-sign-in", sample_event_bytes("google-sign-in"), 201)
    return fixed(sample_event_bytes("google-sign-in"))


@scenario("refresh-token")
def _refresh_token(world: World) -> Requests:
    """A chain, as a client refreshes: each call presents the refresh token the previous one returned."""
    chain = [world.account().refresh_token]
    return Requests(lambda: http_event("refresh-token", body={"refresh_token": chain[-1]}), 200,
                    answered=lambda reply: chain.append(reply.body["refresh_token"]))


@scenario("logout")
def _logout(world: World) -> Requests:
    """Each call ends a session logged in for it."""
    account = world.account()
    return Requests(lambda: http_event("logout", body={"refresh_token": world.login(account)["refresh_token"]}), 204)


@scenario("logout-all")
def _logout_all(world: World) -> Requests:
    """Each call ends the account's sessions: one logged in for it."""
    account = world.account()

    def make() -> bytes:
        world.login(account)
        return http_event("logout-all", bearer=account.access_token)
    return Requests(make, 204)


@scenario("list-sessions")
def _list_sessions(world: World) -> Requests:
    """An account with its signup's session and one login's."""
    account = world.account()
    world.login(account)
    return fixed(http_event("list-sessions", bearer=account.access_token))


@scenario("revoke-session")
def _revoke_session(world: World) -> Requests:
    """Each call ends another session of the account: one logged in for it."""
    account = world.account()

    def make() -> bytes:
        session = claims_of(world.login(account)["access_token"])["sid"]
        return http_event("revoke-session", bearer=account.access_token, path={"id": session})
    return Requests(make, 204)


@scenario("me")
def _me(world: World) -> Requests:
    """The sample author's profile, with the sample's token."""
    store_sample_author(world.client, world.table)
    return fixed(sample_event_bytes("me"))


@scenario("update-profile")
def _update_profile(world: World) -> Requests:
    """A new display name each call."""
    account = world.account()
    calls = itertools.count()
    return Requests(lambda: http_event("update-profile", bearer=account.access_token,
                                       body={"display_name": f"Bench {next(calls)}"}), 200)


@scenario("change-password")
def _change_password(world: World) -> Requests:
    """Between two passwords, each call ending another session (one logged in for it)."""
    account = world.account()
    passwords = list(BENCH_PASSWORDS)

    def make() -> bytes:
        account.password = passwords[0]
        world.login(account)
        passwords.reverse()
        return http_event("change-password", bearer=account.access_token,
                          body={"current_password": passwords[1], "new_password": passwords[0]})
    return Requests(make, 204)


@scenario("link-google-identity")
def _link_google_identity(world: World) -> Requests:
    """The sample's Google account linked to an account, again each call (it is its own already)."""
    account = world.account()
    return fixed(http_event("link-google-identity", bearer=account.access_token))


@scenario("delete-account")
def _delete_account(world: World) -> Requests:
    """Each call deletes an account signed up for it (its session with it)."""
    def make() -> bytes:
        account = world.account()
        return http_event("delete-account", bearer=account.access_token, body={"password": account.password})
    return Requests(make, 204)


@scenario("create-post")
def _create_post(world: World) -> Requests:
    """The sample post, by the sample author."""
    store_sample_author(world.client, world.table)
    return fixed(sample_event_bytes("create-post"), 201)


@scenario("get-post")
def _get_post(world: World) -> Requests:
    """One post."""
    store_sample_author(world.client, world.table)
    post = world.sample_post().body["post"]["id"]
    return fixed(http_event("get-post", path={"id": post}))


@scenario("update-post")
def _update_post(world: World) -> Requests:
    """One post, edited each call on condition of its version (If-Match: the previous reply's ETag)."""
    store_sample_author(world.client, world.table)
    created = world.sample_post()
    post, etag = created.body["post"]["id"], [created.headers["etag"]]
    return Requests(lambda: http_event("update-post", path={"id": post}, headers={"if-match": etag[-1]}), 200,
                    answered=lambda reply: etag.append(reply.headers["etag"]))


@scenario("delete-post")
def _delete_post(world: World) -> Requests:
    """Each call deletes a post made for it."""
    store_sample_author(world.client, world.table)
    return Requests(lambda: http_event("delete-post", path={"id": world.sample_post().body["post"]["id"]}), 204)


@scenario("list-posts")
def _list_posts(world: World) -> Requests:
    """The sample page, of a table holding the smaller of the two list sizes."""
    world.setup.direct.run("seed-posts", "--count", str(world.setup.posts), table=world.table)
    return fixed(sample_event_bytes("list-posts"))


@scenario("list-user-posts")
def _list_user_posts(world: World) -> Requests:
    """The sample author's page, of as many posts as list-posts' table holds."""
    store_sample_author(world.client, world.table)
    for _ in range(world.setup.posts):
        world.sample_post()
    return fixed(http_event("list-user-posts", path={"id": claims_of(sample_bearer())["sub"]}))


@scenario("forgot-password")
def _forgot_password(world: World) -> Requests:
    """A new email from a new address each call (the limits count per address and per email)."""
    calls = itertools.count(1)

    def make() -> bytes:
        n = next(calls)
        return http_event("forgot-password", body={"email": f"{uuid.uuid4().hex}@bench.example.com"},
                          source_ip=f"198.18.{n // 250}.{n % 250 + 1}")
    return Requests(make, 202)


@scenario("resend-verification")
def _resend_verification(world: World) -> Requests:
    """One account; before each call its last request is moved back past the mail
    interval, as the e2e test does (an interval has passed)."""
    account = world.account()

    def make() -> bytes:
        world.client.update_item(TableName=world.table,
                                 Key={"pk": {"S": f"MAIL#verify_email#{account.id}"}, "sk": {"S": "MAIL"}},
                                 UpdateExpression="SET requested_at = requested_at - :interval",
                                 ExpressionAttributeValues={":interval": {"N": "61000"}})
        return http_event("resend-verification", bearer=account.access_token)
    return Requests(make, 202)


@scenario("verify-email")
def _verify_email(world: World) -> Requests:
    """Each call verifies an account signed up for it, with the token send-mail mailed it."""
    def make() -> bytes:
        token = world.mailed_token(f"MAIL#verify_email#{world.account().id}")
        return http_event("verify-email", body={"token": token})
    return Requests(make, 200)


@scenario("reset-password")
def _reset_password(world: World) -> Requests:
    """One account, its reset asked for once (forgot-password); each call uses a token
    send-mail mails for that request, setting a new password."""
    account = world.account()
    world.call("forgot-password", http_event("forgot-password", body={"email": account.email}), 202)
    calls = itertools.count()

    def make() -> bytes:
        token = world.mailed_token(f"MAIL#reset_password#{account.email}")
        new_password = f"a new passphrase, number {next(calls)}"
        return http_event("reset-password", body={"token": token, "new_password": new_password})
    return Requests(make, 204)


@scenario("send-mail")
def _send_mail(world: World) -> Requests:
    """A batch of one record: the verification mail an account's signup asked for (the
    account stays unverified, so each call mails a new link), through SES (moto's)."""
    record = world.mail_record(f"MAIL#verify_email#{world.account().id}")
    return fixed(json.dumps({"Records": [record]}).encode(), NO_FAILED_RECORDS)


@scenario("publish-post-events")
def _publish_post_events(world: World) -> Requests:
    """The stream event of its tests (a post created, edited and deleted): two publishes to
    the stand-in for AppSync, which checks each signature."""
    return fixed(STREAM_EVENT.read_bytes(), NO_FAILED_RECORDS)


@scenario("jwks")
def _jwks(world: World) -> Requests:
    """The sample request."""
    return fixed(sample_event_bytes("jwks"))


@scenario("signing-key")
def _signing_key(world: World) -> Requests:
    """CloudFormation's Create of the key set: a new key written to a secret (moto's), the
    answer PUT to a local stand-in for the response URL, which must get SUCCESS."""
    secret = f"bench-signing-keys-{uuid.uuid4().hex[:12]}"
    aws_client("secretsmanager", world.setup.endpoint).create_secret(Name=secret, SecretString='{"keys": []}')
    response_url = ResponseUrl()
    world.closers.append(response_url.close)
    calls = itertools.count()

    def make() -> bytes:
        return json.dumps({
            "RequestType": "Create", "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:signing-key",
            "ResponseURL": response_url.url, "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/blog/1",
            "RequestId": f"bench-{next(calls)}", "ResourceType": "Custom::SigningKeys",
            "LogicalResourceId": "SigningKeys", "ResourceProperties": {"ServiceToken": "arn", "SecretId": secret},
        }).encode()
    return Requests(make, "SUCCESS", outcome=response_url.answer)


def template_functions(template: dict[str, Any]) -> list[str]:
    """The functions of the template (every resource with a BuildProperties.Binary, as the
    e2e tests find them), in SCENARIOS' order; a Failure if any has no scenario, or a
    scenario no function."""
    binaries = {binary for res in template["Resources"].values()
                if (binary := (res.get("Metadata") or {}).get("BuildProperties", {}).get("Binary"))}
    if missing := sorted(binaries - set(SCENARIOS)):
        raise Failure(f"no way to exercise {', '.join(missing)}: add its requests to SCENARIOS in bench/bench.py")
    if stale := sorted(set(SCENARIOS) - binaries):
        raise Failure(f"SCENARIOS in bench/bench.py names {', '.join(stale)}, which template.yaml does not build")
    return [name for name in SCENARIOS if name in binaries]


# --------------------------------------------------------------------------- measurements

# The smoke run's debug bootstraps are tens of MB: it zips them at this deflate level
# (fast, a little larger), where a full run uses zlib's default, as `sam build` packs them.
SMOKE_ZIP_LEVEL = 1


def zipped_size(binary: Path, level: int | None = None) -> int:
    target = binary.parent / "bootstrap.bench.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.write(binary, "bootstrap")
    size = target.stat().st_size
    target.unlink()
    return size


def measure_function(name: str, binary: Path, env: dict[str, str], memory: int | None,
                     cold: int, warm: int, rie: Path, requests: Requests,
                     zip_level: int | None = None) -> FunctionResult:
    result = FunctionResult(name=name, memory_mb=memory, zip_bytes=zipped_size(binary, zip_level))
    for attempt in range(cold):
        with Sandbox(rie, binary, env) as sandbox:
            requests.call(sandbox)
            inits, durations = sandbox.reports(1)
            if not inits:
                raise Failure(f"{name}: no INIT REPORT")
            result.init_ms.append(inits[0])
            # The emulator initialises on the first invoke, and that invoke's REPORT
            # Duration includes the init (strace showed a bootstrap answer in 15 ms an
            # invoke REPORTed as 84.8 ms after a 68.9 ms init). Lambda reports them apart.
            result.first_ms.append(durations[0] - inits[0])
            if attempt == cold - 1:
                pid = sandbox.bootstrap_pid()
                cpu_before = cpu_ns(pid)
                for _ in range(warm):
                    requests.call(sandbox)
                cpu_after = cpu_ns(pid)
                _, durations = sandbox.reports(1 + warm)
                warm_ms = durations[1:]
                result.warm = Stats.of(warm_ms)
                result.billed_ms_mean = statistics.fmean(math.ceil(d) for d in warm_ms)
                result.cpu_ms_per_call = (cpu_after - cpu_before) / warm / 1e6
                result.peak_rss_kib = peak_rss_kib(pid)
    return result


def realtime_latency(local_api: Path, subscribers: int, events: int) -> Stats:
    """Milliseconds from sending `POST /posts` to local-api (in memory) until each of
    `subscribers` pages on the feed has the post's event: the write, the store's
    announcement, the fan-out and the WebSocket, measured with Python clients."""
    with LocalApi(local_api, ["--memory"]) as api:
        status, _, session = api.request("POST", "/signup", {"email": "realtime@bench.example.com",
                                                             "password": "a-fine-passphrase", "display_name": "Bench"})
        if status != 201:
            raise Failure(f"local-api signup for the realtime benchmark: {status} {session}")
        bearer = {"authorization": f"Bearer {session['access_token']}"}
        url = f"ws://127.0.0.1:{api.port}/event/realtime"
        pages = [Subscriber(url, ["/posts/feed"], timeout=30) for _ in range(subscribers)]
        sent: dict[str, float] = {}
        samples: list[float] = []
        lock = threading.Lock()

        def listen(page: Subscriber) -> None:
            for _ in range(events):
                _, event = page.event()
                arrived = time.perf_counter()
                with lock:
                    samples.append((arrived - sent[event["post"]["title"]]) * 1000)

        listeners = [threading.Thread(target=listen, args=(page,)) for page in pages]
        try:
            for listener in listeners:
                listener.start()
            for i in range(events):
                title = f"Realtime {i}"
                sent[title] = time.perf_counter()
                status, _, created = api.request("POST", "/posts", {"title": title, "body": "Live."}, bearer)
                if status != 201:
                    raise Failure(f"local-api create-post for the realtime benchmark: {status} {created}")
            for listener in listeners:
                listener.join(timeout=60)
        finally:
            for page in pages:
                page.close()
    if len(samples) != subscribers * events:
        raise Failure(f"realtime: {len(samples)} of {subscribers * events} deliveries arrived")
    return Stats.of(samples)


class Direct:
    """bench-direct, run with the benchmark's DynamoDB environment."""

    def __init__(self, binary: Path, env: dict[str, str]):
        self.binary = binary
        self.env = env

    def run(self, *args: str, table: str | None = None) -> dict[str, Any]:
        env = {**self.env, **({"TABLE_NAME": table} if table else {})}
        done = subprocess.run([str(self.binary), *args], env=env, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise Failure(f"bench-direct {' '.join(args)}: exit {done.returncode}\n{done.stderr[-2000:]}")
        return json.loads(done.stdout)

    def stats(self, *args: str, table: str | None = None) -> Stats:
        return Stats.of(self.run(*args, table=table)["samples_ms"])


def cost_per_million(duration_ms: float, memory_mb: int) -> float:
    gb_seconds = math.ceil(duration_ms) / 1000 * memory_mb / 1024
    return PRICE_PER_MILLION_REQUESTS + gb_seconds * PRICE_PER_GB_SECOND * 1e6


def lambda_duration_model(result: FunctionResult, memory_mb: int) -> float:
    """Warm duration on Lambda at `memory_mb`, modelled from what was measured here: the
    on-CPU part stretches by 1769/memory below a full vCPU, the waiting part does not."""
    assert result.warm is not None and result.cpu_ms_per_call is not None
    cpu = min(result.cpu_ms_per_call, result.warm.p50)
    waiting = result.warm.p50 - cpu
    return waiting + cpu * max(1.0, FULL_VCPU_MB / memory_mb)


# How much slower than on a full vCPU a function may be, in the modelled warm duration, for
# the memory size chosen for it: the cheapest size within this is the one to configure.
MEMORY_RULE_SLACK_MS = 5.0


def memory_size_by_rule(result: FunctionResult) -> int:
    fastest = lambda_duration_model(result, FULL_VCPU_MB)
    return min(m for m in MEMORY_SIZES_MB if lambda_duration_model(result, m) - fastest <= MEMORY_RULE_SLACK_MS)


# --------------------------------------------------------------------------- report

def budgets(results: dict[str, FunctionResult], extra: dict[str, Any]) -> list[tuple[str, bool, str]]:
    floor = results["floor-sdk"]
    bare = results["floor-bare"]
    checks: list[tuple[str, bool, str]] = []
    for name in functions_of(results):
        r = results[name]
        checks.append((f"{name}: init <= 1.5x SDK floor", r.init_median <= 1.5 * floor.init_median,
                       f"{r.init_median:.2f} ms vs {1.5 * floor.init_median:.2f} ms"))
        goal = bare.init_median + INIT_ABOVE_BARE_FLOOR_MS
        checks.append((f"{name}: init <= bare floor + {INIT_ABOVE_BARE_FLOOR_MS:g} ms", r.init_median <= goal,
                       f"{r.init_median:.2f} ms vs {goal:.2f} ms"))
        assert r.warm is not None
        checks.append((f"{name}: first invocation <= 3x warm p50", r.first_median <= 3 * r.warm.p50,
                       f"{r.first_median:.2f} ms vs {3 * r.warm.p50:.2f} ms"))
        checks.append((f"{name}: zipped bootstrap <= 4 MB", r.zip_bytes <= ZIP_BUDGET_BYTES,
                       f"{r.zip_bytes / 1e6:.2f} MB"))
        assert r.peak_rss_kib is not None and floor.peak_rss_kib is not None
        if name in ARGON2_FUNCTIONS:
            limit = floor.peak_rss_kib + 24 * 1024
            checks.append((f"{name}: peak RSS <= SDK floor + 24 MiB", r.peak_rss_kib <= limit,
                           f"{r.peak_rss_kib / 1024:.1f} MiB vs {limit / 1024:.1f} MiB"))
        else:
            limit = 1.5 * floor.peak_rss_kib
            checks.append((f"{name}: peak RSS <= 1.5x SDK floor", r.peak_rss_kib <= limit,
                           f"{r.peak_rss_kib / 1024:.1f} MiB vs {limit / 1024:.1f} MiB"))
        if name in ("create-post", "list-posts"):
            assert r.direct is not None
            overhead = r.warm.p50 - r.direct.p50
            checks.append((f"{name}: handler overhead <= 1 ms", overhead <= 1.0,
                           f"{overhead:.2f} ms (warm p50 {r.warm.p50:.2f} - direct {r.direct.p50:.2f})"))
    login = results["login"]
    assert login.warm is not None
    argon2 = extra["argon2_verify"]
    embedded_login = extra["embedded_login"]
    checks.append(("login on the embedded store: p50 <= bare argon2id verify + 3 ms",
                   embedded_login.p50 <= argon2.p50 + 3, f"{embedded_login.p50:.2f} ms vs {argon2.p50 + 3:.2f} ms"))
    # On moto, the store's round trips are most of what is left: they count as signup's do.
    assert login.direct is not None
    goal = argon2.p50 + login.direct.p50 + 3
    checks.append(("login: warm p50 <= bare argon2id verify + its store calls + 3 ms", login.warm.p50 <= goal,
                   f"{login.warm.p50:.2f} ms vs {goal:.2f} ms (store calls {login.direct.p50:.2f} ms)"))
    # A hash is the verify's work (same parameters); signup's one write is its direct time.
    signup = results["signup"]
    assert signup.warm is not None and signup.direct is not None
    goal = argon2.p50 + signup.direct.p50 + 3
    checks.append(("signup: warm p50 <= bare argon2id hash + its transaction + 3 ms", signup.warm.p50 <= goal,
                   f"{signup.warm.p50:.2f} ms vs {goal:.2f} ms (transaction {signup.direct.p50:.2f} ms)"))
    small, large = extra["list_sizes"]
    emb_small, emb_large = extra["embedded"][small], extra["embedded"][large]
    checks.append((f"list-posts embedded: p50 at {large:,} <= 1.5x at {small:,}", emb_large.p50 <= 1.5 * emb_small.p50,
                   f"{emb_large.p50:.3f} ms vs {1.5 * emb_small.p50:.3f} ms"))
    above = {size: extra["moto_handler"][size].p50 - extra["moto_query"][size].p50 for size in (small, large)}
    # The handler sends the same Query at both sizes and gets the same page back, so what
    # it adds cannot depend on the table; moto's own time at 10,000 posts swings by tens of
    # ms (Python GC over the scanned table). "Does not grow" therefore allows 1 ms or 10 %
    # of moto's Query time at the larger size, whichever is more.
    allowance = max(1.0, 0.1 * extra["moto_query"][large].p50)
    grows = above[large] - above[small] > allowance
    checks.append((f"list-posts moto: handler above moto's Query does not grow ({small:,} -> {large:,})", not grows,
                   f"{above[small]:.2f} ms -> {above[large]:.2f} ms (allowance {allowance:.1f} ms)"))
    checks.append(("SDK floor init above bare floor (for reference)", True,
                   f"{floor.init_median - bare.init_median:.2f} ms"))
    return checks


def functions_of(results: dict[str, FunctionResult]) -> list[str]:
    """The functions measured, floors aside, in the order measured."""
    return [name for name in results if name not in FLOORS]


def render(results: dict[str, FunctionResult], extra: dict[str, Any], checks: list[tuple[str, bool, str]],
           machine: str) -> str:
    lines = [f"Machine: {machine}", ""]
    lines.append("| function | memory | zip | init (median) | first | warm p50 | warm p99 | direct p50 | "
                 "CPU/call | peak RSS | $ per 1M (arm64) |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in results:
        r = results[name]
        assert r.warm is not None and r.peak_rss_kib is not None and r.cpu_ms_per_call is not None
        memory = r.memory_mb or 128
        direct = f"{r.direct.p50:.2f} ms" if r.direct else ("argon2 " + f"{extra['argon2_verify'].p50:.2f} ms"
                                                            if name == "login" else "-")
        if name == "login" and r.direct:
            direct = f"{r.direct.p50:.2f} ms + argon2 {extra['argon2_verify'].p50:.2f} ms"
        cost = f"{cost_per_million(r.billed_ms_mean or r.warm.p50, memory):.3f}" if r.memory_mb else "-"
        lines.append(
            f"| {name} | {r.memory_mb or '-'} | {r.zip_bytes / 1e6:.2f} MB | {r.init_median:.2f} ms "
            f"(n={len(r.init_ms)}) | {r.first_median:.2f} ms | {r.warm.p50:.2f} ms | {r.warm.p99:.2f} ms "
            f"(n={r.warm.n}) | {direct} | {r.cpu_ms_per_call:.2f} ms | {r.peak_rss_kib / 1024:.1f} MiB | {cost} |")
    small, large = extra["list_sizes"]
    lines += ["", "list-posts by table size (warm p50):", "",
              "| posts | embedded, in process | moto: handler under the emulator | moto: Query alone | "
              "handler above Query |", "|---|---|---|---|---|"]
    for size in (small, large):
        handler, query = extra["moto_handler"][size], extra["moto_query"][size]
        lines.append(f"| {size:,} | {extra['embedded'][size].p50:.3f} ms | {handler.p50:.2f} ms (n={handler.n}) | "
                     f"{query.p50:.2f} ms | {handler.p50 - query.p50:.2f} ms |")
    argon2, embedded_login = extra["argon2_verify"], extra["embedded_login"]
    lines += ["", f"Login's handler on the embedded store, in process: p50 {embedded_login.p50:.2f} ms, "
              f"p99 {embedded_login.p99:.2f} ms (n={embedded_login.n}); a bare argon2id verify: p50 {argon2.p50:.2f} ms, "
              f"p99 {argon2.p99:.2f} ms (n={argon2.n})."]
    lines += ["", "Realtime on local-api (in memory): from sending POST /posts to the event at each feed subscriber:",
              "", "| subscribers | p50 | p99 | deliveries |", "|---|---|---|---|"]
    for subscribers, latency in extra["realtime"].items():
        lines.append(f"| {subscribers} | {latency.p50:.2f} ms | {latency.p99:.2f} ms | {latency.n} |")
    lines += ["", "Modelled Lambda warm duration and $ per 1M requests by memory size "
              "(on-CPU time stretched by 1769/MB below a full vCPU; rule: the cheapest size within "
              f"{MEMORY_RULE_SLACK_MS:g} ms of a full vCPU):", ""]
    lines.append("| function | " + " | ".join(f"{m} MB" for m in MEMORY_SIZES_MB) + " |")
    lines.append("|---|" + "---|" * len(MEMORY_SIZES_MB))
    for name in functions_of(results):
        r = results[name]
        cells = []
        for memory in MEMORY_SIZES_MB:
            modelled = lambda_duration_model(r, memory)
            mark = (" (set)" if memory == r.memory_mb else "") + (" (rule)" if memory == memory_size_by_rule(r) else "")
            cells.append(f"{modelled:.1f} ms, ${cost_per_million(modelled, memory):.2f}{mark}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Memory size the rule picks from this run: " + ", ".join(
        f"{name} {memory_size_by_rule(results[name])} MB (set {results[name].memory_mb} MB)"
        for name in functions_of(results))]
    lines += ["", "Budgets:", ""]
    lines += [f"- {'ok  ' if passed else 'MISS'} {label}: {detail}" for label, passed, detail in checks]
    return "\n".join(lines)


def machine_description() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()}, {os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}"


def release_profile() -> str:
    """The release profile as this build saw it: Cargo.toml's, with CARGO_PROFILE_RELEASE_*
    overrides applied."""
    import tomllib

    profile = tomllib.loads((ROOT / "Cargo.toml").read_text())["profile"]["release"]
    for key in ("opt-level", "lto", "codegen-units", "strip", "panic"):
        override = os.environ.get(f"CARGO_PROFILE_RELEASE_{key.upper().replace('-', '_')}")
        if override is not None:
            profile[key] = override
    packages = "".join(f"; {name}: opt-level={settings['opt-level']}"
                       for name, settings in profile.get("package", {}).items() if "opt-level" in settings)
    return ", ".join(f"{key}={profile[key]}" for key in ("opt-level", "lto", "codegen-units", "strip", "panic")
                     if key in profile) + packages


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", type=Path, default=ROOT / "target" / "lambda")
    ap.add_argument("--direct", type=Path, default=ROOT / "target" / "release" / "bench-direct")
    ap.add_argument("--local-api", type=Path, default=ROOT / "target" / "release" / "local-api")
    ap.add_argument("--out", type=Path, default=ROOT / "target" / "bench")
    ap.add_argument("--build-seconds", type=int, help="how long the bootstraps took to build (run.sh times it)")
    ap.add_argument("--smoke", action="store_true", help="one cold start and a few warm calls: CI's check that it runs")
    ap.add_argument("--debug-build", action="store_true",
                    help="the bootstraps are the tests' debug builds: it runs, but its figures say nothing")
    ap.add_argument("--doc", type=Path, help="also write the table here, as the generated page docs/ link to")
    args = ap.parse_args(argv)

    cold, warm, small, large, large_calls = (1, 5, 10, 100, 4) if args.smoke else (10, 200, 100, 10_000, 40)
    zip_level = SMOKE_ZIP_LEVEL if args.smoke else None
    realtime_events, realtime_subscribers = (10, (1, 5)) if args.smoke else (200, (1, 100))
    template = load_template(ROOT / "template.yaml")
    setup = Setup(template, rie_path(), args.bin_dir, args.direct.resolve(), small)
    direct = setup.direct

    try:
        functions = template_functions(template)
        results: dict[str, FunctionResult] = {}
        for name in (*FLOORS, *functions):
            setup.fresh_moto()
            direct = setup.direct
            with World(setup) as world:
                # The floors answer any request; they get list-posts' sample.
                requests = fixed(sample_event_bytes("list-posts")) if name in FLOORS else SCENARIOS[name](world)
                env, memory = setup.env_for(name, world.table)
                calls = min(warm, WARM_CALLS_AT_MOST.get(name, warm))
                print(f"measuring {name} ({cold} cold starts, {calls} warm calls)", flush=True)
                results[name] = measure_function(name, setup.bootstrap(name), env, memory, cold, calls, setup.rie,
                                                 requests, zip_level)
            if name in DIRECT:
                # The same store calls on a table prepared the same way, in one process.
                with World(setup) as world:
                    SCENARIOS[name](world)
                    extra_args = {"login": ("--email", login_credentials()[0]),
                                  "list-posts": ("--limit", list_limit())}.get(name, ())
                    if name in ("signup", "login"):
                        # Rounds on a table brought back to what the scenario made, as the
                        # function itself is measured (see _signup, _login).
                        prepared = world.keys()
                        samples: list[float] = []
                        for _ in range(max(1, warm // 10)):
                            samples += direct.run("dynamo", "--function", name, "--iterations", "10", *extra_args,
                                                  table=world.table)["samples_ms"]
                            world.empty(keep=prepared)
                        results[name].direct = Stats.of(samples)
                    else:
                        results[name].direct = direct.stats("dynamo", "--function", name, "--iterations", str(warm),
                                                            *extra_args, table=world.table)

        extra: dict[str, Any] = {"list_sizes": (small, large), "moto_handler": {}, "moto_query": {}, "realtime": {}}
        for subscribers in realtime_subscribers:
            print(f"measuring realtime delivery on local-api: {realtime_events} posts, {subscribers} subscriber(s)",
                  flush=True)
            extra["realtime"][subscribers] = realtime_latency(args.local_api.resolve(), subscribers, realtime_events)
        print("measuring a bare argon2id verify", flush=True)
        extra["argon2_verify"] = direct.stats("argon2-verify", "--iterations", str(max(10, warm // 4)))
        print("measuring login on the embedded store", flush=True)
        extra["embedded_login"] = direct.stats("embedded-login", "--iterations", str(max(10, warm // 4)))
        print(f"measuring list-posts on the embedded store with {small:,} and {large:,} posts", flush=True)
        embedded = direct.run("embedded-list", "--posts", str(small), "--posts", str(large), "--iterations", str(warm))
        extra["embedded"] = {size: Stats.of(embedded["samples_ms"][str(size)]) for size in (small, large)}
        for size, calls in ((small, warm), (large, large_calls)):
            print(f"measuring list-posts on moto with {size:,} posts", flush=True)
            setup.fresh_moto()
            direct = setup.direct
            with World(setup) as world:
                direct.run("seed-posts", "--count", str(size), table=world.table)
                env, memory = setup.env_for("list-posts", world.table)
                # Half the direct Queries before the handler's, half after: moto drifts.
                query = ("dynamo", "--function", "list-posts", "--iterations", str(max(1, calls // 2)),
                         "--limit", list_limit())
                before = direct.run(*query, table=world.table)["samples_ms"]
                sized_result = measure_function("list-posts", setup.bootstrap("list-posts"), env, memory, 1, calls,
                                                setup.rie, fixed(sample_event_bytes("list-posts")))
                assert sized_result.warm is not None
                extra["moto_handler"][size] = sized_result.warm
                extra["moto_query"][size] = Stats.of(before + direct.run(*query, table=world.table)["samples_ms"])
    except Failure as failure:
        print(f"FAIL {failure}", file=sys.stderr, flush=True)
        return 1
    finally:
        setup.close()

    checks = budgets(results, extra)
    machine = machine_description()
    profile = "dev (debug build for the tests: figures not representative)" if args.debug_build else release_profile()
    if zip_level is not None:
        profile += f"; zipped at deflate level {zip_level}"
    table_text = render(results, extra, checks, f"{machine}\nProfile: {profile}; bootstraps built in "
                        f"{args.build_seconds if args.build_seconds is not None else '?'} s")
    print()
    print(table_text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.md").write_text(table_text + "\n")
    (args.out / "bench.json").write_text(json.dumps({
        "machine": machine,
        "mode": "smoke" if args.smoke else "full",
        "profile": profile,
        "build_seconds": args.build_seconds,
        "prices": {"per_gb_second_arm64": PRICE_PER_GB_SECOND, "per_million_requests": PRICE_PER_MILLION_REQUESTS},
        "functions": {name: {**asdict(r), "init_median_ms": r.init_median, "first_median_ms": r.first_median}
                      for name, r in results.items()},
        "argon2_verify": asdict(extra["argon2_verify"]),
        "embedded_login": asdict(extra["embedded_login"]),
        "list_posts_by_size": {str(size): {"embedded": asdict(extra["embedded"][size]),
                                           "moto_handler": asdict(extra["moto_handler"][size]),
                                           "moto_query": asdict(extra["moto_query"][size])}
                               for size in (small, large)},
        "realtime_on_local_api": {str(n): asdict(stats) for n, stats in extra["realtime"].items()},
        "budgets": [{"budget": label, "ok": passed, "measured": detail} for label, passed, detail in checks],
    }, indent=2) + "\n")
    print(f"\nwrote {args.out / 'bench.md'} and {args.out / 'bench.json'}", flush=True)
    if args.doc:
        write_doc(args.doc, "The benchmark's last full run", table_text)
    return 0


def write_doc(path: Path, title: str, text: str) -> None:
    """A generated page of docs/: `title` with today's date, then `text`."""
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    path.write_text(f"Generated by `bash bench/run.sh`; do not edit by hand.\n\n# {title} ({stamp})\n\n{text}\n")
    print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
