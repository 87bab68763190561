-- bench/per_unit.lua — the cost of per-unit parameters: CUBA's network (4,000 lif neurons, 2 %
-- connectivity) with one tau_m for all (het=0) or tau_m drawn per neuron from U(19, 21) ms
-- (het=1); compare run.json's simulate_s of the two.
--   nsim run bench/per_unit.lua --set het=1 --set t_ms=2000 --threads 1 --out out/per_unit1
local het  = nsim.param("het", 0)
local t_ms = nsim.param("t_ms", 2000)
local net  = nsim.network{dt = 0.1}
local cell = {C_m = 200, tau_m = 20, E_L = -49, V_th = -50, V_reset = -60, t_ref = 5, tau_ex = 5, tau_in = 10}
if het == 1 then cell.tau_m = nsim.uniform(19, 21) end
local E = net:population("lif", 3200, cell, {V_m = nsim.uniform(-60, -50)}, "E")
local I = net:population("lif", 800, cell, {V_m = nsim.uniform(-60, -50)}, "I")
net:connect(E, {E, I}, {rule = "bernoulli", p = 0.02, weight = 16.2, delay = 0.1})
net:connect(I, {E, I}, {rule = "bernoulli", p = 0.02, weight = -90, delay = 0.1})
net:run(t_ms)
print(string.format("het=%d: %.3f Hz", het, net.spikes / 4000 / (t_ms / 1000)))
