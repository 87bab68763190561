-- examples/lif_ps_network.lua — the CUBA network (Brette et al. 2007, benchmark 2: examples/cuba.lua)
-- twice in one run, side by side: once of `lif` (spikes on the grid of dt) and once of `lif_ps`
-- (precise spike times, NEST's iaf_psc_exp_ps), each with its own connections drawn alike. The two
-- mean rates agree within the spread of the network's own fluctuations; lif_ps's spike times are
-- off the grid (spikes_ps.csv prints them with 12 decimals).
--   nsim run examples/lif_ps_network.lua [--set t_ms=1000] [--set n=4000] [--set dt=0.1]
local t_ms = nsim.param("t_ms", 1000)
local n    = nsim.param("n", 4000)
local dt   = nsim.param("dt", 0.1)
local net  = nsim.network{dt = dt}
local cell = {C_m = 200, tau_m = 20, E_L = -49, V_th = -50, V_reset = -60, t_ref = 5,
              tau_ex = 5, tau_in = 10}
local n_e  = n * 4 // 5
local p    = 0.02 * 4000 / n   -- about 80 inputs per neuron at any size
local pops = {}
for _, model in ipairs{"lif", "lif_ps"} do
  local tag = model == "lif" and "" or "_ps"
  local E = net:population(model, n_e, cell, {V_m = nsim.uniform(-60, -50)}, "E" .. tag)
  local I = net:population(model, n - n_e, cell, {V_m = nsim.uniform(-60, -50)}, "I" .. tag)
  net:connect(E, {E, I}, {rule = "bernoulli", p = p, weight = 16.2, delay = 0.1})
  net:connect(I, {E, I}, {rule = "bernoulli", p = p, weight = -90, delay = 0.1})
  net:record_spikes({E, I}, {file = "spikes" .. tag .. ".csv"})
  pops[model] = {E, I}
end
net:run(t_ms)
-- the mean rate of each network (spikes per neuron and second), and of each population
for _, model in ipairs{"lif", "lif_ps"} do
  local E, I = pops[model][1], pops[model][2]
  print(string.format("%-6s rate %.4f Hz (E %.4f Hz, I %.4f Hz)", model,
        (E.spikes + I.spikes) / n / (t_ms / 1000), E.spikes / n_e / (t_ms / 1000),
        I.spikes / (n - n_e) / (t_ms / 1000)))
end
