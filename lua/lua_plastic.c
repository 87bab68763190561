/* lua/lua_plastic.c — plasticity from Lua: a synapse model is a table with model = "stdp" or
 * "stdp_triplet" and NEST's parameter names (nsim.stdp{...} makes one, filled with the defaults and
 * checked); net:connect returns a projection handle per target, which net:record_weights takes. */
#include "lua/lua_plastic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "analysis/weight_plot.h"
#include "io/runinfo.h"
#include "io/weight_file.h"
#include "lua/lua_util.h"

#define PROJ_MT "nsim.projection"

typedef struct {
    ns_net *net;
    int k;
} proj_ud;

static const ns_lua_enum models[] = {{"stdp", NS_STDP_PAIR},
                                     {"stdp_triplet", NS_STDP_TRIPLET},
                                     {"stdp_synapse", NS_STDP_PAIR},
                                     {"stdp_triplet_synapse", NS_STDP_TRIPLET},
                                     {NULL, 0}};

static const char *model_name(int rule) { return rule == NS_STDP_PAIR ? "stdp" : "stdp_triplet"; }

/* The synapse table at idx into s: its model (def when it names none; -1: it must), every other
 * key one of the model's parameters, a number; then the ranges. */
static void read_model(lua_State *L, int idx, int def, ns_stdp *s, const char *what)
{
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx)) luaL_error(L, "%s: synapse must be a table (nsim.stdp{...} or {model = \"stdp\", ...})", what);
    int rule = def;
    if (lua_getfield(L, idx, "model") != LUA_TNIL) {
        const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
        rule = ns_lua_enum_value(models, name);
        if (rule < 0) luaL_error(L, "%s: unknown synapse model '%s' (stdp, stdp_triplet)", what, name);
        if (def >= 0 && rule != def) luaL_error(L, "%s: model '%s' given to nsim.%s", what, name, model_name(def));
    }
    lua_pop(L, 1);
    if (rule < 0) luaL_error(L, "%s: synapse needs model = \"stdp\" or \"stdp_triplet\"", what);
    ns_stdp_defaults(s, (ns_stdp_rule)rule);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "%s: synapse keys must be parameter names", what);
        const char *key = lua_tostring(L, -2);
        if (strcmp(key, "model")) {
            if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "%s: %s %s must be a number", what, model_name(rule), key);
            if (ns_stdp_set(s, key, lua_tonumber(L, -1)))
                luaL_error(L, "%s: %s has no parameter '%s' (%s)", what, model_name(rule), key,
                           ns_stdp_names((ns_stdp_rule)rule));
        }
        lua_pop(L, 1);
    }
    if (ns_stdp_check(ns_lua_script(L)->ctx, s)) ns_lua_errorf(L, "%s: %s", what, ns_ctx_errmsg(ns_lua_script(L)->ctx));
}

int ns_lua_read_synapse(lua_State *L, int idx, ns_stdp *s)
{
    int t = lua_getfield(L, idx, "synapse");
    if (t != LUA_TNIL) read_model(L, -1, -1, s, "connect");
    lua_pop(L, 1);
    return t != LUA_TNIL;
}

/* nsim.stdp{...} / nsim.stdp_triplet{...}: the model as a table, every parameter filled in. */
static int make_model(lua_State *L, int rule)
{
    ns_stdp s;
    if (lua_isnoneornil(L, 1)) lua_newtable(L);
    read_model(L, 1, rule, &s, rule == NS_STDP_PAIR ? "nsim.stdp" : "nsim.stdp_triplet");
    static const char *const pair[] = {"tau_plus", "tau_minus", "lambda", "alpha", "mu_plus", "mu_minus", "Wmax", NULL};
    static const char *const trip[] = {"tau_plus", "tau_minus", "tau_plus_triplet", "tau_minus_triplet", "Aplus",
                                       "Aminus", "Aplus_triplet", "Aminus_triplet", "Wmax", NULL};
    const double pv[] = {s.tau_plus, s.tau_minus, s.lambda, s.alpha, s.mu_plus, s.mu_minus, s.wmax};
    const double tv[] = {s.tau_plus, s.tau_minus, s.tau_plus_triplet, s.tau_minus_triplet, s.a_plus, s.a_minus,
                         s.a_plus_triplet, s.a_minus_triplet, s.wmax};
    lua_newtable(L);
    lua_pushstring(L, model_name(rule));
    lua_setfield(L, -2, "model");
    const char *const *names = rule == NS_STDP_PAIR ? pair : trip;
    for (int k = 0; names[k]; k++) {
        lua_pushnumber(L, rule == NS_STDP_PAIR ? pv[k] : tv[k]);
        lua_setfield(L, -2, names[k]);
    }
    return 1;
}

static int l_stdp(lua_State *L) { return make_model(L, NS_STDP_PAIR); }
static int l_stdp_triplet(lua_State *L) { return make_model(L, NS_STDP_TRIPLET); }

void ns_lua_push_projection(lua_State *L, int net_idx, ns_net *net, int k)
{
    net_idx = lua_absindex(L, net_idx);
    proj_ud *p = lua_newuserdatauv(L, sizeof *p, 1);
    p->net = net;
    p->k = k;
    lua_pushvalue(L, net_idx);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, PROJ_MT);
}

ns_net *ns_lua_check_projection(lua_State *L, int idx, int *k)
{
    proj_ud *p = luaL_checkudata(L, idx, PROJ_MT);
    *k = p->k;
    return p->net;
}

static int l_proj_index(lua_State *L)
{
    proj_ud *p = luaL_checkudata(L, 1, PROJ_MT);
    const char *key = luaL_checkstring(L, 2);
    if (!strcmp(key, "synapses")) lua_pushinteger(L, (lua_Integer)ns_net_projection_synapses(p->net, p->k));
    else if (!strcmp(key, "plastic")) lua_pushboolean(L, ns_net_projection_plastic(p->net, p->k));
    else if (!strcmp(key, "index")) lua_pushinteger(L, p->k);
    else luaL_error(L, "projection has no field '%s' (synapses, plastic, index)", key);
    return 1;
}

int ns_lua_record_weights(lua_State *L)
{
    proj_ud *p = luaL_testudata(L, 2, PROJ_MT);
    if (!p) luaL_error(L, "record_weights: the first argument must be a projection (what net:connect returns)");
    lua_getiuservalue(L, 2, 1);
    if (!lua_rawequal(L, -1, 1)) luaL_error(L, "record_weights: the projection belongs to another network");
    lua_pop(L, 1);
    static const char *const keys[] = {"file", "matrix", "sample", "interval", NULL};
    ns_lua_options(L, 3, keys, "record_weights");
    const char *file = ns_lua_field_string(L, 3, "file", "weights.csv", "record_weights");
    char def_matrix[256];
    size_t len = strlen(file);
    if (len > 4 && !strcmp(file + len - 4, ".csv")) len -= 4;
    snprintf(def_matrix, sizeof def_matrix, "%.*s_matrix.csv", (int)(len < 200 ? len : 200), file);
    const char *matrix = ns_lua_field_string(L, 3, "matrix", def_matrix, "record_weights");
    double interval = ns_lua_field_number(L, 3, "interval", 10.0, "record_weights");
    size_t n = 100, *list = NULL;
    int t = lua_istable(L, 3) ? lua_getfield(L, 3, "sample") : LUA_TNIL;
    if (t == LUA_TNUMBER) {
        double v = lua_tonumber(L, -1);
        if (!(v >= 0 && v == floor(v) && v < 1e15))
            ns_lua_errorf(L, "record_weights: sample = %g is not a whole number of synapses >= 0", v);
        n = (size_t)v;
    } else if (t == LUA_TTABLE) {
        n = (size_t)luaL_len(L, -1);
        list = lua_newuserdatauv(L, (n ? n : 1) * sizeof *list, 0); /* freed by Lua, also after an error */
        for (size_t i = 0; i < n; i++) {
            lua_geti(L, -2, (lua_Integer)i + 1);
            double v = lua_tonumber(L, -1);
            if (!lua_isnumber(L, -1) || !(v >= 0 && v == floor(v) && v < 1e15))
                luaL_error(L, "record_weights: sample item %d is not a synapse number (0-based)", (int)i + 1);
            list[i] = (size_t)v;
            lua_pop(L, 1);
        }
    } else if (t != LUA_TNIL) {
        luaL_error(L, "record_weights: sample must be a number of synapses or a list of synapse numbers");
    }
    if (ns_net_record_weights(p->net, p->k, list, n, interval, file, matrix)) return ns_lua_fail(L);
    return 0;
}

/* nsim.plot_weights(RECORD, FILE, {title =, bins =}): the weight histogram (as `nsim plot weights`)
 * of a weight record of the output folder (a matrix file, or a sample file's last sample), into
 * FILE (default weights.png); returns its path. */
static int l_plot_weights(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    const char *rec = luaL_checkstring(L, 1);
    const char *file = luaL_optstring(L, 2, "weights.png");
    static const char *const keys[] = {"title", "bins", NULL};
    ns_lua_options(L, 3, keys, "nsim.plot_weights");
    const char *title = ns_lua_field_string(L, 3, "title", NULL, "nsim.plot_weights");
    double bins = ns_lua_field_number(L, 3, "bins", 30, "nsim.plot_weights");
    if (!(bins >= 1 && bins <= 1000 && bins == floor(bins)))
        ns_lua_errorf(L, "nsim.plot_weights: bins = %g is not a whole number in [1, 1000]", bins);
    if (!*rec || strchr(rec, '/')) luaL_error(L, "nsim.plot_weights: '%s' must be a record's file name in the output folder", rec);
    char in[4096], path[4096], err[1024], warn[320], tbuf[300];
    snprintf(in, sizeof in, "%s/%s", ns_ctx_outdir(s->ctx), rec);
    ns_lua_output_path(L, file, "nsim.plot_weights", path, (int)sizeof path); /* before anything to free */
    double *w, t_ms;
    long n;
    if (ns_weight_file_read(in, &w, &n, &t_ms, warn, sizeof warn, err, sizeof err))
        luaL_error(L, "nsim.plot_weights: %s", err);
    if (warn[0]) ns_ctx_log(s->ctx, "%s", warn);
    if (!title) {
        if (isnan(t_ms)) snprintf(tbuf, sizeof tbuf, "Weights");
        else snprintf(tbuf, sizeof tbuf, "Weights at %g ms", t_ms);
        title = tbuf;
    }
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, s, title, 0);
    int rc = ns_plot_weights(path, w, n, (int)bins, title, "weight", pt.keys, pt.vals, pt.n, err, sizeof err);
    free(w);
    if (rc) luaL_error(L, "nsim.plot_weights: %s", err);
    lua_pushstring(L, path);
    return 1;
}

void ns_lua_open_plastic(lua_State *L)
{
    lua_pushcfunction(L, l_plot_weights);
    lua_setfield(L, -2, "plot_weights");
    lua_pushcfunction(L, l_stdp);
    lua_setfield(L, -2, "stdp");
    lua_pushcfunction(L, l_stdp_triplet);
    lua_setfield(L, -2, "stdp_triplet");
    static const luaL_Reg proj_mt[] = {{"__index", l_proj_index}, {NULL, NULL}};
    luaL_newmetatable(L, PROJ_MT);
    luaL_setfuncs(L, proj_mt, 0);
    lua_pop(L, 1);
}
