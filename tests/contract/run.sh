#!/usr/bin/env bash
# Contract test: schemathesis generates requests for every operation of the served OpenAPI
# document and checks that no answer is a 5xx and every answer conforms to the document.
#
#   tests/contract/run.sh [path/to/authy2]     (default: the debug build of `cargo test`)
#
# Needs Python 3 with venv; schemathesis is installed into a cached virtualenv on first use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${CARGO_TARGET_DIR:-$here/../../target}
binary=${1:-$target/debug/authy2}
port=${CONTRACT_PORT:-5077}
budget=${CONTRACT_SECONDS:-150}
venv=${SCHEMATHESIS_VENV:-$HOME/.cache/authy2-schemathesis}
base="http://127.0.0.1:$port"

if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4.3,<5'
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A throwaway server: cheap hashing, its own database, limits high enough for a fuzzer.
env -i PATH="$PATH" HOME="$HOME" \
  APP_ENV=testing PORT="$port" RUST_LOG=warn LOG_FORMAT=json \
  DATABASE_URL="sqlite://$work/contract.db" \
  RATE_LIMIT_LOGIN_ATTEMPTS=1000000 RATE_LIMIT_LOGIN_FAILURES=1000000 \
  RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL=1000000 RATE_LIMIT_REGISTRATIONS=1000000 \
  RATE_LIMIT_SENSITIVE_ACTIONS=1000000 \
  "$binary" serve > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do
  curl -fs "$base/api/health" > /dev/null && break
  sleep 0.2
done

new_token() {
  curl -fs -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"contract-$1@example.com\",\"password\":\"a long unusual passphrase\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["session"]["token"])'
}

run() {
  local token=$1; shift
  "$venv/bin/st" --config-file "$here/schemathesis.toml" run "$base/api/openapi.json" \
    --header "Authorization: Bearer $token" --max-time "$budget" \
    --seed 20261204 --suppress-health-check all "$@"
}

status=0
# Everything but the operations that end the caller's own session, so the token stays valid.
run "$(new_token main)" \
  --exclude-operation-id logout --exclude-operation-id revoke_session \
  --exclude-operation-id delete_account || status=1
# Those three, each with a session of its own to end.
for operation in logout revoke_session delete_account; do
  CONTRACT_SECONDS=30 budget=30 run "$(new_token "$operation")" --include-operation-id "$operation" || status=1
done

if grep -q '"level":"ERROR"' "$work/server.log"; then
  echo "server logged errors during the contract test:" >&2
  grep '"level":"ERROR"' "$work/server.log" | head -20 >&2
  status=1
fi
exit "$status"
