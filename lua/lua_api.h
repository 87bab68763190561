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

/* Make the nsim table, its metatables and the script's registry key in a Lua state the caller
 * made (ns_script_run's set-up without the run: for a caller with its own allocator and hooks,
 * as the fuzzing harness fuzz/fuzz_lua_values.c). */
struct lua_State;
void ns_script_open(struct lua_State *L, ns_script *s);

#endif
