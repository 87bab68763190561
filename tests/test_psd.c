/* tests/test_psd.c — spectra (analysis/psd, analysis/fft_cache) against closed forms.
 * Parseval to rounding, sinusoids at their frequency with their power, white noise at its level
 * within the standard error the estimator's own statistics predict, plane waves at their (k, f),
 * DPSS as eigenvectors of the sinc kernel; inputs from a fixed-seed xorshift + Box-Muller. */
#include "analysis/fft_cache.h"
#include "analysis/psd.h"
#include "tests/harness.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TWO_PI 6.283185307179586476925286766559

/* ---- deterministic normal deviates ---- */
typedef struct { uint64_t s; int have; double spare; } rng_t;

static double rng_uniform(rng_t *r) /* (0, 1) */
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return ((double)(r->s >> 11) + 0.5) * 0x1.0p-53;
}

static double rng_normal(rng_t *r)
{
    if (r->have) {
        r->have = 0;
        return r->spare;
    }
    double u = rng_uniform(r), v = rng_uniform(r), m = sqrt(-2 * log(u));
    r->spare = m * sin(TWO_PI * v);
    r->have = 1;
    return m * cos(TWO_PI * v);
}

static double *noise(rng_t *r, long n, double sigma)
{
    double *x = malloc((size_t)n * sizeof *x);
    for (long i = 0; i < n; i++) x[i] = sigma * rng_normal(r);
    return x;
}

static long argmax(const double *p, long n)
{
    long b = 0;
    for (long i = 1; i < n; i++)
        if (p[i] > p[b]) b = i;
    return b;
}

static double sum(const double *p, long n)
{
    double s = 0;
    for (long i = 0; i < n; i++) s += p[i];
    return s;
}

/* Mean and standard deviation of p[lo..hi). */
static void mean_sd(const double *p, long lo, long hi, double *mean, double *sd)
{
    double m = 0, v = 0;
    for (long i = lo; i < hi; i++) m += p[i];
    m /= (double)(hi - lo);
    for (long i = lo; i < hi; i++) v += (p[i] - m) * (p[i] - m);
    *mean = m;
    *sd = sqrt(v / (double)(hi - lo - 1));
}

/* The test's own detrending (least squares by normal equations), for Parseval's right side. */
static double detrended_mean_square(const double *x, long L, ns_detrend d)
{
    double sx = 0, st = 0, stt = 0, stx = 0;
    for (long i = 0; i < L; i++) {
        sx += x[i];
        st += (double)i;
        stt += (double)i * (double)i;
        stx += (double)i * x[i];
    }
    double a = 0, b = 0;
    if (d == NS_DETREND_MEAN) a = sx / (double)L;
    if (d == NS_DETREND_LINEAR) {
        double det = (double)L * stt - st * st;
        b = ((double)L * stx - st * sx) / det;
        a = (sx - b * st) / (double)L;
    }
    double ms = 0;
    for (long i = 0; i < L; i++) {
        double r = x[i] - a - b * (double)i;
        ms += r * r;
    }
    return ms / (double)L;
}

static void test_cache(void)
{
    char err[256] = "";
    ns_fft_cache *c = ns_fft_cache_create(0);
    int n1 = 256, n2[2] = {8, 12};
    const ns_fft_plan *a = ns_fft_cache_plan(c, NS_FFT_R2C, 1, &n1, err, sizeof err);
    const ns_fft_plan *b = ns_fft_cache_plan(c, NS_FFT_R2C, 1, &n1, err, sizeof err);
    const ns_fft_plan *d = ns_fft_cache_plan(c, NS_FFT_C2R, 1, &n1, err, sizeof err);
    const ns_fft_plan *e = ns_fft_cache_plan(c, NS_FFT_R2C, 2, n2, err, sizeof err);
    NS_CHECK(a && a == b, "same shape must give the same plan");
    NS_CHECK(d && d != a && e && e != a, "kind and shape are both in the key");
    NS_CHECK(ns_fft_cache_size(c) == 3, "cache holds %d plans, want 3", ns_fft_cache_size(c));
    NS_CHECK(!ns_fft_cache_plan(c, NS_FFT_R2C, 4, n2, err, sizeof err) && strstr(err, "rank"),
             "rank 4 refused: %s", err);
    int bad = 0;
    NS_CHECK(!ns_fft_cache_plan(c, NS_FFT_R2C, 1, &bad, err, sizeof err) && strstr(err, "size"),
             "size 0 refused: %s", err);

    /* r2c then c2r gives back n times the input; kind and alignment are checked. */
    double *x = ns_fft_alloc_real(257), *y = ns_fft_alloc_real(256);
    fftw_complex *z = ns_fft_alloc_complex(129);
    for (int i = 0; i < 256; i++) x[i] = sin(0.1 * i * i);
    NS_CHECK(ns_fft_r2c(a, x, z) == 0, "r2c runs");
    NS_CHECK(ns_fft_c2r(d, z, y) == 0, "c2r runs");
    double maxerr = 0;
    for (int i = 0; i < 256; i++) maxerr = fmax(maxerr, fabs(y[i] / 256 - x[i]));
    NS_CHECK(maxerr < 1e-13, "round trip error %g", maxerr);
    NS_CHECK(ns_fft_c2r(a, z, y) == -1, "an r2c plan refuses c2r");
    if (fftw_alignment_of(x + 1) != 0)
        NS_CHECK(ns_fft_r2c(a, x + 1, z) == -1, "misaligned input refused");
    ns_fft_free(x);
    ns_fft_free(y);
    ns_fft_free(z);
    ns_fft_cache_free(c);
    ns_fft_cache_free(NULL);

    /* Wisdom: measured plans exported, imported into a fresh cache, used there. */
    char path[] = "/tmp/nsim_test_psd_wisdom_XXXXXX";
    int fd = mkstemp(path);
    NS_CHECK(fd >= 0, "temporary file");
    if (fd >= 0) close(fd);
    ns_fft_cache *m = ns_fft_cache_create(NS_FFT_MEASURE);
    NS_CHECK(ns_fft_cache_plan(m, NS_FFT_R2C, 1, &n1, err, sizeof err) != NULL, "measured plan");
    NS_CHECK(ns_fft_cache_export_wisdom(m, path, err, sizeof err) == 0, "export: %s", err);
    ns_fft_cache *w = ns_fft_cache_create(0);
    NS_CHECK(ns_fft_cache_import_wisdom(w, path, err, sizeof err) == 0, "import: %s", err);
    NS_CHECK(ns_fft_cache_plan(w, NS_FFT_R2C, 1, &n1, err, sizeof err) != NULL, "wisdom plan");
    NS_CHECK(ns_fft_cache_plan(w, NS_FFT_R2C, 1, (int[]){250}, err, sizeof err) != NULL,
             "a shape the wisdom lacks is planned all the same");
    NS_CHECK(ns_fft_cache_import_wisdom(w, "/nonexistent/nsim.wisdom", err, sizeof err) == -1 &&
                 strstr(err, "/nonexistent/nsim.wisdom"),
             "missing wisdom file named: %s", err);
    remove(path);
    ns_fft_cache_free(m);
    ns_fft_cache_free(w);
}

static void test_welch_sinusoid(ns_fft_cache *c)
{
    char err[256] = "";
    const long n = 1L << 16;
    const double fs = 1000, f0 = 123.4, amp = 1.7;
    double *x = malloc((size_t)n * sizeof *x);
    for (long i = 0; i < n; i++) x[i] = 3.0 + amp * sin(TWO_PI * f0 * (double)i / fs + 0.3);
    ns_window wins[2] = {NS_WINDOW_HANN, NS_WINDOW_HAMMING};
    for (int w = 0; w < 2; w++) {
        ns_welch_opts o = {.segment = 1024, .overlap = 0.5, .window = wins[w],
                           .detrend = NS_DETREND_MEAN, .fs_hz = fs};
        long nf = ns_psd_nfreq(o.segment);
        double *p = malloc((size_t)nf * sizeof *p), *f = malloc((size_t)nf * sizeof *f);
        NS_CHECK(ns_psd_welch(c, x, n, &o, p, f, err, sizeof err) == 0, "welch: %s", err);
        double df = f[1] - f[0];
        NS_CHECK_REL(df, fs / 1024, 1e-14);
        long k = argmax(p, nf);
        NS_CHECK(fabs(f[k] - f0) <= df, "window %d: peak at %g Hz, want %g", w, f[k], f0);
        double power = 0;
        for (long q = k - 4; q <= k + 4; q++) power += p[q] * df;
        NS_CHECK_REL(power, amp * amp / 2, 0.01);
        free(p);
        free(f);
    }
    free(x);
}

/* Welch's variance of a segment average (Welch 1967, eq. 10): rho(l) the window's overlap
 * correlation at a shift of l steps, for |X|^2 (squared) or for sum w^2 x^2 (power 2 of w^2). */
static double welch_var_factor(const double *w, long L, long step, long m, int squared_w)
{
    double den = 0, total = 0;
    for (long i = 0; i < L; i++) den += squared_w ? pow(w[i], 4) : w[i] * w[i];
    for (long l = 1; l < m && l * step < L; l++) {
        double num = 0;
        for (long i = 0; i + l * step < L; i++)
            num += squared_w ? w[i] * w[i] * w[i + l * step] * w[i + l * step]
                             : w[i] * w[i + l * step];
        double rho = num / den;
        total += 2 * (1 - (double)l / (double)m) * (squared_w ? rho : rho * rho);
    }
    return (1 + total) / (double)m;
}

/* A white-noise spectrum over bins [lo, hi): its mean within 4 standard errors (se_mean,
 * relative) of level, and the bins' relative scatter within 15 % of se_bin. */
static void check_white(const char *what, const double *p, long lo, long hi, double level, double se_mean,
                        double se_bin)
{
    double mean, sd;
    mean_sd(p, lo, hi, &mean, &sd);
    NS_CHECK(fabs(mean / level - 1) < 4 * se_mean, "%s mean level %g, want 1 (se %.2g)", what, mean / level,
             se_mean);
    NS_CHECK(fabs(sd / level / se_bin - 1) < 0.15, "%s bin scatter %g, want %g", what, sd / level, se_bin);
}

static void test_welch_white(ns_fft_cache *c)
{
    char err[256] = "";
    rng_t r = {0x243F6A8885A308D3ull, 0, 0};
    const long n = 1L << 18;
    const double fs = 500, sigma = 2;
    double *x = noise(&r, n, sigma);
    const double level = sigma * sigma / (fs / 2);

    /* Rectangular, no overlap: each interior bin is level * chi2(2M) / 2M. */
    ns_welch_opts o = {.segment = 512, .overlap = 0, .window = NS_WINDOW_RECT,
                       .detrend = NS_DETREND_NONE, .fs_hz = fs};
    long nf = ns_psd_nfreq(o.segment), M = ns_psd_welch_segments(n, &o);
    NS_CHECK(M == n / 512, "segments %ld", M);
    double *p = malloc((size_t)nf * sizeof *p);
    NS_CHECK(ns_psd_welch(c, x, n, &o, p, NULL, err, sizeof err) == 0, "welch: %s", err);
    double se_bin = 1 / sqrt((double)M), se_mean = se_bin / sqrt((double)(nf - 2));
    /* The sample sd of 255 bins has a relative error about 1/sqrt(2 * 255) = 4.4 %. */
    check_white("rect", p, 1, nf - 1, level, se_mean, se_bin);
    free(p);

    /* Hann, 50 % overlap: Welch's variance factor for bins, Parseval's for the mean level. */
    o = (ns_welch_opts){.segment = 1024, .overlap = 0.5, .window = NS_WINDOW_HANN,
                        .detrend = NS_DETREND_MEAN, .fs_hz = fs};
    nf = ns_psd_nfreq(o.segment);
    M = ns_psd_welch_segments(n, &o);
    NS_CHECK(M == (n - 1024) / 512 + 1, "segments %ld", M);
    p = malloc((size_t)nf * sizeof *p);
    double *w = malloc(1024 * sizeof *w);
    for (int i = 0; i < 1024; i++) w[i] = 0.5 - 0.5 * cos(TWO_PI * i / 1024.0);
    NS_CHECK(ns_psd_welch(c, x, n, &o, p, NULL, err, sizeof err) == 0, "welch: %s", err);
    se_bin = sqrt(welch_var_factor(w, 1024, 512, M, 0));
    double s2 = 0, s4 = 0;
    for (int i = 0; i < 1024; i++) {
        s2 += w[i] * w[i];
        s4 += pow(w[i], 4);
    }
    se_mean = sqrt(2 * s4 / (s2 * s2) * welch_var_factor(w, 1024, 512, M, 1));
    /* Bins 0 and 1 feel the mean removal through the window; Nyquist has half the freedom. */
    check_white("hann", p, 2, nf - 1, level, se_mean, se_bin);
    free(w);
    free(p);
    free(x);
}

static void test_welch_parseval(ns_fft_cache *c)
{
    char err[256] = "";
    rng_t r = {0x13198A2E03707344ull, 0, 0};
    const long L[3] = {4096, 1001, 64}, nseg = 8;
    const double fs = 2000;
    ns_detrend ds[3] = {NS_DETREND_NONE, NS_DETREND_MEAN, NS_DETREND_LINEAR};
    for (int li = 0; li < 3; li++) {
        long n = L[li] * nseg;
        double *x = noise(&r, n, 1.5);
        for (long i = 0; i < n; i++) x[i] += 0.7 + 1e-3 * (double)i + sin(0.01 * (double)i);
        long nf = ns_psd_nfreq(L[li]);
        double *p = malloc((size_t)nf * sizeof *p);
        for (int d = 0; d < 3; d++) {
            ns_welch_opts o = {.segment = L[li], .overlap = 0, .window = NS_WINDOW_RECT,
                               .detrend = ds[d], .fs_hz = fs};
            NS_CHECK(ns_psd_welch(c, x, n, &o, p, NULL, err, sizeof err) == 0, "%s", err);
            double want = 0;
            for (long s = 0; s < nseg; s++)
                want += detrended_mean_square(x + s * L[li], L[li], ds[d]) / (double)nseg;
            NS_CHECK_REL(sum(p, nf) * fs / (double)L[li], want, 1e-10);
        }
        /* One whole-signal segment with the mean removed: the signal's variance. */
        ns_welch_opts o = {.segment = n, .overlap = 0, .window = NS_WINDOW_RECT,
                           .detrend = NS_DETREND_MEAN, .fs_hz = fs};
        double *q = malloc((size_t)ns_psd_nfreq(n) * sizeof *q);
        NS_CHECK(ns_psd_welch(c, x, n, &o, q, NULL, err, sizeof err) == 0, "%s", err);
        double m = sum(x, n) / (double)n, var = 0;
        for (long i = 0; i < n; i++) var += (x[i] - m) * (x[i] - m) / (double)n;
        NS_CHECK_REL(sum(q, ns_psd_nfreq(n)) * fs / (double)n, var, 1e-10);
        free(q);
        free(p);
        free(x);
    }
}

static void test_dpss(ns_fft_cache *c)
{
    char err[256] = "";
    const long n = 200;
    const double nw = 3.5, w = nw / (double)n;
    const int k = 6;
    double *v = malloc((size_t)k * n * sizeof *v), lam[6];
    NS_CHECK(ns_dpss(c, n, nw, k, v, lam, err, sizeof err) == 0, "dpss: %s", err);
    double orth = 0, resid = 0, lamerr = 0;
    for (int a = 0; a < k; a++) {
        for (int b = 0; b < k; b++) {
            double dot = 0;
            for (long i = 0; i < n; i++) dot += v[a * n + i] * v[b * n + i];
            orth = fmax(orth, fabs(dot - (a == b)));
        }
        /* The defining eigenproblem: sum_l sin(2 pi W (i-l)) / (pi (i-l)) v[l] = lambda v[i]. */
        double q = 0;
        for (long i = 0; i < n; i++) {
            double av = 0;
            for (long l = 0; l < n; l++)
                av += (i == l ? 2 * w : sin(TWO_PI * w * (double)(i - l)) /
                                            (0.5 * TWO_PI * (double)(i - l))) * v[a * n + l];
            q += v[a * n + i] * av;
            resid = fmax(resid, fabs(av - lam[a] * v[a * n + i]));
        }
        lamerr = fmax(lamerr, fabs(q - lam[a]));
        if (a > 0) NS_CHECK(lam[a] < lam[a - 1], "concentrations decrease");
    }
    NS_CHECK(orth < 1e-12, "orthonormal to %g", orth);
    NS_CHECK(resid < 1e-12, "sinc-kernel eigen-residual %g", resid);
    NS_CHECK(lamerr < 1e-12, "lambda from FFT vs direct quadratic form: %g", lamerr);
    NS_CHECK(lam[0] > 1 - 1e-7 && lam[k - 1] > 0.9 && lam[k - 1] < 1, "lambda %.12g .. %.12g",
             lam[0], lam[k - 1]);
    double s0 = sum(v, n);
    NS_CHECK(s0 > 0 && v[n] > 0, "sign convention");
    free(v);

    /* A long one: O(n k) tapers stay orthonormal. */
    const long nl = 20000;
    v = malloc(3 * (size_t)nl * sizeof *v);
    NS_CHECK(ns_dpss(c, nl, 4, 3, v, lam, err, sizeof err) == 0, "dpss: %s", err);
    orth = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double dot = 0;
            for (long i = 0; i < nl; i++) dot += v[a * nl + i] * v[b * nl + i];
            orth = fmax(orth, fabs(dot - (a == b)));
        }
    NS_CHECK(orth < 1e-10, "long tapers orthonormal to %g", orth);
    NS_CHECK(lam[0] > 1 - 1e-9 && lam[2] > 1 - 1e-5, "long lambda %.12g %.12g", lam[0], lam[2]);
    free(v);
}

static void test_multitaper(ns_fft_cache *c)
{
    char err[256] = "";
    rng_t r = {0xA4093822299F31D0ull, 0, 0};
    const double fs = 1000, f0 = 123.4, amp = 1.2, nw = 4;
    for (int adaptive = 0; adaptive < 2; adaptive++) {
        /* Sinusoid (with a little noise): centroid within a bin, power within 1 %. */
        const long n = 4096;
        double *x = noise(&r, n, 0.01);
        for (long i = 0; i < n; i++) x[i] += 0.5 + amp * sin(TWO_PI * f0 * (double)i / fs);
        long nf = ns_psd_nfreq(n);
        double *p = malloc((size_t)nf * sizeof *p), *f = malloc((size_t)nf * sizeof *f);
        ns_mtm_opts o = {.nw = nw, .k = 0, .detrend = NS_DETREND_MEAN, .fs_hz = fs,
                         .adaptive = adaptive};
        NS_CHECK(ns_psd_multitaper(c, x, n, &o, p, f, err, sizeof err) == 0, "mtm: %s", err);
        double df = f[1], power = 0, moment = 0;
        long k = argmax(p, nf);
        NS_CHECK(fabs(f[k] - f0) <= nw * df, "adaptive %d: peak at %g, want %g within W",
                 adaptive, f[k], f0);
        for (long q = k - 12; q <= k + 12; q++) {
            power += p[q] * df;
            moment += p[q] * df * f[q];
        }
        NS_CHECK(fabs(moment / power - f0) <= df, "centroid %g Hz, want %g", moment / power, f0);
        NS_CHECK_REL(power, amp * amp / 2, 0.01);
        free(p);
        free(f);
        free(x);

        /* White noise: level 2 sigma^2 / fs. The mean over all bins is (2/fs) sum a_i x_i^2
         * with a_i the taper energy at sample i averaged over tapers: relative se
         * sqrt(2 sum a_i^2). Each bin is chi2(2K)/2K: relative scatter 1/sqrt(K). */
        const long nn = 1L << 14;
        const int K = 7;
        x = noise(&r, nn, 1.0);
        nf = ns_psd_nfreq(nn);
        p = malloc((size_t)nf * sizeof *p);
        NS_CHECK(ns_psd_multitaper(c, x, nn, &o, p, NULL, err, sizeof err) == 0, "%s", err);
        double *v = malloc((size_t)K * nn * sizeof *v), sa2 = 0;
        ns_dpss(c, nn, nw, K, v, NULL, err, sizeof err);
        for (long i = 0; i < nn; i++) {
            double a = 0;
            for (int j = 0; j < K; j++) a += v[j * nn + i] * v[j * nn + i] / K;
            sa2 += a * a;
        }
        double mean, sd, level = 2 / fs;
        mean_sd(p, (long)nw + 1, nf - 1, &mean, &sd);
        double se_mean = sqrt(2 * sa2);
        NS_CHECK(fabs(mean / level - 1) < 4 * se_mean, "mtm white level %g, want 1 (se %.2g)",
                 mean / level, se_mean);
        NS_CHECK(fabs(sd / level * sqrt((double)K) - 1) < 0.15, "mtm bin scatter %g, want %g",
                 sd / level, 1 / sqrt((double)K));
        free(v);
        free(p);
        free(x);
    }
}

static void test_spatial(ns_fft_cache *c)
{
    char err[256] = "";
    rng_t r = {0x082EFA98EC4E6C89ull, 0, 0};
    /* Parseval on a random field, even and odd sizes. */
    int sizes[2][2] = {{48, 40}, {33, 37}};
    for (int s = 0; s < 2; s++) {
        int nx = sizes[s][0], ny = sizes[s][1];
        double *fld = noise(&r, (long)nx * ny, 0.8);
        for (int i = 0; i < nx * ny; i++) fld[i] += 0.3;
        double *p = malloc((size_t)nx * ny * sizeof *p), kx[48], ky[40];
        NS_CHECK(ns_psd_spatial2d(c, fld, nx, ny, 12.5, NS_DETREND_NONE, p, kx, ky, err,
                                  sizeof err) == 0, "spatial: %s", err);
        double dk = 1000.0 / (nx * 12.5), dky = 1000.0 / (ny * 12.5);
        NS_CHECK_REL(kx[1] - kx[0], dk, 1e-12);
        NS_CHECK(kx[nx / 2] == 0 && ky[ny / 2] == 0, "zero wavenumber at n/2");
        double ms = 0;
        for (int i = 0; i < nx * ny; i++) ms += fld[i] * fld[i] / (nx * ny);
        NS_CHECK_REL(sum(p, (long)nx * ny) * dk * dky, ms, 1e-10);
        free(p);
        free(fld);
    }

    /* Plane wave: all its power in the two bins at +-k0. */
    const int nx = 32, ny = 24, mx = 3, my = 5;
    const double dx = 10, amp = 2;
    double fld[32 * 24], p[32 * 24], kx[32], ky[24];
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++)
            fld[i * ny + j] = 1 + amp * cos(TWO_PI * ((double)mx * i / nx + (double)my * j / ny));
    NS_CHECK(ns_psd_spatial2d(c, fld, nx, ny, dx, NS_DETREND_MEAN, p, kx, ky, err, sizeof err)
                 == 0, "%s", err);
    long b = argmax(p, nx * ny);
    int bi = (int)(b / ny), bj = (int)(b % ny);
    double k0x = mx * 1000.0 / (nx * dx), k0y = my * 1000.0 / (ny * dx);
    NS_CHECK(fabs(fabs(kx[bi]) - k0x) < 1e-9 && fabs(fabs(ky[bj]) - k0y) < 1e-9 &&
                 kx[bi] * ky[bj] > 0,
             "peak at (%g, %g) cycles/mm, want +-(%g, %g)", kx[bi], ky[bj], k0x, k0y);
    int pi = nx / 2 + mx, pj = ny / 2 + my, qi = nx / 2 - mx, qj = ny / 2 - my;
    double dk2 = (kx[1] - kx[0]) * (ky[1] - ky[0]);
    double peak = (p[pi * ny + pj] + p[qi * ny + qj]) * dk2;
    NS_CHECK_REL(peak, amp * amp / 2, 1e-10);
    NS_CHECK_REL(sum(p, nx * ny) * dk2, amp * amp / 2, 1e-10);

    /* A tilted plane is removed by linear detrending. */
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++) fld[i * ny + j] = 4 + 0.3 * i - 0.2 * j;
    NS_CHECK(ns_psd_spatial2d(c, fld, nx, ny, dx, NS_DETREND_LINEAR, p, NULL, NULL, err,
                              sizeof err) == 0, "%s", err);
    NS_CHECK(sum(p, nx * ny) * dk2 < 1e-24, "plane left %g", sum(p, nx * ny) * dk2);
}

static void test_spacetime(ns_fft_cache *c)
{
    char err[256] = "";
    rng_t r = {0x452821E638D01377ull, 0, 0};
    /* Parseval, rectangular window, even and odd frame counts. */
    int nts[2] = {32, 33};
    for (int s = 0; s < 2; s++) {
        int nt = nts[s], nx = 10, ny = 7;
        long tot = (long)nt * nx * ny, nf = ns_psd_nfreq(nt);
        double *mv = noise(&r, tot, 1.1);
        double *p = malloc((size_t)nf * nx * ny * sizeof *p), kx[10], ky[7], f[17];
        ns_spacetime_opts o = {.dt_ms = 0.25, .dx_um = 40, .window = NS_WINDOW_RECT,
                               .detrend = NS_DETREND_NONE};
        NS_CHECK(ns_psd_spacetime(c, mv, nt, nx, ny, &o, p, kx, ky, f, err, sizeof err) == 0,
                 "space-time: %s", err);
        double ms = 0;
        for (long i = 0; i < tot; i++) ms += mv[i] * mv[i] / (double)tot;
        double vol = (kx[1] - kx[0]) * (ky[1] - ky[0]) * (f[1] - f[0]);
        NS_CHECK_REL(f[1] - f[0], 1000.0 / (nt * 0.25), 1e-12);
        NS_CHECK_REL(sum(p, nf * nx * ny) * vol, ms, 1e-10);
        free(p);
        free(mv);
    }

    /* A travelling wave cos(2 pi (k.x - f t)) sits at (k, f) and not at (-k, f). */
    enum { NT = 64, NX = 16, NY = 16, NF = NT / 2 + 1, NB = 12 };
    const int mx = 2, my = -3, mf = 5;
    const double amp = 1.5, dt = 0.5, dx = 20;
    double *mv = malloc((size_t)NT * NX * NY * sizeof *mv);
    double *p = malloc((size_t)NF * NX * NY * sizeof *p), kx[NX], ky[NY], f[NF];
    for (int t = 0; t < NT; t++)
        for (int i = 0; i < NX; i++)
            for (int j = 0; j < NY; j++)
                mv[(t * NX + i) * NY + j] =
                    amp * cos(TWO_PI * ((double)mx * i / NX + (double)my * j / NY -
                                        (double)mf * t / NT));
    ns_spacetime_opts o = {.dt_ms = dt, .dx_um = dx, .window = NS_WINDOW_RECT,
                           .detrend = NS_DETREND_MEAN};
    NS_CHECK(ns_psd_spacetime(c, mv, NT, NX, NY, &o, p, kx, ky, f, err, sizeof err) == 0, "%s",
             err);
    long b = argmax(p, (long)NF * NX * NY);
    int bf = (int)(b / (NX * NY)), bi = (int)(b / NY % NX), bj = (int)(b % NY);
    double dkx = 1000.0 / (NX * dx), f0 = mf * 1000.0 / (NT * dt);
    NS_CHECK(fabs(kx[bi] - mx * dkx) < 1e-9 && fabs(ky[bj] - my * dkx) < 1e-9 &&
                 fabs(f[bf] - f0) < 1e-9,
             "peak at k = (%g, %g), f = %g; want (%g, %g), %g", kx[bi], ky[bj], f[bf], mx * dkx,
             my * dkx, f0);
    double vol = dkx * dkx * (f[1] - f[0]);
    NS_CHECK_REL(p[b] * vol, amp * amp / 2, 1e-10);
    long mirror = ((long)bf * NX + (NX - bi) % NX) * NY + (NY - bj) % NY;
    NS_CHECK(p[mirror] < 1e-20 * p[b], "no power at (-k, f): %g", p[mirror]);

    /* Radial reduction: the peak lands in the |k| bin of the wave, at its frequency. */
    double rad[NF * NB], kc[NB];
    NS_CHECK(ns_psd_radial(p, NF, NX, NY, kx, ky, NB, 0, rad, kc, err, sizeof err) == 0, "%s",
             err);
    long rb = argmax(rad, NF * NB);
    double kabs = hypot(mx, my) * dkx;
    NS_CHECK(rb / NB == mf && fabs(kc[rb % NB] - kabs) <= 0.5 * dkx,
             "radial peak at f bin %ld, |k| %g; want %d, %g", rb / NB, kc[rb % NB], mf, kabs);
    NS_CHECK_REL(kc[1], dkx, 1e-12);
    free(p);
    free(mv);
}

static void test_sites(ns_fft_cache *c)
{
    char err[256] = "";
    rng_t r = {0xBE5466CF34E90C6Cull, 0, 0};
    const long nt = 2048, ns = 6;
    double *mv = noise(&r, nt * ns, 1.0);
    for (long t = 0; t < nt; t++)
        for (long s = 0; s < ns; s++) mv[t * ns + s] += (double)s * sin(0.3 * (double)t);
    ns_welch_opts o = {.segment = 256, .overlap = 0.5, .window = NS_WINDOW_HANN,
                       .detrend = NS_DETREND_LINEAR, .fs_hz = 100};
    long nf = ns_psd_nfreq(o.segment);
    double *all = malloc((size_t)(ns * nf) * sizeof *all), *avg = malloc((size_t)nf * sizeof *avg);
    double *one = malloc((size_t)nf * sizeof *one), *ser = malloc((size_t)nt * sizeof *ser);
    NS_CHECK(ns_psd_sites(c, mv, nt, ns, &o, 1, all, NULL, err, sizeof err) == 0, "%s", err);
    NS_CHECK(ns_psd_sites(c, mv, nt, ns, &o, 0, avg, NULL, err, sizeof err) == 0, "%s", err);
    double e_all = 0, e_avg = 0;
    for (long k = 0; k < nf; k++) {
        double m = 0;
        for (long s = 0; s < ns; s++) m += all[s * nf + k] / (double)ns;
        e_avg = fmax(e_avg, fabs(m - avg[k]) / fmax(avg[k], 1e-300));
    }
    for (long s = 0; s < ns; s++) {
        for (long t = 0; t < nt; t++) ser[t] = mv[t * ns + s];
        ns_psd_welch(NULL, ser, nt, &o, one, NULL, err, sizeof err); /* temporary cache */
        for (long k = 0; k < nf; k++)
            e_all = fmax(e_all, fabs(one[k] - all[s * nf + k]) / fmax(one[k], 1e-300));
    }
    NS_CHECK(e_all < 1e-12, "per-site spectra equal the site's own Welch: %g", e_all);
    NS_CHECK(e_avg < 1e-12, "mean over sites: %g", e_avg);
    free(all);
    free(avg);
    free(one);
    free(ser);
    free(mv);
}

#define REFUSED(call, word)                                                               \
    do {                                                                                  \
        err[0] = 0;                                                                       \
        int rc_ = (call);                                                                 \
        NS_CHECK(rc_ == -1 && strstr(err, word) && !strchr(err, '\n'),                    \
                 "rc %d, message '%s' should name '%s'", rc_, err, word);                 \
    } while (0)

static void test_bad_inputs(ns_fft_cache *c)
{
    char err[256];
    double x[64] = {0}, p[64 * 64], q[64], kx[8], ky[8];
    ns_welch_opts o = {.segment = 32, .overlap = 0.5, .window = NS_WINDOW_HANN,
                       .detrend = NS_DETREND_MEAN, .fs_hz = 100};
    ns_welch_opts b = o;
    b.segment = 65;
    REFUSED(ns_psd_welch(c, x, 64, &b, p, NULL, err, sizeof err), "longer than the signal");
    b.segment = 1;
    REFUSED(ns_psd_welch(c, x, 64, &b, p, NULL, err, sizeof err), "shorter than 2");
    b = o;
    b.overlap = 1;
    REFUSED(ns_psd_welch(c, x, 64, &b, p, NULL, err, sizeof err), "overlap");
    b.overlap = -0.1;
    REFUSED(ns_psd_welch(c, x, 64, &b, p, NULL, err, sizeof err), "overlap");
    b.overlap = NAN;
    REFUSED(ns_psd_welch(c, x, 64, &b, p, NULL, err, sizeof err), "overlap");
    b = o;
    b.fs_hz = 0;
    REFUSED(ns_psd_welch(c, x, 64, &b, p, NULL, err, sizeof err), "fs_hz");
    b.fs_hz = NAN;
    REFUSED(ns_psd_welch(c, x, 64, &b, p, NULL, err, sizeof err), "fs_hz");
    b = o;
    b.window = (ns_window)7;
    REFUSED(ns_psd_welch(c, x, 64, &b, p, NULL, err, sizeof err), "window");
    x[5] = NAN;
    REFUSED(ns_psd_welch(c, x, 64, &o, p, NULL, err, sizeof err), "x[5] is NaN");
    x[5] = INFINITY;
    REFUSED(ns_psd_welch(c, x, 64, &o, p, NULL, err, sizeof err), "x[5] is infinite");
    NS_CHECK(ns_psd_welch(c, x, 64, &o, p, NULL, NULL, 0) == -1, "NULL err is fine");
    NS_CHECK(ns_psd_welch_segments(64, &b) == 0, "no segments for bad options");
    x[5] = 0;

    ns_mtm_opts m = {.nw = 0, .fs_hz = 100};
    REFUSED(ns_psd_multitaper(c, x, 64, &m, p, NULL, err, sizeof err), "nw");
    m.nw = 40;
    REFUSED(ns_psd_multitaper(c, x, 64, &m, p, NULL, err, sizeof err), "nw");
    m.nw = 3;
    m.k = 65;
    REFUSED(ns_psd_multitaper(c, x, 64, &m, p, NULL, err, sizeof err), "tapers");
    m.k = 0;
    m.fs_hz = -1;
    REFUSED(ns_psd_multitaper(c, x, 64, &m, p, NULL, err, sizeof err), "fs_hz");
    m.fs_hz = 100;
    x[63] = NAN;
    REFUSED(ns_psd_multitaper(c, x, 64, &m, p, NULL, err, sizeof err), "x[63] is NaN");
    x[63] = 0;
    REFUSED(ns_dpss(c, 64, 3, 0, p, NULL, err, sizeof err), "tapers");

    REFUSED(ns_psd_spatial2d(c, x, 8, 8, 0, NS_DETREND_MEAN, p, kx, ky, err, sizeof err),
            "dx_um");
    REFUSED(ns_psd_spatial2d(c, x, 0, 8, 10, NS_DETREND_MEAN, p, kx, ky, err, sizeof err),
            "nx = 0");
    x[9] = NAN;
    REFUSED(ns_psd_spatial2d(c, x, 8, 8, 10, NS_DETREND_MEAN, p, kx, ky, err, sizeof err),
            "field[9] is NaN");
    x[9] = 0;
    ns_spacetime_opts so = {.dt_ms = 0, .dx_um = 10};
    REFUSED(ns_psd_spacetime(c, x, 4, 4, 4, &so, p, kx, ky, q, err, sizeof err), "dt_ms");
    so.dt_ms = 1;
    REFUSED(ns_psd_spacetime(c, x, 1, 8, 8, &so, p, kx, ky, q, err, sizeof err), "frames");
    REFUSED(ns_psd_radial(p, 1, 8, 8, kx, ky, 0, 0, q, NULL, err, sizeof err), "bins");
    REFUSED(ns_psd_sites(c, x, 64, 0, &o, 0, p, NULL, err, sizeof err), "sites");
    REFUSED(ns_psd_sites(c, x, 16, 4, &o, 0, p, NULL, err, sizeof err), "longer than the signal");
}

int main(void)
{
    ns_fft_cache *c = ns_fft_cache_create(0);
    test_cache();
    test_welch_sinusoid(c);
    test_welch_white(c);
    test_welch_parseval(c);
    test_dpss(c);
    test_multitaper(c);
    test_spatial(c);
    test_spacetime(c);
    test_sites(c);
    test_bad_inputs(c);
    ns_fft_cache_free(c);
    NS_TEST_MAIN_END();
}
