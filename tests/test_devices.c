/* tests/test_devices.c — the ac and noise current devices and the neurons = subsets of every
 * device, against truth: the current each unit got in each step, read back exactly from a lif
 * without leak-free shortcuts (V(s+1) = P22 V(s) + P20 I(s) inverted), against the closed-form
 * sinusoid, and for noise against the statistics of a normal, held over its dt, independent
 * across units and the same for any thread count. */
#include <math.h>
#include <string.h>

#include "sim/net_types.h"
#include "tests/harness.h"
#include "tests/testlib.h"

static const double DT = 0.1, TAU = 10.0, CM = 250.0;

/* A probe: n lif units at E_L = 0 that never fire, so that V(s+1) = P22 V(s) + P20 I(s), I(s) the
 * device current of step s. */
static ns_pop *probe(ns_ctx *ctx, ns_net *net, size_t n, const char *name)
{
    ns_pop *p = ns_net_add_population(net, "lif", n, name);
    const char *names[] = {"C_m", "tau_m", "E_L", "V_th", "V_reset", "t_ref", "I_e"};
    const double v[] = {CM, TAU, 0.0, 1e12, -1.0, 0.0, 0.0};
    NS_CHECK(p && ns_pop_set_params(net, p, names, v, 7) == 0, "%s", ns_ctx_errmsg(ctx));
    double *zero = calloc(n, sizeof *zero);
    ns_pop_set_state_array(net, p, "V_m", zero);
    free(zero);
    return p;
}

/* Run one step and put each unit's current of that step (pA) into I; V holds the units' V_m before
 * the step and after it on return. */
static void step_currents(ns_ctx *ctx, ns_net *net, ns_pop *p, double *V, double *I)
{
    const double P22 = exp(-DT / TAU), P20 = TAU / CM * (1.0 - exp(-DT / TAU));
    NS_CHECK(ns_net_run(net, DT) == 0, "%s", ns_ctx_errmsg(ctx));
    for (size_t i = 0; i < ns_pop_size(p); i++) {
        const double v = ns_pop_get_state(p, "V_m", i);
        I[i] = (v - P22 * V[i]) / P20;
        V[i] = v;
    }
}

/* ac: every step's current against offset + amplitude sin(2 pi f t / 1000 + phase pi / 180), t the
 * step's start, inside [start, stop), and 0 outside; on the listed units only. */
static void test_ac(void)
{
    const double amp = 120, off = 15, f = 37, ph = 75, start = 3.0, stop = 41.0;
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, DT);
    ns_pop *p = probe(ctx, net, 4, "P");
    NS_CHECK(ns_net_add_ac(net, p, amp, off, f, ph, start, stop) == 0, "%s", ns_ctx_errmsg(ctx));
    const size_t units[] = {3, 1};
    NS_CHECK(ns_net_device_units(net, units, 2) == 0, "%s", ns_ctx_errmsg(ctx));
    double V[4] = {0}, I[4];
    double err = 0, other = 0;
    int on = 0;
    for (int s = 0; s < 500; s++) {
        step_currents(ctx, net, p, V, I);
        const double t = s * DT;
        const int active = t >= start - 1e-9 && t < stop - 1e-9;
        const double want = active ? off + amp * sin(2 * M_PI * f * t / 1000 + ph * M_PI / 180) : 0.0;
        on += active;
        err = fmax(err, fmax(fabs(I[1] - want), fabs(I[3] - want)));
        other = fmax(other, fmax(fabs(I[0]), fabs(I[2])));
    }
    NS_CHECK(on == 380, "active for [3, 41) ms: %d steps", on);
    NS_CHECK(err < 1e-9, "the sinusoid at every step within 1e-9 pA (%.3g)", err);
    NS_CHECK(other == 0, "units left out get nothing (%.3g pA)", other);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* The noise of n units over S steps: I[s * n + i]. */
static double *noise_currents(int threads, size_t n, int S, double mean, double sd, double every_ms, double start,
                              double stop, const size_t *units, size_t nunits)
{
    ns_ctx *ctx = test_ctx(7, threads);
    ns_net *net = ns_net_create(ctx, DT);
    ns_pop *p = probe(ctx, net, n, "P");
    NS_CHECK(ns_net_add_noise(net, p, mean, sd, every_ms, start, stop) == 0, "%s", ns_ctx_errmsg(ctx));
    if (units) NS_CHECK(ns_net_device_units(net, units, nunits) == 0, "%s", ns_ctx_errmsg(ctx));
    double *V = calloc(n, sizeof *V), *I = malloc((size_t)S * n * sizeof *I);
    for (int s = 0; s < S; s++) step_currents(ctx, net, p, V, I + (size_t)s * n);
    free(V);
    ns_net_free(net);
    test_ctx_free(ctx);
    return I;
}

/* noise: values held for dt (5 steps) and new at its multiples, mean and std within five standard
 * errors, no correlation between neighbouring units nor between successive values, the same
 * currents on 1 and 2 threads, and on a subset the same as those units get from the whole. */
static void test_noise(void)
{
    const size_t n = 1000;
    const int S = 200, every = 5; /* 40 values per unit */
    const double mean = 10, sd = 25, tol = 1e-8;
    double *I = noise_currents(1, n, S, mean, sd, every * DT, 0, INFINITY, NULL, 0);
    int held = 1, changes = 1;
    for (int s = 1; s < S; s++)
        for (size_t i = 0; i < n; i++) {
            const double d = fabs(I[(size_t)s * n + i] - I[(size_t)(s - 1) * n + i]);
            if (s % every) held &= d < tol;
            else changes &= d > tol;
        }
    NS_CHECK(held, "each value held through its %d steps", every);
    NS_CHECK(changes, "every unit's value changes at each multiple of dt");
    /* the values: one per unit and interval */
    const size_t J = (size_t)(S / every), M = J * n;
    double sum = 0, sq = 0, cu = 0, ct = 0;
    for (size_t j = 0; j < J; j++)
        for (size_t i = 0; i < n; i++) {
            const double x = (I[j * every * n + i] - mean) / sd;
            sum += x, sq += x * x;
            if (i + 1 < n) cu += x * (I[j * every * n + i + 1] - mean) / sd;
            if (j + 1 < J) ct += x * (I[(j + 1) * every * n + i] - mean) / sd;
        }
    const double m = sum / (double)M, var = sq / (double)M - m * m;
    NS_CHECK(fabs(m) < 5 / sqrt((double)M), "mean %g pA within 5 standard errors of %g", mean + sd * m, mean);
    NS_CHECK(fabs(sqrt(var) - 1) < 5 / sqrt(2.0 * (double)M), "std %g pA within 5 standard errors of %g", sd * sqrt(var), sd);
    const double ru = cu / (double)(J * (n - 1)), rt = ct / (double)((J - 1) * n);
    NS_CHECK(fabs(ru) < 5 / sqrt((double)(J * (n - 1))), "neighbouring units uncorrelated (r = %.4f)", ru);
    NS_CHECK(fabs(rt) < 5 / sqrt((double)((J - 1) * n)), "successive values uncorrelated (r = %.4f)", rt);
    double *I2 = noise_currents(2, n, S, mean, sd, every * DT, 0, INFINITY, NULL, 0);
    NS_CHECK(memcmp(I, I2, (size_t)S * n * sizeof *I) == 0, "the same currents on 1 and 2 threads");
    free(I2);
    /* a subset: the listed units as from the whole, the others nothing */
    const size_t units[] = {999, 0, 500, 17};
    double *Is = noise_currents(2, n, S, mean, sd, every * DT, 0, INFINITY, units, 4);
    int same = 1, quiet = 1;
    for (int s = 0; s < S; s++)
        for (size_t i = 0; i < n; i++) {
            const int listed = i == 999 || i == 0 || i == 500 || i == 17;
            const double x = Is[(size_t)s * n + i];
            if (listed) same &= x == I[(size_t)s * n + i];
            else quiet &= x == 0;
        }
    NS_CHECK(same, "listed units get what they get from the device on the whole population");
    NS_CHECK(quiet, "units left out get nothing");
    free(Is);
    free(I);
    /* start and stop: nothing before 2 ms and from 7 ms on; the values inside are the whole's */
    I = noise_currents(1, 10, 100, mean, sd, 0.5, 2.0, 7.0, NULL, 0);
    double *Iw = noise_currents(1, 10, 100, mean, sd, 0.5, 0, INFINITY, NULL, 0);
    int window = 1;
    for (int s = 0; s < 100; s++)
        for (size_t i = 0; i < 10; i++) {
            const double x = I[(size_t)s * 10 + i];
            window &= (s >= 20 && s < 70) ? fabs(x - Iw[(size_t)s * 10 + i]) < tol : x == 0;
        }
    NS_CHECK(window, "active in [start, stop) only, with the values of its intervals");
    free(I);
    free(Iw);
}

/* Poisson and dc restricted to units: the listed units of a Poisson device get the trains they get
 * from the device on the whole population (I_ex of every unit after each step), a dc only its
 * units. */
static void test_subsets(void)
{
    const size_t n = 50, units[] = {2, 49, 10, 11};
    double *ex[2];
    for (int k = 0; k < 2; k++) {
        ns_ctx *ctx = test_ctx(3, k + 1);
        ns_net *net = ns_net_create(ctx, DT);
        ns_pop *p = probe(ctx, net, n, "P");
        NS_CHECK(ns_net_add_poisson(net, p, 2000, 5, 0, INFINITY) == 0, "%s", ns_ctx_errmsg(ctx));
        if (k) NS_CHECK(ns_net_device_units(net, units, 4) == 0, "%s", ns_ctx_errmsg(ctx));
        ex[k] = malloc(300 * n * sizeof *ex[k]);
        for (int s = 0; s < 300; s++) {
            ns_net_run(net, DT);
            for (size_t i = 0; i < n; i++) ex[k][(size_t)s * n + i] = ns_pop_get_state(p, "I_ex", i);
        }
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    int same = 1, quiet = 1, any = 0;
    for (int s = 0; s < 300; s++)
        for (size_t i = 0; i < n; i++) {
            const int listed = i == 2 || i == 49 || i == 10 || i == 11;
            const double x = ex[1][(size_t)s * n + i];
            if (listed) same &= fabs(x - ex[0][(size_t)s * n + i]) <= 1e-12 * fabs(ex[0][(size_t)s * n + i]), any |= x != 0;
            else quiet &= x == 0;
        }
    NS_CHECK(same && any, "Poisson: listed units get their trains of the whole-population device");
    NS_CHECK(quiet, "Poisson: units left out get nothing");
    free(ex[0]);
    free(ex[1]);
    ns_ctx *ctx = test_ctx(3, 2);
    ns_net *net = ns_net_create(ctx, DT);
    ns_pop *p = probe(ctx, net, 6, "P");
    const double t[2] = {1.0, 3.0}, a[2] = {100.0, 0.0};
    NS_CHECK(ns_net_add_current(net, p, 2, t, a) == 0, "%s", ns_ctx_errmsg(ctx));
    const size_t u2[] = {4, 1};
    NS_CHECK(ns_net_device_units(net, u2, 2) == 0, "%s", ns_ctx_errmsg(ctx));
    double V[6] = {0}, I[6];
    int good = 1;
    for (int s = 0; s < 50; s++) {
        step_currents(ctx, net, p, V, I);
        for (int i = 0; i < 6; i++) {
            const double want = (i == 1 || i == 4) && s >= 10 && s < 30 ? 100.0 : 0.0;
            good &= fabs(I[i] - want) < 1e-9;
        }
    }
    NS_CHECK(good, "dc: 100 pA on units 1 and 4 from 1 to 3 ms, nothing elsewhere");
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Bad input: each refused with its value and range; a failed restriction takes its device away. */
static void test_refusals(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, DT);
    ns_pop *p = probe(ctx, net, 5, "P");
    ns_pop *src = test_one_spike(net, 1.0);
    struct {
        int rc;
        const char *msg;
    } c[] = {
        {ns_net_add_noise(net, p, 0, -1, 0.1, 0, INFINITY), "noise: std -1 pA must be finite and >= 0"},
        {ns_net_add_noise(net, p, 0, 1, 0.25, 0, INFINITY), "noise: dt 0.25 ms must be a whole multiple of the network's dt (0.1 ms)"},
        {ns_net_add_noise(net, p, 0, 1, 0, 0, INFINITY), "noise: dt 0 ms must be a whole multiple"},
        {ns_net_add_noise(net, p, NAN, 1, 0.1, 0, INFINITY), "noise: mean nan pA must be finite"},
        {ns_net_add_ac(net, p, 1, 0, -5, 0, 0, INFINITY), "ac: frequency -5 Hz must be finite and >= 0"},
        {ns_net_add_ac(net, p, INFINITY, 0, 5, 0, 0, INFINITY), "ac: amplitude (inf pA)"},
        {ns_net_add_ac(net, p, 1, 0, 5, 0, 4, 2), "ac: start 4 and stop 2 ms must satisfy 0 <= start <= stop"},
        {ns_net_add_ac(net, src, 1, 0, 5, 0, 0, INFINITY), "ac: population src (spike_source) takes no current"},
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) NS_CHECK(c[k].rc == NS_EINVAL, "case %zu refused", k);
    /* messages: check the last one made, case by case */
    NS_CHECK(ns_net_add_noise(net, p, 0, 1, 0.25, 0, INFINITY) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), c[1].msg),
             "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_add_ac(net, p, 1, 0, -5, 0, 0, INFINITY) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), c[4].msg),
             "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_add_noise(net, p, 0, -1, 0.1, 0, INFINITY) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), c[0].msg),
             "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(net->ndevs == 0, "no device made by a refused call (%d)", net->ndevs);
    const size_t out[] = {1, 5}, twice[] = {2, 3, 2};
    NS_CHECK(ns_net_add_ac(net, p, 100, 0, 10, 0, 0, INFINITY) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_device_units(net, out, 2) == NS_EINVAL &&
                 strstr(ns_ctx_errmsg(ctx), "neurons: index 5 (item 2) is outside population P (0 .. 4)"), "%s",
             ns_ctx_errmsg(ctx));
    NS_CHECK(net->ndevs == 0, "the device of a bad list is gone (%d)", net->ndevs);
    NS_CHECK(ns_net_add_ac(net, p, 100, 0, 10, 0, 0, INFINITY) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_device_units(net, twice, 3) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "index 2 is listed twice"),
             "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_device_units(net, twice, 0) == NS_EINVAL, "no device left to restrict");
    double V[5] = {0}, I[5];
    step_currents(ctx, net, p, V, I);
    NS_CHECK(I[0] == 0 && I[4] == 0, "no current from the devices taken away");
    ns_net_free(net);
    test_ctx_free(ctx);
}

int main(void)
{
    test_ac();
    test_noise();
    test_subsets();
    test_refusals();
    NS_TEST_MAIN_END();
}
