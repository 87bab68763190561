/* sim/plastic.h — spike-timing-dependent plasticity on a projection between spiking populations:
 * the pair rule with traces (Song et al. 2000; NEST's stdp_synapse) and the triplet rule (Pfister &
 * Gerstner 2006; NEST's stdp_triplet_synapse), updated lazily at pre spikes as NEST does. */
#ifndef NS_PLASTIC_H
#define NS_PLASTIC_H

#include <stddef.h>
#include <stdint.h>

#include "sim/net.h"

typedef enum { NS_STDP_PAIR, NS_STDP_TRIPLET } ns_stdp_rule;

/* A plastic synapse model. Times in ms, weights in the target model's weight unit (pA for lif).
 * Pair (stdp): a post spike arriving at the synapse adds lambda (1 - w/Wmax)^mu_plus K+ to w/Wmax,
 * a pre spike subtracts alpha lambda (w/Wmax)^mu_minus K-, the result clipped to [0, 1] of Wmax;
 * K+ (pre, tau_plus) and K- (post, tau_minus) are all-to-all traces that jump by 1 at a spike.
 * Triplet (stdp_triplet): |w| += r1 (Aplus + Aplus_triplet o2) at a post arrival, |w| -=
 * o1 (Aminus + Aminus_triplet r2) at a pre spike, clipped to [0, |Wmax|]; r1, r2 pre traces
 * (tau_plus, tau_plus_triplet), o1, o2 post traces (tau_minus, tau_minus_triplet), o2 and r2 taken
 * just before their own unit's spike. Unlike NEST, where tau_minus and tau_minus_triplet belong to
 * the postsynaptic neuron, they belong here to the synapse model (to the projection). */
typedef struct ns_stdp {
    ns_stdp_rule rule;
    double tau_plus, tau_minus;                 /* ms, > 0 */
    double lambda, alpha, mu_plus, mu_minus;    /* pair: each >= 0 */
    double tau_plus_triplet, tau_minus_triplet; /* triplet: tau_x, tau_y (ms, > 0) */
    double a_plus, a_minus, a_plus_triplet, a_minus_triplet; /* triplet: A2+, A2-, A3+, A3- (>= 0) */
    double wmax;                                /* nonzero; every weight has its sign, |w| <= |Wmax| */
} ns_stdp;

/* NEST's defaults for the rule (pair: tau_plus 20, lambda 0.01, alpha 1, mu_plus = mu_minus = 1,
 * Wmax 100, tau_minus 20; triplet: tau_plus 16.8, tau_plus_triplet 101, Aplus 5e-10, Aminus 7e-3,
 * Aplus_triplet 6.2e-3, Aminus_triplet 2.3e-4, Wmax 100, tau_minus 20, tau_minus_triplet 110). */
void ns_stdp_defaults(ns_stdp *s, ns_stdp_rule rule);
/* Set parameter `name` (the NEST names: tau_plus, tau_minus, lambda, alpha, mu_plus, mu_minus, Wmax;
 * triplet: tau_plus_triplet, tau_minus_triplet, Aplus, Aminus, Aplus_triplet, Aminus_triplet).
 * 0, or -1 when the rule has no such parameter. */
int ns_stdp_set(ns_stdp *s, const char *name, double value);
/* The parameter names of a rule, comma separated (for messages). */
const char *ns_stdp_names(ns_stdp_rule rule);
/* Check the ranges; NS_EINVAL with a message naming the value and its range. */
int ns_stdp_check(ns_ctx *ctx, const ns_stdp *s);

/* The projections of a network, k = 0 .. n - 1 in the order they were made (one per target of a
 * script's connect): synapses, and whether it is plastic. */
int ns_net_n_projections(const ns_net *net);
size_t ns_net_projection_synapses(const ns_net *net, int k);
int ns_net_projection_plastic(const ns_net *net, int k);

/* Projection k's synapses in the order of the weight files: by pre, then post (unit indices,
 * 0-based within source and target), synapses of one pair in the order they were made; each
 * weight as of now, every pairing whose spikes both reached the synapse by now applied (see
 * docs/guide.md). Arrays of ns_net_projection_synapses entries, any may be NULL. 0, or NS_EINVAL
 * (k out of range) / NS_ENOMEM. */
int ns_net_weights(const ns_net *net, int k, uint32_t *pre, uint32_t *post, double *w);

/* Record the weights of plastic projection k: `file` gets "t_ms,synapse,pre,post,weight" every
 * interval_ms (a positive multiple of dt) for the sample (synapse numbers of the order above, 0-based;
 * or, with syn NULL, n_sample of them spread evenly: synapse floor(s N / n_sample) for s = 0 ..
 * n_sample - 1, all when n_sample >= N), from t = 0; `matrix` gets "synapse,pre,post,weight" for
 * every synapse at the end of each run (rewritten). Both are listed in run.json. */
int ns_net_record_weights(ns_net *net, int k, const size_t *syn, size_t n_sample, double interval_ms,
                          const char *file, const char *matrix);

#endif
