# Shared by the contract checks: a throwaway server (cheap hashing, its own SQLite file, limits
# high enough for a fuzzer) that is stopped and removed when the calling script exits.
# Source it, then call `start_server BINARY PORT`; the base URL is in $base.

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

start_server() {
  local binary=$1 port=$2
  base="http://127.0.0.1:$port"
  env -i PATH="$PATH" HOME="$HOME" \
    APP_ENV=testing PORT="$port" RUST_LOG=warn LOG_FORMAT=json \
    DATABASE_URL="sqlite://$work/contract.db" \
    RATE_LIMIT_LOGIN_ATTEMPTS=1000000 RATE_LIMIT_LOGIN_FAILURES=1000000 \
    RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL=1000000 RATE_LIMIT_REGISTRATIONS=1000000 \
    RATE_LIMIT_SENSITIVE_ACTIONS=1000000 \
    "$binary" serve > "$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 50); do
    if curl -fs "$base/api/health" > /dev/null; then return 0; fi
    sleep 0.2
  done
  echo "the server did not start:" >&2
  cat "$work/server.log" >&2
  return 1
}

# Fails when the server logged an error while it was being exercised.
check_server_log() {
  if grep -q '"level":"ERROR"' "$work/server.log"; then
    echo "the server logged errors:" >&2
    grep '"level":"ERROR"' "$work/server.log" | head -20 >&2
    return 1
  fi
}
