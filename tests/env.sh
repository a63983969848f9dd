# Sourced by tests/run-all.sh and bench/run.sh: the pinned tools, and a DynamoDB
# wire-protocol server (moto) on a free loopback port, stopped when the script exits.
# Leaves the SDK's own variables pointing at it (DynamoDB, Secrets Manager); no home-made endpoint variable.
root=$PWD
venv=$root/.venv
logs=$root/target/test-logs
mkdir -p "$logs"

# A CI run builds once: incremental caches would only take disk.
if [[ -n ${CI:-} ]]; then export CARGO_INCREMENTAL=0; fi

# Each step is stamped with the seconds since the script started, so a log shows where time goes.
step() { printf '\n==> [%4ds] %s\n' "$SECONDS" "$*"; }

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

# Retries off, so a request moto rejects fails at once instead of being retried into a
# slow failure.
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
# The same moto server speaks Secrets Manager too (the signing key's custom resource).
export AWS_ENDPOINT_URL_SECRETS_MANAGER="http://127.0.0.1:$port"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_MAX_ATTEMPTS=1
export AWS_EC2_METADATA_DISABLED=true SAM_CLI_TELEMETRY=0
unset AWS_PROFILE AWS_SESSION_TOKEN

# The Lambda bootstraps, as <dir>/<function>/bootstrap (cargo lambda's layout), for the
# functions and the benchmark's two floors, built in one cargo run so they share one
# feature set, as deployed. Prints <dir>.
#   build_bootstraps release  cargo lambda, the release profile: what is deployed and what
#                             the full benchmark measures (fat LTO: slow to link)
#   build_bootstraps debug    the dev profile (hashing crates optimised, Cargo.toml): what
#                             the tests run, sharing most of the test build's artifacts
lambda_packages=(--workspace --exclude local-api --exclude bench-direct)
build_bootstraps() {
  local target=${CARGO_TARGET_DIR:-$root/target}
  case $1 in
    release)
      cargo lambda build --release --locked "${lambda_packages[@]}" >&2 || return
      echo "$target/lambda" ;;
    debug)
      cargo build --locked "${lambda_packages[@]}" --message-format json-render-diagnostics \
        | "$venv/bin/python" -c '
import json, os, sys
out = sys.argv[1]
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg.get("executable") and "bin" in msg["target"]["kind"]:
        folder = os.path.join(out, msg["target"]["name"])
        os.makedirs(folder, exist_ok=True)
        link = os.path.join(folder, "bootstrap")
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(msg["executable"], link)
' "$target/lambda-debug" || return
      echo "$target/lambda-debug" ;;
    *) echo "build_bootstraps: release or debug, not '$1'" >&2; return 2 ;;
  esac
}
