#!/usr/bin/env bash
# The one test command (README, and CI through .ci/run). On a fresh machine it:
#   1. installs the pinned tools (.ci/requirements.txt) into .venv;
#   2. starts a DynamoDB wire-protocol server (moto) on a free loopback port and stops it
#      on exit, whatever happens;
#   3. runs cargo fmt --check, clippy, and every cargo test (the DynamoDB conformance cases
#      against moto; they fail rather than skip when CI is set);
#   4. runs the HTTP-level scenarios against the local-api binary (tests/local_api_scenarios.py);
#   5. builds the Lambda bootstraps with cargo lambda and replays every events/*.json
#      through each one under the Lambda Runtime Interface Emulator, checking each status;
#   6. lints template.yaml with cfn-lint and sam validate --lint.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=$root/.venv
logs=$root/target/test-logs
mkdir -p "$logs"

step() { printf '\n==> %s\n' "$*"; }

step "tools (pinned in .ci/requirements.txt)"
stamp=$venv/.requirements.sha256
wanted=$(sha256sum .ci/requirements.txt | cut -d' ' -f1)
if [[ ! -x $venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r .ci/requirements.txt
  echo "$wanted" > "$stamp"
fi
export PATH="$venv/bin:$PATH"

step "DynamoDB (moto) on loopback"
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/python" .ci/moto_server.py -H 127.0.0.1 -p "$port" > "$logs/moto.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
    break
  fi
  kill -0 "$moto_pid" 2>/dev/null || { cat "$logs/moto.log"; exit 1; }
  sleep 0.1
done
echo "moto listening on 127.0.0.1:$port"

# The SDK reads these itself: no home-made endpoint variable. Retries off, so a request
# moto rejects fails at once instead of being retried into a slow failure.
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_MAX_ATTEMPTS=1
export AWS_EC2_METADATA_DISABLED=true SAM_CLI_TELEMETRY=0
unset AWS_PROFILE AWS_SESSION_TOKEN

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "local-api over HTTP"
cargo build -p local-api --locked
"$venv/bin/python" tests/local_api_scenarios.py --binary target/debug/local-api --dynamodb-endpoint "$AWS_ENDPOINT_URL_DYNAMODB"

step "Lambda bootstraps under the Runtime Interface Emulator"
cargo lambda build --release --locked
"$venv/bin/python" tests/rie_events.py --bin-dir target/lambda --endpoint "$AWS_ENDPOINT_URL_DYNAMODB"

step "template lint"
cfn-lint template.yaml
sam validate --lint --template-file template.yaml

step "all checks passed"
