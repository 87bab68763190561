/* io/runinfo.h — run.json: what a run was and what it did (version, seed, parameters, sizes,
 * spike count, build and simulate wall seconds, which network wrote each record), so an output
 * folder describes itself; and the same facts as the PNG text chunks of nsim's figures. A run
 * is an ns_script: what the command gives the script runner (lua/) and what the run fills in. */
#ifndef NS_RUNINFO_H
#define NS_RUNINFO_H

#include <stddef.h>
#include <stdint.h>

#include "sim/ctx.h"

/* A --set NAME=VALUE from the command line; read marks it used by nsim.param. */
typedef struct {
    const char *name;
    const char *value;
    int read;
} ns_setting;

/* A parameter as the script read it (name and the value it used, as text). */
typedef struct {
    char name[64];
    char value[128];
} ns_param_used;

typedef struct ns_script {
    ns_ctx *ctx;
    const char *script;      /* path of the .lua file */
    ns_setting *settings;
    int nsettings;
    /* filled by the run */
    ns_param_used params[128];
    int nparams;
    int networks;
    size_t units, synapses, synapse_bytes;
    int64_t spikes;
    double dt, t_ms, build_s, simulate_s;
    int window_steps;
    double exchange_s;       /* MPI ranks: wall seconds in the window exchange (this rank's) */
    int64_t exchange_bytes, windows; /* bytes this rank sent in it, windows exchanged */
    char solvers[4096];      /* run.json's "solvers" members: ODE populations' counters */
    char sums[4096];         /* run.json's "sums" members: what each sum record saw ("POP.VAR") */
    int run_failed;          /* 1 when the error came after something was simulated (exit status 1) */
    int simulated;           /* 1 once a network advanced or a training epoch finished: from then
                              * on what the run recorded is kept whatever fails */
    int interrupted;         /* 1 when a stop was asked for (ns_ctx_set_stop_flag) and honoured */
    /* called once, just before the first simulation (net:run) starts; nonzero stops the script
     * as bad input with the message on the context. NULL: nothing to call. */
    int (*before_first_run)(struct ns_script *s);
    const char *resume;      /* nsim run --resume PATH: the checkpoint the script's first run starts
                              * from (lua/lua_api.c), or NULL; resumed says it was taken */
    int resumed;
    char errmsg[1200];       /* "FILE:LINE: what is wrong" */
} ns_script;


/* Write run.json into the context's output folder; status is "running" (written as the first
 * simulation starts), "ok", "failed" or "interrupted". Other than "ok" and "running" it carries
 * s->errmsg as "error"; "previous_run" names where an earlier run in the folder was moved. */
int ns_runinfo_write(ns_ctx *ctx, const ns_script *s, const char *status, double wall_s);

/* s as the inside of a JSON string (quotes, backslashes and control characters escaped), into out
 * (len bytes, cut short rather than overflowing). For the pre-formatted run.json members (solvers,
 * sums) that carry population and file names. */
void ns_runinfo_escape(const char *s, char *out, size_t len);

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
