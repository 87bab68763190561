-- bench/kg_speed.lua — site updates per second of one kg_field (F = 1, 5-point, periodic, no noise)
-- of n x n sites over a number of leapfrog steps, after 10 steps of warm-up (timed apart).
-- bench/kg_speed.sh runs it beside bench/stream_triad.c's bound at 1 and 2 threads:
--   nsim run bench/kg_speed.lua --threads 2 --set n=1024 --set steps=1000 --quiet
local n, steps = nsim.param("n", 1024), nsim.param("steps", 1000)
local dt = 0.1
local net = nsim.network{dt = dt}
local K = net:population("kg_field", n * n, {nx = n, ny = n, h = 100, c = 100, m = 1},
                         {phi = nsim.uniform(-1, 1), phi_prev = nsim.uniform(-1, 1)}, {name = "K"})
net:run(10 * dt)
local s0, c0 = net.simulate_s, os.clock()
net:run(steps * dt)
local s, cpu = net.simulate_s - s0, os.clock() - c0
-- on a shared machine the wall rate falls with the load; the CPU time (all threads) says how much
print(string.format("kg_field %d x %d, %d steps: %.3f s wall (%.3f s CPU), %.1f million site updates/s (%.1f per CPU second)",
      n, n, steps, s, cpu, n * n * steps / s / 1e6, n * n * steps / cpu / 1e6))
