#!/bin/bash
# tests/test_microcircuit.sh — examples/microcircuit.lua (PD14) at scale 0.05 for 300 ms: each
# projection's synapse count against the reference's formula recomputed here (awk: the
# probabilities and sizes typed in again), the statistics table recomputed from spikes.csv
# (rates, ISI CVs, 3 ms synchrony over the window after the warm-up), the same spikes for 1 and
# 2 threads, and the figure read back (tests/bars_figcheck.c): each bar's length against its rate.
# The redrawn weights and delays themselves are checked from the tables in tests/test_redraw.c.
set -u
. "$(dirname "$0")/lib.sh"
test_workdir pd14

run_example microcircuit scale=0.05 t_ms=300 warmup_ms=50 sample=40 raster_ms=100
m="$work/microcircuit"
check "microcircuit: the run wrote its records" test -s "$m/spikes.csv" -a -s "$m/synapses.csv" -a -s "$m/microcircuit_stats.csv" -a -s "$m/microcircuit.png"

# --- synapse counts: N = round_half_even(log(1 - p) / log((Ni Nj - 1) / (Ni Nj)) * s * s) --------
check "microcircuit: synapses.csv holds 64 projections, each N the formula's and each made" \
    awk -F, -v s=0.05 'BEGIN {
        split("20683 5834 21915 5479 4850 1065 14395 2948", N, " ")
        split("L23E L23I L4E L4I L5E L5I L6E L6I", name, " ")
        split("0.1009 0.1689 0.0437 0.0818 0.0323 0.0 0.0076 0.0 " \
              "0.1346 0.1371 0.0316 0.0515 0.0755 0.0 0.0042 0.0 " \
              "0.0077 0.0059 0.0497 0.135 0.0067 0.0003 0.0453 0.0 " \
              "0.0691 0.0029 0.0794 0.1597 0.0033 0.0 0.1057 0.0 " \
              "0.1004 0.0622 0.0505 0.0057 0.0831 0.3726 0.0204 0.0 " \
              "0.0548 0.0269 0.0257 0.0022 0.06 0.3158 0.0086 0.0 " \
              "0.0156 0.0066 0.0211 0.0166 0.0572 0.0197 0.0396 0.2252 " \
              "0.0364 0.001 0.0034 0.0005 0.0277 0.008 0.0658 0.1443", p, " ")
        for (i = 1; i <= 8; i++) for (j = 1; j <= 8; j++) {
            prod = N[i] * N[j]; x = log(1 - p[(i - 1) * 8 + j]) / log((prod - 1) / prod) * s * s
            f = int(x); d = x - f; if (d > 0.5 || (d == 0.5 && f % 2 == 1)) f++
            want[name[i] "," name[j]] = f; total += f
        }
    }
    NR > 1 { k = $1 "," $2; if (!(k in want) || $3 != want[k] || $4 != want[k]) { print "projection", k, $3, $4, "want", want[k]; bad = 1 }
             seen++; made += $4 }
    END { if (seen != 64) print seen, "projections"; exit !(!bad && seen == 64 && made == total && total > 700000) }' "$m/synapses.csv"
made=$(awk -F, 'NR > 1 { s += $4 } END { print s }' "$m/synapses.csv")
check "microcircuit: run.json's synapses ($made recurrent, no thalamus) are synapses.csv's sum" \
    grep -q "\"synapses\": $made[,}]" "$m/run.json"
check "microcircuit: the populations are 0.05 of PD14's sizes, rounded half to even" \
    awk -F, 'BEGIN { split("1034 292 1096 274 242 53 720 147", n, " ") }
             NR > 1 { if ($5 != n[NR - 1]) bad = 1 } END { exit !(!bad && NR == 9) }' "$m/populations.csv"

# --- the statistics over (50, 350] ms, recomputed in whole steps of 0.1 ms ----------------------
awk -F, -v w0=500 -v w1=3500 'FNR == 1 { next }
    FILENAME ~ /populations/ { np++; pn[np] = $1; lo[np] = $3; sz[np] = $5; M = (np == 1 || $5 < M) ? $5 : M; next }
    { step = int($1 * 10 + 0.5); if (step <= w0 || step > w1) next
      id = $2 + 0; c[id]++
      if (c[id] > 1) { isi = (step - last[id]) / 10; s1[id] += isi; s2[id] += isi * isi }
      last[id] = step
      for (i = np; i >= 1; i--) if (id >= lo[i]) break
      if (id - lo[i] < (M < 1000 ? M : 1000)) b[i, int((step - w0 - 1) / 30)]++ }
    END {
        nb = int((w1 - w0) / 30); T = (w1 - w0) / 10000
        for (i = 1; i <= np; i++) {
            r = 0; cs = 0; cn = 0
            for (u = 0; u < sz[i]; u++) { id = lo[i] + u; r += c[id] / T
                if (c[id] >= 3) { k = c[id] - 1; mu = s1[id] / k; v = (s2[id] - k * mu * mu) / (k - 1); cs += sqrt(v > 0 ? v : 0) / mu; cn++ } }
            x1 = 0; x2 = 0; for (k = 0; k < nb; k++) { x1 += b[i, k]; x2 += b[i, k] ^ 2 }
            mb = x1 / nb; sy = mb > 0 ? (x2 - nb * mb * mb) / (nb - 1) / mb : "nan"
            printf "%s %d %.12g %s %d %s %d\n", pn[i], sz[i], r / sz[i], cn ? sprintf("%.12g", cs / cn) : "nan", cn, sy == "nan" ? sy : sprintf("%.12g", sy), (M < 1000 ? M : 1000)
        }
    }' "$m/populations.csv" "$m/spikes.csv" >"$work/stats_awk.txt"
check "microcircuit: microcircuit_stats.csv's rates, CVs and synchrony are spikes.csv's (recomputed)" \
    awk -F'[ ,]' 'NR == FNR { want[$1] = $0; next }
        FNR > 1 { split(want[$1], w, " "); if (w[1] != $1) { print "no", $1; bad = 1; next }
                  for (k = 2; k <= 7; k++) { a = w[k]; g = $k
                      if (a == "nan" || g == "nan") { if (a != g) { print $1, k, g, a; bad = 1 } }
                      else if ((a - g) ^ 2 > 1e-18 * (1 + a * a)) { print $1, k, g, a; bad = 1 } }
                  n++ }
        END { exit !(!bad && n == 8) }' "$work/stats_awk.txt" "$m/microcircuit_stats.csv"
check "microcircuit: every population fires and the deep layers fire faster than L2/3E (PD14's pattern)" \
    awk -F, 'NR > 1 { r[$1] = $3 } END { exit !(r["L23E"] > 0 && r["L5E"] > 2 * r["L23E"] && r["L6I"] > r["L6E"] && r["L4I"] > r["L4E"]) }' "$m/microcircuit_stats.csv"
check "microcircuit: neuron_stats.csv has a row per neuron, and its mean rates are the table's" \
    awk -F, 'NR == FNR { if (FNR > 1) want[$1] = $3; next }
             FNR > 1 { s[$2] += $3; n[$2]++; rows++ }
             END { for (p in want) if ((s[p] / n[p] - want[p]) ^ 2 > 1e-18) bad = 1; exit !(!bad && rows == 3858) }' \
        "$m/microcircuit_stats.csv" "$m/neuron_stats.csv"

# --- the same network and spikes on 2 threads -----------------------------------------------------
"$NSIM" run "$ROOT/examples/microcircuit.lua" --out "$work/two" --quiet --threads 2 --set scale=0.05 --set t_ms=300 \
    --set warmup_ms=50 --set sample=40 --set raster_ms=100 >"$work/two.log" 2>&1
check "microcircuit: 2 threads give the same spikes and statistics" \
    cmp -s "$m/spikes.csv" "$work/two/spikes.csv"
check "microcircuit: ... and the same statistics table" cmp -s "$m/microcircuit_stats.csv" "$work/two/microcircuit_stats.csv"
# the example gives each thread whole populations (split = "populations"); cut into a block per
# thread instead, the spikes are the same again
"$NSIM" run "$ROOT/examples/microcircuit.lua" --out "$work/two_units" --quiet --threads 2 --set scale=0.05 --set t_ms=300 \
    --set warmup_ms=50 --set sample=40 --set raster_ms=100 --set split=units >"$work/two_units.log" 2>&1
check "microcircuit: 2 threads with split = units give the same spikes" cmp -s "$m/spikes.csv" "$work/two_units/spikes.csv"

# --- the figure: 1600 x 900, and each population's bar as long as its rate ------------------------
"${NSIM_BARS_FIGCHECK:-$(dirname "$NSIM")/tests/bars_figcheck}" "$m/microcircuit.png" 8 1056 >"$work/fig.txt" 2>&1
awk -F, 'NR > 1 && NR <= 9 { printf " %s", $3 } END { printf "\n" }' "$m/microcircuit_stats.csv" >"$work/rates.txt"
check "microcircuit.png: 1600 x 900 with 8 bars whose lengths go as the rates (within 1 px + 2 %)" \
    awk 'NR == FNR { for (g = 0; g < 8; g++) r[g] = $(g + 1); next }
         { if ($1 != 1600 || $2 != 900) exit 1
           for (g = 0; g < 8; g++) { px[g] = $(3 + g); if (px[g] < 3) exit 1 }
           for (g = 1; g < 8; g++) { d = (px[g] / r[g]) / (px[0] / r[0]) - 1; tol = 0.02 + 1 / px[g] + 1 / px[0]
                                     if (d > tol || -d > tol) exit 1 }
           ok = 1 }
         END { exit !ok }' "$work/rates.txt" "$work/fig.txt" || cat "$work/fig.txt" "$work/rates.txt"

# --- bad input: a redraw range with nothing in it is refused in one line ------------------------
printf 'local net = nsim.network{dt = 0.1}\nlocal d = nsim.normal(1, 0.1, {min = 5})\n' >"$work/bad.lua"
"$NSIM" run "$work/bad.lua" --out "$work/bad" --quiet >"$work/bad.out" 2>"$work/bad.err"
rc=$?
check "nsim.normal with an empty redraw range: status 2, one line naming the line and the range" \
    test $rc = 2 -a "$(wc -l <"$work/bad.err")" = 1
check "... the message" grep -q 'bad.lua:2: nsim.normal(1, 0.1, {min = 5, max = inf}): the redraw range must hold' "$work/bad.err"

"$NSIM" run "$ROOT/examples/microcircuit.lua" --set scale=2 --out "$work/big" --quiet >"$work/big.out" 2>"$work/big.err"
rc=$?
check "microcircuit with scale=2: status 2, one line naming the value and the range, no output folder" \
    test $rc = 2 -a "$(wc -l <"$work/big.err")" = 1 -a ! -e "$work/big/spikes.csv"
check "... the message" grep -q 'microcircuit.lua:[0-9]*: scale = 2: must be in (0, 1\]' "$work/big.err"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
