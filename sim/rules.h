/* sim/rules.h — connection rules that use shapes and counts: lattice neighbourhoods, distance-
 * dependent probability, grid sites, a fixed total number, degrees without multapses. A rule
 * hands each synapse to a callback; its draws are a pure function of (seed, projection, unit),
 * so running it twice (count, then fill) or on any number of threads gives the same synapses. */
#ifndef NS_RULES_H
#define NS_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "sim/geometry.h"
#include "sim/net.h"

/* Uniforms in (0, 1) of one key (proj, b) of the connect stream, counter next = 0, 1, 2 ...,
 * four per Philox call: the draws of every connection rule (here and in sim/proj.c). */
typedef struct {
    uint64_t seed;
    uint32_t proj, b, next;
    double u[4];
} ns_rule_seq;

/* Restart q at key b, counter 0. */
static inline void ns_rule_seq_start(ns_rule_seq *q, uint32_t b)
{
    q->b = b;
    q->next = 0;
}

/* The next uniform in (0, 1) of q. */
static inline double ns_rule_seq_next(ns_rule_seq *q)
{
    if (q->next % 4 == 0) ns_rng_u01x4(q->seed, NS_STREAM_CONNECT, q->proj, q->b, q->next / 4, q->u);
    return q->u[q->next++ % 4];
}

/* One synapse pre -> post (0-based unit indices); (ka, kb) is unique within the projection and
 * keys the synapse's weight and delay draws. */
typedef void (*ns_rule_emit)(void *user, uint32_t pre, uint32_t post, uint32_t ka, uint32_t kb);

/* What a rule connects. */
typedef struct {
    const ns_conn_spec *spec;
    size_t n_src, n_tgt;                /* units */
    const ns_geom *src_geom, *tgt_geom; /* NULL: none */
    const char *src_name, *tgt_name;    /* for messages */
    int same;                           /* source and target are one population */
    uint64_t seed;                      /* the run's master seed */
    uint32_t proj;                      /* the projection's number: its random stream */
} ns_rule_job;

/* 1 when this module makes spec's synapses (its own rules, and fixed degrees with unique). */
int ns_rules_owns(const ns_conn_spec *spec);
/* Check a job's options against its populations before anything is built: NS_EINVAL with one
 * line naming the value and its allowed range. */
int ns_rules_check(ns_ctx *ctx, const ns_rule_job *job);
/* The synapses the job will make, or an upper estimate (for the memory check); *exact says which. */
double ns_rules_estimate(const ns_rule_job *job, int *exact);
/* Run a checked job: emit(user, ...) once per synapse, the same sequence every call. NS_OK, or
 * NS_ENOMEM with a message on ctx. */
int ns_rules_run(ns_ctx *ctx, const ns_rule_job *job, ns_rule_emit emit, void *user);
/* The rule's name as scripts give it. */
const char *ns_rules_name(ns_rule rule);

#endif
