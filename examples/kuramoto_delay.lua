-- examples/kuramoto_delay.lua — Yeung & Strogatz (1999): N identical phase oscillators, all to all
-- with one delay tau, lock in phase at frequencies Omega solving Omega = omega - K sin(Omega tau),
-- stable iff K cos(Omega tau) > 0; for large K tau several coexist. For each (K, tau) of a small
-- grid and each root, the units run uncoupled at that root's frequency for tau + 1 ms (the delay
-- lines fill with the locked history), 1e-3 rad apart, then the coupling is switched on: stable
-- roots keep their units and frequency, unstable ones are left. Writes locking.csv
-- (kappa,tau_ms,omega_measured,omega_theory,stable: omega_theory the root started on), order.csv
-- (R(t) after the switch for K = 2, tau = 3 ms), locking.png and order.png.
--   nsim run examples/kuramoto_delay.lua [--set t_ms=400]
local t_ms = nsim.param("t_ms", 400)            -- ms after the switch-on; the last 50 ms measure Omega
if t_ms < 100 then error(string.format("t_ms = %g: at least 100 ms (50 to settle, the last 50 measure)", t_ms)) end
local N, omega, dt = 8, 1.0, 0.01               -- units per start, rad/ms, ms
local kappas, taus = {1, 2}, {1, 2, 3, 4}       -- rad/ms, ms
local eps = 1e-3                                -- rad between neighbouring units at the switch

-- every root of g(x) = x - omega + K sin(x tau) (they lie within omega +- K): a scan and bisection
local function roots(K, tau)
  local r, lo, hi, M = {}, omega - K - 0.01, omega + K + 0.01, 40000
  local g = function(x) return x - omega + K * math.sin(x * tau) end
  local a, ga = lo, g(lo)
  for k = 1, M do
    local b = lo + (hi - lo) * k / M
    local gb = g(b)
    if (ga < 0) ~= (gb < 0) then
      local x0, x1 = a, b
      for _ = 1, 100 do
        local m = 0.5 * (x0 + x1)
        if (g(m) < 0) == (ga < 0) then x0 = m else x1 = m end
      end
      r[#r + 1] = 0.5 * (x0 + x1)
    end
    a, ga = b, gb
  end
  return r
end

local net = nsim.network{dt = dt}
local runs = {}
local th0 = {}
for i = 1, N do th0[i] = eps * (i - 1) end
for _, K in ipairs(kappas) do
  for _, tau in ipairs(taus) do
    for _, r in ipairs(roots(K, tau)) do
      local name = string.format("K%g_tau%g_%d", K, tau, #runs + 1)
      local P = net:population("kuramoto", N, {K = 0}, {omega = r, theta = th0}, name)
      net:connect_graded(P, P, {weights = 1 / N, delay = tau})   -- K/N all to all: weights 1/N
      runs[#runs + 1] = {P = P, K = K, tau = tau, root = r, stable = K * math.cos(r * tau) > 0}
    end
  end
end

-- the locked history, then the coupling on and every unit back to omega
net:run(taus[#taus] + 1)
for _, u in ipairs(runs) do u.P:set{K = u.K}; u.P:set_state("omega", omega) end

local function R(P)
  local s, c = 0, 0
  for j = 0, N - 1 do local t = P:state("theta", j); s = s + math.sin(t); c = c + math.cos(t) end
  return math.sqrt(s * s + c * c) / N
end

-- R(t) over the first 80 ms after the switch, for the starts of K = 2, tau = 3
local shown = {}
for _, u in ipairs(runs) do if u.K == 2 and u.tau == 3 then shown[#shown + 1] = u end end
local t0 = net.time
local ord = io.open(nsim.outdir() .. "/order.csv", "w")
local head = {"time_ms"}
for _, u in ipairs(shown) do head[#head + 1] = string.format("R_root_%.4f", u.root) end
ord:write(table.concat(head, ","), "\n")
local series = {}
for k, u in ipairs(shown) do
  series[k] = {name = string.format("root %.3f rad/ms (%s)", u.root, u.stable and "stable" or "unstable"), x = {}, y = {}}
end
local every, span = 0.5, math.min(80, t_ms - 50)
for s = 1, math.floor(span / every + 0.5) do
  net:run(every)
  local row = {string.format("%.6g", net.time - t0)}
  for k, u in ipairs(shown) do
    local v = R(u.P)
    row[#row + 1] = string.format("%.9f", v)
    series[k].x[s], series[k].y[s] = net.time - t0, v
  end
  ord:write(table.concat(row, ","), "\n")
end
ord:close()
nsim.plot{series = series, file = "order.png", title = "Yeung-Strogatz, K = 2 rad/ms, tau = 3 ms: after the switch-on",
          x_label = "time after the switch-on (ms)", y_label = "order parameter R"}

-- the frequency over the last 50 ms
net:run(t_ms - 50 - (net.time - t0))
local a = {}
for k, u in ipairs(runs) do a[k] = u.P:state("theta", 0) end
net:run(50)
local f = io.open(nsim.outdir() .. "/locking.csv", "w")
f:write("kappa,tau_ms,omega_measured,omega_theory,stable\n")
local th, ms, worst, left = {}, {}, 0, 0
for k, u in ipairs(runs) do
  local w = (u.P:state("theta", 0) - a[k]) / 50
  u.measured = w
  f:write(string.format("%g,%g,%.12f,%.12f,%d\n", u.K, u.tau, w, u.root, u.stable and 1 or 0))
  if u.stable then
    th[#th + 1], ms[#ms + 1] = u.root, w
    worst = math.max(worst, math.abs(w - u.root))
  elseif math.abs(w - u.root) > 0.01 then
    left = left + 1
  end
end
f:close()
-- the theory's branches over tau (sin(Omega tau) = (omega - Omega)/K: tau = (asin + 2 pi n)/Omega is
-- stable, (pi - asin + 2 pi n)/Omega unstable), pieces apart by NaN, and the measured frequencies as dots
local nan, tmax = 0 / 0, taus[#taus] + 0.2
local lines = {}
for _, K in ipairs(kappas) do
  for st = 1, 0, -1 do
    local x, y = {}, {}
    for n = 0, 6 do
      for k = 1, 2000 do
        local W = (omega + K) * k / 2000
        local a = math.asin(math.max(-1, math.min(1, (omega - W) / K)))
        local tau = ((st == 1 and a or math.pi - a) + 2 * math.pi * n) / W
        if tau > 0 and tau <= tmax then x[#x + 1], y[#y + 1] = tau, W
        elseif x[#x] == x[#x] and #x > 0 then x[#x + 1], y[#y + 1] = nan, nan end
      end
      x[#x + 1], y[#y + 1] = nan, nan
    end
    lines[#lines + 1] = {name = string.format("K = %g, %s", K, st == 1 and "stable" or "unstable"), x = x, y = y}
  end
end
local mx, my = {}, {}
for k, u in ipairs(runs) do
  mx[#mx + 1], my[#my + 1] = u.tau, u.measured
  mx[#mx + 1], my[#my + 1] = nan, nan
end
lines[#lines + 1] = {name = "measured", x = mx, y = my}
nsim.plot{series = lines, file = "locking.png", title = "Yeung-Strogatz: in-phase locking of 8 delayed oscillators, omega = 1 rad/ms",
          x_label = "delay tau (ms)", y_label = "locked frequency Omega (rad/ms)"}
local nun = #runs - #th
print(string.format("kuramoto_delay: %d starts; stable roots kept (worst |measured - theory| %.2g rad/ms); %d of %d unstable left",
      #runs, worst, left, nun))
