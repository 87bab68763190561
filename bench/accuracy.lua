-- bench/accuracy.lua — test accuracy after 5 epochs at T = 1, hidden 64 on Fashion-MNIST, for
-- surrogate LIF and UltraLIF: with Bernoulli input (UltraLIF's paper) and with direct current at
-- the reference script's setting (Adam 1e-3, batch 128), and with Bernoulli input at batch 32,
-- Adam 2e-3 annealed by the cosine schedule (LIF's arctan at alpha 1, a wider surrogate).
--   nsim run bench/accuracy.lua --out out/accuracy [--set epochs=5]
local epochs = nsim.param("epochs", 5)
local configs = {}
for _, enc in ipairs{"bernoulli", "direct"} do
  for _, neuron in ipairs{"lif", "ultralif"} do
    configs[#configs + 1] = {name = neuron .. "_" .. enc, neuron = neuron, encoding = enc}
  end
end
for _, neuron in ipairs{"lif", "ultralif"} do
  configs[#configs + 1] = {name = neuron .. "_bernoulli_cosine", neuron = neuron, encoding = "bernoulli", batch = 32,
                           lr = 2e-3, lr_schedule = "cosine", surrogate_param = neuron == "lif" and 1 or nil}
end
local res = nsim.compare{data = "fashion-mnist", T = 1, hidden = 64, epochs = epochs, lr = 1e-3, batch = 128,
                         seed = 1, configs = configs}
for _, c in ipairs(configs) do
  print(string.format("%-24s test accuracy after %d epochs: %.2f %%", c.name, epochs, 100 * res[c.name][epochs].test_acc))
end
