#!/usr/bin/env bash
# Benchmarks on loopback, each figure beside a reference measured in the same
# run (a bare Leptos page, a bare lambda_http function, raw DynamoDB calls,
# the disk's raw fsync rate); writes BENCHMARKS.md. Fails when the hydrate
# bundle is over its budget (after writing the report).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/setup.sh bench
export PATH="$ROOT/end2end/node_modules/.bin:$PATH"

cargo leptos build --release --bin-features default
cargo build --release -p bench -p mollie-emulator
# The bare Leptos reference, built the same way; it shares target/ so the
# dependencies the shop has built already are not built again.
(cd crates/bench/reference && CARGO_TARGET_DIR="$ROOT/target" cargo leptos build --release)

# moto accepts any credentials; these are not secrets.
export AWS_ACCESS_KEY_ID=moto AWS_SECRET_ACCESS_KEY=moto AWS_REGION=eu-west-1
export CARGO_LAMBDA="$ROOT/target/tools/lambda-venv/bin/cargo-lambda"
status=0
# moto as the tests run it: one request at a time (see scripts/moto_server.py).
target/release/bench target/release/server target/release/bare-leptos crates/bench/reference/target/site \
  target/tools/venv/bin/python scripts/moto_server.py BENCHMARKS.md || status=$?

cat >>BENCHMARKS.md <<MD

Produced by \`./scripts/bench.sh\`.
MD
# What bounds each missed goal (kept by hand in docs/performance.md).
{ echo; sed 's/^# /## /' docs/performance.md; } >>BENCHMARKS.md
exit $status
