/* models/s2net_phase.c — `s2net_phase`: the phase half of an S2-Net unit (our formulation,
 * docs/guide.md "S2-Net"): the bottom-up phasor of its neuron's spikes over a window of K steps,
 * and a lab-frame Kuramoto phase with delayed scaffold coupling, a global desynchroniser and a pull. */
#include "models/input.h"
#include "models/model.h"
#include "models/phase.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double Omega, tau_w, K, kappa, kappa_g, eta, in_delay, dense_values;
} s2_params;

typedef struct {
    double q;          /* e^{-dt/tau_w} */
    double rot_re, rot_im;   /* q e^{i Omega dt}: one step of ageing */
    double old_re, old_im;   /* q^K e^{i Omega K dt}: the weight of the bit leaving the window */
    double norm;       /* 1 / sum_{k<K} q^k */
    double lag_re, lag_im; /* e^{i Omega in_delay}: a spike's age when it arrives */
    int K;
} s2_consts;

enum { THETA, THETA_S, AMP, OMEGA_I, OPS_SPIKE, OPS_ACTIVE, SYNOPS, Y_RE, Y_IM, N_STATE };

static const ns_state_var s2_state[] = {
    {"theta", "rad", "coordination phase (lab frame), in [0, 2 pi)", 0, NS_BOUND_FINITE},
    {"theta_s", "rad", "bottom-up phase Omega t + arg z of the spikes in the window, in [0, 2 pi)", 0, NS_BOUND_FINITE},
    {"a", "1", "bottom-up amplitude |z| / sum_k e^{-k dt/tau_w}", 0, NS_BOUND_FINITE},
    {"omega", "rad/ms", "the unit's natural frequency Omega_i (set from Omega at the start)", 0, NS_BOUND_FINITE},
    {"ops_spike", "1",
     "synaptic operations a spike of the unit's neuron costs: 1 (into this unit) plus its lateral out-degree "
     "(set by nsim.s2net)",
     0, NS_BOUND_FINITE},
    {"ops_active", "1", "accumulates a step of the unit's phase output costs while a > 0 (set by nsim.s2net)", 0,
     NS_BOUND_FINITE},
    {"synops", "1", "synaptic operations so far: ops_spike per spike received, ops_active per step with a > 0, and 3 "
     "per step for the global sums", 0, NS_BOUND_FINITE},
    {"y_re", "1", "the lab-frame phasor sum_k e^{-k dt/tau_w} s(t - k dt) e^{i Omega k dt}, real part", 1,
     NS_BOUND_FINITE},
    {"y_im", "1", "its imaginary part", 1, NS_BOUND_FINITE},
};

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(s2_params, field)}
static const ns_param s2_param_table[] = {
    P(Omega, "rad/ms", 0.157079632679489662, 0.0, 10.0, "common angular frequency (0.157 rad/ms = 25 Hz)"),
    P(tau_w, "ms", 100.0, 1e-3, HUGE_VAL, "decay of the bottom-up memory window"),
    P(K, "steps", 100.0, 1.0, 4096.0, "length of the bottom-up memory window (whole steps)"),
    P(kappa, "rad/ms", 5.0, 0.0, 1e3, "scaffold coupling strength (over deg_i, times W_ij a_j)"),
    P(kappa_g, "rad/ms", 0.2, 0.0, 1e3, "global desynchroniser strength (over N_a = sum_j a_j)"),
    P(eta, "rad/ms", 0.05, 0.0, 1e3, "pull of theta towards the bottom-up phase theta_s"),
    P(in_delay, "ms", 1.0, 0.0, 1e4, "delay of the spikes from the unit's own neuron (a spike's age on arrival)"),
    P(dense_values, "1", 5.0, 0.0, 100.0,
      "values a dense network of the same units multiply-adds per pair and step (run.json's dense_macs)"),
};
#undef P

static int s2_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    const s2_params *p = params;
    s2_consts *c = consts;
    if (p->K != floor(p->K)) {
        snprintf(err, errlen, "s2net_phase: K (%g steps) must be a whole number of steps in [1, 4096]", p->K);
        return -1;
    }
    c->K = (int)p->K;
    c->q = exp(-dt / p->tau_w);
    c->rot_re = c->q * cos(p->Omega * dt);
    c->rot_im = c->q * sin(p->Omega * dt);
    const double qK = exp(-p->K * dt / p->tau_w);
    c->old_re = qK * cos(p->Omega * p->K * dt);
    c->old_im = qK * sin(p->Omega * p->K * dt);
    double s = 0.0;
    for (int k = 0; k < c->K; k++) s += exp(-(double)k * dt / p->tau_w);
    c->norm = 1.0 / s;
    c->lag_re = cos(p->Omega * p->in_delay);
    c->lag_im = sin(p->Omega * p->in_delay);
    return 0;
}

static void s2_init_state(const void *params, double *const *state, size_t n)
{
    const s2_params *p = params;
    for (size_t i = 0; i < n; i++) {
        for (int v = 0; v < N_STATE; v++) state[v][i] = 0.0;
        state[OMEGA_I][i] = p->Omega;
    }
}

/* Population data: every unit's last K spike bits (a ring indexed by the global step mod K), and
 * the partial sums of a_j sin theta_j, a_j cos theta_j and a_j over fixed blocks of BLOCK units,
 * so that the global sums are added in the same order for any thread count. */
#define BLOCK 256
typedef struct {
    size_t n, words; /* words of 64 bits per unit */
    int K;
    uint64_t *bits;
    size_t nb;
    double *part;     /* part[3 * b + 0..2] */
    double *ops;      /* ops[b]: block b's synops at the last window's end */
    double *thc, *sn, *cs; /* per unit: the theta its sin and cos were last taken of (NaN: none) */
    long steps;       /* steps stepped */
    double dense_values;
} s2_data;

static void *s2_data_create(const ns_model *m, const void *params, size_t n, double dt, const ns_solver_opts *o,
                            char *err, size_t errlen)
{
    (void)m, (void)dt, (void)o;
    const s2_params *p = params;
    s2_data *d = calloc(1, sizeof *d);
    if (!d) goto oom;
    d->n = n;
    d->K = (int)p->K;
    d->words = ((size_t)d->K + 63) / 64;
    d->nb = (n + BLOCK - 1) / BLOCK;
    d->bits = calloc(n * d->words + 1, sizeof *d->bits);
    d->part = calloc(3 * d->nb + 3, sizeof *d->part);
    d->ops = calloc(d->nb + 1, sizeof *d->ops);
    d->thc = malloc((n + 1) * sizeof *d->thc);
    d->sn = calloc(n + 1, sizeof *d->sn);
    d->cs = calloc(n + 1, sizeof *d->cs);
    if (!d->thc || !d->sn || !d->cs) goto oom;
    for (size_t i = 0; i < n; i++) d->thc[i] = NAN;
    d->dense_values = p->dense_values;
    if (!d->bits || !d->part || !d->ops) goto oom;
    return d;
oom:
    if (d) free(d->bits), free(d->part), free(d->ops), free(d->thc), free(d->sn), free(d->cs);
    free(d);
    snprintf(err, errlen, "s2net_phase: out of memory for %zu units", n);
    return NULL;
}

static void s2_data_free(void *data)
{
    s2_data *d = data;
    if (!d) return;
    free(d->bits);
    free(d->part);
    free(d->ops);
    free(d->thc);
    free(d->sn);
    free(d->cs);
    free(d);
}

/* Checkpoints: every unit's last K spike bits, the blocks' operation counts and the steps (the
 * sin / cos cache is remade from theta). */
static size_t s2_state_size(const void *data)
{
    const s2_data *d = data;
    return (d->n * d->words) * sizeof(uint64_t) + d->nb * sizeof(double) + sizeof(int64_t);
}

static void s2_state_save(void *data, unsigned char *buf)
{
    const s2_data *d = data;
    const size_t nbits = d->n * d->words * sizeof(uint64_t), nops = d->nb * sizeof(double);
    const int64_t steps = d->steps;
    memcpy(buf, d->bits, nbits);
    memcpy(buf + nbits, d->ops, nops);
    memcpy(buf + nbits + nops, &steps, sizeof steps);
}

static int s2_state_load(void *data, const unsigned char *buf, size_t len, char *err, size_t errlen)
{
    s2_data *d = data;
    if (len != s2_state_size(d))
        return snprintf(err, errlen, "s2net_phase: %zu bytes of state, not %zu (K or the size differ)", len, s2_state_size(d)), -1;
    const size_t nbits = d->n * d->words * sizeof(uint64_t), nops = d->nb * sizeof(double);
    int64_t steps;
    memcpy(d->bits, buf, nbits);
    memcpy(d->ops, buf + nbits, nops);
    memcpy(&steps, buf + nbits + nops, sizeof steps);
    d->steps = (long)steps;
    for (size_t i = 0; i < d->n; i++) d->thc[i] = NAN;
    return 0;
}

/* run.json: the synaptic operations against the dense multiply-adds (Horowitz 2014, 45 nm). */
static void s2_data_stats(const void *data, ns_solver_stats *st)
{
    const s2_data *d = data;
    double ops = 0.0;
    for (size_t b = 0; b < d->nb; b++) ops += d->ops[b];
    const double dense = (double)d->steps * (double)d->n * (double)d->n * d->dense_values;
    memset(st, 0, sizeof *st);
    st->solver = "none";
    st->steps = d->steps;
    snprintf(st->extra, sizeof st->extra,
             "\"synops\": %.17g, \"dense_macs\": %.17g, \"synops_pj\": %.17g, \"dense_pj\": %.17g", ops, dense,
             0.9 * ops, 4.6 * dense);
}

/* Block b's partial sums of a sin theta, a cos theta and a. */
static void s2_block_sums(const s2_data *d, double *const *st, size_t b)
{
    const size_t lo = b * BLOCK, hi = lo + BLOCK < d->n ? lo + BLOCK : d->n;
    double S = 0.0, C = 0.0, A = 0.0;
    for (size_t i = lo; i < hi; i++) {
        const double a = st[AMP][i], th = st[THETA][i];
        const int cached = th == d->thc[i]; /* unless a script set theta since */
        S += a * (cached ? d->sn[i] : sin(th));
        C += a * (cached ? d->cs[i] : cos(th));
        A += a;
    }
    d->part[3 * b] = S, d->part[3 * b + 1] = C, d->part[3 * b + 2] = A;
}

enum { IN_SPIKES, IN_PHASE };

/* |y| at or below this (a rounding residue of spikes that cancel) gives no bottom-up phase. */
#define NS_S2_MIN_PHASOR 1e-9

/* A team step. Per step: the partial sums of the blocks that start in this thread's range (from
 * the phases after the previous step); a barrier; every thread adds all blocks in order (the
 * same global sums everywhere); its units' update; a barrier (the next step's sums read it). */
static int s2_step(const ns_step_args *a)
{
    const s2_params *p = a->params;
    const s2_consts *c = a->consts;
    s2_data *d = a->data;
    double *const *st = a->state;
    const double dt = a->dt;
    int failed = d->K != c->K;
    if (failed)
        snprintf(a->err, a->errlen, "s2net_phase: K (%d steps) cannot change after the first run (it was %d)", c->K,
                 d->K);
    const size_t b_lo = (a->lo + BLOCK - 1) / BLOCK, b_hi = a->hi > a->lo ? (a->hi + BLOCK - 1) / BLOCK : b_lo;
    for (int k = 0; k < a->nsteps; k++) {
        for (size_t b = b_lo; b < b_hi && b < d->nb; b++) s2_block_sums(d, st, b);
        if (a->barrier) a->barrier(a->barrier_ctx); /* every block's sums are in place */
        double Sg = 0.0, Cg = 0.0, Na = 0.0;
        for (size_t b = 0; b < d->nb; b++) Sg += d->part[3 * b], Cg += d->part[3 * b + 1], Na += d->part[3 * b + 2];
        const double g = Na > 0.0 ? p->kappa_g / Na : 0.0;
        const int64_t step = a->step0 + k;
        const int pos = failed ? 0 : (int)(step % (int64_t)c->K);
        const size_t word = (size_t)pos / 64;
        const uint64_t mask = (uint64_t)1 << (pos % 64);
        double *sp = ns_input_row(a, IN_SPIKES, k);
        double *S = ns_input_comp(a, IN_PHASE, k, 0), *C = ns_input_comp(a, IN_PHASE, k, 1);
        double *os = ns_output_comp(a, k, 0), *oc = ns_output_comp(a, k, 1);
        for (size_t i = a->lo; i < a->hi && !failed; i++) {
            uint64_t *w = d->bits + i * d->words + word;
            const double s_new = sp && sp[i] > 0.0 ? 1.0 : 0.0, s_old = (*w & mask) ? 1.0 : 0.0;
            st[SYNOPS][i] += 3.0 + s_new * st[OPS_SPIKE][i];
            if (sp) sp[i] = 0.0;
            *w = s_new > 0.0 ? (*w | mask) : (*w & ~mask);
            const double yr = st[Y_RE][i], yi = st[Y_IM][i];
            double nr = c->rot_re * yr - c->rot_im * yi + s_new - c->old_re * s_old;
            double ni = c->rot_re * yi + c->rot_im * yr - c->old_im * s_old;
            if (s_old > 0.0 && s_new == 0.0) { /* a spike left: an empty window is exactly 0, not rounding */
                const uint64_t *u = d->bits + i * d->words;
                uint64_t any = 0;
                for (size_t q = 0; q < d->words; q++) any |= u[q];
                if (!any) nr = ni = 0.0;
            }
            st[Y_RE][i] = nr, st[Y_IM][i] = ni;
            const double mod = hypot(nr, ni);
            st[AMP][i] = mod * c->norm;
            /* the lab-frame bottom-up phase: arg y plus the age of a spike on arrival */
            const double lr = nr * c->lag_re - ni * c->lag_im, li = nr * c->lag_im + ni * c->lag_re;
            const double th = st[THETA][i];
            const int cached = th == d->thc[i];
            const double si = cached ? d->sn[i] : sin(th), ci = cached ? d->cs[i] : cos(th);
            double pull_s = 0.0;
            if (mod > NS_S2_MIN_PHASOR) { /* below it the spikes cancel (or the window is empty): no phase */
                st[THETA_S][i] = ns_phase_wrap(atan2(li, lr));
                pull_s = (li * ci - lr * si) / mod; /* sin(theta_s - theta) */
            }
            double dth = st[OMEGA_I][i] - g * ns_phase_pull(Sg, Cg, si, ci) + p->eta * pull_s;
            if (S) {
                dth += p->kappa * ns_phase_pull(S[i], C[i], si, ci);
                S[i] = C[i] = 0.0;
            }
            const double nth = ns_phase_wrap(th + dt * dth);
            st[THETA][i] = nth;
            d->thc[i] = nth, d->sn[i] = sin(nth), d->cs[i] = cos(nth);
            st[SYNOPS][i] += st[AMP][i] > 0.0 ? st[OPS_ACTIVE][i] : 0.0;
            if (os) {
                os[i] = st[AMP][i] * d->sn[i];
                oc[i] = st[AMP][i] * d->cs[i];
            }
        }
        if (a->barrier) a->barrier(a->barrier_ctx); /* every unit's new phase is in place */
    }
    /* the window's operations, by block (the same sums for any thread count) */
    for (size_t b = b_lo; b < b_hi && b < d->nb; b++) {
        const size_t lo = b * BLOCK, hi = lo + BLOCK < d->n ? lo + BLOCK : d->n;
        double o = 0.0;
        for (size_t i = lo; i < hi; i++) o += st[SYNOPS][i];
        d->ops[b] = o;
    }
    if (a->lo == 0 && (a->hi > 0 || !a->barrier)) d->steps += a->nsteps;
    if (a->barrier) a->barrier(a->barrier_ctx); /* the next window writes what these sums read */
    return failed ? NS_STEP_FAILED : 0;
}

static const ns_in_port s2_inputs[] = {
    {"spikes", "1", NS_PORT_EVENT, 0, NULL, 1},         /* its own neuron's spikes, weight 1 (a spike: > 0) */
    {"phase", "1", NS_PORT_CONTINUOUS, 0, NULL, 2},     /* sum_j w_ij (a_j sin, a_j cos) theta_j(t - tau_ij) */
};
static const ns_out_port s2_outputs[] = {{"phase", "1", NS_OUT_GRADED, 2, "sin,cos"}}; /* (a sin, a cos) theta */

const ns_model ns_model_s2net_phase = {
    .version = NS_MODEL_VERSION,
    .name = "s2net_phase",
    .doc = "S2-Net phase unit: bottom-up phasor of its neuron's spikes over K steps, delayed Kuramoto coordination "
           "with a global desynchroniser; sends (a sin theta, a cos theta); the formulation is ours (docs/guide.md)",
    .kind = NS_KIND_CONTINUOUS,
    .state = s2_state,
    .n_state = N_STATE,
    .params = s2_param_table,
    .n_params = (int)(sizeof s2_param_table / sizeof s2_param_table[0]),
    .params_size = sizeof(s2_params),
    .consts_size = sizeof(s2_consts),
    .inputs = s2_inputs,
    .n_inputs = 2,
    .outputs = s2_outputs,
    .n_outputs = 1,
    .whole = 1,
    .team = 1,
    .init = s2_init,
    .init_state = s2_init_state,
    .step = s2_step,
    .data_create = s2_data_create,
    .data_free = s2_data_free,
    .data_stats = s2_data_stats,
    .state_size = s2_state_size,
    .state_save = s2_state_save,
    .state_load = s2_state_load,
};
