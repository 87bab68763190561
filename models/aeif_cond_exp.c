/* models/aeif_cond_exp.c — `aeif_cond_exp`: adaptive exponential integrate-and-fire (Brette &
 * Gerstner 2005) with exponential conductance synapses, as NEST's aeif_cond_exp, on CVODE through
 * models/ode_pop.c: a spike is a root of V - V_peak; V is reset to V_reset and w jumps by b. */
#include "models/model.h"
#include "models/ode_pop.h"

#include <math.h>
#include <stdio.h>

typedef struct {
    double C_m, g_L, E_L, Delta_T, V_th, V_peak, V_reset, a, b, tau_w, t_ref, E_ex, E_in, tau_syn_ex, tau_syn_in,
        I_e;
} aeif_params;

enum { V_M, W, G_EX, G_IN, REFR };

static const ns_state_var aeif_state[] = {
    {"V_m", "mV", "membrane potential", 0, NS_BOUND_MV},
    {"w", "pA", "adaptation current", 0, NS_BOUND_FINITE},
    {"g_ex", "nS", "excitatory synaptic conductance", 0, NS_BOUND_FINITE},
    {"g_in", "nS", "inhibitory synaptic conductance (positive)", 0, NS_BOUND_FINITE},
    {"r", "steps", "refractory steps left", 1, NS_BOUND_FINITE},
};

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(aeif_params, field)}
static const ns_param aeif_param_table[] = {
    P(C_m, "pF", 281.0, 1e-6, HUGE_VAL, "membrane capacitance"),
    P(g_L, "nS", 30.0, 1e-9, HUGE_VAL, "leak conductance"),
    P(E_L, "mV", -70.6, -HUGE_VAL, HUGE_VAL, "leak reversal potential"),
    P(Delta_T, "mV", 2.0, 0.0, HUGE_VAL, "slope factor (0: no exponential term, spikes at V_th)"),
    P(V_th, "mV", -50.4, -HUGE_VAL, HUGE_VAL, "threshold potential of the exponential"),
    P(V_peak, "mV", 0.0, -HUGE_VAL, HUGE_VAL, "spike detection (root) potential when Delta_T > 0"),
    P(V_reset, "mV", -60.0, -HUGE_VAL, HUGE_VAL, "reset potential (V held there for t_ref)"),
    P(a, "nS", 4.0, -HUGE_VAL, HUGE_VAL, "subthreshold adaptation"),
    P(b, "pA", 80.5, -HUGE_VAL, HUGE_VAL, "spike-triggered adaptation"),
    P(tau_w, "ms", 144.0, 1e-6, HUGE_VAL, "adaptation time constant"),
    P(t_ref, "ms", 0.0, 0.0, HUGE_VAL, "refractory period"),
    P(E_ex, "mV", 0.0, -HUGE_VAL, HUGE_VAL, "excitatory reversal potential"),
    P(E_in, "mV", -85.0, -HUGE_VAL, HUGE_VAL, "inhibitory reversal potential"),
    P(tau_syn_ex, "ms", 0.2, 1e-6, HUGE_VAL, "excitatory conductance time constant"),
    P(tau_syn_in, "ms", 2.0, 1e-6, HUGE_VAL, "inhibitory conductance time constant"),
    P(I_e, "pA", 0.0, -HUGE_VAL, HUGE_VAL, "constant external current"),
};
#undef P

/* Event weights are conductances (nS): positive ones onto g_ex, negative ones onto g_in by their
 * magnitude (as lif_cond_exp); the continuous port takes a current (pA). In the order of
 * NS_PSC_EX, NS_PSC_IN, NS_PSC_CURRENT, which models/ode_pop.c reads. */
static const ns_in_port aeif_inputs[3] = {
    {"ex", "nS", NS_PORT_EVENT, +1, NULL, 1},
    {"in", "nS", NS_PORT_EVENT, -1, NULL, 1},
    {"current", "pA", NS_PORT_CONTINUOUS, 0, NULL, 1},
};

/* Where a spike is detected: V_peak, or V_th without the exponential term (NEST's rule). */
static double aeif_peak(const aeif_params *p) { return p->Delta_T > 0.0 ? p->V_peak : p->V_th; }

/* The membrane potential the currents see: V capped at the detection potential, so that the
 * exponential cannot run away between the root and the solver's step end (NEST does the same). */
static double aeif_v(const aeif_params *p, double V)
{
    double peak = aeif_peak(p);
    return V < peak ? V : peak;
}

/* g_L Delta_T exp((V - V_th) / Delta_T) (pA) and its derivative by V (nS); 0 for Delta_T = 0.
 * The argument is capped so that a large V_peak - V_th cannot overflow. */
static void aeif_spike_current(const aeif_params *p, double V, double *I, double *dI)
{
    if (p->Delta_T <= 0.0) {
        *I = *dI = 0.0;
        return;
    }
    double x = (V - p->V_th) / p->Delta_T;
    double e = exp(x < 50.0 ? x : 50.0);
    *I = p->g_L * p->Delta_T * e;
    *dI = x < 50.0 ? p->g_L * e : 0.0;
}

static void aeif_rhs(const void *params, const double *y, double drive, double *dydt)
{
    const aeif_params *p = params;
    const double V = aeif_v(p, y[V_M]);
    double Ispike, dIspike;
    aeif_spike_current(p, V, &Ispike, &dIspike);
    const double Isyn = -y[G_EX] * (V - p->E_ex) - y[G_IN] * (V - p->E_in);
    dydt[V_M] = (-p->g_L * (V - p->E_L) + Ispike + Isyn - y[W] + p->I_e + drive) / p->C_m;
    dydt[W] = (p->a * (V - p->E_L) - y[W]) / p->tau_w;
    dydt[G_EX] = -y[G_EX] / p->tau_syn_ex;
    dydt[G_IN] = -y[G_IN] / p->tau_syn_in;
}

/* J[c * n + r] = d(dy_r/dt) / d(y_c). Above the cap V does not move the currents. */
static void aeif_jac(const void *params, const double *y, double *J)
{
    const aeif_params *p = params;
    const int n = 4;
    const int capped = y[V_M] > aeif_peak(p);
    const double V = aeif_v(p, y[V_M]);
    double Ispike, dIspike;
    aeif_spike_current(p, V, &Ispike, &dIspike);
    if (!capped) {
        J[V_M * n + V_M] = (-p->g_L + dIspike - y[G_EX] - y[G_IN]) / p->C_m;
        J[V_M * n + W] = p->a / p->tau_w;
    }
    J[W * n + V_M] = -1.0 / p->C_m;
    J[W * n + W] = -1.0 / p->tau_w;
    J[G_EX * n + V_M] = -(V - p->E_ex) / p->C_m;
    J[G_EX * n + G_EX] = -1.0 / p->tau_syn_ex;
    J[G_IN * n + V_M] = -(V - p->E_in) / p->C_m;
    J[G_IN * n + G_IN] = -1.0 / p->tau_syn_in;
}

static double aeif_threshold(const void *params, const double *y)
{
    const aeif_params *p = params;
    return y[V_M] - aeif_peak(p);
}

static void aeif_reset(const void *params, double *y)
{
    const aeif_params *p = params;
    y[V_M] = p->V_reset;
    y[W] += p->b;
}

static const ns_ode_unit aeif_ode = {
    .n_vars = 4, .rhs = aeif_rhs, .jac = aeif_jac, .threshold = aeif_threshold, .reset = aeif_reset,
    .rule = NS_SPIKE_AT_ROOT, .clamp_var = V_M, .ex_var = G_EX, .in_var = G_IN, .in_magnitude = 1,
};

static int aeif_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    const aeif_params *p = params;
    if (p->V_reset >= aeif_peak(p)) {
        snprintf(err, errlen, "aeif_cond_exp: V_reset (%g mV) must be below %s (%g mV)", p->V_reset,
                 p->Delta_T > 0.0 ? "V_peak" : "V_th (Delta_T is 0)", aeif_peak(p));
        return -1;
    }
    if (p->Delta_T > 0.0 && p->V_peak < p->V_th) {
        snprintf(err, errlen, "aeif_cond_exp: V_peak (%g mV) must not be below V_th (%g mV)", p->V_peak, p->V_th);
        return -1;
    }
    return ns_ode_pop_init_consts(consts, p->t_ref, dt);
}

static void aeif_init_state(const void *params, double *const *state, size_t n)
{
    const aeif_params *p = params;
    for (size_t i = 0; i < n; i++) {
        state[V_M][i] = p->E_L;
        state[W][i] = state[G_EX][i] = state[G_IN][i] = state[REFR][i] = 0.0;
    }
}

const ns_model ns_model_aeif_cond_exp = {
    .version = NS_MODEL_VERSION,
    .kind = NS_KIND_SPIKING,
    .consts_size = sizeof(ns_ode_consts),
    .inputs = aeif_inputs,
    .n_inputs = 3,
    .outputs = ns_spike_output,
    .n_outputs = 1,
    .whole = 1,
    .step = ns_ode_pop_step,
    .data_create = ns_ode_pop_create,
    .data_free = ns_ode_pop_free,
    .data_stats = ns_ode_pop_stats,
    .state_size = ns_ode_pop_state_size,
    .state_save = ns_ode_pop_state_save,
    .state_load = ns_ode_pop_state_load,
    .name = "aeif_cond_exp",
    .doc = "adaptive exponential integrate-and-fire, exponential conductance synapses, on CVODE (NEST aeif_cond_exp)",
    .state = aeif_state,
    .n_state = 5,
    .params = aeif_param_table,
    .n_params = (int)(sizeof aeif_param_table / sizeof aeif_param_table[0]),
    .params_size = sizeof(aeif_params),
    .ode = &aeif_ode,
    .init = aeif_init,
    .init_state = aeif_init_state,
};
