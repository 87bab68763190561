#!/usr/bin/env bash
# bench/figures.sh — speed of the analysis targets of the spectra issue: Welch PSD of 10^7
# samples (bench/psd_speed.c) and `nsim plot summary` of a record of about 10^6 spikes (Brunel's
# network over 2.5 s: reading the CSV, binning, spectra and drawing).
#   bench/figures.sh            (needs build/; takes about 15 s)
set -eu
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
nsim="$root/build/nsim"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$root/build/psd_speed"
"$nsim" run "$root/examples/brunel.lua" --set t_ms=2500 --out "$tmp/rec" --quiet >/dev/null
spikes=$(($(wc -l <"$tmp/rec/spikes.csv") - 1))
best=""
for i in 1 2 3; do
    s=$(date +%s.%N)
    "$nsim" plot summary "$tmp/rec/spikes.csv" --out "$tmp/summary.png" >/dev/null
    e=$(date +%s.%N)
    t=$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f", b - a }')
    if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
done
echo "summary figure: $spikes spikes, 12500 neurons, 2.5 s: best of 3: $best s (nsim plot summary, whole command)"
