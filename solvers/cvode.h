/* solvers/cvode.h — SUNDIALS CVODE (BDF or Adams, Newton with a dense or banded direct solver)
 * with root finding, over an ns_ode_system. Plan once, run many: create sets up CVODE memory,
 * the matrix and the linear solver; init/reinit only reset the state, advance only integrates. */
#ifndef NS_CVODE_H
#define NS_CVODE_H

#include <stddef.h>

#include "solvers/ode.h"

enum {
    NS_CVODE_BDF = 2,  /* stiff problems (CVODE's CV_BDF) */
    NS_CVODE_ADAMS = 1 /* non-stiff problems (CV_ADAMS) */
};

typedef struct ns_cvode ns_cvode;

/* Counters since ns_cvode_init, summed over any reinits. */
typedef struct {
    long steps;          /* internal steps taken */
    long rhs_evals;      /* rhs calls by the integrator */
    long rhs_evals_jac;  /* rhs calls for difference-quotient Jacobians */
    long err_test_fails; /* steps rejected by the local error test */
    long conv_fails;     /* nonlinear (Newton) convergence failures */
    long jac_evals;      /* Jacobian evaluations (user or difference quotient) */
    long root_evals;     /* root-function calls */
    long reinits;        /* ns_cvode_reinit calls */
    double last_step;    /* size of the last step taken, ms */
} ns_cvode_stats;

/* A CVODE solver for sys (copied; its callbacks and user pointer must outlive the solver).
 * rtol is relative; the absolute tolerance is atol_vec[i] per variable if atol_vec is given,
 * else atol for all (units of each variable). Linear solver: dense, or banded with bandwidth
 * block-1 when sys->block > 0; sys->jac if given, else difference quotients.
 * Returns NULL with a message in err on failure. */
ns_cvode *ns_cvode_create(const ns_ode_system *sys, int method, double rtol, double atol,
                          const double *atol_vec, char *err, size_t errlen);

/* Start at time t0 (ms) from y0 (n values, copied); clears the statistics. */
int ns_cvode_init(ns_cvode *s, double t0, const double *y0, char *err, size_t errlen);

/* Restart at time t (ms) from y (after a reset or any jump in the state): CVODE forgets its
 * history and starts again at order 1. Statistics keep accumulating. */
int ns_cvode_reinit(ns_cvode *s, double t, const double *y, char *err, size_t errlen);

/* Integrate to t_out (ms, not before the current time). Returns NS_ODE_OK with *t_reached =
 * t_out, or NS_ODE_ROOT at the first root on the way (*t_reached <= t_out, root_hit[i] = +1/-1
 * for a root of g_i crossed upward/downward, 0 for the others; root_hit may be NULL). y receives
 * the state at *t_reached; on failure (NS_ODE_EFAIL) y and *t_reached are the last good state
 * and the message names the time and the worst variable. */
int ns_cvode_advance(ns_cvode *s, double t_out, double *y, double *t_reached, int *root_hit,
                     char *err, size_t errlen);

/* Most internal steps one advance may take (default 10000). */
int ns_cvode_set_max_steps(ns_cvode *s, long max_steps, char *err, size_t errlen);

/* First step size to try (ms; 0 lets CVODE estimate it), used after each init/reinit. */
int ns_cvode_set_init_step(ns_cvode *s, double h0, char *err, size_t errlen);

/* Largest step size (ms; 0 for no limit). */
int ns_cvode_set_max_step(ns_cvode *s, double hmax, char *err, size_t errlen);

/* on (the default): never step past t_out, so the rhs is only evaluated inside [t, t_out] and
 * inputs may change at t_out. off: CVODE may step beyond and interpolate back (faster when the
 * rhs stays smooth across t_out). */
void ns_cvode_set_stop_at_t_out(ns_cvode *s, int on);

/* Copy the counters into *st. */
int ns_cvode_get_stats(const ns_cvode *s, ns_cvode_stats *st);

/* Release everything; NULL is harmless. */
void ns_cvode_free(ns_cvode *s);

#endif
