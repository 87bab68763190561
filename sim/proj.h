/* sim/proj.h — reading and changing a made projection's synapses: their delays beside
 * ns_net_weights's pre, post and weights (same order), and new weights for a static projection.
 * For the Lua projection handles (lua/lua_proj.c) and PyNN's Projection.get / set. */
#ifndef NS_PROJ_H
#define NS_PROJ_H

#include <stddef.h>
#include <stdint.h>

#include "sim/net.h"

/* Projection k's synapses (k as in ns_net_weights: 0 .. ns_net_n_projections - 1) in the order of
 * ns_net_weights (by pre, then post, synapses of one pair in the order made): source and target
 * units (0-based within their populations) and each delay in ms (whole steps times dt). Arrays of
 * ns_net_projection_synapses entries, any may be NULL. 0, or NS_EINVAL (k out of range, or a
 * graded projection) / NS_ENOMEM. */
int ns_net_projection_delays(const ns_net *net, int k, uint32_t *pre, uint32_t *post, double *delay_ms);

/* Give static spike projection k new weights, w[s] for synapse s in the order above, in the
 * target's weight unit (a negative weight goes to the inhibitory receptor, as when made); stored
 * as floats, as made ones are. Spikes sent from then on carry them. n must be the projection's
 * synapse count. NS_EINVAL with a message for a plastic or graded projection, a wrong count or a
 * weight that is not finite (naming the synapse); NS_ENOMEM. Nothing changes on error. */
int ns_net_set_weights(ns_net *net, int k, const double *w, size_t n);

#endif
