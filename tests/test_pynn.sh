#!/usr/bin/env bash
# tests/test_pynn.sh — runs tests/test_pynn.py (pyNN.nsim against pyNN.brian2 and closed forms)
# with Debian's python3, `import nsim` from NSIM_PYTHONPATH and pyNN.nsim from the build tree
# (build/python/pyNN) or, before the build copies it, from the source tree's python/. Skips, says
# why and counts it, without numpy, the module, PyNN or Neo; without Brian2 the comparison alone
# is skipped (counted by the test).
py=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "test_pynn: skipped: $*"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
"$py" -c "import numpy" 2>/dev/null || skip "$py has no numpy (apt-get install python3-numpy)"
if [ -z "${NSIM_PYTHONPATH:-}" ] || [ ! -d "$NSIM_PYTHONPATH/nsim" ]; then
    skip "the nsim module was not built (python3-dev missing at set-up?)"
fi
"$py" -c "import pyNN" 2>/dev/null || skip "$py has no PyNN (apt-get install python3-pynn)"
"$py" -c "import neo" 2>/dev/null || skip "$py has no Neo (apt-get install python3-neo)"
core=$(ls "$NSIM_PYTHONPATH"/nsim/_core*.so 2>/dev/null | head -1)
if [ -n "$core" ] && ldd "$core" | grep -q libasan; then
    export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" # the interpreter's own
fi
path="$NSIM_PYTHONPATH"
[ -f "$NSIM_PYTHONPATH/pyNN/nsim/__init__.py" ] || path="$path:$here/../python" # nsim stays the build's
export PYTHONPATH="$path${PYTHONPATH:+:$PYTHONPATH}"
cd "${TMPDIR:-/tmp}" || exit 1
exec "$py" "$here/test_pynn.py"
