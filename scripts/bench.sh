#!/usr/bin/env bash
# attend benchmark suite (see BENCHMARKS.md): webhook ingest, join-link redirects, roster
# reads and memory of the example app (release build, demo mode) on SQLite and PostgreSQL,
# against a bare signature-checking actix-web handler in the same run.
#
#   scripts/bench.sh [extra attend-bench suite options, e.g. --duration 30]
#
# Environment: ATTEND_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432; the suite
# creates and drops its own database `attend_bench`; set it to "none" to skip PostgreSQL).
# Everything runs on 127.0.0.1. Results: $CARGO_TARGET_DIR/attend-bench/{report.md,report.json}.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/attend-target}"
out="$CARGO_TARGET_DIR/attend-bench"
mkdir -p "$out"

cargo build --release -p attend-example -p attend-bench

pg="${ATTEND_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
pg_args=()
if [ "$pg" != "none" ]; then
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    pg_args=(--postgres "$pg")
  else
    echo "bench.sh: PostgreSQL is not answering on 127.0.0.1:5432: PostgreSQL runs skipped" >&2
  fi
fi

{
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "# nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(free -g | awk '/Mem:/{print $2" GiB RAM"}')"
  echo "# load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/report.md"

"$CARGO_TARGET_DIR/release/attend-bench" suite \
  --app "$CARGO_TARGET_DIR/release/attend-example" \
  --work-dir "$out/work" \
  --json "$out/report.json" \
  "${pg_args[@]}" "$@" | tee -a "$out/report.md"
echo "bench.sh: results in $out/report.md and $out/report.json"
