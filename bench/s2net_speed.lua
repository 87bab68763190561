-- bench/s2net_speed.lua — an S2-Net on a size x size image scaffold (8 neighbours; 256 x 256 =
-- 65,536 neurons and as many phase units) for t_ms of model time: the wall seconds of the run,
-- the synaptic operations and their rate, and the peak resident memory of the process.
--   nsim run bench/s2net_speed.lua [--set size=256] [--set t_ms=1000] --threads T
local size = nsim.param("size", 256)
local t_ms = nsim.param("t_ms", 1000)
local img = nsim.shapes{width = size, height = size, objects = 3, kinds = {"square", "disc", "triangle"}, noise = 0.05,
                        seed = 1}
local input = {}
for k = 1, #img do input[k] = 23.5 / (1 + math.exp(-(img[k] - 0.225) / 0.025)) end
local net = nsim.network{dt = 1}
local sc = nsim.scaffold{image = img, width = size, height = size, neighbours = 8, sigma = 0.3, delay = 1}
local s = nsim.s2net(net, {scaffold = sc, input = input})
local cpu0 = os.clock()
net:run(t_ms)
local cpu = os.clock() - cpu0
local ops = s.synops()
local rss = 0
local f = io.open("/proc/self/status", "r")
if f then
    for line in f:lines() do
        local kb = line:match("^VmHWM:%s+(%d+)")
        if kb then rss = tonumber(kb) / 1024 end
    end
    f:close()
end
print(string.format("size %d (%d units, %d scaffold edges), %g ms: %.3f s wall (%.3f s CPU), %d spikes, synops %.4g "
                    .. "(%.4g/s wall), dense MACs %.4g, peak RSS %.0f MB", size, sc.n, sc.edges, t_ms, net.simulate_s,
                    cpu, net.spikes, ops.synops, ops.synops / net.simulate_s, ops.dense_macs, rss))
