-- examples/kg_equipartition.lua — equipartition in a kg_field: a periodic 128 x 128 field, weakly
-- damped and forced by white noise, settles with every mode holding the same mean energy, so a
-- site's power spectrum is the sum over modes of sigma^2/(4 gamma N omega_k^2) in each frequency
-- bin: g(omega)/omega^2 from the exact lattice density of states. Writes site_psd.csv
-- (f_hz,psd,psd_theory) and prints the mass gap and both slopes over the band [2m, 0.35 omega_max]
-- (MODELS.md's example band [2m, 0.15 omega_max] holds only 3 bins of 10 Hz here).
--   nsim run examples/kg_equipartition.lua [--set t_ms=1500]
local t_ms = nsim.param("t_ms", 1500)              -- recorded, after a warm-up of 4 / (2 gamma)
local n, h, c, m, gamma, sigma, dt = 128, 100, 100, 0.1, 0.005, 0.1, 0.25
local every, seg = 0.5, 200                         -- ms per sample, samples per Welch segment
local net = nsim.network{dt = dt}
local K = net:population("kg_field", n * n, {nx = n, ny = n, h = h, c = c, m = m, gamma = gamma, sigma = sigma},
                         nil, {name = "K", seed = 11})
local warm = 400                                   -- ms: the mode energies reach 1 - exp(-4) of equilibrium
local sites = {}
for a = 0, 7 do for b = 0, 7 do sites[#sites + 1] = (16 * a + 3) * n + 16 * b + 5 end end
net:record_state(K, {vars = {"phi"}, neurons = sites, interval = every, file = "site.csv"})
net:run(warm + t_ms)
-- the samples after the warm-up, into a working copy, and their mean spectrum over the 64 sites
local out = io.open(nsim.outdir() .. "/site_eq.csv", "w")
for line in io.lines(nsim.outdir() .. "/site.csv") do
  local t = tonumber(line:match("^([^,]*),"))
  if not t or t > warm then out:write(line, "\n") end
end
out:close()
local P = nsim.psd("site_eq.csv", {var = "phi", segment = seg})
os.remove(nsim.outdir() .. "/site_eq.csv")          -- a working copy: site.csv holds it all
local df = P.f[2] - P.f[1]                          -- Hz
-- theory: each mode (leapfrog's frequency) adds sigma^2 / (4 gamma N omega_k^2) to its bin
local th = {}
for i = 1, #P.f do th[i] = 0 end
local wmax = 2 / dt * math.asin(dt / 2 * math.sqrt(m * m + 8 * c * c / (h * h)))
for qx = 0, n - 1 do
  for qy = 0, n - 1 do
    local w2 = m * m + 4 * c * c / (h * h) * (math.sin(math.pi * qx / n) ^ 2 + math.sin(math.pi * qy / n) ^ 2)
    local w = 2 / dt * math.asin(dt / 2 * math.sqrt(w2))
    local i = math.floor(w * 1000 / (2 * math.pi) / df + 0.5) + 1
    if i <= #P.f then th[i] = th[i] + sigma * sigma / (4 * gamma * n * n * w * w) / df end
  end
end
local f = io.open(nsim.outdir() .. "/site_psd.csv", "w")
f:write("f_hz,psd,psd_theory\n")
for i = 1, #P.f do f:write(string.format("%.10g,%.10g,%.10g\n", P.f[i], P.phi[i], th[i])) end
f:close()
-- the slope of log psd against log f over the band, by least squares, for both columns
local lo, hi = 2 * m * 1000 / (2 * math.pi), 0.35 * wmax * 1000 / (2 * math.pi)
local function slope(col)
  local sx, sy, sxx, sxy, k = 0, 0, 0, 0, 0
  for i = 1, #P.f do
    if P.f[i] >= lo and P.f[i] <= hi and col[i] > 0 then
      local x, y = math.log(P.f[i]), math.log(col[i])
      sx, sy, sxx, sxy, k = sx + x, sy + y, sxx + x * x, sxy + x * y, k + 1
    end
  end
  return (k * sxy - sx * sy) / (k * sxx - sx * sx), k
end
local sm, nb = slope(P.phi)
local st = slope(th)
print(string.format("kg_equipartition: mass gap %.2f Hz (m = %g rad/ms); band [2m, 0.35 omega_max] = [%.1f, %.1f] Hz, %d bins: slope measured %.3f, theory %.3f",
      m * 1000 / (2 * math.pi), m, lo, hi, nb, sm, st))
-- the figure: the site spectrum beside the mode sum, log-log; the mass gap and the fitted band shaded
local fm, pm, ft, pt = {}, {}, {}, {}
for i = 2, #P.f do                                   -- f = 0 has no place on a log axis
  if P.phi[i] > 0 then fm[#fm + 1], pm[#pm + 1] = P.f[i], P.phi[i] end
  if th[i] > 0 then ft[#ft + 1], pt[#pt + 1] = P.f[i], th[i] end   -- no mode below the gap
end
nsim.plot{series = {{name = "site phi, measured (Welch)", x = fm, y = pm, points = true},
                    {name = "lattice density of states: sum of sigma^2/(4 gamma N w_k^2)", x = ft, y = pt}},
          x_log = true, y_log = true, file = "site_psd.png",
          title = string.format("kg_field %d x %d under white noise: one site's spectrum (gap %.1f Hz)", n, n,
                                m * 1000 / (2 * math.pi)),
          x_label = "frequency (Hz)", y_label = "power (1/Hz)"}
