/* lua/lua_api.c — the `nsim` table a simulation script sees. Every binding validates its table
 * arguments (unknown keys are refused, so a typo never passes silently) and turns a library
 * error into a Lua error, which Lua prefixes with the script's file and line. */
#include "lua/lua_api.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "io/csv.h"
#include "base/files.h"
#include "lua/lua_figures.h"
#include "lua/lua_phase.h"
#include "lua/lua_train.h"
#include "lua/lua_scaffold.h"
#include "lua/lua_plastic.h"
#include "lua/lua_proj.h"
#include "lua/lua_util.h"
#include "lua/lua_nir.h"
#include "sim/transport.h"
#include "sim/net.h"
#include "sim/netload.h"
#include "sim/checkpoint.h"

#define NET_MT NS_LUA_NET_MT
#define POP_MT NS_LUA_POP_MT
#define DIST_MT "nsim.dist"

typedef struct {
    ns_net *net;
    int64_t ahead; /* steps the network is ahead of the script's own clock (after a resume) */
} net_ud;

typedef struct {
    ns_pop *pop;
    ns_net *net;
} pop_ud;

/* A number or an nsim.uniform / nsim.normal at idx. */
static ns_dist to_dist(lua_State *L, int idx, const char *what)
{
    ns_dist d = {.kind = NS_DIST_CONST, .a = 0, .b = 0};
    if (lua_isnumber(L, idx)) {
        d.a = lua_tonumber(L, idx);
        if (!isfinite(d.a)) luaL_error(L, "%s must be a finite number", what);
        return d;
    }
    ns_dist *u = luaL_testudata(L, idx, DIST_MT);
    if (!u) luaL_error(L, "%s must be a number or nsim.uniform(...) / nsim.normal(...)", what);
    return *u;
}

static ns_dist field_dist(lua_State *L, int idx, const char *key, double def, const char *what)
{
    lua_getfield(L, idx, key);
    ns_dist d = {.kind = NS_DIST_CONST, .a = def, .b = 0};
    if (!lua_isnil(L, -1)) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s: %s", what, key);
        d = to_dist(L, -1, buf);
    }
    lua_pop(L, 1);
    return d;
}

static net_ud *check_net(lua_State *L, int idx)
{
    net_ud *u = luaL_checkudata(L, idx, NET_MT);
    if (!u->net) luaL_error(L, "network is closed");
    return u;
}

static pop_ud *check_pop(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, POP_MT);
}

ns_net *ns_lua_check_net(lua_State *L, int idx) { return check_net(L, idx)->net; }

ns_pop *ns_lua_check_pop(lua_State *L, int idx, ns_net **net)
{
    pop_ud *p = check_pop(L, idx);
    if (net) *net = p->net;
    return p->pop;
}

/* A population or a list of populations at idx; returns how many, pushes nothing. */
static int pop_list(lua_State *L, int idx, ns_pop **out, int max, ns_net *net)
{
    pop_ud *p = luaL_testudata(L, idx, POP_MT);
    if (p) {
        if (p->net != net) luaL_error(L, "population %s belongs to another network", ns_pop_name(p->pop));
        out[0] = p->pop;
        return 1;
    }
    if (!lua_istable(L, idx)) luaL_error(L, "expected a population or a list of populations");
    int n = (int)luaL_len(L, idx);
    if (n < 1 || n > max) luaL_error(L, "expected 1 to %d populations, got %d", max, n);
    for (int i = 1; i <= n; i++) {
        lua_geti(L, idx, i);
        p = luaL_testudata(L, -1, POP_MT);
        if (!p) luaL_error(L, "item %d of the population list is not a population", i);
        if (p->net != net) luaL_error(L, "population %s belongs to another network", ns_pop_name(p->pop));
        out[i - 1] = p->pop;
        lua_pop(L, 1);
    }
    return n;
}

#define MAX_POPS 256

/* ---- nsim.uniform, nsim.normal ---- */

static int push_dist(lua_State *L, ns_dist d)
{
    ns_dist *u = lua_newuserdatauv(L, sizeof *u, 0);
    *u = d;
    luaL_setmetatable(L, DIST_MT);
    return 1;
}

static int l_uniform(lua_State *L)
{
    double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
    if (!isfinite(a) || !isfinite(b) || !(a <= b)) ns_lua_errorf(L, "nsim.uniform(%g, %g): need finite low <= high", a, b);
    return push_dist(L, (ns_dist){.kind = NS_DIST_UNIFORM, .a = a, .b = b});
}

static int l_normal(lua_State *L)
{
    double m = luaL_checknumber(L, 1), sd = luaL_checknumber(L, 2);
    if (!isfinite(m) || !isfinite(sd) || sd < 0) ns_lua_errorf(L, "nsim.normal(%g, %g): need a finite mean and sd >= 0", m, sd);
    ns_dist d = {.kind = NS_DIST_NORMAL, .a = m, .b = sd};
    if (!lua_isnoneornil(L, 3)) { /* {min =, max =}: draws outside are redrawn (NEST's nest.math.redraw) */
        static const char *const keys[] = {"min", "max", NULL};
        luaL_checktype(L, 3, LUA_TTABLE);
        ns_lua_check_keys(L, 3, keys, "nsim.normal");
        double lo = ns_lua_field_number(L, 3, "min", -HUGE_VAL, "nsim.normal");
        double hi = ns_lua_field_number(L, 3, "max", HUGE_VAL, "nsim.normal");
        if (ns_dist_redraw(&d, lo, hi))
            ns_lua_errorf(L, "nsim.normal(%g, %g, {min = %g, max = %g}): the redraw range must hold at least 1e-12 of "
                          "the distribution (min < max%s)", m, sd, lo, hi, sd == 0 ? ", and min <= mean <= max for sd 0" : "");
    }
    return push_dist(L, d);
}

static int l_cauchy(lua_State *L)
{
    double x0 = luaL_checknumber(L, 1), g = luaL_checknumber(L, 2);
    if (!isfinite(x0) || !isfinite(g) || g < 0)
        ns_lua_errorf(L, "nsim.cauchy(%g, %g): need a finite median and half-width >= 0", x0, g);
    return push_dist(L, (ns_dist){.kind = NS_DIST_CAUCHY, .a = x0, .b = g});
}

/* ---- nsim.param ---- */

static void note_param(ns_script *s, const char *name, const char *value)
{
    for (int i = 0; i < s->nparams; i++)
        if (strcmp(s->params[i].name, name) == 0) return;
    if (s->nparams == (int)(sizeof s->params / sizeof s->params[0])) return;
    snprintf(s->params[s->nparams].name, sizeof s->params[0].name, "%s", name);
    snprintf(s->params[s->nparams].value, sizeof s->params[0].value, "%s", value);
    s->nparams++;
}

static int l_param(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    const char *name = luaL_checkstring(L, 1);
    luaL_checkany(L, 2);
    const ns_setting *set = NULL;
    for (int i = 0; i < s->nsettings; i++)
        if (strcmp(s->settings[i].name, name) == 0) {
            s->settings[i].read = 1;
            set = &s->settings[i];
        }
    if (!set) {
        lua_pushvalue(L, 2);
    } else if (lua_type(L, 2) == LUA_TNUMBER) {
        char *end;
        if (lua_isinteger(L, 2)) { /* any number that is exactly whole: 10000, 1e4, 10000.0 */
            double v = strtod(set->value, &end);
            if (end == set->value || *end || !(v == floor(v)) || !(fabs(v) <= 9007199254740992.0))
                luaL_error(L, "--set %s=%s: not a whole number within [-2^53, 2^53] (the script's default, %I, "
                              "is one)", name, set->value, lua_tointeger(L, 2));
            lua_pushinteger(L, (lua_Integer)v);
        } else {
            double v = strtod(set->value, &end);
            if (end == set->value || *end || !isfinite(v)) luaL_error(L, "--set %s=%s: not a finite number", name, set->value);
            lua_pushnumber(L, v);
        }
    } else if (lua_type(L, 2) == LUA_TBOOLEAN) {
        if (!strcmp(set->value, "true") || !strcmp(set->value, "1")) lua_pushboolean(L, 1);
        else if (!strcmp(set->value, "false") || !strcmp(set->value, "0")) lua_pushboolean(L, 0);
        else luaL_error(L, "--set %s=%s: not true or false", name, set->value);
    } else if (lua_type(L, 2) == LUA_TSTRING) {
        lua_pushstring(L, set->value);
    } else {
        luaL_error(L, "nsim.param(%s, ...): the default must be a number, a boolean or a string", name);
    }
    note_param(s, name, luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    return 1;
}

/* ---- networks ---- */

static int l_network(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    static const char *const keys[] = {"dt", "input", "team_min", "split", NULL};
    static const ns_lua_enum inputs[] = {
        {"auto", NS_INPUT_AUTO}, {"dense", NS_INPUT_DENSE}, {"sparse", NS_INPUT_SPARSE}, {NULL, 0}};
    static const ns_lua_enum splits[] = {{"units", NS_SPLIT_UNITS}, {"populations", NS_SPLIT_POPULATIONS}, {NULL, 0}};
    ns_lua_options(L, 1, keys, "nsim.network");
    double dt = ns_lua_field_number(L, 1, "dt", 0.1, "nsim.network");
    int mode = ns_lua_field_enum(L, 1, "input", inputs, NS_INPUT_AUTO, "must be", "nsim.network");
    int split = ns_lua_field_enum(L, 1, "split", splits, NS_SPLIT_UNITS, "must be", "nsim.network");
    double team_min = ns_lua_field_number(L, 1, "team_min", NS_TEAM_MIN_UNITS, "nsim.network");
    net_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->net = NULL;
    u->ahead = 0;
    luaL_setmetatable(L, NET_MT);
    if (!(u->net = ns_net_create(s->ctx, dt)) || ns_net_set_input_mode(u->net, mode) ||
        ns_net_set_team_min(u->net, team_min) || ns_net_set_split(u->net, split))
        return ns_lua_fail(L);
    s->networks++;
    return 1;
}

/* run.json's "sums" members: per population and summed variable, what its sum record saw. */
static void fold_sums(ns_script *s, const ns_net *net)
{
    for (int k = 0; k < ns_net_n_sums(net); k++) {
        ns_sum_summary m;
        size_t used = strlen(s->sums);
        if (ns_net_sum_summary(net, k, &m) || used + 400 > sizeof s->sums) continue;
        char num[3][32]; /* JSON has no NaN or infinity: null */
        const double v[3] = {m.first, m.last, m.max_rel_dev};
        for (int j = 0; j < 3; j++) {
            if (isfinite(v[j]) && m.samples) snprintf(num[j], sizeof num[j], "%.17g", v[j]);
            else snprintf(num[j], sizeof num[j], "null");
        }
        char pop[256], var[128], file[600];
        ns_runinfo_escape(m.pop, pop, sizeof pop);
        ns_runinfo_escape(m.var, var, sizeof var);
        ns_runinfo_escape(m.file, file, sizeof file);
        snprintf(s->sums + used, sizeof s->sums - used,
                 "%s\n    \"%s.%s\": {\"record\": \"%s\", \"samples\": %lld, \"first_t_ms\": %.10g, \"first\": %s, "
                 "\"last_t_ms\": %.10g, \"last\": %s, \"max_rel_deviation\": %s}",
                 used ? "," : "", pop, var, file, (long long)m.samples, m.first_t_ms, num[0], m.last_t_ms, num[1],
                 num[2]);
    }
}

static void fold_stats(ns_script *s, ns_net *net)
{
    s->units += ns_net_n_units(net);
    s->synapses += ns_net_n_synapses(net);
    s->synapse_bytes += ns_net_synapse_bytes(net);
    s->spikes += ns_net_n_spikes(net);
    s->build_s += ns_net_build_seconds(net);
    s->simulate_s += ns_net_simulate_seconds(net);
    s->t_ms += ns_net_time(net);
    s->dt = ns_net_dt(net);
    s->window_steps = ns_net_window_steps(net);
    double ex_s;
    int64_t ex_bytes, ex_windows;
    ns_net_exchange_stats(net, &ex_s, &ex_bytes, &ex_windows);
    s->exchange_s += ex_s;
    s->exchange_bytes += ex_bytes;
    s->windows += ex_windows;
    for (int k = 0; k < ns_net_n_populations(net); k++) {
        ns_solver_stats st;
        const ns_pop *pop = ns_net_population(net, k);
        size_t used = strlen(s->solvers);
        if (!ns_pop_solver_stats(pop, &st) || used + 300 + strlen(st.extra) > sizeof s->solvers) continue;
        char name[256];
        ns_runinfo_escape(ns_pop_name(pop), name, sizeof name);
        snprintf(s->solvers + used, sizeof s->solvers - used,
                 "%s\n    \"%s\": {\"solver\": \"%s\", \"steps\": %ld, \"rhs_evals\": %ld, \"err_test_fails\": %ld, "
                 "\"conv_fails\": %ld, \"jac_evals\": %ld, \"reinits\": %ld, \"spikes_at_roots\": %ld%s%s}",
                 used ? "," : "", name, st.solver, st.steps, st.rhs_evals, st.err_test_fails, st.conv_fails,
                 st.jac_evals, st.reinits, st.roots, st.extra[0] ? ", " : "", st.extra);
    }
    fold_sums(s, net);
}

static int l_net_gc(lua_State *L)
{
    net_ud *u = luaL_checkudata(L, 1, NET_MT);
    if (u->net) {
        fold_stats(ns_lua_script(L), u->net);
        ns_net_free(u->net);
        u->net = NULL;
    }
    return 0;
}

static int push_pop(lua_State *L, int net_idx, ns_pop *pop, ns_net *net);

void ns_lua_push_pop(lua_State *L, int net_idx, ns_pop *pop, ns_net *net) { push_pop(L, net_idx, pop, net); }

static int push_pop(lua_State *L, int net_idx, ns_pop *pop, ns_net *net)
{
    pop_ud *p = lua_newuserdatauv(L, sizeof *p, 1);
    p->pop = pop;
    p->net = net;
    lua_pushvalue(L, net_idx);
    lua_setiuservalue(L, -2, 1); /* the population keeps its network alive */
    luaL_setmetatable(L, POP_MT);
    return 1;
}

/* The optional trailing options: a name, or a table {name, solver, rtol, atol, weights, seed}. */
typedef struct {
    const char *name, *solver, *weights;
    double rtol, atol, seed;
} pop_opts;

static pop_opts opt_pop(lua_State *L, int idx)
{
    pop_opts o = {NULL, NULL, NULL, 1e-6, 1e-8, -1};
    if (lua_type(L, idx) == LUA_TSTRING) {
        o.name = lua_tostring(L, idx);
        return o;
    }
    static const char *const keys[] = {"name", "solver", "rtol", "atol", "weights", "seed", "ring", "grid",
                                       "positions", NULL};
    ns_lua_options(L, idx, keys, "population options");
    o.weights = ns_lua_field_string(L, idx, "weights", NULL, "population options");
    o.seed = ns_lua_field_number(L, idx, "seed", -1, "population options");
    o.name = ns_lua_field_string(L, idx, "name", NULL, "population options");
    o.solver = ns_lua_field_string(L, idx, "solver", NULL, "population options");
    o.rtol = ns_lua_field_number(L, idx, "rtol", o.rtol, "population options");
    o.atol = ns_lua_field_number(L, idx, "atol", o.atol, "population options");
    return o;
}

static void resolve_path(ns_script *s, const char *path, char *out, size_t len);
static double *number_list(lua_State *L, int idx, int *n, const char *what);

/* The population options' geometry, one of ring = true | {spacing = µm} | {radius = µm},
 * grid = {nx, ny, spacing = µm, periodic = bool}, positions = "FILE.csv" | {{x, y[, z]}, ...}. */
static void read_geometry(lua_State *L, int idx, ns_net *net, ns_pop *pop)
{
    if (lua_type(L, idx) != LUA_TTABLE) return;
    static const char *const kinds[3] = {"ring", "grid", "positions"};
    int kind = -1;
    for (int k = 0; k < 3; k++) {
        int t = lua_getfield(L, idx, kinds[k]);
        lua_pop(L, 1);
        if (t == LUA_TNIL) continue;
        if (kind >= 0) ns_lua_errorf(L, "population options: give one of ring, grid and positions, not %s and %s", kinds[kind], kinds[k]);
        kind = k;
    }
    if (kind < 0) return;
    ns_ctx *ctx = ns_net_ctx(net);
    const size_t n = ns_pop_size(pop);
    ns_geom *g = NULL;
    lua_getfield(L, idx, kinds[kind]);
    const int t = lua_gettop(L);
    if (kind == 0) {
        double sp = 1;
        if (lua_istable(L, t)) {
            static const char *const keys[] = {"spacing", "radius", NULL};
            ns_lua_check_keys(L, t, keys, "ring");
            double r = ns_lua_field_number(L, t, "radius", NAN, "ring");
            sp = ns_lua_field_number(L, t, "spacing", NAN, "ring");
            if (!isnan(r) && !isnan(sp)) luaL_error(L, "ring: give spacing or radius, not both");
            if (!isnan(r)) {
                if (!(r > 0 && isfinite(r))) ns_lua_errorf(L, "ring: radius = %g µm is outside (0, inf)", r);
                sp = 6.283185307179586 * r / (double)n;
            } else if (isnan(sp)) {
                sp = 1;
            }
        } else if (!(lua_isboolean(L, t) && lua_toboolean(L, t))) {
            luaL_error(L, "population options: ring must be true, {spacing = µm} or {radius = µm}");
        }
        g = ns_geom_ring(ctx, n, sp);
    } else if (kind == 1) {
        if (!lua_istable(L, t)) luaL_error(L, "population options: grid must be {nx = , ny = , spacing = µm, periodic = false}");
        static const char *const keys[] = {"nx", "ny", "spacing", "periodic", NULL};
        ns_lua_check_keys(L, t, keys, "grid");
        double nx = ns_lua_field_whole(L, t, "nx", NAN, 1, UINT32_MAX, "grid");
        double ny = ns_lua_field_whole(L, t, "ny", NAN, 1, UINT32_MAX, "grid");
        if (nx * ny != (double)n)
            ns_lua_errorf(L, "grid: nx * ny = %.0f x %.0f = %.0f units, but population %s has %zu", nx, ny, nx * ny,
                          ns_pop_name(pop), n);
        double sp = ns_lua_field_number(L, t, "spacing", 1, "grid");
        int per = lua_getfield(L, t, "periodic");
        if (per != LUA_TNIL && per != LUA_TBOOLEAN) luaL_error(L, "grid: periodic must be true or false");
        lua_pop(L, 1);
        g = ns_geom_grid(ctx, (size_t)nx, (size_t)ny, sp, ns_lua_field_bool(L, t, "periodic", 0));
    } else if (lua_type(L, t) == LUA_TSTRING) {
        char path[4096];
        resolve_path(ns_lua_script(L), lua_tostring(L, t), path, sizeof path);
        g = ns_geom_read(ctx, path, n);
    } else {
        if (!lua_istable(L, t)) luaL_error(L, "population options: positions must be a CSV file or a list of {x, y[, z]} (µm)");
        if ((size_t)luaL_len(L, t) != n)
            ns_lua_errorf(L, "positions: %d points for the %zu units of %s", (int)luaL_len(L, t), n, ns_pop_name(pop));
        double *xyz = lua_newuserdatauv(L, 3 * n * sizeof *xyz, 0);
        int dims = 0;
        for (size_t k = 0; k < n; k++) {
            char what[48];
            snprintf(what, sizeof what, "positions: point %zu", k + 1);
            lua_geti(L, t, (lua_Integer)k + 1);
            int m;
            double *v = number_list(L, -1, &m, what);
            if (m < 2 || m > 3 || (dims && m != dims))
                ns_lua_errorf(L, "%s has %d coordinates, not %d", what, m, dims ? dims : 2);
            dims = m;
            memcpy(xyz + k * (size_t)m, v, (size_t)m * sizeof *v);
            lua_pop(L, 2);
        }
        g = ns_geom_points(ctx, n, xyz, dims);
    }
    if (!g || ns_pop_set_geometry(net, pop, g)) ns_lua_fail(L);
    lua_settop(L, t - 1);
}

/* Parameters from a table: a number sets the population's value; a list of n numbers or a
 * distribution sets one value per unit, after the numbers. Nonzero with the context's message. */
static int set_params(lua_State *L, int idx, ns_net *net, ns_pop *pop)
{
    const char *model = ns_pop_model(pop)->name;
    const char *names[64], *per_unit[64];
    double values[64];
    int k = 0, np = 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) { /* names stay valid: the table holds them */
        if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "parameters of %s: keys must be names", model);
        if (k == 64 || np == 64) /* no model has as many; a table this long is a mistake */
            luaL_error(L, "parameters of %s: more than 64 given (it has %d)", model, ns_pop_model(pop)->n_params);
        const char *name = lua_tostring(L, -2);
        if (lua_isnumber(L, -1)) {
            names[k] = name;
            values[k++] = lua_tonumber(L, -1);
        } else if (lua_istable(L, -1) || luaL_testudata(L, -1, DIST_MT)) {
            per_unit[np++] = name;
        } else {
            luaL_error(L, "parameter %s.%s must be a number, a list of one number per unit or nsim.uniform(...) / "
                          "nsim.normal(...)", model, name);
        }
        lua_pop(L, 1);
    }
    if (ns_pop_set_params(net, pop, names, values, k)) return -1;
    const size_t n = ns_pop_size(pop);
    for (int j = 0; j < np; j++) {
        lua_getfield(L, idx, per_unit[j]);
        int rc;
        if (lua_istable(L, -1)) {
            if ((size_t)luaL_len(L, -1) != n)
                luaL_error(L, "parameter %s.%s: a list of %d values (one per unit), got %d", model, per_unit[j], (int)n,
                           (int)luaL_len(L, -1));
            double *v = lua_newuserdatauv(L, n * sizeof *v, 0);
            for (size_t i = 0; i < n; i++) {
                lua_geti(L, -2, (lua_Integer)i + 1);
                if (!lua_isnumber(L, -1))
                    luaL_error(L, "parameter %s.%s: value %d is not a number", model, per_unit[j], (int)i + 1);
                v[i] = lua_tonumber(L, -1);
                lua_pop(L, 1);
            }
            rc = ns_pop_set_param_array(net, pop, per_unit[j], v);
            lua_pop(L, 1);
        } else {
            char what[96];
            snprintf(what, sizeof what, "parameter %s.%s", model, per_unit[j]);
            ns_dist d = to_dist(L, -1, what);
            rc = ns_pop_draw_param(net, pop, per_unit[j], &d);
        }
        lua_pop(L, 1);
        if (rc) return -1;
    }
    return 0;
}

/* Where unit i is, for an initial-state function: its geometry's place, else for a lattice field
 * (a model with nx and h) the centre of its cell as a grid of the same shape would place it,
 * x = (i % nx + 0.5) h, y = (i / nx + 0.5) h, z = 0. 0 when the population has neither. */
static int unit_place(const ns_pop *pop, size_t i, double xyz[3])
{
    const ns_geom *g = ns_pop_geometry(pop);
    if (g) {
        memcpy(xyz, g->pos + 3 * i, 3 * sizeof *xyz);
        return 1;
    }
    if (ns_pop_model(pop)->kind != NS_KIND_FIELD) return 0;
    const double h = ns_pop_get_param(pop, "h"), ny = ns_pop_get_param(pop, "ny");
    double nx = ns_pop_get_param(pop, "nx");
    if (!(nx >= 1)) nx = (double)ns_pop_size(pop) / (ny >= 1 ? ny : 1); /* nx 0: all of a row, or n / ny */
    if (!(h > 0) || !(nx >= 1) || nx != floor(nx)) return 0;
    const size_t w = (size_t)nx;
    xyz[0] = ((double)(i % w) + 0.5) * h;
    xyz[1] = ((double)(i / w) + 0.5) * h;
    xyz[2] = 0.0;
    return 1;
}

/* The initial values of state variable var from a list of one number per unit or a function
 * f(i, x, y, z) (i 0-based; x, y, z in µm where unit_place has them, else f(i)), called for
 * i = 0 .. n - 1 in order; each value finite. A userdata array on the stack. */
static const double *unit_values(lua_State *L, int idx, const ns_pop *pop, const char *var)
{
    const size_t n = ns_pop_size(pop);
    const char *name = ns_pop_name(pop);
    double *v = lua_newuserdatauv(L, n * sizeof *v, 0);
    const int list = lua_istable(L, idx);
    if (list && (size_t)luaL_len(L, idx) != n)
        ns_lua_errorf(L, "initial %s of %s: a list of %lld values for its %zu units (one per unit)", var, name,
                      (long long)luaL_len(L, idx), n);
    for (size_t i = 0; i < n; i++) {
        if (list) {
            lua_geti(L, idx, (lua_Integer)i + 1);
        } else {
            double xyz[3];
            const int placed = unit_place(pop, i, xyz);
            lua_pushvalue(L, idx);
            lua_pushinteger(L, (lua_Integer)i);
            for (int c = 0; placed && c < 3; c++) lua_pushnumber(L, xyz[c]);
            lua_call(L, placed ? 4 : 1, 1);
        }
        char value[96];
        if (lua_type(L, -1) == LUA_TNUMBER) {
            v[i] = lua_tonumber(L, -1);
            if (isfinite(v[i])) {
                lua_pop(L, 1);
                continue;
            }
            snprintf(value, sizeof value, "%s", isnan(v[i]) ? "nan" : v[i] > 0 ? "inf" : "-inf");
        } else {
            const int t = lua_type(L, -1);
            if (t == LUA_TSTRING) snprintf(value, sizeof value, "'%.60s' (a string)", lua_tostring(L, -1));
            else if (t == LUA_TBOOLEAN) snprintf(value, sizeof value, "%s", lua_toboolean(L, -1) ? "true" : "false");
            else if (t == LUA_TNIL) snprintf(value, sizeof value, "nil");
            else snprintf(value, sizeof value, "a %s", lua_typename(L, t));
        }
        if (list) ns_lua_errorf(L, "initial %s of %s: unit %zu (item %zu) is %s, not a finite number", var, name, i, i + 1, value);
        ns_lua_errorf(L, "initial %s of %s: the function gave %s for unit %zu, not a finite number", var, name, value, i);
    }
    return v;
}

/* State variable var of every unit from the value at idx: a number, a distribution, a list of one
 * number per unit or a function of the unit's place (unit_values). Nonzero with the context's
 * message; pushes nothing. */
static int set_state_value(lua_State *L, int idx, ns_net *net, ns_pop *pop, const char *var, const char *fn)
{
    idx = lua_absindex(L, idx);
    if (lua_istable(L, idx) || lua_isfunction(L, idx)) {
        const double *v = unit_values(L, idx, pop, var);
        int rc = ns_pop_set_state_array(net, pop, var, v);
        lua_pop(L, 1);
        return rc;
    }
    char what[96];
    snprintf(what, sizeof what, "%s %s", fn, var);
    ns_dist d = to_dist(L, idx, what);
    return ns_pop_init_state(net, pop, var, &d);
}

static int l_population(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    const char *model = luaL_checkstring(L, 2);
    lua_Integer n = luaL_checkinteger(L, 3);
    if (n < 1) luaL_error(L, "population size must be at least 1, got %d", (int)n);
    pop_opts po = opt_pop(L, 6);
    ns_pop *pop = ns_net_add_population(u->net, model, (size_t)n, po.name);
    if (!pop) return ns_lua_fail(L);
    if (po.solver || ns_pop_model(pop)->ode) { /* the model's default solver, with these tolerances */
        if (ns_pop_set_solver(u->net, pop, po.solver, po.rtol, po.atol)) return ns_lua_fail(L);
    }
    if (po.seed >= 18446744073709551616.0) /* 2^64: no stream key holds it */
        ns_lua_errorf(L, "population options: seed = %g is outside [0, 2^64 - 1]", po.seed);
    if (po.seed >= 0 && ns_pop_set_seed(u->net, pop, (unsigned long long)po.seed)) return ns_lua_fail(L);
    read_geometry(L, 6, u->net, pop);
    if (po.weights) {
        char path[4096];
        resolve_path(ns_lua_script(L), po.weights, path, sizeof path);
        if (access(path, R_OK) != 0) luaL_error(L, "%s: cannot read the weights file", po.weights);
        if (ns_pop_set_weights(u->net, pop, path)) return ns_lua_fail(L);
    }
    if (!lua_isnoneornil(L, 4) && set_params(L, 4, u->net, pop)) return ns_lua_fail(L);
    if (!lua_isnoneornil(L, 5)) { /* initial state */
        luaL_checktype(L, 5, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 5)) {
            if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "initial state of %s: keys must be names", model);
            if (set_state_value(L, -1, u->net, pop, lua_tostring(L, -2), "initial")) return ns_lua_fail(L);
            lua_pop(L, 1);
        }
    }
    return push_pop(L, 1, pop, u->net);
}

static double *number_list(lua_State *L, int idx, int *n, const char *what);

/* rule = "list": the pairs pre[k] -> post[k] (0-based unit indices), and optional weights and
 * delays lists of the same length, into spec; the arrays stay on the Lua stack until the call
 * returns. */
static void read_pairs_as(lua_State *L, int opt, ns_conn_spec *spec, const char *fn)
{
    static const char *const ends[2] = {"pre", "post"};
    uint32_t *idx[2];
    int n[2];
    for (int e = 0; e < 2; e++) {
        char what[32];
        snprintf(what, sizeof what, "%s: %s", fn, ends[e]);
        lua_getfield(L, opt, ends[e]);
        if (lua_isnil(L, -1)) luaL_error(L, "%s: rule list needs pre and post (0-based unit indices)", fn);
        double *v = number_list(L, -1, &n[e], what);
        idx[e] = lua_newuserdatauv(L, (size_t)(n[e] ? n[e] : 1) * sizeof *idx[e], 0);
        for (int k = 0; k < n[e]; k++) {
            if (!(v[k] >= 0 && v[k] < 4294967296.0 && v[k] == floor(v[k])))
                ns_lua_errorf(L, "%s: %s item %d (%g) is not a unit index (0-based)", fn, ends[e], k + 1, v[k]);
            idx[e][k] = (uint32_t)v[k];
        }
    }
    if (n[0] != n[1]) luaL_error(L, "%s: pre has %d units, post %d: one of each per connection", fn, n[0], n[1]);
    spec->n_pairs = (size_t)n[0];
    spec->pre = idx[0];
    spec->post = idx[1];
    static const char *const extra[2] = {"weights", "delays"};
    for (int e = 0; e < 2; e++) {
        lua_getfield(L, opt, extra[e]);
        if (lua_isnil(L, -1)) continue;
        char what[32];
        snprintf(what, sizeof what, "%s: %s", fn, extra[e]);
        int m;
        double *v = number_list(L, -1, &m, what);
        if (m != n[0]) luaL_error(L, "%s: %s has %d values for %d connections", fn, extra[e], m, n[0]);
        if (e) spec->delays = v;
        else spec->weights = v;
    }
}

/* The options of the rules of sim/rules.c (and multapses) into spec; each refused, naming the
 * rule it belongs to, when given to another. */
/* 1 when pop is a lattice field: spikes reach it only through its graded input (kg_field). */
static int takes_spikes_as_source(const ns_pop *pop)
{
    const ns_model *m = ns_pop_model(pop);
    return ns_model_channel_port(m) < 0 && ns_model_event_port(m, +1) < 0 && ns_model_event_port(m, -1) < 0;
}

/* tgt: the (first) target, whose grid is the site rule's by default when it is a field. */
static void read_shape_options(lua_State *L, int opt, ns_conn_spec *spec, const ns_pop *src, const ns_pop *tgt,
                               const char *rule)
{
    static const struct {
        const char *key, *rules;
        unsigned mask;
    } owner[] = {
        {"multapses", "fixed_indegree, fixed_outdegree and fixed_total",
         1u << NS_RULE_FIXED_INDEGREE | 1u << NS_RULE_FIXED_OUTDEGREE | 1u << NS_RULE_FIXED_TOTAL},
        {"N", "fixed_total", 1u << NS_RULE_FIXED_TOTAL},
        {"neighbours", "lattice", 1u << NS_RULE_LATTICE},
        {"radius", "lattice", 1u << NS_RULE_LATTICE},
        {"kernel", "distance", 1u << NS_RULE_DISTANCE},
        {"p0", "distance", 1u << NS_RULE_DISTANCE},
        {"sigma", "distance", 1u << NS_RULE_DISTANCE},
        {"lambda", "distance", 1u << NS_RULE_DISTANCE},
        {"cutoff", "distance", 1u << NS_RULE_DISTANCE},
        {"sites", "site", 1u << NS_RULE_SITE}};
    int given[10];
    for (int k = 0; k < 10; k++) {
        given[k] = lua_getfield(L, opt, owner[k].key) != LUA_TNIL;
        lua_pop(L, 1);
        if (given[k] && !(owner[k].mask & 1u << spec->rule))
            ns_lua_errorf(L, "connect: %s belongs to rule %s, not %s", owner[k].key, owner[k].rules, rule);
    }
    if (given[0]) {
        if (lua_getfield(L, opt, "multapses") != LUA_TBOOLEAN) luaL_error(L, "connect: multapses must be true or false");
        spec->unique = !lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    switch (spec->rule) {
    case NS_RULE_FIXED_TOTAL: {
        if (!given[1]) luaL_error(L, "connect: rule fixed_total needs N (synapses in all)");
        double N = ns_lua_field_number(L, opt, "N", 0, "connect");
        if (!(N >= 0 && N <= UINT32_MAX && N == floor(N)))
            ns_lua_errorf(L, "connect: fixed_total N = %g is not a whole number in [0, %u]", N, UINT32_MAX);
        spec->N = (long)N;
        break;
    }
    case NS_RULE_LATTICE:
        if (given[2] == given[3]) luaL_error(L, "connect: rule lattice needs neighbours (2, 4 or 8) or radius (µm), one of them");
        if (given[2]) {
            double nb = ns_lua_field_number(L, opt, "neighbours", 0, "connect");
            if (nb != 2 && nb != 4 && nb != 8)
                ns_lua_errorf(L, "connect: lattice neighbours = %g is not 2 (ring), 4 or 8 (grid)", nb);
            spec->neighbours = (int)nb;
        } else {
            spec->radius = ns_lua_field_number(L, opt, "radius", 0, "connect");
        }
        break;
    case NS_RULE_DISTANCE: {
        static const ns_lua_enum kernels[] = {{"gaussian", NS_KERNEL_GAUSSIAN}, {"exponential", NS_KERNEL_EXPONENTIAL}, {NULL, 0}};
        spec->kernel = ns_lua_field_enum(L, opt, "kernel", kernels, NS_KERNEL_GAUSSIAN, "is", "connect");
        const int gauss = spec->kernel == NS_KERNEL_GAUSSIAN;
        const char *want = gauss ? "sigma" : "lambda", *other = gauss ? "lambda" : "sigma";
        if (given[gauss ? 7 : 6])
            ns_lua_errorf(L, "connect: kernel %s takes %s (µm), not %s", gauss ? "gaussian" : "exponential", want, other);
        if (!given[gauss ? 6 : 7]) ns_lua_errorf(L, "connect: kernel %s needs %s (µm)", gauss ? "gaussian" : "exponential", want);
        spec->scale = ns_lua_field_number(L, opt, want, 0, "connect");
        spec->p0 = ns_lua_field_number(L, opt, "p0", 1, "connect");
        if (given[8]) {
            spec->cutoff = ns_lua_field_number(L, opt, "cutoff", 0, "connect");
            if (!(spec->cutoff > 0 && isfinite(spec->cutoff)))
                ns_lua_errorf(L, "connect: distance cutoff = %g µm is outside (0, inf)", spec->cutoff);
        }
        break;
    }
    case NS_RULE_SITE: {
        static const ns_lua_enum sides[] = {{"pre", 0}, {"post", 1}, {NULL, 0}};
        const ns_geom *g = ns_pop_geometry(src);
        const ns_geom *tg = tgt ? ns_pop_geometry(tgt) : NULL;
        const int field_sites = tg && tg->kind == NS_GEOM_GRID && takes_spikes_as_source(tgt); /* neurons onto a field */
        spec->sites_post =
            ns_lua_field_enum(L, opt, "sites", sides, field_sites || !(g && g->kind == NS_GEOM_GRID), "is", "connect");
        break;
    }
    default: break;
    }
}

static void read_pairs(lua_State *L, int opt, ns_conn_spec *spec) { read_pairs_as(L, opt, spec, "connect"); }

static int l_connect(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    pop_ud *src = check_pop(L, 2);
    ns_pop *tgts[MAX_POPS];
    int nt = pop_list(L, 3, tgts, MAX_POPS, u->net);
    luaL_checktype(L, 4, LUA_TTABLE);
    static const char *const keys[] = {"rule", "p", "K", "indegree", "outdegree", "weight", "delay", "autapses",
                                       "pre", "post", "weights", "delays", "multapses", "N", "neighbours", "radius",
                                       "kernel", "p0", "sigma", "lambda", "cutoff", "sites", "synapse", NULL};
    static const ns_lua_enum rules[] = {
        {"all_to_all", NS_RULE_ALL_TO_ALL}, {"one_to_one", NS_RULE_ONE_TO_ONE}, {"bernoulli", NS_RULE_BERNOULLI},
        {"pairwise_bernoulli", NS_RULE_BERNOULLI}, {"fixed_indegree", NS_RULE_FIXED_INDEGREE},
        {"fixed_outdegree", NS_RULE_FIXED_OUTDEGREE}, {"list", NS_RULE_LIST}, {"fixed_total", NS_RULE_FIXED_TOTAL},
        {"fixed_total_number", NS_RULE_FIXED_TOTAL}, {"lattice", NS_RULE_LATTICE}, {"distance", NS_RULE_DISTANCE},
        {"site", NS_RULE_SITE}, {NULL, 0}};
    ns_lua_check_keys(L, 4, keys, "connect");
    ns_conn_spec spec = {0};
    const char *rule = ns_lua_field_string(L, 4, "rule", "all_to_all", "connect");
    int r = ns_lua_enum_value(rules, rule);
    if (r < 0)
        luaL_error(L, "connect: unknown rule '%s' (all_to_all, one_to_one, bernoulli, fixed_indegree, fixed_outdegree, "
                      "fixed_total, list, lattice, distance, site)", rule);
    spec.rule = r;
    read_shape_options(L, 4, &spec, src->pop, nt > 0 ? tgts[0] : NULL, rule);
    if (spec.rule == NS_RULE_LIST) {
        read_pairs(L, 4, &spec);
    } else {
        static const char *const list_keys[] = {"pre", "post", "weights", "delays"};
        for (int k = 0; k < 4; k++) {
            int given = lua_getfield(L, 4, list_keys[k]) != LUA_TNIL;
            lua_pop(L, 1);
            if (given) luaL_error(L, "connect: %s belongs to rule list", list_keys[k]);
        }
    }
    if (spec.rule == NS_RULE_BERNOULLI) {
        spec.p = ns_lua_field_number(L, 4, "p", NAN, "connect");
        if (isnan(spec.p)) luaL_error(L, "connect: rule bernoulli needs p");
    }
    if (spec.rule == NS_RULE_FIXED_INDEGREE || spec.rule == NS_RULE_FIXED_OUTDEGREE) {
        const char *alt = spec.rule == NS_RULE_FIXED_INDEGREE ? "indegree" : "outdegree";
        double K = ns_lua_field_number(L, 4, "K", ns_lua_field_number(L, 4, alt, -1, "connect"), "connect");
        if (K < 0 || K != floor(K)) luaL_error(L, "connect: rule %s needs a whole K >= 0", rule);
        if (K > UINT32_MAX) ns_lua_errorf(L, "connect: K = %g partners per unit is outside [0, %u]", K, UINT32_MAX);
        spec.K = (long)K;
    }
    spec.weight = field_dist(L, 4, "weight", 1.0, "connect");
    spec.delay = field_dist(L, 4, "delay", ns_net_dt(u->net), "connect");
    spec.autapses = ns_lua_field_bool(L, 4, "autapses", 1);
    ns_stdp syn;
    if (ns_lua_read_synapse(L, 4, &syn)) spec.synapse = &syn; /* plastic (lua/lua_plastic.c) */
    for (int k = 0; k < nt; k++) {
        if (ns_net_connect(u->net, src->pop, tgts[k], &spec)) return ns_lua_fail(L);
        ns_lua_push_projection(L, 1, u->net, ns_net_n_projections(u->net) - 1);
    }
    return nt; /* a projection handle per target */
}

/* Read a Lua list of numbers at idx into an array owned by Lua: it is pushed as a userdata, so
 * an error raised later frees it with the rest of the stack. */
static double *number_list(lua_State *L, int idx, int *n, const char *what)
{
    long m;
    double *v = ns_lua_number_list(L, idx, &m, 0, what);
    if (m > INT_MAX) ns_lua_errorf(L, "%s: %ld numbers, more than %d", what, m, INT_MAX);
    *n = (int)m;
    return v;
}

/* connect_graded's component = NAME (one the source's output names) or 0-based index: which
 * component of a wide output to send alone into *spec; nil sends them all. */
static void graded_component(lua_State *L, const ns_pop *src, ns_graded_spec *spec)
{
    const ns_out_port *out = ns_model_output(ns_pop_model(src));
    const int t = lua_getfield(L, 4, "component");
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    spec->pick = 1;
    if (t == LUA_TSTRING) {
        const char *name = lua_tostring(L, -1);
        spec->component = out ? ns_out_port_component(out, name) : -1;
        if (spec->component < 0)
            ns_lua_errorf(L, "connect_graded: the output of %s has no component '%s' (components: %s)", ns_pop_name(src),
                          name, out && out->components ? out->components : "none named; give a 0-based index");
    } else {
        const double c = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : -1;
        if (!(c >= 0 && c == floor(c) && c < 1024))
            luaL_error(L, "connect_graded: component must be a name or a 0-based index");
        spec->component = (int)c;
    }
    lua_pop(L, 1);
}

/* connect_graded with rule = "list": the edges from pre, post, weights (default 1) and delays
 * (default `delay`) lists, read as connect's list rule reads them, or from file, a CSV
 * source,target,weight,delay_ms; into spec, the arrays owned by the Lua stack. */
static void graded_edges(lua_State *L, net_ud *u, ns_pop *const ends[2], const char *file, ns_graded_spec *spec)
{
    if (!file) {
        ns_conn_spec pairs = {0};
        read_pairs_as(L, 4, &pairs, "connect_graded");
        spec->n_edges = pairs.n_pairs;
        spec->pre = pairs.pre;
        spec->post = pairs.post;
        spec->weights = pairs.weights;
        spec->delays = pairs.delays;
        return;
    }
    static const char *const lists[] = {"pre", "post", "weights", "delays"};
    for (int k = 0; k < 4; k++) {
        const int given = lua_getfield(L, 4, lists[k]) != LUA_TNIL;
        lua_pop(L, 1);
        if (given) luaL_error(L, "connect_graded: give the edges either in file or as lists (%s)", lists[k]);
    }
    char path[4096], err[1024];
    ns_csv_edges e;
    const double dt = ns_net_dt(u->net);
    resolve_path(ns_lua_script(L), file, path, sizeof path);
    if (ns_csv_read_edges(path, ns_pop_size(ends[0]), ns_pop_inputs(ends[1]), dt, 65535 * dt, &e, err, sizeof err))
        luaL_error(L, "%s", err);
    const size_t n = e.n ? e.n : 1;
    uint32_t *ix = lua_newuserdatauv(L, 2 * n * sizeof *ix, 0); /* copies owned by Lua: an error frees them */
    double *v = lua_newuserdatauv(L, 2 * n * sizeof *v, 0);
    memcpy(ix, e.pre, e.n * sizeof *ix);
    memcpy(ix + n, e.post, e.n * sizeof *ix);
    memcpy(v, e.w, e.n * sizeof *v);
    memcpy(v + n, e.delay_ms, e.n * sizeof *v);
    *spec = (ns_graded_spec){.delay_ms = spec->delay_ms, .n_edges = e.n, .pre = ix, .post = ix + n, .weights = v,
                             .delays = v + n};
    ns_csv_edges_free(&e);
}

/* net:connect_graded(src, tgt, {weights = W, file = CSV, delay = ms, component = C}): a graded
 * projection (ns_net_connect_graded_spec). Dense (rule "dense", the default): W is a list of
 * rows, one per target unit, of one weight per source unit, or a number for every weight; file a
 * CSV matrix of the same shape. Sparse (rule "list"): edges pre, post, weights, delays (ms), or a
 * file source,target,weight,delay_ms. component picks one component of a wide output (a name
 * such as "cos", or a 0-based index); without it every component goes to an input as wide. */
static int l_connect_graded(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    ns_pop *ends[2];
    for (int k = 0; k < 2; k++) {
        pop_ud *p = check_pop(L, 2 + k);
        if (p->net != u->net) luaL_error(L, "population %s belongs to another network", ns_pop_name(p->pop));
        ends[k] = p->pop;
    }
    luaL_checktype(L, 4, LUA_TTABLE);
    lua_settop(L, 4);
    static const char *const keys[] = {"weights", "file", "delay", "rule", "pre", "post", "delays", "component", NULL};
    static const char *const site_keys[] = {"rule", "weight", "delay", "sites", "component", NULL};
    const char *rule = ns_lua_field_string(L, 4, "rule", "dense", "connect_graded");
    ns_lua_check_keys(L, 4, strcmp(rule, "site") ? keys : site_keys, "connect_graded");
    const char *file = ns_lua_field_string(L, 4, "file", NULL, "connect_graded");
    double delay = ns_lua_field_number(L, 4, "delay", ns_net_dt(u->net), "connect_graded");
    ns_graded_spec spec = {.delay_ms = delay};
    graded_component(L, ends[0], &spec);
    if (!strcmp(rule, "list")) {
        graded_edges(L, u, ends, file, &spec);
        if (ns_net_connect_graded_spec(u->net, ends[0], ends[1], &spec)) return ns_lua_fail(L);
        return 0;
    }
    if (!strcmp(rule, "site")) { /* a field's sites onto the neurons on them (or neurons onto their sites) */
        static const ns_lua_enum sides[] = {{"pre", 0}, {"post", 1}, {NULL, 0}};
        const ns_geom *g = ns_pop_geometry(ends[0]);
        ns_conn_spec rs = {.rule = NS_RULE_SITE};
        rs.sites_post = ns_lua_field_enum(L, 4, "sites", sides, !(g && g->kind == NS_GEOM_GRID), "is", "connect_graded");
        rs.weight = (ns_dist){.kind = NS_DIST_CONST, .a = ns_lua_field_number(L, 4, "weight", 1.0, "connect_graded")};
        rs.autapses = 1;
        spec.rule = &rs;
        if (ns_net_connect_graded_spec(u->net, ends[0], ends[1], &spec)) return ns_lua_fail(L);
        return 0;
    }
    if (strcmp(rule, "dense")) luaL_error(L, "connect_graded: unknown rule '%s' (dense, list, site)", rule);
    static const char *const lists[] = {"pre", "post", "delays"};
    for (int k = 0; k < 3; k++) {
        const int given = lua_getfield(L, 4, lists[k]) != LUA_TNIL;
        lua_pop(L, 1);
        if (given) luaL_error(L, "connect_graded: %s belongs to rule list", lists[k]);
    }
    const size_t ns = ns_pop_size(ends[0]), nt = ns_pop_inputs(ends[1]); /* a cell's rows are its input channels */
    const char *row_of = ns_model_channel_port(ns_pop_model(ends[1])) >= 0 ? "input channel" : "unit";
    const char *sname = ns_pop_name(ends[0]), *tname = ns_pop_name(ends[1]);
    if (nt > SIZE_MAX / sizeof(double) / ns) ns_lua_errorf(L, "connect_graded: %zu x %zu weights are too many", nt, ns);
    double *w = lua_newuserdatauv(L, nt * ns * sizeof *w, 0); /* stack 5 */
    lua_getfield(L, 4, "weights");                            /* stack 6 */
    if (lua_isnil(L, 6) == (file == NULL)) luaL_error(L, "connect_graded: give either weights or file");
    if (file) {
        char path[4096], err[1024];
        ns_csv_table t;
        resolve_path(ns_lua_script(L), file, path, sizeof path);
        if (ns_csv_read_table(path, &t, err, sizeof err)) luaL_error(L, "%s", err);
        if (t.warning[0]) ns_ctx_log(ns_lua_script(L)->ctx, "warning: %s", t.warning); /* a torn last row, dropped */
        const long rows = t.nrow, cols = t.ncol;
        const int fits = (size_t)rows == nt && (size_t)cols == ns;
        if (fits) memcpy(w, t.v, nt * ns * sizeof *w);
        ns_csv_table_free(&t);
        if (!fits)
            ns_lua_errorf(L, "connect_graded: %s must be a %zu x %zu matrix (%ss of %s x units of %s), got %ld x %ld", file,
                   nt, ns, row_of, tname, sname, rows, cols);
    } else if (lua_isnumber(L, 6)) {
        const double w0 = lua_tonumber(L, 6);
        if (!isfinite(w0)) luaL_error(L, "connect_graded: weights must be a finite number");
        for (size_t k = 0; k < nt * ns; k++) w[k] = w0;
    } else if (lua_istable(L, 6)) {
        const size_t rows = (size_t)luaL_len(L, 6);
        if (rows != nt)
            ns_lua_errorf(L, "connect_graded: weights must have %zu rows (one per %s of %s), got %zu", nt, row_of, tname, rows);
        for (size_t i = 0; i < nt; i++) {
            char what[64];
            int n;
            snprintf(what, sizeof what, "connect_graded: weights row %zu", i + 1);
            lua_geti(L, 6, (lua_Integer)i + 1);
            const double *row = number_list(L, -1, &n, what);
            if ((size_t)n != ns)
                ns_lua_errorf(L, "%s must have %zu values (one per unit of %s), got %d", what, ns, sname, n);
            memcpy(w + i * ns, row, ns * sizeof *w);
            lua_settop(L, 6);
        }
    } else {
        luaL_error(L, "connect_graded: weights must be a list of rows or a number");
    }
    for (size_t k = 0; k < nt * ns; k++)
        if (!isfinite(w[k]))
            ns_lua_errorf(L, "connect_graded: %s row %zu, column %zu is not a finite number", file ? file : "weights",
                   k / ns + 1, k % ns + 1);
    spec.w = w;
    if (ns_net_connect_graded_spec(u->net, ends[0], ends[1], &spec)) return ns_lua_fail(L);
    return 0;
}

/* malloc'd memory that Lua frees when the userdata is collected (also after an error). */
#define SCRATCH_MT "nsim.scratch"
typedef struct {
    void *p[4];
} scratch;

static int scratch_gc(lua_State *L)
{
    scratch *s = luaL_checkudata(L, 1, SCRATCH_MT);
    for (int i = 0; i < 4; i++) {
        free(s->p[i]);
        s->p[i] = NULL;
    }
    return 0;
}

static scratch *new_scratch(lua_State *L)
{
    scratch *s = lua_newuserdatauv(L, sizeof *s, 0);
    memset(s, 0, sizeof *s);
    luaL_setmetatable(L, SCRATCH_MT);
    return s;
}

/* Spikes gathered for a spike source; the arrays live in a scratch userdata. */
typedef struct {
    size_t n, cap;
    scratch *mem; /* p[0] times, p[1] ids */
    long max_id;
    int oom;
} spike_list;

static int collect_spike(void *user, double t, long id)
{
    spike_list *l = user;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 1024;
        double *t2 = realloc(l->mem->p[0], cap * sizeof *t2);
        if (t2) l->mem->p[0] = t2;
        long *i2 = realloc(l->mem->p[1], cap * sizeof *i2);
        if (i2) l->mem->p[1] = i2;
        if (!t2 || !i2) return l->oom = 1;
        l->cap = cap;
    }
    ((double *)l->mem->p[0])[l->n] = t;
    ((long *)l->mem->p[1])[l->n++] = id;
    if (id > l->max_id) l->max_id = id;
    return 0;
}

/* A path as given, or beside the script when it is relative and not found. */
static void resolve_path(ns_script *s, const char *path, char *out, size_t len)
{
    snprintf(out, len, "%s", path);
    if (path[0] == '/' || access(path, F_OK) == 0) return;
    ns_path_beside(s->script, path, out, len);
    if (access(out, F_OK) != 0) snprintf(out, len, "%s", path);
}

static int l_spike_source(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    net_ud *u = check_net(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    static const char *const keys[] = {"times", "file", "n", "name", NULL};
    ns_lua_check_keys(L, 2, keys, "spike_source");
    const char *file = ns_lua_field_string(L, 2, "file", NULL, "spike_source");
    const char *name = ns_lua_field_string(L, 2, "name", NULL, "spike_source");
    double nopt = ns_lua_field_number(L, 2, "n", 0, "spike_source");
    spike_list l = {.max_id = -1, .mem = new_scratch(L)}; /* stack 3 */
    lua_getfield(L, 2, "times");                          /* stack 4 */
    int has_times = !lua_isnil(L, 4);
    if (has_times == (file != NULL)) luaL_error(L, "spike_source: give either times or file");
    if (file) {
        char path[4096], err[512], warn[400];
        resolve_path(s, file, path, sizeof path);
        if (ns_csv_read_spikes(path, collect_spike, &l, warn, sizeof warn, err, sizeof err)) luaL_error(L, "%s", err);
        if (warn[0]) ns_ctx_log(s->ctx, "warning: %s", warn); /* a torn last line, dropped */
        if (l.max_id > (long)UINT32_MAX - 1) /* a population holds at most UINT32_MAX units */
            ns_lua_errorf(L, "spike_source: %s: neuron id %ld is outside [0, %ld]", file, l.max_id,
                          (long)UINT32_MAX - 1);
    } else {
        luaL_checktype(L, 4, LUA_TTABLE);
        int units = (int)luaL_len(L, 4);
        lua_geti(L, 4, 1);
        int nested = lua_istable(L, -1);
        lua_pop(L, 1);
        for (int i = 1; i <= (nested ? units : 1); i++) {
            int n;
            if (nested) lua_geti(L, 4, i);
            else lua_pushvalue(L, 4);
            double *t = number_list(L, -1, &n, "spike_source times");
            for (int j = 0; j < n; j++) collect_spike(&l, t[j], i - 1);
            lua_pop(L, 2);
        }
        if (nested && units > l.max_id + 1) l.max_id = units - 1;
        if (!nested && l.max_id < 0) l.max_id = 0;
    }
    if (l.oom) luaL_error(L, "out of memory");
    size_t n = (size_t)(l.max_id + 1);
    if (nopt > (double)UINT32_MAX || nopt < 0)
        ns_lua_errorf(L, "spike_source: n = %g is outside [1, %ld]", nopt, (long)UINT32_MAX);
    if (nopt > 0) {
        if ((double)n > nopt) ns_lua_errorf(L, "spike_source: neuron %ld is outside n = %g", l.max_id, nopt);
        n = (size_t)nopt;
    }
    if (!n) luaL_error(L, "spike_source: no units (give n)");
    const double *lt = l.mem->p[0];
    const long *lid = l.mem->p[1];
    size_t *offset = l.mem->p[2] = calloc(n + 1, sizeof *offset);
    double *times = l.mem->p[3] = malloc((l.n ? l.n : 1) * sizeof *times);
    if (!offset || !times) luaL_error(L, "out of memory");
    for (size_t j = 0; j < l.n; j++) offset[lid[j] + 1]++;
    for (size_t i = 0; i < n; i++) offset[i + 1] += offset[i];
    for (size_t j = 0; j < l.n; j++) times[offset[lid[j]]++] = lt[j];
    for (size_t i = n; i > 0; i--) offset[i] = offset[i - 1]; /* the fill moved each start on */
    offset[0] = 0;
    ns_pop *pop = ns_net_add_spike_source(u->net, n, offset, times, name);
    if (!pop) return ns_lua_fail(L);
    return push_pop(L, 1, pop, u->net);
}

/* logits() of a loaded network, as the trainer's (upvalues: the readout population, which keeps
 * the network alive, and a copy of the ns_loaded_snn). */
static int l_loaded_logits(lua_State *L)
{
    check_pop(L, lua_upvalueindex(1));
    const ns_loaded_snn *ld = lua_touserdata(L, lua_upvalueindex(2));
    double logits[4096];
    if (ld->classes > (int)(sizeof logits / sizeof logits[0])) luaL_error(L, "logits: too many classes");
    ns_loaded_snn_logits(ld, logits);
    lua_createtable(L, ld->classes, 0);
    for (int c = 0; c < ld->classes; c++) {
        lua_pushnumber(L, logits[c]);
        lua_rawseti(L, -2, (lua_Integer)c + 1);
    }
    return 1;
}

/* net:load_network(file, input) — the network nsim.train saved, fed by population input's
 * output from step 0: {layers = {pop...}, readout = pop, T, steps, logits = fn}. */
static int l_load_network(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    const char *file = luaL_checkstring(L, 2);
    pop_ud *in = check_pop(L, 3);
    char path[4096];
    resolve_path(ns_lua_script(L), file, path, sizeof path);
    if (access(path, R_OK) != 0) luaL_error(L, "%s: cannot read the network file", file);
    ns_loaded_snn ld;
    if (ns_net_load_snn(u->net, path, in->pop, &ld)) return ns_lua_fail(L);
    lua_createtable(L, 0, 5);
    int t = lua_gettop(L);
    lua_createtable(L, ld.n_layers, 0);
    for (int l = 0; l < ld.n_layers; l++) {
        push_pop(L, 1, ld.layer[l], u->net);
        lua_rawseti(L, -2, l + 1);
    }
    lua_setfield(L, t, "layers");
    push_pop(L, 1, ld.readout, u->net);
    lua_pushvalue(L, -1);
    lua_setfield(L, t, "readout");
    ns_loaded_snn *copy = lua_newuserdatauv(L, sizeof *copy, 0);
    *copy = ld;
    lua_pushcclosure(L, l_loaded_logits, 2); /* readout, the copy */
    lua_setfield(L, t, "logits");
    lua_pushinteger(L, ld.T);
    lua_setfield(L, t, "T");
    lua_pushinteger(L, ld.steps);
    lua_setfield(L, t, "steps");
    return 1;
}

/* A device's neurons = {0-based indices} option of the table at opt: the indices (kept on the
 * stack) and their count in *n, or NULL when absent (every unit). */
static size_t *device_neurons(lua_State *L, int opt, size_t *n, const char *fn)
{
    *n = 0;
    if (lua_getfield(L, opt, "neurons") == LUA_TNIL) return NULL;
    char what[64];
    snprintf(what, sizeof what, "%s: neurons", fn);
    int m;
    double *v = number_list(L, -1, &m, what);
    size_t *u = lua_newuserdatauv(L, (size_t)(m ? m : 1) * sizeof *u, 0);
    for (int k = 0; k < m; k++) {
        if (!(v[k] >= 0 && v[k] < 4294967296.0 && v[k] == floor(v[k])))
            ns_lua_errorf(L, "%s: neurons item %d (%g) is not a unit index (0-based)", fn, k + 1, v[k]);
        u[k] = (size_t)v[k];
    }
    *n = (size_t)m;
    return u;
}

/* Add a device to each target population of the list at index 2 by add(net, pop, args), then
 * restrict it to the option table's neurons, if any; fails through ns_lua_fail. */
typedef int (*device_add_fn)(ns_net *net, ns_pop *pop, const double *args);
static int add_devices(lua_State *L, ns_net *net, device_add_fn add, const double *args, const char *fn)
{
    ns_pop *tgts[MAX_POPS];
    int nt = pop_list(L, 2, tgts, MAX_POPS, net);
    size_t nu;
    const size_t *units = device_neurons(L, 3, &nu, fn);
    for (int k = 0; k < nt; k++)
        if (add(net, tgts[k], args) || (units && ns_net_device_units(net, units, nu))) return ns_lua_fail(L);
    return 0;
}

static int add_poisson_(ns_net *net, ns_pop *p, const double *a) { return ns_net_add_poisson(net, p, a[0], a[1], a[2], a[3]); }
static int add_ac_(ns_net *net, ns_pop *p, const double *a) { return ns_net_add_ac(net, p, a[0], a[1], a[2], a[3], a[4], a[5]); }
static int add_noise_(ns_net *net, ns_pop *p, const double *a) { return ns_net_add_noise(net, p, a[0], a[1], a[2], a[3], a[4]); }
/* a piecewise-constant current: a[0] changes, times from a + 1, amplitudes after them */
static int add_current_(ns_net *net, ns_pop *p, const double *a)
{
    const int n = (int)a[0];
    return ns_net_add_current(net, p, n, a + 1, a + 1 + n);
}

static int l_poisson(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    luaL_checktype(L, 3, LUA_TTABLE);
    static const char *const keys[] = {"rate", "weight", "start", "stop", "neurons", NULL};
    ns_lua_check_keys(L, 3, keys, "poisson");
    double a[4] = {ns_lua_field_number(L, 3, "rate", NAN, "poisson"), ns_lua_field_number(L, 3, "weight", 1.0, "poisson"),
                   ns_lua_field_number(L, 3, "start", 0.0, "poisson"), ns_lua_field_number(L, 3, "stop", HUGE_VAL, "poisson")};
    if (isnan(a[0])) luaL_error(L, "poisson: rate (Hz) is required");
    return add_devices(L, u->net, add_poisson_, a, "poisson");
}

static int l_dc(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    luaL_checktype(L, 3, LUA_TTABLE);
    static const char *const keys[] = {"amplitude", "start", "stop", "neurons", NULL};
    ns_lua_check_keys(L, 3, keys, "dc");
    double amp = ns_lua_field_number(L, 3, "amplitude", NAN, "dc");
    if (isnan(amp)) luaL_error(L, "dc: amplitude (pA) is required");
    double t[2] = {ns_lua_field_number(L, 3, "start", 0.0, "dc"), ns_lua_field_number(L, 3, "stop", HUGE_VAL, "dc")};
    if (!(t[1] >= t[0])) ns_lua_errorf(L, "dc: stop (%g ms) is before start (%g ms)", t[1], t[0]);
    const int n = isinf(t[1]) ? 1 : 2;
    double a[5] = {n, t[0], t[1], amp, 0.0};
    if (n == 1) a[2] = amp;
    return add_devices(L, u->net, add_current_, a, "dc");
}

static int l_step_current(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    luaL_checktype(L, 3, LUA_TTABLE);
    static const char *const keys[] = {"times", "amplitudes", "neurons", NULL};
    ns_lua_check_keys(L, 3, keys, "step_current");
    lua_settop(L, 3);
    int nt, na;
    lua_getfield(L, 3, "times");
    double *t = number_list(L, -1, &nt, "step_current times");
    lua_getfield(L, 3, "amplitudes");
    double *amps = number_list(L, -1, &na, "step_current amplitudes");
    if (na != nt) luaL_error(L, "step_current: times and amplitudes must be lists of equal length");
    double *a = lua_newuserdatauv(L, (2 * (size_t)nt + 1) * sizeof *a, 0);
    a[0] = nt;
    memcpy(a + 1, t, (size_t)nt * sizeof *t);
    memcpy(a + 1 + nt, amps, (size_t)nt * sizeof *amps);
    return add_devices(L, u->net, add_current_, a, "step_current");
}

/* net:ac(pops, {amplitude, offset, frequency, phase, start, stop, neurons}): a sinusoidal current. */
static int l_ac(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    luaL_checktype(L, 3, LUA_TTABLE);
    static const char *const keys[] = {"amplitude", "offset", "frequency", "phase", "start", "stop", "neurons", NULL};
    ns_lua_check_keys(L, 3, keys, "ac");
    double a[6] = {ns_lua_field_number(L, 3, "amplitude", NAN, "ac"), ns_lua_field_number(L, 3, "offset", 0.0, "ac"),
                   ns_lua_field_number(L, 3, "frequency", NAN, "ac"), ns_lua_field_number(L, 3, "phase", 0.0, "ac"),
                   ns_lua_field_number(L, 3, "start", 0.0, "ac"), ns_lua_field_number(L, 3, "stop", HUGE_VAL, "ac")};
    if (isnan(a[0]) || isnan(a[2])) luaL_error(L, "ac: amplitude (pA) and frequency (Hz) are required");
    return add_devices(L, u->net, add_ac_, a, "ac");
}

/* net:noise(pops, {mean, std, dt, start, stop, neurons}): a Gaussian noise current, a new draw per
 * unit every dt ms (default: the network's dt). */
static int l_noise(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    luaL_checktype(L, 3, LUA_TTABLE);
    static const char *const keys[] = {"mean", "std", "dt", "start", "stop", "neurons", NULL};
    ns_lua_check_keys(L, 3, keys, "noise");
    double a[5] = {ns_lua_field_number(L, 3, "mean", 0.0, "noise"), ns_lua_field_number(L, 3, "std", NAN, "noise"),
                   ns_lua_field_number(L, 3, "dt", ns_net_dt(u->net), "noise"),
                   ns_lua_field_number(L, 3, "start", 0.0, "noise"), ns_lua_field_number(L, 3, "stop", HUGE_VAL, "noise")};
    if (isnan(a[1])) luaL_error(L, "noise: std (pA) is required");
    return add_devices(L, u->net, add_noise_, a, "noise");
}

/* net:signal(pop, {times = {...}, values = {{...}, ...}}): sample and hold into the inputs. */
static int l_signal(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    pop_ud *p = check_pop(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    static const char *const keys[] = {"times", "values", NULL};
    ns_lua_check_keys(L, 3, keys, "signal");
    int nt;
    lua_getfield(L, 3, "times");
    double *t = number_list(L, 4, &nt, "signal times");
    lua_getfield(L, 3, "values");
    if (!lua_istable(L, 6) || (int)luaL_len(L, 6) != nt) luaL_error(L, "signal: values must be a list of %d samples", nt);
    int ch = -1;
    double *v = NULL;
    lua_pushnil(L); /* slot 7 will hold the values' storage; 5 holds the times' */
    for (int k = 1; k <= nt; k++) {
        lua_geti(L, 6, k);
        int n;
        double *row = lua_istable(L, -1) ? number_list(L, -1, &n, "signal sample") : NULL;
        if (!row) { /* a plain number: one channel */
            n = 1;
            row = lua_newuserdatauv(L, sizeof *row, 0);
            *row = luaL_checknumber(L, -2);
        }
        if (ch < 0) {
            ch = n;
            v = lua_newuserdatauv(L, (size_t)nt * (size_t)ch * sizeof *v + 1, 0);
            lua_replace(L, 7);
        } else if (n != ch) {
            luaL_error(L, "signal: sample %d has %d channels, the first %d", k, n, ch);
        }
        memcpy(v + (size_t)(k - 1) * (size_t)ch, row, (size_t)ch * sizeof *row);
        lua_settop(L, 7);
    }
    if (nt < 1) luaL_error(L, "signal: no samples");
    const ns_model *m = ns_pop_model(p->pop);
    if (ns_model_param_index(m, "timespans") >= 0 && (size_t)ch + 1 == ns_pop_inputs(p->pop)) {
        /* a cell stepped per sample (timespans = 1): one more channel with each sample's time + 1 ms
         * (0 there means no sample yet), from which the cell takes its elapsed times */
        const double dt = ns_net_dt(u->net);
        double *vt = lua_newuserdatauv(L, (size_t)nt * (size_t)(ch + 1) * sizeof *vt, 0);
        for (int k = 0; k < nt; k++) {
            if (k && llround(t[k] / dt) == llround(t[k - 1] / dt))
                luaL_error(L, "signal: samples %d and %d (%g and %g ms) fall in one step of %g ms: a cell with timespans "
                              "= 1 takes one step per sample", k, k + 1, t[k - 1], t[k], dt);
            memcpy(vt + (size_t)k * (size_t)(ch + 1), v + (size_t)k * (size_t)ch, (size_t)ch * sizeof *v);
            vt[(size_t)k * (size_t)(ch + 1) + (size_t)ch] = t[k] + 1.0;
        }
        v = vt;
        ch++;
    }
    if (ns_net_add_signal(u->net, p->pop, nt, t, v, ch)) return ns_lua_fail(L);
    return 0;
}

static int push_recorder(lua_State *L, ns_net *net, int k)
{
    ns_lua_recorder *r = lua_newuserdatauv(L, sizeof *r, 1);
    r->net = net;
    r->k = k;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, NS_LUA_RECORDER_MT);
    return 1;
}

static int l_record_spikes(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    ns_pop *pops[MAX_POPS];
    int n = pop_list(L, 2, pops, MAX_POPS, u->net);
    static const char *const keys[] = {"file", NULL};
    ns_lua_options(L, 3, keys, "record_spikes");
    const char *file = ns_lua_field_string(L, 3, "file", "spikes.csv", "record_spikes");
    int k = ns_net_n_spike_recorders(u->net);
    if (ns_net_record_spikes(u->net, pops, n, file)) return ns_lua_fail(L);
    return push_recorder(L, u->net, k);
}

static int l_record_state(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    ns_pop *pops[MAX_POPS];
    int np = pop_list(L, 2, pops, MAX_POPS, u->net); /* one population or a list */
    luaL_checktype(L, 3, LUA_TTABLE);
    static const char *const keys[] = {"vars", "neurons", "interval", "file", NULL};
    ns_lua_check_keys(L, 3, keys, "record_state");
    const char *file = ns_lua_field_string(L, 3, "file", "state.csv", "record_state");
    double interval = ns_lua_field_number(L, 3, "interval", ns_net_dt(u->net), "record_state");
    const char *vars[32];
    int nv = 0;
    lua_getfield(L, 3, "vars");
    if (lua_type(L, -1) == LUA_TSTRING) vars[nv++] = lua_tostring(L, -1);
    else if (lua_istable(L, -1))
        for (int i = 1; i <= luaL_len(L, -1); i++) {
            if (nv == 32) luaL_error(L, "record_state: at most 32 vars");
            lua_geti(L, -1, i);
            if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "record_state: vars must be names");
            vars[nv++] = lua_tostring(L, -1);
            lua_pop(L, 1); /* the vars table keeps the string alive */
        }
    else luaL_error(L, "record_state: vars (a name or a list of names) is required");
    size_t nu = 0;
    size_t *units = NULL; /* every unit of every population */
    lua_getfield(L, 3, "neurons");
    if (!lua_isnil(L, -1)) {
        int cnt;
        double *v = number_list(L, -1, &cnt, "record_state neurons");
        nu = (size_t)cnt;
        units = lua_newuserdatauv(L, (nu ? nu : 1) * sizeof *units, 0);
        for (size_t i = 0; i < nu; i++) {
            if (v[i] < 0 || v[i] != floor(v[i])) ns_lua_errorf(L, "record_state: neuron %g is not an index (0-based)", v[i]);
            units[i] = v[i] < (double)SIZE_MAX ? (size_t)v[i] : SIZE_MAX;
        }
    }
    if (ns_net_record_states(u->net, pops, np, vars, nv, units, nu, interval, file)) return ns_lua_fail(L);
    return 0;
}

static int l_record_rate(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    ns_pop *pops[MAX_POPS];
    int n = pop_list(L, 2, pops, MAX_POPS, u->net);
    static const char *const keys[] = {"bin", "file", NULL};
    ns_lua_options(L, 3, keys, "record_rate");
    double bin = ns_lua_field_number(L, 3, "bin", 1.0, "record_rate");
    const char *file = ns_lua_field_string(L, 3, "file", "rate.csv", "record_rate");
    if (ns_net_record_rate(u->net, pops, n, bin, file)) return ns_lua_fail(L);
    return 0;
}

/* net:record_sum(pops, var, {interval = ms, file = "sum.csv"}): the sum over each population of a
 * summed state variable (kg_field's energy), every interval (default dt). */
static int l_record_sum(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    ns_pop *pops[MAX_POPS];
    int n = pop_list(L, 2, pops, MAX_POPS, u->net);
    const char *var = luaL_checkstring(L, 3);
    static const char *const keys[] = {"interval", "file", NULL};
    ns_lua_options(L, 4, keys, "record_sum");
    double interval = ns_lua_field_number(L, 4, "interval", ns_net_dt(u->net), "record_sum");
    char def[96];
    snprintf(def, sizeof def, "%s.csv", var);
    const char *file = ns_lua_field_string(L, 4, "file", def, "record_sum");
    if (ns_net_record_sum(u->net, pops, n, var, interval, file)) return ns_lua_fail(L);
    return 0;
}

/* Resume u's network from the checkpoint at path: its state replaced, the script's clock left
 * where it is (runs skip the model time the checkpoint already holds). A failure is raised as
 * "PATH: what is wrong", with no script position when plain is 1 (the command's --resume). */
static void resume_net(lua_State *L, net_ud *u, const char *path, int plain)
{
    if (ns_checkpoint_load(u->net, path)) {
        if (!plain) ns_lua_fail(L);
        lua_pushstring(L, ns_ctx_errmsg(ns_lua_script(L)->ctx));
        lua_error(L);
    }
    u->ahead = (int64_t)llround(ns_net_time(u->net) / ns_net_dt(u->net));
}

/* net:run(t) after a resume: the first t ms the network already did are skipped (the script's
 * clock catches up with the network's), the rest is run. */
static int run_ahead(lua_State *L, ns_script *s, net_ud *u, double t)
{
    const double dt = ns_net_dt(u->net), k = t / dt;
    if (!(k >= 0) || fabs(k - round(k)) > 1e-6 * fmax(1.0, k) || k > 9e15) {
        if (ns_net_run(u->net, t)) return ns_lua_fail(L); /* refused, with the usual message */
        return 0;
    }
    const int64_t steps = (int64_t)llround(k);
    if (steps <= u->ahead) {
        u->ahead -= steps;
        return 0;
    }
    const double rest = (double)(steps - u->ahead) * dt;
    u->ahead = 0;
    int rc = ns_net_run(u->net, rest);
    s->simulated = 1;
    if (rc) {
        s->interrupted = rc == NS_EINTR;
        return ns_lua_fail(L);
    }
    return 0;
}

/* net:checkpoint(path [, {overwrite = true}]): the network's state between runs into path (a plain
 * file name goes into the output folder); returns the path. After a resume, a checkpoint of a time
 * the network has passed is skipped (returns nil). */
static int l_checkpoint(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    net_ud *u = check_net(L, 1);
    const char *file = luaL_checkstring(L, 2);
    static const char *const keys[] = {"overwrite", NULL};
    ns_lua_options(L, 3, keys, "checkpoint");
    int overwrite = 0;
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "overwrite");
        overwrite = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    if (u->ahead > 0) return 0;
    char path[4096];
    if (strchr(file, '/')) snprintf(path, sizeof path, "%s", file);
    else if (ns_ctx_output_path(s->ctx, file, path, (int)sizeof path)) return ns_lua_fail(L);
    if (ns_checkpoint_save(u->net, path, overwrite)) return ns_lua_fail(L);
    lua_pushstring(L, path);
    return 1;
}

/* net:resume(path): the state of a checkpoint, before the network's first run. */
static int l_resume(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    net_ud *u = check_net(L, 1);
    const char *file = luaL_checkstring(L, 2);
    char path[4096];
    resolve_path(s, file, path, sizeof path);
    if (s->resume && !s->resumed) luaL_error(L, "net:resume and --resume: one checkpoint at a time");
    resume_net(L, u, path, 0);
    lua_pushnumber(L, ns_net_time(u->net));
    return 1;
}

static int l_run(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    net_ud *u = check_net(L, 1);
    double t = luaL_checknumber(L, 2);
    if (!s->simulated && s->before_first_run && s->before_first_run(s)) return ns_lua_fail(L);
    if (s->resume && !s->resumed) { /* nsim run --resume: the first network run takes the checkpoint */
        s->resumed = 1;
        resume_net(L, u, s->resume, 1);
    }
    if (u->ahead) return run_ahead(L, s, u, t);
    double t0 = ns_net_time(u->net);
    int rc = ns_net_run(u->net, t);
    if (ns_net_time(u->net) > t0) s->simulated = 1;
    if (rc) {
        s->interrupted = rc == NS_EINTR;
        return ns_lua_fail(L);
    }
    return 0;
}

static int l_net_index(lua_State *L)
{
    net_ud *u = check_net(L, 1);
    const char *key = luaL_checkstring(L, 2);
    if (!strcmp(key, "dt")) lua_pushnumber(L, ns_net_dt(u->net));
    else if (!strcmp(key, "time")) lua_pushnumber(L, ns_net_time(u->net));
    else if (!strcmp(key, "synapses")) lua_pushinteger(L, (lua_Integer)ns_net_n_synapses(u->net));
    else if (!strcmp(key, "spikes")) lua_pushinteger(L, (lua_Integer)ns_net_n_spikes(u->net));
    else if (!strcmp(key, "simulate_s")) lua_pushnumber(L, ns_net_simulate_seconds(u->net));
    else if (!strcmp(key, "exchange_s") || !strcmp(key, "exchange_bytes") || !strcmp(key, "windows")) {
        double sec; /* MPI ranks: the exchange's wall seconds, bytes this rank sent, windows */
        int64_t bytes, windows;
        ns_net_exchange_stats(u->net, &sec, &bytes, &windows);
        if (key[0] == 'w') lua_pushinteger(L, (lua_Integer)windows);
        else if (!strcmp(key, "exchange_s")) lua_pushnumber(L, sec);
        else lua_pushinteger(L, (lua_Integer)bytes);
    } else {
        luaL_getmetafield(L, 1, "methods");
        lua_getfield(L, -1, key);
        if (lua_isnil(L, -1)) luaL_error(L, "network has no field or method '%s'", key);
    }
    return 1;
}

/* ---- populations ---- */

static int l_pop_index(lua_State *L)
{
    pop_ud *p = check_pop(L, 1);
    const char *key = luaL_checkstring(L, 2);
    if (!strcmp(key, "name")) lua_pushstring(L, ns_pop_name(p->pop));
    else if (!strcmp(key, "n")) lua_pushinteger(L, (lua_Integer)ns_pop_size(p->pop));
    else if (!strcmp(key, "model")) lua_pushstring(L, ns_pop_model(p->pop)->name);
    else if (!strcmp(key, "first")) lua_pushinteger(L, (lua_Integer)ns_pop_first_id(p->pop));
    else if (!strcmp(key, "spikes")) lua_pushinteger(L, (lua_Integer)ns_pop_n_spikes(p->pop));
    else if (!strcmp(key, "state")) luaL_getmetafield(L, 1, "state_fn");
    else if (!strcmp(key, "set")) luaL_getmetafield(L, 1, "set_fn");
    else if (!strcmp(key, "set_state")) luaL_getmetafield(L, 1, "set_state_fn");
    else if (!strcmp(key, "save")) luaL_getmetafield(L, 1, "save_fn");
    else if (!strcmp(key, "positions")) luaL_getmetafield(L, 1, "positions_fn");
    else luaL_error(L, "population has no field '%s' (name, n, model, first, spikes, state, set, set_state, save, positions)", key);
    return 1;
}

static int l_pop_state(lua_State *L)
{
    pop_ud *p = check_pop(L, 1);
    const char *var = luaL_checkstring(L, 2);
    lua_Integer i = luaL_checkinteger(L, 3);
    if (i < 0 || (size_t)i >= ns_pop_size(p->pop)) luaL_error(L, "unit %d is outside %s (0-based)", (int)i, ns_pop_name(p->pop));
    double v = ns_pop_get_state(p->pop, var, (size_t)i);
    if (isnan(v)) luaL_error(L, "model %s has no state variable '%s'", ns_pop_model(p->pop)->name, var);
    lua_pushnumber(L, v);
    return 1;
}

static int l_pop_set(lua_State *L)
{
    pop_ud *p = check_pop(L, 1);
    if (set_params(L, 2, p->net, p->pop)) return ns_lua_fail(L);
    return 0;
}

/* pop:set_state(var, value): a number, a distribution or one number per unit, between runs too. */
static int l_pop_set_state(lua_State *L)
{
    pop_ud *p = check_pop(L, 1);
    const char *var = luaL_checkstring(L, 2);
    luaL_checkany(L, 3);
    if (set_state_value(L, 3, p->net, p->pop, var, "set_state")) return ns_lua_fail(L);
    return 0;
}

static int l_pop_save(lua_State *L)
{
    pop_ud *p = check_pop(L, 1);
    const char *file = luaL_checkstring(L, 2);
    char path[4096];
    if (ns_ctx_output_path(ns_lua_script(L)->ctx, file, path, (int)sizeof path)) return ns_lua_fail(L);
    if (ns_pop_save_weights(p->net, p->pop, path)) return ns_lua_fail(L);
    lua_pushstring(L, path);
    return 1;
}

static int l_pop_positions(lua_State *L)
{
    pop_ud *p = check_pop(L, 1);
    const ns_geom *g = ns_pop_geometry(p->pop);
    if (!g) ns_lua_errorf(L, "population %s has no geometry (ring, grid or positions)", ns_pop_name(p->pop));
    lua_createtable(L, 0, 3);
    static const char *const axes[3] = {"x", "y", "z"};
    for (int a = 0; a < 3; a++) {
        lua_createtable(L, (int)g->n, 0);
        for (size_t k = 0; k < g->n; k++) {
            lua_pushnumber(L, g->pos[3 * k + (size_t)a]);
            lua_seti(L, -2, (lua_Integer)k + 1);
        }
        lua_setfield(L, -2, axes[a]);
    }
    return 1;
}

static int l_pop_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)ns_pop_size(check_pop(L, 1)->pop));
    return 1;
}

static int l_rec_index(lua_State *L)
{
    ns_lua_recorder *r = luaL_checkudata(L, 1, NS_LUA_RECORDER_MT);
    const char *key = luaL_checkstring(L, 2);
    if (!strcmp(key, "path")) lua_pushstring(L, ns_net_spike_recorder_path(r->net, r->k));
    else luaL_error(L, "recorder has no field '%s' (path)", key);
    return 1;
}

static int l_outdir(lua_State *L)
{
    lua_pushstring(L, ns_ctx_outdir(ns_lua_script(L)->ctx));
    return 1;
}

/* nsim.rank(), nsim.ranks(): this process's MPI rank (0-based) and the number of ranks (0 and 1
 * without mpirun). Every rank runs the script; rank 0 writes the output folder. */
static int l_rank(lua_State *L)
{
    int rank, ranks;
    ns_transport_world(&rank, &ranks);
    lua_pushinteger(L, rank);
    return 1;
}

static int l_ranks(lua_State *L)
{
    int rank, ranks;
    ns_transport_world(&rank, &ranks);
    lua_pushinteger(L, ranks);
    return 1;
}

/* ---- set-up ---- */

static void make_metatables(lua_State *L)
{
    static const luaL_Reg net_methods[] = {
        {"population", l_population}, {"connect", l_connect}, {"connect_graded", l_connect_graded},
        {"spike_source", l_spike_source},
        {"load_network", l_load_network},
        {"poisson", l_poisson}, {"dc", l_dc}, {"step_current", l_step_current}, {"signal", l_signal},
        {"ac", l_ac}, {"noise", l_noise},
        {"record_spikes", l_record_spikes}, {"record_state", l_record_state},
        {"record_rate", l_record_rate}, {"record_sum", l_record_sum}, {"record_weights", ns_lua_record_weights},
        {"run", l_run}, {"checkpoint", l_checkpoint}, {"resume", l_resume}, {NULL, NULL}};
    static const luaL_Reg net_mt[] = {{"__index", l_net_index}, {"__gc", l_net_gc}, {NULL, NULL}};
    static const luaL_Reg pop_mt[] = {{"__index", l_pop_index}, {"__len", l_pop_len},
                                      {"state_fn", l_pop_state}, {"set_fn", l_pop_set},
                                      {"set_state_fn", l_pop_set_state},
                                      {"save_fn", l_pop_save}, {"positions_fn", l_pop_positions},
                                      {NULL, NULL}};
    static const luaL_Reg rec_mt[] = {{"__index", l_rec_index}, {NULL, NULL}};
    static const luaL_Reg dist_mt[] = {{NULL, NULL}};
    static const luaL_Reg scratch_mt[] = {{"__gc", scratch_gc}, {NULL, NULL}};
    luaL_newmetatable(L, NET_MT);
    luaL_setfuncs(L, net_mt, 0);
    luaL_newlib(L, net_methods);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
    const struct {
        const char *name;
        const luaL_Reg *fns;
    } mts[] = {{POP_MT, pop_mt}, {NS_LUA_RECORDER_MT, rec_mt}, {DIST_MT, dist_mt}, {SCRATCH_MT, scratch_mt}};
    for (size_t i = 0; i < sizeof mts / sizeof mts[0]; i++) {
        luaL_newmetatable(L, mts[i].name);
        luaL_setfuncs(L, mts[i].fns, 0);
        lua_pop(L, 1);
    }
}

static void open_nsim(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"param", l_param}, {"network", l_network}, {"uniform", l_uniform}, {"normal", l_normal},
        {"cauchy", l_cauchy},
        {"outdir", l_outdir}, {"rank", l_rank}, {"ranks", l_ranks}, {NULL, NULL}};
    luaL_newlib(L, fns);
    ns_lua_open_figures(L);
    ns_lua_open_train(L);
    ns_lua_open_phase(L);
    ns_lua_open_scaffold(L);
    ns_lua_open_plastic(L);
    ns_lua_open_nir(L);
    ns_lua_open_proj(L); /* after plastic: it extends the projection handles */
    lua_pushstring(L, NS_VERSION);
    lua_setfield(L, -2, "version");
    lua_setglobal(L, "nsim");
}

static int traceback_handler(lua_State *L)
{
    if (!lua_isstring(L, 1)) {
        lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
    }
    return 1;
}

/* A stop request (a signal) ends a script that is busy in Lua itself, not in a run. */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
    ns_script *s = ns_lua_script(L);
    if (!ns_ctx_stop_requested(s->ctx)) return;
    s->interrupted = 1;
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0) luaL_error(L, "%s:%d: interrupted", ar->short_src, ar->currentline);
    luaL_error(L, "interrupted");
}

void ns_script_open(lua_State *L, ns_script *s)
{
    lua_pushlightuserdata(L, s);
    lua_setfield(L, LUA_REGISTRYINDEX, NS_LUA_SCRIPT_KEY);
    make_metatables(L);
    open_nsim(L);
}

int ns_script_run(ns_script *s)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        snprintf(s->errmsg, sizeof s->errmsg, "%s: out of memory", s->script);
        return 1;
    }
    luaL_openlibs(L);
    ns_script_open(L, s);
    lua_sethook(L, stop_hook, LUA_MASKCOUNT, 1000000);
    int rc = 0;
    lua_pushcfunction(L, traceback_handler);
    if (luaL_loadfile(L, s->script) != LUA_OK) {
        snprintf(s->errmsg, sizeof s->errmsg, "%s", lua_tostring(L, -1));
        rc = 1;
    } else if (lua_pcall(L, 0, 0, -2) != LUA_OK) {
        snprintf(s->errmsg, sizeof s->errmsg, "%s", lua_tostring(L, -1));
        rc = 1;
    }
    lua_close(L); /* collects the networks, folding their figures into s */
    if (!rc && s->resume && !s->resumed) {
        snprintf(s->errmsg, sizeof s->errmsg, "%s: --resume: the script never runs a network to resume", s->resume);
        rc = 1;
    }
    if (!rc)
        for (int i = 0; i < s->nsettings; i++)
            if (!s->settings[i].read) {
                snprintf(s->errmsg, sizeof s->errmsg, "%s:0: --set %s=%s: the script never reads parameter '%s'",
                         s->script, s->settings[i].name, s->settings[i].value, s->settings[i].name);
                rc = 1;
                break;
            }
    if (rc && s->simulated) s->run_failed = 1; /* what was simulated is kept, whatever failed after */
    return rc;
}
