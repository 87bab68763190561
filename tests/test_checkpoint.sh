#!/bin/bash
# tests/test_checkpoint.sh — checkpoints through the command: for each network of
# tests/lua/checkpoint.lua, a run that writes a checkpoint at t_ck (1 thread) against the same
# script resumed from it with `nsim run --resume` (2 threads) and with net:resume (1 thread):
# every record's rows after t_ck equal byte for byte, the resumed run's own checkpoint at t_ck
# equal to the first, and the records of the run without the checkpoint, and of one net:run to
# the end, equal to the first's (but for ltc on CVODE, which the checkpoint restarts). Bad and foreign checkpoints: one line, exit 2, no output.
set -u
. "$(dirname "$0")/lib.sh"
test_workdir checkpoint
S=$ROOT/tests/lua/checkpoint.lua

# rows of a record after time T (ms), the header kept
after() { awk -F, -v t="$1" 'NR == 1 || $1 + 0 > t + 1e-6' "$2"; }

# same_after T A B: the rows of two records after T are equal, and there are some
same_after() {
    after "$1" "$2" >"$work/x.csv"
    after "$1" "$3" >"$work/y.csv"
    [ "$(wc -l <"$work/x.csv")" -gt 3 ] && cmp -s "$work/x.csv" "$work/y.csv"
}

# the records of a run folder: its CSV files, but the populations file
records() { for f in "$1"/*.csv; do f=$(basename "$f"); [ "$f" = populations.csv ] || echo "$f"; done; }

runq() { "$NSIM" run "$S" --quiet "$@" >/dev/null 2>"$work/err.txt" || { echo "nsim run $* failed:"; cat "$work/err.txt"; }; }

# case_run NAME CASE T_CK UNINTERRUPTED_SAME SET...
case_run() {
    local name=$1 c=$2 tc=$3 same_u=$4
    shift 4
    local d=$work/$name sets=(--set case="$c" --set t_ck="$tc")
    for s in "$@"; do sets+=(--set "$s"); done
    mkdir -p "$d"
    runq --out "$d/A" "${sets[@]}" --set ck=c.ckpt --threads 1
    runq --out "$d/B" "${sets[@]}" --set ck=c.ckpt --resume "$d/A/c.ckpt" --threads 2
    runq --out "$d/C" "${sets[@]}" --set resume="$d/A/c.ckpt" --threads 1
    runq --out "$d/U" "${sets[@]}" --threads 2
    local one=(--set case="$c" --set t_ck=60.0)
    for s in "$@"; do one+=(--set "$s"); done
    runq --out "$d/W" "${one[@]}" --threads 2 # one net:run to the end
    local n=0
    for f in $(records "$d/A"); do
        n=$((n + 1))
        check "$name: $f after $tc ms, resumed by --resume on 2 threads" same_after "$tc" "$d/A/$f" "$d/B/$f"
        check "$name: $f after $tc ms, resumed by net:resume" same_after "$tc" "$d/A/$f" "$d/C/$f"
        if [ "$same_u" = 1 ]; then
            check "$name: $f equal to the run without the checkpoint" cmp -s "$d/A/$f" "$d/U/$f"
            check "$name: $f equal to the run in one piece" cmp -s "$d/A/$f" "$d/W/$f"
        fi
    done
    check "$name: records compared ($n)" test "$n" -gt 0
    check "$name: the resumed run's checkpoint at $tc ms is the first one" cmp -s "$d/A/c.ckpt" "$d/B/c.ckpt"
    check "$name: the resumed run says ok" grep -q '"status": "ok"' "$d/B/run.json"
}

case_run cuba_lists cuba 30.8 1 input=sparse     # spikes in flight on event lists
case_run cuba_rows cuba 30.8 1 input=dense       # in the rings; a rate record's partial bin
case_run brunel brunel 30.5 1                    # held runs (per-synapse delays), Poisson drive
case_run stdp stdp 30.5 1                        # plastic weights, traces, a weight record
case_run lif_ps lif_ps 31.3 1                    # precise offsets, a precise spike_source
case_run ode ode 30.5 1                          # a CVODE population (adex)
case_run kuramoto kuramoto 30.5 1                # delayed graded values, noise, a spike_source
case_run s2net s2net 30.5 1                      # s2net_phase's private spike bits
case_run ltc_cvode ltc 31.1 0 solver=cvode_bdf   # a solver that keeps its history: restarted at t_ck
case_run ltc_rk8pd ltc 31.1 1 solver=rk8pd       # rk8pd's step size carried
case_run cfc cfc 30.5 1                          # a cell's time stamps
case_run devices devices 30.5 1                  # ac and noise currents, neurons subsets, aeif_cond_exp, lif_alpha

# Bad and foreign files: `nsim: PATH: what is wrong`, one line, exit 2, no output folder left.
good=$work/cuba_rows/A/c.ckpt
refused() { # refused LABEL FILE EXPECTED [ARGS...]
    local label=$1 file=$2 want=$3
    shift 3
    local out=$work/refused_$label
    "$NSIM" run "$S" --quiet --set case=cuba --set t_ck=30.8 --set input=dense --resume "$file" --out "$out" "$@" \
        >/dev/null 2>"$work/err.txt"
    local rc=$?
    check "$label: exit status 2 (got $rc)" test "$rc" = 2
    check "$label: one line" test "$(wc -l <"$work/err.txt")" = 1
    check "$label: says '$want' (got: $(cat "$work/err.txt"))" grep -qF "nsim: $file: $want" "$work/err.txt"
    check "$label: no output folder left" test ! -e "$out"
}
printf 'hello, not a checkpoint at all\n' >"$work/text.ckpt"
refused magic "$work/text.ckpt" "not an nsim checkpoint (its first bytes are not NSIMCKPT)"
cp "$good" "$work/version.ckpt"
printf '\011' | dd of="$work/version.ckpt" bs=1 seek=8 conv=notrunc status=none
refused version "$work/version.ckpt" "checkpoint version 9; this nsim reads version 1"
head -c 5000 "$good" >"$work/short.ckpt"
refused truncated "$work/short.ckpt" "truncated: 5000 bytes of $(wc -c <"$good")"
cp "$good" "$work/flip.ckpt"
printf '\377' | dd of="$work/flip.ckpt" bs=1 seek=3000 conv=notrunc status=none
refused corrupt "$work/flip.ckpt" "corrupt: its checksum does not match its content"
refused foreign "$work/brunel/A/c.ckpt" "a checkpoint of another network: population 0 is 'E' (lif_delta, 800 units) there, 'E' (lif, 800 units) here"
refused seed "$good" "a checkpoint of another network: seed 1 there, 7 here" --seed 7
refused recorded "$good" "a checkpoint of another network: population E takes its input otherwise" --set input=sparse
refused missing "$work/none.ckpt" "cannot read the checkpoint"

# A checkpoint never replaces a file: the run fails (what it simulated is kept), the file stays.
printf 'precious\n' >"$work/keep.ckpt"
"$NSIM" run "$S" --quiet --set case=cuba --set ck="$work/keep.ckpt" --out "$work/keep" >/dev/null 2>"$work/err.txt"
rc=$?
check "an existing checkpoint file: exit status 1 (got $rc)" test "$rc" = 1
check "an existing checkpoint file: says so ($(cat "$work/err.txt"))" grep -q "keep.ckpt: exists already" "$work/err.txt"
check "an existing checkpoint file is left as it was" test "$(cat "$work/keep.ckpt")" = precious
check "no temporary file left" test ! -e "$work/keep.ckpt.tmp"

# Under MPI ranks (when mpirun is there and nsim was built with MPI: a 2-rank run's run.json says
# so): for every network above, the checkpoint written on 3 ranks (1 thread) is the 1-rank file
# byte for byte; the 1-rank checkpoint resumed on 2 ranks x 2 threads, and the 3-rank one resumed
# on 1 rank, give the 1-rank run's records after t_ck. An existing checkpoint file on rank 0
# stops every rank with one line, and no hang.
mpi_ok=0
if command -v mpirun >/dev/null 2>&1; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
    export OMPI_MCA_rmaps_base_oversubscribe=1
    export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}fast_unwind_on_malloc=0"
    printf 'local net = nsim.network{dt = 0.1}\nnet:population("lif", 4, {}, nil, "P")\nnet:run(1)\n' >"$work/probe.lua"
    timeout 120 mpirun -np 2 "$NSIM" run "$work/probe.lua" --quiet --out "$work/mpiprobe" >/dev/null 2>&1
    grep -q '"ranks": 2' "$work/mpiprobe/run.json" 2>/dev/null && mpi_ok=1
fi
mpirq() { # mpirq K ARGS...: nsim run on K ranks
    local k=$1
    shift
    timeout 300 mpirun -np "$k" "$NSIM" run "$S" --quiet "$@" >/dev/null 2>"$work/err.txt" ||
        { echo "mpirun -np $k nsim run $* failed:"; cat "$work/err.txt"; }
}
# mpi_case NAME CASE T_CK SET...: against case_run's 1-rank run in $work/NAME/A
mpi_case() {
    local name=$1 c=$2 tc=$3
    shift 3
    local d=$work/$name sets=(--set case="$c" --set t_ck="$tc")
    for s in "$@"; do sets+=(--set "$s"); done
    mpirq 3 --out "$d/D" "${sets[@]}" --set ck=c.ckpt --threads 1
    mpirq 2 --out "$d/E" "${sets[@]}" --set ck=c.ckpt --resume "$d/A/c.ckpt" --threads 2
    runq --out "$d/F" "${sets[@]}" --resume "$d/D/c.ckpt" --threads 1
    check "$name: the checkpoint written on 3 ranks is the 1-rank one" cmp -s "$d/A/c.ckpt" "$d/D/c.ckpt"
    check "$name: the checkpoint of the run resumed on 2 ranks is the 1-rank one" cmp -s "$d/A/c.ckpt" "$d/E/c.ckpt"
    local n=0
    for f in $(records "$d/A"); do
        n=$((n + 1))
        check "$name: $f after $tc ms, resumed on 2 ranks x 2 threads" same_after "$tc" "$d/A/$f" "$d/E/$f"
        check "$name: $f after $tc ms, the 3-rank checkpoint resumed on 1 rank" same_after "$tc" "$d/A/$f" "$d/F/$f"
    done
    check "$name: records compared under ranks ($n)" test "$n" -gt 0
}
if [ "$mpi_ok" = 1 ]; then
    mpi_case cuba_lists cuba 30.8 input=sparse
    mpi_case cuba_rows cuba 30.8 input=dense
    mpi_case brunel brunel 30.5
    mpi_case stdp stdp 30.5
    mpi_case lif_ps lif_ps 31.3
    mpi_case ode ode 30.5
    mpi_case kuramoto kuramoto 30.5
    mpi_case s2net s2net 30.5
    mpi_case ltc_cvode ltc 31.1 solver=cvode_bdf
    mpi_case ltc_rk8pd ltc 31.1 solver=rk8pd
    mpi_case cfc cfc 30.5
    mpi_case devices devices 30.5
    timeout 120 mpirun -np 3 "$NSIM" run "$S" --quiet --set case=cuba --set ck="$work/keep.ckpt" --out "$work/keep3" \
        >/dev/null 2>"$work/err.txt"
    rc=$?
    check "3 ranks, an existing checkpoint file: exit status 1 (got $rc)" test "$rc" = 1
    check "3 ranks, an existing checkpoint file: one line ($(grep '^nsim' "$work/err.txt"))" \
        test "$(grep -c '^nsim: .*keep.ckpt: exists already' "$work/err.txt")" = 1
    check "3 ranks: the existing checkpoint file is left as it was" test "$(cat "$work/keep.ckpt")" = precious
else
    echo "test_checkpoint: the MPI checks skipped (no mpirun, or nsim built without MPI)"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
