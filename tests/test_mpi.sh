#!/bin/bash
# tests/test_mpi.sh — MPI ranks (mpirun --oversubscribe): the same seed gives byte-identical
# records for K = 1, 2, 3, 4 ranks and T = 1, 2 threads per rank as the plain run without mpirun,
# and run.json the same synapse_bytes for 2 ranks x 1 thread as for 1 rank x 2 threads,
# for CUBA, Brunel (Poisson drive), STDP (weights, state of units on every rank, two runs, the
# state the script reads after them), a Klein-Gordon field driving neurons (graded output; whole,
# then a team) and the PD14 microcircuit at a small scale: every CSV of the plain run compared with cmp, the same
# files and no others in the output folder, run.json stating ranks and threads, nothing left in
# TMPDIR by the other ranks. Failures: a Lua error raised on rank 1 alone while the others are
# inside a long run ends every rank within seconds with one line from rank 0 naming it (exit
# status 1); a population's step failing on rank 1 alone does too, with the plain run's records
# up to the failure; bad input on every rank gives one line, exit status 2 and no output folder; kill -9
# of a rank (1, then 0) brings the run down within a bounded time, with every line of spikes.csv
# whole and run.json still saying "running"; Ctrl-C to mpirun stops every rank, run.json says
# "interrupted".
set -u
. "$(dirname "$0")/lib.sh"
if ! command -v mpirun >/dev/null 2>&1; then
    echo "test_mpi: skipped: no mpirun (apt-get install openmpi-bin)"
    exit 77
fi
test_workdir mpi
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# CI runs as root; ranks may outnumber the cores; idle OpenMP threads must not spin on them
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
export OMPI_MCA_rmaps_base_oversubscribe=1
export TMPDIR="$work/tmp"
# under the sanitizers (make sanitize): whole stacks for allocations, so that what Open MPI's
# components keep is traced to its libraries (tests/lsan.supp) rather than to unknown modules
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}fast_unwind_on_malloc=0"
mkdir -p "$TMPDIR"

cat >"$work/plastic.lua" <<'LUA'
local t_ms = nsim.param("t_ms", 300)
local net = nsim.network{dt = 0.1}
math.randomseed(7)
local trains = {}
for i = 1, 300 do
  local l, t = {}, 0
  while true do
    t = t - math.log(1 - math.random()) * 1000 / 20
    if t > t_ms then break end
    if t >= 0.1 then l[#l + 1] = t end
  end
  trains[i] = l
end
local src = net:spike_source{times = trains, name = "in"}
local cell = {C_m = 200, tau_m = 20, E_L = -70, V_th = -54, V_reset = -60, t_ref = 2, tau_ex = 5, tau_in = 5}
local post = net:population("lif", 30, cell, {V_m = nsim.uniform(-70, -55)}, "post")
local p = net:connect(src, post, {rule = "bernoulli", p = 0.3, weight = nsim.uniform(0, 40), delay = nsim.uniform(0.5, 2),
                                  synapse = nsim.stdp{lambda = 0.05, alpha = 1.05, mu_plus = 0, mu_minus = 0,
                                                      tau_plus = 20, tau_minus = 20, Wmax = 40}})
net:poisson(post, {rate = 3000, weight = 30})
net:record_weights(p, {file = "weights.csv", sample = 40, interval = 10})
net:record_spikes({src, post})
net:record_state(post, {vars = {"V_m", "I_ex"}, neurons = {0, 7, 15, 29}, interval = 1, file = "state.csv"})
net:record_rate({post}, {bin = 5})
net:run(t_ms / 2)
net:run(t_ms / 2)
local f = io.open(nsim.outdir() .. "/final.csv", "w")
for i = 0, 29 do f:write(string.format("%d,%.17g\n", i, post:state("V_m", i))) end
f:close()
LUA

# name script settings...: the plain run, then every split against it
compare_splits() {
    local name=$1 script=$2
    shift 2
    local sets=()
    for s in "$@"; do sets+=(--set "$s"); done
    if ! "$NSIM" run "$script" --out "$work/$name-plain" --quiet "${sets[@]}" >/dev/null 2>"$work/$name-plain.err"; then
        bad "$name: the plain run failed: $(cat "$work/$name-plain.err")"
        return
    fi
    local n_csv
    n_csv=$(ls "$work/$name-plain"/*.csv | wc -l)
    [ "$n_csv" -ge 2 ] && ok || bad "$name: only $n_csv records"
    for K in 1 2 3 4; do
        for T in 1 2; do
            local out="$work/$name-$K-$T"
            timeout 120 mpirun -np $K "$NSIM" run "$script" --out "$out" --threads $T --quiet "${sets[@]}" >"$out.log" 2>&1
            local rc=$?
            if [ "$rc" != 0 ]; then
                bad "$name: $K ranks x $T threads exited $rc: $(head -20 "$out.log")"
                continue
            fi
            local diff=""
            for f in "$work/$name-plain"/*.csv; do
                cmp -s "$f" "$out/$(basename "$f")" || diff="$diff $(basename "$f")"
            done
            [ -z "$diff" ] && ok || bad "$name: $K ranks x $T threads: differs in$diff"
            # the same files (figures too), no others: the other ranks wrote nothing here
            [ "$(cd "$work/$name-plain" && ls)" = "$(cd "$out" && ls)" ] && ok ||
                bad "$name: $K x $T: files $(cd "$out" && ls | tr '\n' ' ') (plain: $(cd "$work/$name-plain" && ls | tr '\n' ' '))"
            grep -q "\"ranks\": $K," "$out/run.json" && grep -q "\"threads\": $T," "$out/run.json" && ok ||
                bad "$name: $K x $T: run.json does not state the layout"
            rm -rf "$out"
        done
    done
}

compare_splits cuba "$ROOT/examples/cuba.lua" t_ms=200 n=1000
compare_splits brunel "$ROOT/examples/brunel.lua" t_ms=100 scale=0.05
compare_splits stdp "$work/plastic.lua" t_ms=300
compare_splits field "$ROOT/examples/kg_neurons.lua" t_ms=4 t_snap=2
# the same field stepped by a team (all threads of the one rank that holds it)
sed 's/nsim.network{dt = dt}/nsim.network{dt = dt, team_min = 0}/' "$ROOT/examples/kg_neurons.lua" >"$work/kg_team.lua"
grep -q 'team_min = 0' "$work/kg_team.lua" && ok || bad "kg_neurons.lua: no network line to make a team of"
compare_splits field_team "$work/kg_team.lua" t_ms=4 t_snap=2
compare_splits microcircuit "$ROOT/examples/microcircuit.lua" scale=0.05 t_ms=100 warmup_ms=20 raster_ms=50 sample=10

# synapse_bytes counts the held runs of every rank's tables: 2 ranks x 1 thread cut the
# populations into the same two blocks as 1 rank x 2 threads (split = units), so the same bytes
mc_bytes() { grep -o '"synapse_bytes": [0-9]*' "$1/run.json" | grep -o '[0-9]*$'; }
mc_sets=(--set scale=0.05 --set t_ms=10 --set warmup_ms=5 --set raster_ms=5 --set sample=10 --set split=units)
"$NSIM" run "$ROOT/examples/microcircuit.lua" --out "$work/mcb-plain" --threads 2 --quiet "${mc_sets[@]}" >/dev/null 2>&1
timeout 120 mpirun -np 2 "$NSIM" run "$ROOT/examples/microcircuit.lua" --out "$work/mcb-2" --threads 1 --quiet \
    "${mc_sets[@]}" >"$work/mcb-2.log" 2>&1
b1=$(mc_bytes "$work/mcb-plain")
b2=$(mc_bytes "$work/mcb-2")
[ -n "$b1" ] && [ "$b1" -gt 0 ] && [ "$b1" = "$b2" ] && ok ||
    bad "synapse_bytes: 1 rank x 2 threads $b1, 2 ranks x 1 thread $b2 (the same blocks): $(head -5 "$work/mcb-2.log")"
# the example shares whole populations out over the threads; cut into a block per thread too
compare_splits microcircuit_units "$ROOT/examples/microcircuit.lua" scale=0.05 t_ms=100 warmup_ms=20 raster_ms=50 \
    sample=10 split=units
# plastic synapses and a spike source, the populations whole on threads (a block per rank)
sed 's/nsim.network{dt = 0.1}/nsim.network{dt = 0.1, split = "populations"}/' "$work/plastic.lua" >"$work/plastic_pop.lua"
grep -q 'split = "populations"' "$work/plastic_pop.lua" && ok || bad "plastic.lua: no network line to split by populations"
compare_splits stdp_populations "$work/plastic_pop.lua" t_ms=300
# ac and noise currents (noise drawn per unit and interval), neurons = subsets, aeif_cond_exp, lif_alpha
compare_splits devices "$ROOT/tests/lua/checkpoint.lua" case=devices
# the comparisons are of something: spikes, weights that moved, field-driven firing
[ "$(wc -l <"$work/cuba-plain/spikes.csv")" -gt 500 ] && ok || bad "cuba: few spikes"
[ "$(awk -F, 'NR > 1 && $2 >= 300' "$work/stdp-plain/spikes.csv" | wc -l)" -gt 100 ] && ok || bad "stdp: the neurons hardly fired"
awk -F, 'NR > 1 && $2 == 0 { if (!n++) first = $5; last = $5 } END { exit !(n > 2 && first != last) }' \
    "$work/stdp-plain/weights.csv" && ok || bad "stdp: synapse 0's weight never changed"
[ "$(wc -l <"$work/field-plain/spikes.csv")" -gt 100 ] && ok || bad "field: few spikes"
[ -z "$(ls -A "$TMPDIR")" ] && ok || bad "ranks left $(ls "$TMPDIR") in TMPDIR"

# ---- failures ----
# rank 1 alone raises an error after 20 ms; the others are inside a run of 100 s by then
cat >"$work/fail.lua" <<'LUA'
local net = nsim.network{dt = 0.1}
local E = net:population("lif", 400, {}, {V_m = nsim.uniform(-70, -55)}, "E")
net:poisson(E, {rate = 8000, weight = 20})
net:connect(E, E, {rule = "bernoulli", p = 0.05, weight = 5, delay = 1})
net:record_spikes(E)
net:run(20)
if nsim.ranks() ~= 2 or nsim.rank() > 1 then error("ranks " .. nsim.ranks() .. ", rank " .. nsim.rank()) end
if nsim.rank() == 1 then error("rank one gives up") end
net:run(100000)
LUA
start=$(date +%s)
timeout 60 mpirun -np 2 "$NSIM" run "$work/fail.lua" --out "$work/fail" >"$work/fail.out" 2>"$work/fail.err"
rc=$?
took=$(($(date +%s) - start))
[ "$rc" = 1 ] && ok || bad "a failure on rank 1: exit status $rc, not 1"
[ "$took" -lt 30 ] && ok || bad "a failure on rank 1 took $took s to stop the run"
[ "$(grep -c '^nsim:' "$work/fail.err")" = 1 ] && ok || bad "a failure on rank 1: not one nsim line: $(cat "$work/fail.err")"
grep -q '^nsim: .*rank 1: .*fail.lua:8: rank one gives up' "$work/fail.err" && ok ||
    bad "a failure on rank 1: the line does not name it: $(grep '^nsim:' "$work/fail.err")"
grep -q '"status": "failed"' "$work/fail/run.json" && ok || bad "a failure on rank 1: run.json does not say failed"
awk -F, 'NR > 1 && $1 + 0 > 20.0001 { bad = 1 } END { exit bad }' "$work/fail/spikes.csv" && ok ||
    bad "a failure on rank 1: spikes after 20 ms"
# a population's step fails on rank 1 only (B, the smaller of two whole populations, is placed
# there): rank 0 says so in one line, with the same records as the plain run up to the failure
cat >"$work/stepfail.lua" <<'LUA'
local net = nsim.network{dt = 0.1}
local A = net:population("adex", 20, {}, {}, "A")
local B = net:population("adex", 10, {}, {}, "B")
local E = net:population("lif", 200, {I_e = 500}, {V_m = nsim.uniform(-70, -55)}, "E")
net:poisson(E, {rate = 8000, weight = 20})
net:record_spikes({A, B, E})
net:run(10)
B:set_state("w", -1e300)
net:run(1000)
LUA
"$NSIM" run "$work/stepfail.lua" --out "$work/stepfail-plain" >/dev/null 2>"$work/stepfail-plain.err"
timeout 60 mpirun -np 2 "$NSIM" run "$work/stepfail.lua" --out "$work/stepfail" >/dev/null 2>"$work/stepfail.err"
rc=$?
[ "$rc" = 1 ] && ok || bad "a step failing on rank 1: exit status $rc, not 1"
[ "$(grep -c '^nsim:' "$work/stepfail.err")" = 1 ] &&
    grep -q '^nsim: .*stepfail.lua:9: at t = 15 ms: rank 1: population B: unit 0: V_m = .* beyond the bound' "$work/stepfail.err" &&
    ok || bad "a step failing on rank 1: $(grep '^nsim:' "$work/stepfail.err")"
grep -q 'stepfail.lua:9: at t = 15 ms: population B: unit 0: V_m' "$work/stepfail-plain.err" && ok ||
    bad "a step failing: the plain run says $(cat "$work/stepfail-plain.err")"
[ "$(wc -l <"$work/stepfail/spikes.csv")" -gt 100 ] && cmp -s "$work/stepfail-plain/spikes.csv" "$work/stepfail/spikes.csv" && ok ||
    bad "a step failing on rank 1: spikes.csv differs from the plain run's"
# bad input, the same on every rank: one line, exit status 2, no output folder
printf 'local net = nsim.network{dt = 0.1}\nnet:population("lif", 10, {tau_m = -1})\n' >"$work/badin.lua"
timeout 60 mpirun -np 3 "$NSIM" run "$work/badin.lua" --out "$work/badin" >/dev/null 2>"$work/badin.err"
rc=$?
[ "$rc" = 2 ] && ok || bad "bad input on 3 ranks: exit status $rc, not 2"
[ "$(grep -c '^nsim:' "$work/badin.err")" = 1 ] && grep -q '^nsim: .*badin.lua:2: .*tau_m' "$work/badin.err" && ok ||
    bad "bad input on 3 ranks: $(cat "$work/badin.err")"
[ ! -e "$work/badin" ] && ok || bad "bad input on 3 ranks left $(ls "$work/badin")"

# kill -9 of one rank (its pid from its environment) once spikes are on disk
kill_rank() { # kill_rank RANK
    local victim=$1 out="$work/kill$1"
    timeout 240 mpirun -np 2 "$NSIM" run "$ROOT/examples/brunel.lua" --set scale=0.05 --set t_ms=1000000 \
        --out "$out" --quiet >/dev/null 2>"$out.err" &
    local mpirun_pid=$! pid="" t
    for t in $(seq 1 1500); do # up to 150 s: a sanitized build on a loaded machine starts slowly
        [ -s "$out/spikes.csv" ] && [ "$(wc -l <"$out/spikes.csv")" -gt 10 ] && break
        sleep 0.1
    done
    for p in $(pgrep -f "$out" || true); do
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$victim" && pid=$p
    done
    if [ -z "$pid" ]; then
        bad "kill -9 of rank $victim: no such process"
        kill "$mpirun_pid" 2>/dev/null
        wait "$mpirun_pid"
        return
    fi
    local start
    start=$(date +%s)
    kill -9 "$pid"
    wait "$mpirun_pid"
    local rc=$? took=$(($(date +%s) - start))
    [ "$rc" != 0 ] && [ "$rc" != 124 ] && ok || bad "kill -9 of rank $victim: mpirun exited $rc (124: still running after 240 s)"
    [ "$took" -lt 30 ] && ok || bad "kill -9 of rank $victim: $took s to come down"
    awk -F, 'NR == 1 { if ($0 != "t_ms,neuron") bad = 1; next } NF != 2 || $1 !~ /^[0-9]+\.[0-9]+$/ || $2 !~ /^[0-9]+$/ { bad = 1 }
             END { exit bad || NR < 10 }' "$out/spikes.csv" && [ "$(tail -c 1 "$out/spikes.csv" | od -An -c | tr -d ' ')" = '\n' ] &&
        ok || bad "kill -9 of rank $victim: spikes.csv is not whole lines"
    grep -q '"status": "running"' "$out/run.json" && ok || bad "kill -9 of rank $victim: run.json: $(grep status "$out/run.json")"
}
kill_rank 1
kill_rank 0

# SIGINT to every rank (as a batch system's cancel signals every task): every rank stops at the same window, rank 0 says so and run.json says "interrupted".
# (A signal to mpirun alone starts Open MPI's own kill sequence instead: docs/guide.md.)
out="$work/sigint"
timeout 240 mpirun -np 2 "$NSIM" run "$ROOT/examples/brunel.lua" --set scale=0.05 --set t_ms=1000000 --out "$out" \
    >/dev/null 2>"$out.err" &
mpirun_pid=$!
for t in $(seq 1 1500); do # up to 150 s, as above
    [ -s "$out/spikes.csv" ] && [ "$(wc -l <"$out/spikes.csv")" -gt 10 ] && break
    sleep 0.1
done
ranks_pids=""
for p in $(pgrep -f "$out" || true); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -q "^OMPI_COMM_WORLD_RANK=" && ranks_pids="$ranks_pids $p"
done
[ "$(echo $ranks_pids | wc -w)" = 2 ] && ok || bad "Ctrl-C: found the ranks '$ranks_pids'"
start=$(date +%s)
# shellcheck disable=SC2086
kill -INT $ranks_pids
wait "$mpirun_pid"
rc=$? took=$(($(date +%s) - start))
[ "$rc" != 0 ] && [ "$rc" != 124 ] && ok || bad "Ctrl-C: mpirun exited $rc"
[ "$took" -lt 30 ] && ok || bad "Ctrl-C: $took s to stop"
grep -q '"status": "interrupted"' "$out/run.json" && ok || bad "Ctrl-C: run.json: $(grep status "$out/run.json")"
[ "$(grep -c '^nsim: .*interrupted at t = ' "$out.err")" = 1 ] && ok || bad "Ctrl-C: $(grep '^nsim' "$out.err")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
