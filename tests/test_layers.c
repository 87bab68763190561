/* tests/test_layers.c — train/'s layers against central finite differences in double precision:
 * each float32 backward (neuron layers through time, Linear, readouts, cross-entropy) against the
 * derivative of a double reference built from neuron_eq.h's double equations; LSE's bounds and
 * limit, closed-form single steps, the surrogates against their primitives, spike ranges; the
 * event-driven Linear against the dense one, fed by lists of ones built from 0/1 arrays or drawn
 * straight from the Bernoulli encoder. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/neuron_eq.h"
#include "tests/harness.h"
#include "train/encode.h"
#include "train/layers.h"
#include "train/tensor.h"

#define FD_H 1e-5
#define GRAD_TOL 1e-3

static ns_xoshiro rng;

static double urand(double lo, double hi)
{
    return lo + (hi - lo) * ns_xoshiro_uniform(&rng);
}

/* Largest |g - fd| relative to |fd|, with relative errors of entries far below the largest
 * (|fd| < 1% of max |fd|) measured against that 1%; an all-zero fd needs g = 0 to 1e-9. */
static double grad_err(const double *g, const double *fd, int n)
{
    double big = 0, worst = 0;
    for (int k = 0; k < n; k++) big = fmax(big, fabs(fd[k]));
    if (big < 1e-12) {
        for (int k = 0; k < n; k++) worst = fmax(worst, fabs(g[k]));
        return worst < 1e-9 ? 0 : INFINITY;
    }
    for (int k = 0; k < n; k++) {
        double e = fabs(g[k] - fd[k]) / fmax(fabs(fd[k]), 1e-2 * big);
        worst = isnan(e) ? INFINITY : fmax(worst, e);
    }
    return worst;
}

#define CHECK_GRAD(name, g, fd, n)                                                            \
    do {                                                                                      \
        double e_ = grad_err(g, fd, n);                                                       \
        NS_CHECK(e_ < GRAD_TOL, "%s: relative error %.3g", name, e_);                         \
    } while (0)

/* ---- the surrogates' primitives: d/dx of each is the surrogate (checked below) ---- */

static double surr_primitive(ns_surrogate_kind kind, double x, double p)
{
    switch (kind) {
    case NS_SURR_FAST_SIGMOID: return x / (1 + p * fabs(x));
    case NS_SURR_ATAN: return atan(M_PI * p * x / 2) / M_PI;
    case NS_SURR_SIGMOID: return ns_eq_sigmoid(p * x);
    case NS_SURR_TRIANGLE:
        if (x <= -1) return -p / 2;
        if (x >= 1) return p / 2;
        return p * (x - x * fabs(x) / 2);
    default: return 0;
    }
}

/* ---- a double reference of every neuron layer ---- */

typedef struct {
    ns_neuron_opts o;
    double rho;
    int n_decay;
    double decay[16];
    int smooth; /* lif: output the surrogate's primitive instead of H (the reset stays H) */
} ref_cfg;

static double ref_decay(const ref_cfg *c, int h)
{
    double p = c->n_decay ? c->decay[c->n_decay > 1 ? h : 0] : 0;
    switch (c->o.kind) {
    case NS_NEURON_LIF: return c->n_decay ? fmin(fmax(p, 0), 1) : c->o.beta;
    case NS_NEURON_ULTRALIF: return log((double)c->o.tau);
    case NS_NEURON_ULTRAPLIF: return c->o.tau_clamp ? ns_eq_ln_tau_clamp(p, NULL) : p;
    case NS_NEURON_ULTRADLIF: return c->o.definition == NS_ULTRA_LIBRARY ? (double)c->o.tau : 1;
    case NS_NEURON_ULTRADPLIF:
        if (c->o.definition == NS_ULTRA_LIBRARY) return ns_eq_tau_from_raw(p, c->o.tau_clamp, NULL);
        return c->o.tau_clamp ? ns_eq_tau_from_ln(p, NULL) : exp(p);
    default: return 0;
    }
}

/* sum of w * s over [T][B][H]; s_out (nullable) gets s, margin (nullable) min |U - theta| (lif). */
static double ref_loss(const ref_cfg *c, int T, int B, const double *I, const double *w,
                       double *s_out, double *margin)
{
    int H = c->o.units, n = B * H, sub = c->o.reset == NS_RESET_SUBTRACT;
    double theta = c->o.theta, eps = ns_eq_eps_from_rho(c->rho, NULL), loss = 0;
    double *V = calloc((size_t)n, sizeof *V), *Vp = calloc((size_t)n, sizeof *Vp);
    double *syn = calloc((size_t)n, sizeof *syn); /* lif's synaptic current, when syn_alpha > 0 */
    if (margin) *margin = INFINITY;
    for (int t = 0; t < T; t++) {
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++) {
                int i = b * H + h, k = t * n + i;
                double dec = ref_decay(c, h), s = 0, u;
                switch (c->o.kind) {
                case NS_NEURON_LIF:
                    syn[i] = c->o.syn_alpha * syn[i] + I[k];
                    V[i] = ns_eq_lif_step(V[i], c->o.syn_alpha > 0 ? syn[i] : I[k], dec, theta, sub, &u, &s);
                    if (c->smooth) s = surr_primitive(c->o.surrogate, u - theta, c->o.surrogate_param);
                    if (margin) *margin = fmin(*margin, fabs(u - theta));
                    break;
                case NS_NEURON_ULTRALIF:
                case NS_NEURON_ULTRAPLIF:
                    V[i] = ns_eq_ultralif_step(V[i], I[k], dec, eps, theta, &u, &s);
                    break;
                default: {
                    const double *v = V + b * H;
                    int l = h ? h - 1 : H - 1, r = h + 1 < H ? h + 1 : 0;
                    if (c->o.definition == NS_ULTRA_LIBRARY) Vp[i] = dec * v[h] + I[k]; /* W */
                    else Vp[i] = ns_eq_ultradlif_pre(v[l], v[h], v[r], I[k], dec, eps, NULL, NULL);
                    continue; /* spikes after the whole row, from the old V */
                }
                }
                loss += w[k] * s;
                if (s_out) s_out[k] = s;
            }
        if (c->o.kind == NS_NEURON_ULTRADLIF || c->o.kind == NS_NEURON_ULTRADPLIF)
            for (int i = 0; i < n; i++) {
                double s;
                if (c->o.definition == NS_ULTRA_LIBRARY) { /* the ring's LSE of W inside the spike */
                    const double *w = Vp + (i / H) * H;
                    int h = i % H, l = h ? h - 1 : H - 1, r = h + 1 < H ? h + 1 : 0;
                    V[i] = ns_eq_ring_spike(Vp[i], ns_eq_lse3(w[l], w[h], w[r], eps, NULL, NULL), theta, eps, &s);
                } else {
                    V[i] = ns_eq_soft_spike(Vp[i], theta, eps, &s);
                }
                loss += w[t * n + i] * s;
                if (s_out) s_out[t * n + i] = s;
            }
    }
    free(V);
    free(Vp);
    free(syn);
    return loss;
}

/* Check one layer's forward against the reference and its backward against finite differences
 * w.r.t. the input and every learned parameter. Values are drawn to be float-exact. */
static void check_layer(const char *label, ns_neuron_opts o, int T, int B, double ilo, double ihi,
                        double rho, const double *decay)
{
    int H = o.units, n = T * B * H;
    ns_neuron_layer *L = ns_neuron_layer_create(&o);
    NS_CHECK(L != NULL, "%s: create", label);
    if (!L) return;
    ref_cfg c = {.o = o, .rho = (float)rho, .smooth = 1};
    ns_train_param prm[NS_NEURON_MAX_PARAMS];
    int np = ns_neuron_layer_params(L, prm);
    for (int k = 0; k < np; k++) {
        if (strcmp(prm[k].name, "rho") == 0) {
            prm[k].value[0] = (float)rho;
        } else {
            c.n_decay = (int)prm[k].n;
            for (int j = 0; j < c.n_decay; j++) prm[k].value[j] = (float)decay[j];
            for (int j = 0; j < c.n_decay; j++) c.decay[j] = prm[k].value[j];
        }
    }
    if (o.kind != NS_NEURON_LIF && !o.learn_eps) c.rho = log((double)o.eps);

    double *I = malloc((size_t)n * sizeof *I), *w = malloc((size_t)n * sizeof *w);
    double *s_ref = malloc((size_t)n * sizeof *s_ref), *g = malloc((size_t)n * sizeof *g);
    double *fd = malloc((size_t)n * sizeof *fd);
    float *If = malloc((size_t)n * sizeof *If), *sf = malloc((size_t)n * sizeof *sf);
    float *dsf = malloc((size_t)n * sizeof *dsf), *dIf = malloc((size_t)n * sizeof *dIf);
    /* inputs; for lif, redraw until no membrane sits within 1e-3 of threshold (no flips under
     * the finite-difference step) */
    for (int attempt = 0; attempt < 200; attempt++) {
        for (int k = 0; k < n; k++) I[k] = If[k] = (float)urand(ilo, ihi);
        for (int k = 0; k < n; k++) w[k] = dsf[k] = (float)urand(-1, 1);
        double margin;
        c.smooth = 0;
        ref_loss(&c, T, B, I, w, s_ref, &margin);
        c.smooth = 1;
        if (o.kind != NS_NEURON_LIF || margin > 1e-3) break;
    }

    /* forward: the same model as the double reference */
    NS_CHECK(ns_neuron_layer_forward(L, T, B, If, sf) == 0, "%s: forward", label);
    double worst = 0;
    for (int k = 0; k < n; k++) worst = fmax(worst, fabs(sf[k] - s_ref[k]));
    NS_CHECK(worst < 2e-5, "%s: forward differs from the double reference by %.3g", label, worst);

    /* backward w.r.t. the input */
    ns_neuron_layer_zero_grad(L);
    NS_CHECK(ns_neuron_layer_backward(L, T, B, dsf, dIf) == 0, "%s: backward", label);
    for (int k = 0; k < n; k++) {
        double keep = I[k];
        I[k] = keep + FD_H;
        double lp = ref_loss(&c, T, B, I, w, NULL, NULL);
        I[k] = keep - FD_H;
        double lm = ref_loss(&c, T, B, I, w, NULL, NULL);
        I[k] = keep;
        fd[k] = (lp - lm) / (2 * FD_H);
        g[k] = dIf[k];
    }
    char name[160];
    snprintf(name, sizeof name, "%s dL/dI", label);
    CHECK_GRAD(name, g, fd, n);

    /* backward w.r.t. the parameters */
    for (int k = 0; k < np; k++) {
        int isrho = strcmp(prm[k].name, "rho") == 0, m = (int)prm[k].n;
        double pg[16], pfd[16];
        for (int j = 0; j < m; j++) {
            double *p = isrho ? &c.rho : &c.decay[j], keep = *p;
            *p = keep + FD_H;
            double lp = ref_loss(&c, T, B, I, w, NULL, NULL);
            *p = keep - FD_H;
            double lm = ref_loss(&c, T, B, I, w, NULL, NULL);
            *p = keep;
            pfd[j] = (lp - lm) / (2 * FD_H);
            pg[j] = prm[k].grad[j];
        }
        snprintf(name, sizeof name, "%s dL/d%s", label, prm[k].name);
        CHECK_GRAD(name, pg, pfd, m);
    }
    /* the gradients accumulate until zero_grad */
    if (np) {
        float first = prm[0].grad[0];
        ns_neuron_layer_backward(L, T, B, dsf, dIf);
        NS_CHECK_REL(prm[0].grad[0], 2 * first, 1e-6);
    }
    /* in place: s may be I, dI may be ds */
    float *buf = malloc((size_t)n * sizeof *buf);
    memcpy(buf, If, (size_t)n * sizeof *buf);
    ns_neuron_layer_forward(L, T, B, buf, buf);
    NS_CHECK(memcmp(buf, sf, (size_t)n * sizeof *buf) == 0, "%s: forward in place", label);
    memcpy(buf, dsf, (size_t)n * sizeof *buf);
    ns_neuron_layer_backward(L, T, B, buf, buf);
    NS_CHECK(memcmp(buf, dIf, (size_t)n * sizeof *buf) == 0, "%s: backward in place", label);
    free(buf);
    free(I), free(w), free(s_ref), free(g), free(fd), free(If), free(sf), free(dsf), free(dIf);
    ns_neuron_layer_free(L);
}

static void test_neuron_layers(void)
{
    const int T = 6, B = 2;
    double dec[16];
    for (int sk = 0; sk < NS_SURR_COUNT; sk++)
        for (int reset = 0; reset < 2; reset++) {
            ns_neuron_opts o = ns_neuron_opts_default(NS_NEURON_LIF, 4);
            o.surrogate = (ns_surrogate_kind)sk;
            o.surrogate_param = sk == NS_SURR_TRIANGLE ? 1.0f : sk == NS_SURR_ATAN ? 2.0f : 5.0f;
            o.reset = reset ? NS_RESET_SUBTRACT : NS_RESET_ZERO;
            char label[96];
            snprintf(label, sizeof label, "lif/%s/%s", ns_surrogate_name(o.surrogate),
                     reset ? "subtract" : "zero");
            check_layer(label, o, T, B, -0.3, 1.1, 0, NULL);
            o.learn_beta = 1; /* per neuron */
            for (int h = 0; h < 4; h++) dec[h] = urand(0.6, 0.95);
            strcat(label, "/beta per neuron");
            check_layer(label, o, T, B, -0.3, 1.1, 0, dec);
        }
    ns_neuron_opts o = ns_neuron_opts_default(NS_NEURON_LIF, 3);
    o.learn_beta = 1;
    o.per_neuron = 0;
    dec[0] = 0.8;
    check_layer("lif/atan/beta per layer", o, T, B, -0.3, 1.1, 0, dec);
    /* a synaptic current (syn = alpha syn + I) in front, with beta fixed and learned */
    o = ns_neuron_opts_default(NS_NEURON_LIF, 4);
    o.syn_alpha = 0.8f;
    check_layer("lif/atan/syn 0.8", o, T, B, -0.3, 0.6, 0, NULL);
    o.surrogate = NS_SURR_FAST_SIGMOID;
    o.surrogate_param = 5.0f;
    o.reset = NS_RESET_SUBTRACT;
    o.learn_beta = 1;
    for (int h = 0; h < 4; h++) dec[h] = urand(0.6, 0.95);
    check_layer("lif/fast_sigmoid/subtract/syn 0.8/beta per neuron", o, T, B, -0.3, 0.6, 0, dec);

    { /* the library's definitions (the default), then (below) the ablation's */
        o = ns_neuron_opts_default(NS_NEURON_ULTRALIF, 4);
        check_layer("ultralif library", o, T, B, -2, 2, 0, NULL);
        o = ns_neuron_opts_default(NS_NEURON_ULTRAPLIF, 5);
        double ltl[5] = {-0.5, -0.105, -3.0 /* not clamped */, -1.0, 0.02 /* nor this */};
        check_layer("ultraplif library (one ln tau per layer)", o, T, B, -2, 2, 0.3, ltl);
        o.per_neuron = 1;
        check_layer("ultraplif library, ln tau per neuron", o, T, B, -2, 2, 0.3, ltl);
        o.tau_clamp = 1;
        check_layer("ultraplif library, ln tau per neuron, clamped", o, T, B, -2, 2, 0.3, ltl);
        int hl[3] = {5, 2, 1};
        for (int k = 0; k < 3; k++) {
            o = ns_neuron_opts_default(NS_NEURON_ULTRADLIF, hl[k]);
            char label[64];
            snprintf(label, sizeof label, "ultradlif library H=%d", hl[k]);
            check_layer(label, o, T, B, -1.5, 1.5, 0.2, NULL);
        }
        o = ns_neuron_opts_default(NS_NEURON_ULTRADPLIF, 5);
        double raw[5] = {0.9};
        check_layer("ultradplif library (tau_raw per layer)", o, T, B, -1.5, 1.5, -0.3, raw);
        o.per_neuron = 1;
        double rawn[5] = {0.9, -1.0, 3.0 /* sigmoid 0.953 */, 0.1, -2.5 /* sigmoid 0.076 */};
        check_layer("ultradplif library, tau_raw per neuron", o, T, B, -1.5, 1.5, -0.3, rawn);
        o.tau_clamp = 1;
        check_layer("ultradplif library, tau_raw per neuron, clamped", o, T, B, -1.5, 1.5, -0.3, rawn);
    }

    o = ns_neuron_opts_ultra(NS_NEURON_ULTRALIF, 4, NS_ULTRA_ABLATION);
    check_layer("ultralif", o, T, B, -1, 3, 0, NULL);
    check_layer("ultralif eps 0.4", o, T, B, -1, 3, log(0.4), NULL);
    check_layer("ultralif eps clamped (30)", o, T, B, -1, 3, log(30), NULL);
    o.learn_eps = 0;
    o.eps = 0.5f;
    check_layer("ultralif fixed eps", o, T, B, -1, 3, 0, NULL);

    o = ns_neuron_opts_ultra(NS_NEURON_ULTRAPLIF, 5, NS_ULTRA_ABLATION);
    o.per_neuron = 1;
    double lt[5] = {-0.5, -0.105, -3.0 /* clamped */, -1.0, -0.02};
    check_layer("ultraplif", o, T, B, -1, 3, 0.3, lt);
    o.per_neuron = 0;
    check_layer("ultraplif ln tau per layer", o, T, B, -1, 3, -0.2, lt);

    int hs[3] = {5, 2, 1};
    for (int k = 0; k < 3; k++) {
        o = ns_neuron_opts_ultra(NS_NEURON_ULTRADLIF, hs[k], NS_ULTRA_ABLATION);
        char label[64];
        snprintf(label, sizeof label, "ultradlif H=%d", hs[k]);
        check_layer(label, o, T, B, -2, 1, 0.2, NULL);
    }
    o = ns_neuron_opts_ultra(NS_NEURON_ULTRADPLIF, 5, NS_ULTRA_ABLATION);
    o.per_neuron = 1;
    double ltd[5] = {log(0.9), log(0.5), log(0.995) /* clamped */, log(0.7), log(0.3)};
    check_layer("ultradplif", o, T, B, -2, 1, -0.3, ltd);
}

/* ---- spike ranges ---- */

static void test_spike_values(void)
{
    enum { T = 8, B = 4, H = 16, N = T * B * H };
    static float I[N], s[N];
    for (int k = 0; k < N; k++) I[k] = (float)urand(-0.5, 1.5);

    ns_neuron_opts o = ns_neuron_opts_default(NS_NEURON_LIF, H);
    ns_neuron_layer *L = ns_neuron_layer_create(&o);
    ns_neuron_layer_forward(L, T, B, I, s);
    int ones = 0, bad = 0;
    for (int k = 0; k < N; k++) {
        bad += !(s[k] == 0.0f || s[k] == 1.0f);
        ones += s[k] == 1.0f;
    }
    NS_CHECK(bad == 0, "lif spikes are exact Heavisides: %d values not 0 or 1", bad);
    NS_CHECK(ones > 0 && ones < N, "lif: %d spikes of %d", ones, N);
    ns_neuron_layer_free(L);

    for (int kind = NS_NEURON_ULTRALIF; kind < NS_NEURON_COUNT; kind++) {
        o = ns_neuron_opts_default((ns_neuron_kind)kind, H);
        L = ns_neuron_layer_create(&o);
        ns_neuron_layer_forward(L, T, B, I, s);
        int out = 0, mid = 0;
        for (int k = 0; k < N; k++) {
            out += !(s[k] > 0 && s[k] < 1);
            mid += s[k] > 0.05f && s[k] < 0.95f;
        }
        NS_CHECK(out == 0, "%s: %d spikes outside (0, 1)", ns_neuron_kind_name(o.kind), out);
        NS_CHECK(mid > N / 4, "%s: only %d real-valued spikes in (0.05, 0.95)",
                 ns_neuron_kind_name(o.kind), mid);
        ns_neuron_layer_free(L);
    }
}

/* ---- the elementwise equations ---- */

static void test_lse(void)
{
    for (int rep = 0; rep < 200; rep++) {
        double a = urand(-5, 5), b = urand(-5, 5), c = urand(-5, 5), eps = urand(0.05, 5);
        double m2 = fmax(a, b), m3 = fmax(m2, c);
        double l2 = ns_eq_lse2(a, b, eps), l3 = ns_eq_lse3(a, b, c, eps, NULL, NULL);
        NS_CHECK(m2 <= l2 && l2 <= m2 + eps * log(2) + 1e-12, "lse2 bounds %g %g %g", a, b, eps);
        NS_CHECK(m3 <= l3 && l3 <= m3 + eps * log(3) + 1e-12, "lse3 bounds %g %g %g %g", a, b, c,
                 eps);
        NS_CHECK_REL(l2, eps * log(exp(a / eps) + exp(b / eps)), 1e-12);
        NS_CHECK_REL(l3, eps * log(exp(a / eps) + exp(b / eps) + exp(c / eps)), 1e-12);
    }
    /* equal arguments: the upper bound is reached */
    NS_CHECK_REL(ns_eq_lse2(0.7, 0.7, 0.3), 0.7 + 0.3 * log(2), 1e-14);
    NS_CHECK_REL(ns_eq_lse3(-0.2, -0.2, -0.2, 2, NULL, NULL), -0.2 + 2 * log(3), 1e-14);
    /* the tropical limit eps -> 0 */
    double prev = INFINITY;
    for (double eps = 1; eps >= 1e-6; eps /= 10) {
        double gap = ns_eq_lse3(0.3, 0.3 - 0.01, -1, eps, NULL, NULL) - 0.3;
        NS_CHECK(gap <= prev && gap <= eps * log(3), "lse3 - max = %g at eps %g", gap, eps);
        prev = gap;
    }
    NS_CHECK_ABS(ns_eq_lse2(2.5, 2.4, 1e-6), 2.5, 1e-12);
    NS_CHECK_ABS(ns_eq_lse3(0.3, 0.29, -1, 1e-6, NULL, NULL), 0.3, 1e-12);
    /* no overflow in float at wide spreads and the smallest eps */
    NS_CHECK_REL(ns_eq_lse2f(1e4f, -1e4f, 0.1f), 1e4f, 1e-7);
    NS_CHECK_REL(ns_eq_lse3f(-1e4f, 50.0f, 1e4f, 0.1f, NULL, NULL), 1e4f, 1e-7);

    /* partials against finite differences */
    for (int rep = 0; rep < 20; rep++) {
        double a = urand(-3, 3), b = urand(-3, 3), c = urand(-3, 3), eps = urand(0.1, 3), h = 1e-6;
        double g[4], fd[4], p[3], pe;
        ns_eq_lse2_grad(a, b, eps, &g[0], &g[1], &g[2]);
        fd[0] = (ns_eq_lse2(a + h, b, eps) - ns_eq_lse2(a - h, b, eps)) / (2 * h);
        fd[1] = (ns_eq_lse2(a, b + h, eps) - ns_eq_lse2(a, b - h, eps)) / (2 * h);
        fd[2] = (ns_eq_lse2(a, b, eps + h) - ns_eq_lse2(a, b, eps - h)) / (2 * h);
        CHECK_GRAD("lse2 partials", g, fd, 3);
        ns_eq_lse3(a, b, c, eps, p, &pe);
        double x[4] = {a, b, c, eps};
        for (int k = 0; k < 4; k++) {
            double xp[4], xm[4];
            memcpy(xp, x, sizeof x);
            memcpy(xm, x, sizeof x);
            xp[k] += h;
            xm[k] -= h;
            fd[k] = (ns_eq_lse3(xp[0], xp[1], xp[2], xp[3], NULL, NULL) -
                     ns_eq_lse3(xm[0], xm[1], xm[2], xm[3], NULL, NULL)) /
                    (2 * h);
            g[k] = k < 3 ? p[k] : pe;
        }
        CHECK_GRAD("lse3 partials", g, fd, 4);
    }
    /* the sigmoid form of dLSE/da, far into the tails */
    double da, db, de;
    ns_eq_lse2_grad(40, 0, 1, &da, &db, &de);
    NS_CHECK_REL(db, exp(-40) / (1 + exp(-40)), 1e-12);
    NS_CHECK(isfinite(de) && de > 0, "lse2 deps in the tail: %g", de);
}

/* F = gs s + gvn V_new of one step, for finite differences of the per-step partials. */
static double ultralif_F(double v, double i, double lt, double eps, double gs, double gvn)
{
    double vp, s, vn = ns_eq_ultralif_step(v, i, lt, eps, 1, &vp, &s);
    return gs * s + gvn * vn;
}

static void test_step_equations(void)
{
    /* closed forms: one UltraLIF step from rest with no input, tau 0.9, eps 1:
     * V' = ln(0.9 + 1), s = sigmoid(V' - 1); and one UltraDLIF step from rest: V' = eps ln 3 + I */
    double vp, s, vn = ns_eq_ultralif_step(0, 0, log(0.9), 1, 1, &vp, &s);
    NS_CHECK_REL(vp, log(1.9), 1e-14);
    NS_CHECK_REL(s, 1 / (1 + exp(1 - log(1.9))), 1e-14);
    NS_CHECK_REL(vn, log(1.9) * (1 - s), 1e-14);
    NS_CHECK_REL(ns_eq_ultradlif_pre(0, 0, 0, 0.25, 0.9, 0.5, NULL, NULL), 0.5 * log(3) + 0.25,
                 1e-14);
    /* the float instantiation is the same equation */
    float vpf, sf;
    float vnf = ns_eq_ultralif_stepf(0.3f, 1.7f, logf(0.9f), 0.7f, 1, &vpf, &sf);
    double vn2 = ns_eq_ultralif_step(0.3f, 1.7f, logf(0.9f), 0.7f, 1, &vp, &s);
    NS_CHECK_REL(vnf, vn2, 1e-6);
    NS_CHECK_REL(sf, s, 1e-6);
    /* LIF: U = beta V + I, exact spike, both resets */
    double u, sp;
    NS_CHECK_REL(ns_eq_lif_step(0.5, 0.7, 0.9, 1, 0, &u, &sp), 0.0, 1e-15);
    NS_CHECK(sp == 1 && fabs(u - 1.15) < 1e-15, "lif step u %g s %g", u, sp);
    NS_CHECK_REL(ns_eq_lif_step(0.5, 0.7, 0.9, 1, 1, &u, &sp), 0.15, 1e-13);
    NS_CHECK_REL(ns_eq_lif_step(0.5, 0.5, 0.9, 1, 0, &u, &sp), 0.95, 1e-15);
    NS_CHECK(sp == 0, "lif below threshold spikes");
    NS_CHECK(ns_eq_lif_step(0, 1, 0.9, 1, 0, &u, &sp) == 1 && sp == 0, "U = theta is no spike");

    /* the UltraLIF step's vector-Jacobian product against finite differences */
    for (int rep = 0; rep < 30; rep++) {
        double v = urand(-0.5, 1.5), i = urand(-2, 3), lt = urand(-2.3, -0.01),
               eps = urand(0.1, 3), gs = urand(-1, 1), gvn = urand(-1, 1), h = 1e-6;
        double g[4], fd[4], ge = 0;
        ns_eq_ultralif_step(v, i, lt, eps, 1, &vp, &s);
        ns_eq_ultralif_vjp((v + lt - i) / eps, vp, 1, eps, gs, gvn, &g[0], &g[1], &g[2], &ge);
        g[3] = ge;
        fd[0] = (ultralif_F(v + h, i, lt, eps, gs, gvn) - ultralif_F(v - h, i, lt, eps, gs, gvn)) /
                (2 * h);
        fd[1] = (ultralif_F(v, i + h, lt, eps, gs, gvn) - ultralif_F(v, i - h, lt, eps, gs, gvn)) /
                (2 * h);
        fd[2] = (ultralif_F(v, i, lt + h, eps, gs, gvn) - ultralif_F(v, i, lt - h, eps, gs, gvn)) /
                (2 * h);
        fd[3] = (ultralif_F(v, i, lt, eps + h, gs, gvn) - ultralif_F(v, i, lt, eps - h, gs, gvn)) /
                (2 * h);
        CHECK_GRAD("ultralif step vjp", g, fd, 4);
    }
    /* MODELS.md's closed-form partials of the spike and reset */
    {
        double vq = 1.3, eps = 0.7, h = 1e-6, ge = 0, sv, sc;
        ns_eq_sigmoid2((vq - 1) / eps, &sv, &sc);
        double dvn = ns_eq_soft_spike_vjp(vq, 1, eps, 0, 1, &ge); /* dV_new/dV', dV_new/deps */
        NS_CHECK_REL(dvn, (1 - sv) - vq * sv * (1 - sv) / eps, 1e-12);
        NS_CHECK_REL(ge, vq * sv * (1 - sv) * (vq - 1) / (eps * eps), 1e-12);
        ge = 0;
        double dsv = ns_eq_soft_spike_vjp(vq, 1, eps, 1, 0, &ge); /* ds/dV', ds/deps */
        NS_CHECK_REL(dsv, sv * (1 - sv) / eps, 1e-12);
        NS_CHECK_REL(ge, -sv * (1 - sv) * (vq - 1) / (eps * eps), 1e-12);
        double sp1, sm1;
        ns_eq_soft_spike(vq + h, 1, eps, &sp1);
        ns_eq_soft_spike(vq - h, 1, eps, &sm1);
        NS_CHECK_REL((sp1 - sm1) / (2 * h), dsv, 1e-8);
    }
    /* eps = clamp(exp(rho), 0.1, 20) and its derivative */
    double d;
    NS_CHECK_REL(ns_eq_eps_from_rho(0.5, &d), exp(0.5), 1e-15);
    NS_CHECK_REL(d, exp(0.5), 1e-15);
    NS_CHECK(ns_eq_eps_from_rho(log(30), &d) == 20 && d == 0, "eps clamps at 20");
    NS_CHECK(fabs(ns_eq_eps_from_rho(-5, &d) - 0.1) < 1e-15 && d == 0, "eps clamps at 0.1");
}

static void test_surrogates(void)
{
    /* each surrogate is the derivative of its primitive */
    const double params[NS_SURR_COUNT] = {25, 2, 25, 1};
    for (int k = 0; k < NS_SURR_COUNT; k++) {
        double g[9], fd[9], p = params[k], h = 1e-7;
        for (int j = 0; j < 9; j++) {
            double x = -1.7 + 0.41 * j; /* avoids the triangle's kinks at 0, +-1 */
            g[j] = ns_eq_surrogate((ns_surrogate_kind)k, x, p);
            fd[j] = (surr_primitive((ns_surrogate_kind)k, x + h, p) -
                     surr_primitive((ns_surrogate_kind)k, x - h, p)) /
                    (2 * h);
            NS_CHECK_REL(ns_eq_surrogatef((ns_surrogate_kind)k, (float)x, (float)p),
                         ns_eq_surrogate((ns_surrogate_kind)k, (float)x, (float)p), 1e-5);
        }
        char name[64];
        snprintf(name, sizeof name, "surrogate %s = d primitive/dx",
                 ns_surrogate_name((ns_surrogate_kind)k));
        CHECK_GRAD(name, g, fd, 9);
    }
    /* scale conventions: peak values at x = 0 */
    NS_CHECK_REL(ns_eq_surr_fast_sigmoid(0, 25), 1, 1e-15);
    NS_CHECK_REL(ns_eq_surr_atan(0, 2), 1, 1e-15); /* alpha/2 */
    NS_CHECK_REL(ns_eq_surr_sigmoid(0, 25), 25.0 / 4, 1e-15);
    NS_CHECK_REL(ns_eq_surr_triangle(0, 0.3), 0.3, 1e-15);
    NS_CHECK(ns_eq_surr_triangle(1.5, 1) == 0, "triangle support is |x| < 1");
    NS_CHECK_REL(ns_eq_surr_fast_sigmoid(-0.2, 100), 1 / 441.0, 1e-14); /* SpyTorch scale 100 */
    NS_CHECK(isfinite(ns_eq_surr_sigmoidf(-10.0f, 25.0f)) && ns_eq_surr_sigmoidf(-10.0f, 25.0f) >= 0,
             "sigmoid surrogate underflows gracefully");
    /* names */
    for (int k = 0; k < NS_SURR_COUNT; k++) {
        ns_surrogate_kind back;
        NS_CHECK(ns_surrogate_from_name(ns_surrogate_name((ns_surrogate_kind)k), &back) == 0 &&
                     back == (ns_surrogate_kind)k,
                 "surrogate name round trip %d", k);
    }
    for (int k = 0; k < NS_NEURON_COUNT; k++) {
        ns_neuron_kind back;
        NS_CHECK(ns_neuron_kind_from_name(ns_neuron_kind_name((ns_neuron_kind)k), &back) == 0 &&
                     back == (ns_neuron_kind)k,
                 "neuron name round trip %d", k);
    }
    ns_surrogate_kind sk;
    NS_CHECK(ns_surrogate_from_name("heaviside", &sk) == -1, "unknown surrogate refused");
    NS_CHECK(ns_surrogate_default(NS_SURR_FAST_SIGMOID) == 25 && ns_surrogate_default(NS_SURR_ATAN) == 2,
             "surrogate defaults");
}

/* ---- Linear ---- */

static void test_linear(void)
{
    enum { IN = 7, OUT = 5, N = 6 };
    ns_xoshiro r;
    ns_xoshiro_seed(&r, 7);
    ns_linear *l = ns_linear_create(IN, OUT, 1, &r);
    float x[N * IN], y[N * OUT], dy[N * OUT], dx[N * IN];
    double xd[N * IN], Wd[OUT * IN], bd[OUT], w[N * OUT];
    for (int k = 0; k < N * IN; k++) xd[k] = x[k] = (float)urand(-1, 1);
    for (int k = 0; k < N * OUT; k++) w[k] = dy[k] = (float)urand(-1, 1);
    for (int k = 0; k < OUT * IN; k++) Wd[k] = l->W->data[k];
    for (int k = 0; k < OUT; k++) bd[k] = l->b->data[k];

    ns_linear_forward(l, N, x, y);
    double worst = 0;
    for (int r_ = 0; r_ < N; r_++)
        for (int j = 0; j < OUT; j++) {
            double acc = bd[j];
            for (int k = 0; k < IN; k++) acc += xd[r_ * IN + k] * Wd[j * IN + k];
            worst = fmax(worst, fabs(acc - y[r_ * OUT + j]));
        }
    NS_CHECK(worst < 1e-6, "linear forward: y = x W^T + b off by %g", worst);

    ns_linear_zero_grad(l);
    ns_linear_backward(l, N, x, dy, dx);
    /* L = sum w y is linear in each of W, b, x: finite differences in double */
#define LIN_LOSS(expr_loss)                                                                    \
    do {                                                                                       \
        expr_loss = 0;                                                                         \
        for (int r2 = 0; r2 < N; r2++)                                                         \
            for (int j2 = 0; j2 < OUT; j2++) {                                                 \
                double a2 = bd[j2];                                                            \
                for (int k2 = 0; k2 < IN; k2++) a2 += xd[r2 * IN + k2] * Wd[j2 * IN + k2];     \
                expr_loss += w[r2 * OUT + j2] * a2;                                            \
            }                                                                                  \
    } while (0)
    double g[N * IN > OUT * IN ? N * IN : OUT * IN], fd[N * IN > OUT * IN ? N * IN : OUT * IN];
    struct {
        const char *name;
        double *v;
        int n;
        const float *grad;
    } parts[3] = {{"linear dL/dW", Wd, OUT * IN, l->dW->data},
                  {"linear dL/db", bd, OUT, l->db->data},
                  {"linear dL/dx", xd, N * IN, dx}};
    for (int p = 0; p < 3; p++) {
        for (int k = 0; k < parts[p].n; k++) {
            double keep = parts[p].v[k], lp, lm;
            parts[p].v[k] = keep + FD_H;
            LIN_LOSS(lp);
            parts[p].v[k] = keep - FD_H;
            LIN_LOSS(lm);
            parts[p].v[k] = keep;
            fd[k] = (lp - lm) / (2 * FD_H);
            g[k] = parts[p].grad[k];
        }
        CHECK_GRAD(parts[p].name, g, fd, parts[p].n);
    }
#undef LIN_LOSS
    /* dW, db accumulate; dx NULL is skipped */
    float dw0 = l->dW->data[3], db0 = l->db->data[2];
    ns_linear_backward(l, N, x, dy, NULL);
    NS_CHECK_REL(l->dW->data[3], 2 * dw0, 1e-6);
    NS_CHECK_REL(l->db->data[2], 2 * db0, 1e-6);
    ns_train_param prm[2];
    NS_CHECK(ns_linear_params(l, prm) == 2 && strcmp(prm[0].name, "weight") == 0 &&
                 prm[0].n == OUT * IN && prm[1].n == OUT,
             "linear params");
    ns_linear_free(l);

    /* PyTorch's default initialisation: U(-1/sqrt(in), 1/sqrt(in)) for W and b */
    ns_xoshiro_seed(&r, 42);
    ns_linear *big = ns_linear_create(784, 64, 1, &r);
    double bound = 1 / sqrt(784.0), sum = 0, sq = 0, mx = 0;
    size_t nw = big->W->size;
    for (size_t k = 0; k < nw; k++) {
        double v = big->W->data[k];
        sum += v;
        sq += v * v;
        mx = fmax(mx, fabs(v));
    }
    double mean = sum / (double)nw, var = sq / (double)nw - mean * mean;
    NS_CHECK(mx <= bound, "init: max |W| %g above 1/sqrt(784)", mx);
    NS_CHECK(mx > 0.99 * bound, "init: max |W| %g does not reach the bound", mx);
    NS_CHECK(fabs(mean) < 4 * bound / sqrt(3.0 * (double)nw), "init: mean %g", mean);
    NS_CHECK_REL(var, bound * bound / 3, 0.03);
    double bmax = 0;
    for (int k = 0; k < 64; k++) bmax = fmax(bmax, fabs(big->b->data[k]));
    NS_CHECK(bmax <= bound && bmax > 0.5 * bound, "init: bias range %g", bmax);
    ns_xoshiro_seed(&r, 42);
    ns_linear *again = ns_linear_create(784, 64, 1, &r);
    NS_CHECK(memcmp(big->W->data, again->W->data, nw * sizeof(float)) == 0,
             "same seed, same weights");
    ns_linear_free(big);
    ns_linear_free(again);
    ns_linear *nob = ns_linear_create(3, 2, 0, &r);
    NS_CHECK(nob && !nob->b && ns_linear_params(nob, prm) == 1, "linear without bias");
    ns_linear_free(nob);
    NS_CHECK(ns_linear_create(0, 2, 1, &r) == NULL, "linear with no inputs refused");
}

/* ---- readouts and losses ---- */

static double leaky_ref(int T, int n, double beta, double alpha, const double *y, const double *w)
{
    double loss = 0;
    for (int i = 0; i < n; i++) {
        double syn = 0, u = 0, best = -INFINITY;
        for (int t = 0; t < T; t++) {
            syn = alpha * syn + y[t * n + i];
            u = beta * u + syn;
            best = fmax(best, u);
        }
        loss += w[i] * best;
    }
    return loss;
}

static void test_readouts_losses(void)
{
    enum { T = 7, B = 2, O = 3, N = T * B * O };
    float yf[N], logits[B * O], dl[B * O], dy[N];
    double y[N], w[B * O], g[N], fd[N];
    int tmax[B * O];
    for (int k = 0; k < N; k++) y[k] = yf[k] = (float)urand(-1, 1);
    for (int k = 0; k < B * O; k++) w[k] = dl[k] = (float)urand(-1, 1);

    /* mean over time */
    ns_readout_mean_forward(T, B, O, yf, logits);
    double m0 = 0;
    for (int t = 0; t < T; t++) m0 += y[t * B * O + 4];
    NS_CHECK_REL(logits[4], m0 / T, 1e-6);
    ns_readout_mean_backward(T, B, O, dl, dy);
    for (int k = 0; k < N; k++) {
        g[k] = dy[k];
        fd[k] = w[k % (B * O)] / T; /* dL/dy of the linear map, exactly */
    }
    CHECK_GRAD("mean readout dL/dy", g, fd, N);

    /* leaky readout: closed form for a constant drive without filter */
    {
        float ones[T];
        int at;
        float lg;
        for (int t = 0; t < T; t++) ones[t] = 1;
        ns_readout_leaky_forward(T, 1, 1, 0.9f, 0, ones, &lg, &at);
        NS_CHECK_REL(lg, (1 - pow(0.9, T)) / (1 - 0.9), 1e-6);
        NS_CHECK(at == T - 1, "leaky readout max at the last step: %d", at);
    }
    double beta = 0.9, alpha = 0.6;
    ns_readout_leaky_forward(T, B, O, (float)beta, (float)alpha, yf, logits, tmax);
    ns_readout_leaky_backward(T, B, O, (float)beta, (float)alpha, tmax, dl, dy);
    for (int k = 0; k < N; k++) {
        double keep = y[k];
        y[k] = keep + FD_H;
        double lp = leaky_ref(T, B * O, beta, alpha, y, w);
        y[k] = keep - FD_H;
        double lm = leaky_ref(T, B * O, beta, alpha, y, w);
        y[k] = keep;
        fd[k] = (lp - lm) / (2 * FD_H);
        g[k] = dy[k];
    }
    CHECK_GRAD("leaky readout dL/dy", g, fd, N);

    /* cross-entropy */
    enum { CB = 3, C = 4 };
    float z[CB * C], dz[CB * C];
    double zd[CB * C], gz[CB * C], fz[CB * C];
    int labels[CB] = {2, 0, 3};
    for (int k = 0; k < CB * C; k++) zd[k] = z[k] = (float)urand(-3, 3);
    float loss = ns_loss_cross_entropy(CB, C, z, labels, dz);
    double ref = 0;
    for (int b = 0; b < CB; b++) {
        double s = 0;
        for (int k = 0; k < C; k++) s += exp(zd[b * C + k]);
        ref += log(s) - zd[b * C + labels[b]];
    }
    NS_CHECK_REL(loss, ref / CB, 1e-6);
    for (int k = 0; k < CB * C; k++) {
        double keep = zd[k], lp = 0, lm = 0;
        for (int side = 0; side < 2; side++) {
            zd[k] = keep + (side ? -FD_H : FD_H);
            double acc = 0;
            for (int b = 0; b < CB; b++) {
                double s = 0;
                for (int j = 0; j < C; j++) s += exp(zd[b * C + j]);
                acc += log(s) - zd[b * C + labels[b]];
            }
            *(side ? &lm : &lp) = acc / CB;
        }
        zd[k] = keep;
        fz[k] = (lp - lm) / (2 * FD_H);
        gz[k] = dz[k];
    }
    CHECK_GRAD("cross-entropy dL/dlogits", gz, fz, CB * C);
    float flat[C] = {0.5f, 0.5f, 0.5f, 0.5f};
    int lab0 = 1;
    NS_CHECK_REL(ns_loss_cross_entropy(1, C, flat, &lab0, NULL), log(4.0), 1e-6);
    float big[2] = {1e4f, -1e4f};
    NS_CHECK_ABS(ns_loss_cross_entropy(1, 2, big, &lab0, NULL), 2e4, 1);
    int badlab = 4;
    NS_CHECK(isnan(ns_loss_cross_entropy(1, C, flat, &badlab, NULL)), "label out of range: NAN");
    NS_CHECK(ns_count_correct(CB, C, z, labels) >= 0, "count_correct runs");
    float zc[4] = {0.1f, 0.9f, 0.8f, 0.2f};
    int lc[2] = {1, 1};
    NS_CHECK(ns_count_correct(2, 2, zc, lc) == 1, "count_correct");

    /* sparsity lambda * mean(s) */
    float s[5] = {0, 0.5f, 1, 0.25f, 0.25f}, ds[5] = {1, 1, 1, 1, 1};
    NS_CHECK_REL(ns_loss_sparsity(5, s, 0.1f, ds), 0.1 * 2.0 / 5, 1e-6);
    NS_CHECK_REL(ds[3], 1 + 0.1 / 5, 1e-6);
}

/* ---- API edges ---- */

static void test_api(void)
{
    ns_neuron_opts o = ns_neuron_opts_ultra(NS_NEURON_ULTRAPLIF, 4, NS_ULTRA_ABLATION);
    o.per_neuron = 1;
    ns_neuron_layer *L = ns_neuron_layer_create(&o);
    float I[2 * 4] = {0}, s[2 * 4], d[2 * 4] = {0};
    NS_CHECK(ns_neuron_layer_backward(L, 1, 2, d, d) == -1, "backward before forward refused");
    NS_CHECK(ns_neuron_layer_forward(L, 0, 2, I, s) == -1, "T = 0 refused");
    NS_CHECK(ns_neuron_layer_forward(L, 1, 2, I, s) == 0, "forward");
    NS_CHECK(ns_neuron_layer_backward(L, 2, 1, d, d) == -1, "backward of another T, B refused");
    ns_train_param p[NS_NEURON_MAX_PARAMS];
    int np = ns_neuron_layer_params(L, p);
    NS_CHECK(np == 2 && strcmp(p[0].name, "rho") == 0 && strcmp(p[1].name, "ln_tau") == 0 &&
                 p[1].n == 4 && fabsf(p[1].value[2] - logf(0.9f)) < 1e-7f,
             "ultraplif params: rho, ln_tau[4] from ln 0.9");
    NS_CHECK_REL(ns_neuron_layer_eps(L), 1, 1e-7);
    ns_neuron_layer_free(L);
    ns_neuron_layer_free(NULL);
    o.tau = 1.5f;
    NS_CHECK(ns_neuron_layer_create(&o) == NULL, "tau outside (0, 1) refused");
    o = ns_neuron_opts_default(NS_NEURON_LIF, 0);
    NS_CHECK(ns_neuron_layer_create(&o) == NULL, "zero units refused");
    o = ns_neuron_opts_default(NS_NEURON_LIF, 3);
    L = ns_neuron_layer_create(&o);
    NS_CHECK(ns_neuron_layer_params(L, p) == 0, "fixed-beta lif learns nothing");
    ns_neuron_layer_free(L);
    ns_tensor *t = ns_tensor_create(3, 2, 3, 4);
    NS_CHECK(t && t->size == 24 && t->shape[2] == 4 && t->data[23] == 0, "tensor 2x3x4 zeroed");
    ns_tensor_fill(t, 2.5f);
    NS_CHECK(t->data[17] == 2.5f, "fill");
    NS_CHECK(ns_tensor_reshape(t, 2, 6, 4, 0) == 0 && t->ndim == 2 && t->shape[0] == 6,
             "reshape to 6x4");
    NS_CHECK(ns_tensor_reshape(t, 2, 5, 4, 0) == -1 && t->shape[0] == 6, "bad reshape refused");
    ns_tensor_zero(t);
    NS_CHECK(t->data[5] == 0, "zero");
    ns_tensor_free(t);
    ns_tensor_free(NULL);
    NS_CHECK(ns_tensor_create(4, 1, 1, 1) == NULL && ns_tensor_create(2, 3, 0, 1) == NULL,
             "bad tensor shapes refused");
}

/* A layer run in pieces (forward_steps, then backward_steps in reverse) gives the outputs and
 * gradients of one whole call, bit for bit, for every kind; out-of-order pieces are refused. */
static void test_steps_in_pieces(void)
{
    enum { T = 7, B = 3, H = 5, N = T * B * H };
    for (int k = 0; k <= NS_NEURON_COUNT; k++) { /* the last: lif with a synaptic current */
        ns_neuron_opts o = ns_neuron_opts_default(k < NS_NEURON_COUNT ? (ns_neuron_kind)k : NS_NEURON_LIF, H);
        if (o.kind == NS_NEURON_LIF) o.learn_beta = 1;
        if (k == NS_NEURON_COUNT) o.syn_alpha = 0.7f;
        ns_neuron_layer *a = ns_neuron_layer_create(&o), *b = ns_neuron_layer_create(&o);
        float I[N], ds[N], sa[N], sb[N], da[N], db[N];
        for (int i = 0; i < N; i++) {
            I[i] = (float)(2.0 * ns_xoshiro_uniform(&rng) - 0.3);
            ds[i] = (float)(ns_xoshiro_uniform(&rng) - 0.5);
        }
        ns_neuron_layer_forward(a, T, B, I, sa);
        int rc = 0;
        for (int t = 0; t < T; t += 2) rc |= ns_neuron_layer_forward_steps(b, T, B, t, t + 2 > T ? T : t + 2, I, sb);
        const char *kn = k < NS_NEURON_COUNT ? ns_neuron_kind_name((ns_neuron_kind)k) : "lif with syn_alpha";
        NS_CHECK(rc == 0 && !memcmp(sa, sb, sizeof sa), "%s: forward in pieces", kn);
        ns_neuron_layer_backward(a, T, B, ds, da);
        NS_CHECK(ns_neuron_layer_backward_steps(b, T, B, 0, 2, ds, db) != 0, "backward must start at the last step");
        for (int t = T; t > 0; t -= 3) rc |= ns_neuron_layer_backward_steps(b, T, B, t - 3 < 0 ? 0 : t - 3, t, ds, db);
        NS_CHECK(rc == 0 && !memcmp(da, db, sizeof da), "%s: backward in pieces", kn);
        ns_train_param pa[NS_NEURON_MAX_PARAMS], pb[NS_NEURON_MAX_PARAMS];
        int np = ns_neuron_layer_params(a, pa);
        ns_neuron_layer_params(b, pb);
        for (int j = 0; j < np; j++)
            NS_CHECK(!memcmp(pa[j].grad, pb[j].grad, pa[j].n * sizeof(float)), "%s: parameter %s's gradient in pieces",
                     kn, pa[j].name);
        ns_neuron_layer_free(a);
        ns_neuron_layer_free(b);
    }
}

/* A Linear fed by 0/1 input through its lists of ones gives the dense y, dW and db (to float
 * rounding: 1e-5), at widths of 9, 64 (one chunk), 70 and 200 (chunks and a rest) and 1024, for an odd
 * number of rows and for more than one backward block of 64 rows, with 150 inputs; the forward from
 * a transpose made once is the same, and each y is bit for bit its weights summed from 0 in input
 * order in float, then b; input with any other value is not taken for spikes. */
static void binary_linear(int OUT, int N)
{
    enum { IN = 150 };
    ns_linear *a = ns_linear_create(IN, OUT, 1, &rng), *b = ns_linear_create(IN, OUT, 1, &rng);
    memcpy(b->W->data, a->W->data, a->W->size * sizeof(float));
    memcpy(b->b->data, a->b->data, a->b->size * sizeof(float));
    float *x = malloc(N * IN * sizeof *x), *ya = malloc((size_t)N * OUT * sizeof *ya),
          *yb = malloc((size_t)N * OUT * sizeof *yb), *dy = malloc((size_t)N * OUT * sizeof *dy);
    for (int k = 0; k < N * IN; k++) x[k] = ns_xoshiro_uniform(&rng) < 0.2 ? 1.0f : 0.0f;
    for (int k = 0; k < N * OUT; k++) dy[k] = (float)(ns_xoshiro_uniform(&rng) - 0.5);
    ns_binary_rows r = {0};
    NS_CHECK(ns_binary_rows_build(&r, N, IN, x) == 1, "0/1 input is spikes");
    ns_linear_forward(a, N, x, ya);
    NS_CHECK(ns_linear_forward_binary(b, &r, yb) == 0, "forward");
    double worst = 0;
    for (int k = 0; k < N * OUT; k++) worst = fmax(worst, fabs(ya[k] - yb[k]));
    NS_CHECK(worst < 1e-5, "width %d: binary forward = dense forward (worst %.3g)", OUT, worst);
    float *wt = malloc((size_t)IN * OUT * sizeof *wt);
    ns_linear_transpose(b, wt);
    int same = 1;
    for (int o = 0; o < OUT; o++) { /* in blocks of 64 outputs, each in x w */
        const int o0 = o / 64 * 64, w = OUT - o0 < 64 ? OUT - o0 : 64;
        for (int j = 0; j < IN; j++) same &= wt[o0 * IN + j * w + (o - o0)] == b->W->data[o * IN + j];
    }
    NS_CHECK(same, "width %d: the transpose", OUT);
    ns_linear_forward_binary_wt(b, wt, &r, ya);
    NS_CHECK(!memcmp(ya, yb, (size_t)N * OUT * sizeof *ya), "width %d: forward from a kept transpose = forward", OUT);
    int exact = 1;
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OUT; o++) {
            float sum = 0.0f;
            for (int j = 0; j < IN; j++)
                if (x[i * IN + j] == 1.0f) sum += b->W->data[o * IN + j];
            sum += b->b->data[o];
            exact &= !memcmp(&sum, &ya[(size_t)i * OUT + o], sizeof sum);
        }
    NS_CHECK(exact, "width %d: y is the in-order float sum of its weights, then b, bit for bit", OUT);
    free(wt);
    ns_linear_zero_grad(a);
    ns_linear_zero_grad(b);
    ns_linear_backward(a, N, x, dy, NULL);
    ns_linear_backward(b, N, x, dy, NULL); /* gradients accumulate across both paths */
    ns_linear_backward(a, N, x, dy, NULL);
    NS_CHECK(ns_linear_backward_binary(b, &r, dy) == 0, "backward");
    worst = 0;
    for (size_t k = 0; k < a->dW->size; k++) worst = fmax(worst, fabs(a->dW->data[k] - b->dW->data[k]));
    for (size_t k = 0; k < a->db->size; k++) worst = fmax(worst, fabs(a->db->data[k] - b->db->data[k]));
    NS_CHECK(worst < 1e-5, "width %d: binary dW and db = dense ones (worst %.3g)", OUT, worst);
    x[5] = 0.5f;
    NS_CHECK(ns_binary_rows_build(&r, N, IN, x) == 0, "an input of 0.5 is not spikes");
    x[5] = NAN;
    NS_CHECK(ns_binary_rows_build(&r, N, IN, x) == 0, "NaN is not a spike");
    x[5] = 0.0f;
    x[IN - 1] = 2.0f; /* past the last whole vector of a row */
    NS_CHECK(ns_binary_rows_build(&r, N, IN, x) == 0, "an input of 2 at a row's end is not a spike");
    ns_binary_rows_free(&r);
    ns_linear_free(a);
    ns_linear_free(b);
    free(x), free(ya), free(yb), free(dy);
}

/* ns_encode_bernoulli_rows gives row for row the lists ns_binary_rows_build makes of
 * ns_encode_bernoulli's dense output: features below the mean (never on), in range, and above
 * mean + std (probability gain, with gain 1 always on); D not a multiple of a vector's 16 lanes;
 * the same lists object reused for a larger batch. */
static void bernoulli_lists(void)
{
    enum { N = 9, D = 37, T = 4 };
    float *x = malloc(N * D * sizeof *x);
    int y[N];
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;
        for (int j = 0; j < D; j++) x[i * D + j] = j % 5 == 0 ? 0.1f : j % 7 == 0 ? 0.95f : (float)urand(0, 1);
    }
    char err[256];
    ns_dataset *ds = NULL;
    NS_CHECK(ns_dataset_from_arrays(N, D, 2, x, y, &ds, err, sizeof err) == 0, "%s", err);
    if (!ds) {
        free(x);
        return;
    }
    const size_t idx[N] = {4, 0, 8, 3, 3, 7, 1, 2, 6};
    ns_bernoulli_params bp;
    ns_bernoulli_defaults(&bp);
    ns_binary_rows dense = {0}, lists = {0};
    float *out = malloc((size_t)T * N * D * sizeof *out);
    for (int pass = 0; pass < 3; pass++) {
        size_t B = pass == 0 ? 3 : N;
        bp.gain = pass == 2 ? 1.0f : 0.5f;
        NS_CHECK(ns_encode_bernoulli(&bp, ds, idx, B, T, 5, out, err, sizeof err) == 0, "%s", err);
        NS_CHECK(ns_binary_rows_build(&dense, T * (int)B, D, out) == 1, "Bernoulli output is spikes");
        NS_CHECK(ns_encode_bernoulli_rows(&bp, ds, idx, B, T, 5, &lists, err, sizeof err) == 0, "%s", err);
        int same = lists.n == T * (int)B && lists.in == D, ones = 0, always = 1;
        for (int i = 0; same && i < lists.n; i++) {
            int len = dense.end[i] - dense.start[i];
            same &= lists.end[i] - lists.start[i] == len &&
                    !memcmp(lists.col + lists.start[i], dense.col + dense.start[i], (size_t)len * sizeof(int));
            ones += len;
            for (int j = 0; pass == 2 && j < D; j += 7) /* x 0.95: z = 1 */
                always &= j % 5 == 0 || out[(size_t)i * D + j] == 1.0f;
        }
        NS_CHECK(same && ones > 0, "batch %zu, gain %g: Bernoulli lists = the dense encoding's (%d ones)", B,
                 (double)bp.gain, ones);
        if (pass == 2) NS_CHECK(always, "gain 1: a feature at z = 1 is on every step");
    }
    bp.std = 0;
    NS_CHECK(ns_encode_bernoulli_rows(&bp, ds, idx, N, T, 5, &lists, err, sizeof err) == -1 && strstr(err, "std"),
             "std 0 refused: %s", err);
    ns_binary_rows_free(&dense);
    ns_binary_rows_free(&lists);
    ns_dataset_free(ds);
    free(x), free(out);
}

static void test_binary_linear(void)
{
    bernoulli_lists();
    binary_linear(9, 37);
    binary_linear(64, 37);
    binary_linear(70, 37);
    binary_linear(64, 150);
    binary_linear(9, 150);
    binary_linear(200, 150); /* three whole chunks and a rest of 8, three blocks of rows */
    binary_linear(1024, 70);
}

int main(void)
{
    ns_xoshiro_seed(&rng, 12345);
    test_lse();
    test_step_equations();
    test_surrogates();
    test_neuron_layers();
    test_steps_in_pieces();
    test_spike_values();
    test_linear();
    test_binary_linear();
    test_readouts_losses();
    test_api();
    NS_TEST_MAIN_END();
}
