/* tests/test_kuramoto.c — the `kuramoto` model against theory: Heun's second order (Richardson
 * ratios), Yeung–Strogatz delayed locking and its stability (P1), K_c = 2 Delta for Lorentzian
 * frequencies, twisted states on a delayed ring and fluctuating partial synchrony (P3), phase
 * diffusion, Cauchy draws against their CDF, and 1 vs 2 threads byte-identical; the mean field
 * K_mf against a direct Heun reference, its order, K_c = 2 Delta with it at N = 20000, and threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "tests/harness.h"
#include "tests/testlib.h"

static const double PI = 3.141592653589793;

/* ---- the theory, independent of nsim ---------------------------------------------------------- */

/* g(x) = x - omega + K c sin(x tau): its roots are the locked frequencies (c = 1 all to all, c =
 * cos(2 pi q / N) for the twisted state q of a ring). */
static double lock_g(double x, double omega, double K, double tau, double c) { return x - omega + K * c * sin(x * tau); }

/* Every root of g in [omega - |K| - 0.01, omega + |K| + 0.01] (where they all lie), by a scan for
 * sign changes and bisection to 1e-15; returns how many (at most max). */
static int lock_roots(double omega, double K, double tau, double c, double *r, int max)
{
    const double lo = omega - fabs(K) - 0.01, hi = omega + fabs(K) + 0.01;
    const int M = 200000;
    int n = 0;
    double a = lo, ga = lock_g(a, omega, K, tau, c);
    for (int k = 1; k <= M && n < max; k++) {
        double b = lo + (hi - lo) * k / M, gb = lock_g(b, omega, K, tau, c);
        if ((ga < 0) != (gb < 0)) {
            double x0 = a, x1 = b;
            for (int it = 0; it < 200 && x1 - x0 > 1e-15; it++) {
                const double m = 0.5 * (x0 + x1);
                if ((lock_g(m, omega, K, tau, c) < 0) == (ga < 0)) x0 = m;
                else x1 = m;
            }
            r[n++] = 0.5 * (x0 + x1);
        }
        a = b, ga = gb;
    }
    return n;
}

/* ---- helpers ----------------------------------------------------------------------------------- */

static ns_pop *kuramoto_pop(ns_net *net, size_t n, double K, double D, const double *omega, const double *theta)
{
    ns_ctx *ctx = ns_net_ctx(net);
    ns_pop *p = ns_net_add_population(net, "kuramoto", n, "P");
    NS_CHECK(p != NULL, "population: %s", ns_ctx_errmsg(ctx));
    const char *names[2] = {"K", "D"};
    const double v[2] = {K, D};
    NS_CHECK(ns_pop_set_params(net, p, names, v, 2) == 0, "%s", ns_ctx_errmsg(ctx));
    if (omega) NS_CHECK(ns_pop_set_state_array(net, p, "omega", omega) == 0, "%s", ns_ctx_errmsg(ctx));
    if (theta) NS_CHECK(ns_pop_set_state_array(net, p, "theta", theta) == 0, "%s", ns_ctx_errmsg(ctx));
    return p;
}

/* All to all, every weight 1/n (self included), one delay. */
static void all_to_all(ns_net *net, ns_pop *p, size_t n, double tau)
{
    double *w = malloc(n * n * sizeof *w);
    for (size_t k = 0; k < n * n; k++) w[k] = 1.0 / (double)n;
    NS_CHECK(ns_net_connect_graded(net, p, p, w, tau) == 0, "%s", ns_ctx_errmsg(ns_net_ctx(net)));
    free(w);
}

/* A ring: each unit from its two neighbours, weight 1/2 each, one delay. */
static void ring(ns_net *net, ns_pop *p, size_t n, double tau)
{
    uint32_t *pre = malloc(2 * n * sizeof *pre), *post = malloc(2 * n * sizeof *post);
    double *w = malloc(2 * n * sizeof *w);
    for (size_t i = 0; i < n; i++) {
        pre[2 * i] = (uint32_t)((i + 1) % n), pre[2 * i + 1] = (uint32_t)((i + n - 1) % n);
        post[2 * i] = post[2 * i + 1] = (uint32_t)i;
        w[2 * i] = w[2 * i + 1] = 0.5;
    }
    ns_graded_spec es = {.delay_ms = tau, .n_edges = 2 * n, .pre = pre, .post = post, .weights = w};
    NS_CHECK(ns_net_connect_graded_spec(net, p, p, &es) == 0, "%s", ns_ctx_errmsg(ns_net_ctx(net)));
    free(pre), free(post), free(w);
}

static void run(ns_net *net, double t)
{
    NS_CHECK(ns_net_run(net, t) == 0, "run: %s", ns_ctx_errmsg(ns_net_ctx(net)));
}

static double theta(const ns_pop *p, size_t i) { return ns_pop_get_state(p, "theta", i); }

static double order_R(const ns_pop *p, size_t n)
{
    double s = 0, c = 0;
    for (size_t i = 0; i < n; i++) s += sin(theta(p, i)), c += cos(theta(p, i));
    return hypot(s, c) / (double)n;
}

/* Largest |theta_i - theta_0 - off_i| (rad), off_i the expected offset of unit i mod 2 pi. */
static double spread(const ns_pop *p, size_t n, double twist)
{
    double worst = 0;
    for (size_t i = 1; i < n; i++) {
        double d = remainder(theta(p, i) - theta(p, 0) - twist * (double)i, 2 * PI);
        worst = fmax(worst, fabs(d));
    }
    return worst;
}

/* Mean frequency of unit i over a further run of T ms (rad/ms). */
static double frequency(ns_net *net, const ns_pop *p, size_t i, double T)
{
    const double a = theta(p, i);
    run(net, T);
    return (theta(p, i) - a) / T;
}

/* ---- Heun's order ------------------------------------------------------------------------------ */

/* Two units with different frequencies, coupled both ways with delay 0.5 ms (a whole number of
 * steps at every dt below), K 0.8: theta_0 at 10 ms for dt = 0.0125 .. 0.0015625 ms (from 0.1 ms
 * the ratios rise 1.2, 2.4, 3.3, 3.7: larger steps are not yet asymptotic). A second-order scheme's
 * differences shrink by 4 at each halving; a first-order one (the input held over the step, or the
 * switch-on at t = tau taken at one end only) by 2. */
static double two_units(double dt)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    const double om[2] = {1.0, 1.6}, th[2] = {0.3, -1.2};
    ns_pop *p = kuramoto_pop(net, 2, 0.8, 0, om, th);
    const double w[4] = {0.0, 1.0, 1.0, 0.0};
    NS_CHECK(ns_net_connect_graded(net, p, p, w, 0.5) == 0, "%s", ns_ctx_errmsg(ctx));
    run(net, 10.0);
    const double x = theta(p, 0);
    ns_net_free(net);
    test_ctx_free(ctx);
    return x;
}

/* A second-order method: solve(dt) at dt0, dt0 / 2, dt0 / 4, dt0 / 8; the successive differences
 * shrink by 4 per halving (ratios in (3.5, 4.5)), the first above `least` (not all rounding). */
static void second_order(const char *what, double (*solve)(double), double dt0, double least)
{
    double x[4];
    for (int k = 0; k < 4; k++) x[k] = solve(dt0 / (1 << k));
    const double e1 = fabs(x[0] - x[1]), e2 = fabs(x[1] - x[2]), e3 = fabs(x[2] - x[3]);
    printf("%s: successive differences %.3g %.3g %.3g (ratios %.3f %.3f)\n", what, e1, e2, e3, e1 / e2, e2 / e3);
    NS_CHECK(e1 / e2 > 3.5 && e1 / e2 < 4.5 && e2 / e3 > 3.5 && e2 / e3 < 4.5 && e1 > least,
             "%s is second order: the differences shrink by 4 per halving of dt (%.3f, %.3f)", what, e1 / e2, e2 / e3);
}

static void heun_order(void) { second_order("Heun with delays", two_units, 0.0125, 1e-7); }

/* ---- P1: Yeung–Strogatz ------------------------------------------------------------------------ */

enum { N1 = 8 };
static const double dt1 = 0.01;

/* N1 identical units (omega), all to all K/N, delay tau. The history: `pre` ms uncoupled at
 * frequency omega_pre (sending), from phases 0 + eps * i; then K on and omega back. Returns the
 * net (the caller frees it and its ctx). */
static ns_net *yeung_strogatz(ns_ctx *ctx, double omega, double K, double tau, double omega_pre, double pre, double eps,
                              ns_pop **out)
{
    ns_net *net = ns_net_create(ctx, dt1);
    double om[N1], th[N1];
    for (int i = 0; i < N1; i++) om[i] = omega_pre, th[i] = eps * i;
    ns_pop *p = kuramoto_pop(net, N1, pre > 0 ? 0.0 : K, 0, om, th);
    all_to_all(net, p, N1, tau);
    if (pre > 0) {
        run(net, pre);
        for (int i = 0; i < N1; i++) om[i] = omega;
        const char *names[1] = {"K"};
        NS_CHECK(ns_pop_set_params(net, p, names, &K, 1) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_pop_set_state_array(net, p, "omega", om) == 0, "%s", ns_ctx_errmsg(ctx));
    }
    *out = p;
    return net;
}

static void p1_single_root(void)
{
    /* omega 1 rad/ms, K 1 rad/ms, tau 1 ms: K tau = 1, one root (g' = 1 + K tau cos >= 0), stable.
     * A locked state theta = Omega t is an exact solution of the scheme (both stages see the same
     * delayed phase difference), so the measured frequency differs from the root only by what is
     * left of the transient (rate about K cos(Omega tau) = 0.87/ms: e^-87 after 100 ms) and
     * rounding of the unwrapped theta (about 1e-13 rad/ms): tolerance 1e-9. */
    const double omega = 1.0, K = 1.0, tau = 1.0;
    double r[8];
    const int nr = lock_roots(omega, K, tau, 1.0, r, 8);
    NS_CHECK(nr == 1, "one locked frequency for K tau = 1 (%d)", nr);
    ns_ctx *ctx = test_ctx(1, 1);
    ns_pop *p;
    ns_net *net = yeung_strogatz(ctx, omega, K, tau, omega, 0, 0.05, &p); /* from the natural start */
    run(net, 100);
    const double W = frequency(net, p, 0, 50);
    printf("P1: K 1, tau 1: Omega measured %.12f, root %.12f, spread %.3g rad\n", W, r[0], spread(p, N1, 0));
    NS_CHECK(fabs(W - r[0]) < 1e-9, "P1: locked at the root of Omega = omega - K sin(Omega tau) (%.12f, %.12f)", W, r[0]);
    NS_CHECK(spread(p, N1, 0) < 1e-9 && K * cos(r[0] * tau) > 0, "P1: in phase (spread %.3g rad), a stable root",
             spread(p, N1, 0));
    ns_net_free(net);
    test_ctx_free(ctx);
}

static void p1_multistable(void)
{
    /* omega 1, K 2, tau 3 (K tau = 6): three roots, 0.147 and 1.933 stable, 1.057 unstable. Two
     * histories near the two stable roots (0.02 rad/ms off) each lock at their own root; a history
     * exactly on the unstable root with 1e-3 rad offsets leaves it (the spread grows, then the units
     * lock again at a stable root), while the same start on a stable root only closes the spread.
     * Tolerance of the locked frequencies 1e-8: the transverse rate is K |cos(Omega tau)| > 1.7/ms and
     * the frequency's own relaxation, about (2 pi)^2 / (2 (K cos)^2 tau^3) = 0.2/ms, leaves
     * 0.02 e^-60 after 300 ms. */
    const double omega = 1.0, K = 2.0, tau = 3.0;
    double r[32];
    const int nr = lock_roots(omega, K, tau, 1.0, r, 32);
    int st[32], nst = 0, nun = 0;
    for (int k = 0; k < nr; k++) {
        st[k] = K * cos(r[k] * tau) > 0;
        nst += st[k], nun += !st[k];
    }
    NS_CHECK(nst >= 2 && nun >= 1, "P1: K tau = 6 has several stable (%d) and an unstable (%d) roots", nst, nun);
    /* the two stable roots and one unstable root closest to omega, with a strong transverse rate */
    int s1 = -1, s2 = -1, u = -1;
    for (int k = 0; k < nr; k++) {
        if (fabs(K * cos(r[k] * tau)) < 0.2) continue;
        if (st[k] && (s1 < 0 || fabs(r[k] - omega) < fabs(r[s1] - omega))) s2 = s1, s1 = k;
        else if (st[k] && (s2 < 0 || fabs(r[k] - omega) < fabs(r[s2] - omega))) s2 = k;
        else if (!st[k] && (u < 0 || fabs(r[k] - omega) < fabs(r[u] - omega))) u = k;
    }
    NS_CHECK(s1 >= 0 && s2 >= 0 && u >= 0, "P1: two stable and an unstable root to start from");
    if (s1 < 0 || s2 < 0 || u < 0) return;
    const int pick[2] = {s1, s2};
    double got[2];
    for (int q = 0; q < 2; q++) {
        ns_ctx *ctx = test_ctx(1, 1);
        ns_pop *p;
        ns_net *net = yeung_strogatz(ctx, omega, K, tau, r[pick[q]] + (q ? -0.02 : 0.02), tau + 1, 0.01, &p);
        run(net, 300);
        got[q] = frequency(net, p, 0, 50);
        printf("P1: K 2, tau 3, history near root %.9f: Omega measured %.9f, spread %.3g\n", r[pick[q]], got[q],
               spread(p, N1, 0));
        NS_CHECK(fabs(got[q] - r[pick[q]]) < 1e-8 && spread(p, N1, 0) < 1e-8,
                 "P1: the history near a stable root %.9f locks there, in phase (%.9f, spread %.3g)", r[pick[q]], got[q],
                 spread(p, N1, 0));
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    NS_CHECK(fabs(got[0] - got[1]) > 0.05, "P1: two coexisting locked frequencies (%.6f, %.6f)", got[0], got[1]);
    /* on the roots exactly, 1e-3 rad apart: the unstable one lets the spread grow, the stable closes it */
    const int on[2] = {u, s1};
    for (int q = 0; q < 2; q++) {
        ns_ctx *ctx = test_ctx(1, 1);
        ns_pop *p;
        ns_net *net = yeung_strogatz(ctx, omega, K, tau, r[on[q]], tau + 1, 1e-3, &p);
        const double s0 = spread(p, N1, 0);
        double top = s0;
        for (int k = 0; k < 30; k++) {
            run(net, 1.0);
            top = fmax(top, spread(p, N1, 0));
        }
        run(net, 300);
        const double W = frequency(net, p, 0, 50);
        int near = 0; /* the root nearest the frequency reached */
        for (int k = 1; k < nr; k++)
            if (fabs(r[k] - W) < fabs(r[near] - W)) near = k;
        printf("P1: started on the %s root %.9f (K cos = %.3f): spread %.3g -> largest %.3g in 30 ms; then Omega "
               "%.9f (nearest root %.9f, %s)\n", q ? "stable" : "unstable", r[on[q]], K * cos(r[on[q]] * tau), s0, top, W,
               r[near], st[near] ? "stable" : "unstable");
        if (q == 0)
            NS_CHECK(top > 0.1 && fabs(W - r[on[q]]) > 0.1 && st[near] && fabs(W - r[near]) < 1e-8,
                     "P1: an unstable root (K cos(Omega tau) < 0) is left: the spread grows (%.3g -> %.3g) and the "
                     "units lock at a stable root (%.9f, root %.9f)", s0, top, W, r[near]);
        else
            NS_CHECK(top <= s0 * (1 + 1e-9) && near == on[q] && fabs(W - r[near]) < 1e-8,
                     "P1: a stable root keeps its units together (spread %.3g, largest %.3g) and its frequency (%.9f)", s0,
                     top, W);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
}

/* ---- K_c = 2 Delta ---------------------------------------------------------------------------- */

/* The order parameter R of n units averaged over the run's last stretch, sampled every 2 ms:
 * 50 ms then 30 ms averaged above K_c (slower to settle), 20 then 20 below. */
static double settled_R(ns_net *net, ns_pop *p, size_t n, int above)
{
    const double T = above ? 80 : 40, avg = above ? 30 : 20;
    run(net, T - avg);
    double R = 0;
    const int ns = (int)(avg / 2);
    for (int s = 0; s < ns; s++) {
        run(net, 2.0);
        R += order_R(p, n) / ns;
    }
    return R;
}

/* N = 2000 units, Lorentzian frequencies (centre 0, half-width Delta = 0.1 rad/ms) as the
 * quantiles omega_i = Delta tan(pi (i + 0.5)/N - pi/2), all to all K/N with the shortest delay (one
 * step, dt = 0.2 ms; with the centre at 0 a delay does not move K_c, and the stationary R is that
 * of no delay). Kuramoto's and Ott–Antonsen's R = sqrt(1 - 2 Delta/K) above K_c = 2 Delta, 0
 * below. R is averaged over the last 30 ms (below: 20 ms) of the run. The finite-size error:
 * below K_c the incoherent state's R is O(1/sqrt N) = 0.022; above it the quantile frequencies
 * leave fluctuations of about 0.01 (seen: within 0.01 at N = 2000). Tolerances: R < 0.07 below,
 * within 0.03 of the theory above. */
static void critical_coupling(void)
{
    enum { NK = 2000 };
    const double Delta = 0.1, dt = 0.2;
    static double om[NK], th[NK];
    for (int i = 0; i < NK; i++) om[i] = Delta * tan(PI * (i + 0.5) / NK - PI / 2);
    const double Ks[3] = {0.1, 0.3, 0.6};
    for (int k = 0; k < 3; k++) {
        const double K = Ks[k];
        const int above = K > 2 * Delta;
        /* below: phases spread over the circle (a golden-ratio sequence); above: within +-1 rad */
        for (int i = 0; i < NK; i++) th[i] = above ? -1.0 + 2.0 * fmod(0.618033988749895 * i, 1.0)
                                                    : 2 * PI * fmod(0.618033988749895 * i, 1.0);
        ns_ctx *ctx = test_ctx(1, 1);
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *p = kuramoto_pop(net, NK, K, 0, om, th);
        all_to_all(net, p, NK, dt);
        const double R = settled_R(net, p, NK, above);
        const double want = above ? sqrt(1 - 2 * Delta / K) : 0.0;
        printf("K_c: K %.2f (K_c %.2f): mean R %.4f, theory %.4f\n", K, 2 * Delta, R, want);
        if (above) NS_CHECK(fabs(R - want) < 0.03, "K_c: above K_c, R = sqrt(1 - K_c/K) = %.4f within 0.03 (%.4f)", want, R);
        else NS_CHECK(R < 0.07, "K_c: below K_c, R = O(1/sqrt N) (%.4f < 0.07)", R);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
}

/* ---- P3: the ring ----------------------------------------------------------------------------- */

/* N = 20 identical units (omega 1 rad/ms) on a ring, K/2 per side, K 1, tau 1 ms, dt 0.01 ms, from
 * the twisted phases theta_i = 2 pi q i / N: the twist is invariant (the ring's symmetry), and the
 * frequency locks at the root of Omega = omega - K sin(Omega tau) cos(2 pi q / N) (one root: K tau
 * cos <= 1). As for P1, the locked state is exact for the scheme: every unit's frequency within
 * 1e-9 after 150 ms, the twist within 1e-9 rad. */
static void p3_twisted(void)
{
    enum { NR = 20 };
    const double omega = 1.0, K = 1.0, tau = 1.0;
    for (int q = 0; q <= 2; q++) {
        const double twist = 2 * PI * q / NR, c = cos(twist);
        double r[4];
        NS_CHECK(lock_roots(omega, K, tau, c, r, 4) == 1, "P3: one root for q = %d", q);
        double th[NR], om[NR];
        for (int i = 0; i < NR; i++) th[i] = twist * i, om[i] = omega;
        ns_ctx *ctx = test_ctx(1, 1);
        ns_net *net = ns_net_create(ctx, 0.01);
        ns_pop *p = kuramoto_pop(net, NR, K, 0, om, th);
        ring(net, p, NR, tau);
        run(net, 150);
        double a[NR], worst = 0;
        for (int i = 0; i < NR; i++) a[i] = theta(p, i);
        run(net, 50);
        for (int i = 0; i < NR; i++) worst = fmax(worst, fabs((theta(p, i) - a[i]) / 50 - r[0]));
        printf("P3: q %d: Omega theory %.12f, worst unit off by %.3g, twist off by %.3g rad\n", q, r[0], worst,
               spread(p, NR, twist));
        NS_CHECK(worst < 1e-9 && spread(p, NR, twist) < 1e-9,
                 "P3: twisted state q = %d locks at Omega = omega - K sin(Omega tau) cos(2 pi q/N) = %.9f (worst %.3g)", q,
                 r[0], worst);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
}

/* A ring of 32 with spread frequencies (normal, mean 1, sd 0.3 rad/ms), K 1, tau 1 ms, started near
 * synchrony (phases uniform in [0, 0.5)), seed 1: the units neither lock nor drift apart for good;
 * R(t), sampled every ms over [200, 600] ms, has a mean in (0.1, 0.9) and fluctuates (its sd over
 * time above 0.03), and is never 1. */
static void p3_partial(void)
{
    enum { NP = 32 };
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.05);
    ns_pop *p = kuramoto_pop(net, NP, 1.0, 0, NULL, NULL);
    const ns_dist om = {.kind = NS_DIST_NORMAL, .a = 1.0, .b = 0.3}, th = {.kind = NS_DIST_UNIFORM, .a = 0.0, .b = 0.5};
    NS_CHECK(ns_pop_init_state(net, p, "omega", &om) == 0 && ns_pop_init_state(net, p, "theta", &th) == 0, "%s",
             ns_ctx_errmsg(ctx));
    ring(net, p, NP, 1.0);
    run(net, 200);
    double m = 0, m2 = 0, top = 0;
    const int ns = 400;
    for (int s = 0; s < ns; s++) {
        run(net, 1.0);
        const double R = order_R(p, NP);
        m += R / ns, m2 += R * R / ns, top = fmax(top, R);
    }
    const double sd = sqrt(fmax(m2 - m * m, 0));
    printf("P3: partial synchrony: mean R %.3f, sd over time %.3f, largest %.3f\n", m, sd, top);
    NS_CHECK(m > 0.1 && m < 0.9 && sd > 0.03 && top < 0.99,
             "P3: partial, fluctuating synchrony (mean R %.3f in (0.1, 0.9), sd %.3f > 0.03, max %.3f < 0.99)", m, sd, top);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* ---- noise, Cauchy, threads ------------------------------------------------------------------- */

/* Uncoupled units with D: theta(t) - theta(0) - omega t is a Wiener process of variance 2 D t. 4000
 * units, D 0.05 rad^2/ms, t 20 ms: variance 2, its sampling error sqrt(2/4000) = 2.2 %; within 10 %.
 * And the mean within 5 standard errors of 0. */
static void diffusion(void)
{
    enum { ND = 4000 };
    ns_ctx *ctx = test_ctx(3, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    static double om[ND];
    for (int i = 0; i < ND; i++) om[i] = 0.5;
    ns_pop *p = kuramoto_pop(net, ND, 0.0, 0.05, om, NULL);
    run(net, 20);
    double m = 0, v = 0;
    for (int i = 0; i < ND; i++) m += (theta(p, i) - 10.0) / ND;
    for (int i = 0; i < ND; i++) v += (theta(p, i) - 10.0 - m) * (theta(p, i) - 10.0 - m) / (ND - 1);
    printf("diffusion: mean %.4f, variance %.4f (2 D t = 2)\n", m, v);
    NS_CHECK(fabs(v - 2.0) < 0.2 && fabs(m) < 5 * sqrt(2.0 / ND), "diffusion: variance 2 D t (%.4f), mean 0 (%.4f)", v, m);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* The drive port: a current device of 0.3 rad/ms from 2 to 7 ms onto uncoupled units adds
 * 0.3 x 5 = 1.5 rad to theta_0 + omega t (to rounding). */
static void drive(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    const double om[3] = {0.5, 1.0, -2.0}, th[3] = {0.1, 0.2, 0.3};
    ns_pop *p = kuramoto_pop(net, 3, 1.0, 0, om, th);
    const double times[2] = {2.0, 7.0}, amps[2] = {0.3, 0.0};
    NS_CHECK(ns_net_add_current(net, p, 2, times, amps) == 0, "%s", ns_ctx_errmsg(ctx));
    run(net, 10);
    double worst = 0;
    for (int i = 0; i < 3; i++) worst = fmax(worst, fabs(theta(p, (size_t)i) - (th[i] + om[i] * 10 + 1.5)));
    NS_CHECK(worst < 1e-12, "drive: 0.3 rad/ms for 5 ms adds 1.5 rad (worst %.3g)", worst);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* nsim's Cauchy draws (initial omega) against the CDF 1/2 + atan((x - x0)/gamma)/pi: the
 * Kolmogorov–Smirnov distance of 20000 draws under 1.63/sqrt(n) (the 1 % level), and the inverse
 * CDF at 0.75 is x0 + gamma. */
static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void cauchy(void)
{
    const ns_dist d = {.kind = NS_DIST_CAUCHY, .a = 2.0, .b = 0.5};
    NS_CHECK(fabs(ns_dist_draw(&d, 0.75, 0.5) - 2.5) < 1e-12 && fabs(ns_dist_draw(&d, 0.5, 0.1) - 2.0) < 1e-12,
             "Cauchy's inverse CDF: quartile x0 + gamma, median x0");
    NS_CHECK(isinf(ns_dist_min(&d)) && isinf(ns_dist_max(&d)), "Cauchy is unbounded");
    enum { NC = 20000 };
    ns_ctx *ctx = test_ctx(11, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *p = kuramoto_pop(net, NC, 0, 0, NULL, NULL);
    NS_CHECK(ns_pop_init_state(net, p, "omega", &d) == 0, "%s", ns_ctx_errmsg(ctx));
    static double x[NC];
    for (int i = 0; i < NC; i++) x[i] = ns_pop_get_state(p, "omega", (size_t)i);
    qsort(x, NC, sizeof x[0], cmp_double);
    double ks = 0;
    for (int i = 0; i < NC; i++) {
        const double F = 0.5 + atan((x[i] - 2.0) / 0.5) / PI;
        ks = fmax(ks, fmax(fabs(F - (double)i / NC), fabs(F - (double)(i + 1) / NC)));
    }
    printf("Cauchy: KS distance %.4f (1 %% level %.4f)\n", ks, 1.63 / sqrt(NC));
    NS_CHECK(ks < 1.63 / sqrt(NC), "Cauchy(2, 0.5) draws follow the CDF (KS %.4f)", ks);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* A ring of 24 with noise, spread frequencies and per-edge delays (0.1 .. 0.7 ms), recorded every
 * step: the records are byte-identical for 1 and 2 threads. */
static char *read_all(ns_ctx *ctx, const char *file, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ns_ctx_outdir(ctx), file);
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc(*len + 1);
    if (b && fread(b, 1, *len, fp) != *len) *len = 0;
    fclose(fp);
    return b;
}

static void threads(void)
{
    enum { NT = 24 };
    char *rec[2] = {NULL, NULL};
    size_t len[2] = {0, 0};
    for (int t = 1; t <= 2; t++) {
        ns_ctx *ctx = test_ctx(5, t);
        ns_net *net = ns_net_create(ctx, 0.1);
        ns_pop *p = kuramoto_pop(net, NT, 0.8, 0.02, NULL, NULL);
        const ns_dist om = {.kind = NS_DIST_NORMAL, .a = 1.0, .b = 0.2}, th = {.kind = NS_DIST_UNIFORM, .a = 0.0, .b = 6.0};
        NS_CHECK(ns_pop_init_state(net, p, "omega", &om) == 0 && ns_pop_init_state(net, p, "theta", &th) == 0, "%s",
                 ns_ctx_errmsg(ctx));
        uint32_t pre[2 * NT], post[2 * NT];
        double w[2 * NT], d[2 * NT];
        for (int i = 0; i < NT; i++)
            for (int s = 0; s < 2; s++) {
                pre[2 * i + s] = (uint32_t)((i + (s ? NT - 1 : 1)) % NT), post[2 * i + s] = (uint32_t)i;
                w[2 * i + s] = 0.5, d[2 * i + s] = 0.1 * (1 + (i + 3 * s) % 7);
            }
        ns_graded_spec es = {.delay_ms = 0.1, .n_edges = 2 * NT, .pre = pre, .post = post, .weights = w, .delays = d};
        NS_CHECK(ns_net_connect_graded_spec(net, p, p, &es) == 0, "%s", ns_ctx_errmsg(ctx));
        const char *vars[1] = {"theta"};
        NS_CHECK(ns_net_record_state(net, p, vars, 1, NULL, 0, 0.1, "theta.csv") == 0, "%s", ns_ctx_errmsg(ctx));
        run(net, 50);
        ns_net_free(net); /* closes the record */
        rec[t - 1] = read_all(ctx, "theta.csv", &len[t - 1]);
        test_ctx_free(ctx);
    }
    NS_CHECK(rec[0] && rec[1] && len[0] > 100000 && len[0] == len[1] && !memcmp(rec[0], rec[1], len[0]),
             "1 and 2 threads write byte-identical theta records (%zu and %zu bytes)", len[0], len[1]);
    free(rec[0]), free(rec[1]);
}

/* ---- the mean field K_mf ----------------------------------------------------------------------- */

/* Parameters before the state (setting them before the first run starts the state afresh). */
static ns_pop *mf_pop(ns_net *net, size_t n, double K, double K_mf, double D, const double *omega, const double *theta0)
{
    ns_ctx *ctx = ns_net_ctx(net);
    ns_pop *p = ns_net_add_population(net, "kuramoto", n, "P");
    NS_CHECK(p != NULL, "population: %s", ns_ctx_errmsg(ctx));
    const char *names[3] = {"K", "K_mf", "D"};
    const double v[3] = {K, K_mf, D};
    NS_CHECK(ns_pop_set_params(net, p, names, v, 3) == 0, "%s", ns_ctx_errmsg(ctx));
    if (omega) NS_CHECK(ns_pop_set_state_array(net, p, "omega", omega) == 0, "%s", ns_ctx_errmsg(ctx));
    if (theta0) NS_CHECK(ns_pop_set_state_array(net, p, "theta", theta0) == 0, "%s", ns_ctx_errmsg(ctx));
    return p;
}

/* Heun's method for dtheta_i/dt = omega_i + (K / n) sum_j sin(theta_j - theta_i), written out: the
 * pairwise sum (O(n^2), not the sums of sin and cos nsim uses) at theta and at the predictor. */
static void mf_reference(size_t n, double K, const double *om, double *th, double dt, int steps)
{
    double *k1 = malloc(n * sizeof *k1), *xp = malloc(n * sizeof *xp);
    NS_CHECK(k1 && xp, "out of memory");
    for (int s = 0; s < steps; s++) {
        for (size_t i = 0; i < n; i++) {
            double f = 0;
            for (size_t j = 0; j < n; j++) f += sin(th[j] - th[i]);
            k1[i] = om[i] + K / (double)n * f;
            xp[i] = th[i] + dt * k1[i];
        }
        for (size_t i = 0; i < n; i++) {
            double f = 0;
            for (size_t j = 0; j < n; j++) f += sin(xp[j] - xp[i]);
            th[i] += 0.5 * dt * (k1[i] + om[i] + K / (double)n * f);
        }
    }
    free(k1), free(xp);
}

/* n units, omega_i = 1 + 0.4 sin(1.7 i), theta_i = 2.5 cos(0.9 i), K_mf 1.5 rad/ms, dt 0.01 ms for
 * 10 ms (1000 steps), on 1 and 2 threads (n = 3: a thread's block of one unit; n = 40), against
 * the reference: within 1e-12 rad (the sums differ in their rounding only). */
static void mf_direct(void)
{
    const size_t ns[2] = {3, 40};
    for (int q = 0; q < 2; q++)
        for (int t = 1; t <= 2; t++) {
            const size_t n = ns[q];
            double om[40], th[40], ref[40];
            for (size_t i = 0; i < n; i++) om[i] = 1 + 0.4 * sin(1.7 * i), th[i] = ref[i] = 2.5 * cos(0.9 * i);
            ns_ctx *ctx = test_ctx(1, t);
            ns_net *net = ns_net_create(ctx, 0.01);
            ns_pop *p = mf_pop(net, n, 0, 1.5, 0, om, th);
            run(net, 10.0);
            mf_reference(n, 1.5, om, ref, 0.01, 1000);
            double worst = 0;
            for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(theta(p, i) - ref[i]));
            NS_CHECK(worst < 1e-12 && fabs(ref[0] - th[0]) > 1, "K_mf: n = %zu, %d thread(s): the direct Heun "
                     "reference within 1e-12 rad (worst %.3g)", n, t, worst);
            ns_net_free(net);
            test_ctx_free(ctx);
        }
}

/* The order: 40 units as above, theta_0 at 5 ms for dt = 0.05 .. 0.0125 ms: the differences shrink
 * by 4 per halving (sums of theta(t) at both stages, or of the predictor at neither, give 2). */
static double mf_unit0(double dt)
{
    double om[40], th[40];
    for (size_t i = 0; i < 40; i++) om[i] = 1 + 0.4 * sin(1.7 * i), th[i] = 2.5 * cos(0.9 * i);
    ns_ctx *ctx = test_ctx(1, 2);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = mf_pop(net, 40, 0, 1.5, 0, om, th);
    run(net, 5.0);
    const double x = theta(p, 0);
    ns_net_free(net);
    test_ctx_free(ctx);
    return x;
}

static void mf_order(void) { second_order("K_mf Heun", mf_unit0, 0.05, 1e-9); }

/* K_c = 2 Delta with the mean field: N = 20000 quantile Lorentzian frequencies (Delta 0.1 rad/ms),
 * dt 0.2 ms, as critical_coupling above but without delay and at ten times the units (the
 * incoherent R is O(1/sqrt N) = 0.007; seen: 0.0008 below, within 0.0003 above): R within 0.01 of
 * sqrt(1 - K_c/K) above, below 0.01 under. */
static void mf_critical(void)
{
    enum { NM = 20000 };
    const double Delta = 0.1, dt = 0.2;
    static double om[NM], th[NM];
    for (int i = 0; i < NM; i++) om[i] = Delta * tan(PI * (i + 0.5) / NM - PI / 2);
    const double Ks[4] = {0.1, 0.15, 0.3, 0.6};
    for (int k = 0; k < 4; k++) {
        const double K = Ks[k];
        const int above = K > 2 * Delta;
        for (int i = 0; i < NM; i++) th[i] = above ? -1.0 + 2.0 * fmod(0.618033988749895 * i, 1.0)
                                                    : 2 * PI * fmod(0.618033988749895 * i, 1.0);
        ns_ctx *ctx = test_ctx(1, 2);
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *p = mf_pop(net, NM, 0, K, 0, om, th);
        const double R = settled_R(net, p, NM, above);
        const double want = above ? sqrt(1 - 2 * Delta / K) : 0.0;
        printf("K_c (K_mf, N %d): K %.2f (K_c %.2f): mean R %.4f, theory %.4f\n", NM, K, 2 * Delta, R, want);
        if (above) NS_CHECK(fabs(R - want) < 0.01, "K_c (K_mf): above, R = sqrt(1 - K_c/K) = %.4f within 0.01 (%.4f)",
                            want, R);
        else NS_CHECK(R < 0.01, "K_c (K_mf): below, R = O(1/sqrt N) (%.4f < 0.01)", R);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
}

/* 1 vs 2 threads with the mean field, noise and a delayed ring besides: byte-identical records and
 * bit-identical final phases (the record's digits would hide a last-bit difference of the sums). */
static void mf_threads(void)
{
    enum { NT = 1000 };
    char *rec[2] = {NULL, NULL};
    size_t len[2] = {0, 0};
    static double fin[2][NT];
    for (int t = 1; t <= 2; t++) {
        ns_ctx *ctx = test_ctx(5, t);
        ns_net *net = ns_net_create(ctx, 0.1);
        ns_pop *p = mf_pop(net, NT, 0.3, 0.7, 0.02, NULL, NULL);
        const ns_dist om = {.kind = NS_DIST_NORMAL, .a = 1.0, .b = 0.2}, th = {.kind = NS_DIST_UNIFORM, .a = 0.0, .b = 6.0};
        NS_CHECK(ns_pop_init_state(net, p, "omega", &om) == 0 && ns_pop_init_state(net, p, "theta", &th) == 0, "%s",
                 ns_ctx_errmsg(ctx));
        ring(net, p, NT, 0.3);
        const char *vars[1] = {"theta"};
        NS_CHECK(ns_net_record_state(net, p, vars, 1, NULL, 0, 0.5, "theta.csv") == 0, "%s", ns_ctx_errmsg(ctx));
        run(net, 20);
        for (size_t i = 0; i < NT; i++) fin[t - 1][i] = theta(p, i);
        ns_net_free(net);
        rec[t - 1] = read_all(ctx, "theta.csv", &len[t - 1]);
        test_ctx_free(ctx);
    }
    NS_CHECK(rec[0] && rec[1] && len[0] > 100000 && len[0] == len[1] && !memcmp(rec[0], rec[1], len[0]),
             "K_mf: 1 and 2 threads write byte-identical theta records (%zu and %zu bytes)", len[0], len[1]);
    NS_CHECK(!memcmp(fin[0], fin[1], sizeof fin[0]), "K_mf: 1 and 2 threads end in bit-identical phases");
    free(rec[0]), free(rec[1]);
}

int main(void)
{
    heun_order();
    p1_single_root();
    p1_multistable();
    p3_twisted();
    p3_partial();
    diffusion();
    drive();
    cauchy();
    threads();
    critical_coupling();
    mf_direct();
    mf_order();
    mf_threads();
    mf_critical();
    NS_TEST_MAIN_END();
}
