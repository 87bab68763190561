/* train/encode.h — encoders: a batch of samples becomes T steps of input, float32 [T][batch][dim].
 * One idea: an encoding is a pure function of (sample index, epoch, seed), never of the batch it
 * sits in, so shuffling or re-batching changes nothing but the order. */
#ifndef NS_TRAIN_ENCODE_H
#define NS_TRAIN_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "train/dataset.h"
#include "train/tensor.h"

/* Every encoder below takes: ds, the sample indices idx[batch] into ds (idx == NULL: samples
 * 0..batch-1), T >= 1 steps, and out with room for T * batch * ns_dataset_dim(ds) floats.
 * They return 0, or -1 with a one-line message in err (bad index, bad parameter, wrong kind of
 * data set: spike-time sets go to ns_encode_spike_times only, feature sets to the others). */

/* ---- Bernoulli rate (UltraLIF, Minoza 2026) -------------------------------------------------- */

typedef struct {
    float mean;    /* feature normalisation: x_norm = (x - mean)/std (Fashion-MNIST 0.2860) */
    float std;     /* (Fashion-MNIST 0.3530), > 0 */
    float gain;    /* spike probability per step = gain * clamp(x_norm, 0, 1) (0.5), in [0, 1] */
    uint64_t seed; /* (1) */
} ns_bernoulli_params;

/* Fill p with the defaults in brackets above. */
void ns_bernoulli_defaults(ns_bernoulli_params *p);

/* out = 1 with probability gain * clamp((x - mean)/std, 0, 1), else 0, independently per step and
 * feature; the draw for (epoch, sample idx[b], step t, feature j) is fixed by the seed alone. */
int ns_encode_bernoulli(const ns_bernoulli_params *p, const ns_dataset *ds, const size_t *idx,
                        size_t batch, int T, uint64_t epoch, float *out, char *err, size_t errlen);
/* The same draws straight into the lists of ones of that [T][batch][dim] input (tensor.h's
 * ns_binary_rows: row t * batch + b, features ascending), without the dense array; a feature of
 * spike probability 0 costs no draw. Also -1 (with a message) out of memory or for an input of
 * more than INT_MAX values. */
int ns_encode_bernoulli_rows(const ns_bernoulli_params *p, const ns_dataset *ds, const size_t *idx,
                             size_t batch, int T, uint64_t epoch, ns_binary_rows *rows, char *err,
                             size_t errlen);

/* ---- direct current -------------------------------------------------------------------------- */

/* out[t][b][j] = x[idx[b]][j] for every step t: the feature value as a constant input current. */
int ns_encode_direct(const ns_dataset *ds, const size_t *idx, size_t batch, int T, float *out,
                     char *err, size_t errlen);

/* ---- latency (time to first spike) ----------------------------------------------------------- */

typedef enum {
    /* feature x > threshold spikes once, at step round((1 - clamp(x, 0, 1)) * (T - 1)), halves
     * rounded away from zero: x = 1 fires at step 0, x -> 0 at step T - 1 */
    NS_LATENCY_LINEAR = 0,
    /* SpyTorch's current2firing_time: x > threshold is a constant current charging a LIF membrane
     * (time constant tau steps) to threshold at t = tau ln(x / (x - threshold)); the spike goes
     * to step floor(t) if that is < T, otherwise the feature stays silent */
    NS_LATENCY_LIF = 1
} ns_latency_rule;

typedef struct {
    ns_latency_rule rule; /* (NS_LATENCY_LINEAR) */
    float threshold;      /* features at or below it never spike (0.2, SpyTorch's thr) */
    float tau;            /* NS_LATENCY_LIF membrane time constant, steps (20, SpyTorch's 20 ms
                             at 1 ms steps), > 0 */
} ns_latency_params;

/* Fill p with the defaults in brackets above. */
void ns_latency_defaults(ns_latency_params *p);

/* At most one spike (1.0) per feature, at the step the rule gives; 0 elsewhere. */
int ns_encode_latency(const ns_latency_params *p, const ns_dataset *ds, const size_t *idx,
                      size_t batch, int T, float *out, char *err, size_t errlen);

/* ---- spike times (randman) ------------------------------------------------------------------- */

/* For a spike-time data set (trial of S = ns_dataset_steps(ds) steps): unit j of sample i spikes
 * once, at step floor(time) when T == S, else at floor(time * T / S) (the trial rescaled to T
 * steps); negative times stay silent. */
int ns_encode_spike_times(const ns_dataset *ds, const size_t *idx, size_t batch, int T,
                          float *out, char *err, size_t errlen);

/* ---- one entry point for all of them --------------------------------------------------------- */

typedef enum {
    NS_ENC_BERNOULLI = 0,
    NS_ENC_DIRECT = 1,
    NS_ENC_LATENCY = 2,
    NS_ENC_SPIKE_TIMES = 3
} ns_encoding;

typedef struct {
    ns_encoding kind;
    ns_bernoulli_params bernoulli; /* used by NS_ENC_BERNOULLI */
    ns_latency_params latency;     /* used by NS_ENC_LATENCY */
} ns_encoder;

/* kind plus every parameter at its default. */
void ns_encoder_defaults(ns_encoder *e, ns_encoding kind);

/* "bernoulli" (or "rate"), "direct" (or "current"), "latency", "spikes" (or "spike_times") ->
 * *kind; -1 with a message listing the names for anything else. */
int ns_encoding_from_name(const char *name, ns_encoding *kind, char *err, size_t errlen);

/* The canonical name of kind ("bernoulli", "direct", "latency", "spikes"); "?" if unknown. */
const char *ns_encoding_name(ns_encoding kind);

/* Run e's encoder; epoch only matters to the Bernoulli one. */
int ns_encode(const ns_encoder *e, const ns_dataset *ds, const size_t *idx, size_t batch, int T,
              uint64_t epoch, float *out, char *err, size_t errlen);

#endif
