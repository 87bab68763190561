#!/bin/bash
# tests/test_stdp.sh — plasticity from a script: net:connect's synapse option and
# net:record_weights; the sample and matrix files recomputed here (awk): the matrix in (pre, post)
# order with one row per synapse, the sample at t = 0 the given weight and at the end equal to the
# matrix, at every interval; run.json lists both; `nsim plot weights` counts recomputed from the
# matrix; bad synapse parameters stop the script with one line naming the script line, exit
# status 2 and no output folder.
set -u
. "$(dirname "$0")/lib.sh"
test_workdir stdp
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

cat >"$work/p.lua" <<'LUA'
local net = nsim.network{dt = 0.1}
local E = net:population("lif", 60, {}, {}, {name = "E"})
local D = net:population("lif", 40, {}, {}, {name = "D"})
net:poisson(E, {rate = 9000, weight = 25})
net:poisson(D, {rate = 9000, weight = 25})
local syn = nsim.stdp{lambda = 0.02, alpha = 1.1, mu_plus = 0, mu_minus = 0, Wmax = 40}
print("model " .. syn.model .. " " .. syn.tau_plus .. " " .. syn.tau_minus .. " " .. syn.Wmax)
local p = net:connect(E, D, {rule = "fixed_indegree", K = 15, weight = 10, delay = 1.5, synapse = syn})
local q = net:connect(D, D, {rule = "bernoulli", p = 0.1, weight = -5, synapse = {model = "stdp_triplet", Wmax = -20}})
print("synapses " .. p.synapses .. " " .. tostring(p.plastic) .. " " .. tostring(q.plastic))
net:record_weights(p, {file = "w.csv", sample = {0, 7, 100, 599, 33}, interval = 50})
net:record_weights(q, {file = "wq.csv", sample = 4, interval = 25})
net:run(200)
net:run(200)
LUA
if "$NSIM" run "$work/p.lua" --out "$work/p" --quiet >"$work/p.txt" 2>"$work/p.err"; then
    d=$work/p
    grep -qx "model stdp 20.0 20.0 40.0" "$work/p.txt" && grep -qx "synapses 600 true true" "$work/p.txt" && ok ||
        bad "script printed: $(cat "$work/p.txt")"
    # the matrix: synapses 0 .. 599 in (pre, post) order, pre of E (60), post of D (40), weights in [0, 40]
    awk -F, 'NR == 1 { ok = $0 == "synapse,pre,post,weight"; next }
        { ok = ok && $1 == NR - 2 && $2 >= 0 && $2 < 60 && $3 >= 0 && $3 < 40 && $4 >= 0 && $4 <= 40
          if (NR > 2 && ($2 < pp || ($2 == pp && $3 < pq))) ok = 0; pp = $2; pq = $3; moved += $4 != 10 }
        END { exit !(ok && NR == 601 && moved > 100) }' "$d/w_matrix.csv" && ok || bad "w_matrix.csv: $(head -3 "$d/w_matrix.csv")"
    # each post unit of fixed_indegree has 15 synapses
    awk -F, 'NR > 1 { n[$3]++ } END { for (j = 0; j < 40; j++) if (n[j] != 15) exit 1 }' "$d/w_matrix.csv" && ok ||
        bad "w_matrix.csv: not 15 synapses onto every D unit"
    # the sample: 9 times (0 .. 400 by 50) x the 5 synapses in the order given; at 0 the weight 10,
    # at 400 the matrix's row of that synapse (pre, post and weight)
    awk -F, 'NR == FNR { if (FNR > 1) { pre[$1] = $2; post[$1] = $3; w[$1] = $4 } next }
        FNR == 1 { ok = $0 == "t_ms,synapse,pre,post,weight"; next }
        { split("0 7 100 599 33", s, " "); k = (FNR - 2) % 5 + 1; t = int((FNR - 2) / 5) * 50
          ok = ok && $1 + 0 == t && $2 == s[k] && $3 == pre[$2] && $4 == post[$2]
          if (t == 0) ok = ok && $5 == 10
          if (t == 400) { ok = ok && $5 == w[$2]; last++ } }
        END { exit !(ok && FNR == 46 && last == 5) }' "$d/w_matrix.csv" "$d/w.csv" && ok || bad "w.csv: $(head -4 "$d/w.csv")"
    # the inhibitory triplet projection: weights within [-20, 0], samples every 25 ms (17 times x 4)
    awk -F, 'NR > 1 { ok = ($4 <= 0 && $4 >= -20); if (!ok) exit 1 } END { exit !(NR > 1) }' "$d/wq_matrix.csv" &&
        [ "$(($(wc -l <"$d/wq.csv") - 1))" -eq 68 ] && ok || bad "wq: $(head -3 "$d/wq_matrix.csv"), $(wc -l <"$d/wq.csv") lines"
    for f in w.csv w_matrix.csv wq.csv wq_matrix.csv; do
        grep -qF "\"$f\": {\"network\": 1" "$d/run.json" && ok || bad "run.json does not list $f"
    done
    # the histogram: its bins and counts (PNG text) against a count of the matrix's weights here
    if "$NSIM" plot weights "$d/w_matrix.csv" --out "$work/wh.png" >/dev/null 2>"$work/wh.err"; then
        bins=$(grep -a -o 'Bins.[0-9.e+ -]*' "$work/wh.png" | head -1 | cut -c6-)
        counts=$(grep -a -o 'Counts.[0-9 ]*' "$work/wh.png" | head -1 | cut -c8-)
        want=$(awk -F, -v b="$bins" 'BEGIN { split(b, r, " "); lo = r[1]; hi = r[2]; nb = r[3] }
            NR > 1 { k = int(($4 - lo) / (hi - lo) * nb); if (k >= nb) k = nb - 1; c[k]++ }
            END { for (k = 0; k < nb; k++) printf "%s%d", k ? " " : "", c[k] }' "$d/w_matrix.csv")
        lo=$(awk -F, 'NR == 2 || $4 < m { if (NR > 1) m = $4 } END { print m }' "$d/w_matrix.csv")
        [ -n "$counts" ] && [ "$counts" = "$want" ] && ok || bad "histogram counts '$counts', recomputed '$want' (bins $bins)"
        awk -v b="$bins" -v lo="$lo" 'BEGIN { split(b, r, " "); exit !(r[3] == 30 && (r[1] == 0 || r[1] - lo < 1e-6)) }' &&
            ok || bad "histogram bins '$bins' (lowest weight $lo)"
    else
        bad "nsim plot weights: $(cat "$work/wh.err")"
    fi
else
    bad "p.lua: $(cat "$work/p.err")"
fi

# examples/stdp_song.lua, short: it runs, its matrix has a row per input, and nsim.plot_weights
# wrote the histogram whose counts a count of the matrix here gives
if "$NSIM" run "$ROOT/examples/stdp_song.lua" --out "$work/song" --quiet --set t_ms=4000 --set n_in=300 \
    >"$work/song.txt" 2>"$work/song.err"; then
    d=$work/song
    grep -qE '^output rate: [0-9.]+ Hz in the first 0.4 s, [0-9.]+ Hz after$' "$work/song.txt" && ok ||
        bad "stdp_song printed: $(cat "$work/song.txt")"
    [ "$(($(wc -l <"$d/weights_matrix.csv") - 1))" -eq 300 ] && [ "$(($(wc -l <"$d/weights.csv") - 1))" -eq $((5 * 20)) ] &&
        ok || bad "stdp_song: $(wc -l <"$d/weights_matrix.csv") matrix lines, $(wc -l <"$d/weights.csv") sample lines"
    bins=$(grep -a -o 'Bins.[0-9.e+ -]*' "$d/weights.png" | head -1 | cut -c6-)
    counts=$(grep -a -o 'Counts.[0-9 ]*' "$d/weights.png" | head -1 | cut -c8-)
    want=$(awk -F, -v b="$bins" 'BEGIN { split(b, r, " "); lo = r[1]; hi = r[2]; nb = r[3] }
        NR > 1 { k = int(($4 - lo) / (hi - lo) * nb); if (k >= nb) k = nb - 1; c[k]++ }
        END { for (k = 0; k < nb; k++) printf "%s%d", k ? " " : "", c[k] }' "$d/weights_matrix.csv")
    [ -n "$counts" ] && [ "$counts" = "$want" ] && grep -aq 'STDP weights after 4 s' "$d/weights.png" && ok ||
        bad "stdp_song weights.png: counts '$counts', recomputed '$want'"
else
    bad "examples/stdp_song.lua: $(cat "$work/song.err")"
fi

refuse() { # refuse NAME MESSAGE-REGEX SYNAPSE-OPTIONS: the script stops at line 3 with the message, status 2, no folder
    printf 'local net = nsim.network{dt = 0.1}\nlocal E = net:population("lif", 20)\nnet:connect(E, E, {weight = 5, %s})\nnet:run(10)\n' \
        "$3" >"$work/$1.lua"
    "$NSIM" run "$work/$1.lua" --out "$work/$1" --quiet >/dev/null 2>"$work/$1.err"
    local rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$work/$1.err")" -eq 1 ] && grep -qE "^nsim: .*$1.lua:3: $2" "$work/$1.err" &&
        [ ! -e "$work/$1" ] && ok || bad "$1: status $rc, said: $(cat "$work/$1.err")"
}
refuse typo "nsim.stdp: stdp has no parameter 'lamda' \(tau_plus, " 'synapse = nsim.stdp{lamda = 0.1}'
refuse tau "connect: stdp: tau_plus = -3 ms is outside \(0, inf\)" 'synapse = {model = "stdp", tau_plus = -3}'
refuse model "connect: unknown synapse model 'hebb' \(stdp, stdp_triplet\)" 'synapse = {model = "hebb"}'
refuse nomodel 'connect: synapse needs model = "stdp" or "stdp_triplet"' 'synapse = {tau_plus = 3}'
refuse triplet "nsim.stdp_triplet: stdp_triplet has no parameter 'lambda'" 'synapse = nsim.stdp_triplet{lambda = 1}'
refuse sign "stdp: weight 5 from lif0 0 to lif0 0 is outside \[-10, 0\]" 'synapse = nsim.stdp{Wmax = -10}'
refuse wmax "nsim.stdp: stdp: Wmax = 0 must be a nonzero finite weight" 'synapse = nsim.stdp{Wmax = 0}'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
