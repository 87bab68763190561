/* tests/test_redraw.c — normals redrawn outside a range (nsim.normal(m, sd, {min, max}), NEST's
 * nest.math.redraw): the inverse CDF against erfc, the draws' mean and variance against the
 * truncated normal's closed forms, the refusals, and a PD14-like projection read back from its
 * tables: no sign flip, no delay under one step, the steps' frequencies against the rounded
 * truncated normal, and the same synapses for 1 and 2 threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "sim/net_types.h"
#include "tests/harness.h"
#include "tests/tables.h"
#include "tests/testlib.h"

static double cdf(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }
static double pdf(double z) { return isfinite(z) ? exp(-0.5 * z * z) / sqrt(2 * M_PI) : 0.0; }

/* The quantile against a Newton step on erfc from it (which lands within rounding of the truth):
 * Acklam's approximation is good to 1.15e-9 relative. */
static void quantile(void)
{
    double worst = 0;
    for (double lp = -30; lp <= -0.302; lp += 0.05) { /* p from 1e-30 to 0.5, and 1 - p */
        double p = pow(10, lp);
        for (int up = 0; up < 2; up++) {
            double q = up ? 1 - p : p;
            if (up && 1 - q < 1e-9) continue; /* 1 - p rounded: the quantile of the rounded value */
            double z = ns_rng_normal_quantile(q);
            double zt = up ? z + (cdf(-z) - (1 - q)) / pdf(z) : z - (cdf(z) - q) / pdf(z);
            if (fabs(zt) > 1e-3) worst = fmax(worst, fabs(z - zt) / fabs(zt));
        }
    }
    NS_CHECK(worst < 1.5e-9, "quantile to %.3g relative", worst);
    NS_CHECK(ns_rng_normal_quantile(0.5) == 0, "median 0");
    NS_CHECK(isinf(ns_rng_normal_quantile(0)) && isinf(ns_rng_normal_quantile(1)), "+-inf at 0, 1");
}

/* The normal (m, s) redrawn outside [lo, hi]: many draws against the truncated normal's mean and
 * variance. */
static void moments_of(double m, double s, double lo, double hi)
{
    ns_dist d = {.kind = NS_DIST_NORMAL, .a = m, .b = s};
    NS_CHECK(ns_dist_redraw(&d, lo, hi) == 0, "redraw N(%g, %g) on [%g, %g]", m, s, lo, hi);
    NS_CHECK(ns_dist_min(&d) == lo && ns_dist_max(&d) == hi, "bounds of the redrawn normal");
    double al = (lo - m) / s, be = (hi - m) / s, Z = cdf(be) - cdf(al);
    double r = (pdf(al) - pdf(be)) / Z;
    double tal = isfinite(al) ? al * pdf(al) : 0, tbe = isfinite(be) ? be * pdf(be) : 0;
    double mean = m + s * r, var = s * s * (1 + (tal - tbe) / Z - r * r);
    enum { N = 400000 };
    double s1 = 0, s2 = 0, mn = HUGE_VAL, mx = -HUGE_VAL;
    for (uint32_t i = 0; i < N; i++) {
        double u[4];
        ns_rng_u01x4(17, NS_STREAM_WEIGHT, 5, i, 0, u);
        double x = ns_dist_draw(&d, u[0], u[1]);
        s1 += x, s2 += x * x, mn = fmin(mn, x), mx = fmax(mx, x);
    }
    double got_m = s1 / N, got_v = s2 / N - got_m * got_m;
    NS_CHECK(mn >= lo && mx <= hi, "draws of N(%g, %g) in [%g, %g]: [%g, %g]", m, s, lo, hi, mn, mx);
    NS_CHECK(fabs(got_m - mean) < 5 * sqrt(var / N), "N(%g, %g) on [%g, %g]: mean %.6g, truncated normal %.6g", m, s,
             lo, hi, got_m, mean);
    NS_CHECK(fabs(got_v / var - 1) < 0.02, "N(%g, %g) on [%g, %g]: variance %.6g, truncated normal %.6g", m, s, lo, hi,
             got_v, var);
}

static void moments(void)
{
    moments_of(87.81, 8.781, 0, HUGE_VAL);      /* PD14's excitatory weight (pA): a flip is 1e-23 */
    moments_of(-351.2, 35.12, -HUGE_VAL, 0);    /* inhibitory */
    moments_of(10, 8, 0, HUGE_VAL);             /* 11 % would flip: the truncation shows in the mean */
    moments_of(-10, 8, -HUGE_VAL, 0);
    moments_of(1.5, 0.75, 0.05, HUGE_VAL);      /* PD14's delays (ms), redrawn under dt / 2 */
    moments_of(0.75, 0.375, 0.05, HUGE_VAL);
    moments_of(0, 1, 1, 2);                     /* two-sided, above the mean (drawn mirrored) */
    moments_of(0, 1, -2, -1);
    moments_of(0, 1, 3, HUGE_VAL);              /* a far tail */
    moments_of(5, 2, 4, 9);                     /* straddling the mean */
}

static void refusals(void)
{
    ns_dist d = {.kind = NS_DIST_NORMAL, .a = 0, .b = 1};
    NS_CHECK(ns_dist_redraw(&d, 1, 1) == -1 && d.kind == NS_DIST_NORMAL, "an empty range is refused");
    NS_CHECK(ns_dist_redraw(&d, 2, 1) == -1, "min > max is refused");
    NS_CHECK(ns_dist_redraw(&d, 40, HUGE_VAL) == -1, "a range holding 1e-350 of the normal is refused");
    NS_CHECK(ns_dist_redraw(&d, NAN, 1) == -1, "NaN is refused");
    ns_dist u = {.kind = NS_DIST_UNIFORM, .a = 0, .b = 1};
    NS_CHECK(ns_dist_redraw(&u, 0, 1) == -1, "only a normal is redrawn");
    ns_dist z = {.kind = NS_DIST_NORMAL, .a = 3, .b = 0};
    NS_CHECK(ns_dist_redraw(&z, 4, 5) == -1, "sd 0 outside the range is refused");
    NS_CHECK(ns_dist_redraw(&z, 0, 5) == 0 && ns_dist_draw(&z, 0.3, 0.6) == 3, "sd 0 inside: the mean");
}

/* fixed_total N = 30000 from 300 to 200 units with weights N(10, 8) redrawn below 0 and delays
 * N(0.75, 0.375) ms redrawn below 0.05 ms (dt / 2), at dt = 0.1 ms; inhibitory the mirror. */
static test_syn *pd14_like(int threads, int inhibitory, size_t *n)
{
    ns_ctx *ctx = test_ctx(4242, threads);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *a = ns_net_add_population(net, "lif", 300, "A");
    ns_pop *b = ns_net_add_population(net, "lif", 200, "B");
    ns_conn_spec s = {.rule = NS_RULE_FIXED_TOTAL, .N = 30000, .autapses = 1,
                      .weight = {.kind = NS_DIST_NORMAL, .a = inhibitory ? -10 : 10, .b = 8},
                      .delay = {.kind = NS_DIST_NORMAL, .a = 0.75, .b = 0.375}};
    ns_dist_redraw(&s.weight, inhibitory ? -HUGE_VAL : 0, inhibitory ? 0 : HUGE_VAL);
    ns_dist_redraw(&s.delay, 0.05, HUGE_VAL);
    NS_CHECK(ns_net_connect(net, a, b, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(net->nprojs == 1 && net->projs[0]->n_syn == 30000, "N = 30000 synapses made");
    test_syn *r = test_read_back(net->projs[0], n);
    ns_net_free(net);
    test_ctx_free(ctx);
    return r;
}

static void projection(int inhibitory)
{
    size_t n1, n2;
    test_syn *s1 = pd14_like(1, inhibitory, &n1), *s2 = pd14_like(2, inhibitory, &n2);
    NS_CHECK(test_same_synapses(s1, n1, s2, n2), "1 and 2 threads make the same synapses");
    size_t flips = 0, short_d = 0;
    double sw = 0, sw2 = 0;
    enum { K = 24 };
    size_t steps[K] = {0};
    for (size_t k = 0; k < n1; k++) {
        flips += inhibitory ? s1[k].w > 0 : s1[k].w < 0;
        short_d += s1[k].d < 1;
        sw += s1[k].w;
        sw2 += (double)s1[k].w * s1[k].w;
        steps[s1[k].d < K ? s1[k].d : K - 1]++;
    }
    NS_CHECK(flips == 0 && short_d == 0, "no sign flip (%zu), no delay under one step (%zu)", flips, short_d);
    /* the weight's mean against the truncated normal (a clipped normal would give 10.40, an
     * unredrawn one 10: the redraw gives 10 + 8 phi(1.25) / Phi(1.25) = 11.63) */
    double al = -1.25, mean = 10 + 8 * pdf(al) / (1 - cdf(al)), var = 64 * (1 + al * pdf(al) / (1 - cdf(al)) -
                                                                              pow(pdf(al) / (1 - cdf(al)), 2));
    NS_CHECK(fabs(fabs(sw / n1) - mean) < 5 * sqrt(var / n1), "mean |weight| %.4g, truncated normal %.4g", fabs(sw / n1),
             mean);
    double got_var = sw2 / n1 - (sw / n1) * (sw / n1);
    NS_CHECK(fabs(got_var / var - 1) < 0.05, "weight variance %.4g, truncated normal %.4g (unredrawn 64)", got_var, var);
    /* steps: P(round(x / dt) = k | x >= 0.05) for x ~ N(0.75, 0.375) */
    double Z = 1 - cdf((0.05 - 0.75) / 0.375), worst = 0;
    for (int k = 1; k < 16; k++) {
        double lo = fmax(0.05, (k - 0.5) * 0.1), hi = (k + 0.5) * 0.1;
        double p = (cdf((hi - 0.75) / 0.375) - cdf((lo - 0.75) / 0.375)) / Z;
        double se = sqrt(n1 * p * (1 - p)) + 1;
        worst = fmax(worst, fabs((double)steps[k] - n1 * p) / se);
    }
    NS_CHECK(worst < 5, "delay steps against the rounded truncated normal: worst %.2f standard errors", worst);
    free(s1);
    free(s2);
}

/* A redrawn normal's least delay may be dt / 2 (it rounds to one step); a plain normal's mean
 * must be at least dt, and it is no longer refused for its unbounded top. */
static void delay_checks(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *a = ns_net_add_population(net, "lif", 10, "A");
    ns_conn_spec s = {.rule = NS_RULE_FIXED_TOTAL, .N = 10, .autapses = 1, .weight = {.kind = NS_DIST_CONST, .a = 1},
                      .delay = {.kind = NS_DIST_NORMAL, .a = 1.5, .b = 0.75}};
    NS_CHECK(ns_net_connect(net, a, a, &s) == 0, "a normal delay: %s", ns_ctx_errmsg(ctx));
    ns_dist_redraw(&s.delay, 0.04, HUGE_VAL);
    NS_CHECK(ns_net_connect(net, a, a, &s) != 0, "a redrawn delay from 0.04 ms at dt 0.1 ms is refused");
    s.delay = (ns_dist){.kind = NS_DIST_NORMAL, .a = 1.5, .b = 0.75};
    ns_dist_redraw(&s.delay, 0.05, HUGE_VAL);
    NS_CHECK(ns_net_connect(net, a, a, &s) == 0, "a redrawn delay from dt / 2: %s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);
}

int main(void)
{
    quantile();
    moments();
    refusals();
    projection(0);
    projection(1);
    delay_checks();
    NS_TEST_MAIN_END();
}
