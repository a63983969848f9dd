# Sourced by tests/run-all.sh and tests/bench.sh: the pinned tools, and a DynamoDB
# wire-protocol server (moto) on a free loopback port, stopped when the script exits.
# Leaves the SDK's own variables pointing at it; no home-made endpoint variable.
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

# Retries off, so a request moto rejects fails at once instead of being retried into a
# slow failure.
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_MAX_ATTEMPTS=1
export AWS_EC2_METADATA_DISABLED=true SAM_CLI_TELEMETRY=0
unset AWS_PROFILE AWS_SESSION_TOKEN

# The release bootstraps (target/lambda/<name>/bootstrap): the functions and the
# benchmark's two floors, in one build so they share one feature set, as deployed.
build_bootstraps() {
  cargo lambda build --release --locked --workspace --exclude local-api --exclude bench-direct
}
