#!/bin/bash
# tests/test_kg_examples.sh — the Klein–Gordon examples run shortened and their CSVs are checked:
# each theory column is recomputed here (awk, from the example's stated parameters) and each
# measured column is compared with it within the tolerance named at its check.
set -u
. "$(dirname "$0")/lib.sh"
test_workdir kgex

# --- kg_dispersion: leapfrog's discrete relation, the measured peak within one frequency bin ---
# 32 x 32, h 100 µm, c 100 µm/ms, m 1 rad/ms, dt 0.1 ms; t_ms=100 sampled every 0.2 ms:
# bin = 2 pi / 100 rad/ms.
run_example kg_dispersion t_ms=100
d="$work/kg_dispersion/dispersion.csv"
check "kg_dispersion: dispersion.csv has its header and 13 modes" \
    awk -F, 'NR == 1 { ok = $0 == "kx,ky,omega_measured,omega_theory" } END { exit !(ok && NR == 14) }' "$d"
check "kg_dispersion: omega_theory is leapfrog's sin(w dt/2) = (dt/2) w(k) (to 1e-8)" \
    awk -F, 'NR > 1 { h = 100; c = 100; m = 1; dt = 0.1
        w2 = m * m + 4 * c * c / (h * h) * (sin($1 * h / 2) ^ 2 + sin($2 * h / 2) ^ 2)
        x = dt / 2 * sqrt(w2); w = 2 / dt * atan2(x, sqrt(1 - x * x))
        if (!((w - $4) ^ 2 < 1e-16 * w * w)) { print "theory", $0, w; bad = 1 } } END { exit bad }' "$d"
check "kg_dispersion: omega_measured within one bin (2 pi / 100 rad/ms) of the theory" \
    awk -F, 'NR > 1 { bin = 2 * 3.141592653589793 / 100
        if (!(($3 - $4) ^ 2 < bin * bin)) { print "measured", $0; bad = 1 } } END { exit bad }' "$d"
# dispersion.png: a 1200 x 800 PNG (its IHDR), then read back by tests/kg_figcheck.c: the ridge of
# |phi(k, f)|^2 in every |k| column between the ring's axis and diagonal frequencies, and the drawn
# curves on omega(k) of its own formula. The frames: phi.csv's samples every 0.8 ms.
png="$work/kg_dispersion/dispersion.png"
check "kg_dispersion: dispersion.png is a 1200 x 800 PNG" \
    bash -c '[ "$(od -An -tx1 -j0 -N8 "$1" | tr -d " \n")" = 89504e470d0a1a0a ] &&
        [ "$(od -An -tu1 -j16 -N8 "$1" | tr -s " " | sed "s/^ //")" = "0 0 4 176 0 0 3 32" ]' _ "$png"
figcheck=${NSIM_KG_FIGCHECK:-$(dirname "$NSIM")/tests/kg_figcheck}
figcheck() { "$figcheck" "$@" >"$work/figcheck.txt" || { cat "$work/figcheck.txt"; return 1; }; }
frames=$(awk 'END { print (NR - 1) / 1024 }' "$work/kg_dispersion/phi.csv")
check "kg_dispersion: phi.csv holds 125 frames of the 1024 sites" [ "$frames" = 125 ]
check "kg_dispersion: dispersion.png's ridge and curves on the lattice dispersion (kg_figcheck)" \
    figcheck "$png" 32 32 100 1 100 0.8 "$frames"
# energy.csv: H every ms (t_ms=100: 100 rows), bounded without drift; run.json's "sums" entry
# holds its first and last row and the largest relative deviation from the first, recomputed here
en="$work/kg_dispersion/energy.csv"
check "kg_dispersion: energy.csv has t_ms,K and 100 rows, H within 2 % of the first (undamped)" \
    awk -F, 'NR == 1 { ok = $0 == "t_ms,K" } NR == 2 { h0 = $2; ok = ok && $1 == 1 } NR > 1 { d = ($2 - h0) / h0
        if (d < 0) d = -d; if (!(d < 0.02 && $2 > 0)) ok = 0 } END { exit !(ok && NR == 101) }' "$en"
sums=$(grep -o '"K.energy": {[^}]*}' "$work/kg_dispersion/run.json")
check "kg_dispersion: run.json's sums K.energy: 100 samples, first, last and max_rel_deviation as in energy.csv" \
    awk -F, -v j="$sums" 'NR == 2 { f = $2 } NR > 1 { l = $2; d = ($2 - f) / f; if (d < 0) d = -d; if (d > m) m = d }
        END { split(j, a, /[:,] */); for (i in a) gsub(/[ "{}]/, "", a[i])
            for (i = 1; i < length(a); i++) v[a[i]] = a[i + 1]
            ok = v["samples"] == 100 && v["first_t_ms"] == 1 && v["last_t_ms"] == 100 && v["record"] == "energy.csv"
            ok = ok && (v["first"] - f) ^ 2 <= 1e-28 * f * f && (v["last"] - l) ^ 2 <= 1e-28 * l * l
            ok = ok && (v["max_rel_deviation"] - m) ^ 2 <= 1e-24 * m * m && m > 0
            if (!ok) print j, f, l, m; exit !ok }' "$en"

# --- kg_equipartition: the site spectrum against the exact lattice density of states -----------
# 128 x 128 periodic, h 100, c 100, m 0.1, gamma 0.005, sigma 0.1, dt 0.25; Welch bins of 10 Hz.
run_example kg_equipartition t_ms=600
e="$work/kg_equipartition/site_psd.csv"
check "kg_equipartition: site_psd.csv has its header and 101 bins (0..1000 Hz)" \
    awk -F, 'NR == 1 { ok = $0 == "f_hz,psd,psd_theory" } END { exit !(ok && NR == 102) }' "$e"
# the theory: every mode's variance sigma^2 / (4 gamma N w^2) (leapfrog's w) in its 10 Hz bin
check "kg_equipartition: psd_theory is the mode sum sigma^2/(4 gamma N w_k^2) per bin (to 1e-9)" \
    awk -F, 'BEGIN { n = 128; m = 0.1; g = 0.005; s = 0.1; dt = 0.25; pi = 3.141592653589793
        for (a = 0; a < n; a++) for (b = 0; b < n; b++) {
            w2 = m * m + 4 * (sin(pi * a / n) ^ 2 + sin(pi * b / n) ^ 2); x = dt / 2 * sqrt(w2)
            w = 2 / dt * atan2(x, sqrt(1 - x * x)); i = int(w * 1000 / (2 * pi) / 10 + 0.5)
            th[i] += s * s / (4 * g * n * n * w * w) / 10 } }
        NR > 1 { i = NR - 2; if (!(($3 - th[i]) ^ 2 <= 1e-18 * th[i] ^ 2 + 1e-300)) { print "theory", $0, th[i]; bad = 1 } }
        END { exit bad }' "$e"
# over the band [2m, 0.35 omega_max] = [31.8, 161.1] Hz: the power within 10 %, the log-log slopes
# within 0.1 of each other (600 ms of 64 sites: the mode energies fluctuate over 1/(2 gamma) = 100 ms)
band_fit() { # band_fit COLUMN: "power slope" over the band
    awk -F, -v col="$1" 'NR > 1 && $1 >= 31.8 && $1 <= 161.1 { p += $col * 10
        x = log($1); y = log($col); sx += x; sy += y; sxx += x * x; sxy += x * y; k++ }
        END { printf "%.6g %.6g\n", p, (k * sxy - sx * sy) / (k * sxx - sx * sx) }' "$e"
}
read -r pm sm <<<"$(band_fit 2)"
read -r pt st <<<"$(band_fit 3)"
echo "kg_equipartition: band power measured $pm theory $pt; slope measured $sm theory $st"
# the example's own line names the gap and the slopes: equal to the closed form and to the fits here
check "kg_equipartition: its printed mass gap is 1000 m / 2 pi Hz and its slopes are the band fits above (1e-3)" \
    awk -v sm="$sm" -v st="$st" '/^kg_equipartition: mass gap/ { seen = 1
        gap = $4 + 0; a = $0; sub(/.*slope measured /, "", a); split(a, q, /, theory /)
        ok = (gap - 100 / (2 * 3.141592653589793)) ^ 2 < 1e-4 && (q[1] - sm) ^ 2 < 1e-6 && (q[2] - st) ^ 2 < 1e-6 }
        END { exit !(seen && ok) }' "$work/kg_equipartition.log"
check "kg_equipartition: the band's power within 10 % of the theory" awk -v a="$pm" -v b="$pt" 'BEGIN { exit !((a - b) ^ 2 < 0.01 * b * b) }'
check "kg_equipartition: the band's slope within 0.1 of the theory's (-0.97)" awk -v a="$sm" -v b="$st" 'BEGIN { exit !((a - b) ^ 2 < 0.01 && b < -0.9 && b > -1.05) }'
check "kg_equipartition: below the gap (the 0 Hz bin) under 10 % of the peak" \
    awk -F, 'NR == 2 { z = $2 } NR > 1 && $2 > p { p = $2 } END { exit !(z < 0.1 * p) }' "$e"

# --- kg_damped: m = gamma against NFTsim's wave propagator (e-cortical: gamma 30 /s, r 0.2 m) ---
run_example kg_damped t_ms=400
g="$work/kg_damped/transfer.csv"
check "kg_damped: transfer.csv has its header and 7 x 11 rows" \
    awk -F, 'NR == 1 { ok = $0 == "f_hz,k_per_m,gain_measured,gain_theory" } END { exit !(ok && NR == 78) }' "$g"
check "kg_damped: gain_theory is 1/|(1 - i omega/gamma)^2 + k^2 r^2| (to 1e-9)" \
    awk -F, 'NR > 1 { x = 2 * 3.141592653589793 * $1 / 30; kr = $2 * 0.2
        t = 1 / sqrt((1 - x * x + kr * kr) ^ 2 + 4 * x * x)
        if (!(($4 - t) ^ 2 < 1e-18 * t * t)) { print "theory", $0, t; bad = 1 } } END { exit bad }' "$g"
# the lattice's k^2 (0.2 %), leapfrog's O((omega dt)^2) and the sum for the integral: 0.2 % in all
check "kg_damped: gain_measured within 0.2 % of the propagator's" \
    awk -F, 'NR > 1 && !(($3 / $4 - 1) ^ 2 < 4e-6) { print "measured", $0; bad = 1 } END { exit bad }' "$g"

# --- kg_canonical: four unit models with one linearisation give one dispersion ------------------
# periodic chains of 128, h 100 µm: linear units with A, B; with P^-1 A P, P^-1 B P; Wilson-Cowan and
# FitzHugh-Nagumo units solved to linearise to A, B; det A = 0.05, w = 0.1; RK4 at dt 0.1 ms (its own
# frequency is within 1e-6 of the closed form here); t_ms=400 sampled every ms: bin = 2 pi / 400 rad/ms.
run_example kg_canonical t_ms=400
k="$work/kg_canonical/canonical.csv"
models='"linear A,B"|"linear P^-1 A P,P^-1 B P"|"Wilson-Cowan"|"FitzHugh-Nagumo"'
check "kg_canonical: canonical.csv has its header and 10 modes of each of the 4 models, in order" \
    awk -F, -v models="$models" 'BEGIN { split(models, want, "|") }
        NR == 1 { ok = $0 == "model,kx,ky,omega_measured,omega_theory" }
        NR > 1 { name = $0; sub(/,[^,]*,[^,]*,[^,]*,[^,]*$/, "", name); if (name != want[int((NR - 2) / 10) + 1]) ok = 0 }
        END { exit !(ok && NR == 41) }' "$k"
# (the model names hold a comma inside quotes: the numbers are the last four fields)
check "kg_canonical: omega_theory is sqrt(det A + 4 sin^2(k h/2) w) (to 1e-9)" \
    awk -F, 'NR > 1 { kx = $(NF - 3); t = sqrt(0.05 + 0.1 * 4 * sin(kx * 100 / 2) ^ 2)
        if (!(($NF - t) ^ 2 < 1e-18 * t * t)) { print "theory", $0, t; bad = 1 } } END { exit bad }' "$k"
check "kg_canonical: every model's omega_measured within one bin (2 pi / 400 rad/ms) of the theory" \
    awk -F, 'NR > 1 { bin = 2 * 3.141592653589793 / 400; kx = $(NF - 3); t = sqrt(0.05 + 0.1 * 4 * sin(kx * 100 / 2) ^ 2)
        if (!(($(NF - 1) - t) ^ 2 < bin * bin)) { print "measured", $0; bad = 1 } } END { exit bad }' "$k"
check "kg_canonical: every model measures the linear A, B chain's omega, mode by mode, within 0.01 bin" \
    awk -F, 'NR > 1 && NR <= 11 { a[NR] = $(NF - 1) } NR > 11 { d = $(NF - 1) - a[(NR - 2) % 10 + 2]; bin = 2 * 3.141592653589793 / 400
        if (!(d * d < 1e-4 * bin * bin)) { print "differ", $0, a[(NR - 2) % 10 + 2]; bad = 1 } } END { exit bad || NR != 41 }' "$k"
check "kg_canonical: run.json reports the KG field regime, m = sqrt(0.05), c = sqrt(0.1) x 100 for all four" \
    bash -c '[ "$(grep -o "\"regime\": *\"KG field\"" "$1" | wc -l)" -eq 4 ] &&
        [ "$(grep -o "\"m_rad_per_ms\": *0.22360679[78]" "$1" | wc -l)" -eq 4 ] &&
        [ "$(grep -o "\"c_um_per_ms\": *31.622776[67]" "$1" | wc -l)" -eq 4 ]' _ "$work/kg_canonical/run.json"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
