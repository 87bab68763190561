/* solvers/ode.h — the one description of an ODE system that every integrator in solvers/ takes.
 * A system is plain data plus callbacks on plain arrays (time in ms), so CVODE, GSL rk8pd and
 * the fixed-step Runge-Kutta methods integrate the same right-hand side and can check each other. */
#ifndef NS_ODE_H
#define NS_ODE_H

#include <math.h>
#include <stddef.h>

#include "base/errmsg.h"

/* Status codes of solvers/: 0 ok, positive informational, negative an error. The negative values
 * equal base/status.h's NS_EINVAL, NS_ENOMEM and NS_ERUN, so the engine can pass them on. */
enum {
    NS_ODE_OK = 0,
    NS_ODE_ROOT = 1,     /* an advance stopped early at a root of the root functions */
    NS_ODE_EINVAL = -1,  /* bad argument or call order */
    NS_ODE_ENOMEM = -2,  /* out of memory */
    NS_ODE_EFAIL = -5    /* the integration failed (error test, NaN, too many steps, ...) */
};

/* dy/dt at time t (ms) into ydot (per ms). Return 0 ok; > 0 a recoverable failure (an adaptive
 * solver may retry with a smaller step); < 0 an unrecoverable one. A NaN or Inf in ydot is
 * caught by the solvers and treated like a recoverable, then unrecoverable, failure. */
typedef int (*ns_ode_rhs)(double t, const double *y, double *ydot, void *user);

/* The Jacobian df/dy at (t, y) into J, which the caller has zeroed. For block == 0, J is n*n,
 * column-major: J[j*n + i] = df_i/dy_j. For block b > 0, J holds only the n/b diagonal blocks,
 * n*b doubles, block u (b*b column-major) at J + u*b*b: J[u*b*b + c*b + r] = df_{ub+r}/dy_{ub+c}.
 * Same return convention as ns_ode_rhs. */
typedef int (*ns_ode_jac)(double t, const double *y, double *J, void *user);

/* The nroots root functions at (t, y) into g; a root is where some g[i] crosses (or reaches) 0.
 * Return 0 ok, nonzero a failure. */
typedef int (*ns_ode_roots)(double t, const double *y, double *g, void *user);

/* An ODE system of n equations. jac and roots may be NULL (nroots 0). block > 0 declares the
 * Jacobian block-diagonal: n/b identical-shaped units of b variables each, stored contiguously
 * (unit u owns y[u*b .. u*b+b-1]); CVODE then uses a banded solver. block 0: a full Jacobian. */
typedef struct {
    int n;
    ns_ode_rhs rhs;
    ns_ode_jac jac;
    ns_ode_roots roots;
    int nroots;
    int block;
    int fixed_point; /* 1: CVODE solves its implicit steps by fixed-point iteration, with no Jacobian
                        and no linear solver (for Adams on a non-stiff system too large for a dense
                        matrix: ei_lattice); block and jac are then unused */
    void *user;
} ns_ode_system;

/* NULL if sys is usable, else a short description of what is wrong with it. */
static inline const char *ns_ode_system_problem(const ns_ode_system *sys)
{
    if (!sys) return "no system given";
    if (sys->n < 1) return "the system needs at least one equation (n >= 1)";
    if (!sys->rhs) return "the system has no right-hand side";
    if (sys->nroots < 0) return "nroots is negative";
    if (sys->nroots > 0 && !sys->roots) return "nroots > 0 but no root function";
    if (sys->block < 0) return "block is negative";
    if (sys->block > 0 && sys->n % sys->block != 0) return "n is not a multiple of block";
    return NULL;
}

/* NULL if an adaptive solver may advance from t_now to t_out (ms), else what is wrong: no solver
 * or state array (have 0), no init yet (ready 0), or t_out not finite or before t_now. The
 * caller prefixes its own name. */
static inline const char *ns_ode_advance_problem(int have, int ready, double t_now, double t_out)
{
    if (!have) return "advance needs a solver and a state array";
    if (!ready) return "advance before init";
    if (!(t_out >= t_now) || !isfinite(t_out)) return "t_out is not finite or before the current time";
    return NULL;
}

/* The index of the first entry of v[0..n) that is NaN or infinite, or -1 if all are finite. */
static inline int ns_ode_first_nonfinite(const double *v, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(v[i])) return i;
    return -1;
}

/* The tolerances of an adaptive solver: rtol (relative), and atol_vec[0..n) per variable if given,
 * else atol for all (the variables' units); each finite and >= 0, atol and rtol not both 0.
 * 0, or NS_ODE_EINVAL with "WHO: what is wrong" in err. */
static inline int ns_ode_check_tolerances(const char *who, int n, double rtol, double atol, const double *atol_vec,
                                          char *err, size_t errlen)
{
    if (!(rtol >= 0) || !isfinite(rtol)) {
        ns_errmsg(err, errlen, "%s: the relative tolerance must be finite and >= 0 (got %g)", who, rtol);
        return NS_ODE_EINVAL;
    }
    for (int i = 0; atol_vec && i < n; i++)
        if (!(atol_vec[i] >= 0) || !isfinite(atol_vec[i])) {
            ns_errmsg(err, errlen, "%s: absolute tolerance %d must be finite and >= 0 (got %g)", who, i, atol_vec[i]);
            return NS_ODE_EINVAL;
        }
    if (!atol_vec && (!(atol >= 0) || !isfinite(atol) || (atol == 0 && rtol == 0))) {
        ns_errmsg(err, errlen, "%s: the absolute tolerance must be finite and >= 0, and not 0 together with rtol "
                  "(got atol %g, rtol %g)", who, atol, rtol);
        return NS_ODE_EINVAL;
    }
    return NS_ODE_OK;
}

/* A state y[0..n) to (re)start an adaptive solver from at time t (ms): have is 0 when the solver
 * or y is missing; t and every y[i] must be finite. 0, or NS_ODE_EINVAL with "WHO: what" in err. */
static inline int ns_ode_check_start(const char *who, int have, int n, double t, const double *y, char *err,
                                     size_t errlen)
{
    if (!have || !isfinite(t)) {
        ns_errmsg(err, errlen, "%s: (re)init needs a solver, a state and a finite time", who);
        return NS_ODE_EINVAL;
    }
    int bad = ns_ode_first_nonfinite(y, n);
    if (bad >= 0) {
        ns_errmsg(err, errlen, "%s: the state at t = %.9g ms is not finite: variable %d is %g", who, t, bad, y[bad]);
        return NS_ODE_EINVAL;
    }
    return NS_ODE_OK;
}

#endif
