#!/bin/bash
# tests/test_prefetch.sh — the engine's requests for table lines are in the nsim program: gcc 12
# finds a helper made only of __builtin_prefetch calls free of effects and drops every call to it
# unless it is inlined first (sim/pop.c). That once took every prefetch out of ns_pop_step and
# cost the microcircuit 10–30 % with every test green. Counts prefetch instructions in the
# functions that ask for lines (disassembled with objdump); skipped, and says why, without it.
set -u
. "$(dirname "$0")/lib.sh"
command -v objdump >/dev/null || { echo "test_prefetch: skipped: no objdump (binutils)"; exit 77; }
test_workdir prefetch
objdump -d --no-show-raw-insn "$NSIM" >"$work/dis" || { echo "objdump could not read $NSIM"; exit 1; }
# ns_pop_step: the held runs' lines (release); ns_proj_deliver: each spike's row two ahead;
# ns_proj_prefetch: the rows of every projection's spikes; lif_apply: the event lists' targets
for fn in ns_pop_step ns_proj_deliver ns_proj_prefetch lif_apply; do
    n=$(awk -v f="<$fn>:" '$2 == f { on = 1; next } /^[0-9a-f]+ <.*>:$/ { on = 0 } on && /prefetch/ { n++ }
        END { print n + 0 }' "$work/dis")
    check "$fn asks for lines ahead ($n prefetch instructions)" test "$n" -gt 0
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
