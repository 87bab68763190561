/* sim/runinfo.h — run.json: what a run was and what it did (version, seed, parameters, sizes,
 * spike count, build and simulate wall seconds, which network wrote each record), so an output
 * folder describes itself; and the same facts as the PNG text chunks of nsim's figures. */
#ifndef NS_RUNINFO_H
#define NS_RUNINFO_H

#include "sim/lua_api.h"

/* Write run.json into the context's output folder; status is "running" (written as the first
 * simulation starts), "ok", "failed" or "interrupted". Other than "ok" and "running" it carries
 * s->errmsg as "error"; "previous_run" names where an earlier run in the folder was moved. */
int ns_runinfo_write(ns_ctx *ctx, const ns_script *s, const char *status, double wall_s);

/* What run.json beside a record (the path of a spikes.csv or other record) says of it: the path
 * of the populations file of the network that wrote it, and how long that network ran (ms). A
 * record it does not list gets the populations.csv beside it and the run's simulated_ms, or 0
 * when there is no run.json. */
void ns_runinfo_origin(const char *record, char *populations, size_t len, double *t_ms);

/* The PNG text chunks of a figure (keys[i] = vals[i], n of them), with the storage they point
 * into; "Software" = "nsim VERSION" is always among them. */
typedef struct {
    const char *keys[6];
    const char *vals[6];
    int n;
    char seed[32], dt[32], params[1024];
} ns_runinfo_text;

/* A figure drawn from a file (`nsim plot`): Software and Source. */
void ns_runinfo_text_source(ns_runinfo_text *t, const char *source);
/* A figure a script draws: Title (when not NULL), Software, Script, Seed, dt_ms (when dt_ms > 0)
 * and Parameters (the parameters it read, "name=value ..."). */
void ns_runinfo_text_script(ns_runinfo_text *t, const ns_script *s, const char *title, double dt_ms);

#endif
