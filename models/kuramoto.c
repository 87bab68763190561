/* models/kuramoto.c — `kuramoto`: phase oscillators with delayed coupling over any graded
 * projection, dtheta_i/dt = omega_i + K sum_j W_ij sin(theta_j(t - tau_ij) - theta_i) (+ noise);
 * Heun's method with the delivered (sin, cos) sums at both ends of the step (Kuramoto 1975). */
#include "models/model.h"
#include "models/input.h"
#include "models/phase.h"
#include "base/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    double K, D;
} kur_params;

/* Population data: the noise seed (the run's seed and the population, or the population's own). */
typedef struct {
    uint64_t seed;
} kur_data;

enum { THETA, OMEGA, S_PREV, C_PREV };

static const ns_state_var kur_state[] = {
    {"theta", "rad", "lab-frame phase, not wrapped (it grows by about Omega t); sin and cos of it are sent", 0,
     NS_BOUND_FINITE},
    {"omega", "rad/ms", "natural frequency (constant; set it per unit by the initial state)", 0, NS_BOUND_FINITE},
    {"S_prev", "1", "the delivered sum of W sin theta_j of the step before (Heun's first stage)", 1, NS_BOUND_FINITE},
    {"C_prev", "1", "the delivered sum of W cos theta_j of the step before", 1, NS_BOUND_FINITE},
};

/* A noise stream of its own: (unit, step low word, step high word) under the population's seed. */
enum { KUR_STREAM_NOISE = 0x4b55 };

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(kur_params, field)}
static const ns_param kur_param_table[] = {
    P(K, "rad/ms", 0, -HUGE_VAL, HUGE_VAL,
      "coupling: multiplies the delivered sum_j W_ij sin(theta_j(t - tau_ij) - theta_i); the weights W normalise "
      "it (1/N all to all, 1/2 per side on a ring)"),
    P(D, "rad^2/ms", 0, 0, HUGE_VAL, "phase diffusion: white noise sqrt(2 D) xi(t) added to dtheta/dt"),
};
#undef P

static void kur_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (int v = THETA; v <= C_PREV; v++)
        for (size_t i = 0; i < n; i++) state[v][i] = 0.0;
}

static void *kur_data_create(const ns_model *m, const void *params, size_t n, double dt, const ns_solver_opts *o,
                             char *err, size_t errlen)
{
    (void)m, (void)params, (void)n, (void)dt;
    kur_data *d = malloc(sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->seed = o->seed;
    return d;
}

static void kur_data_free(void *data) { free(data); }

/* Heun over each step [t, t + dt]: the delayed sums are known at both ends (the step before's
 * delivery is theta_j(t - tau), this step's theta_j(t + dt - tau)); nothing arrives before the
 * delay (the history of the sums is 0, the coupling switches on at t = tau), so
 *   k1 = f(theta, sums at t),  theta* = theta + dt k1 + dW,
 *   k2 = f(theta*, sums at t + dt),  theta' = theta + dt (k1 + k2) / 2 + dW,
 * with f(x, S, C) = omega + I + K (S cos x - C sin x) (I the drive of the step, held over it) and
 * dW = sqrt(2 D dt) N(0, 1): second order without noise (delays are whole steps, so no
 * interpolation enters), strong order 1 with it. */
static int kur_step(const ns_step_args *a)
{
    const kur_params *p = a->params;
    const kur_data *d = a->data;
    double *const th = a->state[THETA], *const om = a->state[OMEGA];
    double *const sp = a->state[S_PREV], *const cp = a->state[C_PREV];
    const double dt = a->dt, K = p->K, amp = p->D > 0 ? sqrt(2.0 * p->D * dt) : 0.0;
    for (int k = 0; k < a->nsteps; k++) {
        double *S = ns_input_comp(a, 0, k, 0), *C = ns_input_comp(a, 0, k, 1), *I = ns_input_row(a, 1, k);
        double *os = ns_output_comp(a, k, 0), *oc = ns_output_comp(a, k, 1);
        const int64_t step = a->step0 + k;
        for (size_t i = a->lo; i < a->hi; i++) {
            double s1 = 0.0, c1 = 0.0;
            if (S) {
                s1 = S[i], c1 = C[i];
                S[i] = C[i] = 0.0;
            }
            double dW = 0.0;
            if (amp > 0) {
                double u[4];
                ns_rng_u01x4(d->seed, KUR_STREAM_NOISE, (uint32_t)i, (uint32_t)step, (uint32_t)((uint64_t)step >> 32), u);
                dW = amp * ns_rng_normal_from(u[0], u[1]);
            }
            /* no sum arrived in the step before (the first delivery, after the delay): this step's
             * sum stands for both ends, so switching the coupling on costs O(dt^2), not O(dt) */
            const int fresh = sp[i] == 0.0 && cp[i] == 0.0;
            const double x = th[i], s0 = fresh ? s1 : sp[i], c0 = fresh ? c1 : cp[i];
            double w = om[i];
            if (I) {
                w += I[i];
                I[i] = 0.0;
            }
            const double k1 = w + K * ns_phase_pull(s0, c0, sin(x), cos(x));
            const double xp = x + dt * k1 + dW;
            const double k2 = w + K * ns_phase_pull(s1, c1, sin(xp), cos(xp));
            const double xn = x + 0.5 * dt * (k1 + k2) + dW;
            th[i] = xn;
            sp[i] = s1, cp[i] = c1;
            if (os) os[i] = sin(xn), oc[i] = cos(xn);
        }
    }
    return 0;
}

/* The delivered sums (sum_j W_ij sin theta_j, sum_j W_ij cos theta_j) of any graded projection from a
 * two-wide output, and a drive (devices, one-wide graded projections) added to the frequency; the
 * output is (sin theta, cos theta) after each step. */
static const ns_in_port kur_inputs[] = {
    {"coupling", "1", NS_PORT_CONTINUOUS, 0, NULL, 2},
    {"drive", "rad/ms", NS_PORT_CONTINUOUS, 0, NULL, 1}, /* added to dtheta/dt, held over its step */
};
static const ns_out_port kur_outputs[] = {{"phase", "1", NS_OUT_GRADED, 2, "sin,cos"}};

const ns_model ns_model_kuramoto = {
    .version = NS_MODEL_VERSION,
    .name = "kuramoto",
    .doc = "phase oscillators (Kuramoto 1975) with delayed coupling over graded projections of (sin, cos), Heun's "
           "method",
    .kind = NS_KIND_CONTINUOUS,
    .state = kur_state,
    .n_state = (int)(sizeof kur_state / sizeof kur_state[0]),
    .params = kur_param_table,
    .n_params = (int)(sizeof kur_param_table / sizeof kur_param_table[0]),
    .params_size = sizeof(kur_params),
    .inputs = kur_inputs,
    .n_inputs = 2,
    .outputs = kur_outputs,
    .n_outputs = 1,
    .init_state = kur_init_state,
    .step = kur_step,
    .data_create = kur_data_create,
    .data_free = kur_data_free,
};
