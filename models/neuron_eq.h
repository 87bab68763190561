/* models/neuron_eq.h — the elementwise neuron equations (UltraLIF family, surrogate-gradient LIF)
 * and every partial derivative BPTT needs, as static inline functions.
 * One model definition: train/ and the simulator's models call these, never a copy. Each function
 * exists in double (ns_eq_x) and float (ns_eq_xf): the body below is written once over NS_EQ_R and
 * this header includes itself twice to instantiate it. */

#ifndef NS_EQ_R /* ---------------- the shared part, read once ---------------- */
#ifndef NS_NEURON_EQ_H
#define NS_NEURON_EQ_H

#include <math.h>

/* Surrogate derivatives of the Heaviside step, x = V - theta (see ns_eq_surrogate below for the
 * formulas and their scale conventions). X(ID, name, default parameter). */
#define NS_SURROGATES(X)                      \
    X(NS_SURR_FAST_SIGMOID, "fast_sigmoid", 25) \
    X(NS_SURR_ATAN, "atan", 2)                  \
    X(NS_SURR_SIGMOID, "sigmoid", 25)           \
    X(NS_SURR_TRIANGLE, "triangle", 1)

typedef enum {
#define NS_EQ_X_(id, name, def) id,
    NS_SURROGATES(NS_EQ_X_)
#undef NS_EQ_X_
    NS_SURR_COUNT
} ns_surrogate_kind;

/* Type-generic math on the body's real type, without <tgmath.h>'s global override. */
#define NS_EQ_EXP(x) _Generic((x), float: expf, default: exp)(x)
#define NS_EQ_LOG(x) _Generic((x), float: logf, default: log)(x)
#define NS_EQ_LOG1P(x) _Generic((x), float: log1pf, default: log1p)(x)
#define NS_EQ_FABS(x) _Generic((x), float: fabsf, default: fabs)(x)

#define NS_EQ_R double
#define NS_EQ_F(name) name
#include "models/neuron_eq.h"
#undef NS_EQ_R
#undef NS_EQ_F

#define NS_EQ_R float
#define NS_EQ_F(name) name##f
#include "models/neuron_eq.h"
#undef NS_EQ_R
#undef NS_EQ_F

#endif /* NS_NEURON_EQ_H */

#else /* ---------------- the body, once per real type ---------------- */
/* Constants are integers or cast to R, so the float copy never computes in double. */

/* ---- logistic helpers ---- */

/* Logistic sigmoid 1/(1 + e^-x), no overflow for any x. */
static inline NS_EQ_R NS_EQ_F(ns_eq_sigmoid)(NS_EQ_R x)
{
    if (x >= 0) return 1 / (1 + NS_EQ_EXP(-x));
    NS_EQ_R e = NS_EQ_EXP(x);
    return e / (1 + e);
}

/* s = sigmoid(x) and its complement c = 1 - s = sigmoid(-x), each to full relative precision. */
static inline void NS_EQ_F(ns_eq_sigmoid2)(NS_EQ_R x, NS_EQ_R *s, NS_EQ_R *c)
{
    NS_EQ_R e = NS_EQ_EXP(-NS_EQ_FABS(x)); /* in (0, 1] */
    NS_EQ_R big = 1 / (1 + e), small = e / (1 + e);
    *s = x >= 0 ? big : small;
    *c = x >= 0 ? small : big;
}

/* ---- soft max-plus LSE_eps ----
 * LSE_eps(a_1..a_n) = m + eps ln sum exp((a_i - m)/eps), m = max a_i; max <= LSE <= max + eps ln n.
 * dLSE/da_i = softmax(a/eps)_i; dLSE/deps = (LSE - sum_i p_i a_i)/eps, the entropy of p (>= 0). */

/* Two-term LSE_eps(a, b), eps > 0. */
static inline NS_EQ_R NS_EQ_F(ns_eq_lse2)(NS_EQ_R a, NS_EQ_R b, NS_EQ_R eps)
{
    NS_EQ_R m = a > b ? a : b;
    return m + eps * NS_EQ_LOG1P(NS_EQ_EXP(-NS_EQ_FABS(a - b) / eps));
}

/* Partials of LSE_eps(a, b) from its logit d = (a - b)/eps: da = sigmoid(d), db = sigmoid(-d),
 * deps = ln(1 + e^-|d|) + |d| sigmoid(-|d|) (the entropy of (da, db)). */
static inline void NS_EQ_F(ns_eq_lse2_grad_logit)(NS_EQ_R d, NS_EQ_R *da, NS_EQ_R *db,
                                                   NS_EQ_R *deps)
{
    NS_EQ_R ad = NS_EQ_FABS(d), e = NS_EQ_EXP(-ad);
    NS_EQ_R big = 1 / (1 + e), small = e / (1 + e);
    *da = d >= 0 ? big : small;
    *db = d >= 0 ? small : big;
    *deps = NS_EQ_LOG1P(e) + ad * small;
}

/* Partials of LSE_eps(a, b) w.r.t. a, b and eps. */
static inline void NS_EQ_F(ns_eq_lse2_grad)(NS_EQ_R a, NS_EQ_R b, NS_EQ_R eps, NS_EQ_R *da,
                                             NS_EQ_R *db, NS_EQ_R *deps)
{
    NS_EQ_F(ns_eq_lse2_grad_logit)((a - b) / eps, da, db, deps);
}

/* Three-term LSE_eps(a, b, c); p (nullable) receives softmax((a, b, c)/eps), deps (nullable)
 * dLSE/deps. */
static inline NS_EQ_R NS_EQ_F(ns_eq_lse3)(NS_EQ_R a, NS_EQ_R b, NS_EQ_R c, NS_EQ_R eps,
                                          NS_EQ_R p[3], NS_EQ_R *deps)
{
    NS_EQ_R m = a > b ? a : b;
    m = m > c ? m : c;
    NS_EQ_R za = (a - m) / eps, zb = (b - m) / eps, zc = (c - m) / eps; /* <= 0, one is 0 */
    NS_EQ_R ea = NS_EQ_EXP(za), eb = NS_EQ_EXP(zb), ec = NS_EQ_EXP(zc);
    NS_EQ_R sum = ea + eb + ec, lz = NS_EQ_LOG(sum); /* sum in [1, 3] */
    if (p || deps) {
        NS_EQ_R pa = ea / sum, pb = eb / sum, pc = ec / sum;
        if (p) {
            p[0] = pa;
            p[1] = pb;
            p[2] = pc;
        }
        if (deps) *deps = lz - (pa * za + pb * zb + pc * zc);
    }
    return m + eps * lz;
}

/* ---- learnable temperature and decay, as the UltraLIF code parametrises them ---- */

/* eps = clamp(exp(rho), 0.1, 20); *deps_drho = exp(rho) inside the range, 0 outside. */
static inline NS_EQ_R NS_EQ_F(ns_eq_eps_from_rho)(NS_EQ_R rho, NS_EQ_R *deps_drho)
{
    NS_EQ_R e = NS_EQ_EXP(rho), lo = (NS_EQ_R)0.1, hi = 20;
    NS_EQ_R d = e, v = e;
    if (e < lo) { v = lo; d = 0; }
    if (e > hi) { v = hi; d = 0; }
    if (deps_drho) *deps_drho = d;
    return v;
}

/* UltraPLIF's ln tau: clamp(x, -2.3, -0.01); *dx = 1 inside the range, 0 outside. */
static inline NS_EQ_R NS_EQ_F(ns_eq_ln_tau_clamp)(NS_EQ_R x, NS_EQ_R *dx)
{
    NS_EQ_R lo = (NS_EQ_R)-2.3, hi = (NS_EQ_R)-0.01, v = x, d = 1;
    if (x < lo) { v = lo; d = 0; }
    if (x > hi) { v = hi; d = 0; }
    if (dx) *dx = d;
    return v;
}

/* UltraDPLIF's tau: clamp(exp(x), 0.1, 0.99); *dx = exp(x) inside the range, 0 outside. */
static inline NS_EQ_R NS_EQ_F(ns_eq_tau_from_ln)(NS_EQ_R x, NS_EQ_R *dx)
{
    NS_EQ_R e = NS_EQ_EXP(x), lo = (NS_EQ_R)0.1, hi = (NS_EQ_R)0.99, v = e, d = e;
    if (e < lo) { v = lo; d = 0; }
    if (e > hi) { v = hi; d = 0; }
    if (dx) *dx = d;
    return v;
}

/* ---- soft spike and soft reset (all UltraLIF variants) ----
 * s = sigmoid((V' - theta)/eps), V_new = V'(1 - s). ds/dV' = s(1-s)/eps,
 * ds/deps = -s(1-s)(V' - theta)/eps^2, dV_new/dV' = (1 - s) - V' s(1-s)/eps. */

/* Spike s and the reset membrane (returned) from the pre-reset membrane vp. */
static inline NS_EQ_R NS_EQ_F(ns_eq_soft_spike)(NS_EQ_R vp, NS_EQ_R theta, NS_EQ_R eps,
                                                NS_EQ_R *s)
{
    NS_EQ_R sp, sc;
    NS_EQ_F(ns_eq_sigmoid2)((vp - theta) / eps, &sp, &sc);
    *s = sp;
    return vp * sc;
}

/* Backward through spike and reset: given dL/ds (gs, from outside) and dL/dV_new (gvn, from the
 * next step), return dL/dV' and add the direct dL/deps to *geps. */
static inline NS_EQ_R NS_EQ_F(ns_eq_soft_spike_vjp)(NS_EQ_R vp, NS_EQ_R theta, NS_EQ_R eps,
                                                    NS_EQ_R gs, NS_EQ_R gvn, NS_EQ_R *geps)
{
    NS_EQ_R s, sc;
    NS_EQ_F(ns_eq_sigmoid2)((vp - theta) / eps, &s, &sc);
    NS_EQ_R gs_tot = gs - gvn * vp; /* s also enters V_new = V' - V' s */
    NS_EQ_R q = s * sc / eps;       /* ds/dV' */
    *geps -= gs_tot * q * (vp - theta) / eps;
    return sc * gvn + gs_tot * q;
}

/* ---- UltraLIF / UltraPLIF: V' = LSE_eps(V + ln tau, I), soft spike, soft reset ---- */

/* One step from the reset membrane v and input i; writes V' (vp) and s, returns V_new. */
static inline NS_EQ_R NS_EQ_F(ns_eq_ultralif_step)(NS_EQ_R v, NS_EQ_R i, NS_EQ_R ln_tau,
                                                   NS_EQ_R eps, NS_EQ_R theta, NS_EQ_R *vp,
                                                   NS_EQ_R *s)
{
    *vp = NS_EQ_F(ns_eq_lse2)(v + ln_tau, i, eps);
    return NS_EQ_F(ns_eq_soft_spike)(*vp, theta, eps, s);
}

/* Backward through one step. d = (v + ln_tau - i)/eps is the LSE logit of the forward step,
 * vp its V'. From gs = dL/ds and gvn = dL/dV_new: writes dL/dv (gv), dL/di (gi), dL/dln_tau
 * (glt, equal to gv) and adds dL/deps to *geps. */
static inline void NS_EQ_F(ns_eq_ultralif_vjp)(NS_EQ_R d, NS_EQ_R vp, NS_EQ_R theta, NS_EQ_R eps,
                                               NS_EQ_R gs, NS_EQ_R gvn, NS_EQ_R *gv, NS_EQ_R *gi,
                                               NS_EQ_R *glt, NS_EQ_R *geps)
{
    NS_EQ_R gvp = NS_EQ_F(ns_eq_soft_spike_vjp)(vp, theta, eps, gs, gvn, geps);
    NS_EQ_R pa, pb, pe;
    NS_EQ_F(ns_eq_lse2_grad_logit)(d, &pa, &pb, &pe);
    *gv = gvp * pa;
    *glt = gvp * pa;
    *gi = gvp * pb;
    *geps += gvp * pe;
}

/* ---- UltraDLIF / UltraDPLIF: units on a ring ----
 * V'_i = LSE_eps(V_{i-1}, c V_i, V_{i+1}) + I_i with c = 1 (UltraDLIF) or tau (UltraDPLIF),
 * then the same soft spike and reset. */

/* The pre-reset membrane of one ring unit from its left, own and right reset membranes.
 * p (nullable) receives dV'/d(vl, c vm, vr); deps (nullable) dV'/deps. */
static inline NS_EQ_R NS_EQ_F(ns_eq_ultradlif_pre)(NS_EQ_R vl, NS_EQ_R vm, NS_EQ_R vr, NS_EQ_R i,
                                                   NS_EQ_R c, NS_EQ_R eps, NS_EQ_R p[3],
                                                   NS_EQ_R *deps)
{
    return NS_EQ_F(ns_eq_lse3)(vl, c * vm, vr, eps, p, deps) + i;
}

/* ---- the library's UltraDLIF / UltraDPLIF (ultralif/neurons/ultradlif.py) ----
 * A linear membrane W_i = tau V_i + I_i; the ring enters only the spike: u_i = LSE_eps(W_{i-1},
 * W_i, W_{i+1}) (ns_eq_lse3), s_i = sigmoid((u_i - theta)/eps); the linear membrane is reset,
 * V_i = W_i (1 - s_i). UltraDPLIF learns tau = sigmoid(tau_raw). */

/* Spike s from u and the reset membrane (returned) from w. */
static inline NS_EQ_R NS_EQ_F(ns_eq_ring_spike)(NS_EQ_R w, NS_EQ_R u, NS_EQ_R theta, NS_EQ_R eps,
                                                NS_EQ_R *s)
{
    NS_EQ_R sp, sc;
    NS_EQ_F(ns_eq_sigmoid2)((u - theta) / eps, &sp, &sc);
    *s = sp;
    return w * sc;
}

/* Backward through that spike and reset: from gs = dL/ds and gvn = dL/dV_new, writes the direct
 * dL/dw through the reset (gw), adds the direct dL/deps to *geps and returns dL/du. */
static inline NS_EQ_R NS_EQ_F(ns_eq_ring_spike_vjp)(NS_EQ_R w, NS_EQ_R u, NS_EQ_R theta,
                                                    NS_EQ_R eps, NS_EQ_R gs, NS_EQ_R gvn,
                                                    NS_EQ_R *gw, NS_EQ_R *geps)
{
    NS_EQ_R s, sc;
    NS_EQ_F(ns_eq_sigmoid2)((u - theta) / eps, &s, &sc);
    NS_EQ_R gs_tot = gs - gvn * w; /* V_new = w - w s */
    NS_EQ_R q = s * sc / eps;      /* ds/du */
    *gw = sc * gvn;
    *geps -= gs_tot * q * (u - theta) / eps;
    return gs_tot * q;
}

/* tau = sigmoid(x), clamped to [0.1, 0.99] if `clamp`; *dx = dtau/dx (0 where clamped). */
static inline NS_EQ_R NS_EQ_F(ns_eq_tau_from_raw)(NS_EQ_R x, int clamp, NS_EQ_R *dx)
{
    NS_EQ_R s, c, lo = (NS_EQ_R)0.1, hi = (NS_EQ_R)0.99;
    NS_EQ_F(ns_eq_sigmoid2)(x, &s, &c);
    NS_EQ_R v = s, d = s * c;
    if (clamp && s < lo) { v = lo; d = 0; }
    if (clamp && s > hi) { v = hi; d = 0; }
    if (dx) *dx = d;
    return v;
}

/* ---- synaptic current (snnTorch's Synaptic neuron, SpyTorch's hidden layers) ----
 * syn = alpha syn + I, from 0: the current a LIF takes in place of I when alpha > 0. Linear in
 * I, so its adjoint runs backward in time: g_syn(t) = g(t) + alpha g_syn(t + 1). */
static inline NS_EQ_R NS_EQ_F(ns_eq_syn_step)(NS_EQ_R syn, NS_EQ_R i, NS_EQ_R alpha)
{
    return alpha * syn + i;
}

/* ---- surrogate-gradient LIF ----
 * U = beta V + I; S = H(U - theta) (S = 1 iff U > theta, as snnTorch and SpyTorch); reset to zero
 * V = U (1 - S) or by subtraction V = U - S theta, the reset's S detached from the graph. */

/* The reset membrane after a step whose pre-reset membrane was u. */
static inline NS_EQ_R NS_EQ_F(ns_eq_lif_reset)(NS_EQ_R u, NS_EQ_R theta, int reset_subtract)
{
    NS_EQ_R ss = u > theta ? 1 : 0;
    return reset_subtract ? u - ss * theta : u * (1 - ss);
}

/* One step: writes the pre-reset membrane u and the spike s (exactly 0 or 1), returns V_new. */
static inline NS_EQ_R NS_EQ_F(ns_eq_lif_step)(NS_EQ_R v, NS_EQ_R i, NS_EQ_R beta, NS_EQ_R theta,
                                              int reset_subtract, NS_EQ_R *u, NS_EQ_R *s)
{
    NS_EQ_R uu = beta * v + i;
    *u = uu;
    *s = uu > theta ? 1 : 0;
    return NS_EQ_F(ns_eq_lif_reset)(uu, theta, reset_subtract);
}

/* Backward through one step: sg is the surrogate dS/dU at u, v the reset membrane the step began
 * from. From gs = dL/dS and gvn = dL/dV_new: writes dL/dv (gv), dL/di (gi), dL/dbeta (gbeta). */
static inline void NS_EQ_F(ns_eq_lif_vjp)(NS_EQ_R u, NS_EQ_R v, NS_EQ_R beta, NS_EQ_R theta,
                                          int reset_subtract, NS_EQ_R sg, NS_EQ_R gs,
                                          NS_EQ_R gvn, NS_EQ_R *gv, NS_EQ_R *gi, NS_EQ_R *gbeta)
{
    NS_EQ_R keep = reset_subtract ? 1 : (u > theta ? 0 : 1); /* dV_new/dU, S held fixed */
    NS_EQ_R gu = gs * sg + gvn * keep;
    *gv = gu * beta;
    *gi = gu;
    *gbeta = gu * v;
}

/* Surrogate derivatives dS/dx at x = U - theta; p is the kind's one parameter.
 * Scales as in snnTorch (snntorch/surrogate.py), peak value in brackets:
 *   fast_sigmoid  1/(1 + k|x|)^2                       [1]     snnTorch k 25, SpyTorch k 100
 *   atan          (alpha/2)/(1 + (pi alpha x/2)^2)      [alpha/2]  snnTorch's and SpikingJelly's
 *                 alpha 2; integrates to 1
 *   sigmoid       k s(1 - s), s = sigmoid(kx)          [k/4]   snnTorch k 25; integrates to 1
 *   triangle      alpha max(0, 1 - |x|)                [alpha] Esser 2016 / Bellec 2018 (LSNN
 *                 uses alpha 0.3); not snnTorch's "triangular", which is the constant +-threshold */
static inline NS_EQ_R NS_EQ_F(ns_eq_surr_fast_sigmoid)(NS_EQ_R x, NS_EQ_R k)
{
    NS_EQ_R r = 1 + k * NS_EQ_FABS(x);
    return 1 / (r * r);
}

static inline NS_EQ_R NS_EQ_F(ns_eq_surr_atan)(NS_EQ_R x, NS_EQ_R alpha)
{
    NS_EQ_R y = (NS_EQ_R)1.57079632679489661923 * alpha * x; /* pi/2 alpha x */
    return alpha / 2 / (1 + y * y);
}

static inline NS_EQ_R NS_EQ_F(ns_eq_surr_sigmoid)(NS_EQ_R x, NS_EQ_R k)
{
    NS_EQ_R s, c;
    NS_EQ_F(ns_eq_sigmoid2)(k * x, &s, &c);
    return k * s * c;
}

static inline NS_EQ_R NS_EQ_F(ns_eq_surr_triangle)(NS_EQ_R x, NS_EQ_R alpha)
{
    NS_EQ_R r = 1 - NS_EQ_FABS(x);
    return r > 0 ? alpha * r : 0;
}

/* Dispatch by kind (for one-off use; hot loops switch once outside the loop). */
static inline NS_EQ_R NS_EQ_F(ns_eq_surrogate)(ns_surrogate_kind kind, NS_EQ_R x, NS_EQ_R p)
{
    switch (kind) {
    case NS_SURR_FAST_SIGMOID: return NS_EQ_F(ns_eq_surr_fast_sigmoid)(x, p);
    case NS_SURR_ATAN: return NS_EQ_F(ns_eq_surr_atan)(x, p);
    case NS_SURR_SIGMOID: return NS_EQ_F(ns_eq_surr_sigmoid)(x, p);
    case NS_SURR_TRIANGLE: return NS_EQ_F(ns_eq_surr_triangle)(x, p);
    default: return 0;
    }
}

#endif /* NS_EQ_R */
