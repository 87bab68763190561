-- examples/coba.lua — Brette et al. 2007, benchmark 1 (COBA): 3200 excitatory and 800 inhibitory
-- conductance-based LIF neurons (lif_cond_exp), 2 % random connectivity, no external input.
--   nsim run examples/coba.lua [--set t_ms=10000] [--set n=4000]
-- The cell and synapses are the benchmark's: C_m 200 pF, g_L 10 nS (tau_m 20 ms), E_L = V_reset =
-- -60 mV, V_th -50 mV, t_ref 5 ms, E_ex 0 mV, E_in -80 mV, tau_syn_ex 5 ms, tau_syn_in 10 ms,
-- weights 6 nS (E) and -67 nS (I: the inhibitory conductance rises by 67 nS), delay one step.
-- Kick-start, as Brian's COBA example: V uniform in [V_reset, V_th], g_ex ~ N(4, 1.5) and
-- g_in ~ N(20, 12) in units of g_L (N(40, 15) nS and N(200, 120) nS). The draws are kept as they
-- come, a few negative ones included, as Brian keeps them; they decay within tens of ms.
local t_ms = nsim.param("t_ms", 1000)
local n    = nsim.param("n", 4000)
local net  = nsim.network{dt = 0.1}
local cell = {C_m = 200, g_L = 10, E_L = -60, V_th = -50, V_reset = -60, t_ref = 5,
              E_ex = 0, E_in = -80, tau_syn_ex = 5, tau_syn_in = 10}
local init = {V_m = nsim.uniform(-60, -50), g_ex = nsim.normal(40, 15), g_in = nsim.normal(200, 120)}
local n_e  = n * 4 // 5
local p    = 0.02 * 4000 / n   -- about 80 inputs per neuron at any size
local E = net:population("lif_cond_exp", n_e, cell, init, "E")
local I = net:population("lif_cond_exp", n - n_e, cell, init, "I")
net:connect(E, {E, I}, {rule = "bernoulli", p = p, weight = 6, delay = 0.1})
net:connect(I, {E, I}, {rule = "bernoulli", p = p, weight = -67, delay = 0.1})
local spikes = net:record_spikes{E, I}
net:record_rate({E, I}, {bin = 1})
net:run(t_ms)
print(string.format("COBA: %d neurons, %d synapses, %.2f Hz mean rate over %g ms",
      n, net.synapses, net.spikes / n / (t_ms / 1000), t_ms))
nsim.raster(spikes, "raster.png", {title = "COBA (Brette et al. 2007), " .. n .. " conductance-based LIF neurons"})
-- What the run did: stats.csv (rates, ISI CV, Fano factor, correlations), psd.csv (spectrum of
-- each population's rate) and summary.png (raster, rates and spectra together).
local stats = nsim.stats(spikes, {bin = 5})
nsim.psd(spikes, {bin = 1})
nsim.figure("summary", spikes, {title = "COBA: raster, population rate, spectrum"})
for _, name in ipairs{"E", "I"} do
  local st = stats[name]
  print(string.format("  %s: %.2f Hz, ISI CV %.2f, Fano %.2f", name, st.rate, st.cv, st.fano))
end
