/* models/kuramoto.c — `kuramoto`: phase oscillators with delayed coupling over any graded
 * projection, dtheta_i/dt = omega_i + K sum_j W_ij sin(theta_j(t - tau_ij) - theta_i) + K_mf R
 * sin(Psi - theta_i) (+ noise); Heun's method, the mean field summed at both stages (Kuramoto 1975). */
#include "models/model.h"
#include "models/input.h"
#include "models/phase.h"
#include "base/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    double K, D, K_mf;
} kur_params;

/* The mean field's sums are exact: every term sin theta_j (cos theta_j) is cut to a multiple of
 * 2^-62 (an error below 2.2e-19) and added in 128-bit integers, whose sum does not depend on the
 * order, so neither on how the threads cut the population; rounded to a double once at the end. */
__extension__ typedef __int128 kur_i128;
#define KUR_FIX 0x1p62

typedef struct {
    kur_i128 s, c;
} kur_sum;

/* A term of the sums: v (a sine or cosine, in [-1, 1]) in units of 2^-62; a NaN (a phase gone
 * infinite, which the state check reports) counts 0 rather than an undefined conversion. */
static inline int64_t kur_fix(double v) { return v == v ? (int64_t)(v * KUR_FIX) : 0; }

/* Population data: the noise seed (the run's seed and the population, or the population's own);
 * for the mean field, each thread's partial sums kept at the first unit of its block (a[lo]: of
 * theta, b[lo]: of the predictor; next[lo] = hi: where the next block starts) and per-unit scratch
 * between Heun's stages (allocated untouched: pages cost memory only once K_mf != 0 uses them). */
typedef struct {
    uint64_t seed;
    size_t n;
    kur_sum *a, *b;
    size_t *next;
    double *sx, *cx, *k1, *w, *dw, *sxp, *cxp;
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
    P(K_mf, "rad/ms", 0, -HUGE_VAL, HUGE_VAL,
      "all-to-all mean-field coupling without delay: adds (K_mf / N) sum_j sin(theta_j - theta_i) = K_mf R "
      "sin(Psi - theta_i), from the population's own sums at each Heun stage, O(N) per step"),
};
#undef P

static void kur_init_state(const void *params, double *const *state, size_t n)
{
    (void)params;
    for (int v = THETA; v <= C_PREV; v++)
        for (size_t i = 0; i < n; i++) state[v][i] = 0.0;
}

static void kur_data_free(void *data)
{
    kur_data *d = data;
    if (!d) return;
    free(d->a), free(d->b), free(d->next);
    free(d->sx), free(d->cx), free(d->k1), free(d->w), free(d->dw), free(d->sxp), free(d->cxp);
    free(d);
}

static void *kur_data_create(const ns_model *m, const void *params, size_t n, double dt, const ns_solver_opts *o,
                             char *err, size_t errlen)
{
    (void)m, (void)params, (void)dt;
    kur_data *d = calloc(1, sizeof *d);
    if (!d) goto oom;
    d->seed = o->seed;
    d->n = n;
    d->a = calloc(n + 1, sizeof *d->a), d->b = calloc(n + 1, sizeof *d->b);
    d->next = calloc(n + 1, sizeof *d->next);
    double **v[] = {&d->sx, &d->cx, &d->k1, &d->w, &d->dw, &d->sxp, &d->cxp};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        if (!(*v[k] = calloc(n + 1, sizeof(double)))) goto oom;
    if (!d->a || !d->b || !d->next) goto oom;
    return d;
oom:
    snprintf(err, errlen, "kuramoto: out of memory for %zu units", n);
    kur_data_free(d);
    return NULL;
}

/* Heun over each step [t, t + dt]: the delayed sums are known at both ends (the step before's
 * delivery is theta_j(t - tau), this step's theta_j(t + dt - tau)); nothing arrives before the
 * delay (the history of the sums is 0, the coupling switches on at t = tau), so
 *   k1 = f(theta, sums at t),  theta* = theta + dt k1 + dW,
 *   k2 = f(theta*, sums at t + dt),  theta' = theta + dt (k1 + k2) / 2 + dW,
 * with f(x, S, C) = omega + I + K (S cos x - C sin x) (I the drive of the step, held over it) and
 * dW = sqrt(2 D dt) N(0, 1): second order without noise (delays are whole steps, so no
 * interpolation enters), strong order 1 with it. */
/* Unit i's part of a step: the delivered sums (s1, c1; 0 when nothing drives the port), which it
 * clears, and the return value: its noise increment amp N(0, 1) (0 without noise). */
static inline double kur_take(const kur_data *d, double *S, double *C, size_t i, int64_t step, double amp,
                              double *s1, double *c1)
{
    *s1 = *c1 = 0.0;
    if (S) {
        *s1 = S[i], *c1 = C[i];
        S[i] = C[i] = 0.0;
    }
    if (!(amp > 0)) return 0.0;
    double u[4];
    ns_rng_u01x4(d->seed, KUR_STREAM_NOISE, (uint32_t)i, (uint32_t)step, (uint32_t)((uint64_t)step >> 32), u);
    return amp * ns_rng_normal_from(u[0], u[1]);
}

static int kur_step_mf(const ns_step_args *a);

static int kur_step(const ns_step_args *a)
{
    if (((const kur_params *)a->params)->K_mf != 0.0) return kur_step_mf(a);
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
            double s1, c1;
            const double dW = kur_take(d, S, C, i, step, amp, &s1, &c1);
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

/* This thread's partial sums of sin and cos over its block, at the block's first unit. */
static void kur_put(kur_sum *slot, size_t lo, size_t hi, kur_i128 S, kur_i128 C)
{
    if (lo < hi) slot[lo].s = S, slot[lo].c = C;
}

/* The population's sums (sum_j sin, sum_j cos) from every block's partials (after a barrier). */
static void kur_total(const kur_data *d, const kur_sum *slot, double *S, double *C)
{
    kur_i128 s = 0, c = 0;
    for (size_t i = 0; i < d->n; i = d->next[i]) s += slot[i].s, c += slot[i].c;
    *S = (double)s / KUR_FIX, *C = (double)c / KUR_FIX;
}

/* The step with the mean field (K_mf != 0; a team step). Heun as in kur_step, with g = K_mf / N
 * and the population's sums (S_g, C_g) of sin and cos theta added to the delivered ones' pull:
 *   k1 = f(theta) + g pull(S_g(theta(t))),  k2 = f(theta*) + g pull(S_g(theta*)),
 * so the predictor's sums are needed between the stages. Per step: a barrier (every block's sums
 * of theta(t) are in place: they were made with the last step's sin and cos), the predictor of
 * this block and its sums, a barrier, the corrector and the sums of the new theta. Each thread
 * writes only its own block's slot and units; a slot is rewritten only after a barrier that
 * follows every read of it. */
static int kur_step_mf(const ns_step_args *a)
{
    const kur_params *p = a->params;
    kur_data *d = a->data;
    double *const th = a->state[THETA], *const om = a->state[OMEGA];
    double *const sp = a->state[S_PREV], *const cp = a->state[C_PREV];
    const double dt = a->dt, K = p->K, g = p->K_mf / (double)a->n, amp = p->D > 0 ? sqrt(2.0 * p->D * dt) : 0.0;
    const size_t lo = a->lo, hi = a->hi;
    double *const sx = d->sx, *const cx = d->cx, *const k1s = d->k1, *const ws = d->w, *const dws = d->dw;
    double *const sxp = d->sxp, *const cxp = d->cxp;
    kur_i128 As = 0, Ac = 0;
    for (size_t i = lo; i < hi; i++) { /* theta as the window finds it (a script may have set it) */
        sx[i] = sin(th[i]), cx[i] = cos(th[i]);
        As += kur_fix(sx[i]), Ac += kur_fix(cx[i]);
    }
    if (lo < hi) d->next[lo] = hi;
    kur_put(d->a, lo, hi, As, Ac);
    for (int k = 0; k < a->nsteps; k++) {
        double *S = ns_input_comp(a, 0, k, 0), *C = ns_input_comp(a, 0, k, 1), *I = ns_input_row(a, 1, k);
        double *os = ns_output_comp(a, k, 0), *oc = ns_output_comp(a, k, 1);
        const int64_t step = a->step0 + k;
        if (a->barrier) a->barrier(a->barrier_ctx); /* every block's sums of theta(t) */
        double Sg, Cg;
        kur_total(d, d->a, &Sg, &Cg);
        kur_i128 Bs = 0, Bc = 0;
        for (size_t i = lo; i < hi; i++) {
            double s1, c1;
            const double dW = kur_take(d, S, C, i, step, amp, &s1, &c1);
            const int fresh = sp[i] == 0.0 && cp[i] == 0.0; /* as in kur_step */
            const double s0 = fresh ? s1 : sp[i], c0 = fresh ? c1 : cp[i];
            double w = om[i];
            if (I) {
                w += I[i];
                I[i] = 0.0;
            }
            const double k1 = w + K * ns_phase_pull(s0, c0, sx[i], cx[i]) + g * ns_phase_pull(Sg, Cg, sx[i], cx[i]);
            const double xp = th[i] + dt * k1 + dW;
            sxp[i] = sin(xp), cxp[i] = cos(xp);
            Bs += kur_fix(sxp[i]), Bc += kur_fix(cxp[i]);
            k1s[i] = k1, ws[i] = w, dws[i] = dW;
            sp[i] = s1, cp[i] = c1;
        }
        kur_put(d->b, lo, hi, Bs, Bc);
        if (a->barrier) a->barrier(a->barrier_ctx); /* every block's sums of the predictor */
        kur_total(d, d->b, &Sg, &Cg);
        As = Ac = 0;
        for (size_t i = lo; i < hi; i++) {
            const double k2 =
                ws[i] + K * ns_phase_pull(sp[i], cp[i], sxp[i], cxp[i]) + g * ns_phase_pull(Sg, Cg, sxp[i], cxp[i]);
            const double xn = th[i] + 0.5 * dt * (k1s[i] + k2) + dws[i];
            th[i] = xn;
            sx[i] = sin(xn), cx[i] = cos(xn);
            As += kur_fix(sx[i]), Ac += kur_fix(cx[i]);
            if (os) os[i] = sx[i], oc[i] = cx[i];
        }
        kur_put(d->a, lo, hi, As, Ac);
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
    .whole = 1, /* a team (K_mf's sums between Heun's stages); K_mf = 0 meets no barrier */
    .team = 1,
    .init_state = kur_init_state,
    .step = kur_step,
    .data_create = kur_data_create,
    .data_free = kur_data_free,
    .state_size = ns_model_state_none, /* the mean field's sums are remade each window */
};
