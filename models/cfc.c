/* models/cfc.c — `cfc`: a population of closed-form continuous-time units (Hasani et al. 2022,
 * ncps CfC): each step advances in closed form by the elapsed time dt / time_scale, driven by
 * `inputs` signal channels; modes default, no_gate and pure, optional backbone and the
 * mixed-memory LSTM in front. */
#include "models/cfc_cell.h"
#include "models/cell_file.h"
#include "models/model.h"
#include "models/ode_unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double inputs, mode, backbone_layers, backbone_units, mixed_memory, time_scale, wiring, motor, sparsity;
} cfc_params;

static const ns_state_var cfc_state[] = {
    {"h", "1", "unit state (dimensionless)", 0, NS_BOUND_FINITE},
    {"c", "1", "LSTM cell state (mixed memory)", 0, NS_BOUND_FINITE},
};

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(cfc_params, field)}
static const ns_param cfc_param_table[] = {
    P(inputs, "1", 1, 1, 100000, "input (sensory) channels"),
    P(mode, "1", 0, 0, 2, "0 default, 1 no_gate, 2 pure"),
    P(backbone_layers, "1", 0, 0, 16, "Linear + lecun_tanh layers before the heads"),
    P(backbone_units, "1", 128, 1, 100000, "width of the backbone layers"),
    P(mixed_memory, "1", 0, 0, 1, "1: an LSTM cell in front"),
    P(time_scale, "ms", 1, 1e-9, HUGE_VAL, "ms per unit of elapsed time: a step is dt / time_scale"),
    P(wiring, "1", 0, 0, 1, "0 dense, 1 AutoNCP (ncps; needs backbone_layers 0): sparse wired heads"),
    P(motor, "1", 1, 1, 100000, "AutoNCP: motor (output) units, the last of h"),
    P(sparsity, "1", 0.5, 0.1, 0.9, "AutoNCP: the fraction of synapses left out"),
};
#undef P

typedef struct {
    ns_cfc_cell *cell;
    ns_solver_opts o;
    size_t n;
} cfc_data;

static void cfc_free(void *data)
{
    cfc_data *d = data;
    if (!d) return;
    ns_cfc_free(d->cell);
    free(d);
}

static int cfc_ready(cfc_data *d, const cfc_params *p, char *err, size_t errlen);

static void *cfc_create(const ns_model *m, const void *params, size_t n, double dt, const ns_solver_opts *o,
                        char *err, size_t errlen)
{
    (void)m;
    (void)dt;
    cfc_data *d = calloc(1, sizeof *d);
    if (!d) return snprintf(err, errlen, "out of memory"), NULL;
    d->o = *o;
    d->n = n;
    if (o->weights[0]) {
        if (!(d->cell = ns_cfc_load(o->weights, err, errlen))) goto fail;
        if (ns_cfc_opts_of(d->cell)->units != n) {
            snprintf(err, errlen, "%s: %zu units, the population has %zu", o->weights, ns_cfc_opts_of(d->cell)->units, n);
            goto fail;
        }
    }
    if (cfc_ready(d, params, err, errlen)) goto fail;
    return d;
fail:
    cfc_free(d);
    return NULL;
}

/* Make the cell (seeded, unless loaded) for the parameters, and check its inputs against them. */
static int cfc_ready(cfc_data *d, const cfc_params *p, char *err, size_t errlen)
{
    if (!d->cell) {
        ns_cfc_opts co;
        ns_cfc_opts_default(&co, (size_t)p->inputs, d->n);
        co.mode = (ns_cfc_mode)(int)p->mode;
        co.backbone_layers = (size_t)p->backbone_layers;
        co.backbone_units = (size_t)p->backbone_units;
        co.mixed_memory = p->mixed_memory != 0;
        ns_ncp_wiring w;
        if (p->wiring == 1) {
            if (ns_ncp_wiring_auto(&w, (size_t)p->inputs, d->n, (size_t)p->motor, p->sparsity, d->o.seed, err, errlen))
                return -1;
            co.wiring = &w;
        }
        d->cell = ns_cfc_create(&co, err, errlen);
        if (p->wiring == 1) ns_ncp_wiring_release(&w);
        if (!d->cell) return -1;
        ns_cfc_init(d->cell, d->o.seed);
    }
    if (ns_cfc_opts_of(d->cell)->inputs != (size_t)p->inputs) {
        snprintf(err, errlen, "the weights have %zu inputs, the population %g", ns_cfc_opts_of(d->cell)->inputs, p->inputs);
        return -1;
    }
    return 0;
}

/* A unit's graded output is its h after the step: every unit's, with an AutoNCP wiring too (its
 * motor units, ncps's output, are the last of h); neither the backbone's activations nor c. */
static int cfc_step(const ns_step_args *a)
{
    cfc_data *d = a->data;
    const cfc_params *p = a->params;
    if (cfc_ready(d, p, a->err, a->errlen)) return NS_STEP_FAILED;
    double *h = a->state[0], *c = a->state[1];
    const int mixed = ns_cfc_opts_of(d->cell)->mixed_memory;
    const size_t m = ns_cfc_opts_of(d->cell)->inputs;
    for (int k = 0; k < a->nsteps; k++) {
        const int64_t s = a->step0 + k;
        const double *u = a->signal + (size_t)(s % (int64_t)a->ring_len) * m;
        ns_cfc_step(d->cell, u, h, mixed ? c : NULL, a->dt / p->time_scale, h, mixed ? c : NULL);
        if (a->graded) memcpy(a->graded + (size_t)k * a->n, h, a->n * sizeof *h);
    }
    return 0;
}

static int cfc_save(const void *data, const char *path, char *err, size_t errlen)
{
    const cfc_data *d = data; /* made with its cell (data_create fails without one) */
    return ns_cfc_save(d->cell, path, err, errlen);
}

static int cfc_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    const cfc_params *p = params;
    (void)consts;
    (void)dt;
    if (p->mode != floor(p->mode) || p->backbone_layers != floor(p->backbone_layers)) {
        snprintf(err, errlen, "cfc: mode and backbone_layers are whole numbers");
        return -1;
    }
    if (p->wiring == 1 && p->backbone_layers > 0) {
        snprintf(err, errlen, "cfc: an AutoNCP wiring takes no backbone (set backbone_layers = 0)");
        return -1;
    }
    if (p->mode == 2 && p->backbone_layers > 0) {
        snprintf(err, errlen, "cfc: pure mode takes no backbone");
        return -1;
    }
    return 0;
}

static void cfc_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (size_t i = 0; i < n; i++) state[0][i] = state[1][i] = 0.0;
}

const ns_model ns_model_cfc = {
    .version = NS_MODEL_VERSION,
    .name = "cfc",
    .doc = "closed-form continuous-time units (ncps CfC): default, no_gate, pure; backbone; mixed memory",
    .state = cfc_state,
    .n_state = 2,
    .params = cfc_param_table,
    .n_params = (int)(sizeof cfc_param_table / sizeof cfc_param_table[0]),
    .params_size = sizeof(cfc_params),
    NS_SIGNAL_MODEL,
    .graded_output = 1,
    .init = cfc_init,
    .init_state = cfc_init_state,
    .step = cfc_step,
    .data_create = cfc_create,
    .data_free = cfc_free,
    .data_save = cfc_save,
};
