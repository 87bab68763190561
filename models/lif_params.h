/* models/lif_params.h — the parameters of lif (NEST's iaf_psc_exp), shared by `lif` (exact
 * integration), `lif_ode` (the same equations on an ODE solver) and `lif_ps` (precise spike
 * times): one table for all. */
#ifndef NS_LIF_PARAMS_H
#define NS_LIF_PARAMS_H

#include "models/model.h"

typedef struct {
    double C_m, tau_m, E_L, V_th, V_reset, t_ref, tau_ex, tau_in, I_e;
} lif_params;

/* The table: name, unit, default (NEST's iaf_psc_exp values: a default neuron rests at -70 mV,
 * below its threshold of -55 mV), range, meaning; its rows
 * (checked against the table where it is defined). */
#define NS_LIF_N_PARAMS 9
extern const ns_param ns_lif_param_table[NS_LIF_N_PARAMS];

/* What the table's ranges cannot say: V_reset below V_th (mV). 0, or -1 with "MODEL: ..." in err. */
int ns_lif_params_check(const lif_params *p, const char *model, char *err, size_t errlen);

/* The propagator from a synaptic current to V over h ms (mV per pA): tau_x tau_m / (C (tau_m -
 * tau_x)) (exp(-h/tau_m) - exp(-h/tau_x)), written with expm1 so that it stays accurate when the
 * two time constants (ms) are close, and its limit (h/C) exp(-h/tau_m) when they are equal (C in
 * pF). Shared by lif and lif_ps. */
double ns_lif_p21(double h, double tau_m, double tau_x, double C);

/* The exact propagators of the free dynamics over h ms: the membrane's decay P22, the currents'
 * P11ex and P11in, current to V P21ex and P21in (mV per pA), constant current to V P20 (mV per
 * pA). Shared by lif (h = dt) and lif_ps (any h between two events). */
typedef struct {
    double P22, P11ex, P11in, P21ex, P21in, P20;
} ns_lif_props;

/* Fill P with the propagators of p's neuron over h ms (h > 0; h = dt for a whole step). */
void ns_lif_propagate_over(const lif_params *p, double h, ns_lif_props *P);

#endif
