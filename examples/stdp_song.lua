-- examples/stdp_song.lua — Song, Miller & Abbott (2000): one neuron, 1000 excitatory Poisson inputs
-- through additive STDP (depression a little stronger than potentiation, alpha = 1.05) and 200
-- static inhibitory ones. The competition between the inputs pushes their weights apart, towards 0
-- and towards Wmax (a U-shaped histogram after 200 s, from a uniform start), and the output rate
-- falls as the weights settle. Weights of 20 synapses every second and the whole matrix at the end
-- are recorded, and their histogram drawn (weights.png). About 15 s on one core.
--   nsim run examples/stdp_song.lua [--set t_ms=200000]
local t_ms  = nsim.param("t_ms", 200000)
local n_in  = nsim.param("n_in", 1000)
local rate  = nsim.param("rate", 10)     -- Hz, every input
local wmax  = nsim.param("wmax", 20)     -- pA
local lambda = nsim.param("lambda", 0.02)
local net = nsim.network{dt = 0.1}

-- Poisson input trains (their own generator, seeded: the same trains every run)
local gen = math.random
math.randomseed(20000)
local function trains(n)
  local all = {}
  for i = 1, n do
    local list, t = {}, 0
    while true do
      t = t - math.log(1 - gen()) * 1000 / rate
      if t > t_ms then break end
      if t >= 0.1 then list[#list + 1] = t end
    end
    all[i] = list
  end
  return all
end
local ex = net:spike_source{times = trains(n_in), name = "ex"}
local inh = net:spike_source{times = trains(200), name = "inh"}
local cell = net:population("lif", 1, {C_m = 200, tau_m = 20, E_L = -74, V_th = -54, V_reset = -60, t_ref = 1,
                                       tau_ex = 5, tau_in = 5}, nil, "cell")
local p = net:connect(ex, cell, {weight = nsim.uniform(0, wmax), delay = 1,
                                 synapse = nsim.stdp{lambda = lambda, alpha = 1.05, mu_plus = 0, mu_minus = 0,
                                                     tau_plus = 20, tau_minus = 20, Wmax = wmax}})
net:connect(inh, cell, {weight = -20, delay = 1})
net:record_weights(p, {file = "weights.csv", sample = 20, interval = 1000})
local spikes = net:record_spikes(cell)
local first = t_ms / 10
net:run(first)
local early = cell.spikes
net:run(t_ms - first)
local late = (cell.spikes - early) / ((t_ms - first) / 1000)
print(string.format("output rate: %.1f Hz in the first %g s, %.1f Hz after", early / (first / 1000), first / 1000, late))
nsim.plot_weights("weights_matrix.csv", "weights.png", {title = string.format("STDP weights after %g s", t_ms / 1000)})
