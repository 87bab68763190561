-- examples/compare_randman.lua — the same comparison on randman (Zenke & Vogels 2021): 10
-- classes of one spike per unit on 100 units over 100 steps, where only timing carries the
-- class, so it separates neurons that use time from those that count spikes.
--   nsim run examples/compare_randman.lua [--set epochs=20] [--set limit=0]
local epochs = nsim.param("epochs", 20)
local limit  = nsim.param("limit", 0)
local configs = {
  {name = "lif_atan",  neuron = "lif", surrogate = "atan"},
  {name = "lif_fast",  neuron = "lif", surrogate = "fast_sigmoid"},
  {name = "ultralif",  neuron = "ultralif"},
  {name = "ultraplif", neuron = "ultraplif"},
  {name = "ultradlif", neuron = "ultradlif"},
}
local res = nsim.compare{data = "randman", encoding = "spikes", T = 100, hidden = 64, epochs = epochs,
                         lr = 2e-3, batch = 128, seed = 1, limit = limit, configs = configs}
for _, c in ipairs(configs) do
  local last = res[c.name][epochs]
  print(string.format("%-10s test %.2f %%  rate %.3f", c.name, 100 * last.test_acc, last.rate))
end
