/* solvers/gsl_ode.c — GSL rk8pd with event location by bisection (see gsl_ode.h).
 * Steps are taken one at a time with gsl_odeiv2_evolve_apply; when a root function changes sign
 * over an accepted step, the crossing is bracketed by re-running single rk8pd steps from the
 * step's start (shorter than the accepted one, so at least as accurate) and halving the bracket. */
#include "solvers/gsl_ode.h"
#include "base/errmsg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

/* A NaN in dy/dt is recoverable (GSL halves the step) this many times within one step. */
#define NAN_RETRIES 10

/* The first step tried after init (ms), and the width to which a root is bracketed (ms). */
#define H_INIT 1e-3
#define ROOT_TOL 1e-10

struct ns_gsl_ode {
    ns_ode_system sys;
    gsl_odeiv2_system gsys;
    gsl_odeiv2_step *step;
    gsl_odeiv2_control *con;
    gsl_odeiv2_evolve *evo;
    double rtol, atol;
    double *atolv;          /* per-variable absolute tolerances, or NULL */
    double *y, *y0, *ym, *yb, *yerr;  /* state, step start, bisection trial, bisection bracket end */
    double *gcur, *ga, *gb, *gm;      /* root functions: at the state, bracket ends, trial */
    double t, h;
    long max_steps;
    int ready;
    ns_gsl_ode_stats st;
    /* what the callbacks saw, for the failure message */
    int nan_count, nan_index, rhs_status;
    double nan_t, nan_value, rhs_t;
};

/* GSL_FAILURE makes evolve retry with half the step; GSL_EBADFUNC stops it at once. */
static int rhs_wrap(double t, const double y[], double dydt[], void *data)
{
    ns_gsl_ode *g = data;
    g->st.rhs_evals++;
    int r = g->sys.rhs(t, y, dydt, g->sys.user);
    if (r != 0) {
        g->rhs_status = r;
        g->rhs_t = t;
        return r > 0 && ++g->nan_count < NAN_RETRIES ? GSL_FAILURE : GSL_EBADFUNC;
    }
    int bad = ns_ode_first_nonfinite(dydt, g->sys.n);
    if (bad < 0) return GSL_SUCCESS;
    g->nan_index = bad;
    g->nan_t = t;
    g->nan_value = dydt[bad];
    return ++g->nan_count < NAN_RETRIES ? GSL_FAILURE : GSL_EBADFUNC;
}

static void release(ns_gsl_ode *g)
{
    if (g->evo) gsl_odeiv2_evolve_free(g->evo);
    if (g->con) gsl_odeiv2_control_free(g->con);
    if (g->step) gsl_odeiv2_step_free(g->step);
    free(g->atolv);
    free(g->y);
    free(g->gcur);
    free(g);
}

ns_gsl_ode *ns_gsl_ode_create(const ns_ode_system *sys, double rtol, double atol,
                              const double *atol_vec, char *err, size_t errlen)
{
    const char *problem = ns_ode_system_problem(sys);
    if (problem) {
        ns_errmsg(err, errlen, "GSL rk8pd: %s", problem);
        return NULL;
    }
    if (ns_ode_check_tolerances("GSL rk8pd", sys->n, rtol, atol, atol_vec, err, errlen)) return NULL;
    gsl_set_error_handler_off();

    const size_t n = (size_t)sys->n, nr = (size_t)sys->nroots;
    ns_gsl_ode *g = calloc(1, sizeof *g);
    if (!g) goto nomem;
    g->sys = *sys;
    g->gsys = (gsl_odeiv2_system){rhs_wrap, NULL, n, g};
    g->rtol = rtol;
    g->atol = atol;
    g->max_steps = 100000;
    g->y = malloc(5 * n * sizeof *g->y);
    if (!g->y) goto nomem;
    g->y0 = g->y + n;
    g->ym = g->y + 2 * n;
    g->yb = g->y + 3 * n;
    g->yerr = g->y + 4 * n;
    if (nr > 0) {
        g->gcur = malloc(4 * nr * sizeof *g->gcur);
        if (!g->gcur) goto nomem;
        g->ga = g->gcur + nr;
        g->gb = g->gcur + 2 * nr;
        g->gm = g->gcur + 3 * nr;
    }
    if (atol_vec) {
        g->atolv = malloc(n * sizeof *g->atolv);
        if (!g->atolv) goto nomem;
        memcpy(g->atolv, atol_vec, n * sizeof *atol_vec);
        /* D_i = eps_abs s_i + eps_rel (a_y |y_i| + a_dydt h |y'_i|) with eps_abs 1, s_i atol_i */
        g->con = gsl_odeiv2_control_scaled_new(1.0, rtol, 1.0, 0.0, g->atolv, n);
    } else {
        g->con = gsl_odeiv2_control_y_new(atol, rtol);
    }
    g->step = gsl_odeiv2_step_alloc(gsl_odeiv2_step_rk8pd, n);
    g->evo = gsl_odeiv2_evolve_alloc(n);
    if (!g->con || !g->step || !g->evo) goto nomem;
    return g;

nomem:
    ns_errmsg(err, errlen, "GSL rk8pd: out of memory for a system of %d equations", sys->n);
    if (g) release(g);
    return NULL;
}

void ns_gsl_ode_free(ns_gsl_ode *g)
{
    if (g) release(g);
}

static int eval_roots(ns_gsl_ode *g, double t, const double *y, double *out, char *err, size_t errlen)
{
    g->st.root_evals++;
    int r = g->sys.roots(t, y, out, g->sys.user);
    int bad = r == 0 ? ns_ode_first_nonfinite(out, g->sys.nroots) : -1;
    if (r != 0 || bad >= 0) {
        if (r != 0)
            ns_errmsg(err, errlen, "GSL rk8pd failed at t = %.9g ms: the root function failed (status %d)",
                   t, r);
        else
            ns_errmsg(err, errlen, "GSL rk8pd failed at t = %.9g ms: root function %d gave %g", t, bad,
                   out[bad]);
        return NS_ODE_EFAIL;
    }
    return NS_ODE_OK;
}

static int restart(ns_gsl_ode *g, double t, const double *y, int keep_stats, char *err, size_t errlen)
{
    int rc = ns_ode_check_start("GSL rk8pd", g && y, g ? g->sys.n : 0, t, y, err, errlen);
    if (rc) return rc;
    if (keep_stats) {
        g->st.reinits++;
    } else {
        memset(&g->st, 0, sizeof g->st);
        g->h = H_INIT;
    }
    memcpy(g->y, y, (size_t)g->sys.n * sizeof *y);
    g->t = t;
    gsl_odeiv2_step_reset(g->step);
    gsl_odeiv2_evolve_reset(g->evo);
    g->ready = 0;
    if (g->sys.nroots > 0) {
        int r = eval_roots(g, t, g->y, g->gcur, err, errlen);
        if (r) return r;
    }
    g->ready = 1;
    return NS_ODE_OK;
}

int ns_gsl_ode_init(ns_gsl_ode *g, double t0, const double *y0, char *err, size_t errlen)
{
    return restart(g, t0, y0, 0, err, errlen);
}

int ns_gsl_ode_reinit(ns_gsl_ode *g, double t, const double *y, char *err, size_t errlen)
{
    return restart(g, t, y, 1, err, errlen);
}

/* +1 / -1 if g went from below / above zero at a to at-or-past zero at b, else 0. A function
 * that starts at exactly zero has not crossed. */
static int crossing(double a, double b)
{
    if (a < 0 && b >= 0) return 1;
    if (a > 0 && b <= 0) return -1;
    return 0;
}

static int any_crossing(const double *a, const double *b, int m)
{
    for (int i = 0; i < m; i++)
        if (crossing(a[i], b[i])) return 1;
    return 0;
}

/* The variable with the largest local error relative to its tolerance, from the last step. */
static int worst_variable(const ns_gsl_ode *g)
{
    int worst = 0;
    double big = -1;
    for (int i = 0; i < g->sys.n; i++) {
        double tol = (g->atolv ? g->atolv[i] : g->atol) + g->rtol * fabs(g->y[i]);
        double v = fabs(g->evo->yerr[i]) / (tol > 0 ? tol : 1e-300);
        if (v > big || (isnan(v) && !isnan(big))) big = v, worst = i;
    }
    return worst;
}

static void step_failure(ns_gsl_ode *g, int status, double t0, char *err, size_t errlen)
{
    if (g->nan_count > 0 && g->rhs_status == 0)
        ns_errmsg(err, errlen, "GSL rk8pd failed at t = %.9g ms: the right-hand side gave %g in variable %d",
               g->nan_t, g->nan_value, g->nan_index);
    else if (g->rhs_status != 0)
        ns_errmsg(err, errlen, "GSL rk8pd failed at t = %.9g ms: the right-hand side returned status %d",
               g->rhs_t, g->rhs_status);
    else
        ns_errmsg(err, errlen, "GSL rk8pd failed at t = %.9g ms: the step size fell below machine "
               "precision (GSL status %d); worst variable %d", t0, status, worst_variable(g));
}

/* A sign change of some root function over the accepted step [t0, g->t] from y0: bracket the
 * first crossing to ROOT_TOL and leave the state just past it. */
static int locate_root(ns_gsl_ode *g, double t0, int *root_hit, char *err, size_t errlen)
{
    const int n = g->sys.n, m = g->sys.nroots;
    double ta = t0, tb = g->t;
    memcpy(g->ga, g->gcur, (size_t)m * sizeof *g->ga);
    memcpy(g->yb, g->y, (size_t)n * sizeof *g->yb);
    while (tb - ta > ROOT_TOL) {
        double tm = ta + 0.5 * (tb - ta);
        if (!(tm > ta && tm < tb)) break;
        memcpy(g->ym, g->y0, (size_t)n * sizeof *g->ym);
        g->nan_count = 0;
        g->rhs_status = 0;
        g->st.bisections++;
        int st = gsl_odeiv2_step_apply(g->step, t0, tm - t0, g->ym, g->yerr, NULL, NULL, &g->gsys);
        if (st != GSL_SUCCESS) {
            gsl_odeiv2_step_reset(g->step);
            step_failure(g, st, tm, err, errlen);
            return NS_ODE_EFAIL;
        }
        int r = eval_roots(g, tm, g->ym, g->gm, err, errlen);
        if (r) return r;
        double *tmp;
        if (any_crossing(g->ga, g->gm, m)) {
            tb = tm;
            tmp = g->gb, g->gb = g->gm, g->gm = tmp;
            tmp = g->yb, g->yb = g->ym, g->ym = tmp;
        } else {
            ta = tm;
            tmp = g->ga, g->ga = g->gm, g->gm = tmp;
        }
    }
    g->t = tb;
    memcpy(g->y, g->yb, (size_t)n * sizeof *g->y);
    for (int i = 0; i < m; i++) {
        if (root_hit) root_hit[i] = crossing(g->ga[i], g->gb[i]);
        g->gcur[i] = g->gb[i];
    }
    return NS_ODE_ROOT;
}

int ns_gsl_ode_advance(ns_gsl_ode *g, double t_out, double *y, double *t_reached, int *root_hit,
                       char *err, size_t errlen)
{
    const char *problem = ns_ode_advance_problem(g && y, g && g->ready, g ? g->t : 0, t_out);
    if (problem) {
        ns_errmsg(err, errlen, "GSL rk8pd: %s (t_out = %.9g ms, now %.9g ms)", problem, t_out, g ? g->t : NAN);
        return NS_ODE_EINVAL;
    }
    const int n = g->sys.n, m = g->sys.nroots;
    if (root_hit)
        for (int i = 0; i < m; i++) root_hit[i] = 0;
    int status = NS_ODE_OK;
    long steps = 0;
    while (g->t < t_out) {
        if (steps >= g->max_steps) {
            ns_errmsg(err, errlen, "GSL rk8pd failed at t = %.9g ms: took %ld steps without reaching "
                   "t_out; worst variable %d", g->t, steps, worst_variable(g));
            status = NS_ODE_EFAIL;
            break;
        }
        const double t0 = g->t;
        memcpy(g->y0, g->y, (size_t)n * sizeof *g->y0);
        g->nan_count = 0;
        g->rhs_status = 0;
        int st = gsl_odeiv2_evolve_apply(g->evo, g->con, g->step, &g->gsys, &g->t, t_out, &g->h, g->y);
        if (st != GSL_SUCCESS) {
            /* back to the last good state; GSL asks for resets after GSL_EBADFUNC */
            step_failure(g, st, t0, err, errlen);
            g->t = t0;
            memcpy(g->y, g->y0, (size_t)n * sizeof *g->y);
            gsl_odeiv2_step_reset(g->step);
            gsl_odeiv2_evolve_reset(g->evo);
            if (!(g->h > 0) || !isfinite(g->h)) g->h = H_INIT;
            status = NS_ODE_EFAIL;
            break;
        }
        steps++;
        g->st.steps++;
        if (m > 0) {
            int r = eval_roots(g, g->t, g->y, g->gm, err, errlen);
            if (r) {
                status = r;
                break;
            }
            if (any_crossing(g->gcur, g->gm, m)) {
                memcpy(g->gb, g->gm, (size_t)m * sizeof *g->gb);
                status = locate_root(g, t0, root_hit, err, errlen);
                if (status < 0) { /* back to the step's start, where the root functions are known */
                    g->t = t0;
                    memcpy(g->y, g->y0, (size_t)n * sizeof *g->y);
                }
                break;
            }
            memcpy(g->gcur, g->gm, (size_t)m * sizeof *g->gcur);
        }
    }
    memcpy(y, g->y, (size_t)n * sizeof *y);
    if (t_reached) *t_reached = g->t;
    return status;
}

int ns_gsl_ode_set_max_steps(ns_gsl_ode *g, long max_steps, char *err, size_t errlen)
{
    if (!g || max_steps < 1) {
        ns_errmsg(err, errlen, "GSL rk8pd: the step limit must be at least 1 (got %ld)", max_steps);
        return NS_ODE_EINVAL;
    }
    g->max_steps = max_steps;
    return NS_ODE_OK;
}

int ns_gsl_ode_get_stats(const ns_gsl_ode *g, ns_gsl_ode_stats *st)
{
    if (!g || !st) return NS_ODE_EINVAL;
    *st = g->st;
    return NS_ODE_OK;
}

double ns_gsl_ode_step_size(const ns_gsl_ode *g) { return g->h; }

void ns_gsl_ode_set_step_size(ns_gsl_ode *g, double h)
{
    if (h > 0 && isfinite(h)) g->h = h;
}
