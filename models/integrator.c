/* models/integrator.c — `integrator`: units that sum their input over the steps (a readout: the
 * mean over T of a Linear of the last layer's output is sum / T plus the bias). */
#include "models/model.h"

#include <math.h>

typedef struct {
    double start;
} integrator_params;

static const ns_state_var integrator_state[] = {{"sum", "1", "input summed over the steps", 0}};

static const ns_param integrator_param_table[] = {
    {"start", "steps", "the first step whose input counts", 0, 0, 1e15, offsetof(integrator_params, start)},
};

static int integrator_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    (void)params, (void)consts, (void)dt, (void)err, (void)errlen;
    return 0;
}

static void integrator_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (size_t i = 0; i < n; i++) state[0][i] = 0.0;
}

static int integrator_step(const ns_step_args *a)
{
    const integrator_params *p = a->params;
    double *sum = a->state[0];
    for (int k = 0; k < a->nsteps; k++) {
        const int64_t s = a->step0 + k;
        double *in = a->input[0] + (size_t)(s % (int64_t)a->ring_len) * a->n;
        if ((double)s >= p->start)
            for (size_t i = a->lo; i < a->hi; i++) sum[i] += in[i];
        for (size_t i = a->lo; i < a->hi; i++) in[i] = 0.0;
    }
    return 0;
}

static const char *const integrator_receptors[] = {"input"};

const ns_model ns_model_integrator = {
    .version = NS_MODEL_VERSION,
    .name = "integrator",
    .doc = "sums its input over the steps: the readout of a trained network",
    .kind = NS_KIND_CONTINUOUS,
    .state = integrator_state,
    .n_state = 1,
    .params = integrator_param_table,
    .n_params = 1,
    .params_size = sizeof(integrator_params),
    .consts_size = sizeof(double),
    .receptors = integrator_receptors,
    .n_receptors = 1,
    .spike_receptor = 0,
    .neg_receptor = 0,
    .current_receptor = -1,
    .weight_unit = "1",
    .init = integrator_init,
    .init_state = integrator_init_state,
    .step = integrator_step,
};
