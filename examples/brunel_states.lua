-- examples/brunel_states.lua — Brunel 2000 in its states side by side: the same network at
-- his (g, eta) for synchronous regular (SR: g 3, eta 2), asynchronous irregular (AI: g 5,
-- eta 2), synchronous irregular fast (SIf: g 6, eta 4) and slow (SIs: g 4.5, eta 0.9). Each
-- state leaves its raster, summary figure, stats and spectra; spectra.png overlays the spectra
-- of the excitatory rates, and states.csv tabulates rates, ISI CVs and synchrony.
--   nsim run examples/brunel_states.lua [--set t_ms=1000] [--set scale=1]
local t_ms  = nsim.param("t_ms", 1000)
local scale = nsim.param("scale", 1.0)   -- fraction of the full network (tests use a small one)
local J, D  = 0.1, 1.5                   -- mV, ms
local states = {
  {name = "SR",  g = 3.0, eta = 2.0},
  {name = "AI",  g = 5.0, eta = 2.0},
  {name = "SIf", g = 6.0, eta = 4.0},
  {name = "SIs", g = 4.5, eta = 0.9},
}
local NE, NI = math.floor(10000 * scale), math.floor(2500 * scale)
local CE, CI = math.floor(1000 * scale), math.floor(250 * scale)
local cell = {tau_m = 20, V_th = 20, V_reset = 10, E_L = 0, t_ref = 2}  -- Brunel's V_r = 10 mV
local series, rows = {}, {}
for _, s in ipairs(states) do
  local net = nsim.network{dt = 0.1}
  local v0 = {V_m = nsim.uniform(0, 20)}   -- no synchronous start
  local E = net:population("lif_delta", NE, cell, v0, "E")
  local I = net:population("lif_delta", NI, cell, v0, "I")
  net:connect(E, {E, I}, {rule = "fixed_indegree", K = CE, weight = J, delay = D})
  net:connect(I, {E, I}, {rule = "fixed_indegree", K = CI, weight = -s.g * J, delay = D})
  local nu_th = cell.V_th / (J * CE * cell.tau_m) * 1000   -- Hz
  net:poisson({E, I}, {rate = CE * s.eta * nu_th, weight = J})
  local spikes = net:record_spikes({E, I}, {file = "spikes_" .. s.name .. ".csv"})
  net:run(t_ms)
  local st = nsim.stats(spikes, {bin = 1, file = "stats_" .. s.name .. ".csv"})
  local psd = nsim.psd(spikes, {bin = 0.5, file = "psd_" .. s.name .. ".csv"})
  local title = string.format("Brunel 2000, %s (g = %g, eta = %g)", s.name, s.g, s.eta)
  nsim.figure("summary", spikes, {file = "summary_" .. s.name .. ".png", title = title, bin = 0.5, rate_bin = 1})
  series[#series + 1] = {name = s.name, x = psd.f, y = psd.E}
  rows[#rows + 1] = string.format("%s,%g,%g,%.3f,%.3f,%.3f,%.4f", s.name, s.g, s.eta, st.E.rate, st.E.cv,
                                  st.E.fano_pop, st.E.corr)
  print(string.format("%-3s g %-3g eta %-3g  E rate %6.2f Hz  ISI CV %.2f  population Fano %7.2f",
                      s.name, s.g, s.eta, st.E.rate, st.E.cv, st.E.fano_pop))
end
nsim.plot{series = series, file = "spectra.png", x_log = true, y_log = true,
          title = "Brunel 2000: spectra of the excitatory rate in four states",
          x_label = "frequency (Hz)", y_label = "PSD (Hz²/Hz)"}
local f = io.open(nsim.outdir() .. "/states.csv", "w")
f:write("state,g,eta,rate_hz,cv_isi,fano_pop,corr\n", table.concat(rows, "\n"), "\n")
f:close()
