/* lua/lua_scaffold.c — S2-Net from Lua: nsim.scaffold makes a scaffold (sim/scaffold.h) from an
 * image or an adjacency CSV; nsim.s2net builds the neurons, their phase units and the four
 * projections over it (the builder is Lua code below, on top of net:population and net:connect). */
#include "base/files.h"
#include "lua/lua_scaffold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "io/csv.h"
#include "lua/lua_util.h"
#include "sim/net.h"
#include "sim/scaffold.h"

#define SCAFFOLD_MT "nsim.scaffold"

static ns_scaffold *check_scaffold(lua_State *L, int idx)
{
    ns_scaffold *sc = luaL_checkudata(L, idx, SCAFFOLD_MT);
    if (!sc->n) luaL_error(L, "scaffold is empty");
    return sc;
}

static int scaffold_gc(lua_State *L)
{
    ns_scaffold_free(luaL_checkudata(L, 1, SCAFFOLD_MT));
    return 0;
}

/* A delay option of the grid: a number (ms) or a function of the distance in pixels; its values
 * at distance 1 (axial) and sqrt 2 (diagonal). */
static void grid_delay(lua_State *L, int opt, const char *key, double def, double out[2])
{
    const int t = lua_getfield(L, opt, key);
    if (t == LUA_TNIL) out[0] = out[1] = def;
    else if (t == LUA_TNUMBER) out[0] = out[1] = lua_tonumber(L, -1);
    else if (t == LUA_TFUNCTION) {
        for (int k = 0; k < 2; k++) {
            lua_pushvalue(L, -1);
            lua_pushnumber(L, k ? sqrt(2.0) : 1.0);
            lua_call(L, 1, 1);
            if (!lua_isnumber(L, -1)) luaL_error(L, "scaffold: %s(distance) must return a number (ms)", key);
            out[k] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
    } else
        luaL_error(L, "scaffold: %s must be a number (ms) or a function of the distance in pixels", key);
    lua_pop(L, 1);
}

/* nsim.scaffold{image = {grey values, row by row}, width =, height = (default: the image's own
 * fields, as nsim.shapes and nsim.read_image give them), neighbours = 4 | 8, sigma =,
 * delay =, phase_delay =} or nsim.scaffold{file = "edges.csv", n =, duplicates = false}. */
static int l_scaffold(lua_State *L)
{
    static const char *const keys[] = {"image", "width", "height", "neighbours", "sigma", "delay", "phase_delay",
                                       "file", "n", "duplicates", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    ns_lua_check_keys(L, 1, keys, "scaffold");
    ns_scaffold *sc = lua_newuserdatauv(L, sizeof *sc, 0);
    memset(sc, 0, sizeof *sc);
    luaL_setmetatable(L, SCAFFOLD_MT);
    char err[1024];
    const char *file = ns_lua_field_string(L, 1, "file", NULL, "scaffold");
    if (file) {
        const double n = ns_lua_field_number(L, 1, "n", -1, "scaffold");
        if (!(n >= 1 && n <= 4294967295.0 && n == floor(n)))
            luaL_error(L, "scaffold: n (the number of units) must be a whole number in [1, 2^32 - 1]");
        ns_csv_edges e;
        if (ns_csv_read_edges_phase(file, (size_t)n, 0.0, HUGE_VAL, &e, err, sizeof err))
            return ns_lua_errorf(L, "%s", err);
        const int dup = ns_lua_field_bool(L, 1, "duplicates", 0);
        if (ns_scaffold_from_edges(sc, (size_t)n, e.n, e.pre, e.post, e.w, e.delay_ms, e.phase_delay_ms, e.line,
                                   file, dup, err, sizeof err))
            return ns_lua_errorf(L, "%s", err);
        return 1;
    }
    double nx = ns_lua_field_number(L, 1, "width", 0, "scaffold"), ny = ns_lua_field_number(L, 1, "height", 0, "scaffold");
    if (lua_getfield(L, 1, "image") == LUA_TTABLE) { /* an image of nsim.shapes or nsim.read_image knows its size */
        if (nx == 0) nx = ns_lua_field_number(L, -1, "width", 0, "scaffold: image");
        if (ny == 0) ny = ns_lua_field_number(L, -1, "height", 0, "scaffold: image");
    }
    lua_pop(L, 1);
    if (!(nx >= 1 && ny >= 1 && nx == floor(nx) && ny == floor(ny) && nx * ny <= 4294967295.0))
        luaL_error(L, "scaffold: width and height must be whole numbers >= 1 (or give file = an adjacency CSV)");
    const size_t n = (size_t)nx * (size_t)ny;
    if (lua_getfield(L, 1, "image") != LUA_TTABLE) luaL_error(L, "scaffold: image must be a list of width x height grey values");
    if ((size_t)luaL_len(L, -1) != n)
        luaL_error(L, "scaffold: image has %d values, width x height is %d", (int)luaL_len(L, -1), (int)n);
    double *img = lua_newuserdatauv(L, n * sizeof *img, 0);
    for (size_t k = 0; k < n; k++) {
        lua_geti(L, -2, (lua_Integer)k + 1);
        if (!lua_isnumber(L, -1)) luaL_error(L, "scaffold: image value %d is not a number", (int)k + 1);
        img[k] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    double d[2], tau[2];
    grid_delay(L, 1, "delay", 1.0, d);
    grid_delay(L, 1, "phase_delay", NAN, tau);
    if (isnan(tau[0])) tau[0] = d[0], tau[1] = d[1];
    const double nb = ns_lua_field_number(L, 1, "neighbours", 8, "scaffold");
    if (nb != 4 && nb != 8) ns_lua_errorf(L, "scaffold: neighbours must be 4 or 8, not %g", nb); /* inf: no int */
    const double sigma = ns_lua_field_number(L, 1, "sigma", 0.3, "scaffold");
    if (ns_scaffold_grid(sc, img, (int)nx, (int)ny, nb == 4 ? 4 : 8, sigma, d[0], d[1], tau[0],
                         tau[1], err, sizeof err))
        return ns_lua_errorf(L, "%s", err);
    lua_pop(L, 2);
    return 1;
}

/* A list of n doubles as a Lua table. */

/* sc:edges(): {pre, post, w, delay, phase_delay, deg, wsum} (0-based units; deg and wsum per target). */
static int l_sc_edges(lua_State *L)
{
    ns_scaffold *sc = check_scaffold(L, 1);
    lua_createtable(L, 0, 7);
    for (int e = 0; e < 2; e++) {
        const uint32_t *u = e ? sc->post : sc->pre;
        lua_createtable(L, (int)sc->n_edges, 0);
        for (size_t k = 0; k < sc->n_edges; k++) {
            lua_pushinteger(L, u[k]);
            lua_seti(L, -2, (lua_Integer)k + 1);
        }
        lua_setfield(L, -2, e ? "post" : "pre");
    }
    ns_lua_push_numbers(L, sc->w, (long)sc->n_edges, 1), lua_setfield(L, -2, "w");
    ns_lua_push_numbers(L, sc->delay_ms, (long)sc->n_edges, 1), lua_setfield(L, -2, "delay");
    ns_lua_push_numbers(L, sc->phase_delay_ms, (long)sc->n_edges, 1), lua_setfield(L, -2, "phase_delay");
    ns_lua_push_numbers(L, sc->deg, (long)sc->n, 1), lua_setfield(L, -2, "deg");
    ns_lua_push_numbers(L, sc->wsum, (long)sc->n, 1), lua_setfield(L, -2, "wsum");
    return 1;
}

/* sc:check_dt(dt): every delay a whole number of steps, else the file's line. */
static int l_sc_check_dt(lua_State *L)
{
    ns_scaffold *sc = check_scaffold(L, 1);
    char err[1024];
    if (ns_scaffold_check_dt(sc, luaL_checknumber(L, 2), err, sizeof err)) return ns_lua_errorf(L, "%s", err);
    return 0;
}

/* sc:_set_ops(P, spike_edges, phase_values): the phase units' ops_spike (1 for the unit's own
 * neuron, plus its out-degree when the lateral spike projection exists) and ops_active (its
 * out-degree times the values its phase output sends along each edge). */
static int l_sc_set_ops(lua_State *L)
{
    ns_scaffold *sc = check_scaffold(L, 1);
    ns_net *net;
    ns_pop *P = ns_lua_check_pop(L, 2, &net);
    const int spikes = lua_toboolean(L, 3);
    const double per_edge = luaL_checknumber(L, 4);
    if (ns_pop_size(P) != sc->n) luaL_error(L, "s2net: the phase population must have the scaffold's %d units", (int)sc->n);
    double *out = calloc(sc->n + 1, sizeof *out), *v = calloc(sc->n + 1, sizeof *v);
    if (!out || !v) {
        free(out), free(v);
        luaL_error(L, "s2net: out of memory");
    }
    for (size_t k = 0; k < sc->n_edges; k++) out[sc->pre[k]] += 1.0;
    int rc = 0;
    for (size_t i = 0; i < sc->n; i++) v[i] = 1.0 + (spikes ? out[i] : 0.0);
    rc |= ns_pop_set_state_array(net, P, "ops_spike", v);
    for (size_t i = 0; i < sc->n; i++) v[i] = per_edge * out[i];
    rc |= ns_pop_set_state_array(net, P, "ops_active", v);
    free(out), free(v);
    if (rc) return ns_lua_fail(L);
    return 0;
}

static int l_sc_index(lua_State *L)
{
    ns_scaffold *sc = check_scaffold(L, 1);
    const char *key = luaL_checkstring(L, 2);
    if (!strcmp(key, "n")) lua_pushinteger(L, (lua_Integer)sc->n);
    else if (!strcmp(key, "edges")) lua_pushinteger(L, (lua_Integer)sc->n_edges);
    else if (!strcmp(key, "width")) lua_pushinteger(L, sc->nx);
    else if (!strcmp(key, "height")) lua_pushinteger(L, sc->ny);
    else if (!strcmp(key, "edge_list")) lua_pushcfunction(L, l_sc_edges);
    else if (!strcmp(key, "check_dt")) lua_pushcfunction(L, l_sc_check_dt);
    else if (!strcmp(key, "_set_ops")) lua_pushcfunction(L, l_sc_set_ops);
    else luaL_error(L, "scaffold has no field '%s' (n, edges, width, height, edge_list, check_dt)", key);
    return 1;
}

/* nsim.write_adjacency(name, edges): an adjacency CSV in the output folder (docs/formats.md),
 * edges a list of {source, target, weight, delay_ms[, phase_delay_ms]}; returns its path. */
static int l_write_adjacency(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    const lua_Integer m = luaL_len(L, 2);
    int cols = 4;
    if (m > 0) {
        lua_geti(L, 2, 1);
        if (lua_istable(L, -1) && luaL_len(L, -1) == 5) cols = 5;
        lua_pop(L, 1);
    }
    char path[4096];
    ns_script *sc = ns_lua_script(L);
    if (ns_ctx_output_path(sc->ctx, name, path, (int)sizeof path)) return ns_lua_fail(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, cols == 5 ? "source,target,weight,delay_ms,phase_delay_ms\n" : "source,target,weight,delay_ms\n");
    for (lua_Integer k = 1; k <= m; k++) {
        lua_geti(L, 2, k);
        if (!lua_istable(L, -1) || luaL_len(L, -1) != cols)
            luaL_error(L, "write_adjacency: edge %d must be {source, target, weight, delay_ms%s}", (int)k,
                       cols == 5 ? ", phase_delay_ms" : "");
        char line[160];
        double v[5];
        for (int c = 0; c < cols; c++) {
            lua_geti(L, -1, c + 1);
            if (!lua_isnumber(L, -1)) luaL_error(L, "write_adjacency: edge %d, field %d is not a number", (int)k, c + 1);
            v[c] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        if (cols == 5) snprintf(line, sizeof line, "%.17g,%.17g,%.17g,%.17g,%.17g\n", v[0], v[1], v[2], v[3], v[4]);
        else snprintf(line, sizeof line, "%.17g,%.17g,%.17g,%.17g\n", v[0], v[1], v[2], v[3]);
        luaL_addstring(&b, line);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *text = lua_tolstring(L, -1, &len);
    char tmp[4200], err[4400];
    FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, sizeof err);
    if (!fp) luaL_error(L, "nsim.write_adjacency: %s", err);
    fwrite(text, 1, len, fp); /* a short write sets the stream's error: finish then refuses */
    if (ns_file_finish(fp, tmp, path, err, sizeof err)) luaL_error(L, "nsim.write_adjacency: %s", err);
    lua_pushstring(L, path);
    return 1;
}

/* The builder (docs/guide.md "S2-Net"). */
static const char s2net_lua[] =
    "local two_pi = 2 * math.pi\n"
    "local known = {scaffold = 1, neuron = 1, neuron_params = 1, neuron_init = 1, input = 1, w = 1, g = 1,\n"
    "  phase_params = 1, phase_init = 1, lateral = 1, name = 1}\n"
    "local function build(net, o)\n"
    "  if type(o) ~= 'table' then error('nsim.s2net(net, {scaffold = ..., ...})', 2) end\n"
    "  for k in pairs(o) do if not known[k] then error('s2net: unknown option ' .. tostring(k) .. \n"
    "    ' (scaffold, neuron, neuron_params, neuron_init, input, w, g, phase_params, phase_init, lateral, name)', 2) end end\n"
    "  local sc = o.scaffold\n"
    "  if not sc then error('s2net: scaffold is required (nsim.scaffold{...})', 2) end\n"
    "  local dt, n = net.dt, sc.n\n"
    "  sc:check_dt(dt)\n"
    "  local model = o.neuron or 'lif_delta'\n"
    "  local name = o.name or 'S2'\n"
    "  local np = {}\n"
    "  for k, v in pairs(o.neuron_params or {}) do np[k] = v end\n"
    "  local scale = 1\n"
    "  if model == 'lif_delta' then\n"
    "    local tau = np.tau_m or 20\n"
    "    if type(tau) ~= 'number' then error('s2net: tau_m of lif_delta must be one number', 2) end\n"
    "    np.C_m = tau; np.tau_m = tau\n"
    "    scale = 1 - math.exp(-dt / tau)\n"
    "  end\n"
    "  if o.input ~= nil then np.I_e = o.input end\n"
    "  local init = o.neuron_init\n"
    "  if init == nil and model == 'lif_delta' then\n"
    "    local lo, hi = np.E_L or 0, np.V_th or 20\n"
    "    init = {V_m = nsim.uniform(lo, hi)}\n"
    "  end\n"
    "  local N = net:population(model, n, np, init, name .. '_neurons')\n"
    "  local pp = {}\n"
    "  for k, v in pairs(o.phase_params or {}) do pp[k] = v end\n"
    "  pp.in_delay = dt\n"
    "  local lateral = o.lateral ~= false\n"
    "  local w, g = o.w, o.g\n"
    "  if w == nil then w = model == 'lif_delta' and 60 or 0 end\n"
    "  if g == nil then g = model == 'lif_delta' and 300 or 0 end\n"
    "  for k, v in pairs({w = w, g = g}) do\n"
    "    if type(v) ~= 'number' or not (v >= 0 and v < math.huge) then\n"
    "      error(string.format('s2net: %s = %s must be a finite number >= 0 (%s)', k, tostring(v),\n"
    "        model == 'lif_delta' and 'mV' or 'the weight unit of ' .. model), 2) end\n"
    "  end\n"
    "  local kappa = pp.kappa == nil and 5.0 or pp.kappa\n"
    "  local values = (lateral and w ~= 0 and 1 or 0) + (lateral and kappa ~= 0 and 2 or 0) + (lateral and g ~= 0 and 1 or 0) + 1\n"
    "  pp.dense_values = values\n"
    "  local P = net:population('s2net_phase', n, pp, o.phase_init or {theta = nsim.uniform(0, two_pi)}, name .. '_phase')\n"
    "  net:connect(N, P, {rule = 'one_to_one', weight = 1, delay = dt})\n"
    "  if lateral then\n"
    "    local e = sc:edge_list()\n"
    "    if w ~= 0 then\n"
    "      local ws = {}\n"
    "      for k = 1, #e.w do ws[k] = w * scale * e.w[k] end\n"
    "      net:connect(N, N, {rule = 'list', pre = e.pre, post = e.post, weights = ws, delays = e.delay})\n"
    "    end\n"
    "    if kappa ~= 0 then\n"
    "      local ws = {}\n"
    "      for k = 1, #e.w do ws[k] = e.w[k] / e.deg[e.post[k] + 1] end\n"
    "      net:connect_graded(P, P, {rule = 'list', pre = e.pre, post = e.post, weights = ws, delays = e.phase_delay})\n"
    "    end\n"
    "    if g ~= 0 then\n"
    "      local ws = {}\n"
    "      for k = 1, #e.w do local s = e.wsum[e.post[k] + 1]; ws[k] = s > 0 and g * scale * e.w[k] / s or 0 end\n"
    "      net:connect_graded(P, N, {rule = 'list', pre = e.pre, post = e.post, weights = ws, delays = e.phase_delay,\n"
    "                                component = 'cos'})\n"
    "    end\n"
    "  end\n"
    "  sc:_set_ops(P, lateral and w ~= 0, (lateral and kappa ~= 0 and 2 or 0) + (lateral and g ~= 0 and 1 or 0))\n"
    "  local s = {neurons = N, phase = P, scaffold = sc, dense_values = values}\n"
    "  function s.synops()\n"
    "    local ops = 0\n"
    "    for i = 0, n - 1 do ops = ops + P:state('synops', i) end\n"
    "    local dense = math.floor(net.time / dt + 0.5) * n * n * values\n"
    "    return {synops = ops, dense_macs = dense, synops_pj = 0.9 * ops, dense_pj = 4.6 * dense}\n"
    "  end\n"
    "  return s\n"
    "end\n"
    "return function(net, o)\n"  /* errors at the caller's line, without the builder's own position */
    "  local ok, r = pcall(build, net, o)\n"
    "  if not ok then error((tostring(r):gsub('^nsim%.s2net:%d+: ', '')), 2) end\n"
    "  return r\n"
    "end\n";

void ns_lua_open_scaffold(lua_State *L)
{
    static const luaL_Reg mt[] = {{"__index", l_sc_index}, {"__gc", scaffold_gc}, {NULL, NULL}};
    luaL_newmetatable(L, SCAFFOLD_MT);
    luaL_setfuncs(L, mt, 0);
    lua_pop(L, 1);
    lua_pushcfunction(L, l_scaffold);
    lua_setfield(L, -2, "scaffold");
    lua_pushcfunction(L, l_write_adjacency);
    lua_setfield(L, -2, "write_adjacency");
    if (luaL_loadbufferx(L, s2net_lua, sizeof s2net_lua - 1, "=nsim.s2net", "t") != LUA_OK) lua_error(L);
    lua_call(L, 0, 1);
    lua_setfield(L, -2, "s2net");
}
