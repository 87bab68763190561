/* train/encode.c — Bernoulli-rate, direct-current, latency and spike-time encoders.
 * One idea: the Bernoulli draw for (epoch, sample, step, feature) is splitmix64 counter number
 * step*dim + feature of a stream keyed by (seed, epoch, sample): batch-independent, no state. */
#include "train/encode.h"
#include "base/errmsg.h"

#include <limits.h>
#include <math.h>
#include <string.h>
#if defined __AVX512F__ && defined __AVX512DQ__
#include <immintrin.h>
#endif

/* Stream tag; dataset.c uses 1..4. */
enum { TAG_BERNOULLI = 16 };

/* Sample b of a batch: idx[b], or b without idx. */
static size_t sample_at(const size_t *idx, size_t b) { return idx ? idx[b] : b; }

/* Shared argument checks: data-set kind, T, indices. */
static int check_args(const char *who, const ns_dataset *ds, const size_t *idx, size_t batch,
                      int T, const void *out, int want_spike_times, char *err, size_t errlen)
{
    if (!ds || (!out && batch > 0)) return ns_errmsg(err, errlen, "%s encoder: NULL data set or output", who);
    int is_times = ns_dataset_kind(ds) == NS_DATA_SPIKE_TIMES;
    if (is_times != want_spike_times) {
        ns_errmsg(err, errlen, "%s encoder: %s", who,
               want_spike_times ? "needs a spike-time data set (such as randman)"
                                : "needs a feature data set; use the spike-times encoder for "
                                  "spike-time data");
        return -1;
    }
    if (T < 1) return ns_errmsg(err, errlen, "%s encoder: T must be >= 1 step, got %d", who, T);
    size_t n = ns_dataset_n(ds);
    for (size_t b = 0; b < batch; b++) {
        size_t i = sample_at(idx, b);
        if (i >= n) {
            ns_errmsg(err, errlen,
                   "%s encoder: sample index %zu (batch slot %zu) out of range (n = %zu)", who, i,
                   b, n);
            return -1;
        }
    }
    return 0;
}

/* ---- Bernoulli ------------------------------------------------------------------------------- */

void ns_bernoulli_defaults(ns_bernoulli_params *p)
{
    p->mean = 0.2860f;
    p->std = 0.3530f;
    p->gain = 0.5f;
    p->seed = 1;
}

static int bernoulli_params_ok(const ns_bernoulli_params *p, char *err, size_t errlen)
{
    if (!(p->std > 0) || !isfinite(p->std) || !isfinite(p->mean) ||
        !(p->gain >= 0 && p->gain <= 1)) {
        ns_errmsg(err, errlen, "bernoulli encoder: need std > 0, finite mean and gain in [0, 1] "
               "(got mean %g, std %g, gain %g)", (double)p->mean, (double)p->std, (double)p->gain);
        return 0;
    }
    return 1;
}

/* Feature j's draw u01 < prob, with u01 = k 2^-53, is k < lim = ceil(prob 2^53) (0 for prob 0). */
static uint64_t bernoulli_lim(const ns_bernoulli_params *p, float x)
{
    float z = (x - p->mean) / p->std;
    z = z < 0.0f ? 0.0f : (z > 1.0f ? 1.0f : z);
    return (uint64_t)ceil((double)(p->gain * z) * 0x1.0p53);
}

enum { LIM_CHUNK = 256 }; /* features whose limits the dense encoder holds at once */

int ns_encode_bernoulli(const ns_bernoulli_params *p, const ns_dataset *ds, const size_t *idx,
                        size_t batch, int T, uint64_t epoch, float *out, char *err, size_t errlen)
{
    if (!bernoulli_params_ok(p, err, errlen) || check_args("bernoulli", ds, idx, batch, T, out, 0, err, errlen))
        return -1;
    const size_t d = ns_dataset_dim(ds);
    uint64_t lim[LIM_CHUNK];
    for (size_t b = 0; b < batch; b++) {
        size_t i = sample_at(idx, b);
        const float *x = ns_dataset_row(ds, i);
        uint64_t key = ns_dataset_key(p->seed, TAG_BERNOULLI, epoch, i);
        for (size_t j0 = 0; j0 < d; j0 += LIM_CHUNK) {
            const size_t w = d - j0 < LIM_CHUNK ? d - j0 : LIM_CHUNK;
            for (size_t j = 0; j < w; j++) lim[j] = bernoulli_lim(p, x[j0 + j]);
            for (int t = 0; t < T; t++) {
                float *o = out + ((size_t)t * batch + b) * d + j0;
                uint64_t ctr = (uint64_t)t * d + j0;
                for (size_t j = 0; j < w; j++) /* a compare, not a branch: it vectorizes */
                    o[j] = (float)((ns_dataset_bits(key, ctr + j) >> 11) < lim[j]);
            }
        }
    }
    return 0;
}

/* The rows encoder's per-sample lists: the features that can spike (f), their limits (lim) and
 * f times the counter stride (fg), so that draw t of feature f has the state base_t + fg. */
typedef struct {
    uint64_t *lim, *fg;
    int *f;
} bern_live;

#if defined __AVX512F__ && defined __AVX512DQ__
/* ns_splitmix64_mix on eight lanes, then >> 11: the draw's 53 bits. */
static inline __m512i mix_top53(__m512i z)
{
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9ULL));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), _mm512_set1_epi64((long long)0x94d049bb133111ebULL));
    return _mm512_srli_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 31)), 11);
}

/* The live features of sample row x (d of them), sixteen a step, in bernoulli_lim's arithmetic:
 * the same float operations, the product widened and scaled exactly, rounded up. */
static size_t bern_live_of(const ns_bernoulli_params *p, const float *x, size_t d, bern_live *L)
{
    const __m512 mean = _mm512_set1_ps(p->mean), sd = _mm512_set1_ps(p->std), gain = _mm512_set1_ps(p->gain);
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    const __m512d scale = _mm512_set1_pd(0x1.0p53);
    const __m512i g = _mm512_set1_epi64((long long)NS_DATASET_GOLDEN);
    size_t m = 0;
    for (size_t j = 0; j < d; j += 16) {
        const __mmask16 in = d - j >= 16 ? 0xFFFF : (__mmask16)((1u << (d - j)) - 1);
        __m512 z = _mm512_div_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(in, x + j), mean), sd);
        z = _mm512_mask_mov_ps(z, _mm512_cmp_ps_mask(z, zero, _CMP_LT_OQ), zero);
        z = _mm512_mask_mov_ps(z, _mm512_cmp_ps_mask(z, one, _CMP_GT_OQ), one);
        z = _mm512_mul_ps(gain, z);
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(z)), hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(z, 1));
        __m512i llo = _mm512_cvttpd_epu64(_mm512_roundscale_pd(_mm512_mul_pd(lo, scale), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC));
        __m512i lhi = _mm512_cvttpd_epu64(_mm512_roundscale_pd(_mm512_mul_pd(hi, scale), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC));
        const __mmask8 mlo = _mm512_test_epi64_mask(llo, llo) & (__mmask8)in, mhi = _mm512_test_epi64_mask(lhi, lhi) & (__mmask8)(in >> 8);
        const __m512i f = _mm512_add_epi32(_mm512_set1_epi32((int)j), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
        const __m512i flo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(f)), fhi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(f, 1));
        const size_t nlo = (size_t)__builtin_popcount(mlo);
        /* whole-register stores of the packed lanes: the lists have 16 spare entries */
        _mm512_storeu_si512(L->f + m, _mm512_maskz_compress_epi32((__mmask16)(mlo | (unsigned)mhi << 8), f));
        _mm512_storeu_si512(L->lim + m, _mm512_maskz_compress_epi64(mlo, llo));
        _mm512_storeu_si512(L->lim + m + nlo, _mm512_maskz_compress_epi64(mhi, lhi));
        _mm512_storeu_si512(L->fg + m, _mm512_maskz_compress_epi64(mlo, _mm512_mullo_epi64(flo, g)));
        _mm512_storeu_si512(L->fg + m + nlo, _mm512_maskz_compress_epi64(mhi, _mm512_mullo_epi64(fhi, g)));
        m += nlo + (size_t)__builtin_popcount(mhi);
    }
    return m;
}

/* The features of L (m) that spike for the draws of state base + fg, ascending, into out (which
 * has 16 spare entries); returns how many. */
static int bern_draw(const bern_live *L, size_t m, uint64_t base, int *out)
{
    const __m512i b = _mm512_set1_epi64((long long)base);
    int n = 0;
    for (size_t k = 0; k < m; k += 16) {
        const __mmask16 in = m - k >= 16 ? 0xFFFF : (__mmask16)((1u << (m - k)) - 1);
        const __mmask8 ilo = (__mmask8)in, ihi = (__mmask8)(in >> 8);
        __m512i ulo = mix_top53(_mm512_add_epi64(b, _mm512_maskz_loadu_epi64(ilo, L->fg + k)));
        __m512i uhi = mix_top53(_mm512_add_epi64(b, _mm512_maskz_loadu_epi64(ihi, L->fg + k + 8)));
        __mmask8 slo = _mm512_mask_cmplt_epu64_mask(ilo, ulo, _mm512_maskz_loadu_epi64(ilo, L->lim + k));
        __mmask8 shi = _mm512_mask_cmplt_epu64_mask(ihi, uhi, _mm512_maskz_loadu_epi64(ihi, L->lim + k + 8));
        const __mmask16 s = (__mmask16)(slo | (unsigned)shi << 8);
        _mm512_storeu_si512(out + n, _mm512_maskz_compress_epi32(s, _mm512_maskz_loadu_epi32(in, L->f + k)));
        n += __builtin_popcount(s);
    }
    return n;
}
#else
static size_t bern_live_of(const ns_bernoulli_params *p, const float *x, size_t d, bern_live *L)
{
    size_t m = 0;
    for (size_t j = 0; j < d; j++) {
        uint64_t lim = bernoulli_lim(p, x[j]);
        L->f[m] = (int)j;
        L->lim[m] = lim;
        L->fg[m] = (uint64_t)j * NS_DATASET_GOLDEN;
        m += lim != 0;
    }
    return m;
}

static int bern_draw(const bern_live *L, size_t m, uint64_t base, int *out)
{
    int n = 0;
    for (size_t k = 0; k < m; k++) {
        out[n] = L->f[k];
        n += (ns_splitmix64_mix(base + L->fg[k]) >> 11) < L->lim[k];
    }
    return n;
}
#endif

int ns_encode_bernoulli_rows(const ns_bernoulli_params *p, const ns_dataset *ds, const size_t *idx,
                             size_t batch, int T, uint64_t epoch, ns_binary_rows *rows, char *err,
                             size_t errlen)
{
    if (!bernoulli_params_ok(p, err, errlen) || check_args("bernoulli", ds, idx, batch, T, rows, 0, err, errlen))
        return -1;
    const size_t d = ns_dataset_dim(ds), n = (size_t)T * batch;
    if (n > INT_MAX || n * d > (size_t)INT_MAX - 16) {
        ns_errmsg(err, errlen, "bernoulli encoder: %d steps of %zu samples of %zu features do not fit", T, batch, d);
        return -1;
    }
    const size_t dp = d + 16; /* each list's length, with room for whole-vector stores */
    if (ns_binary_rows_reserve(rows, (int)n, (int)d, 0, dp * (2 * sizeof(uint64_t) + sizeof(int)))) {
        ns_errmsg(err, errlen, "bernoulli encoder: out of memory");
        return -1;
    }
    bern_live L = {(uint64_t *)rows->work, (uint64_t *)rows->work + dp, (int *)((uint64_t *)rows->work + 2 * dp)};
    size_t used = 0;
    /* sample by sample, so its lists stay in cache over its T rows; rows lie in col in that order */
    for (size_t b = 0; b < batch; b++) {
        size_t i = sample_at(idx, b);
        const size_t m = bern_live_of(p, ns_dataset_row(ds, i), d, &L);
        if (used + (size_t)T * m + 16 > rows->cap_ones) {
            size_t want = used + (size_t)T * m, twice = 2 * rows->cap_ones;
            if (ns_binary_rows_reserve(rows, (int)n, (int)d, want > twice ? want : twice, 0)) {
                ns_errmsg(err, errlen, "bernoulli encoder: out of memory");
                return -1;
            }
        }
        const uint64_t key = ns_dataset_key(p->seed, TAG_BERNOULLI, epoch, i);
        for (int t = 0; t < T; t++) {
            const size_t row = (size_t)t * batch + b;
            /* draw number t d + f of the stream: state key + (t d + f + 1) golden */
            const uint64_t base = key + ((uint64_t)t * d + 1) * NS_DATASET_GOLDEN;
            rows->start[row] = (int)used;
            used += (size_t)bern_draw(&L, m, base, rows->col + used);
            rows->end[row] = (int)used;
        }
    }
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
    for (size_t i = 0; i < sizeof encoding_names / sizeof encoding_names[0]; i++)
        if (encoding_names[i].kind == kind) /* the canonical name comes before its aliases */
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
