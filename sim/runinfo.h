/* sim/runinfo.h — run.json: what a run was and what it did (version, seed, parameters, sizes,
 * spike count, build and simulate wall seconds, which network wrote each record), so an output
 * folder describes itself. */
#ifndef NS_RUNINFO_H
#define NS_RUNINFO_H

#include "sim/lua_api.h"

/* Write run.json into the context's output folder; status is "ok", "failed" or similar. */
int ns_runinfo_write(ns_ctx *ctx, const ns_script *s, const char *status, double wall_s);

/* What run.json beside a record (the path of a spikes.csv or other record) says of it: the path
 * of the populations file of the network that wrote it, and how long that network ran (ms). A
 * record it does not list gets the populations.csv beside it and the run's simulated_ms, or 0
 * when there is no run.json. */
void ns_runinfo_origin(const char *record, char *populations, size_t len, double *t_ms);

#endif
