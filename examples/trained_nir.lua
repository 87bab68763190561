-- examples/trained_nir.lua — a LIF network trained on randman is written as NIR (the
-- Neuromorphic Intermediate Representation, docs/nir.md) and run in the simulator from that file:
-- each LIF node a lif_bptt population, each Affine a graded projection, the LI readout a
-- leaky_readout. The input is one spike per input unit at a random step, as randman's samples are.
--   nsim run examples/trained_nir.lua [--set epochs=10] [--set limit=4000]   (about 98 % on randman's test split)
local epochs = nsim.param("epochs", 10)
local limit  = nsim.param("limit", 4000)
local T = 30
local res = nsim.train{data = "randman", encoding = "spikes", neuron = "lif", T = T, hidden = 32, epochs = epochs,
                       lr = 2e-3, seed = 1, limit = limit, readout = "leaky", nir = "lif_randman.nir"}
print(string.format("trained: test accuracy %.2f %%, written to %s", 100 * res.test_acc, res.nir))

local net = nsim.network{dt = 1.0}            -- the step the file's time constants were written for
local times = {}
math.randomseed(7)
for i = 1, 100 do times[i] = {math.random(1, T)} end
local input = net:spike_source{times = times, name = "input"}
local g = net:load_nir(res.nir, input)        -- T comes from the file's metadata
local spikes = net:record_spikes{input, g.layers[1]}
net:run(g.steps)
local logits, best = g.logits(), 1
for c = 2, #logits do if logits[c] > logits[best] then best = c end end
print(string.format("simulated from NIR: %d hidden spikes, class %d (%s readout %.3f)", g.layers[1].spikes, best - 1,
                    g.readout_kind, logits[best]))
nsim.raster(spikes, "raster.png", {title = "A trained LIF network, loaded from NIR"})
