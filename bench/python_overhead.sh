#!/usr/bin/env bash
# bench/python_overhead.sh — what the Python layer costs: CUBA (examples/cuba.lua / .py) and
# Brunel (examples/brunel.lua / .py) run from Lua and from Python, alternately, R times each, and
# their simulate seconds (run.json's simulate_s, the engine's own clock) compared as a ratio of
# medians. Also the whole wall time of each, build and start-up included. The two must also
# write the same spikes (checked each time).
#   bench/python_overhead.sh [--repeats R] [--threads T]      (defaults 5, 1; about 5 minutes)
set -eu
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
repeats=5 threads=1
while [ $# -gt 0 ]; do
    case "$1" in
        --repeats) repeats=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        *) echo "usage: bench/python_overhead.sh [--repeats R] [--threads T]" >&2; exit 2 ;;
    esac
done
nsim="$root/build/nsim"
py=/usr/bin/python3
export PYTHONPATH="$root/build/python"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "commit $(git -C "$root" rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), threads $threads"
for case in "cuba t_ms=20000" "brunel t_ms=3000 scale=0.5"; do
    set -- $case
    name=$1; shift
    sets=""
    for s in "$@"; do sets="$sets --set $s"; done
    : >"lua.$name" >"py.$name" >"wall_lua.$name" >"wall_py.$name"
    for r in $(seq "$repeats"); do
        t0=$(date +%s.%N)
        "$nsim" run "$root/examples/$name.lua" $sets --threads "$threads" --out "l$r" --quiet >/dev/null
        t1=$(date +%s.%N)
        "$py" "$root/examples/$name.py" $sets --threads "$threads" --out "p$r" >/dev/null
        t2=$(date +%s.%N)
        cmp -s "l$r/spikes.csv" "p$r/spikes.csv" || { echo "$name: Lua and Python spikes differ" >&2; exit 1; }
        "$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['simulate_s'])" "l$r/run.json" >>"lua.$name"
        "$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['simulate_s'])" "p$r/run.json" >>"py.$name"
        awk "BEGIN { print $t1 - $t0 }" >>"wall_lua.$name"
        awk "BEGIN { print $t2 - $t1 }" >>"wall_py.$name"
        rm -rf "l$r" "p$r"
    done
    "$py" - "$name" "$repeats" <<'PY'
import statistics, sys
name, r = sys.argv[1], sys.argv[2]
rd = lambda f: [float(x) for x in open(f)]
sl, sp = rd("lua." + name), rd("py." + name)
wl, wp = rd("wall_lua." + name), rd("wall_py." + name)
ml, mp = statistics.median(sl), statistics.median(sp)
print(f"{name}: simulate_s median Lua {ml:.3f} s, Python {mp:.3f} s, Python/Lua {mp / ml:.3f} "
      f"(min {min(sl):.3f} / {min(sp):.3f}); whole run Lua {statistics.median(wl):.2f} s, "
      f"Python {statistics.median(wp):.2f} s; {r} runs each, spikes identical")
PY
done
