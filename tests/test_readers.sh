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
    # a look counts when the size holds still for 0.03 s (no write under way), and a torn one when
    # it still holds 0.1 s later
    s1=$(stat -c %s "$work/killed/spikes.csv" 2>/dev/null || echo 0)
    sleep 0.03
    last=$(tail -c 1 "$work/killed/spikes.csv" 2>/dev/null | tr -d '\n')
    s2=$(stat -c %s "$work/killed/spikes.csv" 2>/dev/null || echo 0)
    if [ "$s1" -gt 0 ] && [ "$s1" = "$s2" ] && [ -n "$last" ]; then
        # no newline at the end: a flush that split a line stays so until the next flush, a
        # tenth of a second and more; a write caught half done (its process preempted on a busy
        # machine) moves on within milliseconds, and that look does not count
        sleep 0.1
        [ "$(stat -c %s "$work/killed/spikes.csv")" = "$s2" ] && looks=$((looks + 1)) && torn=$((torn + 1))
    elif [ "$s1" -gt 0 ] && [ "$s1" = "$s2" ]; then
        looks=$((looks + 1))
        [ $looks -ge 30 ] && [ -s "$work/killed/rate.csv" ] && break
    fi
    sleep 0.04
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
[ $looks -ge 10 ] && [ $torn -eq 0 ] && ok || bad "spikes.csv ended in a partial line $torn times of $looks looks while cuba ran"
# after kill -9 (which can stop even a write under way, at a page boundary): every whole line is
# well formed, and nsim analyze reads exactly the whole lines
for f in spikes.csv rate.csv; do
    file="$work/killed/$f"
    if [ ! -s "$file" ]; then bad "killed run: no $f"; continue; fi
    awk -F, -v f="$f" 'NR > 1 && (NF != (f == "spikes.csv" ? 2 : 3) || $1 !~ /^[0-9]+\.[0-9]$/) { bad++ } END { exit bad > 0 }' \
        <(head -n "$(wc -l <"$file")" "$file") && ok || bad "killed run: $f holds a malformed line"
done
if "$NSIM" analyze "$work/killed/spikes.csv" --stats --out "$work/killed_a" >/dev/null 2>"$work/err"; then
    got=$(awk -F, 'NR > 1 { s += $3 } END { print s }' "$work/killed_a/stats.csv")
    [ "$got" = "$(($(wc -l <"$work/killed/spikes.csv") - 1))" ] && ok || bad "killed run: analyze counted $got spikes"
else
    bad "analyze of a killed run's spikes: $(cat "$work/err")"
fi

# --- another simulator's file, without run.json: --t-ms, --groups, --populations, --n, .csv.gz ---
# 100 neurons (A: 0-59, B: 60-99) firing at pseudo-random step starts in [0, 1000) ms, dt 0.1, as
# Brian2 stamps them; the last spike comes before 1000 ms, so only --t-ms gives the true duration.
mkdir -p "$work/brian"
"$PY" - "$work/brian/spikes.csv" <<'EOF'
import sys
x = 12345
rows = []
for step in range(9990):              # 0.0 .. 998.9 ms
    for i in range(100):
        x = (x * 6364136223846793005 + 1442695040888963407) % 2**64
        if (x >> 33) % 1000 < (3 if i < 60 else 8) + (20 if step % 250 < 25 else 0):
            rows.append("%d.%d,%d" % (step // 10, step % 10, i))
open(sys.argv[1], "w").write("t_ms,neuron\n" + "\n".join(rows) + "\n")
EOF
# Welch as scipy.signal.welch computes it by default (periodic Hann, 50 % overlap, each segment's
# mean removed, density scaling, one-sided), written out here without nsim's code.
cat >"$work/welch.py" <<'EOF'
import sys, math
spikes, psd_csv, t_ms, binw, seg = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
groups = [("A", 0, 60), ("B", 60, 40)]
nb = int(round(t_ms / binw))
counts = {g: [0] * nb for g, _, _ in groups}
with open(spikes) as f:
    next(f)
    for line in f:
        t, i = line.split(",")
        b = int(math.floor(float(t) / binw + 1e-9))
        for g, first, n in groups:
            if first <= int(i) < first + n and b < nb:
                counts[g][b] += 1
fs = 1000.0 / binw
w = [0.5 - 0.5 * math.cos(2 * math.pi * k / seg) for k in range(seg)]
scale = 1.0 / (fs * sum(v * v for v in w))
def welch(x):
    acc, nseg = [0.0] * (seg // 2 + 1), 0
    for s in range(0, len(x) - seg + 1, seg // 2):
        y = x[s:s + seg]
        m = sum(y) / seg
        y = [(v - m) * wk for v, wk in zip(y, w)]
        for k in range(seg // 2 + 1):
            re = sum(v * math.cos(2 * math.pi * k * j / seg) for j, v in enumerate(y))
            im = sum(v * math.sin(2 * math.pi * k * j / seg) for j, v in enumerate(y))
            acc[k] += re * re + im * im
        nseg += 1
    p = [a * scale / nseg for a in acc]
    for k in range(1, seg // 2 + (seg % 2)):
        p[k] *= 2
    return p
want = {g: welch([c * 1000.0 / (n * binw) for c in counts[g]]) for g, _, n in groups}
rows = [l.strip().split(",") for l in open(psd_csv)]
assert rows[0] == ["f_hz", "A", "B"], rows[0]
bad = 0
for k, r in enumerate(rows[1:]):
    if abs(float(r[0]) - k * fs / seg) > 1e-9 * fs:
        bad += 1
    for j, g in enumerate(("A", "B")):
        got, ref = float(r[j + 1]), want[g][k]
        if abs(got - ref) > 2e-5 * abs(ref) + 1e-12 * max(want[g]):
            bad += 1
            if bad < 4:
                print("f %s Hz, %s: nsim %g, recomputed %g" % (r[0], g, got, ref))
print("frequencies=%d mismatches=%d" % (len(rows) - 1, bad))
sys.exit(1 if bad or len(rows) - 1 != seg // 2 + 1 else 0)
EOF
B="$work/brian/spikes.csv"
if "$NSIM" analyze "$B" --t-ms 1000 --groups A:0-59,B:60-99 --bin 1 --segment 128 --out "$work/brian/a" >/dev/null 2>"$work/err"; then
    out=$("$PY" "$work/welch.py" "$B" "$work/brian/a/psd.csv" 1000 1 128 2>&1) && ok || bad "PSD with --t-ms differs from Welch recomputed: $out"
    if "$PY" -c "import scipy.signal, numpy" 2>/dev/null; then
        "$PY" - "$B" "$work/brian/a/psd.csv" <<'EOF' && ok || bad "PSD with --t-ms differs from scipy.signal.welch"
import sys, numpy as np, scipy.signal as ss
d = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
p = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)
ok = True
for col, (lo, n) in enumerate(((0, 60), (60, 40)), start=1):
    sel = (d[:, 1] >= lo) & (d[:, 1] < lo + n)
    counts = np.histogram(d[sel, 0], bins=1000, range=(0, 1000))[0]
    f, pxx = ss.welch(counts * 1000.0 / n, fs=1000.0, nperseg=128)
    ok &= np.allclose(f, p[:, 0]) and np.allclose(pxx, p[:, col], rtol=2e-5, atol=1e-12 * pxx.max())
sys.exit(0 if ok else 1)
EOF
    else
        skipped "scipy.signal.welch comparison: scipy and numpy are not importable by $PY (the plain-Python Welch above ran)"
    fi
    # stats.csv says what was used and where it came from
    awk -F, 'NR > 1 { printf "%s %s %s %s %s;", $1, $2, $(NF-2), $(NF-1), $NF }' "$work/brian/a/stats.csv" >"$work/got"
    [ "$(cat "$work/got")" = "A 60 1000 --t-ms --groups;B 40 1000 --t-ms --groups;" ] && ok || bad "stats.csv provenance: $(cat "$work/got")"
else
    bad "analyze --t-ms --groups: $(cat "$work/err")"
fi
# without --t-ms the last spike ends the record: a shorter spectrum input, and stats.csv says so
if "$NSIM" analyze "$B" --groups A:0-59,B:60-99 --bin 1 --segment 128 --out "$work/brian/b" >/dev/null 2>"$work/err"; then
    last=$(tail -n 1 "$B" | cut -d, -f1)
    awk -F, 'NR == 2 { print $(NF-2), $(NF-1) }' "$work/brian/b/stats.csv" >"$work/got"
    [ "$(cat "$work/got")" = "$last last spike" ] && ok || bad "stats.csv without --t-ms: '$(cat "$work/got")', want '$last last spike'"
else
    bad "analyze without --t-ms: $(cat "$work/err")"
fi
# the same split from a populations file, and the same file gzip-compressed: the same numbers
printf 'population,model,first,last,size\nA,brian,0,59,60\nB,brian,60,99,40\n' >"$work/brian/pops.csv"
gzip -c "$B" >"$work/brian/spikes.csv.gz"
for variant in "--populations $work/brian/pops.csv" "--groups A:0-59,B:60-99 GZ"; do
    file=$B
    case $variant in *GZ) file=$B.gz variant=${variant% GZ} ;; esac
    # shellcheck disable=SC2086
    rm -rf "$work/brian/c" # one folder for each variant: nsim analyze replaces no file
    if "$NSIM" analyze "$file" --t-ms 1000 $variant --bin 1 --segment 128 --out "$work/brian/c" >/dev/null 2>"$work/err"; then
        cmp -s "$work/brian/a/psd.csv" "$work/brian/c/psd.csv" && ok || bad "psd.csv of $file $variant differs"
        [ "$(cut -d, -f1-16 "$work/brian/a/stats.csv")" = "$(cut -d, -f1-16 "$work/brian/c/stats.csv")" ] && ok || bad "stats.csv of $file $variant differs"
    else
        bad "analyze $file $variant: $(cat "$work/err")"
    fi
done
"$NSIM" analyze "$B" --t-ms 1000 --n 120 --stats --out "$work/brian/d" >/dev/null 2>"$work/err" \
    && [ "$(awk -F, 'NR == 2 { print $1, $2, $3, $NF }' "$work/brian/d/stats.csv")" = "all 120 $(($(wc -l <"$B") - 1)) --n" ] \
    && ok || bad "analyze --n 120: $(cat "$work/err") $(cat "$work/brian/d/stats.csv" 2>/dev/null)"
"$NSIM" plot raster "$B.gz" --t-ms 1000 --groups A:0-59,B:60-99 --out "$work/brian/r.png" >/dev/null 2>"$work/err" \
    && [ -s "$work/brian/r.png" ] && ok || bad "plot raster of a .csv.gz with --groups: $(cat "$work/err")"
refused "--n, --groups and --populations each say which neurons there are" -- analyze "$B" --n 5 --groups A:0-4 --out "$work/out"
refused "--groups 'A:5-1': group A: ids 5-1 must satisfy" -- analyze "$B" --groups A:5-1 --out "$work/out"
refused "--t-ms takes the record's duration" -- analyze "$B" --t-ms -3 --out "$work/out"
refused "nopops.csv: cannot read the populations file" -- analyze "$B" --populations "$work/nopops.csv" --out "$work/out"

# --- the ISI CV's convention and the population Fano factor from the command line, by hand ---
# (the trains of tests/test_stats.c's hand-computed case: see there for the arithmetic)
printf 't_ms,neuron\n1,0\n2,0\n5,1\n11,0\n25,1\n26,1\n27,1\n' >"$work/hand.csv"
for sd in sample population; do
    if "$NSIM" analyze "$work/hand.csv" --stats --t-ms 40 --n 3 --bin 10 --cv-sd $sd --out "$work/hand_$sd" >/dev/null 2>"$work/err"; then
        "$PY" - "$work/hand_$sd/stats.csv" $sd <<'EOF' && ok || bad "stats.csv of the hand-computed trains ($sd): $(cat "$work/hand_$sd/stats.csv")"
import sys, math
rows = [l.strip().split(",") for l in open(sys.argv[1])]
r = dict(zip(rows[0], rows[1]))
cv = {"sample": (math.sqrt(32) / 5 + math.sqrt(361 / 3) / (22 / 3)) / 2,
      "population": (4 / 5 + math.sqrt(722 / 9) / (22 / 3)) / 2}[sys.argv[2]]
want = {"neurons": 3, "spikes": 7, "cv_isi_mean": cv, "cv_neurons": 2, "fano": (11 / 9 + 2) / 2, "fano_neurons": 2,
        "fano_pop": 9 / 7, "bin_ms": 10, "duration_ms": 40}
bad = [k for k, v in want.items() if abs(float(r[k]) - v) > 1e-9 * abs(v)]
bad += [k for k, v in {"cv_sd": sys.argv[2], "duration_from": "--t-ms", "neurons_from": "--n"}.items() if r[k] != v]
sys.exit(1 if bad else 0)
EOF
    else
        bad "analyze --cv-sd $sd: $(cat "$work/err")"
    fi
done
refused "--cv-sd is sample" -- analyze "$work/hand.csv" --cv-sd n-1 --out "$work/out"

# --- ids and times that overflowed: one-line refusals with the value and the allowed range ---
printf 't_ms,neuron\n1.0,3\n2.0,9223372036854775807\n' >"$work/bigid.csv"
refused "bigid.csv:3: neuron id 9223372036854775807 is outside \[0, 9007199254740991\]" -- analyze "$work/bigid.csv" --out "$work/out"
refused "bigid.csv:3: neuron id 9223372036854775807 is outside \[0, 9007199254740991\]" -- plot raster "$work/bigid.csv" --out "$work/out/x.png"
printf 't_ms,neuron\n1.0,3\n2.0,99999999999999999999\n' >"$work/hugeid.csv"
refused "hugeid.csv:3: neuron id 99999999999999999999 is outside \[0, 9007199254740991\]" -- analyze "$work/hugeid.csv" --out "$work/out"
mkdir -p "$work/bigpop"
printf 't_ms,neuron\n1.0,3\n' >"$work/bigpop/spikes.csv"
printf 'population,model,first,last,size\nE,lif,0,9223372036854775806,1\n' >"$work/bigpop/populations.csv"
refused "populations.csv:2: ids 0..9223372036854775806 must satisfy 0 <= first <= last <= 9007199254740991" -- analyze "$work/bigpop/spikes.csv" --out "$work/out"
printf 'population,model,first,last,size\nE,lif,9223372036854775800,9223372036854775806,7\n' >"$work/bigpop/populations.csv"
refused "populations.csv:2: ids 9223372036854775800..9223372036854775806 must satisfy" -- plot raster "$work/bigpop/spikes.csv" --out "$work/out/x.png"
printf 't_ms,neuron\n1.0,9223372036854775807\n' >"$work/src_big.csv"
printf 't_ms,neuron\n1.0,4294967295\n' >"$work/src_u32.csv"
for f in src_big src_u32; do
    printf 'local net = nsim.network{dt = 0.1}\nlocal s = net:spike_source{file = "%s.csv"}\nnet:run(5)\n' $f >"$work/$f.lua"
done
refused "src_big.lua:2: .*src_big.csv:2: neuron id 9223372036854775807 is outside \[0, 9007199254740991\]" -- run "$work/src_big.lua" --out "$work/out"
refused "src_u32.lua:2: spike_source: src_u32.csv: neuron id 4294967295 is outside \[0, 4294967294\]" -- run "$work/src_u32.lua" --out "$work/out"

# --- what an analysis would need is estimated first: refused with the figure and the limit ---
printf 't_ms,neuron\n1.0,0\n1000000000.0,1\n' >"$work/long.csv"
refused "the spectrum would need 8(\.0*)? GB \(100000000[01] bins of 1 ms x 1 population\(s\) x 8 bytes\), more than the limit of 2.15 GB" \
    -- analyze "$work/long.csv" --psd --out "$work/out"
"$NSIM" analyze "$work/long.csv" --stats --out "$work/long" >/dev/null 2>"$work/err" \
    && [ "$(awk -F, 'NR == 2 { print $3, $(NF-2) }' "$work/long/stats.csv")" = "2 1000000000" ] \
    && ok || bad "statistics of a 1e9 ms record stream their bins: $(cat "$work/err")"
printf 't_ms,neuron\n1.0,0\n2.0,200000000\n' >"$work/wide.csv"
refused "spike statistics would need 12.8 GB \(200000001 neurons x 64 bytes \+ 1000 pairs x 56 bytes\), more than the limit of 2.15 GB" \
    -- analyze "$work/wide.csv" --out "$work/out"
refused "the ISI histogram would need 1.6 GB .*more than the limit of 1.05 GB" -- plot isi_hist "$work/wide.csv" --max-memory 1000 --out "$work/out/x.png"

[ "$skip" -eq 0 ] || echo "$skip skipped (see SKIP above)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
