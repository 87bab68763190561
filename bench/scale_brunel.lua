-- bench/scale_brunel.lua — Brunel 2000 for bench/scale: n_scale times 10,000 E + 2,500 I neurons,
-- the in-degree fixed at 1,000 E and 250 I (as NEST's scaling benchmarks keep it), so 10x the
-- neurons is 10x the synapses; otherwise examples/brunel.lua's network (J 0.1 mV, g 5, eta 2,
-- delay 1.5 ms). Records nothing but the spike count.
--   mpirun -np K nsim run bench/scale_brunel.lua --set n_scale=10 --threads T
local t_ms    = nsim.param("t_ms", 1000)
local n_scale = nsim.param("n_scale", 1.0)
local J, g, eta, delay = 0.1, 5.0, 2.0, 1.5
local NE, NI = math.floor(10000 * n_scale), math.floor(2500 * n_scale)
local CE, CI = 1000, 250
local net = nsim.network{dt = 0.1}
local cell = {tau_m = 20, V_th = 20, V_reset = 0, E_L = 0, t_ref = 2}
local E = net:population("lif_delta", NE, cell, nil, "E")
local I = net:population("lif_delta", NI, cell, nil, "I")
net:connect(E, {E, I}, {rule = "fixed_indegree", K = CE, weight = J, delay = delay})
net:connect(I, {E, I}, {rule = "fixed_indegree", K = CI, weight = -g * J, delay = delay})
local nu_th = cell.V_th / (J * CE * cell.tau_m) * 1000   -- Hz, as examples/brunel.lua
net:poisson({E, I}, {rate = CE * eta * nu_th, weight = J})
net:run(t_ms)
print(string.format("%d neurons, %d synapses, %.2f Hz", NE + NI, net.synapses, net.spikes / (NE + NI) / (t_ms / 1000)))
