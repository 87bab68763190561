/* lua/lua_nir.c — see lua_nir.h. The handles it pushes are lua_api.c's: a network userdata
 * (nsim.net) and population userdata (nsim.population) of the same layout, kept in step by hand
 * (net_handle, pop_handle below). */
#include "lua/lua_nir.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "base/files.h"
#include "io/nir.h"
#include "lua/lua_util.h"
#include "models/ncps_npz.h"

/* A file named by a script: as given when it exists there, else beside the script. */
static void resolve(lua_State *L, const char *file, char *out, size_t len)
{
    snprintf(out, len, "%s", file);
    if (file[0] == '/' || access(file, F_OK) == 0) return;
    ns_path_beside(ns_lua_script(L)->script, file, out, len);
    if (access(out, F_OK) != 0) snprintf(out, len, "%s", file);
}

/* logits() of a loaded graph (upvalues: the readout population, which keeps the network alive,
 * and a copy of the ns_nir_loaded). */
static int l_nir_logits(lua_State *L)
{
    const ns_nir_loaded *ld = lua_touserdata(L, lua_upvalueindex(2));
    double *v = lua_newuserdatauv(L, (size_t)(ld->classes > 0 ? ld->classes : 1) * sizeof *v, 0);
    ns_nir_logits(ld, v);
    ns_lua_push_numbers(L, v, ld->classes, 1);
    return 1;
}

/* net:load_nir(file, input, {T = steps}) — {layers = {pop...}, nodes = {NAME = pop}, readout,
 * T, steps, logits = fn}: the layers in the file's order of its nodes. */
static int l_load_nir(lua_State *L)
{
    ns_net *net = ns_lua_check_net(L, 1);
    const char *file = luaL_checkstring(L, 2);
    ns_net *pnet;
    ns_pop *in = ns_lua_check_pop(L, 3, &pnet);
    if (pnet != net) luaL_error(L, "load_nir: population %s belongs to another network", ns_pop_name(in));
    static const char *const keys[] = {"T", NULL};
    int has_opts = ns_lua_options(L, 4, keys, "load_nir");
    double T = has_opts ? ns_lua_field_number(L, 4, "T", 0, "load_nir") : 0;
    if (!(T >= 0 && T <= 1e9 && T == (double)(int)T)) ns_lua_errorf(L, "load_nir: T = %g is not a whole number of steps in [1, 1e9]", T);
    char path[4096];
    resolve(L, file, path, sizeof path);
    ns_nir_load_opts o = {(int)T};
    ns_nir_loaded ld;
    if (ns_nir_load(net, path, in, &o, &ld)) return ns_lua_fail(L);
    lua_createtable(L, 0, 7);
    int t = lua_gettop(L);
    lua_createtable(L, ld.n_pops, 0);
    lua_createtable(L, 0, ld.n_pops);
    for (int k = 0; k < ld.n_pops; k++) {
        ns_lua_push_pop(L, 1, ld.pop[k], net);
        lua_pushvalue(L, -1);
        lua_rawseti(L, t + 1, k + 1);
        lua_setfield(L, t + 2, ld.name[k]);
    }
    lua_setfield(L, t, "nodes");
    lua_setfield(L, t, "layers");
    ns_lua_push_pop(L, 1, ld.readout, net);
    lua_pushvalue(L, -1);
    lua_setfield(L, t, "readout");
    ns_nir_loaded *copy = lua_newuserdatauv(L, sizeof *copy, 0);
    *copy = ld;
    lua_pushcclosure(L, l_nir_logits, 2);
    lua_setfield(L, t, "logits");
    lua_pushinteger(L, ld.T);
    lua_setfield(L, t, "T");
    lua_pushinteger(L, ld.steps);
    lua_setfield(L, t, "steps");
    lua_pushstring(L, ld.cell ? "state" : ld.leaky ? "max" : "mean");
    lua_setfield(L, t, "readout_kind");
    return 1;
}

void ns_lua_export_nir(lua_State *L, const char *snn_path, const char *file, double dt_ms, const char *what,
                       char *path, int len)
{
    char err[1024];
    ns_lua_output_path(L, file, what, path, len);
    if (ns_nir_write_snn(snn_path, path, dt_ms, err, sizeof err)) luaL_error(L, "%s: %s", what, err);
}

/* nsim.export_nir(saved, file, {dt = ms}) — the full path of file. saved is a network the trainer
 * saved, or an ncps CfC / LTC state_dict (.npz) with the options the cfc / ltc population takes
 * {mode = 0|1, activation = 0..4} or {implicit_constraints = 0|1, unfolds = K, epsilon = e}. */
static int l_export_nir(lua_State *L)
{
    const char *saved = luaL_checkstring(L, 1), *file = luaL_checkstring(L, 2);
    static const char *const keys[] = {"dt", "mode", "activation", "implicit_constraints", "unfolds", "epsilon", NULL};
    int has_opts = ns_lua_options(L, 3, keys, "export_nir");
    char in[4096], path[4096];
    resolve(L, saved, in, sizeof in);
    if (ns_npz_path(in)) {
        ns_nir_cell_opts o;
        ns_nir_cell_opts_default(&o);
        if (has_opts) {
            const double mode = ns_lua_field_number(L, 3, "mode", 0, "export_nir");
            const double act = ns_lua_field_number(L, 3, "activation", 0, "export_nir");
            const double imp = ns_lua_field_number(L, 3, "implicit_constraints", 1, "export_nir");
            const double unf = ns_lua_field_number(L, 3, "unfolds", 6, "export_nir");
            o.epsilon = ns_lua_field_number(L, 3, "epsilon", 1e-8, "export_nir");
            if (!(mode == 0 || mode == 1)) ns_lua_errorf(L, "export_nir: mode = %g: 0 (default) or 1 (no_gate)", mode);
            if (!(act >= 0 && act <= 4 && act == (int)act))
                ns_lua_errorf(L, "export_nir: activation = %g: 0 lecun_tanh, 1 tanh, 2 relu, 3 silu or 4 gelu", act);
            if (!(imp == 0 || imp == 1)) ns_lua_errorf(L, "export_nir: implicit_constraints = %g: 0 or 1", imp);
            if (!(unf >= 1 && unf <= 1000 && unf == (int)unf)) ns_lua_errorf(L, "export_nir: unfolds = %g: a whole number in [1, 1000]", unf);
            if (!(o.epsilon >= 0 && o.epsilon <= 1)) ns_lua_errorf(L, "export_nir: epsilon = %g: in [0, 1]", o.epsilon);
            o.mode = (int)mode, o.activation = (int)act, o.implicit = (int)imp, o.unfolds = (unsigned)unf;
        }
        char err[1024];
        ns_lua_output_path(L, file, "export_nir", path, (int)sizeof path);
        if (ns_nir_write_cell(in, path, &o, err, sizeof err)) luaL_error(L, "export_nir: %s", err);
        lua_pushstring(L, path);
        return 1;
    }
    double dt = has_opts ? ns_lua_field_number(L, 3, "dt", 1.0, "export_nir") : 1.0;
    ns_lua_export_nir(L, in, file, dt, "export_nir", path, (int)sizeof path);
    lua_pushstring(L, path);
    return 1;
}

void ns_lua_open_nir(lua_State *L)
{
    lua_pushcfunction(L, l_export_nir);
    lua_setfield(L, -2, "export_nir");
    luaL_getmetatable(L, NS_LUA_NET_MT);
    lua_getfield(L, -1, "methods");
    lua_pushcfunction(L, l_load_nir);
    lua_setfield(L, -2, "load_nir");
    lua_pop(L, 2);
}
