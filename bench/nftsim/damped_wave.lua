-- bench/nftsim/damped_wave.lua — nsim's side of bench/nftsim/run.sh: a periodic kg_field with
-- m = gamma (NFTsim's wave propagator), kicked by a single spike (s = w for one step) at one site,
-- or at every site of its column (line = 1: a plane-wave source, so the field depends on x alone);
-- phi recorded every step at site 0 (rec = 0), along row 0 (rec = 1) or at every site (rec = 2).
--   nsim run bench/nftsim/damped_wave.lua --set nx=512 --set ny=512 --set line=1 --set rec=1
-- Units are nsim's: h and r in µm, dt and t in ms, gamma in 1/ms (NFTsim's gamma 30 /s is 0.03).
local nx, ny   = nsim.param("nx", 512), nsim.param("ny", 1)
local h        = nsim.param("h", 5000.0)      -- µm (5 mm)
local dt       = nsim.param("dt", 0.25)       -- ms
local t_ms     = nsim.param("t_ms", 400.0)   -- ms
local gamma    = nsim.param("gamma", 0.03)    -- 1/ms
local r        = nsim.param("r", 2e5)         -- µm (0.2 m)
local site     = nsim.param("site", 0)        -- the kicked site, 0-based (NFTsim's Node: site + 1)
local line     = nsim.param("line", 0)
local rec      = nsim.param("rec", 1)
local w        = nsim.param("w", 1)           -- the kick: s = w (field units / ms^2) for one step
local net = nsim.network{dt = dt}
local K = net:population("kg_field", nx * ny,
                         {nx = nx, ny = ny, h = h, c = r * gamma, m = gamma, gamma = gamma},
                         nil, {name = "K"})
local S = net:spike_source{times = {{dt}}, name = "kick"}
local pre, post = {0}, {site}
if line == 1 then
  for j = 1, ny - 1 do pre[j + 1], post[j + 1] = 0, site + j * nx end
end
net:connect(S, K, {rule = "list", pre = pre, post = post, weight = w, delay = dt})
local sites = nil                                -- every site
if rec == 0 then sites = {0} elseif rec == 1 then
  sites = {}
  for j = 0, nx - 1 do sites[j + 1] = j end
end
net:record_state(K, {vars = {"phi"}, neurons = sites, interval = dt, file = "phi.csv"})
net:run(t_ms)
