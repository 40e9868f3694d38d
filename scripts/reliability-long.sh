#!/usr/bin/env bash
# The long reliability tests (ignored by `cargo test --workspace`, see RELIABILITY.md):
#   * reliability_crash: kill -9 mid-ingest (child process), restart, Zoom's retries; every
#     acknowledged delivery stored and processed, rosters equal to a clean run (SQLite);
#   * reliability_outage (long variant): PostgreSQL cut off mid-ingest (TCP proxy), waits
#     until every delivery is processed, including jobs that were running during the outage.
# Needs ATTEND_TEST_POSTGRES_URL for the second (default postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/attend-target}"
export ATTEND_TEST_POSTGRES_URL="${ATTEND_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
cargo test -p attend-e2e --test reliability_crash -- --ignored --nocapture \
  acknowledged_webhooks_survive_kill_9
cargo test -p attend-e2e --test reliability_outage -- --ignored --nocapture \
  after_an_outage_every_delivery_is_processed_without_help
