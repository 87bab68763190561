/* solvers/rk.c — fixed-step explicit Euler and RK4 (see rk.h).
 * Every rhs result is checked for NaN/Inf before it touches y, so a failed step leaves the state
 * as it was and the message can say where (time, variable) it went wrong. */
#include "solvers/rk.h"
#include "base/errmsg.h"

#include <math.h>
#include <stdio.h>

static const char *method_name(int method)
{
    return method == NS_RK_EULER ? "Euler" : "RK4";
}

/* One rhs call with the checks; 0 or NS_ODE_EFAIL with the message set. */
static int eval(int method, const ns_ode_system *sys, double t, const double *y, double *ydot,
                char *err, size_t errlen)
{
    int r = sys->rhs(t, y, ydot, sys->user);
    if (r != 0) {
        ns_errmsg(err, errlen, "%s failed at t = %.9g ms: the right-hand side failed (status %d)",
               method_name(method), t, r);
        return NS_ODE_EFAIL;
    }
    int bad = ns_ode_first_nonfinite(ydot, sys->n);
    if (bad >= 0) {
        ns_errmsg(err, errlen, "%s failed at t = %.9g ms: the right-hand side gave %g in variable %d",
               method_name(method), t, ydot[bad], bad);
        return NS_ODE_EFAIL;
    }
    return NS_ODE_OK;
}

size_t ns_rk_work_size(int method, int n)
{
    if (n < 1) return 0;
    if (method == NS_RK_EULER) return (size_t)n;
    if (method == NS_RK_RK4) return 3 * (size_t)n;
    return 0;
}

int ns_rk_step(int method, const ns_ode_system *sys, double t, double h, double *y, double *work,
               char *err, size_t errlen)
{
    const char *problem = ns_ode_system_problem(sys);
    if (problem) {
        ns_errmsg(err, errlen, "fixed-step solver: %s", problem);
        return NS_ODE_EINVAL;
    }
    if (method != NS_RK_EULER && method != NS_RK_RK4) {
        ns_errmsg(err, errlen, "fixed-step solver: unknown method %d (NS_RK_EULER or NS_RK_RK4)", method);
        return NS_ODE_EINVAL;
    }
    if (!y || !work || !isfinite(t) || !isfinite(h)) {
        ns_errmsg(err, errlen, "%s: no state or work array, or a non-finite t or h", method_name(method));
        return NS_ODE_EINVAL;
    }
    const int n = sys->n;
    if (method == NS_RK_EULER) {
        double *k = work;
        int r = eval(method, sys, t, y, k, err, errlen);
        if (r) return r;
        for (int i = 0; i < n; i++) y[i] += h * k[i];
        return NS_ODE_OK;
    }
    /* RK4 in 3n doubles: k (current stage slope), acc (weighted sum of slopes), yt (stage point). */
    double *k = work, *acc = work + n, *yt = work + 2 * (size_t)n;
    const double hh = 0.5 * h;
    int r = eval(method, sys, t, y, k, err, errlen);
    if (r) return r;
    for (int i = 0; i < n; i++) {
        acc[i] = k[i];
        yt[i] = y[i] + hh * k[i];
    }
    if ((r = eval(method, sys, t + hh, yt, k, err, errlen))) return r;
    for (int i = 0; i < n; i++) {
        acc[i] += 2 * k[i];
        yt[i] = y[i] + hh * k[i];
    }
    if ((r = eval(method, sys, t + hh, yt, k, err, errlen))) return r;
    for (int i = 0; i < n; i++) {
        acc[i] += 2 * k[i];
        yt[i] = y[i] + h * k[i];
    }
    if ((r = eval(method, sys, t + h, yt, k, err, errlen))) return r;
    const double h6 = h / 6;
    for (int i = 0; i < n; i++) y[i] += h6 * (acc[i] + k[i]);
    return NS_ODE_OK;
}

int ns_rk_integrate(int method, const ns_ode_system *sys, double t0, double t_end, double h,
                    double *y, double *work, double *t_reached, char *err, size_t errlen)
{
    if (t_reached) *t_reached = t0;
    if (!isfinite(t0) || !isfinite(t_end) || !(h > 0) || !isfinite(h) || t_end < t0) {
        ns_errmsg(err, errlen, "fixed-step solver: need finite t0 <= t_end and a step h > 0 (got t0 = %g, "
               "t_end = %g, h = %g ms)", t0, t_end, h);
        return NS_ODE_EINVAL;
    }
    /* Step count: a whole number of steps when (t_end - t0)/h is one up to rounding, else one
     * more, shortened. Times are t0 + k h, never accumulated sums. */
    double q = (t_end - t0) / h;
    double nq = nearbyint(q);
    if (q > 1e15) {
        ns_errmsg(err, errlen, "fixed-step solver: too many steps ((t_end - t0)/h = %g)", q);
        return NS_ODE_EINVAL;
    }
    long nsteps = fabs(q - nq) <= 1e-9 * (nq > 1 ? nq : 1) ? (long)nq : (long)ceil(q);
    for (long k = 0; k < nsteps; k++) {
        double t = t0 + (double)k * h;
        double hk = k == nsteps - 1 ? t_end - t : h;
        int r = ns_rk_step(method, sys, t, hk, y, work, err, errlen);
        if (r) return r;
        if (t_reached) *t_reached = k == nsteps - 1 ? t_end : t + hk;
    }
    if (t_reached) *t_reached = t_end;
    return NS_ODE_OK;
}
