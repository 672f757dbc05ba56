#!/usr/bin/env bash
# Runs every fuzz target in turn for SECONDS each (default 600) with
# libFuzzer through `cargo +nightly fuzz`, seeded from seeds/<target>, and
# prints one line per target: duration, executions, corpus size, crashes.
# corpus/ and artifacts/ stay out of git.
set -u
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=${*:-jws jsonrpc authorization host_origin uri_template proxy_params macro_attr}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo +nightly fuzz build -O >/dev/null 2>&1 || { echo "build failed"; exit 1; }
for target in $targets; do
    mkdir -p "corpus/$target" "artifacts/$target"
    log="artifacts/$target.log"
    start=$(date +%s)
    cargo +nightly fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="artifacts/$target/" >"$log" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    corpus=$(find "corpus/$target" -type f | wc -l)
    crashes=$(find "artifacts/$target" -type f | wc -l)
    echo "$target: ${took}s, ${execs:-?} executions, corpus $corpus, crashes $crashes (exit $rc)"
done
