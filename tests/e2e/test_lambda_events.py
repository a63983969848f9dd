"""The API Gateway events in events/, replayed through the real function bootstraps.

Each bootstrap runs under the Lambda Runtime Interface Emulator (RIE) that ships with
aws-sam-cli, exactly as Lambda runs a `provided.al2023` bootstrap, and talks to DynamoDB
(moto). The table is created from the `BlogTable` resource in template.yaml, the single
source of truth for its keys.

events/expected.json is an ordered list of {"event", "function", "status"}; the events
run in that order against one fresh table, consecutive events of one function in one
emulator (one sandbox, as Lambda would reuse it). The bearer tokens in the events are
signed with the development keys, events/dev-signing-keys.json (a Rust test keeps
them valid).

Beyond the replay: every function refuses to start without usable keys; no secret reaches
the logs at TRACE; the login lockout counts per `sourceIp` (never X-Forwarded-For),
on DynamoDB, in payload 2.0 and 1.0, with a trusted device getting in from a locked
address; and every rule of Google sign-in (tests/e2e/google.py) holds through the real
bootstraps, against a local stand-in for Google, racing first sign-ins in separate
sandboxes included; and post changes reach the realtime API: the table's stream records
(moto), handed to the publisher's bootstrap as Lambda hands them, become publishes signed
as AppSync wants them (checked with botocore), a refused event reported back; and signup's
requests for mail, from the stream, go out through SES (moto's) from send-mail, their links
verifying the email through verify-email and setting a new password through reset-password.

An entry may also name "captures": {"<JSON pointer into its response body>": "<literal>"}.
Every later event then has that literal replaced by the value found, so that the
events can name the user signup created and the post create-post created (the
events' own ids and tokens are placeholders of the same shape).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.appsync import FakeAppSync, stream_event
from tests.e2e.google import FakeGoogle, check_google_sign_in, check_racing_first_sign_ins, claims
from tests.e2e.support import (
    DEV_PRIVATE_KEYS,
    EVENTS,
    NOT_EVENTS,
    ROOT,
    Answer,
    DynamoCalls,
    Emulator,
    Replay,
    apply_captures,
    aws_client,
    check_documented_calls,
    create_table,
    declared_variables,
    documented_dynamodb_calls,
    function_resource,
    function_setting,
    lambda_env,
    load_manifest,
    load_openapi,
    load_template,
    record_captures,
    ses_messages,
    short,
    store_sample_author,
)

MANIFEST = load_manifest()
FUNCTIONS = sorted({entry["function"] for entry in MANIFEST})


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """template.yaml, parsed once: what each function is given, as deployed."""
    return load_template(ROOT / "template.yaml")


class Sandboxes:
    """The emulator for the function now being invoked: a new one when the function
    changes, so that consecutive events of one function share a sandbox."""

    def __init__(self, rie: Path, bin_dir: Path, template: dict[str, Any], table: str, endpoint: str):
        self.rie, self.bin_dir, self.template, self.table, self.endpoint = rie, bin_dir, template, table, endpoint
        self.function: str | None = None
        self.emulator: Emulator | None = None
        self.dynamodb = DynamoCalls(endpoint, table)

    def send(self, entry: dict[str, Any], text: str) -> Answer:
        """Invokes `entry`'s function with the event `text`; its Lambda response's status and body."""
        function = entry["function"]
        _, props = function_resource(self.template, function)
        emulator = self.emulator_for(function, props)
        emulator.wait_ready()
        timeout = int(function_setting(self.template, props, "Timeout", 10))
        self.dynamodb.take()
        http_status, raw = emulator.invoke(text.encode(), timeout=timeout + 5)
        dynamodb_calls = self.dynamodb.take()
        try:
            response = json.loads(raw)
        except ValueError:
            response = None
        answered = http_status == 200 and isinstance(response, dict)
        tail = "\n".join(emulator.output().splitlines()[-40:])
        return Answer(
            status=response.get("statusCode") if answered else None,
            body=(response.get("body") or "") if answered else "",
            detail=f"emulator HTTP {http_status}: {short(raw)}\n--- emulator output for {function} (last 40 lines)\n{tail}",
            dynamodb_calls=dynamodb_calls,
        )

    def emulator_for(self, function: str, props: dict[str, Any]) -> Emulator:
        if self.function != function or self.emulator is None:
            self.close()
            env = lambda_env(self.template, props, function, self.table, self.endpoint)
            self.emulator = Emulator(self.rie, self.bin_dir / function / "bootstrap", env)
            self.function = function
        return self.emulator

    def close(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator.remove_log()
            self.emulator = None


@pytest.fixture(scope="module")
def lambda_replay(rie: Path, lambda_bin_dir: Path, template: dict[str, Any], dynamodb_endpoint: str) -> Iterator[Replay]:
    """The events' replay on a fresh table; the emulator and the table are gone afterwards."""
    client, table = create_table(template, dynamodb_endpoint)
    sandboxes = Sandboxes(rie, lambda_bin_dir, template, table, dynamodb_endpoint)
    try:
        yield Replay(MANIFEST, sandboxes.send)
    finally:
        sandboxes.close()
        client.delete_table(TableName=table)


def test_every_event_file_is_listed() -> None:
    """An event missing from events/expected.json would never run."""
    listed = {entry["event"] for entry in MANIFEST}
    unlisted = sorted(p.name for p in EVENTS.glob("*.json") if p.name not in NOT_EVENTS and p.name not in listed)
    assert not unlisted, f"not listed in events/expected.json: {', '.join(unlisted)}"


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["event"] for entry in MANIFEST])
def test_event_through_bootstrap(lambda_replay: Replay, entry: dict[str, Any]) -> None:
    """Each event gets the status events/expected.json gives it, from its real bootstrap."""
    problem = lambda_replay.problem(entry)
    assert problem is None, problem


def test_happy_paths_make_the_dynamodb_calls_the_docs_list(lambda_replay: Replay, template: dict[str, Any]) -> None:
    """Each function's own sample event, where it succeeds in the replay, made exactly the
    DynamoDB calls docs/data-model.md lists for it (the others' happy paths are checked
    where they run: the mail and stream tests below); the table lists every function."""
    documented = documented_dynamodb_calls()
    binaries = sorted(binary for res in template["Resources"].values()
                      if (binary := (res.get("Metadata") or {}).get("BuildProperties", {}).get("Binary")))
    assert sorted(documented) == binaries, "docs/data-model.md lists each function once"
    # The one function no test runs here (a CloudFormation custom resource) cannot call
    # DynamoDB at all: its policy grants nothing there.
    _, signing_key = function_resource(template, "signing-key")
    assert documented["signing-key"] == [] and "dynamodb" not in json.dumps(signing_key.get("Policies")).lower()
    checked = []
    for entry in MANIFEST:
        if entry["event"] == f"{entry['function']}.json" and 200 <= entry["status"] < 300:
            assert lambda_replay.problem(entry) is None, lambda_replay.problem(entry)
            check_documented_calls(entry["function"], lambda_replay.dynamodb_calls[entry["event"]])
            checked.append(entry["function"])
    assert len(checked) >= 20, checked


def keyed_functions(template: dict[str, Any], variable: str) -> list[str]:
    """The functions the template gives `variable` (their keys come from it)."""
    return [f for f in FUNCTIONS if variable in declared_variables(template, function_resource(template, f)[1])]


BAD_KEYS = {
    "TOKEN_PUBLIC_JWKS": ['{"keys": []}', "not json", '{"keys": [{"kty": "RSA", "kid": "k", "x": "AA"}]}'],
    "SIGNING_KEY_SECRET_ID": ["no-such-secret"],
    # Keys anyone on the path could have swapped: only https://, or http:// to loopback.
    "GOOGLE_JWKS_URL": ["http://keys.example.com/oauth2/v3/certs"],
}


@contextmanager
def runtime_api_without_events() -> Iterator[str]:
    """A Lambda runtime API (host:port) with no event to give: it takes connections and
    never answers, so a function asking for its next event waits."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.parametrize("variable", sorted(BAD_KEYS))
def test_refuses_to_start_without_usable_keys(variable: str, lambda_bin_dir: Path, template: dict[str, Any],
                                              dynamodb_endpoint: str) -> None:
    """A function whose keys are missing or unusable must refuse to start: a clear log
    line naming the variable and a non-zero exit, with no event answered (a function that
    cannot verify must not serve as if it could). The runtime API it is given has no event
    yet, as a sandbox's does before its first request: the private key is read while the
    function waits for one, the other keys at init, before it asks."""
    functions = keyed_functions(template, variable)
    assert functions, f"no function is given {variable}"
    for function in functions:
        _, props = function_resource(template, function)
        for bad in BAD_KEYS[variable]:
            env = {**lambda_env(template, props, function, "unused", dynamodb_endpoint), variable: bad}
            with runtime_api_without_events() as runtime_api:
                run = subprocess.run([str(lambda_bin_dir / function / "bootstrap")],
                                     env={**env, "AWS_LAMBDA_RUNTIME_API": runtime_api}, capture_output=True,
                                     text=True, timeout=20)
            log = run.stdout + run.stderr
            assert run.returncode != 0 and "refusing to start" in log and variable in log, \
                f"{function} with {variable}={bad!r}: exit {run.returncode}, expected a refusal:\n{short(log)}"


# A session's whole life: every secret a client sends or receives passes through these.
SECRET_FLOW = ("signup.json", "login.json", "create-post.json", "refresh-token.json", "verify-email.json",
               "change-password.json", "reset-password.json", "delete-account.json")
# A request body's fields that hold a secret.
SECRET_FIELDS = ("password", "refresh_token", "token", "current_password", "new_password")


def test_no_secret_reaches_the_logs_at_trace(rie: Path, lambda_bin_dir: Path, template: dict[str, Any],
                                             dynamodb_endpoint: str) -> None:
    """Whoever raises the log level to TRACE (Lambda's ApplicationLogLevel, RUST_LOG) must
    still find no password, token or key in the logs: the real bootstraps, as Lambda runs
    them, through a signup, a login, a post and a refresh."""
    client, table = create_table(template, dynamodb_endpoint)
    captured: dict[str, str] = {}
    logs: list[str] = []
    secrets = set(DEV_PRIVATE_KEYS)
    try:
        for name in SECRET_FLOW:
            entry = next(e for e in MANIFEST if e["event"] == name)
            _, props = function_resource(template, entry["function"])
            env = {**lambda_env(template, props, entry["function"], table, dynamodb_endpoint),
                   "AWS_LAMBDA_LOG_LEVEL": "TRACE", "RUST_LOG": "trace"}
            event = json.loads(apply_captures((EVENTS / name).read_text(), captured))
            body = json.loads(event["body"] or "{}")
            secrets |= {value for key, value in body.items() if key in SECRET_FIELDS}
            if "authorization" in event["headers"]:
                secrets.add(event["headers"]["authorization"].removeprefix("Bearer "))
            emulator = Emulator(rie, lambda_bin_dir / entry["function"] / "bootstrap", env)
            try:
                emulator.wait_ready()
                status, raw = emulator.invoke(json.dumps(event).encode(), timeout=20)
            finally:
                emulator.stop()
                logs.append(emulator.output())
                emulator.remove_log()
            body = json.loads(raw).get("body") or "{}"
            assert status == 200 and json.loads(raw).get("statusCode") == entry["status"], f"{name}: {short(raw)}"
            assert record_captures(entry, body, captured) is None, name
            secrets |= {value for key, value in json.loads(body).items() if key.endswith("_token")}
    finally:
        client.delete_table(TableName=table)
    log = "\n".join(logs)
    assert '"level":"DEBUG"' in log, f"the level was not raised: nothing at DEBUG was logged\n{short(log)}"
    leaked = sorted(secret[:12] + "…" for secret in secrets if secret in log)
    assert not leaked, f"secrets in the logs at TRACE: {leaked}"


def start_emulator(rie: Path, bin_dir: Path, template: dict[str, Any], function: str, table: str,
                   endpoint: str) -> Emulator:
    """`function`'s bootstrap under the emulator, ready, on `table`."""
    _, props = function_resource(template, function)
    emulator = Emulator(rie, bin_dir / function / "bootstrap", lambda_env(template, props, function, table, endpoint))
    emulator.wait_ready()
    return emulator


def invoke(emulator: Emulator, event: dict[str, Any]) -> tuple[int, dict[str, Any], int]:
    """The status and JSON body of the function's answer, and the size of Lambda's whole
    response document (what its 6 MB limit applies to)."""
    status, raw = emulator.invoke(json.dumps(event).encode(), timeout=30)
    response = json.loads(raw)
    assert status == 200 and isinstance(response, dict), short(raw)
    return response["statusCode"], json.loads(response.get("body") or "{}"), len(raw)


def test_the_largest_page_fits_lambdas_response_limit(rie: Path, lambda_bin_dir: Path, template: dict[str, Any],
                                                      dynamodb_endpoint: str) -> None:
    """A full page of the largest posts (every title and body at the spec's maximum, of the
    character JSON escapes worst) through the real bootstraps on DynamoDB: the page stops
    short of `limit`, goes on with a cursor, and Lambda's response stays under half its
    6 MB limit."""
    spec = load_openapi()
    request_schema = spec["components"]["schemas"]["CreatePostRequest"]["properties"]
    title_max = spec["components"]["schemas"]["Post"]["properties"]["title"]["maxLength"]
    body_max = request_schema["body"]["maxLength"]
    client, table = create_table(template, dynamodb_endpoint)
    try:
        store_sample_author(client, table)
        create = json.loads((EVENTS / "create-post.json").read_text())
        create["body"] = json.dumps({"title": '"' * title_max, "body": '"' * body_max})
        create["headers"]["content-length"] = str(len(create["body"]))
        with start_emulator(rie, lambda_bin_dir, template, "create-post", table, dynamodb_endpoint) as emulator:
            for i in range(101):
                assert invoke(emulator, create)[0] == 201, f"post {i}"
        listing = json.loads((EVENTS / "list-posts.json").read_text())
        listing.update(queryStringParameters={"limit": "100"}, rawQueryString="limit=100")
        with start_emulator(rie, lambda_bin_dir, template, "list-posts", table, dynamodb_endpoint) as emulator:
            status, page, size = invoke(emulator, listing)
        assert status == 200 and 0 < len(page["posts"]) < 100 and page["next_cursor"], (status, len(page["posts"]))
        assert size < 3 * 1024 * 1024, f"{size} bytes for {len(page['posts'])} posts"
    finally:
        client.delete_table(TableName=table)


def test_login_lockout_is_per_source_ip(rie: Path, lambda_bin_dir: Path, template: dict[str, Any],
                                        dynamodb_endpoint: str) -> None:
    """The login lockout through the real bootstrap, on DynamoDB: five wrong passwords from
    one `sourceIp` lock out that address whatever `X-Forwarded-For` says, in payload 2.0
    and 1.0 alike; the owner from another address gets in, and so does a trusted device
    from the locked address."""
    client, table = create_table(template, dynamodb_endpoint)

    def start(function: str) -> Emulator:
        return start_emulator(rie, lambda_bin_dir, template, function, table, dynamodb_endpoint)

    def login(password: str, source_ip: str, forwarded_for: str, device_token: str | None = None) -> dict[str, Any]:
        event = json.loads((EVENTS / "login.json").read_text())
        body = {**json.loads(event["body"]), "password": password}
        if device_token:
            body["device_token"] = device_token
        event["body"] = json.dumps(body)
        event["requestContext"]["http"]["sourceIp"] = source_ip
        event["headers"]["x-forwarded-for"] = forwarded_for
        return event

    def rest_login(password: str, source_ip: str) -> dict[str, Any]:
        event = json.loads((EVENTS / "list-posts-rest-v1.json").read_text())
        event.update(resource="/login", path="/login", httpMethod="POST", queryStringParameters=None,
                     multiValueQueryStringParameters=None, isBase64Encoded=False)
        event["requestContext"].update(resourcePath="/login", httpMethod="POST")
        event["requestContext"]["identity"]["sourceIp"] = source_ip
        event["headers"]["content-type"] = "application/json"
        event["multiValueHeaders"]["content-type"] = ["application/json"]
        event["body"] = login(password, source_ip, "x")["body"]
        return event

    try:
        with start("signup") as signup:
            assert invoke(signup, json.loads((EVENTS / "signup.json").read_text()))[0] == 201
        right = json.loads(json.loads((EVENTS / "login.json").read_text())["body"])["password"]
        with start("login") as emulator:
            for i in range(5):
                status, _, _ = invoke(emulator, login("not the password", "198.51.100.7", f"203.0.113.{i}"))
                assert status == 401, f"guess {i}: {status}"
            status, body, _ = invoke(emulator, login(right, "198.51.100.7", "203.0.113.99"))
            assert (status, body["error"]["code"]) == (429, "too_many_attempts"), body
            assert invoke(emulator, rest_login(right, "198.51.100.7"))[0] == 429, "payload 1.0 names the same address"
            status, owner, _ = invoke(emulator, login(right, "192.0.2.44", "198.51.100.7"))
            assert status == 200 and owner["device_token"], owner
            status, trusted, _ = invoke(emulator, login(right, "198.51.100.7", "x", owner["device_token"]))
            assert status == 200 and trusted["device_token"] == owner["device_token"], trusted
    finally:
        client.delete_table(TableName=table)


class Functions:
    """Requests sent as API Gateway sends them: as an event (the route's function's sample
    event, with this method, path, body and bearer token) to the function of the route,
    each function in a sandbox of its own (started when first needed, then reused)."""

    def __init__(self, rie: Path, bin_dir: Path, template: dict[str, Any], table: str, endpoint: str,
                 env: dict[str, str]):
        self.rie, self.bin_dir, self.template, self.table, self.endpoint, self.env = \
            rie, bin_dir, template, table, endpoint, env
        self.routes: dict[tuple[str, str], str] = {}
        for res in template["Resources"].values():
            binary = (res.get("Metadata") or {}).get("BuildProperties", {}).get("Binary")
            for event in ((res.get("Properties") or {}).get("Events") or {}).values():
                if binary and event.get("Type") == "HttpApi":
                    self.routes[(event["Properties"]["Method"], event["Properties"]["Path"])] = binary
        self.sandboxes: dict[str, Emulator] = {}
        self.dynamodb = DynamoCalls(endpoint, table)
        self.last_dynamodb_calls: list[str] = []  # of the last request

    def __call__(self, method: str, path: str, body: Any = None, bearer: str | None = None,
                 path_parameters: dict[str, str] | None = None) -> tuple[int, Any]:
        function = self.routes[(method, path)]
        event = json.loads((EVENTS / f"{function}.json").read_text())
        if path_parameters:
            event["pathParameters"] = path_parameters
            event["rawPath"] = event["requestContext"]["http"]["path"] = path.format(**path_parameters)
        event["headers"].pop("authorization", None)
        if bearer:
            event["headers"]["authorization"] = f"Bearer {bearer}"
        event["body"] = None if body is None else json.dumps(body)
        event["headers"]["content-length"] = str(len(event["body"] or ""))
        if function not in self.sandboxes:
            _, props = function_resource(self.template, function)
            env = {**lambda_env(self.template, props, function, self.table, self.endpoint), **self.env}
            self.sandboxes[function] = Emulator(self.rie, self.bin_dir / function / "bootstrap", env)
            self.sandboxes[function].wait_ready()
        self.dynamodb.take()
        status, answer, _ = invoke(self.sandboxes[function], event)
        self.last_dynamodb_calls = self.dynamodb.take()
        return status, answer

    def output(self) -> str:
        """What every sandbox has logged so far."""
        return "\n".join(emulator.output() for emulator in self.sandboxes.values())

    def close(self) -> None:
        for emulator in self.sandboxes.values():
            emulator.stop()
            emulator.remove_log()


def test_google_sign_in_through_the_bootstraps(rie: Path, lambda_bin_dir: Path, template: dict[str, Any],
                                               dynamodb_endpoint: str) -> None:
    """Every rule of Google sign-in, through the real bootstraps on DynamoDB: the same
    scenarios as over local-api, and first sign-ins racing in separate sandboxes."""
    client, table = create_table(template, dynamodb_endpoint)
    with FakeGoogle([0]) as google:
        sandboxes = [Functions(rie, lambda_bin_dir, template, table, dynamodb_endpoint, google.env()) for _ in range(3)]
        try:
            check_google_sign_in(sandboxes[0], google, "example.com")
            check_racing_first_sign_ins(list(sandboxes), google, "race@example.com")
        finally:
            for functions in sandboxes:
                functions.close()
            client.delete_table(TableName=table)


def test_google_sign_in_unreachable_keys_and_turned_off(rie: Path, lambda_bin_dir: Path, template: dict[str, Any],
                                                        dynamodb_endpoint: str) -> None:
    """Google's keys unreachable: 503, never 500 (nor a 502 from an error); no client ID:
    404 google_sign_in_disabled."""
    with FakeGoogle([0]) as google:
        google.failing = True
        credential = google.keys.id_token(claims("109000000000000000060", "ada@example.com"))
        for env, expected in ((google.env(), (503, "service_unavailable")),
                              ({"GOOGLE_CLIENT_IDS": ""}, (404, "google_sign_in_disabled"))):
            functions = Functions(rie, lambda_bin_dir, template, "unused", dynamodb_endpoint, env)
            try:
                status, body = functions("POST", "/auth/google", {"credential": credential})
            finally:
                functions.close()
            assert (status, body["error"]["code"]) == expected, body


def stream_filter_prefix(template: dict[str, Any], function: str) -> str:
    """The `pk` prefix the function's DynamoDB event source lets through (its FilterCriteria)."""
    _, props = function_resource(template, function)
    stream = next(e for e in props["Events"].values() if e["Type"] == "DynamoDB")
    pattern = json.loads(stream["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"])
    return pattern["dynamodb"]["Keys"]["pk"]["S"][0]["prefix"]


def test_post_changes_reach_the_realtime_api_through_the_stream(rie: Path, lambda_bin_dir: Path,
                                                               template: dict[str, Any], dynamodb_endpoint: str) -> None:
    """A post created, edited and deleted through the bootstraps on a table with its stream
    on; the stream's records, handed to publish-post-events as Lambda hands them, become
    signed publishes of each change on the feed and on the author's channel, in order; an
    event the API refuses comes back as its record's failure, for Lambda to retry."""
    client, table = create_table(template, dynamodb_endpoint, stream=True)
    writes = Functions(rie, lambda_bin_dir, template, table, dynamodb_endpoint, {})
    try:
        store_sample_author(client, table)
        bearer = json.loads((EVENTS / "create-post.json").read_text())["headers"]["authorization"].split()[1]
        status, created = writes("POST", "/posts", {"title": "Live", "body": "First."}, bearer)
        assert status == 201, created
        post = {"id": created["post"]["id"]}
        status, edited = writes("PATCH", "/posts/{id}", {"title": "Live, edited"}, bearer, post)
        assert status == 200, edited
        status, _ = writes("DELETE", "/posts/{id}", None, bearer, post)
        assert status == 204
        event = stream_event(dynamodb_endpoint, table, stream_filter_prefix(template, "publish-post-events"))
    finally:
        writes.close()
        client.delete_table(TableName=table)
    assert [record["eventName"] for record in event["Records"]] == ["INSERT", "MODIFY", "REMOVE"], event
    author = created["post"]["author"]["id"]
    _, props = function_resource(template, "publish-post-events")
    with FakeAppSync() as appsync:
        env = {**lambda_env(template, props, "publish-post-events", "unused", dynamodb_endpoint),
               "REALTIME_PUBLISH_URL": appsync.url}
        with Emulator(rie, lambda_bin_dir / "publish-post-events" / "bootstrap", env) as emulator:
            emulator.wait_ready()
            dynamodb = DynamoCalls(dynamodb_endpoint, table)
            dynamodb.take()
            status, raw = emulator.invoke(json.dumps(event).encode(), timeout=30)
            assert (status, json.loads(raw)) == (200, {"batchItemFailures": []}), short(raw)
            check_documented_calls("publish-post-events", dynamodb.take())
            assert not appsync.problems, appsync.problems
            published = {channel: [(e["type"], e["post"]["version"]) for e in events]
                         for channel, events in appsync.published}
            changes = [("post.created", 1), ("post.updated", 2), ("post.deleted", 2)]
            assert published == {"/posts/feed": changes, f"/posts/authors/{author}": changes}, published
            assert appsync.published[0][1][1]["post"]["title"] == "Live, edited"

            appsync.refuse = ("/posts/feed", 1)
            status, raw = emulator.invoke(json.dumps(event).encode(), timeout=30)
            failed = [{"itemIdentifier": event["Records"][1]["dynamodb"]["SequenceNumber"]}]
            assert (status, json.loads(raw)) == (200, {"batchItemFailures": failed}), short(raw)


def test_mail_goes_out_through_ses_and_its_links_work(rie: Path, lambda_bin_dir: Path, template: dict[str, Any],
                                                     dynamodb_endpoint: str) -> None:
    """Signup through its bootstrap stores a request for the verification mail; the
    table's stream record, handed to send-mail as Lambda hands it, becomes a message sent
    through SES (moto's), refused and reported back for a retry while the sender is not a
    verified identity; the link's token verifies the email through verify-email, once.
    Then a forgotten password: the reset request, from the stream, mailed the same way,
    its token setting a new password through reset-password (every session ended, the new
    password logging in). No sandbox logs a token or the new password."""
    client, table = create_table(template, dynamodb_endpoint, stream=True)
    calls = Functions(rie, lambda_bin_dir, template, table, dynamodb_endpoint, {})
    sender_log = ""
    mail_from = f"blog-{table}@example.com"  # one no other test has verified
    try:
        status, created = calls("POST", "/signup", {"email": "mail@example.com", "password": "a mailed passphrase",
                                                    "display_name": "Ada"})
        assert status == 201 and created["user"]["email_verified"] is False, created
        event = stream_event(dynamodb_endpoint, table, stream_filter_prefix(template, "send-mail"))
        assert [record["eventName"] for record in event["Records"]] == ["INSERT"], event

        _, props = function_resource(template, "send-mail")
        env = {**lambda_env(template, props, "send-mail", table, dynamodb_endpoint), "MAIL_FROM": mail_from,
               "APP_URL": "https://blog.example.com/", "AWS_ENDPOINT_URL_SESV2": dynamodb_endpoint}
        with Emulator(rie, lambda_bin_dir / "send-mail" / "bootstrap", env) as sender:
            sender.wait_ready()
            status, raw = sender.invoke(json.dumps(event).encode(), timeout=30)
            failed = [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]
            assert (status, json.loads(raw)) == (200, {"batchItemFailures": failed}), \
                f"SES refuses an unverified sender, so the request is retried: {short(raw)}"
            aws_client("ses", dynamodb_endpoint).verify_email_identity(EmailAddress=mail_from)
            calls.dynamodb.take()
            status, raw = sender.invoke(json.dumps(event).encode(), timeout=30)
            assert (status, json.loads(raw)) == (200, {"batchItemFailures": []}), short(raw)
            check_documented_calls("send-mail", calls.dynamodb.take())
            sender_log = sender.output()

        sent = [m for m in ses_messages(dynamodb_endpoint) if m["source"] == mail_from]
        assert len(sent) == 1 and sent[0]["destinations"]["ToAddresses"] == ["mail@example.com"], sent
        assert sent[0]["subject"] == "Verify your email address", sent[0]
        links = re.findall(r'href="(https://blog\.example\.com/#/verify-email\?token=([A-Za-z0-9_-]{43}))"', sent[0]["body"])
        assert len(links) == 1, sent[0]["body"]
        token = links[0][1]

        status, verified = calls("POST", "/email/verify", {"token": token})
        assert status == 200 and verified["user"]["email_verified"] is True, verified
        check_documented_calls("verify-email", calls.last_dynamodb_calls)
        status, again = calls("POST", "/email/verify", {"token": token})
        assert (status, again["error"]["code"]) == (400, "invalid_token"), again

        # A forgotten password: the request, from the stream, becomes a reset link.
        status, asked = calls("POST", "/password/forgot", {"email": "Mail@Example.com"})
        assert (status, asked) == (202, {"status": "sending"}), asked
        records = stream_event(dynamodb_endpoint, table, stream_filter_prefix(template, "send-mail"))["Records"]
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records[1:]] == ["MAIL#reset_password#mail@example.com"]
        with Emulator(rie, lambda_bin_dir / "send-mail" / "bootstrap", env) as sender:
            sender.wait_ready()
            status, raw = sender.invoke(json.dumps({"Records": records[1:]}).encode(), timeout=30)
            assert (status, json.loads(raw)) == (200, {"batchItemFailures": []}), short(raw)
            sender_log += sender.output()
        resets = [m for m in ses_messages(dynamodb_endpoint)
                  if m["source"] == mail_from and m["subject"] == "Reset your password"]
        assert len(resets) == 1, resets
        reset_token = re.findall(r'#/reset-password\?token=([A-Za-z0-9_-]{43})"', resets[0]["body"])[0]
        new_password = "a reset passphrase"
        status, _ = calls("POST", "/password/reset", {"token": reset_token, "new_password": new_password})
        assert status == 204
        check_documented_calls("reset-password", calls.last_dynamodb_calls)
        status, refused = calls("POST", "/token/refresh", {"refresh_token": created["refresh_token"]})
        assert status == 401, f"every session ended: {refused}"
        status, session = calls("POST", "/login", {"email": "mail@example.com", "password": new_password})
        assert status == 200, session

        # Another account asks again for its verification mail once the interval has passed.
        status, other = calls("POST", "/signup", {"email": "again@example.com", "password": "another passphrase",
                                                  "display_name": "Grace"})
        assert status == 201, other
        client.update_item(TableName=table, Key={"pk": {"S": f"MAIL#verify_email#{other['user']['id']}"},
                                                 "sk": {"S": "MAIL"}},
                           UpdateExpression="SET requested_at = requested_at - :interval",
                           ExpressionAttributeValues={":interval": {"N": "61000"}})
        status, resent = calls("POST", "/email/verify/resend", None, other["access_token"])
        assert status == 202, resent
        check_documented_calls("resend-verification", calls.last_dynamodb_calls)
        logs = calls.output() + sender_log
    finally:
        calls.close()
        client.delete_table(TableName=table)
    for secret in (token, reset_token, new_password):
        assert secret not in logs, f"a secret reached a log: {secret[:8]}…"
