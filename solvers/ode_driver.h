/* solvers/ode_driver.h — one ODE system on any integrator of solvers/ behind one interface:
 * CVODE (BDF or Adams) and GSL rk8pd, which adapt their steps and find roots, or RK4 and Euler,
 * one fixed step at a time. A model that steps a system through a grid of time steps (with jumps
 * that restart it) uses this and never asks which method it has. */
#ifndef NS_ODE_DRIVER_H
#define NS_ODE_DRIVER_H

#include <stddef.h>

#include "solvers/ode.h"

typedef enum {
    NS_ODE_DRIVER_CVODE_BDF,   /* adaptive, stiff */
    NS_ODE_DRIVER_CVODE_ADAMS, /* adaptive, non-stiff */
    NS_ODE_DRIVER_RK8PD,       /* adaptive, explicit (GSL) */
    NS_ODE_DRIVER_RK4,         /* fixed step */
    NS_ODE_DRIVER_EULER        /* fixed step */
} ns_ode_driver_method;

/* Most internal steps an adaptive method may take in one advance (one grid step, or what is left
 * of it after a root): more means the system is too stiff for the method, or blows up. */
enum { NS_ODE_DRIVER_MAX_STEPS = 100000 };

typedef struct ns_ode_driver ns_ode_driver;

/* What the integrator did so far, summed over restarts. */
typedef struct {
    long steps;          /* internal steps (fixed step: grid steps) */
    long rhs_evals;      /* right-hand-side calls, those for difference-quotient Jacobians included */
    long err_test_fails; /* CVODE: steps rejected by the error test */
    long conv_fails;     /* CVODE: Newton convergence failures */
    long jac_evals;      /* CVODE: Jacobian evaluations */
    long reinits;        /* adaptive methods: restarts after the first start */
} ns_ode_driver_stats;

/* A driver for sys (copied; its callbacks and user pointer must outlive the driver) with the
 * given method; rtol (relative) and atol (the variables' units) for the adaptive methods. Roots
 * are looked for only by the adaptive methods. NULL with a message in err. */
ns_ode_driver *ns_ode_driver_create(const ns_ode_system *sys, ns_ode_driver_method method, double rtol, double atol,
                                    char *err, size_t errlen);
/* Release everything; NULL is harmless. */
void ns_ode_driver_free(ns_ode_driver *d);

/* 1 for CVODE and rk8pd (steps of their own choosing, roots), 0 for RK4 and Euler. */
int ns_ode_driver_adaptive(const ns_ode_driver *d);

/* The state jumped to y at time t (ms): an adaptive method starts again from there, forgetting
 * its history; a fixed-step one has nothing to forget. Returns 0 or a negative NS_ODE_ code. */
int ns_ode_driver_restart(ns_ode_driver *d, double t, const double *y, char *err, size_t errlen);

/* Advance y, which holds the state at time *t (ms), to the end t0 + h of the grid step [t0, t0 + h].
 * An adaptive method integrates from *t and may stop early at a root: NS_ODE_ROOT, *t the root's
 * time and root_hit (may be NULL) as ns_cvode_advance sets it; it starts from y at *t by itself
 * if it was never restarted. A fixed-step method takes the step in one (*t must be t0). Returns
 * NS_ODE_OK with *t = t0 + h, NS_ODE_ROOT, or a negative code with the last good state and the
 * time, the variable and the cause in err. */
int ns_ode_driver_advance(ns_ode_driver *d, double t0, double h, double *t, double *y, int *root_hit, char *err,
                          size_t errlen);

/* What a restart carries over (checkpoints save it): GSL rk8pd's next step size (ms); 0 for the
 * other methods (CVODE forgets its history at a restart, RK4 and Euler have none). Setting it
 * back is a no-op for them. */
double ns_ode_driver_carry(const ns_ode_driver *d);
void ns_ode_driver_set_carry(ns_ode_driver *d, double carry);

/* Copy the counters into *st. */
void ns_ode_driver_get_stats(const ns_ode_driver *d, ns_ode_driver_stats *st);

#endif
