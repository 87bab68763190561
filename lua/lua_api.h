/* lua/lua_api.h — running a Lua 5.4 simulation script: the `nsim` table (network, populations,
 * connections, devices, recorders, parameters, rasters); what the run did goes into its
 * ns_script (io/runinfo.h), which run.json is written from. */
#ifndef NS_LUA_API_H
#define NS_LUA_API_H

#include "io/runinfo.h"

/* Run s->script. Returns 0, or nonzero with s->errmsg set and s->run_failed telling whether the
 * failure came once something had been simulated (status 1: keep the records) or from the
 * input before that (status 2: discard them); s->interrupted says a stop request ended it. */
int ns_script_run(ns_script *s);

#endif
