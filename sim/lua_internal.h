/* sim/lua_internal.h — what the Lua binding files share: the script of a Lua state, argument
 * helpers that raise Lua errors (which Lua prefixes with the script's file and line), and the
 * spike recorders the figure functions read. Not for code outside sim/lua_*.c. */
#ifndef NS_LUA_INTERNAL_H
#define NS_LUA_INTERNAL_H

#include <lua.h>

#include "sim/lua_api.h"
#include "sim/net.h"

/* The running script. */
ns_script *ns_lua_script(lua_State *L);
/* Raise the context's last error message as a Lua error. */
int ns_lua_fail(lua_State *L);
/* Refuse keys of the table at idx that are not in allowed (NULL-terminated). */
void ns_lua_check_keys(lua_State *L, int idx, const char *const *allowed, const char *what);
/* Field key of the table at idx: a number (def when absent), a string (def when absent). */
double ns_lua_field_number(lua_State *L, int idx, const char *key, double def, const char *what);
const char *ns_lua_field_string(lua_State *L, int idx, const char *key, const char *def, const char *what);
/* The spike recorder at idx: its network, and its index in *k. */
ns_net *ns_lua_check_recorder(lua_State *L, int idx, int *k);

/* Add nsim.raster, nsim.stats, nsim.psd and nsim.figure to the table on the top of the stack. */
void ns_lua_open_figures(lua_State *L);
/* Add nsim.train and nsim.compare. */
void ns_lua_open_train(lua_State *L);

#endif
