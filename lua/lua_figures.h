/* lua/lua_figures.h — the figure and analysis functions of the `nsim` table (raster, stats, psd,
 * figure, psth, sta, kuramoto, plot), which read a run's spike recorders. */
#ifndef NS_LUA_FIGURES_H
#define NS_LUA_FIGURES_H

#include <lua.h>

/* Add nsim.raster, stats, psd, figure, psth, sta, kuramoto and plot to the table on the top of
 * the stack. */
void ns_lua_open_figures(lua_State *L);

#endif
