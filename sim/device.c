/* sim/device.c — stimulation devices: Poisson trains (independent per target unit, drawn from
 * (seed, device, step, unit) so any thread count gives the same input) and piecewise-constant
 * currents. Each writes its input for the window into the targets' ring buffers before the
 * targets step; a thread touches only its own units. */
#include "sim/net_types.h"

#include <math.h>
#include <stdlib.h>

/* Poisson count by inversion, with exp(-lambda) computed once per device and window. */
static unsigned poisson_count(double lambda, double p0, double u)
{
    double p = p0, cdf = p0;
    unsigned k = 0;
    while (u > cdf && p > 0.0) {
        k++;
        p *= lambda / k;
        cdf += p;
    }
    return k;
}

static void inject_poisson(ns_net *net, const ns_device *dev, int tid, int nsteps)
{
    ns_pop *t = dev->tgt;
    const size_t n = t->n, lo = ns_part_lo(n, tid, net->threads), hi = ns_part_lo(n, tid + 1, net->threads);
    const int r = dev->weight < 0 ? t->model->neg_receptor : t->model->spike_receptor;
    const double lambda = dev->rate_hz * net->dt * 1e-3, p0 = exp(-lambda);
    const uint64_t seed = ns_ctx_seed(net->ctx);
    for (int k = 0; k < nsteps; k++) {
        int64_t s = net->step + k;
        if (s < dev->start || s >= dev->stop) continue;
        double *buf = t->input[r] + (size_t)(s % (int64_t)t->ring_len) * n;
        double u[4];
        for (size_t i = lo; i < hi; i++) {
            if (i == lo || i % 4 == 0)
                ns_rng_u01x4(seed, NS_STREAM_DEVICE, (uint32_t)dev->id, (uint32_t)s, (uint32_t)(i / 4), u);
            unsigned c = poisson_count(lambda, p0, u[i % 4]);
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
