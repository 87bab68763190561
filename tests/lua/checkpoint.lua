-- tests/lua/checkpoint.lua — networks for tests/test_checkpoint.sh: runs to t_ck, writes a
-- checkpoint there when ck is given (or resumes from `resume` with net:resume), then runs to t_ms.
-- Each case stresses one kind of state a checkpoint must carry.
local case   = nsim.param("case", "cuba")
local t_ms   = nsim.param("t_ms", 60)
local t_ck   = nsim.param("t_ck", 30.5)
local ck     = nsim.param("ck", "")       -- write a checkpoint at t_ck into this file
local resume = nsim.param("resume", "")   -- resume from this file (the Lua call)
local input  = nsim.param("input", "auto")
local solver = nsim.param("solver", "cvode_bdf")

local net = nsim.network{dt = 0.1, input = input}
local rec = {}
local lif = {C_m = 200, tau_m = 20, E_L = -49, V_th = -50, V_reset = -60, t_ref = 5, tau_ex = 5, tau_in = 10}

if case == "cuba" then -- CUBA: lif, 0.1 ms delays (event lists unless input = dense), a rate record
  local E = net:population("lif", 800, lif, {V_m = nsim.uniform(-60, -50)}, "E")
  local I = net:population("lif", 200, lif, {V_m = nsim.uniform(-60, -50)}, "I")
  net:connect(E, {E, I}, {rule = "bernoulli", p = 0.02, weight = 16.2, delay = 0.1})
  net:connect(I, {E, I}, {rule = "bernoulli", p = 0.02, weight = -90, delay = 0.1})
  rec = {E, I}
  net:record_rate({E, I}, {bin = 2.5, file = "rate.csv"})
elseif case == "brunel" then -- per-synapse delays onto dense rows (held runs), Poisson drive
  local cell = {tau_m = 20, V_th = 20, V_reset = 0, E_L = 0, t_ref = 2}
  local E = net:population("lif_delta", 800, cell, {V_m = nsim.uniform(0, 20)}, "E")
  local I = net:population("lif_delta", 200, cell, {V_m = nsim.uniform(0, 20)}, "I")
  net:connect(E, {E, I}, {rule = "fixed_indegree", K = 80, weight = 0.2, delay = nsim.uniform(0.5, 3.0)})
  net:connect(I, {E, I}, {rule = "fixed_indegree", K = 20, weight = -1.0, delay = nsim.uniform(0.5, 3.0)})
  net:poisson({E, I}, {rate = 10000, weight = 0.2})
  rec = {E, I}
elseif case == "stdp" then -- plastic weights and traces, a weight record
  local times = {}
  for i = 1, 100 do
    local list, t = {}, 0.1 * i
    while t < t_ms do list[#list + 1] = t; t = t + 2.3 + (i % 7) * 0.7 end
    times[i] = list
  end
  local src = net:spike_source{times = times, name = "src"}
  local C = net:population("lif", 20, {C_m = 200, tau_m = 20, E_L = -74, V_th = -54, V_reset = -60, t_ref = 1,
                                       tau_ex = 5, tau_in = 5}, {V_m = nsim.uniform(-74, -55)}, "C")
  local p = net:connect(src, C, {rule = "bernoulli", p = 0.5, weight = nsim.uniform(0, 60), delay = nsim.uniform(0.5, 2),
                                 synapse = nsim.stdp{lambda = 0.05, alpha = 1.05, mu_plus = 0, mu_minus = 0,
                                                     tau_plus = 20, tau_minus = 20, Wmax = 60}})
  net:record_weights(p, {file = "weights.csv", sample = 30, interval = 5})
  rec = {src, C}
elseif case == "lif_ps" then -- precise spikes (offsets in event lists), a precise spike_source
  local cell = {C_m = 250, tau_m = 10, E_L = -65, V_th = -50, V_reset = -65, t_ref = 2, tau_ex = 2, tau_in = 2, I_e = 376}
  local E = net:population("lif_ps", 400, cell, {V_m = nsim.uniform(-65, -50)}, "E")
  net:connect(E, E, {rule = "bernoulli", p = 0.05, weight = -30, delay = nsim.uniform(0.3, 2.0)})
  local kick = net:spike_source{times = {{5.03, 31.27, 33.33, 47.51}, {12.5, 30.05, 44.44}}, name = "kick"}
  net:connect(kick, E, {rule = "all_to_all", weight = 200, delay = 1.7})
  rec = {E, kick}
elseif case == "ode" then -- a CVODE population (adaptive steps, roots), current drive and a state record
  local A = net:population("adex", 50, {I_e = 500}, {V_m = nsim.uniform(-70, -55)}, "A")
  local B = net:population("lif", 50, lif, {V_m = nsim.uniform(-60, -50)}, "B")
  net:connect(A, B, {rule = "bernoulli", p = 0.2, weight = 40, delay = nsim.uniform(0.5, 2.5)})
  net:connect(B, A, {rule = "bernoulli", p = 0.2, weight = -60, delay = 1.0})
  net:record_state(A, {vars = {"V_m", "w"}, neurons = {0, 7}, interval = 0.5, file = "state.csv"})
  rec = {A, B}
elseif case == "kuramoto" then -- delayed graded coupling (rings hold the history), noise, S_prev/C_prev
  local th = {}
  for i = 1, 40 do th[i] = 0.3 * i end
  local P = net:population("kuramoto", 40, {K = 0.8, D = 0.01}, {omega = nsim.uniform(0.9, 1.1), theta = th}, "P")
  net:connect_graded(P, P, {weights = 1 / 40, delay = 2.3})
  net:record_state(P, {vars = {"theta"}, neurons = {0, 5, 39}, interval = 0.1, file = "state.csv"})
  local src = net:spike_source{times = {{3, 20, 40}}, name = "s"}
  local L = net:population("lif", 5, lif, nil, "L")
  net:connect(src, L, {rule = "all_to_all", weight = 900, delay = 1.0})
  rec = {L, src}
elseif case == "s2net" then -- private spike bits of s2net_phase (its model hooks)
  local N = net:population("lif", 30, lif, {V_m = nsim.uniform(-60, -50)}, "N")
  local S = net:population("s2net_phase", 30, {K = 50}, nil, "S")
  net:connect(N, N, {rule = "bernoulli", p = 0.2, weight = 30, delay = 1.0})
  net:connect(N, S, {rule = "one_to_one", weight = 1, delay = 0.1})
  net:connect_graded(S, S, {weights = 1 / 30, delay = 1.5})
  net:dc(N, {amplitude = 600})
  net:record_state(S, {vars = {"theta", "a"}, neurons = {0, 3}, interval = 0.5, file = "state.csv"})
  rec = {N}
elseif case == "ltc" or case == "cfc" then -- cells on a sampled signal (private data: the solver, stamps)
  local times, values, t, k = {}, {}, 0, 0
  while t < t_ms do
    times[#times + 1] = t
    values[#values + 1] = {math.sin(0.37 * t), math.cos(0.11 * t)}
    k = k + 1
    t = t + 0.1 * (3 + (k * 7) % 11)
  end
  local opts = {name = "X", seed = 42}
  if case == "ltc" then opts.solver = solver end
  local X = net:population(case, 8, {inputs = 2, time_scale = 10}, nil, opts)
  net:signal(X, {times = times, values = values})
  net:record_state(X, {vars = case == "ltc" and "v" or "h", neurons = {0, 3, 7}, interval = 0.1, file = "state.csv"})
elseif case == "devices" then -- ac and noise (drawn per interval), neurons = subsets, aeif_cond_exp, lif_alpha
  local E = net:population("lif", 200, lif, {V_m = nsim.uniform(-60, -50)}, "E")
  local A = net:population("aeif_cond_exp", 20, {}, {V_m = nsim.uniform(-70, -55)}, "A")
  local L = net:population("lif_alpha", 50, {}, {V_m = nsim.uniform(-70, -56)}, "L")
  net:ac({E, A, L}, {amplitude = 300, offset = 150, frequency = 40, phase = 30})
  net:noise({E, L}, {mean = 100, std = 200, dt = 0.5, start = 5})
  net:noise(A, {mean = 400, std = 300, dt = 1.0, neurons = {0, 3, 5, 19}})
  net:poisson(L, {rate = 5000, weight = 30, neurons = {1, 2, 3, 40}})
  net:dc(E, {amplitude = 150, start = 10, stop = 50, neurons = {0, 1, 2, 3}})
  net:connect(E, A, {rule = "bernoulli", p = 0.2, weight = 2, delay = nsim.uniform(0.5, 2)})
  net:connect(E, L, {rule = "bernoulli", p = 0.1, weight = 40, delay = 1.0})
  net:connect(L, A, {rule = "bernoulli", p = 0.2, weight = -3, delay = 1.5})
  net:record_state(A, {vars = {"V_m", "w", "g_ex", "g_in"}, neurons = {0, 3}, interval = 0.5, file = "state.csv"})
  net:record_state(L, {vars = {"V_m", "I_ex", "dI_ex"}, neurons = {1, 40}, interval = 0.5, file = "alpha.csv"})
  rec = {E, A, L}
else
  error("unknown case " .. case)
end

if #rec > 0 then net:record_spikes(rec) end
if resume ~= "" then net:resume(resume) end
net:run(t_ck)
if ck ~= "" then net:checkpoint(ck) end
net:run(t_ms - t_ck)
print(string.format("%s: %d spikes to %g ms", case, net.spikes, net.time))
