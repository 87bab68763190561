-- tests/lua/s2net_p2.lua — P2 for tests/test_s2net.c: the S2-Net builder on the image the test
-- made (a Lua file named by S2NET_IMAGE: img, width, height), coupled or not (--set coupled=0),
-- writing every unit's final phase and amplitude to theta.csv (unit,theta,a).
dofile(os.getenv("S2NET_IMAGE"))
local coupled = nsim.param("coupled", 1) == 1
local T = nsim.param("t_ms", 1000)
local net = nsim.network{dt = 1}
local sc = nsim.scaffold{image = img, width = width, height = height, neighbours = 8, sigma = 0.3, delay = 1}
local input = {}
for k = 1, #img do input[k] = 23.5 * img[k] end
local phase = coupled and {} or {kappa = 0, kappa_g = 0}
local s = nsim.s2net(net, {scaffold = sc, input = input, phase_params = phase, lateral = coupled})
net:run(T)
local f = assert(io.open(nsim.outdir() .. "/theta.csv", "w"))
f:write("unit,theta,a\n")
for i = 0, sc.n - 1 do
  f:write(string.format("%d,%.17g,%.17g\n", i, s.phase:state("theta", i), s.phase:state("a", i)))
end
f:close()
