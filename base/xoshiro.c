/* base/xoshiro.c — see xoshiro.h. */
#include "base/xoshiro.h"

#include <math.h>

void ns_xoshiro_seed(ns_xoshiro *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = ns_splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ns_xoshiro_next(ns_xoshiro *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double ns_xoshiro_uniform(ns_xoshiro *r) { return (double)(ns_xoshiro_next(r) >> 11) * 0x1p-53; }

double ns_xoshiro_range(ns_xoshiro *r, double lo, double hi) { return lo + (hi - lo) * ns_xoshiro_uniform(r); }

double ns_xoshiro_normal(ns_xoshiro *r)
{
    double u1 = 1.0 - ns_xoshiro_uniform(r), u2 = ns_xoshiro_uniform(r); /* u1 in (0, 1] */
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

size_t ns_xoshiro_below(ns_xoshiro *r, size_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
    do x = ns_xoshiro_next(r);
    while (x >= lim);
    return (size_t)(x % n);
}
