/* models/lif_ode.c — `lif_ode`: the equations of `lif` (NEST's iaf_psc_exp) integrated by an ODE
 * solver instead of exactly, with lif's grid rule (threshold at step ends, reset then, V held for
 * t_ref). It exists to check the ODE machinery against the closed form; parameters are lif's. */
#include "models/lif_params.h"
#include "models/model.h"
#include "models/ode_pop.h"

#include <math.h>

typedef lif_params lif_ode_params;

enum { V_M, I_EX, I_IN, REFR };

static const ns_state_var lif_ode_state[] = {
    {"V_m", "mV", "membrane potential", 0, NS_BOUND_MV},
    {"I_ex", "pA", "excitatory synaptic current", 0, NS_BOUND_FINITE},
    {"I_in", "pA", "inhibitory synaptic current", 0, NS_BOUND_FINITE},
    {"r", "steps", "refractory steps left", 1, NS_BOUND_FINITE},
};

static void lif_ode_rhs(const void *params, const double *y, double drive, double *dydt)
{
    const lif_ode_params *p = params;
    dydt[V_M] = -(y[V_M] - p->E_L) / p->tau_m + (y[I_EX] + y[I_IN] + p->I_e + drive) / p->C_m;
    dydt[I_EX] = -y[I_EX] / p->tau_ex;
    dydt[I_IN] = -y[I_IN] / p->tau_in;
}

static void lif_ode_jac(const void *params, const double *y, double *J)
{
    (void)y;
    const lif_ode_params *p = params;
    J[V_M * 3 + V_M] = -1.0 / p->tau_m;
    J[I_EX * 3 + V_M] = 1.0 / p->C_m;
    J[I_IN * 3 + V_M] = 1.0 / p->C_m;
    J[I_EX * 3 + I_EX] = -1.0 / p->tau_ex;
    J[I_IN * 3 + I_IN] = -1.0 / p->tau_in;
}

static double lif_ode_threshold(const void *params, const double *y)
{
    return y[V_M] - ((const lif_ode_params *)params)->V_th;
}

static void lif_ode_reset(const void *params, double *y) { y[V_M] = ((const lif_ode_params *)params)->V_reset; }

static const ns_ode_unit lif_ode_unit = {
    .n_vars = 3, .rhs = lif_ode_rhs, .jac = lif_ode_jac, .threshold = lif_ode_threshold,
    .reset = lif_ode_reset, .rule = NS_SPIKE_AT_STEP, .clamp_var = V_M, .ex_var = I_EX, .in_var = I_IN,
};

static int lif_ode_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    const lif_ode_params *p = params;
    if (ns_lif_params_check(p, "lif_ode", err, errlen)) return -1;
    return ns_ode_pop_init_consts(consts, p->t_ref, dt);
}

static void lif_ode_init_state(const void *params, double *const *state, size_t n)
{
    const lif_ode_params *p = params;
    for (size_t i = 0; i < n; i++) {
        state[V_M][i] = p->E_L;
        state[I_EX][i] = state[I_IN][i] = state[REFR][i] = 0.0;
    }
}

const ns_model ns_model_lif_ode = {
    .version = NS_MODEL_VERSION,
    NS_ODE_PSC_MODEL,
    .name = "lif_ode",
    .doc = "the lif equations on an ODE solver (CVODE by default), lif's grid rule; a check of the ODE engine",
    .state = lif_ode_state,
    .n_state = 4,
    .params = ns_lif_param_table,
    .n_params = NS_LIF_N_PARAMS,
    .params_size = sizeof(lif_ode_params),
    .ode = &lif_ode_unit,
    .init = lif_ode_init,
    .init_state = lif_ode_init_state,
};
