/* sim/transport.c — the in-process transport (see transport.h): one rank; a window's exchange is
 * the merge of each population's per-thread spike buffers into its sorted window list. */
#include "sim/transport.h"

#include "sim/net_types.h"

#include <stdlib.h>
#include <string.h>

static int local_exchange(ns_transport *t, ns_net *net, int nsteps, int rc)
{
    (void)t;
    if (rc) return rc;
    for (int k = 0; k < net->npops; k++) {
        ns_pop *pop = net->pops[k];
        size_t emitted = 0;
        for (int th = 0; th < net->threads; th++) emitted += pop->tout[th].n;
        ns_pop_merge(net, pop, nsteps);
        if (pop->win.n != emitted) return ns_error(net->ctx, NS_ENOMEM, "out of memory for spikes of %s", pop->name);
    }
    return NS_OK;
}

static int local_agree(ns_transport *t, ns_ctx *ctx, int rc, int *stop)
{
    (void)t, (void)ctx, (void)stop;
    return rc;
}

static int local_reduce(ns_transport *t, ns_ctx *ctx, int64_t *v, int n, int op)
{
    (void)t, (void)ctx, (void)v, (void)n, (void)op;
    return 0;
}

static int local_share(ns_transport *t, ns_net *net, int pop, double *x, int rows)
{
    (void)t, (void)net, (void)pop, (void)x, (void)rows;
    return NS_OK;
}

static int local_gather(ns_transport *t, ns_ctx *ctx, const void *buf, size_t len, unsigned char **all, size_t *lens)
{
    (void)t;
    *all = malloc(len + 1);
    if (!*all) return ns_error(ctx, NS_ENOMEM, "out of memory");
    if (len) memcpy(*all, buf, len);
    lens[0] = len;
    return NS_OK;
}

static void local_free(ns_transport *t) { free(t); }

ns_transport *ns_transport_local(void)
{
    ns_transport *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    *t = (ns_transport){.name = "local", .rank = 0, .nranks = 1, .exchange = local_exchange,
                        .agree = local_agree, .reduce = local_reduce, .share = local_share, .gather = local_gather, .free = local_free};
    return t;
}

void ns_transport_free(ns_transport *t)
{
    if (t) t->free(t);
}
