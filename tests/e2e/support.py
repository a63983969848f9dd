"""What the end-to-end tests and the benchmark share, in one place.

- free loopback ports, and the local-api process (`LocalApi`);
- template.yaml read as deployed: a function's resource, settings and environment;
- a DynamoDB table made from the template's `BlogTable` (on moto);
- the Lambda Runtime Interface Emulator (RIE) that ships with aws-sam-cli (`Emulator`);
- the sample events of events/ replayed in order (`Replay`), with their captures;
- the development JWT secret, read from events/sam-local-env.json (what `sam local` uses);
- the stand-in for Google whose keys signed the sample events' Google credentials.
"""

from __future__ import annotations

import base64
import email
import email.message
import email.policy
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from tests.e2e.google import FakeGoogle

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
REGION = "us-east-1"
NOT_EVENTS = {"expected.json", "sam-local-env.json", "dev-signing-keys.json"}
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
# One key set for every local run: the bearer tokens in events/ are signed with it. The
# signing functions read it from Secrets Manager (moto) under the id `sam local` uses;
# the verifying ones get its public half, as in events/sam-local-env.json.
DEV_SIGNING_KEYS_FILE = EVENTS / "dev-signing-keys.json"
DEV_SIGNING_KEYS: str = DEV_SIGNING_KEYS_FILE.read_text()
_LOCAL_ENV = json.loads((EVENTS / "sam-local-env.json").read_text())["Parameters"]
DEV_PUBLIC_JWKS: str = _LOCAL_ENV["TOKEN_PUBLIC_JWKS"]
DEV_SIGNING_SECRET_ID: str = _LOCAL_ENV["SIGNING_KEY_SECRET_ID"]
DEV_PRIVATE_KEYS: list[str] = [key["d"] for key in json.loads(DEV_SIGNING_KEYS)["keys"]]


def aws_client(service: str, endpoint: str) -> Any:
    """A boto3 client of `service` at `endpoint` (moto), with the tests' credentials."""
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="test", aws_secret_access_key="test")


def ses_messages(endpoint: str) -> list[dict[str, Any]]:
    """Every message moto's SES at `endpoint` has sent: source, destinations, subject and
    body (the HTML part when there is one), from its state dump."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as answer:
        return json.load(answer).get("ses", {}).get("Message", [])


def ensure_dev_signing_secret(endpoint: str) -> None:
    """The development key set as a secret in the Secrets Manager at `endpoint` (moto)."""
    client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=REGION,
                          aws_access_key_id="test", aws_secret_access_key="test")
    try:
        client.create_secret(Name=DEV_SIGNING_SECRET_ID, SecretString=DEV_SIGNING_KEYS)
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=DEV_SIGNING_SECRET_ID, SecretString=DEV_SIGNING_KEYS)


_SAMPLE_GOOGLE: FakeGoogle | None = None


def sample_google() -> FakeGoogle:
    """One stand-in for Google for the whole run, publishing the key that signed the
    sample events' credentials (tests/data/google-test-keys.json, key 0)."""
    global _SAMPLE_GOOGLE
    if _SAMPLE_GOOGLE is None:
        _SAMPLE_GOOGLE = FakeGoogle([0])
    return _SAMPLE_GOOGLE


def load_openapi() -> dict[str, Any]:
    """openapi.yaml: the contract, whose limits the tests take rather than repeat."""
    import yaml

    return yaml.safe_load((ROOT / "openapi.yaml").read_text())


def free_port() -> int:
    """A loopback port nothing listens on now, so that runs never collide."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """A moto of its own (`.ci/moto_server.py`, atomic as DynamoDB is) on a free loopback
    port, serving DynamoDB and Secrets Manager at `endpoint`; stopped by `stop` or the
    context manager."""

    def __init__(self, log: Path | None = None, timeout: float = 20.0):
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.log = log or Path(tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False).name)
        with self.log.open("w") as out:
            self.proc = subprocess.Popen([os.environ.get("PYTHON", sys.executable), str(ROOT / ".ci" / "moto_server.py"),
                                          "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"moto did not answer at {self.endpoint} within {timeout:.0f} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> MotoServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def short(text: bytes | str, limit: int = 2000) -> str:
    """`text` cut to `limit` characters, so that a failure message stays readable."""
    text = text.decode(errors="replace") if isinstance(text, bytes) else text
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


# --------------------------------------------------------------------------- local-api

class LocalApi:
    """One local-api process on a free port; its output goes to a log file.

    The caller's AWS_*, TABLE_NAME and JWT_* variables are not passed on: a test chooses
    the store and the secret itself, whatever the shell exported.
    """

    def __init__(self, binary: Path, args: list[str], env: dict[str, str] | None = None):
        # A data directory of its own unless the test gives one: the mail folder is there.
        self.scratch = None if "--data-dir" in args else tempfile.TemporaryDirectory(prefix="local-api-data-")
        if self.scratch is not None:
            args = [*args, "--data-dir", self.scratch.name]
        self.binary, self.args, self.extra_env = binary, args, env or {}
        self.data_dir = Path(args[args.index("--data-dir") + 1])
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="local-api-", suffix=".log", delete=False)
        self._start()

    def _start(self) -> None:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TABLE_NAME", "JWT_"))}
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [str(self.binary), "--port", str(self.port), *self.args],
            env={**base_env, **self.extra_env},
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

    def restart(self) -> None:
        """Stops the process if it runs, and starts it again on the same port."""
        self.stop()
        self._start()

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                raw: bytes | None = None, source: str | None = None) -> tuple[int, dict[str, str], Any]:
        """Status, lower-cased headers and body (parsed when it is JSON) of one request;
        `body` is sent as JSON, `raw` as it is. `source` is the loopback address to
        connect from (all of 127.0.0.0/8 is this machine): another client, as the server sees it."""
        source_address = (source, 0) if source else None
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=source_address)
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
        """Stops the process with `sig` (SIGKILL after 10 s); its exit code."""
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

    def __enter__(self) -> LocalApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        Path(self.log.name).unlink(missing_ok=True)
        if self.scratch is not None:
            self.scratch.cleanup()

    def mailed_link(self, to: str, seen: int = 0, timeout: float = 10) -> str:
        """The link in the (`seen` + 1)-th message local-api wrote to `to` (its mail folder,
        one .eml file each), waiting for it; read with Python's own email parser."""
        deadline = time.monotonic() + timeout
        while True:
            messages = [m for m in read_mail(self.data_dir / "mail") if m["To"] == to]
            if len(messages) > seen:
                return link_in(messages[seen])
            if time.monotonic() > deadline:
                raise TimeoutError(f"no message {seen + 1} to {to} within {timeout} s:\n{self.output()[-3000:]}")
            time.sleep(0.05)


def read_mail(folder: Path) -> list[email.message.EmailMessage]:
    """Every .eml file in `folder`, oldest first (their names are ULIDs)."""
    if not folder.is_dir():
        return []
    policy = email.policy.default
    return [email.message_from_bytes(path.read_bytes(), policy=policy)  # type: ignore[misc]
            for path in sorted(folder.glob("*.eml"))]


def link_in(message: email.message.Message) -> str:
    """The one link a message carries, from its plain-text part; its HTML part must carry it too."""
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[attr-defined]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[attr-defined]
    links = re.findall(r"https?://\S+", text)
    assert len(links) == 1, text
    assert f'href="{links[0]}"' in html, html
    return links[0]


def token_of(link: str) -> str:
    """The token a mailed link carries in its fragment (`#/view?token=...`)."""
    return urllib.parse.parse_qs(urllib.parse.urlsplit(link).fragment.split("?", 1)[1])["token"][0]


def local_api_dynamodb_env(endpoint: str) -> dict[str, str]:
    """The variables that put local-api on DynamoDB at `endpoint`, on a table of its own."""
    return {"TABLE_NAME": f"local-api-{uuid.uuid4().hex[:12]}", "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_MAX_ATTEMPTS": "1", "AWS_EC2_METADATA_DISABLED": "true", "PATH": os.environ.get("PATH", "")}


def local_api_create_table(binary: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`local-api create-table`: how a developer makes the table local-api uses on DynamoDB."""
    return subprocess.run([str(binary), "create-table"], env=env, capture_output=True, text=True, timeout=60)


# --------------------------------------------------------------------------- template

def load_template(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML template whatever its short-form tags (!Ref, !Sub...),
    with cfn-lint's loader (pinned in .ci/requirements.txt)."""
    from cfnlint.decode import cfn_yaml

    # The loader returns dict/str subclasses; a JSON round trip makes them plain.
    return json.loads(json.dumps(cfn_yaml.load(str(path))))


def function_resource(template: dict[str, Any], binary: str) -> tuple[str, dict[str, Any]]:
    """The AWS::Serverless::Function whose rust-cargolambda Binary is `binary`."""
    for name, res in template.get("Resources", {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        if (res.get("Metadata") or {}).get("BuildProperties", {}).get("Binary") == binary:
            return name, res.get("Properties") or {}
    raise LookupError(f"no AWS::Serverless::Function with BuildProperties.Binary {binary!r} in the template")


def declared_variables(template: dict[str, Any], props: dict[str, Any]) -> set[str]:
    """The names of the environment variables the template gives the function (its own and
    the Globals'), resolvable or not: all that Lambda, or `sam local`, would set."""
    glob = template.get("Globals", {}).get("Function", {})
    return {*(glob.get("Environment") or {}).get("Variables", {}), *(props.get("Environment") or {}).get("Variables", {})}


def template_env(template: dict[str, Any], props: dict[str, Any]) -> dict[str, str]:
    """The function's environment as deployed with default parameters, where resolvable.

    Plain values and Refs to parameters are kept; anything else (Refs to resources,
    dynamic references, conditions) is left to the caller's overrides.
    """
    params = template.get("Parameters", {})
    glob = template.get("Globals", {}).get("Function", {})
    merged = {
        **(glob.get("Environment") or {}).get("Variables", {}),
        **(props.get("Environment") or {}).get("Variables", {}),
    }
    env: dict[str, str] = {}
    for key, value in merged.items():
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in params:
            value = params[value["Ref"]].get("Default")
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            env[key] = str(value)
    return env


def function_setting(template: dict[str, Any], props: dict[str, Any], key: str, default: Any) -> Any:
    """A function's setting (Timeout, MemorySize...), from its resource or the Globals, as
    deployed; `default` where the template leaves it to Lambda or to a condition."""
    glob = template.get("Globals", {}).get("Function", {})
    value = props.get(key, glob.get(key, default))
    return value if isinstance(value, (int, str, dict)) else default


def lambda_env(template: dict[str, Any], props: dict[str, Any], function: str, table: str, endpoint: str) -> dict[str, str]:
    """The environment Lambda gives `function` as the template configures it, pointed at
    `table` on the DynamoDB at `endpoint`, with the development keys where the template
    gives the function keys at all: the private set from the Secrets Manager at the same
    endpoint (moto serves both) for the functions that issue tokens, the public set for
    those that verify them; and Google sign-in, on the sample stand-in, where the template
    configures it."""
    timeout = int(function_setting(template, props, "Timeout", 10))
    memory = function_setting(template, props, "MemorySize", 128)
    logging_cfg = function_setting(template, props, "LoggingConfig", {})
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TZ": ":UTC",
        "LANG": "C.UTF-8",
        **template_env(template, props),
        "TABLE_NAME": table,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory if isinstance(memory, int) else 128),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
    }
    declared = declared_variables(template, props)
    if "SIGNING_KEY_SECRET_ID" in declared:
        ensure_dev_signing_secret(endpoint)
        env.update(SIGNING_KEY_SECRET_ID=DEV_SIGNING_SECRET_ID, AWS_ENDPOINT_URL_SECRETS_MANAGER=endpoint)
    if "TOKEN_PUBLIC_JWKS" in declared:
        env["TOKEN_PUBLIC_JWKS"] = DEV_PUBLIC_JWKS
    if "GOOGLE_CLIENT_IDS" in declared:
        env.update(sample_google().env())
    if isinstance(logging_cfg, dict) and logging_cfg.get("LogFormat") == "JSON":
        # What Lambda sets for LoggingConfig {LogFormat: JSON, ApplicationLogLevel: ...}.
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        if isinstance(logging_cfg.get("ApplicationLogLevel"), str):
            env["AWS_LAMBDA_LOG_LEVEL"] = logging_cfg["ApplicationLogLevel"]
    return env


# --------------------------------------------------------------------------- DynamoDB

def create_table(template: dict[str, Any], endpoint: str, stream: bool = False) -> tuple[Any, str]:
    """A new table at `endpoint` with the keys, indexes and TTL of the template's `BlogTable`
    (the single source of truth for them), and its stream only when asked: moto copies a
    table's stream records in every transaction, so they grow slower with each write. The
    client and its name."""
    props = template["Resources"]["BlogTable"]["Properties"]
    name = f"blog-rie-{uuid.uuid4().hex[:12]}"
    kwargs: dict[str, Any] = {"TableName": name}
    for key in (
        "AttributeDefinitions",
        "KeySchema",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "BillingMode",
        "ProvisionedThroughput",
    ):
        if key in props:
            kwargs[key] = props[key]
    if stream and "StreamSpecification" in props:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )
    client.create_table(**kwargs)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    return client, name


class DynamoCalls:
    """The DynamoDB operations made on one table, in order, as .ci/moto_server.py served
    them (every moto the tests start is that one)."""

    def __init__(self, endpoint: str, table: str):
        self.endpoint, self.table = endpoint, table

    def take(self) -> list[str]:
        """The operations on the table since the last `take`, of any `DynamoCalls`, on this moto."""
        with urllib.request.urlopen(f"{self.endpoint}/_dynamodb_calls", timeout=10) as answer:
            calls = json.load(answer)
        return [operation for operation, tables in calls if self.table in tables]


DYNAMODB_CALLS_SECTION = "## DynamoDB calls per request"


def documented_dynamodb_calls() -> dict[str, list[str]]:
    """docs/data-model.md's table of the DynamoDB calls each function makes on its happy
    path: function → its operations, sorted (concurrent calls start in either order)."""
    text = (ROOT / "docs" / "data-model.md").read_text()
    section = text.split(DYNAMODB_CALLS_SECTION, 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \| ([^|]+) \|", section, re.M)
    assert rows, f"no table under {DYNAMODB_CALLS_SECTION!r} in docs/data-model.md"
    documented = {}
    for function, calls in rows:
        operations = []
        for call in re.split(r"→|\+", calls) if calls.strip() != "none" else []:
            name, _, times = call.strip().partition("×")
            operations += [name.strip(" `")] * int(times or 1)
        documented[function] = sorted(operations)
    return documented


def check_documented_calls(function: str, observed: list[str]) -> None:
    """`function`'s happy path made exactly the calls docs/data-model.md lists for it."""
    documented = documented_dynamodb_calls()
    assert function in documented, f"docs/data-model.md lists no DynamoDB calls for {function}; it made {observed}"
    assert sorted(observed) == documented[function], \
        f"{function} made {', '.join(observed) or 'none'}; docs/data-model.md lists {', '.join(documented[function]) or 'none'}"


def store_sample_author(client: Any, table: str) -> None:
    """The account the sample events' bearer token belongs to (signup makes it in the
    events' own replay), stored directly: create-post writes as an account that exists."""
    token = json.loads((EVENTS / "create-post.json").read_text())["headers"]["authorization"].split()[1]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    client.put_item(TableName=table, Item={
        "pk": {"S": f"USER#{claims['sub']}"}, "sk": {"S": "PROFILE"}, "id": {"S": claims["sub"]},
        "email": {"S": "sample-author@example.com"}, "display_name": {"S": claims["name"]},
        "created_at": {"S": "2025-11-22T13:20:00Z"}, "sign_in_methods": {"SS": ["password"]},
    })


# --------------------------------------------------------------------------- emulator

def rie_path() -> Path:
    """The RIE inside the venv's aws-sam-cli: no Docker needed to run a bootstrap as Lambda does."""
    import samcli

    path = Path(samcli.__file__).resolve().parent / "local" / "rapid" / "aws-lambda-rie-x86_64"
    if not path.is_file():
        raise FileNotFoundError(f"RIE not found at {path}")
    if not os.access(path, os.X_OK):
        raise PermissionError(f"RIE at {path} is not executable")
    return path


class Emulator:
    """One RIE running one bootstrap; always stopped by the context manager."""

    def __init__(self, rie: Path, binary: Path, env: dict[str, str]):
        self.port = free_port()
        api_port = free_port()
        while api_port == self.port:
            api_port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix=f"rie-{binary.parent.name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [
                str(rie),
                "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
                "--runtime-api-address", f"127.0.0.1:{api_port}",
                str(binary),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the bootstrap dies with it
        )

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited with code {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"emulator did not listen on port {self.port} within {timeout:.0f}s")

    def invoke(self, payload: bytes, timeout: float) -> tuple[int, bytes]:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{INVOKE_PATH}",
            data=payload,
            headers={"content-type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        else:
            # The RIE is gone; make sure no bootstrap of its group outlived it.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.log.close()

    def output(self) -> str:
        try:
            return Path(self.log.name).read_text(errors="replace")
        except OSError:
            return ""

    def remove_log(self) -> None:
        try:
            os.unlink(self.log.name)
        except OSError:
            pass


# --------------------------------------------------------------------------- the sample events

def load_manifest() -> list[dict[str, Any]]:
    """events/expected.json: the events in the order they run, each with its function and status."""
    manifest = json.loads((EVENTS / "expected.json").read_text())
    if not isinstance(manifest, list):
        raise ValueError("events/expected.json must be a JSON list")
    for i, entry in enumerate(manifest):
        if not isinstance(entry, dict) or not {"event", "function", "status"} <= set(entry):
            raise ValueError(f"events/expected.json entry {i} needs event, function and status: {entry!r}")
    return manifest


def apply_captures(text: str, captured: dict[str, str]) -> str:
    """An event's text with every captured literal replaced by its value."""
    for literal, value in captured.items():
        text = text.replace(literal, value)
    return text


def record_captures(entry: dict[str, Any], body: str | bytes, captured: dict[str, str]) -> str | None:
    """Records the values `entry` captures from a response body; an error message if any is missing."""
    pointers = entry.get("captures") or {}
    if not pointers:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return "captures from a response body that is not JSON"
    for pointer, literal in pointers.items():
        value: Any = document
        for part in pointer.lstrip("/").split("/"):  # a JSON pointer: object keys and array indexes
            if isinstance(value, list) and part.isdigit():
                value = value[int(part)] if int(part) < len(value) else None
            else:
                value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, str):
            return f"captures {pointer}, which the response does not have"
        captured[literal] = value
    return None


@dataclass(frozen=True)
class Answer:
    """What one event got: its status (None when there was none to read), the response
    body its captures are taken from, and what a failure message should show."""

    status: int | None
    body: str
    detail: str
    dynamodb_calls: list[str] = field(default_factory=list)


class Replay:
    """The manifest's events, each sent once and in order, against one store.

    Later events name what earlier ones created (the captures), so asking how event N went
    first sends every event before it that has not been sent: any one event can be checked
    alone (`pytest -k`), and a full run sends each event exactly once.
    """

    def __init__(self, manifest: list[dict[str, Any]], send: Callable[[dict[str, Any], str], Answer]):
        self.manifest = manifest
        self.send = send
        self.captured: dict[str, str] = {}
        self.problems: list[str | None] = []  # one per event sent so far; None: as expected
        self.dynamodb_calls: dict[str, list[str]] = {}  # event → the DynamoDB calls it made

    def problem(self, entry: dict[str, Any]) -> str | None:
        """Why `entry` did not answer as events/expected.json says, naming the event; None if it did."""
        index = self.manifest.index(entry)
        while len(self.problems) <= index:
            self.problems.append(self._run(self.manifest[len(self.problems)]))
        problem = self.problems[index]
        if problem is None:
            return None
        earlier = [e["event"] for e, p in zip(self.manifest[:index], self.problems) if p is not None]
        return f"{entry['event']} ({entry['function']}): {problem}" + (
            f"\n(earlier events that went wrong: {', '.join(earlier)})" if earlier else "")

    def _run(self, entry: dict[str, Any]) -> str | None:
        path = EVENTS / entry["event"]
        if not path.is_file():
            return f"not run: {path} not found"
        try:
            answer = self.send(entry, apply_captures(path.read_text(), self.captured))
        except Exception as err:  # noqa: BLE001 - an event that could not be sent is that event's failure
            return f"not run: {type(err).__name__}: {err}"
        self.dynamodb_calls[entry["event"]] = answer.dynamodb_calls
        if answer.status != entry["status"]:
            return f"got {answer.status}, expected {entry['status']}\n{answer.detail}"
        problem = record_captures(entry, answer.body, self.captured)
        return None if problem is None else f"{problem}\n{answer.detail}"
