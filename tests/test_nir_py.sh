#!/bin/bash
# tests/test_nir_py.sh — runs tests/test_nir.py (NIR files written by hand with h5py, run through
# nsim and checked against numpy) with the system's python3. Without numpy or h5py the test is
# skipped (exit 77, which meson and tests/summarize.sh count as skipped) and says why.
py=/usr/bin/python3
for mod in numpy h5py; do
    if ! "$py" -c "import $mod" 2>/dev/null; then
        echo "test_nir_py: skipped: $py has no $mod (apt-get install python3-$mod)"
        exit 77
    fi
done
exec "$py" "$(dirname "$0")/test_nir.py"
