-- examples/s2net_ring.lua — phase oscillators on a ring with delays (MODELS.md §9, P3): each unit
-- coupled to its two neighbours, K/2 per side (weights 0.5), delay tau. From the twisted phases
-- theta_i = 2 pi q i / N (q = 0..3) identical units lock at Omega = omega - K sin(Omega tau)
-- cos(2 pi q / N) and keep the twist; with spread natural frequencies (normal, sd 0.3 rad/ms) and
-- the same coupling they neither lock nor drift apart: R(t) stays partial and fluctuates.
-- Writes ring.csv (q,omega_measured,omega_theory), order.csv (time_ms,R_partial,R_q0), phase.csv
-- (sin(theta_i - Wbar t) of the partial ring in a frame turning at its mean frequency Wbar, one row
-- per ms, one column per unit: `nsim plot heatmap out/s2net_ring/phase.csv --out phase.png` draws
-- units across and time up: groups that hold together are bands of one colour, slips are stripes),
-- order.png and phases.png.
--   nsim run examples/s2net_ring.lua [--set t_ms=600]
local t_ms = nsim.param("t_ms", 600)            -- the last 50 ms measure the frequencies
if t_ms < 100 then error(string.format("t_ms = %g: at least 100 ms (the last 50 measure the frequencies)", t_ms)) end
local N, omega, K, tau, dt = 20, 1.0, 1.0, 1.0, 0.01   -- units, rad/ms, rad/ms, ms, ms
local NP, sd = 32, 0.3                          -- the partial ring: units, frequency sd (rad/ms)

local net = nsim.network{dt = dt}
local function ring(P, n)                       -- nearest neighbours, K/2 per side
  local pre, post, w = {}, {}, {}
  for i = 0, n - 1 do
    for _, j in ipairs({(i + 1) % n, (i + n - 1) % n}) do pre[#pre + 1], post[#post + 1], w[#w + 1] = j, i, 0.5 end
  end
  net:connect_graded(P, P, {rule = "list", pre = pre, post = post, weights = w, delay = tau})
end

local twisted = {}
for q = 0, 3 do
  local th = {}
  for i = 0, N - 1 do th[i + 1] = 2 * math.pi * q * i / N end
  local P = net:population("kuramoto", N, {K = K}, {omega = omega, theta = th}, "q" .. q)
  ring(P, N)
  twisted[q] = P
end
local Pp = net:population("kuramoto", NP, {K = K}, {omega = nsim.normal(omega, sd), theta = nsim.uniform(0, 0.5)},
                          "partial")
ring(Pp, NP)

local function R(P, n)
  local s, c = 0, 0
  for j = 0, n - 1 do local t = P:state("theta", j); s = s + math.sin(t); c = c + math.cos(t) end
  return math.sqrt(s * s + c * c) / n
end

local ts, rp, r0, rows = {}, {}, {}, {}
local steps = math.floor(t_ms + 0.5)
local a = {}
for s = 1, steps do
  if s == steps - 49 then                         -- the start of the last 50 ms
    for q = 0, 3 do a[q] = {} for j = 0, N - 1 do a[q][j] = twisted[q]:state("theta", j) end end
  end
  net:run(1.0)
  ts[s], rp[s], r0[s] = net.time, R(Pp, NP), R(twisted[0], N)
  local row = {}
  for j = 0, NP - 1 do row[j + 1] = Pp:state("theta", j) end
  rows[s] = row
end
local ord = io.open(nsim.outdir() .. "/order.csv", "w")   -- the folder exists once the network has run
ord:write("time_ms,R_partial,R_q0\n")
for s = 1, steps do ord:write(string.format("%g,%.9f,%.9f\n", ts[s], rp[s], r0[s])) end
ord:close()
local ph = io.open(nsim.outdir() .. "/phase.csv", "w")
local head = {}
for j = 0, NP - 1 do head[j + 1] = "unit" .. j end
ph:write(table.concat(head, ","), "\n")
local wbar = 0                                  -- the ring's mean frequency, for a frame rotating with it
for j = 1, NP do wbar = wbar + (rows[steps][j] - rows[1][j]) / (ts[steps] - ts[1]) / NP end
for s = 1, steps do
  local row = {}
  for j = 1, NP do row[j] = string.format("%.6f", math.sin(rows[s][j] - wbar * ts[s])) end
  ph:write(table.concat(row, ","), "\n")
end
ph:close()

-- the twisted states' frequencies (every unit's mean over the last 50 ms) against the root of
-- Omega = omega - K sin(Omega tau) cos(2 pi q / N), unique here (K tau <= 1), by bisection
local f = io.open(nsim.outdir() .. "/ring.csv", "w")
f:write("q,omega_measured,omega_theory\n")
local worst = 0
for q = 0, 3 do
  local c = math.cos(2 * math.pi * q / N)
  local lo, hi = omega - K - 0.01, omega + K + 0.01
  for _ = 1, 200 do
    local m = 0.5 * (lo + hi)
    if m - omega + K * c * math.sin(m * tau) > 0 then hi = m else lo = m end
  end
  local w = 0
  for j = 0, N - 1 do w = w + (twisted[q]:state("theta", j) - a[q][j]) / 50 / N end
  worst = math.max(worst, math.abs(w - lo))
  f:write(string.format("%d,%.12f,%.12f\n", q, w, 0.5 * (lo + hi)))
end
f:close()

-- figures: R(t), and each ring's phases against the unit (relative to unit 0, wrapped to [0, 2 pi))
nsim.plot{series = {{name = "spread frequencies (sd 0.3 rad/ms)", x = ts, y = rp}, {name = "identical, q = 0", x = ts, y = r0}},
          file = "order.png", title = "Ring of delayed phase oscillators: order parameter R(t)",
          x_label = "time (ms)", y_label = "order parameter R"}
local series = {}
for q = 0, 3 do
  local x, y = {}, {}
  for j = 0, N - 1 do
    x[j + 1] = j
    y[j + 1] = (twisted[q]:state("theta", j) - twisted[q]:state("theta", 0)) % (2 * math.pi)
  end
  series[#series + 1] = {name = "q = " .. q, x = x, y = y}
end
local x, y = {}, {}
for j = 0, NP - 1 do x[j + 1] = j; y[j + 1] = (Pp:state("theta", j) - Pp:state("theta", 0)) % (2 * math.pi) end
series[#series + 1] = {name = "spread frequencies", x = x, y = y}
nsim.plot{series = series, file = "phases.png", title = string.format("Phases along the ring at t = %g ms", net.time),
          x_label = "unit", y_label = "theta_i - theta_0 mod 2 pi (rad)"}

local m, m2, n = 0, 0, 0
for s = math.min(201, steps), steps do m, m2, n = m + rp[s], m2 + rp[s] ^ 2, n + 1 end
m = m / n
print(string.format("s2net_ring: twisted q = 0..3 within %.2g rad/ms of theory; spread ring mean R %.3f, sd %.3f over time",
      worst, m, math.sqrt(math.max(m2 / n - m * m, 0))))
