-- bench/kuramoto/a2a.lua — nsim's side of bench/kuramoto/run.sh: N Kuramoto oscillators all to all
-- (a dense graded projection, weights 1/N, self included, delay dt; or with mf = 1 the mean field
-- K_mf, no delay, O(N) a step), quantile Lorentzian frequencies omega_i = omega0 + Delta tan(pi (i
-- + 0.5)/N - pi/2), all phases 0 at t = 0.
-- Writes R.csv (t_ms,R): the order parameter |mean exp(i theta)| every ms, t = 0 included.
--   nsim run bench/kuramoto/a2a.lua --set N=1000 --set t_ms=50 [--set K=0.4 --set Delta=0.1 --set mf=1]
local N = math.floor(nsim.param("N", 1000))
local t_ms = nsim.param("t_ms", 50)              -- ms of model time, a whole number
local Delta = nsim.param("Delta", 0.1)           -- rad/ms: the Lorentzian's half-width
local K = nsim.param("K", 4 * 0.1)               -- rad/ms: 2 K_c with K_c = 2 Delta
local omega0 = nsim.param("omega0", 2 * math.pi * 0.01)   -- rad/ms (10 Hz)
local dt = nsim.param("dt", 0.1)                 -- ms
local mf = nsim.param("mf", 0)                   -- 1: the mean field K_mf instead of the N^2 projection

local om = {}
for i = 0, N - 1 do om[i + 1] = omega0 + Delta * math.tan(math.pi * (i + 0.5) / N - math.pi / 2) end
local net = nsim.network{dt = dt}
local P
if mf ~= 0 then
  P = net:population("kuramoto", N, {K_mf = K}, {omega = om, theta = 0}, "P")
else
  P = net:population("kuramoto", N, {K = K}, {omega = om, theta = 0}, "P")
  net:connect_graded(P, P, {weights = 1 / N})   -- delay: one step, the shortest
end

local function R()
  local s, c = 0, 0
  for j = 0, N - 1 do local t = P:state("theta", j); s = s + math.sin(t); c = c + math.cos(t) end
  return math.sqrt(s * s + c * c) / N
end
local ts, rs = {0}, {R()}
for k = 1, math.floor(t_ms + 0.5) do
  net:run(1.0)
  ts[#ts + 1], rs[#rs + 1] = net.time, R()
end
local f = io.open(nsim.outdir() .. "/R.csv", "w")
f:write("t_ms,R\n")
for k = 1, #ts do f:write(string.format("%g,%.12f\n", ts[k], rs[k])) end
f:close()
