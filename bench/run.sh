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
target=${CARGO_TARGET_DIR:-target}
results="bench/results/$(date -u +%Y%m%dT%H%M%SZ)-$mode"
mkdir -p "$results"
# shellcheck source=lib.sh
source bench/lib.sh

echo "building (release)..." >&2
cargo build --release --quiet --bin authy2
cargo bench --quiet --bench hash_rate --no-run
raw_rate() { # one measurement of the raw argon2id rate, in verifications/s
  cargo bench --quiet --bench hash_rate -- "$seconds" | tee -a "$results/hash_rate.txt" |
    grep -o '[0-9.]* verifications/s' | cut -d' ' -f1
}

start_server "$target/release/authy2" production
token=$(register)

echo "health and /auth/me at 64 connections, ${seconds}s each..." >&2
load health -z "${seconds}s" -c 64 "$base/api/health"
load me -z "${seconds}s" -c 64 -H "Authorization: Bearer $token" "$base/api/v1/auth/me"

# The machine is shared and its speed drifts, so login throughput is compared with the raw
# rate measured just before it, three times; the median ratio is reported.
login_ratios=()
for round in 1 2 3; do
  echo "raw argon2id rate, then the login flood (round $round of 3)..." >&2
  raw=$(raw_rate)
  load "login_$round" -z "${seconds}s" -c 16 -m POST -T application/json -d "$login_body" "$base/api/v1/auth/login"
  login_ratios+=("$(percent "$(rps "login_$round")" "$raw")")
done

echo "/auth/me while logins saturate the hash pool..." >&2
load flood -z "$((seconds + 4))s" -c 16 -m POST -T application/json -d "$login_body" "$base/api/v1/auth/login" &
flood_pid=$!
sleep 2
load me_during_flood -z "${seconds}s" -c 8 -H "Authorization: Bearer $token" "$base/api/v1/auth/me"
wait "$flood_pid"

{
  echo "mode: $mode ($(nproc) cores), ${seconds}s per run"
  printf '%-34s %10s %10s %8s\n' run "req/s" "p99 ms" "ok %"
  for run in health me login_1 login_2 login_3 me_during_flood; do
    printf '%-34s %10s %10s %8s\n' "$run" "$(rps $run)" "$(p99 $run)" "$(ok $run)"
  done
  grep -o '[0-9.]* verifications/s' "$results/hash_rate.txt" | sed 's/^/raw argon2id rate: /'
  echo "/auth/me throughput vs health: $(percent "$(rps me)" "$(rps health)") %   (target >= 50 %, p99 < 10 ms)"
  echo "login throughput vs raw argon2id, per round: ${login_ratios[*]} %; median $(median "${login_ratios[@]}") %   (target >= 85 %)"
  echo "/auth/me p99 during login flood: $(p99 me_during_flood) ms   (target < 25 ms)"
} | tee "$results/summary.txt"
