/* models/lif_cond_exp.c — `lif_cond_exp`: leaky integrate-and-fire with exponential conductance
 * synapses (NEST's iaf_cond_exp). Conductances decay exactly; V takes an exponential step with the
 * conductances averaged over the step (exact for constant conductances, second order otherwise). */
#include "models/input.h"
#include "models/model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    double V_th, V_reset, t_ref, g_L, C_m, E_ex, E_in, E_L, tau_syn_ex, tau_syn_in, I_e;
} cond_params;

/* What init derives for a step h: the conductances' decay over the step, their integrals over
 * it per nS (A_x = tau_x (1 - P_x), ms), the leak's (g_L h, nS ms) and the refractory steps. */
typedef struct {
    double P_ex, P_in, A_ex, A_in, gLh, ref_steps, h;
} cond_consts;

enum { V_M, G_EX, G_IN, REFR };

static const ns_state_var cond_state[] = {
    {"V_m", "mV", "membrane potential", 0, NS_BOUND_MV},
    {"g_ex", "nS", "excitatory synaptic conductance", 0, NS_BOUND_FINITE},
    {"g_in", "nS", "inhibitory synaptic conductance (positive)", 0, NS_BOUND_FINITE},
    {"r", "steps", "refractory steps left", 1, NS_BOUND_FINITE},
};

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(cond_params, field)}
static const ns_param cond_param_table[] = {
    P(V_th, "mV", -55.0, -HUGE_VAL, HUGE_VAL, "spike threshold"),
    P(V_reset, "mV", -60.0, -HUGE_VAL, HUGE_VAL, "reset potential (V held there for t_ref)"),
    P(t_ref, "ms", 2.0, 0.0, HUGE_VAL, "refractory period"),
    P(g_L, "nS", 16.6667, 1e-9, HUGE_VAL, "leak conductance"),
    P(C_m, "pF", 250.0, 1e-6, HUGE_VAL, "membrane capacitance"),
    P(E_ex, "mV", 0.0, -HUGE_VAL, HUGE_VAL, "excitatory reversal potential"),
    P(E_in, "mV", -85.0, -HUGE_VAL, HUGE_VAL, "inhibitory reversal potential"),
    P(E_L, "mV", -70.0, -HUGE_VAL, HUGE_VAL, "leak reversal potential"),
    P(tau_syn_ex, "ms", 0.2, 1e-6, HUGE_VAL, "excitatory conductance time constant"),
    P(tau_syn_in, "ms", 2.0, 1e-6, HUGE_VAL, "inhibitory conductance time constant"),
    P(I_e, "pA", 0.0, -HUGE_VAL, HUGE_VAL, "constant external current"),
};
#undef P

/* Event weights are conductances (nS): positive ones onto g_ex, negative ones onto g_in by their
 * magnitude (NEST's convention); the continuous port takes a current (pA). */
static const ns_in_port cond_inputs[3] = {
    {"ex", "nS", NS_PORT_EVENT, +1, NULL, 1},
    {"in", "nS", NS_PORT_EVENT, -1, NULL, 1},
    {"current", "pA", NS_PORT_CONTINUOUS, 0, NULL, 1},
};
enum { PORT_EX, PORT_IN, PORT_CURRENT };

static int cond_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    const cond_params *p = params;
    cond_consts *c = consts;
    if (p->V_reset >= p->V_th) {
        snprintf(err, errlen, "lif_cond_exp: V_reset (%g mV) must be below V_th (%g mV)", p->V_reset, p->V_th);
        return -1;
    }
    c->h = dt;
    c->P_ex = exp(-dt / p->tau_syn_ex);
    c->P_in = exp(-dt / p->tau_syn_in);
    c->A_ex = -p->tau_syn_ex * expm1(-dt / p->tau_syn_ex);
    c->A_in = -p->tau_syn_in * expm1(-dt / p->tau_syn_in);
    c->gLh = p->g_L * dt;
    c->ref_steps = round(p->t_ref / dt);
    return 0;
}

static void cond_init_state(const void *params, double *const *state, size_t n)
{
    const cond_params *p = params;
    for (size_t i = 0; i < n; i++) {
        state[V_M][i] = p->E_L;
        state[G_EX][i] = state[G_IN][i] = state[REFR][i] = 0.0;
    }
}

/* e^y for y in [-708, 708] (clamped there), branch-free so that the neuron loop vectorises (the
 * C library's exp is a call the compiler cannot vectorise without fast math): y = k ln 2 + r with
 * |r| <= ln 2 / 2 (k by the round-to-nearest of adding 1.5 2^52, ln 2 in two parts), e^r by its
 * Taylor series to r^13 (relative error under 2e-16 there), times 2^k built in the exponent bits.
 * Within a few units in the last place of the library's exp. */
static inline double cond_exp(double y)
{
    const double shift = 0x1.8p52, log2e = 1.4426950408889634, ln2_hi = 0x1.62e42fefa3800p-1,
                 ln2_lo = 0x1.ef35793c76730p-45;
    y = y < -708.0 ? -708.0 : (y > 708.0 ? 708.0 : y);
    const double t = y * log2e + shift, k = t - shift;
    const double r = (y - k * ln2_hi) - k * ln2_lo;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t bits, sbits;
    memcpy(&bits, &t, sizeof bits);
    memcpy(&sbits, &shift, sizeof sbits);
    const uint64_t e = (bits - sbits + 1023u) << 52; /* k + 1023 in the exponent field */
    double scale;
    memcpy(&scale, &e, sizeof scale);
    return p * scale;
}

/* One step of units [lo, hi). Over the step the conductances are g_x e^{-s/tau_x}, so
 * Lambda = (g_L h + g_ex A_ex + g_in A_in) / C_m is the exact integral of the membrane's rate
 * 1/tau_eff(s); V moves toward V_inf, the conductance-weighted mean of the reversal potentials
 * (plus the currents' share), by the factor e^{-Lambda}. Input arriving in the step enters the
 * conductances after the membrane update, as in NEST. Returns the number of spikes (marked in r). */
static inline __attribute__((always_inline)) size_t
cond_update(const cond_params *p, const cond_consts *c, size_t lo, size_t hi, double *restrict V, double *restrict gex,
            double *restrict gin, double *restrict r, double *restrict ex, double *restrict in, double *restrict cur,
            const int dense, const int with_current)
{
    const double gLh = c->gLh, A_ex = c->A_ex, A_in = c->A_in, h = c->h, invC = 1.0 / p->C_m;
    const double P_ex = c->P_ex, P_in = c->P_in;
    const double num0 = gLh * p->E_L + p->I_e * h, E_ex = p->E_ex, E_in = p->E_in;
    const double V_th = p->V_th, V_reset = p->V_reset, marker = c->ref_steps - 0.5;
    size_t fired = 0;
    for (size_t i = lo; i < hi; i++) {
        const double Gex = gex[i] * A_ex, Gin = gin[i] * A_in; /* nS ms */
        const double G = gLh + Gex + Gin;
        double num = num0 + Gex * E_ex + Gin * E_in;
        if (with_current) num += cur[i] * h;
        /* V + (V_inf - V)(1 - e^{-x}) with x = G / C, written as (num - G V) / C phi(x),
         * phi(x) = (1 - e^{-x}) / x, so that it stays finite as G goes to 0 (a negative initial
         * conductance, as some scripts draw, can cancel the leak) */
        const double x = G * invC, V0 = V[i];
        const double small = 1.0 - x * (0.5 - x * (1.0 / 6.0 - x * (1.0 / 24.0))); /* |x| < 1e-4 */
        const double phi = fabs(x) < 1e-4 ? small : (1.0 - cond_exp(-x)) / x;
        double v = V0 + (num - G * V0) * invC * phi;
        const double ri = r[i];
        v = ri > 0.0 ? V_reset : v;
        if (dense) {
            gex[i] = gex[i] * P_ex + ex[i];
            gin[i] = gin[i] * P_in - in[i]; /* weights onto "in" are negative */
            ex[i] = 0.0;
            in[i] = 0.0;
        } else { /* event lists: cond_apply adds the step's events after this loop */
            gex[i] = gex[i] * P_ex;
            gin[i] = gin[i] * P_in;
        }
        if (with_current) cur[i] = 0.0;
        const int spike = v >= V_th;
        V[i] = spike ? V_reset : v;
        r[i] = spike ? marker : ri - 1.0;
        fired += (size_t)spike;
    }
    return fired;
}

#define COND_BLOCK 256

/* Add a list's events to the conductances in list order: a weight >= 0 onto g_ex, a negative one
 * onto g_in by its magnitude. A unit's single event of a step lands exactly as from a dense row;
 * several differ from the row's sum only in the order of the additions. */
static void cond_apply(const ns_events *e, double *gex, double *gin)
{
    for (size_t j = 0; j < e->n; j++) {
        const ns_event_run *run = &e->run[j];
        double *restrict gx = run->base + (run->w ? gex : (run->w0 < 0 ? gin : gex));
        if (!run->w) { /* one weight: one conductance */
            const double w = run->w0 < 0 ? -(double)run->w0 : (double)run->w0;
            for (uint32_t k = 0; k < run->n; k++) gx[run->tgt[k]] += w;
            continue;
        }
        for (uint32_t k = 0; k < run->n; k++) {
            const double w = run->w[k];
            if (w < 0) gin[run->base + run->tgt[k]] -= w;
            else gex[run->base + run->tgt[k]] += w;
        }
    }
}

/* Dense rows (the engine's choice when many events arrive per step) or event lists; with lists
 * and lag, a window's last list waits for the next call (model.h), which is exact because input
 * enters the conductances after the membrane update. */
static int cond_step(const ns_step_args *a)
{
    const cond_consts *c = a->consts;
    double *V = a->state[V_M], *gex = a->state[G_EX], *gin = a->state[G_IN], *r = a->state[REFR];
    const int dense = a->events == NULL, with_current = a->input[PORT_CURRENT] != NULL;
    const double marker = c->ref_steps - 0.5;
    if (!dense && a->lag) /* events of the step before the window that came after it */
        cond_apply(ns_input_events(a, -1), gex, gin);
    for (int k = 0; k < a->nsteps; k++) {
        double *ex = dense ? ns_input_row(a, PORT_EX, k) : NULL, *in = dense ? ns_input_row(a, PORT_IN, k) : NULL;
        double *cur = ns_input_row(a, PORT_CURRENT, k);
        for (size_t lo = a->lo; lo < a->hi; lo += COND_BLOCK) {
            const size_t hi = lo + COND_BLOCK < a->hi ? lo + COND_BLOCK : a->hi;
            size_t fired;
            if (dense && with_current) fired = cond_update(a->params, c, lo, hi, V, gex, gin, r, ex, in, cur, 1, 1);
            else if (dense) fired = cond_update(a->params, c, lo, hi, V, gex, gin, r, ex, in, NULL, 1, 0);
            else if (with_current) fired = cond_update(a->params, c, lo, hi, V, gex, gin, r, NULL, NULL, cur, 0, 1);
            else fired = cond_update(a->params, c, lo, hi, V, gex, gin, r, NULL, NULL, NULL, 0, 0);
            if (fired && ns_spikebuf_push_marked(a->out, k, r, marker, lo, hi, fired)) return -1;
        }
        if (!dense && k < a->nsteps - a->lag) cond_apply(ns_input_events(a, k), gex, gin);
    }
    return 0;
}

const ns_model ns_model_lif_cond_exp = {
    .version = NS_MODEL_VERSION,
    .name = "lif_cond_exp",
    .doc = "LIF, exponential conductance synapses, exponential step on step-averaged conductances (NEST iaf_cond_exp)",
    .kind = NS_KIND_SPIKING,
    .state = cond_state,
    .n_state = 4,
    .params = cond_param_table,
    .n_params = (int)(sizeof cond_param_table / sizeof cond_param_table[0]),
    .params_size = sizeof(cond_params),
    .consts_size = sizeof(cond_consts),
    .inputs = cond_inputs,
    .n_inputs = 3,
    .outputs = ns_spike_output,
    .n_outputs = 1,
    .sparse_input = 1,
    .sparse_lag = 1,
    .init = cond_init,
    .init_state = cond_init_state,
    .step = cond_step,
};
