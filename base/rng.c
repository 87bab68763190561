/* base/rng.c — Philox4x32-10 draws (see rng.h): with AVX-512, sixteen counters at a time in
 * registers, else a loop the compiler vectorizes. 32-bit outputs become doubles in (0, 1) by
 * centring on the half-ulp grid, so log(u) is always finite. */
#include "base/rng.h"

#include <math.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

/* The uniform a 32-bit draw stands for: its cell centre in (0, 1). */
static double to_u01(uint32_t x) { return ((double)x + 0.5) * (1.0 / 4294967296.0); }

void ns_rng_u01x4(uint64_t seed, uint32_t stream, uint32_t a, uint32_t b, uint32_t c, double out[4])
{
    uint32_t r[4];
    ns_rng_u32x4(seed, stream, a, b, c, r);
    for (int i = 0; i < 4; i++) out[i] = to_u01(r[i]);
}

/* Philox4x32-10 (Salmon et al. 2011), the constants of Random123. */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

#ifdef __AVX512F__
/* The 32-bit halves of the 64-bit products m x (each lane of x times the constant m), 16 lanes. */
static inline void mulhilo16(__m512i x, __m512i m, __m512i *hi, __m512i *lo)
{
    const __m512i even = _mm512_mul_epu32(x, m), odd = _mm512_mul_epu32(_mm512_srli_epi64(x, 32), m);
    *lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
}

/* Counters c .. c + 15 (the fourth word; the others stream, a, b) through the ten rounds, kept in
 * registers, and their 64 words written to out in counter order, four a counter. */
static inline void philox16(uint32_t k0, uint32_t k1, __m512i x0, __m512i x1, __m512i x2, __m512i x3, uint32_t *out)
{
    const __m512i m0 = _mm512_set1_epi32((int)PHILOX_M0), m1 = _mm512_set1_epi32((int)PHILOX_M1);
    for (int round = 0; round < 10; round++) {
        __m512i hi0, lo0, hi1, lo1;
        mulhilo16(x0, m0, &hi0, &lo0);
        mulhilo16(x2, m1, &hi1, &lo1);
        x0 = _mm512_ternarylogic_epi32(hi1, x1, _mm512_set1_epi32((int)k0), 0x96); /* a three-way xor */
        x2 = _mm512_ternarylogic_epi32(hi0, x3, _mm512_set1_epi32((int)k1), 0x96);
        x1 = lo1;
        x3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    /* transpose: 128-bit lane q of e, f, g, h holds counters 4q, 4q + 1, 4q + 2, 4q + 3 whole */
    const __m512i a = _mm512_unpacklo_epi32(x0, x1), b = _mm512_unpacklo_epi32(x2, x3);
    const __m512i c = _mm512_unpackhi_epi32(x0, x1), d = _mm512_unpackhi_epi32(x2, x3);
    const __m512i e = _mm512_unpacklo_epi64(a, b), f = _mm512_unpackhi_epi64(a, b);
    const __m512i g = _mm512_unpacklo_epi64(c, d), h = _mm512_unpackhi_epi64(c, d);
    const __m512i t0 = _mm512_shuffle_i32x4(e, f, 0x44), t1 = _mm512_shuffle_i32x4(g, h, 0x44);
    const __m512i t2 = _mm512_shuffle_i32x4(e, f, 0xEE), t3 = _mm512_shuffle_i32x4(g, h, 0xEE);
    _mm512_storeu_si512(out, _mm512_shuffle_i32x4(t0, t1, 0x88));
    _mm512_storeu_si512(out + 16, _mm512_shuffle_i32x4(t0, t1, 0xDD));
    _mm512_storeu_si512(out + 32, _mm512_shuffle_i32x4(t2, t3, 0x88));
    _mm512_storeu_si512(out + 48, _mm512_shuffle_i32x4(t2, t3, 0xDD));
}

void ns_rng_fill_u32(uint64_t seed, uint32_t stream, uint32_t a, uint32_t b, uint32_t c0, size_t n, uint32_t *out)
{
    const uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    const __m512i x0 = _mm512_set1_epi32((int)stream), x1 = _mm512_set1_epi32((int)a), x2 = _mm512_set1_epi32((int)b);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    size_t start = 0;
    for (; start + 16 <= n; start += 16)
        philox16(k0, k1, x0, x1, x2, _mm512_add_epi32(_mm512_set1_epi32((int)(c0 + (uint32_t)start)), iota), out + 4 * start);
    if (start < n) { /* the last few counters: through a buffer, so that out gets exactly 4 n words */
        uint32_t last[64];
        philox16(k0, k1, x0, x1, x2, _mm512_add_epi32(_mm512_set1_epi32((int)(c0 + (uint32_t)start)), iota), last);
        memcpy(out + 4 * start, last, 4 * (n - start) * sizeof *out);
    }
}
#else
void ns_rng_fill_u32(uint64_t seed, uint32_t stream, uint32_t a, uint32_t b, uint32_t c0, size_t n, uint32_t *out)
{
    enum { CHUNK = 64 };
    uint32_t x0[CHUNK], x1[CHUNK], x2[CHUNK], x3[CHUNK];
    for (size_t start = 0; start < n; start += CHUNK) {
        size_t m = n - start < CHUNK ? n - start : CHUNK;
        for (size_t j = 0; j < m; j++) {
            x0[j] = stream;
            x1[j] = a;
            x2[j] = b;
            x3[j] = c0 + (uint32_t)(start + j);
        }
        uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
        for (int round = 0; round < 10; round++) {
            for (size_t j = 0; j < m; j++) {
                uint64_t p0 = (uint64_t)PHILOX_M0 * x0[j], p1 = (uint64_t)PHILOX_M1 * x2[j];
                uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1[j] ^ k0, y2 = (uint32_t)(p0 >> 32) ^ x3[j] ^ k1;
                x1[j] = (uint32_t)p1;
                x3[j] = (uint32_t)p0;
                x0[j] = y0;
                x2[j] = y2;
            }
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        for (size_t j = 0; j < m; j++) {
            uint32_t *o = out + 4 * (start + j);
            o[0] = x0[j];
            o[1] = x1[j];
            o[2] = x2[j];
            o[3] = x3[j];
        }
    }
}
#endif

double ns_rng_normal_from(double u1, double u2)
{
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* The standard normal's inverse CDF: P. J. Acklam's rational approximations (a central one for
 * 0.02425 <= p <= 0.97575, one in sqrt(-2 log p) for the tails). */
double ns_rng_normal_quantile(double p)
{
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00};
    if (!(p > 0)) return -HUGE_VAL;
    if (!(p < 1)) return HUGE_VAL;
    if (p < 0.02425 || p > 0.97575) {
        double q = sqrt(-2 * log(p < 0.5 ? p : 1 - p));
        double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                   ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        return p < 0.5 ? x : -x;
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* The standard normal's CDF. */
static double normal_cdf(double z) { return 0.5 * erfc(-z * 0.7071067811865476); }

int ns_dist_redraw(ns_dist *d, double lo, double hi)
{
    if (d->kind != NS_DIST_NORMAL || isnan(lo) || isnan(hi) || !(lo < hi) || !(d->b >= 0) || !isfinite(d->a))
        return -1;
    if (d->b == 0) {
        if (!(d->a >= lo && d->a <= hi)) return -1;
        d->kind = NS_DIST_NORMAL_REDRAW, d->lo = lo, d->hi = hi, d->mirror = 0, d->p_lo = 0, d->p_hi = 1;
        return 0;
    }
    double zl = (lo - d->a) / d->b, zh = (hi - d->a) / d->b;
    /* the CDF loses its precision above 0 (1 - tiny): keep the finite bounds below 0 if a
     * mirror image has fewer above */
    int up = (isfinite(zl) && zl > 0) + (isfinite(zh) && zh > 0);
    int up_m = (isfinite(zh) && -zh > 0) + (isfinite(zl) && -zl > 0);
    int mirror = up_m < up;
    double pl = normal_cdf(mirror ? -zh : zl), ph = normal_cdf(mirror ? -zl : zh);
    if (!(ph - pl >= 1e-12)) return -1;
    d->kind = NS_DIST_NORMAL_REDRAW, d->lo = lo, d->hi = hi, d->mirror = mirror, d->p_lo = pl, d->p_hi = ph;
    return 0;
}

/* A redrawn normal: the inverse CDF of the truncated normal at u, clamped into [lo, hi] against
 * rounding. */
static double redrawn_normal(const ns_dist *d, double u)
{
    double x = d->a;
    if (d->b > 0) {
        double z = ns_rng_normal_quantile(d->p_lo + u * (d->p_hi - d->p_lo));
        x = d->a + d->b * (d->mirror ? -z : z);
    }
    return x < d->lo ? d->lo : x > d->hi ? d->hi : x;
}

double ns_dist_draw(const ns_dist *d, double u1, double u2)
{
    switch (d->kind) {
    case NS_DIST_UNIFORM: return d->a + (d->b - d->a) * u1;
    case NS_DIST_NORMAL: return d->a + d->b * ns_rng_normal_from(u1, u2);
    case NS_DIST_NORMAL_REDRAW: return redrawn_normal(d, u1);
    case NS_DIST_CAUCHY: return d->a + d->b * tan(3.141592653589793 * (u1 - 0.5)); /* inverse CDF; u1 in (0, 1) */
    default: return d->a;
    }
}

double ns_dist_min(const ns_dist *d)
{
    if (d->kind == NS_DIST_NORMAL_REDRAW) return d->lo;
    return (d->kind == NS_DIST_NORMAL || d->kind == NS_DIST_CAUCHY) && d->b > 0 ? -HUGE_VAL : d->a;
}

double ns_dist_max(const ns_dist *d)
{
    if (d->kind == NS_DIST_NORMAL_REDRAW) return d->hi;
    if (d->kind == NS_DIST_UNIFORM) return d->b;
    return (d->kind == NS_DIST_NORMAL || d->kind == NS_DIST_CAUCHY) && d->b > 0 ? HUGE_VAL : d->a;
}
