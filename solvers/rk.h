/* solvers/rk.h — fixed-step explicit Euler and classical fourth-order Runge-Kutta.
 * One step is a pure function of (t, h, y) plus caller-owned scratch, so a clock-driven model
 * can call it in its own loop and the tests can measure the order by halving h. */
#ifndef NS_RK_H
#define NS_RK_H

#include <stddef.h>

#include "solvers/ode.h"

enum {
    NS_RK_EULER = 1, /* explicit Euler, order 1, one rhs call per step */
    NS_RK_RK4 = 4    /* classical Runge-Kutta, order 4, four rhs calls per step */
};

/* Doubles of scratch a step of `method` needs for n equations (n for Euler, 3n for RK4);
 * 0 for an unknown method. */
size_t ns_rk_work_size(int method, int n);

/* Advance y (n values) in place from t to t + h (ms) with one step of `method`; work holds
 * ns_rk_work_size(method, n) doubles. Roots are ignored. On failure (rhs error, NaN or Inf in
 * dy/dt) y is left at its value at t and the message names the time and the variable. */
int ns_rk_step(int method, const ns_ode_system *sys, double t, double h, double *y, double *work,
               char *err, size_t errlen);

/* Integrate y from t0 to t_end (ms, t_end >= t0) with steps of h (ms); the last step is shortened
 * to land on t_end exactly (none is added when (t_end - t0)/h is a whole number up to rounding).
 * *t_reached (may be NULL) is t_end, or the time of the last good state on failure. */
int ns_rk_integrate(int method, const ns_ode_system *sys, double t0, double t_end, double h,
                    double *y, double *work, double *t_reached, char *err, size_t errlen);

#endif
