/* tests/test_stats.c — tests of analysis/stats against closed forms on trains built here.
 * Regular trains are exact; Poisson trains come from a fixed-seed splitmix64, and their checks
 * use tolerances of 4-5 standard errors derived from the sample sizes. */
#include "analysis/stats.h"
#include "tests/harness.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* ---- a small spike list and a fixed-seed generator -------------------------------------- */

typedef struct {
    double *t;
    long *id;
    long n, cap;
} train;

static void add(train *tr, double t, long id)
{
    if (tr->n == tr->cap) {
        tr->cap = tr->cap ? 2 * tr->cap : 1024;
        tr->t = realloc(tr->t, (size_t)tr->cap * sizeof *tr->t);
        tr->id = realloc(tr->id, (size_t)tr->cap * sizeof *tr->id);
        if (!tr->t || !tr->id) abort();
    }
    tr->t[tr->n] = t;
    tr->id[tr->n] = id;
    tr->n++;
}

static void train_free(train *tr)
{
    free(tr->t);
    free(tr->id);
    memset(tr, 0, sizeof *tr);
}

static ns_stats_spikes view(const train *tr, long n_neurons, double t0, double t1)
{
    ns_stats_spikes s = {tr->t, tr->id, tr->n, n_neurons, t0, t1};
    return s;
}

static uint64_t next64(uint64_t *st)
{
    uint64_t z = (*st += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *st) /* [0, 1) */
{
    return (double)(next64(st) >> 11) * 0x1.0p-53;
}

static double expo(uint64_t *st, double mean)
{
    return -mean * log1p(-uniform01(st));
}

/* n independent Poisson neurons at rate_hz on [0, t_ms): one Poisson process at n x rate whose
 * spikes get uniformly random labels (the superposition theorem), so it comes out sorted. */
static train poisson_pop(long n, double rate_hz, double t_ms, uint64_t seed)
{
    train tr = {0};
    uint64_t st = seed;
    double mean_isi = 1000.0 / (rate_hz * (double)n);
    for (double t = expo(&st, mean_isi); t < t_ms; t += expo(&st, mean_isi))
        add(&tr, t, (long)(uniform01(&st) * (double)n));
    return tr;
}

static int has(const char *err, const char *word)
{
    return strstr(err, word) != NULL;
}

/* ---- rates, CV, Fano on exact trains ----------------------------------------------------- */

static void test_rates_known(void)
{
    /* Neuron 0: 5 spikes in [0, 500) ms = 10 Hz; neuron 1: one spike = 2 Hz; neuron 2: only
     * spikes outside the interval = 0 Hz. */
    train tr = {0};
    add(&tr, -5, 2);
    for (int k = 0; k < 5; k++) {
        add(&tr, 10 + 100 * k, 0);
        if (k == 2) add(&tr, 250, 1);
    }
    add(&tr, 500, 2);
    ns_stats_spikes s = view(&tr, 3, 0, 500);
    double rate[3], mean, sd;
    char err[256] = "";
    NS_CHECK(ns_stats_rates(&s, rate, err, sizeof err) == 0, "%s", err);
    NS_CHECK(rate[0] == 10.0 && rate[1] == 2.0 && rate[2] == 0.0, "rates %g %g %g", rate[0],
             rate[1], rate[2]);
    NS_CHECK(ns_stats_pop_rate(&s, NULL, &mean, &sd, err, sizeof err) == 0, "%s", err);
    NS_CHECK_REL(mean, 4.0, 1e-15);
    NS_CHECK_REL(sd, sqrt((36.0 + 4.0 + 16.0) / 2.0), 1e-15);
    ns_stats_pop one = {"one", 1, 1};
    NS_CHECK(ns_stats_pop_rate(&s, &one, &mean, &sd, err, sizeof err) == 0, "%s", err);
    NS_CHECK(mean == 2.0 && isnan(sd), "single neuron: mean %g sd %g", mean, sd);

    /* Binned population rate of neurons {0, 1} in 100 ms bins: spike counts / (2 x 0.1 s). */
    double pr[5];
    ns_stats_pop two = {"two", 0, 2};
    NS_CHECK(ns_stats_pop_rate_binned(&s, &two, 100, pr, 5, err, sizeof err) == 0, "%s", err);
    NS_CHECK(pr[0] == 5 && pr[1] == 5 && pr[2] == 10 && pr[3] == 5 && pr[4] == 5,
             "binned %g %g %g %g %g", pr[0], pr[1], pr[2], pr[3], pr[4]);
    /* 200 ms bins: two whole bins, the partial one [400, 500) dropped. */
    NS_CHECK(ns_stats_nbins(0, 500, 200) == 2, "nbins");
    NS_CHECK(ns_stats_pop_rate_binned(&s, &two, 200, pr, 2, err, sizeof err) == 0, "%s", err);
    NS_CHECK(pr[0] == 5 && pr[1] == 7.5, "binned 200 ms %g %g", pr[0], pr[1]);
    NS_CHECK(ns_stats_nbins(0, 1000, 0.1) == 10000, "1000 ms / 0.1 ms is 10000 bins");
    train_free(&tr);
}

static void test_regular(void)
{
    /* A regular train (period 8 ms, exactly representable) has ISI CV exactly 0, and with bins
     * of one period every bin holds one spike: Fano exactly 0. */
    train tr = {0};
    for (int k = 0; k < 125; k++) {
        add(&tr, 8.0 * k + 3, 0);
        if (k == 10 || k == 20) add(&tr, 8.0 * k + 4, 1); /* neuron 1: 2 spikes, CV undefined */
    }
    ns_stats_spikes s = view(&tr, 3, 0, 1000);
    double cv[3], fano[3], cv_mean;
    long nd;
    char err[256] = "";
    NS_CHECK(ns_stats_cv_isi(&s, NS_STATS_SD_SAMPLE, cv, err, sizeof err) == 0, "%s", err);
    NS_CHECK(cv[0] == 0.0, "regular CV %.17g", cv[0]);
    NS_CHECK(isnan(cv[1]) && isnan(cv[2]), "CV with < 3 spikes must be NaN: %g %g", cv[1], cv[2]);
    NS_CHECK(ns_stats_pop_cv_isi(&s, NULL, NS_STATS_SD_SAMPLE, &cv_mean, &nd, err, sizeof err) == 0, "%s", err);
    NS_CHECK(cv_mean == 0.0 && nd == 1, "pop CV %g over %ld", cv_mean, nd);
    NS_CHECK(ns_stats_fano(&s, 8, fano, err, sizeof err) == 0, "%s", err);
    NS_CHECK(fano[0] == 0.0, "regular Fano %.17g", fano[0]);
    NS_CHECK(isnan(fano[2]), "Fano of a silent neuron must be NaN: %g", fano[2]);
    /* Neuron 1: 2 spikes in 125 bins: mean 2/125, variance (2 - 4/125)/124, Fano = 123/124. */
    NS_CHECK_REL(fano[1], 123.0 / 124.0, 1e-14);
    train_free(&tr);
}

/* ---- Poisson trains ------------------------------------------------------------------- */

static void test_poisson_cv_fano(void)
{
    char err[256] = "";
    /* One neuron at 50 Hz for 200 s: about 10000 ISIs. For exponential ISIs the CV estimate has
     * standard error 1/sqrt(n_isi) (delta method with moments 1, 2, 9 of an exponential). */
    train one = poisson_pop(1, 50, 200000, 12345);
    ns_stats_spikes s = view(&one, 1, 0, 200000);
    double cv, fano;
    NS_CHECK(ns_stats_cv_isi(&s, NS_STATS_SD_SAMPLE, &cv, err, sizeof err) == 0, "%s", err);
    double n_isi = (double)(one.n - 1);
    NS_CHECK_ABS(cv, 1.0, 4.0 / sqrt(n_isi));
    /* Fano in 100 ms bins: counts Poisson(mu = 5) in B = 2000 bins; the sample variance has
     * variance (mu + 2 mu^2) / B, so the Fano factor has standard error sqrt((1/mu + 2) / B). */
    NS_CHECK(ns_stats_fano(&s, 100, &fano, err, sizeof err) == 0, "%s", err);
    NS_CHECK_ABS(fano, 1.0, 4.0 * sqrt((1.0 / 5.0 + 2.0) / 2000.0));
    train_free(&one);

    /* 100 neurons at 20 Hz for 20 s: ~400 ISIs each. Mean CV: standard error 1/sqrt(all ISIs),
     * plus an allowance of 1/n_isi for the O(1/n) bias of a ratio estimator. */
    long n = 100;
    train pop = poisson_pop(n, 20, 20000, 777);
    s = view(&pop, n, 0, 20000);
    double cv_mean, fano_pop;
    long nd;
    NS_CHECK(ns_stats_pop_cv_isi(&s, NULL, NS_STATS_SD_SAMPLE, &cv_mean, &nd, err, sizeof err) == 0, "%s", err);
    NS_CHECK(nd == n, "all neurons have >= 3 spikes: %ld", nd);
    NS_CHECK_ABS(cv_mean, 1.0, 4.0 / sqrt((double)(pop.n - n)) + (double)n / (double)(pop.n - n));
    /* Per-neuron Fano in 50 ms bins: mu = 1, B = 400, SE sqrt(3/400) each, mean of 100. */
    double *f = malloc((size_t)n * sizeof *f);
    NS_CHECK(ns_stats_fano(&s, 50, f, err, sizeof err) == 0, "%s", err);
    double fm = 0;
    for (long i = 0; i < n; i++) fm += f[i] / (double)n;
    NS_CHECK_ABS(fm, 1.0, 4.0 * sqrt(3.0 / 400.0) / sqrt((double)n));
    /* Population count: Poisson(mu = 100) in 400 bins. */
    NS_CHECK(ns_stats_pop_fano(&s, NULL, 50, &fano_pop, err, sizeof err) == 0, "%s", err);
    NS_CHECK_ABS(fano_pop, 1.0, 4.0 * sqrt((1.0 / 100.0 + 2.0) / 400.0));
    /* Binned population rate averages to the rate (SE: sqrt(count) / count). */
    double pr[400], pm = 0;
    NS_CHECK(ns_stats_pop_rate_binned(&s, NULL, 50, pr, 400, err, sizeof err) == 0, "%s", err);
    for (int k = 0; k < 400; k++) pm += pr[k] / 400.0;
    NS_CHECK_REL(pm, (double)pop.n / (double)n / 20.0, 1e-12);
    NS_CHECK_ABS(pm, 20.0, 4.0 * 20.0 / sqrt(20.0 * 20.0 * (double)n));
    free(f);
    train_free(&pop);
}

/* ---- correlations --------------------------------------------------------------------- */

static void test_corr(void)
{
    char err[256] = "";
    double cm, c[10];
    long used, ids[20];

    /* Neurons 0 and 1 fire identically, neuron 2 is silent: of the 3 pairs, 2 have a silent
     * member (zero variance) and are skipped; the third correlates exactly. */
    train base = poisson_pop(1, 20, 10000, 5);
    train tr = {0};
    for (long k = 0; k < base.n; k++) {
        add(&tr, base.t[k], 0);
        add(&tr, base.t[k], 1);
    }
    ns_stats_spikes s = view(&tr, 3, 0, 10000);
    NS_CHECK(ns_stats_corr(&s, NULL, 10, 10, 1, &cm, &used, c, ids, err, sizeof err) == 0, "%s",
             err);
    NS_CHECK(used == 1, "pairs used %ld", used);
    NS_CHECK_ABS(cm, 1.0, 1e-12);
    int nan_count = 0;
    for (int q = 0; q < 10; q++) nan_count += isnan(c[q]);
    NS_CHECK(nan_count == 9 && ids[6] == -1, "3 pairs drawn, 1 used: %d NaN", nan_count);
    train_free(&tr);
    train_free(&base);

    /* Independent Poisson neurons: r has standard error 1/sqrt(B) per pair, and pairs sharing
     * a neuron are uncorrelated, so the mean over P pairs has SE 1/sqrt(B P). */
    long n = 50, P = 200, B = 1000;
    train pop = poisson_pop(n, 20, 20000, 99);
    s = view(&pop, n, 0, 20000);
    double *cp = malloc((size_t)P * sizeof *cp);
    long *pid = malloc(2 * (size_t)P * sizeof *pid), *pid2 = malloc(2 * (size_t)P * sizeof *pid2);
    NS_CHECK(ns_stats_corr(&s, NULL, 20, P, 42, &cm, &used, cp, pid, err, sizeof err) == 0, "%s",
             err);
    NS_CHECK(used == P, "pairs used %ld", used);
    NS_CHECK_ABS(cm, 0.0, 4.0 / sqrt((double)(B * P)));
    double worst = 0;
    for (long q = 0; q < P; q++) worst = fmax(worst, fabs(cp[q]));
    NS_CHECK(worst < 5.0 / sqrt((double)B), "largest |r| %g of %ld pairs", worst, P);
    /* The sample: distinct ordered pairs inside the population, reproducible from the seed. */
    int ok = 1;
    for (long q = 0; q < P; q++) {
        ok &= pid[2 * q] >= 0 && pid[2 * q] < pid[2 * q + 1] && pid[2 * q + 1] < n;
        for (long r = 0; r < q; r++)
            ok &= !(pid[2 * r] == pid[2 * q] && pid[2 * r + 1] == pid[2 * q + 1]);
    }
    NS_CHECK(ok, "sampled pairs must be distinct, a < b, inside the population");
    double cm2;
    NS_CHECK(ns_stats_corr(&s, NULL, 20, P, 42, &cm2, NULL, NULL, pid2, err, sizeof err) == 0,
             "%s", err);
    NS_CHECK(cm2 == cm && !memcmp(pid, pid2, 2 * (size_t)P * sizeof *pid), "same seed differs");
    NS_CHECK(ns_stats_corr(&s, NULL, 20, P, 43, &cm2, NULL, NULL, pid2, err, sizeof err) == 0,
             "%s", err);
    NS_CHECK(memcmp(pid, pid2, 2 * (size_t)P * sizeof *pid) != 0, "another seed, same pairs");
    /* A dense request (150 of 190 pairs of 20 neurons) takes the selection-sampling path. */
    ns_stats_pop sub = {"sub", 10, 20};
    NS_CHECK(ns_stats_corr(&s, &sub, 20, 150, 7, &cm2, &used, NULL, pid2, err, sizeof err) == 0,
             "%s", err);
    ok = used == 150;
    for (long q = 0; q < 150; q++) {
        ok &= pid2[2 * q] >= 10 && pid2[2 * q] < pid2[2 * q + 1] && pid2[2 * q + 1] < 30;
        for (long r = 0; r < q; r++)
            ok &= !(pid2[2 * r] == pid2[2 * q] && pid2[2 * r + 1] == pid2[2 * q + 1]);
    }
    NS_CHECK(ok, "dense sample must be 150 distinct pairs in [10, 30)");
    free(cp);
    free(pid);
    free(pid2);
    train_free(&pop);

    /* Shared input: each neuron keeps each spike of a 100 Hz Poisson mother train with
     * probability p. Counts of two neurons then have correlation exactly p for any bin
     * (Cov = p^2 mu, Var = p mu); SE of r is (1 - p^2)/sqrt(B), and pairs share the mother, so
     * the mean gets no 1/sqrt(P) credit. */
    double p = 0.3;
    long m = 20;
    uint64_t st = 2024;
    tr = (train){0};
    for (double t = expo(&st, 10); t < 20000; t += expo(&st, 10))
        for (long i = 0; i < m; i++)
            if (uniform01(&st) < p) add(&tr, t, i);
    s = view(&tr, m, 0, 20000);
    NS_CHECK(ns_stats_corr(&s, NULL, 20, 100, 3, &cm, &used, NULL, NULL, err, sizeof err) == 0,
             "%s", err);
    NS_CHECK(used == 100, "pairs used %ld", used);
    NS_CHECK_ABS(cm, p, 4.0 * (1 - p * p) / sqrt(1000.0));
    train_free(&tr);
}

/* ---- synchrony ------------------------------------------------------------------------ */

static void test_kuramoto(void)
{
    char err[256] = "";
    enum { N = 10000 };
    static double ph[N];
    double r, psi;
    for (int k = 0; k < N; k++) ph[k] = 1.3;
    NS_CHECK(ns_stats_kuramoto(ph, N, &r, &psi, err, sizeof err) == 0, "%s", err);
    NS_CHECK_ABS(r, 1.0, 1e-12);
    NS_CHECK_ABS(psi, 1.3, 1e-12);
    uint64_t st = 31;
    for (int k = 0; k < N; k++) ph[k] = 2 * PI * uniform01(&st);
    NS_CHECK(ns_stats_kuramoto(ph, N, &r, NULL, err, sizeof err) == 0, "%s", err);
    NS_CHECK(r < 4.0 / sqrt((double)N), "uniform phases: r %g >= 4/sqrt(N)", r);
    for (int k = 0; k < 12; k++) ph[k] = 2 * PI * k / 12.0 + 40 * PI; /* evenly spread */
    NS_CHECK(ns_stats_kuramoto(ph, 12, &r, NULL, err, sizeof err) == 0, "%s", err);
    NS_CHECK_ABS(r, 0.0, 1e-12);

    /* From spikes: 8 neurons with period 20 ms on [0, 400). In step (all first spikes at 5 ms)
     * r = 1 wherever defined, i.e. on [5, 385); before 5 ms no phase exists. */
    enum { M = 8, K = 400 };
    double rt[K], rm;
    train tr = {0};
    for (int k = 0; k < 20; k++)
        for (int i = 0; i < M; i++) add(&tr, 5 + 20.0 * k, i);
    ns_stats_spikes s = view(&tr, M, 0, 400);
    NS_CHECK(ns_stats_kuramoto_spikes(&s, NULL, 1, rt, K, &rm, err, sizeof err) == 0, "%s", err);
    int ok = 1;
    for (int g = 0; g < K; g++) ok &= (g >= 5 && g < 385) ? fabs(rt[g] - 1) < 1e-12 : isnan(rt[g]);
    NS_CHECK(ok, "synchronous train: r(t) must be 1 on [5, 385) and NaN elsewhere");
    NS_CHECK_ABS(rm, 1.0, 1e-12);
    train_free(&tr);
    /* Splay state: neuron i fires at 5 + 2.5 i + 20 k, phases evenly spread: r = 0 wherever all
     * 8 neurons have a phase: after neuron 7's first spike (22.5 ms) and before the last spike
     * inside [0, 400) of neuron 6 (380 ms; its next one, at 400, is outside). */
    tr = (train){0};
    for (int k = 0; k < 20; k++)
        for (int i = 0; i < M; i++) add(&tr, 5 + 2.5 * i + 20.0 * k, i);
    s = view(&tr, M, 0, 400);
    NS_CHECK(ns_stats_kuramoto_spikes(&s, NULL, 1, rt, K, &rm, err, sizeof err) == 0, "%s", err);
    double worst = 0;
    for (int g = 23; g < 380; g++) worst = fmax(worst, rt[g]);
    NS_CHECK(worst < 1e-12, "splay state: max r(t) %g", worst);
    train_free(&tr);
}

/* ---- PSTH and STA --------------------------------------------------------------------- */

static void test_psth(void)
{
    /* Neurons 2, 3, 4 fire 7.5 ms after each stimulus (and again 50 ms after, outside the
     * window); neuron 5, not selected, fires at +12.5 ms. With 1 ms bins over [-20, 30) the
     * PSTH is 1000 Hz in the bin [7, 8) and 0 elsewhere. The stimulus at 990 ms has its window
     * outside [0, 1000) and is skipped. */
    train tr = {0};
    double stim[10];
    for (int j = 0; j < 9; j++) {
        double st = 100.0 * (j + 1);
        stim[j] = st;
        for (long i = 2; i <= 4; i++) add(&tr, st + 7.5, i);
        add(&tr, st + 12.5, 5);
        for (long i = 2; i <= 4; i++) add(&tr, st + 50, i);
    }
    stim[9] = 990;
    ns_stats_spikes s = view(&tr, 10, 0, 1000);
    long sel[4] = {2, 3, 3, 4}, used;
    double h[50];
    char err[256] = "";
    NS_CHECK(ns_stats_nbins(-20, 30, 1) == 50, "PSTH bins");
    NS_CHECK(ns_stats_psth(&s, sel, 4, stim, 10, 20, 30, 1, h, 50, &used, err, sizeof err) == 0,
             "%s", err);
    NS_CHECK(used == 9, "stimuli used %ld", used);
    int peak = 0, others_zero = 1;
    for (int k = 0; k < 50; k++) {
        if (h[k] > h[peak]) peak = k;
        if (k != 27) others_zero &= h[k] == 0;
    }
    NS_CHECK(peak == 27 && -20 + peak == 7, "peak bin %d (lag %d ms)", peak, -20 + peak);
    NS_CHECK_REL(h[27], 1000.0, 1e-12);
    NS_CHECK(others_zero, "PSTH must be zero outside the peak");
    train_free(&tr);
}

static double kernel(double lag_ms) /* 3 exp(-(lag - 2)^2 / (2 * 4^2)) */
{
    double d = lag_ms - 2;
    return 3 * exp(-d * d / 32);
}

static void test_sta(void)
{
    /* A trace x(t) = 1 + sum_k g(t - s_k) over spikes s_k of neuron 0 spaced >= 95 ms apart
     * (neighbours contribute < 1e-100 inside the +-30 ms window), sampled every 0.1 ms on
     * [0, 1000): the STA recovers 1 + g(lag). */
    enum { NS = 10000 };
    static double trace[NS];
    double dt = 0.1;
    char err[256] = "";
    for (int pass = 0; pass < 2; pass++) {
        train tr = {0};
        add(&tr, 1.0, 0); /* too close to the start: skipped */
        for (int k = 1; k < 10; k++) {
            /* pass 0: on the sample grid; pass 1: off it (interpolated) */
            double sk = pass == 0 ? (1000.0 * k + 7 * k) * dt : 100.0 * k + 0.0371 * k;
            add(&tr, sk, 0);
            add(&tr, sk + 40, 1); /* not a trigger */
        }
        for (int j = 0; j < NS; j++) {
            trace[j] = 1;
            for (long q = 1; q < tr.n; q++)
                if (tr.id[q] == 0) trace[j] += kernel((double)j * dt - tr.t[q]);
        }
        ns_stats_spikes s = view(&tr, 2, 0, 1000);
        long nl = ns_stats_sta_lags(dt, 30, 30), used, id0 = 0;
        NS_CHECK(nl == 601, "STA lags %ld", nl);
        double sta[601];
        NS_CHECK(ns_stats_sta(&s, &id0, 1, trace, NS, 0, dt, 30, 30, sta, 601, &used, err,
                              sizeof err) == 0,
                 "%s", err);
        NS_CHECK(used == 9, "trigger spikes used %ld", used);
        /* Linear interpolation errs by at most dt^2/8 max|g''| = dt^2/8 * 3/16 off the grid. */
        double tol = pass == 0 ? 1e-12 : dt * dt / 8 * 3.0 / 16.0, worst = 0;
        for (long l = 0; l < nl; l++)
            worst = fmax(worst, fabs(sta[l] - (1 + kernel((double)(l - 300) * dt))));
        NS_CHECK(worst <= tol, "pass %d: STA error %g > %g", pass, worst, tol);
        train_free(&tr);
    }
}

/* ---- summary -------------------------------------------------------------------------- */

static void test_summary(void)
{
    long n = 100;
    train pop = poisson_pop(n, 15, 10000, 8);
    add(&pop, 10001, 3); /* outside the interval: ignored */
    ns_stats_spikes s = view(&pop, n, 0, 10000);
    ns_stats_pop pops[2] = {{"E", 0, 80}, {"I, fast", 80, 20}};
    ns_stats_summary row[2];
    char err[256] = "";
    NS_CHECK(ns_stats_summarize(&s, pops, 2, 20, 50, 11, NS_STATS_SD_SAMPLE, row, err, sizeof err) == 0, "%s", err);
    NS_CHECK(row[0].spikes + row[1].spikes == pop.n - 1, "spikes %ld + %ld", row[0].spikes,
             row[1].spikes);
    for (int p = 0; p < 2; p++) {
        double mean, sd, cv, corr, fano_pop;
        long nd, used;
        NS_CHECK(ns_stats_pop_rate(&s, &pops[p], &mean, &sd, err, sizeof err) == 0, "%s", err);
        NS_CHECK(ns_stats_pop_cv_isi(&s, &pops[p], NS_STATS_SD_SAMPLE, &cv, &nd, err, sizeof err) == 0, "%s", err);
        NS_CHECK(ns_stats_corr(&s, &pops[p], 20, 50, 11, &corr, &used, NULL, NULL, err,
                               sizeof err) == 0,
                 "%s", err);
        NS_CHECK(ns_stats_pop_fano(&s, &pops[p], 20, &fano_pop, err, sizeof err) == 0, "%s", err);
        NS_CHECK(row[p].neurons == pops[p].count && row[p].rate_hz == mean &&
                     row[p].rate_sd_hz == sd && row[p].cv_isi_mean == cv &&
                     row[p].cv_neurons == nd && row[p].corr_mean == corr &&
                     row[p].pairs == used && row[p].fano_pop == fano_pop,
                 "summary row %d differs from the single statistics", p);
        NS_CHECK_REL(row[p].rate_hz, (double)row[p].spikes / (double)row[p].neurons / 10.0,
                     1e-12);
    }
    double f[100], fm = 0;
    NS_CHECK(ns_stats_fano(&s, 20, f, err, sizeof err) == 0, "%s", err);
    for (int i = 80; i < 100; i++) fm += f[i] / 20;
    NS_CHECK_REL(row[1].fano, fm, 1e-12);

    /* CSV row: the name with a comma is quoted, columns match the header, NaN prints as nan. */
    char buf[512];
    NS_CHECK(ns_stats_summary_csv(&row[1], buf, sizeof buf) > 0, "csv row");
    NS_CHECK(!strncmp(buf, "\"I, fast\",20,", 13), "csv row '%s'", buf);
    int commas = 0, hcommas = 0;
    for (const char *c = buf + 9; *c; c++) commas += *c == ',';
    for (const char *c = NS_STATS_CSV_HEADER; *c; c++) hcommas += *c == ',';
    NS_CHECK(commas == hcommas, "csv row has %d separators, header %d", commas, hcommas);
    ns_stats_summary blank = {.name = "x", .neurons = 1, .rate_sd_hz = NAN, .cv_isi_mean = NAN, .fano = NAN,
                              .fano_pop = NAN, .corr_mean = NAN};
    NS_CHECK(ns_stats_summary_csv(&blank, buf, sizeof buf) > 0 &&
                 !strcmp(buf, "x,1,0,0,nan,nan,0,nan,0,nan,nan,0"),
             "csv '%s'", buf);
    NS_CHECK(ns_stats_summary_csv(&blank, buf, 10) == -1, "short buffer must fail");
    train_free(&pop);
}

/* Small trains computed by hand. Neuron 0 fires at 1, 2, 11 ms, neuron 1 at 5, 25, 26, 27 ms,
 * neuron 2 never; [0, 40) ms in 10 ms bins.
 * ISI CV: neuron 0's intervals 1, 9 (mean 5, deviations -4, 4): sample sd sqrt(32), population
 * sd 4; neuron 1's 20, 1, 1 (mean 22/3, squared deviations 1444/9 + 2 * 361/9 = 722/3): sample
 * sd sqrt(361/3), population sd sqrt(722/9).
 * Fano: counts per bin are [2,1,0,0] (mean 3/4, sample variance 11/12, F = 11/9) and [1,0,3,0]
 * (mean 1, variance 2, F = 2); the population's summed counts [3,1,3,0] have mean 7/4 and
 * sample variance 9/4, so its Fano factor is 9/7 (Brette et al. 2007's measure). */
static void test_hand_computed(void)
{
    double t[7] = {1, 2, 5, 11, 25, 26, 27};
    long id[7] = {0, 0, 1, 0, 1, 1, 1};
    ns_stats_spikes s = {t, id, 7, 3, 0, 40};
    char err[256] = "";
    double cv[3], cv_mean;
    long nd;
    double cv0_sample = sqrt(32.0) / 5, cv1_sample = sqrt(361.0 / 3) / (22.0 / 3);
    double cv0_pop = 4.0 / 5, cv1_pop = sqrt(722.0 / 9) / (22.0 / 3);
    NS_CHECK(ns_stats_cv_isi(&s, NS_STATS_SD_SAMPLE, cv, err, sizeof err) == 0, "%s", err);
    NS_CHECK_REL(cv[0], cv0_sample, 1e-12);
    NS_CHECK_REL(cv[1], cv1_sample, 1e-12);
    NS_CHECK(isnan(cv[2]), "a silent neuron has no CV: %g", cv[2]);
    NS_CHECK(ns_stats_cv_isi(&s, NS_STATS_SD_POPULATION, cv, err, sizeof err) == 0, "%s", err);
    NS_CHECK_REL(cv[0], cv0_pop, 1e-12);
    NS_CHECK_REL(cv[1], cv1_pop, 1e-12);
    NS_CHECK(ns_stats_pop_cv_isi(&s, NULL, NS_STATS_SD_POPULATION, &cv_mean, &nd, err, sizeof err) == 0, "%s", err);
    NS_CHECK_REL(cv_mean, (cv0_pop + cv1_pop) / 2, 1e-12);
    NS_CHECK(nd == 2, "CV of %ld neurons, want 2", nd);
    NS_CHECK(ns_stats_cv_isi(&s, (ns_stats_sd)7, cv, err, sizeof err) == -1 && has(err, "sd convention 7"),
             "an unknown sd convention: '%s'", err);

    double fano_pop;
    NS_CHECK(ns_stats_pop_fano(&s, NULL, 10, &fano_pop, err, sizeof err) == 0, "%s", err);
    NS_CHECK_REL(fano_pop, 9.0 / 7, 1e-12);

    ns_stats_pop all = {"all", 0, 3};
    ns_stats_summary row[1];
    for (int sd = 0; sd < 2; sd++) {
        NS_CHECK(ns_stats_summarize(&s, &all, 1, 10, 10, 1, (ns_stats_sd)sd, row, err, sizeof err) == 0, "%s", err);
        NS_CHECK_REL(row[0].cv_isi_mean, sd ? (cv0_pop + cv1_pop) / 2 : (cv0_sample + cv1_sample) / 2, 1e-12);
        NS_CHECK(row[0].cv_neurons == 2 && row[0].fano_neurons == 2 && row[0].neurons == 3 && row[0].spikes == 7,
                 "neurons used: cv %ld, fano %ld, of %ld with %ld spikes", row[0].cv_neurons, row[0].fano_neurons,
                 row[0].neurons, row[0].spikes);
        NS_CHECK_REL(row[0].fano, (11.0 / 9 + 2.0) / 2, 1e-12);
        NS_CHECK_REL(row[0].fano_pop, 9.0 / 7, 1e-12);
    }
    /* the CSV row carries them in the header's order */
    char buf[512];
    NS_CHECK(ns_stats_summary_csv(&row[0], buf, sizeof buf) > 0, "csv row");
    char want[512];
    snprintf(want, sizeof want, "all,3,7,%.10g,%.10g,%.10g,2,%.10g,2,%.10g,", row[0].rate_hz, row[0].rate_sd_hz,
             (cv0_pop + cv1_pop) / 2, (11.0 / 9 + 2.0) / 2, 9.0 / 7);
    NS_CHECK(!strncmp(buf, want, strlen(want)), "csv row '%s', want it to start '%s'", buf, want);
}

/* ---- bad input ------------------------------------------------------------------------ */

static void test_bad_input(void)
{
    double t[4] = {1, 2, 3, 4};
    long id[4] = {0, 1, 0, 1};
    ns_stats_spikes good = {t, id, 4, 2, 0, 10}, s;
    double out[64];
    char err[256];

#define EXPECT_FAIL(call, word)                                                         \
    do {                                                                                \
        err[0] = 0;                                                                     \
        NS_CHECK((call) == -1 && has(err, word), "%s: got '%s', want '%s'", #call, err, \
                 word);                                                                 \
    } while (0)

    EXPECT_FAIL(ns_stats_fano(&good, 0, out, err, sizeof err), "bin width");
    EXPECT_FAIL(ns_stats_fano(&good, -1, out, err, sizeof err), "bin width");
    EXPECT_FAIL(ns_stats_fano(&good, NAN, out, err, sizeof err), "not finite");
    EXPECT_FAIL(ns_stats_fano(&good, 6, out, err, sizeof err), "need at least 2");
    EXPECT_FAIL(ns_stats_pop_rate_binned(&good, NULL, 1, out, 5, err, sizeof err), "10 bins");
    s = good;
    s.t1_ms = 0;
    EXPECT_FAIL(ns_stats_rates(&s, out, err, sizeof err), "t1 <= t0");
    s = good;
    s.t0_ms = NAN;
    EXPECT_FAIL(ns_stats_rates(&s, out, err, sizeof err), "not finite");
    s = good;
    s.n_neurons = 0;
    EXPECT_FAIL(ns_stats_rates(&s, out, err, sizeof err), "neuron count");
    long bad_id[4] = {0, 1, 2, 1};
    s = good;
    s.neuron = bad_id;
    EXPECT_FAIL(ns_stats_cv_isi(&s, NS_STATS_SD_SAMPLE, out, err, sizeof err), "spike 2: neuron id 2 out of range");
    bad_id[2] = -1;
    EXPECT_FAIL(ns_stats_rates(&s, out, err, sizeof err), "out of range");
    double bad_t[4] = {1, 2, NAN, 4};
    s = good;
    s.t_ms = bad_t;
    EXPECT_FAIL(ns_stats_rates(&s, out, err, sizeof err), "spike 2: time");
    double unsorted[4] = {1, 3, 2, 4};
    s.t_ms = unsorted;
    EXPECT_FAIL(ns_stats_cv_isi(&s, NS_STATS_SD_SAMPLE, out, err, sizeof err), "not sorted");
    ns_stats_pop outside = {"X", 1, 5};
    EXPECT_FAIL(ns_stats_pop_rate(&good, &outside, out, NULL, err, sizeof err), "population 'X'");
    double ph[2] = {0, NAN};
    EXPECT_FAIL(ns_stats_kuramoto(ph, 2, out, NULL, err, sizeof err), "phase 1");
    EXPECT_FAIL(ns_stats_kuramoto(ph, 0, out, NULL, err, sizeof err), "phase count");
    EXPECT_FAIL(ns_stats_kuramoto_spikes(&good, NULL, 0, out, 64, NULL, err, sizeof err),
                "grid step");
    EXPECT_FAIL(ns_stats_kuramoto_spikes(&good, NULL, 0.1, out, 64, NULL, err, sizeof err),
                "needs 100");
    double stim[1] = {5};
    EXPECT_FAIL(ns_stats_psth(&good, NULL, 0, stim, 1, 2, -3, 1, out, 64, NULL, err, sizeof err),
                "empty");
    EXPECT_FAIL(ns_stats_psth(&good, NULL, 0, stim, 1, 2, 3, 0, out, 64, NULL, err, sizeof err),
                "bin width");
    EXPECT_FAIL(ns_stats_psth(&good, NULL, 0, stim, 1, 6, 3, 1, out, 64, NULL, err, sizeof err),
                "no stimulus");
    long sel_bad[1] = {7};
    EXPECT_FAIL(ns_stats_psth(&good, sel_bad, 1, stim, 1, 2, 3, 1, out, 64, NULL, err, sizeof err),
                "id 7 out of range");
    double trace[20] = {0};
    trace[3] = NAN;
    EXPECT_FAIL(ns_stats_sta(&good, NULL, 0, trace, 20, 0, 0.5, 1, 1, out, 64, NULL, err,
                             sizeof err),
                "trace sample 3");
    trace[3] = 0;
    EXPECT_FAIL(ns_stats_sta(&good, NULL, 0, trace, 20, 0, 0.5, -1, 1, out, 64, NULL, err,
                             sizeof err),
                "pre >= 0");
    EXPECT_FAIL(ns_stats_sta(&good, NULL, 0, trace, 20, 0, 0.5, 1, 1, out, 2, NULL, err,
                             sizeof err),
                "5 lags");
    EXPECT_FAIL(ns_stats_corr(&good, NULL, 1, -1, 0, out, NULL, NULL, NULL, err, sizeof err),
                "pairs");
    ns_stats_summary row[1];
    EXPECT_FAIL(ns_stats_summarize(&good, &outside, 1, 1, 5, 0, NS_STATS_SD_SAMPLE, row, err, sizeof err),
                "population 'X'");
    NS_CHECK(ns_stats_nbins(0, 10, 0) == -1 && ns_stats_nbins(10, 10, 1) == -1 &&
                 ns_stats_nbins(0, NAN, 1) == -1 && ns_stats_sta_lags(0, 1, 1) == -1,
             "bin helpers must refuse bad arguments");
    /* err may be NULL. */
    NS_CHECK(ns_stats_fano(&good, 0, out, NULL, 0) == -1, "NULL err");
#undef EXPECT_FAIL
}

int main(void)
{
    test_rates_known();
    test_regular();
    test_poisson_cv_fano();
    test_corr();
    test_kuramoto();
    test_psth();
    test_sta();
    test_summary();
    test_hand_computed();
    test_bad_input();
    NS_TEST_MAIN_END();
}
