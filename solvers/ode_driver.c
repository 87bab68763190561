/* solvers/ode_driver.c — one ODE system on CVODE, GSL rk8pd, RK4 or Euler (see ode_driver.h).
 * The adaptive solvers are planned once at create; a restart is their init the first time and
 * their reinit after that, so their counters run over the whole life of the driver. */
#include "solvers/ode_driver.h"
#include "base/errmsg.h"

#include <stdlib.h>

#include "solvers/cvode.h"
#include "solvers/gsl_ode.h"
#include "solvers/rk.h"

struct ns_ode_driver {
    ns_ode_system sys;
    ns_cvode *cv;
    ns_gsl_ode *gs;
    double *work; /* fixed step: the method's scratch */
    int rk, started;
    long rk_steps;
};

void ns_ode_driver_free(ns_ode_driver *d)
{
    if (d) {
        ns_cvode_free(d->cv);
        ns_gsl_ode_free(d->gs);
        free(d->work);
    }
    free(d);
}

ns_ode_driver *ns_ode_driver_create(const ns_ode_system *sys, ns_ode_driver_method method, double rtol, double atol,
                                    char *err, size_t errlen)
{
    const char *problem = ns_ode_system_problem(sys);
    if (problem) return ns_errmsg(err, errlen, "ODE driver: %s", problem), NULL;
    ns_ode_driver *d = calloc(1, sizeof *d);
    if (!d) return ns_errmsg(err, errlen, "out of memory"), NULL;
    d->sys = *sys;
    switch (method) {
    case NS_ODE_DRIVER_CVODE_BDF:
    case NS_ODE_DRIVER_CVODE_ADAMS:
        d->cv = ns_cvode_create(sys, method == NS_ODE_DRIVER_CVODE_BDF ? NS_CVODE_BDF : NS_CVODE_ADAMS, rtol, atol, NULL,
                                err, errlen);
        if (!d->cv || ns_cvode_set_max_steps(d->cv, NS_ODE_DRIVER_MAX_STEPS, err, errlen)) goto fail;
        break;
    case NS_ODE_DRIVER_RK8PD:
        d->gs = ns_gsl_ode_create(sys, rtol, atol, NULL, err, errlen);
        if (!d->gs || ns_gsl_ode_set_max_steps(d->gs, NS_ODE_DRIVER_MAX_STEPS, err, errlen)) goto fail;
        break;
    case NS_ODE_DRIVER_RK4:
    case NS_ODE_DRIVER_EULER:
        d->rk = method == NS_ODE_DRIVER_RK4 ? NS_RK_RK4 : NS_RK_EULER;
        if (!(d->work = malloc(ns_rk_work_size(d->rk, sys->n) * sizeof *d->work))) {
            ns_errmsg(err, errlen, "out of memory");
            goto fail;
        }
        break;
    default:
        ns_errmsg(err, errlen, "ODE driver: unknown method %d", (int)method);
        goto fail;
    }
    return d;
fail:
    ns_ode_driver_free(d);
    return NULL;
}

int ns_ode_driver_adaptive(const ns_ode_driver *d) { return d->cv || d->gs; }

int ns_ode_driver_restart(ns_ode_driver *d, double t, const double *y, char *err, size_t errlen)
{
    int rc = NS_ODE_OK;
    if (d->cv) rc = d->started ? ns_cvode_reinit(d->cv, t, y, err, errlen) : ns_cvode_init(d->cv, t, y, err, errlen);
    else if (d->gs) rc = d->started ? ns_gsl_ode_reinit(d->gs, t, y, err, errlen) : ns_gsl_ode_init(d->gs, t, y, err, errlen);
    d->started = 1;
    return rc;
}

int ns_ode_driver_advance(ns_ode_driver *d, double t0, double h, double *t, double *y, int *root_hit, char *err,
                          size_t errlen)
{
    const double t1 = t0 + h;
    if (!d->cv && !d->gs) {
        int rc = ns_rk_step(d->rk, &d->sys, t0, h, y, d->work, err, errlen);
        if (rc) return rc;
        d->rk_steps++;
        *t = t1;
        return NS_ODE_OK;
    }
    if (!d->started) {
        int rc = ns_ode_driver_restart(d, *t, y, err, errlen);
        if (rc) return rc;
    }
    if (d->cv) return ns_cvode_advance(d->cv, t1, y, t, root_hit, err, errlen);
    return ns_gsl_ode_advance(d->gs, t1, y, t, root_hit, err, errlen);
}

double ns_ode_driver_carry(const ns_ode_driver *d) { return d->gs ? ns_gsl_ode_step_size(d->gs) : 0.0; }

void ns_ode_driver_set_carry(ns_ode_driver *d, double carry)
{
    if (d->gs) ns_gsl_ode_set_step_size(d->gs, carry);
}

void ns_ode_driver_get_stats(const ns_ode_driver *d, ns_ode_driver_stats *st)
{
    *st = (ns_ode_driver_stats){0};
    if (d->cv) {
        ns_cvode_stats c;
        ns_cvode_get_stats(d->cv, &c);
        *st = (ns_ode_driver_stats){c.steps, c.rhs_evals + c.rhs_evals_jac, c.err_test_fails, c.conv_fails,
                                    c.jac_evals, c.reinits};
    } else if (d->gs) {
        ns_gsl_ode_stats g;
        ns_gsl_ode_get_stats(d->gs, &g);
        st->steps = g.steps;
        st->rhs_evals = g.rhs_evals;
        st->reinits = g.reinits;
    } else {
        st->steps = d->rk_steps;
        st->rhs_evals = d->rk_steps * (d->rk == NS_RK_RK4 ? 4 : 1); /* the rhs calls of each step */
    }
}
