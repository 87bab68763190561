/* sim/net_types.h — the engine's internal structures, shared by net.c, pop.c, proj.c, device.c
 * and record.c. Not a public header: scripts and tests go through net.h. */
#ifndef NS_NET_TYPES_H
#define NS_NET_TYPES_H

#include <stdio.h>

#include "sim/net.h"
#include "sim/partition.h"
#include "sim/transport.h"

/* One synapse of a held projection's table whose block's targets are below 65,536: its target
 * (relative to the block's first) and its weight, side by side in 6 bytes (ns_csr.syn16). */
typedef struct __attribute__((packed)) {
    uint16_t tgt;
    float w;
} ns_held_syn16;

/* Where a held projection's runs into one target block land (ns_proj.hsrc, one per block,
 * refreshed by each delivery): its table's synapses (syn16), or its targets (tgt) and weights (w,
 * or the one weight w0 when the table stores none), the block's first target (base: table targets
 * are relative to it) and the target's ports of weights >= 0 (pos) and < 0 (neg). */
typedef struct {
    const ns_held_syn16 *syn16;
    const uint32_t *tgt;
    const float *w;
    double w0;
    uint32_t base;
    int pos, neg;
} ns_held_src;

/* Synapses of one spike that arrive in one step (ns_pop.held): a run of n synapses from table
 * position j of src's table, whose delays are equal (rows with per-synapse delays are sorted by
 * delay). 16 bytes: the lists are written as spikes leave and read as they arrive. */
typedef struct {
    const ns_held_src *src;
    uint32_t j, n;
} ns_held_run;

typedef struct {
    ns_held_run *run;
    size_t n, cap;
} ns_held;

struct ns_pop {
    int id;
    char name[64];
    const ns_model *model;
    size_t n;
    size_t first_id;
    ns_partition part;   /* which thread steps which units */
    int team;            /* stepped by every thread at once, meeting at the model's barriers */
    void *params, *consts;
    void *data;          /* model-private (spike lists of a source) */
    double **state;      /* n_state arrays of n */
    double **input;      /* per input port a ring of ring_len x stride[port], allocated at the first run */
    size_t stride[NS_MAX_INPUTS]; /* values per step of each port: n, or a channel port's channels */
    unsigned driven;     /* bit r: a device or a projection writes the rows of input port r */
    size_t ring_len;     /* slots of the input rings: the net's, or for a population whose delayed
                            spikes all come held (ns_proj_held), the window's steps and a late one */
    ns_spikebuf *tout;   /* one buffer per thread */
    ns_spikebuf win;     /* this window's spikes, sorted by (step, unit) */
    size_t *step_count;  /* scratch for the merge, window + 1 */
    int64_t n_spikes;
    double busy_s;       /* split by ranks: seconds its thread spent on it in sampled windows */
    int precise_out;     /* its spikes carry offsets (a precise model, a spike_source driving one) */
    int sparse;          /* spikes arrive as event lists (ev) rather than dense rows */
    int lag;             /* with sparse input: steps an event may come late (model's sparse_lag) */
    ns_events **ev;      /* per thread: ring_len lists */
    /* Dense input: spikes of projections with per-synapse delays wait here as runs of their
     * rows, per block a list per ring slot, and enter the rows as their window starts; scattered
     * straight into the ring they would land anywhere in its ring_len rows, out of the caches,
     * where held they are added to the one row being stepped. NULL for sparse input. */
    ns_held **held;
    size_t held_len;     /* the held lists per block: a slot per step of the longest delay */
    ns_solver_opts solver; /* ODE populations: method and tolerances; cells: weights */
    double *graded;      /* window x width x n outputs, when a graded projection leaves the population */
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

/* The connection table of one projection into one block of the target's partition, by source
 * (CSR): what varies is stored per synapse, what does not is the projection's (a constant weight
 * and delay leave 4 bytes a synapse, the target index). */
typedef struct {
    size_t *row;   /* nsrc + 1 offsets */
    uint32_t *tgt; /* target index, relative to the block's first */
    float *w;      /* weights of a spike projection, or NULL when constant */
    double *wd;    /* weights of a graded projection (kept in double, as trained), else NULL */
    uint16_t *d;   /* delay in steps, or NULL when the projection's delay is constant or d8 holds it */
    uint8_t *d8;   /* the delays in one byte each, when every one is below 256 steps (the build
                      draws into d, then narrows it: 9 bytes a synapse with weights, not 10) */
    void *state;   /* per-synapse state of a plastic synapse model (traces, weights), none yet */
    /* A held projection's runs (ns_proj_held; made at the first run): row i's synapses of equal
     * delay, runs run_row[i] .. run_row[i + 1] - 1 in row order, run q run_len[q] synapses of
     * delay run_d[q] steps (a longer run is cut). A spike's runs are then read from 4 bytes a
     * run instead of its delays from a byte a synapse. NULL otherwise. */
    uint32_t *run_row;
    uint16_t *run_len, *run_d;
    /* A held table's targets and weights side by side in 6 bytes (ns_proj_make_runs packs so a
     * table that stores weights and whose targets are below 65,536, and frees tgt and w): a
     * run's synapses, read as its spike arrives at a place the caches cannot predict, are then
     * one stretch of memory instead of two (a run of 12 touches about 2.1 cache lines instead
     * of 3.4; bench/held_layout.c). NULL otherwise. */
    ns_held_syn16 *syn16;
} ns_csr;

/* Target of synapse j of table c (relative to its block's first unit). */
static inline uint32_t ns_csr_target(const ns_csr *c, size_t j) { return c->syn16 ? c->syn16[j].tgt : c->tgt[j]; }
/* 1 when table c stores a weight per synapse (in w or syn16). */
static inline int ns_csr_has_weights(const ns_csr *c) { return c->w || c->syn16; }
/* The weight of synapse j of table c, which stores them (ns_csr_has_weights); and setting it. */
static inline float ns_csr_weight(const ns_csr *c, size_t j) { return c->syn16 ? c->syn16[j].w : c->w[j]; }
static inline void ns_csr_set_weight(ns_csr *c, size_t j, float w)
{
    if (c->syn16) c->syn16[j].w = w;
    else c->w[j] = w;
}
/* 1 when table c stores a delay per synapse (in d or d8). */
static inline int ns_csr_has_delays(const ns_csr *c) { return c->d || c->d8; }
/* The delay in steps of synapse j of table c, which stores them (ns_csr_has_delays). */
static inline unsigned ns_csr_delay(const ns_csr *c, size_t j) { return c->d8 ? c->d8[j] : c->d[j]; }

typedef struct {
    int id;
    ns_pop *src, *tgt;
    ns_conn_spec spec;
    int delay_const;    /* steps, when spec.delay is a constant */
    int dmin, dmax;     /* steps */
    ns_csr *block;      /* one per thread */
    size_t n_syn;
    size_t tgt_n;       /* targets: the units, or a continuous population's input channels */
    int graded;         /* made by ns_net_connect_graded: weights in wd, every target of a block */
    int tgt_blocks;     /* blocks of the target's partition (the tables' count) */
    int port_pos, port_neg; /* the target's input ports of weights >= 0 and < 0 (equal for one
                               signed port, a continuous one for graded values or channels) */
    int src_comp, n_comp; /* graded: the source's output components [src_comp, src_comp + n_comp)
                             go into the target port's components 0 .. n_comp - 1 */
    struct ns_plastic *plastic; /* sim/plastic.c: the rule and its traces, NULL for a static projection */
    int held;                /* its spikes go through the target's held lists (ns_proj_held, set at
                                the first run) */
    ns_held_src *hsrc;       /* held: per target block, where its runs land */
} ns_proj;

typedef enum { NS_DEV_POISSON, NS_DEV_CURRENT, NS_DEV_SIGNAL, NS_DEV_AC, NS_DEV_NOISE } ns_dev_kind;

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
    /* ac: offset + amplitude sin(omega t + phase) pA, t the step's start in ms; noise: mean + std N
     * pA, N a standard normal drawn afresh every `every` steps; both active in steps [start, stop) */
    double amplitude, offset, omega, phase; /* ac: pA, pA, rad/ms, rad */
    double mean, std;        /* noise: pA */
    int64_t every;           /* noise: steps a value is held */
    uint32_t *units;         /* the target's units fed, sorted (ns_net_device_units), or NULL: all */
    size_t nunits;
} ns_device;

typedef enum { NS_REC_SPIKES, NS_REC_STATE, NS_REC_RATE, NS_REC_SUM, NS_REC_WEIGHT } ns_rec_kind;

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
    int64_t interval;        /* steps (a sum record's too) */
    /* rate */
    int64_t bin;             /* steps */
    int64_t cur_bin;
    int64_t *counts;
    /* sum (vars[k]: the variable of population k): per population the first and the last sum,
     * the largest relative deviation from the first; samples written, their first and last step */
    double *sum_first, *sum_last, *sum_dev;
    int64_t sum_samples, sum_step0, sum_step1;
    /* the stdio buffer (record.c): lines go in whole, so a flush never splits one */
    char *iobuf;
    size_t pending;          /* bytes put since this file's last flush by record.c, an upper bound */
    struct ns_wrec *wrec;    /* weight (sim/plastic.c): the projection, its sample and matrix file */
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
    size_t run_bytes;        /* the held projections' runs of one delay, over every rank (finalize) */
    int time_decimals;       /* digits after the point of t_ms in records */
    int64_t time_tick;       /* dt in units of 10^-time_decimals ms */
    double build_s, simulate_s;
    double last_flush;
    int input_mode;          /* NS_INPUT_AUTO, _DENSE or _SPARSE */
    size_t team_min;         /* a team model's population smaller than this is stepped whole */
    int split;               /* NS_SPLIT_UNITS or _POPULATIONS: how threads share plain populations */
    int rebalance_every;     /* windows between rebalancings of populations split by ranks (0: never) */
    int64_t windows;         /* windows run, over all runs */
    int64_t moves;           /* populations handed to another thread by rebalancing */
    int ordinal;             /* 0 for the context's first network: names its populations file */
    ns_transport *transport; /* the window's exchange point (in-process today) */
    struct ns_ckpt_hist *ckpt_hist; /* sim/checkpoint.c: the last windows' spikes still in flight */
};

/* net.c: make the network ready to run (its tables, rings, records) without running it; 0, or an
 * ns_status code with a message. Nothing happens a second time. */
int ns_net_prepare(ns_net *net);


/* pop.c */
ns_pop *ns_pop_new(ns_net *net, const ns_model *m, size_t n, const char *name);
void ns_pop_delete(ns_pop *pop, int threads);
int ns_pop_finalize(ns_net *net, ns_pop *pop);
int ns_pop_step(ns_net *net, ns_pop *pop, int tid, int nsteps); /* nsteps 0: apply late events */
void ns_pop_sync(ns_net *net, ns_pop *pop, int into_model);
void ns_pop_merge(ns_net *net, ns_pop *pop, int nsteps);

/* proj.c */
int ns_proj_build(ns_net *net, ns_proj *pr);
void ns_proj_delete(ns_proj *pr);
int ns_proj_deliver(ns_net *net, const ns_proj *pr, int tid); /* -1: out of memory */
/* Ask for the table lines ns_proj_deliver will read for this window's spikes of pr (thread tid's
 * block): stage 0 the row offsets, stage 1 (after stage 0 has had time) the rows themselves. */
void ns_proj_prefetch(const ns_proj *pr, int tid, int stage);
/* Make the runs of equal delay of a held projection's tables (ns_csr.run_row), and pack those
 * that store weights with targets below 65,536 (ns_csr.syn16); 0, or -1 when memory runs out.
 * Idempotent. */
int ns_proj_make_runs(ns_proj *pr);
/* 1 when pr's spikes reach a dense target through its held lists (ns_pop.held), not its rings. */
int ns_proj_held(const ns_proj *pr);
/* Bytes of the runs of one delay (ns_proj_make_runs) of the tables this rank counts towards the
 * projection's total: its own blocks, or on rank 0 those every rank keeps. */
size_t ns_proj_run_bytes(const ns_proj *pr);

/* device.c */
/* Build a Poisson device's count table for its rate at step dt_ms; 0, or -1 out of memory. */
int ns_device_plan_poisson(ns_device *dev, double dt_ms);
void ns_device_inject(ns_net *net, const ns_device *dev, int tid, int nsteps);
void ns_device_delete(ns_device *dev);
/* net.c, for device.c: add dev to the network (0, or an ns_status code with a message: after the
 * first run, out of memory); the steps of a time in ms as devices count them (-1 when negative,
 * not finite or beyond the step counter); the longest such time. */
int ns_net_device_add(ns_net *net, ns_device *dev);
int64_t ns_net_time_steps(const ns_net *net, double t_ms);
double ns_net_max_ms(const ns_net *net);

/* plastic.c (sim/plastic.h has the public part) */
/* Make pr plastic with rule s after its table was built (weights stored per synapse): checks the
 * weights' sign and size against Wmax; 0, or an ns_status code with a message. */
int ns_plastic_new(ns_net *net, ns_proj *pr, const struct ns_stdp *s);
void ns_plastic_free(struct ns_plastic *pl);
/* Block b of a plastic projection at delivery: the window's spikes of its targets into their
 * history, stale pending updates applied, history no longer needed dropped. 0, or -1 out of memory. */
int ns_plastic_window(const ns_net *net, const ns_proj *pr, int b);
/* Source unit i spiked with time stamp `stamp` (steps: the end of its step): update its synapses
 * of block b before the spike is delivered with their new weights. */
void ns_plastic_pre(const ns_proj *pr, int b, uint32_t i, int64_t stamp);
/* Weight records: open (the header and the sample's places; 0 or an ns_status code with a
 * message), a sample at the window's start, the end of a run (the last sample and the matrix
 * file, written beside and renamed; 0 or an ns_status code with a message), free. */
int ns_plastic_rec_open(ns_net *net, ns_recorder *rec);
void ns_plastic_rec_window(ns_net *net, ns_recorder *rec);
int ns_plastic_rec_end(ns_net *net, ns_recorder *rec);
void ns_plastic_rec_free(struct ns_wrec *w);
/* 1 when weight record w (NULL: none) writes `file` as its matrix. */
int ns_plastic_rec_writes(const struct ns_wrec *w, const char *file);

/* net.c: a recorder of kind for pops writing file (checks the name), added to the network */
ns_recorder *ns_recorder_new(ns_net *net, ns_rec_kind kind, ns_pop *const *pops, int n, const char *file);
/* net.c: steps for t_ms when it is a whole number of steps (else -1) */
int64_t ns_net_steps_of(const ns_net *net, double t_ms);

/* record.c */
int ns_recorder_open(ns_net *net, ns_recorder *rec);
int ns_recorder_window(ns_net *net, ns_recorder *rec, int nsteps);
void ns_recorder_close(ns_recorder *rec);
/* Put one whole line (ending in a newline) into a record's file (lines are never split on disk). */
void ns_recorder_emit(ns_recorder *rec, const char *line, size_t len);
/* Write step x dt (ms, as records print times: the start of step `step`, the end of step - 1) at
 * p; returns the end of what it wrote. */
char *ns_recorder_put_time(char *p, const ns_net *net, int64_t step);

#endif
