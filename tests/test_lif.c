/* tests/test_lif.c — the LIF models against closed forms: the membrane under a constant current,
 * the PSP of one input spike (unequal and equal time constants), the firing rate of a DC-driven
 * neuron, and lif_delta's jumps and dropped input while refractory. */
#include <math.h>

#include "tests/harness.h"
#include "tests/testlib.h"

static const double dt = 0.1;

/* A lif neuron under I_e from V = E_L with no threshold in reach: V(t) = E_L + R I (1 - e^{-t/tau}). */
static void constant_current(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = ns_net_add_population(net, "lif", 1, "n");
    test_cuba_cell(ctx, net, p);
    const char *names[] = {"E_L", "V_th", "V_reset", "I_e", "C_m", "tau_m"};
    double vals[] = {-70, 1000, -70, 300, 250, 10};
    NS_CHECK(ns_pop_set_params(net, p, names, vals, 6) == 0, "%s", ns_ctx_errmsg(ctx));
    double worst = 0;
    for (int k = 1; k <= 2000; k++) {
        ns_net_run(net, dt);
        double t = k * dt, want = -70 + 300.0 * 10 / 250 * (1 - exp(-t / 10));
        double err = fabs(ns_pop_get_state(p, "V_m", 0) - want) / fabs(want);
        if (err > worst) worst = err;
    }
    NS_CHECK(worst < 1e-12, "constant current: worst relative error %.3g", worst);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* One spike of weight w arriving at t_a: I(t) = w e^{-(t-t_a)/tau_s} and
 * V - E_L = w/C tau_s tau_m/(tau_m - tau_s) (e^{-(t-t_a)/tau_m} - e^{-(t-t_a)/tau_s}),
 * or w/C (t - t_a) e^{-(t-t_a)/tau} when tau_s = tau_m. */
static void one_spike(double w, double tau_s, const char *current)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *src = test_one_spike(net, 1.0);
    ns_pop *p = ns_net_add_population(net, "lif", 1, "n");
    test_cuba_cell(ctx, net, p);
    const char *names[] = {"E_L", "V_th", "V_reset", "C_m", "tau_m", "tau_ex", "tau_in"};
    double vals[] = {0, 1000, -70, 250, 10, tau_s, tau_s}; /* E_L 0: V is the PSP itself */
    NS_CHECK(ns_pop_set_params(net, p, names, vals, 7) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(test_connect_const(net, src, p, w, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
    const double t_a = 2.0, C = 250, tm = 10;
    double worst_v = 0, worst_i = 0;
    int early = 0;
    for (int k = 1; k <= 600; k++) {
        ns_net_run(net, dt);
        double t = k * dt, s = t - t_a;
        double V = ns_pop_get_state(p, "V_m", 0), I = ns_pop_get_state(p, current, 0);
        if (s < -1e-9) {
            early |= V != 0 || I != 0;
            continue;
        }
        double wantI = w * exp(-s / tau_s);
        double wantV = tau_s == tm ? w / C * s * exp(-s / tm)
                                   : w / C * tau_s * tm / (tm - tau_s) * (exp(-s / tm) - exp(-s / tau_s));
        if (s > 0) worst_v = fmax(worst_v, fabs(V - wantV) / fabs(wantV));
        worst_i = fmax(worst_i, fabs(I - wantI) / fabs(wantI));
    }
    NS_CHECK(!early, "input visible before t + delay");
    NS_CHECK(worst_v < 1e-12, "PSP (w %g, tau_s %g): worst relative error of V %.3g", w, tau_s, worst_v);
    NS_CHECK(worst_i < 1e-12, "PSC (w %g, tau_s %g): worst relative error of I %.3g", w, tau_s, worst_i);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Constant drive above threshold: period t_ref + tau ln(RI / (RI - (V_th - E_L))). On the grid,
 * a spike comes in the first step whose end is past the crossing. */
static void dc_rate(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = ns_net_add_population(net, "lif", 1, "n");
    test_cuba_cell(ctx, net, p);
    const char *names[] = {"E_L", "V_th", "V_reset", "C_m", "tau_m", "t_ref"};
    double vals[] = {-70, -55, -70, 250, 10, 2};
    NS_CHECK(ns_pop_set_params(net, p, names, vals, 6) == 0, "%s", ns_ctx_errmsg(ctx));
    double t[] = {0.0}, a[] = {500.0};
    NS_CHECK(ns_net_add_current(net, p, 1, t, a) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 10000.0) == 0, "%s", ns_ctx_errmsg(ctx));
    double RI = 500.0 * 10 / 250, T_s = 10 * log(RI / (RI - 15));
    double rate = 1000.0 / (2 + T_s);
    double count = (double)ns_pop_n_spikes(p);
    NS_CHECK_REL(count / 10.0, rate, 0.01);
    /* on the grid: first spike after ceil(T_s/dt) steps, then every 20 + ceil(T_s/dt) steps */
    long m = (long)ceil(T_s / dt), period = 20 + m, steps = 100000;
    long want = (steps - m) / period + 1;
    NS_CHECK(count == want, "DC: %g spikes, grid closed form %ld", count, want);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* lif_delta: a 30 mV input crosses the 20 mV threshold at once; input during the refractory
 * period is dropped; the next one after it fires again. */
static void delta_jumps(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    size_t off[] = {0, 3};
    double times[] = {1.0, 1.5, 4.0};
    ns_pop *src = ns_net_add_spike_source(net, 1, off, times, "src");
    ns_pop *p = ns_net_add_population(net, "lif_delta", 1, "n");
    ns_conn_spec spec = {.rule = NS_RULE_ONE_TO_ONE, .weight = {NS_DIST_CONST, 30, 0}, .delay = {NS_DIST_CONST, 1.0, 0}, .autapses = 1};
    NS_CHECK(ns_net_connect(net, src, p, &spec) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_pop *pops[] = {p};
    NS_CHECK(ns_net_record_spikes(net, pops, 1, "spikes.csv") == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 10.0) == 0, "%s", ns_ctx_errmsg(ctx));
    test_spikes s = test_read_spikes(ctx, "spikes.csv");
    NS_CHECK(s.n == 2, "lif_delta: %zu spikes, want 2 (the input at 2.5 ms falls in t_ref)", s.n);
    if (s.n == 2) {
        NS_CHECK_ABS(s.t[0], 2.0, 1e-9);
        NS_CHECK_ABS(s.t[1], 5.0, 1e-9);
        NS_CHECK(s.id[0] == 1 && s.id[1] == 1, "spikes come from neuron id 1");
    }
    test_spikes_free(&s);
    /* a subthreshold jump: V rises by w exactly and then decays with tau_m */
    ns_net_free(net);
    test_ctx_free(ctx);
}

static void subthreshold_delta(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *src = test_one_spike(net, 0.5);
    ns_pop *p = ns_net_add_population(net, "lif_delta", 1, "n");
    test_connect_const(net, src, p, 5, 0.5);
    double worst = 0;
    for (int k = 1; k <= 300; k++) {
        ns_net_run(net, dt);
        double t = k * dt, V = ns_pop_get_state(p, "V_m", 0);
        if (t < 1.0 - 1e-9) NS_CHECK(V == 0, "V moved before the input arrived (t %g)", t);
        else worst = fmax(worst, fabs(V - 5 * exp(-(t - 1.0) / 20)) / (5 * exp(-(t - 1.0) / 20)));
    }
    NS_CHECK(worst < 1e-12, "delta PSP: worst relative error %.3g", worst);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Nearly equal time constants: P21 stays accurate (expm1 form) and tends to the limit. */
static void near_equal_tau(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    double w = 100;
    for (int e = 4; e <= 14; e += 5) {
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *src = test_one_spike(net, 0.1);
        ns_pop *p = ns_net_add_population(net, "lif", 1, "n");
        test_cuba_cell(ctx, net, p);
        const char *names[] = {"E_L", "V_th", "V_reset", "C_m", "tau_m", "tau_ex"};
        double vals[] = {0, 1000, -1, 250, 10, 10 * (1 + pow(10, -e))};
        ns_pop_set_params(net, p, names, vals, 6);
        test_connect_const(net, src, p, w, 0.1);
        ns_net_run(net, 5.0 + 0.2);
        double s = 5.0, want = w / 250 * s * exp(-s / 10); /* the equal-tau limit */
        NS_CHECK_REL(ns_pop_get_state(p, "V_m", 0), want, 10 * pow(10, -e) + 1e-12);
        ns_net_free(net);
    }
    test_ctx_free(ctx);
}

/* Parameters set between runs take effect from the next step: the membrane relaxes to the new
 * fixed point with the new time constant, and a decaying current (of a population that keeps
 * its currents scaled) continues with the new synaptic time constant. */
static void set_between_runs(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *src = test_one_spike(net, 1.0);
    ns_pop *p = ns_net_add_population(net, "lif", 1, "n");
    test_cuba_cell(ctx, net, p);
    const char *names[] = {"E_L", "V_th", "V_reset", "I_e", "C_m", "tau_m", "tau_ex"};
    double vals[] = {0, 1000, -70, 300, 250, 10, 5};
    ns_pop_set_params(net, p, names, vals, 7);
    test_connect_const(net, src, p, 100, 0.1);
    ns_net_run(net, 50.0);
    double V1 = ns_pop_get_state(p, "V_m", 0), I1 = ns_pop_get_state(p, "I_ex", 0);
    NS_CHECK_REL(I1, 100 * exp(-(50.0 - 1.1) / 5), 1e-12);
    const char *n2[] = {"I_e", "tau_m", "tau_ex"};
    double v2[] = {0, 20, 2};
    NS_CHECK(ns_pop_set_params(net, p, n2, v2, 3) == 0, "%s", ns_ctx_errmsg(ctx));
    /* from here V' = -V/20 + I/250 with I = I1 e^{-s/2}: V = V1 e^{-s/20} + I1/250 * (2*20/(20-2)) (e^{-s/20} - e^{-s/2}) */
    double worst_v = 0, worst_i = 0;
    for (int k = 1; k <= 300; k++) {
        ns_net_run(net, dt);
        double sv = k * dt;
        double wantI = I1 * exp(-sv / 2);
        double wantV = V1 * exp(-sv / 20) + I1 / 250 * (2.0 * 20 / 18) * (exp(-sv / 20) - exp(-sv / 2));
        worst_i = fmax(worst_i, fabs(ns_pop_get_state(p, "I_ex", 0) - wantI) / wantI);
        worst_v = fmax(worst_v, fabs(ns_pop_get_state(p, "V_m", 0) - wantV) / fabs(wantV));
    }
    NS_CHECK(worst_i < 1e-12, "current after the change: worst relative error %.3g", worst_i);
    NS_CHECK(worst_v < 1e-11, "membrane after the change: worst relative error %.3g", worst_v);
    ns_net_free(net);
    test_ctx_free(ctx);
}

int main(void)
{
    constant_current();
    one_spike(100.0, 5.0, "I_ex");
    one_spike(-250.0, 7.5, "I_in");
    one_spike(100.0, 10.0, "I_ex");
    dc_rate();
    delta_jumps();
    subthreshold_delta();
    near_equal_tau();
    set_between_runs();
    NS_TEST_MAIN_END();
}
