#!/bin/bash
# tests/test_kuramoto_examples.sh — the phase-oscillator examples run and their CSVs are checked:
# every theory column is recomputed here (awk, from the example's stated parameters), and every
# measured column is compared with it within the tolerance named at its check; nsim.cauchy's draws
# against the Cauchy CDF, and initial states and set_state given one value per unit.
set -u
. "$(dirname "$0")/lib.sh"
test_workdir kurex

# --- kuramoto_delay: Yeung–Strogatz. N = 8, omega = 1 rad/ms, K in {1, 2}, tau in {1, 2, 3, 4} ms ---
run_example kuramoto_delay
l="$work/kuramoto_delay/locking.csv"
# every root of Omega = omega - K sin(Omega tau) in [omega - K - 0.01, omega + K + 0.01], scanned
# and bisected here; the file must have one row per root, in order, with that root as its theory
roots_awk='function g(x) { return x - 1 + K * sin(x * tau) }
    function roots(   lo, hi, M, k, a, b, ga, gb, x0, x1, m, it) { nr = 0; lo = 1 - K - 0.01; hi = 1 + K + 0.01; M = 40000
        a = lo; ga = g(a)
        for (k = 1; k <= M; k++) { b = lo + (hi - lo) * k / M; gb = g(b)
            if ((ga < 0) != (gb < 0)) { x0 = a; x1 = b
                for (it = 0; it < 100; it++) { m = (x0 + x1) / 2; if ((g(m) < 0) == (ga < 0)) x0 = m; else x1 = m }
                r[++nr] = (x0 + x1) / 2 }
            a = b; ga = gb } }'
check "kuramoto_delay: locking.csv has its header and one row per root of the grid (20)" \
    awk -F, "$roots_awk"'
        BEGIN { n = 0; for (K = 1; K <= 2; K++) for (tau = 1; tau <= 4; tau++) { roots(); n += nr } }
        NR == 1 { ok = $0 == "kappa,tau_ms,omega_measured,omega_theory,stable" }
        END { if (NR - 1 != n) print "rows", NR - 1, "roots", n; exit !(ok && NR - 1 == n && n == 20) }' "$l"
check "kuramoto_delay: omega_theory is each root in turn (to 1e-9), stable is K cos(Omega tau) > 0" \
    awk -F, "$roots_awk"'
        NR > 1 { if ($1 != K || $2 != tau) { K = $1; tau = $2; roots(); i = 0 }
            i++; st = K * cos(r[i] * tau) > 0
            if (!(($4 - r[i]) ^ 2 < 1e-18) || $5 != st) { print "theory", $0, r[i], st; bad = 1 } }
        END { exit bad }' "$l"
# a locked state is exact for the scheme: a stable root's measured frequency is the root to
# rounding (1e-6 allows a slow transient); an unstable root's units leave it (more than 0.01)
check "kuramoto_delay: stable roots keep their frequency (1e-6), unstable ones are left (> 0.01)" \
    awk -F, 'NR > 1 { d = $3 - $4; if (d < 0) d = -d
        if ($5 == 1 && !(d < 1e-6)) { print "stable moved", $0; bad = 1 }
        if ($5 == 0 && !(d > 0.01)) { print "unstable kept", $0; bad = 1 }
        ns += $5; nu += !$5 } END { exit bad || ns < 10 || nu < 5 }' "$l"
o="$work/kuramoto_delay/order.csv"
# K = 2, tau = 3: roots 0.147 (stable), 1.057 (unstable), 1.933 (stable), in that column order
check "kuramoto_delay: order.csv: the stable starts stay in phase (R > 0.9999), the unstable one falls apart (R < 0.5)" \
    awk -F, 'NR == 1 { ok = $1 == "time_ms" && NF == 4 && $2 ~ /^R_root_0.146/ && $3 ~ /^R_root_1.056/ && $4 ~ /^R_root_1.932/ }
        NR > 1 { for (k = 2; k <= 4; k++) if (!($k >= 0 && $k <= 1 + 1e-12)) bad = 1
            if ($2 < 0.9999 || $4 < 0.9999) bad = 1; if ($3 < lo3 || NR == 2) lo3 = $3 }
        END { exit !(ok && !bad && lo3 < 0.5 && NR > 100) }' "$o"

# --- s2net_ring: N = 20, omega = 1, K = 1 (1/2 per side), tau = 1 ms; twisted q = 0..3 ----------------
run_example s2net_ring
g="$work/s2net_ring/ring.csv"
check "s2net_ring: ring.csv has its header and q = 0..3" \
    awk -F, 'NR == 1 { ok = $0 == "q,omega_measured,omega_theory" } NR > 1 && $1 != NR - 2 { bad = 1 }
        END { exit !(ok && !bad && NR == 5) }' "$g"
check "s2net_ring: omega_theory solves Omega = omega - K sin(Omega tau) cos(2 pi q/N) (bisection here, 1e-9)" \
    awk -F, 'NR > 1 { c = cos(2 * 3.141592653589793 * $1 / 20); lo = -0.01; hi = 2.01
        for (i = 0; i < 200; i++) { m = (lo + hi) / 2; if (m - 1 + c * sin(m) > 0) hi = m; else lo = m }
        if (!(($3 - lo) ^ 2 < 1e-18)) { print "theory", $0, lo; bad = 1 } } END { exit bad }' "$g"
check "s2net_ring: each twisted state locks at its Omega (every unit, to 1e-6 rad/ms)" \
    awk -F, 'NR > 1 { if (!(($2 - $3) ^ 2 < 1e-12)) { print "measured", $0; bad = 1 } } END { exit bad }' "$g"
r="$work/s2net_ring/order.csv"
check "s2net_ring: order.csv: one sample per ms to 600, R_q0 = 1, the spread ring partial and fluctuating after 200 ms" \
    awk -F, 'NR == 1 { ok = $0 == "time_ms,R_partial,R_q0" }
        NR > 1 { if ($1 != NR - 1 || !($2 >= 0 && $2 <= 1) || !($3 > 0.999999)) bad = 1
            if ($1 > 200) { n++; m += $2; m2 += $2 * $2; if ($2 > top) top = $2 } }
        END { m /= n; sd = sqrt(m2 / n - m * m); printf "s2net_ring: R mean %.3f sd %.3f max %.3f\n", m, sd, top
            exit !(ok && !bad && NR == 601 && m > 0.1 && m < 0.9 && sd > 0.03 && top < 0.99) }' "$r"
p="$work/s2net_ring/phase.csv"
check "s2net_ring: phase.csv: 32 units by 600 ms of sin values in [-1, 1]" \
    awk -F, 'NR == 1 { ok = NF == 32 && $1 == "unit0" } NR > 1 { if (NF != 32) bad = 1
        for (k = 1; k <= NF; k++) if (!($k >= -1 && $k <= 1)) bad = 1 } END { exit !(ok && !bad && NR == 601) }' "$p"
check "s2net_ring: nsim plot heatmap draws phase.csv" \
    bash -c '"$1" plot heatmap "$2" --out "$3" >/dev/null 2>&1 && [ -s "$3" ]' _ "$NSIM" "$p" "$work/phase.png"

# --- nsim.cauchy, lists of initial values and set_state ------------------------------------------------
mkdir -p "$work/cauchy"
cat >"$work/cauchy/c.lua" <<'EOF'
local net = nsim.network{dt = 1}
local P = net:population("kuramoto", 20000, nil, {omega = nsim.cauchy(2, 0.5)}, "P")
local Q = net:population("kuramoto", 3, nil, {theta = {0.5, -1.25, 3}, omega = 0.25}, "Q")
net:record_state(P, {vars = {"omega"}, interval = 1, file = "omega.csv"})
net:run(1)
Q:set_state("omega", {1, 2, 3})
net:run(2)
print(string.format("Q %.17g %.17g %.17g", Q:state("theta", 0), Q:state("theta", 1), Q:state("theta", 2)))
EOF
"$NSIM" run "$work/cauchy/c.lua" --out "$work/cauchy/out" --quiet >"$work/cauchy/log" 2>&1 || cat "$work/cauchy/log"
# uncoupled: theta = theta0 + 0.25 (the first ms) + omega_i 2 (the next two), exact to rounding
check "initial lists and set_state: theta = (0.5, -1.25, 3) + 0.25 + 2 (1, 2, 3)" \
    awk '$1 == "Q" { exit !(($2 - 2.75) ^ 2 < 1e-24 && ($3 - 3) ^ 2 < 1e-24 && ($4 - 9.25) ^ 2 < 1e-24) }
        END { exit NR != 1 }' "$work/cauchy/log"
# Kolmogorov–Smirnov distance of the 20000 draws from F(x) = 1/2 + atan((x - 2)/0.5)/pi, under the
# 1 % level 1.63/sqrt(n)
check "nsim.cauchy(2, 0.5): 20000 draws follow the Cauchy CDF (KS under 1.63/sqrt(n))" \
    bash -c 'awk -F, "NR > 1 && \$1 == 1 { print \$3 }" "$1" | sort -g | awk "{ x[NR] = \$1 } END { n = NR; pi = 3.141592653589793
        for (i = 1; i <= n; i++) { F = 0.5 + atan2(x[i] - 2, 0.5) / pi; a = F - (i - 1) / n; b = i / n - F
            if (a > d) d = a; if (b > d) d = b }
        printf \"cauchy: KS %.4f, limit %.4f\n\", d, 1.63 / sqrt(n); exit !(n == 20000 && d < 1.63 / sqrt(n)) }"' _ \
        "$work/cauchy/out/omega.csv"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
