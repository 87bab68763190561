/* tests/test_aeif_cond.c — aeif_cond_exp (NEST's aeif_cond_exp) against truth: the fixed point
 * under a constant current, a conductance pulse against an RK4 written here, w's jumps of b and
 * the adaptation of ISIs, agreement with adex, the rheobase and first-spike time. */
#include <math.h>
#include <string.h>

#include "sim/net_types.h"
#include "tests/harness.h"
#include "tests/testlib.h"

/* The parameters of the tests (NEST's defaults unless a test changes them). */
typedef struct {
    double C, gL, EL, DT, Vth, Vpeak, Vreset, a, b, tw, tref, Eex, Ein, tex, tin, Ie;
} cell;

static const cell nest_defaults = {281, 30, -70.6, 2, -50.4, 0, -60, 4, 80.5, 144, 0, 0, -85, 0.2, 2, 0};

static void set_cell(ns_ctx *ctx, ns_net *net, ns_pop *p, const cell *c)
{
    const char *names[] = {"C_m", "g_L", "E_L", "Delta_T", "V_th", "V_peak", "V_reset", "a",
                           "b", "tau_w", "t_ref", "E_ex", "E_in", "tau_syn_ex", "tau_syn_in", "I_e"};
    const double v[] = {c->C, c->gL, c->EL, c->DT, c->Vth, c->Vpeak, c->Vreset, c->a,
                        c->b, c->tw, c->tref, c->Eex, c->Ein, c->tex, c->tin, c->Ie};
    if (ns_pop_set_params(net, p, names, v, 16)) {
        printf("set cell: %s\n", ns_ctx_errmsg(ctx));
        exit(1);
    }
}

/* The model's equations as NEST writes them: y = (V, w, g_ex, g_in); per ms. */
static void rhs(const cell *c, const double *y, double *f)
{
    const double V = y[0];
    const double spike = c->DT > 0 ? c->gL * c->DT * exp((V - c->Vth) / c->DT) : 0.0;
    f[0] = (-c->gL * (V - c->EL) + spike - y[2] * (V - c->Eex) - y[3] * (V - c->Ein) - y[1] + c->Ie) / c->C;
    f[1] = (c->a * (V - c->EL) - y[1]) / c->tw;
    f[2] = -y[2] / c->tex;
    f[3] = -y[3] / c->tin;
}

/* One classical RK4 step of h ms. */
static void rk4(const cell *c, double *y, double h)
{
    double k1[4], k2[4], k3[4], k4[4], t[4];
    rhs(c, y, k1);
    for (int i = 0; i < 4; i++) t[i] = y[i] + 0.5 * h * k1[i];
    rhs(c, t, k2);
    for (int i = 0; i < 4; i++) t[i] = y[i] + 0.5 * h * k2[i];
    rhs(c, t, k3);
    for (int i = 0; i < 4; i++) t[i] = y[i] + h * k3[i];
    rhs(c, t, k4);
    for (int i = 0; i < 4; i++) y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
}

/* One aeif_cond_exp neuron with cell c on CVODE at tight tolerances. */
static ns_pop *one_cell(ns_ctx *ctx, ns_net *net, const char *model, const cell *c)
{
    ns_pop *p = ns_net_add_population(net, model, 1, model);
    NS_CHECK(p != NULL, "%s", ns_ctx_errmsg(ctx));
    if (!strcmp(model, "adex")) { /* adex: current synapses, its own names for V_th and V_reset */
        const char *names[] = {"C_m", "g_L", "E_L", "Delta_T", "V_T", "V_peak", "V_r", "a", "b", "tau_w", "t_ref", "I_e"};
        const double v[] = {c->C, c->gL, c->EL, c->DT, c->Vth, c->Vpeak, c->Vreset, c->a, c->b, c->tw, c->tref, c->Ie};
        NS_CHECK(ns_pop_set_params(net, p, names, v, 12) == 0, "%s", ns_ctx_errmsg(ctx));
    } else {
        set_cell(ctx, net, p, c);
    }
    NS_CHECK(ns_pop_set_solver(net, p, "cvode_bdf", 1e-10, 1e-10) == 0, "%s", ns_ctx_errmsg(ctx));
    return p;
}

/* The fixed point of V (and w = a (V - E_L)) without input: the root of
 * -(g_L + a)(V - E_L) + g_L Delta_T exp((V - V_th) / Delta_T) + I_e below the exponential's
 * knee, by bisection. */
static double fixed_point(const cell *c)
{
    double lo = c->EL - 100, hi = c->Vth + c->DT * log((c->gL + c->a) / c->gL); /* the knee: f is largest there */
    for (int k = 0; k < 200; k++) {
        double m = 0.5 * (lo + hi);
        double f = -(c->gL + c->a) * (m - c->EL) + c->gL * c->DT * exp((m - c->Vth) / c->DT) + c->Ie;
        if (f > 0) lo = m;
        else hi = m;
    }
    return 0.5 * (lo + hi);
}

/* No input but I_e below rheobase: V and w settle at the fixed point, from a start off it. */
static void test_fixed_point(void)
{
    cell c = nest_defaults;
    c.Ie = 150;
    const double V = fixed_point(&c), w = c.a * (V - c.EL);
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *p = one_cell(ctx, net, "aeif_cond_exp", &c);
    double V0 = V + 3, w0 = w - 20;
    ns_pop_set_state_array(net, p, "V_m", &V0);
    ns_pop_set_state_array(net, p, "w", &w0);
    NS_CHECK(ns_net_run(net, 3000) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK_ABS(ns_pop_get_state(p, "V_m", 0), V, 1e-6);
    NS_CHECK_ABS(ns_pop_get_state(p, "w", 0), w, 1e-5);
    NS_CHECK(ns_pop_n_spikes(p) == 0, "no spike at the fixed point (%lld)", (long long)ns_pop_n_spikes(p));
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* One excitatory and one inhibitory conductance pulse onto a neuron at rest under I_e, subthreshold,
 * with Delta_T tiny: V, w, g_ex
 * and g_in at every step against an RK4 of the same equations (1000 substeps a step); the
 * inhibitory weight (negative) lands on g_in by its magnitude. */
static void test_pulse(void)
{
    cell c = nest_defaults;
    c.DT = 1e-3;
    c.Ie = 100;
    const double dt = 0.1, wex = 20.0, win = -12.0;
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    size_t off[] = {0, 1};
    double te[] = {5.0}, ti[] = {12.0};
    ns_pop *se = ns_net_add_spike_source(net, 1, off, te, "se");
    ns_pop *si = ns_net_add_spike_source(net, 1, off, ti, "si");
    ns_pop *p = one_cell(ctx, net, "aeif_cond_exp", &c);
    NS_CHECK(test_connect_const(net, se, p, wex, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(test_connect_const(net, si, p, win, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
    double y[4] = {fixed_point(&c), 0, 0, 0}; /* at rest under I_e */
    y[1] = c.a * (y[0] - c.EL);
    ns_pop_set_state_array(net, p, "V_m", &y[0]);
    ns_pop_set_state_array(net, p, "w", &y[1]);
    double err[4] = {0};
    int gin_seen = 0;
    double vbefore = 0, vmax = -HUGE_VAL, vmin = HUGE_VAL; /* V before the first pulse, its extremes after */
    for (int s = 0; s < 600; s++) {
        NS_CHECK(ns_net_run(net, dt) == 0, "%s", ns_ctx_errmsg(ctx));
        for (int j = 0; j < 1000; j++) rk4(&c, y, dt / 1000);
        /* a spike sent at t arrives at the end of the step that ends at t + 1 ms */
        const double tend = (s + 1) * dt;
        if (fabs(tend - (te[0] + 1.0)) < 1e-9) y[2] += wex;
        if (fabs(tend - (ti[0] + 1.0)) < 1e-9) y[3] += -win, gin_seen = 1;
        const char *vars[4] = {"V_m", "w", "g_ex", "g_in"};
        for (int i = 0; i < 4; i++) err[i] = fmax(err[i], fabs(ns_pop_get_state(p, vars[i], 0) - y[i]));
        const double V = ns_pop_get_state(p, "V_m", 0);
        if (tend < te[0] + 1.0 - 1e-9) vbefore = V;
        else if (tend < ti[0] + 1.0 - 1e-9) vmax = fmax(vmax, V);
        else vmin = fmin(vmin, V);
        if (gin_seen == 1) {
            NS_CHECK_REL(ns_pop_get_state(p, "g_in", 0), -win, 1e-12);
            gin_seen = 2;
        }
    }
    NS_CHECK(gin_seen == 2, "the inhibitory pulse arrived");
    NS_CHECK(err[0] < 1e-6, "V within 1e-6 mV of RK4 at every step (%.3g)", err[0]);
    NS_CHECK(err[1] < 1e-6, "w within 1e-6 pA (%.3g)", err[1]);
    NS_CHECK(err[2] < 1e-7 && err[3] < 1e-7, "g_ex, g_in within 1e-7 nS (%.3g, %.3g)", err[2], err[3]);
    NS_CHECK(vmax - vbefore > 0.5 && vmin < vbefore - 0.5, "the pulses moved V: up %.3g mV, down %.3g mV",
             vmax - vbefore, vbefore - vmin);
    NS_CHECK(ns_pop_n_spikes(p) == 0, "subthreshold");
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Spike steps of population p from spikes.csv, into t (up to max), their count. */
static size_t spike_times(ns_ctx *ctx, const char *file, double *t, size_t max)
{
    test_spikes s = test_read_spikes(ctx, file);
    size_t n = s.n < max ? s.n : max;
    for (size_t k = 0; k < n; k++) t[k] = s.t[k];
    free(s.t);
    free(s.id);
    return n;
}

/* w jumps by exactly b: with a = 0 and tau_w beyond any run, w only jumps, so after k spikes it is
 * k b; with NEST's a and tau_w the ISIs under a constant current grow (adaptation) and settle. */
static void test_adaptation(void)
{
    {
        cell c = nest_defaults;
        c.a = 0, c.tw = 1e300, c.Ie = 1500;
        ns_ctx *ctx = test_ctx(1, 1);
        ns_net *net = ns_net_create(ctx, 0.1);
        ns_pop *p = one_cell(ctx, net, "aeif_cond_exp", &c);
        int good = 1, jumps = 0;
        int64_t seen = 0;
        for (int s = 0; s < 3000; s++) {
            ns_net_run(net, 0.1);
            int64_t k = ns_pop_n_spikes(p);
            jumps += k > seen;
            good &= fabs(ns_pop_get_state(p, "w", 0) - (double)k * c.b) <= 1e-9 * (double)(k + 1) * c.b;
            seen = k;
        }
        NS_CHECK(good && jumps >= 5, "w = spikes x b at every step (%d spikes)", jumps);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    cell c = nest_defaults;
    c.Ie = 800;
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *p = one_cell(ctx, net, "aeif_cond_exp", &c);
    ns_net_record_spikes(net, &p, 1, "spikes.csv");
    NS_CHECK(ns_net_run(net, 1000) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_net_flush(net);
    double t[256];
    size_t n = spike_times(ctx, "spikes.csv", t, 256);
    NS_CHECK(n >= 6, "a driven neuron fires (%zu spikes)", n);
    int grow = 1;
    for (size_t k = 2; k < 5 && k < n; k++) grow &= t[k] - t[k - 1] > t[k - 1] - t[k - 2];
    NS_CHECK(grow, "the first ISIs grow: %g %g %g %g", t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3]);
    NS_CHECK(n > 6 && t[n - 1] - t[n - 2] > 2 * (t[1] - t[0]), "the late ISI (%g ms) well above the first (%g ms)",
             t[n - 1] - t[n - 2], t[1] - t[0]);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Without synaptic input aeif_cond_exp is adex: the same spike steps and V at every ms. */
static void test_against_adex(void)
{
    cell c = nest_defaults;
    c.Ie = 900, c.tref = 2;
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *p[2] = {one_cell(ctx, net, "aeif_cond_exp", &c), one_cell(ctx, net, "adex", &c)};
    ns_net_record_spikes(net, &p[0], 1, "a.csv");
    ns_net_record_spikes(net, &p[1], 1, "b.csv");
    double dv = 0;
    for (int ms = 0; ms < 300; ms++) {
        ns_net_run(net, 1.0);
        dv = fmax(dv, fabs(ns_pop_get_state(p[0], "V_m", 0) - ns_pop_get_state(p[1], "V_m", 0)));
    }
    ns_net_flush(net);
    double ta[128], tb[128];
    size_t na = spike_times(ctx, "a.csv", ta, 128), nb = spike_times(ctx, "b.csv", tb, 128);
    int same = na == nb && na > 3;
    for (size_t k = 0; same && k < na; k++) same = fabs(ta[k] - tb[k]) < 1e-9;
    NS_CHECK(same, "the same spike steps (%zu and %zu spikes)", na, nb);
    NS_CHECK(dv < 1e-4, "V within 1e-4 mV of adex's at every ms (%.3g)", dv);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* The first spike time of cell c from rest, by RK4 at step h until V reaches the detection
 * potential (interpolated in the last step); -1 when none before tmax. */
static double rk4_first_spike(const cell *c, double h, double tmax)
{
    double y[4] = {c->EL, 0, 0, 0};
    const double peak = c->DT > 0 ? c->Vpeak : c->Vth;
    for (double t = 0; t < tmax; t += h) {
        double V0 = y[0];
        rk4(c, y, h);
        if (y[0] >= peak) return t + h * (peak - V0) / (y[0] - V0);
    }
    return -1;
}

/* The first spike's step of one neuron (the step's end, ms), or -1. */
static double first_spike(const cell *c, double dt, double tmax)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = one_cell(ctx, net, "aeif_cond_exp", c);
    ns_net_record_spikes(net, &p, 1, "spikes.csv");
    NS_CHECK(ns_net_run(net, tmax) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_net_flush(net);
    double t[1];
    size_t n = spike_times(ctx, "spikes.csv", t, 1);
    ns_net_free(net);
    test_ctx_free(ctx);
    return n ? t[0] : -1;
}

/* Rheobase with a = 0: g_L (V_th - E_L - Delta_T) (the saddle-node of the V equation); 1 % below it
 * nothing fires, 1 % above it fires. The first spike of a stronger drive in the step where an RK4
 * at 1e-4 ms puts it; and with Delta_T = 0 (spikes at V_th) where the closed form puts it. */
static void test_rheobase(void)
{
    cell c = nest_defaults;
    c.a = 0;
    const double rheo = c.gL * (c.Vth - c.EL - c.DT), dt = 0.01;
    c.Ie = 0.99 * rheo;
    NS_CHECK(first_spike(&c, 0.1, 1000) < 0, "1 %% below rheobase (%g pA): no spike", rheo);
    c.Ie = 1.01 * rheo;
    double t1 = first_spike(&c, 0.1, 1000), r1 = rk4_first_spike(&c, 1e-3, 1000);
    NS_CHECK(t1 > 0 && r1 > 0 && t1 - 0.1 - 1e-6 <= r1 && r1 <= t1 + 1e-6,
             "1 %% above rheobase: a spike in the step where RK4 has it (%g ms, RK4 %g ms)", t1, r1);
    c = nest_defaults;
    c.Ie = 800;
    double t = first_spike(&c, dt, 200), r = rk4_first_spike(&c, 1e-4, 200);
    NS_CHECK(t > 0 && t - dt - 1e-6 <= r && r <= t + 1e-6, "first spike in the step of RK4's %.6f ms: %g", r, t);
    c.DT = 0, c.a = 0, c.Ie = 700; /* V(t) = E_L + I/g_L (1 - e^{-t g_L / C}) reaches V_th at t* */
    double ts = -c.C / c.gL * log(1 - c.gL * (c.Vth - c.EL) / c.Ie);
    t = first_spike(&c, dt, 200);
    NS_CHECK(t > 0 && t - dt - 1e-6 <= ts && ts <= t + 1e-6, "Delta_T = 0: the spike at V_th, closed form %.6f ms: %g",
             ts, t);
}

/* Bad parameters are refused with their values: V_reset at or above V_peak, V_peak below V_th. */
static void test_refusals(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *p = ns_net_add_population(net, "aeif_cond_exp", 1, "A");
    const char *n1[] = {"V_reset"};
    double v1[] = {5.0};
    NS_CHECK(ns_pop_set_params(net, p, n1, v1, 1) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "V_reset (5 mV)"), "%s",
             ns_ctx_errmsg(ctx));
    const char *n2[] = {"V_peak"};
    double v2[] = {-55.0};
    NS_CHECK(ns_pop_set_params(net, p, n2, v2, 1) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "V_peak (-55 mV)"), "%s",
             ns_ctx_errmsg(ctx));
    const char *n3[] = {"Delta_T"};
    double v3[] = {-1.0};
    NS_CHECK(ns_pop_set_params(net, p, n3, v3, 1) == NS_EINVAL, "negative Delta_T refused");
    ns_net_free(net);
    test_ctx_free(ctx);
}

int main(void)
{
    test_fixed_point();
    test_pulse();
    test_adaptation();
    test_against_adex();
    test_rheobase();
    test_refusals();
    NS_TEST_MAIN_END();
}
