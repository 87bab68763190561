/* base/rng.h — counter-based random numbers (Random123 Philox4x32-10). A draw is a pure function
 * of (seed, stream, a, b, c), so results do not depend on thread count or order of evaluation. */
#ifndef NS_RNG_H
#define NS_RNG_H

#include <stddef.h>
#include <stdint.h>

#include <Random123/philox.h>

/* Streams keep the users of one seed apart. */
enum {
    NS_STREAM_INIT = 1,   /* initial states: (pop, unit, variable) */
    NS_STREAM_CONNECT,    /* connection rules: (proj, unit, block) */
    NS_STREAM_WEIGHT,     /* weights and delays: (proj, unit, index) */
    NS_STREAM_DEVICE,     /* devices: (device, step, unit) */
    NS_STREAM_PARAM       /* per-unit parameters: (pop, unit, parameter) */
};

/* Four raw 32-bit draws from one counter (inline: the hot loops of devices call it). */
static inline void ns_rng_u32x4(uint64_t seed, uint32_t stream, uint32_t a, uint32_t b, uint32_t c, uint32_t out[4])
{
    philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    philox4x32_ctr_t ctr = {{stream, a, b, c}};
    philox4x32_ctr_t r = philox4x32(ctr, key);
    for (int i = 0; i < 4; i++) out[i] = r.v[i];
}

/* The raw draws of counters (stream, a, b, c0) .. (stream, a, b, c0 + n - 1), four each, into
 * out[4n], equal to n calls of ns_rng_u32x4: a plain loop over arrays that the compiler
 * vectorizes, for devices that draw for every unit every step. */
void ns_rng_fill_u32(uint64_t seed, uint32_t stream, uint32_t a, uint32_t b, uint32_t c0, size_t n, uint32_t *out);

/* Four uniform numbers in (0, 1) from one counter. */
void ns_rng_u01x4(uint64_t seed, uint32_t stream, uint32_t a, uint32_t b, uint32_t c, double out[4]);
/* A standard normal from two uniforms (Box-Muller). */
double ns_rng_normal_from(double u1, double u2);

/* A number given as a constant or a distribution (weights, delays, initial values). */
typedef enum { NS_DIST_CONST, NS_DIST_UNIFORM, NS_DIST_NORMAL, NS_DIST_CAUCHY } ns_dist_kind;
typedef struct {
    ns_dist_kind kind;
    double a, b; /* constant a; uniform on [a, b); normal with mean a, standard deviation b; Cauchy
                    (Lorentzian) with median a, half-width at half-maximum b */
} ns_dist;

/* Draw from d with two uniforms in (0, 1). */
double ns_dist_draw(const ns_dist *d, double u1, double u2);
/* Smallest and largest value d can give (+-inf for a normal or a Cauchy). */
double ns_dist_min(const ns_dist *d);
double ns_dist_max(const ns_dist *d);

#endif
