/* models/ltc.c — `ltc`: a population of liquid time-constant units (Hasani et al. 2021, ncps):
 * sigmoid synapses among the units and from `inputs` signal channels. Each step holds the inputs
 * and advances by dt / time_scale in ncps's time: the fused semi-implicit solver of ncps (K
 * unfolds), or CVODE / RK4 / rk8pd on the same right-hand side (ground truth at tight tolerance),
 * which runs in the simulation's ms with the right-hand side scaled by the step's elapsed cell time
 * over dt, so a time_scale that changes, or per-sample elapsed times (timespans), keep its clock
 * going forward. Weights seeded, from nsim's weights file or from an ncps state_dict (.npz). */
#include "models/ltc_cell.h"
#include "models/cell_file.h"
#include "models/model.h"
#include "models/input.h"
#include "models/ncps_npz.h"
#include "models/ode_pop.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double inputs, unfolds, time_scale, wiring, motor, sparsity, mixed_memory, implicit_constraints, timespans;
} ltc_params;

static const ns_state_var ltc_state[] = {
    {"v", "1", "unit potential (dimensionless)", 0, NS_BOUND_FINITE},
    {"c", "1", "LSTM cell state (mixed memory)", 0, NS_BOUND_FINITE},
};

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(ltc_params, field)}
static const ns_param ltc_param_table[] = {
    P(inputs, "1", 1, 1, 100000, "input (sensory) channels"),
    P(unfolds, "1", 0, 0, 1000, "unfolds K of the fused solver per step; 0: the weights file's, else 6"),
    P(time_scale, "ms", 1, 1e-9, HUGE_VAL, "ms per unit of the cell's time: a step is dt / time_scale"),
    P(wiring, "1", 0, 0, 1, "0 fully connected, 1 AutoNCP (ncps): sparse inter, command and motor layers"),
    P(motor, "1", 1, 1, 100000, "AutoNCP: motor (output) units"),
    P(sparsity, "1", 0.5, 0.1, 0.9, "AutoNCP: the fraction of synapses left out"),
    P(mixed_memory, "1", -1, -1, 1, "1: an LSTM cell in front (ncps); -1: the weights file's, else 0"),
    P(implicit_constraints, "1", 1, 0, 1, ".npz weights: 1 gleak, cm, w, sensory_w under softplus (ncps LTC), 0 as they are"),
    P(timespans, "1", 0, 0, 1, "1: one step per signal sample, by its elapsed time since the last / time_scale"),
};
#undef P

typedef struct {
    ns_ltc_cell *cell;
    ns_solver_opts o;
    size_t n, m;
    double *drive, *u, *vout;
    ns_ode_driver *drv; /* every solver but the fused one */
    long steps;         /* the fused solver's unfolds */
    double scale;       /* the solvers' right-hand side: cell time per ms of the step */
    double t_next;      /* ms where the solver stopped (a gap means a restart) */
    double stamp, t_last; /* timespans: the time channel last seen, the last sample's (ms + 1) */
    double *vl;         /* mixed memory: the LSTM's output */
    int implicit;       /* implicit_constraints at the first run: how an .npz is written */
} ltc_data;

static int ltc_rhs(double t, const double *v, double *dvdt, void *user)
{
    ltc_data *d = user;
    ns_ltc_rhs(d->cell, t, v, dvdt, d->drive);
    for (size_t i = 0; i < d->n; i++) dvdt[i] *= d->scale;
    return 0;
}

static int ltc_jac(double t, const double *v, double *J, void *user)
{
    ltc_data *d = user;
    ns_ltc_jac(d->cell, t, v, d->drive, J);
    for (size_t k = 0; k < d->n * d->n; k++) J[k] *= d->scale;
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
    free(d->vl);
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
    d->t_last = 1.0; /* time 0 */
    d->t_next = -1;
    const ltc_params *p = params;
    d->implicit = p->implicit_constraints != 0;
    if (o->weights[0]) {
        if (ns_npz_path(o->weights))
            d->cell = ns_ltc_import_npz(o->weights, p->implicit_constraints != 0, p->unfolds > 0 ? (unsigned)p->unfolds : 6,
                                        1e-8, err, errlen);
        else
            d->cell = ns_ltc_load(o->weights, err, errlen);
        if (!d->cell) goto fail;
        if (ns_ltc_opts_of(d->cell)->units != n) {
            snprintf(err, errlen, "%s: %zu units, the population has %zu", o->weights, ns_ltc_opts_of(d->cell)->units, n);
            goto fail;
        }
        if (p->mixed_memory >= 0 && (int)p->mixed_memory != ns_ltc_opts_of(d->cell)->mixed_memory) {
            snprintf(err, errlen, "ltc: mixed_memory is %g in the script but %d in %s: leave mixed_memory unset to take the file's",
                     p->mixed_memory, ns_ltc_opts_of(d->cell)->mixed_memory, o->weights);
            goto fail;
        }
    }
    if (ltc_ready(d, params, err, errlen)) goto fail;
    /* a success with a message: a note for the user (pop.c logs it) */
    if (p->unfolds > 0 && o->weights[0] && (unsigned)p->unfolds != ns_ltc_opts_of(d->cell)->unfolds &&
        !ns_npz_path(o->weights))
        snprintf(err, errlen, "ltc: unfolds %g set by the script replaces the %u of %s", p->unfolds,
                 ns_ltc_opts_of(d->cell)->unfolds, o->weights);
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
        lo.mixed_memory = p->mixed_memory > 0;
        if (p->unfolds > 0) lo.unfolds = (unsigned)p->unfolds;
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
    d->vl = calloc(d->n, sizeof *d->vl);
    if (!d->drive || !d->u || !d->vout || !d->vl) return snprintf(err, errlen, "out of memory"), -1;
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
    double *v = a->state[0], *cs = a->state[1];
    const int mixed = ns_ltc_opts_of(d->cell)->mixed_memory;
    const unsigned K = p->unfolds > 0 ? (unsigned)p->unfolds : ns_ltc_opts_of(d->cell)->unfolds;
    const size_t ch = d->m + (p->timespans != 0);
    if ((size_t)a->n_channels != ch) {
        snprintf(a->err, a->errlen, "ltc: %d input channels, the cell reads %zu (timespans changed after the first run?)",
                 a->n_channels, ch);
        return NS_STEP_FAILED;
    }
    for (int k = 0; k < a->nsteps; k++) {
        const int64_t s = a->step0 + k;
        const double *u = ns_input_row(a, 0, k);
        double h = a->dt / p->time_scale; /* elapsed cell time */
        if (p->timespans) { /* a step only where a new sample starts: its time + 1 ms in the last channel */
            const double stamp = u[d->m];
            if (stamp == d->stamp || stamp < 1) {
                if (ns_output_row(a, k)) memcpy(ns_output_row(a, k), v, a->n * sizeof *v);
                continue;
            }
            h = (stamp - d->t_last) / p->time_scale;
            d->stamp = d->t_last = stamp;
            if (!(h > 0)) {
                snprintf(a->err, a->errlen, "ltc: the signal sample at %g ms follows the last after no time (timespans: "
                         "elapsed times must be > 0)", stamp - 1);
                return NS_STEP_FAILED;
            }
        }
        int jumped = 0;
        if (mixed) { /* ncps's LSTM cell in front: v jumps, then the ODE runs from there */
            ns_ltc_lstm(d->cell, u, v, cs, d->vl, cs);
            memcpy(v, d->vl, d->n * sizeof *v);
            jumped = 1;
        }
        if (d->o.kind == NS_SOLVER_FUSED) {
            if (ns_ltc_fused(d->cell, u, v, h, K, v)) {
                snprintf(a->err, a->errlen, "fused step failed at t = %g ms", (double)s * a->dt);
                return NS_STEP_FAILED;
            }
            d->steps += (long)K;
        } else {
            /* in ms: the inputs and the rate (cell time per ms) are held over the step; the solver
             * restarts only where they change, after a gap, or where the state was set in between */
            const double t0 = (double)s * a->dt, scale = h / a->dt;
            int changed = jumped || memcmp(u, d->u, d->m * sizeof *u) != 0 || scale != d->scale || t0 != d->t_next ||
                          (k == 0 && memcmp(v, d->vout, d->n * sizeof *v) != 0);
            memcpy(d->u, u, d->m * sizeof *u);
            d->scale = scale;
            ns_ltc_drive(d->cell, u, d->drive);
            double t = t0;
            if ((changed && ns_ode_driver_restart(d->drv, t0, v, a->err, a->errlen)) ||
                ns_ode_driver_advance(d->drv, t0, a->dt, &t, v, NULL, a->err, a->errlen) < 0)
                return NS_STEP_FAILED;
            d->t_next = t0 + a->dt;
            memcpy(d->vout, v, d->n * sizeof *v); /* what the solver left, to see a change by the script */
        }
        if (ns_output_row(a, k)) memcpy(ns_output_row(a, k), v, a->n * sizeof *v);
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
    if (ns_npz_path(path)) return ns_ltc_export_npz(d->cell, path, d->implicit, err, errlen);
    return ns_ltc_save(d->cell, path, err, errlen);
}

/* Checkpoints: what the step keeps between windows (the inputs the solver was started with, its
 * rate, the time channel, what it left, the fused unfolds, rk8pd's step size). The solver's own
 * history cannot be saved: saving marks it to restart at this step (t_next unknown), as the
 * resumed run's new solver starts here, so both runs restart at the checkpoint time. */
static size_t ltc_state_size(const void *data)
{
    const ltc_data *d = data;
    return (d->m + d->n + 5) * sizeof(double);
}

static void ltc_state_save(void *data, unsigned char *buf)
{
    ltc_data *d = data;
    d->t_next = NAN;
    const double head[5] = {d->scale, d->stamp, d->t_last, (double)d->steps, d->drv ? ns_ode_driver_carry(d->drv) : 0.0};
    memcpy(buf, head, sizeof head);
    memcpy(buf + sizeof head, d->u, d->m * sizeof *d->u);
    memcpy(buf + sizeof head + d->m * sizeof *d->u, d->vout, d->n * sizeof *d->vout);
}

static int ltc_state_load(void *data, const unsigned char *buf, size_t len, char *err, size_t errlen)
{
    ltc_data *d = data;
    if (len != ltc_state_size(d)) return snprintf(err, errlen, "ltc: %zu bytes of state, not %zu", len, ltc_state_size(d)), -1;
    double head[5];
    memcpy(head, buf, sizeof head);
    d->scale = head[0], d->stamp = head[1], d->t_last = head[2], d->steps = (long)head[3];
    if (d->drv) ns_ode_driver_set_carry(d->drv, head[4]);
    memcpy(d->u, buf + sizeof head, d->m * sizeof *d->u);
    memcpy(d->vout, buf + sizeof head + d->m * sizeof *d->u, d->n * sizeof *d->vout);
    d->t_next = NAN;
    return 0;
}

static void ltc_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (size_t i = 0; i < n; i++) state[0][i] = state[1][i] = 0.0;
}

static const ns_out_port ltc_outputs[] = {{"v", "1", NS_OUT_GRADED, 1, NULL}}; /* the state after each step */

const ns_model ns_model_ltc = {
    .version = NS_MODEL_VERSION,
    .name = "ltc",
    .doc = "liquid time-constant units (ncps LTC), fused semi-implicit solver or CVODE",
    .fused_solver = 1,
    .state = ltc_state,
    .n_state = 2,
    .params = ltc_param_table,
    .n_params = (int)(sizeof ltc_param_table / sizeof ltc_param_table[0]),
    .params_size = sizeof(ltc_params),
    NS_SIGNAL_MODEL,
    .outputs = ltc_outputs,
    .n_outputs = 1,
    .init_state = ltc_init_state,
    .step = ltc_step,
    .data_create = ltc_create,
    .data_free = ltc_free,
    .data_save = ltc_save,
    .data_stats = ltc_stats,
    .state_size = ltc_state_size,
    .state_save = ltc_state_save,
    .state_load = ltc_state_load,
};
