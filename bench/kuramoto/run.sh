#!/bin/bash
# bench/kuramoto/run.sh — Kuramoto oscillators in nsim beside Brian2 (C++ standalone, one thread):
# (1) N oscillators all to all without delay (quantile Lorentzian frequencies, half-width Delta =
# 0.1 rad/ms, K = 0.4 rad/ms = 2 K_c, all phases 0 at t = 0, dt = 0.1 ms, T_MS = 50 ms): nsim's dense
# graded projection (bench/kuramoto/a2a.lua) beside Brian2's summed variables over N^2 Synapses
# ("syn") and over a one-unit mean field ("mf", N synapses; bench/kuramoto/brian2_kuramoto.py), and
# once, untimed, the mean field under nsim's own scheme ("mfx": the same numbers, to round-off);
# and nsim's own mean field, `kuramoto`'s K_mf ("nsmf": no delay, its sums at both Heun stages);
# (2) four rings with delay 1 ms (bench/kuramoto/ring.lua, bench/kuramoto/brian2_ring.py: Brian2
# through a per-unit history buffer, since its summed variables cannot be delayed): twisted-state
# frequencies against Omega = omega - K sin(Omega tau) cos(2 pi q / N) for rings of 20, and the
# time of rings of RING_N. Brian2 compiles each network once (timed apart); then every program
# runs REPEATS times, interleaved, under /usr/bin/time; bench/kuramoto/compare.py prints the tables.
#   bash bench/kuramoto/run.sh [REPEATS]        (from the project root, after make build)
# Environment: SIZES (default "1000 4000"), T_MS (50), RING_N (5000), KEEP=DIR keeps the records.
# Brian2 must be importable by /usr/bin/python3 (Debian's python3-brian).
set -eu
reps=${1:-3}
SIZES=${SIZES:-"1000 4000"}
T_MS=${T_MS:-50}
RING_N=${RING_N:-5000}
root=$(git rev-parse --show-toplevel)
here="$root/bench/kuramoto"
nsim="$root/build/nsim"
py=/usr/bin/python3
[ -x "$nsim" ] || { echo "bench/kuramoto/run.sh: no $nsim: run make build first" >&2; exit 2; }
b2ver=$($py -c 'import brian2; print(brian2.__version__)' 2>/dev/null) ||
    { echo "bench/kuramoto/run.sh: $py cannot import brian2 (apt-get install python3-brian)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp

echo "nsim commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- . || echo ' (with local changes)')"
echo "Brian2 $b2ver (C++ standalone, one thread; $($py --version 2>&1), $(g++ --version | head -1))"
echo "load at start: $(uptime)"

# --- Brian2: generate, compile and run each network once (its records are the compared ones) ------
b2() {   # b2 NAME SCRIPT ARGS...: build into $tmp/NAME, log its key=value line to b2build.txt
    local name=$1 script=$2; shift 2
    $py "$here/$script" --dir "$tmp/$name" "$@" >"$tmp/$name.log" 2>&1 ||
        { echo "bench/kuramoto/run.sh: Brian2 $name failed:" >&2; grep -v Warning "$tmp/$name.log" | tail -8 >&2; exit 1; }
    echo "$name $(grep '^brian2 ' "$tmp/$name.log")" >>"$tmp/b2build.txt"
}
for n in $SIZES; do
    b2 b2syn_$n brian2_kuramoto.py --mode syn --n "$n" --t-ms "$T_MS" --r "$tmp/b2syn_$n.csv"
    b2 b2mf_$n brian2_kuramoto.py --mode mf --n "$n" --t-ms "$T_MS" --r "$tmp/b2mf_$n.csv"
    b2 b2mfx_$n brian2_kuramoto.py --mode mfx --n "$n" --t-ms "$T_MS" --r "$tmp/b2mfx_$n.csv"   # a check, not timed
done
b2 b2ring_20 brian2_ring.py --n 20 --out "$tmp/b2ring_20.csv"
b2 b2ring_$RING_N brian2_ring.py --n "$RING_N" --out "$tmp/b2ring_$RING_N.csv"
"$nsim" run "$here/ring.lua" --out "$tmp/nsring_20" --quiet --set N=20 >/dev/null

# timed NAME CMD...: wall, user and system seconds of one run appended to times.txt
timed() {
    local name=$1; shift
    /usr/bin/time -f "$name %e %U %S" -a -o "$tmp/times.txt" "$@" >"$tmp/$name.run.log" 2>&1 ||
        { echo "bench/kuramoto/run.sh: $name failed:" >&2; tail -5 "$tmp/$name.run.log" >&2; exit 1; }
}
b2run() {   # b2run NAME: the compiled Brian2 program again, timed; its own simulation time to b2sim.txt
    (cd "$tmp/$1" && timed "$1" ./main)
    echo "$1 $(cut -d' ' -f1 "$tmp/$1/results/last_run_info.txt")" >>"$tmp/b2sim.txt"
}
for i in $(seq 1 "$reps"); do
    for n in $SIZES; do
        rm -rf "$tmp/ns_$n"
        timed ns_$n "$nsim" run "$here/a2a.lua" --out "$tmp/ns_$n" --quiet --threads 1 --set N="$n" --set t_ms="$T_MS"
        b2run b2syn_$n
        b2run b2mf_$n
        rm -rf "$tmp/nsmf_$n"
        timed nsmf_$n "$nsim" run "$here/a2a.lua" --out "$tmp/nsmf_$n" --quiet --threads 1 --set N="$n" --set t_ms="$T_MS" --set mf=1
    done
    rm -rf "$tmp/nsring_$RING_N"
    timed nsring_$RING_N "$nsim" run "$here/ring.lua" --out "$tmp/nsring_$RING_N" --quiet --threads 1 --set N="$RING_N"
    b2run b2ring_$RING_N
done
echo "load at end: $(uptime)"
echo
$py "$here/compare.py" "$tmp" "$T_MS" "$RING_N" $SIZES
if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP"
    for n in $SIZES; do cp "$tmp/ns_$n/R.csv" "$KEEP/R_nsim_$n.csv"; cp "$tmp/nsmf_$n/R.csv" "$KEEP/R_nsim_mf_$n.csv"; cp "$tmp/b2syn_$n.csv" "$tmp/b2mf_$n.csv" "$tmp/b2mfx_$n.csv" "$KEEP/"; done
    cp "$tmp/times.txt" "$tmp/b2build.txt" "$tmp/b2sim.txt" "$tmp/nsring_20/ring.csv" "$KEEP/"
    cp "$tmp/b2ring_20.csv" "$KEEP/"
fi
