/* models/kg_field.c — `kg_field`: F = 1 or 2 coupled real Klein–Gordon fields on an nx x ny lattice
 * (the house's MODELS.md §8(a); the formulation is ours), leapfrog with damping, 5- or 9-point
 * Laplacian, periodic / reflecting / absorbing edges, a source port per field, white noise. */
#include "models/model.h"
#include "models/input.h"
#include "base/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    double nx, ny, h, F, c, m;
    double C_EE, C_EI, C_IE, C_II, M_EE, M_EI, M_IE, M_II;
    double gamma, gamma2, stencil, boundary, sponge_width, sponge_gamma, sigma;
} kg_params;

enum { KG_PERIODIC, KG_REFLECTING, KG_ABSORBING };

/* What init derives: the coupling and mass matrices (F = 1: C = c^2, M = m^2 in the first entry),
 * the stencil's largest lambda and the bound. */
typedef struct {
    int F, stencil, boundary;
    double C[2][2], M[2][2];
    double inv_h2, lambda_max, omega_max, dt;
} kg_consts;

/* Population data: the lattice's shape, the noise seed and the sponge's extra damping per site. */
typedef struct {
    size_t nx, ny;
    uint64_t seed;
    double *sponge; /* extra gamma (1/ms) per site, absorbing edges only; else NULL */
} kg_data;

enum { PHI, PHI_PREV, PHI2, PHI2_PREV, ENERGY };

static const ns_state_var kg_state[] = {
    {"phi", "1", "field 1 (E) at the current step", 0, NS_BOUND_FINITE},
    {"phi_prev", "1", "field 1 at the step before (leapfrog's second level)", 0, NS_BOUND_FINITE},
    {"phi2", "1", "field 2 (I) at the current step (F = 2; stays 0 for F = 1)", 0, NS_BOUND_FINITE},
    {"phi2_prev", "1", "field 2 at the step before", 0, NS_BOUND_FINITE},
    {"energy", "um^2/ms^2", "the site's share of the energy H (their sum is H), made at each window's end", 0,
     NS_BOUND_ANY},
};

/* A noise stream of its own: (site, step low word, step high word) under the population's seed. */
enum { KG_STREAM_NOISE = 0x4b47 };

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(kg_params, field)}
static const ns_param kg_param_table[] = {
    P(nx, "sites", 0, 0, 1e9, "lattice columns (0: the population size / ny); nx x ny must be the size"),
    P(ny, "sites", 1, 1, 1e9, "lattice rows (1: a chain)"),
    P(h, "um", 100, 1e-9, HUGE_VAL, "lattice spacing"),
    P(F, "1", 1, 1, 2, "number of fields: 1, or 2 (E/I, coupled by the matrices C and M)"),
    P(c, "um/ms", 100, 0, HUGE_VAL, "F = 1: wave speed (1 m/s = 1000 um/ms)"),
    P(m, "rad/ms", 1, 0, HUGE_VAL, "F = 1: mass, the gap frequency"),
    P(C_EE, "um^2/ms^2", 1e4, -HUGE_VAL, HUGE_VAL, "F = 2: coupling matrix C (symmetric)"),
    P(C_EI, "um^2/ms^2", 0, -HUGE_VAL, HUGE_VAL, "F = 2: C of field 2 in field 1's equation"),
    P(C_IE, "um^2/ms^2", 0, -HUGE_VAL, HUGE_VAL, "F = 2: C of field 1 in field 2's equation"),
    P(C_II, "um^2/ms^2", 1e4, -HUGE_VAL, HUGE_VAL, "F = 2: C of field 2 in its own equation"),
    P(M_EE, "1/ms^2", 1, -HUGE_VAL, HUGE_VAL, "F = 2: mass matrix M (symmetric)"),
    P(M_EI, "1/ms^2", 0, -HUGE_VAL, HUGE_VAL, "F = 2: M of field 2 in field 1's equation"),
    P(M_IE, "1/ms^2", 0, -HUGE_VAL, HUGE_VAL, "F = 2: M of field 1 in field 2's equation"),
    P(M_II, "1/ms^2", 1, -HUGE_VAL, HUGE_VAL, "F = 2: M of field 2 in its own equation"),
    P(gamma, "1/ms", 0, 0, HUGE_VAL, "damping of field 1 (the term 2 gamma dphi/dt)"),
    P(gamma2, "1/ms", 0, 0, HUGE_VAL, "damping of field 2"),
    P(stencil, "points", 5, 5, 9, "Laplacian: 5 (nearest neighbours) or 9 (isotropic, with corners)"),
    P(boundary, "1", 0, 0, 2, "edges: 0 periodic, 1 reflecting (Neumann), 2 absorbing (reflecting edges under a sponge)"),
    P(sponge_width, "sites", 8, 1, 1e9, "absorbing: the sponge's width w; gamma rises as ((w - d)/w)^2 towards the edge"),
    P(sponge_gamma, "1/ms", 1, 0, HUGE_VAL, "absorbing: the damping added at the edge"),
    P(sigma, "1/ms^1.5", 0, 0, HUGE_VAL, "white-noise forcing of each field's equation (sigma xi(t), <xi xi'> = delta)"),
};
#undef P

/* Eigenvalues of the symmetric 2 x 2 matrix [[a, b], [b, d]]. */
static void sym_eig(double a, double b, double d, double *lo, double *hi)
{
    const double mean = 0.5 * (a + d), r = hypot(0.5 * (a - d), b);
    *lo = mean - r;
    *hi = mean + r;
}

static int is_int(double x) { return x == floor(x); }

static int kg_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    const kg_params *p = params;
    kg_consts *k = consts;
    if (!is_int(p->F) || !is_int(p->nx) || !is_int(p->ny) || !is_int(p->boundary) || !is_int(p->sponge_width)) {
        snprintf(err, errlen, "kg_field: F, nx, ny, boundary and sponge_width are whole numbers (F %g, nx %g, ny %g, "
                 "boundary %g, sponge_width %g)", p->F, p->nx, p->ny, p->boundary, p->sponge_width);
        return -1;
    }
    if (p->stencil != 5 && p->stencil != 9) {
        snprintf(err, errlen, "kg_field: stencil %g is not 5 or 9", p->stencil);
        return -1;
    }
    k->F = (int)p->F;
    k->stencil = (int)p->stencil;
    k->boundary = (int)p->boundary;
    k->dt = dt;
    k->inv_h2 = 1.0 / (p->h * p->h);
    k->lambda_max = (k->stencil == 5 ? 8.0 : 16.0 / 3.0) * k->inv_h2;
    double wmax2;
    if (k->F == 1) {
        k->C[0][0] = p->c * p->c;
        k->M[0][0] = p->m * p->m;
        k->C[0][1] = k->C[1][0] = k->C[1][1] = k->M[0][1] = k->M[1][0] = k->M[1][1] = 0.0;
        wmax2 = k->M[0][0] + k->lambda_max * k->C[0][0];
    } else {
        if (p->C_EI != p->C_IE || p->M_EI != p->M_IE) {
            snprintf(err, errlen, "kg_field: F = 2 needs symmetric C and M (C_EI %g, C_IE %g; M_EI %g, M_IE %g): "
                     "without it there is neither an energy nor a stability bound", p->C_EI, p->C_IE, p->M_EI, p->M_IE);
            return -1;
        }
        k->C[0][0] = p->C_EE, k->C[0][1] = p->C_EI, k->C[1][0] = p->C_IE, k->C[1][1] = p->C_II;
        k->M[0][0] = p->M_EE, k->M[0][1] = p->M_EI, k->M[1][0] = p->M_IE, k->M[1][1] = p->M_II;
        /* the smallest eigenvalue of lambda C + M is concave in lambda, the largest convex: the
         * ends of [0, lambda_max] decide both */
        double lo0, hi0, lo1, hi1, L = k->lambda_max;
        sym_eig(p->M_EE, p->M_EI, p->M_II, &lo0, &hi0);
        sym_eig(L * p->C_EE + p->M_EE, L * p->C_EI + p->M_EI, L * p->C_II + p->M_II, &lo1, &hi1);
        const double tol0 = 1e-12 * (fabs(p->M_EE) + fabs(p->M_EI) + fabs(p->M_II)),
                     tol1 = 1e-12 * (fabs(L * p->C_EE + p->M_EE) + fabs(L * p->C_EI + p->M_EI) + fabs(L * p->C_II + p->M_II));
        if (lo0 < -tol0 || lo1 < -tol1) {
            snprintf(err, errlen, "kg_field: lambda C + M is not positive semidefinite for every lambda in "
                     "[0, %g] 1/um^2 (smallest eigenvalue %g at lambda 0, %g at lambda %g): the fields would grow",
                     L, lo0, lo1, L);
            return -1;
        }
        wmax2 = hi0 > hi1 ? hi0 : hi1;
    }
    k->omega_max = sqrt(wmax2);
    if (dt * k->omega_max >= 2.0) {
        const double bound = 2.0 / k->omega_max;
        /* the largest dt of four significant digits below the bound */
        const double scale = pow(10.0, floor(log10(bound)) - 3);
        double stable = floor(bound / scale) * scale;
        if (stable >= bound) stable -= scale;
        snprintf(err, errlen, "kg_field: dt %g ms is at or over leapfrog's bound dt < 2/omega_max = %.9g ms "
                 "(omega_max = %.9g rad/ms, the largest eigenvalue of lambda C + M up to lambda = %g/h^2); "
                 "the largest stable dt is below it: %.4g ms", dt, bound, k->omega_max,
                 k->stencil == 5 ? 8.0 : 16.0 / 3.0, stable);
        return -1;
    }
    return 0;
}

static void kg_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (int v = 0; v <= ENERGY; v++)
        for (size_t i = 0; i < n; i++) state[v][i] = 0.0;
}

static void *kg_data_create(const ns_model *m, const void *params, size_t n, double dt, const ns_solver_opts *o,
                            char *err, size_t errlen)
{
    (void)m, (void)dt;
    const kg_params *p = params;
    size_t ny = (size_t)p->ny, nx = p->nx > 0 ? (size_t)p->nx : n / ny;
    if (nx * ny != n || n == 0) {
        snprintf(err, errlen, "kg_field: the lattice nx x ny = %zu x %zu must have as many sites as the population (%zu)",
                 nx, ny, n);
        return NULL;
    }
    kg_data *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->nx = nx, d->ny = ny, d->seed = o->seed;
    if ((int)p->boundary == KG_ABSORBING) {
        if (!(d->sponge = malloc(n * sizeof *d->sponge))) {
            free(d);
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        const double w = p->sponge_width;
        for (size_t iy = 0; iy < ny; iy++)
            for (size_t ix = 0; ix < nx; ix++) {
                double dist = (double)(ix < nx - 1 - ix ? ix : nx - 1 - ix);
                if (ny > 1) {
                    const double dy = (double)(iy < ny - 1 - iy ? iy : ny - 1 - iy);
                    if (dy < dist) dist = dy;
                }
                const double q = dist < w ? (w - dist) / w : 0.0;
                d->sponge[iy * nx + ix] = p->sponge_gamma * q * q;
            }
    }
    return d;
}

static void kg_data_free(void *data)
{
    kg_data *d = data;
    if (d) free(d->sponge);
    free(d);
}

/* The neighbours' indices of column ix (row iy) under the boundary: ghosts mirror the edge site
 * (reflecting: the Neumann lattice Laplacian, symmetric) or wrap (periodic). */
static inline size_t nb_lo(size_t i, size_t n, int periodic) { return i ? i - 1 : periodic ? n - 1 : 0; }
static inline size_t nb_hi(size_t i, size_t n, int periodic) { return i + 1 < n ? i + 1 : periodic ? 0 : n - 1; }

/* The lattice Laplacian of f at (row pointers above rm, at r0, below rp; columns im, ix, ip) times h^2. */
static inline double lap_h2(const double *rm, const double *r0, const double *rp, size_t im, size_t ix, size_t ip,
                            int nine)
{
    const double edges = r0[im] + r0[ip] + rm[ix] + rp[ix];
    if (!nine) return edges - 4.0 * r0[ix];
    return (4.0 * edges + rm[im] + rm[ip] + rp[im] + rp[ip] - 20.0 * r0[ix]) / 6.0;
}

/* The sites [lo, hi) of one row of F = 1 without noise or sponge (kg_update's fast path): the same
 * expressions in the same order as the generic loop, so the same bits. c0, cm, cp: the current
 * level's row and the rows above and below; o: the level before, overwritten by the next; s: the
 * source row (read and cleared) or NULL; out: the graded output row or NULL. The interior columns
 * run in a loop without branches that the compiler vectorises; the flags are constants where it is
 * inlined below. */
typedef struct {
    double C, M, dt2, one_m, one_p; /* C[0][0], M[0][0], dt^2, 1 - gamma dt, 1 + gamma dt */
    double ih2;
} kg_f1;

static inline __attribute__((always_inline)) double kg_f1_site(const kg_f1 *q, double lap, double phi, double prev,
                                                               double src, int damped, int with_src)
{
    double force = 0.0;
    if (with_src) force += src;
    force += q->C * lap - q->M * phi;
    /* undamped, 1 - gdt and 1 + gdt are exactly 1: multiplying and dividing by them changes no bit */
    if (!damped) return 2.0 * phi - prev + q->dt2 * force;
    return (2.0 * phi - q->one_m * prev + q->dt2 * force) / q->one_p;
}

static inline __attribute__((always_inline)) double kg_lap5(const double *cm, const double *c0, const double *cp,
                                                            size_t im, size_t ix, size_t ip)
{
    const double edges = c0[im] + c0[ip] + cm[ix] + cp[ix];
    return edges - 4.0 * c0[ix];
}

static inline __attribute__((always_inline)) double kg_lap9(const double *cm, const double *c0, const double *cp,
                                                            size_t im, size_t ix, size_t ip)
{
    const double edges = c0[im] + c0[ip] + cm[ix] + cp[ix];
    return (4.0 * edges + cm[im] + cm[ip] + cp[im] + cp[ip] - 20.0 * c0[ix]) / 6.0;
}

static inline __attribute__((always_inline)) void
kg_f1_row(const kg_f1 *q, const double *restrict cm, const double *restrict c0, const double *restrict cp,
          double *restrict o, double *restrict s, double *restrict out, size_t nx, size_t x0, size_t x1, int per,
          int nine, int damped, int with_src, int with_out)
{
    const double ih2 = q->ih2;
    /* the edge columns: their neighbours under the boundary */
#define KG_F1_AT(ix, im, ip)                                                                                          \
    do {                                                                                                           \
        const double lap = ih2 * (nine ? kg_lap9(cm, c0, cp, im, ix, ip) : kg_lap5(cm, c0, cp, im, ix, ip));      \
        const double next = kg_f1_site(q, lap, c0[ix], o[ix], with_src ? s[ix] : 0.0, damped, with_src);           \
        if (with_src) s[ix] = 0.0;                                                                                 \
        o[ix] = next;                                                                                              \
        if (with_out) out[ix] = next;                                                                              \
    } while (0)
    size_t ix = x0;
    if (ix == 0 && ix < x1) {
        KG_F1_AT(0, nb_lo(0, nx, per), nb_hi(0, nx, per));
        ix = 1;
    }
    const size_t xe = x1 < nx - 1 ? x1 : nx - 1; /* the interior ends before the last column */
    for (; ix < xe; ix++) KG_F1_AT(ix, ix - 1, ix + 1);
    if (ix < x1) /* the last column (nx > 1 here: column 0 was done above) */
        KG_F1_AT(ix, nb_lo(ix, nx, per), nb_hi(ix, nx, per));
#undef KG_F1_AT
}

/* kg_f1_row with its flags as constants: one specialised copy per combination. */
#define KG_F1_CALL(n9, dmp, src, out_)                                                                             \
    kg_f1_row(q, cm, c0, cp, o, s, out, nx, x0, x1, per, n9, dmp, src, out_)
static void kg_f1_row_any(const kg_f1 *q, const double *cm, const double *c0, const double *cp, double *o, double *s,
                          double *out, size_t nx, size_t x0, size_t x1, int per, int nine, int damped)
{
    const int code = nine << 3 | damped << 2 | (s != NULL) << 1 | (out != NULL);
    switch (code) {
    case 0: KG_F1_CALL(0, 0, 0, 0); break;
    case 1: KG_F1_CALL(0, 0, 0, 1); break;
    case 2: KG_F1_CALL(0, 0, 1, 0); break;
    case 3: KG_F1_CALL(0, 0, 1, 1); break;
    case 4: KG_F1_CALL(0, 1, 0, 0); break;
    case 5: KG_F1_CALL(0, 1, 0, 1); break;
    case 6: KG_F1_CALL(0, 1, 1, 0); break;
    case 7: KG_F1_CALL(0, 1, 1, 1); break;
    case 8: KG_F1_CALL(1, 0, 0, 0); break;
    case 9: KG_F1_CALL(1, 0, 0, 1); break;
    case 10: KG_F1_CALL(1, 0, 1, 0); break;
    case 11: KG_F1_CALL(1, 0, 1, 1); break;
    case 12: KG_F1_CALL(1, 1, 0, 0); break;
    case 13: KG_F1_CALL(1, 1, 0, 1); break;
    case 14: KG_F1_CALL(1, 1, 1, 0); break;
    default: KG_F1_CALL(1, 1, 1, 1); break;
    }
}
#undef KG_F1_CALL

/* The same for F = 2 (field 2's source port undriven): a* the rows of field 1's current level, b*
 * field 2's; oa, ob their levels before, overwritten by the next; s field 1's source row or NULL. */
typedef struct {
    double C[2][2], M[2][2], dt2, one_m[2], one_p[2];
    double ih2;
} kg_f2;

static inline __attribute__((always_inline)) void
kg_f2_row(const kg_f2 *q, const double *restrict am, const double *restrict a0, const double *restrict ap,
          const double *restrict bm, const double *restrict b0, const double *restrict bp, double *restrict oa,
          double *restrict ob, double *restrict s, double *restrict out, size_t nx, size_t x0, size_t x1, int per,
          int nine, int damped, int with_src, int with_out)
{
    const double ih2 = q->ih2;
#define KG_F2_AT(ix, im, ip)                                                                                          \
    do {                                                                                                           \
        const double la = ih2 * (nine ? kg_lap9(am, a0, ap, im, ix, ip) : kg_lap5(am, a0, ap, im, ix, ip));       \
        const double lb = ih2 * (nine ? kg_lap9(bm, b0, bp, im, ix, ip) : kg_lap5(bm, b0, bp, im, ix, ip));       \
        double fa = 0.0, fb = 0.0;                                                                                 \
        if (with_src) {                                                                                            \
            fa += s[ix];                                                                                           \
            s[ix] = 0.0;                                                                                           \
        }                                                                                                          \
        fa += q->C[0][0] * la - q->M[0][0] * a0[ix];                                                               \
        fa += q->C[0][1] * lb - q->M[0][1] * b0[ix];                                                               \
        fb += q->C[1][0] * la - q->M[1][0] * a0[ix];                                                               \
        fb += q->C[1][1] * lb - q->M[1][1] * b0[ix];                                                               \
        double na, nb;                                                                                             \
        if (!damped) {                                                                                             \
            na = 2.0 * a0[ix] - oa[ix] + q->dt2 * fa;                                                              \
            nb = 2.0 * b0[ix] - ob[ix] + q->dt2 * fb;                                                              \
        } else {                                                                                                   \
            na = (2.0 * a0[ix] - q->one_m[0] * oa[ix] + q->dt2 * fa) / q->one_p[0];                                \
            nb = (2.0 * b0[ix] - q->one_m[1] * ob[ix] + q->dt2 * fb) / q->one_p[1];                                \
        }                                                                                                          \
        oa[ix] = na;                                                                                               \
        ob[ix] = nb;                                                                                               \
        if (with_out) out[ix] = na;                                                                                \
    } while (0)
    size_t ix = x0;
    if (ix == 0 && ix < x1) {
        KG_F2_AT(0, nb_lo(0, nx, per), nb_hi(0, nx, per));
        ix = 1;
    }
    const size_t xe = x1 < nx - 1 ? x1 : nx - 1;
    for (; ix < xe; ix++) KG_F2_AT(ix, ix - 1, ix + 1);
    if (ix < x1) KG_F2_AT(ix, nb_lo(ix, nx, per), nb_hi(ix, nx, per));
#undef KG_F2_AT
}

#define KG_F2_CALL(n9, dmp, src, out_)                                                                             \
    kg_f2_row(q, am, a0, ap, bm, b0, bp, oa, ob, s, out, nx, x0, x1, per, n9, dmp, src, out_)
static void kg_f2_row_any(const kg_f2 *q, const double *am, const double *a0, const double *ap, const double *bm,
                          const double *b0, const double *bp, double *oa, double *ob, double *s, double *out, size_t nx,
                          size_t x0, size_t x1, int per, int nine, int damped)
{
    const int code = nine << 3 | damped << 2 | (s != NULL) << 1 | (out != NULL);
    switch (code) {
    case 0: KG_F2_CALL(0, 0, 0, 0); break;
    case 1: KG_F2_CALL(0, 0, 0, 1); break;
    case 2: KG_F2_CALL(0, 0, 1, 0); break;
    case 3: KG_F2_CALL(0, 0, 1, 1); break;
    case 4: KG_F2_CALL(0, 1, 0, 0); break;
    case 5: KG_F2_CALL(0, 1, 0, 1); break;
    case 6: KG_F2_CALL(0, 1, 1, 0); break;
    case 7: KG_F2_CALL(0, 1, 1, 1); break;
    case 8: KG_F2_CALL(1, 0, 0, 0); break;
    case 9: KG_F2_CALL(1, 0, 0, 1); break;
    case 10: KG_F2_CALL(1, 0, 1, 0); break;
    case 11: KG_F2_CALL(1, 0, 1, 1); break;
    case 12: KG_F2_CALL(1, 1, 0, 0); break;
    case 13: KG_F2_CALL(1, 1, 0, 1); break;
    case 14: KG_F2_CALL(1, 1, 1, 0); break;
    default: KG_F2_CALL(1, 1, 1, 1); break;
    }
}
#undef KG_F2_CALL

/* One leapfrog step (step kstep of the window) for the sites [lo, hi) of the block: phi^{n+1} over
 * phi^{n-1} (the `old` arrays; each site reads only its own value there, and the neighbours'
 * current values in `cur`), and into the graded output row out (or NULL). */
static void kg_update(const ns_step_args *a, const kg_consts *k, const kg_data *d, const kg_params *p, int kstep,
                      double *const cur[2], double *const old[2], double *out, size_t lo, size_t hi)
{
    const size_t nx = d->nx, ny = d->ny;
    const int per = k->boundary == KG_PERIODIC, nine = k->stencil == 9, F = k->F;
    const double dt = k->dt, dt2 = dt * dt, ih2 = k->inv_h2;
    const double noise = p->sigma > 0 ? p->sigma / sqrt(dt) : 0.0;
    const int64_t step = a->step0 + kstep;
    double *const *phi = cur, *const *prev = old;
    double *src[2] = {ns_input_row(a, 0, kstep), ns_input_row(a, 1, kstep)};
    const double gam[2] = {p->gamma, p->gamma2};
    if (F == 1 && !(noise > 0) && !d->sponge) { /* the fast paths: row by row */
        const double gdt = (gam[0] + 0.0) * dt;
        const kg_f1 q = {k->C[0][0], k->M[0][0], dt2, 1.0 - gdt, 1.0 + gdt, ih2};
        for (size_t i = lo; i < hi;) {
            const size_t iy = i / nx, row = iy * nx, end = row + nx < hi ? row + nx : hi;
            const size_t ym = nb_lo(iy, ny, per), yp = nb_hi(iy, ny, per);
            /* the row's pointers, offset so that column ix is [ix] */
            kg_f1_row_any(&q, phi[0] + ym * nx, phi[0] + row, phi[0] + yp * nx, prev[0] + row,
                          src[0] ? src[0] + row : NULL, out ? out + row : NULL, nx, i - row, end - row, per, nine,
                          gdt != 0.0);
            i = end;
        }
    } else if (F == 2 && !(noise > 0) && !d->sponge && !src[1]) {
        const double g0 = (gam[0] + 0.0) * dt, g1 = (gam[1] + 0.0) * dt;
        const kg_f2 q = {{{k->C[0][0], k->C[0][1]}, {k->C[1][0], k->C[1][1]}},
                         {{k->M[0][0], k->M[0][1]}, {k->M[1][0], k->M[1][1]}},
                         dt2, {1.0 - g0, 1.0 - g1}, {1.0 + g0, 1.0 + g1}, ih2};
        for (size_t i = lo; i < hi;) {
            const size_t iy = i / nx, row = iy * nx, end = row + nx < hi ? row + nx : hi;
            const size_t ym = nb_lo(iy, ny, per) * nx, yp = nb_hi(iy, ny, per) * nx;
            kg_f2_row_any(&q, phi[0] + ym, phi[0] + row, phi[0] + yp, phi[1] + ym, phi[1] + row, phi[1] + yp,
                          prev[0] + row, prev[1] + row, src[0] ? src[0] + row : NULL, out ? out + row : NULL, nx,
                          i - row, end - row, per, nine, g0 != 0.0 || g1 != 0.0);
            i = end;
        }
    } else
        for (size_t i = lo; i < hi;) {
            const size_t iy = i / nx, row = iy * nx, end = row + nx < hi ? row + nx : hi;
            const size_t ym = nb_lo(iy, ny, per), yp = nb_hi(iy, ny, per);
            for (; i < end; i++) {
                const size_t ix = i - row, im = nb_lo(ix, nx, per), ip = nb_hi(ix, nx, per);
                double lap[2] = {0.0, 0.0}, xi[2] = {0.0, 0.0};
                for (int f = 0; f < F; f++)
                    lap[f] = ih2 * lap_h2(phi[f] + ym * nx, phi[f] + row, phi[f] + yp * nx, im, ix, ip, nine);
                if (noise > 0) {
                    double u[4];
                    ns_rng_u01x4(d->seed, KG_STREAM_NOISE, (uint32_t)i, (uint32_t)step, (uint32_t)((uint64_t)step >> 32), u);
                    xi[0] = noise * ns_rng_normal_from(u[0], u[1]);
                    xi[1] = noise * ns_rng_normal_from(u[2], u[3]);
                }
                const double extra = d->sponge ? d->sponge[i] : 0.0;
                double next[2];
                for (int f = 0; f < F; f++) {
                    double force = xi[f];
                    if (src[f]) {
                        force += src[f][i];
                        src[f][i] = 0.0;
                    }
                    for (int b = 0; b < F; b++) force += k->C[f][b] * lap[b] - k->M[f][b] * phi[b][i];
                    const double gdt = (gam[f] + extra) * dt;
                    next[f] = (2.0 * phi[f][i] - (1.0 - gdt) * prev[f][i] + dt2 * force) / (1.0 + gdt);
                }
                for (int f = 0; f < F; f++) prev[f][i] = next[f];
                if (out) out[i] = next[0];
            }
        }
    if (F == 1 && src[1]) /* a drive of field 2 has nothing to drive */
        for (size_t i = lo; i < hi; i++) src[1][i] = 0.0;
}

/* The energy of the sites [x0, x1) of one row of F = 1 (kg_energy's fast path, the same
 * expressions in the same order): a* the rows of phi^n, b* those of phi^{n-1}. */
static inline __attribute__((always_inline)) void
kg_f1_energy_row(const kg_f1 *q, const double *restrict am, const double *restrict a0, const double *restrict ap,
                 const double *restrict bm, const double *restrict b0, const double *restrict bp, double *restrict e,
                 size_t nx, size_t x0, size_t x1, int per, int nine, double idt, double h2)
{
    const double ih2 = q->ih2;
#define KG_F1_E(ix, im, ip)                                                                                          \
    do {                                                                                                           \
        double kin = 0.0, pot = 0.0;                                                                               \
        const double v = (a0[ix] - b0[ix]) * idt;                                                                  \
        kin += v * v;                                                                                              \
        const double na = -ih2 * (nine ? kg_lap9(am, a0, ap, im, ix, ip) : kg_lap5(am, a0, ap, im, ix, ip));      \
        pot += a0[ix] * (q->C * na + q->M * a0[ix]);                                                               \
        const double nb = -ih2 * (nine ? kg_lap9(bm, b0, bp, im, ix, ip) : kg_lap5(bm, b0, bp, im, ix, ip));      \
        pot += b0[ix] * (q->C * nb + q->M * b0[ix]);                                                               \
        e[ix] = h2 * (0.5 * kin + 0.25 * pot);                                                                     \
    } while (0)
    size_t ix = x0;
    if (ix == 0 && ix < x1) {
        KG_F1_E(0, nb_lo(0, nx, per), nb_hi(0, nx, per));
        ix = 1;
    }
    const size_t xe = x1 < nx - 1 ? x1 : nx - 1;
    for (; ix < xe; ix++) KG_F1_E(ix, ix - 1, ix + 1);
    if (ix < x1) KG_F1_E(ix, nb_lo(ix, nx, per), nb_hi(ix, nx, per));
#undef KG_F1_E
}

/* The sites' shares of H for the block (gamma = 0, s = 0 it is leapfrog's invariant up to
 * O(dt^2)): h^2 [ 1/2 |v|^2 + 1/4 (q(phi^n) + q(phi^{n-1})) ], v = (phi^n - phi^{n-1})/dt and
 * q(phi) = sum_ab phi_a (C_ab (-Lap phi_b) + M_ab phi_b), whose sum over the lattice is
 * sum c^2 |grad_h phi|^2 + m^2 phi^2 for one field. */
static void kg_energy(const ns_step_args *a, const kg_consts *k, const kg_data *d)
{
    const size_t nx = d->nx, ny = d->ny, lo = a->lo, hi = a->hi;
    const int per = k->boundary == KG_PERIODIC, nine = k->stencil == 9, F = k->F;
    const double ih2 = k->inv_h2, h2 = 1.0 / ih2, idt = 1.0 / k->dt;
    double *const lvl[2][2] = {{a->state[PHI], a->state[PHI2]}, {a->state[PHI_PREV], a->state[PHI2_PREV]}};
    double *e = a->state[ENERGY];
    if (F == 1) {
        const kg_f1 q = {k->C[0][0], k->M[0][0], 0.0, 0.0, 0.0, ih2};
        const double *A = lvl[0][0], *B = lvl[1][0];
        for (size_t i = lo; i < hi;) {
            const size_t iy = i / nx, row = iy * nx, end = row + nx < hi ? row + nx : hi;
            const size_t ym = nb_lo(iy, ny, per) * nx, yp = nb_hi(iy, ny, per) * nx;
            if (nine)
                kg_f1_energy_row(&q, A + ym, A + row, A + yp, B + ym, B + row, B + yp, e + row, nx, i - row, end - row,
                                 per, 1, idt, h2);
            else
                kg_f1_energy_row(&q, A + ym, A + row, A + yp, B + ym, B + row, B + yp, e + row, nx, i - row, end - row,
                                 per, 0, idt, h2);
            i = end;
        }
        return;
    }
    for (size_t i = lo; i < hi;) {
        const size_t iy = i / nx, row = iy * nx, end = row + nx < hi ? row + nx : hi;
        const size_t ym = nb_lo(iy, ny, per), yp = nb_hi(iy, ny, per);
        for (; i < end; i++) {
            const size_t ix = i - row, im = nb_lo(ix, nx, per), ip = nb_hi(ix, nx, per);
            double kin = 0.0, pot = 0.0;
            for (int f = 0; f < F; f++) {
                const double v = (lvl[0][f][i] - lvl[1][f][i]) * idt;
                kin += v * v;
            }
            for (int t = 0; t < 2; t++) {
                double neglap[2] = {0.0, 0.0};
                for (int f = 0; f < F; f++) {
                    const double *g = lvl[t][f];
                    neglap[f] = -ih2 * lap_h2(g + ym * nx, g + row, g + yp * nx, im, ix, ip, nine);
                }
                for (int f = 0; f < F; f++)
                    for (int b = 0; b < F; b++)
                        pot += lvl[t][f][i] * (k->C[f][b] * neglap[b] + k->M[f][b] * lvl[t][b][i]);
            }
            e[i] = h2 * (0.5 * kin + 0.25 * pot);
        }
    }
}

/* Step kstep over the sites [lo, hi) (empty when lo >= hi). */
static void kg_sweep(const ns_step_args *a, int kstep, double *const cur[2], double *const old[2], size_t lo, size_t hi)
{
    if (lo < hi) kg_update(a, a->consts, a->data, a->params, kstep, cur, old, ns_output_row(a, kstep), lo, hi);
}

/* A team step: every thread its block. The levels alternate their arrays by the step's parity
 * (the update writes phi^{n+1} over phi^{n-1}), and the steps go in pairs through the lattice in
 * one sweep: the first step row by row, the second two rows and a site behind it (a site's second
 * step needs the first step's level of the sites within 2 nx + 1 of it, and overwrites its level
 * n, which only they read), so the levels pass through memory once per two steps. The second step
 * of the sites whose neighbours lie in another block (or across the periodic edge between the
 * first and the last row) waits for a barrier; a second barrier ends the pair. A last odd step
 * goes alone, with one barrier. After an odd number of steps the two arrays trade their contents
 * once, so that at the window's end (recorders, the energy, the bound checks, the API) phi is the
 * current level; then the energy of the block and a last barrier (the next window's update
 * writes what it reads). */
static int kg_step(const ns_step_args *a)
{
    const kg_consts *k = a->consts;
    const kg_data *d = a->data;
    const size_t nx = d->nx, lo = a->lo, hi = a->hi, reach = 2 * nx + 1;
    double *const lv[2][2] = {{a->state[PHI], a->state[PHI2]}, {a->state[PHI_PREV], a->state[PHI2_PREV]}};
    /* the sites whose second step can follow the first inside the sweep: [ls, le), 2 nx + 1 from
     * the block's ends, which also keeps the first and the last row (periodic: each other's
     * neighbours) out of it */
    size_t ls = lo + reach, le = hi > reach ? hi - reach : 0;
    if (ls >= le) ls = le = hi; /* none: every second step waits */
    int par = 0; /* the arrays of level n: lv[par]; of level n-1: lv[!par] */
    int s = 0;
    for (; s + 1 < a->nsteps; s += 2) {
        double *const *A = lv[par], *const *B = lv[!par];
        size_t done = ls;
        for (size_t i = lo; i < hi;) { /* the first step row by row, the second behind it */
            const size_t end = (i / nx + 1) * nx < hi ? (i / nx + 1) * nx : hi;
            kg_sweep(a, s, A, B, i, end);
            i = end;
            const size_t upto = end > le + reach ? le : end > reach ? end - reach : 0;
            if (upto > done) {
                kg_sweep(a, s + 1, B, A, done, upto);
                done = upto;
            }
        }
        if (a->barrier) a->barrier(a->barrier_ctx); /* every block's first step is done */
        kg_sweep(a, s + 1, B, A, lo, ls < hi ? ls : hi);
        kg_sweep(a, s + 1, B, A, le > lo ? le : lo, hi);
        if (a->barrier) a->barrier(a->barrier_ctx); /* and its second */
    }
    if (s < a->nsteps) {
        kg_sweep(a, s, lv[par], lv[!par], lo, hi);
        if (a->barrier) a->barrier(a->barrier_ctx);
        par = !par;
    }
    if (par) {
        for (int f = 0; f < k->F; f++)
            for (size_t i = lo; i < hi; i++) {
                const double t = lv[0][f][i];
                lv[0][f][i] = lv[1][f][i];
                lv[1][f][i] = t;
            }
        if (a->barrier) a->barrier(a->barrier_ctx); /* every block's levels are in place */
    }
    kg_energy(a, k, d);
    if (a->barrier) a->barrier(a->barrier_ctx);
    return 0;
}

/* The source of each field's equation (added to d2phi/dt2 in the step it arrives: spikes mapped to
 * sites, graded projections, devices), and field 1 as a graded output (a current into neurons). */
static const ns_in_port kg_inputs[] = {
    {"s", "1/ms^2", NS_PORT_CONTINUOUS, 0, NULL, 1},
    {"s2", "1/ms^2", NS_PORT_CONTINUOUS, 0, NULL, 1},
};
static const ns_out_port kg_outputs[] = {{"phi", "1", NS_OUT_GRADED, 1, NULL}};

const ns_model ns_model_kg_field = {
    .version = NS_MODEL_VERSION,
    .name = "kg_field",
    .doc = "F = 1 or 2 coupled Klein-Gordon fields on an nx x ny lattice (one unit per site), leapfrog with damping; "
           "the formulation is ours (docs/models.md)",
    .kind = NS_KIND_FIELD,
    .state = kg_state,
    .n_state = (int)(sizeof kg_state / sizeof kg_state[0]),
    .params = kg_param_table,
    .n_params = (int)(sizeof kg_param_table / sizeof kg_param_table[0]),
    .params_size = sizeof(kg_params),
    .consts_size = sizeof(kg_consts),
    .inputs = kg_inputs,
    .n_inputs = 2,
    .outputs = kg_outputs,
    .n_outputs = 1,
    .whole = 1,
    .team = 1,
    .init = kg_init,
    .init_state = kg_init_state,
    .step = kg_step,
    .data_create = kg_data_create,
    .data_free = kg_data_free,
    .state_size = ns_model_state_none, /* the shape, the seed and the sponge: fixed */
    .summed = NS_STATE_SUMMED(ENERGY),
};
