/* sim/device.c — stimulation devices: Poisson trains (independent per target unit, drawn from
 * (seed, device, step, unit) so any thread count gives the same input) and piecewise-constant
 * currents. Each writes its input for the window into the targets' ring buffers before the
 * targets step; a thread touches only its own units. */
#include "sim/net_types.h"

#include <math.h>
#include <stdlib.h>

/* Poisson counts by inversion against a table of cumulative probabilities in units of 2^-32:
 * a raw draw x gives k = #{j : x >= thr[j]}, the count whose cell (x + 0.5) / 2^32 falls in. */
enum { POISSON_TABLE = 1024 }; /* enough for lambda <= 500 per step, the limit net.c sets */

static int poisson_table(double lambda, uint64_t thr[POISSON_TABLE])
{
    double p = exp(-lambda), cdf = p;
    int n = 0;
    while (n < POISSON_TABLE && cdf < 1.0 - 1e-12) {
        thr[n++] = (uint64_t)(cdf * 4294967296.0);
        p *= lambda / (n);
        cdf += p;
    }
    return n;
}

static void inject_poisson(ns_net *net, const ns_device *dev, int tid, int nsteps)
{
    ns_pop *t = dev->tgt;
    const size_t n = t->n, lo = ns_part_lo(n, tid, net->threads), hi = ns_part_lo(n, tid + 1, net->threads);
    const int r = dev->weight < 0 ? t->model->neg_receptor : t->model->spike_receptor;
    const double lambda = dev->rate_hz * net->dt * 1e-3;
    const uint64_t seed = ns_ctx_seed(net->ctx);
    uint64_t thr[POISSON_TABLE];
    const int nthr = poisson_table(lambda, thr);
    for (int k = 0; k < nsteps; k++) {
        int64_t s = net->step + k;
        if (s < dev->start || s >= dev->stop) continue;
        double *buf = t->input[r] + (size_t)(s % (int64_t)t->ring_len) * n;
        uint32_t x[4];
        for (size_t i = lo; i < hi; i++) {
            if (i == lo || i % 4 == 0)
                ns_rng_u32x4(seed, NS_STREAM_DEVICE, (uint32_t)dev->id, (uint32_t)s, (uint32_t)(i / 4), x);
            uint64_t xi = x[i % 4];
            int c = 0;
            if (nthr <= 16) {
                while (c < nthr && xi >= thr[c]) c++;
            } else { /* first j with thr[j] > xi */
                int hi_j = nthr;
                while (c < hi_j) {
                    int mid = (c + hi_j) / 2;
                    if (xi >= thr[mid]) c = mid + 1;
                    else hi_j = mid;
                }
            }
            if (c) buf[i] += c * dev->weight;
        }
    }
}

static void inject_current(ns_net *net, const ns_device *dev, int tid, int nsteps)
{
    ns_pop *t = dev->tgt;
    const size_t n = t->n, lo = ns_part_lo(n, tid, net->threads), hi = ns_part_lo(n, tid + 1, net->threads);
    int at = -1; /* the last change at or before the step */
    while (at + 1 < dev->n && dev->steps[at + 1] <= net->step) at++;
    for (int k = 0; k < nsteps; k++) {
        int64_t s = net->step + k;
        while (at + 1 < dev->n && dev->steps[at + 1] <= s) at++;
        double amp = at >= 0 ? dev->amps[at] : 0.0;
        if (amp == 0.0) continue;
        double *buf = t->input[t->model->current_receptor] + (size_t)(s % (int64_t)t->ring_len) * n;
        for (size_t i = lo; i < hi; i++) buf[i] += amp;
    }
}

void ns_device_inject(ns_net *net, const ns_device *dev, int tid, int nsteps)
{
    if (dev->kind == NS_DEV_POISSON)
        inject_poisson(net, dev, tid, nsteps);
    else
        inject_current(net, dev, tid, nsteps);
}

void ns_device_delete(ns_device *dev)
{
    if (!dev) return;
    free(dev->steps);
    free(dev->amps);
    free(dev);
}
