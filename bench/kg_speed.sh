#!/bin/bash
# bench/kg_speed.sh — kg_field site updates per second beside the triad bound over arrays of the
# same size (bench/stream_triad.c, built as nsim is: -O3 -march=native), for n x n = 1024^2 (and
# 4096^2 with BIG=1, BIG_STEPS steps) at 1 and 2 threads; with REF=path/to/nsim an older build
# runs right after each of this one's runs (interleaved, for the ratio on a shared machine; over
# REF_BIG_STEPS steps on the big lattice, where it is slow).
#   bash bench/kg_speed.sh [STEPS]     (from the project root, after make build;
#                                       BIG=1 BIG_STEPS=1000 REF=other/build/nsim REF_BIG_STEPS=100)
set -eu
steps=${1:-1000}
big_steps=${BIG_STEPS:-1000}
ref=${REF:-}
ref_big_steps=${REF_BIG_STEPS:-100}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O3 -march=native -pthread bench/stream_triad.c -o "$tmp/stream_triad"
sizes="1024"
[ "${BIG:-0}" = 1 ] && sizes="1024 4096"
echo "# $(uptime)"
for n in $sizes; do
    s=$([ "$n" -gt 1024 ] && echo "$big_steps" || echo "$steps")
    for t in 1 2; do
        "$tmp/stream_triad" $((n * n)) "$t" 10
        for b in ./build/nsim $ref; do
            k=$s
            [ "$b" = "$ref" ] && [ "$n" -gt 1024 ] && k=$ref_big_steps
            printf '%s, %d thread(s): ' "$b" "$t"
            "$b" run bench/kg_speed.lua --threads "$t" --set n="$n" --set steps="$k" --out "$tmp/o" --quiet
            rm -rf "$tmp/o"
        done
    done
done
echo "# $(uptime)"
