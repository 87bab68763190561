#!/bin/sh
# tests/summarize.sh BUILD_DIR [BUILD_DIR ...] — one line per test program from the last `meson
# test` run in each BUILD_DIR (its tally, or why it has none; the folder named after the program
# from the second on), then the total over all of them, "N passed, N failed", as the last line.
# Exits 1 if anything failed or no test ran.
#
# Counting: each test program prints "N passed, N failed" as its last line; those are summed.
# A program that crashed, timed out or failed without a tally counts as 1 failed; one that
# printed a tally with 0 failed but still exited non-zero (a sanitizer report at exit, say) adds
# 1 failed; one that passed without printing a tally (a script) counts as 1 passed.
#
# Why python3 and not awk: the robust source is meson-logs/testlog.json (one JSON object per test,
# its stdout in it), whose strings are JSON-escaped, which awk cannot decode reliably, while
# testlog.txt's layout changes between meson versions. Meson is itself a python3 program, so
# python3 is there wherever `meson test` ran.
set -eu
[ $# -gt 0 ] || set -- build
for build in "$@"; do
    if [ ! -f "$build/meson-logs/testlog.json" ]; then
        echo "summarize: no $build/meson-logs/testlog.json: the suite did not run"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
exec "$py" - "$@" <<'EOF'
import json, re, sys

tally_re = re.compile(r'^\s*(\d+) passed, (\d+) failed\s*$')
passed = failed = programs = 0
lines = [(k, d, line) for k, d in enumerate(sys.argv[1:])
         for line in open(d + '/meson-logs/testlog.json', encoding='utf-8', errors='replace')]
for k, build, line in lines:
    line = line.strip()
    if not line:
        continue
    t = json.loads(line)
    name, result, rc = t.get('name', '?'), t.get('result', '?'), t.get('returncode')
    if k:
        name = f'{name} ({build})'
    if result == 'SKIP':
        print(f'{name:<32} skipped')
        continue
    programs += 1
    tally = None
    for out in reversed((t.get('stdout') or '').splitlines()):
        if out.strip():
            m = tally_re.match(out)
            tally = (int(m.group(1)), int(m.group(2))) if m else None
            break
    if result == 'TIMEOUT':
        why = 'TIMEOUT'
    elif rc is not None and rc < 0:
        why = f'CRASHED (signal {-rc})'
    elif result != 'OK':
        why = f'CRASHED (exit {rc}, no tally)' if tally is None else f'exit {rc}'
    else:
        why = ''
    if tally is None:
        p, f = (1, 0) if not why else (0, 1)
        text = 'ok (no tally)' if not why else why
    else:
        p, f = tally
        text = f'{p} passed, {f} failed'
        if why and f == 0:
            f = 1
            text += f' but {why}: counted 1 failed'
        elif why and not why.startswith('exit'):
            text += f' ({why})'
    passed += p
    failed += f
    print(f'{name:<32} {text}')
if programs == 0:
    print('summarize: no test ran')
    failed = max(failed, 1)
print(f'{passed} passed, {failed} failed')
sys.exit(1 if failed else 0)
EOF
