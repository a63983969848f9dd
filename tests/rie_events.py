#!/usr/bin/env python3
"""Replay the API Gateway events in events/ through the real function binaries.

Each release binary runs under the Lambda Runtime Interface Emulator (RIE) that
ships with aws-sam-cli, exactly as Lambda runs a `provided.al2023` bootstrap, and
talks to DynamoDB at --endpoint (a moto_server). The table is created from the
`BlogTable` resource in template.yaml, the single source of truth for its keys.

    cargo lambda build --release
    .venv/bin/python tests/rie_events.py --bin-dir target/lambda \
        --endpoint http://127.0.0.1:PORT

events/expected.json is an ordered list of {"event", "function", "status"}; the
events run in that order against one fresh table. The bearer tokens in the events
are signed with the local development secret below (a Rust test keeps them valid).

An entry may also name "captures": {"<JSON pointer into its response body>": "<literal>"}.
Every later event then has that literal replaced by the value found, so that the
events can name the user signup created and the post create-post created (the
events' own ids and tokens are placeholders of the same shape).

Standard library + boto3 only.
"""

from __future__ import annotations

import argparse
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
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
DEV_JWT_SECRET = "local-dev-secret-do-not-use-in-production-0123456789"
NOT_EVENTS = {"expected.json", "sam-local-env.json"}
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
INIT_REPORT = re.compile(r"INIT REPORT\([^)]*?durationMs: ([0-9.]+)[^)]*\)")


# --------------------------------------------------------------------------- template

def load_template(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML template whatever its short-form tags (!Ref, !Sub...)."""
    try:
        from cfnlint.decode import cfn_yaml  # installed with cfn-lint in the venv

        # The loader returns dict/str subclasses; a JSON round trip makes them plain.
        return json.loads(json.dumps(cfn_yaml.load(str(path))))
    except ImportError:
        import yaml  # PyYAML comes with both cfn-lint and aws-sam-cli

        class Loader(yaml.SafeLoader):
            pass

        def tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
            name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
            if isinstance(node, yaml.ScalarNode):
                value: Any = loader.construct_scalar(node)
                if suffix == "GetAtt":
                    value = value.split(".", 1)
            elif isinstance(node, yaml.SequenceNode):
                value = loader.construct_sequence(node, deep=True)
            else:
                value = loader.construct_mapping(node, deep=True)
            return {name: value}

        Loader.add_multi_constructor("!", tag)
        return yaml.load(path.read_text(), Loader=Loader)


def function_resource(template: dict[str, Any], binary: str) -> tuple[str, dict[str, Any]]:
    """The AWS::Serverless::Function whose rust-cargolambda Binary is `binary`."""
    for name, res in template.get("Resources", {}).items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        if (res.get("Metadata") or {}).get("BuildProperties", {}).get("Binary") == binary:
            return name, res.get("Properties") or {}
    raise LookupError(f"no AWS::Serverless::Function with BuildProperties.Binary {binary!r} in the template")


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
    glob = template.get("Globals", {}).get("Function", {})
    value = props.get(key, glob.get(key, default))
    return value if isinstance(value, (int, str, dict)) else default


def lambda_env(template: dict[str, Any], props: dict[str, Any], function: str, table: str, endpoint: str) -> dict[str, str]:
    """The environment Lambda gives `function` as the template configures it, pointed at
    `table` on the DynamoDB at `endpoint`, with the local development secret."""
    timeout = int(function_setting(template, props, "Timeout", 10))
    memory = function_setting(template, props, "MemorySize", 128)
    logging_cfg = function_setting(template, props, "LoggingConfig", {})
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TZ": ":UTC",
        "LANG": "C.UTF-8",
        **template_env(template, props),
        "TABLE_NAME": table,
        "JWT_SECRET": DEV_JWT_SECRET,
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
    if isinstance(logging_cfg, dict) and logging_cfg.get("LogFormat") == "JSON":
        # What Lambda sets for LoggingConfig {LogFormat: JSON, ApplicationLogLevel: ...}.
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        if isinstance(logging_cfg.get("ApplicationLogLevel"), str):
            env["AWS_LAMBDA_LOG_LEVEL"] = logging_cfg["ApplicationLogLevel"]
    return env


# --------------------------------------------------------------------------- DynamoDB

def create_table(template: dict[str, Any], endpoint: str) -> tuple[Any, str]:
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


# --------------------------------------------------------------------------- emulator

def rie_path() -> Path:
    import samcli

    path = Path(samcli.__file__).resolve().parent / "local" / "rapid" / "aws-lambda-rie-x86_64"
    if not path.is_file():
        raise FileNotFoundError(f"RIE not found at {path}")
    if not os.access(path, os.X_OK):
        raise PermissionError(f"RIE at {path} is not executable")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

    def __enter__(self) -> "Emulator":
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


# --------------------------------------------------------------------------- runner

def load_manifest(events_dir: Path) -> list[dict[str, Any]]:
    manifest = json.loads((events_dir / "expected.json").read_text())
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
        for part in pointer.lstrip("/").split("/"):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, str):
            return f"captures {pointer}, which the response does not have"
        captured[literal] = value
    return None


def group_consecutive(manifest: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for entry in manifest:
        if groups and groups[-1][0] == entry["function"]:
            groups[-1][1].append(entry)
        else:
            groups.append((entry["function"], [entry]))
    return groups


def short(body: bytes | str, limit: int = 2000) -> str:
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.rstrip("\n").splitlines())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", required=True, type=Path, help="cargo lambda's output: <dir>/<function>/bootstrap")
    ap.add_argument("--endpoint", required=True, help="DynamoDB endpoint (a moto_server), e.g. http://127.0.0.1:5000")
    ap.add_argument("--events-dir", type=Path, default=ROOT / "events")
    ap.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    ap.add_argument("--keep-table", action="store_true", help="do not delete the table afterwards")
    args = ap.parse_args(argv)

    events_dir: Path = args.events_dir
    manifest = load_manifest(events_dir)
    template = load_template(args.template)
    rie = rie_path()

    passed = failed = 0

    def ok(name: str, status: Any) -> None:
        nonlocal passed
        passed += 1
        print(f"ok  {name} -> {status}", flush=True)

    def fail(name: str, message: str, body: bytes | str | None = None) -> None:
        nonlocal failed
        failed += 1
        print(f"FAIL {name} {message}", flush=True)
        if body:
            print(indent(short(body)), flush=True)

    # Every event file must be in the manifest, and every manifest entry must exist.
    listed = {entry["event"] for entry in manifest}
    for path in sorted(events_dir.glob("*.json")):
        if path.name not in NOT_EVENTS and path.name not in listed:
            fail(path.name, "is not listed in events/expected.json")

    captured: dict[str, str] = {}
    client, table = create_table(template, args.endpoint)
    print(f"table {table} created at {args.endpoint}", flush=True)
    try:
        for function, entries in group_consecutive(manifest):
            binary = (args.bin_dir / function / "bootstrap").absolute()
            try:
                _, props = function_resource(template, function)
            except LookupError as err:
                for entry in entries:
                    fail(entry["event"], f"-> not run: {err}")
                continue
            if not binary.is_file():
                for entry in entries:
                    fail(entry["event"], f"-> not run: binary {binary} not found")
                continue

            timeout = int(function_setting(template, props, "Timeout", 10))
            env = lambda_env(template, props, function, table, args.endpoint)

            group_failed = False
            done = 0  # index of the first entry of this group not yet reported
            emulator = Emulator(rie, binary, env)
            try:
                emulator.wait_ready()
                for done, entry in enumerate(entries):
                    name, want = entry["event"], entry["status"]
                    path = events_dir / name
                    if not path.is_file():
                        fail(name, "-> not run: file not found")
                        group_failed = True
                        continue
                    text = apply_captures(path.read_text(), captured)
                    try:
                        http_status, raw = emulator.invoke(text.encode(), timeout=timeout + 5)
                    except (OSError, TimeoutError) as err:
                        fail(name, f"-> invoke failed: {err} (expected {want})")
                        group_failed = True
                        continue
                    try:
                        response = json.loads(raw)
                    except ValueError:
                        response = None
                    got = response.get("statusCode") if isinstance(response, dict) else None
                    problem = record_captures(entry, response.get("body") or "", captured) if got == want else None
                    if http_status == 200 and got == want and problem is None:
                        ok(name, got)
                    elif problem is not None:
                        fail(name, f"-> {problem}", raw)
                        group_failed = True
                    else:
                        where = f"{got}" if got is not None else f"no statusCode (emulator HTTP {http_status})"
                        fail(name, f"-> {where} (expected {want})", raw)
                        group_failed = True
            except (RuntimeError, TimeoutError, OSError) as err:
                for entry in entries[done:]:
                    fail(entry["event"], f"-> not run: {err}")
                group_failed = True
            finally:
                emulator.stop()
                out = emulator.output()
                reports = INIT_REPORT.findall(out)
                if reports:
                    durations = ", ".join(f"{float(r):.2f} ms" for r in reports)
                    print(f"init {function}: {durations}", flush=True)
                if group_failed:
                    tail = "\n".join(out.splitlines()[-40:])
                    if tail:
                        print(f"--- emulator output for {function} (last 40 lines)", flush=True)
                        print(indent(tail), flush=True)
                emulator.remove_log()
    finally:
        if not args.keep_table:
            try:
                client.delete_table(TableName=table)
            except Exception as err:  # noqa: BLE001 - cleanup must not mask the result
                print(f"note: could not delete table {table}: {err}", flush=True)

    # A function must refuse to start with a weak JWT secret: a clear log line and a
    # non-zero exit during init, before it ever asks the runtime API for an event.
    for function in sorted({entry["function"] for entry in manifest}):
        name = f"{function} with a 31-byte JWT_SECRET"
        binary = (args.bin_dir / function / "bootstrap").absolute()
        _, props = function_resource(template, function)
        env = {**template_env(template, props), "JWT_SECRET": "x" * 31, "TABLE_NAME": "unused"}
        try:
            run = subprocess.run([str(binary)], env=env, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired) as err:
            fail(name, f"-> did not exit: {err}")
            continue
        log = run.stdout + run.stderr
        if run.returncode != 0 and "refusing to start" in log and "JWT_SECRET must be at least 32 bytes" in log:
            ok(name, f"exit {run.returncode}")
        else:
            fail(name, f"-> exit {run.returncode}, expected non-zero with a clear log line", log)

    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
