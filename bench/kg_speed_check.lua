-- bench/kg_speed_check.lua — kg_field's state, bit for bit (%a), after short runs of many
-- configurations (F = 1, 2; 5, 9 points; periodic, reflecting, absorbing; damping, noise; sources
-- from spikes, a device and a graded projection; odd and even windows, odd lattice shapes), so two
-- builds can be compared with cmp:
--   nsim run bench/kg_speed_check.lua --threads 1 --out OUT --quiet   (writes OUT/kg_state.txt, OUT/spikes.csv)
local f -- opened at the first dump: the run's folder exists once a network has run
local function dump(tag, K, n)
  f = f or assert(io.open(nsim.outdir() .. "/kg_state.txt", "w"))
  for _, v in ipairs({"phi", "phi_prev", "phi2", "phi2_prev", "energy"}) do
    local t = {}
    for i = 0, n - 1 do t[#t + 1] = string.format("%a", K:state(v, i)) end
    f:write(tag, " ", v, " ", table.concat(t, " "), "\n")
  end
end
local configs = {
  {nx = 33, ny = 17},
  {nx = 33, ny = 17, stencil = 9},
  {nx = 33, ny = 17, boundary = 1},
  {nx = 33, ny = 17, boundary = 1, stencil = 9, gamma = 0.05},
  {nx = 33, ny = 17, boundary = 2, sponge_width = 4, gamma = 0.01},
  {nx = 33, ny = 17, boundary = 2, sponge_width = 4, stencil = 9},
  {nx = 33, ny = 17, gamma = 0.03, stencil = 9},
  {nx = 33, ny = 17, sigma = 0.1},
  {nx = 33, ny = 17, F = 2, C_EI = 3000, C_IE = 3000, M_EI = 0.3, M_IE = 0.3},
  {nx = 33, ny = 17, F = 2, C_EI = 3000, C_IE = 3000, M_EI = 0.3, M_IE = 0.3, stencil = 9, gamma = 0.02, gamma2 = 0.01},
  {nx = 33, ny = 17, F = 2, stencil = 9, boundary = 2, sponge_width = 3, sigma = 0.05},
  {nx = 40, ny = 1},
  {nx = 40, ny = 1, boundary = 1, stencil = 9},
  {nx = 1, ny = 40},
  {nx = 1, ny = 40, boundary = 1},
  {nx = 2, ny = 9, stencil = 9},
  {nx = 3, ny = 5, boundary = 1},
  {nx = 3, ny = 1},
}
for ci, p in ipairs(configs) do
  for _, dt in ipairs({0.1, 0.2}) do -- windows of 10 steps, and of 5 (odd)
    local net = nsim.network{dt = dt}
    local n = p.nx * p.ny
    local q = {h = 100, c = 100, m = 1}
    for k, v in pairs(p) do q[k] = v end
    local K = net:population("kg_field", n, q, {phi = nsim.uniform(-1, 1), phi_prev = nsim.uniform(-1, 1),
                                                  phi2 = nsim.uniform(-1, 1), phi2_prev = nsim.uniform(-1, 1)},
                             {name = "K" .. ci})
    if ci % 3 == 0 then net:dc(K, {amplitude = 0.5, start = 0.3, stop = 1.1}) end
    net:run(23 * dt) -- two whole windows and a part (odd)
    net:run(3 * dt)  -- a window of 3 steps
    net:run(dt)      -- of 1
    net:run(10 * dt)
    dump(string.format("c%d dt%g", ci, dt), K, n)
  end
end
-- spikes into the field, the field into neurons (graded): sources read and cleared in the update,
-- the output row written each step
for _, p in ipairs({{}, {stencil = 9, boundary = 2, sponge_width = 5, gamma = 0.02}, {boundary = 1}}) do
  local nx, h, dt = 24, 50, 0.05
  local net = nsim.network{dt = dt}
  local grid = {nx = nx, ny = nx, spacing = h}
  local q = {nx = nx, ny = nx, h = h, c = 200, m = 0}
  for k, v in pairs(p) do q[k] = v end
  local K = net:population("kg_field", nx * nx, q, nil, {name = "field", grid = grid})
  local cell = {C_m = 250, tau_m = 5, E_L = -65, V_th = -55, V_reset = -65, t_ref = 3, tau_ex = 2, tau_in = 2}
  local N = net:population("lif", nx * nx, cell, nil, {name = "neurons", grid = grid})
  local mid, kick_xy = nx * h / 2, {}
  for j = -1, 1 do for i = -1, 1 do kick_xy[#kick_xy + 1] = {mid + i * h, mid + j * h} end end
  local kick = net:population("lif", 9, cell, nil, {name = "kick", positions = kick_xy})
  net:dc(kick, {amplitude = 4000, start = 0, stop = 2})
  net:connect(kick, K, {rule = "site", weight = 4000, delay = dt})
  net:connect(N, K, {rule = "site", weight = 300, delay = 3 * dt})
  net:connect_graded(K, N, {rule = "site", weight = 600, delay = dt})
  net:run(6)
  dump("neurons", K, nx * nx)
  local t = {}
  for i = 0, nx * nx - 1 do t[#t + 1] = string.format("%a", N:state("V_m", i)) end
  f:write("V ", table.concat(t, " "), "\n")
end
f:close()
