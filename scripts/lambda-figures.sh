#!/usr/bin/env bash
# The Lambda figures: the zipped arm64 function's size, and the cold start
# (process start to first response) of the shop, of the plain server and of
# a bare lambda_http hello, in cargo lambda's runtime emulation, one run.
# Not part of the tests: figures live in benchmarks. About 15 minutes cold
# (the arm64 cross build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
CARGO_LAMBDA="$PWD/target/tools/lambda-venv/bin/cargo-lambda"
# Its Python has the ziglang package, which cross builds link with.
export PATH="$PWD/target/tools/lambda-venv/bin:$PATH"
rustup target add aarch64-unknown-linux-gnu

"$CARGO_LAMBDA" lambda build --release --arm64 --bin server --lambda-dir target/lambda-arm64-zip \
  --output-format zip
zip_bytes=$(stat -c %s target/lambda-arm64-zip/server/bootstrap.zip)
echo "arm64 function zip: $zip_bytes bytes"

cargo build --release -p server -p bench --bin server --bin lambda-hello
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target/tools/venv/bin/moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
sleep 3
export AWS_ACCESS_KEY_ID=moto AWS_SECRET_ACCESS_KEY=moto AWS_REGION=eu-west-1
export SHOP_STORE=dynamodb SHOP_DYNAMODB_ENDPOINT="http://127.0.0.1:$port" SHOP_DYNAMODB_TABLE=coldstart
export LEPTOS_OUTPUT_NAME=shop LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_HASH_FILES=true LEPTOS_ENV=PROD RUST_LOG=warn
target/release/server create-table >/dev/null
python3 scripts/lambda_coldstart.py "$CARGO_LAMBDA" 5 \
  shop-on-lambda=target/release/server hello=target/release/lambda-hello
# The plain server: process start to first 200 on /health.
python3 - <<'PY'
import os, socket, statistics, subprocess, time, urllib.request
times = []
for _ in range(5):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    env = dict(os.environ, LEPTOS_SITE_ADDR=f"127.0.0.1:{port}")
    started = time.perf_counter()
    server = subprocess.Popen(["target/release/server"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).read()
            break
        except OSError:
            time.sleep(0.001)
    times.append((time.perf_counter() - started) * 1000)
    server.terminate(); server.wait()
print(f"plain server: first 200 {statistics.median(times):.0f} ms after the process started "
      f"(median of 5, {min(times):.0f}-{max(times):.0f})")
PY
