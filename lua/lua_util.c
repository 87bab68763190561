/* lua/lua_util.c — the helpers every binding file shares (see lua_util.h): the running script,
 * option tables whose unknown keys are refused, typed fields, and Lua errors with C's printf
 * conversions. */
#include "lua/lua_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

/* The recorder at idx: its network and spike-recorder index (see lua_util.h). */
ns_net *ns_lua_check_recorder(lua_State *L, int idx, int *k)
{
    ns_lua_recorder *r = luaL_checkudata(L, idx, NS_LUA_RECORDER_MT);
    *k = r->k;
    return r->net;
}

ns_script *ns_lua_script(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, NS_LUA_SCRIPT_KEY);
    ns_script *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return s;
}

int ns_lua_fail(lua_State *L)
{
    return luaL_error(L, "%s", ns_ctx_errmsg(ns_lua_script(L)->ctx));
}

/* ---- argument helpers ---- */

/* Refuse keys of the table at idx that are not in allowed (NULL-terminated). */
void ns_lua_check_keys(lua_State *L, int idx, const char *const *allowed, const char *what)
{
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: keys must be names", what);
        const char *key = lua_tostring(L, -1);
        int ok = 0;
        for (int i = 0; allowed[i]; i++) ok |= strcmp(allowed[i], key) == 0;
        if (!ok) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int i = 0; allowed[i]; i++) {
                if (i) luaL_addstring(&b, ", ");
                luaL_addstring(&b, allowed[i]);
            }
            luaL_pushresult(&b);
            luaL_error(L, "%s: unknown option '%s' (known: %s)", what, key, lua_tostring(L, -1));
        }
    }
}

int ns_lua_options(lua_State *L, int idx, const char *const *allowed, const char *what)
{
    if (lua_isnoneornil(L, idx)) return 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    ns_lua_check_keys(L, idx, allowed, what);
    return 1;
}

double ns_lua_field_number(lua_State *L, int idx, const char *key, double def, const char *what)
{
    if (lua_isnoneornil(L, idx)) return def;
    lua_getfield(L, idx, key);
    double v = def;
    if (!lua_isnil(L, -1)) {
        if (!lua_isnumber(L, -1)) luaL_error(L, "%s: %s must be a number", what, key);
        v = lua_tonumber(L, -1);
        if (isnan(v)) luaL_error(L, "%s: %s is NaN", what, key);
    }
    lua_pop(L, 1);
    return v;
}

double ns_lua_field_whole(lua_State *L, int idx, const char *key, double def, double lo, double hi, const char *what)
{
    double v = ns_lua_field_number(L, idx, key, def, what);
    if (!(v >= lo && v <= hi && v == floor(v)))
        ns_lua_errorf(L, "%s: %s = %g is not a whole number in [%.0f, %.0f]", what, key, v, lo, hi);
    return v;
}

const char *ns_lua_field_string(lua_State *L, int idx, const char *key, const char *def, const char *what)
{
    if (lua_isnoneornil(L, idx)) return def;
    lua_getfield(L, idx, key);
    const char *v = def;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: %s must be a string", what, key);
        v = lua_tostring(L, -1); /* stays alive: the table holds it */
    }
    lua_pop(L, 1);
    return v;
}

int ns_lua_field_bool(lua_State *L, int idx, const char *key, int def)
{
    if (lua_isnoneornil(L, idx)) return def;
    lua_getfield(L, idx, key);
    int v = lua_isnil(L, -1) ? def : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

int ns_lua_enum_value(const ns_lua_enum *names, const char *name)
{
    for (int i = 0; names[i].name; i++)
        if (!strcmp(names[i].name, name)) return names[i].value;
    return -1;
}

int ns_lua_field_enum(lua_State *L, int idx, const char *key, const ns_lua_enum *names, int def, const char *verb,
                      const char *what)
{
    const char *s = ns_lua_field_string(L, idx, key, NULL, what);
    if (!s) return def;
    int v = ns_lua_enum_value(names, s);
    if (v >= 0) return v;
    int first[32], n = 0; /* the first name of each value */
    for (int i = 0; names[i].name && n < 32; i++) {
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= names[j].value == names[i].value;
        if (!seen) first[n++] = i;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int k = 0; k < n; k++) {
        if (k) luaL_addstring(&b, k == n - 1 ? " or " : ", ");
        luaL_addstring(&b, names[first[k]].name);
    }
    luaL_pushresult(&b);
    return luaL_error(L, "%s: %s %s %s, not '%s'", what, key, verb, lua_tostring(L, -1), s);
}

int ns_lua_errorf(lua_State *L, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return luaL_error(L, "%s", msg);
}


void ns_lua_output_path(lua_State *L, const char *file, const char *what, char *path, int len)
{
    if (ns_ctx_output_path(ns_lua_script(L)->ctx, file, path, len))
        luaL_error(L, "%s: %s", what, ns_ctx_errmsg(ns_lua_script(L)->ctx));
}

void ns_lua_push_numbers(lua_State *L, const double *v, long n, long stride)
{
    lua_createtable(L, n > 0 && n < 0x7fffffff ? (int)n : 0, 0);
    for (long i = 0; i < n; i++) {
        lua_pushnumber(L, v[i * stride]);
        lua_rawseti(L, -2, i + 1);
    }
}

void ns_lua_load_state(lua_State *L, const char *file, const char *var, ns_state_traces *st, const char *what)
{
    char path[4096], err[1024];
    if (strchr(file, '/')) luaL_error(L, "%s: '%s' must be a file of the output folder", what, file);
    snprintf(path, sizeof path, "%s/%s", ns_ctx_outdir(ns_lua_script(L)->ctx), file);
    if (ns_state_traces_load(st, path, var, err, sizeof err)) luaL_error(L, "%s: %s", what, err);
}

double *ns_lua_number_list(lua_State *L, int idx, long *n, int bools, const char *what)
{
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx)) ns_lua_errorf(L, "%s must be a list of numbers", what);
    *n = (long)luaL_len(L, idx);
    double *v = lua_newuserdatauv(L, (size_t)(*n ? *n : 1) * sizeof *v, 0);
    for (long i = 1; i <= *n; i++) {
        int t = lua_geti(L, idx, i);
        if (bools && t == LUA_TBOOLEAN) v[i - 1] = lua_toboolean(L, -1);
        else if (t == LUA_TNUMBER) v[i - 1] = lua_tonumber(L, -1);
        else ns_lua_errorf(L, "%s: item %ld is a %s, not a number", what, i, luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    return v;
}
