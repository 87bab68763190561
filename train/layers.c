/* train/layers.c — neuron layers with hand-written BPTT, the readouts and the losses.
 * Forward stores the smallest tape from which backward can rebuild every step (the reset membrane
 * of step t-1 is recomputed from step t-1's stored V'); the per-element math is neuron_eq.h's. */
#include "train/layers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* glibc's vector math library (libmvec) declares the vector forms of expf and log1pf only under
 * the whole of -ffast-math; these layers keep NaN checks (no finite-math), so say here that the
 * vector forms exist, and the loops over units call them. */
#if defined __x86_64__ && defined __GNUC__ && !defined __clang__ && defined __GLIBC__
float expf(float) __attribute__((simd("notinbranch")));
float log1pf(float) __attribute__((simd("notinbranch")));
#endif

struct ns_neuron_layer {
    ns_neuron_opts o;
    float rho, drho;      /* ln eps and its gradient (ultra*) */
    float *decay, *ddecay; /* beta (lif) or ln tau (ultraplif, ultradplif): n_decay values */
    int n_decay;          /* 0, 1 or H */
    float *dec_eff;       /* the decay in use per neuron (H): clamped beta, ln tau or tau */
    float *dec_d;         /* its derivative w.r.t. the parameter (0 where clamped) */
    double *gacc;         /* H: per-neuron gradient sums of one backward */
    float *tape;          /* tape_per * T * B * H floats */
    size_t tape_cap;
    float *work; /* 3 * B * H floats: V, or the backward carries (ring: gV, gV of the step before, V) */
    size_t work_cap;
    int T, B; /* of the last forward; 0 before one */
    int tape_per;
    int fwd_next, bwd_next; /* the next step a forward_steps / backward_steps call must start at */
    double geps;           /* the eps gradient summed over a backward's steps */
    float *syn;            /* lif with syn_alpha: the filtered input [T][B][H], then B H floats of
                              the backward's carry */
    size_t syn_cap;
};

/* ---- names ---- */

static const char *const kind_names[] = {
#define NS_LAYERS_X_(id, name) name,
    NS_NEURON_KINDS(NS_LAYERS_X_)
#undef NS_LAYERS_X_
};

static const char *const surr_names[] = {
#define NS_LAYERS_X_(id, name, def) name,
    NS_SURROGATES(NS_LAYERS_X_)
#undef NS_LAYERS_X_
};

static const float surr_defaults[] = {
#define NS_LAYERS_X_(id, name, def) (float)(def),
    NS_SURROGATES(NS_LAYERS_X_)
#undef NS_LAYERS_X_
};

/* The index of name in names[count], or -1 (also for a NULL name). */
static int name_index(const char *const *names, int count, const char *name)
{
    for (int k = 0; name && k < count; k++)
        if (strcmp(name, names[k]) == 0) return k;
    return -1;
}

const char *ns_neuron_kind_name(ns_neuron_kind kind)
{
    return (unsigned)kind < NS_NEURON_COUNT ? kind_names[kind] : "?";
}

int ns_neuron_kind_from_name(const char *name, ns_neuron_kind *kind)
{
    int k = name_index(kind_names, NS_NEURON_COUNT, name);
    if (k < 0) return -1;
    *kind = (ns_neuron_kind)k;
    return 0;
}

const char *ns_surrogate_name(ns_surrogate_kind kind)
{
    return (unsigned)kind < NS_SURR_COUNT ? surr_names[kind] : "?";
}

int ns_surrogate_from_name(const char *name, ns_surrogate_kind *kind)
{
    int k = name_index(surr_names, NS_SURR_COUNT, name);
    if (k < 0) return -1;
    *kind = (ns_surrogate_kind)k;
    return 0;
}

float ns_surrogate_default(ns_surrogate_kind kind)
{
    return (unsigned)kind < NS_SURR_COUNT ? surr_defaults[kind] : 0;
}

/* ---- layer life ---- */

static int is_ultra(ns_neuron_kind k)
{
    return k != NS_NEURON_LIF;
}

static const char *const def_names[] = {"library", "ablation"};

const char *ns_ultra_definition_name(ns_ultra_definition def)
{
    return (unsigned)def < 2 ? def_names[def] : "?";
}

int ns_ultra_definition_from_name(const char *name, ns_ultra_definition *def)
{
    int k = name_index(def_names, 2, name);
    if (k < 0) return -1;
    *def = (ns_ultra_definition)k;
    return 0;
}

ns_neuron_opts ns_neuron_opts_ultra(ns_neuron_kind kind, int units, ns_ultra_definition def)
{
    const int ablation = is_ultra(kind) && def == NS_ULTRA_ABLATION;
    return (ns_neuron_opts){
        .kind = kind,
        .units = units,
        .theta = is_ultra(kind) && !ablation ? 0 : 1,
        .beta = 0.9f,
        .learn_beta = 0,
        .surrogate = NS_SURR_ATAN,
        .surrogate_param = ns_surrogate_default(NS_SURR_ATAN),
        .reset = NS_RESET_ZERO,
        .definition = ablation ? NS_ULTRA_ABLATION : NS_ULTRA_LIBRARY,
        /* the library's UltraDPLIF starts tau_raw at 0.9: tau = sigmoid(0.9) */
        .tau = kind == NS_NEURON_ULTRADPLIF && !ablation ? (float)(1 / (1 + exp(-0.9))) : 0.9f,
        .tau_clamp = ablation,
        .eps = 1,
        .learn_eps = 1,
        .per_neuron = !is_ultra(kind),
    };
}

ns_neuron_opts ns_neuron_opts_default(ns_neuron_kind kind, int units)
{
    return ns_neuron_opts_ultra(kind, units, NS_ULTRA_LIBRARY);
}

/* The ring of the library definition: a linear membrane, the LSE inside the spike. */
static int lib_ring(const ns_neuron_opts *o)
{
    return (o->kind == NS_NEURON_ULTRADLIF || o->kind == NS_NEURON_ULTRADPLIF) && o->definition == NS_ULTRA_LIBRARY;
}

static int learns_decay(const ns_neuron_opts *o)
{
    return (o->kind == NS_NEURON_LIF && o->learn_beta) || o->kind == NS_NEURON_ULTRAPLIF ||
           o->kind == NS_NEURON_ULTRADPLIF;
}

static int opts_ok(const ns_neuron_opts *o)
{
    if (!o || (unsigned)o->kind >= NS_NEURON_COUNT || o->units < 1) return 0;
    if (!isfinite(o->theta)) return 0;
    if (o->kind == NS_NEURON_LIF) {
        if (!(o->beta >= 0 && o->beta <= 1)) return 0;
        if ((unsigned)o->surrogate >= NS_SURR_COUNT || !(o->surrogate_param > 0)) return 0;
        if (o->reset != NS_RESET_ZERO && o->reset != NS_RESET_SUBTRACT) return 0;
        if (!(o->syn_alpha >= 0 && o->syn_alpha < 1)) return 0;
        return isfinite(o->surrogate_param);
    }
    if (o->syn_alpha != 0) return 0; /* the filter is the LIF's */
    if (o->definition != NS_ULTRA_LIBRARY && o->definition != NS_ULTRA_ABLATION) return 0;
    return o->tau > 0 && o->tau < 1 && o->eps > 0 && isfinite(o->eps);
}

ns_neuron_layer *ns_neuron_layer_create(const ns_neuron_opts *opts)
{
    if (!opts_ok(opts)) return NULL;
    ns_neuron_layer *L = calloc(1, sizeof *L);
    if (!L) return NULL;
    L->o = *opts;
    int H = opts->units;
    L->rho = logf(opts->eps);
    L->tape_per = (opts->kind == NS_NEURON_ULTRALIF || opts->kind == NS_NEURON_ULTRAPLIF || lib_ring(opts)) ? 2 : 1;
    L->n_decay = learns_decay(opts) ? (opts->per_neuron ? H : 1) : 0;
    if (L->n_decay) {
        L->decay = malloc((size_t)L->n_decay * sizeof *L->decay);
        L->ddecay = calloc((size_t)L->n_decay, sizeof *L->ddecay);
    }
    L->dec_eff = malloc((size_t)H * sizeof *L->dec_eff);
    L->dec_d = malloc((size_t)H * sizeof *L->dec_d);
    L->gacc = malloc((size_t)H * sizeof *L->gacc);
    if ((L->n_decay && (!L->decay || !L->ddecay)) || !L->dec_eff || !L->dec_d || !L->gacc) {
        ns_neuron_layer_free(L);
        return NULL;
    }
    float start = opts->kind == NS_NEURON_LIF ? opts->beta
                : lib_ring(opts) ? (float)log((double)opts->tau / (1 - (double)opts->tau)) /* tau_raw */
                                 : logf(opts->tau);
    for (int k = 0; k < L->n_decay; k++) L->decay[k] = start;
    return L;
}

void ns_neuron_layer_free(ns_neuron_layer *L)
{
    if (!L) return;
    free(L->decay);
    free(L->ddecay);
    free(L->dec_eff);
    free(L->dec_d);
    free(L->gacc);
    free(L->tape);
    free(L->work);
    free(L->syn);
    free(L);
}

const ns_neuron_opts *ns_neuron_layer_opts(const ns_neuron_layer *L)
{
    return &L->o;
}

float ns_neuron_layer_eps(const ns_neuron_layer *L)
{
    return is_ultra(L->o.kind) ? ns_eq_eps_from_rhof(L->rho, NULL) : 0;
}

void ns_neuron_layer_zero_grad(ns_neuron_layer *L)
{
    L->drho = 0;
    for (int k = 0; k < L->n_decay; k++) L->ddecay[k] = 0;
}

int ns_neuron_layer_params(ns_neuron_layer *L, ns_train_param out[NS_NEURON_MAX_PARAMS])
{
    int n = 0;
    if (is_ultra(L->o.kind) && L->o.learn_eps) out[n++] = (ns_train_param){"rho", &L->rho, &L->drho, 1};
    if (L->n_decay)
        out[n++] = (ns_train_param){L->o.kind == NS_NEURON_LIF ? "beta" : lib_ring(&L->o) ? "tau_raw" : "ln_tau",
                                    L->decay, L->ddecay, (size_t)L->n_decay};
    return n;
}

/* Fill dec_eff and dec_d for every neuron from the parameters (or the fixed settings). */
static void decay_in_use(ns_neuron_layer *L)
{
    const ns_neuron_opts *o = &L->o;
    for (int h = 0; h < o->units; h++) {
        float p = L->n_decay ? L->decay[L->n_decay > 1 ? h : 0] : 0, v = 0, d = 0;
        switch (o->kind) {
        case NS_NEURON_LIF:
            if (!L->n_decay) {
                v = o->beta;
            } else { /* snnTorch's learn_beta: beta.clamp(0, 1) */
                v = p < 0 ? 0 : p > 1 ? 1 : p;
                d = (p < 0 || p > 1) ? 0 : 1;
            }
            break;
        case NS_NEURON_ULTRALIF: v = logf(o->tau); break;
        case NS_NEURON_ULTRAPLIF:
            if (o->tau_clamp) v = ns_eq_ln_tau_clampf(p, &d);
            else v = p, d = 1;
            break;
        case NS_NEURON_ULTRADLIF: v = lib_ring(o) ? o->tau : 1; break;
        case NS_NEURON_ULTRADPLIF:
            if (lib_ring(o)) v = ns_eq_tau_from_rawf(p, o->tau_clamp, &d);
            else if (o->tau_clamp) v = ns_eq_tau_from_lnf(p, &d);
            else v = d = expf(p);
            break;
        default: break;
        }
        L->dec_eff[h] = v;
        L->dec_d[h] = d;
    }
}

static int reserve(float **buf, size_t *cap, size_t n)
{
    if (n <= *cap) return 0;
    float *p = realloc(*buf, n * sizeof *p);
    if (!p) return NS_TRAIN_ENOMEM;
    *buf = p;
    *cap = n;
    return 0;
}

/* ---- forward ---- */

static void forward_lif(ns_neuron_layer *L, int T, int B, int t0, int t1, const float *I, float *s)
{
    (void)T; /* one signature for the three kinds; ultra2 places its second tape row after T */
    int H = L->o.units, sub = L->o.reset == NS_RESET_SUBTRACT;
    size_t n = (size_t)B * H;
    float theta = L->o.theta, *V = L->work;
    const float *beta = L->dec_eff;
    if (t0 == 0) memset(V, 0, n * sizeof *V);
    for (int t = t0; t < t1; t++) {
        const float *It = I + t * n;
        float *Ut = L->tape + t * n, *st = s + t * n;
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++) {
                size_t i = (size_t)b * H + h;
                V[i] = ns_eq_lif_stepf(V[i], It[i], beta[h], theta, sub, &Ut[i], &st[i]);
            }
    }
}

/* One sample's row of H units through one UltraLIF step (separate arrays: it vectorizes). */
static void ultra2_row(int H, float *restrict v, const float *restrict in, const float *restrict lt, float eps,
                       float theta, float *restrict vp, float *restrict d, float *restrict s)
{
    for (int h = 0; h < H; h++) {
        float vpn, sn;
        d[h] = (v[h] + lt[h] - in[h]) / eps;
        v[h] = ns_eq_ultralif_stepf(v[h], in[h], lt[h], eps, theta, &vpn, &sn);
        vp[h] = vpn;
        s[h] = sn;
    }
}

static void forward_ultra2(ns_neuron_layer *L, int T, int B, int t0, int t1, const float *I, float *s)
{
    int H = L->o.units;
    size_t n = (size_t)B * H;
    float theta = L->o.theta, eps = ns_eq_eps_from_rhof(L->rho, NULL), *V = L->work;
    const float *lt = L->dec_eff;
    if (t0 == 0) memset(V, 0, n * sizeof *V);
    for (int t = t0; t < t1; t++) {
        const float *It = I + t * n;
        float *Vp = L->tape + t * n, *D = L->tape + ((size_t)T + t) * n, *st = s + t * n;
        for (int b = 0; b < B; b++) {
            const size_t o = (size_t)b * H;
            ultra2_row(H, V + o, It + o, lt, eps, theta, Vp + o, D + o, st + o);
        }
    }
}

static void forward_ring(ns_neuron_layer *L, int T, int B, int t0, int t1, const float *I, float *s)
{
    (void)T;
    int H = L->o.units;
    size_t n = (size_t)B * H;
    float theta = L->o.theta, eps = ns_eq_eps_from_rhof(L->rho, NULL), *V = L->work;
    const float *c = L->dec_eff;
    if (t0 == 0) memset(V, 0, n * sizeof *V);
    for (int t = t0; t < t1; t++) {
        const float *It = I + t * n;
        float *Vp = L->tape + t * n, *st = s + t * n;
        for (int b = 0; b < B; b++) {
            const float *v = V + (size_t)b * H;
            for (int h = 0; h < H; h++) {
                int l = h ? h - 1 : H - 1, r = h + 1 < H ? h + 1 : 0;
                size_t i = (size_t)b * H + h;
                Vp[i] = ns_eq_ultradlif_pref(v[l], v[h], v[r], It[i], c[h], eps, NULL, NULL);
            }
        }
        for (size_t i = 0; i < n; i++) V[i] = ns_eq_soft_spikef(Vp[i], theta, eps, &st[i]);
    }
}

/* The library's ring: W = tau V + I, u = LSE_eps(W_{h-1}, W_h, W_{h+1}), s = sigmoid((u - theta)/eps),
 * V = W (1 - s). The tape keeps W (rows [0, T)) and u (rows [T, 2T)). */
static void forward_lib_ring(ns_neuron_layer *L, int T, int B, int t0, int t1, const float *I, float *s)
{
    int H = L->o.units;
    size_t n = (size_t)B * H;
    float theta = L->o.theta, eps = ns_eq_eps_from_rhof(L->rho, NULL), *V = L->work;
    const float *tau = L->dec_eff;
    if (t0 == 0) memset(V, 0, n * sizeof *V);
    for (int t = t0; t < t1; t++) {
        const float *It = I + t * n;
        float *W = L->tape + t * n, *U = L->tape + ((size_t)T + t) * n, *st = s + t * n;
        for (int b = 0; b < B; b++) {
            const size_t row = (size_t)b * H;
            for (int h = 0; h < H; h++) W[row + h] = tau[h] * V[row + h] + It[row + h];
        }
        for (int b = 0; b < B; b++) {
            const float *w = W + (size_t)b * H;
            for (int h = 0; h < H; h++) {
                int l = h ? h - 1 : H - 1, r = h + 1 < H ? h + 1 : 0;
                U[(size_t)b * H + h] = ns_eq_lse3f(w[l], w[h], w[r], eps, NULL, NULL);
            }
        }
        for (size_t i = 0; i < n; i++) V[i] = ns_eq_ring_spikef(W[i], U[i], theta, eps, &st[i]);
    }
}

int ns_neuron_layer_forward_steps(ns_neuron_layer *L, int T, int B, int t0, int t1, const float *I, float *s)
{
    if (T < 1 || B < 1 || t0 < 0 || t1 <= t0 || t1 > T) return NS_TRAIN_EINVAL;
    size_t n = (size_t)B * L->o.units;
    if (t0 == 0) {
        L->T = L->B = 0;
        if (reserve(&L->tape, &L->tape_cap, (size_t)L->tape_per * T * n) || reserve(&L->work, &L->work_cap, 3 * n))
            return NS_TRAIN_ENOMEM;
        decay_in_use(L);
        L->fwd_next = 0;
    } else if (t0 != L->fwd_next) {
        return NS_TRAIN_EINVAL;
    }
    if (L->o.syn_alpha > 0) { /* the neuron takes the filtered current */
        if (t0 == 0 && reserve(&L->syn, &L->syn_cap, ((size_t)T + 1) * n)) return NS_TRAIN_ENOMEM;
        const float a = L->o.syn_alpha;
        for (int t = t0; t < t1; t++) {
            const float *It = I + t * n, *prev = L->syn + (t ? t - 1 : 0) * n;
            float *st = L->syn + t * n;
            for (size_t i = 0; i < n; i++) st[i] = ns_eq_syn_stepf(t ? prev[i] : 0, It[i], a);
        }
        I = L->syn;
    }
    switch (L->o.kind) {
    case NS_NEURON_LIF: forward_lif(L, T, B, t0, t1, I, s); break;
    case NS_NEURON_ULTRALIF:
    case NS_NEURON_ULTRAPLIF: forward_ultra2(L, T, B, t0, t1, I, s); break;
    default:
        if (lib_ring(&L->o)) forward_lib_ring(L, T, B, t0, t1, I, s);
        else forward_ring(L, T, B, t0, t1, I, s);
        break;
    }
    L->fwd_next = t1;
    if (t1 == T) {
        L->T = T;
        L->B = B;
        L->bwd_next = T;
    }
    return NS_TRAIN_OK;
}

int ns_neuron_layer_forward(ns_neuron_layer *L, int T, int B, const float *I, float *s)
{
    return ns_neuron_layer_forward_steps(L, T, B, 0, T, I, s);
}

/* ---- backward ---- */

/* sg[i] = the surrogate at x = u[i] - theta, one kind per loop. */
static void surrogate_row(ns_surrogate_kind kind, float p, float theta, size_t n, const float *u,
                          float *sg)
{
    switch (kind) {
    case NS_SURR_FAST_SIGMOID:
        for (size_t i = 0; i < n; i++) sg[i] = ns_eq_surr_fast_sigmoidf(u[i] - theta, p);
        break;
    case NS_SURR_ATAN:
        for (size_t i = 0; i < n; i++) sg[i] = ns_eq_surr_atanf(u[i] - theta, p);
        break;
    case NS_SURR_SIGMOID:
        for (size_t i = 0; i < n; i++) sg[i] = ns_eq_surr_sigmoidf(u[i] - theta, p);
        break;
    case NS_SURR_TRIANGLE:
        for (size_t i = 0; i < n; i++) sg[i] = ns_eq_surr_trianglef(u[i] - theta, p);
        break;
    default: memset(sg, 0, n * sizeof *sg); break;
    }
}

/* One sample's row of H units back through one LIF step, without the beta gradient: from gs
 * and gv (dL/dV after the step) to gv (before it) and gi (gi may be gs). */
static void lif_vjp_row(int H, const float *u, const float *beta, float theta, int sub, const float *sg,
                        const float *gs, float *gv, float *gi)
{
    for (int h = 0; h < H; h++) {
        float ngv, ngi, gb;
        ns_eq_lif_vjpf(u[h], 0, beta[h], theta, sub, sg[h], gs[h], gv[h], &ngv, &ngi, &gb);
        gi[h] = ngi;
        gv[h] = ngv;
    }
}

static void backward_lif(ns_neuron_layer *L, int T, int B, int t0, int t1, const float *ds, float *dI)
{
    int H = L->o.units, sub = L->o.reset == NS_RESET_SUBTRACT;
    size_t n = (size_t)B * H;
    float theta = L->o.theta, *gV = L->work, *sg = L->work + n;
    const float *beta = L->dec_eff;
    if (t1 == T) memset(gV, 0, n * sizeof *gV);
    for (int t = t1 - 1; t >= t0; t--) {
        const float *Ut = L->tape + t * n, *Uprev = t ? L->tape + (t - 1) * n : NULL;
        const float *dst = ds + t * n;
        float *dIt = dI + t * n;
        surrogate_row(L->o.surrogate, L->o.surrogate_param, theta, n, Ut, sg);
        if (!L->n_decay) { /* beta is not learned: no gradient to sum, and the rows vectorize */
            for (int b = 0; b < B; b++) {
                const size_t o = (size_t)b * H;
                lif_vjp_row(H, Ut + o, beta, theta, sub, sg + o, dst + o, gV + o, dIt + o);
            }
            continue;
        }
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++) {
                size_t i = (size_t)b * H + h;
                float v = Uprev ? ns_eq_lif_resetf(Uprev[i], theta, sub) : 0, gv, gi, gb;
                ns_eq_lif_vjpf(Ut[i], v, beta[h], theta, sub, sg[i], dst[i], gV[i], &gv, &gi,
                               &gb);
                dIt[i] = gi;
                gV[i] = gv;
                L->gacc[h] += gb;
            }
    }
}

static double backward_ultra2(ns_neuron_layer *L, int T, int B, int t0, int t1, const float *ds, float *dI)
{
    int H = L->o.units;
    size_t n = (size_t)B * H;
    float theta = L->o.theta, eps = ns_eq_eps_from_rhof(L->rho, NULL), *gV = L->work;
    double geps = 0;
    if (t1 == T) memset(gV, 0, n * sizeof *gV);
    for (int t = t1 - 1; t >= t0; t--) {
        const float *Vp = L->tape + t * n, *D = L->tape + ((size_t)T + t) * n, *dst = ds + t * n;
        float *dIt = dI + t * n;
        for (int b = 0; b < B; b++) {
            float ge = 0; /* one row's sum, then into the double total */
            for (int h = 0; h < H; h++) {
                size_t i = (size_t)b * H + h;
                float gv, gi, glt;
                ns_eq_ultralif_vjpf(D[i], Vp[i], theta, eps, dst[i], gV[i], &gv, &gi, &glt, &ge);
                dIt[i] = gi;
                gV[i] = gv;
                L->gacc[h] += glt;
            }
            geps += ge;
        }
    }
    return geps;
}

static double backward_ring(ns_neuron_layer *L, int T, int B, int t0, int t1, const float *ds, float *dI)
{
    int H = L->o.units;
    size_t n = (size_t)B * H;
    float theta = L->o.theta, eps = ns_eq_eps_from_rhof(L->rho, NULL);
    float *gV = L->work, *gVprev = L->work + n, *Vprev = L->work + 2 * n;
    const float *c = L->dec_eff;
    double geps = 0;
    if (t1 == T) memset(gV, 0, n * sizeof *gV);
    for (int t = t1 - 1; t >= t0; t--) {
        const float *Vp = L->tape + t * n, *dst = ds + t * n;
        float *gvp = dI + t * n; /* dV'/dI = 1: dL/dI is dL/dV' */
        float ge = 0;
        for (size_t i = 0; i < n; i++)
            gvp[i] = ns_eq_soft_spike_vjpf(Vp[i], theta, eps, dst[i], gV[i], &ge);
        geps += ge;
        if (t) {
            const float *Vpp = L->tape + (t - 1) * n;
            float sdummy;
            for (size_t i = 0; i < n; i++) Vprev[i] = ns_eq_soft_spikef(Vpp[i], theta, eps, &sdummy);
        } else {
            memset(Vprev, 0, n * sizeof *Vprev);
        }
        memset(gVprev, 0, n * sizeof *gVprev);
        for (int b = 0; b < B; b++) {
            const float *v = Vprev + (size_t)b * H;
            float *gp = gVprev + (size_t)b * H;
            const float *g = gvp + (size_t)b * H;
            ge = 0;
            for (int h = 0; h < H; h++) {
                int l = h ? h - 1 : H - 1, r = h + 1 < H ? h + 1 : 0;
                float p[3], pe;
                ns_eq_ultradlif_pref(v[l], v[h], v[r], 0, c[h], eps, p, &pe);
                gp[l] += g[h] * p[0];
                gp[h] += g[h] * p[1] * c[h];
                gp[r] += g[h] * p[2];
                ge += g[h] * pe;
                L->gacc[h] += g[h] * p[1] * v[h]; /* d(c v_h)/dc */
            }
            geps += ge;
        }
        memcpy(gV, gVprev, n * sizeof *gV); /* gV stays in place between calls */
    }
    return geps;
}

/* Back through the library's ring (forward_lib_ring). gV (work) carries dL/dV after step t. */
static double backward_lib_ring(ns_neuron_layer *L, int T, int B, int t0, int t1, const float *ds, float *dI)
{
    int H = L->o.units;
    size_t n = (size_t)B * H;
    float theta = L->o.theta, eps = ns_eq_eps_from_rhof(L->rho, NULL);
    float *gV = L->work, *gu = L->work + n, *Vprev = L->work + 2 * n;
    const float *tau = L->dec_eff;
    double geps = 0;
    if (t1 == T) memset(gV, 0, n * sizeof *gV);
    for (int t = t1 - 1; t >= t0; t--) {
        const float *W = L->tape + t * n, *U = L->tape + ((size_t)T + t) * n, *dst = ds + t * n;
        float *gW = dI + t * n; /* dW/dI = 1: dL/dI is dL/dW */
        float ge = 0;
        for (size_t i = 0; i < n; i++) gu[i] = ns_eq_ring_spike_vjpf(W[i], U[i], theta, eps, dst[i], gV[i], &gW[i], &ge);
        for (int b = 0; b < B; b++) {
            const float *w = W + (size_t)b * H, *g = gu + (size_t)b * H;
            float *gw = gW + (size_t)b * H;
            for (int h = 0; h < H; h++) {
                int l = h ? h - 1 : H - 1, r = h + 1 < H ? h + 1 : 0;
                float p[3], pe;
                ns_eq_lse3f(w[l], w[h], w[r], eps, p, &pe);
                gw[l] += g[h] * p[0];
                gw[h] += g[h] * p[1];
                gw[r] += g[h] * p[2];
                ge += g[h] * pe;
            }
        }
        geps += ge;
        if (t) { /* the membrane step t began from: W and u of step t - 1 */
            const float *Wp = L->tape + (t - 1) * n, *Up = L->tape + ((size_t)T + t - 1) * n;
            float sdummy;
            for (size_t i = 0; i < n; i++) Vprev[i] = ns_eq_ring_spikef(Wp[i], Up[i], theta, eps, &sdummy);
        } else {
            memset(Vprev, 0, n * sizeof *Vprev);
        }
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++) {
                const size_t i = (size_t)b * H + h;
                L->gacc[h] += gW[i] * Vprev[i]; /* d(tau V)/dtau */
                gV[i] = gW[i] * tau[h];
            }
    }
    return geps;
}

int ns_neuron_layer_backward_steps(ns_neuron_layer *L, int T, int B, int t0, int t1, const float *ds, float *dI)
{
    if (T < 1 || B < 1 || T != L->T || B != L->B || t0 < 0 || t1 <= t0 || t1 != L->bwd_next) return NS_TRAIN_EINVAL;
    int H = L->o.units;
    if (t1 == T) {
        L->geps = 0;
        for (int h = 0; h < H; h++) L->gacc[h] = 0;
    }
    switch (L->o.kind) {
    case NS_NEURON_LIF: backward_lif(L, T, B, t0, t1, ds, dI); break;
    case NS_NEURON_ULTRALIF:
    case NS_NEURON_ULTRAPLIF: L->geps += backward_ultra2(L, T, B, t0, t1, ds, dI); break;
    default: L->geps += lib_ring(&L->o) ? backward_lib_ring(L, T, B, t0, t1, ds, dI) : backward_ring(L, T, B, t0, t1, ds, dI); break;
    }
    if (L->o.syn_alpha > 0) { /* dI so far is w.r.t. the filtered current: run the filter's adjoint */
        const size_t n = (size_t)B * H;
        const float a = L->o.syn_alpha;
        float *carry = L->syn + (size_t)T * n; /* g_syn of step t1, from the piece after this one */
        if (t1 == T) memset(carry, 0, n * sizeof *carry);
        for (int t = t1 - 1; t >= t0; t--) {
            float *dIt = dI + t * n;
            for (size_t i = 0; i < n; i++) carry[i] = dIt[i] = ns_eq_syn_stepf(carry[i], dIt[i], a);
        }
    }
    L->bwd_next = t0;
    if (t0) return NS_TRAIN_OK;
    L->bwd_next = T; /* the tape may be replayed again */
    if (is_ultra(L->o.kind) && L->o.learn_eps) {
        float deps_drho;
        ns_eq_eps_from_rhof(L->rho, &deps_drho);
        L->drho += (float)(L->geps * deps_drho);
    }
    if (L->n_decay) {
        if (L->n_decay == H) {
            for (int h = 0; h < H; h++) L->ddecay[h] += (float)(L->gacc[h] * L->dec_d[h]);
        } else {
            double sum = 0;
            for (int h = 0; h < H; h++) sum += L->gacc[h] * L->dec_d[h];
            L->ddecay[0] += (float)sum;
        }
    }
    return NS_TRAIN_OK;
}

int ns_neuron_layer_backward(ns_neuron_layer *L, int T, int B, const float *ds, float *dI)
{
    return ns_neuron_layer_backward_steps(L, T, B, 0, T, ds, dI);
}

/* ---- readouts ---- */

void ns_readout_mean_forward(int T, int B, int O, const float *y, float *logits)
{
    size_t n = (size_t)B * O;
    for (size_t i = 0; i < n; i++) {
        float sum = 0;
        for (int t = 0; t < T; t++) sum += y[t * n + i];
        logits[i] = sum / (float)T;
    }
}

void ns_readout_mean_backward(int T, int B, int O, const float *dlogits, float *dy)
{
    size_t n = (size_t)B * O;
    for (int t = 0; t < T; t++)
        for (size_t i = 0; i < n; i++) dy[t * n + i] = dlogits[i] / (float)T;
}

void ns_readout_leaky_forward(int T, int B, int O, float beta, float alpha, const float *y,
                              float *logits, int *t_max)
{
    size_t n = (size_t)B * O;
    for (size_t i = 0; i < n; i++) {
        float syn = 0, u = 0, best = -INFINITY;
        int at = 0;
        for (int t = 0; t < T; t++) {
            syn = alpha * syn + y[t * n + i];
            u = beta * u + syn;
            if (u > best) { /* the first maximum, as torch.max */
                best = u;
                at = t;
            }
        }
        logits[i] = best;
        t_max[i] = at;
    }
}

void ns_readout_leaky_backward(int T, int B, int O, float beta, float alpha, const int *t_max,
                               const float *dlogits, float *dy)
{
    size_t n = (size_t)B * O;
    for (size_t i = 0; i < n; i++) {
        float gu = 0, gsyn = 0;
        for (int t = T - 1; t >= 0; t--) {
            gu = beta * gu + (t == t_max[i] ? dlogits[i] : 0);
            gsyn = alpha * gsyn + gu;
            dy[t * n + i] = gsyn;
        }
    }
}

/* ---- losses ---- */

double ns_loss_cross_entropy_sum(int B, int C, const float *logits, const int *labels, float *dlogits, int batch)
{
    for (int b = 0; b < B; b++)
        if (labels[b] < 0 || labels[b] >= C) return NAN;
    double loss = 0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * C;
        double m = z[0], sum = 0;
        for (int k = 1; k < C; k++) m = z[k] > m ? z[k] : m;
        for (int k = 0; k < C; k++) sum += exp(z[k] - m);
        double lse = m + log(sum);
        loss += lse - z[labels[b]];
        if (dlogits) {
            float *g = dlogits + (size_t)b * C;
            for (int k = 0; k < C; k++)
                g[k] = (float)((exp(z[k] - lse) - (k == labels[b])) / batch);
        }
    }
    return loss;
}

double ns_loss_cross_entropy(int B, int C, const float *logits, const int *labels, float *dlogits)
{
    return ns_loss_cross_entropy_sum(B, C, logits, labels, dlogits, B) / B;
}

float ns_loss_sparsity(size_t n, const float *s, float lambda, float *ds)
{
    if (n == 0) return 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += s[i];
    if (ds) {
        float g = (float)(lambda / (double)n);
        for (size_t i = 0; i < n; i++) ds[i] += g;
    }
    return (float)(lambda * sum / (double)n);
}

int ns_count_correct(int B, int C, const float *logits, const int *labels)
{
    int correct = 0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * C;
        int best = 0;
        for (int k = 1; k < C; k++)
            if (z[k] > z[best]) best = k;
        correct += best == labels[b];
    }
    return correct;
}

void ns_neuron_layer_decay(ns_neuron_layer *L, float *out)
{
    decay_in_use(L);
    memcpy(out, L->dec_eff, (size_t)L->o.units * sizeof *out);
}
