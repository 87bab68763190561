# tests/tally.py — what the Python tests share: count checks, say which failed, and close with the
# line tests/summarize.sh reads ("N passed, N failed"). Imported from the test's own folder.
counts = {"passed": 0, "failed": 0}


def check(cond, what):
    """Count one check; a failed one is printed with what it checked."""
    if cond:
        counts["passed"] += 1
    else:
        counts["failed"] += 1
        print("check failed:", what)


def summary():
    """Print "N passed, N failed"; the exit status: 1 when any check failed."""
    print("%d passed, %d failed" % (counts["passed"], counts["failed"]))
    return 1 if counts["failed"] else 0
