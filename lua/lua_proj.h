/* lua/lua_proj.h — the projection handles' methods that read and change synapses:
 * p:connections() and p:set_weights(list) (sim/proj.h). */
#ifndef NS_LUA_PROJ_H
#define NS_LUA_PROJ_H

#include <lua.h>

/* Give the projection metatable (made by ns_lua_open_plastic, which must run first) the methods
 * connections and set_weights; its other fields stay as they were. */
void ns_lua_open_proj(lua_State *L);

#endif
