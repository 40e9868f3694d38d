#!/usr/bin/env bash
# Crash test on the release binary: kill -9 the example app in the middle of a webhook load,
# restart it on the same database, and check that every delivery that got a 200 is stored and
# gets processed without any manual step.
#
#   scripts/reliability-crash.sh [sqlite|postgres]     (default: both)
#
# PostgreSQL: ATTEND_TEST_POSTGRES_URL's server (default postgres://postgres@127.0.0.1:5432),
# own database attend_rel_crash (dropped and recreated). The roster comparison with a clean
# run is in the cargo test `reliability_crash` (scripts/reliability-long.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/attend-target}"
WORK="$CARGO_TARGET_DIR/reliability/crash"
rm -rf "$WORK" && mkdir -p "$WORK"
source scripts/reliability-lib.sh
cargo build --release -p attend-example -p attend-bench
pg_server="${ATTEND_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
pg_server="${pg_server%/*}"

APP_PID=""
cleanup() { [ -n "$APP_PID" ] && kill -9 "$APP_PID" 2>/dev/null || true; }
trap cleanup EXIT

run() {
  local backend=$1 db
  case $backend in
    sqlite) db="sqlite://$WORK/crash.sqlite" ;;
    postgres)
      psql "$pg_server/postgres" -qc "DROP DATABASE IF EXISTS attend_rel_crash WITH (FORCE)"
      psql "$pg_server/postgres" -qc "CREATE DATABASE attend_rel_crash"
      db="$pg_server/attend_rel_crash" ;;
  esac
  echo "==> crash on $backend"
  local port=18731
  start_app "app-$backend" "$port" "$db"
  local zid; zid=$(demo_zoom_id "$port")
  "$BIN/attend-bench" ingest --url "http://127.0.0.1:$port/attend/webhooks/zoom" \
    --secret "$REL_WEBHOOK_SECRET" --zoom-meeting-id "$zid" --tag "crash-$backend" \
    --connections 32 --rate 1000 --duration 20 --acked-out "$WORK/acked-$backend.txt" \
    >"$WORK/load-$backend.json" &
  local load=$!
  sleep 8
  kill -9 "$APP_PID"; wait "$APP_PID" 2>/dev/null || true
  echo "    kill -9 after 8 s of load"
  sleep 2
  start_app "app-$backend-restarted" "$port" "$db"
  wait "$load"
  echo "    load: $(statuses "$WORK/load-$backend.json")"
  echo "    every acknowledged delivery stored and processed?"
  wait_processed "$db" "$WORK/acked-$backend.txt" "crash-$backend" "$zid" 420
  kill -9 "$APP_PID"; wait "$APP_PID" 2>/dev/null || true; APP_PID=""
  echo "    ok"
}

for b in "${@:-sqlite postgres}"; do
  for one in $b; do run "$one"; done
done
