/* tests/test_lif_alpha.c — lif_alpha (NEST's iaf_psc_alpha) against closed forms: the alpha current
 * and the PSP of one spike at every step (tau_m equal to tau_syn too), the current's peak equal to
 * the weight at t = tau, the charge w e tau against lif's w tau, and lif's spikes without synapses. */
#include <math.h>
#include <string.h>

#include "sim/net_types.h"
#include "tests/harness.h"
#include "tests/testlib.h"

/* The alpha PSP (mV) t ms after a spike of w pA arrived, in long double: W e^{-t/tau_m} J with
 * W = w e / (tau C) and J = int_0^t s e^{-beta s} ds, beta = 1/tau - 1/tau_m. J is
 * (1 - e^{-beta t}(1 + beta t)) / beta^2 in closed form; where beta t is small (tau_m near tau,
 * or equal), where that form cancels, J is the integral of the exponential's Taylor series term
 * by term: sum_k (-beta)^k t^{k+2} / ((k + 2) k!). */
static double psp(double w, double tau, double tau_m, double C, double t)
{
    const long double W = (long double)w * expl(1.0L) / ((long double)tau * C), T = t;
    const long double beta = 1.0L / tau - 1.0L / tau_m;
    long double J;
    if (fabsl(beta * T) < 1.0L) {
        long double term = T * T, sum = 0; /* term = (-beta)^k t^{k+2} / k! */
        for (int k = 0; k < 60; k++) {
            sum += term / (k + 2);
            term *= -beta * T / (k + 1);
        }
        J = sum;
    } else {
        J = (1.0L - expl(-beta * T) * (1.0L + beta * T)) / (beta * beta);
    }
    return (double)(W * expl(-T / tau_m) * J);
}

/* The alpha current (pA) t ms after the spike: w e / tau t e^{-t/tau}. */
static double alpha_current(double w, double tau, double t)
{
    return (double)((long double)w * expl(1.0L) / tau * t * expl(-(long double)t / tau));
}

/* One spike of weight w (pA; negative: inhibitory) into a lif_alpha at E_L = 0 with tau_m and
 * tau_syn (both receptors): V_m and the current at every step against the closed forms, to
 * 1e-12 relative (of the PSP's and the current's peak); the current's value at t = tau is w. */
static void test_psp(double tau_m, double tau, double w)
{
    const double dt = 0.1, C = 250, delay = 1.0, t_spike = 2.0;
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *src = test_one_spike(net, t_spike);
    ns_pop *p = ns_net_add_population(net, "lif_alpha", 1, "P");
    const char *names[] = {"C_m", "tau_m", "E_L", "V_th", "V_reset", "tau_ex", "tau_in", "t_ref"};
    const double vals[] = {C, tau_m, 0, 1e6, -1, tau, tau, 0};
    NS_CHECK(ns_pop_set_params(net, p, names, vals, 8) == 0, "%s", ns_ctx_errmsg(ctx));
    double V0 = 0;
    ns_pop_set_state_array(net, p, "V_m", &V0);
    NS_CHECK(test_connect_const(net, src, p, w, delay) == 0, "%s", ns_ctx_errmsg(ctx));
    const char *cur = w >= 0 ? "I_ex" : "I_in";
    const double ta = t_spike + delay; /* the end of the arrival step: the current starts there */
    /* the peaks, to scale the errors */
    double vpeak = 0, ipeak = fabs(w);
    for (double t = 0; t < 80; t += 0.01) vpeak = fmax(vpeak, fabs(psp(w, tau, tau_m, C, t)));
    double ev = 0, ei = 0, at_tau = NAN;
    for (int s = 0; s < 800; s++) {
        NS_CHECK(ns_net_run(net, dt) == 0, "%s", ns_ctx_errmsg(ctx));
        const double T = (s + 1) * dt, t = T - ta;
        const double v = ns_pop_get_state(p, "V_m", 0), i = ns_pop_get_state(p, cur, 0);
        const double vw = t > 1e-9 ? psp(w, tau, tau_m, C, t) : 0.0, iw = t > -1e-9 ? alpha_current(w, tau, fmax(t, 0)) : 0.0;
        ev = fmax(ev, fabs(v - vw) / vpeak);
        ei = fmax(ei, fabs(i - iw) / ipeak);
        if (fabs(t - tau) < 1e-9) at_tau = i;
    }
    NS_CHECK(ev <= 1e-12, "tau_m %g, tau %g, w %g: V_m at every step within 1e-12 of the PSP's peak (%.3g)", tau_m, tau, w, ev);
    NS_CHECK(ei <= 1e-12, "tau_m %g, tau %g, w %g: %s at every step within 1e-12 of w (%.3g)", tau_m, tau, w, cur, ei);
    if (fabs(tau / dt - round(tau / dt)) < 1e-9) NS_CHECK_REL(at_tau, w, 1e-12); /* a step ends at t = tau */
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* The charge: with no leak to speak of (tau_m 1e9 ms), V ends w e tau / C above rest once the
 * current has gone for lif_alpha, and w tau / C for lif (exponential, same tau): the alpha carries
 * e times the charge of the exponential of the same weight. */
static void test_charge(void)
{
    const double C = 250, tau = 2.0, w = 40.0;
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *src = test_one_spike(net, 1.0);
    ns_pop *p[2] = {ns_net_add_population(net, "lif_alpha", 1, "A"), ns_net_add_population(net, "lif", 1, "L")};
    const char *names[] = {"C_m", "tau_m", "E_L", "V_th", "V_reset", "tau_ex", "tau_in"};
    const double vals[] = {C, 1e9, 0, 1e6, -1, tau, tau};
    for (int k = 0; k < 2; k++) {
        NS_CHECK(ns_pop_set_params(net, p[k], names, vals, 7) == 0, "%s", ns_ctx_errmsg(ctx));
        double V0 = 0;
        ns_pop_set_state_array(net, p[k], "V_m", &V0);
        NS_CHECK(test_connect_const(net, src, p[k], w, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
    }
    NS_CHECK(ns_net_run(net, 150) == 0, "%s", ns_ctx_errmsg(ctx));
    const double va = ns_pop_get_state(p[0], "V_m", 0), vl = ns_pop_get_state(p[1], "V_m", 0);
    NS_CHECK_REL(va, w * M_E * tau / C, 1e-6);
    NS_CHECK_REL(vl, w * tau / C, 1e-6);
    NS_CHECK_REL(va / vl, M_E, 1e-6);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Without synaptic input lif_alpha is lif: under I_e and a dc current the same V at every step
 * and the same spikes (threshold, reset, refractory period). */
static void test_as_lif(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *p[2] = {ns_net_add_population(net, "lif_alpha", 1, "A"), ns_net_add_population(net, "lif", 1, "L")};
    const double t[2] = {50, 120}, a[2] = {200, 0};
    for (int k = 0; k < 2; k++) {
        set1(ctx, net, p[k], "I_e", 450);
        NS_CHECK(ns_net_add_current(net, p[k], 2, t, a) == 0, "%s", ns_ctx_errmsg(ctx));
    }
    double dv = 0;
    for (int s = 0; s < 2000; s++) {
        ns_net_run(net, 0.1);
        dv = fmax(dv, fabs(ns_pop_get_state(p[0], "V_m", 0) - ns_pop_get_state(p[1], "V_m", 0)));
    }
    NS_CHECK(dv <= 1e-12, "V_m equal to lif's at every step (%.3g)", dv);
    NS_CHECK(ns_pop_n_spikes(p[0]) == ns_pop_n_spikes(p[1]) && ns_pop_n_spikes(p[0]) > 5, "spikes %lld and %lld",
             (long long)ns_pop_n_spikes(p[0]), (long long)ns_pop_n_spikes(p[1]));
    ns_net_free(net);
    test_ctx_free(ctx);
}

int main(void)
{
    test_psp(10.0, 2.0, 50.0);  /* NEST's defaults for tau_m, tau_syn */
    test_psp(10.0, 2.0, -30.0); /* inhibitory: I_in */
    test_psp(5.0, 5.0, 20.0);   /* tau_m == tau_syn: the limit */
    test_psp(5.0, 5.0 * (1 + 1e-9), 20.0); /* nearly equal: the series of the propagator */
    test_psp(3.0, 8.0, 20.0);   /* a synapse slower than the membrane */
    test_charge();
    test_as_lif();
    NS_TEST_MAIN_END();
}
