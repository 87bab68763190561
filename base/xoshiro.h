/* base/xoshiro.h — a seeded random stream, xoshiro256** (Blackman & Vigna) seeded through
 * splitmix64 (and splitmix64 itself, for counter-based draws): the one sequential generator of the weight initialisers (CfC / LTC cells, the NCP
 * wiring, the trainer's layers). The engine's own streams are counter-based (base/rng.h). */
#ifndef NS_XOSHIRO_H
#define NS_XOSHIRO_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64's finaliser: a bijection on 64-bit words with full avalanche. */
static inline uint64_t ns_splitmix64_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* splitmix64 (Steele, Lea & Flood): advance *x by the golden ratio and mix it. */
static inline uint64_t ns_splitmix64(uint64_t *x)
{
    return ns_splitmix64_mix(*x += 0x9e3779b97f4a7c15ULL);
}

typedef struct {
    uint64_t s[4];
} ns_xoshiro;

/* Seed the stream; any seed (0 too) gives a good state. */
void ns_xoshiro_seed(ns_xoshiro *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t ns_xoshiro_next(ns_xoshiro *r);
/* Uniform double in [0, 1), 53 random bits. */
double ns_xoshiro_uniform(ns_xoshiro *r);
/* Uniform double in [lo, hi). */
double ns_xoshiro_range(ns_xoshiro *r, double lo, double hi);
/* Standard normal (Box-Muller). */
double ns_xoshiro_normal(ns_xoshiro *r);
/* Uniform integer in [0, n), n >= 1, without modulo bias. */
size_t ns_xoshiro_below(ns_xoshiro *r, size_t n);

#endif
