#!/usr/bin/env bash
# Builds what a deploy uploads (docs/deployment.md), then checks it:
#   target/lambda-arm64/server/  the function: bootstrap (arm64, for
#                                provided.al2023) and hash.txt, which names
#                                the site's hashed /pkg files
#   target/site/                 the static files: pkg/ (hashed names),
#                                images/, favicon.svg
# About 10 minutes the first time on 2 cores (the arm64 cross build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh deploy
export PATH="$PWD/end2end/node_modules/.bin:$PATH"

log() { printf '\033[1m[package]\033[0m %s\n' "$*" >&2; }
fail() { echo "package: $*" >&2; exit 1; }

log "the site and its hash file (cargo leptos build --release)"
cargo leptos build --release --bin-features default

log "the function (cargo lambda build --release --arm64)"
# cargo-lambda links through Zig from the ziglang package in its own
# environment, which it finds through python3: that environment comes first.
PATH="$PWD/target/tools/lambda-venv/bin:$PATH" \
  cargo-lambda lambda build --release --arm64 --package server --bin server \
  --lambda-dir target/lambda-arm64

function_dir=target/lambda-arm64/server
# The server finds hash.txt beside its executable (/var/task on Lambda).
cp target/release/hash.txt "$function_dir/hash.txt"

# What the stack would upload must be what runs: an arm64 executable, and a
# hash file that names files the site has.
[ "$(od -An -tx1 -j18 -N2 "$function_dir/bootstrap" | tr -d ' ')" = b700 ] \
  || fail "$function_dir/bootstrap is no aarch64 executable"
for extension in js wasm css; do
  hash=$(sed -n "s/^$extension: //p" "$function_dir/hash.txt")
  [ -n "$hash" ] && [ -f "target/site/pkg/shop.$hash.$extension" ] \
    || fail "hash.txt names no target/site/pkg/shop.<hash>.$extension"
done
log "$function_dir: $(du -sh "$function_dir" | cut -f1); target/site: $(du -sh target/site | cut -f1)"
