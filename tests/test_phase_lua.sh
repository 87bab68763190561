#!/bin/bash
# tests/test_phase_lua.sh — the phase analysis functions from a script: nsim.shapes writes its
# image and mask and they read back equal; a state record of known phases gives an order.csv
# that agrees with a recomputation here (awk); clustering gives FG-ARI 1; the figures are
# written; bad input stops the script with one line naming the script line, exit status 2 and
# no output folder.
set -u
. "$(dirname "$0")/lib.sh"
test_workdir phase_lua
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

cat >"$work/ph.lua" <<'LUA'
local img, mask = nsim.shapes{width = 40, height = 32, objects = 3, kinds = {"disc", "ring", "bar"},
                              noise = 0.05, seed = 4, image = "img.pgm", mask = "mask.png"}
print("sizes " .. #img .. " " .. img.width .. " " .. img.height .. " " .. mask.objects)
local m2 = nsim.read_mask(nsim.outdir() .. "/mask.png")
local i2 = nsim.read_image(nsim.outdir() .. "/img.pgm")
local same, close = true, true
for i = 1, #mask do
  if m2[i] ~= mask[i] then same = false end
  if math.abs(i2[i] - img[i]) > 0.5 / 255 + 1e-12 then close = false end
end
print("mask back " .. tostring(same) .. " image back " .. tostring(close))
-- a state record of 30 samples: object g at phase 0.05 t + 2.1 g (rad) with a spread; the
-- background at unit-dependent phases; activity 1 on objects, 0.2 off them
local f = io.open(nsim.outdir() .. "/state.csv", "w")
f:write("t_ms,neuron,theta,a\n")
local labels = io.open(nsim.outdir() .. "/labels.txt", "w")
for u = 1, #mask do labels:write(mask[u], "\n") end
labels:close()
for j = 0, 29 do
  local t = 0.5 * j
  for u = 1, #mask do
    local g = mask[u]
    local th = 0.05 * t + (g > 0 and 2.1 * g or 0.7 * u) + 0.3 * math.sin(1.3 * u + t)
    f:write(string.format("%g,%d,%.15g,%g\n", t, u - 1, th, g > 0 and 1 or 0.2))
  end
end
f:close()
local o = nsim.order_parameter{file = "state.csv", var = "theta", groups = mask}
print("samples " .. #o.t_ms .. " groups " .. #o.groups)
nsim.phase_raster{file = "state.csv", var = "theta", activity = "a", groups = mask, out = "raster.png"}
nsim.phase_map{file = "state.csv", activity = "a", width = 40, height = 32, t_ms = 5, out = "map.png"}
nsim.phase_raster{file = "state.csv", groups = mask, relative = true, out = "raster_rel.png"}
nsim.write_mask("mask2.pgm", mask)
nsim.write_image("img2.png", img)
local m3, i3 = nsim.read_mask(nsim.outdir() .. "/mask2.pgm"), nsim.read_image(nsim.outdir() .. "/img2.png")
local same3 = m3.width == 40 and m3.height == 32 and m3.objects == 3
for i = 1, #mask do same3 = same3 and m3[i] == mask[i] and math.abs(i3[i] - img[i]) <= 0.5 / 255 + 1e-12 end
print("written back " .. tostring(same3))
local th = {}
for u = 1, #mask do th[u] = 2.1 * mask[u] + 0.2 * math.sin(u) end
local lab = nsim.cluster_phases(th, 3, {active = mask, seed = 3})
local lab2 = nsim.cluster_phases(th, 3, {active = mask, method = "agglomerative"})
print(string.format("fg_ari %.12f %.12f", nsim.fg_ari(lab, mask), nsim.fg_ari(lab2, mask)))
print(string.format("ari %.12f", nsim.ari({0, 0, 1, 1}, {0, 0, 1, 2})))
LUA
if "$NSIM" run "$work/ph.lua" --out "$work/ph" --quiet >"$work/ph.txt" 2>&1; then
    grep -q '^sizes 1280 40 32 3$' "$work/ph.txt" && ok || bad "shapes sizes: $(cat "$work/ph.txt")"
    grep -q '^mask back true image back true$' "$work/ph.txt" && ok || bad "image and mask files do not read back"
    grep -q '^samples 30 groups 3$' "$work/ph.txt" && ok || bad "order_parameter returns"
    grep -q '^written back true$' "$work/ph.txt" && ok || bad "write_mask / write_image do not read back"
    grep -q '^fg_ari 1.000000000000 1.000000000000$' "$work/ph.txt" && ok || bad "fg_ari: $(grep fg_ari "$work/ph.txt")"
    grep -q '^ari 0.571428571429$' "$work/ph.txt" && ok || bad "ari of [0,0,1,1] vs [0,0,1,2] is 4/7"
    for p in raster raster_rel map img; do [ -s "$work/ph/$p.png" ] || [ -s "$work/ph/$p.pgm" ] && ok || bad "$p missing"; done
    head -c 2 "$work/ph/img.pgm" | grep -q P5 && ok || bad "img.pgm is not a P5 PGM"
    head -1 "$work/ph/order.csv" | grep -qx 't_ms,R,R_1,R_2,R_3,psi_1,psi_2,psi_3,within,between,contrast' && ok ||
        bad "order.csv header: $(head -1 "$work/ph/order.csv")"
    # recompute every row of order.csv from state.csv and the labels
    awk -F, 'FILENAME ~ /labels/ { lab[FNR - 1] = $1; if ($1 > G) G = $1; next }
             FILENAME ~ /state/ { if (FNR == 1) next; t = $1; g = lab[$2]; if (!(t in seen)) { seen[t] = 1; ts[++nt] = t }
                                  c[t, g] += cos($3); s[t, g] += sin($3); n[t, g]++; next }
             FNR == 1 { next }
             { t = $1; row++; ac = 0; as = 0; na = 0; w = 0
               for (g = 1; g <= G; g++) { ac += c[t, g]; as += s[t, g]; na += n[t, g]
                 zc[g] = c[t, g] / n[t, g]; zs[g] = s[t, g] / n[t, g]; R = sqrt(zc[g]^2 + zs[g]^2); w += R
                 if ((R - $(2 + g))^2 > 1e-16) bad++
                 d = atan2(zs[g], zc[g]) - $(2 + G + g); if (d > 3.14159) d -= 6.283185307; if (d < -3.14159) d += 6.283185307
                 if (d^2 > 1e-14) bad++ }
               if ((sqrt(ac^2 + as^2) / na - $2)^2 > 1e-16) bad++
               w /= G; b = 0; np = 0
               for (a = 1; a <= G; a++) for (e = a + 1; e <= G; e++) { b += sqrt((zc[a] + zc[e])^2 + (zs[a] + zs[e])^2) / 2; np++ }
               b /= np
               if ((w - $(3 + 2 * G))^2 > 1e-16 || (b - $(4 + 2 * G))^2 > 1e-16 || (w - b - $(5 + 2 * G))^2 > 1e-16) bad++
               if (t != ts[row]) bad++ }
             END { exit !(bad == 0 && row == 30 && nt == 30) }' \
        "$work/ph/labels.txt" "$work/ph/state.csv" "$work/ph/order.csv" && ok || bad "order.csv disagrees with a recomputation"
else
    bad "ph.lua failed: $(cat "$work/ph.txt")"
fi

# bad input: one line naming the script line, status 2, no output folder
printf 'P2\n2 2\n255\n1 2\n3 x\n' >"$work/bad.pgm"
try() { # try NAME SCRIPT-TEXT EXPECTED-MESSAGE
    printf '%s\n' "$2" >"$work/$1.lua"
    "$NSIM" run "$work/$1.lua" --out "$work/$1" --quiet >"$work/$1.out" 2>"$work/$1.err"
    local rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$work/$1.err")" -eq 1 ] && grep -qF -- "$3" "$work/$1.err" && [ ! -e "$work/$1" ]; then
        ok
    else
        bad "$1: status $rc, stderr '$(cat "$work/$1.err")', want '$3'"
    fi
}
try e_objects $'local x = 1\nnsim.shapes{objects = 5}' "e_objects.lua:2: nsim.shapes: objects = 5; a whole number in [2, 4]"
try e_kind 'nsim.shapes{kinds = {"disc", "star"}}' "nsim.shapes: kinds item 2 is 'star'; square, disc, triangle, bar or ring"
try e_file 'nsim.read_image("bad.pgm")' "e_file.lua:1: nsim.read_image: $work/bad.pgm:5: pixel 3 is not a whole number"
try e_mask 'nsim.read_mask("nothing.png")' "nsim.read_mask: nothing.png: cannot open"
try e_k 'nsim.cluster_phases({0, 1, 2}, 4)' "e_k.lua:1: nsim.cluster_phases: k = 4; a whole number in [1, 3]"
try e_ari 'nsim.ari({1, 2}, {1, 2, 3})' "nsim.ari: 2 labels against 3; one each per unit"
try e_fg 'nsim.fg_ari({1, 2}, {0, 0})' "nsim.fg_ari: FG-ARI: the mask has no foreground pixel"
try e_dims 'nsim.phase_map{theta = {0, 1, 2}, width = 2, height = 2}' "nsim.phase_map: 3 values for a 2 x 2 image"
try e_self 'nsim.order_parameter{file = "state.csv", csv = "state.csv"}' "e_self.lua:1: nsim.order_parameter: csv 'state.csv' is the record being read; give another name"
try e_rec 'nsim.order_parameter{file = "none.csv"}' "none.csv: cannot read: No such file or directory"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
