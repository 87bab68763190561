-- bench/accuracy_long.lua — the long run beside UltraLIF's paper table (UltraPLIF 83.02 %,
-- DSpike+ 82.67 % at 100 epochs): 784-64-10, T = 1, Bernoulli input, Adam 1e-3, batch 128.
--   nsim run bench/accuracy_long.lua --out out/accuracy_long [--set epochs=100]
local epochs = nsim.param("epochs", 100)
local configs = {
  {name = "ultraplif", neuron = "ultraplif"},
  {name = "ultralif", neuron = "ultralif"},
  {name = "lif_atan", neuron = "lif", surrogate = "atan"},
}
local res = nsim.compare{data = "fashion-mnist", T = 1, hidden = 64, epochs = epochs, lr = 1e-3, batch = 128,
                         seed = 1, configs = configs}
for _, c in ipairs(configs) do
  local best = 0
  for e = 1, epochs do best = math.max(best, res[c.name][e].test_acc) end
  print(string.format("%-10s test accuracy after %d epochs: %.2f %% (best epoch %.2f %%)", c.name, epochs,
                      100 * res[c.name][epochs].test_acc, 100 * best))
end
