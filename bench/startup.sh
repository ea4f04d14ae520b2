#!/usr/bin/env bash
# Start-up time to the first healthy answer (fresh SQLite file, migrations applied at start)
# and resident memory once idle, over five starts of the release binary.
#
#   bench/startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin authy2
binary="$target/release/authy2"
port=${BENCH_PORT:-5098}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "binary: $(du -h "$binary" | cut -f1) ($(stat -c %s "$binary") bytes)"
for run in 1 2 3 4 5; do
  rm -f "$work"/startup.db*
  started=$(date +%s%N)
  env -i PATH="$PATH" PORT="$port" RUST_LOG=warn DATABASE_URL="sqlite://$work/startup.db" \
    "$binary" serve >"$work/server.log" 2>&1 &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/api/health" >/dev/null 2>&1; do sleep 0.005; done
  healthy=$(date +%s%N)
  sleep 2
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "start $run: healthy after $(( (healthy - started) / 1000000 )) ms; idle RSS $(( rss / 1024 )) MiB"
done
