/* models/cfc.c — `cfc`: a population of closed-form continuous-time units (Hasani et al. 2022,
 * ncps CfC): each step advances in closed form by the elapsed time dt / time_scale (or, with
 * timespans, one step per signal sample by its own elapsed time), driven by `inputs` signal
 * channels; modes default, no_gate and pure, optional backbone and the mixed-memory LSTM in
 * front; weights seeded, from nsim's weights file or from an ncps state_dict (.npz). */
#include "models/cfc_cell.h"
#include "models/cell_file.h"
#include "models/model.h"
#include "models/input.h"
#include "models/ncps_npz.h"
#include "models/ode_unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double inputs, mode, backbone_layers, backbone_units, mixed_memory, time_scale, wiring, motor, sparsity;
    double activation, timespans;
} cfc_params;

static const ns_state_var cfc_state[] = {
    {"h", "1", "unit state (dimensionless)", 0, NS_BOUND_FINITE},
    {"c", "1", "LSTM cell state (mixed memory)", 0, NS_BOUND_FINITE},
};

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(cfc_params, field)}
static const ns_param cfc_param_table[] = {
    P(inputs, "1", 1, 1, 100000, "input (sensory) channels"),
    P(mode, "1", -1, -1, 2, "0 default, 1 no_gate, 2 pure; -1: the weights file's, else 0"),
    P(backbone_layers, "1", -1, -1, 16, "Linear + activation layers before the heads; -1: the weights file's, else 0"),
    P(backbone_units, "1", 0, 0, 100000, "width of the backbone layers; 0: the weights file's, else 128"),
    P(mixed_memory, "1", -1, -1, 1, "1: an LSTM cell in front; -1: the weights file's, else 0"),
    P(time_scale, "ms", 1, 1e-9, HUGE_VAL, "ms per unit of elapsed time: a step is dt / time_scale"),
    P(wiring, "1", 0, 0, 1, "0 dense, 1 AutoNCP (ncps; needs backbone_layers 0): sparse wired heads"),
    P(motor, "1", 1, 1, 100000, "AutoNCP: motor (output) units, the last of h"),
    P(sparsity, "1", 0.5, 0.1, 0.9, "AutoNCP: the fraction of synapses left out"),
    P(activation, "1", -1, -1, 4, "backbone: 0 lecun_tanh, 1 tanh, 2 relu, 3 silu, 4 gelu; -1: the weights file's, else 0"),
    P(timespans, "1", 0, 0, 1, "1: one step per signal sample, by its elapsed time since the last / time_scale"),
};
#undef P

typedef struct {
    ns_cfc_cell *cell;
    ns_solver_opts o;
    size_t n;
    double stamp, t_last; /* timespans: the time channel last seen, and the last sample's (ms + 1) */
} cfc_data;

static void cfc_free(void *data)
{
    cfc_data *d = data;
    if (!d) return;
    ns_cfc_free(d->cell);
    free(d);
}

static int cfc_ready(cfc_data *d, const cfc_params *p, char *err, size_t errlen);

static const char *const mode_names[] = {"default", "no_gate", "pure"};
static const char *const act_names[] = {"lecun_tanh", "tanh", "relu", "silu", "gelu"};

/* What the script set (a value other than "the file's") must agree with the weights file. */
static int cfc_conflict(const ns_cfc_opts *f, const cfc_params *p, const char *path, char *err, size_t errlen)
{
    const char *what = NULL;
    char s[64] = "", v[64] = "";
    if (p->mode >= 0 && (int)p->mode != (int)f->mode) {
        what = "mode";
        snprintf(s, sizeof s, "%g (%s)", p->mode, mode_names[(int)p->mode]);
        snprintf(v, sizeof v, "%d (%s)", (int)f->mode, mode_names[f->mode]);
    } else if (p->backbone_layers >= 0 && (size_t)p->backbone_layers != f->backbone_layers) {
        what = "backbone_layers";
        snprintf(s, sizeof s, "%g", p->backbone_layers);
        snprintf(v, sizeof v, "%zu", f->backbone_layers);
    } else if (p->backbone_units > 0 && f->backbone_layers > 0 && (size_t)p->backbone_units != f->backbone_units) {
        what = "backbone_units";
        snprintf(s, sizeof s, "%g", p->backbone_units);
        snprintf(v, sizeof v, "%zu", f->backbone_units);
    } else if (p->mixed_memory >= 0 && (int)p->mixed_memory != f->mixed_memory) {
        what = "mixed_memory";
        snprintf(s, sizeof s, "%g", p->mixed_memory);
        snprintf(v, sizeof v, "%d", f->mixed_memory);
    } else if (p->activation >= 0 && f->backbone_layers > 0 && (int)p->activation != (int)f->activation) {
        what = "activation";
        snprintf(s, sizeof s, "%g (%s)", p->activation, act_names[(int)p->activation]);
        snprintf(v, sizeof v, "%d (%s)", (int)f->activation, act_names[f->activation]);
    } else if (p->wiring == 1 && f->n_groups == 0) {
        what = "wiring";
        snprintf(s, sizeof s, "1 (AutoNCP)");
        snprintf(v, sizeof v, "none");
    }
    if (!what) return 0;
    snprintf(err, errlen, "cfc: %s is %s in the script but %s in %s: leave %s unset to take the file's", what, s, v,
             path, what);
    return -1;
}

static void *cfc_create(const ns_model *m, const void *params, size_t n, double dt, const ns_solver_opts *o,
                        char *err, size_t errlen)
{
    (void)m;
    (void)dt;
    cfc_data *d = calloc(1, sizeof *d);
    if (!d) return snprintf(err, errlen, "out of memory"), NULL;
    d->o = *o;
    d->n = n;
    d->t_last = 1.0; /* time 0 */
    if (o->weights[0]) {
        const cfc_params *p = params;
        if (ns_npz_path(o->weights))
            d->cell = ns_cfc_import_npz(o->weights, p->mode == 1 ? NS_CFC_NO_GATE : NS_CFC_DEFAULT,
                                        p->activation >= 0 ? (ns_cfc_activation)(int)p->activation : NS_CFC_LECUN_TANH,
                                        err, errlen);
        else
            d->cell = ns_cfc_load(o->weights, err, errlen);
        if (!d->cell) goto fail;
        if (ns_cfc_opts_of(d->cell)->units != n) {
            snprintf(err, errlen, "%s: %zu units, the population has %zu", o->weights, ns_cfc_opts_of(d->cell)->units, n);
            goto fail;
        }
        if (cfc_conflict(ns_cfc_opts_of(d->cell), p, o->weights, err, errlen)) goto fail;
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
        co.mode = p->mode < 0 ? NS_CFC_DEFAULT : (ns_cfc_mode)(int)p->mode;
        co.backbone_layers = p->backbone_layers < 0 ? 0 : (size_t)p->backbone_layers;
        co.backbone_units = p->backbone_units <= 0 ? 128 : (size_t)p->backbone_units;
        co.mixed_memory = p->mixed_memory > 0;
        co.activation = p->activation < 0 ? NS_CFC_LECUN_TANH : (ns_cfc_activation)(int)p->activation;
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
    const size_t m = ns_cfc_opts_of(d->cell)->inputs, ch = m + (p->timespans != 0);
    if ((size_t)a->n_channels != ch) {
        snprintf(a->err, a->errlen, "cfc: %d input channels, the cell reads %zu (timespans changed after the first run?)",
                 a->n_channels, ch);
        return NS_STEP_FAILED;
    }
    for (int k = 0; k < a->nsteps; k++) {
        const double *u = ns_input_row(a, 0, k);
        double elapsed = a->dt / p->time_scale;
        if (p->timespans) { /* a step only where a new sample starts: its time + 1 ms in the last channel */
            const double stamp = u[m];
            if (stamp == d->stamp || stamp < 1) {
                if (ns_output_row(a, k)) memcpy(ns_output_row(a, k), h, a->n * sizeof *h);
                continue;
            }
            elapsed = (stamp - d->t_last) / p->time_scale;
            d->stamp = d->t_last = stamp;
        }
        ns_cfc_step(d->cell, u, h, mixed ? c : NULL, elapsed, h, mixed ? c : NULL);
        if (ns_output_row(a, k)) memcpy(ns_output_row(a, k), h, a->n * sizeof *h);
    }
    return 0;
}

static int cfc_save(const void *data, const char *path, char *err, size_t errlen)
{
    const cfc_data *d = data; /* made with its cell (data_create fails without one) */
    if (ns_npz_path(path)) return ns_cfc_export_npz(d->cell, path, err, errlen);
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
    if (p->activation != floor(p->activation) || p->mixed_memory != floor(p->mixed_memory) ||
        p->timespans != floor(p->timespans)) {
        snprintf(err, errlen, "cfc: activation, mixed_memory and timespans are whole numbers");
        return -1;
    }
    return 0;
}

static void cfc_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (size_t i = 0; i < n; i++) state[0][i] = state[1][i] = 0.0;
}

/* Checkpoints: the time channel's last stamp and the last sample's time (timespans). */
static size_t cfc_state_size(const void *data)
{
    (void)data;
    return 2 * sizeof(double);
}

static void cfc_state_save(void *data, unsigned char *buf)
{
    const cfc_data *d = data;
    memcpy(buf, &d->stamp, sizeof d->stamp);
    memcpy(buf + sizeof(double), &d->t_last, sizeof d->t_last);
}

static int cfc_state_load(void *data, const unsigned char *buf, size_t len, char *err, size_t errlen)
{
    cfc_data *d = data;
    if (len != 2 * sizeof(double)) return snprintf(err, errlen, "cfc: %zu bytes of state, not 16", len), -1;
    memcpy(&d->stamp, buf, sizeof d->stamp);
    memcpy(&d->t_last, buf + sizeof(double), sizeof d->t_last);
    return 0;
}

static const ns_out_port cfc_outputs[] = {{"h", "1", NS_OUT_GRADED, 1, NULL}}; /* the state after each step */

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
    .outputs = cfc_outputs,
    .n_outputs = 1,
    .init = cfc_init,
    .init_state = cfc_init_state,
    .step = cfc_step,
    .data_create = cfc_create,
    .data_free = cfc_free,
    .data_save = cfc_save,
    .state_size = cfc_state_size,
    .state_save = cfc_state_save,
    .state_load = cfc_state_load,
};
