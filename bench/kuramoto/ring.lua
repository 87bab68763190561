-- bench/kuramoto/ring.lua — nsim's side of the delayed ring in bench/kuramoto/run.sh: four rings of
-- N identical units (omega = 1 rad/ms) in one population, each unit coupled to its two neighbours
-- (K/2 per side, K = 1 rad/ms, delay tau = 1 ms), ring q started twisted, theta_i = 2 pi q i / N.
-- Writes ring.csv (q,omega_measured,max_dev): each ring's mean frequency over [t_ms/2, t_ms] and the
-- largest unit's deviation from it.
--   nsim run bench/kuramoto/ring.lua --set N=20 [--set t_ms=100 --set dt=0.1]
local N = math.floor(nsim.param("N", 20))
local t_ms = nsim.param("t_ms", 100)             -- ms, even
local dt = nsim.param("dt", 0.1)                 -- ms
local omega, K, tau, G = 1.0, 1.0, 1.0, 4        -- rad/ms, rad/ms, ms, rings

local th, pre, post, w = {}, {}, {}, {}
for q = 0, G - 1 do
  for i = 0, N - 1 do
    th[#th + 1] = 2 * math.pi * q * i / N
    for _, j in ipairs({(i + 1) % N, (i + N - 1) % N}) do
      pre[#pre + 1], post[#post + 1], w[#w + 1] = q * N + j, q * N + i, 0.5
    end
  end
end
local net = nsim.network{dt = dt}
local P = net:population("kuramoto", G * N, {K = K}, {omega = omega, theta = th}, "rings")
net:connect_graded(P, P, {rule = "list", pre = pre, post = post, weights = w, delay = tau})
net:run(t_ms / 2)
local a = {}
for u = 0, G * N - 1 do a[u] = P:state("theta", u) end
net:run(t_ms / 2)
local f = io.open(nsim.outdir() .. "/ring.csv", "w")
f:write("q,omega_measured,max_dev\n")
for q = 0, G - 1 do
  local fr, m, dev = {}, 0, 0
  for i = 0, N - 1 do fr[i] = (P:state("theta", q * N + i) - a[q * N + i]) / (t_ms / 2); m = m + fr[i] / N end
  for i = 0, N - 1 do dev = math.max(dev, math.abs(fr[i] - m)) end
  f:write(string.format("%d,%.15g,%.3g\n", q, m, dev))
end
f:close()
