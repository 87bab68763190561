/* lua/lua_phase.h — the phase analysis and segmentation functions of the `nsim` table: synthetic
 * shape images, image and mask files, clustering of phases, ARI and FG-ARI, order parameters per
 * group, the phase raster and the phase map. */
#ifndef NS_LUA_PHASE_H
#define NS_LUA_PHASE_H

#include <lua.h>

/* Add nsim.shapes, read_image, read_mask, write_image, write_mask, cluster_phases, ari, fg_ari,
 * order_parameter, phase_raster and phase_map to the table on the top of the stack. */
void ns_lua_open_phase(lua_State *L);

#endif
