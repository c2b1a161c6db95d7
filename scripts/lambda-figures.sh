#!/usr/bin/env bash
# The Lambda figures: the zipped arm64 function's size, and the bench's
# cold-start figures (`bench lambda-figures`: the shop's function and a
# bare lambda_http hello in cargo lambda watch, and the plain server's
# start, DynamoDB on moto), one run. Not part of the tests: figures live in
# benchmarks. About 15 minutes cold (the arm64 cross build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export CARGO_LAMBDA="$PWD/target/tools/lambda-venv/bin/cargo-lambda"
# Its Python has the ziglang package, which cross builds link with.
export PATH="$PWD/end2end/node_modules/.bin:$PWD/target/tools/lambda-venv/bin:$PATH"
rustup target add aarch64-unknown-linux-gnu

"$CARGO_LAMBDA" lambda build --release --arm64 --bin server --lambda-dir target/lambda-arm64-zip \
  --output-format zip
zip_bytes=$(stat -c %s target/lambda-arm64-zip/server/bootstrap.zip)
echo "arm64 function zip: $zip_bytes bytes"

# The plain server's start is timed to its first 200 on `/`, which needs the site.
cargo leptos build --release --bin-features default
cargo build --release -p bench
# moto accepts any credentials; these are not secrets.
export AWS_ACCESS_KEY_ID=moto AWS_SECRET_ACCESS_KEY=moto AWS_REGION=eu-west-1
target/release/bench lambda-figures target/release/server target/tools/venv/bin/python scripts/moto_server.py
