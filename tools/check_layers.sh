#!/bin/sh
# tools/check_layers.sh [ROOT] — the layers point one way: every #include "DIR/..." in a source
# file names a folder at or below the file's own (docs/design.md, "Layers, one way"); folders on
# one level (analysis and train; cli and python) do not include each other. Prints each breach; the last line is
# "N passed, N failed" (N the files checked), so the suite counts it.
root=${1:-${NSIM_SOURCE_ROOT:-.}}
cd "$root" || exit 1
rank() {
    case $1 in
    base) echo 0 ;; solvers) echo 1 ;; models) echo 2 ;; analysis | train) echo 3 ;;
    sim) echo 4 ;; io) echo 5 ;; lua) echo 6 ;; cli | python) echo 7 ;; *) echo -1 ;;
    esac
}
pass=0 fail=0
for f in base/*.[ch] solvers/*.[ch] models/*.[ch] analysis/*.[ch] train/*.[ch] sim/*.[ch] io/*.[ch] lua/*.[ch] cli/*.[ch] python/*.[ch]; do
    [ -f "$f" ] || continue
    own=${f%%/*}
    r=$(rank "$own")
    bad=0
    for dir in $(sed -n 's|^#include "\([a-z_]*\)/.*|\1|p' "$f" | sort -u); do
        t=$(rank "$dir")
        [ "$t" -lt 0 ] && continue
        if [ "$t" -gt "$r" ] || { [ "$t" -eq "$r" ] && [ "$dir" != "$own" ]; }; then
            echo "FAIL: $f includes $dir/ (a layer above or beside $own/)"
            bad=1
        fi
    done
    if [ $bad -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
