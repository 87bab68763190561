/* train/encode.c — Bernoulli-rate, direct-current, latency and spike-time encoders.
 * One idea: the Bernoulli draw for (epoch, sample, step, feature) is splitmix64 counter number
 * step*dim + feature of a stream keyed by (seed, epoch, sample): batch-independent, no state. */
#include "train/encode.h"
#include "models/errmsg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stream tag; dataset.c uses 1..4. */
enum { TAG_BERNOULLI = 16 };

/* Shared argument checks: data-set kind, T, indices. */
static int check_args(const char *who, const ns_dataset *ds, const size_t *idx, size_t batch,
                      int T, const float *out, int want_spike_times, char *err, size_t errlen)
{
    if (!ds || (!out && batch > 0)) {
        ns_errmsg(err, errlen, "%s encoder: NULL data set or output", who);
        return -1;
    }
    int is_times = ns_dataset_kind(ds) == NS_DATA_SPIKE_TIMES;
    if (is_times != want_spike_times) {
        ns_errmsg(err, errlen, "%s encoder: %s", who,
               want_spike_times ? "needs a spike-time data set (such as randman)"
                                : "needs a feature data set; use the spike-times encoder for "
                                  "spike-time data");
        return -1;
    }
    if (T < 1) {
        ns_errmsg(err, errlen, "%s encoder: T must be >= 1 step, got %d", who, T);
        return -1;
    }
    size_t n = ns_dataset_n(ds);
    for (size_t b = 0; b < batch; b++) {
        size_t i = idx ? idx[b] : b;
        if (i >= n) {
            ns_errmsg(err, errlen,
                   "%s encoder: sample index %zu (batch slot %zu) out of range (n = %zu)", who, i,
                   b, n);
            return -1;
        }
    }
    return 0;
}

static size_t sample_at(const size_t *idx, size_t b) { return idx ? idx[b] : b; }

/* ---- Bernoulli ------------------------------------------------------------------------------- */

void ns_bernoulli_defaults(ns_bernoulli_params *p)
{
    p->mean = 0.2860f;
    p->std = 0.3530f;
    p->gain = 0.5f;
    p->seed = 1;
}

int ns_encode_bernoulli(const ns_bernoulli_params *p, const ns_dataset *ds, const size_t *idx,
                        size_t batch, int T, uint64_t epoch, float *out, char *err, size_t errlen)
{
    if (!(p->std > 0) || !isfinite(p->std) || !isfinite(p->mean) ||
        !(p->gain >= 0 && p->gain <= 1)) {
        ns_errmsg(err, errlen, "bernoulli encoder: need std > 0, finite mean and gain in [0, 1] "
               "(got mean %g, std %g, gain %g)", (double)p->mean, (double)p->std, (double)p->gain);
        return -1;
    }
    if (check_args("bernoulli", ds, idx, batch, T, out, 0, err, errlen))
        return -1;
    const size_t d = ns_dataset_dim(ds);
    /* per feature: u01 < prob with u01 = k 2^-53 is k < lim = ceil(prob 2^53), 0 for prob 0 */
    uint64_t *lim = malloc(d * sizeof *lim);
    if (!lim) {
        ns_errmsg(err, errlen, "bernoulli encoder: out of memory");
        return -1;
    }
    for (size_t b = 0; b < batch; b++) {
        size_t i = sample_at(idx, b);
        const float *x = ns_dataset_row(ds, i);
        for (size_t j = 0; j < d; j++) {
            float z = (x[j] - p->mean) / p->std;
            z = z < 0.0f ? 0.0f : (z > 1.0f ? 1.0f : z);
            lim[j] = (uint64_t)ceil((double)(p->gain * z) * 0x1.0p53);
        }
        uint64_t key = ns_dataset_key(p->seed, TAG_BERNOULLI, epoch, i);
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)t * batch + b) * d; /* whole rows in order: cache-friendly */
            uint64_t ctr = (uint64_t)t * d;
            for (size_t j = 0; j < d; j++) /* a compare, not a branch: it vectorizes */
                o[j] = (float)((ns_dataset_bits(key, ctr + j) >> 11) < lim[j]);
        }
    }
    free(lim);
    return 0;
}

/* ---- direct ---------------------------------------------------------------------------------- */

int ns_encode_direct(const ns_dataset *ds, const size_t *idx, size_t batch, int T, float *out,
                     char *err, size_t errlen)
{
    if (check_args("direct", ds, idx, batch, T, out, 0, err, errlen))
        return -1;
    const size_t d = ns_dataset_dim(ds);
    for (int t = 0; t < T; t++)
        for (size_t b = 0; b < batch; b++)
            memcpy(out + ((size_t)t * batch + b) * d, ns_dataset_row(ds, sample_at(idx, b)),
                   d * sizeof(float));
    return 0;
}

/* ---- latency --------------------------------------------------------------------------------- */

void ns_latency_defaults(ns_latency_params *p)
{
    p->rule = NS_LATENCY_LINEAR;
    p->threshold = 0.2f;
    p->tau = 20.0f;
}

int ns_encode_latency(const ns_latency_params *p, const ns_dataset *ds, const size_t *idx,
                      size_t batch, int T, float *out, char *err, size_t errlen)
{
    if (p->rule != NS_LATENCY_LINEAR && p->rule != NS_LATENCY_LIF) {
        ns_errmsg(err, errlen, "latency encoder: unknown rule %d", (int)p->rule);
        return -1;
    }
    if (!isfinite(p->threshold) ||
        (p->rule == NS_LATENCY_LIF &&
         (!(p->threshold > 0) || !(p->tau > 0) || !isfinite(p->tau)))) {
        ns_errmsg(err, errlen, "latency encoder: need a finite threshold (> 0, with tau > 0 steps, "
               "for the LIF rule); got threshold %g, tau %g", (double)p->threshold, (double)p->tau);
        return -1;
    }
    if (check_args("latency", ds, idx, batch, T, out, 0, err, errlen))
        return -1;
    const size_t d = ns_dataset_dim(ds);
    memset(out, 0, (size_t)T * batch * d * sizeof(float));
    const double thr = p->threshold;
    for (size_t b = 0; b < batch; b++) {
        const float *x = ns_dataset_row(ds, sample_at(idx, b));
        for (size_t j = 0; j < d; j++) {
            double v = x[j];
            if (!(v > thr))
                continue;
            long step;
            if (p->rule == NS_LATENCY_LINEAR) {
                double c = v > 1.0 ? 1.0 : (v < 0.0 ? 0.0 : v);
                step = lround((1.0 - c) * (T - 1));
            } else {
                double tt = p->tau * log(v / (v - thr));
                if (!(tt < (double)T))
                    continue;
                step = (long)floor(tt);
            }
            out[((size_t)step * batch + b) * d + j] = 1.0f;
        }
    }
    return 0;
}

/* ---- spike times ----------------------------------------------------------------------------- */

int ns_encode_spike_times(const ns_dataset *ds, const size_t *idx, size_t batch, int T,
                          float *out, char *err, size_t errlen)
{
    if (check_args("spike-times", ds, idx, batch, T, out, 1, err, errlen))
        return -1;
    const size_t d = ns_dataset_dim(ds);
    const int S = ns_dataset_steps(ds);
    const double scale = (double)T / S;
    memset(out, 0, (size_t)T * batch * d * sizeof(float));
    for (size_t b = 0; b < batch; b++) {
        const float *x = ns_dataset_row(ds, sample_at(idx, b));
        for (size_t j = 0; j < d; j++) {
            if (x[j] < 0.0f)
                continue;
            long step = T == S ? (long)floorf(x[j]) : (long)floor(x[j] * scale);
            if (step >= T) /* times lie below S, so only rounding can get here */
                step = T - 1;
            out[((size_t)step * batch + b) * d + j] = 1.0f;
        }
    }
    return 0;
}

/* ---- dispatch -------------------------------------------------------------------------------- */

void ns_encoder_defaults(ns_encoder *e, ns_encoding kind)
{
    e->kind = kind;
    ns_bernoulli_defaults(&e->bernoulli);
    ns_latency_defaults(&e->latency);
}

static const struct {
    const char *name;
    ns_encoding kind;
} encoding_names[] = {
    {"bernoulli", NS_ENC_BERNOULLI}, {"direct", NS_ENC_DIRECT},
    {"latency", NS_ENC_LATENCY},     {"spikes", NS_ENC_SPIKE_TIMES},
    {"rate", NS_ENC_BERNOULLI},      {"current", NS_ENC_DIRECT},
    {"spike_times", NS_ENC_SPIKE_TIMES},
};

int ns_encoding_from_name(const char *name, ns_encoding *kind, char *err, size_t errlen)
{
    for (size_t i = 0; name && i < sizeof encoding_names / sizeof encoding_names[0]; i++)
        if (strcmp(name, encoding_names[i].name) == 0) {
            *kind = encoding_names[i].kind;
            return 0;
        }
    ns_errmsg(err, errlen, "unknown encoding '%s' (bernoulli, direct, latency, spikes)",
           name ? name : "(null)");
    return -1;
}

const char *ns_encoding_name(ns_encoding kind)
{
    for (size_t i = 0; i < 4; i++) /* the first four are the canonical names */
        if (encoding_names[i].kind == kind)
            return encoding_names[i].name;
    return "?";
}

int ns_encode(const ns_encoder *e, const ns_dataset *ds, const size_t *idx, size_t batch, int T,
              uint64_t epoch, float *out, char *err, size_t errlen)
{
    switch (e->kind) {
    case NS_ENC_BERNOULLI:
        return ns_encode_bernoulli(&e->bernoulli, ds, idx, batch, T, epoch, out, err, errlen);
    case NS_ENC_DIRECT:
        return ns_encode_direct(ds, idx, batch, T, out, err, errlen);
    case NS_ENC_LATENCY:
        return ns_encode_latency(&e->latency, ds, idx, batch, T, out, err, errlen);
    case NS_ENC_SPIKE_TIMES:
        return ns_encode_spike_times(ds, idx, batch, T, out, err, errlen);
    }
    ns_errmsg(err, errlen, "unknown encoding %d", (int)e->kind);
    return -1;
}
