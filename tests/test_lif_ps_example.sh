#!/bin/bash
# tests/test_lif_ps_example.sh — examples/lif_ps_network.lua (CUBA of lif beside CUBA of lif_ps)
# runs and its records are checked: the printed rates against rates recounted here from the spike
# files, lif_ps's spike times (12 decimals, off the grid, in time order) against a run at half
# the step (the same spikes to 1e-9 ms), lif's records unchanged in form, the two rates close.
set -u
. "$(dirname "$0")/lib.sh"
test_workdir lifpsex

run_example lif_ps_network n=2000 t_ms=500
d="$work/lif_ps_network"
# rates per population, recounted from the spike files with the ranges of populations.csv
recount='NR == FNR { if (FNR > 1) { lo[$1] = $3; hi[$1] = $4; size[$1] = $5 }; next }
    FNR > 1 { for (p in lo) if ($2 >= lo[p] && $2 <= hi[p]) c[p]++ }
    END { for (p in lo) printf "%s %.4f\n", p, c[p] / size[p] / 0.5 }'
awk -F, "$recount" "$d/populations.csv" "$d/spikes.csv" "$d/spikes_ps.csv" >"$work/recount"
check "the printed rates are the rates recounted from spikes.csv and spikes_ps.csv (4 decimals)" \
    awk -v printed="$work/lif_ps_network.log" '
        { r[$1] = $2 }
        END { n = 0
            while ((getline line < printed) > 0) {
                split(line, f, " ")
                m = f[1]; tag = m == "lif_ps" ? "_ps" : ""
                if (m != "lif" && m != "lif_ps") continue
                e = f[6]; i = f[9]; all = f[3]; n++
                ne = r["E" tag]; ni = r["I" tag]; na = (ne * 1600 + ni * 400) / 2000
                if (e != sprintf("%.4f", ne) || i != sprintf("%.4f", ni) || (all - na) ^ 2 > 1e-8) {
                    print "printed", line, "recounted", ne, ni, na; bad = 1 } }
            exit bad || n != 2 }' "$work/recount"
check "the two networks fire (above 3 Hz) and their mean rates agree within 15 %" \
    awk '{ r[$1] = $2 } END { a = (r["E"] * 4 + r["I"]) / 5; b = (r["E_ps"] * 4 + r["I_ps"]) / 5
        d = (a - b) / b; if (d < 0) d = -d; print "lif", a, "lif_ps", b; exit !(a > 3 && b > 3 && d < 0.15) }' "$work/recount"
check "spikes_ps.csv: every time with 12 decimals, in time order, nearly all off the grid of 0.1 ms" \
    awk -F, 'NR == 1 { ok = $0 == "t_ms,neuron"; next }
        { nf = split($1, f, ".")
          if (nf != 2 || f[1] !~ /^[0-9]+$/ || f[2] !~ /^[0-9]+$/ || length(f[2]) != 12 || $1 + 0 < last) {
              if (bad++ < 5) print "bad", $0 }
          last = $1 + 0; x = $1 * 10; on += (x - int(x + 0.5)) ^ 2 < 1e-12; n++ }
        END { print n, "spikes,", on, "on the grid"; exit !(ok && !bad && n > 1000 && on < n / 100) }' "$d/spikes_ps.csv"
check "spikes.csv (lif): grid times as before, one decimal at dt 0.1" \
    awk -F, 'NR == 1 { ok = $0 == "t_ms,neuron"; next } $1 !~ /^[0-9]+(\.[0-9])?$/ { if (bad++ < 5) print "bad", $0 }
        END { exit !(ok && !bad && NR > 1000) }' "$d/spikes.csv"
mv "$d" "$work/dt01"
mv "$work/lif_ps_network.log" "$work/dt01.log"
run_example lif_ps_network n=2000 t_ms=500 dt=0.05
check "lif_ps: the same spikes at dt 0.05 as at dt 0.1, times within 1e-9 ms" \
    awk -F, 'NR == FNR { t[FNR] = $1; id[FNR] = $2; n = FNR; next }
        FNR > 1 { m = FNR; d = $1 - t[FNR]; if (id[FNR] != $2 || d * d > 1e-18) { print "differ", FNR, $0, t[FNR], id[FNR]; bad = 1; exit } }
        END { exit bad || m != n }' "$work/dt01/spikes_ps.csv" "$d/spikes_ps.csv"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
