/* sim/device.c — stimulation devices: Poisson trains (independent per target unit, drawn from
 * (seed, device, step, unit) so any thread count gives the same input) and piecewise-constant
 * currents. Each writes its input for the window into the targets' ring buffers before the
 * targets step; a thread touches only its own units. */
#include "sim/net_types.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Poisson counts by inversion against a table of cumulative probabilities in units of 2^-32:
 * a raw draw x gives k = #{j : x >= thr[j]}, the count whose cell (x + 0.5) / 2^32 falls in. */
enum { POISSON_TABLE = 1024 }; /* enough for lambda <= 500 per step, the limit net.c sets */

static int poisson_table(double lambda, uint64_t thr[POISSON_TABLE])
{
    double p = exp(-lambda), cdf = p;
    int n = 0;
    while (n < POISSON_TABLE) {
        uint64_t t = (uint64_t)(cdf * 4294967296.0);
        if (t >= 0xFFFFFFFFu) break; /* no 32-bit draw passes it (but the very last, 2^-32) */
        thr[n++] = t;
        p *= lambda / n;
        cdf += p;
    }
    return n;
}

int ns_device_plan_poisson(ns_device *dev, double dt_ms)
{
    uint64_t thr[POISSON_TABLE];
    int n = poisson_table(dev->rate_hz * dt_ms * 1e-3, thr);
    free(dev->thr);
    if (!(dev->thr = malloc((size_t)(n ? n : 1) * sizeof *dev->thr))) return -1;
    memcpy(dev->thr, thr, (size_t)n * sizeof *thr);
    dev->nthr = n;
    return 0;
}

/* Units handled at a time: their draws come from one vectorized Philox fill. */
enum { POISSON_CHUNK = 256 };

static void inject_poisson(ns_net *net, const ns_device *dev, int tid, int nsteps)
{
    ns_pop *t = dev->tgt;
    const size_t n = t->n;
    size_t lo, hi;
    if (ns_partition_range(&t->part, tid, &lo, &hi) < 0) return;
    const int r = ns_model_event_port(t->model, dev->weight);
    const double w = dev->weight;
    const uint64_t seed = ns_ctx_seed(net->ctx);
    const uint64_t *thr = dev->thr;
    const int nthr = dev->nthr;
    uint32_t x[POISSON_CHUNK + 8];
    for (int k = 0; k < nsteps; k++) {
        int64_t s = net->step + k;
        if (s < dev->start || s >= dev->stop) continue;
        double *buf = t->input[r] + (size_t)(s % (int64_t)t->ring_len) * n;
        for (size_t c = lo; c < hi; c += POISSON_CHUNK) {
            size_t e = c + POISSON_CHUNK < hi ? c + POISSON_CHUNK : hi;
            /* unit i draws element i % 4 of counter (device, step, i / 4), whatever the chunking */
            size_t g0 = c / 4, g1 = (e + 3) / 4;
            ns_rng_fill_u32(seed, NS_STREAM_DEVICE, (uint32_t)dev->id, (uint32_t)s, (uint32_t)g0, g1 - g0, x);
            const uint32_t *xi = x - 4 * g0;
            if (nthr <= 32) { /* count the thresholds passed, one threshold at a time over the chunk */
                uint32_t cnt[POISSON_CHUNK] = {0};
                for (int j = 0; j < nthr; j++) {
                    const uint32_t tj = (uint32_t)thr[j];
                    for (size_t i = c; i < e; i++) cnt[i - c] += xi[i] >= tj;
                }
                for (size_t i = c; i < e; i++) buf[i] += cnt[i - c] * w;
            } else {
                for (size_t i = c; i < e; i++) { /* first j with thr[j] > v */
                    uint64_t v = xi[i];
                    int l = 0, h = nthr;
                    while (l < h) {
                        int mid = (l + h) / 2;
                        if (v >= thr[mid]) l = mid + 1;
                        else h = mid;
                    }
                    buf[i] += l * w;
                }
            }
        }
    }
}

/* The last change at or before step s, searching on from change at (-1: none yet). */
static int change_at(const ns_device *dev, int64_t s, int at)
{
    while (at + 1 < dev->n && dev->steps[at + 1] <= s) at++;
    return at;
}

static void inject_current(ns_net *net, const ns_device *dev, int tid, int nsteps)
{
    ns_pop *t = dev->tgt;
    const size_t n = t->n;
    size_t lo, hi;
    if (ns_partition_range(&t->part, tid, &lo, &hi) < 0) return;
    int at = -1;
    for (int k = 0; k < nsteps; k++) {
        int64_t s = net->step + k;
        at = change_at(dev, s, at);
        double amp = at >= 0 ? dev->amps[at] : 0.0;
        if (amp == 0.0) continue;
        double *buf = t->input[ns_model_current_port(t->model)] + (size_t)(s % (int64_t)t->ring_len) * n;
        for (size_t i = lo; i < hi; i++) buf[i] += amp;
    }
}

/* Sample and hold into the target's channel ring (continuous populations run on one thread);
 * the population's step clears the slots it consumed. */
static void inject_signal(ns_net *net, const ns_device *dev, int nsteps)
{
    ns_pop *t = dev->tgt;
    const size_t ch = (size_t)dev->channels, tc = (size_t)t->n_channels, nc = ch < tc ? ch : tc;
    double *ring = t->input[ns_model_channel_port(t->model)];
    int at = -1;
    for (int k = 0; k < nsteps; k++) {
        int64_t s = net->step + k;
        at = change_at(dev, s, at);
        double *slot = ring + (size_t)(s % (int64_t)t->ring_len) * tc; /* the target's stride, should its
                                                                               channels have changed since */
        if (at >= 0) /* added: spikes projected onto the channels add to the held sample */
            for (size_t c = 0; c < nc; c++) slot[c] += dev->amps[(size_t)at * ch + c];
    }
}

void ns_device_inject(ns_net *net, const ns_device *dev, int tid, int nsteps)
{
    if (dev->kind == NS_DEV_POISSON) inject_poisson(net, dev, tid, nsteps);
    else if (dev->kind == NS_DEV_CURRENT) inject_current(net, dev, tid, nsteps);
    else if (dev->tgt->part.block_of_thread[tid] >= 0) inject_signal(net, dev, nsteps); /* its one thread */
}

void ns_device_delete(ns_device *dev)
{
    if (!dev) return;
    free(dev->steps);
    free(dev->amps);
    free(dev->thr);
    free(dev);
}
