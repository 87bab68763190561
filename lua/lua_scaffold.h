/* lua/lua_scaffold.h — the S2-Net bindings: nsim.scaffold (a pixel grid from an image, or an
 * adjacency CSV) and nsim.s2net (neurons and phase units over a scaffold). */
#ifndef NS_LUA_SCAFFOLD_H
#define NS_LUA_SCAFFOLD_H

#include <lua.h>

/* Add scaffold and s2net to the nsim table on top of the stack. */
void ns_lua_open_scaffold(lua_State *L);

#endif
