/* sim/lua_api.h — running a Lua 5.4 simulation script: the `nsim` table (network, populations,
 * connections, devices, recorders, parameters, rasters) and what a run leaves for run.json. */
#ifndef NS_LUA_API_H
#define NS_LUA_API_H

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
    char solvers[4096];      /* run.json's "solvers" members: ODE populations' counters */
    int run_failed;          /* 1 when the error came after something was simulated (exit status 1) */
    int simulated;           /* 1 once a network advanced or a training epoch finished: from then
                              * on what the run recorded is kept whatever fails */
    int interrupted;         /* 1 when a stop was asked for (ns_ctx_set_stop_flag) and honoured */
    /* called once, just before the first simulation (net:run) starts; nonzero stops the script
     * as bad input with the message on the context. NULL: nothing to call. */
    int (*before_first_run)(struct ns_script *s);
    char errmsg[1200];       /* "FILE:LINE: what is wrong" */
} ns_script;

/* Run s->script. Returns 0, or nonzero with s->errmsg set and s->run_failed telling whether the
 * failure came once something had been simulated (status 1: keep the records) or from the
 * input before that (status 2: discard them); s->interrupted says a stop request ended it. */
int ns_script_run(ns_script *s);

#endif
