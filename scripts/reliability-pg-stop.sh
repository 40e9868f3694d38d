#!/usr/bin/env bash
# Storage outage with the real server: stops the machine's PostgreSQL cluster for 10 s in the
# middle of a webhook load against the example app (release build), then starts it again.
# Expected: webhooks answered 503 while it is down (never a 4xx), 200 again afterwards
# without restarting the app, and every acknowledged delivery stored and processed.
#
#   scripts/reliability-pg-stop.sh
#
# PGSTOP_CLUSTER="VERSION NAME" (default: the first version's `main`) and PGSTOP_PORT (default
# 5432) choose the cluster; user `postgres` on 127.0.0.1 must not need a password. It restarts
# the cluster on exit whatever happens. Prefer a cluster nobody else uses, e.g.
#   pg_createcluster 15 reltest -p 5433 --start   (with a trust line for 127.0.0.1 in its
#   pg_hba.conf), then PGSTOP_CLUSTER="15 reltest" PGSTOP_PORT=5433 scripts/reliability-pg-stop.sh
# (cargo test never stops a server: tests/tests/reliability_outage.rs uses a TCP proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/attend-target}"
WORK="$CARGO_TARGET_DIR/reliability/pg-stop"
rm -rf "$WORK" && mkdir -p "$WORK"
source scripts/reliability-lib.sh
cargo build --release -p attend-example -p attend-bench
pg_port="${PGSTOP_PORT:-5432}"
pg_server="postgres://postgres@127.0.0.1:$pg_port"
read -r cluster_version cluster_name <<<"${PGSTOP_CLUSTER:-$(ls /etc/postgresql | head -1) main}"

APP_PID=""
cleanup() {
  [ -n "$APP_PID" ] && kill -9 "$APP_PID" 2>/dev/null || true
  if ! pg_isready -h 127.0.0.1 -p "$pg_port" -q; then
    pg_ctlcluster --skip-systemctl-redirect "$cluster_version" "$cluster_name" start || true
  fi
}
trap cleanup EXIT

psql "$pg_server/postgres" -qc "DROP DATABASE IF EXISTS attend_rel_pgstop WITH (FORCE)"
psql "$pg_server/postgres" -qc "CREATE DATABASE attend_rel_pgstop"
db="$pg_server/attend_rel_pgstop"
port=18732
start_app app "$port" "$db"
zid=$(demo_zoom_id "$port")
"$BIN/attend-bench" ingest --url "http://127.0.0.1:$port/attend/webhooks/zoom" \
  --secret "$REL_WEBHOOK_SECRET" --zoom-meeting-id "$zid" --tag pgstop \
  --connections 16 --rate 200 --duration 40 --acked-out "$WORK/acked.txt" >"$WORK/load.json" &
load=$!
sleep 10
echo "==> stopping PostgreSQL ($cluster_version/$cluster_name, port $pg_port) for 10 s"
pg_ctlcluster --skip-systemctl-redirect "$cluster_version" "$cluster_name" stop -m fast
sleep 10
pg_ctlcluster --skip-systemctl-redirect "$cluster_version" "$cluster_name" start
for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p "$pg_port" -q && break; sleep 1; done
echo "==> PostgreSQL is back"
wait "$load"
echo "    load: $(statuses "$WORK/load.json")"
python3 - "$WORK/load.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = {k: v for k, v in d["unexpected"].items() if k != "503"}
assert not bad, f"answers other than 200/503: {bad}"
assert d["unexpected"].get("503", 0) > 0, "no 503 while PostgreSQL was down?"
PY
echo "    the same app process still serves:"
kill -0 "$APP_PID"
"$BIN/attend-bench" ingest --url "http://127.0.0.1:$port/attend/webhooks/zoom" \
  --secret "$REL_WEBHOOK_SECRET" --zoom-meeting-id "$zid" --tag pgstop-after \
  --connections 4 --max 100 --duration 10 >"$WORK/after.json"
echo "    after: $(statuses "$WORK/after.json")"
echo "==> every acknowledged delivery stored and processed?"
wait_processed "$db" "$WORK/acked.txt" pgstop "$zid" 420
echo "ok"
