/* lua/lua_nir.h — NIR from a script: net:load_nir(file, input, {T}) builds a NIR graph into a
 * network, nsim.export_nir(saved, file, {dt}) writes a network saved by nsim.train as NIR. */
#ifndef NS_LUA_NIR_H
#define NS_LUA_NIR_H

#include <lua.h>

/* Add nsim.export_nir to the nsim table on the top of the stack, and load_nir to the network
 * methods (the network metatable must exist). */
void ns_lua_open_nir(lua_State *L);

/* Write the network nsim.train saved at snn_path as file (a plain name in the output folder) with
 * time constants for a step of dt_ms; returns its full path in path. A Lua error "what: why". */
void ns_lua_export_nir(lua_State *L, const char *snn_path, const char *file, double dt_ms, const char *what,
                       char *path, int len);

#endif
