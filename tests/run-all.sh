#!/usr/bin/env bash
# The one test command (README, and CI through .ci/run). On a fresh machine it:
#   1. installs the pinned tools (.ci/requirements.txt) into .venv;
#   2. starts a DynamoDB wire-protocol server (moto) on a free loopback port and stops it
#      on exit, whatever happens;
#   3. runs cargo fmt --check, clippy, and every cargo test (the DynamoDB conformance cases
#      against moto; they fail rather than skip when CI is set);
#   4. runs the HTTP-level scenarios against the local-api binary (tests/e2e/test_local_api.py),
#      and the blog page's scenarios in headless Chromium (tests/e2e/test_web_page.py;
#      Debian's chromium package is installed if missing, axe-core from npm);
#   5. builds the Lambda bootstraps (debug: fast to build; the release build is the
#      benchmark's) and replays every events/*.json through each one under the Lambda
#      Runtime Interface Emulator, checking each status (tests/e2e/test_lambda_events.py);
#   6. runs the benchmark and the load test in smoke mode (bench/run.sh --smoke), so they cannot rot;
#   7. lints template.yaml with cfn-lint and sam validate --lint.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/env.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "local-api over HTTP"
cargo build -p local-api --locked
LOCAL_API_BINARY=target/debug/local-api "$venv/bin/python" -m pytest tests/e2e/test_local_api.py -p no:cacheprovider -v

step "the blog page in a real browser (Debian's Chromium, driven by Playwright)"
if [[ ! -x /usr/bin/chromium ]]; then
  as_root=(); [[ $(id -u) -eq 0 ]] || as_root=(sudo)
  "${as_root[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q chromium
fi
(cd tests/e2e && npm ci --no-audit --no-fund --silent)   # axe-core and autocannon, pinned by package-lock.json
LOCAL_API_BINARY=target/debug/local-api "$venv/bin/python" -m pytest tests/e2e/test_web_page.py -p no:cacheprovider -v

step "Lambda bootstraps under the Runtime Interface Emulator"
bin_dir=$(build_bootstraps debug)
LAMBDA_BIN_DIR="$bin_dir" "$venv/bin/python" -m pytest tests/e2e/test_lambda_events.py -p no:cacheprovider -v

step "benchmark and load test, smoke mode (one cold start, a few warm calls, 1 s loads: proves they run)"
bash bench/run.sh --smoke

step "template lint"
cfn-lint template.yaml
sam validate --lint --template-file template.yaml

step "all checks passed"
