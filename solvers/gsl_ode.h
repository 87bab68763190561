/* solvers/gsl_ode.h — GSL odeiv2 with the adaptive rk8pd (Prince-Dormand 8(9)) stepper over an
 * ns_ode_system, as an independent cross-check of CVODE. GSL has no root finding, so a sign
 * change of a root function over an accepted step is located by bisecting that step. */
#ifndef NS_GSL_ODE_H
#define NS_GSL_ODE_H

#include <stddef.h>

#include "solvers/ode.h"

typedef struct ns_gsl_ode ns_gsl_ode;

/* Counters since ns_gsl_ode_init, summed over reinits. */
typedef struct {
    long steps;        /* accepted steps */
    long rhs_evals;    /* rhs calls */
    long root_evals;   /* root-function calls */
    long bisections;   /* single rk8pd steps taken to locate roots */
    long reinits;      /* ns_gsl_ode_reinit calls */
} ns_gsl_ode_stats;

/* An rk8pd integrator for sys (copied; callbacks and user pointer must outlive it). The local
 * error of variable i is kept below atol_i + rtol |y_i|, atol_i = atol_vec[i] if given, else atol.
 * Switches GSL's process-wide error handler off (GSL would otherwise abort). NULL + message on
 * failure. */
ns_gsl_ode *ns_gsl_ode_create(const ns_ode_system *sys, double rtol, double atol,
                              const double *atol_vec, char *err, size_t errlen);

/* Start at t0 (ms) from y0 (n values, copied); clears the statistics. */
int ns_gsl_ode_init(ns_gsl_ode *g, double t0, const double *y0, char *err, size_t errlen);

/* Restart at t (ms) from y, after a reset; keeps the step size and the statistics. */
int ns_gsl_ode_reinit(ns_gsl_ode *g, double t, const double *y, char *err, size_t errlen);

/* Integrate to t_out (ms, not before the current time); same contract as ns_cvode_advance:
 * NS_ODE_OK at t_out, or NS_ODE_ROOT at the first root (bracketed to 1e-10 ms; the
 * state returned is just past it), root_hit[i] = +1/-1/0; on failure the last good state. */
int ns_gsl_ode_advance(ns_gsl_ode *g, double t_out, double *y, double *t_reached, int *root_hit,
                       char *err, size_t errlen);

/* Most steps one advance may take (default 100000). */
int ns_gsl_ode_set_max_steps(ns_gsl_ode *g, long max_steps, char *err, size_t errlen);

/* Copy the counters into *st. */
int ns_gsl_ode_get_stats(const ns_gsl_ode *g, ns_gsl_ode_stats *st);
/* The step size (ms) the next advance tries first, which a restart keeps (checkpoints save it),
 * and setting it (a finite h > 0; anything else is ignored). */
double ns_gsl_ode_step_size(const ns_gsl_ode *g);
void ns_gsl_ode_set_step_size(ns_gsl_ode *g, double h);

/* Release everything; NULL is harmless. */
void ns_gsl_ode_free(ns_gsl_ode *g);

#endif
