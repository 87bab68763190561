/* fuzz/checkpoint_net.h — the small network whose checkpoints fuzz_checkpoint reads and
 * make_seeds writes: lif_delta with per-synapse delays onto dense rows (spikes held in flight)
 * and Poisson drive, lif with one delay on event lists, an adex (an ODE population) fed through
 * its ring, a pair-STDP projection, and a spike record. The same function serves both, so the
 * seeds' fingerprint matches the harness's network and mutations reach the whole body. */
#ifndef NS_FUZZ_CHECKPOINT_NET_H
#define NS_FUZZ_CHECKPOINT_NET_H

#include <math.h>

#include "sim/ctx.h"
#include "sim/net.h"
#include "sim/plastic.h"

static inline ns_conn_spec fuzz_ckpt_spec(ns_rule rule, double w, double p, ns_dist d)
{
    ns_conn_spec s = {.rule = rule, .weight = {.kind = NS_DIST_CONST, .a = w}, .delay = d, .autapses = 1, .p = p, .K = 6};
    return s;
}

/* The network in a context writing into dir (seed 5, one thread), or NULL (the context freed). */
static inline ns_net *fuzz_checkpoint_net(const char *dir, ns_ctx **ctx_out)
{
    ns_ctx *ctx = ns_ctx_create();
    if (!ctx) return NULL;
    ns_net *net = NULL;
    ns_ctx_set_seed(ctx, 5);
    ns_ctx_set_threads(ctx, 1);
    if (ns_ctx_set_outdir(ctx, dir) || !(net = ns_net_create(ctx, 0.1))) goto fail;
    ns_pop *E = ns_net_add_population(net, "lif_delta", 40, "E");
    ns_pop *L = ns_net_add_population(net, "lif", 20, "L");
    ns_pop *A = ns_net_add_population(net, "adex", 4, "A");
    if (!E || !L || !A) goto fail;
    const char *ne[] = {"tau_m", "V_th", "V_reset", "E_L", "t_ref"};
    const double ve[] = {20, 20, 0, 0, 2};
    const char *ni[] = {"I_e"};
    const double vl[] = {400}, va[] = {600};
    ns_dist d1 = {.kind = NS_DIST_UNIFORM, .a = 0.5, .b = 3.0}, d0 = {.kind = NS_DIST_CONST, .a = 0.1},
            d2 = {.kind = NS_DIST_CONST, .a = 2.0};
    ns_conn_spec ee = fuzz_ckpt_spec(NS_RULE_FIXED_INDEGREE, 0.5, 0, d1),
                 ll = fuzz_ckpt_spec(NS_RULE_BERNOULLI, 20.0, 0.2, d0),
                 la = fuzz_ckpt_spec(NS_RULE_BERNOULLI, 50.0, 0.5, d2),
                 el = fuzz_ckpt_spec(NS_RULE_BERNOULLI, 30.0, 0.2, d1);
    ns_stdp stdp;
    ns_stdp_defaults(&stdp, NS_STDP_PAIR);
    el.synapse = &stdp; /* E -> L is plastic */
    if (ns_pop_set_params(net, E, ne, ve, 5) || ns_pop_set_params(net, L, ni, vl, 1) ||
        ns_pop_set_params(net, A, ni, va, 1) || ns_net_connect(net, E, E, &ee) || ns_net_connect(net, L, L, &ll) ||
        ns_net_connect(net, L, A, &la) || ns_net_connect(net, E, L, &el) ||
        ns_net_add_poisson(net, E, 8000.0, 0.5, 0.0, HUGE_VAL))
        goto fail;
    ns_pop *all[] = {E, L, A};
    if (ns_net_record_spikes(net, all, 3, "spikes.csv")) goto fail;
    *ctx_out = ctx;
    return net;
fail:
    ns_net_free(net);
    ns_ctx_free(ctx);
    return NULL;
}

#endif
