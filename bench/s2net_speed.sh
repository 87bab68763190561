#!/bin/bash
# bench/s2net_speed.sh — bench/s2net_speed.lua (a 256 x 256 S2-Net for 1 s of model time) at 1 and
# 2 threads, with the commit and the machine's load beside the figures (docs/benchmarks.md).
#   bash bench/s2net_speed.sh [SIZE] [T_MS]     (from the project root, after make build)
set -eu
size=${1:-256}
t_ms=${2:-1000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(uptime)"
for t in 1 2; do
    /usr/bin/time -f "threads $t: %e s wall for the whole script, %M KB peak RSS" \
        ./build/nsim run bench/s2net_speed.lua --threads "$t" --set size="$size" --set t_ms="$t_ms" --out "$tmp/o$t" --quiet
done
