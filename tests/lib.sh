# tests/lib.sh — the start the shell tests share; source it after `set -u`. It sets NSIM (the
# program, ./build/nsim unless given) and ROOT (the source tree, NSIM_SOURCE_ROOT or .), the
# counters pass and fail, and defines check, test_workdir and run_example (bash).

NSIM=${NSIM:-./build/nsim}
ROOT=${NSIM_SOURCE_ROOT:-.}
pass=0 fail=0

check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
    local what=$1
    shift
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi
}

test_workdir() { # test_workdir NAME: sets work to a new folder nsim-NAME-XXXXXX, removed on exit
    work=$(mktemp -d "${TMPDIR:-/tmp}/nsim-$1-XXXXXX")
    trap 'rm -rf "$work"' EXIT
}
run_example() { # run_example NAME SET...: runs examples/NAME.lua into $work/NAME (its log in $work/NAME.log)
    local name=$1
    shift
    local sets=()
    for s in "$@"; do sets+=(--set "$s"); done
    "$NSIM" run "$ROOT/examples/$name.lua" --out "$work/$name" --quiet "${sets[@]}" >"$work/$name.log" 2>&1 ||
        { echo "examples/$name.lua exited $?"; cat "$work/$name.log"; }
}
