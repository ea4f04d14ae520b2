#!/usr/bin/env bash
# The interactive docs in headless Chromium (docs-page.mjs): every operation rendered, nothing
# loaded from elsewhere, "Try it out" working with the session cookie and with a bearer token.
#
#   tests/contract/docs-page.sh [path/to/authy2] [screenshot.png]
#
# Needs Node.js and Chromium (/usr/bin/chromium); playwright-core is installed into a cache
# directory on first use (it drives the system Chromium; no browser is downloaded).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=${1:-${CARGO_TARGET_DIR:-$here/../../target}/debug/authy2}
screenshot=${2:-${TMPDIR:-/tmp}/authy2-docs-page.png}
playwright=${PLAYWRIGHT_DIR:-$HOME/.cache/authy2-playwright}
# shellcheck source=lib.sh
source "$here/lib.sh"

if [ ! -d "$playwright/node_modules/playwright-core" ]; then
  mkdir -p "$playwright"
  (cd "$playwright" && npm install --silent --no-audit --no-fund playwright-core@1)
fi
start_server "$binary" "${DOCS_PORT:-5078}"
PLAYWRIGHT_DIR=$playwright node "$here/docs-page.mjs" "$base" "$screenshot"
check_server_log
