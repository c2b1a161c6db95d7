#!/usr/bin/env bash
# Builds and serves the shop at http://127.0.0.1:3000 with the embedded store
# and the Mollie emulator mounted at /mollie: no AWS account, no Mollie key.
# Set SHOP_STORE=dynamodb or SHOP_PAYMENT_PROVIDER=mollie to change that (README).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
export PATH="$PWD/end2end/node_modules/.bin:$PATH"
exec cargo leptos serve --release
