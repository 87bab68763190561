-- examples/s2net_connectome.lua — an S2-Net on a small parcel graph: three modules of eight
-- parcels, dense within a module and sparse between, with delays from the distances. The script
-- writes the graph as an adjacency CSV (parcels.csv: source,target,weight,delay_ms), builds the
-- network from it, and runs in two halves: with the global desynchroniser the modules settle at
-- their own phases; without it (kappa_g = 0 from t_switch on) the sparse links between modules
-- draw them together. locking.csv gives, for each window of `window` ms (t_end_ms its end), the mean synchrony <cos(theta_i -
-- theta_j)> over the window of the pairs inside modules and between them (1: one phase; -0.5:
-- three phases a third of a turn apart), the same pairs' phase-locking value |<e^{i(theta_i -
-- theta_j)}>| (1 for any constant phase difference), and each module's order parameter and phase;
-- locking.png and phase_raster.png show which parcels group together and when.
--   nsim run examples/s2net_connectome.lua [--set t_ms=1600] [--seed 1]
local t_ms = nsim.param("t_ms", 1600)
local t_switch = nsim.param("t_switch", t_ms / 2)
local window = nsim.param("window", 100)
local M, P = 3, 8             -- modules, parcels per module
local n = M * P
local speed = nsim.param("speed", 20.0) -- conduction speed, mm/ms (delays 1 to 4 ms)
local dt = 1.0

-- Parcel places (mm): module m around angle 2 pi m / M at 40 mm from the centre, its parcels on a
-- small circle of 8 mm; a deterministic graph: every pair inside a module, and from each module to
-- the next, 3 links between parcel k and parcel (k + 3) mod P.
local x, y, module = {}, {}, {}
for m = 0, M - 1 do
    for k = 0, P - 1 do
        local i = m * P + k
        local a, b = 2 * math.pi * m / M, 2 * math.pi * k / P
        x[i], y[i], module[i] = 40 * math.cos(a) + 8 * math.cos(b), 40 * math.sin(a) + 8 * math.sin(b), m
    end
end
local function delay(i, j) -- whole steps of dt, at least one
    local d = math.sqrt((x[i] - x[j]) ^ 2 + (y[i] - y[j]) ^ 2) / speed
    return math.max(dt, math.floor(d / dt + 0.5) * dt)
end
local edges = {}
local function edge(i, j, w) edges[#edges + 1] = {i, j, w, delay(i, j)} end
for m = 0, M - 1 do
    for a = 0, P - 1 do
        for b = 0, P - 1 do
            if a ~= b then edge(m * P + a, m * P + b, 1.0) end
        end
    end
    local m2 = (m + 1) % M
    for k = 0, 2 do -- both ways
        edge(m * P + k, m2 * P + (k + 3) % P, 0.5)
        edge(m2 * P + (k + 3) % P, m * P + k, 0.5)
    end
end
local file = nsim.write_adjacency("parcels.csv", edges)

local net = nsim.network{dt = dt}
local sc = nsim.scaffold{file = file, n = n}
local s = nsim.s2net(net, {scaffold = sc, input = 23.5, name = "parcels"})
net:record_spikes(s.neurons, {file = "spikes.csv"})
net:record_state(s.phase, {vars = {"theta", "a"}, interval = 2, file = "phase.csv"})

-- Sample the phases every 2 ms; every `window` ms the phase-locking value |<e^{i(theta_i -
-- theta_j)}>| of each pair over the window, averaged within modules and between them, and each
-- module's order parameter R and mean phase psi at the window's end.
local out = {"t_end_ms,within_sync,between_sync,within_plv,between_plv,R_0,psi_0,R_1,psi_1,R_2,psi_2,kappa_g"}
local sums, count = {}, 0
local series = {t = {}, within = {}, between = {}, within_plv = {}, between_plv = {}}
local kappa_g = 0.2
local t = 0
while t < t_ms - 1e-9 do
    if t >= t_switch and kappa_g > 0 then
        kappa_g = 0
        s.phase:set{kappa_g = 0}
    end
    net:run(2)
    t = t + 2
    local th = {}
    for i = 0, n - 1 do th[i] = s.phase:state("theta", i) end
    for i = 0, n - 1 do
        for j = i + 1, n - 1 do
            local key = i * n + j
            local c = sums[key] or {0, 0}
            c[1], c[2] = c[1] + math.cos(th[i] - th[j]), c[2] + math.sin(th[i] - th[j])
            sums[key] = c
        end
    end
    count = count + 1
    if math.abs(t / window - math.floor(t / window + 0.5)) < 1e-9 then
        local w, wp, nw, b, bp, nb = 0, 0, 0, 0, 0, 0
        for i = 0, n - 1 do
            for j = i + 1, n - 1 do
                local c = sums[i * n + j]
                local plv, sync = math.sqrt(c[1] ^ 2 + c[2] ^ 2) / count, c[1] / count
                if module[i] == module[j] then w, wp, nw = w + sync, wp + plv, nw + 1
                else b, bp, nb = b + sync, bp + plv, nb + 1 end
            end
        end
        local row = {string.format("%g,%.6f,%.6f,%.6f,%.6f", t, w / nw, b / nb, wp / nw, bp / nb)}
        for m = 0, M - 1 do
            local cx, cy = 0, 0
            for k = 0, P - 1 do cx, cy = cx + math.cos(th[m * P + k]), cy + math.sin(th[m * P + k]) end
            row[#row + 1] = string.format("%.6f,%.6f", math.sqrt(cx ^ 2 + cy ^ 2) / P, math.atan(cy, cx) % (2 * math.pi))
        end
        row[#row + 1] = string.format("%g", kappa_g)
        out[#out + 1] = table.concat(row, ",")
        local k = #series.t + 1
        series.t[k], series.within[k], series.between[k] = t, w / nw, b / nb
        series.within_plv[k], series.between_plv[k] = wp / nw, bp / nb
        print(string.format("t %5g ms  synchrony within modules %6.3f, between %6.3f  (PLV %.3f, %.3f; kappa_g %g)", t,
                            w / nw, b / nb, wp / nw, bp / nb, kappa_g))
        sums, count = {}, 0
    end
end
local f = assert(io.open(nsim.outdir() .. "/locking.csv", "w"))
f:write(table.concat(out, "\n"), "\n")
f:close()

local groups = {}
for i = 0, n - 1 do groups[i + 1] = module[i] + 1 end
nsim.plot{series = {{name = "synchrony within modules", x = series.t, y = series.within},
                    {name = "synchrony between modules", x = series.t, y = series.between},
                    {name = "PLV within", x = series.t, y = series.within_plv},
                    {name = "PLV between", x = series.t, y = series.between_plv}},
          x_label = "time (ms)", y_label = "<cos(theta_i - theta_j)> and PLV", file = "locking.png",
          title = string.format("parcel locking (kappa_g = 0 from %g ms)", t_switch)}
nsim.phase_raster{file = "phase.csv", var = "theta", groups = groups, out = "phase_raster.png",
                  title = "parcel phases by module (lab frame)"}
local ops = s.synops()
print(string.format("synops %.4g against %.4g dense multiply-adds", ops.synops, ops.dense_macs))
