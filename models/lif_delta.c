/* models/lif_delta.c — `lif_delta`: leaky integrate-and-fire with delta synapses (NEST's
 * iaf_psc_delta, Brunel 2000). A spike of weight w mV moves V by w at once; input that arrives
 * while the neuron is refractory is dropped, as NEST and Brunel's network do. */
#include "models/model.h"
#include "models/input.h"

#include <math.h>
#include <stdio.h>

typedef struct {
    double C_m, tau_m, E_L, V_th, V_reset, t_ref, I_e;
} lif_delta_params;

typedef struct {
    double P33, P30, ref_steps;
} lif_delta_consts;

enum { V_M, REFR };

static const ns_state_var lif_delta_state[] = {
    {"V_m", "mV", "membrane potential", 0, NS_BOUND_MV},
    {"r", "steps", "refractory steps left", 1, NS_BOUND_FINITE},
};

#define P(field, unit, def, lo, hi, doc) \
    {#field, unit, doc, def, lo, hi, offsetof(lif_delta_params, field)}
static const ns_param lif_delta_param_table[] = {
    P(C_m, "pF", 250.0, 1e-6, HUGE_VAL, "membrane capacitance (for currents)"),
    P(tau_m, "ms", 20.0, 1e-6, HUGE_VAL, "membrane time constant"),
    P(E_L, "mV", 0.0, -HUGE_VAL, HUGE_VAL, "resting potential"),
    P(V_th, "mV", 20.0, -HUGE_VAL, HUGE_VAL, "spike threshold"),
    P(V_reset, "mV", 0.0, -HUGE_VAL, HUGE_VAL, "reset potential"),
    P(t_ref, "ms", 2.0, 0.0, HUGE_VAL, "absolute refractory period"),
    P(I_e, "pA", 0.0, -HUGE_VAL, HUGE_VAL, "constant external current"),
};
#undef P

static int lif_delta_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    const lif_delta_params *p = params;
    lif_delta_consts *c = consts;
    if (p->V_reset >= p->V_th) {
        snprintf(err, errlen, "lif_delta: V_reset (%g mV) must be below V_th (%g mV)", p->V_reset,
                 p->V_th);
        return -1;
    }
    c->P33 = exp(-dt / p->tau_m);
    c->P30 = -p->tau_m / p->C_m * expm1(-dt / p->tau_m);
    c->ref_steps = round(p->t_ref / dt);
    return 0;
}

static void lif_delta_init_state(const void *params, double *const *state, size_t n)
{
    const lif_delta_params *p = params;
    for (size_t i = 0; i < n; i++) {
        state[V_M][i] = p->E_L;
        state[REFR][i] = 0.0;
    }
}

/* A spike sets r to ref_steps - 0.5: clamped for exactly ref_steps steps, and the value marks
 * this step's spikes (see models/lif.c). */

/* One step of units [lo, hi), branch-free; with_current is a constant at each call. */
static inline __attribute__((always_inline)) size_t
lif_delta_update(const lif_delta_params *p, const lif_delta_consts *c, size_t lo, size_t hi,
                 double *restrict V, double *restrict r, double *restrict in, double *restrict cur,
                 const int with_current)
{
    const double E_L = p->E_L, V_th = p->V_th, V_reset = p->V_reset, I_e = p->I_e;
    const double P33 = c->P33, P30 = c->P30, ref_steps = c->ref_steps;
    size_t fired = 0;
    for (size_t i = lo; i < hi; i++) {
        double ri = r[i], Vi = V[i];
        double drive = with_current ? I_e + cur[i] : I_e;
        double v = E_L + P33 * (Vi - E_L) + P30 * drive + in[i];
        v = ri > 0.0 ? Vi : v;
        double rr = ri > 0.0 ? ri - 1.0 : 0.0;
        in[i] = 0.0;
        if (with_current) cur[i] = 0.0;
        int spike = v >= V_th;
        V[i] = spike ? V_reset : v;
        r[i] = spike ? ref_steps - 0.5 : rr; /* the spike marker (see the refractory note) */
        fired += (size_t)spike;
    }
    return fired;
}

#define LIF_DELTA_BLOCK 64 /* units per block; only a block that fired is searched */

static int lif_delta_step(const ns_step_args *a)
{
    double *V = a->state[V_M], *r = a->state[REFR];
    const double marker = ((const lif_delta_consts *)a->consts)->ref_steps - 0.5;
    for (int k = 0; k < a->nsteps; k++) {
        double *in = ns_input_row(a, 0, k), *cur = ns_input_row(a, 1, k);
        for (size_t lo = a->lo; lo < a->hi; lo += LIF_DELTA_BLOCK) {
            size_t hi = lo + LIF_DELTA_BLOCK < a->hi ? lo + LIF_DELTA_BLOCK : a->hi;
            size_t fired = cur ? lif_delta_update(a->params, a->consts, lo, hi, V, r, in, cur, 1)
                               : lif_delta_update(a->params, a->consts, lo, hi, V, r, in, NULL, 0);
            if (fired && ns_spikebuf_push_marked(a->out, k, r, marker, lo, hi, fired)) return -1;
        }
    }
    return 0;
}

static const ns_in_port lif_delta_inputs[] = {
    {"spikes", "mV", NS_PORT_EVENT, 0, NULL, 1}, /* both signs: a jump of the membrane */
    {"current", "pA", NS_PORT_CONTINUOUS, 0, NULL, 1},
};

const ns_model ns_model_lif_delta = {
    .version = NS_MODEL_VERSION,
    .name = "lif_delta",
    .doc = "LIF, delta synapses (weights in mV), exact integration (NEST iaf_psc_delta)",
    .kind = NS_KIND_SPIKING,
    .state = lif_delta_state,
    .n_state = 2,
    .params = lif_delta_param_table,
    .n_params = (int)(sizeof lif_delta_param_table / sizeof lif_delta_param_table[0]),
    .params_size = sizeof(lif_delta_params),
    .consts_size = sizeof(lif_delta_consts),
    .inputs = lif_delta_inputs,
    .n_inputs = 2,
    .outputs = ns_spike_output,
    .n_outputs = 1,
    .init = lif_delta_init,
    .init_state = lif_delta_init_state,
    .step = lif_delta_step,
};
