/* tests/test_ei_lattice.c — `ei_lattice`: the regime report for every case, the linearisation of
 * the nonlinear units against central differences, a lattice started in one eigenmode oscillating
 * at the RK4 scheme's own frequency and at omega^2 = det(A - lambda_k B), the same frequency after
 * a change of basis (T6), CVODE Adams against the closed form, and 1 vs 2 threads identical. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/ei_lattice.h"
#include "models/model.h"
#include "tests/harness.h"
#include "tests/testlib.h"

static const double PI = 3.14159265358979323846;

/* ---- the regime report ---- */

static void regime_case(const double A[4], const double B[4], ns_ei_regime_kind want, const char *name)
{
    ns_ei_regime r;
    ns_ei_regime_of(A, B, 100.0, 8.0, &r);
    NS_CHECK(r.kind == want, "%s: got '%s' (%d), want '%s'", name, r.name, (int)r.kind, ns_ei_regime_name(want));
    NS_CHECK(!strcmp(r.name, ns_ei_regime_name(want)), "%s: name '%s'", name, r.name);
}

static void regimes(void)
{
    const double Akg[4] = {0, -0.2, 0.2, 0}, Bkg[4] = {0, 0.5, 0, 0};
    ns_ei_regime r;
    ns_ei_regime_of(Akg, Bkg, 100.0, 8.0, &r);
    NS_CHECK(r.kind == NS_EI_KG, "the KG example: %s", r.name);
    NS_CHECK_REL(r.m, 0.2, 1e-15);                      /* m^2 = g_EI g_IE */
    NS_CHECK_REL(r.c, sqrt(0.2 * 0.5) * 100.0, 1e-15);  /* c^2 = g_IE w h^2 */
    NS_CHECK_REL(r.w, 0.1, 1e-15);
    const double Ad[4] = {-0.01, -0.2, 0.2, -0.03}, Ag[4] = {0.02, -0.2, 0.2, 0.0};
    regime_case(Akg, Bkg, NS_EI_KG, "KG field");
    regime_case(Ad, Bkg, NS_EI_DAMPED_KG, "damped KG (tr A < 0)");
    regime_case(Ag, Bkg, NS_EI_GROWING_KG, "growing KG (tr A > 0)");
    const double Bdiff[4] = {0.1, 0.5, 0, 0}, Bbeam[4] = {0.1, 0.5, -0.1, -0.1};
    regime_case(Akg, Bdiff, NS_EI_DIFFUSIVE, "diffusive (tr B != 0)");
    regime_case(Akg, Bbeam, NS_EI_BEAM, "beam-like (det B != 0)");
    const double Bunst[4] = {0, -0.5, 0, 0}, Binv[4] = {0, -0.01, 0, 0}, Bzero[4] = {0, 0, 0, 0};
    regime_case(Akg, Bunst, NS_EI_UNSTABLE, "unstable (w < 0)");
    regime_case(Akg, Binv, NS_EI_INVERTED, "inverted (w < 0, every mode stable)");
    regime_case(Akg, Bzero, NS_EI_UNCOUPLED, "uncoupled (B = 0)");
    const double Asad[4] = {0.1, 0, 0, -0.1}, Azero[4] = {0, 1, 0, 0};
    regime_case(Asad, Bkg, NS_EI_NOT_OSCILLATING, "not oscillating (det A < 0)");
    regime_case(Azero, Bkg, NS_EI_NOT_OSCILLATING, "not oscillating (det A = 0)");
    /* w < 0: omega^2(lambda) = det(A - lambda B) falls all the way to the checkerboard, lambda = 8 */
    double prev = INFINITY;
    int falling = 1;
    for (int j = 0; j <= 80; j++) {
        double o2 = ns_ei_omega2(Akg, Bunst, j * 0.1);
        falling &= o2 < prev;
        prev = o2;
    }
    NS_CHECK(falling && prev < 0, "unstable: omega^2 falls with lambda to %g at the checkerboard", prev);
    /* omega^2 = det A - lambda tr(adj(A) B) + lambda^2 det B, recomputed from the matrices */
    const double A[4] = {0.3, -1.1, 0.7, -0.2}, B[4] = {0.05, 0.4, -0.3, 0.2};
    for (double lam = 0; lam <= 8; lam += 0.5) {
        double detA = A[0] * A[3] - A[1] * A[2], detB = B[0] * B[3] - B[1] * B[2];
        double tradjAB = A[3] * B[0] - A[1] * B[2] - A[2] * B[1] + A[0] * B[3];
        NS_CHECK_REL(ns_ei_omega2(A, B, lam), detA - lam * tradjAB + lam * lam * detB, 1e-13);
    }
}

/* ---- the linearisation of Wilson-Cowan and FitzHugh-Nagumo units ---- */

typedef struct {
    int units;
    double tE, tI, wEE, wEI, wIE, wII, P, Q, wl, g, th, fa, fb, fe, fI;
} unitp;

static double S(const unitp *p, double x) { return 1 / (1 + exp(-p->g * (x - p->th))); }

/* the units' equations written out again, Lv the neighbours' I difference */
static void f(const unitp *p, double u, double v, double Lv, double out[2])
{
    if (p->units == 1) {
        out[0] = (-u + S(p, p->wEE * u - p->wEI * v + p->P + p->wl * Lv)) / p->tE;
        out[1] = (-v + S(p, p->wIE * u - p->wII * v + p->Q)) / p->tI;
    } else {
        out[0] = u - u * u * u / 3 - v + p->fI + p->wl * Lv;
        out[1] = p->fe * (u + p->fa - p->fb * v);
    }
}

static void set(ns_net *net, ns_pop *pop, const char *name, double v)
{
    const char *names[1] = {name};
    int rc = ns_pop_set_params(net, pop, names, &v, 1);
    NS_CHECK(rc == 0, "set %s = %g", name, v);
}

static void linearisation(void)
{
    const ns_model *m = ns_model_find("ei_lattice");
    NS_CHECK(m != NULL, "ei_lattice is registered");
    if (!m) return;
    const unitp ps[] = {{1, 10, 20, 12, 10, 10, 2, 0.5, -3, 1.5, 1.2, 3.5, 0, 0, 0, 0},
                        {2, 0, 0, 0, 0, 0, 0, 0, 0, 0.8, 0, 0, 0.7, 0.8, 0.08, 0.2}};
    for (int c = 0; c < 2; c++) {
        const unitp *p = &ps[c];
        void *params = calloc(1, m->params_size);
        ns_model_defaults(m, params);
        const char *names[] = {"units", "tau_E", "tau_I", "w_EE", "w_EI", "w_IE", "w_II", "P", "Q", "w_lat", "gain",
                               "theta", "fhn_a", "fhn_b", "fhn_eps", "fhn_I"};
        const double vals[] = {p->units, p->units == 1 ? p->tE : 10, p->units == 1 ? p->tI : 10, p->wEE, p->wEI,
                               p->wIE, p->wII, p->P, p->Q, p->wl, p->units == 1 ? p->g : 1, p->th,
                               p->fa, p->fb, p->units == 2 ? p->fe : 0.08, p->fI};
        for (int k = 0; k < 16; k++) ns_model_set_param(m, params, ns_model_param_index(m, names[k]), vals[k]);
        double x[2], A[4], B[4];
        NS_CHECK(ns_ei_lattice_linearise(params, x, A, B) == 0, "units %d: a fixed point", p->units);
        double r[2];
        f(p, x[0], x[1], 0, r);
        NS_CHECK(fabs(r[0]) + fabs(r[1]) < 1e-13, "units %d: f at the fixed point (%g, %g) = (%g, %g)", p->units, x[0],
                 x[1], r[0], r[1]);
        const double e = 1e-6;
        double fp[2], fm[2];
        for (int col = 0; col < 2; col++) { /* dF/du, dF/dv */
            f(p, x[0] + (col == 0) * e, x[1] + (col == 1) * e, 0, fp);
            f(p, x[0] - (col == 0) * e, x[1] - (col == 1) * e, 0, fm);
            for (int row = 0; row < 2; row++)
                NS_CHECK_ABS(A[row * 2 + col], (fp[row] - fm[row]) / (2 * e), 1e-8);
        }
        f(p, x[0], x[1], e, fp);
        f(p, x[0], x[1], -e, fm);
        NS_CHECK_ABS(B[1], (fp[0] - fm[0]) / (2 * e), 1e-8); /* d(du/dt)/d(Lv) */
        NS_CHECK(B[0] == 0 && B[2] == 0 && B[3] == 0, "units %d: B is the I difference onto E only", p->units);
        ns_ei_regime rg;
        ns_ei_regime_of(A, B, 100, 8, &rg);
        printf("units %d: fixed point (%.6g, %.6g), regime %s, m %.4g rad/ms, c %.4g um/ms, tr A %.3g\n", p->units,
               x[0], x[1], rg.name, rg.m, rg.c, rg.trA);
        NS_CHECK(rg.kind == (rg.trA < 0 ? NS_EI_DAMPED_KG : NS_EI_GROWING_KG), "units %d: a KG-like regime (%s)",
                 p->units, rg.name);
        free(params);
    }
}

/* ---- one eigenmode ---- */

typedef struct {
    double A[4], B[4];
    size_t nx, ny;
    int bc;           /* 0 periodic, 1 reflecting */
    int mx, my;       /* the mode */
    double h, dt;
    int q, samples;   /* a sample every q steps */
    int threads;
    const char *solver;
    double sigma;     /* noise on u and v */
    int np;           /* more parameters (nonlinear units), set after A and B */
    const char *const *pnames;
    const double *pvals;
    double amp, x0[2]; /* the mode's amplitude (1 when 0) on top of x0 */
} mode_run;

static double pattern(const mode_run *r, size_t i)
{
    const double x = (double)(i % r->nx), y = (double)(i / r->nx);
    if (r->bc == 0) return cos(2 * PI * r->mx * x / r->nx) * cos(2 * PI * r->my * y / r->ny);
    return cos(PI * r->mx * (x + 0.5) / r->nx) * cos(PI * r->my * (y + 0.5) / r->ny);
}

static double lambda_of(const mode_run *r)
{
    const double d = r->bc == 0 ? 1.0 : 0.5;
    const double sx = sin(PI * d * r->mx / r->nx), sy = sin(PI * d * r->my / r->ny);
    return 4 * sx * sx + 4 * sy * sy;
}

/* Run the mode; the u projection of every sample into y[samples], and the final state into
 * fin (2 n values, or NULL). 0 or -1. */
static int run_mode(const mode_run *r, double *y, double *fin)
{
    const size_t n = r->nx * r->ny;
    ns_ctx *ctx = test_ctx(5, r->threads);
    ns_net *net = ns_net_create(ctx, r->dt);
    ns_pop *pop = ns_net_add_population(net, "ei_lattice", n, "lattice");
    int rc = pop ? 0 : -1;
    if (pop) {
        const char *ab[] = {"a_EE", "a_EI", "a_IE", "a_II", "b_EE", "b_EI", "b_IE", "b_II"};
        for (int k = 0; k < 4; k++) set(net, pop, ab[k], r->A[k]), set(net, pop, ab[4 + k], r->B[k]);
        set(net, pop, "nx", (double)r->nx);
        set(net, pop, "bc", r->bc);
        set(net, pop, "h", r->h);
        set(net, pop, "sigma_E", r->sigma);
        set(net, pop, "sigma_I", r->sigma);
        for (int k = 0; k < r->np; k++) set(net, pop, r->pnames[k], r->pvals[k]);
        if (r->solver) rc = ns_pop_set_solver(net, pop, r->solver, 1e-11, 1e-13);
        double *u = malloc(n * sizeof *u), *v = malloc(n * sizeof *v), norm = 0;
        for (size_t i = 0; i < n; i++) {
            double p = pattern(r, i), a = r->amp > 0 ? r->amp : 1.0;
            u[i] = r->x0[0] + a * p, v[i] = r->x0[1] + 0.3 * a * p, norm += p * p;
        }
        rc = rc || ns_pop_set_state_array(net, pop, "u", u) || ns_pop_set_state_array(net, pop, "v", v);
        for (int s = 0; s < r->samples && !rc; s++) {
            double acc = 0;
            for (size_t i = 0; i < n; i++) acc += ns_pop_get_state(pop, "u", i) * pattern(r, i);
            y[s] = acc / norm;
            if (s + 1 < r->samples) rc = ns_net_run(net, r->q * r->dt);
        }
        if (fin && !rc)
            for (size_t i = 0; i < n; i++) fin[i] = ns_pop_get_state(pop, "u", i), fin[n + i] = ns_pop_get_state(pop, "v", i);
        free(u), free(v);
    }
    NS_CHECK(rc == 0, "the mode run: %s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);
    return rc;
}

/* The frequency (rad/ms) of a sequence that obeys y[s+1] = T y[s] - D y[s-1] (one 2 x 2 linear
 * map per sample interval dts): T and D by least squares, then the eigenvalues' angle. */
static double fit_omega(const double *y, int n, double dts, double *decay)
{
    double s11 = 0, s12 = 0, s22 = 0, b1 = 0, b2 = 0;
    for (int s = 1; s + 1 < n; s++) {
        s11 += y[s] * y[s], s12 -= y[s] * y[s - 1], s22 += y[s - 1] * y[s - 1];
        b1 += y[s + 1] * y[s], b2 -= y[s + 1] * y[s - 1];
    }
    const double det = s11 * s22 - s12 * s12;
    const double T = (b1 * s22 - b2 * s12) / det, D = (s11 * b2 - s12 * b1) / det;
    if (decay) *decay = sqrt(D);
    return acos(T / (2 * sqrt(D))) / dts;
}

/* RK4's own frequency for the mode: the angle of the eigenvalues of
 * G = I + z + z^2/2 + z^3/6 + z^4/24, z = dt (A - lambda B). */
static double rk4_omega(const double A[4], const double B[4], double lambda, double dt)
{
    double z[4], G[4] = {1, 0, 0, 1}, P[4] = {1, 0, 0, 1};
    for (int k = 0; k < 4; k++) z[k] = dt * (A[k] - lambda * B[k]);
    double fact = 1;
    for (int j = 1; j <= 4; j++) {
        double Q[4] = {P[0] * z[0] + P[1] * z[2], P[0] * z[1] + P[1] * z[3], P[2] * z[0] + P[3] * z[2],
                       P[2] * z[1] + P[3] * z[3]};
        memcpy(P, Q, sizeof P);
        fact *= j;
        for (int k = 0; k < 4; k++) G[k] += P[k] / fact;
    }
    const double T = G[0] + G[3], D = G[0] * G[3] - G[1] * G[2];
    return acos(T / (2 * sqrt(D))) / dt;
}

enum { SAMPLES = 40 };

static double measure(const mode_run *r)
{
    double y[SAMPLES];
    if (run_mode(r, y, NULL)) return NAN;
    return fit_omega(y, r->samples, r->q * r->dt, NULL);
}

static void eigenmodes(void)
{
    /* a 12 x 8 lattice in the KG regime: m = 0.2 rad/ms, c^2 = 0.1 h^2 */
    mode_run base = {.A = {0, -0.2, 0.2, 0}, .B = {0, 0.5, 0, 0}, .nx = 12, .ny = 8, .h = 100, .dt = 0.02,
                     .q = 25, .samples = SAMPLES, .threads = 1};
    const int modes[][3] = {{1, 0, 0}, {2, 1, 0}, {3, 2, 0}, {6, 4, 0}, {1, 1, 1}, {5, 3, 1}};
    for (size_t c = 0; c < sizeof modes / sizeof modes[0]; c++) {
        mode_run r = base;
        r.mx = modes[c][0], r.my = modes[c][1], r.bc = modes[c][2];
        const double lam = lambda_of(&r), om = measure(&r);
        const double theory = sqrt(ns_ei_omega2(r.A, r.B, lam)), scheme = rk4_omega(r.A, r.B, lam, r.dt);
        printf("mode (%d, %d) %s: lambda %.6f, omega measured %.15f, RK4 %.15f, continuum-in-time %.15f rad/ms\n",
               r.mx, r.my, r.bc ? "reflecting" : "periodic", lam, om, scheme, theory);
        NS_CHECK_REL(om, scheme, 1e-10);   /* the scheme's own frequency, to round-off */
        NS_CHECK_REL(om, theory, 2e-9);    /* and the closed form, to RK4's (omega dt)^4 error */
    }
}

/* T6: A -> P^-1 A P, B -> P^-1 B P with a random P measures the same frequency. */
static void canonical(void)
{
    mode_run r = {.A = {0, -0.2, 0.2, 0}, .B = {0, 0.5, 0, 0}, .nx = 12, .ny = 8, .h = 100, .dt = 0.02, .q = 25,
                  .samples = SAMPLES, .threads = 1, .mx = 2, .my = 1};
    const double om = measure(&r);
    uint64_t st = 12345;
    for (int trial = 0; trial < 3; trial++) {
        double P[4];
        for (int k = 0; k < 4; k++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            P[k] = (double)(st >> 11) / 9007199254740992.0 * 2 - 1;
        }
        P[0] += 1.5, P[3] += 1.5; /* well away from singular */
        const double d = P[0] * P[3] - P[1] * P[2], Pi[4] = {P[3] / d, -P[1] / d, -P[2] / d, P[0] / d};
        mode_run t = r;
        for (int which = 0; which < 2; which++) {
            const double *M = which ? r.B : r.A;
            double MP[4] = {M[0] * P[0] + M[1] * P[2], M[0] * P[1] + M[1] * P[3], M[2] * P[0] + M[3] * P[2],
                            M[2] * P[1] + M[3] * P[3]};
            double *out = which ? t.B : t.A;
            out[0] = Pi[0] * MP[0] + Pi[1] * MP[2], out[1] = Pi[0] * MP[1] + Pi[1] * MP[3];
            out[2] = Pi[2] * MP[0] + Pi[3] * MP[2], out[3] = Pi[2] * MP[1] + Pi[3] * MP[3];
        }
        const double om2 = measure(&t);
        printf("change of basis %d: A' = [%.4f %.4f; %.4f %.4f], omega %.15f (original %.15f)\n", trial, t.A[0], t.A[1],
               t.A[2], t.A[3], om2, om);
        NS_CHECK_REL(om2, om, 1e-10);
    }
}

/* Nonlinear units: a small mode on top of the fixed point oscillates (damped) at RK4's frequency
 * for the linearisation A - lambda_k B, which checks the units' lattice coupling in the step. */
static void nonlinear_modes(void)
{
    const ns_model *m = ns_model_find("ei_lattice");
    static const char *const wc_names[] = {"units", "tau_E", "tau_I", "w_EE", "w_EI", "w_IE", "w_II", "P", "Q",
                                           "w_lat", "gain", "theta"};
    static const double wc_vals[] = {1, 10, 20, 10, 12, 20, 2, 1, -2, 20, 1.2, 3.5}; /* a damped focus */
    static const char *const fhn_names[] = {"units", "fhn_a", "fhn_b", "fhn_eps", "fhn_I", "w_lat"};
    static const double fhn_vals[] = {2, 0.7, 0.8, 0.08, 0.2, 0.8};
    for (int c = 0; c < 2; c++) {
        mode_run r = {.nx = 12, .ny = 8, .h = 100, .dt = 0.02, .q = 25, .samples = SAMPLES, .threads = 2, .mx = 2,
                      .my = 1, .amp = 1e-7, .np = c ? 6 : 12, .pnames = c ? fhn_names : wc_names,
                      .pvals = c ? fhn_vals : wc_vals};
        void *params = calloc(1, m->params_size);
        ns_model_defaults(m, params);
        for (int k = 0; k < r.np; k++) ns_model_set_param(m, params, ns_model_param_index(m, r.pnames[k]), r.pvals[k]);
        double A[4], B[4];
        ns_ei_lattice_linearise(params, r.x0, A, B);
        free(params);
        const double lam = lambda_of(&r), om = measure(&r), scheme = rk4_omega(A, B, lam, r.dt);
        printf("%s units, mode (2, 1): omega measured %.12f, RK4 of the linearisation %.12f rad/ms\n",
               c ? "FitzHugh-Nagumo" : "Wilson-Cowan", om, scheme);
        NS_CHECK_REL(om, scheme, 1e-7); /* the nonlinear terms are O(amplitude) */
    }
}

/* CVODE Adams (fixed-point iteration, no linear solver) against the closed form. */
static void cvode(void)
{
    mode_run r = {.A = {0, -0.2, 0.2, 0}, .B = {0, 0.5, 0, 0}, .nx = 12, .ny = 8, .h = 100, .dt = 0.5, .q = 1,
                  .samples = SAMPLES, .threads = 1, .mx = 2, .my = 1, .solver = "cvode_adams"};
    const double om = measure(&r), theory = sqrt(ns_ei_omega2(r.A, r.B, lambda_of(&r)));
    printf("cvode_adams: omega %.12f, closed form %.12f rad/ms\n", om, theory);
    NS_CHECK_REL(om, theory, 1e-7);
    r.threads = 2; /* the whole lattice on one thread, the other waiting */
    NS_CHECK_REL(measure(&r), om, 0);
}

/* 1 and 2 threads (and 3: blocks that cut rows) give the same bytes, with noise and reflecting edges. */
static void threads(void)
{
    mode_run r = {.A = {-0.01, -0.2, 0.2, 0}, .B = {0.02, 0.5, 0, 0}, .nx = 10, .ny = 7, .bc = 1, .h = 100,
                  .dt = 0.05, .q = 40, .samples = 5, .mx = 1, .my = 1, .sigma = 0.3};
    const size_t n = r.nx * r.ny;
    double y1[5], y2[5], *f1 = calloc(2 * n, sizeof *f1), *f2 = calloc(2 * n, sizeof *f2);
    r.threads = 1;
    run_mode(&r, y1, f1);
    for (int t = 2; t <= 3; t++) {
        r.threads = t;
        run_mode(&r, y2, f2);
        NS_CHECK(!memcmp(f1, f2, 2 * n * sizeof *f1), "1 and %d threads: the same final state", t);
    }
    double moved = 0;
    for (size_t i = 0; i < n; i++) moved = fmax(moved, fabs(f1[i]));
    NS_CHECK(moved > 0.01 && isfinite(moved), "the noisy lattice moved (max |u| %g)", moved);
    free(f1), free(f2);
}

static void keep_line(void *user, const char *line)
{
    char *buf = user;
    if (strlen(buf) + strlen(line) + 2 < 2048) strcat(strcat(buf, line), "\n");
}

/* The regime is logged when the population is made; the solver's name is in its counters; a
 * solver it does not take is refused by name. */
static void report(void)
{
    char log[2048] = "";
    ns_ctx *ctx = test_ctx(5, 1);
    ns_ctx_set_log(ctx, keep_line, log);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *pop = ns_net_add_population(net, "ei_lattice", 24, "F");
    set(net, pop, "nx", 6);
    NS_CHECK(ns_pop_set_solver(net, pop, "cvode_adams", 1e-8, 1e-10) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(strstr(log, "population F: ei_lattice 6 x 4, h 100 um, cvode_adams: regime KG field, m 0.2 rad/ms, "
                         "c 31.6228 um/ms") != NULL,
             "the log: %s", log);
    ns_solver_stats st;
    NS_CHECK(ns_pop_solver_stats(pop, &st) && !strcmp(st.solver, "cvode_adams") && st.steps > 0 && st.jac_evals == 0,
             "solver %s, %ld steps, %ld Jacobians", st.solver, st.steps, st.jac_evals);
    NS_CHECK(!strcmp(st.extra, "\"regime\": \"KG field\", \"m_rad_per_ms\": 0.2, \"c_um_per_ms\": 31.6227766, "
                               "\"nx\": 6, \"ny\": 4"),
             "run.json's members: %s", st.extra);
    ns_net_free(net);
    test_ctx_free(ctx);
    ctx = test_ctx(5, 1);
    net = ns_net_create(ctx, 0.1);
    pop = ns_net_add_population(net, "ei_lattice", 24, "F");
    set(net, pop, "nx", 5);
    NS_CHECK(ns_net_run(net, 1.0) != 0 && strstr(ns_ctx_errmsg(ctx), "24 sites are not whole rows of nx = 5"), "%s",
             ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);
    ctx = test_ctx(5, 1);
    net = ns_net_create(ctx, 0.1);
    pop = ns_net_add_population(net, "ei_lattice", 24, "F");
    NS_CHECK(ns_pop_set_solver(net, pop, "euler", 1e-8, 1e-10) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 1.0) != 0 && strstr(ns_ctx_errmsg(ctx), "solver euler; it takes rk4 (fused, the default) or cvode_adams"),
             "%s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);
}

int main(void)
{
    regimes();
    linearisation();
    eigenmodes();
    canonical();
    nonlinear_modes();
    cvode();
    threads();
    report();
    NS_TEST_MAIN_END();
}
