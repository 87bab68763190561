#!/usr/bin/env bash
# bench/run_all.sh — runs the benchmarks one after the other: bench/cuba (speed, CUBA),
# bench/brunel (speed, Brunel 2000 at 1 and 2 threads), bench/cuba_stats (CUBA validation),
# bench/figures.sh (PSD and summary-figure speed) and bench/cfc_vs_ltc (LTC on CVODE beside CfC).
# The training benchmarks (bench/train, bench/accuracy*.lua) need PyTorch or long runs: run them alone.
#   bench/run_all.sh [--repeats R]     (R goes to the two speed benchmarks; about 5 minutes at R=3)
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc=0
for b in cuba brunel cuba_stats figures.sh cfc_vs_ltc; do
    echo "=== bench/$b ==="
    case "$b" in
        cuba_stats | figures.sh | cfc_vs_ltc) "$here/$b" || rc=1 ;;
        *) "$here/$b" "$@" || rc=1 ;;
    esac
    echo
done
exit $rc
