"""Fixtures: the DynamoDB endpoint (moto), the binaries under test, the emulator, local-api.

A missing binary fails the tests that need it with the command that builds it: an
end-to-end suite that skips what it cannot find passes without testing anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.support import (
    ROOT,
    LocalApi,
    MotoServer,
    load_manifest,
    local_api_create_table,
    local_api_dynamodb_env,
    rie_path,
)


def path_from_env(variable: str, default: Path) -> Path:
    """`$variable` (relative to the working directory, as a shell gives it) or `default`."""
    value = os.environ.get(variable)
    return Path(value).absolute() if value else default


@pytest.fixture(scope="session")
def dynamodb_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """AWS_ENDPOINT_URL_DYNAMODB when set (tests/run-all.sh starts one moto for everything);
    otherwise a moto of this session's own, stopped at the end. Either way through
    .ci/moto_server.py, which is atomic as DynamoDB is: the race tests need it."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if endpoint:
        yield endpoint
        return
    try:
        moto = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    except (RuntimeError, TimeoutError) as err:
        pytest.fail(str(err))
    with moto:
        yield moto.endpoint


@pytest.fixture(scope="session")
def local_api_binary() -> Path:
    """The local-api binary: $LOCAL_API_BINARY, by default the debug build."""
    binary = path_from_env("LOCAL_API_BINARY", ROOT / "target" / "debug" / "local-api")
    if not binary.is_file():
        pytest.fail(f"local-api binary {binary} not found: build it with `cargo build -p local-api --locked`, "
                    "or set LOCAL_API_BINARY")
    return binary


@pytest.fixture(scope="session")
def lambda_bin_dir() -> Path:
    """The bootstraps, as <dir>/<function>/bootstrap (cargo lambda's layout): $LAMBDA_BIN_DIR,
    by default the tests' debug builds. Every function events/expected.json names must be there."""
    bin_dir = path_from_env("LAMBDA_BIN_DIR", ROOT / "target" / "lambda-debug")
    functions = sorted({entry["function"] for entry in load_manifest()})
    missing = [f for f in functions if not (bin_dir / f / "bootstrap").is_file()]
    if missing:
        pytest.fail(f"no bootstrap under {bin_dir} for {', '.join(missing)}: build them with "
                    "`bash -c 'source tests/env.sh && build_bootstraps debug'`, or set LAMBDA_BIN_DIR")
    return bin_dir


@pytest.fixture(scope="session")
def rie() -> Path:
    """The Lambda Runtime Interface Emulator binary."""
    return rie_path()


@pytest.fixture
def memory_api(local_api_binary: Path) -> Iterator[LocalApi]:
    """A fresh local-api on the embedded store, in memory."""
    with LocalApi(local_api_binary, ["--memory"]) as api:
        yield api


@pytest.fixture(params=["embedded", "DynamoDB"])
def api(request: pytest.FixtureRequest, local_api_binary: Path, tmp_path: Path) -> Iterator[LocalApi]:
    """A fresh local-api on each store: embedded (in memory), and DynamoDB on a new table
    made by `local-api create-table`. moto is started only for the DynamoDB case."""
    if request.param == "embedded":
        with LocalApi(local_api_binary, ["--memory"]) as api:
            yield api
        return
    env = local_api_dynamodb_env(request.getfixturevalue("dynamodb_endpoint"))
    created = local_api_create_table(local_api_binary, env)
    assert created.returncode == 0, f"local-api create-table failed:\n{created.stdout}{created.stderr}"
    with LocalApi(local_api_binary, ["--data-dir", str(tmp_path)], env=env) as api:
        yield api
