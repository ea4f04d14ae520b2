#!/usr/bin/env bash
# Load benchmarks of a release build, on one machine (server, load generator and database
# share its cores). Prints one table; the raw JSON of every run is kept in bench/results/.
#
#   bench/run.sh [sqlite|postgres] [seconds-per-run]
#
#   sqlite    SQLite file, sessions in the database, rate-limit counters in memory (defaults)
#   postgres  PostgreSQL and Redis: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1/
#             authy2_bench, recreated) and BENCH_REDIS_URL (default redis://127.0.0.1:6379)
#
# Needs oha (`cargo install oha`), curl and python3; `postgres` also needs psql.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-sqlite}
seconds=${2:-10}
port=${BENCH_PORT:-5099}
base="http://127.0.0.1:$port"
target=${CARGO_TARGET_DIR:-target}
results="bench/results/$(date -u +%Y%m%dT%H%M%SZ)-$mode"
mkdir -p "$results"
command -v oha >/dev/null || { echo "oha is needed: cargo install oha" >&2; exit 2; }

echo "building (release)..." >&2
cargo build --release --quiet --bin authy2
cargo bench --quiet --bench hash_rate --no-run
raw_rate() { # one measurement of the raw argon2id rate, in verifications/s
  cargo bench --quiet --bench hash_rate -- "$seconds" | tee -a "$results/hash_rate.txt" |
    grep -o '[0-9.]* verifications/s' | cut -d' ' -f1
}

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Production settings, with rate limits out of the way: the benchmark is one client hammering
# one account from one address, which is exactly what they exist to stop.
server_env=(APP_ENV=production SECRET_KEY="benchmark-secret-key-benchmark-secret-key" HOST=127.0.0.1
  PORT="$port" LOG_FORMAT=json RUST_LOG=warn
  RATE_LIMIT_LOGIN_ATTEMPTS=1000000000 RATE_LIMIT_LOGIN_FAILURES=1000000000
  RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL=1000000000 RATE_LIMIT_REGISTRATIONS=1000000000
  RATE_LIMIT_SENSITIVE_ACTIONS=1000000000)
case "$mode" in
  sqlite)
    server_env+=(DATABASE_URL="sqlite://$work/bench.db")
    ;;
  postgres)
    database_url=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/authy2_bench}
    admin_url=${database_url%/*}/postgres
    psql -q "$admin_url" -c 'DROP DATABASE IF EXISTS authy2_bench' -c 'CREATE DATABASE authy2_bench' >/dev/null
    server_env+=(DATABASE_URL="$database_url" REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379}"
      REDIS_KEY_PREFIX="authy2-bench-$$:")
    ;;
  *) echo "usage: bench/run.sh [sqlite|postgres] [seconds]" >&2; exit 2 ;;
esac

env "${server_env[@]}" "$target/release/authy2" db upgrade >/dev/null
env "${server_env[@]}" "$target/release/authy2" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do curl -fs "$base/api/health" >/dev/null && break; sleep 0.2; done

body='{"email":"loadtest@example.com","password":"benchmark passphrase 2026"}'
token=$(curl -fs -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' -d "$body" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["session"]["token"])')

load() { # name, then oha arguments
  local name=$1; shift
  oha --no-tui --output-format json -o "$results/$name.json" "$@" >/dev/null
}
field() { # file, python expression over `r`
  python3 -c "import json, sys; r = json.load(open(sys.argv[1])); print($2)" "$1"
}

echo "health and /auth/me at 64 connections, ${seconds}s each..." >&2
load health -z "${seconds}s" -c 64 "$base/api/health"
load me -z "${seconds}s" -c 64 -H "Authorization: Bearer $token" "$base/api/v1/auth/me"
# The machine is shared and its speed drifts, so login throughput is compared with the raw
# rate measured just before it, three times; the median ratio is reported.
login_ratios=()
for round in 1 2 3; do
  echo "raw argon2id rate, then the login flood (round $round of 3)..." >&2
  raw=$(raw_rate)
  load "login_$round" -z "${seconds}s" -c 16 -m POST -T application/json -d "$body" "$base/api/v1/auth/login"
  login=$(field "$results/login_$round.json" 'r["summary"]["requestsPerSec"]')
  login_ratios+=("$(python3 -c "print(round(100 * $login / $raw, 1))")")
  echo "  raw $raw/s, login $login/s" >&2
done
echo "/auth/me while logins saturate the hash pool..." >&2
load flood -z "$((seconds + 4))s" -c 16 -m POST -T application/json -d "$body" "$base/api/v1/auth/login" &
flood_pid=$!
sleep 2
load me_during_flood -z "${seconds}s" -c 8 -H "Authorization: Bearer $token" "$base/api/v1/auth/me"
wait "$flood_pid"

rps() { field "$results/$1.json" 'round(r["summary"]["requestsPerSec"], 1)'; }
p99() { field "$results/$1.json" 'round(r["latencyPercentiles"]["p99"] * 1000, 2)'; }
ok() { field "$results/$1.json" 'round(r["summary"]["successRate"] * 100, 2)'; }
ratio() { python3 -c "print(round(100 * $1 / $2, 1))"; }

health_rps=$(rps health); me_rps=$(rps me)
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
{
  echo "mode: $mode ($(nproc) cores), ${seconds}s per run"
  printf '%-34s %10s %10s %8s\n' run "req/s" "p99 ms" "ok %"
  for run in health me login_1 login_2 login_3 me_during_flood; do
    printf '%-34s %10s %10s %8s\n' "$run" "$(rps $run)" "$(p99 $run)" "$(ok $run)"
  done
  grep -o '[0-9.]* verifications/s' "$results/hash_rate.txt" | sed 's/^/raw argon2id rate: /'
  echo "/auth/me throughput vs health: $(ratio "$me_rps" "$health_rps") %   (target >= 50 %, p99 < 10 ms)"
  echo "login throughput vs raw argon2id, per round: ${login_ratios[*]} %; median $(median "${login_ratios[@]}") %   (target >= 85 %)"
  echo "/auth/me p99 during login flood: $(p99 me_during_flood) ms   (target < 25 ms)"
} | tee "$results/summary.txt"
