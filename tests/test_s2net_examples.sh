#!/bin/bash
# tests/test_s2net_examples.sh — the S2-Net examples run and their CSVs are checked against
# recomputations here (awk): binding.csv's FG-ARI from the phase record and the mask (k-means on
# the circle, the adjusted Rand index), its synaptic operations from the spike record and the
# scaffold's degrees, its dense multiply-adds; run.json's entries; locking.csv from the phase
# record; parcels.csv's graph; and a bad adjacency file refused with one line.
set -u
. "$(dirname "$0")/lib.sh"
test_workdir s2ex

# --- s2net_binding: 32 x 32, 3 objects, 1000 ms at dt 1 ms, K = 100 steps ---------------------
run_example s2net_binding
b="$work/s2net_binding"
check "s2net_binding: binding.csv has its header and the two conditions" \
    awk -F, 'NR == 1 { ok = $0 == "condition,objects,fg_ari,synops,dense_macs" }
             NR == 2 { ok = ok && $1 == "coupled" && $2 == 3 } NR == 3 { ok = ok && $1 == "uncoupled" && $2 == 3 }
             END { exit !(ok && NR == 3) }' "$b/binding.csv"
# the mask's labels, one per pixel, from the P5 file (header "P5\n32 32\n255\n")
tail -c 1024 "$b/mask.pgm" | od -An -v -tu1 | tr -s ' ' '\n' | awk 'NF' >"$work/labels.txt"
check "s2net_binding: mask.pgm holds 1024 labels in 0..3, each object present" \
    awk '{ n++; c[$1]++ } END { exit !(n == 1024 && c[1] > 20 && c[2] > 20 && c[3] > 20 && length(c) == 4) }' "$work/labels.txt"
# FG-ARI: the last sample of each phase record, clustered on the circle into 3 (12 starts, 60
# Lloyd iterations, least inertia), against the mask over the objects' pixels
fg_ari() { # fg_ari COND: prints the FG-ARI recomputed from phase_COND.csv
    local first
    first=$(cat "$b"/populations*.csv | awk -F, -v p="$1_phase" '$1 == p { print $3 }')
    [ -n "$first" ] || return 1
    awk -F, -v first="$first" 'NR == FNR { lab[NR - 1] = $1; next }
        FNR > 1 { last = $1; th[$1, $2 - first] = $3; t[$1] = 1 }
        END {
            pi = 3.141592653589793; n = 0
            for (k = 0; k < 1024; k++) if (lab[k] > 0) { if (!((last, k) in th)) { print "missing", k; exit 1 }
                x[n] = cos(th[last, k]); y[n] = sin(th[last, k]); truth[n] = lab[k]; n++ }
            best = 1e300
            for (s = 0; s < 12; s++) {
                for (j = 0; j < 3; j++) { cx[j] = cos(2 * pi * (j / 3 + s / 36)); cy[j] = sin(2 * pi * (j / 3 + s / 36)) }
                for (it = 0; it < 60; it++) {
                    for (i = 0; i < n; i++) { bd = 1e300
                        for (j = 0; j < 3; j++) { d = (x[i] - cx[j]) ^ 2 + (y[i] - cy[j]) ^ 2; if (d < bd) { bd = d; l[i] = j } } }
                    for (j = 0; j < 3; j++) { sx[j] = sy[j] = m[j] = 0 }
                    for (i = 0; i < n; i++) { sx[l[i]] += x[i]; sy[l[i]] += y[i]; m[l[i]]++ }
                    for (j = 0; j < 3; j++) if (m[j] > 0) { cx[j] = sx[j] / m[j]; cy[j] = sy[j] / m[j] }
                }
                in_ = 0
                for (i = 0; i < n; i++) in_ += (x[i] - cx[l[i]]) ^ 2 + (y[i] - cy[l[i]]) ^ 2
                if (in_ < best - 1e-12) { best = in_; for (i = 0; i < n; i++) bl[i] = l[i] }
            }
            for (i = 0; i < n; i++) { nij[bl[i], truth[i]]++; a[bl[i]]++; bb[truth[i]]++ }
            for (key in nij) s2 += nij[key] * (nij[key] - 1) / 2
            for (key in a) sa += a[key] * (a[key] - 1) / 2
            for (key in bb) sb += bb[key] * (bb[key] - 1) / 2
            e = sa * sb / (n * (n - 1) / 2); mx = (sa + sb) / 2
            printf "%.6f\n", (s2 - e) / (mx - e)
        }' "$work/labels.txt" "$b/phase_$1.csv"
}
ari_c=$(fg_ari coupled)
ari_u=$(fg_ari uncoupled)
check "s2net_binding: coupled FG-ARI recomputed ($ari_c) above 0.9 and equal to binding.csv's (1e-6)" \
    awk -F, -v r="$ari_c" 'NR == 2 { exit !(r > 0.9 && ($3 - r) ^ 2 < 1e-12) }' "$b/binding.csv"
check "s2net_binding: uncoupled FG-ARI recomputed ($ari_u) below 0.2 and equal to binding.csv's (1e-6)" \
    awk -F, -v r="$ari_u" 'NR == 3 { exit !(r < 0.2 && r > -0.2 && ($3 - r) ^ 2 < 1e-12) }' "$b/binding.csv"
# Synaptic operations: a spike that reaches its phase unit in step s (< 1000) costs 1 (its own
# phase unit) plus its out-degree (the lateral spike edges, coupled only); each step in which
# the unit's window holds a spike (steps s .. s + 99) its phase output costs 3 per out-edge
# (sin and cos to the phase units, cos to the neurons; coupled only); and 3 per unit and step for
# the global sums. Out-degrees: the 8-neighbour 32 x 32 grid.
synops() { # synops FILE COUPLED
    awk -F, -v c="$2" 'FNR > 1 { s = int($1 + 0.5); if (s < 1000) { sp[$2]++; for (k = s; k < s + 100 && k < 1000; k++) act[$2, k] = 1 } }
        END {
            for (i = 0; i < 1024; i++) { x = i % 32; y = int(i / 32); d = 0
                for (dx = -1; dx <= 1; dx++) for (dy = -1; dy <= 1; dy++)
                    if ((dx || dy) && x + dx >= 0 && x + dx < 32 && y + dy >= 0 && y + dy < 32) d++
                deg[i] = d }
            tot = 3 * 1024 * 1000
            for (i in sp) tot += sp[i] * (1 + (c ? deg[i] : 0))
            if (c) for (key in act) { split(key, p, SUBSEP); tot += 3 * deg[p[1]] }
            printf "%.0f\n", tot
        }' "$1"
}
ops_c=$(synops "$b/spikes_coupled.csv" 1)
ops_u=$(synops "$b/spikes_uncoupled.csv" 0)
check "s2net_binding: synops recomputed from the spikes ($ops_c coupled, $ops_u uncoupled) equal binding.csv's" \
    awk -F, -v c="$ops_c" -v u="$ops_u" 'NR == 2 { ok = $4 == c } NR == 3 { ok = ok && $4 == u } END { exit !ok }' "$b/binding.csv"
check "s2net_binding: dense_macs = 1000 steps x 1024^2 x 5 values (coupled) and x 1 (uncoupled)" \
    awk -F, 'NR == 2 { ok = $5 == 1000 * 1024 * 1024 * 5 } NR == 3 { ok = ok && $5 == 1000 * 1024 * 1024 } END { exit !ok }' \
    "$b/binding.csv"
check "s2net_binding: run.json's synops and dense_macs (and pJ at 0.9 and 4.6) equal binding.csv's" \
    awk -F, -v j="$(tr -d '\n' <"$b/run.json")" 'NR > 1 {
        if (!match(j, "\"" $1 "_phase\": \\{[^}]*\\}")) exit 1
        e = substr(j, RSTART, RLENGTH)
        match(e, /"synops": [0-9.e+]+/); s = substr(e, RSTART + 10, RLENGTH - 10)
        match(e, /"dense_macs": [0-9.e+]+/); d = substr(e, RSTART + 14, RLENGTH - 14)
        match(e, /"synops_pj": [0-9.e+]+/); sp = substr(e, RSTART + 13, RLENGTH - 13)
        match(e, /"dense_pj": [0-9.e+]+/); dp = substr(e, RSTART + 12, RLENGTH - 12)
        if (s != $4 || d != $5 || (sp - 0.9 * s) ^ 2 > 1e-6 * s * s || (dp - 4.6 * d) ^ 2 > 1e-6 * d * d) bad = 1 }
        END { exit bad }' "$b/binding.csv"

# --- s2net_connectome: 24 parcels in 3 modules, locking over windows of 100 ms ------------------
run_example s2net_connectome t_ms=1000 t_switch=500
c="$work/s2net_connectome"
check "s2net_connectome: parcels.csv holds 3 x 8 x 7 module edges and 18 links between modules, delays whole ms >= 1" \
    awk -F, 'NR == 1 { ok = $0 == "source,target,weight,delay_ms"; next }
        { n++; if (int($1 / 8) == int($2 / 8)) w++; if ($4 < 1 || $4 != int($4)) ok = 0 }
        END { exit !(ok && n == 186 && w == 168) }' "$c/parcels.csv"
# locking.csv from phase.csv (every 2 ms): per window, over the pairs inside and between modules,
# <cos(theta_i - theta_j)> and |<e^{i(theta_i - theta_j)}>|, and each module's R and psi at its end
first=$(awk -F, '$1 == "parcels_phase" { print $3 }' "$c/populations.csv")
awk -F, -v first="$first" 'NR > 1 { th[$1, $2 - first] = $3; if ($1 != last) { ts[++nt] = $1; last = $1 } }
    END {
        pi = 3.141592653589793
        for (w = 1; w * 50 <= nt; w++) {
            delete C; delete S; wi = bi = wp = bp = nw = nb = 0
            for (k = (w - 1) * 50 + 1; k <= w * 50; k++)
                for (i = 0; i < 24; i++) for (j = i + 1; j < 24; j++) {
                    C[i, j] += cos(th[ts[k], i] - th[ts[k], j]); S[i, j] += sin(th[ts[k], i] - th[ts[k], j]) }
            for (i = 0; i < 24; i++) for (j = i + 1; j < 24; j++) {
                sy = C[i, j] / 50; pl = sqrt(C[i, j] ^ 2 + S[i, j] ^ 2) / 50
                if (int(i / 8) == int(j / 8)) { wi += sy; wp += pl; nw++ } else { bi += sy; bp += pl; nb++ } }
            printf "%g,%.6f,%.6f,%.6f,%.6f", ts[w * 50], wi / nw, bi / nb, wp / nw, bp / nb
            for (m = 0; m < 3; m++) { cx = cy = 0
                for (k = 0; k < 8; k++) { cx += cos(th[ts[w * 50], m * 8 + k]); cy += sin(th[ts[w * 50], m * 8 + k]) }
                ps = atan2(cy, cx); if (ps < 0) ps += 2 * pi
                printf ",%.6f,%.6f", sqrt(cx * cx + cy * cy) / 8, ps }
            printf "\n"
        }
    }' "$c/phase.csv" >"$work/locking_re.csv"
check "s2net_connectome: locking.csv has its header and 10 windows" \
    awk -F, 'NR == 1 { ok = $1 == "t_end_ms" && $2 == "within_sync" && $12 == "kappa_g" } END { exit !(ok && NR == 11) }' \
    "$c/locking.csv"
check "s2net_connectome: locking.csv recomputed from phase.csv (within 2e-5: the record keeps 10 digits)" \
    awk -F, 'NR == FNR { for (k = 1; k <= 11; k++) re[FNR, k] = $k; next }
        FNR > 1 { for (k = 1; k <= 11; k++) { d = $k - re[FNR - 1, k]
                      if (k == 7 || k == 9 || k == 11) { d = d - 6.283185307179586 * int(d / 6.283185307179586 + (d > 0 ? 0.5 : -0.5)) }
                      if (d * d > 4e-10) { print "line", FNR, "column", k, $k, re[FNR - 1, k]; bad = 1 } } }
        END { exit bad }' "$work/locking_re.csv" "$c/locking.csv"
check "s2net_connectome: modules lock inside (sync > 0.95) and apart (< -0.3) with kappa_g, together (> 0.8) without" \
    awk -F, 'NR > 1 && $1 >= 300 && $1 <= 500 { if (!($2 > 0.95 && $3 < -0.3 && $12 > 0)) bad = 1 }
             NR > 1 && $1 >= 800 { if (!($2 > 0.95 && $3 > 0.8 && $12 == 0)) bad = 1 } END { exit bad }' "$c/locking.csv"

# --- a bad adjacency file: one line naming the file and the line, status 2, nothing run --------
printf 'source,target,weight,delay_ms\n0,1,1,1\n1,0,-2,1\n' >"$work/bad.csv"
printf 'local net = nsim.network{dt = 1}\nlocal sc = nsim.scaffold{file = "%s", n = 2}\nnsim.s2net(net, {scaffold = sc})\nnet:run(10)\n' \
    "$work/bad.csv" >"$work/bad.lua"
"$NSIM" run "$work/bad.lua" --out "$work/bad" --quiet >"$work/bad.out" 2>"$work/bad.err"
rc=$?
refused() { # refused RC ERRFILE PATTERN OUTDIR: status 2, one line matching, no run.json
    [ "$1" -eq 2 ] && [ "$(wc -l <"$2")" -eq 1 ] && grep -q "$3" "$2" && [ ! -e "$4/run.json" ]
}
check "a negative weight in an adjacency CSV: status 2, one line naming the script line, file and line" \
    refused "$rc" "$work/bad.err" "^nsim: .*bad.lua:2: .*bad.csv:3: weight -2 must be a finite number >= 0$" "$work/bad"
printf 'source,target,weight,delay_ms\n0,1,1,0.5\n' >"$work/half.csv"
sed "s|$work/bad.csv|$work/half.csv|" "$work/bad.lua" >"$work/half.lua"
"$NSIM" run "$work/half.lua" --out "$work/half" --quiet >/dev/null 2>"$work/half.err"
rc=$?
check "a delay of half a step: status 2, one line naming the file's line and dt" \
    refused "$rc" "$work/half.err" "^nsim: .*half.lua:3: .*half.csv:2: delay_ms 0.5 ms is not a whole number of steps of dt 1 ms" "$work/half"

printf 'local net = nsim.network{dt = 1}\nlocal sc = nsim.scaffold{image = {1, 2, 3, 4}, width = 2, height = 2}\nnsim.s2net(net, {scaffold = sc, g = -1})\n' >"$work/g.lua"
"$NSIM" run "$work/g.lua" --out "$work/g" --quiet >/dev/null 2>"$work/g.err"
rc=$?
check "a negative top-down gain: status 2, one line with its unit" \
    refused "$rc" "$work/g.err" "^nsim: .*g.lua:3: s2net: g = -1 must be a finite number >= 0 (mV)$" "$work/g"

# --- an image file as a scaffold: width and height from the image; the edge counts of the grid --
cat >"$work/img.lua" <<'LUA'
local img = nsim.shapes{width = 20, height = 16, objects = 2, image = "s.pgm"}
local a = nsim.scaffold{image = nsim.read_image(nsim.outdir() .. "/s.pgm")}
local b = nsim.scaffold{image = img, neighbours = 4}
print(a.n, a.width, a.height, a.edges, b.n, b.edges)
LUA
"$NSIM" run "$work/img.lua" --out "$work/img" --quiet >"$work/img.out" 2>&1
check "an image file's scaffold: 20 x 16, 2 (19 x 16 + 20 x 15) + 4 (19 x 15) edges with 8 neighbours, the first term with 4" \
    awk '{ exit !($1 == 320 && $2 == 20 && $3 == 16 && $4 == 2 * (19 * 16 + 20 * 15) + 4 * 19 * 15 &&
                  $5 == 320 && $6 == 2 * (19 * 16 + 20 * 15)) }' "$work/img.out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
