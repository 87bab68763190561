#!/usr/bin/env bash
# bench/run_all.sh — runs the three benchmarks one after the other: bench/cuba (speed, CUBA),
# bench/brunel (speed, Brunel 2000 at 1 and 2 threads) and bench/cuba_stats (CUBA validation).
#   bench/run_all.sh [--repeats R]     (R goes to the two speed benchmarks; about 5 minutes at R=3)
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc=0
for b in cuba brunel cuba_stats; do
    echo "=== bench/$b ==="
    if [ "$b" = cuba_stats ]; then "$here/$b" || rc=1; else "$here/$b" "$@" || rc=1; fi
    echo
done
exit $rc
