-- examples/microcircuit.lua — the Potjans & Diesmann (2014) cortical microcircuit: 77,169 LIF
-- neurons with exponential current synapses in 8 populations (L2/3, L4, L5, L6; E and I), about
-- 0.3 G synapses, as the INM-6 microcircuit-PD14-model reference implementation builds it.
--   nsim run examples/microcircuit.lua [--set scale=0.1] [--set t_ms=1000] [--set bg=dc]
--       [--set thalamic=true] [--set v0=original] [--set k_scale=0.5] [--threads 2]
-- scale multiplies the neuron numbers (N_scaling) and, unless k_scale is given, the in-degrees
-- (K_scaling); with K_scaling < 1 weights grow by 1/sqrt(K_scaling) and a DC input makes up the
-- missing mean input, as the reference does. The run is a warm-up of `warmup_ms` (0.1 s) and a
-- measurement of `t_ms`: microcircuit_stats.csv (printed too) holds each population's mean rate,
-- ISI CV and synchrony over the measurement beside the reference values, neuron_stats.csv each
-- neuron's rate and CV, synapses.csv each projection's synapse count and its formula, and
-- microcircuit.png a raster of a sample of each population beside the rates as bars.
local scale    = nsim.param("scale", 1.0)       -- N_scaling
local k_scale  = nsim.param("k_scale", 0.0)     -- K_scaling; 0: the same as scale
local t_ms     = nsim.param("t_ms", 1000)       -- measured, after the warm-up
local warmup   = nsim.param("warmup_ms", 100)
local bg       = nsim.param("bg", "poisson")    -- background: "poisson" (8 Hz x K_ext) or "dc"
local thalamic = nsim.param("thalamic", false)  -- 902 thalamic neurons at 120 Hz for 10 ms from th_start_ms
local th_start = nsim.param("th_start_ms", 700)
local v0_type  = nsim.param("v0", "optimized")  -- initial V_m: "optimized" (per population) or "original"
local sample   = nsim.param("sample", 100)      -- neurons of each population in the raster
local raster_ms = nsim.param("raster_ms", 200)  -- the raster's last stretch of the measurement
local split    = nsim.param("split", "populations") -- threads share whole populations, or cut each ("units")
if k_scale == 0 then k_scale = scale end
local function refuse(fmt, ...) error(string.format(fmt, ...), 2) end
if not (scale > 0 and scale <= 1) then refuse("scale = %g: must be in (0, 1]", scale) end
if not (k_scale > 0 and k_scale <= 1) then refuse("k_scale = %g: must be in (0, 1] (0: the same as scale)", k_scale) end
if bg ~= "poisson" and bg ~= "dc" then refuse("bg = %s: must be poisson or dc", bg) end
if v0_type ~= "optimized" and v0_type ~= "original" then refuse("v0 = %s: must be optimized or original", v0_type) end
if t_ms < 3 then refuse("t_ms = %g: at least 3 ms (one synchrony bin)", t_ms) end
if warmup < 0 then refuse("warmup_ms = %g: at least 0", warmup) end
if sample < 1 or raster_ms <= 0 then refuse("sample = %g, raster_ms = %g: at least 1 neuron and above 0 ms", sample, raster_ms) end

local dt = 0.1
local names = {"L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"}
local full_n = {20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948}
-- connection probabilities, [target][source]
local conn_p = {
  {0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0,    0.0076, 0.0},
  {0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0,    0.0042, 0.0},
  {0.0077, 0.0059, 0.0497, 0.135,  0.0067, 0.0003, 0.0453, 0.0},
  {0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0,    0.1057, 0.0},
  {0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0},
  {0.0548, 0.0269, 0.0257, 0.0022, 0.06,   0.3158, 0.0086, 0.0},
  {0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252},
  {0.0364, 0.001,  0.0034, 0.0005, 0.0277, 0.008,  0.0658, 0.1443}}
local K_ext = {1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100}
-- the reference's rates of the full network (NEST, one run; its K_scaling compensation uses them)
local full_rates = {0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829}
local bg_rate = 8.0                     -- Hz per external input
local psp_exc, g, w_rel_sd = 0.15, -4, 0.1
local d_exc, d_inh, d_rel_sd = 1.5, 0.75, 0.5
local v0_mean = {-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43}
local v0_sd   = {5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48}
local cell = {C_m = 250, tau_m = 10, E_L = -65, V_th = -50, V_reset = -65, t_ref = 2, tau_ex = 0.5, tau_in = 0.5}
-- thalamus
local th_n, th_rate, th_dur = 902, 120, 10
local th_p = {0.0, 0.0, 0.0983, 0.0619, 0.0, 0.0, 0.0512, 0.0196}

-- numpy's round (half to even) of x >= 0, as the reference rounds its scaled counts
local function round_even(x)
  local f = math.floor(x)
  local d = x - f
  if d > 0.5 or (d == 0.5 and f % 2 == 1) then f = f + 1 end
  return math.tointeger(f)
end

-- synapses for connection probability p between populations of n1 and n2 neurons when pairs are
-- drawn with replacement: the number whose chance of leaving a pair out is 1 - p
local function total_synapses(p, n1, n2)
  local prod = n1 * n2
  return math.log(1.0 - p) / math.log((prod - 1.0) / prod)
end

-- the PSC amplitude (pA) of a PSP peak of 1 mV, for tau_m, tau_syn and C_m
local function psc_over_psp(C_m, tau_m, tau_s)
  local sub = 1.0 / (tau_s - tau_m)
  local pre = tau_m * tau_s / C_m * sub
  local frac = (tau_m / tau_s) ^ sub
  return 1.0 / (pre * (frac ^ tau_m - frac ^ tau_s))
end

local k_psc = psc_over_psp(cell.C_m, cell.tau_m, cell.tau_ex)
local n_pop, full_syn, w_mean = {}, {}, {}
for i = 1, 8 do
  n_pop[i] = round_even(full_n[i] * scale)
  full_syn[i], w_mean[i] = {}, {}
  for j = 1, 8 do
    full_syn[i][j] = total_synapses(conn_p[i][j], full_n[i], full_n[j])
    local psp = (j % 2 == 1) and psp_exc or psp_exc * g
    if i == 1 and j == 3 then psp = 2 * psp_exc end   -- L4E -> L2/3E doubled
    w_mean[i][j] = psp * k_psc
  end
end
local w_ext = psp_exc * k_psc
local dc = {}
for i = 1, 8 do dc[i] = bg == "dc" and bg_rate * K_ext[i] * w_ext * cell.tau_ex * 0.001 or 0 end
-- fewer inputs: stronger weights, and a DC for the mean input the missing ones brought
local w_rec, w_bg = {}, w_ext
if k_scale ~= 1 then
  local c = 0.001 * cell.tau_ex * (1 - math.sqrt(k_scale))
  for i = 1, 8 do
    local input_rec = 0
    for j = 1, 8 do input_rec = input_rec + w_mean[i][j] * (full_syn[i][j] / full_n[i]) * full_rates[j] end
    dc[i] = dc[i] + c * input_rec
    if bg == "poisson" then dc[i] = dc[i] + c * w_ext * K_ext[i] * bg_rate end
  end
  w_bg = w_ext / math.sqrt(k_scale)
end
for i = 1, 8 do
  w_rec[i] = {}
  for j = 1, 8 do w_rec[i][j] = w_mean[i][j] / math.sqrt(k_scale) end
end

local net = nsim.network{dt = dt, split = split}
local P = {}
for i = 1, 8 do
  local params = {I_e = dc[i]}
  for k, v in pairs(cell) do params[k] = v end
  local init = v0_type == "optimized" and nsim.normal(v0_mean[i], v0_sd[i]) or nsim.normal(-58, 10)
  P[i] = net:population("lif", n_pop[i], params, {V_m = init}, names[i])
end

-- weights: normal, sd 10 % of the mean, redrawn on a sign flip; delays: normal, sd half the
-- mean, redrawn under dt / 2 (every delay then rounds to one step or more)
local function weight_dist(w)
  if w >= 0 then return nsim.normal(w, w_rel_sd * w, {min = 0}) end
  return nsim.normal(w, -w_rel_sd * w, {max = 0})
end
local function delay_dist(d) return nsim.normal(d, d_rel_sd * d, {min = 0.5 * dt}) end

local syn_rows = {"target,source,n_formula,synapses,weight_mean_pa,delay_mean_ms"}
for i = 1, 8 do
  for j = 1, 8 do
    local N = round_even(full_syn[i][j] * scale * k_scale)
    local before = net.synapses
    if N > 0 then
      net:connect(P[j], P[i], {rule = "fixed_total", N = N, multapses = true, autapses = true,
                               weight = weight_dist(w_rec[i][j]), delay = delay_dist(j % 2 == 1 and d_exc or d_inh)})
    end
    syn_rows[#syn_rows + 1] = string.format("%s,%s,%d,%d,%.17g,%.17g", names[i], names[j], N, net.synapses - before,
                                            w_rec[i][j], j % 2 == 1 and d_exc or d_inh)
  end
end
local rec_synapses = net.synapses

-- background: each neuron its own Poisson train of 8 Hz x K_ext inputs (the reference's one
-- generator per population, connected all to all, gives each target an independent train; its
-- 1.5 ms delay only shifts a stationary train)
if bg == "poisson" then
  for i = 1, 8 do net:poisson(P[i], {rate = bg_rate * round_even(K_ext[i] * k_scale), weight = w_bg}) end
end

-- the thalamus: 902 neurons each firing a Poisson train of 120 Hz for 10 ms (one train per
-- neuron, sent to all its targets, as the reference's parrot neurons do), drawn here with
-- Lua's generator seeded by th_seed
if thalamic then
  local th_seed = nsim.param("th_seed", 1)
  math.randomseed(th_seed)
  local times = {}
  for k = 1, th_n do
    local tk, t = {}, th_start
    while true do
      t = t - math.log(1 - math.random()) * 1000 / th_rate
      if t >= th_start + th_dur then break end
      tk[#tk + 1] = math.max(dt, math.floor(t / dt + 0.5) * dt)
    end
    times[k] = tk
  end
  local TH = net:spike_source{times = times, name = "TC"}
  for i = 1, 8 do -- the thalamic weight is the external one, w_bg
    local N = round_even(total_synapses(th_p[i], th_n, full_n[i]) * k_scale)
    if N > 0 then
      net:connect(TH, P[i], {rule = "fixed_total", N = N, weight = weight_dist(w_bg), delay = delay_dist(1.5)})
    end
  end
end

local spikes = net:record_spikes(P, {file = "spikes.csv"})
local n_total = 0
for i = 1, 8 do n_total = n_total + n_pop[i] end
print(string.format("PD14 microcircuit: scale %g (K %g), %d neurons, %d synapses, %s background%s",
                    scale, k_scale, n_total, rec_synapses, bg, thalamic and ", thalamic input" or ""))
net:run(warmup)
net:run(t_ms)
local f = assert(io.open(nsim.outdir() .. "/synapses.csv", "w"))  -- the folder exists from the first run on
f:write(table.concat(syn_rows, "\n"), "\n")
f:close()

-- ---- statistics of the measurement window (warmup, warmup + t_ms] -------------------------------
-- Spikes are stamped at the end of their step; the window and the 3 ms bins are counted in whole
-- steps, so that the boundaries are exact. Rate: spikes in the window / t_ms, every neuron (silent
-- ones too). ISI CV: sd / mean of the intervals between a neuron's spikes in the window (sample
-- sd, n - 1), neurons with at least 3 spikes, averaged. Synchrony: the variance over bins (n - 1)
-- of the summed spike count of the first M neurons of the population in 3 ms bins, divided by its
-- mean, with M = min(1000, the smallest population) the same for every population; the bins are
-- the floor(t_ms / 3) whole ones from the warm-up's end.
local w0 = math.floor(warmup / dt + 0.5)
local w1 = w0 + math.floor(t_ms / dt + 0.5)
local bin_steps = 30
local n_bins = (w1 - w0) // bin_steps
local M = 1000
for i = 1, 8 do M = math.min(M, n_pop[i]) end
local first = {}
for i = 1, 8 do first[i] = P[i].first end
local function pop_of(id)
  for i = 8, 1, -1 do if id >= first[i] then return i end end
end
local count, last, s1, s2 = {}, {}, {}, {}
local bins = {}
for i = 1, 8 do bins[i] = {} for b = 0, n_bins - 1 do bins[i][b] = 0 end end
local r_lo = w1 - math.floor(raster_ms / dt + 0.5)
local raster = {}
for i = 1, 8 do raster[i] = {t = {}, row = {}} end
local fh = assert(io.open(nsim.outdir() .. "/spikes.csv"))
assert(fh:read("l") == "t_ms,neuron")
for line in fh:lines() do
  local ts, ids = line:match("^([^,]+),(%d+)$")
  local step = math.floor(tonumber(ts) / dt + 0.5)
  if step > w0 and step <= w1 then
    local id = math.tointeger(tonumber(ids))
    local i = pop_of(id)
    local u = id - first[i]
    local c = (count[id] or 0) + 1
    count[id] = c
    if c > 1 then
      local isi = (step - last[id]) * dt
      s1[id] = (s1[id] or 0) + isi
      s2[id] = (s2[id] or 0) + isi * isi
    end
    last[id] = step
    if u < M then
      local b = (step - w0 - 1) // bin_steps
      if b < n_bins then bins[i][b] = bins[i][b] + 1 end
    end
    if u < sample and step > r_lo then
      local r = raster[i]
      r.t[#r.t + 1] = step * dt
      r.row[#r.row + 1] = u
    end
  end
end
fh:close()

local stats_rows = {"population,neurons,rate_hz,cv,cv_neurons,synchrony,sync_neurons,ref_rate_hz"}
local neuron_rows = {"neuron,population,rate_hz,cv"}
local rates = {}
local function num(x) return x == x and string.format("%.17g", x) or "nan" end -- NaN as the CSV writes it
local function f3(x) return x == x and string.format("%.3f", x) or "nan" end
print(string.format("%-5s %7s %9s %9s %7s %9s %9s", "pop", "neurons", "rate(Hz)", "ref(Hz)", "ISI CV", "cv_n", "synchrony"))
for i = 1, 8 do
  local sum_r, sum_cv, n_cv = 0, 0, 0
  for u = 0, n_pop[i] - 1 do
    local id = first[i] + u
    local c = count[id] or 0
    local r = c / (t_ms / 1000)
    sum_r = sum_r + r
    local cv = "nan"
    if c >= 3 then
      local k = c - 1
      local m = s1[id] / k
      local v = (s2[id] - k * m * m) / (k - 1)
      local x = math.sqrt(math.max(v, 0)) / m
      sum_cv, n_cv = sum_cv + x, n_cv + 1
      cv = string.format("%.17g", x)
    end
    neuron_rows[#neuron_rows + 1] = string.format("%d,%s,%.17g,%s", id, names[i], r, cv)
  end
  local b1, b2 = 0, 0
  for b = 0, n_bins - 1 do b1 = b1 + bins[i][b]; b2 = b2 + bins[i][b] ^ 2 end
  local mb = b1 / n_bins
  local sync = (n_bins > 1 and mb > 0) and (b2 - n_bins * mb * mb) / (n_bins - 1) / mb or 0 / 0
  local rate = sum_r / n_pop[i]
  local cv = n_cv > 0 and sum_cv / n_cv or 0 / 0
  rates[i] = rate
  stats_rows[#stats_rows + 1] = string.format("%s,%d,%.17g,%s,%d,%s,%d,%.17g", names[i], n_pop[i], rate, num(cv), n_cv,
                                              num(sync), M, full_rates[i])
  print(string.format("%-5s %7d %9.3f %9.3f %7s %9d %9s", names[i], n_pop[i], rate, full_rates[i], f3(cv), n_cv, f3(sync)))
end
print(string.format("(rates over %g ms after a %g ms warm-up; synchrony: %d neurons a population, %d bins of 3 ms; " ..
                    "ref: the reference implementation's full-scale NEST rates)", t_ms, warmup, M, n_bins))
for name, rows in pairs{["microcircuit_stats.csv"] = stats_rows, ["neuron_stats.csv"] = neuron_rows} do
  local out = assert(io.open(nsim.outdir() .. "/" .. name, "w"))
  out:write(table.concat(rows, "\n"), "\n")
  out:close()
end

local groups = {}
for i = 1, 8 do groups[i] = {name = names[i], t = raster[i].t, row = raster[i].row, rows = math.min(sample, n_pop[i])} end
nsim.raster_bars("microcircuit.png", {
  groups = groups, t0 = r_lo * dt, t1 = w1 * dt, values = rates, reference = full_rates,
  value_label = "rate (Hz)", reference_label = "NEST (reference)",
  title = string.format("PD14 microcircuit, scale %g: %d of each population, rates over %g ms", scale, sample, t_ms)})
