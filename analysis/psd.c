/* analysis/psd.c — Welch, multitaper, lattice 2-D and space-time spectra on FFTW r2c plans.
 * Every estimator is |FFT|^2 scaled so that the spectrum integrates to the mean square of the
 * (detrended, windowed) data; DPSS tapers come from bisection plus inverse iteration on the
 * commuting tridiagonal matrix, O(n k), so long records need no dense eigensolver. */
#include "analysis/psd.h"
#include "base/errmsg.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TWO_PI 6.283185307179586476925286766559
#define PI 3.1415926535897932384626433832795

enum { INVIT_ROUNDS = 3, BISECT_MAX = 200, ADAPT_MAX = 100 };

/* Refuse NaN and infinities, naming the first bad sample. */
static int check_finite(const double *x, size_t n, const char *who, const char *name, char *err,
                        size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            ns_errmsg(err, errlen, "%s: %s[%zu] is %s", who, name, i,
                    isnan(x[i]) ? "NaN" : "infinite");
            return -1;
        }
    }
    return 0;
}

/* A temporary cache when the caller passes none. */
static ns_fft_cache *cache_or_temp(ns_fft_cache *c, ns_fft_cache **temp)
{
    *temp = NULL;
    if (c) return c;
    *temp = ns_fft_cache_create(0);
    return *temp;
}

/* Periodic window into w[L]; returns sum(w^2). */
static double make_window(ns_window kind, long L, double *w)
{
    double a = kind == NS_WINDOW_HANN ? 0.5 : kind == NS_WINDOW_HAMMING ? 0.54 : 1.0;
    double ss = 0;
    for (long i = 0; i < L; i++) {
        w[i] = a == 1.0 ? 1.0 : a - (1.0 - a) * cos(TWO_PI * (double)i / (double)L);
        ss += w[i] * w[i];
    }
    return ss;
}

/* Remove the mean or the least-squares line from s[L] in place. */
static void detrend_1d(double *s, long L, ns_detrend d)
{
    if (d == NS_DETREND_NONE || L < 1) return;
    double mean = 0;
    for (long i = 0; i < L; i++) mean += s[i];
    mean /= (double)L;
    if (d == NS_DETREND_MEAN || L < 2) {
        for (long i = 0; i < L; i++) s[i] -= mean;
        return;
    }
    double tc = 0.5 * (double)(L - 1), stx = 0;
    for (long i = 0; i < L; i++) stx += ((double)i - tc) * s[i];
    double stt = (double)L * ((double)L * (double)L - 1.0) / 12.0;
    double slope = stx / stt;
    for (long i = 0; i < L; i++) s[i] -= mean + slope * ((double)i - tc);
}

/* One-sided doubling: every bin but DC and (for even n) Nyquist. */
static int doubled(long k, long n)
{
    return k > 0 && !(n % 2 == 0 && k == n / 2);
}

static int valid_window(ns_window w)
{
    return w == NS_WINDOW_HANN || w == NS_WINDOW_HAMMING || w == NS_WINDOW_RECT;
}

static int valid_detrend(ns_detrend d)
{
    return d == NS_DETREND_MEAN || d == NS_DETREND_NONE || d == NS_DETREND_LINEAR;
}

long ns_psd_nfreq(long n)
{
    return n >= 1 ? n / 2 + 1 : 0;
}

/* ---- Welch ---------------------------------------------------------------------------------- */

static long welch_step(long L, double overlap)
{
    long nov = (long)floor(overlap * (double)L);
    if (nov > L - 1) nov = L - 1;
    if (nov < 0) nov = 0;
    return L - nov;
}

static int welch_check(const char *who, long n, const ns_welch_opts *o, char *err, size_t errlen)
{
    if (!o) return ns_errmsg(err, errlen, "%s: no options", who);
    if (!(o->fs_hz > 0) || !isfinite(o->fs_hz)) {
        ns_errmsg(err, errlen, "%s: sampling rate fs_hz = %g must be positive and finite", who,
                o->fs_hz);
        return -1;
    }
    if (o->segment < 2) {
        ns_errmsg(err, errlen, "%s: segment of %ld samples is shorter than 2", who, o->segment);
        return -1;
    }
    if (o->segment > n) {
        ns_errmsg(err, errlen, "%s: segment of %ld samples is longer than the signal (%ld samples)",
                who, o->segment, n);
        return -1;
    }
    if (o->segment > INT32_MAX) {
        ns_errmsg(err, errlen, "%s: segment of %ld samples is too long for one FFT", who,
                o->segment);
        return -1;
    }
    if (!(o->overlap >= 0 && o->overlap < 1)) {
        ns_errmsg(err, errlen, "%s: overlap %g is outside [0, 1)", who, o->overlap);
        return -1;
    }
    if (!valid_window(o->window)) return ns_errmsg(err, errlen, "%s: unknown window %d", who, (int)o->window);
    if (!valid_detrend(o->detrend)) {
        ns_errmsg(err, errlen, "%s: unknown detrend %d", who, (int)o->detrend);
        return -1;
    }
    return 0;
}

long ns_psd_welch_segments(long n, const ns_welch_opts *o)
{
    if (welch_check("welch", n, o, NULL, 0)) return 0;
    return (n - o->segment) / welch_step(o->segment, o->overlap) + 1;
}

/* Buffers and plan for one segment length, reused across segments (and sites); the plan comes
 * from the caller's cache, or from a temporary one the workspace owns. */
typedef struct {
    long L, nf, step;
    ns_fft_cache *temp;
    const ns_fft_plan *plan;
    double *seg, *win;
    fftw_complex *spec;
    double wss;
} welch_ws;

static void welch_ws_free(welch_ws *ws)
{
    ns_fft_free(ws->seg);
    ns_fft_free(ws->spec);
    free(ws->win);
    ns_fft_cache_free(ws->temp);
}

static int welch_ws_init(welch_ws *ws, ns_fft_cache *c, const ns_welch_opts *o, const char *who,
                         char *err, size_t errlen)
{
    memset(ws, 0, sizeof *ws);
    ws->L = o->segment;
    ws->nf = ns_psd_nfreq(ws->L);
    ws->step = welch_step(ws->L, o->overlap);
    int n = (int)ws->L;
    ns_fft_cache *cc = cache_or_temp(c, &ws->temp);
    if (!cc) return ns_errmsg(err, errlen, "%s: out of memory", who);
    ws->plan = ns_fft_cache_plan(cc, NS_FFT_R2C, 1, &n, err, errlen);
    if (!ws->plan) {
        welch_ws_free(ws);
        return -1;
    }
    ws->seg = ns_fft_alloc_real((size_t)ws->L);
    ws->spec = ns_fft_alloc_complex((size_t)ws->nf);
    ws->win = malloc((size_t)ws->L * sizeof *ws->win);
    if (!ws->seg || !ws->spec || !ws->win) {
        welch_ws_free(ws);
        return ns_errmsg(err, errlen, "%s: out of memory", who);
    }
    ws->wss = make_window(o->window, ws->L, ws->win);
    return 0;
}

/* acc[nf] += |X|^2 of every whole segment of x (stride apart); returns the segment count. */
static long welch_accumulate(welch_ws *ws, const double *x, long n, size_t stride,
                             const ns_welch_opts *o, double *acc)
{
    long L = ws->L, nseg = 0;
    double *restrict seg = ws->seg;
    const double *restrict win = ws->win;
    for (long s = 0; s + L <= n; s += ws->step, nseg++) {
        const double *p = x + (size_t)s * stride;
        if (stride == 1) memcpy(seg, p, (size_t)L * sizeof *seg);
        else for (long i = 0; i < L; i++) seg[i] = p[(size_t)i * stride];
        detrend_1d(seg, L, o->detrend);
        if (o->window != NS_WINDOW_RECT)
            for (long i = 0; i < L; i++) seg[i] *= win[i];
        ns_fft_r2c(ws->plan, seg, ws->spec);
        const double *restrict z = (const double *)ws->spec; /* interleaved re, im */
        for (long k = 0; k < ws->nf; k++)
            acc[k] += z[2 * k] * z[2 * k] + z[2 * k + 1] * z[2 * k + 1];
    }
    return nseg;
}

/* psd[k] = acc[k] * scale, doubled off DC and Nyquist. */
static void one_sided(double *psd, const double *acc, long nf, long L, double scale)
{
    for (long k = 0; k < nf; k++) psd[k] = acc[k] * scale * (doubled(k, L) ? 2.0 : 1.0);
}

static void fill_freq(double *freq_hz, long nf, long L, double fs)
{
    if (!freq_hz) return;
    for (long k = 0; k < nf; k++) freq_hz[k] = (double)k * fs / (double)L;
}

int ns_psd_welch(ns_fft_cache *c, const double *x, long n, const ns_welch_opts *o, double *psd,
                 double *freq_hz, char *err, size_t errlen)
{
    if (!x || !psd) return ns_errmsg(err, errlen, "welch: no input or no output array");
    if (welch_check("welch", n, o, err, errlen)) return -1;
    if (check_finite(x, (size_t)n, "welch", "x", err, errlen)) return -1;

    welch_ws ws;
    if (welch_ws_init(&ws, c, o, "welch", err, errlen)) return -1;
    for (long k = 0; k < ws.nf; k++) psd[k] = 0;
    long nseg = welch_accumulate(&ws, x, n, 1, o, psd);
    one_sided(psd, psd, ws.nf, ws.L, 1.0 / (o->fs_hz * ws.wss * (double)nseg));
    fill_freq(freq_hz, ws.nf, ws.L, o->fs_hz);
    welch_ws_free(&ws);
    return 0;
}

int ns_psd_sites(ns_fft_cache *c, const double *movie, long nt, long n_sites,
                 const ns_welch_opts *o, int all, double *psd, double *freq_hz, char *err,
                 size_t errlen)
{
    if (!movie || !psd) return ns_errmsg(err, errlen, "site psd: no input or no output array");
    if (n_sites < 1) return ns_errmsg(err, errlen, "site psd: %ld sites, need at least 1", n_sites);
    if (welch_check("site psd", nt, o, err, errlen)) return -1;
    if ((size_t)nt > SIZE_MAX / sizeof(double) / (size_t)n_sites) {
        ns_errmsg(err, errlen, "site psd: movie of %ld x %ld samples is too large", nt, n_sites);
        return -1;
    }
    if (check_finite(movie, (size_t)nt * (size_t)n_sites, "site psd", "movie", err, errlen))
        return -1;

    welch_ws ws;
    if (welch_ws_init(&ws, c, o, "site psd", err, errlen)) return -1;
    long nf = ws.nf, nseg = 0;
    double *acc = calloc((size_t)nf, sizeof *acc);
    if (!acc) {
        welch_ws_free(&ws);
        return ns_errmsg(err, errlen, "site psd: out of memory");
    }
    double scale = 1.0 / (o->fs_hz * ws.wss);
    for (long s = 0; s < n_sites; s++) {
        if (all) memset(acc, 0, (size_t)nf * sizeof *acc);
        nseg = welch_accumulate(&ws, movie + s, nt, (size_t)n_sites, o, acc);
        if (all) one_sided(psd + (size_t)s * (size_t)nf, acc, nf, ws.L, scale / (double)nseg);
    }
    if (!all) one_sided(psd, acc, nf, ws.L, scale / ((double)nseg * (double)n_sites));
    fill_freq(freq_hz, nf, ws.L, o->fs_hz);
    free(acc);
    welch_ws_free(&ws);
    return 0;
}

/* ---- DPSS tapers ---------------------------------------------------------------------------- */

/* The tridiagonal matrix that commutes with the time-frequency concentration operator (Slepian
 * 1978): diag d[i] = ((n-1-2i)/2)^2 cos(2 pi W), off-diagonal e[i] = i (n-i) / 2 between rows i-1
 * and i. Its eigenvectors are the DPSS, largest eigenvalue first. */

enum { LANES = 8 };

/* Eigenvalues number m[0..nl-1] (ascending, from 0; nl <= LANES) by bisection inside the
 * Gershgorin interval [glo, ghi]. A Sturm count (eigenvalues below x, from the signs of the
 * LDL^T pivots) is a chain of dependent divisions, so LANES independent chains run in lockstep
 * in one pass over the matrix: the divisions overlap instead of waiting on each other. */
static void bisect_eigenvalues(const double *d, const double *e2, long n, const long *m, int nl,
                               double glo, double ghi, double pivmin, double *theta)
{
    double lo[LANES], hi[LANES], x[LANES], q[LANES], cnt[LANES];
    long want[LANES];
    for (int l = 0; l < LANES; l++) {
        lo[l] = glo;
        hi[l] = ghi;
        want[l] = m[l < nl ? l : 0]; /* spare lanes repeat the first */
    }
    for (int it = 0; it < BISECT_MAX; it++) {
        int busy = 0;
        for (int l = 0; l < LANES; l++) {
            x[l] = 0.5 * (lo[l] + hi[l]);
            int open = x[l] > lo[l] && x[l] < hi[l] &&
                       hi[l] - lo[l] > 2 * DBL_EPSILON * fmax(fabs(lo[l]), fabs(hi[l])) + pivmin;
            busy |= open && l < nl;
            q[l] = d[0] - x[l];
            q[l] = fabs(q[l]) < pivmin ? -pivmin : q[l];
            cnt[l] = q[l] < 0;
        }
        if (!busy) break;
        for (long i = 1; i < n; i++)
            for (int l = 0; l < LANES; l++) {
                double t = d[i] - x[l] - e2[i] / q[l];
                q[l] = fabs(t) < pivmin ? -pivmin : t;
                cnt[l] += q[l] < 0;
            }
        for (int l = 0; l < LANES; l++) {
            if (cnt[l] > (double)want[l]) hi[l] = x[l];
            else lo[l] = x[l];
        }
    }
    for (int l = 0; l < nl; l++) theta[l] = 0.5 * (lo[l] + hi[l]);
}

/* LU with partial pivoting of the tridiagonal (dl, dd, du) in place (LAPACK dgttrf's scheme):
 * U gains a second superdiagonal du2, piv[i] marks a row swap at step i. Zero pivots become
 * tiny, which is what inverse iteration wants of a matrix shifted onto an eigenvalue. */
static void tri_factor(long n, double *dl, double *dd, double *du, double *du2,
                       unsigned char *piv, double tiny)
{
    for (long i = 0; i + 1 < n; i++) {
        if (i + 2 < n) du2[i] = 0;
        if (fabs(dd[i]) >= fabs(dl[i])) {
            piv[i] = 0;
            if (dd[i] == 0) dd[i] = tiny;
            double f = dl[i] / dd[i];
            dl[i] = f;
            dd[i + 1] -= f * du[i];
        } else {
            piv[i] = 1;
            double f = dd[i] / dl[i];
            dd[i] = dl[i];
            dl[i] = f;
            double t = du[i];
            du[i] = dd[i + 1];
            dd[i + 1] = t - f * dd[i + 1];
            if (i + 2 < n) {
                du2[i] = du[i + 1];
                du[i + 1] = -f * du[i + 1];
            }
        }
    }
    if (dd[n - 1] == 0) dd[n - 1] = tiny;
}

static void tri_solve(long n, const double *dl, const double *dd, const double *du,
                      const double *du2, const unsigned char *piv, double *b)
{
    for (long i = 0; i + 1 < n; i++) {
        if (!piv[i]) {
            b[i + 1] -= dl[i] * b[i];
        } else {
            double t = b[i];
            b[i] = b[i + 1];
            b[i + 1] = t - dl[i] * b[i];
        }
    }
    b[n - 1] /= dd[n - 1];
    if (n > 1) b[n - 2] = (b[n - 2] - du[n - 2] * b[n - 1]) / dd[n - 2];
    for (long i = n - 3; i >= 0; i--)
        b[i] = (b[i] - du[i] * b[i + 1] - du2[i] * b[i + 2]) / dd[i];
}

static void normalise(double *v, long n)
{
    double ss = 0;
    for (long i = 0; i < n; i++) ss += v[i] * v[i];
    double s = ss > 0 ? 1.0 / sqrt(ss) : 0;
    for (long i = 0; i < n; i++) v[i] *= s;
}

/* Concentrations lambda_j = v' A v with A[i][l] = sin(2 pi W (i-l)) / (pi (i-l)), from each
 * taper's autocorrelation (zero-padded FFT, length 2n). */
static int dpss_lambda(ns_fft_cache *c, long n, double w, int k, const double *tapers,
                       double *lambda, char *err, size_t errlen)
{
    int m = (int)(2 * n);
    const ns_fft_plan *fw = ns_fft_cache_plan(c, NS_FFT_R2C, 1, &m, err, errlen);
    const ns_fft_plan *bw = ns_fft_cache_plan(c, NS_FFT_C2R, 1, &m, err, errlen);
    double *r = ns_fft_alloc_real((size_t)m);
    fftw_complex *z = ns_fft_alloc_complex((size_t)n + 1);
    int rc = 0;
    if (!fw || !bw || !r || !z) {
        if (fw && bw) ns_errmsg(err, errlen, "dpss: out of memory");
        rc = -1;
        goto done;
    }
    for (int j = 0; j < k; j++) {
        memcpy(r, tapers + (size_t)j * (size_t)n, (size_t)n * sizeof *r);
        memset(r + n, 0, (size_t)n * sizeof *r);
        ns_fft_r2c(fw, r, z);
        for (long q = 0; q <= n; q++) {
            z[q][0] = z[q][0] * z[q][0] + z[q][1] * z[q][1];
            z[q][1] = 0;
        }
        ns_fft_c2r(bw, z, r);
        double lam = 2 * w * r[0] / m;
        for (long l = 1; l < n; l++)
            lam += 2 * (r[l] / m) * sin(TWO_PI * w * (double)l) / (PI * (double)l);
        lambda[j] = lam;
    }
done:
    ns_fft_free(r);
    ns_fft_free(z);
    return rc;
}

int ns_dpss(ns_fft_cache *c, long n, double nw, int k, double *tapers, double *lambda, char *err,
            size_t errlen)
{
    if (!tapers) return ns_errmsg(err, errlen, "dpss: no output array");
    if (n < 2 || n > INT32_MAX / 2) {
        ns_errmsg(err, errlen, "dpss: length %ld outside 2..%d", n, INT32_MAX / 2);
        return -1;
    }
    if (!(nw > 0) || !(nw < 0.5 * (double)n)) {
        ns_errmsg(err, errlen, "dpss: time-bandwidth nw = %g must be in (0, n/2) (n = %ld)", nw, n);
        return -1;
    }
    if (k < 1 || k > n) return ns_errmsg(err, errlen, "dpss: %d tapers, need 1..%ld", k, n);
    double w = nw / (double)n, cw = cos(TWO_PI * w);
    size_t un = (size_t)n;
    double *d = malloc(un * sizeof *d), *e = malloc(un * sizeof *e), *e2 = malloc(un * sizeof *e2);
    double *dl = malloc(un * sizeof *dl), *dd = malloc(un * sizeof *dd);
    double *du = malloc(un * sizeof *du), *du2 = malloc(un * sizeof *du2);
    unsigned char *piv = malloc(un);
    int rc = -1;
    if (!d || !e || !e2 || !dl || !dd || !du || !du2 || !piv) {
        ns_errmsg(err, errlen, "dpss: out of memory");
        goto done;
    }
    double emax2 = 0, lo = INFINITY, hi = -INFINITY;
    e[0] = e2[0] = 0;
    for (long i = 0; i < n; i++) {
        double h = 0.5 * (double)(n - 1 - 2 * i);
        d[i] = h * h * cw;
        if (i > 0) {
            e[i] = 0.5 * (double)i * (double)(n - i);
            e2[i] = e[i] * e[i];
            emax2 = fmax(emax2, e2[i]);
        }
    }
    double tnorm = 0;
    for (long i = 0; i < n; i++) {
        double r = fabs(e[i]) + (i + 1 < n ? fabs(e[i + 1]) : 0);
        lo = fmin(lo, d[i] - r);
        hi = fmax(hi, d[i] + r);
        tnorm = fmax(tnorm, fabs(d[i]) + r);
    }
    double pivmin = DBL_MIN * fmax(1.0, emax2);
    double tiny = DBL_EPSILON * tnorm;
    uint64_t rng = 0x9E3779B97F4A7C15ull; /* fixed start vectors: results do not vary by run */

    double theta_lane[LANES];
    for (int j = 0; j < k; j++) {
        if (j % LANES == 0) {
            long m[LANES];
            int nl = k - j < LANES ? k - j : LANES;
            for (int l = 0; l < nl; l++) m[l] = n - 1 - (j + l);
            bisect_eigenvalues(d, e2, n, m, nl, lo, hi, pivmin, theta_lane);
        }
        double theta = theta_lane[j % LANES];
        double *v = tapers + (size_t)j * un;
        for (long i = 0; i < n; i++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            v[i] = (double)(rng >> 11) * 0x1.0p-53 - 0.5;
        }
        for (long i = 0; i + 1 < n; i++) {
            dl[i] = du[i] = e[i + 1];
            dd[i] = d[i] - theta;
        }
        dd[n - 1] = d[n - 1] - theta;
        tri_factor(n, dl, dd, du, du2, piv, tiny);
        for (int round = 0; round < INVIT_ROUNDS; round++) {
            normalise(v, n);
            tri_solve(n, dl, dd, du, du2, piv, v);
            /* Keep clear of the tapers already found (eigenvalues are distinct, so this only
             * removes rounding). */
            for (int q = 0; q < j; q++) {
                const double *u = tapers + (size_t)q * un;
                double dot = 0;
                for (long i = 0; i < n; i++) dot += u[i] * v[i];
                for (long i = 0; i < n; i++) v[i] -= dot * u[i];
            }
        }
        normalise(v, n);
        /* Sign: symmetric tapers sum positive, antisymmetric ones start positive. */
        double s = 0;
        for (long i = 0; i < n; i++)
            s += (j % 2 == 0 ? 1.0 : 0.5 * (double)(n - 1) - (double)i) * v[i];
        if (s < 0)
            for (long i = 0; i < n; i++) v[i] = -v[i];
    }
    rc = 0;
    if (lambda) {
        ns_fft_cache *temp, *cc = cache_or_temp(c, &temp);
        if (!cc) {
            ns_errmsg(err, errlen, "dpss: out of memory");
            rc = -1;
        } else {
            rc = dpss_lambda(cc, n, w, k, tapers, lambda, err, errlen);
        }
        ns_fft_cache_free(temp);
    }
done:
    free(d);
    free(e);
    free(e2);
    free(dl);
    free(dd);
    free(du);
    free(du2);
    free(piv);
    return rc;
}

/* ---- Multitaper ----------------------------------------------------------------------------- */

int ns_psd_multitaper(ns_fft_cache *c, const double *x, long n, const ns_mtm_opts *o,
                      double *psd, double *freq_hz, char *err, size_t errlen)
{
    if (!x || !psd || !o) return ns_errmsg(err, errlen, "multitaper: no input, output or options");
    if (!(o->fs_hz > 0) || !isfinite(o->fs_hz)) {
        ns_errmsg(err, errlen, "multitaper: sampling rate fs_hz = %g must be positive and finite",
                o->fs_hz);
        return -1;
    }
    if (n < 2) return ns_errmsg(err, errlen, "multitaper: signal of %ld samples is shorter than 2", n);
    if (!(o->nw > 0) || !(o->nw < 0.5 * (double)n)) {
        ns_errmsg(err, errlen, "multitaper: time-bandwidth nw = %g must be in (0, n/2) (n = %ld)",
                o->nw, n);
        return -1;
    }
    int k = o->k;
    if (k == 0) {
        double kk = floor(2 * o->nw) - 1;
        k = kk < 1 ? 1 : kk > (double)n ? (int)n : (int)kk;
    }
    if (k < 1 || k > n) return ns_errmsg(err, errlen, "multitaper: %d tapers, need 1..%ld", k, n);
    if (!valid_detrend(o->detrend)) {
        ns_errmsg(err, errlen, "multitaper: unknown detrend %d", (int)o->detrend);
        return -1;
    }
    if (check_finite(x, (size_t)n, "multitaper", "x", err, errlen)) return -1;

    ns_fft_cache *temp, *cc = cache_or_temp(c, &temp);
    size_t un = (size_t)n, nf = (size_t)ns_psd_nfreq(n);
    double *xd = malloc(un * sizeof *xd);
    double *tap = malloc((size_t)k * un * sizeof *tap);
    double *lam = malloc((size_t)k * sizeof *lam);
    double *sk = malloc((size_t)k * nf * sizeof *sk);
    double *buf = ns_fft_alloc_real(un);
    fftw_complex *z = ns_fft_alloc_complex(nf);
    int rc = -1, in = (int)n;
    const ns_fft_plan *plan = NULL;
    if (!cc || !xd || !tap || !lam || !sk || !buf || !z) {
        ns_errmsg(err, errlen, "multitaper: out of memory");
        goto done;
    }
    if (!(plan = ns_fft_cache_plan(cc, NS_FFT_R2C, 1, &in, err, errlen))) goto done;
    if (ns_dpss(cc, n, o->nw, k, tap, o->adaptive ? lam : NULL, err, errlen)) goto done;

    memcpy(xd, x, un * sizeof *xd);
    detrend_1d(xd, n, o->detrend);
    /* Two-sided eigenspectra |sum v x e^{-i..}|^2 / fs: unit-energy tapers, as Welch's
     * division by fs * sum(w^2). */
    for (int j = 0; j < k; j++) {
        const double *v = tap + (size_t)j * un;
        for (size_t i = 0; i < un; i++) buf[i] = v[i] * xd[i];
        ns_fft_r2c(plan, buf, z);
        double *s = sk + (size_t)j * nf;
        for (size_t q = 0; q < nf; q++) s[q] = (z[q][0] * z[q][0] + z[q][1] * z[q][1]) / o->fs_hz;
    }
    if (!o->adaptive) {
        for (size_t q = 0; q < nf; q++) {
            double sum = 0;
            for (int j = 0; j < k; j++) sum += sk[(size_t)j * nf + q];
            psd[q] = sum / k;
        }
    } else {
        /* Thomson's adaptive weights (Percival & Walden 1993, eq. 370a): the broad-band leakage
         * of taper j is bounded by (1 - lambda_j) times the white level of the data variance. */
        double var = 0;
        for (size_t i = 0; i < un; i++) var += xd[i] * xd[i];
        double white = var / (double)n / o->fs_hz;
        for (size_t q = 0; q < nf; q++) {
            double plain = 0;
            for (int j = 0; j < k; j++) plain += sk[(size_t)j * nf + q];
            plain /= k;
            double s = k >= 2 ? 0.5 * (sk[q] + sk[nf + q]) : sk[q];
            for (int it = 0; it < ADAPT_MAX; it++) {
                double num = 0, den = 0;
                for (int j = 0; j < k; j++) {
                    double b = s / (lam[j] * s + (1 - lam[j]) * white);
                    double wgt = b * b * lam[j];
                    num += wgt * sk[(size_t)j * nf + q];
                    den += wgt;
                }
                double next = den > 0 ? num / den : plain;
                int done_ = fabs(next - s) <= 1e-10 * fabs(next);
                s = next;
                if (done_ || den <= 0) break;
            }
            psd[q] = s;
        }
    }
    for (size_t q = 0; q < nf; q++)
        if (doubled((long)q, n)) psd[q] *= 2;
    fill_freq(freq_hz, (long)nf, n, o->fs_hz);
    rc = 0;
done:
    free(xd);
    free(tap);
    free(lam);
    free(sk);
    ns_fft_free(buf);
    ns_fft_free(z);
    ns_fft_cache_free(temp);
    return rc;
}

/* ---- Lattices ------------------------------------------------------------------------------- */

/* fftshift-ed index i of n -> FFT index of the same wavenumber (i - n/2). */
static long unshift(long i, long n)
{
    long m = (i - n / 2) % n;
    return m < 0 ? m + n : m;
}

static void fill_k_axis(double *k, int n, double dx_um)
{
    if (!k) return;
    double dk = 1000.0 / ((double)n * dx_um);
    for (int i = 0; i < n; i++) k[i] = (double)(i - n / 2) * dk;
}

/* |X|^2 at FFT indices (a, b, c) of an r2c output z (interleaved re, im) of sizes (n0, n1, n2),
 * whose last dimension holds only 0..n2/2: the rest is the conjugate at (-a, -b, -c). */
static double power_at(const double *z, long n0, long n1, long n2, long a, long b, long c)
{
    long nh = n2 / 2 + 1;
    if (c >= nh) {
        a = (n0 - a) % n0;
        b = (n1 - b) % n1;
        c = n2 - c;
    }
    const double *v = z + 2 * (((size_t)a * (size_t)n1 + (size_t)b) * (size_t)nh + (size_t)c);
    return v[0] * v[0] + v[1] * v[1];
}

static int lattice_check(const char *who, long nt, int nx, int ny, double dx_um, char *err,
                         size_t errlen)
{
    if (nx < 1 || ny < 1 || nt < 1) {
        ns_errmsg(err, errlen, "%s: lattice sizes must be positive (nx = %d, ny = %d)", who, nx, ny);
        return -1;
    }
    if (!(dx_um > 0) || !isfinite(dx_um)) {
        ns_errmsg(err, errlen, "%s: lattice spacing dx_um = %g must be positive and finite", who,
                dx_um);
        return -1;
    }
    if ((size_t)nt > SIZE_MAX / 32 / (size_t)nx / (size_t)ny) {
        ns_errmsg(err, errlen, "%s: lattice too large", who);
        return -1;
    }
    return 0;
}

int ns_psd_spatial2d(ns_fft_cache *c, const double *field, int nx, int ny, double dx_um,
                     ns_detrend detrend, double *power, double *kx, double *ky, char *err,
                     size_t errlen)
{
    const char *who = "spatial psd";
    if (!field || !power) return ns_errmsg(err, errlen, "%s: no input or no output array", who);
    if (lattice_check(who, 1, nx, ny, dx_um, err, errlen)) return -1;
    if (!valid_detrend(detrend)) return ns_errmsg(err, errlen, "%s: unknown detrend %d", who, (int)detrend);
    size_t np = (size_t)nx * (size_t)ny, nh = (size_t)(ny / 2 + 1);
    if (check_finite(field, np, who, "field", err, errlen)) return -1;

    ns_fft_cache *temp, *cc = cache_or_temp(c, &temp);
    double *buf = ns_fft_alloc_real(np);
    fftw_complex *z = ns_fft_alloc_complex((size_t)nx * nh);
    int rc = -1, dims[2] = {nx, ny};
    const ns_fft_plan *plan = NULL;
    if (!cc || !buf || !z) {
        ns_errmsg(err, errlen, "%s: out of memory", who);
        goto done;
    }
    if (!(plan = ns_fft_cache_plan(cc, NS_FFT_R2C, 2, dims, err, errlen))) goto done;

    memcpy(buf, field, np * sizeof *buf);
    if (detrend != NS_DETREND_NONE) {
        double mean = 0;
        for (size_t i = 0; i < np; i++) mean += buf[i];
        mean /= (double)np;
        double bx = 0, by = 0;
        if (detrend == NS_DETREND_LINEAR) {
            /* Centred coordinates are orthogonal on the full grid: fit each slope alone. */
            double cx = 0.5 * (nx - 1), cy = 0.5 * (ny - 1), sx = 0, sy = 0;
            for (int i = 0; i < nx; i++)
                for (int j = 0; j < ny; j++) {
                    double f = buf[(size_t)i * (size_t)ny + (size_t)j];
                    sx += (i - cx) * f;
                    sy += (j - cy) * f;
                }
            double sxx = (double)ny * nx * ((double)nx * nx - 1) / 12.0;
            double syy = (double)nx * ny * ((double)ny * ny - 1) / 12.0;
            bx = sxx > 0 ? sx / sxx : 0;
            by = syy > 0 ? sy / syy : 0;
            for (int i = 0; i < nx; i++)
                for (int j = 0; j < ny; j++)
                    buf[(size_t)i * (size_t)ny + (size_t)j] -= bx * (i - cx) + by * (j - cy);
        }
        for (size_t i = 0; i < np; i++) buf[i] -= mean;
    }
    ns_fft_r2c(plan, buf, z);
    /* Density per (cycles/mm)^2: |X|^2 / (N^2 dkx dky) = |X|^2 dx_mm^2 / N. */
    double dxm = dx_um / 1000.0, scale = dxm * dxm / (double)np;
    for (long i = 0; i < nx; i++) {
        long a = unshift(i, nx);
        for (long j = 0; j < ny; j++)
            power[(size_t)i * (size_t)ny + (size_t)j] =
                scale * power_at((const double *)z, 1, nx, ny, 0, a, unshift(j, ny));
    }
    fill_k_axis(kx, nx, dx_um);
    fill_k_axis(ky, ny, dx_um);
    rc = 0;
done:
    ns_fft_free(buf);
    ns_fft_free(z);
    ns_fft_cache_free(temp);
    return rc;
}

int ns_psd_spacetime(ns_fft_cache *c, const double *movie, int nt, int nx, int ny,
                     const ns_spacetime_opts *o, double *power, double *kx, double *ky,
                     double *f_hz, char *err, size_t errlen)
{
    const char *who = "space-time psd";
    if (!movie || !power || !o) return ns_errmsg(err, errlen, "%s: no input, output or options", who);
    if (nt < 2) return ns_errmsg(err, errlen, "%s: %d frames, need at least 2", who, nt);
    if (lattice_check(who, nt, nx, ny, o->dx_um, err, errlen)) return -1;
    if (!(o->dt_ms > 0) || !isfinite(o->dt_ms)) {
        ns_errmsg(err, errlen, "%s: frame interval dt_ms = %g must be positive and finite", who,
                o->dt_ms);
        return -1;
    }
    if (!valid_window(o->window) || !valid_detrend(o->detrend)) {
        ns_errmsg(err, errlen, "%s: unknown window %d or detrend %d", who, (int)o->window,
                (int)o->detrend);
        return -1;
    }
    size_t ns = (size_t)nx * (size_t)ny, ntot = (size_t)nt * ns;
    size_t nh = (size_t)(ny / 2 + 1);
    if (check_finite(movie, ntot, who, "movie", err, errlen)) return -1;

    ns_fft_cache *temp, *cc = cache_or_temp(c, &temp);
    double *buf = ns_fft_alloc_real(ntot);
    fftw_complex *z = ns_fft_alloc_complex((size_t)nt * (size_t)nx * nh);
    double *w = malloc((size_t)nt * sizeof *w);
    double *m0 = calloc(ns, sizeof *m0), *m1 = calloc(ns, sizeof *m1);
    int rc = -1, dims[3] = {nt, nx, ny};
    const ns_fft_plan *plan = NULL;
    if (!cc || !buf || !z || !w || !m0 || !m1) {
        ns_errmsg(err, errlen, "%s: out of memory", who);
        goto done;
    }
    if (!(plan = ns_fft_cache_plan(cc, NS_FFT_R2C, 3, dims, err, errlen))) goto done;

    memcpy(buf, movie, ntot * sizeof *buf);
    if (o->detrend != NS_DETREND_NONE) {
        /* Per-site mean (m0) and slope (m1) along time, frame by frame for contiguous access. */
        double tc = 0.5 * (nt - 1);
        for (int t = 0; t < nt; t++) {
            const double *row = buf + (size_t)t * ns;
            for (size_t s = 0; s < ns; s++) {
                m0[s] += row[s];
                m1[s] += (t - tc) * row[s];
            }
        }
        double stt = (double)nt * ((double)nt * nt - 1) / 12.0;
        for (size_t s = 0; s < ns; s++) {
            m0[s] /= nt;
            m1[s] = o->detrend == NS_DETREND_LINEAR ? m1[s] / stt : 0;
        }
        for (int t = 0; t < nt; t++) {
            double *row = buf + (size_t)t * ns;
            for (size_t s = 0; s < ns; s++) row[s] -= m0[s] + m1[s] * (t - tc);
        }
    }
    double wss = make_window(o->window, nt, w);
    if (o->window != NS_WINDOW_RECT)
        for (int t = 0; t < nt; t++) {
            double *row = buf + (size_t)t * ns;
            for (size_t s = 0; s < ns; s++) row[s] *= w[t];
        }
    ns_fft_r2c(plan, buf, z);

    /* Density per (cycles/mm)^2 per Hz: |X|^2 dx_mm^2 dt_s / (nx ny sum(w^2)). FFTW puts the
     * wave cos(2 pi (k.x - f t)) at (-k, f) for f > 0, so the k indices are mirrored. */
    double dxm = o->dx_um / 1000.0, dts = o->dt_ms / 1000.0;
    double scale = dxm * dxm * dts / ((double)ns * wss);
    long nf = ns_psd_nfreq(nt);
    for (long f = 0; f < nf; f++) {
        double sf = scale * (doubled(f, nt) ? 2.0 : 1.0);
        for (long i = 0; i < nx; i++) {
            long a = (nx - unshift(i, nx)) % nx;
            double *out = power + ((size_t)f * (size_t)nx + (size_t)i) * (size_t)ny;
            for (long j = 0; j < ny; j++)
                out[j] = sf * power_at((const double *)z, nt, nx, ny, f, a,
                                       (ny - unshift(j, ny)) % ny);
        }
    }
    fill_k_axis(kx, nx, o->dx_um);
    fill_k_axis(ky, ny, o->dx_um);
    fill_freq(f_hz, nf, nt, 1000.0 / o->dt_ms);
    rc = 0;
done:
    ns_fft_free(buf);
    ns_fft_free(z);
    free(w);
    free(m0);
    free(m1);
    ns_fft_cache_free(temp);
    return rc;
}

int ns_psd_radial(const double *power, long nf, int nx, int ny, const double *kx,
                  const double *ky, int nbins, double dk_bin, double *out, double *k_center,
                  char *err, size_t errlen)
{
    if (!power || !kx || !ky || !out) {
        ns_errmsg(err, errlen, "radial psd: no power, axes or output array");
        return -1;
    }
    if (nf < 1 || nx < 1 || ny < 1) {
        ns_errmsg(err, errlen, "radial psd: sizes must be positive (nf = %ld, nx = %d, ny = %d)",
                nf, nx, ny);
        return -1;
    }
    if (nbins < 1) return ns_errmsg(err, errlen, "radial psd: %d bins, need at least 1", nbins);
    if (!(dk_bin > 0)) {
        double dkx = nx > 1 ? fabs(kx[1] - kx[0]) : INFINITY;
        double dky = ny > 1 ? fabs(ky[1] - ky[0]) : INFINITY;
        dk_bin = fmin(dkx, dky);
    }
    if (!(dk_bin > 0) || !isfinite(dk_bin)) {
        ns_errmsg(err, errlen, "radial psd: bin width must be positive and finite (give dk_bin "
                             "for a 1 x 1 lattice)");
        return -1;
    }
    size_t ns = (size_t)nx * (size_t)ny;
    int *bin = malloc(ns * sizeof *bin);
    long *count = calloc((size_t)nbins, sizeof *count);
    if (!bin || !count) {
        free(bin);
        free(count);
        ns_errmsg(err, errlen, "radial psd: out of memory");
        return -1;
    }
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++) {
            double b = floor(hypot(kx[i], ky[j]) / dk_bin + 0.5);
            int ib = b < nbins ? (int)b : -1;
            bin[(size_t)i * (size_t)ny + (size_t)j] = ib;
            if (ib >= 0) count[ib]++;
        }
    for (long f = 0; f < nf; f++) {
        double *o = out + (size_t)f * (size_t)nbins;
        const double *p = power + (size_t)f * ns;
        for (int b = 0; b < nbins; b++) o[b] = 0;
        for (size_t s = 0; s < ns; s++)
            if (bin[s] >= 0) o[bin[s]] += p[s];
        for (int b = 0; b < nbins; b++) o[b] = count[b] ? o[b] / (double)count[b] : 0;
    }
    if (k_center)
        for (int b = 0; b < nbins; b++) k_center[b] = b * dk_bin;
    free(bin);
    free(count);
    return 0;
}
