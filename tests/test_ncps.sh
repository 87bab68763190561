#!/usr/bin/env bash
# tests/test_ncps.sh — runs tests/test_ncps.py (ncps state_dicts through nsim and back) with the
# system's python3 and numpy; without numpy the test is skipped, and says so and counts it.
py=/usr/bin/python3
if ! "$py" -c "import numpy" 2>/dev/null; then
    echo "test_ncps: skipped: $py has no numpy (apt-get install python3-numpy)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
exec "$py" "$(dirname "$0")/test_ncps.py"
