-- examples/brunel.lua — Brunel 2000, the balanced network of delta-synapse LIF neurons, built as
-- NEST's brunel_delta_nest.py and the Brian2 reference: 10,000 E + 2,500 I, in-degree 1,000 E and
-- 250 I drawn with replacement, J 0.1 mV, g 5, delay 1.5 ms, independent Poisson drive of
-- eta * threshold rate per neuron. About 15.6 M synapses and 31.9 Hz (asynchronous irregular).
--   nsim run examples/brunel.lua [--set t_ms=1000] [--set g=5] [--set eta=2] [--threads 2]
local t_ms  = nsim.param("t_ms", 1000)
local scale = nsim.param("scale", 1.0)   -- fraction of the full network (tests use a small one)
local g     = nsim.param("g", 5.0)
local eta   = nsim.param("eta", 2.0)
local J     = nsim.param("J", 0.1)       -- mV
local delay = nsim.param("delay", 1.5)   -- ms

local NE, NI = math.floor(10000 * scale), math.floor(2500 * scale)
local CE, CI = math.floor(1000 * scale), math.floor(250 * scale)
local cell = {tau_m = 20, V_th = 20, V_reset = 0, E_L = 0, t_ref = 2}
local net = nsim.network{dt = 0.1}
local net_name = "Brunel 2000"
local E = net:population("lif_delta", NE, cell, nil, "E")
local I = net:population("lif_delta", NI, cell, nil, "I")
net:connect(E, {E, I}, {rule = "fixed_indegree", K = CE, weight = J, delay = delay})
net:connect(I, {E, I}, {rule = "fixed_indegree", K = CI, weight = -g * J, delay = delay})
-- External drive: CE independent inputs at nu_ex each, merged into one Poisson train per neuron.
local nu_th = cell.V_th / (J * CE * cell.tau_m) * 1000   -- Hz
local nu_ex = eta * nu_th
net:poisson({E, I}, {rate = CE * nu_ex, weight = J})
local spikes = net:record_spikes{E, I}
net:record_rate({E, I}, {bin = 1})
net:run(t_ms)
print(string.format("Brunel: %d neurons, %d synapses, %.2f Hz mean rate over %g ms",
      NE + NI, net.synapses, net.spikes / (NE + NI) / (t_ms / 1000), t_ms))
nsim.raster(spikes, "raster.png", {title = string.format("Brunel 2000, g = %g, eta = %g", g, eta)})
-- What the run did: stats.csv (rates, ISI CV, Fano factor, correlations), psd.csv (spectrum of
-- each population's rate) and summary.png (raster, rates and spectra together).
local stats = nsim.stats(spikes, {bin = 5})
nsim.psd(spikes, {bin = 1})
nsim.figure("summary", spikes, {title = string.format("%s: raster, population rate, spectrum", net_name)})
for _, name in ipairs{"E", "I"} do
  print(string.format("  %s: %.2f Hz, ISI CV %.2f, Fano %.2f", name, stats[name].rate, stats[name].cv, stats[name].fano))
end
