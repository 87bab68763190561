-- bench/graded_spikes.lua — a graded projection from a spiking source (as a trained network's
-- input layer): 784 spike-source units firing at about 5 % of 1 ms steps into 64 integrators
-- through dense weights, 20,000 steps; compare run.json's simulate_s.
--   nsim run bench/graded_spikes.lua --threads 1 --out out/graded_spikes
local steps = nsim.param("steps", 20000)
local net = nsim.network{dt = 1.0}
local times = {}
math.randomseed(3)
for i = 1, 784 do
  local t = {}
  for k = 1, steps do if math.random() < 0.05 then t[#t + 1] = k end end
  times[i] = t
end
local src = net:spike_source{times = times, name = "input"}
local out = net:population("integrator", 64, nil, nil, "sum")
local W = {}
for i = 1, 64 do
  local row = {}
  for j = 1, 784 do row[j] = math.sin(i * 0.37 + j * 0.11) end
  W[i] = row
end
net:connect_graded(src, out, {weights = W})
net:run(steps)
print(string.format("sum of unit 0: %.6f", out:state("sum", 0)))
