-- examples/lattice_rules.lua — populations with a shape: excitatory and inhibitory lif neurons on
-- two periodic grids of one extent (1.5 mm square), joined with a probability that falls off with
-- distance (a Gaussian kernel), and a ring of neurons that pass a spike to their two neighbours,
-- so a kick travels round it both ways. Spikes, positions.csv and a raster.
--   nsim run examples/lattice_rules.lua [--set t_ms=500]
local t_ms = nsim.param("t_ms", 300)
local net  = nsim.network{dt = 0.1}
local cell = {C_m = 250, tau_m = 10, E_L = -65, V_th = -50, V_reset = -65, t_ref = 2, tau_ex = 2, tau_in = 5}
local E = net:population("lif", 900, cell, {V_m = nsim.uniform(-65, -50)},
                         {name = "E", grid = {nx = 30, ny = 30, spacing = 50, periodic = true}})
local I = net:population("lif", 225, cell, {V_m = nsim.uniform(-65, -50)},
                         {name = "I", grid = {nx = 15, ny = 15, spacing = 100, periodic = true}})
local ring_cell = {C_m = 250, tau_m = 10, E_L = -65, V_th = -50, V_reset = -65, t_ref = 20, tau_ex = 2, tau_in = 5}
local R = net:population("lif", 80, ring_cell, nil, {name = "ring", ring = {radius = 200}})
-- local excitation, broader inhibition (sigma in µm)
net:connect(E, {E, I}, {rule = "distance", kernel = "gaussian", p0 = 0.4, sigma = 100, weight = 60,
                        delay = nsim.uniform(0.5, 2), autapses = false})
net:connect(I, {E, I}, {rule = "distance", kernel = "gaussian", p0 = 0.6, sigma = 200, cutoff = 600,
                        weight = -200, delay = nsim.uniform(0.5, 2), autapses = false})
net:poisson({E, I}, {rate = 9000, weight = 30})
-- the ring: each unit fires its two neighbours; a long refractory time keeps a wave from turning back
net:connect(R, R, {rule = "lattice", neighbours = 2, weight = 3000, delay = 1})
local kick = net:spike_source{times = {{10, 200}}, name = "kick"}
net:connect(kick, R, {rule = "list", pre = {0}, post = {0}, weight = 5000, delay = 1})
local spikes = net:record_spikes{E, I, R}
net:run(t_ms)
print(string.format("lattice_rules: %d synapses; E %.1f Hz, I %.1f Hz; the ring fired %d times",
      net.synapses, E.spikes / 900 / (t_ms / 1000), I.spikes / 225 / (t_ms / 1000), R.spikes))
nsim.raster(spikes, "raster.png", {title = "E and I on periodic grids (Gaussian connectivity), a ring of 80"})
