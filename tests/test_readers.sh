#!/bin/bash
# tests/test_readers.sh — records against independent recomputations, and the readers of spike
# files and tables (nsim analyze, nsim plot, spike sources) on what other tools and interrupted
# runs leave: torn last lines, state files, .csv.gz, huge ids and times, files without run.json.
set -u
NSIM=${NSIM:-./build/nsim}
ROOT=${NSIM_SOURCE_ROOT:-.}
work=$(mktemp -d "${TMPDIR:-/tmp}/nsim-readers-XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
skipped() { skip=$((skip + 1)); echo "SKIP: $*"; }
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# refused PATTERN -- ARGS...: nsim must exit 2 with one line on stderr matching PATTERN, and leave
# no output folder $work/out behind.
refused() {
    local pattern=$1
    shift 2
    rm -rf "$work/out"
    "$NSIM" "$@" >"$work/stdout" 2>"$work/stderr" </dev/null
    local got=$? first
    first=$(head -n 1 "$work/stderr")
    if [ "$got" -ne 2 ]; then bad "$*: status $got, want 2 ($first)"; return; fi
    if ! grep -qE -- "$pattern" <<<"$first"; then bad "$*: message '$first' does not match '$pattern'"; return; fi
    [ "$(wc -l <"$work/stderr")" -eq 1 ] || { bad "$*: more than one line on stderr: $(cat "$work/stderr")"; return; }
    [ ! -e "$work/out" ] || { bad "$*: left $(ls "$work/out" | tr '\n' ' ')behind"; return; }
    ok
}

# --- rate.csv of a multi-population record_rate, bin by bin, from spikes.csv + populations.csv ---
# The recomputation uses exact decimal arithmetic on the printed times: spike t is in bin
# floor(t / bin); rate = count / (neurons x bin in s).
cat >"$work/rates.py" <<'EOF'
import sys
from decimal import Decimal
folder = sys.argv[1]
pops = {}
with open(folder + "/populations.csv") as f:
    next(f)
    for line in f:
        name, model, first, last, size = line.strip().split(",")
        pops[name] = (int(first), int(last))
rows = [l.strip().split(",") for l in open(folder + "/rate.csv")]
head, rows = rows[0], rows[1:]
cols = head[1:]
t = [Decimal(r[0]) for r in rows]
binw = t[1] - t[0]
count = {c: [0] * len(rows) for c in cols}
with open(folder + "/spikes.csv") as f:
    next(f)
    for line in f:
        ts, ids = line.strip().split(",")
        b = int(Decimal(ts) // binw)
        i = int(ids)
        if b >= len(rows):
            continue
        for c in cols:
            if pops[c][0] <= i <= pops[c][1]:
                count[c][b] += 1
bad = 0
for k, r in enumerate(rows):
    if t[k] != k * binw:
        print("bin %d starts at %s" % (k, r[0])); bad += 1
    for j, c in enumerate(cols):
        n = pops[c][1] - pops[c][0] + 1
        want = count[c][k] / (n * float(binw) / 1000.0)
        got = float(r[j + 1])
        if abs(got - want) > 1e-5 * abs(want) + 1e-9:
            bad += 1
            if bad < 5:
                print("bin %d (%s ms) column %s: rate.csv %g, spikes.csv %g" % (k, r[0], c, got, want))
print("bins=%d columns=%d spikes_counted=%d mismatches=%d" % (len(rows), len(cols), sum(sum(v) for v in count.values()), bad))
sys.exit(1 if bad else 0)
EOF
check_rates() { # check_rates NAME SCRIPT ARGS...: run, then every bin of every column of rate.csv
    local name=$1 script=$2
    shift 2
    if ! "$NSIM" run "$ROOT/examples/$script" "$@" --out "$work/$name" --quiet >/dev/null 2>"$work/err"; then
        bad "$script failed: $(cat "$work/err")"
        return
    fi
    if out=$("$PY" "$work/rates.py" "$work/$name" 2>&1); then
        grep -q "columns=2 " <<<"$out" && ok || bad "$name: rate.csv should have two populations: $out"
    else
        bad "$name: rate.csv differs from spikes.csv: $out"
    fi
}
check_rates brunel brunel.lua --set t_ms=200 --set scale=0.1
check_rates brunel2 brunel.lua --set t_ms=200 --set scale=0.1 --threads 2
check_rates cuba cuba.lua --set t_ms=300

# --- a state record is not a spike file: refused by name, header found vs expected ---
cat >"$work/vm.lua" <<'EOF'
local net = nsim.network{dt = 0.1}
local a = net:population("lif", 5, {C_m = 250, tau_m = 10, E_L = -70, V_th = -55, V_reset = -70, t_ref = 2, I_e = 500})
net:record_spikes(a)
net:record_state(a, {vars = "V_m", neurons = {0, 1, 2}, interval = 0.1, file = "vm.csv"})
net:run(nsim.param("t_ms", 100))
EOF
if "$NSIM" run "$work/vm.lua" --out "$work/vm" --quiet >/dev/null 2>"$work/err"; then
    refused "vm.csv:1: header is 't_ms,neuron,V_m', expected 't_ms,neuron'" -- plot raster "$work/vm/vm.csv" --out "$work/out/x.png"
    refused "vm.csv:1: header is 't_ms,neuron,V_m', expected 't_ms,neuron'" -- analyze "$work/vm/vm.csv" --out "$work/out"
else
    bad "vm.lua failed: $(cat "$work/err")"
fi

# --- a torn last line (a run cut short) is dropped with one warning, never read as a spike ---
# cuba's spikes.csv with the last line cut two characters short and without its newline, in a
# folder with the run's run.json and populations.csv; the spikes counted must be exactly the
# complete lines.
mkdir -p "$work/torn"
cp "$work/cuba/run.json" "$work/cuba/populations.csv" "$work/torn/"
size=$(stat -c %s "$work/cuba/spikes.csv")
head -c $((size - 3)) "$work/cuba/spikes.csv" >"$work/torn/spikes.csv"
complete=$(($(wc -l <"$work/torn/spikes.csv") - 1)) # newlines: the header's and the whole lines'
lastno=$((complete + 2))
if "$NSIM" analyze "$work/torn/spikes.csv" --stats >/dev/null 2>"$work/err"; then
    [ "$(wc -l <"$work/err")" -eq 1 ] && grep -q "^nsim: warning: .*torn/spikes.csv:$lastno: the last line '.*' has no newline at its end .*dropped" "$work/err" \
        && ok || bad "torn last line: warning '$(cat "$work/err")' (line $lastno)"
    got=$(awk -F, 'NR > 1 { s += $3 } END { print s }' "$work/torn/stats.csv")
    [ "$got" = "$complete" ] && ok || bad "torn last line: stats.csv counts $got spikes, the file holds $complete whole lines"
else
    bad "analyze of a torn file failed: $(cat "$work/err")"
fi
"$NSIM" plot raster "$work/torn/spikes.csv" --out "$work/torn/r.png" >/dev/null 2>"$work/err" \
    && grep -q "^nsim: warning: .*:$lastno: the last line" "$work/err" && ok || bad "plot raster of a torn file: $(cat "$work/err")"
# a spike source reading a torn file: the whole lines reach the network, the cut one does not
printf 't_ms,neuron\n1.0,0\n2.0,1\n3.0,2\n4.0,27' >"$work/torn_src.csv"
cat >"$work/src.lua" <<'EOF'
local net = nsim.network{dt = 0.1}
local s = net:spike_source{file = "torn_src.csv"}
net:record_spikes(s)
net:run(10)
EOF
if "$NSIM" run "$work/src.lua" --out "$work/src" >/dev/null 2>"$work/err"; then
    grep -q "^warning: .*torn_src.csv:5: the last line '4.0,27' has no newline" "$work/err" && ok || bad "spike source of a torn file: no warning: $(cat "$work/err")"
    [ "$(tail -n +2 "$work/src/spikes.csv" | tr '\n' ' ')" = "1.0,0 2.0,1 3.0,2 " ] && ok || bad "spike source of a torn file: $(cat "$work/src/spikes.csv")"
else
    bad "spike source of a torn file failed: $(cat "$work/err")"
fi

# --- records reach the disk in whole lines: looked at while the run goes on (stdio flushes a full
# buffer several times a second), and after kill -9, the files never end in a partial line ---
"$NSIM" run "$ROOT/examples/cuba.lua" --set t_ms=1000000 --out "$work/killed" --quiet >/dev/null 2>&1 &
pid=$!
torn=0 looks=0
for _ in $(seq 1 100); do
    if [ -s "$work/killed/spikes.csv" ]; then
        looks=$((looks + 1))
        [ -z "$(tail -c 1 "$work/killed/spikes.csv" | tr -d '\n')" ] || torn=$((torn + 1))
        [ $looks -ge 30 ] && [ -s "$work/killed/rate.csv" ] && break
    fi
    sleep 0.07
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
[ $looks -ge 10 ] && [ $torn -eq 0 ] && ok || bad "spikes.csv ended in a partial line $torn times of $looks looks while cuba ran"
for f in spikes.csv rate.csv; do
    file="$work/killed/$f"
    if [ ! -s "$file" ]; then bad "killed run: no $f"; continue; fi
    [ -z "$(tail -c 1 "$file" | tr -d '\n')" ] && ok || bad "killed run: $f ends in a partial line: $(tail -c 40 "$file")"
    awk -F, -v f="$f" 'NR > 1 && (NF != (f == "spikes.csv" ? 2 : 3) || $1 !~ /^[0-9]+\.[0-9]$/) { bad++ } END { exit bad > 0 }' "$file" \
        && ok || bad "killed run: $f holds a malformed line"
done

echo "$pass passed, $fail failed ($skip skipped)"
[ "$fail" -eq 0 ]
