#!/usr/bin/env bash
# Every test: unit, integration (DynamoDB store against moto server, the
# Mollie client against the emulator, the webhook route), and the Playwright
# end-to-end tests in Chromium against the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
export PATH="$PWD/end2end/node_modules/.bin:$PATH"

log() { printf '\033[1m[test]\033[0m %s\n' "$*" >&2; }

# A DynamoDB-compatible server on a free loopback port, stopped on exit.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target/logs
target/tools/venv/bin/moto_server -H 127.0.0.1 -p "$port" >target/logs/moto.log 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$moto_pid" 2>/dev/null || { cat target/logs/moto.log; exit 1; }
  sleep 0.1
done
log "moto server on 127.0.0.1:$port"

export SHOP_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
# moto accepts any credentials; these are not secrets.
export AWS_ACCESS_KEY_ID=moto AWS_SECRET_ACCESS_KEY=moto AWS_REGION=eu-west-1

log "unit and integration tests"
cargo test --workspace --exclude frontend

log "end-to-end tests (release build, Chromium)"
# A fresh embedded store for every run, reconciliation quick enough for the
# dropped-webhook test to finish within seconds, the emulator's control
# endpoints on (the tests set faults through them), and a checkout rate
# limit above what the suite does from one address in a minute.
SHOP_DATA_DIR=$(mktemp -d)
export SHOP_DATA_DIR SHOP_REFRESH_ON_READ_AFTER_MS=4000 SHOP_REFRESH_MIN_INTERVAL_MS=1000 \
  SHOP_RECONCILE_INTERVAL_MS=2000 SHOP_RECONCILE_FIRST_CHECK_AFTER_MS=8000 \
  SHOP_EMULATOR_CONTROL=true SHOP_CHECKOUT_RATE_PER_MINUTE=600
cargo leptos end-to-end --release
