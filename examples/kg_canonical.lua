-- examples/kg_canonical.lua — "canonical" fields: two ei_lattice chains of linear E/I units, one
-- with A and B, the other with P^-1 A P and P^-1 B P for a random change of basis P, have one
-- dispersion omega^2 = det(A - lambda_k B), lambda_k = 4 sin^2(k h/2). Both start from noise; each
-- mode's frequency is the peak of its time spectrum. Writes canonical.csv
-- (model,kx,ky,omega_measured,omega_theory; k in rad/µm, omega in rad/ms).
--   nsim run examples/kg_canonical.lua [--set t_ms=400]
local t_ms = nsim.param("t_ms", 400)
local n, h, dt, every = 128, 100, 0.1, 10           -- sites, µm, ms, steps per sample
-- A = [[a, -g_EI], [g_IE, -a]]: tr A = 0, det A = g_EI g_IE - a^2 = 0.05 (m = 0.224 rad/ms);
-- B = [[0, 0.5], [0, 0]] (nilpotent): w = -tr(adj(A) B) = 0.5 g_IE = 0.1, c = sqrt(w) h = 31.6 µm/ms
local A = {{0.1, -0.3}, {0.2, -0.1}}
local B = {{0, 0.5}, {0, 0}}
local function mul(X, Y)
  return {{X[1][1] * Y[1][1] + X[1][2] * Y[2][1], X[1][1] * Y[1][2] + X[1][2] * Y[2][2]},
          {X[2][1] * Y[1][1] + X[2][2] * Y[2][1], X[2][1] * Y[1][2] + X[2][2] * Y[2][2]}}
end
math.randomseed(2024)
local P, det
repeat
  P = {{2 * math.random() - 1, 2 * math.random() - 1}, {2 * math.random() - 1, 2 * math.random() - 1}}
  det = P[1][1] * P[2][2] - P[1][2] * P[2][1]
until math.abs(det) > 0.3
local Pi = {{P[2][2] / det, -P[1][2] / det}, {-P[2][1] / det, P[1][1] / det}}
local A2, B2 = mul(Pi, mul(A, P)), mul(Pi, mul(B, P))
local function params(a, b)
  return {units = 0, nx = n, h = h, bc = 0, a_EE = a[1][1], a_EI = a[1][2], a_IE = a[2][1], a_II = a[2][2],
          b_EE = b[1][1], b_EI = b[1][2], b_IE = b[2][1], b_II = b[2][2]}
end
local net = nsim.network{dt = dt}
local pops = {
  {"A,B", net:population("ei_lattice", n, params(A, B), {u = nsim.normal(0, 1), v = nsim.normal(0, 1)},
                         {name = "plain", solver = "rk4", seed = 5})},
  {"P^-1 A P,P^-1 B P", net:population("ei_lattice", n, params(A2, B2), {u = nsim.normal(0, 1), v = nsim.normal(0, 1)},
                         {name = "changed", solver = "rk4", seed = 6})}}
local qs = {0, 2, 4, 8, 12, 16, 24, 32, 48, 64}
local rec = {}
for p = 1, #pops do rec[p] = {} for _, q in ipairs(qs) do rec[p][q] = {{}, {}} end end
local ts = dt * every
local ns = math.floor(t_ms / ts + 0.5)
local u = {}
for s = 1, ns do
  net:run(ts)
  for p, pp in ipairs(pops) do
    for j = 0, n - 1 do u[j] = pp[2]:state("u", j) end
    for _, q in ipairs(qs) do
      local a, b = 0, 0
      for j = 0, n - 1 do
        local th = 2 * math.pi * q * j / n
        a = a + u[j] * math.cos(th); b = b - u[j] * math.sin(th)
      end
      rec[p][q][1][s], rec[p][q][2][s] = a, b
    end
  end
end
local T = ns * ts
local bin = 2 * math.pi / T
local wmax = math.sqrt(0.05 + 0.1 * 4) * 1.2
local function peak(x)                               -- the time spectrum's peak, both parts' power
  local dw = bin / 4
  local nw = math.floor(wmax / dw) + 2
  local p, best, bi = {}, -1, 1
  for iw = 1, nw do
    local w, tot = iw * dw, 0
    for part = 1, 2 do
      local sr, si = 0, 0
      for s = 1, ns do
        local hann = 0.5 - 0.5 * math.cos(2 * math.pi * (s - 0.5) / ns)
        sr = sr + hann * x[part][s] * math.cos(w * s * ts); si = si + hann * x[part][s] * math.sin(w * s * ts)
      end
      tot = tot + sr * sr + si * si
    end
    p[iw] = tot
    if tot > best then best, bi = tot, iw end
  end
  local wm = bi * dw
  if bi > 1 and bi < nw then wm = wm + dw * 0.5 * (p[bi - 1] - p[bi + 1]) / (p[bi - 1] - 2 * p[bi] + p[bi + 1]) end
  return wm
end
local f = io.open(nsim.outdir() .. "/canonical.csv", "w")
f:write("model,kx,ky,omega_measured,omega_theory\n")
local worst = 0
for p, pp in ipairs(pops) do
  for _, q in ipairs(qs) do
    local k = 2 * math.pi * q / (n * h)
    local lam = 4 * math.sin(k * h / 2) ^ 2
    local wth = math.sqrt(0.05 + 0.1 * lam)          -- det(A - lambda B) = det A + lambda w (B nilpotent)
    local wm = peak(rec[p][q])
    worst = math.max(worst, math.abs(wm - wth) / bin)
    f:write(string.format("\"%s\",%.10g,0,%.10g,%.10g\n", pp[1], k, wm, wth))
  end
end
f:close()
print(string.format("kg_canonical: P = [[%.4f, %.4f], [%.4f, %.4f]]; %d modes each over %g ms (bin %.4f rad/ms); worst |measured - theory| = %.3f bin",
      P[1][1], P[1][2], P[2][1], P[2][2], #qs, T, bin, worst))
