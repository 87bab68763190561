#!/usr/bin/env bash
# tools/pynn_examples.sh PYNN_CHECKOUT [BUILD] — runs PyNN's own examples (PYNN_CHECKOUT/examples/*.py,
# from a clone of PyNN's repository at the tag of the installed PyNN: 0.10.1 on Debian) on
# pyNN.nsim, each in a scratch folder with a time limit, and writes a table of what ran, what
# pyNN.nsim refused (NotImplementedError, with its message) and what failed otherwise, to
# pynn_examples.csv in the current folder and to the terminal. The examples are run where they
# are, never copied into nsim. docs/pynn.md gives the last table. BUILD defaults to build/.
set -u
if [ $# -lt 1 ] || [ ! -d "$1/examples" ]; then
    echo "usage: tools/pynn_examples.sh PYNN_CHECKOUT [BUILD]  (a clone of PyNN's repository, with examples/)" >&2
    exit 2
fi
src=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${2:-$root/build}" && pwd)
py=/usr/bin/python3
limit=${PYNN_EXAMPLE_SECONDS:-300}
path="$build/python"
[ -f "$build/python/pyNN/nsim/__init__.py" ] || path="$path:$root/python" # nsim stays the build's
export PYTHONPATH="$path${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg
out=$PWD/pynn_examples.csv
scratch=$(mktemp -d "${TMPDIR:-/tmp}/pynn-examples-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
echo "example,result,seconds,detail" >"$out"
ran=0 refused=0 failed=0
jobs=()
for ex in "$src"/examples/*.py; do
    case $(basename "$ex" .py) in
    VAbenchmarks) jobs+=("$ex|CUBA" "$ex|COBA") ;; # it takes the benchmark's name
    *) jobs+=("$ex|") ;;
    esac
done
for job in "${jobs[@]}"; do
    ex=${job%|*}
    args=${job#*|}
    name=$(basename "$ex" .py)${args:+ $args}
    dir="$scratch/${name// /_}"
    mkdir -p "$dir"
    start=$(date +%s.%N)
    (cd "$dir" && timeout "$limit" "$py" "$ex" nsim $args >"$dir/log" 2>&1)
    rc=$?
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    detail=$(grep -E "^[A-Za-z_.]*(Error|Exception)[:]|^NotImplementedError" "$dir/log" | tail -1 | tr ',\n' ';\040' | cut -c1-200)
    if [ $rc -eq 0 ]; then
        result=ran; ran=$((ran + 1)); detail=""
    elif [ $rc -eq 124 ]; then
        result=timeout; failed=$((failed + 1)); detail="over $limit s"
    elif grep -q "^NotImplementedError" "$dir/log"; then
        result=refused; refused=$((refused + 1))
    else
        result=failed; failed=$((failed + 1))
        [ -n "$detail" ] || detail=$(tail -1 "$dir/log" | tr ',\n' ';\040' | cut -c1-200)
    fi
    echo "$name,$result,$secs,\"$detail\"" >>"$out"
    printf '%-40s %-8s %6s s  %s\n' "$name" "$result" "$secs" "$detail"
done
echo "$ran ran, $refused refused, $failed failed (table: $out)"
