/* lua/lua_figures.h — the figure and analysis functions of the `nsim` table (raster, stats, psd,
 * figure, psth, sta, kuramoto, plot), which read a run's spike recorders, and the lattice ones
 * (lattice_snapshot, lattice_frames, lattice_sheet, spacetime, lattice_psd, lattice_movie), which
 * read a lattice population's state record. */
#ifndef NS_LUA_FIGURES_H
#define NS_LUA_FIGURES_H

#include <lua.h>

/* Add nsim.raster, stats, psd, figure, psth, sta, kuramoto, plot, lattice_snapshot,
 * lattice_frames, lattice_sheet, spacetime, lattice_psd and lattice_movie to the table on the
 * top of the stack. */
void ns_lua_open_figures(lua_State *L);

#endif
