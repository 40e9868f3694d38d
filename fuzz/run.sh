#!/usr/bin/env bash
# Runs one fuzz target the way RELIABILITY.md "Fuzzing" reports it.
#   fuzz/run.sh TARGET [RUNS] [MAX_SECONDS] [extra libFuzzer flags...]
# Needs nightly and cargo-fuzz (`cargo install cargo-fuzz --locked`). Builds without a
# sanitizer (attend-core is #![forbid(unsafe_code)]; panics, failed assertions and
# arithmetic overflows abort the run on their own) into a target dir of its own, grows
# fuzz/corpus/TARGET from fuzz/seeds/TARGET, and writes crashes to fuzz/artifacts/TARGET.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: run.sh TARGET [RUNS] [MAX_SECONDS] [libFuzzer flags...]}
runs=${2:-10000000}
max_seconds=${3:-1800}
shift $(( $# < 3 ? $# : 3 ))
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/attend-fuzz-target}"
mkdir -p "corpus/$target" "seeds/$target"
exec cargo +nightly fuzz run -s none "$target" "corpus/$target" "seeds/$target" -- \
  -runs="$runs" -max_total_time="$max_seconds" -timeout=10 -print_final_stats=1 "$@"
