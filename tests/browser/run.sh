#!/usr/bin/env bash
# Browser test of the example app's course attendance page, in headless Chromium.
#
#   bash tests/browser/run.sh
#
# 1. installs Chromium (Debian package `chromium`) if /usr/bin/chromium is missing, and
#    playwright-core (npm, the version pinned in package.json) into
#    $HOME/.cache/attend-ci/browser — never a browser download of its own;
# 2. builds attend-example and starts it in demo mode on a free port with a temporary SQLite
#    file (killed at the end, whatever happens);
# 3. runs attendance-page.test.mjs with node's test runner: it plays a simulated class, opens
#    the page and checks what a person sees (statuses, timeline bars, linking, CSV), and takes
#    screenshots into $ATTEND_SCREENSHOT_DIR (default: a temporary directory).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/attend-target}"

say() { printf -- '--> %s\n' "$1"; }

if [ ! -x /usr/bin/chromium ]; then
  say "installing chromium (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

deps="$HOME/.cache/attend-ci/browser"
mkdir -p "$deps"
if ! cmp -s "$here/package.json" "$deps/package.json" || [ ! -d "$deps/node_modules/playwright-core" ]; then
  say "installing playwright-core into $deps"
  cp "$here/package.json" "$deps/package.json"
  # No browser download: playwright-core never fetches one, and the test points it at
  # /usr/bin/chromium.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund --prefix "$deps"
fi

say "building attend-example"
cargo build --quiet -p attend-example
bin="$CARGO_TARGET_DIR/debug/attend-example"

tmp="$(mktemp -d)"
app_pid=""
cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
url="http://127.0.0.1:$port"
say "starting the example app on $url (demo mode, SQLite in $tmp)"
(
  cd "$tmp"
  exec env -u ATTEND_ZOOM_ACCOUNT_ID -u ATTEND_ZOOM_CLIENT_ID -u ATTEND_ZOOM_CLIENT_SECRET \
    -u ATTEND_JWT_SECRET -u ATTEND_PUBLIC_URL -u ATTEND_ZOOM_WEBHOOK_SECRET \
    ATTEND_BIND="127.0.0.1:$port" ATTEND_DATABASE_URL="sqlite://$tmp/browser-test.sqlite" \
    RUST_LOG="${RUST_LOG:-warn}" "$bin"
) > "$tmp/app.log" 2>&1 &
app_pid=$!

for _ in $(seq 1 120); do
  if curl -fsS -o /dev/null "$url/" 2>/dev/null; then break; fi
  if ! kill -0 "$app_pid" 2>/dev/null; then
    echo "the example app exited early:" >&2
    cat "$tmp/app.log" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fsS -o /dev/null "$url/" || { echo "the example app did not answer on $url" >&2; cat "$tmp/app.log" >&2; exit 1; }

shots="${ATTEND_SCREENSHOT_DIR:-$tmp/screenshots}"
mkdir -p "$shots"
say "running the browser test (screenshots in $shots)"
status=0
ATTEND_URL="$url" ATTEND_BROWSER_DEPS="$deps" ATTEND_SCREENSHOT_DIR="$shots" \
  node --test --test-reporter=spec "$here/attendance-page.test.mjs" || status=$?
if [ "$status" -ne 0 ]; then
  echo "---- example app log ----" >&2
  tail -n 80 "$tmp/app.log" >&2
fi
exit "$status"
