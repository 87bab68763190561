/* models/lif_alpha.c — `lif_alpha`: leaky integrate-and-fire with alpha-shaped current synapses
 * (NEST's iaf_psc_alpha), integrated exactly (Rotter & Diesmann 1999): each step multiplies the
 * linear state by propagators derived once in init, tau_m equal to a synaptic tau included. */
#include "models/input.h"
#include "models/lif_params.h"
#include "models/model.h"

#include <math.h>
#include <stdio.h>

/* A synapse of time constant tau (ms) is the pair (dI, I): dI' = -dI / tau, I' = dI - I / tau. A
 * spike of weight w (pA) adds w e / tau to dI, so that I(t) = w (e / tau) t exp(-t / tau): the
 * current peaks at w when t = tau and carries the charge w e tau (pA ms). */
typedef struct {
    double P11;  /* exp(-h / tau): dI -> dI and I -> I */
    double P21;  /* h exp(-h / tau): dI -> I (ms) */
    double P31;  /* dI -> V (mV per pA/ms) */
    double P32;  /* I -> V (mV per pA) */
    double jump; /* e / tau: dI per pA of weight (1/ms) */
} alpha_syn;

typedef struct {
    double P33, P30; /* V -> V; constant current -> V (mV per pA) */
    alpha_syn ex, in;
    double ref_steps;
} alpha_consts;

enum { V_M, I_EX, DI_EX, I_IN, DI_IN, REFR };

static const ns_state_var alpha_state[] = {
    {"V_m", "mV", "membrane potential", 0, NS_BOUND_MV},
    {"I_ex", "pA", "excitatory synaptic current", 0, NS_BOUND_FINITE},
    {"dI_ex", "pA/ms", "excitatory current's second variable (dI_ex/dt + I_ex/tau_ex)", 0, NS_BOUND_FINITE},
    {"I_in", "pA", "inhibitory synaptic current", 0, NS_BOUND_FINITE},
    {"dI_in", "pA/ms", "inhibitory current's second variable (dI_in/dt + I_in/tau_in)", 0, NS_BOUND_FINITE},
    {"r", "steps", "refractory steps left", 1, NS_BOUND_FINITE},
};

/* (1 - e^-y (1 + y)) / y^2 for any y: its series below |y| = 0.1, where the direct form cancels;
 * 1/2 at y = 0. */
static double alpha_f(double y)
{
    if (fabs(y) < 0.1) { /* sum_k (-1)^k (k + 1) y^k / (k + 2)!, k = 0 .. 12, by Horner */
        double s = 0.0;
        for (int k = 12; k >= 0; k--) {
            double fact = 1.0;
            for (int j = 2; j <= k + 2; j++) fact *= j;
            s = s * y + (k % 2 ? -1.0 : 1.0) * (k + 1) / fact;
        }
        return s;
    }
    return (-expm1(-y) - y * exp(-y)) / (y * y);
}

/* The propagators of one synapse of time constant tau over h (ms), for the membrane of p. The
 * voltage of dI(0) = 1 and I(0) = 0 after h is (1/C) exp(-h/tau_m) int_0^h s exp(-beta s) ds with
 * beta = 1/tau - 1/tau_m, that is h^2 exp(-h/tau_m) f(beta h) / C. */
static void alpha_syn_props(const lif_params *p, double tau, double h, alpha_syn *s)
{
    const double beta = 1.0 / tau - 1.0 / p->tau_m;
    s->P11 = exp(-h / tau);
    s->P21 = h * s->P11;
    s->P31 = h * h * exp(-h / p->tau_m) * alpha_f(beta * h) / p->C_m;
    s->P32 = ns_lif_p21(h, p->tau_m, tau, p->C_m);
    s->jump = M_E / tau;
}

static int alpha_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    const lif_params *p = params;
    alpha_consts *c = consts;
    if (ns_lif_params_check(p, "lif_alpha", err, errlen)) return -1;
    c->P33 = exp(-dt / p->tau_m);
    c->P30 = -p->tau_m / p->C_m * expm1(-dt / p->tau_m);
    alpha_syn_props(p, p->tau_ex, dt, &c->ex);
    alpha_syn_props(p, p->tau_in, dt, &c->in);
    c->ref_steps = round(p->t_ref / dt);
    return 0;
}

static void alpha_init_state(const void *params, double *const *state, size_t n)
{
    const lif_params *p = params;
    for (size_t i = 0; i < n; i++) {
        state[V_M][i] = p->E_L;
        state[I_EX][i] = state[DI_EX][i] = state[I_IN][i] = state[DI_IN][i] = state[REFR][i] = 0.0;
    }
}

/* One step of units [lo, hi): the membrane moves with the currents at the step's start, the
 * currents propagate, and spikes arriving in this step then enter dI (after the membrane update,
 * as in NEST). r marks a spike with ref_steps - 0.5, as lif does. Returns the spikes. */
static size_t alpha_update(const lif_params *p, const alpha_consts *c, size_t lo, size_t hi, double *const *st,
                           double *restrict ex, double *restrict in, double *restrict cur)
{
    double *restrict V = st[V_M], *restrict Iex = st[I_EX], *restrict dex = st[DI_EX];
    double *restrict Iin = st[I_IN], *restrict din = st[DI_IN], *restrict r = st[REFR];
    const double rest = p->E_L * (1.0 - c->P33) + c->P30 * p->I_e, marker = c->ref_steps - 0.5;
    const alpha_syn E = c->ex, I = c->in;
    size_t fired = 0;
    for (size_t i = lo; i < hi; i++) {
        double v = rest + c->P33 * V[i] + E.P31 * dex[i] + E.P32 * Iex[i] + I.P31 * din[i] + I.P32 * Iin[i];
        if (cur) {
            v += c->P30 * cur[i];
            cur[i] = 0.0;
        }
        const double ri = r[i];
        v = ri > 0.0 ? p->V_reset : v;
        Iex[i] = E.P11 * Iex[i] + E.P21 * dex[i];
        dex[i] = E.P11 * dex[i] + E.jump * ex[i];
        Iin[i] = I.P11 * Iin[i] + I.P21 * din[i];
        din[i] = I.P11 * din[i] + I.jump * in[i];
        ex[i] = in[i] = 0.0;
        const int spike = v >= p->V_th;
        V[i] = spike ? p->V_reset : v;
        r[i] = spike ? marker : ri - 1.0;
        fired += (size_t)spike;
    }
    return fired;
}

#define ALPHA_BLOCK 256

static int alpha_step(const ns_step_args *a)
{
    const alpha_consts *c = a->consts;
    const double marker = c->ref_steps - 0.5;
    for (int k = 0; k < a->nsteps; k++) {
        double *ex = ns_input_row(a, NS_PSC_EX, k), *in = ns_input_row(a, NS_PSC_IN, k);
        double *cur = ns_input_row(a, NS_PSC_CURRENT, k);
        for (size_t lo = a->lo; lo < a->hi; lo += ALPHA_BLOCK) {
            const size_t hi = lo + ALPHA_BLOCK < a->hi ? lo + ALPHA_BLOCK : a->hi;
            size_t fired = alpha_update(a->params, c, lo, hi, a->state, ex, in, cur);
            if (fired && ns_spikebuf_push_marked(a->out, k, a->state[REFR], marker, lo, hi, fired)) return -1;
        }
    }
    return 0;
}

const ns_model ns_model_lif_alpha = {
    .version = NS_MODEL_VERSION,
    .name = "lif_alpha",
    .doc = "LIF, alpha-shaped current synapses, exact integration (NEST iaf_psc_alpha)",
    .kind = NS_KIND_SPIKING,
    .state = alpha_state,
    .n_state = 6,
    .params = ns_lif_param_table,
    .n_params = NS_LIF_N_PARAMS,
    .params_size = sizeof(lif_params),
    .consts_size = sizeof(alpha_consts),
    NS_PSC_PORTS,
    .init = alpha_init,
    .init_state = alpha_init_state,
    .step = alpha_step,
};
