/* models/ei_lattice.c — `ei_lattice`: an E/I pair (u, v) per site of an Nx x Ny lattice (linear,
 * Wilson-Cowan or FitzHugh-Nagumo units, coupled to the four nearest neighbours), a Klein-Gordon
 * field in the continuum for the right A and B (MODELS.md 8 (b); the formulation is ours). A fused
 * RK4 over the whole lattice stepped by every thread as a team, or CVODE (Adams) on one thread. */
#include "models/ei_lattice.h"
#include "models/input.h"
#include "models/model.h"
#include "models/ode_pop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "solvers/ode_driver.h"

typedef struct {
    double units, nx, bc, h;
    double a_EE, a_EI, a_IE, a_II, b_EE, b_EI, b_IE, b_II, s_E, s_I;
    double tau_E, tau_I, w_EE, w_EI, w_IE, w_II, P, Q, w_lat, gain, theta;
    double fhn_a, fhn_b, fhn_eps, fhn_I;
    double sigma_E, sigma_I;
} eil_params;

enum { UNITS_LINEAR, UNITS_WC, UNITS_FHN };
enum { U, V };

static const ns_state_var eil_state[] = {
    {"u", "1", "excitatory activity of the site", 0, NS_BOUND_FINITE},
    {"v", "1", "inhibitory activity of the site", 0, NS_BOUND_FINITE},
};

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(eil_params, field)}
static const ns_param eil_param_table[] = {
    P(units, "1", 0, 0, 2, "0 linear (A, B), 1 Wilson-Cowan, 2 FitzHugh-Nagumo"),
    P(nx, "sites", 0, 0, 1e9, "sites per row (the population's size must be a multiple); 0: one row of all"),
    P(bc, "1", 0, 0, 1, "boundary: 0 periodic, 1 reflecting"),
    P(h, "um", 100.0, 1e-9, HUGE_VAL, "lattice spacing"),
    P(a_EE, "1/ms", 0.0, -HUGE_VAL, HUGE_VAL, "linear: A, E onto E"),
    P(a_EI, "1/ms", -0.2, -HUGE_VAL, HUGE_VAL, "linear: A, I onto E"),
    P(a_IE, "1/ms", 0.2, -HUGE_VAL, HUGE_VAL, "linear: A, E onto I"),
    P(a_II, "1/ms", 0.0, -HUGE_VAL, HUGE_VAL, "linear: A, I onto I"),
    P(b_EE, "1/ms", 0.0, -HUGE_VAL, HUGE_VAL, "linear: B, neighbours' E difference onto E"),
    P(b_EI, "1/ms", 0.5, -HUGE_VAL, HUGE_VAL, "linear: B, neighbours' I difference onto E"),
    P(b_IE, "1/ms", 0.0, -HUGE_VAL, HUGE_VAL, "linear: B, neighbours' E difference onto I"),
    P(b_II, "1/ms", 0.0, -HUGE_VAL, HUGE_VAL, "linear: B, neighbours' I difference onto I"),
    P(s_E, "1/ms", 0.0, -HUGE_VAL, HUGE_VAL, "linear: constant source of du/dt"),
    P(s_I, "1/ms", 0.0, -HUGE_VAL, HUGE_VAL, "linear: constant source of dv/dt"),
    P(tau_E, "ms", 10.0, 1e-9, HUGE_VAL, "Wilson-Cowan: E time constant"),
    P(tau_I, "ms", 20.0, 1e-9, HUGE_VAL, "Wilson-Cowan: I time constant"),
    P(w_EE, "1", 10.0, -HUGE_VAL, HUGE_VAL, "Wilson-Cowan: E onto E"),
    P(w_EI, "1", 12.0, -HUGE_VAL, HUGE_VAL, "Wilson-Cowan: I onto E (subtracted)"),
    P(w_IE, "1", 20.0, -HUGE_VAL, HUGE_VAL, "Wilson-Cowan: E onto I"),
    P(w_II, "1", 2.0, -HUGE_VAL, HUGE_VAL, "Wilson-Cowan: I onto I (subtracted)"),
    P(P, "1", 1.0, -HUGE_VAL, HUGE_VAL, "Wilson-Cowan: external input to E"),
    P(Q, "1", -2.0, -HUGE_VAL, HUGE_VAL, "Wilson-Cowan: external input to I"),
    P(w_lat, "1", 20.0, -HUGE_VAL, HUGE_VAL, "Wilson-Cowan, FitzHugh-Nagumo: weight of the neighbours' I difference onto E"),
    P(gain, "1", 1.2, 1e-9, HUGE_VAL, "Wilson-Cowan: sigmoid gain, S(x) = 1/(1 + exp(-gain (x - theta)))"),
    P(theta, "1", 3.5, -HUGE_VAL, HUGE_VAL, "Wilson-Cowan: sigmoid threshold"),
    P(fhn_a, "1", 0.7, -HUGE_VAL, HUGE_VAL, "FitzHugh-Nagumo: a in dv/dt = eps (u + a - b v)"),
    P(fhn_b, "1", 0.8, -HUGE_VAL, HUGE_VAL, "FitzHugh-Nagumo: b"),
    P(fhn_eps, "1/ms", 0.08, 1e-12, HUGE_VAL, "FitzHugh-Nagumo: eps"),
    P(fhn_I, "1/ms", 0.0, -HUGE_VAL, HUGE_VAL, "FitzHugh-Nagumo: constant input of du/dt = u - u^3/3 - v + I"),
    P(sigma_E, "1/sqrt(ms)", 0.0, 0.0, HUGE_VAL, "white noise on u (Euler-Maruyama, added after each step)"),
    P(sigma_I, "1/sqrt(ms)", 0.0, 0.0, HUGE_VAL, "white noise on v"),
};
#undef P

/* ---- units ---- */

static double sig(const eil_params *p, double x) { return 1.0 / (1.0 + exp(-p->gain * (x - p->theta))); }
static double dsig(const eil_params *p, double x)
{
    const double s = sig(p, x);
    return p->gain * s * (1.0 - s);
}

/* du/dt, dv/dt of one site at (u, v) with neighbour differences Lu, Lv and drive d (onto du/dt). */
static inline void unit_rhs(const eil_params *p, int units, double u, double v, double Lu, double Lv, double d,
                            double *fu, double *fv)
{
    if (units == UNITS_LINEAR) {
        *fu = p->a_EE * u + p->a_EI * v + p->b_EE * Lu + p->b_EI * Lv + p->s_E + d;
        *fv = p->a_IE * u + p->a_II * v + p->b_IE * Lu + p->b_II * Lv + p->s_I;
    } else if (units == UNITS_WC) {
        *fu = (-u + sig(p, p->w_EE * u - p->w_EI * v + p->P + p->w_lat * Lv)) / p->tau_E + d;
        *fv = (-v + sig(p, p->w_IE * u - p->w_II * v + p->Q)) / p->tau_I;
    } else {
        *fu = u - u * u * u / 3.0 - v + p->fhn_I + p->w_lat * Lv + d;
        *fv = p->fhn_eps * (u + p->fhn_a - p->fhn_b * v);
    }
}

/* A and B of one site at (u, v) with no neighbour differences (the homogeneous state). */
static void unit_AB(const eil_params *p, double u, double v, double A[4], double B[4])
{
    const int units = (int)p->units;
    if (units == UNITS_LINEAR) {
        A[0] = p->a_EE, A[1] = p->a_EI, A[2] = p->a_IE, A[3] = p->a_II;
        B[0] = p->b_EE, B[1] = p->b_EI, B[2] = p->b_IE, B[3] = p->b_II;
    } else if (units == UNITS_WC) {
        const double se = dsig(p, p->w_EE * u - p->w_EI * v + p->P), si = dsig(p, p->w_IE * u - p->w_II * v + p->Q);
        A[0] = (-1.0 + se * p->w_EE) / p->tau_E, A[1] = -se * p->w_EI / p->tau_E;
        A[2] = si * p->w_IE / p->tau_I, A[3] = (-1.0 - si * p->w_II) / p->tau_I;
        B[0] = 0, B[1] = se * p->w_lat / p->tau_E, B[2] = B[3] = 0;
    } else {
        A[0] = 1.0 - u * u, A[1] = -1.0, A[2] = p->fhn_eps, A[3] = -p->fhn_eps * p->fhn_b;
        B[0] = 0, B[1] = p->w_lat, B[2] = B[3] = 0;
    }
}

int ns_ei_lattice_linearise(const void *params, double x[2], double A[4], double B[4])
{
    const eil_params *p = params;
    const int units = (int)p->units;
    static const double starts[][2] = {{0, 0}, {0.5, 0.5}, {0.1, 0.1}, {0.9, 0.9}, {-1, -1}, {1, 1}, {2, 2}};
    for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
        double u = starts[s][0], v = starts[s][1];
        for (int it = 0; it < 100; it++) {
            double fu, fv;
            unit_rhs(p, units, u, v, 0, 0, 0, &fu, &fv);
            unit_AB(p, u, v, A, B);
            const double det = A[0] * A[3] - A[1] * A[2];
            if (det == 0.0 || !isfinite(det)) break;
            const double du = (A[3] * fu - A[1] * fv) / det, dv = (-A[2] * fu + A[0] * fv) / det;
            u -= du, v -= dv;
            if (!isfinite(u) || !isfinite(v)) break;
            if (fabs(du) + fabs(dv) <= 1e-14 * (1.0 + fabs(u) + fabs(v))) {
                unit_rhs(p, units, u, v, 0, 0, 0, &fu, &fv);
                x[0] = u, x[1] = v;
                unit_AB(p, u, v, A, B);
                return 0;
            }
        }
        if (units == UNITS_LINEAR) break; /* one Newton step solves it, or A is singular */
    }
    x[0] = x[1] = 0.0;
    unit_AB(p, 0.0, 0.0, A, B);
    return -1;
}

/* ---- the regime report ---- */

const char *ns_ei_regime_name(ns_ei_regime_kind k)
{
    static const char *const names[] = {
        [NS_EI_NOT_OSCILLATING] = "not oscillating", [NS_EI_UNSTABLE] = "unstable", [NS_EI_INVERTED] = "inverted",
        [NS_EI_BEAM] = "beam-like", [NS_EI_DIFFUSIVE] = "diffusive", [NS_EI_UNCOUPLED] = "uncoupled",
        [NS_EI_DAMPED_KG] = "damped KG", [NS_EI_GROWING_KG] = "growing KG", [NS_EI_KG] = "KG field"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

double ns_ei_omega2(const double A[4], const double B[4], double lambda)
{
    const double m0 = A[0] - lambda * B[0], m1 = A[1] - lambda * B[1], m2 = A[2] - lambda * B[2],
                 m3 = A[3] - lambda * B[3];
    return m0 * m3 - m1 * m2;
}

void ns_ei_regime_of(const double A[4], const double B[4], double h_um, double lambda_max, ns_ei_regime *r)
{
    double sa = 0, sb = 0;
    for (int i = 0; i < 4; i++) sa = fmax(sa, fabs(A[i])), sb = fmax(sb, fabs(B[i]));
    const double eps = 1e-12;
    memset(r, 0, sizeof *r);
    r->trA = A[0] + A[3];
    r->detA = A[0] * A[3] - A[1] * A[2];
    r->trB = B[0] + B[3];
    r->detB = B[0] * B[3] - B[1] * B[2];
    /* adj(A) = [[a_II, -a_EI], [-a_IE, a_EE]] */
    r->w = -(A[3] * B[0] - A[1] * B[2] - A[2] * B[1] + A[0] * B[3]);
    r->m = r->detA > 0 ? sqrt(r->detA) : 0.0;
    r->c = r->w > 0 ? sqrt(r->w) * h_um : 0.0;
    const int detA_pos = r->detA > eps * sa * sa, w_zero = fabs(r->w) <= eps * sa * sb;
    if (!detA_pos) r->kind = NS_EI_NOT_OSCILLATING;
    else if (r->w < 0 && !w_zero)
        r->kind = ns_ei_omega2(A, B, lambda_max) < 0 ? NS_EI_UNSTABLE : NS_EI_INVERTED;
    else if (fabs(r->detB) > eps * sb * sb) r->kind = NS_EI_BEAM;
    else if (fabs(r->trB) > eps * sb) r->kind = NS_EI_DIFFUSIVE;
    else if (w_zero) r->kind = NS_EI_UNCOUPLED;
    else if (r->trA < -eps * sa) r->kind = NS_EI_DAMPED_KG;
    else if (r->trA > eps * sa) r->kind = NS_EI_GROWING_KG;
    else r->kind = NS_EI_KG;
    r->name = ns_ei_regime_name(r->kind);
}

/* The regime of the units' parameters in one line (lambda_max: 8 on a 2-D lattice, 4 on a row). */
static void regime_line(const eil_params *p, double lambda_max, char *buf, size_t len)
{
    double x[2], A[4], B[4];
    ns_ei_regime r;
    const int fp = ns_ei_lattice_linearise(p, x, A, B);
    ns_ei_regime_of(A, B, p->h, lambda_max, &r);
    snprintf(buf, len,
             "regime %s, m %.6g rad/ms, c %.6g um/ms (tr A %.4g, det A %.4g, -tr(adj(A) B) %.4g, tr B %.4g, det B %.4g%s)",
             r.name, r.m, r.c, r.trA, r.detA, r.w, r.trB, r.detB,
             fp ? "; no fixed point found, linearised at 0" : p->units != UNITS_LINEAR ? "; linearised at the fixed point" : "");
}

static void eil_describe(const void *params, char *buf, size_t len)
{
    int used = snprintf(buf, len, "on a 2-D lattice, ");
    if (used > 0 && (size_t)used < len) regime_line(params, 8.0, buf + used, len - (size_t)used);
}

/* ---- the population ---- */

typedef struct {
    const eil_params *cur; /* the parameters of the current call (CVODE's right-hand side) */
    int units, bc;         /* as of the first run, with the lattice's shape */
    size_t n, nx, ny;
    ns_solver_kind kind;
    unsigned long long seed;
    double dt;
    double *s1u, *s1v, *s2u, *s2v, *accu, *accv; /* RK4 stages (two, alternating) and the sum of k */
    double *drive;                               /* the window's current step's drive, per site */
    uint32_t *nb;                                /* the four neighbours of each site (neighbours()) */
    /* CVODE */
    ns_ode_driver *drv;
    double *y;        /* (u, v) site by site */
    long steps;       /* RK4 steps taken (counted by the thread whose block starts the lattice) */
    char regime[256]; /* run.json's members: the regime of the parameters at the first run */
} eil_pop;

/* Neighbour indices of site i: x-1, x+1, y-1, y+1 (reflecting: the site itself at an edge). */
static void neighbours(const eil_pop *q, size_t i, size_t nb[4])
{
    const size_t x = i % q->nx, y = i / q->nx, nx = q->nx, ny = q->ny;
    const size_t row = y * nx;
    if (q->bc == 0) {
        nb[0] = row + (x ? x - 1 : nx - 1);
        nb[1] = row + (x + 1 < nx ? x + 1 : 0);
        nb[2] = (y ? y - 1 : ny - 1) * nx + x;
        nb[3] = (y + 1 < ny ? y + 1 : 0) * nx + x;
    } else {
        nb[0] = row + (x ? x - 1 : x);
        nb[1] = row + (x + 1 < nx ? x + 1 : x);
        nb[2] = (y ? y - 1 : y) * nx + x;
        nb[3] = (y + 1 < ny ? y + 1 : y) * nx + x;
    }
}

/* dx/dt of site i from the lattice (u, v) with drive d. units is a constant where it is inlined
 * (the callers' site loops are made once per unit type), so no site loop branches on it. */
static inline __attribute__((always_inline)) void site_rhs(const eil_pop *q, const eil_params *p, int units,
                                                           const double *u, const double *v, size_t i, double d,
                                                           double *fu, double *fv)
{
    const uint32_t *nb = q->nb + 4 * i;
    const double Lu = (u[nb[0]] - u[i]) + (u[nb[1]] - u[i]) + (u[nb[2]] - u[i]) + (u[nb[3]] - u[i]);
    const double Lv = (v[nb[0]] - v[i]) + (v[nb[1]] - v[i]) + (v[nb[2]] - v[i]) + (v[nb[3]] - v[i]);
    unit_rhs(p, units, u[i], v[i], Lu, Lv, d, fu, fv);
}

/* CVODE's right-hand side over every site, for one unit type. */
static inline __attribute__((always_inline)) void cv_sites(const eil_pop *q, int units, const double *u,
                                                           const double *v, double *ydot)
{
    for (size_t i = 0; i < q->n; i++) site_rhs(q, q->cur, units, u, v, i, q->drive[i], &ydot[2 * i], &ydot[2 * i + 1]);
}

static int cv_rhs(double t, const double *y, double *ydot, void *user)
{
    (void)t;
    const eil_pop *q = user;
    const size_t n = q->n;
    /* the state is (u, v) interleaved; the stencil wants two planes */
    double *u = q->s1u, *v = q->s1v;
    for (size_t i = 0; i < n; i++) u[i] = y[2 * i], v[i] = y[2 * i + 1];
    switch (q->units) {
    case UNITS_LINEAR: cv_sites(q, UNITS_LINEAR, u, v, ydot); break;
    case UNITS_WC: cv_sites(q, UNITS_WC, u, v, ydot); break;
    default: cv_sites(q, UNITS_FHN, u, v, ydot); break;
    }
    return 0;
}

static void eil_free(void *data)
{
    eil_pop *q = data;
    if (!q) return;
    ns_ode_driver_free(q->drv);
    free(q->s1u), free(q->s1v), free(q->s2u), free(q->s2v), free(q->accu), free(q->accv);
    free(q->drive), free(q->y), free(q->nb);
    free(q);
}

static void *eil_create(const ns_model *m, const void *params, size_t n, double dt, const ns_solver_opts *o,
                        char *err, size_t errlen)
{
    (void)m;
    const eil_params *p = params;
    eil_pop *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    q->units = (int)p->units;
    q->bc = (int)p->bc;
    q->n = n;
    q->nx = p->nx > 0 ? (size_t)p->nx : n;
    q->dt = dt;
    q->seed = o->seed;
    if (n == 0 || n % q->nx) {
        snprintf(err, errlen, "ei_lattice: %zu sites are not whole rows of nx = %zu", n, q->nx);
        goto fail;
    }
    q->ny = n / q->nx;
    q->kind = o->kind == NS_SOLVER_FUSED ? NS_SOLVER_RK4 : o->kind;
    if (q->kind != NS_SOLVER_RK4 && q->kind != NS_SOLVER_CVODE_ADAMS) {
        snprintf(err, errlen, "ei_lattice: solver %s; it takes rk4 (fused, the default) or cvode_adams",
                 ns_solver_name(o->kind));
        goto fail;
    }
    q->s1u = calloc(n, sizeof(double)), q->s1v = calloc(n, sizeof(double));
    q->s2u = calloc(n, sizeof(double)), q->s2v = calloc(n, sizeof(double));
    q->accu = calloc(n, sizeof(double)), q->accv = calloc(n, sizeof(double));
    q->drive = calloc(n, sizeof(double));
    if (n > UINT32_MAX / 4) {
        snprintf(err, errlen, "ei_lattice: %zu sites; at most %u", n, (unsigned)(UINT32_MAX / 4));
        goto fail;
    }
    q->nb = malloc(4 * n * sizeof *q->nb);
    if (!q->s1u || !q->s1v || !q->s2u || !q->s2v || !q->accu || !q->accv || !q->drive || !q->nb) goto oom;
    for (size_t i = 0; i < n; i++) {
        size_t nb[4];
        neighbours(q, i, nb);
        for (int j = 0; j < 4; j++) q->nb[4 * i + (size_t)j] = (uint32_t)nb[j];
    }
    if (q->kind == NS_SOLVER_CVODE_ADAMS) {
        if (!(q->y = calloc(2 * n, sizeof(double)))) goto oom;
        /* Adams with fixed-point iteration: no Jacobian and no linear solver (solvers/ode.h) */
        ns_ode_system sys = {.n = (int)(2 * n), .rhs = cv_rhs, .fixed_point = 1, .user = q};
        if (!(q->drv = ns_solver_driver_create(&sys, o, err, errlen))) goto fail;
    }
    /* the regime report: in the counters (run.json), and logged by the engine as the population's note */
    {
        double x[2], A[4], B[4];
        ns_ei_regime r;
        ns_ei_lattice_linearise(p, x, A, B);
        ns_ei_regime_of(A, B, p->h, q->ny > 1 ? 8.0 : 4.0, &r);
        snprintf(q->regime, sizeof q->regime,
                 "\"regime\": \"%s\", \"m_rad_per_ms\": %.9g, \"c_um_per_ms\": %.9g, \"nx\": %zu, \"ny\": %zu", r.name,
                 r.m, r.c, q->nx, q->ny);
    }
    int used = snprintf(err, errlen, "ei_lattice %zu x %zu, h %g um, %s: ", q->nx, q->ny, p->h,
                        q->kind == NS_SOLVER_RK4 ? "rk4" : "cvode_adams");
    if (used > 0 && (size_t)used < errlen) regime_line(p, q->ny > 1 ? 8.0 : 4.0, err + used, errlen - (size_t)used);
    return q;
oom:
    snprintf(err, errlen, "out of memory for an ei_lattice of %zu sites", n);
fail:
    eil_free(q);
    return NULL;
}

static void gauss2(unsigned long long seed, int64_t s, size_t i, double g[2])
{
    double r[4];
    ns_rng_u01x4(seed, NS_STREAM_DEVICE, 0xE1A7u, (uint32_t)s, (uint32_t)i, r);
    g[0] = ns_rng_normal_from(r[0], r[1]);
    g[1] = ns_rng_normal_from(r[2], r[3]);
}

/* RK4 over the lattice, each thread its block; a stage reads the neighbours' values of the stage
 * before, which every thread finished before the barrier between them (s1 and s2 alternate). The
 * new x (noise included) goes into s2, which the next step's first stage reads, so four barriers a
 * step suffice; each thread copies its own block of s2 into the state after the last one. */
static inline __attribute__((always_inline)) int rk4_units(const ns_step_args *a, eil_pop *q, int units)
{
    const eil_params *p = a->params;
    double *u = a->state[U], *v = a->state[V];
    const size_t lo = a->lo, hi = a->hi;
    const double dt = a->dt, h2 = dt / 2;
    const double se = p->sigma_E * sqrt(dt), si = p->sigma_I * sqrt(dt);
    for (int k = 0; k < a->nsteps; k++) {
        /* x: the engine's state at a window's start, else the step before's result */
        const double *xu = k ? q->s2u : u, *xv = k ? q->s2v : v;
        double *in = ns_input_row(a, 0, k);
        if (in)
            for (size_t i = lo; i < hi; i++) q->drive[i] = in[i], in[i] = 0.0;
        else
            for (size_t i = lo; i < hi; i++) q->drive[i] = 0.0;
        for (size_t i = lo; i < hi; i++) { /* k1 from x; s1 = x + dt/2 k1 */
            double fu, fv;
            site_rhs(q, p, units, xu, xv, i, q->drive[i], &fu, &fv);
            q->accu[i] = fu, q->accv[i] = fv;
            q->s1u[i] = u[i] + h2 * fu, q->s1v[i] = v[i] + h2 * fv;
        }
        if (a->barrier) a->barrier(a->barrier_ctx);
        for (size_t i = lo; i < hi; i++) { /* k2 from s1; s2 = x + dt/2 k2 */
            double fu, fv;
            site_rhs(q, p, units, q->s1u, q->s1v, i, q->drive[i], &fu, &fv);
            q->accu[i] += 2 * fu, q->accv[i] += 2 * fv;
            q->s2u[i] = u[i] + h2 * fu, q->s2v[i] = v[i] + h2 * fv;
        }
        if (a->barrier) a->barrier(a->barrier_ctx);
        for (size_t i = lo; i < hi; i++) { /* k3 from s2; s1 = x + dt k3 */
            double fu, fv;
            site_rhs(q, p, units, q->s2u, q->s2v, i, q->drive[i], &fu, &fv);
            q->accu[i] += 2 * fu, q->accv[i] += 2 * fv;
            q->s1u[i] = u[i] + dt * fu, q->s1v[i] = v[i] + dt * fv;
        }
        if (a->barrier) a->barrier(a->barrier_ctx);
        for (size_t i = lo; i < hi; i++) { /* k4 from s1 into the sum; the new x into s2 */
            double fu, fv;
            site_rhs(q, p, units, q->s1u, q->s1v, i, q->drive[i], &fu, &fv);
            q->s2u[i] = u[i] + dt / 6 * (q->accu[i] + fu);
            q->s2v[i] = v[i] + dt / 6 * (q->accv[i] + fv);
        }
        if (se > 0 || si > 0)
            for (size_t i = lo; i < hi; i++) {
                double g[2];
                gauss2(q->seed, a->step0 + k, i, g);
                q->s2u[i] += se * g[0];
                q->s2v[i] += si * g[1];
            }
        if (a->barrier) a->barrier(a->barrier_ctx); /* s2 is whole, and every block has read s1 */
        for (size_t i = lo; i < hi; i++) u[i] = q->s2u[i], v[i] = q->s2v[i];
        if (a->graded) {
            double *ou = ns_output_comp(a, k, 0), *ov = ns_output_comp(a, k, 1);
            for (size_t i = lo; i < hi; i++) ou[i] = u[i], ov[i] = v[i];
        }
        if (lo == 0 && (hi > 0 || !a->barrier)) q->steps++;
    }
    return 0;
}

/* The RK4 step made once per unit type: the unit's branch is decided here, not per site. */
static int rk4_step(const ns_step_args *a, eil_pop *q)
{
    switch (q->units) {
    case UNITS_LINEAR: return rk4_units(a, q, UNITS_LINEAR);
    case UNITS_WC: return rk4_units(a, q, UNITS_WC);
    default: return rk4_units(a, q, UNITS_FHN);
    }
}

/* CVODE over the whole lattice on the thread whose block starts the population; the others wait. */
static int cvode_step(const ns_step_args *a, eil_pop *q)
{
    double *u = a->state[U], *v = a->state[V];
    const size_t n = q->n;
    int rc = 0;
    if (a->barrier) a->barrier(a->barrier_ctx); /* every block's input rows are in place */
    if (a->lo == 0 && (a->hi > 0 || !a->barrier)) {
        const eil_params *p = a->params;
        q->cur = p;
        int restart = 1; /* the engine's state may have been set between calls: always restart */
        for (size_t i = 0; i < n; i++) q->y[2 * i] = u[i], q->y[2 * i + 1] = v[i];
        for (int k = 0; k < a->nsteps && !rc; k++) {
            const int64_t s = a->step0 + k;
            const double t0 = (double)s * q->dt;
            double *in = ns_input_row(a, 0, k);
            for (size_t i = 0; i < n; i++) {
                const double d = in ? in[i] : 0.0;
                if (in) in[i] = 0.0;
                restart |= d != q->drive[i];
                q->drive[i] = d;
            }
            if (restart && ns_ode_driver_restart(q->drv, t0, q->y, a->err, a->errlen)) {
                rc = NS_STEP_FAILED;
                break;
            }
            restart = 0;
            double t = t0;
            while (t < t0 + q->dt && !rc)
                if (ns_ode_driver_advance(q->drv, t0, q->dt, &t, q->y, NULL, a->err, a->errlen) < 0) rc = NS_STEP_FAILED;
            if (p->sigma_E > 0 || p->sigma_I > 0) {
                const double se = p->sigma_E * sqrt(q->dt), si = p->sigma_I * sqrt(q->dt);
                for (size_t i = 0; i < n; i++) {
                    double g[2];
                    gauss2(q->seed, s, i, g);
                    q->y[2 * i] += se * g[0], q->y[2 * i + 1] += si * g[1];
                }
                restart = 1;
            }
            if (a->graded) {
                double *ou = ns_output_comp(a, k, 0), *ov = ns_output_comp(a, k, 1);
                for (size_t i = 0; i < n; i++) ou[i] = q->y[2 * i], ov[i] = q->y[2 * i + 1];
            }
        }
        for (size_t i = 0; i < n; i++) u[i] = q->y[2 * i], v[i] = q->y[2 * i + 1];
    } /* the other threads wait: the solving thread reads their input rows and writes their outputs */
    if (a->barrier) a->barrier(a->barrier_ctx);
    return rc;
}

static int eil_step(const ns_step_args *a)
{
    eil_pop *q = a->data;
    return q->kind == NS_SOLVER_CVODE_ADAMS ? cvode_step(a, q) : rk4_step(a, q);
}

static void eil_stats(const void *data, ns_solver_stats *st)
{
    const eil_pop *q = data;
    memset(st, 0, sizeof *st);
    st->solver = ns_solver_name(q->kind);
    snprintf(st->extra, sizeof st->extra, "%s", q->regime);
    st->steps = q->steps;
    st->rhs_evals = 4 * q->steps;
    if (q->drv) {
        ns_ode_driver_stats d;
        ns_ode_driver_get_stats(q->drv, &d);
        st->steps = d.steps, st->rhs_evals = d.rhs_evals, st->err_test_fails = d.err_test_fails;
        st->conv_fails = d.conv_fails, st->jac_evals = d.jac_evals, st->reinits = d.reinits;
    }
}

static int eil_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    (void)consts, (void)dt;
    const eil_params *p = params;
    if (p->units != floor(p->units) || p->nx != floor(p->nx) || p->bc != floor(p->bc)) {
        snprintf(err, errlen, "ei_lattice: units (%g), nx (%g) and bc (%g) must be whole numbers", p->units, p->nx, p->bc);
        return -1;
    }
    return 0;
}

/* Every site at the units' fixed point (linear units: 0 when A is singular). */
static void eil_init_state(const void *params, double *const *state, size_t n)
{
    double x[2], A[4], B[4];
    ns_ei_lattice_linearise(params, x, A, B);
    for (size_t i = 0; i < n; i++) state[U][i] = x[0], state[V][i] = x[1];
}

/* One continuous input onto du/dt (graded projections, currents), the pair (u, v) out. */
static const ns_in_port eil_inputs[] = {{"drive", "1/ms", NS_PORT_CONTINUOUS, 0, NULL, 1}};
static const ns_out_port eil_outputs[] = {{"x", "1", NS_OUT_GRADED, 2, "u,v"}};

/* Checkpoints: the steps counted and the solver's carried step size (CVODE restarts at every
 * window's start; the RK4 stages are scratch). */
static size_t eil_state_size(const void *data)
{
    (void)data;
    return 2 * sizeof(double);
}

static void eil_state_save(void *data, unsigned char *buf)
{
    const eil_pop *q = data;
    const double v[2] = {(double)q->steps, q->drv ? ns_ode_driver_carry(q->drv) : 0.0};
    memcpy(buf, v, sizeof v);
}

static int eil_state_load(void *data, const unsigned char *buf, size_t len, char *err, size_t errlen)
{
    eil_pop *q = data;
    if (len != 2 * sizeof(double)) return snprintf(err, errlen, "ei_lattice: %zu bytes of state, not 16", len), -1;
    double v[2];
    memcpy(v, buf, sizeof v);
    q->steps = (long)v[0];
    if (q->drv) ns_ode_driver_set_carry(q->drv, v[1]);
    return 0;
}

const ns_model ns_model_ei_lattice = {
    .version = NS_MODEL_VERSION,
    .name = "ei_lattice",
    .doc = "E/I neural masses (linear, Wilson-Cowan or FitzHugh-Nagumo) on a lattice with nearest-neighbour coupling: a Klein-Gordon field for the right A, B; RK4 (team) or CVODE Adams",
    .kind = NS_KIND_FIELD,
    .state = eil_state,
    .n_state = 2,
    .params = eil_param_table,
    .n_params = (int)(sizeof eil_param_table / sizeof eil_param_table[0]),
    .params_size = sizeof(eil_params),
    .inputs = eil_inputs,
    .n_inputs = 1,
    .outputs = eil_outputs,
    .n_outputs = 1,
    .whole = 1,
    .team = 1,
    .fused_solver = 1,
    .init = eil_init,
    .init_state = eil_init_state,
    .step = eil_step,
    .data_create = eil_create,
    .data_stats = eil_stats,
    .state_size = eil_state_size,
    .state_save = eil_state_save,
    .state_load = eil_state_load,
    .data_free = eil_free,
    .describe = eil_describe,
};
