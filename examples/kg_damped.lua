-- examples/kg_damped.lua — a kg_field with m = gamma is NFTsim's wave propagator: the impulse response
-- of each lattice mode, Fourier transformed, against 1/[(1 - i omega/gamma)^2 + k^2 r^2] with
-- NFTsim's e-cortical parameters (gamma = 30 /s, r = 0.2 m, so v = r gamma = 6 m/s). Writes
-- transfer.csv (f_hz,k_per_m,gain_measured,gain_theory), the gain being gamma^2 |phi(k, omega)|
-- for a unit impulse (the response to gamma^2 Q, as the formula is normalised).
--   nsim run examples/kg_damped.lua [--set t_ms=400]
-- The lattice: a periodic line of 512 sites 5 mm apart (2.56 m round, more than a cortex, so that
-- its modes k = 2 pi q / 2.56 m, q = 0..6, span k r = 0 .. 2.9; h = r/40 keeps the lattice's
-- k^2 within 0.2 % of the continuum's). Starting from phi = noise with phi_prev = 0 is exactly an
-- impulse one step before t = 0 in every mode at once: each mode's amplitude divided by its first
-- value is that mode's impulse response, whatever the noise drew.
local t_ms = nsim.param("t_ms", 400)               -- 12 / gamma: the response has decayed to 6e-6
local n, h, dt = 512, 5000, 0.25                    -- sites, µm, ms
local gamma, r = 0.03, 2e5                          -- 1/ms (30 /s), µm (0.2 m)
local v = r * gamma                                 -- µm/ms (6 m/s)
local net = nsim.network{dt = dt}
local K = net:population("kg_field", n, {nx = n, ny = 1, h = h, c = v, m = gamma, gamma = gamma},
                         {phi = nsim.normal(0, 1), phi_prev = 0}, {name = "K", seed = 3})
local Q = 6
local re, im = {}, {}
for q = 0, Q do re[q], im[q] = {}, {} end
local ns = math.floor(t_ms / dt + 0.5)
local cs, sn = {}, {}
for q = 0, Q do
  cs[q], sn[q] = {}, {}
  for j = 0, n - 1 do cs[q][j], sn[q][j] = math.cos(2 * math.pi * q * j / n), math.sin(2 * math.pi * q * j / n) end
end
local phi = {}
for s = 0, ns do
  if s > 0 then net:run(dt) end
  for j = 0, n - 1 do phi[j] = K:state("phi", j) end
  for q = 0, Q do
    local a, b = 0, 0
    for j = 0, n - 1 do a = a + phi[j] * cs[q][j]; b = b - phi[j] * sn[q][j] end
    re[q][s], im[q][s] = a, b
  end
end
local f = io.open(nsim.outdir() .. "/transfer.csv", "w")
f:write("f_hz,k_per_m,gain_measured,gain_theory\n")
local worst = 0
local fig = {}                                       -- the figure's series: measured and theory per k
for q = 0, Q do
  local k = 2 * math.pi * q / (n * h)                -- rad/µm
  -- the impulse response at t = (s + 1) dt: the mode's amplitude over its first, times phi^0 of a
  -- unit impulse, dt / (1 + gamma dt); the ratio is real (both parts obey one real recurrence)
  local a0, b0 = re[q][0], im[q][0]
  local g = {}
  for s = 0, ns do g[s] = (re[q][s] * a0 + im[q][s] * b0) / (a0 * a0 + b0 * b0) * dt / (1 + gamma * dt) end
  for fhz = 0, 20, 2 do
    local w = 2 * math.pi * fhz / 1000               -- rad/ms
    local hr, hi = 0, 0
    for s = 0, ns do
      local t = (s + 1) * dt
      hr = hr + g[s] * math.cos(w * t) * dt; hi = hi + g[s] * math.sin(w * t) * dt
    end
    local gm = gamma * gamma * math.sqrt(hr * hr + hi * hi)
    local x = w / gamma                              -- (1 - i x)^2 + (k r)^2 = 1 - x^2 + k^2 r^2 - 2 i x
    local gt = 1 / math.sqrt((1 - x * x + (k * r) ^ 2) ^ 2 + 4 * x * x)
    worst = math.max(worst, math.abs(gm / gt - 1))
    f:write(string.format("%g,%.10g,%.10g,%.10g\n", fhz, k * 1e6, gm, gt))
    if q % 2 == 0 then
      local key = string.format("k r = %.2f", k * r)
      if not fig[key] then
        fig[key] = {m = {}, t = {}, f = {}}
        fig[#fig + 1] = key
      end
      local e = fig[key]
      e.f[#e.f + 1], e.m[#e.m + 1], e.t[#e.t + 1] = fhz, gm, gt
    end
  end
end
f:close()
local series = {}
for _, key in ipairs(fig) do
  series[#series + 1] = {name = key .. ", measured", x = fig[key].f, y = fig[key].m, points = true}
  series[#series + 1] = {name = key .. ", propagator", x = fig[key].f, y = fig[key].t}
end
nsim.plot{series = series, y_log = true, file = "transfer.png",
          title = "kg_field, m = gamma: impulse response against 1/[(1 - i omega/gamma)^2 + k^2 r^2]",
          x_label = "frequency (Hz)", y_label = "gain (normalised to gamma^2 Q)"}
print(string.format("kg_damped: %d modes (k r = 0 .. %.2f) x 11 frequencies (0 .. 20 Hz); worst |measured/theory - 1| = %.2e",
      Q + 1, 2 * math.pi * Q / (n * h) * r, worst))
