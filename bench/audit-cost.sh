#!/usr/bin/env bash
# What writing audit events costs: login and create-organization throughput of the normal
# release build against a build that writes no audit events (feature `unaudited-benchmark`,
# which refuses to run in production), alternating between the two in one run.
#
#   bench/audit-cost.sh [sqlite|postgres] [seconds-per-run]
#
# Needs what bench/run.sh needs. Both builds run with APP_ENV=development (same hashing cost
# as production) because the unaudited one will not start in production.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-sqlite}
seconds=${2:-10}
port=${BENCH_PORT:-5099}
target=${CARGO_TARGET_DIR:-target}
results="bench/results/$(date -u +%Y%m%dT%H%M%SZ)-audit-cost-$mode"
mkdir -p "$results"
# shellcheck source=lib.sh
source bench/lib.sh

echo "building both variants (release)..." >&2
cargo build --release --quiet --bin authy2 --features unaudited-benchmark
cp "$target/release/authy2" "$work/authy2-unaudited"
cargo build --release --quiet --bin authy2
cp "$target/release/authy2" "$work/authy2-audited"
# One organization name per request, so every creation is a fresh slug.
python3 -c 'import sys
for i in range(1_000_000): print("{\"name\": \"Benchmark Organization %d\"}" % i)' > "$work/organizations.jsonl"

for round in 1 2 3; do
  for variant in audited unaudited; do
    echo "round $round of 3: $variant" >&2
    start_server "$work/authy2-$variant" development
    token=$(register)
    load "login_${variant}_$round" -z "${seconds}s" -c 16 -m POST -T application/json \
      -d "$login_body" "$base/api/v1/auth/login"
    load "create_${variant}_$round" -z "${seconds}s" -c 16 -m POST -T application/json \
      -H "Authorization: Bearer $token" -Z "$work/organizations.jsonl" "$base/api/v1/organizations"
    stop_server
  done
done

summary() { # operation
  local audited=() unaudited=()
  for round in 1 2 3; do
    audited+=("$(rps "$1_audited_$round")")
    unaudited+=("$(rps "$1_unaudited_$round")")
  done
  local with without
  with=$(median "${audited[@]}")
  without=$(median "${unaudited[@]}")
  printf '%-22s %12s %14s %10s\n' "$1" "$with" "$without" "$(python3 -c "print(round(100 * (1 - $with / $without), 1))")"
}
{
  echo "mode: $mode ($(nproc) cores), ${seconds}s per run, medians of 3 alternating rounds"
  printf '%-22s %12s %14s %10s\n' operation "audited/s" "unaudited/s" "cost %"
  summary login
  summary create
  for name in login create; do
    for round in 1 2 3; do
      echo "  $name round $round: audited $(rps "${name}_audited_$round")/s ($(ok "${name}_audited_$round") % ok), unaudited $(rps "${name}_unaudited_$round")/s ($(ok "${name}_unaudited_$round") % ok)"
    done
  done
} | tee "$results/summary.txt"
