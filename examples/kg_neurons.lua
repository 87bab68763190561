-- examples/kg_neurons.lua — fields and neurons in one network: a kick of spikes from a few neurons
-- at the centre of a Klein-Gordon lattice (kg_field) starts a circular wave; lif neurons on the
-- same grid feel the field as a current (rule site) and fire in its wake, their spikes feeding the
-- field back. Writes spikes.csv, snapshot.csv (phi at t_snap, a matrix), wave_arrival.csv
-- (distance from the kick vs the neurons' mean first spike time), wave_speed.csv (the front's speed
-- fitted to it, beside c) and a raster.
--   nsim run examples/kg_neurons.lua [--set t_ms=14]
--   nsim plot heatmap OUT/snapshot.csv --out OUT/snapshot.png   (the field beside the raster)
local t_ms   = nsim.param("t_ms", 14)
local t_snap = nsim.param("t_snap", 6)
local nx, h  = 64, 50                 -- sites a side, spacing (µm): a 3.2 mm square
local c      = 200                    -- wave speed, µm/ms (0.2 m/s); m = 0: the front moves at c
local dt     = 0.05                   -- leapfrog's bound here: h / (c sqrt 2) = 0.177 ms
local net    = nsim.network{dt = dt}
local grid   = {nx = nx, ny = nx, spacing = h}
local K = net:population("kg_field", nx * nx, {nx = nx, ny = nx, h = h, c = c, m = 0, gamma = 0.02,
                                              boundary = 2, sponge_width = 6}, nil, {name = "field", grid = grid})
-- neurons, one per site; a long refractory time: each fires once as the wave passes
local cell = {C_m = 250, tau_m = 5, E_L = -65, V_th = -55, V_reset = -65, t_ref = 100, tau_ex = 2, tau_in = 2}
local N = net:population("lif", nx * nx, cell, nil, {name = "neurons", grid = grid})
-- the kick: 3 x 3 neurons at the centre, driven to fire once at about 1 ms
local mid, kick_xy = nx * h / 2, {}
for j = -1, 1 do for i = -1, 1 do kick_xy[#kick_xy + 1] = {mid + i * h, mid + j * h} end end
local kick = net:population("lif", 9, cell, nil, {name = "kick", positions = kick_xy})
net:dc(kick, {amplitude = 4000, start = 0, stop = 2})
local w_kick, w_back, pA = 4000, 300, 600   -- field units / ms^2 per spike; pA per field unit
net:connect(kick, K, {rule = "site", weight = w_kick, delay = dt})     -- spikes -> s at their sites
net:connect(N, K, {rule = "site", weight = w_back, delay = dt})
net:connect_graded(K, N, {rule = "site", weight = pA, delay = dt})      -- phi -> current (pA)
local spikes = net:record_spikes({N, kick}, {file = "spikes.csv"})
net:run(t_snap)
local out = nsim.outdir()
local profile = {x = {}, y = {}}                         -- phi along the middle row at t_snap
for k = 0, nx - 1 do profile.x[k + 1], profile.y[k + 1] = (k + 0.5) * h, K:state("phi", (nx // 2) * nx + k) end
local f = io.open(out .. "/snapshot.csv", "w")           -- row r: y = r (sites), column: x
for r = 0, nx - 1 do
  local row = {}
  for k = 0, nx - 1 do row[#row + 1] = string.format("%.6g", K:state("phi", r * nx + k)) end
  f:write(table.concat(row, ","), "\n")
end
f:close()
net:run(t_ms - t_snap)
-- first spike of each neuron, by its distance from the kick's centre (bins of 2 h)
local first, id0 = {}, N.first
for line in io.lines(out .. "/spikes.csv") do
  local t, id = line:match("^([%d.]+),(%d+)")
  if t then
    local k = tonumber(id) - id0
    if k >= 0 and k < nx * nx and not first[k] then first[k] = tonumber(t) end
  end
end
local bins, bw = {}, 2 * h
for k, t in pairs(first) do
  local x, y = (k % nx + 0.5) * h, (k // nx + 0.5) * h
  local b = math.floor(math.sqrt((x - mid) ^ 2 + (y - mid) ^ 2) / bw)
  bins[b] = bins[b] or {n = 0, t = 0}
  bins[b].n, bins[b].t = bins[b].n + 1, bins[b].t + t
end
-- a least-squares line t = t0 + r / v over the bins from 3 h to 1 mm (clear of the kick and the sponge)
local sx, sy, sxx, sxy, nb = 0, 0, 0, 0, 0
local rows = {}
for b = 0, nx do
  if bins[b] then
    local r, t = (b + 0.5) * bw, bins[b].t / bins[b].n
    rows[#rows + 1] = {r, t, bins[b].n}
    if r >= 3 * h and r <= 1000 then sx, sy, sxx, sxy, nb = sx + r, sy + t, sxx + r * r, sxy + r * t, nb + 1 end
  end
end
local slope = (nb * sxy - sx * sy) / (nb * sxx - sx * sx)
local v = 1 / slope
f = io.open(out .. "/wave_speed.csv", "w")
f:write("speed_fit_um_per_ms,c_um_per_ms,r_lo_um,r_hi_um\n", string.format("%.6g,%g,%g,%g\n", v, c, 3 * h, 1000))
f:close()
f = io.open(out .. "/wave_arrival.csv", "w")
f:write("r_um,first_spike_ms,neurons\n")
for _, row in ipairs(rows) do f:write(string.format("%g,%.4f,%d\n", row[1], row[2], row[3])) end
f:close()
print(string.format("kg_neurons: %d neurons fired; the front moves at %.1f µm/ms (c = %g µm/ms, %.1f%%)",
      N.spikes, v, c, 100 * (v - c) / c))
nsim.raster(spikes, "raster.png", {title = "lif neurons on the field's grid fire in the wave's wake"})
-- beside it, the field: phi along the middle row at t_snap, and where the neurons' front was then
local r_fired, peak = 0, 0
for _, row in ipairs(rows) do if row[2] <= t_snap then r_fired = math.max(r_fired, row[1]) end end
for _, p in ipairs(profile.y) do peak = math.max(peak, p) end
local first_at = {x = {mid - r_fired, mid + r_fired}, y = {1.05 * peak, 1.05 * peak}}
nsim.plot{series = {{name = string.format("phi at %g ms (middle row)", t_snap), x = profile.x, y = profile.y},
                    {name = "span of the neurons fired by then (mean first spike)", x = first_at.x, y = first_at.y}},
          file = "field.png", title = "the field's ring and the neurons it has fired",
          x_label = "x (µm)", y_label = "phi (field units)"}
