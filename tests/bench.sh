#!/usr/bin/env bash
# The benchmark (README, "Performance"): builds the release bootstraps, the two floors and
# bench-direct, starts moto, and runs tests/bench.py, which prints the table and writes
# target/bench/bench.{md,json}. No AWS account, no Docker.
#   bash tests/bench.sh            the full run (10 cold starts, 200 warm calls, 10,000 posts)
#   bash tests/bench.sh --smoke    one cold start and a few calls: what CI runs
# Cargo's own variables select another build, e.g. the profile comparison in the README:
#   CARGO_TARGET_DIR=target/opt-s CARGO_PROFILE_RELEASE_OPT_LEVEL=s bash tests/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/env.sh

step "release build: functions, floors, bench-direct"
started=$SECONDS
build_bootstraps
build_seconds=$((SECONDS - started))
# Its own build: the functions must not be built with its features (the embedded store).
cargo build --release --locked --target x86_64-unknown-linux-gnu -p bench-direct

step "benchmark"
target=${CARGO_TARGET_DIR:-target}
"$venv/bin/python" tests/bench.py --endpoint "$AWS_ENDPOINT_URL_DYNAMODB" --bin-dir "$target/lambda" \
  --direct "$target/x86_64-unknown-linux-gnu/release/bench-direct" --out "$target/bench" \
  --build-seconds "$build_seconds" "$@"
