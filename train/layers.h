/* train/layers.h — spiking neuron layers over T steps with hand-written BPTT, readouts, losses.
 * Arrays are time-major [T][B][H] float32. A layer's forward keeps a tape of one or two floats per
 * unit and step, and its backward replays it from the last step to the first; the elementwise
 * equations and their derivatives come from models/neuron_eq.h, the simulator's own. */
#ifndef NS_LAYERS_H
#define NS_LAYERS_H

#include <stddef.h>

#include "models/neuron_eq.h"
#include "train/tensor.h"

/* X(ID, name): the neuron layers. */
#define NS_NEURON_KINDS(X)                 \
    X(NS_NEURON_LIF, "lif")                \
    X(NS_NEURON_ULTRALIF, "ultralif")      \
    X(NS_NEURON_ULTRAPLIF, "ultraplif")    \
    X(NS_NEURON_ULTRADLIF, "ultradlif")    \
    X(NS_NEURON_ULTRADPLIF, "ultradplif")

typedef enum {
#define NS_LAYERS_X_(id, name) id,
    NS_NEURON_KINDS(NS_LAYERS_X_)
#undef NS_LAYERS_X_
    NS_NEURON_COUNT
} ns_neuron_kind;

typedef enum { NS_RESET_ZERO, NS_RESET_SUBTRACT } ns_reset_kind;

/* The UltraLIF repository's two definitions of its neurons (../docs/models.md): the library
 * classes its experiments train (ultralif/neurons/ultra.py, ultradlif.py), and the ablation
 * classes (ablations/eps_ablation.py). */
typedef enum { NS_ULTRA_LIBRARY, NS_ULTRA_ABLATION } ns_ultra_definition;

/* A neuron layer's settings (dimensionless units).
 *   lif         U = beta V + I, S = H(U - theta), reset (zero or subtract, S detached); backward
 *               uses the surrogate. beta fixed, or learned (clamped to [0, 1] as snnTorch does).
 *               With syn_alpha > 0, I is first filtered: syn = alpha syn + I drives U instead.
 *               theta 1.
 * The Ultra layers, with s = sigmoid((x - theta)/eps) (theta 0 in the library, 1 in the ablation):
 *   ultralif    V' = LSE_eps(V + ln tau, I), s from x = V', V = V'(1 - s); tau fixed.
 *   ultraplif   the same with ln tau learned; with tau_clamp (the ablation's) used as
 *               clamp(ln tau, -2.3, -0.01), else as it is (the library's).
 *   ultradlif   library: a linear membrane W_h = tau V_h + I_h (tau fixed); s from
 *               x = LSE_eps(W_{h-1}, W_h, W_{h+1}) over the ring of the H units of each sample
 *               (indices mod H, as torch.roll); V = W (1 - s).
 *               ablation: V'_h = LSE_eps(V_{h-1}, V_h, V_{h+1}) + I_h, s from x = V', V = V'(1 - s);
 *               tau is not used.
 *   ultradplif  library: the same with tau = sigmoid(tau_raw) learned (tau_raw starts at
 *               logit(tau); with tau_clamp tau is also clamped to [0.1, 0.99]).
 *               ablation: the middle term is tau V_h, tau = exp(ln tau) learned, with tau_clamp
 *               (the ablation's) clamped to [0.1, 0.99].
 * Ultra layers learn one eps per layer as rho = ln eps, used as clamp(exp(rho), 0.1, 20).
 * A learned decay (beta, ln tau, tau_raw) is one per neuron (per_neuron 1) or one per layer (0). */
typedef struct {
    ns_neuron_kind kind;
    int units;                   /* H >= 1 */
    float theta;                 /* lif 1; ultra* library 0, ablation 1 */
    float beta;                  /* lif: 0.9 */
    int learn_beta;              /* lif: 0 */
    ns_surrogate_kind surrogate; /* lif: NS_SURR_ATAN */
    float surrogate_param;       /* lif: the kind's default (ns_surrogate_default) */
    ns_reset_kind reset;         /* lif: NS_RESET_ZERO */
    float syn_alpha;             /* lif: 0; in (0, 1) a synaptic current syn = alpha syn + I drives
                                    U = beta V + syn (snnTorch's Synaptic, SpyTorch's hidden layer) */
    ns_ultra_definition definition; /* ultra*: NS_ULTRA_LIBRARY */
    float tau;                   /* ultra*: the fixed tau or the learned one's start, in (0, 1):
                                    0.9, library ultradplif sigmoid(0.9) = 0.7109495 */
    int tau_clamp;               /* ultraplif, ultradplif: library 0, ablation 1 */
    float eps;                   /* ultra*: 1, the start of eps */
    int learn_eps;               /* ultra*: 1 */
    int per_neuron;              /* the learned decay: lif 1; ultraplif, ultradplif 0 (per layer) */
} ns_neuron_opts;

/* The defaults above for a layer of `units` neurons of `kind` (the library definition). */
ns_neuron_opts ns_neuron_opts_default(ns_neuron_kind kind, int units);
/* The same under the given definition of the Ultra neurons (lif: ns_neuron_opts_default). */
ns_neuron_opts ns_neuron_opts_ultra(ns_neuron_kind kind, int units, ns_ultra_definition def);
/* "library", "ablation" and back (0, or -1 for an unknown name). */
const char *ns_ultra_definition_name(ns_ultra_definition def);
int ns_ultra_definition_from_name(const char *name, ns_ultra_definition *def);
/* Names ("lif", "ultralif", ...; "fast_sigmoid", "atan", "sigmoid", "triangle") and back;
 * the lookups return 0, or -1 for an unknown name. */
const char *ns_neuron_kind_name(ns_neuron_kind kind);
int ns_neuron_kind_from_name(const char *name, ns_neuron_kind *kind);
const char *ns_surrogate_name(ns_surrogate_kind kind);
int ns_surrogate_from_name(const char *name, ns_surrogate_kind *kind);
/* The surrogate's default parameter (fast_sigmoid 25, atan 2, sigmoid 25, triangle 1). */
float ns_surrogate_default(ns_surrogate_kind kind);

typedef struct ns_neuron_layer ns_neuron_layer;

/* A layer with these settings, or NULL for bad settings (units < 1, tau outside (0, 1),
 * eps <= 0, ...) or out of memory. */
ns_neuron_layer *ns_neuron_layer_create(const ns_neuron_opts *opts);
void ns_neuron_layer_free(ns_neuron_layer *L); /* NULL is harmless */
/* The settings the layer was made with (learned values live in its params). */
const ns_neuron_opts *ns_neuron_layer_opts(const ns_neuron_layer *L);

/* Run T steps for B samples from rest (V = 0): I[T][B][H] -> s[T][B][H] (lif: exactly 0 or 1;
 * ultra*: in (0, 1)). Keeps the tape backward replays, growing it as T*B needs:
 * lif the pre-reset U, ultralif/ultraplif V' and the LSE logit (V + ln tau - I)/eps,
 * ultradlif/ultradplif V' (ablation) or W and u (library) — 4, 8, 4 or 8 bytes per unit and step
 * (a lif with syn_alpha also keeps the filtered current, 4 more), plus 3 B H floats of work
 * arrays (4 with syn_alpha).
 * s may be I. Status 0, -1 (T or B < 1), -2 (out of memory). */
int ns_neuron_layer_forward(ns_neuron_layer *L, int T, int B, const float *I, float *s);
/* BPTT over the last forward's T, B: from ds[T][B][H] = dL/ds writes dI[T][B][H] = dL/dI (dI may
 * be ds) and adds the parameter gradients. Status 0, or -1 without a forward of this T, B. */
int ns_neuron_layer_backward(ns_neuron_layer *L, int T, int B, const float *ds, float *dI);
/* The same in pieces, for recurrent layers whose input of step t needs the output of t - 1:
 * forward steps [t0, t1) in order from t0 = 0 to t1 = T, then backward in reverse from t1 = T
 * down to t0 = 0 (I, s, ds, dI are the whole [T][B][H] arrays; only the steps' rows are read or
 * written). -1 for a call out of that order. */
int ns_neuron_layer_forward_steps(ns_neuron_layer *L, int T, int B, int t0, int t1, const float *I, float *s);
int ns_neuron_layer_backward_steps(ns_neuron_layer *L, int T, int B, int t0, int t1, const float *ds, float *dI);
/* Zero the parameter gradients. */
void ns_neuron_layer_zero_grad(ns_neuron_layer *L);
/* Lend the learned parameters into out[NS_NEURON_MAX_PARAMS]; returns the count (0..2):
 * "beta" (lif, learn_beta), "rho" (ultra*, learn_eps: ln eps, 1 value), "ln_tau" (ultraplif,
 * ablation ultradplif), "tau_raw" (library ultradplif). Per-neuron arrays have H values,
 * per-layer ones 1. */
#define NS_NEURON_MAX_PARAMS 2
int ns_neuron_layer_params(ns_neuron_layer *L, ns_train_param out[NS_NEURON_MAX_PARAMS]);
/* The eps in use now, clamp(exp(rho), 0.1, 20) (ultra*), or 0 (lif). */
float ns_neuron_layer_eps(const ns_neuron_layer *L);
/* The decay each neuron uses now (H values): LIF's (clamped) beta, UltraLIF's (clamped) ln tau,
 * the ring's tau (library UltraDLIF and UltraDPLIF, ablation UltraDPLIF), 1 for the ablation's
 * UltraDLIF — what a simulator model of the trained layer needs. */
void ns_neuron_layer_decay(ns_neuron_layer *L, float *out);

/* ---- readouts: logits[B][O] from the readout Linear's output y[T][B][O] ---- */

/* UltraLIF's and the reference script's readout: logits = mean over t of y_t. (Since the Linear
 * is linear, Linear(mean_t s_t) gives the same logits with one T-th of the product.) */
void ns_readout_mean_forward(int T, int B, int O, const float *y, float *logits);
/* dy[t][b][o] = dlogits[b][o] / T. */
void ns_readout_mean_backward(int T, int B, int O, const float *dlogits, float *dy);

/* SpyTorch's leaky readout: a non-spiking membrane with an optional synaptic filter,
 * syn_t = alpha syn_{t-1} + y_t, U_t = beta U_{t-1} + syn_t (from 0), logits = max_t U_t; the
 * step of each maximum goes to t_max[B][O] for backward. alpha 0 drops the filter. (SpyTorch's
 * membrane lags its current by one step and its max also sees the resting 0; here the last
 * input counts and the max is over U_1..U_T.) */
void ns_readout_leaky_forward(int T, int B, int O, float beta, float alpha, const float *y,
                              float *logits, int *t_max);
/* dy[T][B][O] from dlogits[B][O], through the max (to its step) and the two leaky sums. */
void ns_readout_leaky_backward(int T, int B, int O, float beta, float alpha, const int *t_max,
                               const float *dlogits, float *dy);

/* ---- losses ---- */

/* Softmax cross-entropy of logits[B][C] against labels in [0, C), mean over the batch; with
 * dlogits (nullable) = (softmax - onehot)/B. NAN (dlogits untouched) if a label is out of range. */
double ns_loss_cross_entropy(int B, int C, const float *logits, const int *labels, float *dlogits);
/* The same over a part of B rows of a batch of `batch`: the loss summed over the part's rows (not
 * the mean), dlogits = (softmax - onehot)/batch. NAN for a label out of range. */
double ns_loss_cross_entropy_sum(int B, int C, const float *logits, const int *labels, float *dlogits, int batch);
/* Sparsity term lambda * mean(s) over n values; adds its gradient lambda/n to ds (nullable). */
float ns_loss_sparsity(size_t n, const float *s, float lambda, float *ds);
/* How many rows of logits[B][C] have their (first) maximum at the label. */
int ns_count_correct(int B, int C, const float *logits, const int *labels);

#endif
