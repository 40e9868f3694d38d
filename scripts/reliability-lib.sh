# Shared helpers of the scripts/reliability-*.sh scripts (sourced, not run).
# Requires: CARGO_TARGET_DIR, curl, python3. Everything on 127.0.0.1.

REL_JWT_SECRET="reliability-script-jwt-secret-0123456789abcdef"
REL_WEBHOOK_SECRET="reliability-script-webhook-secret"
BIN="$CARGO_TARGET_DIR/release"

# start_app NAME PORT DATABASE_URL: starts the release example app in demo mode; sets APP_PID.
start_app() {
  local name=$1 port=$2 db=$3
  ATTEND_BIND="127.0.0.1:$port" ATTEND_DATABASE_URL="$db" \
    ATTEND_JWT_SECRET="$REL_JWT_SECRET" ATTEND_ZOOM_WEBHOOK_SECRET="$REL_WEBHOOK_SECRET" \
    RUST_LOG=warn "$BIN/attend-example" >>"$WORK/$name.log" 2>&1 &
  APP_PID=$!
  for _ in $(seq 1 120); do
    if curl -fs -o /dev/null "http://127.0.0.1:$port/attend/openapi.json"; then return 0; fi
    if ! kill -0 "$APP_PID" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "the app did not come up; see $WORK/$name.log" >&2
  return 1
}

# demo_zoom_id PORT: the Zoom id of the demo meeting (waits until it exists).
demo_zoom_id() {
  local port=$1 token
  token=$(curl -fs "http://127.0.0.1:$port/lms/dev/token?user=admin" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  for _ in $(seq 1 60); do
    id=$(curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$port/attend/meetings" |
      python3 -c 'import json,sys; m=json.load(sys.stdin)["meetings"]; print(m[0]["zoom_meeting_id"] if m else "")')
    if [ -n "$id" ]; then echo "$id"; return 0; fi
    sleep 0.5
  done
  return 1
}

# wait_processed DB_URL ACKED_FILE TAG ZOOM_ID BOUND_SECONDS: waits until every acknowledged
# delivery is stored and processed; fails if one is missing or the bound passes.
wait_processed() {
  local db=$1 acked=$2 tag=$3 zid=$4 bound=$5 t0 out
  t0=$(date +%s)
  while :; do
    out=$("$BIN/attend-bench" verify --database "$db" --acked "$acked" --tag "$tag" --zoom-meeting-id "$zid")
    echo "    $(( $(date +%s) - t0 )) s: $out"
    if echo "$out" | grep -q '"unprocessed":0'; then return 0; fi
    if [ $(( $(date +%s) - t0 )) -ge "$bound" ]; then
      echo "acknowledged deliveries still unprocessed after $bound s" >&2
      return 1
    fi
    sleep 5
  done
}

# statuses LOAD_JSON: "200=… 503=… errors=…" from an `attend-bench ingest` result.
statuses() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); u=d["unexpected"]; print("200=%d" % d["ok"], " ".join("%s=%d" % kv for kv in u.items()), "no-answer=%d" % d["transport_errors"])' "$1"
}
