-- examples/cfc_onward.lua — a continuous population projecting onward: 16 CfC units read a
-- two-channel sampled signal, and their state h drives 40 lif_delta neurons through a graded
-- projection (every step, neuron i's membrane moves by sum_j W[i][j] h_j mV, 1 ms later).
-- state.csv holds the first units' h, raster.png the spikes they cause.
--   nsim run examples/cfc_onward.lua [--set t_ms=1000]
local t_ms = nsim.param("t_ms", 1000)
local net  = nsim.network{dt = 0.5}
local C = net:population("cfc", 16, {inputs = 2, time_scale = 10}, nil, {name = "C", seed = 1})
local times, values = {}, {}
for t = 0, t_ms, 5 do                  -- a sample every 5 ms, held in between
  times[#times + 1] = t
  values[#values + 1] = {math.sin(2 * math.pi * t / 200), math.cos(2 * math.pi * t / 70)}
end
net:signal(C, {times = times, values = values})

local N = net:population("lif_delta", 40, {tau_m = 20, V_th = 20, t_ref = 2}, nil, "N")
math.randomseed(3)
local W = {}                           -- 40 rows (targets) of 16 weights (sources), mV
for i = 1, 40 do
  W[i] = {}
  for j = 1, 16 do W[i][j] = 2.0 * (math.random() - 0.5) end
end
net:connect_graded(C, N, {weights = W, delay = 1.0})

net:record_state(C, {vars = "h", neurons = {0, 1, 2, 3}, interval = 1.0, file = "state.csv"})
local spikes = net:record_spikes(N)
net:run(t_ms)
print(string.format("%d spikes from %d lif_delta neurons driven by %d CfC units", N.spikes, N.n, C.n))
nsim.raster(spikes, "raster.png")
