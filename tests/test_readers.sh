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

echo "$pass passed, $fail failed ($skip skipped)"
[ "$fail" -eq 0 ]
