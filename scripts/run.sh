#!/usr/bin/env bash
# Builds and serves the shop at http://127.0.0.1:3000 with the embedded store
# and the Mollie emulator mounted at /mollie: no AWS account, no Mollie key.
# The server is built without the AWS SDK and the Lambda runtime; with
# SHOP_STORE=dynamodb or a secret's ARN (docs/configuration.md) add
# `--bin-features aws`. SHOP_PAYMENT_PROVIDER=mollie with MOLLIE_API_KEY
# needs neither (README).
#   scripts/run.sh            a debug build: the quickest way to a first purchase
#   scripts/run.sh --release  optimized
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
export PATH="$PWD/end2end/node_modules/.bin:$PATH"
exec cargo leptos serve "$@"
