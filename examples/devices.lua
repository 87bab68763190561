-- examples/devices.lua — every stimulation device and recorder on a few lif neurons: a DC step,
-- a staircase of currents, Poisson drive, and a spike source read from a list; membrane traces,
-- rates and spikes recorded, and a raster drawn.
--   nsim run examples/devices.lua [--set t_ms=500]
local t_ms = nsim.param("t_ms", 500)
local net  = nsim.network{dt = 0.1}
local cell = {E_L = -70, V_reset = -70, V_th = -55, C_m = 250, tau_m = 10, t_ref = 2, tau_ex = 5, tau_in = 10}
local dc    = net:population("lif", 5, cell, nil, "dc")
local stair = net:population("lif", 5, cell, nil, "staircase")
local noisy = net:population("lif", 5, cell, nil, "poisson")
local fed   = net:population("lif", 5, cell, nil, "fed")
net:dc(dc, {amplitude = 420, start = 50, stop = 400})                               -- pA
net:step_current(stair, {times = {0, 100, 200, 300}, amplitudes = {0, 380, 460, 540}})
net:poisson(noisy, {rate = 8000, weight = 90})                                       -- Hz, pA
local src = net:spike_source{times = {{10, 20, 30, 40, 50}, {100, 101, 102, 103, 104}}, name = "src"}
net:connect(src, fed, {rule = "all_to_all", weight = 900, delay = 1.0})
local spikes = net:record_spikes{dc, stair, noisy, fed, src}
net:record_state(dc, {vars = {"V_m"}, neurons = {0}, interval = 0.5, file = "dc_trace.csv"})
net:record_state(fed, {vars = {"V_m", "I_ex"}, neurons = {0}, interval = 0.1, file = "fed_trace.csv"})
net:record_rate({dc, stair, noisy, fed}, {bin = 10})
net:run(t_ms)
for _, p in ipairs{dc, stair, noisy, fed} do
  print(string.format("%-10s %4d spikes", p.name, p.spikes))
end
nsim.raster(spikes, "raster.png", {title = "Devices on 20 lif neurons"})
