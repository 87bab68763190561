/* sim/device.c — stimulation devices: Poisson trains and Gaussian noise currents (independent per
 * target unit, drawn from (seed, device, step or interval, unit) so any thread or rank count gives
 * the same input), piecewise-constant and sinusoidal currents, each for a whole population or a
 * listed subset of its units. Each writes its input for the window into the targets' ring buffers
 * before the targets step; a thread touches only its own units. */
#include "sim/net_types.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif


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

/* The slice [*qa, *qb) of the units a device feeds that fall in the thread's range [lo, hi): of its
 * sorted list, or the range itself for a whole population. */
static void unit_slice(const ns_device *dev, size_t lo, size_t hi, size_t *qa, size_t *qb)
{
    if (!dev->units) {
        *qa = lo, *qb = hi;
        return;
    }
    size_t bound[2] = {lo, hi}, q[2];
    for (int e = 0; e < 2; e++) { /* the first listed unit >= bound[e] */
        size_t l = 0, h = dev->nunits;
        while (l < h) {
            size_t mid = l + (h - l) / 2;
            if (dev->units[mid] < bound[e]) l = mid + 1;
            else h = mid;
        }
        q[e] = l;
    }
    *qa = q[0], *qb = q[1];
}

/* The Poisson count of one unit's raw draw v: the number of thresholds it passes. */
static int poisson_count(const uint64_t *thr, int nthr, uint64_t v)
{
    int l = 0, h = nthr;
    while (l < h) { /* first j with thr[j] > v */
        int mid = (l + h) / 2;
        if (v >= thr[mid]) l = mid + 1;
        else h = mid;
    }
    return l;
}

/* Units handled at a time: their draws come from one vectorized Philox fill. */
enum { POISSON_CHUNK = 256 };

#ifdef __AVX512F__
/* cnt[i] = poisson_count(thr, nthr, x[i]) for i < n, sixteen draws at a time: a branch-free search
 * among the first eight thresholds (padded past nthr with 2^32 - 1, which no draw but 2^32 - 1
 * passes), and the search of poisson_count for the few draws that pass the eighth (for lambda 2,
 * one in 900) — the same counts as poisson_count's. */
static void poisson_counts(const uint64_t *thr, int nthr, const uint32_t *x, size_t n, uint32_t *cnt)
{
    uint32_t t8[16] = {0};
    for (int j = 0; j < 8; j++) t8[j] = j < nthr ? (uint32_t)thr[j] : 0xFFFFFFFFu;
    const __m512i tv = _mm512_loadu_si512(t8), t7 = _mm512_set1_epi32((int)t8[7]);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 live = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512i v = _mm512_maskz_loadu_epi32(live, x + i);
        __m512i k = _mm512_setzero_si512();
        for (int step = 4; step; step >>= 1) { /* k = how many of t8[0 .. 6] v passes */
            const __m512i cand = _mm512_add_epi32(k, _mm512_set1_epi32(step));
            const __m512i tc = _mm512_permutexvar_epi32(_mm512_sub_epi32(cand, _mm512_set1_epi32(1)), tv);
            k = _mm512_mask_mov_epi32(k, _mm512_cmpge_epu32_mask(v, tc), cand);
        }
        _mm512_mask_storeu_epi32(cnt + i, live, k);
        for (__mmask16 big = _mm512_mask_cmpge_epu32_mask(live, v, t7); big; big &= (__mmask16)(big - 1)) {
            const size_t at = i + (size_t)__builtin_ctz(big);
            cnt[at] = (uint32_t)poisson_count(thr, nthr, x[at]);
        }
    }
}
#else
static void poisson_counts(const uint64_t *thr, int nthr, const uint32_t *x, size_t n, uint32_t *cnt)
{
    if (nthr <= 32) { /* one threshold at a time over the draws: the compiler vectorizes it */
        for (size_t i = 0; i < n; i++) cnt[i] = 0;
        for (int j = 0; j < nthr; j++) {
            const uint32_t tj = (uint32_t)thr[j];
            for (size_t i = 0; i < n; i++) cnt[i] += x[i] >= tj;
        }
    } else {
        for (size_t i = 0; i < n; i++) cnt[i] = (uint32_t)poisson_count(thr, nthr, x[i]);
    }
}
#endif

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
        if (dev->units) { /* a subset: each listed unit draws what it would draw from a whole-population device */
            size_t qa, qb;
            unit_slice(dev, lo, hi, &qa, &qb);
            for (size_t q = qa; q < qb; q++) {
                const uint32_t i = dev->units[q];
                uint32_t v[4];
                ns_rng_u32x4(seed, NS_STREAM_DEVICE, (uint32_t)dev->id, (uint32_t)s, i / 4, v);
                buf[i] += poisson_count(thr, nthr, v[i % 4]) * w;
            }
            continue;
        }
        for (size_t c = lo; c < hi; c += POISSON_CHUNK) {
            size_t e = c + POISSON_CHUNK < hi ? c + POISSON_CHUNK : hi;
            /* unit i draws element i % 4 of counter (device, step, i / 4), whatever the chunking */
            size_t g0 = c / 4, g1 = (e + 3) / 4;
            ns_rng_fill_u32(seed, NS_STREAM_DEVICE, (uint32_t)dev->id, (uint32_t)s, (uint32_t)g0, g1 - g0, x);
            uint32_t cnt[POISSON_CHUNK];
            poisson_counts(thr, nthr, x + (c - 4 * g0), e - c, cnt);
            for (size_t i = c; i < e; i++) buf[i] += cnt[i - c] * w;
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
        size_t qa, qb;
        unit_slice(dev, lo, hi, &qa, &qb);
        if (dev->units)
            for (size_t q = qa; q < qb; q++) buf[dev->units[q]] += amp;
        else
            for (size_t i = lo; i < hi; i++) buf[i] += amp;
    }
}

/* A sinusoid, the same for every unit fed: its value in step s is taken at the step's start. */
static void inject_ac(ns_net *net, const ns_device *dev, int tid, int nsteps)
{
    ns_pop *t = dev->tgt;
    const size_t n = t->n;
    size_t lo, hi, qa, qb;
    if (ns_partition_range(&t->part, tid, &lo, &hi) < 0) return;
    unit_slice(dev, lo, hi, &qa, &qb);
    for (int k = 0; k < nsteps; k++) {
        const int64_t s = net->step + k;
        if (s < dev->start || s >= dev->stop) continue;
        const double amp = dev->offset + dev->amplitude * sin(dev->omega * ((double)s * net->dt) + dev->phase);
        double *buf = t->input[ns_model_current_port(t->model)] + (size_t)(s % (int64_t)t->ring_len) * n;
        for (size_t q = qa; q < qb; q++) buf[dev->units ? dev->units[q] : q] += amp;
    }
}

/* Gaussian noise: unit i holds mean + std N(j, i) through the steps [j every, (j + 1) every), N a
 * standard normal from counter (device, j, i) of the device stream; each stretch of the window
 * with one j draws once per unit and adds the value to each of its steps. */
static void inject_noise(ns_net *net, const ns_device *dev, int tid, int nsteps)
{
    ns_pop *t = dev->tgt;
    const size_t n = t->n;
    size_t lo, hi, qa, qb;
    if (ns_partition_range(&t->part, tid, &lo, &hi) < 0) return;
    unit_slice(dev, lo, hi, &qa, &qb);
    const uint64_t seed = ns_ctx_seed(net->ctx);
    double *ring = t->input[ns_model_current_port(t->model)];
    for (int k = 0; k < nsteps;) {
        const int64_t s = net->step + k, j = s / dev->every;
        int64_t end = (j + 1) * dev->every; /* the first step of the next value */
        if (end > s + (nsteps - k)) end = s + (nsteps - k);
        const int64_t a = s > dev->start ? s : dev->start, b = end < dev->stop ? end : dev->stop;
        for (size_t q = qa; q < qb && a < b; q++) {
            const size_t i = dev->units ? dev->units[q] : q;
            double u[4];
            ns_rng_u01x4(seed, NS_STREAM_DEVICE, (uint32_t)dev->id, (uint32_t)j, (uint32_t)i, u);
            const double v = dev->mean + dev->std * ns_rng_normal_from(u[0], u[1]);
            for (int64_t m = a; m < b; m++) ring[(size_t)(m % (int64_t)t->ring_len) * n + i] += v;
        }
        k += (int)(end - s);
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
    else if (dev->kind == NS_DEV_AC) inject_ac(net, dev, tid, nsteps);
    else if (dev->kind == NS_DEV_NOISE) inject_noise(net, dev, tid, nsteps);
    else if (dev->tgt->part.block_of_thread[tid] >= 0) inject_signal(net, dev, nsteps); /* its one thread */
}

void ns_device_delete(ns_device *dev)
{
    if (!dev) return;
    free(dev->steps);
    free(dev->amps);
    free(dev->thr);
    free(dev->units);
    free(dev);
}

/* A device's active steps [start, stop) from times in ms (stop infinite: no end); 0, or an
 * ns_status code with a message naming the device. */
static int active_steps(ns_net *net, const char *what, double start_ms, double stop_ms, ns_device *dev)
{
    if (!(start_ms >= 0) || !(stop_ms >= start_ms))
        return ns_error(ns_net_ctx(net), NS_EINVAL, "%s: start %g and stop %g ms must satisfy 0 <= start <= stop", what,
                        start_ms, stop_ms);
    if (ns_net_time_steps(net, start_ms) < 0 || (!isinf(stop_ms) && ns_net_time_steps(net, stop_ms) < 0))
        return ns_error(ns_net_ctx(net), NS_EINVAL, "%s: start %g and stop %g ms must be within [0, %g] ms (leave "
                        "stop out for no end)", what, start_ms, stop_ms, ns_net_max_ms(net));
    dev->start = ns_net_time_steps(net, start_ms);
    dev->stop = isinf(stop_ms) ? INT64_MAX : ns_net_time_steps(net, stop_ms);
    return NS_OK;
}

/* A new current device of kind into tgt in *out; 0, or an ns_status code with a message (tgt takes
 * no current, memory). */
static int new_current(ns_net *net, ns_dev_kind kind, ns_pop *tgt, const char *what, ns_device **out)
{
    const ns_model *m = ns_pop_model(tgt);
    if (ns_model_current_port(m) < 0)
        return ns_error(ns_net_ctx(net), NS_EINVAL, "%s: population %s (%s) takes no current", what, ns_pop_name(tgt),
                        m->name);
    ns_device *dev = calloc(1, sizeof *dev);
    if (!dev) return ns_error(ns_net_ctx(net), NS_ENOMEM, "out of memory");
    dev->kind = kind;
    dev->tgt = tgt;
    *out = dev;
    return NS_OK;
}

/* Add dev, or free it when rc or the adding fails. */
static int finish(ns_net *net, ns_device *dev, int rc)
{
    if (rc || (rc = ns_net_device_add(net, dev))) ns_device_delete(dev);
    return rc;
}

int ns_net_add_ac(ns_net *net, ns_pop *tgt, double amplitude_pa, double offset_pa, double frequency_hz,
                  double phase_deg, double start_ms, double stop_ms)
{
    ns_ctx *ctx = ns_net_ctx(net);
    if (!isfinite(amplitude_pa) || !isfinite(offset_pa) || !isfinite(phase_deg))
        return ns_error(ctx, NS_EINVAL, "ac: amplitude (%g pA), offset (%g pA) and phase (%g degrees) must be finite",
                        amplitude_pa, offset_pa, phase_deg);
    if (!(frequency_hz >= 0) || !isfinite(frequency_hz))
        return ns_error(ctx, NS_EINVAL, "ac: frequency %g Hz must be finite and >= 0", frequency_hz);
    ns_device *dev;
    int rc = new_current(net, NS_DEV_AC, tgt, "ac", &dev);
    if (rc) return rc;
    dev->amplitude = amplitude_pa;
    dev->offset = offset_pa;
    dev->omega = 2.0 * M_PI * frequency_hz / 1000.0;
    dev->phase = phase_deg * M_PI / 180.0;
    return finish(net, dev, active_steps(net, "ac", start_ms, stop_ms, dev));
}

int ns_net_add_noise(ns_net *net, ns_pop *tgt, double mean_pa, double std_pa, double dt_ms, double start_ms,
                     double stop_ms)
{
    ns_ctx *ctx = ns_net_ctx(net);
    if (!isfinite(mean_pa)) return ns_error(ctx, NS_EINVAL, "noise: mean %g pA must be finite", mean_pa);
    if (!(std_pa >= 0) || !isfinite(std_pa))
        return ns_error(ctx, NS_EINVAL, "noise: std %g pA must be finite and >= 0", std_pa);
    const int64_t every = ns_net_steps_of(net, dt_ms);
    if (!(dt_ms > 0) || every < 1 || every > INT32_MAX)
        return ns_error(ctx, NS_EINVAL, "noise: dt %g ms must be a whole multiple of the network's dt (%g ms), "
                        "1 to %d times it", dt_ms, ns_net_dt(net), INT32_MAX);
    ns_device *dev;
    int rc = new_current(net, NS_DEV_NOISE, tgt, "noise", &dev);
    if (rc) return rc;
    dev->mean = mean_pa;
    dev->std = std_pa;
    dev->every = every;
    return finish(net, dev, active_steps(net, "noise", start_ms, stop_ms, dev));
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int ns_net_device_units(ns_net *net, const size_t *units, size_t n)
{
    ns_ctx *ctx = ns_net_ctx(net);
    if (!net->ndevs) return ns_error(ctx, NS_EINVAL, "neurons: no device to restrict");
    ns_device *dev = net->devs[net->ndevs - 1];
    const ns_pop *t = dev->tgt;
    static const char *const kind[] = {[NS_DEV_POISSON] = "poisson", [NS_DEV_CURRENT] = "current",
                                       [NS_DEV_SIGNAL] = "signal", [NS_DEV_AC] = "ac", [NS_DEV_NOISE] = "noise"};
    const char *what = kind[dev->kind];
    int rc = NS_OK;
    uint32_t *u = NULL;
    if (net->finalized) rc = ns_error(ctx, NS_ESTATE, "%s: neurons: the network is fixed after the first run", what);
    else if (dev->kind == NS_DEV_SIGNAL || dev->units)
        rc = ns_error(ctx, NS_EINVAL, "%s: neurons: %s", what, dev->units ? "the device has its units already"
                                                                : "a signal feeds a population's channels, not units");
    else if (n == 0) rc = ns_error(ctx, NS_EINVAL, "%s: neurons: the list is empty (leave it out for every unit)", what);
    else if (!(u = malloc(n * sizeof *u))) rc = ns_error(ctx, NS_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < n; k++) {
        if (units[k] >= t->n)
            rc = ns_error(ctx, NS_EINVAL, "%s: neurons: index %zu (item %zu) is outside population %s (0 .. %zu)", what, units[k],
                          k + 1, t->name, t->n - 1);
        else u[k] = (uint32_t)units[k];
    }
    if (!rc) {
        qsort(u, n, sizeof *u, cmp_u32);
        for (size_t k = 1; k < n && !rc; k++)
            if (u[k] == u[k - 1]) rc = ns_error(ctx, NS_EINVAL, "%s: neurons: index %u is listed twice", what, u[k]);
    }
    if (rc) { /* the device goes again: a failed call leaves the network as it was before the device */
        free(u);
        if (!net->finalized) ns_device_delete(net->devs[--net->ndevs]);
        return rc;
    }
    dev->units = u;
    dev->nunits = n;
    return NS_OK;
}
