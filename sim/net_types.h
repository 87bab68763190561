/* sim/net_types.h — the engine's internal structures, shared by net.c, pop.c, proj.c, device.c
 * and record.c. Not a public header: scripts and tests go through net.h. */
#ifndef NS_NET_TYPES_H
#define NS_NET_TYPES_H

#include <stdio.h>

#include "sim/net.h"

struct ns_pop {
    int id;
    char name[64];
    const ns_model *model;
    size_t n;
    size_t first_id;
    void *params, *consts;
    void *data;          /* model-private (spike lists of a source) */
    double **state;      /* n_state arrays of n */
    double **input;      /* n_receptors ring buffers of ring_len * n, allocated at the first run */
    size_t ring_len;
    ns_spikebuf *tout;   /* one buffer per thread */
    ns_spikebuf win;     /* this window's spikes, sorted by (step, unit) */
    size_t *step_count;  /* scratch for the merge, window + 1 */
    int64_t n_spikes;
    int has_current;     /* a current device drives it */
    int sparse;          /* spikes arrive as event lists (ev) rather than dense rows */
    int lag;             /* with sparse input: steps an event may come late (model's sparse_lag) */
    ns_events **ev;      /* per thread: ring_len lists */
    ns_solver_opts solver; /* ODE populations: method and tolerances; cells: weights */
    double *signal;      /* continuous populations: ring_len x n_channels input values */
    double *graded;      /* window x n outputs, when a graded projection leaves the population */
    int n_channels;
    /* Per-unit parameters (ns_pop_set_param_array), else NULL and n_runs 0: every unit's
     * parameter struct, and the maximal runs of units with equal ones, each stepped with its own
     * parameters and derived constants. */
    unsigned char *unit_params;   /* n x params_size */
    size_t n_runs;
    size_t *run_lo;               /* n_runs + 1: run r is units [run_lo[r], run_lo[r + 1]) */
    unsigned char *run_params, *run_consts; /* n_runs x params_size, n_runs x consts_size (or
                                               NULL: unit_consts serve) */
    void *unit_consts;            /* the model's init_units, when it has one */
    ns_geom *geom;       /* where the units are (sim/geometry.h), or NULL */
    char err[512];       /* a step hook's failure message */
};

/* Connections from one source population into one thread's block of target units. */
typedef struct {
    size_t *row;   /* nsrc + 1 offsets */
    uint32_t *tgt; /* target unit index */
    float *w;
    uint16_t *d;   /* delay in steps, or NULL when the projection's delay is constant */
} ns_csr;

typedef struct {
    int id;
    ns_pop *src, *tgt;
    ns_conn_spec spec;
    int delay_const;    /* steps, when spec.delay is a constant */
    int dmin, dmax;     /* steps */
    ns_csr *block;      /* one per thread */
    size_t n_syn;
    size_t tgt_n;       /* targets: the units, or a continuous population's input channels */
    double *gw;         /* a graded projection's weights, else NULL: tgt_n x src n, row-major, from a
                           source with graded output; src n x tgt_n (a row per source unit) from a
                           spiking one, whose output is 1 in the steps it spikes */
    int tgt_blocks;     /* threads whose blocks hold targets: 1 for a population of one system */
} ns_proj;

typedef enum { NS_DEV_POISSON, NS_DEV_CURRENT, NS_DEV_SIGNAL } ns_dev_kind;

typedef struct {
    int id;
    ns_dev_kind kind;
    ns_pop *tgt;
    double rate_hz, weight;  /* poisson */
    int64_t start, stop;     /* poisson: active steps [start, stop) */
    uint64_t *thr;           /* poisson: the count table for rate and dt, built once */
    int nthr;
    int n;                   /* current, signal: changes */
    int64_t *steps;          /* current, signal: step from which amps[k] (values[k]) holds */
    double *amps;            /* current: pA; signal: n x channels values */
    int channels;            /* signal */
} ns_device;

typedef enum { NS_REC_SPIKES, NS_REC_STATE, NS_REC_RATE } ns_rec_kind;

typedef struct {
    ns_rec_kind kind;
    char file[256];
    char path[4096];
    FILE *fp;
    ns_pop **pops;
    int npops;
    /* state */
    int *vars;
    int nvars;
    size_t *units;           /* unit indices, each inside population unit_pop[k] */
    int *unit_pop;           /* per unit: its population's index in pops */
    size_t nunits;
    int64_t interval;        /* steps */
    /* rate */
    int64_t bin;             /* steps */
    int64_t cur_bin;
    int64_t *counts;
    /* the stdio buffer (record.c): lines go in whole, so a flush never splits one */
    char *iobuf;
    size_t pending;          /* bytes put since this file's last flush by record.c, an upper bound */
} ns_recorder;

struct ns_net {
    ns_ctx *ctx;
    double dt;
    int threads;
    int64_t step;            /* steps done */
    int finalized;
    ns_pop **pops;
    int npops;
    size_t n_units;
    ns_proj **projs;
    int nprojs;
    ns_device **devs;
    int ndevs;
    ns_recorder **recs;
    int nrecs;
    int window;              /* d_min in steps */
    int window_now;          /* steps of the window being run */
    int dmax;
    size_t ring_len;
    int time_decimals;       /* digits after the point of t_ms in records */
    int64_t time_tick;       /* dt in units of 10^-time_decimals ms */
    double build_s, simulate_s;
    double last_flush;
    int input_mode;          /* NS_INPUT_AUTO, _DENSE or _SPARSE */
    int ordinal;             /* 0 for the context's first network: names its populations file */
};

/* The unit range [lo, hi) that thread t of T owns in a population of n. */
static inline size_t ns_part_lo(size_t n, int t, int T) { return n * (size_t)t / (size_t)T; }

/* pop.c */
ns_pop *ns_pop_new(ns_net *net, const ns_model *m, size_t n, const char *name);
void ns_pop_delete(ns_pop *pop, int threads);
int ns_pop_finalize(ns_net *net, ns_pop *pop);
int ns_pop_step(ns_net *net, ns_pop *pop, int tid, int nsteps); /* nsteps 0: apply late events */
void ns_pop_sync(ns_net *net, ns_pop *pop, int into_model);
void ns_pop_merge(ns_net *net, ns_pop *pop, int nsteps);

/* proj.c */
int ns_proj_build(ns_net *net, ns_proj *pr);
void ns_proj_delete(ns_proj *pr, int threads);
int ns_proj_deliver(ns_net *net, const ns_proj *pr, int tid); /* -1: out of memory */

/* device.c */
/* Build a Poisson device's count table for its rate at step dt_ms; 0, or -1 out of memory. */
int ns_device_plan_poisson(ns_device *dev, double dt_ms);
void ns_device_inject(ns_net *net, const ns_device *dev, int tid, int nsteps);
void ns_device_delete(ns_device *dev);

/* record.c */
int ns_recorder_open(ns_net *net, ns_recorder *rec);
int ns_recorder_window(ns_net *net, ns_recorder *rec, int nsteps);
void ns_recorder_close(ns_recorder *rec);

#endif
