-- examples/cfc_vs_ltc.lua — the same small network of 32 liquid time-constant units, driven by
-- a sum of sines sampled at irregular times, run four ways: LTC on CVODE at rtol 1e-10 (the
-- reference), LTC on CVODE at rtol 1e-6, LTC on ncps's fused semi-implicit solver, and a CfC
-- layer (the closed-form units; with its own, untrained weights it is a different network, so
-- its column shows speed only). traces.png overlays a unit's trajectories; timing.csv holds
-- wall time and RMS error against the reference.
--   nsim run examples/cfc_vs_ltc.lua [--set t_ms=2000] [--set units=32]
local t_ms  = nsim.param("t_ms", 2000)
local units = nsim.param("units", 32)
local dt    = 1.0                      -- ms per step
local scale = 10.0                     -- ms per unit of the cells' time
math.randomseed(7)
local times, values = {}, {}
local t = 0
while t < t_ms do                      -- irregular sampling: gaps of 1 to 20 ms
  local s = t / 1000
  times[#times + 1] = t
  values[#values + 1] = {math.sin(2 * math.pi * 3 * s) + 0.5 * math.sin(2 * math.pi * 7.3 * s),
                         math.cos(2 * math.pi * 1.7 * s)}
  t = t + math.random(1, 20)
end

local runs = {
  {name = "ltc_cvode_1e-10", model = "ltc", opts = {solver = "cvode_bdf", rtol = 1e-10, atol = 1e-10}},
  {name = "ltc_cvode_1e-6",  model = "ltc", opts = {solver = "cvode_bdf", rtol = 1e-6, atol = 1e-8}},
  {name = "ltc_fused",       model = "ltc", opts = {solver = "fused"}},
  {name = "cfc",             model = "cfc", opts = {}},
}
local function read_trace(file, var)   -- {t = {...}, [neuron] = {...}} of a state record
  local out, tt, last = {}, {}, nil
  for line in io.lines(nsim.outdir() .. "/" .. file) do
    local a, b, c = line:match("^([^,]+),([^,]+),([^,]+)$")
    if a and a ~= "t_ms" then
      local tv, n, v = tonumber(a), tonumber(b), tonumber(c)
      if tv ~= last then tt[#tt + 1] = tv; last = tv end
      out[n] = out[n] or {}
      out[n][#out[n] + 1] = v
    end
  end
  out.t = tt
  return out
end

local traces, rows, series = {}, {}, {}
for _, r in ipairs(runs) do
  local net = nsim.network{dt = dt}
  local opts = {name = r.name, seed = 42}
  for k, v in pairs(r.opts) do opts[k] = v end
  local pop = net:population(r.model, units, {inputs = 2, time_scale = scale}, nil, opts)
  net:signal(pop, {times = times, values = values})
  local var = r.model == "ltc" and "v" or "h"
  local file = r.name .. ".csv"
  net:record_state(pop, {vars = var, neurons = {0, 1, 2, 3}, interval = dt, file = file})
  net:run(t_ms)
  r.wall = net.simulate_s
  traces[r.name] = read_trace(file, var)
  series[#series + 1] = {name = r.name, x = traces[r.name].t, y = traces[r.name][0]}
end
local ref = traces["ltc_cvode_1e-10"]
for _, r in ipairs(runs) do
  local err = "-"
  if r.model == "ltc" then
    local sum, n = 0, 0
    for unit = 0, 3 do
      for k, v in ipairs(traces[r.name][unit]) do sum = sum + (v - ref[unit][k]) ^ 2; n = n + 1 end
    end
    err = string.format("%.3g", math.sqrt(sum / n))
  end
  rows[#rows + 1] = string.format("%s,%.6f,%s", r.name, r.wall, err)
  print(string.format("%-16s wall %8.4f s   RMS error against CVODE 1e-10: %s", r.name, r.wall, err))
end
print(string.format("LTC on CVODE (1e-10) / CfC wall time: %.0f", runs[1].wall / runs[4].wall))
local f = io.open(nsim.outdir() .. "/timing.csv", "w")
f:write("run,wall_s,rms_error_vs_cvode_1e-10\n", table.concat(rows, "\n"), "\n")
f:close()
nsim.plot{series = series, file = "traces.png", title = "Unit 0: LTC three ways and CfC, one sampled signal",
          x_label = "time (ms)", y_label = "state (dimensionless)"}
