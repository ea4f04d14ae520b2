#!/usr/bin/env bash
# Contract test: schemathesis generates requests for every operation of the served OpenAPI
# document and checks that no answer is a 5xx and every answer conforms to the document.
#
#   tests/contract/run.sh [path/to/authy2]     (default: the debug build of `cargo test`)
#
# Needs Python 3 with venv; schemathesis is installed into a cached virtualenv on first use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=${1:-${CARGO_TARGET_DIR:-$here/../../target}/debug/authy2}
budget=${CONTRACT_SECONDS:-150}
venv=${SCHEMATHESIS_VENV:-$HOME/.cache/authy2-schemathesis}
# shellcheck source=lib.sh
source "$here/lib.sh"

if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4.3,<5'
fi
start_server "$binary" "${CONTRACT_PORT:-5077}"

new_token() {
  curl -fs -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"contract-$1@example.com\",\"password\":\"a long unusual passphrase\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["session"]["token"])'
}

run() {
  local token=$1 seconds=$2; shift 2
  "$venv/bin/st" --config-file "$here/schemathesis.toml" run "$base/api/openapi.json" \
    --header "Authorization: Bearer $token" --max-time "$seconds" \
    --seed 20261204 --suppress-health-check all "$@"
}

status=0
# Everything but the operations that end the caller's own session, so the token stays valid.
run "$(new_token main)" "$budget" \
  --exclude-operation-id logout --exclude-operation-id revoke_session \
  --exclude-operation-id delete_account || status=1
# Those three, each with a session of its own to end.
for operation in logout revoke_session delete_account; do
  run "$(new_token "$operation")" 30 --include-operation-id "$operation" || status=1
done
check_server_log || status=1
exit "$status"
