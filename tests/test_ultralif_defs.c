/* tests/test_ultralif_defs.c — the UltraLIF family under both of the UltraLIF repository's
 * definitions (the library's, the default, and the ablation file's), against a reference written
 * here from the published equations alone (no nsim code): each variant's defaults, a few steps of
 * a few neurons in the trainer (forward, and its gradients against finite differences of the
 * reference) and in the simulator's model (membrane trajectory), plus literal values worked out by
 * hand for the first two steps. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/net.h"
#include "tests/harness.h"
#include "tests/testlib.h"
#include "train/layers.h"

enum { T = 4, H = 4, MAXH = 8 };

/* ---- the reference, from the equations (../docs/models.md, UltraLIF section) ---- */

static double sig(double x)
{
    return 1 / (1 + exp(-x));
}

/* eps ln sum_i exp(a_i / eps), shifted by the largest a_i */
static double lse(const double *a, int n, double eps)
{
    double m = a[0], sum = 0;
    for (int i = 1; i < n; i++) m = a[i] > m ? a[i] : m;
    for (int i = 0; i < n; i++) sum += exp((a[i] - m) / eps);
    return m + eps * log(sum);
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

typedef struct {
    ns_neuron_kind kind;
    int library;   /* 1 the library's definition, 0 the ablation's */
    int clamp;     /* tau_clamp */
    double theta;
    double rho;    /* eps = clamp(exp(rho), 0.1, 20) */
    double tau;    /* the fixed tau (UltraLIF, UltraDLIF) */
    double p[MAXH];/* the learned decay parameter per unit (UltraPLIF: ln tau; UltraDPLIF: tau_raw or ln tau) */
} ref_cfg;

/* Steps T of n units from V = 0 under inputs I[T][n]: spikes s[T][n] and membranes V[T][n]. */
static void ref_run(const ref_cfg *c, int n, const double *I, double *s, double *Vout)
{
    const double eps = clampd(exp(c->rho), 0.1, 20);
    double V[MAXH] = {0}, X[MAXH], Wn[MAXH];
    for (int t = 0; t < T; t++) {
        const double *It = I + t * n;
        for (int i = 0; i < n; i++) {
            const int l = (i + n - 1) % n, r = (i + 1) % n;
            double lt, c3;
            switch (c->kind) {
            case NS_NEURON_ULTRALIF:
            case NS_NEURON_ULTRAPLIF: /* X = V' = LSE(V + ln tau, I) */
                lt = c->kind == NS_NEURON_ULTRALIF ? log(c->tau) : c->clamp ? clampd(c->p[i], -2.3, -0.01) : c->p[i];
                X[i] = lse((double[]){V[i] + lt, It[i]}, 2, eps);
                Wn[i] = X[i];
                break;
            default:
                if (c->library) { /* W = tau V + I; the LSE of W enters the spike (below) */
                    double tau = c->kind == NS_NEURON_ULTRADLIF ? c->tau : sig(c->p[i]);
                    if (c->kind == NS_NEURON_ULTRADPLIF && c->clamp) tau = clampd(tau, 0.1, 0.99);
                    Wn[i] = tau * V[i] + It[i];
                } else { /* V' = LSE(V_{i-1}, c V_i, V_{i+1}) + I */
                    c3 = c->kind == NS_NEURON_ULTRADLIF ? 1 : c->clamp ? clampd(exp(c->p[i]), 0.1, 0.99) : exp(c->p[i]);
                    X[i] = lse((double[]){V[l], c3 * V[i], V[r]}, 3, eps) + It[i];
                    Wn[i] = X[i];
                }
                break;
            }
        }
        const int lib_ring = c->library && (c->kind == NS_NEURON_ULTRADLIF || c->kind == NS_NEURON_ULTRADPLIF);
        for (int i = 0; i < n; i++) {
            const int l = (i + n - 1) % n, r = (i + 1) % n;
            if (lib_ring) X[i] = lse((double[]){Wn[l], Wn[i], Wn[r]}, 3, eps);
            s[t * n + i] = sig((X[i] - c->theta) / eps);
            V[i] = Wn[i] * (1 - s[t * n + i]); /* the soft reset of the membrane */
            Vout[t * n + i] = V[i];
        }
    }
}

static double ref_loss(const ref_cfg *c, int n, const double *I, const double *w)
{
    double s[T * MAXH], V[T * MAXH], L = 0;
    ref_run(c, n, I, s, V);
    for (int k = 0; k < T * n; k++) L += w[k] * s[k];
    return L;
}

/* ---- the variants ---- */

typedef struct {
    ns_neuron_kind kind;
    ns_ultra_definition def;
    const char *model;      /* the simulator's */
    const char *decay_var;  /* its per-unit decay state */
    const char *param;      /* the learned decay's name, or NULL */
    double p0;              /* its start */
    float theta0, tau0;     /* the defaults */
    int clamp0;
} variant;

static const variant variants[] = {
    {NS_NEURON_ULTRALIF, NS_ULTRA_LIBRARY, "ultralif", "ln_tau", NULL, 0, 0, 0.9f, 0},
    {NS_NEURON_ULTRAPLIF, NS_ULTRA_LIBRARY, "ultralif", "ln_tau", "ln_tau", -0.105360515657826, 0, 0.9f, 0},
    {NS_NEURON_ULTRADLIF, NS_ULTRA_LIBRARY, "ultradlif", "tau", NULL, 0, 0, 0.9f, 0},
    {NS_NEURON_ULTRADPLIF, NS_ULTRA_LIBRARY, "ultradlif", "tau", "tau_raw", 0.9, 0, 0.710949502625004f, 0},
    {NS_NEURON_ULTRALIF, NS_ULTRA_ABLATION, "ultralif_ablation", "ln_tau", NULL, 0, 1, 0.9f, 1},
    {NS_NEURON_ULTRAPLIF, NS_ULTRA_ABLATION, "ultralif_ablation", "ln_tau", "ln_tau", -0.105360515657826, 1, 0.9f, 1},
    {NS_NEURON_ULTRADLIF, NS_ULTRA_ABLATION, "ultradlif_ablation", "c", NULL, 0, 1, 0.9f, 1},
    {NS_NEURON_ULTRADPLIF, NS_ULTRA_ABLATION, "ultradlif_ablation", "c", "ln_tau", -0.105360515657826, 1, 0.9f, 1},
};

/* The inputs of every check: T steps of H units, with positive and negative currents. */
static const double inputs[T * H] = {
    0.5, -0.25, 1.0, -1.5, /**/ 0.0, 0.3, -0.6, 0.8, /**/ 1.25, 0.75, -0.5, 0.125, /**/ -0.375, 2.0, 0.25, -1.0,
};

/* The defaults of each variant, and its learned parameters (one per layer). */
static void check_defaults(const variant *v, const char *label)
{
    ns_neuron_opts o = v->def == NS_ULTRA_LIBRARY ? ns_neuron_opts_default(v->kind, H) : ns_neuron_opts_ultra(v->kind, H, v->def);
    NS_CHECK(o.definition == v->def, "%s: definition", label);
    NS_CHECK(o.theta == v->theta0, "%s: theta %g by default, want %g", label, (double)o.theta, (double)v->theta0);
    NS_CHECK(fabsf(o.tau - v->tau0) < 1e-7f, "%s: tau %.9g by default, want %.9g", label, (double)o.tau, (double)v->tau0);
    NS_CHECK(o.tau_clamp == v->clamp0 && o.per_neuron == 0 && o.eps == 1 && o.learn_eps,
             "%s: clamp %d, one decay per layer, eps learned from 1", label, v->clamp0);
    ns_neuron_layer *L = ns_neuron_layer_create(&o);
    NS_CHECK(L != NULL, "%s: create", label);
    if (!L) return;
    ns_train_param p[NS_NEURON_MAX_PARAMS];
    int np = ns_neuron_layer_params(L, p);
    NS_CHECK(np == (v->param ? 2 : 1) && !strcmp(p[0].name, "rho") && p[0].value[0] == 0, "%s: rho from 0", label);
    if (v->param && np == 2)
        NS_CHECK(!strcmp(p[1].name, v->param) && p[1].n == 1 && fabs(p[1].value[0] - v->p0) < 2e-7,
                 "%s: %s, one value, starts at %.9g (got %s[%zu] = %.9g)", label, v->param, v->p0, p[1].name, p[1].n,
                 (double)p[1].value[0]);
    ns_neuron_layer_free(L);
}

/* The trainer's layer under v with learned values rho and p (per layer: p[0]; per neuron: p[0..H)),
 * against the reference: spikes, then the gradients of sum w s. */
static void check_trainer(const variant *v, const char *label, double rho, const double *p, int per_neuron)
{
    ns_neuron_opts o = ns_neuron_opts_ultra(v->kind, H, v->def);
    o.per_neuron = per_neuron;
    ns_neuron_layer *L = ns_neuron_layer_create(&o);
    NS_CHECK(L != NULL, "%s: create", label);
    if (!L) return;
    ref_cfg c = {.kind = v->kind, .library = v->def == NS_ULTRA_LIBRARY, .clamp = o.tau_clamp, .theta = o.theta,
                 .rho = (float)rho, .tau = o.tau};
    ns_train_param prm[NS_NEURON_MAX_PARAMS];
    int np = ns_neuron_layer_params(L, prm);
    prm[0].value[0] = (float)rho;
    for (int h = 0; h < H; h++) c.p[h] = (float)p[per_neuron ? h : 0];
    if (np > 1)
        for (size_t j = 0; j < prm[1].n && j < H; j++) prm[1].value[j] = (float)p[j];

    float If[T * H], sf[T * H], w[T * H], dI[T * H];
    double wd[T * H], s_ref[T * H], V_ref[T * H], I[T * H];
    for (int k = 0; k < T * H; k++) {
        I[k] = inputs[k];
        If[k] = (float)inputs[k];
        w[k] = (float)(0.25 * ((k * 7) % 9) - 1); /* in [-1, 1] */
        wd[k] = w[k];
    }
    ref_run(&c, H, I, s_ref, V_ref);
    NS_CHECK(ns_neuron_layer_forward(L, T, 1, If, sf) == 0, "%s: forward", label);
    double worst = 0;
    for (int k = 0; k < T * H; k++) worst = fmax(worst, fabs(sf[k] - s_ref[k]));
    NS_CHECK(worst < 3e-6, "%s: trainer spikes within 3e-6 of the reference (worst %.3g)", label, worst);

    ns_neuron_layer_zero_grad(L);
    NS_CHECK(ns_neuron_layer_backward(L, T, 1, w, dI) == 0, "%s: backward", label);
    const double h = 1e-6;
    double gworst = 0, scale = 0;
    for (int k = 0; k < T * H; k++) { /* dL/dI */
        double keep = I[k];
        I[k] = keep + h;
        double lp = ref_loss(&c, H, I, wd);
        I[k] = keep - h;
        double lm = ref_loss(&c, H, I, wd);
        I[k] = keep;
        double fd = (lp - lm) / (2 * h);
        gworst = fmax(gworst, fabs(dI[k] - fd));
        scale = fmax(scale, fabs(fd));
    }
    NS_CHECK(gworst < 1e-4 * fmax(scale, 1), "%s: dL/dI against finite differences (worst %.3g of %.3g)", label, gworst,
             scale);
    { /* dL/drho */
        double keep = c.rho;
        c.rho = keep + h;
        double lp = ref_loss(&c, H, I, wd);
        c.rho = keep - h;
        double lm = ref_loss(&c, H, I, wd);
        c.rho = keep;
        double fd = (lp - lm) / (2 * h);
        NS_CHECK(fabs(prm[0].grad[0] - fd) < 1e-4 * fmax(fabs(fd), 1), "%s: dL/drho %.7g, finite differences %.7g", label,
                 (double)prm[0].grad[0], fd);
    }
    if (np > 1) /* the learned decay: per layer moves every unit's p together */
        for (size_t j = 0; j < prm[1].n; j++) {
            double keep[MAXH];
            memcpy(keep, c.p, sizeof keep);
            for (int u = 0; u < H; u++)
                if (!per_neuron || (size_t)u == j) c.p[u] = keep[u] + h;
            double lp = ref_loss(&c, H, I, wd);
            for (int u = 0; u < H; u++)
                if (!per_neuron || (size_t)u == j) c.p[u] = keep[u] - h;
            double lm = ref_loss(&c, H, I, wd);
            memcpy(c.p, keep, sizeof keep);
            double fd = (lp - lm) / (2 * h);
            NS_CHECK(fabs(prm[1].grad[j] - fd) < 1e-4 * fmax(fabs(fd), 1), "%s: dL/d%s[%zu] %.7g, finite differences %.7g",
                     label, prm[1].name, j, (double)prm[1].grad[j], fd);
        }
    ns_neuron_layer_free(L);
}

/* The simulator's model of v: H units with the bias b = the inputs of step 0 and a graded
 * projection of two spike sources (so the input changes with the step), the decays set per unit,
 * eps set, theta left at the model's default; the membrane after each step against the
 * reference (double both: 1e-12). */
static void check_simulator(const variant *v, const char *label, const double *dec, double eps)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 1.0);
    /* source 0 fires at 1 and 3 ms, source 1 at 2 and 3 ms: a spike at m ms leaves in step m - 1
     * and, one step later, is the input of step m */
    size_t off[3] = {0, 2, 4};
    double times[4] = {1, 3, 2, 3};
    ns_pop *src = ns_net_add_spike_source(net, 2, off, times, "src");
    ns_pop *pop = ns_net_add_population(net, v->model, H, "ultra");
    NS_CHECK(pop != NULL, "%s: model %s: %s", label, v->model, ns_ctx_errmsg(ctx));
    if (!pop) {
        ns_net_free(net);
        test_ctx_free(ctx);
        return;
    }
    double Wg[H * 2], b[H];
    for (int i = 0; i < H; i++) {
        b[i] = inputs[i];
        Wg[i * 2] = inputs[4 + i] - inputs[i];     /* source 0 */
        Wg[i * 2 + 1] = inputs[8 + i] - inputs[i]; /* source 1 */
    }
    const char *names[1] = {"eps"};
    NS_CHECK(ns_pop_set_params(net, pop, names, &eps, 1) == 0, "%s: eps: %s", label, ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_set_state_array(net, pop, "b", b) == 0, "%s: b", label);
    NS_CHECK(ns_pop_set_state_array(net, pop, v->decay_var, dec) == 0, "%s: %s", label, v->decay_var);
    NS_CHECK(ns_net_connect_graded(net, src, pop, Wg, 1.0) == 0, "%s: graded: %s", label, ns_ctx_errmsg(ctx));
    /* the reference's input: b every step, plus W of the spikes that arrive */
    double I[T * H];
    for (int t = 0; t < T; t++)
        for (int i = 0; i < H; i++) {
            int s0 = t == 1 || t == 3, s1 = t == 2 || t == 3;
            I[t * H + i] = b[i] + s0 * Wg[i * 2] + s1 * Wg[i * 2 + 1];
        }
    ref_cfg c = {.kind = v->kind, .library = v->def == NS_ULTRA_LIBRARY, .theta = v->theta0, .rho = log(eps), .tau = 0.9};
    for (int i = 0; i < H; i++) { /* the reference takes the learned parameter; the model its effect */
        if (v->kind == NS_NEURON_ULTRAPLIF || v->kind == NS_NEURON_ULTRALIF) c.p[i] = dec[i];
        else if (c.library) c.p[i] = log(dec[i] / (1 - dec[i]));
        else c.p[i] = log(dec[i]);
    }
    if (v->kind == NS_NEURON_ULTRALIF) c.tau = exp(dec[0]);
    if (v->kind == NS_NEURON_ULTRADLIF && c.library) c.tau = dec[0];
    double s_ref[T * H], V_ref[T * H], worst = 0;
    ref_run(&c, H, I, s_ref, V_ref);
    for (int t = 0; t < T; t++) {
        NS_CHECK(ns_net_run(net, 1.0) == 0, "%s: run: %s", label, ns_ctx_errmsg(ctx));
        for (int i = 0; i < H; i++) worst = fmax(worst, fabs(ns_pop_get_state(pop, "V_m", (size_t)i) - V_ref[t * H + i]));
    }
    NS_CHECK(worst < 1e-12, "%s: the simulator's membrane within 1e-12 of the reference over %d steps (worst %.3g)", label, T,
             worst);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* The first two steps worked out by hand (eps 1, tau 0.9, inputs rows 0 and 1) against the
 * reference, so that the reference itself is pinned: UltraLIF unit 0 (V' then s, both
 * definitions); the rings' four spikes. */
static void check_hand_values(void)
{
    double I[T * H], s[T * H], V[T * H];
    memcpy(I, inputs, sizeof I);
    ref_cfg c = {.kind = NS_NEURON_ULTRALIF, .library = 1, .theta = 0, .rho = 0, .tau = 0.9};
    ref_run(&c, H, I, s, V);
    /* step 0: V' = ln(0.9 + e^0.5) = 0.935591770925443, s = sigmoid(V') */
    NS_CHECK_ABS(s[0], 0.718208356272875, 1e-14);
    NS_CHECK_ABS(V[0], 0.263641942986652, 1e-14);
    NS_CHECK_ABS(s[H], 0.684691372563231, 1e-14); /* step 1, input 0 */
    c.library = 0, c.theta = 1;
    ref_run(&c, H, I, s, V);
    NS_CHECK_ABS(s[0], 0.483903506931106, 1e-14);
    NS_CHECK_ABS(V[0], 0.482855631918737, 1e-14);
    NS_CHECK_ABS(s[H], 0.474921758241122, 1e-14);
    const double lib[2][H] = {{0.726076344334584, 0.837287355867097, 0.788145143371509, 0.821113387890173},
                              {0.806971136978753, 0.75589591869205, 0.787842625077358, 0.779897285467222}};
    const double abl[2][H] = {{0.645338755607557, 0.462225188971093, 0.75, 0.197595994950819},
                              {0.599319181875946, 0.714152800747719, 0.446333111828999, 0.773765242606354}};
    c = (ref_cfg){.kind = NS_NEURON_ULTRADLIF, .library = 1, .theta = 0, .rho = 0, .tau = 0.9};
    ref_run(&c, H, I, s, V);
    for (int k = 0; k < 2 * H; k++) NS_CHECK_ABS(s[k], lib[k / H][k % H], 1e-14);
    c.library = 0, c.theta = 1;
    ref_run(&c, H, I, s, V);
    for (int k = 0; k < 2 * H; k++) NS_CHECK_ABS(s[k], abl[k / H][k % H], 1e-14);
}

int main(void)
{
    check_hand_values();
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; k++) {
        const variant *v = &variants[k];
        char label[96];
        snprintf(label, sizeof label, "%s (%s)", ns_neuron_kind_name(v->kind), ns_ultra_definition_name(v->def));
        check_defaults(v, label);
        /* the parameters: at their starts, then moved, with decays outside the ablation's clamp */
        double p0[H] = {v->p0, v->p0, v->p0, v->p0};
        check_trainer(v, label, 0, p0, 0);
        const double pl[H] = {v->kind == NS_NEURON_ULTRAPLIF ? 0.05 /* ln tau > -0.01 */ : 3.0 /* tau past 0.99 or 0.953 */};
        char l2[128];
        snprintf(l2, sizeof l2, "%s, eps 1.35, decay moved", label);
        check_trainer(v, l2, 0.3, pl, 0);
        const double pn[H] = {-0.5, -3.0, 0.2, -0.02};
        snprintf(l2, sizeof l2, "%s, eps 0.67, decay per neuron", label);
        check_trainer(v, l2, -0.4, pn, 1);
        /* the simulator: its model of the variant with the trained layer's decays (per unit) */
        double dec[H];
        for (int i = 0; i < H; i++) {
            switch (v->kind) {
            case NS_NEURON_ULTRALIF: dec[i] = log(0.9); break;
            case NS_NEURON_ULTRAPLIF: dec[i] = -0.05 - 0.3 * i; break;
            case NS_NEURON_ULTRADLIF: dec[i] = v->def == NS_ULTRA_LIBRARY ? 0.9 : 1; break;
            default: dec[i] = 0.3 + 0.15 * i; break;
            }
        }
        check_simulator(v, label, dec, 0.8);
    }
    NS_TEST_MAIN_END();
}
