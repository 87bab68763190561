/* base/rng.c — Philox4x32-10 draws (see rng.h). 32-bit outputs become doubles in (0, 1) by
 * centring on the half-ulp grid, so log(u) is always finite. */
#include "base/rng.h"

#include <math.h>

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

double ns_rng_normal_from(double u1, double u2)
{
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double ns_dist_draw(const ns_dist *d, double u1, double u2)
{
    switch (d->kind) {
    case NS_DIST_UNIFORM: return d->a + (d->b - d->a) * u1;
    case NS_DIST_NORMAL: return d->a + d->b * ns_rng_normal_from(u1, u2);
    case NS_DIST_CAUCHY: return d->a + d->b * tan(3.141592653589793 * (u1 - 0.5)); /* inverse CDF; u1 in (0, 1) */
    default: return d->a;
    }
}

double ns_dist_min(const ns_dist *d)
{
    return (d->kind == NS_DIST_NORMAL || d->kind == NS_DIST_CAUCHY) && d->b > 0 ? -HUGE_VAL : d->a;
}

double ns_dist_max(const ns_dist *d)
{
    if (d->kind == NS_DIST_UNIFORM) return d->b;
    return (d->kind == NS_DIST_NORMAL || d->kind == NS_DIST_CAUCHY) && d->b > 0 ? HUGE_VAL : d->a;
}
