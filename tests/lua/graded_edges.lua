-- tests/lua/graded_edges.lua — net:connect_graded with rule = "list": sparse edges, each with its
-- own weight and delay, given as lists and as a CSV file source,target,weight,delay_ms. A cfc
-- population driven by a signal projects onto integrators; run step by step, each integrator's
-- sum must be the sum over its edges of weight x the state the cell reported delay steps earlier.
-- Run by tests/test_cli.sh (on 1 and 2 threads, whose printed sums must be identical); exits with
-- an error (status 2) on the first wrong answer.
local function check(cond, what) if not cond then error("check failed: " .. what, 2) end end
local dt, n, steps = 0.5, 4, 50
-- edges: source unit, target unit, weight, delay in steps (a pair twice, with two delays)
local E = {{0, 0, 1.5, 1}, {3, 0, -0.5, 4}, {1, 1, 2.0, 2}, {2, 2, 0.75, 6}, {2, 2, -1.25, 3}, {0, 2, 0.3, 1}}
local net = nsim.network{dt = dt}
local C = net:population("cfc", n, {inputs = 1, time_scale = 2}, nil, {name = "C", seed = 5})
net:signal(C, {times = {0, 4, 11}, values = {0.7, -0.9, 0.4}})
local L = net:population("integrator", 3, nil, nil, "L")     -- the edges as lists
local F = net:population("integrator", 3, nil, nil, "F")     -- the same edges from a file
local pre, post, w, d = {}, {}, {}, {}
for k, e in ipairs(E) do pre[k], post[k], w[k], d[k] = e[1], e[2], e[3], e[4] * dt end
net:connect_graded(C, L, {rule = "list", pre = pre, post = post, weights = w, delays = d})
local file = os.tmpname()
local f = assert(io.open(file, "w"))
f:write("source,target,weight,delay_ms\n# a comment, then the edges\n")
for _, e in ipairs(E) do f:write(string.format("%d,%d,%.17g,%.17g\n", e[1], e[2], e[3], e[4] * dt)) end
f:close()
net:connect_graded(C, F, {rule = "list", file = file})
os.remove(file)
local h, worst, moved = {}, 0, 0
for k = 1, steps do
  net:run(dt)
  h[k] = {}
  for j = 1, n do h[k][j] = C:state("h", j - 1); moved = moved + math.abs(h[k][j]) end
  for i = 1, 3 do
    local want = 0
    for s = 1, k do
      for _, e in ipairs(E) do
        if e[2] == i - 1 and s - e[4] >= 1 then want = want + e[3] * h[s - e[4]][e[1] + 1] end
      end
    end
    worst = math.max(worst, math.abs(L:state("sum", i - 1) - want), math.abs(F:state("sum", i - 1) - want))
  end
end
check(moved > 0, "the cell's state moved")
check(worst < 1e-12, string.format("edges off by %g", worst))
print(string.format("graded edges within %.1g", worst))
for i = 1, 3 do print(string.format("%.17g %.17g", L:state("sum", i - 1), F:state("sum", i - 1))) end
