#!/usr/bin/env bash
# tests/test_python.sh — runs tests/test_python.py (the `import nsim` module against the nsim
# command and independent readers) with Debian's python3 and the module built in NSIM_PYTHONPATH.
# Without numpy, or without the module (a build without the Python headers), it skips, says so
# and counts it. In a sanitizer build the extension needs the sanitizer runtime loaded first.
py=/usr/bin/python3
if ! "$py" -c "import numpy" 2>/dev/null; then
    echo "test_python: skipped: $py has no numpy (apt-get install python3-numpy)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
if [ -z "${NSIM_PYTHONPATH:-}" ] || [ ! -d "$NSIM_PYTHONPATH/nsim" ]; then
    echo "test_python: skipped: the module was not built (python3-dev missing at set-up?)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
core=$(ls "$NSIM_PYTHONPATH"/nsim/_core*.so 2>/dev/null | head -1)
if [ -n "$core" ] && ldd "$core" | grep -q libasan; then
    export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" # the interpreter's own
fi
export PYTHONPATH="$NSIM_PYTHONPATH${PYTHONPATH:+:$PYTHONPATH}"
exec "$py" "$(dirname "$0")/test_python.py"
