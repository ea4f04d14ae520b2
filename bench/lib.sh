# Shared by the benchmark scripts: a server started from a given binary on a fresh database,
# the oha wrapper, and JSON field extraction. Source it after setting $mode (sqlite|postgres),
# $port and $results.

base="http://127.0.0.1:$port"
work=$(mktemp -d)
server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT
command -v oha >/dev/null || { echo "oha is needed: cargo install oha" >&2; exit 2; }

# Rate limits out of the way: a benchmark is one client hammering one account from one
# address, which is exactly what they exist to stop.
bench_env=(SECRET_KEY="benchmark-secret-key-benchmark-secret-key" HOST=127.0.0.1 PORT="$port"
  LOG_FORMAT=json RUST_LOG=warn
  RATE_LIMIT_LOGIN_ATTEMPTS=1000000000 RATE_LIMIT_LOGIN_FAILURES=1000000000
  RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL=1000000000 RATE_LIMIT_REGISTRATIONS=1000000000
  RATE_LIMIT_SENSITIVE_ACTIONS=1000000000)

# start_server BINARY APP_ENV: a fresh database of $mode, migrations applied, server up.
start_server() {
  local binary=$1 app_env=$2 run_env=("${bench_env[@]}" APP_ENV="$2")
  case "$mode" in
    sqlite)
      rm -f "$work"/bench.db*
      run_env+=(DATABASE_URL="sqlite://$work/bench.db")
      ;;
    postgres)
      local url=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/authy2_bench}
      psql -q "${url%/*}/postgres" -c 'DROP DATABASE IF EXISTS authy2_bench' \
        -c 'CREATE DATABASE authy2_bench' >/dev/null
      run_env+=(DATABASE_URL="$url" REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379}"
        REDIS_KEY_PREFIX="authy2-bench-$$-$RANDOM:")
      ;;
    *) echo "mode must be sqlite or postgres" >&2; exit 2 ;;
  esac
  env "${run_env[@]}" "$binary" db upgrade >/dev/null
  env "${run_env[@]}" "$binary" serve >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 50); do curl -fs "$base/api/health" >/dev/null && return 0; sleep 0.2; done
  echo "server did not start" >&2; cat "$work/server.log" >&2; exit 1
}

login_body='{"email":"loadtest@example.com","password":"benchmark passphrase 2026"}'

# register: prints a session token for the benchmark account.
register() {
  curl -fs -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' -d "$login_body" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["session"]["token"])'
}

# load NAME OHA-ARGS...: one oha run, its JSON kept as $results/NAME.json.
load() {
  local name=$1; shift
  oha --no-tui --output-format json -o "$results/$name.json" "$@" >/dev/null
}

# field NAME EXPR: a value from $results/NAME.json, EXPR being Python over `r`.
field() {
  python3 -c "import json, sys; r = json.load(open(sys.argv[1])); print($2)" "$results/$1.json"
}
rps() { field "$1" 'round(r["summary"]["requestsPerSec"], 1)'; }
p99() { field "$1" 'round(r["latencyPercentiles"]["p99"] * 1000, 2)'; }
ok() { field "$1" 'round(r["summary"]["successRate"] * 100, 2)'; }
percent() { python3 -c "print(round(100 * $1 / $2, 1))"; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
