#!/usr/bin/env bash
# tests/test_fuzz.sh — each libFuzzer harness of fuzz/ for a few thousand executions from the
# generated seeds: no crash, no sanitizer report, no hang. Builds them first (make fuzz-build, in
# build-fuzz/ of the source tree); without clang's libFuzzer the test is skipped, saying why.
set -u
source "$(dirname "$0")/lib.sh"
RUNS=${NSIM_FUZZ_TEST_RUNS:-3000}
test_workdir fuzz

# libFuzzer is there when clang links a harness of nothing with -fsanitize=fuzzer
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
    > "$work/probe.c"
if ! command -v clang >/dev/null 2>&1 ||
   ! clang -fsanitize=fuzzer "$work/probe.c" -o "$work/probe" >"$work/probe.log" 2>&1; then
    echo "test_fuzz: skipped: clang with libFuzzer is not installed (apt-get install clang libclang-rt-14-dev)"
    exit 77
fi

build=$ROOT/build-fuzz
if ! make -C "$ROOT" fuzz-build >"$work/build.log" 2>&1; then
    echo "FAIL: make fuzz-build"
    tail -30 "$work/build.log"
    echo "0 passed, 1 failed"
    exit 1
fi
pass=$((pass + 1))

sh "$ROOT/fuzz/make_corpus.sh" "$build" "$work/seeds" >"$work/seeds.log" 2>&1 ||
    { echo "FAIL: make_corpus.sh"; cat "$work/seeds.log"; fail=$((fail + 1)); }
for h in $(sed -n "s/^ *'\(fuzz_[a-z_]*\)',\$/\1/p" "$ROOT/fuzz/meson.build"); do
    mkdir -p "$work/corpus/$h" "$work/seeds/$h"
    dict=()
    [ -f "$ROOT/fuzz/$h.dict" ] && dict=(-dict="$ROOT/fuzz/$h.dict")
    "$build/fuzz/$h" -runs="$RUNS" -seed=1 -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        "${dict[@]}" -artifact_prefix="$work/$h-" "$work/corpus/$h" "$work/seeds/$h" \
        >"$work/$h.log" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && grep -q "Done $RUNS runs" "$work/$h.log"; then
        pass=$((pass + 1))
        echo "$h: $RUNS executions, $(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$h.log" | sed 's/.*\(cov: [0-9]*\).*/\1/')"
    else
        fail=$((fail + 1))
        echo "FAIL: $h exited $rc:"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^Base64' "$work/$h.log" | head -8
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
