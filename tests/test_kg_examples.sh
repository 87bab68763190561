#!/bin/bash
# tests/test_kg_examples.sh — the Klein–Gordon examples run shortened and their CSVs are checked:
# each theory column is recomputed here (awk, from the example's stated parameters) and each
# measured column is compared with it within the tolerance named at its check.
set -u
NSIM=${NSIM:-./build/nsim}
ROOT=${NSIM_SOURCE_ROOT:-.}
work=$(mktemp -d "${TMPDIR:-/tmp}/nsim-kgex-XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
    local what=$1
    shift
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi
}
run_example() { # run_example NAME SET...: runs examples/NAME.lua into $work/NAME
    local name=$1
    shift
    local sets=()
    for s in "$@"; do sets+=(--set "$s"); done
    "$NSIM" run "$ROOT/examples/$name.lua" --out "$work/$name" --quiet "${sets[@]}" >"$work/$name.log" 2>&1 ||
        { echo "examples/$name.lua exited $?"; cat "$work/$name.log"; }
}

# --- kg_dispersion: leapfrog's discrete relation, the measured peak within one frequency bin ---
# 32 x 32, h 100 µm, c 100 µm/ms, m 1 rad/ms, dt 0.1 ms; t_ms=100 sampled every 0.2 ms:
# bin = 2 pi / 100 rad/ms.
run_example kg_dispersion t_ms=100
d="$work/kg_dispersion/dispersion.csv"
check "kg_dispersion: dispersion.csv has its header and 13 modes" \
    awk -F, 'NR == 1 { ok = $0 == "kx,ky,omega_measured,omega_theory" } END { exit !(ok && NR == 14) }' "$d"
check "kg_dispersion: omega_theory is leapfrog's sin(w dt/2) = (dt/2) w(k) (to 1e-8)" \
    awk -F, 'NR > 1 { h = 100; c = 100; m = 1; dt = 0.1
        w2 = m * m + 4 * c * c / (h * h) * (sin($1 * h / 2) ^ 2 + sin($2 * h / 2) ^ 2)
        x = dt / 2 * sqrt(w2); w = 2 / dt * atan2(x, sqrt(1 - x * x))
        if (!((w - $4) ^ 2 < 1e-16 * w * w)) { print "theory", $0, w; bad = 1 } } END { exit bad }' "$d"
check "kg_dispersion: omega_measured within one bin (2 pi / 100 rad/ms) of the theory" \
    awk -F, 'NR > 1 { bin = 2 * 3.141592653589793 / 100
        if (!(($3 - $4) ^ 2 < bin * bin)) { print "measured", $0; bad = 1 } } END { exit bad }' "$d"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
