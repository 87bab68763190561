# tests/lib.sh — the start the shell tests share; source it after `set -u`. It sets NSIM (the
# program, ./build/nsim unless given) and ROOT (the source tree, NSIM_SOURCE_ROOT or .), the
# counters pass and fail, and defines check and test_workdir.

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
