/* models/ltc.c — `ltc`: a population of liquid time-constant units (Hasani et al. 2021, ncps):
 * sigmoid synapses among the units and from `inputs` signal channels. Each step holds the inputs
 * and advances by dt / time_scale in ncps's time: the fused semi-implicit solver of ncps (K
 * unfolds), or CVODE / RK4 / rk8pd on the same right-hand side (ground truth at tight tolerance). */
#include "models/ltc_cell.h"
#include "models/cell_file.h"
#include "models/model.h"
#include "models/ode_pop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double inputs, unfolds, time_scale, wiring, motor, sparsity;
} ltc_params;

static const ns_state_var ltc_state[] = {{"v", "1", "unit potential (dimensionless)", 0, NS_BOUND_FINITE}};

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(ltc_params, field)}
static const ns_param ltc_param_table[] = {
    P(inputs, "1", 1, 1, 100000, "input (sensory) channels"),
    P(unfolds, "1", 6, 1, 1000, "unfolds K of the fused solver per step"),
    P(time_scale, "ms", 1, 1e-9, HUGE_VAL, "ms per unit of the cell's time: a step is dt / time_scale"),
    P(wiring, "1", 0, 0, 1, "0 fully connected, 1 AutoNCP (ncps): sparse inter, command and motor layers"),
    P(motor, "1", 1, 1, 100000, "AutoNCP: motor (output) units"),
    P(sparsity, "1", 0.5, 0.1, 0.9, "AutoNCP: the fraction of synapses left out"),
};
#undef P

typedef struct {
    ns_ltc_cell *cell;
    ns_solver_opts o;
    size_t n, m;
    double *drive, *u, *vout;
    ns_ode_driver *drv; /* every solver but the fused one */
    long steps;         /* the fused solver's unfolds */
} ltc_data;

static int ltc_rhs(double t, const double *v, double *dvdt, void *user)
{
    ltc_data *d = user;
    ns_ltc_rhs(d->cell, t, v, dvdt, d->drive);
    return 0;
}

static int ltc_jac(double t, const double *v, double *J, void *user)
{
    ltc_data *d = user;
    ns_ltc_jac(d->cell, t, v, d->drive, J);
    return 0;
}

static void ltc_free(void *data)
{
    ltc_data *d = data;
    if (!d) return;
    ns_ltc_free(d->cell);
    ns_ode_driver_free(d->drv);
    free(d->drive);
    free(d->u);
    free(d->vout);
    free(d);
}

static int ltc_ready(ltc_data *d, const ltc_params *p, char *err, size_t errlen);

static void *ltc_create(const ns_model *m, const void *params, size_t n, double dt, const ns_solver_opts *o,
                        char *err, size_t errlen)
{
    (void)m;
    (void)dt;
    ltc_data *d = calloc(1, sizeof *d);
    if (!d) return snprintf(err, errlen, "out of memory"), NULL;
    d->o = *o;
    d->n = n;
    if (o->weights[0]) {
        if (!(d->cell = ns_ltc_load(o->weights, err, errlen))) goto fail;
        if (ns_ltc_opts_of(d->cell)->units != n) {
            snprintf(err, errlen, "%s: %zu units, the population has %zu", o->weights, ns_ltc_opts_of(d->cell)->units, n);
            goto fail;
        }
    }
    if (ltc_ready(d, params, err, errlen)) goto fail;
    return d;
fail:
    ltc_free(d);
    return NULL;
}

/* Make the cell (seeded, unless loaded) and the solver for the parameters. */
static int ltc_ready(ltc_data *d, const ltc_params *p, char *err, size_t errlen)
{
    if (!d->cell) {
        ns_ltc_opts lo;
        ns_ltc_opts_default(&lo, (size_t)p->inputs, d->n);
        ns_ncp_wiring w;
        if (p->wiring == 1) {
            if (ns_ncp_wiring_auto(&w, (size_t)p->inputs, d->n, (size_t)p->motor, p->sparsity, d->o.seed, err, errlen))
                return -1;
            lo.wiring = &w;
            lo.units = 0;
            lo.motor = 0;
        }
        d->cell = ns_ltc_create(&lo, err, errlen);
        if (p->wiring == 1) ns_ncp_wiring_release(&w);
        if (!d->cell) return -1;
        ns_ltc_init(d->cell, d->o.seed, 1);
    }
    d->m = ns_ltc_opts_of(d->cell)->inputs;
    if (d->m != (size_t)p->inputs) {
        snprintf(err, errlen, "the weights have %zu inputs, the population %g", d->m, p->inputs);
        return -1;
    }
    if (d->drive) return 0;
    d->drive = calloc(2 * d->n, sizeof *d->drive);
    d->u = calloc(d->m, sizeof *d->u);
    d->vout = calloc(d->n, sizeof *d->vout);
    if (!d->drive || !d->u || !d->vout) return snprintf(err, errlen, "out of memory"), -1;
    if (d->o.kind == NS_SOLVER_FUSED) return 0;
    ns_ode_system sys = {.n = (int)d->n, .rhs = ltc_rhs, .jac = ltc_jac, .user = d};
    return (d->drv = ns_solver_driver_create(&sys, &d->o, err, errlen)) ? 0 : -1;
}

/* A unit's graded output is its v after the step: every unit's, with an AutoNCP wiring too (its
 * motor units are the first); ncps's output mapping (output_w, output_b) is not applied. */
static int ltc_step(const ns_step_args *a)
{
    ltc_data *d = a->data;
    const ltc_params *p = a->params;
    if (ltc_ready(d, p, a->err, a->errlen)) return NS_STEP_FAILED;
    double *v = a->state[0];
    const double h = a->dt / p->time_scale;
    for (int k = 0; k < a->nsteps; k++) {
        const int64_t s = a->step0 + k;
        const double *u = a->signal + (size_t)(s % (int64_t)a->ring_len) * d->m;
        if (d->o.kind == NS_SOLVER_FUSED) {
            if (ns_ltc_fused(d->cell, u, v, h, (unsigned)p->unfolds, v)) {
                snprintf(a->err, a->errlen, "fused step failed at t = %g ms", (double)s * a->dt);
                return NS_STEP_FAILED;
            }
            d->steps += (long)p->unfolds;
        } else {
            /* the inputs are held over the step; the solver restarts only where they change (and
             * at each call, since the state may have been set in between) */
            int changed = memcmp(u, d->u, d->m * sizeof *u) != 0 ||
                          (k == 0 && memcmp(v, d->vout, d->n * sizeof *v) != 0);
            memcpy(d->u, u, d->m * sizeof *u);
            ns_ltc_drive(d->cell, u, d->drive);
            const double t0 = (double)s * h;
            double t = t0;
            if ((changed && ns_ode_driver_restart(d->drv, t0, v, a->err, a->errlen)) ||
                ns_ode_driver_advance(d->drv, t0, h, &t, v, NULL, a->err, a->errlen) < 0)
                return NS_STEP_FAILED;
            memcpy(d->vout, v, d->n * sizeof *v); /* what the solver left, to see a change by the script */
        }
        if (a->graded) memcpy(a->graded + (size_t)k * a->n, v, a->n * sizeof *v);
    }
    return 0;
}

static void ltc_stats(const void *data, ns_solver_stats *st)
{
    const ltc_data *d = data;
    memset(st, 0, sizeof *st);
    st->solver = ns_solver_name(d->o.kind);
    if (d->drv) ns_ode_fill_stats(d->drv, st);
    else st->steps = d->steps;
}

static int ltc_save(const void *data, const char *path, char *err, size_t errlen)
{
    const ltc_data *d = data; /* made with its cell (data_create fails without one) */
    return ns_ltc_save(d->cell, path, err, errlen);
}

static void ltc_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (size_t i = 0; i < n; i++) state[0][i] = 0.0;
}

const ns_model ns_model_ltc = {
    .version = NS_MODEL_VERSION,
    .name = "ltc",
    .doc = "liquid time-constant units (ncps LTC), fused semi-implicit solver or CVODE",
    .fused_solver = 1,
    .state = ltc_state,
    .n_state = 1,
    .params = ltc_param_table,
    .n_params = (int)(sizeof ltc_param_table / sizeof ltc_param_table[0]),
    .params_size = sizeof(ltc_params),
    NS_SIGNAL_MODEL,
    .graded_output = 1,
    .init_state = ltc_init_state,
    .step = ltc_step,
    .data_create = ltc_create,
    .data_free = ltc_free,
    .data_save = ltc_save,
    .data_stats = ltc_stats,
};
