/* tests/test_solvers.c — the integrators of solvers/ against closed forms: exponential decay and
 * a harmonic oscillator (CVODE, GSL rk8pd, the convergence order of RK4 and Euler), threshold
 * roots and resets (a leaky integrator's analytic period), NaN failures, statistics, block mode;
 * and the same closed forms through the one interface of ode_driver.h, for every method. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "solvers/cvode.h"
#include "solvers/gsl_ode.h"
#include "solvers/ode.h"
#include "solvers/ode_driver.h"
#include "solvers/rk.h"
#include "tests/harness.h"

#define ERRLEN 256

/* ---- systems ---- */

/* y' = -y / tau, y(t) = y0 e^{-t/tau} */
typedef struct {
    double tau;
} decay_par;

static int decay_rhs(double t, const double *y, double *yd, void *u)
{
    (void)t;
    yd[0] = -y[0] / ((decay_par *)u)->tau;
    return 0;
}

static int decay_jac(double t, const double *y, double *J, void *u)
{
    (void)t, (void)y;
    J[0] = -1 / ((decay_par *)u)->tau;
    return 0;
}

/* Units of x' = v, v' = -w_u^2 x, stored contiguously: x_u(t) = cos(w_u t), v_u = -w_u sin(w_u t).
 * One unit is the harmonic oscillator; many make a block-diagonal system. */
typedef struct {
    int units;
    double w[64];
    double tmax_seen; /* latest time the rhs was asked about */
} osc_par;

static int osc_rhs(double t, const double *y, double *yd, void *u)
{
    osc_par *p = u;
    if (t > p->tmax_seen) p->tmax_seen = t;
    for (int k = 0; k < p->units; k++) {
        yd[2 * k] = y[2 * k + 1];
        yd[2 * k + 1] = -p->w[k] * p->w[k] * y[2 * k];
    }
    return 0;
}

/* Full n*n column-major Jacobian (block 0). */
static int osc_jac_full(double t, const double *y, double *J, void *u)
{
    (void)t, (void)y;
    osc_par *p = u;
    int n = 2 * p->units;
    for (int k = 0; k < p->units; k++) {
        J[(2 * k + 1) * n + 2 * k] = 1;                       /* d x'/d v */
        J[(2 * k) * n + 2 * k + 1] = -p->w[k] * p->w[k];     /* d v'/d x */
    }
    return 0;
}

/* Block form (block 2): unit k's 2x2 block, column-major, at J + 4k. */
static int osc_jac_block(double t, const double *y, double *J, void *u)
{
    (void)t, (void)y;
    osc_par *p = u;
    for (int k = 0; k < p->units; k++) {
        J[4 * k + 2] = 1;                   /* row 0, column 1 */
        J[4 * k + 1] = -p->w[k] * p->w[k];  /* row 1, column 0 */
    }
    return 0;
}

static double osc_error(const osc_par *p, const double *y, double t)
{
    double worst = 0;
    for (int k = 0; k < p->units; k++) {
        double ex = fabs(y[2 * k] - cos(p->w[k] * t));
        double ev = fabs(y[2 * k + 1] + p->w[k] * sin(p->w[k] * t));
        worst = fmax(worst, fmax(ex, ev / p->w[k]));
    }
    return worst;
}

/* y' = 1 with roots at y = 2.5 and y = 7. */
static int ramp_rhs(double t, const double *y, double *yd, void *u)
{
    (void)t, (void)y, (void)u;
    yd[0] = 1;
    return 0;
}

static int fall_rhs(double t, const double *y, double *yd, void *u)
{
    (void)t, (void)y, (void)u;
    yd[0] = -1;
    return 0;
}

static int ramp_roots(double t, const double *y, double *g, void *u)
{
    (void)t, (void)u;
    g[0] = y[0] - 2.5;
    g[1] = y[0] - 7;
    return 0;
}

/* A leaky integrator tau y' = I - y, threshold 1, reset to 0: period tau ln(I / (I - 1)). */
typedef struct {
    double tau, I;
} leaky_par;

static int leaky_rhs(double t, const double *y, double *yd, void *u)
{
    (void)t;
    leaky_par *p = u;
    yd[0] = (p->I - y[0]) / p->tau;
    return 0;
}

static int leaky_roots(double t, const double *y, double *g, void *u)
{
    (void)t, (void)u;
    g[0] = y[0] - 1;
    return 0;
}

/* Two decays; variable 1's derivative turns NaN after t_bad. */
typedef struct {
    double t_bad;
} nan_par;

static int nan_rhs(double t, const double *y, double *yd, void *u)
{
    yd[0] = -y[0];
    yd[1] = t > ((nan_par *)u)->t_bad ? NAN : -y[1];
    return 0;
}

/* Van der Pol, mu = 1: no closed form, so CVODE and rk8pd check each other. */
static int vdp_rhs(double t, const double *y, double *yd, void *u)
{
    (void)t, (void)u;
    yd[0] = y[1];
    yd[1] = (1 - y[0] * y[0]) * y[1] - y[0];
    return 0;
}

/* A Jacobian with a NaN in unit 1's d v'/d x: row 3, column 2 of the whole system. */
static int osc_jac_nan(double t, const double *y, double *J, void *u)
{
    osc_jac_block(t, y, J, u);
    J[4 * 1 + 1] = NAN;
    return 0;
}

/* The time named in a failure message ("... at t = 5.01 ms ..."), NaN if none. */
static double message_time(const char *msg)
{
    const char *p = strstr(msg, "t = ");
    return p ? strtod(p + 4, NULL) : NAN;
}

/* ---- CVODE ---- */

static void cvode_decay(int method, int with_jac)
{
    char err[ERRLEN] = "";
    decay_par p = {10};
    ns_ode_system sys = {.n = 1, .rhs = decay_rhs, .jac = with_jac ? decay_jac : NULL, .user = &p};
    ns_cvode *s = ns_cvode_create(&sys, method, 1e-10, 1e-12, NULL, err, sizeof err);
    NS_CHECK(s != NULL, "%s", err);
    if (!s) return;
    double y[1] = {1}, t = 0;
    NS_CHECK(ns_cvode_init(s, 0, y, err, sizeof err) == 0, "%s", err);
    double worst = 0;
    for (int k = 1; k <= 40; k++) { /* windows of 0.5 ms, as the engine would ask */
        int r = ns_cvode_advance(s, 0.5 * k, y, &t, NULL, err, sizeof err);
        NS_CHECK(r == NS_ODE_OK, "decay: %s", err);
        worst = fmax(worst, fabs(y[0] - exp(-t / p.tau)));
    }
    NS_CHECK_ABS(t, 20.0, 0);
    NS_CHECK(worst < 1e-8, "CVODE %s decay (jac %d): worst error %.3g",
             method == NS_CVODE_BDF ? "BDF" : "Adams", with_jac, worst);
    ns_cvode_free(s);
}

static void cvode_oscillator(int method, int with_jac)
{
    char err[ERRLEN] = "";
    osc_par p = {.units = 1, .w = {2 * M_PI / 10}};
    ns_ode_system sys = {.n = 2, .rhs = osc_rhs, .jac = with_jac ? osc_jac_full : NULL, .user = &p};
    ns_cvode *s = ns_cvode_create(&sys, method, 1e-10, 1e-12, NULL, err, sizeof err);
    NS_CHECK(s != NULL, "%s", err);
    if (!s) return;
    double y[2] = {1, 0}, t = 0;
    ns_cvode_init(s, 0, y, err, sizeof err);
    int r = ns_cvode_advance(s, 25, y, &t, NULL, err, sizeof err);
    NS_CHECK(r == NS_ODE_OK, "oscillator: %s", err);
    double e = osc_error(&p, y, t);
    /* BDF damps oscillations: over 2.5 periods at rtol 1e-10 its global error is ~3e-8 */
    NS_CHECK(e < (method == NS_CVODE_BDF ? 5e-8 : 1e-8), "CVODE %s oscillator (jac %d): error %.3g at t = %g",
             method == NS_CVODE_BDF ? "BDF" : "Adams", with_jac, e, t);
    ns_cvode_stats st;
    ns_cvode_get_stats(s, &st);
    NS_CHECK(st.steps > 10 && st.steps < 20000, "steps %ld", st.steps);
    NS_CHECK(st.rhs_evals >= st.steps, "rhs evals %ld < steps %ld", st.rhs_evals, st.steps);
    NS_CHECK(st.jac_evals >= 1 && st.jac_evals <= st.steps, "jac evals %ld", st.jac_evals);
    NS_CHECK(with_jac ? st.rhs_evals_jac == 0 : st.rhs_evals_jac == 2 * st.jac_evals,
             "DQ rhs evals %ld for %ld Jacobians", st.rhs_evals_jac, st.jac_evals);
    NS_CHECK(st.err_test_fails >= 0 && st.err_test_fails < st.steps, "error test fails %ld",
             st.err_test_fails);
    NS_CHECK(st.conv_fails >= 0 && st.conv_fails < st.steps, "conv fails %ld", st.conv_fails);
    NS_CHECK(st.last_step > 0 && st.last_step < 25, "last step %g", st.last_step);
    NS_CHECK(st.root_evals == 0 && st.reinits == 0, "roots %ld reinits %ld", st.root_evals, st.reinits);
    ns_cvode_free(s);
}

/* The default never evaluates the rhs past t_out; without it CVODE may look ahead. */
static void cvode_stop_time(void)
{
    char err[ERRLEN] = "";
    osc_par p = {.units = 1, .w = {1}};
    ns_ode_system sys = {.n = 2, .rhs = osc_rhs, .user = &p};
    ns_cvode *s = ns_cvode_create(&sys, NS_CVODE_ADAMS, 1e-6, 1e-8, NULL, err, sizeof err);
    double y[2] = {1, 0}, t;
    ns_cvode_init(s, 0, y, err, sizeof err);
    for (int k = 1; k <= 10; k++) {
        ns_cvode_advance(s, 0.3 * k, y, &t, NULL, err, sizeof err);
        NS_CHECK(p.tmax_seen <= 0.3 * k, "rhs seen at t = %.17g past t_out = %g", p.tmax_seen, 0.3 * k);
    }
    NS_CHECK(osc_error(&p, y, 3.0) < 1e-5, "stop-time run error %g", osc_error(&p, y, 3.0));
    ns_cvode_set_stop_at_t_out(s, 0);
    for (int k = 11; k <= 20; k++) ns_cvode_advance(s, 0.3 * k, y, &t, NULL, err, sizeof err);
    NS_CHECK(p.tmax_seen > 6.0, "overshooting run stayed at t <= t_out (%g)", p.tmax_seen);
    NS_CHECK(osc_error(&p, y, 6.0) < 1e-5, "overshooting run error %g", osc_error(&p, y, 6.0));
    /* and back on after an overshoot: interpolates, then stops again */
    ns_cvode_set_stop_at_t_out(s, 1);
    for (int k = 21; k <= 40; k++) {
        int r = ns_cvode_advance(s, 0.3 * k, y, &t, NULL, err, sizeof err);
        NS_CHECK(r == NS_ODE_OK, "%s", err);
    }
    NS_CHECK_ABS(t, 12.0, 1e-12);
    NS_CHECK(osc_error(&p, y, 12.0) < 1e-5, "mixed run error %g", osc_error(&p, y, 12.0));
    ns_cvode_free(s);
}

/* 32 oscillators with different frequencies, as one system: banded (block 2) with the block
 * Jacobian, banded with difference quotients, and dense. */
static void cvode_block(void)
{
    char err[ERRLEN] = "";
    osc_par p = {.units = 32};
    for (int k = 0; k < p.units; k++) p.w[k] = 0.2 + 0.05 * k;
    const int n = 2 * p.units;
    double yb[64], yd[64], y0[64];
    for (int k = 0; k < p.units; k++) y0[2 * k] = 1, y0[2 * k + 1] = 0;
    for (int mode = 0; mode < 3; mode++) {
        ns_ode_system sys = {.n = n, .rhs = osc_rhs, .user = &p};
        if (mode < 2) sys.block = 2;
        if (mode == 0) sys.jac = osc_jac_block;
        if (mode == 2) sys.jac = osc_jac_full;
        ns_cvode *s = ns_cvode_create(&sys, NS_CVODE_BDF, 1e-10, 1e-12, NULL, err, sizeof err);
        NS_CHECK(s != NULL, "%s", err);
        if (!s) continue;
        double *y = mode == 2 ? yd : yb, t;
        memcpy(y, y0, sizeof y0);
        ns_cvode_init(s, 0, y, err, sizeof err);
        int r = ns_cvode_advance(s, 10, y, &t, NULL, err, sizeof err);
        NS_CHECK(r == NS_ODE_OK, "block mode %d: %s", mode, err);
        double e = osc_error(&p, y, t);
        NS_CHECK(e < 1e-7, "block mode %d: error %.3g", mode, e);
        ns_cvode_stats st;
        ns_cvode_get_stats(s, &st);
        if (mode == 1) /* a banded difference quotient costs 2b - 1 = 3 rhs calls, not n = 64 */
            NS_CHECK(st.rhs_evals_jac == 3 * st.jac_evals && st.jac_evals > 0,
                     "banded DQ: %ld rhs calls for %ld Jacobians", st.rhs_evals_jac, st.jac_evals);
        ns_cvode_free(s);
    }
    double diff = 0;
    for (int i = 0; i < n; i++) diff = fmax(diff, fabs(yb[i] - yd[i]));
    NS_CHECK(diff < 1e-7, "banded and dense runs differ by %.3g", diff);
}

/* y' = 1 from 0: roots at 2.5 (g0) and 7 (g1), then on to 10. */
static void cvode_ramp_roots(void)
{
    char err[ERRLEN] = "";
    ns_ode_system sys = {.n = 1, .rhs = ramp_rhs, .roots = ramp_roots, .nroots = 2};
    ns_cvode *s = ns_cvode_create(&sys, NS_CVODE_BDF, 1e-10, 1e-12, NULL, err, sizeof err);
    double y[1] = {0}, t = 0;
    int hit[2] = {9, 9};
    ns_cvode_init(s, 0, y, err, sizeof err);
    int r = ns_cvode_advance(s, 10, y, &t, hit, err, sizeof err);
    NS_CHECK(r == NS_ODE_ROOT, "first root: status %d %s", r, err);
    NS_CHECK_ABS(t, 2.5, 1e-9);
    NS_CHECK_ABS(y[0], 2.5, 1e-9);
    NS_CHECK(hit[0] == 1 && hit[1] == 0, "root_hit %d %d", hit[0], hit[1]);
    r = ns_cvode_advance(s, 10, y, &t, hit, err, sizeof err);
    NS_CHECK(r == NS_ODE_ROOT, "second root: status %d %s", r, err);
    NS_CHECK_ABS(t, 7.0, 1e-9);
    NS_CHECK(hit[0] == 0 && hit[1] == 1, "root_hit %d %d", hit[0], hit[1]);
    r = ns_cvode_advance(s, 10, y, &t, hit, err, sizeof err);
    NS_CHECK(r == NS_ODE_OK && hit[0] == 0 && hit[1] == 0, "to the end: status %d %s", r, err);
    NS_CHECK_ABS(t, 10.0, 0);
    NS_CHECK_ABS(y[0], 10.0, 1e-9);
    ns_cvode_stats st;
    ns_cvode_get_stats(s, &st);
    NS_CHECK(st.root_evals > 0, "root evals %ld", st.root_evals);
    ns_cvode_free(s);
    sys.rhs = fall_rhs; /* downward: y' = -1 from 3 reaches 2.5 at t = 0.5 */
    s = ns_cvode_create(&sys, NS_CVODE_ADAMS, 1e-10, 1e-12, NULL, err, sizeof err);
    y[0] = 3;
    ns_cvode_init(s, 0, y, err, sizeof err);
    r = ns_cvode_advance(s, 10, y, &t, hit, err, sizeof err);
    NS_CHECK(r == NS_ODE_ROOT && hit[0] == -1 && hit[1] == 0, "downward root: %d %d %s", r, hit[0], err);
    NS_CHECK_ABS(t, 0.5, 1e-9);
    ns_cvode_free(s);
}

/* Leaky integrator reset at threshold, in engine-like windows of 1 ms; each period between roots
 * must be tau ln(I / (I - 1)). */
static void cvode_leaky_periods(int method)
{
    char err[ERRLEN] = "";
    leaky_par p = {10, 1.5};
    const double period = p.tau * log(p.I / (p.I - 1));
    ns_ode_system sys = {.n = 1, .rhs = leaky_rhs, .roots = leaky_roots, .nroots = 1, .user = &p};
    ns_cvode *s = ns_cvode_create(&sys, method, 1e-10, 1e-12, NULL, err, sizeof err);
    double y[1] = {0}, t = 0, last = 0, worst = 0;
    int spikes = 0, hit[1];
    ns_cvode_init(s, 0, y, err, sizeof err);
    for (int w = 1; w <= 60; w++) {
        int r;
        while ((r = ns_cvode_advance(s, w, y, &t, hit, err, sizeof err)) == NS_ODE_ROOT) {
            worst = fmax(worst, fabs(t - last - period));
            last = t;
            spikes++;
            y[0] = 0;
            NS_CHECK(hit[0] == 1, "root_hit %d", hit[0]);
            NS_CHECK(ns_cvode_reinit(s, t, y, err, sizeof err) == 0, "%s", err);
        }
        NS_CHECK(r == NS_ODE_OK && t == w, "window %d: status %d %s", w, r, err);
    }
    NS_CHECK(spikes == 5, "%d spikes in 60 ms, want 5", spikes);
    NS_CHECK(worst < 1e-7, "CVODE %s leaky periods: worst error %.3g ms",
             method == NS_CVODE_BDF ? "BDF" : "Adams", worst);
    ns_cvode_stats st;
    ns_cvode_get_stats(s, &st);
    NS_CHECK(st.reinits == 5, "reinits %ld", st.reinits);
    NS_CHECK(st.steps > 0 && st.rhs_evals >= st.steps && st.root_evals >= st.steps,
             "steps %ld rhs %ld roots %ld", st.steps, st.rhs_evals, st.root_evals);
    ns_cvode_free(s);
}

static void cvode_nan(void)
{
    char err[ERRLEN] = "";
    nan_par p = {5};
    ns_ode_system sys = {.n = 2, .rhs = nan_rhs, .user = &p};
    const int methods[] = {NS_CVODE_ADAMS, NS_CVODE_BDF};
    for (int m = 0; m < 2; m++) {
        ns_cvode *s = ns_cvode_create(&sys, methods[m], 1e-8, 1e-10, NULL, err, sizeof err);
        double y[2] = {1, 1}, t = 0;
        ns_cvode_init(s, 0, y, err, sizeof err);
        err[0] = '\0';
        int r = ns_cvode_advance(s, 10, y, &t, NULL, err, sizeof err);
        double tm = message_time(err);
        NS_CHECK(r == NS_ODE_EFAIL, "NaN rhs: status %d", r);
        NS_CHECK(strstr(err, "CVODE failed") && strstr(err, "variable 1") && tm >= 5 && tm < 5.5,
                 "NaN message: %s", err);
        NS_CHECK(t <= 5 && isfinite(y[0]) && isfinite(y[1]), "last good state t = %g y = %g %g", t,
                 y[0], y[1]);
        ns_cvode_free(s);
    }
    /* NaN from the very first call */
    p.t_bad = -1;
    ns_cvode *s = ns_cvode_create(&sys, NS_CVODE_BDF, 1e-8, 1e-10, NULL, err, sizeof err);
    double y[2] = {1, 1}, t;
    ns_cvode_init(s, 0, y, err, sizeof err);
    int r = ns_cvode_advance(s, 10, y, &t, NULL, err, sizeof err);
    NS_CHECK(r == NS_ODE_EFAIL && strstr(err, "t = 0 ms") && strstr(err, "variable 1"),
             "NaN at start: %d %s", r, err);
    ns_cvode_free(s);
}

static void cvode_errors(void)
{
    char err[ERRLEN] = "";
    ns_cvode_free(NULL);
    ns_ode_system bad = {.n = 0, .rhs = decay_rhs};
    NS_CHECK(!ns_cvode_create(&bad, NS_CVODE_BDF, 1e-6, 1e-8, NULL, err, sizeof err) &&
             strstr(err, "n >= 1"), "n = 0: %s", err);
    ns_ode_system odd = {.n = 3, .rhs = decay_rhs, .block = 2};
    NS_CHECK(!ns_cvode_create(&odd, NS_CVODE_BDF, 1e-6, 1e-8, NULL, err, sizeof err) &&
             strstr(err, "multiple of block"), "n %% block: %s", err);
    decay_par p = {1};
    ns_ode_system sys = {.n = 1, .rhs = decay_rhs, .user = &p};
    NS_CHECK(!ns_cvode_create(&sys, 7, 1e-6, 1e-8, NULL, err, sizeof err), "method 7 accepted");
    NS_CHECK(!ns_cvode_create(&sys, NS_CVODE_BDF, -1, 1e-8, NULL, err, sizeof err), "rtol -1 accepted");
    double atol[1] = {-1};
    NS_CHECK(!ns_cvode_create(&sys, NS_CVODE_BDF, 1e-6, 0, atol, err, sizeof err), "atol -1 accepted");
    ns_cvode *s = ns_cvode_create(&sys, NS_CVODE_BDF, 1e-6, 1e-8, NULL, err, sizeof err);
    double y[1] = {1}, t;
    NS_CHECK(ns_cvode_advance(s, 1, y, &t, NULL, err, sizeof err) == NS_ODE_EINVAL &&
             strstr(err, "init"), "advance before init: %s", err);
    ns_cvode_init(s, 2, y, err, sizeof err);
    NS_CHECK(ns_cvode_advance(s, 1, y, &t, NULL, err, sizeof err) == NS_ODE_EINVAL, "backwards: %s", err);
    NS_CHECK(ns_cvode_advance(s, 2, y, &t, NULL, err, sizeof err) == NS_ODE_OK && t == 2 && y[0] == 1,
             "zero-length advance");
    /* too many steps: the message names the time and the worst variable */
    ns_cvode_set_max_steps(s, 5, err, sizeof err);
    NS_CHECK(ns_cvode_advance(s, 1000, y, &t, NULL, err, sizeof err) == NS_ODE_EFAIL &&
             strstr(err, "worst variable 0") && message_time(err) > 2, "max steps: %s", err);
    NS_CHECK(ns_cvode_set_max_step(s, -1, err, sizeof err) == NS_ODE_EINVAL, "hmax -1 accepted");
    NS_CHECK(ns_cvode_set_init_step(s, 1e-3, err, sizeof err) == 0, "%s", err);
    NS_CHECK(ns_cvode_reinit(s, 0, (double[]){NAN}, err, sizeof err) == NS_ODE_EINVAL &&
             strstr(err, "variable 0"), "NaN state: %s", err);
    ns_cvode_free(s);

    /* a NaN in a (block) Jacobian is named by its row and column in the whole system */
    osc_par op = {.units = 2, .w = {1, 2}};
    ns_ode_system js = {.n = 4, .rhs = osc_rhs, .jac = osc_jac_nan, .block = 2, .user = &op};
    s = ns_cvode_create(&js, NS_CVODE_BDF, 1e-6, 1e-8, NULL, err, sizeof err);
    double y4[4] = {1, 0, 1, 0};
    ns_cvode_init(s, 0, y4, err, sizeof err);
    NS_CHECK(ns_cvode_advance(s, 1, y4, &t, NULL, err, sizeof err) == NS_ODE_EFAIL &&
             strstr(err, "Jacobian gave nan at row 3, column 2"), "NaN Jacobian: %s", err);
    ns_cvode_free(s);
}

/* ---- GSL rk8pd ---- */

static void gsl_closed_forms(void)
{
    char err[ERRLEN] = "";
    decay_par dp = {10};
    ns_ode_system ds = {.n = 1, .rhs = decay_rhs, .user = &dp};
    ns_gsl_ode *g = ns_gsl_ode_create(&ds, 1e-13, 1e-15, NULL, err, sizeof err);
    NS_CHECK(g != NULL, "%s", err);
    double y[2] = {1, 0}, t;
    ns_gsl_ode_init(g, 0, y, err, sizeof err);
    double worst = 0;
    for (int k = 1; k <= 40; k++) {
        NS_CHECK(ns_gsl_ode_advance(g, 0.5 * k, y, &t, NULL, err, sizeof err) == 0, "%s", err);
        worst = fmax(worst, fabs(y[0] - exp(-t / dp.tau)));
    }
    NS_CHECK(worst < 1e-10, "GSL decay: worst error %.3g", worst);
    ns_gsl_ode_free(g);

    osc_par op = {.units = 1, .w = {2 * M_PI / 10}};
    ns_ode_system os = {.n = 2, .rhs = osc_rhs, .user = &op};
    double atol[2] = {1e-15, 1e-15};
    g = ns_gsl_ode_create(&os, 1e-13, 0, atol, err, sizeof err);
    y[0] = 1, y[1] = 0;
    ns_gsl_ode_init(g, 0, y, err, sizeof err);
    NS_CHECK(ns_gsl_ode_advance(g, 25, y, &t, NULL, err, sizeof err) == 0, "%s", err);
    double e = osc_error(&op, y, t);
    NS_CHECK(t == 25 && e < 1e-10, "GSL oscillator: error %.3g at t = %g", e, t);
    ns_gsl_ode_stats st;
    ns_gsl_ode_get_stats(g, &st);
    NS_CHECK(st.steps > 0 && st.rhs_evals >= 13 * st.steps, "GSL steps %ld rhs %ld", st.steps,
             st.rhs_evals);
    ns_gsl_ode_free(g);
}

static void gsl_ramp_roots(void)
{
    char err[ERRLEN] = "";
    ns_ode_system sys = {.n = 1, .rhs = ramp_rhs, .roots = ramp_roots, .nroots = 2};
    ns_gsl_ode *g = ns_gsl_ode_create(&sys, 1e-12, 1e-12, NULL, err, sizeof err);
    double y[1] = {0}, t;
    int hit[2] = {9, 9};
    ns_gsl_ode_init(g, 0, y, err, sizeof err);
    int r = ns_gsl_ode_advance(g, 10, y, &t, hit, err, sizeof err);
    NS_CHECK(r == NS_ODE_ROOT, "GSL first root: %d %s", r, err);
    NS_CHECK_ABS(t, 2.5, 1e-9);
    NS_CHECK(t >= 2.5 && y[0] >= 2.5, "state not past the root: t %.17g y %.17g", t, y[0]);
    NS_CHECK(hit[0] == 1 && hit[1] == 0, "root_hit %d %d", hit[0], hit[1]);
    r = ns_gsl_ode_advance(g, 10, y, &t, hit, err, sizeof err);
    NS_CHECK(r == NS_ODE_ROOT && hit[0] == 0 && hit[1] == 1, "GSL second root: %d %s", r, err);
    NS_CHECK_ABS(t, 7.0, 1e-9);
    r = ns_gsl_ode_advance(g, 10, y, &t, hit, err, sizeof err);
    NS_CHECK(r == NS_ODE_OK && t == 10, "GSL to the end: %d %s", r, err);
    NS_CHECK_ABS(y[0], 10.0, 1e-10);
    ns_gsl_ode_free(g);
    /* a downward crossing: y' = -1 from 3 reaches 2.5 at t = 0.5 */
    sys.rhs = fall_rhs;
    g = ns_gsl_ode_create(&sys, 1e-12, 1e-12, NULL, err, sizeof err);
    y[0] = 3;
    ns_gsl_ode_init(g, 0, y, err, sizeof err);
    r = ns_gsl_ode_advance(g, 10, y, &t, hit, err, sizeof err);
    NS_CHECK(r == NS_ODE_ROOT && hit[0] == -1 && hit[1] == 0, "GSL downward root: %d %d %s", r, hit[0], err);
    NS_CHECK_ABS(t, 0.5, 1e-9);
    ns_gsl_ode_free(g);
}

static void gsl_leaky_periods(void)
{
    char err[ERRLEN] = "";
    leaky_par p = {10, 1.5};
    const double period = p.tau * log(p.I / (p.I - 1));
    ns_ode_system sys = {.n = 1, .rhs = leaky_rhs, .roots = leaky_roots, .nroots = 1, .user = &p};
    ns_gsl_ode *g = ns_gsl_ode_create(&sys, 1e-12, 1e-14, NULL, err, sizeof err);
    double y[1] = {0}, t = 0, last = 0, worst = 0;
    int spikes = 0, hit[1];
    ns_gsl_ode_init(g, 0, y, err, sizeof err);
    for (int w = 1; w <= 60; w++) {
        int r;
        while ((r = ns_gsl_ode_advance(g, w, y, &t, hit, err, sizeof err)) == NS_ODE_ROOT) {
            worst = fmax(worst, fabs(t - last - period));
            last = t;
            spikes++;
            y[0] = 0;
            ns_gsl_ode_reinit(g, t, y, err, sizeof err);
        }
        NS_CHECK(r == NS_ODE_OK && t == w, "GSL window %d: %d %s", w, r, err);
    }
    NS_CHECK(spikes == 5, "GSL: %d spikes, want 5", spikes);
    NS_CHECK(worst < 1e-9, "GSL leaky periods: worst error %.3g ms", worst);
    ns_gsl_ode_stats st;
    ns_gsl_ode_get_stats(g, &st);
    NS_CHECK(st.reinits == 5 && st.bisections > 0 && st.root_evals > st.steps, "GSL stats");
    ns_gsl_ode_free(g);
}

static void gsl_nan(void)
{
    char err[ERRLEN] = "";
    nan_par p = {5};
    ns_ode_system sys = {.n = 2, .rhs = nan_rhs, .user = &p};
    ns_gsl_ode *g = ns_gsl_ode_create(&sys, 1e-8, 1e-10, NULL, err, sizeof err);
    double y[2] = {1, 1}, t;
    ns_gsl_ode_init(g, 0, y, err, sizeof err);
    int r = ns_gsl_ode_advance(g, 10, y, &t, NULL, err, sizeof err);
    double tm = message_time(err);
    NS_CHECK(r == NS_ODE_EFAIL && strstr(err, "variable 1") && tm >= 5 && tm < 5.5,
             "GSL NaN: %d %s", r, err);
    NS_CHECK(t <= 5 && isfinite(y[1]), "GSL last good state t = %g y1 = %g", t, y[1]);
    ns_gsl_ode_free(g);
    ns_gsl_ode_free(NULL);
}

/* CVODE and rk8pd agree on Van der Pol, which has no closed form. */
static void cross_check(void)
{
    char err[ERRLEN] = "";
    ns_ode_system sys = {.n = 2, .rhs = vdp_rhs};
    ns_cvode *c = ns_cvode_create(&sys, NS_CVODE_BDF, 1e-11, 1e-13, NULL, err, sizeof err);
    ns_gsl_ode *g = ns_gsl_ode_create(&sys, 1e-12, 1e-14, NULL, err, sizeof err);
    double yc[2] = {2, 0}, yg[2] = {2, 0}, t;
    ns_cvode_init(c, 0, yc, err, sizeof err);
    ns_gsl_ode_init(g, 0, yg, err, sizeof err);
    ns_cvode_advance(c, 20, yc, &t, NULL, err, sizeof err);
    ns_gsl_ode_advance(g, 20, yg, &t, NULL, err, sizeof err);
    double d = fmax(fabs(yc[0] - yg[0]), fabs(yc[1] - yg[1]));
    NS_CHECK(d < 1e-7, "Van der Pol: CVODE and rk8pd differ by %.3g", d);
    ns_cvode_free(c);
    ns_gsl_ode_free(g);
}

/* ---- fixed step ---- */

static double rk_error(int method, const ns_ode_system *sys, double h, double t_end,
                       double (*exact_err)(const ns_ode_system *, const double *, double))
{
    char err[ERRLEN] = "";
    double y[2] = {1, 0}, work[6], t;
    NS_CHECK(ns_rk_work_size(method, sys->n) <= 6, "work size");
    int r = ns_rk_integrate(method, sys, 0, t_end, h, y, work, &t, err, sizeof err);
    NS_CHECK(r == 0 && t == t_end, "rk: %d %s", r, err);
    return exact_err(sys, y, t);
}

static double decay_err(const ns_ode_system *sys, const double *y, double t)
{
    return fabs(y[0] - exp(-t / ((decay_par *)sys->user)->tau));
}

static double osc_err(const ns_ode_system *sys, const double *y, double t)
{
    return osc_error(sys->user, y, t);
}

static void rk_orders(void)
{
    decay_par dp = {1};
    osc_par op = {.units = 1, .w = {1}};
    ns_ode_system ds = {.n = 1, .rhs = decay_rhs, .user = &dp};
    ns_ode_system os = {.n = 2, .rhs = osc_rhs, .user = &op};
    double r4d = rk_error(NS_RK_RK4, &ds, 0.1, 2, decay_err) / rk_error(NS_RK_RK4, &ds, 0.05, 2, decay_err);
    double r4o = rk_error(NS_RK_RK4, &os, 0.1, 5, osc_err) / rk_error(NS_RK_RK4, &os, 0.05, 5, osc_err);
    double r1d = rk_error(NS_RK_EULER, &ds, 1e-3, 1, decay_err) /
                 rk_error(NS_RK_EULER, &ds, 5e-4, 1, decay_err);
    double r1o = rk_error(NS_RK_EULER, &os, 1e-3, 1, osc_err) / rk_error(NS_RK_EULER, &os, 5e-4, 1, osc_err);
    NS_CHECK(r4d >= 14 && r4d <= 18, "RK4 decay error ratio %g", r4d);
    NS_CHECK(r4o >= 14 && r4o <= 18, "RK4 oscillator error ratio %g", r4o);
    NS_CHECK(r1d >= 1.9 && r1d <= 2.1, "Euler decay error ratio %g", r1d);
    NS_CHECK(r1o >= 1.9 && r1o <= 2.1, "Euler oscillator error ratio %g", r1o);
    NS_CHECK(rk_error(NS_RK_RK4, &ds, 0.01, 2, decay_err) < 1e-10, "RK4 h 0.01 accuracy");

    /* a last step that does not divide evenly still lands on t_end */
    char err[ERRLEN];
    double y[1] = {1}, work[3], t;
    NS_CHECK(ns_rk_integrate(NS_RK_RK4, &ds, 0, 1.05, 0.1, y, work, &t, err, sizeof err) == 0 &&
             t == 1.05, "uneven end t = %.17g", t);
    NS_CHECK_ABS(y[0], exp(-1.05), 1e-6);
    NS_CHECK(ns_rk_step(3, &ds, 0, 0.1, y, work, err, sizeof err) == NS_ODE_EINVAL, "method 3 accepted");
    NS_CHECK(ns_rk_integrate(NS_RK_RK4, &ds, 0, 1, 0, y, work, &t, err, sizeof err) == NS_ODE_EINVAL,
             "h 0 accepted");
}

static void rk_nan(void)
{
    char err[ERRLEN] = "";
    nan_par p = {5};
    ns_ode_system sys = {.n = 2, .rhs = nan_rhs, .user = &p};
    const int methods[] = {NS_RK_EULER, NS_RK_RK4};
    for (int m = 0; m < 2; m++) {
        double y[2] = {1, 1}, work[6], t;
        int r = ns_rk_integrate(methods[m], &sys, 0, 10, 0.1, y, work, &t, err, sizeof err);
        double tm = message_time(err);
        NS_CHECK(r == NS_ODE_EFAIL && strstr(err, "variable 1") && tm > 5 && tm <= 5.1 + 1e-9,
                 "RK NaN: %d %s", r, err);
        NS_CHECK(t <= 5.1 && t >= 4.9 && isfinite(y[1]), "RK last good state t = %g y1 = %g", t, y[1]);
        NS_CHECK_ABS(y[1], exp(-t), 1e-2);
    }
}

/* ---- the driver ---- */

static const ns_ode_driver_method all_methods[] = {NS_ODE_DRIVER_CVODE_BDF, NS_ODE_DRIVER_CVODE_ADAMS,
                                                   NS_ODE_DRIVER_RK8PD, NS_ODE_DRIVER_RK4, NS_ODE_DRIVER_EULER};

/* y' = -y / tau, counting the rhs calls. */
typedef struct {
    double tau;
    long calls;
} counted_decay;

static int counted_rhs(double t, const double *y, double *yd, void *u)
{
    (void)t;
    counted_decay *p = u;
    p->calls++;
    yd[0] = -y[0] / p->tau;
    return 0;
}

/* Grid steps of 0.1 ms to t = 5, a jump of +1 and a restart there, on to t = 10: y is e^{-t/tau}
 * before the jump and (e^{-5/tau} + 1) e^{-(t-5)/tau} after it. */
static void driver_decay(void)
{
    const double tol[] = {1e-6, 1e-6, 1e-6, 1e-6, 2e-2}; /* Euler's error is O(h) */
    for (int m = 0; m < 5; m++) {
        char err[ERRLEN] = "";
        counted_decay p = {2, 0};
        ns_ode_system sys = {.n = 1, .rhs = counted_rhs, .user = &p};
        ns_ode_driver *d = ns_ode_driver_create(&sys, all_methods[m], 1e-10, 1e-12, err, sizeof err);
        NS_CHECK(d != NULL, "method %d: %s", m, err);
        if (!d) continue;
        NS_CHECK(ns_ode_driver_adaptive(d) == (m < 3), "method %d adaptive %d", m, ns_ode_driver_adaptive(d));
        double y[1] = {1}, t = 0, worst = 0, y5 = 0;
        int ok = 1;
        for (int k = 0; k < 100; k++) {
            const double t0 = 0.1 * k;
            if (k == 50) {
                y5 = y[0];
                y[0] += 1;
                ok &= ns_ode_driver_restart(d, t0, y, err, sizeof err) == 0;
            }
            ok &= ns_ode_driver_advance(d, t0, 0.1, &t, y, NULL, err, sizeof err) == NS_ODE_OK && t == t0 + 0.1;
            double want = k < 50 ? exp(-t / p.tau) : (exp(-5 / p.tau) + 1) * exp(-(t - 5) / p.tau);
            worst = fmax(worst, fabs(y[0] - want));
        }
        NS_CHECK(ok, "method %d: %s", m, err);
        NS_CHECK(worst < tol[m], "method %d: worst error %.3g", m, worst);
        NS_CHECK_ABS(y5, exp(-5 / p.tau), tol[m]);
        ns_ode_driver_stats st;
        ns_ode_driver_get_stats(d, &st);
        NS_CHECK(st.rhs_evals == p.calls, "method %d: %ld rhs evaluations counted, %ld made", m, st.rhs_evals, p.calls);
        if (m < 3) NS_CHECK(st.reinits == 1 && st.steps > 0, "method %d: %ld reinits, %ld steps", m, st.reinits, st.steps);
        else NS_CHECK(st.steps == 100 && st.reinits == 0, "method %d: %ld steps, %ld reinits", m, st.steps, st.reinits);
        ns_ode_driver_free(d);
    }
    ns_ode_driver_free(NULL);
}

/* The leaky integrator (tau 10 ms, I 1.5) reset at its threshold roots, stepped on a 0.1 ms grid
 * as a population is: spikes at multiples of tau ln(I / (I - 1)). Fixed-step methods see no roots. */
static void driver_leaky_roots(void)
{
    leaky_par lp = {10, 1.5};
    const double period = lp.tau * log(lp.I / (lp.I - 1));
    ns_ode_system sys = {.n = 1, .rhs = leaky_rhs, .roots = leaky_roots, .nroots = 1, .user = &lp};
    for (int m = 0; m < 4; m++) {
        char err[ERRLEN] = "";
        ns_ode_driver *d = ns_ode_driver_create(&sys, all_methods[m], 1e-10, 1e-12, err, sizeof err);
        NS_CHECK(d != NULL, "method %d: %s", m, err);
        if (!d) continue;
        double y[1] = {0}, t = 0, worst = 0;
        int hit[1], spikes = 0, ok = ns_ode_driver_restart(d, 0, y, err, sizeof err) == 0;
        for (int k = 0; k < 600 && ok; k++) {
            const double t0 = 0.1 * k;
            while (t < t0 + 0.1 && ok) {
                int rc = ns_ode_driver_advance(d, t0, 0.1, &t, y, hit, err, sizeof err);
                ok = rc >= 0;
                if (rc == NS_ODE_ROOT && hit[0] > 0) {
                    worst = fmax(worst, fabs(t - ++spikes * period));
                    y[0] = 0;
                    ok &= ns_ode_driver_restart(d, t, y, err, sizeof err) == 0;
                }
            }
        }
        NS_CHECK(ok, "method %d: %s", m, err);
        if (m < 3) NS_CHECK(spikes == 5 && worst < 1e-6, "method %d: %d spikes, worst time error %.3g", m, spikes, worst);
        else NS_CHECK(spikes == 0 && y[0] > 1, "method %d: %d roots, y %g", m, spikes, y[0]);
        ns_ode_driver_free(d);
    }
}

static int stiff_rhs(double t, const double *y, double *yd, void *u)
{
    (void)t, (void)u;
    yd[0] = -1e9 * y[0];
    return 0;
}

/* An explicit method on a stiff system stops at the step limit with a message; a bad system or
 * method is refused at create. */
static void driver_limits(void)
{
    char err[ERRLEN] = "";
    ns_ode_system sys = {.n = 1, .rhs = stiff_rhs};
    ns_ode_driver *d = ns_ode_driver_create(&sys, NS_ODE_DRIVER_RK8PD, 1e-8, 1e-10, err, sizeof err);
    double y[1] = {1}, t = 0;
    int rc = ns_ode_driver_advance(d, 0, 1, &t, y, NULL, err, sizeof err);
    char want[64];
    snprintf(want, sizeof want, "took %d steps", NS_ODE_DRIVER_MAX_STEPS);
    NS_CHECK(rc == NS_ODE_EFAIL && strstr(err, want) && t < 1 && isfinite(y[0]), "stiff rk8pd: %d %s", rc, err);
    ns_ode_driver_free(d);
    ns_ode_system none = {.n = 0, .rhs = stiff_rhs};
    NS_CHECK(!ns_ode_driver_create(&none, NS_ODE_DRIVER_RK4, 0, 0, err, sizeof err) && strstr(err, "n >= 1"), "%s", err);
    NS_CHECK(!ns_ode_driver_create(&sys, (ns_ode_driver_method)99, 0, 0, err, sizeof err) && strstr(err, "unknown method"),
             "%s", err);
}

int main(void)
{
    clock_t c0 = clock();
    cvode_decay(NS_CVODE_BDF, 0);
    cvode_decay(NS_CVODE_BDF, 1);
    cvode_decay(NS_CVODE_ADAMS, 0);
    cvode_oscillator(NS_CVODE_BDF, 1);
    cvode_oscillator(NS_CVODE_BDF, 0);
    cvode_oscillator(NS_CVODE_ADAMS, 1);
    cvode_stop_time();
    cvode_block();
    cvode_ramp_roots();
    cvode_leaky_periods(NS_CVODE_BDF);
    cvode_leaky_periods(NS_CVODE_ADAMS);
    cvode_nan();
    cvode_errors();
    gsl_closed_forms();
    gsl_ramp_roots();
    gsl_leaky_periods();
    gsl_nan();
    cross_check();
    rk_orders();
    rk_nan();
    driver_decay();
    driver_leaky_roots();
    driver_limits();
    double secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
    NS_CHECK(secs < 2, "the solver tests took %.2f s of CPU", secs);
    NS_TEST_MAIN_END();
}
