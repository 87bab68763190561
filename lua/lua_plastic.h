/* lua/lua_plastic.h — plasticity from Lua: nsim.stdp{...} and nsim.stdp_triplet{...} (synapse models
 * for net:connect's synapse option), the projections connect returns, and net:record_weights. */
#ifndef NS_LUA_PLASTIC_H
#define NS_LUA_PLASTIC_H

#include <lua.h>

#include "sim/plastic.h"

/* Add stdp and stdp_triplet to the nsim table on top of the stack, and make the projection
 * metatable. */
void ns_lua_open_plastic(lua_State *L);
/* connect's synapse option of the options table at idx: 0 when absent, else 1 with the model
 * read and checked into *s (a Lua error names the bad key or value). */
int ns_lua_read_synapse(lua_State *L, int idx, ns_stdp *s);
/* Push a handle of projection k of net, which keeps the network's userdata (at net_idx) alive. */
void ns_lua_push_projection(lua_State *L, int net_idx, ns_net *net, int k);
/* The projection handle at idx: its network and projection number into *k (a Lua error when the
 * value is not a projection handle). */
ns_net *ns_lua_check_projection(lua_State *L, int idx, int *k);
/* net:record_weights(proj, {file =, matrix =, sample =, interval =}). */
int ns_lua_record_weights(lua_State *L);

#endif
