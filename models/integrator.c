/* models/integrator.c — the readouts of a trained network (train/'s two, with its equations):
 * `integrator` sums its input plus a bias over `steps` steps (the mean readout's logit is
 * sum / steps), `leaky_readout` drives SpyTorch's non-spiking membrane through a synaptic filter
 * and keeps the membrane's maximum (the leaky readout's logit). Both count the steps
 * start .. start + steps - 1 and ignore their input before and after. */
#include "models/model.h"
#include "models/input.h"

#include <math.h>

typedef struct {
    double start, steps, beta, alpha;
} readout_params;

enum { SUM = 0, R_BIAS = 1 };                  /* integrator */
enum { SYN = 0, U_M = 1, U_MAX = 2, L_BIAS = 3 }; /* leaky_readout */

static const ns_state_var integrator_state[] = {
    {"sum", "1", "input plus bias summed over the counted steps", 0, NS_BOUND_FINITE},
    {"b", "1", "bias added to the input every counted step", 0, NS_BOUND_FINITE},
};
static const ns_state_var leaky_state[] = {
    {"syn", "1", "synaptic current: alpha syn + input + bias", 0, NS_BOUND_FINITE},
    {"U", "1", "membrane: beta U + syn", 0, NS_BOUND_FINITE},
    {"U_max", "1", "the largest U of the counted steps (-inf before the first)", 0, NS_BOUND_ANY},
    {"b", "1", "bias added to the input every counted step", 0, NS_BOUND_FINITE},
};

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(readout_params, field)}
static const ns_param integrator_param_table[] = {
    P(start, "steps", 0, 0, 1e15, "the first step whose input counts"),
    P(steps, "steps", 1e15, 1, 1e15, "how many steps count"),
};
static const ns_param leaky_param_table[] = {
    P(start, "steps", 0, 0, 1e15, "the first step whose input counts"),
    P(steps, "steps", 1e15, 1, 1e15, "how many steps count"),
    P(beta, "1", 0.90483741803595957, 0, 1, "membrane decay per step (SpyTorch's exp(-1/10))"),
    P(alpha, "1", 0.81873075307798182, 0, 1, "synaptic decay per step (SpyTorch's exp(-1/5)); 0 drops the filter"),
};
#undef P

static void integrator_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (size_t i = 0; i < n; i++) state[SUM][i] = state[R_BIAS][i] = 0.0;
}

static void leaky_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (size_t i = 0; i < n; i++) {
        state[SYN][i] = state[U_M][i] = state[L_BIAS][i] = 0.0;
        state[U_MAX][i] = -HUGE_VAL;
    }
}

/* Walk the window: for each counted step, `leaky` picks the update (a constant in each caller);
 * every step's input slots are cleared. */
static inline __attribute__((always_inline)) int readout_step(const ns_step_args *a, int leaky)
{
    const readout_params *p = a->params;
    double *const *st = a->state;
    for (int k = 0; k < a->nsteps; k++) {
        const int64_t s = a->step0 + k;
        double *in = ns_input_row(a, 0, k);
        if ((double)s >= p->start && (double)s < p->start + p->steps) {
            for (size_t i = a->lo; i < a->hi; i++) {
                if (!leaky) {
                    st[SUM][i] += in[i] + st[R_BIAS][i];
                    continue;
                }
                double syn = st[SYN][i] = p->alpha * st[SYN][i] + in[i] + st[L_BIAS][i];
                double u = st[U_M][i] = p->beta * st[U_M][i] + syn;
                if (u > st[U_MAX][i]) st[U_MAX][i] = u;
            }
        }
        for (size_t i = a->lo; i < a->hi; i++) in[i] = 0.0;
    }
    return 0;
}

static int integrator_step(const ns_step_args *a) { return readout_step(a, 0); }
static int leaky_step(const ns_step_args *a) { return readout_step(a, 1); }

/* One signed input (spikes or graded values, dimensionless), summed; nothing sent. */
static const ns_in_port readout_inputs[] = {{"input", "1", NS_PORT_EVENT, 0, NULL, 1}};

#define READOUT_MODEL(model_name, model_doc, state_table, param_table, init_state_fn, step_fn)  \
    {                                                                                          \
        .version = NS_MODEL_VERSION, .name = model_name, .doc = model_doc,                     \
        .kind = NS_KIND_CONTINUOUS, .state = state_table,                                      \
        .n_state = (int)(sizeof state_table / sizeof state_table[0]), .params = param_table,   \
        .n_params = (int)(sizeof param_table / sizeof param_table[0]),                         \
        .params_size = sizeof(readout_params),                                                 \
        .inputs = readout_inputs, .n_inputs = 1,                                               \
        .init_state = init_state_fn, .step = step_fn,                                          \
    }

const ns_model ns_model_integrator =
    READOUT_MODEL("integrator", "sums its input plus a bias over the steps: the mean readout of a trained network",
                  integrator_state, integrator_param_table, integrator_init_state, integrator_step);

const ns_model ns_model_leaky_readout =
    READOUT_MODEL("leaky_readout", "SpyTorch's leaky readout: the maximum over the steps of a filtered membrane",
                  leaky_state, leaky_param_table, leaky_init_state, leaky_step);
