/* tests/test_dataset.c — train/dataset and train/encode: IDX round trips and errors, Fashion-MNIST
 * if installed, randman against its defining rules, encoders against their closed forms.
 * One idea: every expected value is computed here from the rule, never copied from the output. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp, truncate */
#endif

#include <dirent.h>
#include <math.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "tests/harness.h"
#include "train/dataset.h"
#include "train/encode.h"

static char tmpdir[256];

static void path_in_tmp(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Write bytes to path, plain or gzip. */
static int write_file(const char *path, const unsigned char *data, size_t len, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (!f)
            return -1;
        int ok = len == 0 || gzwrite(f, data, (unsigned)len) == (int)len;
        return gzclose(f) == Z_OK && ok ? 0 : -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -1;
}

/* An IDX file image: magic, dims, then payload (payload_len may differ from what dims say). */
static size_t make_idx(unsigned char *buf, uint32_t magic, const uint32_t *dims, int nd,
                       const unsigned char *payload, size_t payload_len)
{
    put_be32(buf, magic);
    for (int i = 0; i < nd; i++)
        put_be32(buf + 4 + 4 * i, dims[i]);
    memcpy(buf + 4 + 4 * nd, payload, payload_len);
    return 4 + 4 * (size_t)nd + payload_len;
}

static int one_line_naming(const char *err, const char *path, const char *word)
{
    return strchr(err, '\n') == NULL && strstr(err, path) != NULL &&
           (word == NULL || strstr(err, word) != NULL);
}

/* ---- IDX ------------------------------------------------------------------------------------- */

static void test_idx_round_trip(void)
{
    enum { N = 7, R = 3, C = 4 };
    unsigned char pix[N * R * C], lab[N], buf[4096];
    for (int i = 0; i < N * R * C; i++)
        pix[i] = (unsigned char)((i * 37 + 11) % 256);
    pix[0] = 0;
    pix[1] = 255;
    for (int i = 0; i < N; i++)
        lab[i] = (unsigned char)(i % 5);
    for (int gz = 0; gz < 2; gz++) {
        char img[512], labp[512];
        path_in_tmp(img, sizeof img, gz ? "img.gz" : "img.idx");
        path_in_tmp(labp, sizeof labp, gz ? "lab.gz" : "lab.idx");
        uint32_t di[3] = {N, R, C}, dl[1] = {N};
        size_t len = make_idx(buf, 0x803, di, 3, pix, sizeof pix);
        NS_CHECK(write_file(img, buf, len, gz) == 0, "write %s", img);
        len = make_idx(buf, 0x801, dl, 1, lab, sizeof lab);
        NS_CHECK(write_file(labp, buf, len, gz) == 0, "write %s", labp);

        ns_dataset *ds = NULL;
        char err[512] = "";
        int rc = ns_dataset_load_idx(img, labp, &ds, err, sizeof err);
        NS_CHECK(rc == 0 && ds, "load %s: %s", img, err);
        if (!ds)
            continue;
        NS_CHECK(ns_dataset_n(ds) == N, "n = %zu", ns_dataset_n(ds));
        NS_CHECK(ns_dataset_dim(ds) == R * C, "dim = %zu", ns_dataset_dim(ds));
        NS_CHECK(ns_dataset_classes(ds) == 5, "classes = %d", ns_dataset_classes(ds));
        NS_CHECK(ns_dataset_kind(ds) == NS_DATA_FEATURES, "kind");
        int bad = 0;
        for (int i = 0; i < N * R * C; i++)
            bad += ns_dataset_x(ds)[i] != (float)pix[i] / 255.0f;
        for (int i = 0; i < N; i++)
            bad += ns_dataset_labels(ds)[i] != lab[i];
        NS_CHECK(bad == 0, "%d values differ after the round trip (gz %d)", bad, gz);
        NS_CHECK(ns_dataset_x(ds)[0] == 0.0f && ns_dataset_x(ds)[1] == 1.0f, "x/255 ends");
        NS_CHECK(ns_dataset_row(ds, 2) == ns_dataset_x(ds) + 2 * R * C, "row pointer");
        ns_dataset_free(ds);
    }

    /* 2-D IDX vectors (magic 0x802) read as d-vectors */
    char img[512], labp[512];
    path_in_tmp(img, sizeof img, "vec.idx");
    path_in_tmp(labp, sizeof labp, "lab.idx");
    uint32_t dv[2] = {N, R * C};
    size_t len = make_idx(buf, 0x802, dv, 2, pix, sizeof pix);
    write_file(img, buf, len, 0);
    ns_dataset *ds = NULL;
    char err[512] = "";
    NS_CHECK(ns_dataset_load_idx(img, labp, &ds, err, sizeof err) == 0, "0x802: %s", err);
    NS_CHECK(ds && ns_dataset_dim(ds) == R * C, "0x802 dim");
    ns_dataset_free(ds);
}

static void expect_idx_error(const char *img, const char *lab, const char *names,
                             const char *word, const char *what)
{
    ns_dataset *ds = (ns_dataset *)&ds; /* must be reset to NULL */
    char err[512] = "";
    int rc = ns_dataset_load_idx(img, lab, &ds, err, sizeof err);
    NS_CHECK(rc == -1 && ds == NULL, "%s: rc %d", what, rc);
    NS_CHECK(one_line_naming(err, names, word), "%s: message '%s' should name %s and say '%s'",
             what, err, names, word ? word : "");
}

static void test_idx_errors(void)
{
    enum { N = 5, R = 4, C = 4 };
    unsigned char pix[N * R * C], lab[N], buf[4096];
    memset(pix, 100, sizeof pix);
    for (int i = 0; i < N; i++)
        lab[i] = (unsigned char)i;
    uint32_t di[3] = {N, R, C}, dl[1] = {N};
    char img[512], labp[512], bad[512], missing[512];
    path_in_tmp(img, sizeof img, "e_img.gz");
    path_in_tmp(labp, sizeof labp, "e_lab.gz");
    path_in_tmp(missing, sizeof missing, "no-such-file.gz");
    write_file(img, buf, make_idx(buf, 0x803, di, 3, pix, sizeof pix), 1);
    write_file(labp, buf, make_idx(buf, 0x801, dl, 1, lab, sizeof lab), 1);
    {
        ns_dataset *ds = NULL;
        char err[256] = "";
        NS_CHECK(ns_dataset_load_idx(img, labp, &ds, err, sizeof err) == 0, "good pair: %s", err);
        ns_dataset_free(ds);
    }

    expect_idx_error(missing, labp, missing, "cannot open", "missing images");
    expect_idx_error(img, missing, missing, "cannot open", "missing labels");
    /* swapped files: each has the other's magic */
    expect_idx_error(labp, img, img, "magic", "images file given as labels");
    expect_idx_error(labp, labp, labp, "magic", "labels file given as images");

    path_in_tmp(bad, sizeof bad, "bad_magic.idx");
    write_file(bad, buf, make_idx(buf, 0x12345678, di, 3, pix, sizeof pix), 0);
    expect_idx_error(bad, labp, bad, "0x12345678", "garbage magic");
    /* float IDX (type 0x0D) is not unsigned bytes */
    write_file(bad, buf, make_idx(buf, 0x0D03, di, 3, pix, sizeof pix), 0);
    expect_idx_error(bad, labp, bad, "magic", "float IDX");

    path_in_tmp(bad, sizeof bad, "empty.idx");
    write_file(bad, buf, 0, 0);
    expect_idx_error(bad, labp, bad, "truncated", "empty file");
    path_in_tmp(bad, sizeof bad, "short_header.idx");
    write_file(bad, buf, make_idx(buf, 0x803, di, 3, pix, 0) - 6, 0);
    expect_idx_error(bad, labp, bad, "truncated", "header cut short");

    for (int gz = 0; gz < 2; gz++) {
        path_in_tmp(bad, sizeof bad, gz ? "trunc_img.gz" : "trunc_img.idx");
        write_file(bad, buf, make_idx(buf, 0x803, di, 3, pix, sizeof pix - 5), gz);
        expect_idx_error(bad, labp, bad, "truncated", gz ? "short gzip payload" : "short payload");
        path_in_tmp(bad, sizeof bad, gz ? "trunc_lab.gz" : "trunc_lab.idx");
        write_file(bad, buf, make_idx(buf, 0x801, dl, 1, lab, N - 1), gz);
        expect_idx_error(img, bad, bad, "truncated", "short label payload");
        path_in_tmp(bad, sizeof bad, gz ? "long_img.gz" : "long_img.idx");
        unsigned char more[sizeof pix + 3];
        memcpy(more, pix, sizeof pix);
        memset(more + sizeof pix, 7, 3);
        write_file(bad, buf, make_idx(buf, 0x803, di, 3, more, sizeof more), gz);
        expect_idx_error(bad, labp, bad, "trailing", "extra bytes");
    }

    /* a gzip stream cut in the middle of the deflate data */
    path_in_tmp(bad, sizeof bad, "cut.gz");
    {
        unsigned char big[4 + 12 + 20 * 28 * 28];
        unsigned char *p = big + 16;
        for (size_t i = 0; i < 20 * 28 * 28; i++)
            p[i] = (unsigned char)((i * 2654435761u) >> 13);
        uint32_t d20[3] = {20, 28, 28};
        size_t len = make_idx(big, 0x803, d20, 3, p, 0) + 20 * 28 * 28;
        write_file(bad, big, len, 1);
        FILE *f = fopen(bad, "rb");
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fclose(f);
        NS_CHECK(truncate(bad, sz / 2) == 0, "truncate %s", bad);
        unsigned char l20[20] = {0};
        char lab20[512];
        path_in_tmp(lab20, sizeof lab20, "lab20.idx");
        uint32_t d1[1] = {20};
        write_file(lab20, buf, make_idx(buf, 0x801, d1, 1, l20, 20), 0);
        expect_idx_error(bad, lab20, bad, "truncated", "gzip stream cut");
    }

    /* count mismatch names both files */
    path_in_tmp(bad, sizeof bad, "lab4.idx");
    uint32_t d4[1] = {N - 1};
    write_file(bad, buf, make_idx(buf, 0x801, d4, 1, lab, N - 1), 0);
    expect_idx_error(img, bad, img, "labels", "count mismatch (images named)");
    expect_idx_error(img, bad, bad, "images", "count mismatch (labels named)");

    /* zero-size header */
    path_in_tmp(bad, sizeof bad, "zero.idx");
    uint32_t dz[3] = {N, 0, C};
    write_file(bad, buf, make_idx(buf, 0x803, dz, 3, pix, 0), 0);
    expect_idx_error(bad, labp, bad, "size 0", "zero rows");
}

static void test_fashion_mnist(void)
{
    char probe[512];
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz", NS_FASHION_MNIST_DIR);
    if (access(probe, R_OK) != 0) {
        printf("note: %s not installed; Fashion-MNIST checks skipped (not counted)\n",
               NS_FASHION_MNIST_DIR);
        return;
    }
    for (int train = 1; train >= 0; train--) {
        ns_dataset *ds = NULL;
        char err[512] = "";
        int rc = ns_dataset_load_fashion_mnist(NULL, train, &ds, err, sizeof err);
        NS_CHECK(rc == 0 && ds, "load Fashion-MNIST (%s): %s", train ? "train" : "test", err);
        if (!ds)
            continue;
        size_t n_want = train ? 60000 : 10000;
        NS_CHECK(ns_dataset_n(ds) == n_want, "n = %zu", ns_dataset_n(ds));
        NS_CHECK(ns_dataset_dim(ds) == 784, "dim = %zu", ns_dataset_dim(ds));
        NS_CHECK(ns_dataset_classes(ds) == 10, "classes = %d", ns_dataset_classes(ds));
        size_t counts[10];
        ns_dataset_class_counts(ds, counts);
        int balanced = 1;
        for (int c = 0; c < 10; c++)
            balanced &= counts[c] == n_want / 10;
        NS_CHECK(balanced, "class balance %zu per class", n_want / 10);
        double sum = 0;
        const float *x = ns_dataset_x(ds);
        int inrange = 1;
        for (size_t i = 0; i < ns_dataset_n(ds) * 784; i++) {
            sum += x[i];
            inrange &= x[i] >= 0.0f && x[i] <= 1.0f;
        }
        NS_CHECK(inrange, "pixels in [0, 1]");
        double mean = sum / ((double)ns_dataset_n(ds) * 784);
        if (train)
            NS_CHECK_ABS(mean, 0.2860, 0.001);
        else
            NS_CHECK_ABS(mean, 0.2860, 0.002);
        ns_dataset_free(ds);
    }
}

/* ---- randman --------------------------------------------------------------------------------- */

static void randman_small(ns_randman_params *p)
{
    ns_randman_defaults(p);
    p->classes = 4;
    p->units = 30;
    p->samples_per_class = 250;
    p->seed = 42;
}

static void test_randman(void)
{
    ns_randman_params p;
    ns_randman_defaults(&p);
    NS_CHECK(p.classes == 10 && p.units == 100 && p.steps == 100 && p.dim == 2 &&
             p.alpha == 2.0 && p.samples_per_class == 1000, "defaults");
    /* F = min(ceil(prec^(-1/alpha)), 1000): 1e-3^(-1/2) = 31.62 -> 32 */
    NS_CHECK(ns_randman_freqs(&p) == 32, "F = %d", ns_randman_freqs(&p));
    p.alpha = 0.5; /* 1e6 components, capped */
    NS_CHECK(ns_randman_freqs(&p) == 1000, "F capped = %d", ns_randman_freqs(&p));

    randman_small(&p);
    ns_dataset *ds = NULL, *ds2 = NULL;
    char err[512] = "";
    NS_CHECK(ns_dataset_randman(&p, &ds, err, sizeof err) == 0, "randman: %s", err);
    NS_CHECK(ns_dataset_randman(&p, &ds2, err, sizeof err) == 0, "randman again: %s", err);
    if (!ds || !ds2)
        return;
    const size_t n = ns_dataset_n(ds), U = (size_t)p.units, spc = (size_t)p.samples_per_class;
    NS_CHECK(n == spc * (size_t)p.classes && ns_dataset_dim(ds) == U, "size");
    NS_CHECK(ns_dataset_kind(ds) == NS_DATA_SPIKE_TIMES && ns_dataset_steps(ds) == p.steps, "kind");
    NS_CHECK(memcmp(ns_dataset_x(ds), ns_dataset_x(ds2), n * U * sizeof(float)) == 0 &&
             memcmp(ns_dataset_labels(ds), ns_dataset_labels(ds2), n * sizeof(int)) == 0,
             "same seed reproduces the data bit-exactly");
    ns_dataset_free(ds2);
    ns_randman_params q = p;
    q.seed = 43;
    NS_CHECK(ns_dataset_randman(&q, &ds2, err, sizeof err) == 0, "seed 43: %s", err);
    NS_CHECK(ds2 && memcmp(ns_dataset_x(ds), ns_dataset_x(ds2), n * U * sizeof(float)) != 0,
             "another seed gives other data");
    ns_dataset_free(ds2);

    /* every sample: one spike per unit in [0, steps), through the spike-time encoder too */
    const float *t = ns_dataset_x(ds);
    int inrange = 1;
    for (size_t i = 0; i < n * U; i++)
        inrange &= t[i] >= 0.0f && t[i] < (float)p.steps;
    NS_CHECK(inrange, "spike times in [0, steps)");
    {
        const size_t B = 50;
        size_t idx[50];
        float *out = malloc((size_t)p.steps * B * U * sizeof(float));
        int one_each = 1;
        for (size_t s0 = 0; s0 < n; s0 += B) {
            for (size_t b = 0; b < B; b++)
                idx[b] = s0 + b;
            NS_CHECK(ns_encode_spike_times(ds, idx, B, p.steps, out, err, sizeof err) == 0, "%s",
                     err);
            for (size_t b = 0; b < B; b++)
                for (size_t k = 0; k < U; k++) {
                    int cnt = 0, at = -1;
                    for (int s = 0; s < p.steps; s++)
                        if (out[((size_t)s * B + b) * U + k] != 0.0f) {
                            cnt++;
                            at = s;
                        }
                    one_each &= cnt == 1 && at == (int)floorf(t[(s0 + b) * U + k]) &&
                                out[((size_t)at * B + b) * U + k] == 1.0f;
                }
        }
        NS_CHECK(one_each, "exactly one spike per unit per sample, at floor(time)");
        free(out);
    }

    /* labels: class by class; min-max scaling puts each unit's earliest spike at 0 and its latest
     * at steps (1 - 1e-7/range), i.e. just below steps */
    size_t counts[4];
    ns_dataset_class_counts(ds, counts);
    NS_CHECK(counts[0] == spc && counts[3] == spc, "samples per class");
    int minmax = 1;
    for (int c = 0; c < p.classes; c++)
        for (size_t k = 0; k < U; k++) {
            float lo = 1e30f, hi = -1e30f;
            for (size_t i = (size_t)c * spc; i < (size_t)(c + 1) * spc; i++) {
                lo = fminf(lo, t[i * U + k]);
                hi = fmaxf(hi, t[i * U + k]);
            }
            minmax &= lo == 0.0f && hi > p.steps - 0.01f;
        }
    NS_CHECK(minmax, "per class and unit, min time 0 and max time just below steps");

    /* the stored times are the eval()'d manifold at the stored coordinates, min-max scaled */
    {
        const int c = 2, D = p.dim;
        const float *xc = ns_dataset_coords(ds) + (size_t)c * spc * (size_t)D;
        NS_CHECK(ns_dataset_coord_dim(ds) == D, "coord dim");
        double *x = malloc(spc * (size_t)D * sizeof(double)), *y = malloc(spc * U * sizeof(double));
        for (size_t i = 0; i < spc * (size_t)D; i++)
            x[i] = xc[i];
        NS_CHECK(ns_randman_eval(&p, c, spc, x, y, err, sizeof err) == 0, "eval: %s", err);
        double worst = 0;
        for (size_t k = 0; k < U; k++) {
            double lo = 1e300, hi = -1e300;
            for (size_t i = 0; i < spc; i++) {
                lo = fmin(lo, y[i * U + k]);
                hi = fmax(hi, y[i * U + k]);
            }
            for (size_t i = 0; i < spc; i++) {
                double want = (y[i * U + k] - lo) / (hi - lo + 1e-7) * p.steps;
                double got = t[((size_t)c * spc + i) * U + k];
                worst = fmax(worst, fabs(got - want));
            }
        }
        NS_CHECK(worst < 1e-3, "stored times vs rule: worst error %g steps", worst);
        free(x);
        free(y);
    }
    ns_dataset_free(ds);

    /* smoothness: a step h in x moves each unit by O(h) of its range (differentiable: halving the
     * scale of h by 10 shrinks the change by ~10); different classes are different functions */
    {
        enum { M = 400 };
        const int D = p.dim;
        double *x = malloc((size_t)M * D * sizeof(double));
        double *xh = malloc((size_t)M * D * sizeof(double));
        double *y = malloc((size_t)M * U * sizeof(double));
        double *yh = malloc((size_t)M * U * sizeof(double));
        double *y1 = malloc((size_t)M * U * sizeof(double));
        double *lo = malloc(U * sizeof(double)), *hi = malloc(U * sizeof(double));
        uint64_t key = ns_dataset_key(7, 8, 9, 10);
        for (size_t i = 0; i < (size_t)M * D; i++)
            x[i] = 0.01 + 0.98 * ns_dataset_u01(key, i);
        ns_randman_eval(&p, 0, M, x, y, err, sizeof err);
        for (size_t k = 0; k < U; k++) {
            lo[k] = 1e300;
            hi[k] = -1e300;
            for (size_t i = 0; i < M; i++) {
                lo[k] = fmin(lo[k], y[i * U + k]);
                hi[k] = fmax(hi[k], y[i * U + k]);
            }
        }
        double mean_h[2] = {0, 0}, max_h[2] = {0, 0};
        const double hs[2] = {1e-3, 1e-4};
        for (int s = 0; s < 2; s++) {
            for (size_t i = 0; i < (size_t)M * D; i++)
                xh[i] = x[i] + hs[s] * (2.0 * ns_dataset_u01(key, 100000 + i) - 1.0);
            ns_randman_eval(&p, 0, M, xh, yh, err, sizeof err);
            for (size_t i = 0; i < (size_t)M * U; i++) {
                double r = fabs(yh[i] - y[i]) / (hi[i % U] - lo[i % U]);
                mean_h[s] += r / ((double)M * U);
                max_h[s] = fmax(max_h[s], r);
            }
        }
        /* random pairs of points, for scale */
        double mean_pair = 0;
        for (size_t i = 0; i + 1 < M; i++)
            for (size_t k = 0; k < U; k++)
                mean_pair += fabs(y[(i + 1) * U + k] - y[i * U + k]) / (hi[k] - lo[k]) /
                             ((double)(M - 1) * U);
        NS_CHECK(mean_h[0] < 0.01 && max_h[0] < 0.1,
                 "step 1e-3 in x: mean change %.3g, max %.3g of the range", mean_h[0], max_h[0]);
        NS_CHECK(mean_pair > 0.1, "random pairs differ by %.3g of the range", mean_pair);
        double ratio = mean_h[0] / mean_h[1];
        NS_CHECK(ratio > 7 && ratio < 13, "change linear in the step: ratio %.3g", ratio);

        /* another class at the same points, in the same per-unit units */
        ns_randman_eval(&p, 1, M, x, y1, err, sizeof err);
        double diff = 0;
        for (size_t k = 0; k < U; k++) {
            double l1 = 1e300, h1 = -1e300;
            for (size_t i = 0; i < M; i++) {
                l1 = fmin(l1, y1[i * U + k]);
                h1 = fmax(h1, y1[i * U + k]);
            }
            for (size_t i = 0; i < M; i++)
                diff += fabs((y[i * U + k] - lo[k]) / (hi[k] - lo[k]) -
                             (y1[i * U + k] - l1) / (h1 - l1)) / ((double)M * U);
        }
        NS_CHECK(diff > 0.1, "classes 0 and 1 differ by %.3g of the range at the same x", diff);
        free(x);
        free(xh);
        free(y);
        free(yh);
        free(y1);
        free(lo);
        free(hi);
    }

    /* bad parameters are refused with a message */
    q = p;
    q.dim = 0;
    ds = NULL;
    NS_CHECK(ns_dataset_randman(&q, &ds, err, sizeof err) == -1 && !ds && strstr(err, "dim"),
             "dim 0 refused: %s", err);
    q = p;
    q.step_frac = 1.5;
    NS_CHECK(ns_dataset_randman(&q, &ds, err, sizeof err) == -1 && strstr(err, "step_frac"),
             "step_frac refused: %s", err);
}

/* ---- subsets, splits, permutations ----------------------------------------------------------- */

static void test_permutation_and_split(void)
{
    enum { N = 1000 };
    size_t *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    unsigned char seen[N];
    ns_dataset_permutation(N, 5, 0, a);
    memset(seen, 0, sizeof seen);
    int ok = 1;
    for (size_t i = 0; i < N; i++) {
        ok &= a[i] < N && !seen[a[i]];
        if (a[i] < N)
            seen[a[i]] = 1;
    }
    NS_CHECK(ok, "a permutation of 0..N-1");
    ns_dataset_permutation(N, 5, 0, b);
    NS_CHECK(memcmp(a, b, N * sizeof *a) == 0, "reproducible");
    ns_dataset_permutation(N, 5, 1, b);
    NS_CHECK(memcmp(a, b, N * sizeof *a) != 0, "another epoch, another order");
    size_t fixed = 0;
    for (size_t i = 0; i < N; i++)
        fixed += a[i] == i;
    NS_CHECK(fixed < 8, "%zu fixed points (expect ~1)", fixed);
    ns_dataset_permutation(1, 5, 0, a);
    NS_CHECK(a[0] == 0, "n = 1");
    ns_dataset_permutation(0, 5, 0, a);

    /* uniform over the 6 orders of 3 items: 6000 epochs, each order 1000 +- 3 sd (~ 91) */
    int hist[6] = {0};
    for (uint64_t e = 0; e < 6000; e++) {
        size_t p3[3];
        ns_dataset_permutation(3, 11, e, p3);
        int code = (int)(p3[0] * 2 + (p3[1] > p3[2]));
        hist[code]++;
    }
    int unif = 1;
    for (int i = 0; i < 6; i++)
        unif &= abs(hist[i] - 1000) < 120;
    NS_CHECK(unif, "permutations of 3 uniform: %d %d %d %d %d %d", hist[0], hist[1], hist[2],
             hist[3], hist[4], hist[5]);
    free(a);
    free(b);

    /* stratified split: 3 classes of 100, 50 and 7; features carry the sample index */
    enum { NS = 157 };
    float x[NS];
    int y[NS];
    for (int i = 0; i < NS; i++) {
        x[i] = (float)i;
        y[i] = i < 100 ? 0 : (i < 150 ? 1 : 2);
    }
    ns_dataset *ds = NULL, *tr = NULL, *te = NULL, *tr2 = NULL, *te2 = NULL;
    char err[256] = "";
    NS_CHECK(ns_dataset_from_arrays(NS, 1, 3, x, y, &ds, err, sizeof err) == 0, "%s", err);
    NS_CHECK(ns_dataset_split(ds, 0.2, 9, &tr, &te, err, sizeof err) == 0, "split: %s", err);
    NS_CHECK(ns_dataset_split(ds, 0.2, 9, &tr2, &te2, err, sizeof err) == 0, "split: %s", err);
    if (tr && te && tr2 && te2) {
        size_t ct[3], cr[3];
        ns_dataset_class_counts(te, ct);
        ns_dataset_class_counts(tr, cr);
        /* round(0.2 * 100) = 20, round(0.2 * 50) = 10, round(0.2 * 7) = 1 */
        NS_CHECK(ct[0] == 20 && ct[1] == 10 && ct[2] == 1, "test per class %zu %zu %zu", ct[0],
                 ct[1], ct[2]);
        NS_CHECK(cr[0] == 80 && cr[1] == 40 && cr[2] == 6, "train per class");
        int cover[NS] = {0};
        int labels_ok = 1, ordered = 1;
        for (size_t i = 0; i < ns_dataset_n(tr); i++) {
            int v = (int)ns_dataset_x(tr)[i];
            cover[v]++;
            labels_ok &= ns_dataset_labels(tr)[i] == y[v];
            ordered &= i == 0 || ns_dataset_x(tr)[i] > ns_dataset_x(tr)[i - 1];
        }
        for (size_t i = 0; i < ns_dataset_n(te); i++) {
            int v = (int)ns_dataset_x(te)[i];
            cover[v]++;
            labels_ok &= ns_dataset_labels(te)[i] == y[v];
            ordered &= i == 0 || ns_dataset_x(te)[i] > ns_dataset_x(te)[i - 1];
        }
        int once = 1;
        for (int i = 0; i < NS; i++)
            once &= cover[i] == 1;
        NS_CHECK(once && labels_ok && ordered, "train and test partition the set, keep order");
        NS_CHECK(ns_dataset_n(te) == ns_dataset_n(te2) &&
                 memcmp(ns_dataset_x(te), ns_dataset_x(te2), ns_dataset_n(te) * sizeof(float)) == 0,
                 "split reproducible");
    }
    ns_dataset_free(tr);
    ns_dataset_free(te);
    ns_dataset_free(tr2);
    ns_dataset_free(te2);
    NS_CHECK(ns_dataset_split(ds, 1.5, 9, &tr, &te, err, sizeof err) == -1 && !tr && !te,
             "bad fraction refused");
    size_t idx[3] = {5, 5, 156};
    ns_dataset *sub = NULL;
    NS_CHECK(ns_dataset_subset(ds, idx, 3, &sub, err, sizeof err) == 0 && sub &&
             ns_dataset_x(sub)[1] == 5.0f && ns_dataset_labels(sub)[2] == 2, "subset");
    ns_dataset_free(sub);
    idx[0] = NS;
    NS_CHECK(ns_dataset_subset(ds, idx, 3, &sub, err, sizeof err) == -1 && strstr(err, "157"),
             "subset index out of range: %s", err);
    ns_dataset_free(ds);

    /* creation refuses bad labels and NaN */
    y[3] = 3;
    NS_CHECK(ns_dataset_from_arrays(NS, 1, 3, x, y, &ds, err, sizeof err) == -1 && !ds &&
             strstr(err, "label 3"), "label out of range: %s", err);
    y[3] = 0;
    x[4] = NAN;
    NS_CHECK(ns_dataset_from_arrays(NS, 1, 3, x, y, &ds, err, sizeof err) == -1 &&
             strstr(err, "finite"), "NaN refused: %s", err);
}

/* ---- encoders -------------------------------------------------------------------------------- */

static void test_bernoulli(void)
{
    /* one row, copied: features at z = (x - mean)/std of -1, 0, 0.25, 0.5, 0.9, 1, 2 */
    enum { N = 40, D = 7, T = 250 };
    const double zs[D] = {-1, 0, 0.25, 0.5, 0.9, 1, 2};
    ns_bernoulli_params bp;
    ns_bernoulli_defaults(&bp);
    NS_CHECK(bp.mean == 0.2860f && bp.std == 0.3530f && bp.gain == 0.5f, "defaults");
    float x[N * D];
    int y[N];
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;
        for (int j = 0; j < D; j++)
            x[i * D + j] = (float)(0.2860 + 0.3530 * zs[j]);
    }
    ns_dataset *ds = NULL;
    char err[256] = "";
    NS_CHECK(ns_dataset_from_arrays(N, D, 2, x, y, &ds, err, sizeof err) == 0, "%s", err);
    if (!ds)
        return;
    float *out = malloc((size_t)T * N * D * sizeof(float));
    float *rev = malloc((size_t)T * N * D * sizeof(float));
    float *one = malloc((size_t)T * D * sizeof(float));
    size_t fwd[N], bwd[N];
    for (size_t i = 0; i < N; i++) {
        fwd[i] = i;
        bwd[i] = N - 1 - i;
    }
    NS_CHECK(ns_encode_bernoulli(&bp, ds, fwd, N, T, 3, out, err, sizeof err) == 0, "%s", err);
    int binary = 1;
    for (size_t k = 0; k < (size_t)T * N * D; k++)
        binary &= out[k] == 0.0f || out[k] == 1.0f;
    NS_CHECK(binary, "outputs are 0 or 1");
    for (int j = 0; j < D; j++) {
        double z = zs[j] < 0 ? 0 : (zs[j] > 1 ? 1 : zs[j]);
        double p = 0.5 * z, sum = 0;
        for (size_t k = 0; k < (size_t)T * N; k++)
            sum += out[k * D + j];
        double rate = sum / ((double)T * N);
        double sd = sqrt(p * (1 - p) / ((double)T * N));
        if (p == 0)
            NS_CHECK(rate == 0.0, "z = %g never fires (rate %g)", zs[j], rate);
        else
            NS_CHECK(fabs(rate - p) < 5 * sd, "z = %g: rate %.4f, want %.4f +- %.4f", zs[j], rate,
                     p, 5 * sd);
    }
    /* batch order and batch company do not matter */
    NS_CHECK(ns_encode_bernoulli(&bp, ds, bwd, N, T, 3, rev, err, sizeof err) == 0, "%s", err);
    int same = 1;
    for (int t = 0; t < T; t++)
        for (size_t b = 0; b < N; b++)
            same &= memcmp(out + ((size_t)t * N + b) * D, rev + ((size_t)t * N + (N - 1 - b)) * D,
                           D * sizeof(float)) == 0;
    NS_CHECK(same, "reversed batch gives the same spikes per sample");
    size_t i7 = 7;
    NS_CHECK(ns_encode_bernoulli(&bp, ds, &i7, 1, T, 3, one, err, sizeof err) == 0, "%s", err);
    same = 1;
    for (int t = 0; t < T; t++)
        same &= memcmp(one + (size_t)t * D, out + ((size_t)t * N + 7) * D, D * sizeof(float)) == 0;
    NS_CHECK(same, "a batch of one gives the same spikes as its slot in a full batch");
    /* identical rows in different samples, or another epoch, get fresh draws */
    NS_CHECK(memcmp(out, out + D, D * sizeof(float)) != 0 ||
             memcmp(out + N * D, out + N * D + D, D * sizeof(float)) != 0,
             "samples draw independently");
    NS_CHECK(ns_encode_bernoulli(&bp, ds, fwd, N, T, 4, rev, err, sizeof err) == 0, "%s", err);
    NS_CHECK(memcmp(out, rev, (size_t)T * N * D * sizeof(float)) != 0, "epochs draw independently");
    /* successive steps are independent: P(s_t = 1 and s_t+1 = 1) = p^2 for z = 1 */
    {
        double both = 0, cnt = 0;
        for (int t = 0; t + 1 < T; t++)
            for (size_t b = 0; b < N; b++) {
                both += out[((size_t)t * N + b) * D + 5] * out[((size_t)(t + 1) * N + b) * D + 5];
                cnt++;
            }
        double sd = sqrt(0.25 * 0.75 / cnt);
        NS_CHECK(fabs(both / cnt - 0.25) < 5 * sd, "pair rate %.4f, want 0.25", both / cnt);
    }
    bp.std = 0;
    NS_CHECK(ns_encode_bernoulli(&bp, ds, fwd, N, T, 3, out, err, sizeof err) == -1 &&
             strstr(err, "std"), "std 0 refused: %s", err);
    ns_bernoulli_defaults(&bp);
    size_t badi = N;
    NS_CHECK(ns_encode_bernoulli(&bp, ds, &badi, 1, T, 3, out, err, sizeof err) == -1 &&
             strstr(err, "out of range"), "index refused: %s", err);
    free(out);
    free(rev);
    free(one);
    ns_dataset_free(ds);
}

/* 1 if the encoded [T][2][4] input has a single 1 at step want[i] for each of the 2 x 4 features
 * i (none where want[i] is -1), 0 everywhere else. */
static int one_spike_each(const float *o, int T, const int want[8])
{
    int ok = 1;
    for (int i = 0; i < 8; i++) {
        size_t b = (size_t)i / 4, j = (size_t)i % 4;
        for (int t = 0; t < T; t++)
            ok &= o[((size_t)t * 2 + b) * 4 + j] == (t == want[i] ? 1.0f : 0.0f);
    }
    return ok;
}

static void test_direct_latency_spikes(void)
{
    enum { D = 8 };
    const float xv[D] = {1.0f, 0.0f, 0.5f, 0.75f, 0.2f, 0.21f, 0.3f, 1.7f};
    float x[2 * D];
    int y[2] = {0, 1};
    for (int j = 0; j < D; j++) {
        x[j] = xv[j];
        x[D + j] = 1.0f - xv[j] * 0.5f;
    }
    ns_dataset *ds = NULL;
    char err[256] = "";
    NS_CHECK(ns_dataset_from_arrays(2, D, 2, x, y, &ds, err, sizeof err) == 0, "%s", err);
    if (!ds)
        return;
    const int T = 11;
    float out[11 * 2 * D];
    size_t idx[2] = {1, 0};

    NS_CHECK(ns_encode_direct(ds, idx, 2, T, out, err, sizeof err) == 0, "%s", err);
    int ok = 1;
    for (int t = 0; t < T; t++)
        for (int j = 0; j < D; j++)
            ok &= out[((size_t)t * 2 + 0) * D + j] == x[D + j] &&
                  out[((size_t)t * 2 + 1) * D + j] == x[j];
    NS_CHECK(ok, "direct: x every step");

    /* linear latency: x > 0.2 spikes at round((1 - clamp(x)) (T - 1)) */
    ns_latency_params lp;
    ns_latency_defaults(&lp);
    NS_CHECK(lp.rule == NS_LATENCY_LINEAR && lp.threshold == 0.2f && lp.tau == 20.0f, "defaults");
    NS_CHECK(ns_encode_latency(&lp, ds, idx + 1, 1, T, out, err, sizeof err) == 0, "%s", err);
    /* (T-1) = 10: x 1 -> 0, 0 -> none, 0.5 -> 5, 0.75 -> 2.5 -> 3, 0.2 -> none (not above),
     * 0.21 -> 7.9 -> 8, 0.3 -> 7, 1.7 -> clamped -> 0 */
    const int want_lin[D] = {0, -1, 5, 3, -1, 8, 7, 0};
    for (int j = 0; j < D; j++) {
        int cnt = 0, at = -1;
        for (int t = 0; t < T; t++)
            if (out[(size_t)t * D + j] == 1.0f) {
                cnt++;
                at = t;
            }
        NS_CHECK(want_lin[j] < 0 ? cnt == 0 : (cnt == 1 && at == want_lin[j]),
                 "linear latency x = %g: %d spikes, at %d, want %d", (double)xv[j], cnt, at,
                 want_lin[j]);
    }
    /* SpyTorch's LIF rule: t = tau ln(x / (x - thr)), spike at floor(t) if below T */
    lp.rule = NS_LATENCY_LIF;
    const int TL = 30;
    float *o2 = malloc((size_t)TL * D * sizeof(float));
    NS_CHECK(ns_encode_latency(&lp, ds, idx + 1, 1, TL, o2, err, sizeof err) == 0, "%s", err);
    for (int j = 0; j < D; j++) {
        double v = xv[j];
        int want = -1;
        if (v > 0.2) {
            double tt = 20.0 * log(v / (v - (double)0.2f));
            want = tt < TL ? (int)tt : -1;
        }
        int cnt = 0, at = -1;
        for (int t = 0; t < TL; t++)
            if (o2[(size_t)t * D + j] == 1.0f) {
                cnt++;
                at = t;
            }
        NS_CHECK(want < 0 ? cnt == 0 : (cnt == 1 && at == want),
                 "LIF latency x = %g: %d spikes at %d, want %d", (double)xv[j], cnt, at, want);
    }
    /* 20 ln(1/0.8) = 4.46: x = 1 at step 4 */
    NS_CHECK(o2[4 * D + 0] == 1.0f, "x = 1 fires at step 4 under the LIF rule");
    free(o2);

    /* spike-time encoder refuses feature sets, feature encoders refuse spike-time sets */
    NS_CHECK(ns_encode_spike_times(ds, idx, 2, T, out, err, sizeof err) == -1 &&
             strstr(err, "spike-time"), "spike times on features refused: %s", err);
    ns_dataset_free(ds);

    const float times[2 * 4] = {0.0f, 3.5f, 9.99f, -1.0f, 5.0f, 4.999f, 7.25f, 0.5f};
    NS_CHECK(ns_dataset_from_spike_times(2, 4, 2, 10, times, y, &ds, err, sizeof err) == 0, "%s",
             err);
    if (!ds)
        return;
    float o3[20 * 2 * 4];
    NS_CHECK(ns_encode_spike_times(ds, NULL, 2, 10, o3, err, sizeof err) == 0, "%s", err);
    const int want10[8] = {0, 3, 9, -1, 5, 4, 7, 0};
    ok = one_spike_each(o3, 10, want10);
    NS_CHECK(ok, "spike times at floor(time), negative silent");
    NS_CHECK(ns_encode_spike_times(ds, NULL, 2, 20, o3, err, sizeof err) == 0, "%s", err);
    const int want20[8] = {0, 7, 19, -1, 10, 9, 14, 1}; /* floor(2 t) */
    ok = one_spike_each(o3, 20, want20);
    NS_CHECK(ok, "spike times rescaled to T = 2 S");
    ns_bernoulli_params bp;
    ns_bernoulli_defaults(&bp);
    NS_CHECK(ns_encode_bernoulli(&bp, ds, NULL, 2, 10, 0, o3, err, sizeof err) == -1 &&
             strstr(err, "feature"), "bernoulli on spike times refused: %s", err);
    ns_dataset_free(ds);
    const float late[1] = {10.0f};
    NS_CHECK(ns_dataset_from_spike_times(1, 1, 2, 10, late, y, &ds, err, sizeof err) == -1 && !ds,
             "time == steps refused: %s", err);

    /* names and dispatch */
    ns_encoding k;
    NS_CHECK(ns_encoding_from_name("latency", &k, err, sizeof err) == 0 && k == NS_ENC_LATENCY,
             "name latency");
    NS_CHECK(ns_encoding_from_name("rate", &k, err, sizeof err) == 0 && k == NS_ENC_BERNOULLI,
             "name rate");
    NS_CHECK(ns_encoding_from_name("poisson", &k, err, sizeof err) == -1 && strstr(err, "poisson"),
             "unknown name: %s", err);
    NS_CHECK(strcmp(ns_encoding_name(NS_ENC_SPIKE_TIMES), "spikes") == 0, "canonical name");
}

/* The Fashion-MNIST loader takes a folder whose files are uncompressed and named in the other
 * common spellings (train-images.idx3-ubyte; test-labels-idx1-ubyte), each read back exactly;
 * a folder without them names what it looked for. */
static void test_idx_names(void)
{
    char dir[512], path[640];
    path_in_tmp(dir, sizeof dir, "names");
    NS_CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
    unsigned char buf[4 + 12 + 3 * 28 * 28], pix[3 * 28 * 28], lab[3] = {7, 0, 9};
    for (size_t i = 0; i < sizeof pix; i++) pix[i] = (unsigned char)(i * 37 % 256);
    uint32_t di[3] = {3, 28, 28}, dl[1] = {3};
    const char *names[] = {"train-images.idx3-ubyte", "train-labels.idx1-ubyte", "test-images-idx3-ubyte",
                           "test-labels-idx1-ubyte"};
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        write_file(path, buf, k % 2 ? make_idx(buf, 0x801, dl, 1, lab, 3) : make_idx(buf, 0x803, di, 3, pix, sizeof pix), 0);
    }
    for (int train = 1; train >= 0; train--) {
        ns_dataset *ds = NULL;
        char err[512] = "";
        NS_CHECK(ns_dataset_load_fashion_mnist(dir, train, &ds, err, sizeof err) == 0 && ds, "%s", err);
        if (!ds) continue;
        int same = ns_dataset_n(ds) == 3 && ns_dataset_dim(ds) == 784;
        for (size_t i = 0; same && i < sizeof pix; i++) same = ns_dataset_x(ds)[i] == (float)pix[i] / 255.0f;
        for (size_t i = 0; same && i < 3; i++) same = ns_dataset_labels(ds)[i] == lab[i];
        NS_CHECK(same, "%s set read back from uncompressed files of other names", train ? "training" : "test");
        ns_dataset_free(ds);
    }
    ns_dataset *ds = NULL;
    char err[512] = "", want[1024];
    path_in_tmp(path, sizeof path, "no_such_folder");
    NS_CHECK(ns_dataset_load_fashion_mnist(path, 1, &ds, err, sizeof err) != 0 && !ds, "a folder without the files");
    snprintf(want, sizeof want, "%s: no training images-idx3 file (looked for train-images-idx3-ubyte, "
             "train-images.idx3-ubyte, each also .gz)", path);
    NS_CHECK(!strcmp(err, want), "message: %s", err);
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        unlink(path);
    }
    rmdir(dir);
}

int main(void)
{
    ns_test_tmpdir(tmpdir, sizeof tmpdir, "nsim-dataset");
    test_idx_round_trip();
    test_idx_errors();
    test_fashion_mnist();
    test_idx_names();
    test_randman();
    test_permutation_and_split();
    test_bernoulli();
    test_direct_latency_spikes();

    DIR *dir = opendir(tmpdir);
    for (struct dirent *e; dir && (e = readdir(dir));) {
        char path[512];
        if (e->d_name[0] != '.') {
            path_in_tmp(path, sizeof path, e->d_name);
            remove(path);
        }
    }
    if (dir)
        closedir(dir);
    if (rmdir(tmpdir) != 0)
        printf("note: could not remove %s\n", tmpdir);
    NS_TEST_MAIN_END();
}
