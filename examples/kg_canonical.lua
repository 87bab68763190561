-- examples/kg_canonical.lua — "canonical" fields: four ei_lattice chains whose units differ but
-- whose linearisations about their fixed points are one pair (A, B), up to a change of basis, give
-- one dispersion omega^2 = det(A - lambda_k B), lambda_k = 4 sin^2(k h/2):
--   linear units with A and B; linear units with P^-1 A P and P^-1 B P for a random P;
--   Wilson-Cowan units and FitzHugh-Nagumo units whose parameters are solved (below) so that
--   their Jacobians at their fixed points are A and B exactly.
-- Every chain starts at its fixed point plus the same small noise (in the P^-1 chain: P^-1 of it,
-- the same state in its basis), small enough for the linear theory: the units' nonlinearity is
-- cubic at these fixed points, so omega moves as the amplitude squared (1e-4 of noise: about 1e-6
-- relative, 1e-4 of a bin; 1e-3: 100 times that). Each mode's frequency is the peak of its time
-- spectrum. Writes canonical.csv (model,kx,ky,omega_measured,omega_theory;
-- k in rad/µm, omega in rad/ms).
--   nsim run examples/kg_canonical.lua [--set t_ms=400]
local t_ms = nsim.param("t_ms", 400)
local n, h, dt, every = 128, 100, 0.1, 10           -- sites, µm, ms, steps per sample
-- The pair, chosen so that both nonlinear models reach it. FitzHugh-Nagumo's Jacobian is
-- [[1 - u*^2, -1], [eps, -eps b]] and its B is [[0, w_lat], [0, 0]]: A_EI is -1 whatever the
-- parameters, and A_EE <= 1. So A = [[alpha, -1], [g, -alpha]] (tr A = 0: an undamped KG field)
-- with det A = g - alpha^2 = 0.05 (m = 0.224 rad/ms) and B = [[0, beta], [0, 0]] (nilpotent) with
-- w = -tr(adj(A) B) = g beta = 0.1 (c = sqrt(w) h = 31.6 µm/ms). alpha = 1, g = 1.05 puts the
-- FitzHugh-Nagumo fixed point at u* = 0, where its nonlinearity is u^3/3 alone, and makes
-- b = alpha/g < 1, so that fixed point is its only one.
local alpha, g = 1.0, 1.05
local A = {{alpha, -1}, {g, -alpha}}
local B = {{0, 0.1 / g}, {0, 0}}
local m2, w = A[1][1] * A[2][2] - A[1][2] * A[2][1], A[2][1] * B[1][2]   -- 0.05, 0.1
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
local function linear(a, b)
  return {units = 0, nx = n, h = h, bc = 0, a_EE = a[1][1], a_EI = a[1][2], a_IE = a[2][1], a_II = a[2][2],
          b_EE = b[1][1], b_EI = b[1][2], b_IE = b[2][1], b_II = b[2][2]}
end
-- Wilson-Cowan: tau_E du/dt = -u + S(w_EE u - w_EI v + P + w_lat Lv), tau_I dv/dt = -v + S(w_IE u -
-- w_II v + Q), S(x) = 1/(1 + exp(-gain (x - theta))). Its Jacobian at (u*, v*) is
-- [[(-1 + S'_E w_EE)/tau_E, -S'_E w_EI/tau_E], [S'_I w_IE/tau_I, (-1 - S'_I w_II)/tau_I]] and B_EI =
-- S'_E w_lat/tau_E. Put the fixed point at u* = v* = 1/2, the sigmoid's midpoint (S' = gain/4 there
-- and S'' = 0: no quadratic term), pick tau_E, tau_I and gain, solve each weight from its entry of A
-- and B, and P, Q so that the arguments of S are theta at (1/2, 1/2).
local wc = {units = 1, nx = n, h = h, bc = 0, tau_E = 2, tau_I = 4, gain = 4, theta = 3.5}
do
  local us, vs, se = 0.5, 0.5, wc.gain / 4            -- S'_E = S'_I = gain u* (1 - u*)
  wc.w_EE = (1 + wc.tau_E * A[1][1]) / se
  wc.w_EI = -wc.tau_E * A[1][2] / se
  wc.w_IE = wc.tau_I * A[2][1] / se
  wc.w_II = -(1 + wc.tau_I * A[2][2]) / se
  wc.w_lat = wc.tau_E * B[1][2] / se
  wc.P = wc.theta - wc.w_EE * us + wc.w_EI * vs
  wc.Q = wc.theta - wc.w_IE * us + wc.w_II * vs
end
-- FitzHugh-Nagumo: du/dt = u - u^3/3 - v + I + w_lat Lv, dv/dt = eps (u + a - b v). Jacobian
-- [[1 - u*^2, -1], [eps, -eps b]]: u* = sqrt(1 - A_EE), eps = A_IE, b = -A_II/eps, w_lat = B_EI;
-- a is free (0), v* = (u* + a)/b and I = v* - u* + u*^3/3 put the fixed point at (u*, v*).
local fhn = {units = 2, nx = n, h = h, bc = 0, fhn_a = 0}
local fu = math.sqrt(1 - A[1][1])
fhn.fhn_eps = A[2][1]
fhn.fhn_b = -A[2][2] / fhn.fhn_eps
fhn.w_lat = B[1][2]
local fv = (fu + fhn.fhn_a) / fhn.fhn_b
fhn.fhn_I = fv - fu + fu ^ 3 / 3
-- one small perturbation d_j (u, v) per site, the same for every chain (P^-1 d in the changed basis)
local amp = 1e-4
local d = {}
for j = 0, n - 1 do
  local r, th = math.sqrt(-2 * math.log(1 - math.random())), 2 * math.pi * math.random()
  local r2, th2 = math.sqrt(-2 * math.log(1 - math.random())), 2 * math.pi * math.random()
  d[j] = {amp * r * math.cos(th), amp * r2 * math.cos(th2)}
end
local function start(x0, T)              -- initial u, v: x0 + T d_j per site (T: the basis change or nil)
  local function comp(c)
    return function(i)
      local a, b = d[i][1], d[i][2]
      if T then a, b = T[1][1] * d[i][1] + T[1][2] * d[i][2], T[2][1] * d[i][1] + T[2][2] * d[i][2] end
      return x0[c] + (c == 1 and a or b)
    end
  end
  return {u = comp(1), v = comp(2)}
end
local net = nsim.network{dt = dt}
local pops = {
  {"linear A,B", net:population("ei_lattice", n, linear(A, B), start({0, 0}), {name = "linear", solver = "rk4"}), 0},
  {"linear P^-1 A P,P^-1 B P", net:population("ei_lattice", n, linear(A2, B2), start({0, 0}, Pi),
                                              {name = "changed", solver = "rk4"}), 0},
  {"Wilson-Cowan", net:population("ei_lattice", n, wc, start({0.5, 0.5}), {name = "wilson_cowan", solver = "rk4"}), 0.5},
  {"FitzHugh-Nagumo", net:population("ei_lattice", n, fhn, start({fu, fv}), {name = "fitzhugh_nagumo", solver = "rk4"}), fu}}
-- (the third entry: u*, taken off u before projecting onto the modes)
local qs = {0, 2, 4, 8, 12, 16, 24, 32, 48, 64}
local rec = {}
for p = 1, #pops do rec[p] = {} for _, q in ipairs(qs) do rec[p][q] = {{}, {}} end end
local ts = dt * every
local ns = math.floor(t_ms / ts + 0.5)
local u = {}
for s = 1, ns do
  net:run(ts)
  for p, pp in ipairs(pops) do
    for j = 0, n - 1 do u[j] = pp[2]:state("u", j) - pp[3] end
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
local wmax = math.sqrt(m2 + w * 4) * 1.2
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
local series, theory, resid = {}, {x = {}, y = {}}, {}
for p, pp in ipairs(pops) do
  local sx, sy, ry = {}, {}, {}
  for _, q in ipairs(qs) do
    local k = 2 * math.pi * q / (n * h)
    local lam = 4 * math.sin(k * h / 2) ^ 2
    local wth = math.sqrt(m2 + w * lam)              -- det(A - lambda B) = det A + lambda w (B nilpotent)
    local wm = peak(rec[p][q])
    worst = math.max(worst, math.abs(wm - wth) / bin)
    f:write(string.format("\"%s\",%.10g,0,%.10g,%.10g\n", pp[1], k, wm, wth))
    sx[#sx + 1], sy[#sy + 1], ry[#ry + 1] = k * 1000, wm, (wm - wth) / bin
    if p == 1 then theory.x[#theory.x + 1], theory.y[#theory.y + 1] = k * 1000, wth end
  end
  series[#series + 1] = {name = pp[1] .. ", measured", x = sx, y = sy, points = true}
  resid[#resid + 1] = {name = pp[1], x = sx, y = ry, points = true}
end
f:close()
series[#series + 1] = {name = "theory: omega^2 = det(A - lambda_k B)", x = theory.x, y = theory.y}
nsim.plot{series = series, file = "canonical.png",
          title = "four ei_lattice chains with one linearisation: one dispersion (their dots coincide)",
          x_label = "k (rad/mm)", y_label = "omega (rad/ms)"}
nsim.plot{series = resid, file = "canonical_residual.png",
          title = "each chain's measured omega minus the theory, in frequency bins",
          x_label = "k (rad/mm)", y_label = string.format("omega measured - theory (bins of %.4f rad/ms)", bin)}
print(string.format("kg_canonical: P = [[%.4f, %.4f], [%.4f, %.4f]]; %d modes each over %g ms (bin %.4f rad/ms); worst |measured - theory| = %.3f bin",
      P[1][1], P[1][2], P[2][1], P[2][2], #qs, T, bin, worst))
