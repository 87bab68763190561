/* models/adex.c — `adex`: adaptive exponential integrate-and-fire (Brette & Gerstner 2005) with
 * exponential current synapses, on CVODE: spikes are roots of V - V_peak, where V is reset to
 * V_r and w jumps by b. An ODE model is its per-unit equations; models/ode_pop.c does the rest. */
#include "models/model.h"
#include "models/ode_pop.h"

#include <math.h>
#include <stdio.h>

typedef struct {
    double C_m, g_L, E_L, Delta_T, V_T, V_peak, V_r, a, b, tau_w, t_ref, tau_ex, tau_in, I_e;
} adex_params;

enum { V_M, W, I_EX, I_IN, REFR };

static const ns_state_var adex_state[] = {
    {"V_m", "mV", "membrane potential", 0, NS_BOUND_MV},
    {"w", "pA", "adaptation current", 0, NS_BOUND_FINITE},
    {"I_ex", "pA", "excitatory synaptic current", 0, NS_BOUND_FINITE},
    {"I_in", "pA", "inhibitory synaptic current", 0, NS_BOUND_FINITE},
    {"r", "steps", "refractory steps left", 1, NS_BOUND_FINITE},
};

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(adex_params, field)}
static const ns_param adex_param_table[] = {
    P(C_m, "pF", 281.0, 1e-6, HUGE_VAL, "membrane capacitance"),
    P(g_L, "nS", 30.0, 1e-9, HUGE_VAL, "leak conductance"),
    P(E_L, "mV", -70.6, -HUGE_VAL, HUGE_VAL, "leak reversal potential"),
    P(Delta_T, "mV", 2.0, 1e-6, HUGE_VAL, "slope factor"),
    P(V_T, "mV", -50.4, -HUGE_VAL, HUGE_VAL, "threshold potential of the exponential"),
    P(V_peak, "mV", 0.0, -HUGE_VAL, HUGE_VAL, "spike detection (root) potential"),
    P(V_r, "mV", -70.6, -HUGE_VAL, HUGE_VAL, "reset potential"),
    P(a, "nS", 4.0, -HUGE_VAL, HUGE_VAL, "subthreshold adaptation"),
    P(b, "pA", 80.5, -HUGE_VAL, HUGE_VAL, "spike-triggered adaptation"),
    P(tau_w, "ms", 144.0, 1e-6, HUGE_VAL, "adaptation time constant"),
    P(t_ref, "ms", 0.0, 0.0, HUGE_VAL, "refractory period (V held at V_r)"),
    P(tau_ex, "ms", 0.2, 1e-6, HUGE_VAL, "excitatory synaptic time constant"),
    P(tau_in, "ms", 2.0, 1e-6, HUGE_VAL, "inhibitory synaptic time constant"),
    P(I_e, "pA", 0.0, -HUGE_VAL, HUGE_VAL, "constant external current"),
};
#undef P

/* The exponential term, with its argument capped so that V far above V_T cannot overflow before
 * the root at V_peak is found. */
static double adex_exp(const adex_params *p, double V)
{
    double x = (V - p->V_T) / p->Delta_T;
    return exp(x < 50.0 ? x : 50.0);
}

static void adex_rhs(const void *params, const double *y, double drive, double *dydt)
{
    const adex_params *p = params;
    double V = y[V_M];
    double I = y[I_EX] + y[I_IN] + p->I_e + drive;
    dydt[V_M] = (-p->g_L * (V - p->E_L) + p->g_L * p->Delta_T * adex_exp(p, V) - y[W] + I) / p->C_m;
    dydt[W] = (p->a * (V - p->E_L) - y[W]) / p->tau_w;
    dydt[I_EX] = -y[I_EX] / p->tau_ex;
    dydt[I_IN] = -y[I_IN] / p->tau_in;
}

static void adex_jac(const void *params, const double *y, double *J)
{
    const adex_params *p = params;
    const int n = 4;
    double x = (y[V_M] - p->V_T) / p->Delta_T;
    double dexp = x < 50.0 ? exp(x) / p->Delta_T : 0.0;
    J[V_M * n + V_M] = (-p->g_L + p->g_L * p->Delta_T * dexp) / p->C_m;
    J[W * n + V_M] = -1.0 / p->C_m;
    J[I_EX * n + V_M] = 1.0 / p->C_m;
    J[I_IN * n + V_M] = 1.0 / p->C_m;
    J[V_M * n + W] = p->a / p->tau_w;
    J[W * n + W] = -1.0 / p->tau_w;
    J[I_EX * n + I_EX] = -1.0 / p->tau_ex;
    J[I_IN * n + I_IN] = -1.0 / p->tau_in;
}

static double adex_threshold(const void *params, const double *y)
{
    return y[V_M] - ((const adex_params *)params)->V_peak;
}

static void adex_reset(const void *params, double *y)
{
    const adex_params *p = params;
    y[V_M] = p->V_r;
    y[W] += p->b;
}

static const ns_ode_unit adex_ode = {
    .n_vars = 4, .rhs = adex_rhs, .jac = adex_jac, .threshold = adex_threshold, .reset = adex_reset,
    .rule = NS_SPIKE_AT_ROOT, .clamp_var = V_M, .ex_var = I_EX, .in_var = I_IN,
};

static int adex_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    const adex_params *p = params;
    if (p->V_r >= p->V_peak) {
        snprintf(err, errlen, "adex: V_r (%g mV) must be below V_peak (%g mV)", p->V_r, p->V_peak);
        return -1;
    }
    return ns_ode_pop_init_consts(consts, p->t_ref, dt);
}

static void adex_init_state(const void *params, double *const *state, size_t n)
{
    const adex_params *p = params;
    for (size_t i = 0; i < n; i++) {
        state[V_M][i] = p->E_L;
        state[W][i] = state[I_EX][i] = state[I_IN][i] = state[REFR][i] = 0.0;
    }
}

const ns_model ns_model_adex = {
    .version = NS_MODEL_VERSION,
    NS_ODE_PSC_MODEL,
    .name = "adex",
    .doc = "adaptive exponential integrate-and-fire, current synapses, on CVODE (Brette & Gerstner 2005)",
    .state = adex_state,
    .n_state = 5,
    .params = adex_param_table,
    .n_params = (int)(sizeof adex_param_table / sizeof adex_param_table[0]),
    .params_size = sizeof(adex_params),
    .ode = &adex_ode,
    .init = adex_init,
    .init_state = adex_init_state,
};
