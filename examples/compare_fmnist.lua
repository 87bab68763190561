-- examples/compare_fmnist.lua — surrogate-gradient LIF (arctan and fast sigmoid) against the
-- ultradiscrete max-plus neurons (UltraLIF, UltraPLIF, UltraDLIF) on Fashion-MNIST (Debian's
-- dataset-fashion-mnist), hidden 64, at T = 1 and T = 10: the same data, seed and order for
-- all. Writes compare.csv, accuracy.png, rate.png and a raster of hidden spikes per network.
--   nsim run examples/compare_fmnist.lua [--set epochs=5] [--set limit=0] [--set threads=1]
local epochs  = nsim.param("epochs", 5)
local limit   = nsim.param("limit", 0)     -- training samples used (0: all 60,000), for quick looks
local threads = nsim.param("threads", 1)
local configs = {}
for _, T in ipairs{1, 10} do
  for _, c in ipairs{
    {name = "lif_atan",   neuron = "lif", surrogate = "atan"},
    {name = "lif_fast",   neuron = "lif", surrogate = "fast_sigmoid"},
    {name = "ultralif",   neuron = "ultralif"},
    {name = "ultraplif",  neuron = "ultraplif"},
    {name = "ultradlif",  neuron = "ultradlif"},
  } do
    c.name = c.name .. "_T" .. T
    c.T = T
    configs[#configs + 1] = c
  end
end
local res = nsim.compare{data = "fashion-mnist", hidden = 64, epochs = epochs, lr = 1e-3, batch = 128,
                         seed = 1, threads = threads, limit = limit, configs = configs}
for _, c in ipairs(configs) do
  local last = res[c.name][epochs]
  print(string.format("%-16s test %.2f %%  rate %.3f", c.name, 100 * last.test_acc, last.rate))
end
