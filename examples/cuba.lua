-- examples/cuba.lua — Brette et al. 2007, benchmark 2 (CUBA): 3200 excitatory and 800 inhibitory
-- current-based LIF neurons, 2 % random connectivity, no external input. Brian2 gives about 5.6 Hz.
--   nsim run examples/cuba.lua [--set t_ms=10000] [--set n=4000]
local t_ms = nsim.param("t_ms", 1000)
local n    = nsim.param("n", 4000)
local net  = nsim.network{dt = 0.1}
local net_name = "CUBA"
local cell = {C_m = 200, tau_m = 20, E_L = -49, V_th = -50, V_reset = -60, t_ref = 5,
              tau_ex = 5, tau_in = 10}
local n_e  = n * 4 // 5
local p    = 0.02 * 4000 / n   -- about 80 inputs per neuron at any size, as the Brian2 script
local E = net:population("lif", n_e, cell, {V_m = nsim.uniform(-60, -50)}, "E")
local I = net:population("lif", n - n_e, cell, {V_m = nsim.uniform(-60, -50)}, "I")
net:connect(E, {E, I}, {rule = "bernoulli", p = p, weight = 16.2, delay = 0.1})
net:connect(I, {E, I}, {rule = "bernoulli", p = p, weight = -90, delay = 0.1})
local spikes = net:record_spikes{E, I}
net:record_rate({E, I}, {bin = 1})
net:run(t_ms)
print(string.format("CUBA: %d neurons, %d synapses, %.2f Hz mean rate over %g ms",
      n, net.synapses, net.spikes / n / (t_ms / 1000), t_ms))
nsim.raster(spikes, "raster.png", {title = "CUBA (Brette et al. 2007), " .. n .. " LIF neurons"})
-- What the run did: stats.csv (rates, ISI CV, Fano factor, correlations), psd.csv (spectrum of
-- each population's rate) and summary.png (raster, rates and spectra together).
local stats = nsim.stats(spikes, {bin = 5})
nsim.psd(spikes, {bin = 1})
nsim.figure("summary", spikes, {title = string.format("%s: raster, population rate, spectrum", net_name)})
for _, name in ipairs{"E", "I"} do
  print(string.format("  %s: %.2f Hz, ISI CV %.2f, Fano %.2f", name, stats[name].rate, stats[name].cv, stats[name].fano))
end
