/* models/lif.c — `lif`: leaky integrate-and-fire with exponential current synapses (NEST's
 * iaf_psc_exp), integrated exactly (Rotter & Diesmann 1999). Propagators are derived once in
 * init; the step loop has no branches, so it vectorizes. */
#include "models/lif_params.h"
#include "models/model.h"
#include "models/input.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

/* Lagging populations keep each current scaled: I_x(m) = J_x g_x^(m mod R) after step m, with
 * g_x = P11x, so that the current decays by itself and the loop neither scales nor stores it;
 * J_x is rescaled by g_x^R at every step that is a multiple of R. gpow_x[R + e] = g_x^e. */
#define LIF_R_MAX 256

/* A lagging population also keeps V_m and the refractory counter in one number, X = V_m, or
 * LIF_HELD + r while the unit is clamped (r > 0 steps left, a half-integer: exact, as ulp is 1/2
 * below 2^52), so that its loop reads three arrays and writes one. A membrane that would reach
 * LIF_HELD / 2 (2^50 mV) without firing stops the run instead (LIF_BEYOND), so the two never
 * meet; the state bound of V_m (10^4 mV) stops a run long before that. */
#define LIF_HELD 2251799813685248.0 /* 2^51 */
#define LIF_BEYOND "a membrane above 2^50 mV without firing: beyond what a lagging lif population holds"

typedef struct {
    ns_lif_props P; /* the propagators over dt */
    double ref_steps;
    double rest;       /* where V heads without input, E_L (1 - P22) + P20 I_e (mV) */
    double marker;     /* r right after a spike, ref_steps - 0.5 (see the refractory note) */
    double fired_code; /* X right after a spike (see LIF_HELD) */
    int R;
    double gpow_ex[2 * LIF_R_MAX + 1], gpow_in[2 * LIF_R_MAX + 1];
} lif_consts;

enum { V_M, I_EX, I_IN, REFR, J_EX, J_IN, X_VR };

static const ns_state_var lif_state[] = {
    {"V_m", "mV", "membrane potential", 0, NS_BOUND_MV},
    {"I_ex", "pA", "excitatory synaptic current", 0, NS_BOUND_FINITE},
    {"I_in", "pA", "inhibitory synaptic current", 0, NS_BOUND_FINITE},
    {"r", "steps", "refractory steps left", 1, NS_BOUND_FINITE},
    {"J_ex", "pA", "scaled excitatory current (lagging populations)", 1, NS_BOUND_FINITE},
    {"J_in", "pA", "scaled inhibitory current (lagging populations)", 1, NS_BOUND_FINITE},
    {"X", "mV", "V_m, or 2^51 + r while refractory (lagging populations)", 1, NS_BOUND_FINITE},
};

#define P(field, unit, def, lo, hi, doc) {#field, unit, doc, def, lo, hi, offsetof(lif_params, field)}
const ns_param ns_lif_param_table[NS_LIF_N_PARAMS] = {
    P(C_m, "pF", 250.0, 1e-6, HUGE_VAL, "membrane capacitance"),
    P(tau_m, "ms", 10.0, 1e-6, HUGE_VAL, "membrane time constant"),
    P(E_L, "mV", -70.0, -HUGE_VAL, HUGE_VAL, "resting potential"),
    P(V_th, "mV", -55.0, -HUGE_VAL, HUGE_VAL, "spike threshold"),
    P(V_reset, "mV", -70.0, -HUGE_VAL, HUGE_VAL, "reset potential"),
    P(t_ref, "ms", 2.0, 0.0, HUGE_VAL, "absolute refractory period"),
    P(tau_ex, "ms", 2.0, 1e-6, HUGE_VAL, "excitatory synaptic time constant"),
    P(tau_in, "ms", 2.0, 1e-6, HUGE_VAL, "inhibitory synaptic time constant"),
    P(I_e, "pA", 0.0, -HUGE_VAL, HUGE_VAL, "constant external current"),
};
#undef P
_Static_assert(sizeof ns_lif_param_table / sizeof ns_lif_param_table[0] == NS_LIF_N_PARAMS, "lif's table");

int ns_lif_params_check(const lif_params *p, const char *model, char *err, size_t errlen)
{
    if (p->V_reset < p->V_th) return 0;
    snprintf(err, errlen, "%s: V_reset (%g mV) must be below V_th (%g mV)", model, p->V_reset, p->V_th);
    return -1;
}

double ns_lif_p21(double h, double tau_m, double tau_x, double C)
{
    double a = 1.0 / tau_x - 1.0 / tau_m;
    double decay = exp(-h / tau_m);
    if (fabs(a * h) < 1e-15) return h / C * decay;
    return decay * (-expm1(-h * a)) / (a * C);
}

void ns_lif_propagate_over(const lif_params *p, double h, ns_lif_props *P)
{
    P->P22 = exp(-h / p->tau_m);
    P->P11ex = exp(-h / p->tau_ex);
    P->P11in = exp(-h / p->tau_in);
    P->P21ex = ns_lif_p21(h, p->tau_m, p->tau_ex, p->C_m);
    P->P21in = ns_lif_p21(h, p->tau_m, p->tau_in, p->C_m);
    P->P20 = -p->tau_m / p->C_m * expm1(-h / p->tau_m);
}

/* The exact propagators of one step dt (ms) for parameters p, and the refractory steps. */
static void lif_propagators(const lif_params *p, double dt, lif_consts *c)
{
    ns_lif_propagate_over(p, dt, &c->P);
    c->ref_steps = round(p->t_ref / dt);
    c->rest = p->E_L * (1.0 - c->P.P22) + c->P.P20 * p->I_e;
    c->marker = c->ref_steps - 0.5;
    /* clamped for ref_steps steps, or free at V_reset at once */
    c->fired_code = c->ref_steps >= 1.0 ? LIF_HELD + c->marker : p->V_reset;
}

static int lif_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    const lif_params *p = params;
    lif_consts *c = consts;
    if (ns_lif_params_check(p, "lif", err, errlen)) return -1;
    lif_propagators(p, dt, c);
    /* R keeps g^-R far from overflow: R dt / tau <= 300 */
    double tmin = fmin(p->tau_ex, p->tau_in);
    c->R = (int)fmax(1.0, fmin((double)LIF_R_MAX, floor(300.0 * tmin / dt)));
    for (int e = -c->R; e <= c->R; e++) {
        c->gpow_ex[LIF_R_MAX + e] = exp(-e * dt / p->tau_ex);
        c->gpow_in[LIF_R_MAX + e] = exp(-e * dt / p->tau_in);
    }
    return 0;
}

/* Per-unit constants (init_units): one array of n per field, for units whose parameters differ;
 * rest is where V heads without input, E_L (1 - P22) + P20 I_e. */
enum { U_P22, U_P21EX, U_P21IN, U_P20, U_P11EX, U_P11IN, U_REST, U_VTH, U_VRESET, U_MARKER, U_FIELDS };
typedef struct {
    const double *f[U_FIELDS];
} lif_units;

static void *lif_init_units(const void *unit_params, size_t n, double dt, char *err, size_t errlen)
{
    lif_units *u = malloc(sizeof *u + U_FIELDS * n * sizeof(double));
    if (!u) return snprintf(err, errlen, "out of memory"), NULL;
    double *a = (double *)(u + 1);
    for (int k = 0; k < U_FIELDS; k++) u->f[k] = a + (size_t)k * n;
    for (size_t i = 0; i < n; i++) {
        const lif_params *p = (const lif_params *)((const char *)unit_params + i * sizeof *p);
        lif_consts c;
        lif_propagators(p, dt, &c);
        const double v[U_FIELDS] = {c.P.P22, c.P.P21ex, c.P.P21in, c.P.P20, c.P.P11ex, c.P.P11in,
                                    c.rest, p->V_th, p->V_reset, c.marker};
        for (int k = 0; k < U_FIELDS; k++) a[(size_t)k * n + i] = v[k];
    }
    return u;
}

/* m mod R as the scaled currents use it: m = -1 (before the first step) gives -1. */
static int lif_phase(int64_t m, int R) { return m < 0 ? (int)m : (int)(m % R); }

static void lif_init_state(const void *params, double *const *state, size_t n)
{
    const lif_params *p = params;
    for (size_t i = 0; i < n; i++) {
        state[V_M][i] = p->E_L;
        state[I_EX][i] = state[I_IN][i] = state[REFR][i] = state[J_EX][i] = state[J_IN][i] = 0.0;
        state[X_VR][i] = p->E_L;
    }
}

/* Units are updated in blocks of this many, and only a block that fired is searched for its
 * spikes, so a step with few spikes costs little more than the update itself. */
#define LIF_BLOCK 256

/* Refractory note: a spike sets r to ref_steps - 0.5 and every step takes 1 off, so the neuron
 * is clamped (r > 0) for exactly ref_steps steps, and r falls for good after; the value
 * ref_steps - 0.5 right after an update marks the units that fired in it, since no other path
 * reaches it. (Whole numbers of steps stay exact in a double for 2^53 steps.) */

/* One step of units [lo, hi): a branch-free loop the compiler vectorizes, specialised (the
 * flags are constants at each call) for per-unit constants, dense input rows and a current input. Arriving
 * input enters the currents after the membrane update, as in NEST. Returns spikes. */
static inline __attribute__((always_inline)) size_t
lif_update(const lif_params *p, const lif_consts *c, const lif_units *u, const int per_unit, size_t lo, size_t hi,
           double *restrict V, double *restrict Iex, double *restrict Iin, double *restrict r,
           double *restrict ex, double *restrict in, double *restrict cur, const int dense,
           const int with_current)
{
    const double V_th0 = p->V_th, V_reset0 = p->V_reset;
    const double P22_0 = c->P.P22, P21ex0 = c->P.P21ex, P21in0 = c->P.P21in, P20_0 = c->P.P20;
    const double P11ex0 = c->P.P11ex, P11in0 = c->P.P11in, marker0 = c->marker, rest0 = c->rest;
    size_t fired = 0;
    for (size_t i = lo; i < hi; i++) {
        /* per-unit constants from u when per_unit (a constant at each call: the branches fold) */
        const double P22 = per_unit ? u->f[U_P22][i] : P22_0, P21ex = per_unit ? u->f[U_P21EX][i] : P21ex0;
        const double P21in = per_unit ? u->f[U_P21IN][i] : P21in0, P20 = per_unit ? u->f[U_P20][i] : P20_0;
        const double P11ex = per_unit ? u->f[U_P11EX][i] : P11ex0, P11in = per_unit ? u->f[U_P11IN][i] : P11in0;
        const double rest = per_unit ? u->f[U_REST][i] : rest0, V_th = per_unit ? u->f[U_VTH][i] : V_th0;
        const double V_reset = per_unit ? u->f[U_VRESET][i] : V_reset0, marker = per_unit ? u->f[U_MARKER][i] : marker0;
        double ri = r[i];
        double v = rest + P22 * V[i] + P21ex * Iex[i] + P21in * Iin[i];
        if (with_current) v += P20 * cur[i];
        v = ri > 0.0 ? V_reset : v;
        if (dense) {
            Iex[i] = P11ex * Iex[i] + ex[i];
            Iin[i] = P11in * Iin[i] + in[i];
            ex[i] = 0.0;
            in[i] = 0.0;
        } else {
            Iex[i] = P11ex * Iex[i];
            Iin[i] = P11in * Iin[i];
        }
        if (with_current) cur[i] = 0.0;
        int spike = v >= V_th;
        V[i] = spike ? V_reset : v;
        r[i] = spike ? marker : ri - 1.0; /* the spike marker (see the refractory note) */
        fired += (size_t)spike;
    }
    return fired;
}

/* Append the units of [lo, hi) whose refractory value is their own marker (per-unit constants). */
static int lif_push_units(ns_spikebuf *out, int32_t k, const double *r, const lif_units *u, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i++)
        if (r[i] == u->f[U_MARKER][i] && ns_spikebuf_push(out, k, (uint32_t)i)) return -1;
    return 0;
}

/* The step of a population with per-unit constants: input as dense rows (the engine's choice). */
static int lif_step_units(const ns_step_args *a)
{
    const lif_units *u = a->unit_consts;
    double *V = a->state[V_M], *Iex = a->state[I_EX], *Iin = a->state[I_IN], *r = a->state[REFR];
    const int with_current = a->input[NS_PSC_CURRENT] != NULL;
    for (int k = 0; k < a->nsteps; k++) {
        double *ex = ns_input_row(a, NS_PSC_EX, k), *in = ns_input_row(a, NS_PSC_IN, k);
        double *cur = ns_input_row(a, NS_PSC_CURRENT, k);
        for (size_t lo = a->lo; lo < a->hi; lo += LIF_BLOCK) {
            size_t hi = lo + LIF_BLOCK < a->hi ? lo + LIF_BLOCK : a->hi, fired;
            if (with_current) fired = lif_update(a->params, a->consts, u, 1, lo, hi, V, Iex, Iin, r, ex, in, cur, 1, 1);
            else fired = lif_update(a->params, a->consts, u, 1, lo, hi, V, Iex, Iin, r, ex, in, cur, 1, 0);
            if (fired && lif_push_units(a->out, k, r, u, lo, hi)) return -1;
        }
    }
    return 0;
}

/* How a step meets the currents: scaled (a lagging population: J_x, see above); decaying, with
 * event lists added after the step; decaying, with this step's dense input rows added. */
typedef enum { LIF_SCALED, LIF_EVENTS, LIF_DENSE } lif_form;

#ifndef __AVX512F__
/* One step of units [lo, hi) for a lagging population: X (see LIF_HELD) and the currents J_x
 * times the scalars cex, cin of this step (P21x g_x^e); nothing but X is written. A clamped unit
 * counts down and is freed at V_reset; spiked[i - lo] is 1 for a unit that fires; *beyond (when
 * not NULL: V_th beyond LIF_HELD / 2) is set when a membrane reaches LIF_HELD / 2 without
 * firing. Returns spikes. */
static inline __attribute__((always_inline)) size_t
lif_update_scaled(const lif_params *p, const lif_consts *c, size_t lo, size_t hi, double *restrict X,
                  const double *restrict Jex, const double *restrict Jin, double cex, double cin,
                  double *restrict cur, unsigned char *restrict spiked, int *beyond)
{
    const double V_th = p->V_th, V_reset = p->V_reset, P22 = c->P.P22, P20 = c->P.P20;
    const double rest = c->rest, fired_code = c->fired_code;
    const double half = 0.5 * LIF_HELD, held_min = LIF_HELD;
    size_t fired = 0;
    int over = 0;
    for (size_t i = lo; i < hi; i++) {
        const double x = X[i];
        double v = rest + P22 * x + cex * Jex[i] + cin * Jin[i];
        if (cur) v += P20 * cur[i];
        const double down = x - 1.0, held = down > held_min ? down : V_reset;
        v = x > half ? V_reset : v;
        const double next = x > half ? held : v;
        const int spike = v >= V_th;
        if (beyond) over |= !spike & (v > half); /* a clamped unit's v is V_reset */
        X[i] = spike ? fired_code : next;
        spiked[i - lo] = (unsigned char)spike;
        fired += (size_t)spike;
    }
    if (beyond) *beyond |= over;
    if (cur)
        for (size_t i = lo; i < hi; i++) cur[i] = 0.0;
    return fired;
}
#endif


#ifdef __AVX512F__
/* The update of lif_update and lif_update_scaled for populations whose units share constants,
 * eight units at a time with AVX-512: the same operations in the same order, so the same
 * numbers, but the units that fire come from the comparison's mask, written to fired_at in
 * ascending order, instead of a search for their markers after the loop. A spike is compared
 * for only where a unit is not refractory (V_reset < V_th: a clamped unit cannot fire). Whole
 * vectors load and store unmasked (masked stores are slow on some machines); a tail is masked. */
typedef struct {
    __m512d rest, P22, P21ex, P21in, P20, P11ex, P11in, V_th, V_reset, marker;
} lif_vconsts;

/* Lanes `live` of eight doubles at x: whole vectors unmasked, a tail masked (in lif_lanes and
 * lif_lanes_scaled, where `whole` and `live` are set). */
#define LOAD(x) (whole ? _mm512_loadu_pd(x) : _mm512_maskz_loadu_pd(live, x))
#define STORE(x, y) (whole ? _mm512_storeu_pd(x, y) : _mm512_mask_storeu_pd(x, live, y))

/* The lanes' membrane before the threshold, rest + P22 V + P21ex I_ex + P21in I_in (+ P20 cur,
 * whose lanes are then cleared), in the C loop's order; Ie, Ii the currents (scaled ones and
 * their step's scalars in k for a lagging population). */
static inline __attribute__((always_inline)) __m512d
lif_membrane(const lif_vconsts *k, __m512d V, __m512d Ie, __m512d Ii, double *restrict cur, size_t i,
             __mmask8 live, int whole)
{
    __m512d v = _mm512_add_pd(k->rest, _mm512_mul_pd(k->P22, V));
    v = _mm512_add_pd(v, _mm512_mul_pd(k->P21ex, Ie));
    v = _mm512_add_pd(v, _mm512_mul_pd(k->P21in, Ii));
    if (cur) {
        v = _mm512_add_pd(v, _mm512_mul_pd(k->P20, LOAD(cur + i)));
        STORE(cur + i, _mm512_setzero_pd());
    }
    return v;
}

static inline __attribute__((always_inline)) __mmask8
lif_lanes(const lif_vconsts *k, size_t i, __mmask8 live, double *restrict V, double *restrict Iex,
          double *restrict Iin, double *restrict r, double *restrict ex, double *restrict in, double *restrict cur,
          const lif_form form)
{
    const __m512d one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd();
    const int whole = live == (__mmask8)0xFF;
    const __m512d ri = LOAD(r + i), Ie = LOAD(Iex + i), Ii = LOAD(Iin + i);
    const __m512d v = lif_membrane(k, LOAD(V + i), Ie, Ii, cur, i, live, whole);
    if (form == LIF_DENSE) {
        STORE(Iex + i, _mm512_add_pd(_mm512_mul_pd(k->P11ex, Ie), LOAD(ex + i)));
        STORE(Iin + i, _mm512_add_pd(_mm512_mul_pd(k->P11in, Ii), LOAD(in + i)));
        STORE(ex + i, zero);
        STORE(in + i, zero);
    } else if (form == LIF_EVENTS) {
        STORE(Iex + i, _mm512_mul_pd(k->P11ex, Ie));
        STORE(Iin + i, _mm512_mul_pd(k->P11in, Ii));
    }
    const __mmask8 refr = _mm512_mask_cmp_pd_mask(live, ri, zero, _CMP_GT_OQ);
    const __mmask8 spike = _mm512_mask_cmp_pd_mask((__mmask8)(live & ~refr), v, k->V_th, _CMP_GE_OQ);
    STORE(V + i, _mm512_mask_blend_pd((__mmask8)(refr | spike), v, k->V_reset));
    STORE(r + i, _mm512_mask_blend_pd(spike, _mm512_sub_pd(ri, one), k->marker));
    return spike;
}

/* Eight units of a lagging population (lif_update_scaled): X and the scaled currents in,
 * X out; k->marker holds fired_code. Returns the mask of the units that fire; *beyond (when
 * not NULL) gets those whose membrane reaches LIF_HELD / 2 without firing. */
static inline __attribute__((always_inline)) __mmask8
lif_lanes_scaled(const lif_vconsts *k, size_t i, __mmask8 live, double *restrict X, const double *restrict Jex,
                 const double *restrict Jin, double *restrict cur, __mmask8 *beyond)
{
    const __m512d one = _mm512_set1_pd(1.0);
    const __m512d half = _mm512_set1_pd(0.5 * LIF_HELD), held_min = _mm512_set1_pd(LIF_HELD);
    const int whole = live == (__mmask8)0xFF;
    const __m512d x = LOAD(X + i), v = lif_membrane(k, x, LOAD(Jex + i), LOAD(Jin + i), cur, i, live, whole);
    const __mmask8 clamped = _mm512_mask_cmp_pd_mask(live, x, half, _CMP_GT_OQ);
    const __mmask8 spike = _mm512_mask_cmp_pd_mask((__mmask8)(live & ~clamped), v, k->V_th, _CMP_GE_OQ);
    if (beyond) *beyond |= _mm512_mask_cmp_pd_mask((__mmask8)(live & ~clamped & ~spike), v, half, _CMP_GT_OQ);
    const __m512d down = _mm512_sub_pd(x, one);
    const __m512d held = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(down, held_min, _CMP_GT_OQ), k->V_reset, down);
    const __m512d next = _mm512_mask_blend_pd(clamped, v, held);
    STORE(X + i, _mm512_mask_blend_pd(spike, next, k->marker));
    return spike;
}
#undef LOAD
#undef STORE

/* Units [lo, hi) in form `form` (for LIF_SCALED: V is X, P21ex, P21in the step's scalars, Iex,
 * Iin the scaled currents, r unused, beyond as lif_lanes_scaled's, NULL when V_th is within
 * reach); returns the number that fire, listed in fired_at. */
static inline __attribute__((always_inline)) size_t
lif_update_vec(const lif_vconsts *k, size_t lo, size_t hi, double *restrict V, double *restrict Iex,
               double *restrict Iin, double *restrict r, double *restrict ex, double *restrict in,
               double *restrict cur, const lif_form form, uint32_t *restrict fired_at, __mmask8 *beyond)
{
    size_t fired = 0, i = lo;
    __mmask8 over = 0; /* a local, kept in a register: *beyond is a byte that any store may alias */
#define LANES(live) (form == LIF_SCALED ? lif_lanes_scaled(k, i, live, V, Iex, Iin, cur, beyond ? &over : NULL) \
                                        : lif_lanes(k, i, live, V, Iex, Iin, r, ex, in, cur, form))
    for (; i + 8 <= hi; i += 8)
        for (unsigned m = LANES((__mmask8)0xFF); m; m &= m - 1) fired_at[fired++] = (uint32_t)(i + (size_t)__builtin_ctz(m));
    if (i < hi)
        for (unsigned m = LANES((__mmask8)((1u << (hi - i)) - 1)); m; m &= m - 1)
            fired_at[fired++] = (uint32_t)(i + (size_t)__builtin_ctz(m));
#undef LANES
    if (beyond) *beyond |= over;
    return fired;
}

/* The vector constants of a population for a step (cex, cin: P21x for all but a lagging one;
 * marker: what r, or X, becomes when a unit fires). */
static lif_vconsts lif_vconsts_of(const lif_params *p, const lif_consts *c, double cex, double cin, double marker)
{
    const ns_lif_props *P = &c->P;
    return (lif_vconsts){
        .rest = _mm512_set1_pd(c->rest), .P22 = _mm512_set1_pd(P->P22),
        .P21ex = _mm512_set1_pd(cex), .P21in = _mm512_set1_pd(cin), .P20 = _mm512_set1_pd(P->P20),
        .P11ex = _mm512_set1_pd(P->P11ex), .P11in = _mm512_set1_pd(P->P11in), .V_th = _mm512_set1_pd(p->V_th),
        .V_reset = _mm512_set1_pd(p->V_reset), .marker = _mm512_set1_pd(marker)};
}

/* Push the listed spikes of step k. */
static int lif_push_list(ns_spikebuf *out, int32_t k, const uint32_t *at, size_t n)
{
    for (size_t j = 0; j < n; j++)
        if (ns_spikebuf_push(out, k, at[j])) return -1;
    return 0;
}
#endif

/* The units of the step's range at step k in form `form` (cex, cin: P21ex, P21in, or a lagging
 * step's scalars; Iex, Iin: the currents, scaled ones for LIF_SCALED), block by block, their
 * spikes pushed: the vector loop on machines with AVX-512 (its constants made once a step),
 * else the C loop and a search for the spikes' markers (flags for a lagging population). 0, -1
 * (out of memory) or NS_STEP_FAILED (LIF_BEYOND). The callers pass the form and the NULLs as
 * constants, so each call specialises. */
static inline __attribute__((always_inline)) int
lif_range(const ns_step_args *a, int k, const lif_form form, double cex, double cin, double *Iex, double *Iin,
          double *ex, double *in, double *cur)
{
    const lif_params *p = a->params;
    const lif_consts *c = a->consts;
    double *V = a->state[form == LIF_SCALED ? X_VR : V_M], *r = a->state[REFR];
#ifdef __AVX512F__
    uint32_t at[LIF_BLOCK];
    const lif_vconsts vk = lif_vconsts_of(p, c, cex, cin, form == LIF_SCALED ? c->fired_code : c->marker);
    __mmask8 beyond = 0;
#else
    int beyond = 0;
#endif
    /* a membrane above LIF_HELD / 2 fires unless V_th is higher still: only then is it looked for */
    const int far = form == LIF_SCALED && !(p->V_th <= 0.5 * LIF_HELD);
    for (size_t lo = a->lo; lo < a->hi; lo += LIF_BLOCK) {
        const size_t hi = lo + LIF_BLOCK < a->hi ? lo + LIF_BLOCK : a->hi;
#ifdef __AVX512F__
        const size_t fired = far ? lif_update_vec(&vk, lo, hi, V, Iex, Iin, r, ex, in, cur, form, at, &beyond)
                                 : lif_update_vec(&vk, lo, hi, V, Iex, Iin, r, ex, in, cur, form, at, NULL);
        if (lif_push_list(a->out, k, at, fired)) return -1;
#else
        if (form == LIF_SCALED) {
            unsigned char spiked[LIF_BLOCK];
            if (!(far ? lif_update_scaled(p, c, lo, hi, V, Iex, Iin, cex, cin, cur, spiked, &beyond)
                      : lif_update_scaled(p, c, lo, hi, V, Iex, Iin, cex, cin, cur, spiked, NULL)))
                continue;
            for (size_t i = lo; i < hi; i++)
                if (spiked[i - lo] && ns_spikebuf_push(a->out, k, (uint32_t)i)) return -1;
            continue;
        }
        const size_t fired = lif_update(p, c, NULL, 0, lo, hi, V, Iex, Iin, r, ex, in, cur, form == LIF_DENSE, cur != NULL);
        if (fired && ns_spikebuf_push_marked(a->out, k, r, c->marker, lo, hi, fired)) return -1;
#endif
    }
    if (beyond) { /* X would read it as a refractory count */
        snprintf(a->err, a->errlen, "%s (V_th %g mV)", LIF_BEYOND, p->V_th);
        return NS_STEP_FAILED;
    }
    return 0;
}

/* Add the events of a list that arrived in step s to the scaled currents. */
static void lif_apply_scaled(const ns_events *e, const lif_consts *c, int64_t s, double *Jex, double *Jin)
{
    int ph = lif_phase(s, c->R);
    const double f[2] = {c->gpow_ex[LIF_R_MAX - ph], c->gpow_in[LIF_R_MAX - ph]};
    double *const J[2] = {Jex, Jin};
    ns_events_prefetch(e);
    for (size_t j = 0; j < e->n; j++) {
        const ns_event_run *r = &e->run[j];
        if (!r->w) { /* one weight: one current, one factor */
            const double wf = r->w0 * f[r->w0 < 0];
            double *restrict Jx = J[r->w0 < 0] + r->base;
            for (uint32_t k = 0; k < r->n; k++) Jx[r->tgt[k]] += wf;
            continue;
        }
        for (uint32_t k = 0; k < r->n; k++) { /* selected by the sign, without a branch */
            double w = r->w[k];
            int neg = w < 0;
            J[neg][r->base + r->tgt[k]] += w * f[neg];
        }
    }
}

/* Add a list's events to the currents, in list order. */
static void lif_apply(const ns_events *e, double *Iex, double *Iin)
{
    ns_events_prefetch(e);
    for (size_t j = 0; j < e->n; j++) {
        const ns_event_run *r = &e->run[j];
        for (uint32_t k = 0; k < r->n; k++) {
            double w = r->w ? r->w[k] : r->w0;
            (w < 0 ? Iin : Iex)[r->base + r->tgt[k]] += w;
        }
    }
}


/* The lagging form of a step: scaled currents, events applied a step late (see model.h). */
static int lif_step_scaled(const ns_step_args *a)
{
    const lif_consts *c = a->consts;
    double *Jex = a->state[J_EX], *Jin = a->state[J_IN];
    const int R = c->R;
    lif_apply_scaled(ns_input_events(a, -1), c, a->step0 - 1, Jex, Jin);
    for (int k = 0; k < a->nsteps; k++) {
        const int64_t s = a->step0 + k;
        if (s > 0 && s % R == 0) /* rescale: the exponents stay within [-R, R] */
            for (size_t i = a->lo; i < a->hi; i++) {
                Jex[i] *= c->gpow_ex[LIF_R_MAX + R];
                Jin[i] *= c->gpow_in[LIF_R_MAX + R];
            }
        const int ph = lif_phase(s - 1, R) - (s % R == 0 && s > 0 ? R : 0);
        const double cex = c->P.P21ex * c->gpow_ex[LIF_R_MAX + ph], cin = c->P.P21in * c->gpow_in[LIF_R_MAX + ph];
        double *cur = ns_input_row(a, NS_PSC_CURRENT, k);
        const int rc = cur ? lif_range(a, k, LIF_SCALED, cex, cin, Jex, Jin, NULL, NULL, cur)
                           : lif_range(a, k, LIF_SCALED, cex, cin, Jex, Jin, NULL, NULL, NULL);
        if (rc) return rc;
        if (k < a->nsteps - 1) lif_apply_scaled(ns_input_events(a, k), c, s, Jex, Jin);
    }
    return 0;
}

/* The way out of lif_sync for units [lo, hi), a branch-free loop (it runs before every state
 * check): the currents from the scaled ones, V_m and r from X (clamped: r steps left, at
 * V_reset; else r is spent). */
static void lif_sync_out(size_t lo, size_t hi, double fex, double fin, double V_reset, const double *restrict Jex,
                         const double *restrict Jin, const double *restrict X, double *restrict Iex,
                         double *restrict Iin, double *restrict V, double *restrict r)
{
    for (size_t i = lo; i < hi; i++) {
        Iex[i] = Jex[i] * fex;
        Iin[i] = Jin[i] * fin;
        const double x = X[i];
        V[i] = x > 0.5 * LIF_HELD ? V_reset : x;
        r[i] = x > 0.5 * LIF_HELD ? x - LIF_HELD : 0.0;
    }
}

/* Between the public state (V_m, r, I_x) and a lagging population's (X, J_x), at the time the
 * next step is a->step0. r comes out as 0 for a unit no longer refractory. */
static void lif_sync(const ns_step_args *a, int into_model)
{
    const lif_consts *c = a->consts;
    int ph = lif_phase(a->step0 - 1, c->R);
    double fex = c->gpow_ex[LIF_R_MAX + ph], fin = c->gpow_in[LIF_R_MAX + ph];
    double *Iex = a->state[I_EX], *Iin = a->state[I_IN], *Jex = a->state[J_EX], *Jin = a->state[J_IN];
    double *V = a->state[V_M], *r = a->state[REFR], *X = a->state[X_VR];
    if (!into_model) {
        lif_sync_out(a->lo, a->hi, fex, fin, ((const lif_params *)a->params)->V_reset, Jex, Jin, X, Iex, Iin, V, r);
        return;
    }
    for (size_t i = a->lo; i < a->hi; i++) {
        Jex[i] = Iex[i] / fex;
        Jin[i] = Iin[i] / fin;
        X[i] = r[i] > 0.0 ? LIF_HELD + r[i] : V[i];
    }
}

static int lif_step(const ns_step_args *a)
{
    if (a->unit_consts) return lif_step_units(a);
    if (a->events && a->lag) return lif_step_scaled(a);
    double *Iex = a->state[I_EX], *Iin = a->state[I_IN];
    const int dense = a->events == NULL, with_current = a->input[NS_PSC_CURRENT] != NULL;
    const double P21ex = ((const lif_consts *)a->consts)->P.P21ex, P21in = ((const lif_consts *)a->consts)->P.P21in;
    if (!dense && a->lag) /* events of the step before the window that came after it */
        lif_apply(ns_input_events(a, -1), Iex, Iin);
    for (int k = 0; k < a->nsteps; k++) {
        double *ex = dense ? ns_input_row(a, NS_PSC_EX, k) : NULL, *in = dense ? ns_input_row(a, NS_PSC_IN, k) : NULL;
        double *cur = ns_input_row(a, NS_PSC_CURRENT, k);
        int rc;
        if (dense && with_current) rc = lif_range(a, k, LIF_DENSE, P21ex, P21in, Iex, Iin, ex, in, cur);
        else if (dense) rc = lif_range(a, k, LIF_DENSE, P21ex, P21in, Iex, Iin, ex, in, NULL);
        else if (with_current) rc = lif_range(a, k, LIF_EVENTS, P21ex, P21in, Iex, Iin, NULL, NULL, cur);
        else rc = lif_range(a, k, LIF_EVENTS, P21ex, P21in, Iex, Iin, NULL, NULL, NULL);
        if (rc) return rc;
        if (!dense && k < a->nsteps - a->lag) lif_apply(ns_input_events(a, k), Iex, Iin);
    }
    return 0;
}

const ns_model ns_model_lif = {
    .version = NS_MODEL_VERSION,
    .name = "lif",
    .doc = "LIF, exponential current synapses, exact integration (NEST iaf_psc_exp)",
    .kind = NS_KIND_SPIKING,
    .state = lif_state,
    .n_state = 7,
    .params = ns_lif_param_table,
    .n_params = NS_LIF_N_PARAMS,
    .params_size = sizeof(lif_params),
    .consts_size = sizeof(lif_consts),
    NS_PSC_PORTS,
    .sparse_input = 1,
    .sparse_lag = 1,
    .init = lif_init,
    .init_state = lif_init_state,
    .step = lif_step,
    .sync = lif_sync,
    .init_units = lif_init_units,
};
