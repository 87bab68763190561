-- tests/lua/analysis.lua — the analysis functions from a script, against known answers: a
-- spike source with regular trains (rate exact, ISI CV 0), a PSTH locked to stimuli, the STA of
-- a membrane around spikes, spectra of a rate and of a trace, and every figure kind.
-- Run by tests/test_cli.sh; exits with an error (status 2) on the first wrong answer.
local function check(cond, what) if not cond then error("check failed: " .. what, 2) end end
local net = nsim.network{dt = 0.1}
-- 20 units firing every 10 ms (100 Hz), unit i offset by i * 0.1 ms; 10 units silent
local times = {}
for i = 1, 20 do
  times[i] = {}
  for k = 1, 100 do times[i][k] = (i - 1) * 0.1 + 10 * k - 9 end
end
for i = 21, 30 do times[i] = {} end
local src = net:spike_source{times = times, name = "reg"}
-- a neuron kicked by unit 0's spikes (its current jumps 1 ms after each), and a DC-driven one
local cell = {E_L = 0, V_reset = -1, V_th = 1000, tau_m = 10, C_m = 250, t_ref = 5, tau_ex = 5, tau_in = 10}
local n = net:population("lif", 1, cell, nil, "n")
local kicker = net:spike_source{times = {times[1]}, name = "kick"}
net:connect(kicker, n, {rule = "all_to_all", weight = 500, delay = 1})
local d = net:population("lif", 1, {E_L = -70, V_reset = -70, V_th = -55, tau_m = 10, C_m = 250, t_ref = 2, tau_ex = 5, tau_in = 10}, nil, "d")
net:dc(d, {amplitude = 500})
local rec = net:record_spikes({src, kicker, d}, {file = "spikes.csv"})
net:record_state(d, {vars = {"V_m"}, interval = 0.1, file = "dstate.csv"})
net:record_state(n, {vars = {"V_m"}, interval = 0.1, file = "state.csv"})
net:run(1000)

local st = nsim.stats(rec, {bin = 10})
check(math.abs(st.reg.rate - 100 * 20 / 30) < 1e-9, "rate of reg: " .. st.reg.rate)
check(st.reg.cv < 1e-12, "regular trains have ISI CV 0, got " .. st.reg.cv)
check(st.kick.spikes == 100, "kick has 100 spikes")

local p = nsim.psth(rec, {times = {200, 400, 600}, pre = 5, post = 20, bin = 1})
-- unit 0 fires at 201, 401, 601 (1 ms after the stimulus): the kick population's bin 6 ([1, 2) ms)
check(p.t[1] == -5 and p.t[7] == 1, "psth bin starts")
check(math.abs(p.kick[7] - 1000) < 1e-9, "psth: 1000 Hz in the bin of the locked spike, got " .. p.kick[7])

-- the DC-driven neuron: V_m sampled at a spike's time stamp is the reset value; a step before,
-- it is below threshold but above reset. It fires 63 times in 1 s (every 15.9 ms from 13.9 ms);
-- the last spike, at 999.7 ms, has no 4 ms of trace after it and does not count.
local sta = nsim.sta(rec, {state = "dstate.csv", var = "V_m", pre = 2, post = 4})
check(st.d.spikes == 63 and sta.spikes == 62, "sta triggers: " .. sta.spikes .. " of " .. st.d.spikes)
check(sta.t[21] == 0 and sta.value[21] == -70, "sta at lag 0 is V_reset, got " .. sta.value[21])
check(sta.value[20] > -70 and sta.value[20] < -55, "sta a step before the spike: " .. sta.value[20])

local psd = nsim.psd(rec, {bin = 1, segment = 256, file = "psd.csv"})
-- reg fires at 100 Hz: its rate spectrum peaks at 100 Hz
local best, at = -1, 0
for k, f in ipairs(psd.f) do if f > 5 and psd.reg[k] > best then best, at = psd.reg[k], f end end
check(math.abs(at - 100) <= 1000 / 256, "reg's spectrum peaks at 100 Hz, got " .. at)
local tp = nsim.psd("state.csv", {var = "V_m", segment = 1024, file = false})
local best2, at2 = -1, 0
for k, f in ipairs(tp.f) do if f > 5 and tp.V_m[k] > best2 then best2, at2 = tp.V_m[k], f end end
check(math.abs(at2 - 100) <= 10000 / 1024, "the membrane's spectrum peaks at the kick rate, got " .. at2)
-- the 20 regular units fire 0.1 ms apart every 10 ms: 20 phases 2 pi / 100 apart, so
-- R = sin(20 d / 2) / (20 sin(d / 2)) with d = 2 pi / 100 (the silent units have no phase)
local k = nsim.kuramoto(rec, {dt = 1})
local d = 2 * math.pi / 100
local want = math.sin(10 * d) / (20 * math.sin(d / 2))
check(math.abs(k.mean.reg - want) < 0.005, "Kuramoto R " .. k.mean.reg .. ", closed form " .. want)
check(#k.t == #k.reg, "Kuramoto series on the grid")
for _, kind in ipairs{"summary", "psd", "rate_hist", "isi_hist"} do
  nsim.figure(kind, rec, {bin = 1, segment = 256})
end
nsim.raster(rec, "raster.png")
print("analysis.lua: all checks passed")
