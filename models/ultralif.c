/* models/ultralif.c — `ultralif`, `ultradlif` (the UltraLIF library's definitions), their
 * `_ablation` variants (the repository's ablation file) and `lif_bptt`: the discrete-time neurons
 * of train/ (one engine step is one training step) with the very equations the trainer uses
 * (models/neuron_eq.h), so a trained network runs in the simulator. Input is the current of the
 * step (graded projections and the bias), output graded: the Ultra neurons' soft spike s in
 * (0, 1), LIF's 0/1. Units are inert before step `start` (the steps its input takes to arrive
 * through the layers before it). */
#include "models/model.h"
#include "models/input.h"
#include "models/neuron_eq.h"

#include <math.h>
#include <stdio.h>

typedef struct {
    double theta, eps, reset_subtract, start, alpha;
} bptt_params;

enum { V_M, BIAS, DECAY, SYN };

/* decay: ln tau for UltraLIF (per unit, for UltraPLIF), beta for LIF */
static const ns_state_var ultralif_state[] = {
    {"V_m", "1", "membrane (dimensionless)", 0, NS_BOUND_FINITE},
    {"b", "1", "bias added to the input every step", 0, NS_BOUND_FINITE},
    {"ln_tau", "1", "log of the decay (UltraLIF's ln tau)", 0, NS_BOUND_FINITE},
};
static const ns_state_var ultradlif_state[] = {
    {"V_m", "1", "membrane (dimensionless)", 0, NS_BOUND_FINITE},
    {"b", "1", "bias added to the input every step", 0, NS_BOUND_FINITE},
    {"c", "1", "weight of the unit's own membrane in the ring's LSE (1 UltraDLIF, tau UltraDPLIF)", 0, NS_BOUND_FINITE},
};
static const ns_state_var ultradlif_lib_state[] = {
    {"V_m", "1", "the linear membrane (dimensionless)", 0, NS_BOUND_FINITE},
    {"b", "1", "bias added to the input every step", 0, NS_BOUND_FINITE},
    {"tau", "1", "decay of the linear membrane per step (fixed UltraDLIF, learned UltraDPLIF)", 0, NS_BOUND_FINITE},
};
static const ns_state_var lif_bptt_state[] = {
    {"V_m", "1", "membrane (dimensionless)", 0, NS_BOUND_FINITE},
    {"b", "1", "bias added to the input every step", 0, NS_BOUND_FINITE},
    {"beta", "1", "decay per step", 0, NS_BOUND_FINITE},
    {"syn", "1", "synaptic current alpha syn + input (with alpha > 0)", 0, NS_BOUND_FINITE},
};

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(bptt_params, field)}
static const ns_param bptt_param_table[] = {
    P(theta, "1", 1.0, -HUGE_VAL, HUGE_VAL, "threshold"),
    P(eps, "1", 1.0, 1e-6, HUGE_VAL, "UltraLIF: the max-plus temperature eps (the trained layer's)"),
    P(reset_subtract, "1", 0, 0, 1, "LIF: 0 reset to zero, 1 subtract the threshold"),
    P(start, "steps", 0, 0, 1e15, "the first step the units update in"),
    P(alpha, "1", 0, 0, 0.999999, "LIF: synaptic decay per step; > 0 puts syn = alpha syn + input in front"),
};
/* the library's Ultra neurons: threshold 0, and none of LIF's parameters */
static const ns_param ultra_lib_param_table[] = {
    P(theta, "1", 0.0, -HUGE_VAL, HUGE_VAL, "threshold (the library's 0)"),
    P(eps, "1", 1.0, 1e-6, HUGE_VAL, "the max-plus temperature eps (the trained layer's)"),
    P(start, "steps", 0, 0, 1e15, "the first step the units update in"),
};
#undef P

static void ultralif_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (size_t i = 0; i < n; i++) {
        state[V_M][i] = state[BIAS][i] = 0.0;
        state[DECAY][i] = log(0.9);
    }
}

static void ultradlif_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (size_t i = 0; i < n; i++) {
        state[V_M][i] = state[BIAS][i] = 0.0;
        state[DECAY][i] = 1.0;
    }
}

static void ultradlif_lib_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (size_t i = 0; i < n; i++) {
        state[V_M][i] = state[BIAS][i] = 0.0;
        state[DECAY][i] = 0.9;
    }
}

static void lif_bptt_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (size_t i = 0; i < n; i++) {
        state[V_M][i] = state[BIAS][i] = state[SYN][i] = 0.0;
        state[DECAY][i] = 0.9;
    }
}

/* A step before `start` for units [lo, hi): the input is dropped, the output (if any) is 0. */
static void inert_step(double *in, double *out, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i++) in[i] = 0.0;
    if (out)
        for (size_t i = lo; i < hi; i++) out[i] = 0.0;
}

/* Step k's input row (*in) and graded output row (*out, NULL when nothing reads it); 0 when the
 * step is before `start`, which it then takes for units [lo, hi) (inert_step). */
static int bptt_rows(const ns_step_args *a, int k, size_t lo, size_t hi, double **in, double **out)
{
    const bptt_params *p = a->params;
    *in = ns_input_row(a, 0, k);
    *out = ns_output_row(a, k);
    if ((double)(a->step0 + k) < p->start) {
        inert_step(*in, *out, lo, hi);
        return 0;
    }
    return 1;
}

/* Shared walk over the window; `ultra` picks the equations (a constant in each caller, since
 * this is inlined into both). Units before `start` take no step and emit nothing. */
static inline __attribute__((always_inline)) int bptt_step(const ns_step_args *a, int ultra)
{
    const bptt_params *p = a->params;
    double *V = a->state[V_M], *b = a->state[BIAS], *dec = a->state[DECAY];
    double *syn = !ultra && p->alpha > 0 ? a->state[SYN] : NULL; /* LIF's synaptic current, if any */
    for (int k = 0; k < a->nsteps; k++) {
        double *in, *out;
        if (!bptt_rows(a, k, a->lo, a->hi, &in, &out)) continue;
        for (size_t i = a->lo; i < a->hi; i++) {
            double I = in[i] + b[i], sp, aux;
            in[i] = 0.0;
            if (ultra) {
                V[i] = ns_eq_ultralif_step(V[i], I, dec[i], p->eps, p->theta, &aux, &sp);
            } else {
                if (syn) I = syn[i] = ns_eq_syn_step(syn[i], I, p->alpha);
                V[i] = ns_eq_lif_step(V[i], I, dec[i], p->theta, p->reset_subtract != 0, &aux, &sp);
            }
            if (out) out[i] = sp;
            if (sp >= 0.5 && ns_spikebuf_push(a->out, k, (uint32_t)i)) return -1; /* for records */
        }
    }
    return 0;
}

static int ultralif_step(const ns_step_args *a) { return bptt_step(a, 1); }
static int lif_bptt_step(const ns_step_args *a) { return bptt_step(a, 0); }

/* The ring: unit i's membrane takes LSE_eps(V_{i-1}, c_i V_i, V_{i+1}) of the step before (indices
 * mod n), so the population is one system (`whole`: one thread, lo = 0, hi = n). The update is in
 * place, keeping the old values of unit 0 and of the unit before. */
static int ultradlif_step(const ns_step_args *a)
{
    const bptt_params *p = a->params;
    double *V = a->state[V_M], *b = a->state[BIAS], *c = a->state[DECAY];
    const size_t n = a->n;
    for (int k = 0; k < a->nsteps; k++) {
        double *in, *out;
        if (!bptt_rows(a, k, 0, n, &in, &out)) continue;
        const double first = V[0];
        double left = V[n - 1];
        for (size_t i = 0; i < n; i++) {
            const double mid = V[i], right = i + 1 < n ? V[i + 1] : first;
            double sp, vp = ns_eq_ultradlif_pre(left, mid, right, in[i] + b[i], c[i], p->eps, NULL, NULL);
            in[i] = 0.0;
            V[i] = ns_eq_soft_spike(vp, p->theta, p->eps, &sp);
            left = mid;
            if (out) out[i] = sp;
            if (sp >= 0.5 && ns_spikebuf_push(a->out, k, (uint32_t)i)) return -1;
        }
    }
    return 0;
}

/* The library's ring: a linear membrane W_i = tau_i V_i + I_i; unit i spikes with
 * sigmoid((LSE_eps(W_{i-1}, W_i, W_{i+1}) - theta)/eps) (indices mod n) and its W is reset,
 * V_i = W_i (1 - s_i). One system stepped by every thread (`team`), each its block [lo, hi) in
 * three phases: W of its units (in place of V); after a barrier, u of its units from the
 * neighbours' W into its own input row (read, then reused as work space); after another, the
 * reset of its units and their output. Each unit's arithmetic is the same for any cut, so the
 * result is the same for any thread count. */
static int ultradlif_lib_step(const ns_step_args *a)
{
    const bptt_params *p = a->params;
    double *V = a->state[V_M], *b = a->state[BIAS], *tau = a->state[DECAY];
    const size_t n = a->n, lo = a->lo, hi = a->hi;
    int rc = 0;
    for (int k = 0; k < a->nsteps; k++) {
        double *in, *out;
        if (!bptt_rows(a, k, lo, hi, &in, &out)) continue; /* inert: the same for every thread, no barrier */
        for (size_t i = lo; i < hi; i++) V[i] = tau[i] * V[i] + in[i] + b[i]; /* W in place of V */
        if (a->barrier) a->barrier(a->barrier_ctx); /* every block's W is made */
        for (size_t i = lo; i < hi; i++) { /* the input row holds u below */
            const double left = V[i ? i - 1 : n - 1], right = V[i + 1 < n ? i + 1 : 0];
            in[i] = ns_eq_lse3(left, V[i], right, p->eps, NULL, NULL);
        }
        if (a->barrier) a->barrier(a->barrier_ctx); /* every block has read its neighbours' W */
        for (size_t i = lo; i < hi; i++) {
            double sp;
            V[i] = ns_eq_ring_spike(V[i], in[i], p->theta, p->eps, &sp);
            in[i] = 0.0;
            if (out) out[i] = sp;
            if (sp >= 0.5 && !rc && ns_spikebuf_push(a->out, k, (uint32_t)i)) rc = -1; /* on to the barriers */
        }
    }
    return rc;
}

/* One signed input (graded projections, spikes as 1), the soft spike s sent as a graded value. */
static const ns_in_port bptt_inputs[] = {{"input", "1", NS_PORT_EVENT, 0, NULL, 1}};
static const ns_out_port bptt_outputs[] = {{"s", "1", NS_OUT_GRADED, 1, NULL}};

/* The models differ only in their name, state, parameters (the library's Ultra neurons: theta 0,
 * no LIF parameters), step and whether the population is one system: is_whole 0 no, 1 yes (one
 * thread steps it), 2 yes, stepped by every thread as a team (ns_model.team). */
#define BPTT_MODEL_P(model_name, model_doc, state_table, param_table, init_state_fn, step_fn, is_whole) \
    {                                                                                           \
        .version = NS_MODEL_VERSION, .name = model_name, .doc = model_doc, .kind = NS_KIND_SPIKING, \
        .state = state_table, .n_state = (int)(sizeof state_table / sizeof state_table[0]),     \
        .params = param_table,                                                                  \
        .n_params = (int)(sizeof param_table / sizeof param_table[0]),                          \
        .params_size = sizeof(bptt_params),                                                    \
        .inputs = bptt_inputs, .n_inputs = 1, .outputs = bptt_outputs, .n_outputs = 1,          \
        .init_state = init_state_fn, .step = step_fn, .whole = is_whole != 0, .team = is_whole == 2, \
    }
#define BPTT_MODEL(model_name, model_doc, state_table, init_state_fn, step_fn, is_whole) \
    BPTT_MODEL_P(model_name, model_doc, state_table, bptt_param_table, init_state_fn, step_fn, is_whole)

const ns_model ns_model_ultralif =
    BPTT_MODEL_P("ultralif", "UltraLIF / UltraPLIF as the UltraLIF library defines them (threshold 0), max-plus soft spiking, one step per training step, graded output",
                 ultralif_state, ultra_lib_param_table, ultralif_init_state, ultralif_step, 0);

const ns_model ns_model_ultralif_ablation =
    BPTT_MODEL("ultralif_ablation", "UltraLIF / UltraPLIF as the UltraLIF ablation file defines them (threshold 1), graded output",
               ultralif_state, ultralif_init_state, ultralif_step, 0);

const ns_model ns_model_ultradlif =
    BPTT_MODEL_P("ultradlif", "UltraDLIF / UltraDPLIF as the UltraLIF library defines them: a linear membrane, the max-plus LSE over a ring of the population's units inside the spike (threshold 0), graded output",
                 ultradlif_lib_state, ultra_lib_param_table, ultradlif_lib_init_state, ultradlif_lib_step, 2);

const ns_model ns_model_ultradlif_ablation =
    BPTT_MODEL("ultradlif_ablation", "UltraDLIF / UltraDPLIF as the UltraLIF ablation file defines them: the ring's LSE in the membrane (threshold 1), graded output",
               ultradlif_state, ultradlif_init_state, ultradlif_step, 1);

const ns_model ns_model_lif_bptt =
    BPTT_MODEL("lif_bptt", "the trainer's discrete LIF (V = beta V + I, H(V - theta), reset), one step per training step",
               lif_bptt_state, lif_bptt_init_state, lif_bptt_step, 0);
