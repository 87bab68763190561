/* models/lif_ps.c — `lif_ps`: lif (NEST's iaf_psc_exp) with spikes at precise times, as NEST's
 * iaf_psc_exp_ps: input acts at its offset inside a step, the state moves in closed form from event
 * to event, every threshold crossing between two events is found (none missed, however brief) and
 * timed to machine precision, and refractoriness counts from that time. */
#include "models/input.h"
#include "models/lif_params.h"
#include "models/model.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Full-step propagators, and for the cheap no-crossing bound the largest value of P21x over a
 * segment of at most dt: P21x rises until tpk_x, then falls. */
typedef struct {
    ns_lif_props full;       /* over dt */
    double tpk_ex, tpk_in;   /* ms: where P21x peaks */
    double pk_ex, pk_in;     /* P21x at tpk_x */
} ps_consts;

enum { V_M, I_EX, I_IN, REF_STEP, REF_OFF };

static const ns_state_var ps_state[] = {
    {"V_m", "mV", "membrane potential", 0, NS_BOUND_MV},
    {"I_ex", "pA", "excitatory synaptic current", 0, NS_BOUND_FINITE},
    {"I_in", "pA", "inhibitory synaptic current", 0, NS_BOUND_FINITE},
    {"ref_step", "steps", "step in which the refractory period ends (-1: none)", 1, NS_BOUND_FINITE},
    {"ref_off", "ms", "when in that step it ends, from the step's start", 1, NS_BOUND_FINITE},
};

/* Where P21x(t) peaks: d/dt P21x = 0 at tau_m tau_x ln(tau_m / tau_x) / (tau_m - tau_x), or tau_m
 * when the two are equal. */
static double peak_time(double tau_m, double tau_x)
{
    if (fabs(tau_m - tau_x) < 1e-12 * tau_m) return tau_m;
    return tau_m * tau_x * log(tau_m / tau_x) / (tau_m - tau_x);
}

static int ps_init(const void *params, void *consts, double dt, char *err, size_t errlen)
{
    const lif_params *p = params;
    ps_consts *c = consts;
    if (ns_lif_params_check(p, "lif_ps", err, errlen)) return -1;
    ns_lif_propagate_over(p, dt, &c->full);
    c->tpk_ex = peak_time(p->tau_m, p->tau_ex);
    c->tpk_in = peak_time(p->tau_m, p->tau_in);
    c->pk_ex = ns_lif_p21(c->tpk_ex, p->tau_m, p->tau_ex, p->C_m);
    c->pk_in = ns_lif_p21(c->tpk_in, p->tau_m, p->tau_in, p->C_m);
    return 0;
}

static void ps_init_state(const void *params, double *const *state, size_t n)
{
    const lif_params *p = params;
    for (size_t i = 0; i < n; i++) {
        state[V_M][i] = p->E_L;
        state[I_EX][i] = state[I_IN][i] = state[REF_OFF][i] = 0.0;
        state[REF_STEP][i] = -1.0;
    }
}

/* The free (not refractory) dynamics from a segment's start: y = V - E_L (mV), the currents (pA),
 * the constant current ie = I_e + the step's input current (pA). */
typedef struct {
    const lif_params *p;
    double y0, ex0, in0, ie;
} seg;

/* y(t) (mV above E_L) t ms into the segment. */
static double seg_y(const seg *s, double t)
{
    const lif_params *p = s->p;
    const double P22 = exp(-t / p->tau_m), P20 = -p->tau_m / p->C_m * expm1(-t / p->tau_m);
    return P22 * s->y0 + ns_lif_p21(t, p->tau_m, p->tau_ex, p->C_m) * s->ex0 +
           ns_lif_p21(t, p->tau_m, p->tau_in, p->C_m) * s->in0 + P20 * s->ie;
}

/* dy/dt (mV/ms) t ms into the segment: -y/tau_m + (I_ex + I_in + ie)/C_m. */
static double seg_dy(const seg *s, double t)
{
    const lif_params *p = s->p;
    const double I = s->ex0 * exp(-t / p->tau_ex) + s->in0 * exp(-t / p->tau_in) + s->ie;
    return -seg_y(s, t) / p->tau_m + I / p->C_m;
}

/* The zero of dy/dt in [a, b], where it changes sign (bisection to adjacent doubles). */
static double slope_zero(const seg *s, double a, double b)
{
    const int up = seg_dy(s, a) > 0;
    for (int it = 0; it < 200; it++) {
        const double mid = a + 0.5 * (b - a);
        if (mid <= a || mid >= b) break;
        if ((seg_dy(s, mid) > 0) == up) a = mid;
        else b = mid;
    }
    return a + 0.5 * (b - a);
}

/* The crossing of yth in [lo, hi], where y rises from below yth (at lo) to yth or above (at hi):
 * Newton's method on the closed form, kept inside the bracket (bisection when a step would leave
 * it), to machine precision. */
static double crossing(const seg *s, double lo, double hi, double yth)
{
    double flo = seg_y(s, lo) - yth, fhi = seg_y(s, hi) - yth;
    if (fhi <= 0) return hi; /* touches the threshold at hi */
    double x = lo + (hi - lo) * (-flo / (fhi - flo)); /* regula falsi start */
    if (!(x > lo && x < hi)) x = lo + 0.5 * (hi - lo);
    for (int it = 0; it < 200; it++) {
        const double f = seg_y(s, x) - yth;
        if (f == 0) return x;
        if (f > 0) hi = x;
        else lo = x;
        const double mid = lo + 0.5 * (hi - lo);
        if (mid <= lo || mid >= hi) break; /* adjacent doubles */
        const double d = seg_dy(s, x);
        double xn = d > 0 ? x - f / d : mid;
        if (!(xn > lo && xn < hi)) xn = mid;
        if (fabs(xn - x) <= 2 * DBL_EPSILON * fabs(x)) return xn; /* converged */
        x = xn;
    }
    return hi;
}

/* The first time in [0, h] at which y reaches yth, or -1 when it stays below (exact: brief
 * excursions above the threshold inside the segment count). The detection follows the shape of
 * the closed form rather than Krishnan et al.'s (2018) state-space inequalities, and is exact in
 * the same sense: with g(t) = exp(t/tau_m) dy/dt,
 *     g'(t) = -(1/C_m) (I_ex0/tau_ex exp(t/tau_m - t/tau_ex) + I_in0/tau_in exp(t/tau_m - t/tau_in)),
 * a sum of two exponentials, which vanishes at most once, in closed form. So g, and with it the
 * sign of dy/dt, changes at most once on each side of that point: y has at most two extrema in
 * the segment, each found by bisection on dy/dt, and is monotone between them. The first
 * monotone piece whose end reaches yth holds the crossing, found by Newton's method. */
static double first_crossing(const seg *s, double h, double yth)
{
    const lif_params *p = s->p;
    if (s->y0 >= yth) return 0.0;
    double cut[3] = {0.0, h, h};
    int nc = 2;
    const double A = s->ex0 / p->tau_ex, B = s->in0 / p->tau_in, rate = 1.0 / p->tau_in - 1.0 / p->tau_ex;
    if (A * B < 0 && rate != 0) {
        const double T = log(-B / A) / rate;
        if (T > 0 && T < h) cut[1] = T, cut[2] = h, nc = 3;
    }
    double pt[5] = {0.0};
    int np = 1;
    for (int j = 0; j + 1 < nc; j++) {
        const double a = cut[j], b = cut[j + 1], da = seg_dy(s, a), db = seg_dy(s, b);
        if ((da > 0 && db < 0) || (da < 0 && db > 0)) pt[np++] = slope_zero(s, a, b);
        pt[np++] = b;
    }
    for (int j = 0; j + 1 < np; j++) { /* y below yth at pt[j]; monotone up to pt[j + 1] */
        if (pt[j + 1] <= pt[j]) continue;
        if (seg_y(s, pt[j + 1]) >= yth) return crossing(s, pt[j], pt[j + 1], yth);
    }
    return -1.0;
}

/* One unit's state through a step. */
typedef struct {
    double y, ex, in; /* y = V - E_L */
    double ref_step, ref_off;
} unit_state;

/* Move the state h ms on with the propagators P over h, free or clamped at reset (refractory). */
static void propagate(const lif_params *p, const ns_lif_props *P, unit_state *u, double ie, int clamped)
{
    if (clamped) u->y = p->V_reset - p->E_L;
    else u->y = P->P22 * u->y + P->P21ex * u->ex + P->P21in * u->in + P->P20 * ie;
    u->ex *= P->P11ex;
    u->in *= P->P11in;
}

/* An upper bound of y over a free segment of h <= dt ms from u: the leak part lies between its
 * start and its end, and a positive current adds at most I_x0 times P21x's largest value on
 * [0, h] (P21x(h) before its peak). yend_leak: the leak part at h. */
static double upper_bound(const ps_consts *c, const unit_state *u, double yend_leak, double h, double P21ex,
                          double P21in)
{
    const double kex = h <= c->tpk_ex ? P21ex : c->pk_ex, kin = h <= c->tpk_in ? P21in : c->pk_in;
    return fmax(u->y, yend_leak) + fmax(u->ex, 0.0) * kex + fmax(u->in, 0.0) * kin;
}

/* Does a free segment of h ms from u (P: the propagators over h) reach yth? The time of the first
 * crossing in [0, h], or -1. Most segments are ruled out by the bound, at no more cost than the
 * step itself. */
static double segment_crossing(const lif_params *p, const ps_consts *c, const ns_lif_props *P, const unit_state *u,
                               double h, double ie, double yth)
{
    if (upper_bound(c, u, P->P22 * u->y + P->P20 * ie, h, P->P21ex, P->P21in) < yth) return -1.0;
    const seg s = {p, u->y, u->ex, u->in, ie};
    return first_crossing(&s, h, yth);
}

/* An input event of the step: unit, time from the step's start (ms), weight (pA), and its place
 * in the lists (ties keep list order, the same for any thread count). */
typedef struct {
    uint32_t unit;
    double t, w;
    size_t seq;
} ps_event;

static int cmp_event(const void *a, const void *b)
{
    const ps_event *x = a, *y = b;
    if (x->unit != y->unit) return x->unit < y->unit ? -1 : 1;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* At most this many spikes of one unit in one step (a refractory period far too short for its
 * input otherwise makes the step endless). */
#define PS_MAX_SPIKES_PER_STEP 100000

/* One unit through step k of the window (step m = step0 + k), its events ev[0 .. ne) sorted by
 * time. Spikes go to out; 0, -1 out of memory, or NS_STEP_FAILED. */
static int unit_step(const ns_step_args *a, const lif_params *p, const ps_consts *c, unit_state *u, size_t i,
                     int k, const ps_event *ev, size_t ne, double ie)
{
    const double dt = a->dt, yth = p->V_th - p->E_L;
    const double m = (double)(a->step0 + k);
    double t = 0.0;
    size_t j = 0, spikes = 0;
    for (;;) {
        const int refr = u->ref_step > m || (u->ref_step == m && t < u->ref_off);
        double tend = j < ne && ev[j].t < dt ? ev[j].t : dt;
        if (refr && u->ref_step == m && u->ref_off < tend) tend = u->ref_off;
        const double h = tend - t;
        if (h > 0) {
            ns_lif_props Ph; /* the propagators over h, computed once for the test and the move */
            if (h != dt) ns_lif_propagate_over(p, h, &Ph);
            const ns_lif_props *P = h != dt ? &Ph : &c->full;
            const double tc = refr ? -1.0 : segment_crossing(p, c, P, u, h, ie, yth);
            if (tc >= 0) { /* a spike at t + tc: reset, refractory until t + tc + t_ref */
                if (tc > 0) {
                    ns_lif_props Pc;
                    ns_lif_propagate_over(p, tc, &Pc);
                    propagate(p, &Pc, u, ie, 0);
                }
                t = tc < h ? t + tc : tend;
                if (++spikes > PS_MAX_SPIKES_PER_STEP) {
                    snprintf(a->err, a->errlen, "unit %zu fires more than %d times in one step: t_ref (%g ms) is too "
                             "short for its input", i, PS_MAX_SPIKES_PER_STEP, p->t_ref);
                    return NS_STEP_FAILED;
                }
                if (ns_spikebuf_push_at(a->out, k, (uint32_t)i, t)) return -1;
                u->y = p->V_reset - p->E_L;
                const double x = t + p->t_ref; /* ms from this step's start */
                double q = x <= dt ? 0.0 : ceil(x / dt) - 1.0, off = x - q * dt;
                if (off > dt) q += 1.0, off -= dt; /* rounding of q dt */
                if (off <= 0 && q > 0) q -= 1.0, off += dt;
                u->ref_step = m + q;
                u->ref_off = off;
                continue;
            }
            propagate(p, P, u, ie, refr);
        }
        t = tend;
        if (u->ref_step == m && t >= u->ref_off) u->ref_step = -1.0; /* refractory period over */
        while (j < ne && ev[j].t <= t) { /* events at t enter the currents */
            (ev[j].w < 0 ? &u->in : &u->ex)[0] += ev[j].w;
            j++;
        }
        if (t >= dt) break;
    }
    while (j < ne) { /* events at dt (or later by rounding): at the step's end */
        (ev[j].w < 0 ? &u->in : &u->ex)[0] += ev[j].w;
        j++;
    }
    return 0;
}

/* Gather the events of step k for units [lo, hi) from the lists into *buf (grown as needed),
 * sorted by (unit, time, list order); their count, or -1 when memory runs out. */
static ptrdiff_t gather(const ns_step_args *a, int k, ps_event **buf, size_t *cap)
{
    if (!a->events) return 0;
    const ns_events *e = ns_input_events(a, k);
    size_t n = 0;
    for (size_t r = 0; r < e->n; r++) {
        const ns_event_run *run = &e->run[r];
        const double t = e->off ? e->off[r] : a->dt;
        for (uint32_t q = 0; q < run->n; q++) {
            const size_t unit = (size_t)run->base + run->tgt[q];
            if (unit < a->lo || unit >= a->hi) continue;
            if (n == *cap) {
                size_t nc = *cap ? 2 * *cap : 256;
                ps_event *nb = realloc(*buf, nc * sizeof *nb);
                if (!nb) return -1;
                *buf = nb;
                *cap = nc;
            }
            (*buf)[n] = (ps_event){(uint32_t)unit, t, run->w ? run->w[q] : run->w0, n};
            n++;
        }
    }
    if (n > 1) qsort(*buf, n, sizeof **buf, cmp_event);
    return (ptrdiff_t)n;
}

static int ps_step(const ns_step_args *a)
{
    const lif_params *p = a->params;
    const ps_consts *c = a->consts;
    double *V = a->state[V_M], *Iex = a->state[I_EX], *Iin = a->state[I_IN];
    double *rs = a->state[REF_STEP], *ro = a->state[REF_OFF];
    ps_event *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    for (int k = 0; k < a->nsteps && !rc; k++) {
        const ptrdiff_t ne = gather(a, k, &buf, &cap);
        if (ne < 0) {
            rc = -1;
            break;
        }
        double *ex = ns_input_row(a, NS_PSC_EX, k), *in = ns_input_row(a, NS_PSC_IN, k);
        double *cur = ns_input_row(a, NS_PSC_CURRENT, k);
        size_t j = 0;
        for (size_t i = a->lo; i < a->hi && !rc; i++) {
            size_t j1 = j;
            while (j1 < (size_t)ne && buf[j1].unit == i) j1++;
            unit_state u = {V[i] - p->E_L, Iex[i], Iin[i], rs[i], ro[i]};
            const double ie = p->I_e + (cur ? cur[i] : 0.0);
            rc = unit_step(a, p, c, &u, i, k, buf + j, j1 - j, ie);
            j = j1;
            /* grid input (Poisson devices) at the step's end, as lif takes it */
            if (ex) u.ex += ex[i], ex[i] = 0.0;
            if (in) u.in += in[i], in[i] = 0.0;
            if (cur) cur[i] = 0.0;
            V[i] = u.y + p->E_L;
            Iex[i] = u.ex;
            Iin[i] = u.in;
            rs[i] = u.ref_step;
            ro[i] = u.ref_off;
        }
    }
    free(buf);
    return rc;
}

const ns_model ns_model_lif_ps = {
    .version = NS_MODEL_VERSION,
    .name = "lif_ps",
    .doc = "LIF, exponential current synapses, precise spike times (NEST iaf_psc_exp_ps)",
    .kind = NS_KIND_SPIKING,
    .state = ps_state,
    .n_state = 5,
    .params = ns_lif_param_table,
    .n_params = NS_LIF_N_PARAMS,
    .params_size = sizeof(lif_params),
    .consts_size = sizeof(ps_consts),
    NS_PSC_PORTS,
    .sparse_input = 1,
    .precise = 1,
    .init = ps_init,
    .init_state = ps_init_state,
    .step = ps_step,
};
