-- tests/lua/init_state.lua — per-unit initial state from a list and from a function f(i, x, y, z),
-- printed back through pop:state as "NAME,i,value" lines (17 digits) for test_cli.sh, which
-- recomputes every value itself: lif with a list, lif on a periodic grid and on a ring, lif with
-- no geometry (f gets i alone), a kg_field and an ei_lattice without a geometry (their cells).
local net = nsim.network{dt = 0.1}
local out = {}
local function dump(pop, var)
  for i = 0, pop.n - 1 do out[#out + 1] = string.format("%s.%s,%d,%.17g", pop.name, var, i, pop:state(var, i)) end
end
local L = net:population("lif", 4, {}, {V_m = {-70, -65.5, -60.25, -55}}, "list")
local G = net:population("lif", 6, {}, {V_m = function(i, x, y) return -70 + 0.01 * x + 0.001 * y + i end},
                         {name = "grid", grid = {nx = 3, ny = 2, spacing = 20, periodic = true}})
local R = net:population("lif", 5, {}, {V_m = function(i, x, y, z) return -60 + x + 2 * y + 3 * z end},
                         {name = "ring", ring = {spacing = 10}})
local N = net:population("lif", 3, {}, {V_m = function(...) return -50 - 10 * select("#", ...) - select(1, ...) end}, "none")
local K = net:population("kg_field", 15, {nx = 5, ny = 3, h = 40},
                         {phi = function(i, x, y) return math.exp(-((x - 100) ^ 2) / 1e4) * math.cos(y / 50) end,
                          phi_prev = function(i) return 0.5 * i end}, "field")
local E = net:population("ei_lattice", 8, {nx = 4, h = 30}, {u = function(i, x, y) return x + y / 1000 end}, "ei")
dump(L, "V_m"); dump(G, "V_m"); dump(R, "V_m"); dump(N, "V_m"); dump(K, "phi"); dump(K, "phi_prev"); dump(E, "u")
net:run(0.1)
print(table.concat(out, "\n"))
