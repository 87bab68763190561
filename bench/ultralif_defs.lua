-- bench/ultralif_defs.lua — UltraPLIF at T = 1 on Fashion-MNIST under the UltraLIF repository's two
-- definitions (the library's: threshold 0, one ln tau per layer unclamped; the ablation file's:
-- threshold 1, one ln tau per layer clamped to [-2.3, -0.01]), three seeds each: 784-64-10,
-- Bernoulli input, Adam 1e-3, batch 128, mean readout — the paper's table (83.02 % at 100 epochs).
-- Writes compare.csv (every epoch of every run) and prints each definition's mean and spread.
--   nsim run bench/ultralif_defs.lua --threads 1 --out out/ultralif_defs [--set epochs=100] [--set seeds=3]
local epochs = nsim.param("epochs", 100)
local seeds  = nsim.param("seeds", 3)
local neuron = "ultraplif"
local defs   = {"library", "ablation"}
local configs = {}
for _, def in ipairs(defs) do
  for seed = 1, seeds do
    configs[#configs + 1] = {name = def .. "_s" .. seed, neuron = neuron, definition = def, seed = seed}
  end
end
local res = nsim.compare{data = "fashion-mnist", T = 1, hidden = 64, epochs = epochs, lr = 1e-3, batch = 128,
                         threads = 1, configs = configs}

-- mean and sample standard deviation of the test accuracy (%) over the seeds at epoch e
local function stats(def, e)
  local xs, sum = {}, 0
  for seed = 1, seeds do
    local v = 100 * res[def .. "_s" .. seed][e].test_acc
    xs[#xs + 1] = v
    sum = sum + v
  end
  local mean, ss = sum / #xs, 0
  for _, v in ipairs(xs) do ss = ss + (v - mean) ^ 2 end
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(xs) do lo, hi = math.min(lo, v), math.max(hi, v) end
  return mean, #xs > 1 and math.sqrt(ss / (#xs - 1)) or 0, lo, hi
end

local marks = {}
for _, e in ipairs{1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100} do
  if e <= epochs then marks[#marks + 1] = e end
end
if marks[#marks] ~= epochs then marks[#marks + 1] = epochs end
for _, def in ipairs(defs) do
  for _, e in ipairs(marks) do
    local m, sd, lo, hi = stats(def, e)
    print(string.format("%-8s epoch %3d: test %.2f %% +- %.2f (min %.2f, max %.2f) over %d seeds", def, e, m, sd, lo, hi, seeds))
  end
  local best = {}
  for seed = 1, seeds do
    local b = 0
    for e = 1, epochs do b = math.max(b, res[def .. "_s" .. seed][e].test_acc) end
    best[#best + 1] = string.format("%.2f", 100 * b)
  end
  print(string.format("%-8s best epoch per seed: %s %%", def, table.concat(best, ", ")))
end
