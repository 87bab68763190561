-- bench/spytorch.lua — the published anchor of the surrogate-gradient path: SpyTorch's
-- Fashion-MNIST tutorial (Zenke; ../shared/MODELS.md §4), 784-100-10, 100 steps of 1 ms, latency
-- input (a LIF of tau 20 ms charged to threshold 0.2 by the pixel), hidden LIF with a synaptic
-- current (tau_mem 10 ms, tau_syn 5 ms: beta exp(-1/10), syn_alpha exp(-1/5)), fast sigmoid of
-- slope 100, cross-entropy on the maximum over time of a leaky readout membrane, lr 2e-4, batch
-- 256: 86.3 % test accuracy after 30 epochs in the tutorial. (SpyTorch initializes the weights
-- from a normal of scale 7 (1 - beta) / sqrt(fan-in) and uses Adamax; nsim keeps PyTorch's
-- default initialization and Adam.)
--   nsim run bench/spytorch.lua --out out/spytorch [--set epochs=30]
local epochs = nsim.param("epochs", 30)
local r = nsim.train{data = "fashion-mnist", neuron = "lif", surrogate = "fast_sigmoid", surrogate_param = 100,
                     beta = math.exp(-1 / 10), syn_alpha = math.exp(-1 / 5), T = 100, hidden = 100,
                     encoding = "latency", latency_rule = "lif", readout = "leaky", lr = 2e-4, batch = 256,
                     epochs = epochs, seed = 1, threads = 1}
for e, row in ipairs(r.epochs) do
  print(string.format("epoch %2d  test %.2f %%  rate %.4f  %.1f s", e, 100 * row.test_acc, row.rate, row.seconds))
end
