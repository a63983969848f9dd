#!/usr/bin/env bash
# The benchmark (docs/performance.md): builds the release bootstraps, the two floors and
# bench-direct, and runs bench/bench.py (a fresh moto for each measurement), which prints the table, writes
# target/bench/bench.{md,json} and, on a full run, docs/benchmark.md. Then the load test, bench/load.py
# (local-api under autocannon, docs/testing.md): target/bench/load.{md,json}, on a full run docs/load.md.
# No AWS account, no Docker.
#   bash bench/run.sh            the full run (10 cold starts, 200 warm calls, 10,000 posts;
#                                5 s per load at 1, 16 and 64 clients)
#   bash bench/run.sh --smoke    one cold start and a few calls, 1 s per load at 1 and 16 clients,
#                                on the tests' debug builds: what the test command runs, so neither can rot
# Cargo's own variables select another build, e.g. a profile comparison:
#   CARGO_TARGET_DIR=target/opt-s CARGO_PROFILE_RELEASE_OPT_LEVEL=s bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/env.sh

target=${CARGO_TARGET_DIR:-target}
if [[ ${1:-} == --smoke ]]; then
  step "debug build: functions, floors, bench-direct"
  started=$SECONDS
  bin_dir=$(build_bootstraps debug)
  build_seconds=$((SECONDS - started))
  # Its own build: the functions must not be built with its features (the embedded store).
  cargo build --locked -p bench-direct -p local-api
  direct=$target/debug/bench-direct
  local_api=$target/debug/local-api
  mode=(--debug-build "$@")
  load_mode=(--smoke --debug-build)
else
  step "release build: functions, floors, bench-direct"
  started=$SECONDS
  bin_dir=$(build_bootstraps release)
  build_seconds=$((SECONDS - started))
  cargo build --release --locked --target x86_64-unknown-linux-gnu -p bench-direct -p local-api
  direct=$target/x86_64-unknown-linux-gnu/release/bench-direct
  local_api=$target/x86_64-unknown-linux-gnu/release/local-api
  mode=(--doc docs/benchmark.md "$@")
  load_mode=(--doc docs/load.md)
fi

step "benchmark"
"$venv/bin/python" -m bench.bench --bin-dir "$bin_dir" \
  --direct "$direct" --local-api "$local_api" --out "$target/bench" --build-seconds "$build_seconds" "${mode[@]}"

step "load test: local-api on the embedded store under autocannon"
(cd tests/e2e && npm ci --no-audit --no-fund --silent)   # autocannon, pinned by package-lock.json
"$venv/bin/python" -m bench.load --local-api "$local_api" --out "$target/bench" "${load_mode[@]}"
