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
typedef enum { NS_DIST_CONST, NS_DIST_UNIFORM, NS_DIST_NORMAL, NS_DIST_CAUCHY, NS_DIST_NORMAL_REDRAW } ns_dist_kind;
typedef struct {
    ns_dist_kind kind;
    double a, b; /* constant a; uniform on [a, b); normal with mean a, standard deviation b; Cauchy
                    (Lorentzian) with median a, half-width at half-maximum b */
    /* NS_DIST_NORMAL_REDRAW (made by ns_dist_redraw only, which sets these; other kinds never
     * read them): the normal of a, b whose draws outside [lo, hi] are redrawn (NEST's
     * nest.math.redraw). */
    double lo, hi;
    double p_lo, p_hi; /* the standard normal's CDF at the (mirrored) bounds */
    int mirror;        /* drawn as -(a draw of the mirrored range): finite bounds kept <= 0 */
} ns_dist;

/* Make the normal d (NS_DIST_NORMAL) an NS_DIST_NORMAL_REDRAW: every draw outside [lo, hi] is
 * drawn again (either bound may be infinite; lo < hi, or lo <= a <= hi for sd 0): the draws then follow the normal truncated to [lo, hi], which is
 * what redrawing until the draw falls inside gives. They are drawn by the inverse CDF from the
 * same one uniform each draw uses (no extra random numbers, so a draw still depends only on its
 * counter: the same for any thread count), accurate to about 1e-9 relative. Returns 0, or -1
 * when d is not a normal or [lo, hi] is empty or holds less than 1e-12 of the distribution
 * (d unchanged). */
int ns_dist_redraw(ns_dist *d, double lo, double hi);

/* Draw from d with two uniforms in (0, 1). */
double ns_dist_draw(const ns_dist *d, double u1, double u2);
/* Smallest and largest value d can give (+-inf for a normal or a Cauchy; a redrawn normal's lo
 * and hi). */
double ns_dist_min(const ns_dist *d);
double ns_dist_max(const ns_dist *d);
/* The standard normal's inverse CDF at p in (0, 1) (relative error about 1e-9; +-inf at 1, 0). */
double ns_rng_normal_quantile(double p);

#endif
