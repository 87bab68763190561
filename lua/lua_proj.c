/* lua/lua_proj.c — what a projection handle (net:connect's return) says about its synapses:
 * p:connections() gives every synapse's pre, post (0-based units), weight and delay (ms);
 * p:set_weights(list) gives a static projection new weights. Both in the order of weight files. */
#include "lua/lua_proj.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/lua_plastic.h"
#include "lua/lua_util.h"
#include "sim/proj.h"

#define PROJ_MT "nsim.projection"

/* A Lua list of n numbers from a C array. */
static void push_doubles(lua_State *L, const double *v, size_t n)
{
    lua_createtable(L, n < 0x7fffffff ? (int)n : 0, 0);
    for (size_t s = 0; s < n; s++) {
        lua_pushnumber(L, v[s]);
        lua_seti(L, -2, (lua_Integer)s + 1);
    }
}

static void push_units(lua_State *L, const uint32_t *v, size_t n)
{
    lua_createtable(L, n < 0x7fffffff ? (int)n : 0, 0);
    for (size_t s = 0; s < n; s++) {
        lua_pushinteger(L, (lua_Integer)v[s]);
        lua_seti(L, -2, (lua_Integer)s + 1);
    }
}

/* p:connections() -> {pre = {...}, post = {...}, weight = {...}, delay = {...}} */
static int l_connections(lua_State *L)
{
    int k;
    ns_net *net = ns_lua_check_projection(L, 1, &k);
    const size_t n = ns_net_projection_synapses(net, k), m = n ? n : 1;
    /* arrays owned by Lua userdata: an error frees them */
    uint32_t *ix = lua_newuserdatauv(L, 2 * m * sizeof *ix, 0);
    double *v = lua_newuserdatauv(L, 2 * m * sizeof *v, 0);
    if (ns_net_weights(net, k, NULL, NULL, v) || ns_net_projection_delays(net, k, ix, ix + m, v + m))
        return ns_lua_fail(L);
    lua_createtable(L, 0, 4);
    push_units(L, ix, n);
    lua_setfield(L, -2, "pre");
    push_units(L, ix + m, n);
    lua_setfield(L, -2, "post");
    push_doubles(L, v, n);
    lua_setfield(L, -2, "weight");
    push_doubles(L, v + m, n);
    lua_setfield(L, -2, "delay");
    return 1;
}

/* p:set_weights(list): one weight per synapse, in the order connections() gives them. */
static int l_set_weights(lua_State *L)
{
    int k;
    ns_net *net = ns_lua_check_projection(L, 1, &k);
    long n;
    const double *w = ns_lua_number_list(L, 2, &n, 0, "set_weights");
    if (ns_net_set_weights(net, k, w, (size_t)n)) return ns_lua_fail(L);
    return 0;
}

/* __index: the two methods, else what the metatable's earlier __index gives (its upvalue). */
static int l_index(lua_State *L)
{
    const char *key = lua_tostring(L, 2);
    if (key && !strcmp(key, "connections")) {
        lua_pushcfunction(L, l_connections);
        return 1;
    }
    if (key && !strcmp(key, "set_weights")) {
        lua_pushcfunction(L, l_set_weights);
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

void ns_lua_open_proj(lua_State *L)
{
    luaL_getmetatable(L, PROJ_MT);
    lua_getfield(L, -1, "__index");
    lua_pushcclosure(L, l_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}
