#!/bin/bash
# bench/nftsim/run.sh — NFTsim beside nsim on the damped wave (m = gamma, NFTsim's wave propagator
# 1/[(1 - i omega/gamma)^2 + k^2 r^2], its e-cortical gamma = 30 /s, r = 0.2 m): builds NFTsim in a
# temporary folder, runs both on one kicked torus (interleaved, timed), compares their outputs
# (bench/nftsim/compare.py), then times NFTsim's own e-cortical demo beside an nsim field of its size.
#
# NFTsim is the BrainDynamicsUSYD/nftsim project on GitHub (C++; its Makefile needs g++ and make).
# Clone it and give its folder (the script copies it and builds the copy; the folder is not changed):
#   bash bench/nftsim/run.sh NFTSIM_DIR [REPEATS]      (or NFTSIM_SRC=NFTSIM_DIR bash bench/nftsim/run.sh)
# from the project root, after make build. THREADS2=1 adds an nsim run at 2 threads; N=512 runs the
# h = 5 mm lattice of examples/kg_damped.lua (four times the work of the default N=256, h = 10 mm);
# KEEP=DIR keeps the records, the configuration, times.txt and transfer.csv.
#
# The problem: an N x N periodic square 2.56 m a side. NFTsim's grids are periodic, and at the
# commit measured its Wave propagator blew up on a kicked rectangle (a 512 x 1 ring, a 64 x 32 sheet;
# a 64 x 64 square did not), so kg_damped.lua's ring becomes a square kicked along its column 0: the
# field then depends on x alone and row 0 carries the ring's modes, k = 2 pi q / 2.56 m,
# k r = 0 .. 2.9 for q = 0 .. 6. dt = 0.25 ms, 400 ms (1600 steps), Q = 1/dt on column 0 for one
# step (NFTsim: a PulseRect one step wide into a Wave propagator; nsim: one spike of weight w into
# kg_field's source s). Both record phi along row 0 at every step: the same output, so the timed
# runs are the compared runs.
set -eu
src=${1:-${NFTSIM_SRC:-}}
reps=${2:-3}
N=${N:-256}
[ -n "$src" ] && [ -f "$src/Makefile" ] && [ -f "$src/src/wave.cpp" ] || {
    echo "bench/nftsim/run.sh: give NFTsim's source folder (its Makefile and src/wave.cpp), as the first argument or NFTSIM_SRC" >&2
    exit 2
}
root=$(git rev-parse --show-toplevel)
nsim="$root/build/nsim"
[ -x "$nsim" ] || { echo "bench/nftsim/run.sh: no $nsim: run make build first" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "nsim commit $(git -C "$root" rev-parse HEAD)$(git -C "$root" diff --quiet HEAD -- . || echo ' (with local changes)')"
echo "NFTsim commit $(git -C "$src" rev-parse HEAD 2>/dev/null || echo 'unknown (not a git checkout)')"
echo "load at start: $(uptime)"

# --- build NFTsim (its own Makefile and flags: g++ -O3 -flto -march=native) in a copy ---------------
mkdir "$tmp/nftsim"
tar -C "$src" --exclude=.git -cf - . | tar -C "$tmp/nftsim" -xf -
make -C "$tmp/nftsim" nftsim >"$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log" >&2; exit 1; }
nft="$tmp/nftsim/bin/nftsim"

# --- NFTsim's configuration: a Stimulation population drives population 2 through propagator 1 ------
L=2.56; dt_s=2.5e-4; T_s=0.4
h_m=$(awk -v L=$L -v n="$N" 'BEGIN { printf "%.17g", L / n }')
conf() {   # conf Wave|Map
    echo "Damped wave, Q kicked on column 1 of a $N x $N torus, phi written along row 1"
    echo "Time: $T_s Deltat: $dt_s"
    echo "Nodes: $((N * N))"
    echo
    echo "    Connection matrix:"
    echo "From:  1  2"
    echo "To 1:  0  0"
    echo "To 2:  1  0"
    echo
    echo "Population 1: Stimulation"
    echo "Length: $L"
    echo " Stimulus: PulseRect - Onset: 0 Node: $(seq 1 "$N" $((N * N)) | tr '\n' ' ')Amplitude: 1 Width: $dt_s"
    echo
    echo "Population 2: Excitatory"
    echo "Length: $L"
    echo "Q: 0"
    echo "Firing: Function: Linear a: 1 b: 0"
    echo " Dendrite 1: alpha: 83 beta: 769"
    echo
    if [ "$1" = Wave ]; then echo "Propagator 1: Wave - Tau: 0 Range: 0.2 gamma: 30"; else echo "Propagator 1: Map -"; fi
    echo
    echo "Coupling 1: Map - nu: 0"
    echo
    echo "Output: Node: $(seq 1 "$N" | tr '\n' ' ')Start: 0"
    echo "Population:"
    echo "Dendrite:"
    echo "Propagator: 1"
    echo "Coupling:"
}
conf Wave >"$tmp/wave.conf"
conf Map >"$tmp/map.conf"
# nsim in its units (µm, ms): h, dt 0.25 ms, 400 ms, gamma 0.03 /ms, r 2e5 µm; the kick s = w = 1
h_um=$(awk -v h="$h_m" 'BEGIN { printf "%.12g", h * 1e6 }')
nsim_args=(--set nx="$N" --set ny="$N" --set h="$h_um" --set dt=0.25 --set t_ms=400 --set line=1 --set rec=1 --quiet)

# timed() NAME CMD...: wall, user and system seconds of one run appended to times.txt
timed() {
    local name=$1; shift
    /usr/bin/time -f "$name %e %U %S" -a -o "$tmp/times.txt" "$@" >"$tmp/$name.log" 2>&1 ||
        { echo "bench/nftsim/run.sh: $name failed:" >&2; tail -5 "$tmp/$name.log" >&2; exit 1; }
}
for i in $(seq 1 "$reps"); do
    timed nftsim_wave "$nft" -i "$tmp/wave.conf" -o "$tmp/wave.output"
    timed nsim_t1 "$nsim" run "$root/bench/nftsim/damped_wave.lua" --threads 1 --out "$tmp/ns1" "${nsim_args[@]}"
    timed nftsim_map "$nft" -i "$tmp/map.conf" -o "$tmp/map.output"
    if [ "${THREADS2:-0}" = 1 ]; then
        timed nsim_t2 "$nsim" run "$root/bench/nftsim/damped_wave.lua" --threads 2 --out "$tmp/ns2" "${nsim_args[@]}"
        cmp -s "$tmp/ns1/phi.csv" "$tmp/ns2/phi.csv" || echo "note: nsim's records at 1 and 2 threads differ"
    fi
    [ "$i" -lt "$reps" ] && rm -rf "$tmp/ns1" "$tmp/ns2"
done

echo
echo "== the damped wave: $N x $N torus, h = $(awk -v h="$h_m" 'BEGIN { printf "%g", h }') m, dt = 0.25 ms, 400 ms ($((N * N)) sites x 1600 steps) =="
/usr/bin/python3 "$root/bench/nftsim/compare.py" "$tmp/wave.output" "$tmp/ns1/phi.csv" "$tmp/transfer.csv" \
    "$N" "$h_m" "$dt_s" 30 0.2 1 1

# --- NFTsim's e-cortical demo as it ships, beside nsim's field of its size and span -------------------
# (900 nodes on a 0.5 m torus, Deltat 2^-13 s, 0.15625 s; a pulse at node 465; phi of node 1 written)
ec="$src/configs/e-cortical.conf"
h_ec=$(awk 'BEGIN { printf "%.12g", 0.5 / 30 * 1e6 }')
for i in $(seq 1 "$reps"); do
    timed ecortical_nftsim "$nft" -i "$ec" -o "$tmp/ec.output"
    timed ecortical_nsim "$nsim" run "$root/bench/nftsim/damped_wave.lua" --threads 1 --out "$tmp/ec_ns" \
        --set nx=30 --set ny=30 --set h="$h_ec" --set dt=0.1220703125 --set t_ms=156.25 --set site=464 --set rec=0 --quiet
    rm -rf "$tmp/ec_ns"
done

echo
echo "== wall times, $reps runs each, interleaved (median [min .. max] s; user + system s, median) =="
awk '{ n[$1]++; w[$1, n[$1]] = $2; c[$1, n[$1]] = $3 + $4 }
     function med(a, k, m,   i, j, t, v) { for (i = 1; i <= m; i++) v[i] = a[k, i]
         for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
         lo = v[1]; hi = v[m]; return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
     END { split("nftsim_wave nftsim_map nsim_t1 nsim_t2 ecortical_nftsim ecortical_nsim", names, " ")
         for (i = 1; i <= 6; i++) { k = names[i]; if (!n[k]) continue
             mw[k] = med(w, k, n[k]); l = lo; hh = hi; mc[k] = med(c, k, n[k])
             printf "%-18s %7.3f [%.3f .. %.3f]  cpu %7.3f\n", k, mw[k], l, hh, mc[k] }
         printf "NFTsim / nsim (1 thread), the damped wave: wall %.2f, cpu %.2f\n", mw["nftsim_wave"] / mw["nsim_t1"], mc["nftsim_wave"] / mc["nsim_t1"]
         if (n["nsim_t2"]) printf "NFTsim / nsim (2 threads), the damped wave: wall %.2f\n", mw["nftsim_wave"] / mw["nsim_t2"]
         printf "NFTsim with a Map propagator in place of the Wave: cpu %.3f s of its %.3f s (the wave step: %.3f s, %.0f million site updates per cpu second; nsim whole: %.0f)\n",
             mc["nftsim_map"], mc["nftsim_wave"], mc["nftsim_wave"] - mc["nftsim_map"], sites / (mc["nftsim_wave"] - mc["nftsim_map"]) / 1e6, sites / mc["nsim_t1"] / 1e6
         printf "NFTsim / nsim, e-cortical size: wall %.2f, cpu %.2f\n", mw["ecortical_nftsim"] / mw["ecortical_nsim"], mc["ecortical_nftsim"] / mc["ecortical_nsim"] }' \
    sites=$((N * N * 1600)) "$tmp/times.txt"
echo "load at end: $(uptime)"
if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP"
    cp "$tmp/transfer.csv" "$tmp/wave.output" "$tmp/ns1/phi.csv" "$tmp/wave.conf" "$tmp/times.txt" "$KEEP/"
fi
