#!/usr/bin/env bash
# Installs the tools the project needs, skipping what is already there at the
# right version, so running it again costs seconds.
#   scripts/setup.sh        what building and running the shop needs
#   scripts/setup.sh test   that, plus chromium, Playwright, moto server,
#                           cargo-lambda and the infra/ (CDK) packages
#   scripts/setup.sh bench  that, plus moto server, cargo-lambda, wrk and brotli
#   scripts/setup.sh deploy what scripts/package.sh needs: cargo-lambda with
#                           Zig, the aarch64 target, the infra/ packages
set -euo pipefail
MODE=${1:-run}
case "$MODE" in
  run | test | bench | deploy) ;;
  *) echo "usage: scripts/setup.sh [run|test|bench|deploy]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
ROOT=$(pwd)

CARGO_LEPTOS_VERSION=0.3.10   # 0.3.11 needs rustc 1.96
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (6 to 15 minutes on 2 cores)"
  # no_downloads: look up wasm-bindgen, wasm-opt on PATH instead of fetching them.
  # --debug: the tool only orchestrates (the project's own profiles decide how
  # the shop is built); a debug build installs in about half the time of its
  # fat-LTO release profile and rebuilds the shop just as fast. Without debug
  # info it also links faster and is smaller (nobody steps through it).
  CARGO_PROFILE_DEV_DEBUG=false CARGO_INCREMENTAL=0 \
    cargo install "cargo-leptos@$CARGO_LEPTOS_VERSION" --locked --features no_downloads --debug
fi

if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # --locked fails against the registry mirror (a pinned webpki-roots is missing).
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "$MODE" = test ] && ! command -v chromium >/dev/null; then
  log "installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q chromium
fi

# wasm-opt (npm binaryen: Debian's is too old for current wasm) and Playwright.
if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -d end2end/node_modules/@playwright/test ] \
   || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  log "installing end2end npm packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

# moto server: a DynamoDB-compatible server for the integration tests.
VENV="$ROOT/target/tools/venv"
if { [ "$MODE" = test ] || [ "$MODE" = bench ]; } && [ ! -x "$VENV/bin/moto_server" ]; then
  log "installing moto server into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "moto[server]==5.2.5"
fi

# cargo-lambda from PyPI (a prebuilt binary): the Lambda runtime's local
# emulation (cargo lambda watch / invoke) and the arm64 build a deploy
# uploads, which links through Zig: the ziglang package in the same
# environment, found through that environment's python3 (scripts/package.sh
# puts its bin/ first on PATH).
CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.17.1
LAMBDA_VENV="$ROOT/target/tools/lambda-venv"
if [ "$MODE" != run ] && { [ "$("$LAMBDA_VENV/bin/cargo-lambda" lambda --version 2>/dev/null | cut -d' ' -f2)" != "$CARGO_LAMBDA_VERSION" ] \
   || [ "$("$LAMBDA_VENV/bin/python3" -m ziglang version 2>/dev/null || true)" != "$ZIGLANG_VERSION" ]; }; then
  log "installing cargo-lambda $CARGO_LAMBDA_VERSION and Zig $ZIGLANG_VERSION into $LAMBDA_VENV"
  python3 -m venv "$LAMBDA_VENV"
  "$LAMBDA_VENV/bin/pip" install -q "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION"
fi

# The functions run on arm64 (Graviton): scripts/package.sh cross builds.
if { [ "$MODE" = test ] || [ "$MODE" = deploy ]; } \
   && ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  log "adding the aarch64-unknown-linux-gnu target"
  rustup target add aarch64-unknown-linux-gnu \
    || { echo "could not add the aarch64-unknown-linux-gnu target (rustup); a deploy needs it" >&2; exit 1; }
fi

# The CDK app and its tests (infra/).
if { [ "$MODE" = test ] || [ "$MODE" = deploy ]; } && { [ ! -d infra/node_modules/aws-cdk-lib ] \
   || [ infra/package-lock.json -nt infra/node_modules/.package-lock.json ]; }; then
  log "installing infra npm packages"
  (cd infra && npm ci --no-audit --no-fund)
fi

if [ "$MODE" = bench ] && { ! command -v wrk >/dev/null || ! command -v brotli >/dev/null; }; then
  log "installing wrk and brotli"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q wrk brotli
fi
