-- examples/trained_in_sim.lua — one model definition: an UltraLIF network trained on randman
-- (nsim.train, save) runs in the simulator (net:load_network): each hidden layer a population of
-- the trainer's own neuron, each weight matrix a graded projection, the readout an integrator (or a leaky_readout).
-- The input is one spike per input unit at a random step, as randman's samples are.
--   nsim run examples/trained_in_sim.lua [--set epochs=5] [--set limit=0]
local epochs = nsim.param("epochs", 5)
local limit  = nsim.param("limit", 0)
local T = 100
local res = nsim.train{data = "randman", encoding = "spikes", neuron = "ultralif", T = T, hidden = 64,
                       epochs = epochs, lr = 2e-3, seed = 1, limit = limit, save = "ultralif_randman.txt"}
print(string.format("trained: test accuracy %.2f %%", 100 * res.test_acc))

local net = nsim.network{dt = 1.0}            -- one step of the simulator is one step of training
local times = {}
math.randomseed(7)
for i = 1, 100 do times[i] = {math.random(1, T)} end -- a spike at k ms leaves in step k - 1
local input = net:spike_source{times = times, name = "input"}
local trained = net:load_network(res.file, input)
local spikes = net:record_spikes{input, trained.layers[1]}
net:run(trained.steps)
local logits, best = trained.logits(), 1
for c = 2, #logits do if logits[c] > logits[best] then best = c end end
print(string.format("simulated: %d hidden spikes, class %d (logit %.3f)", trained.layers[1].spikes, best - 1,
                    logits[best]))
nsim.raster(spikes, "raster.png", {title = "A trained UltraLIF network in the simulator"})
