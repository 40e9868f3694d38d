#!/usr/bin/env bash
# API fuzzing: schemathesis (PyPI) against the OpenAPI document the example app serves at
# /attend/openapi.json, with an admin bearer token, on a fresh SQLite database (demo mode:
# the built-in Zoom simulator answers attend's Zoom calls). Fails on any 5xx, any response
# that violates the document (schema, status code, content type), or fewer than
# FUZZ_MIN_CASES (default 1000) generated cases.
#
#   scripts/fuzz-api.sh    (FUZZ_MAX_EXAMPLES per operation, default 100; FUZZ_SEED;
#                           FUZZ_PROFILE=release to fuzz the release build, default debug)
#
# schemathesis is installed into $HOME/.cache/attend-ci/venv once. Reports (JUnit, NDJSON)
# land in $CARGO_TARGET_DIR/fuzz-api/.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/attend-target}"
work="$CARGO_TARGET_DIR/fuzz-api"
rm -rf "$work" && mkdir -p "$work"
venv="$HOME/.cache/attend-ci/venv"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.*'
fi
profile="${FUZZ_PROFILE:-debug}"
if [ "$profile" = release ]; then
  cargo build --quiet --release -p attend-example
else
  cargo build --quiet -p attend-example
fi

port="${FUZZ_PORT:-18733}"
ATTEND_BIND="127.0.0.1:$port" ATTEND_DATABASE_URL="sqlite://$work/fuzz.sqlite" \
  ATTEND_JWT_SECRET="fuzz-jwt-secret-0123456789abcdef-0123456789" \
  ATTEND_ZOOM_WEBHOOK_SECRET="fuzz-webhook-secret" RUST_LOG=warn \
  "$CARGO_TARGET_DIR/$profile/attend-example" >"$work/app.log" 2>&1 &
app=$!
trap 'kill $app 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/attend/openapi.json" && break
  sleep 0.5
done
token=$(curl -fs "http://127.0.0.1:$port/lms/dev/token?user=admin" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

set +e
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/attend/openapi.json" \
  --url "http://127.0.0.1:$port/attend" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${FUZZ_MAX_EXAMPLES:-100}" \
  --seed "${FUZZ_SEED:-20261127}" \
  --request-timeout 20 \
  --no-color \
  --report junit,ndjson --report-dir "$work/report" \
  | tee "$work/schemathesis.txt"
status=${PIPESTATUS[0]}
set -e
# The summary says "Test cases:" then "N generated, …".
cases=$(grep -A1 '^Test cases:' "$work/schemathesis.txt" | grep -oE '[0-9]+ generated' | grep -oE '[0-9]+' || echo 0)
echo "fuzz-api.sh: $cases generated cases; schemathesis exit status $status"
if [ "$status" -ne 0 ]; then exit "$status"; fi
if [ "$cases" -lt "${FUZZ_MIN_CASES:-1000}" ]; then
  echo "fuzz-api.sh: only $cases cases (< ${FUZZ_MIN_CASES:-1000})" >&2
  exit 1
fi
