#!/bin/bash
# bench/kg_speed.sh — kg_field site updates per second beside the triad bound over arrays of the
# same size (bench/stream_triad.c), for n x n = 1024^2 (and 4096^2 with BIG=1, BIG_STEPS steps) at
# 1 and 2 threads.
#   bash bench/kg_speed.sh [STEPS]     (from the project root, after make build; BIG=1 BIG_STEPS=100)
set -eu
steps=${1:-1000}
big_steps=${BIG_STEPS:-100}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -pthread bench/stream_triad.c -o "$tmp/stream_triad"
sizes="1024"
[ "${BIG:-0}" = 1 ] && sizes="1024 4096"
for n in $sizes; do
    for t in 1 2; do
        "$tmp/stream_triad" $((n * n)) "$t" 10
        ./build/nsim run bench/kg_speed.lua --threads "$t" --set n="$n" --set steps="$([ "$n" -gt 1024 ] && echo "$big_steps" || echo "$steps")" --out "$tmp/o" --quiet
        rm -rf "$tmp/o"
    done
done
