/* sim/runinfo.h — run.json: what a run was and what it did (version, seed, parameters, sizes,
 * spike count, build and simulate wall seconds), so an output folder describes itself. */
#ifndef NS_RUNINFO_H
#define NS_RUNINFO_H

#include "sim/lua_api.h"

/* Write run.json into the context's output folder; status is "ok", "failed" or similar. */
int ns_runinfo_write(ns_ctx *ctx, const ns_script *s, const char *status, double wall_s);

#endif
