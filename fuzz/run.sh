#!/bin/sh
# fuzz/run.sh — runs the harnesses of a fuzz build one after another (make fuzz: 10^6 executions
# each), from the seeds fuzz/make_corpus.sh writes and the corpus earlier runs kept, and prints
# one line a harness: executions, seconds, coverage, corpus size, and whether it found anything.
# Usage: sh fuzz/run.sh BUILD-FUZZ-DIR RUNS [HARNESS ...]   (no harness named: all of them)
# Findings (crash-*, timeout-*, oom-*) go to BUILD/artifacts/, each run's log to BUILD/logs/.
set -u
mkdir -p "$1" || exit 1
build=$(cd "$1" && pwd) # absolute: the Lua harness runs its inputs in another folder
runs=$2
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
harnesses=${*:-$(sed -n "s/^ *'\(fuzz_[a-z_]*\)',\$/\1/p" "$src/fuzz/meson.build")}
sh "$src/fuzz/make_corpus.sh" "$build" "$build/seeds" || exit 1
mkdir -p "$build/artifacts" "$build/logs"
failed=0
for h in $harnesses; do
    corpus=$build/corpus/$h
    log=$build/logs/$h.log
    mkdir -p "$corpus" "$build/seeds/$h"
    dict=
    [ -f "$src/fuzz/$h.dict" ] && dict=-dict=$src/fuzz/$h.dict
    start=$(date +%s)
    # 10 s for one input is a hang; 2 GB of memory is a leak or a bomb; inputs up to 64 KiB
    "$build/fuzz/$h" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$h-" $dict "$corpus" "$build/seeds/$h" > "$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(echo "$done_line" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$done_line" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$done_line" | sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
    if [ $rc -eq 0 ]; then verdict=clean; else verdict="FOUND SOMETHING (exit $rc): see $log"; failed=1; fi
    printf '%-18s %9s executions %5ss  cov %-6s ft %-6s corpus %-12s %s\n' "$h" "${execs:-?}" "$secs" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}" "$verdict"
done
exit $failed
