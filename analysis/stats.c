/* analysis/stats.c — spike statistics on a time-sorted spike list.
 * Because the spikes arrive in time order, bin indices never decrease: one pass keeps only the
 * current bin's counts, folding them into per-neuron sums (and pair products) when the bin ends. */
#include "analysis/stats.h"
#include "base/errmsg.h"
#include "base/xoshiro.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TWO_PI 6.283185307179586476925286766559
#define ROUNDOFF 1e-9 /* relative slack when counting whole bins or snapping to a grid */

/* ---- errors and checks ------------------------------------------------------------------ */

static int oom(char *err, size_t errlen, const char *what)
{
    return ns_errmsg(err, errlen, "%s: out of memory", what);
}

static int check_spikes(const ns_stats_spikes *s, char *err, size_t errlen)
{
    if (!s) return ns_errmsg(err, errlen, "no spike record given");
    if (s->n_neurons <= 0)
        return ns_errmsg(err, errlen, "neuron count %ld must be positive", s->n_neurons);
    if (!isfinite(s->t0_ms) || !isfinite(s->t1_ms))
        return ns_errmsg(err, errlen, "recording interval [%g, %g) ms is not finite", s->t0_ms,
                    s->t1_ms);
    if (s->t1_ms <= s->t0_ms)
        return ns_errmsg(err, errlen, "recording interval [%g, %g) ms is empty (t1 <= t0)", s->t0_ms,
                    s->t1_ms);
    if (s->n < 0) return ns_errmsg(err, errlen, "spike count %ld is negative", s->n);
    if (s->n > 0 && (!s->t_ms || !s->neuron))
        return ns_errmsg(err, errlen, "%ld spikes but no time or neuron array", s->n);
    for (long k = 0; k < s->n; k++) {
        double t = s->t_ms[k];
        long id = s->neuron[k];
        if (!isfinite(t)) return ns_errmsg(err, errlen, "spike %ld: time %g ms is not finite", k, t);
        if (id < 0 || id >= s->n_neurons)
            return ns_errmsg(err, errlen, "spike %ld: neuron id %ld out of range [0, %ld)", k, id,
                        s->n_neurons);
        if (k > 0 && t < s->t_ms[k - 1])
            return ns_errmsg(err, errlen,
                        "spikes not sorted by time: spike %ld at %.17g ms follows %.17g ms", k,
                        t, s->t_ms[k - 1]);
    }
    return 0;
}

/* Resolve pop (NULL: all neurons) into a checked id range. */
static int check_pop(const ns_stats_spikes *s, const ns_stats_pop *pop, long *first, long *count,
                     char *err, size_t errlen)
{
    if (!pop) {
        *first = 0;
        *count = s->n_neurons;
        return 0;
    }
    const char *name = pop->name ? pop->name : "(unnamed)";
    if (pop->count <= 0)
        return ns_errmsg(err, errlen, "population '%s': neuron count %ld must be positive", name,
                    pop->count);
    if (pop->first < 0 || pop->first >= s->n_neurons || pop->count > s->n_neurons - pop->first)
        return ns_errmsg(err, errlen, "population '%s': ids [%ld, %ld) outside [0, %ld)", name,
                    pop->first, pop->first + pop->count, s->n_neurons);
    *first = pop->first;
    *count = pop->count;
    return 0;
}

static int check_finite(double x, const char *what, char *err, size_t errlen)
{
    if (!isfinite(x)) return ns_errmsg(err, errlen, "%s %g is not finite", what, x);
    return 0;
}

/* Whole bins of width bin_ms in [t0, t1), with at least min_bins of them. */
static long check_bins(const ns_stats_spikes *s, double bin_ms, long min_bins, char *err,
                       size_t errlen)
{
    if (check_finite(bin_ms, "bin width (ms)", err, errlen)) return -1;
    if (bin_ms <= 0) return ns_errmsg(err, errlen, "bin width %g ms must be positive", bin_ms);
    long nb = ns_stats_nbins(s->t0_ms, s->t1_ms, bin_ms);
    if (nb < 0) return ns_errmsg(err, errlen, "bin width %g ms gives too many bins", bin_ms);
    if (nb < min_bins)
        return ns_errmsg(err, errlen,
                    "bin width %g ms leaves %ld whole bin(s) in [%g, %g) ms; need at least %ld",
                    bin_ms, nb, s->t0_ms, s->t1_ms, min_bins);
    return nb;
}

/* Check the n_ids selected neurons (NULL: all) and mark them in a new array *sel of n_neurons
 * bytes, which the caller frees; returns how many distinct neurons are selected, or -1 (*sel
 * NULL; who names the caller in an out-of-memory message). */
static long select_ids(const ns_stats_spikes *s, const long *ids, long n_ids, const char *who,
                       unsigned char **sel, char *err, size_t errlen)
{
    *sel = NULL;
    if (ids && n_ids <= 0) return ns_errmsg(err, errlen, "neuron selection is empty (%ld ids)", n_ids);
    for (long k = 0; ids && k < n_ids; k++)
        if (ids[k] < 0 || ids[k] >= s->n_neurons)
            return ns_errmsg(err, errlen, "selected neuron %ld: id %ld out of range [0, %ld)", k,
                        ids[k], s->n_neurons);
    unsigned char *m = *sel = malloc((size_t)s->n_neurons);
    if (!m) return oom(err, errlen, who);
    memset(m, !ids, (size_t)s->n_neurons);
    if (!ids) return s->n_neurons;
    long distinct = 0;
    for (long k = 0; k < n_ids; k++) {
        distinct += !m[ids[k]];
        m[ids[k]] = 1;
    }
    return distinct;
}

static int in_interval(const ns_stats_spikes *s, double t)
{
    return t >= s->t0_ms && t < s->t1_ms;
}

long ns_stats_nbins(double t0_ms, double t1_ms, double bin_ms)
{
    if (!isfinite(t0_ms) || !isfinite(t1_ms) || !isfinite(bin_ms)) return -1;
    if (bin_ms <= 0 || t1_ms <= t0_ms) return -1;
    double q = (t1_ms - t0_ms) / bin_ms * (1 + ROUNDOFF);
    if (!(q < (double)(LONG_MAX / 4))) return -1;
    return (long)floor(q);
}

/* ---- binning ---------------------------------------------------------------------------- */

typedef struct {
    double t0, bin;
    long nb;
    int covers; /* the whole bins reach t1 (up to roundoff): no partial bin to drop */
} binning;

static binning make_binning(double t0, double t1, double bin, long nb)
{
    binning b = {t0, bin, nb, (double)nb * bin >= (t1 - t0) * (1 - ROUNDOFF)};
    return b;
}

/* Bin of a time t >= t0 (inside the interval), or -1 if it falls in the dropped partial bin. */
static long bin_of(const binning *b, double t)
{
    double q = floor((t - b->t0) / b->bin);
    if (q < 0) return 0;
    if (q >= (double)b->nb) return b->covers ? b->nb - 1 : -1;
    return (long)q;
}

/* ---- pair sampling ---------------------------------------------------------------------- */

/* Uniform integer in [0, n), n > 0, without modulo bias. */
static uint64_t uniform_below(uint64_t *state, uint64_t n)
{
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = ns_splitmix64(state);
        if (x >= threshold) return x % n;
    }
}

/* min(n_pairs, count (count - 1) / 2): how many pairs sample_pairs draws. */
static long pair_count(long count, long n_pairs)
{
    if (count < 2 || n_pairs <= 0) return 0;
    uint64_t n = (uint64_t)count, total = n * (n - 1) / 2;
    return (uint64_t)n_pairs < total ? n_pairs : (long)total;
}

/* Draw m = min(n_pairs, count (count - 1) / 2) distinct unordered pairs of ids in
 * [first, first + count) into a[], b[] (a < b). Dense requests use selection sampling over all
 * pairs (Knuth's algorithm S); sparse ones draw at random and reject repeats via a hash set.
 * Returns m, or -1 (out of memory). */
static long sample_pairs(long first, long count, long n_pairs, uint64_t seed, long *a, long *b)
{
    uint64_t st = seed;
    uint64_t n = (uint64_t)count, m = (uint64_t)pair_count(count, n_pairs);
    uint64_t total = n * (n - 1) / 2;
    if (m == 0) return 0;
    if (2 * m >= total) {
        uint64_t need = m, left = total;
        long k = 0;
        for (long i = 0; i < count && need > 0; i++)
            for (long j = i + 1; j < count && need > 0; j++, left--)
                if (uniform_below(&st, left) < need) {
                    a[k] = first + i;
                    b[k] = first + j;
                    k++;
                    need--;
                }
        return k;
    }
    size_t cap = 16;
    while (cap < 2 * m) cap *= 2;
    uint64_t *set = calloc(cap, sizeof *set); /* key i * count + j + 1; 0 = empty */
    if (!set) return -1;
    long k = 0;
    while ((uint64_t)k < m) {
        uint64_t i = uniform_below(&st, n), j = uniform_below(&st, n - 1);
        if (j >= i) j++;
        if (j < i) {
            uint64_t t = i;
            i = j;
            j = t;
        }
        uint64_t key = i * n + j + 1, h = key;
        size_t slot = (size_t)(ns_splitmix64(&h) & (cap - 1));
        while (set[slot] && set[slot] != key) slot = (slot + 1) & (cap - 1);
        if (set[slot]) continue; /* drawn before */
        set[slot] = key;
        a[k] = first + (long)i;
        b[k] = first + (long)j;
        k++;
    }
    free(set);
    return k;
}

/* ---- the streaming pass ----------------------------------------------------------------- */

typedef struct {
    /* what to compute */
    int isi, binned;
    binning bn;
    int n_pops;
    const long *pop_first, *pop_count;
    long n_pairs;
    const long *pa, *pb;
    /* results: per neuron */
    long *count;                       /* spikes in [t0, t1) */
    double *last, *isi_mean, *isi_m2;  /* Welford sums of the ISIs (count - 1 of them) */
    double *s1, *s2;                   /* sum over bins of the count and its square */
    long *cur, *touched, n_touched;    /* current bin's counts and the neurons it touched */
    /* per population and per pair */
    double *ps1, *ps2;
    long *pcur;
    double *prod; /* sum over bins of count_a * count_b */
} scan;

static void scan_free(scan *sc)
{
    free(sc->count);
    free(sc->last);
    free(sc->isi_mean);
    free(sc->isi_m2);
    free(sc->s1);
    free(sc->s2);
    free(sc->cur);
    free(sc->touched);
    free(sc->ps1);
    free(sc->ps2);
    free(sc->pcur);
    free(sc->prod);
}

static void flush_bin(scan *sc)
{
    if (sc->n_touched >= 2)
        for (long q = 0; q < sc->n_pairs; q++)
            sc->prod[q] += (double)sc->cur[sc->pa[q]] * (double)sc->cur[sc->pb[q]];
    for (long k = 0; k < sc->n_touched; k++) {
        long i = sc->touched[k];
        double c = (double)sc->cur[i];
        sc->s1[i] += c;
        sc->s2[i] += c * c;
        sc->cur[i] = 0;
    }
    sc->n_touched = 0;
    for (int p = 0; p < sc->n_pops; p++) {
        double c = (double)sc->pcur[p];
        sc->ps1[p] += c;
        sc->ps2[p] += c * c;
        sc->pcur[p] = 0;
    }
}

/* One pass over the (checked) spikes, filling what sc asks for. */
static int scan_run(scan *sc, const ns_stats_spikes *s, char *err, size_t errlen)
{
    size_t n = (size_t)s->n_neurons, np = (size_t)(sc->n_pops > 0 ? sc->n_pops : 1);
    int bad = !(sc->count = calloc(n, sizeof *sc->count));
    if (sc->isi)
        bad |= !(sc->last = calloc(n, sizeof(double))) ||
               !(sc->isi_mean = calloc(n, sizeof(double))) ||
               !(sc->isi_m2 = calloc(n, sizeof(double)));
    if (sc->binned)
        bad |= !(sc->s1 = calloc(n, sizeof(double))) || !(sc->s2 = calloc(n, sizeof(double))) ||
               !(sc->cur = calloc(n, sizeof(long))) ||
               !(sc->touched = calloc(n, sizeof(long))) ||
               !(sc->ps1 = calloc(np, sizeof(double))) ||
               !(sc->ps2 = calloc(np, sizeof(double))) ||
               !(sc->pcur = calloc(np, sizeof(long))) ||
               !(sc->prod = calloc(sc->n_pairs > 0 ? (size_t)sc->n_pairs : 1, sizeof(double)));
    if (bad) return oom(err, errlen, "spike statistics");

    long cur_bin = -1;
    for (long k = 0; k < s->n; k++) {
        double t = s->t_ms[k];
        if (!in_interval(s, t)) continue;
        long i = s->neuron[k];
        if (sc->isi) {
            if (sc->count[i] > 0) {
                double x = t - sc->last[i];
                double delta = x - sc->isi_mean[i];
                sc->isi_mean[i] += delta / (double)sc->count[i];
                sc->isi_m2[i] += delta * (x - sc->isi_mean[i]);
            }
            sc->last[i] = t;
        }
        sc->count[i]++;
        if (!sc->binned) continue;
        long b = bin_of(&sc->bn, t);
        if (b < 0) continue;
        if (b != cur_bin) {
            flush_bin(sc);
            cur_bin = b;
        }
        if (sc->cur[i]++ == 0) sc->touched[sc->n_touched++] = i;
        for (int p = 0; p < sc->n_pops; p++)
            if (i >= sc->pop_first[p] && i - sc->pop_first[p] < sc->pop_count[p]) sc->pcur[p]++;
    }
    if (sc->binned) flush_bin(sc);
    return 0;
}

/* Derived quantities. B * sum c^2 - (sum c)^2 is B^2 times the (1/B) variance and is exact in
 * doubles for any realistic count, so a constant count gives exactly zero. */
static double scaled_var(double s1, double s2, long nb)
{
    double v = (double)nb * s2 - s1 * s1;
    return v > 0 ? v : 0;
}

static double fano_of(double s1, double s2, long nb)
{
    if (s1 <= 0) return NAN;
    return scaled_var(s1, s2, nb) / ((double)(nb - 1) * s1);
}

static double cv_of(const scan *sc, long i, ns_stats_sd sd)
{
    long n_isi = sc->count[i] - 1;
    if (n_isi < 2 || !(sc->isi_mean[i] > 0)) return NAN;
    double denom = sd == NS_STATS_SD_POPULATION ? (double)n_isi : (double)(n_isi - 1);
    return sqrt(sc->isi_m2[i] / denom) / sc->isi_mean[i];
}

static int check_sd(ns_stats_sd sd, char *err, size_t errlen)
{
    if (sd != NS_STATS_SD_SAMPLE && sd != NS_STATS_SD_POPULATION)
        return ns_errmsg(err, errlen, "sd convention %d is neither sample (0) nor population (1)", (int)sd);
    return 0;
}

static double corr_of(const scan *sc, long q)
{
    long a = sc->pa[q], b = sc->pb[q];
    long nb = sc->bn.nb;
    double va = scaled_var(sc->s1[a], sc->s2[a], nb), vb = scaled_var(sc->s1[b], sc->s2[b], nb);
    if (va <= 0 || vb <= 0) return NAN;
    double c = ((double)nb * sc->prod[q] - sc->s1[a] * sc->s1[b]) / sqrt(va * vb);
    return c > 1 ? 1 : (c < -1 ? -1 : c);
}

/* Mean and sd (n - 1) of the rates of neurons [first, first + count). */
static void rate_moments(const scan *sc, long first, long count, double t_s, double *mean,
                         double *sd)
{
    double m = 0;
    for (long i = first; i < first + count; i++) m += (double)sc->count[i] / t_s;
    m /= (double)count;
    double ss = 0;
    for (long i = first; i < first + count; i++) {
        double d = (double)sc->count[i] / t_s - m;
        ss += d * d;
    }
    if (mean) *mean = m;
    if (sd) *sd = count > 1 ? sqrt(ss / (double)(count - 1)) : NAN;
}

/* ---- public: rates, CV, Fano ------------------------------------------------------------ */

int ns_stats_rates(const ns_stats_spikes *s, double *rate_hz, char *err, size_t errlen)
{
    if (check_spikes(s, err, errlen)) return -1;
    if (!rate_hz) return ns_errmsg(err, errlen, "no output array for rates");
    double t_s = (s->t1_ms - s->t0_ms) / 1000.0;
    for (long i = 0; i < s->n_neurons; i++) rate_hz[i] = 0;
    for (long k = 0; k < s->n; k++)
        if (in_interval(s, s->t_ms[k])) rate_hz[s->neuron[k]] += 1;
    for (long i = 0; i < s->n_neurons; i++) rate_hz[i] /= t_s;
    return 0;
}

int ns_stats_pop_rate(const ns_stats_spikes *s, const ns_stats_pop *pop, double *mean_hz,
                      double *sd_hz, char *err, size_t errlen)
{
    long first = 0, count = 0;
    if (check_spikes(s, err, errlen) || check_pop(s, pop, &first, &count, err, errlen))
        return -1;
    scan sc = {0};
    int rc = scan_run(&sc, s, err, errlen);
    if (!rc) rate_moments(&sc, first, count, (s->t1_ms - s->t0_ms) / 1000.0, mean_hz, sd_hz);
    scan_free(&sc);
    return rc;
}

int ns_stats_cv_isi(const ns_stats_spikes *s, ns_stats_sd sd, double *cv, char *err, size_t errlen)
{
    if (check_spikes(s, err, errlen) || check_sd(sd, err, errlen)) return -1;
    if (!cv) return ns_errmsg(err, errlen, "no output array for ISI CVs");
    scan sc = {0};
    sc.isi = 1;
    int rc = scan_run(&sc, s, err, errlen);
    if (!rc)
        for (long i = 0; i < s->n_neurons; i++) cv[i] = cv_of(&sc, i, sd);
    scan_free(&sc);
    return rc;
}

int ns_stats_pop_cv_isi(const ns_stats_spikes *s, const ns_stats_pop *pop, ns_stats_sd sd,
                        double *cv_mean, long *n_defined, char *err, size_t errlen)
{
    long first = 0, count = 0;
    if (check_spikes(s, err, errlen) || check_pop(s, pop, &first, &count, err, errlen) ||
        check_sd(sd, err, errlen))
        return -1;
    scan sc = {0};
    sc.isi = 1;
    int rc = scan_run(&sc, s, err, errlen);
    if (!rc) {
        double sum = 0;
        long nd = 0;
        for (long i = first; i < first + count; i++) {
            double c = cv_of(&sc, i, sd);
            if (!isnan(c)) {
                sum += c;
                nd++;
            }
        }
        if (cv_mean) *cv_mean = nd ? sum / (double)nd : NAN;
        if (n_defined) *n_defined = nd;
    }
    scan_free(&sc);
    return rc;
}

int ns_stats_fano(const ns_stats_spikes *s, double bin_ms, double *fano, char *err,
                  size_t errlen)
{
    if (check_spikes(s, err, errlen)) return -1;
    long nb = check_bins(s, bin_ms, 2, err, errlen);
    if (nb < 0) return -1;
    if (!fano) return ns_errmsg(err, errlen, "no output array for Fano factors");
    scan sc = {0};
    sc.binned = 1;
    sc.bn = make_binning(s->t0_ms, s->t1_ms, bin_ms, nb);
    int rc = scan_run(&sc, s, err, errlen);
    if (!rc)
        for (long i = 0; i < s->n_neurons; i++) fano[i] = fano_of(sc.s1[i], sc.s2[i], nb);
    scan_free(&sc);
    return rc;
}

int ns_stats_pop_fano(const ns_stats_spikes *s, const ns_stats_pop *pop, double bin_ms,
                      double *fano, char *err, size_t errlen)
{
    long first = 0, count = 0;
    if (check_spikes(s, err, errlen) || check_pop(s, pop, &first, &count, err, errlen))
        return -1;
    long nb = check_bins(s, bin_ms, 2, err, errlen);
    if (nb < 0) return -1;
    scan sc = {0};
    sc.binned = 1;
    sc.bn = make_binning(s->t0_ms, s->t1_ms, bin_ms, nb);
    sc.n_pops = 1;
    sc.pop_first = &first;
    sc.pop_count = &count;
    int rc = scan_run(&sc, s, err, errlen);
    if (!rc && fano) *fano = fano_of(sc.ps1[0], sc.ps2[0], nb);
    scan_free(&sc);
    return rc;
}

/* ---- public: correlation ---------------------------------------------------------------- */

int ns_stats_corr(const ns_stats_spikes *s, const ns_stats_pop *pop, double bin_ms,
                  long n_pairs, uint64_t seed, double *corr_mean, long *pairs_used,
                  double *corr, long *ids, char *err, size_t errlen)
{
    long first = 0, count = 0;
    if (check_spikes(s, err, errlen) || check_pop(s, pop, &first, &count, err, errlen))
        return -1;
    long nb = check_bins(s, bin_ms, 2, err, errlen);
    if (nb < 0) return -1;
    if (n_pairs < 0) return ns_errmsg(err, errlen, "number of pairs %ld is negative", n_pairs);
    size_t cap = (size_t)pair_count(count, n_pairs) + 1;
    long *pa = malloc(cap * sizeof *pa), *pb = malloc(cap * sizeof *pb);
    long m = (pa && pb) ? sample_pairs(first, count, n_pairs, seed, pa, pb) : -1;
    if (m < 0) {
        free(pa);
        free(pb);
        return oom(err, errlen, "pair sample");
    }
    scan sc = {0};
    sc.binned = 1;
    sc.bn = make_binning(s->t0_ms, s->t1_ms, bin_ms, nb);
    sc.n_pairs = m;
    sc.pa = pa;
    sc.pb = pb;
    int rc = scan_run(&sc, s, err, errlen);
    if (!rc) {
        double sum = 0;
        long used = 0;
        for (long q = 0; q < n_pairs; q++) {
            double c = q < m ? corr_of(&sc, q) : NAN;
            if (!isnan(c)) {
                sum += c;
                used++;
            }
            if (corr) corr[q] = c;
            if (ids) {
                ids[2 * q] = q < m ? pa[q] : -1;
                ids[2 * q + 1] = q < m ? pb[q] : -1;
            }
        }
        if (corr_mean) *corr_mean = used ? sum / (double)used : NAN;
        if (pairs_used) *pairs_used = used;
    }
    scan_free(&sc);
    free(pa);
    free(pb);
    return rc;
}

/* ---- public: synchrony ------------------------------------------------------------------ */

int ns_stats_kuramoto(const double *phase_rad, long n, double *r, double *psi_rad, char *err,
                      size_t errlen)
{
    if (n <= 0) return ns_errmsg(err, errlen, "phase count %ld must be positive", n);
    if (!phase_rad) return ns_errmsg(err, errlen, "no phase array");
    double re = 0, im = 0;
    for (long k = 0; k < n; k++) {
        if (!isfinite(phase_rad[k]))
            return ns_errmsg(err, errlen, "phase %ld: %g rad is not finite", k, phase_rad[k]);
        re += cos(phase_rad[k]);
        im += sin(phase_rad[k]);
    }
    double rr = hypot(re, im) / (double)n;
    if (r) *r = rr > 1 ? 1 : rr;
    if (psi_rad) *psi_rad = atan2(im, re);
    return 0;
}

int ns_stats_kuramoto_spikes(const ns_stats_spikes *s, const ns_stats_pop *pop, double dt_ms,
                             double *r_t, long n_grid, double *r_mean, char *err,
                             size_t errlen)
{
    long first = 0, count = 0;
    if (check_spikes(s, err, errlen) || check_pop(s, pop, &first, &count, err, errlen))
        return -1;
    if (check_finite(dt_ms, "grid step (ms)", err, errlen)) return -1;
    if (dt_ms <= 0) return ns_errmsg(err, errlen, "grid step %g ms must be positive", dt_ms);
    long K = ns_stats_nbins(s->t0_ms, s->t1_ms, dt_ms);
    if (K < 1)
        return ns_errmsg(err, errlen, "grid step %g ms leaves no grid point in [%g, %g) ms", dt_ms,
                    s->t0_ms, s->t1_ms);
    if (r_t && n_grid < K)
        return ns_errmsg(err, errlen, "r(t) array holds %ld values; the grid needs %ld", n_grid, K);

    /* Each population neuron's spike times in the interval, grouped by neuron (CSR). */
    long *off = calloc((size_t)count + 1, sizeof *off);
    double *re = calloc((size_t)K, sizeof *re), *im = calloc((size_t)K, sizeof *im);
    long *nn = calloc((size_t)K, sizeof *nn);
    double *times = NULL;
    long *fill = NULL;
    int rc = 0;
    if (!off || !re || !im || !nn) {
        rc = oom(err, errlen, "order parameter");
        goto done;
    }
    for (long k = 0; k < s->n; k++) {
        long i = s->neuron[k] - first;
        if (i >= 0 && i < count && in_interval(s, s->t_ms[k])) off[i + 1]++;
    }
    for (long i = 0; i < count; i++) off[i + 1] += off[i];
    times = malloc((size_t)(off[count] > 0 ? off[count] : 1) * sizeof *times);
    fill = malloc((size_t)count * sizeof *fill);
    if (!times || !fill) {
        rc = oom(err, errlen, "order parameter");
        goto done;
    }
    memcpy(fill, off, (size_t)count * sizeof *fill);
    for (long k = 0; k < s->n; k++) {
        long i = s->neuron[k] - first;
        if (i >= 0 && i < count && in_interval(s, s->t_ms[k])) times[fill[i]++] = s->t_ms[k];
    }

    for (long i = 0; i < count; i++) {
        const double *u = times + off[i];
        long m = off[i + 1] - off[i];
        if (m < 2) continue;
        long g = (long)ceil((u[0] - s->t0_ms) / dt_ms); /* first grid point at or after u[0] */
        if (g < 0) g = 0;
        while (g > 0 && s->t0_ms + (double)(g - 1) * dt_ms >= u[0]) g--;
        while (g < K && s->t0_ms + (double)g * dt_ms < u[0]) g++;
        for (long j = 0; j + 1 < m && g < K; j++) {
            double len = u[j + 1] - u[j];
            for (; g < K; g++) {
                double t = s->t0_ms + (double)g * dt_ms;
                if (t >= u[j + 1]) break;
                double ph = TWO_PI * (t - u[j]) / len;
                re[g] += cos(ph);
                im[g] += sin(ph);
                nn[g]++;
            }
        }
    }
    double sum = 0;
    long defined = 0;
    for (long g = 0; g < K; g++) {
        double r = NAN;
        if (nn[g] >= 2) {
            r = hypot(re[g], im[g]) / (double)nn[g];
            if (r > 1) r = 1;
            sum += r;
            defined++;
        }
        if (r_t) r_t[g] = r;
    }
    if (r_mean) *r_mean = defined ? sum / (double)defined : NAN;
done:
    free(off);
    free(re);
    free(im);
    free(nn);
    free(times);
    free(fill);
    return rc;
}

/* ---- public: PSTH and STA --------------------------------------------------------------- */

/* First spike index with time >= t (spikes sorted). */
static long lower_bound(const double *t_ms, long n, double t)
{
    long lo = 0, hi = n;
    while (lo < hi) {
        long mid = lo + (hi - lo) / 2;
        if (t_ms[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int ns_stats_psth(const ns_stats_spikes *s, const long *ids, long n_ids, const double *stim_ms,
                  long n_stim, double pre_ms, double post_ms, double bin_ms, double *rate_hz,
                  long n_bins, long *stim_used, char *err, size_t errlen)
{
    if (check_spikes(s, err, errlen)) return -1;
    if (check_finite(pre_ms, "PSTH pre-stimulus time (ms)", err, errlen) ||
        check_finite(post_ms, "PSTH post-stimulus time (ms)", err, errlen) ||
        check_finite(bin_ms, "PSTH bin width (ms)", err, errlen))
        return -1;
    if (bin_ms <= 0) return ns_errmsg(err, errlen, "PSTH bin width %g ms must be positive", bin_ms);
    if (post_ms <= -pre_ms)
        return ns_errmsg(err, errlen, "PSTH window [-%g, %g) ms is empty", pre_ms, post_ms);
    long nb = ns_stats_nbins(-pre_ms, post_ms, bin_ms);
    if (nb < 1)
        return ns_errmsg(err, errlen, "PSTH bin width %g ms leaves no whole bin in [-%g, %g) ms",
                    bin_ms, pre_ms, post_ms);
    if (!rate_hz || n_bins < nb)
        return ns_errmsg(err, errlen, "PSTH array holds %ld values; %ld bins are needed",
                    rate_hz ? n_bins : 0, nb);
    if (n_stim <= 0 || !stim_ms) return ns_errmsg(err, errlen, "no stimulus times given");
    for (long j = 0; j < n_stim; j++)
        if (!isfinite(stim_ms[j]))
            return ns_errmsg(err, errlen, "stimulus %ld: time %g ms is not finite", j, stim_ms[j]);
    unsigned char *sel;
    long n_sel = select_ids(s, ids, n_ids, "PSTH", &sel, err, errlen);
    if (n_sel < 0) return -1;

    binning bn = make_binning(-pre_ms, post_ms, bin_ms, nb);
    for (long k = 0; k < nb; k++) rate_hz[k] = 0;
    long used = 0;
    for (long j = 0; j < n_stim; j++) {
        double st = stim_ms[j];
        if (st - pre_ms < s->t0_ms || st + post_ms > s->t1_ms) continue;
        used++;
        for (long k = lower_bound(s->t_ms, s->n, st - pre_ms);
             k < s->n && s->t_ms[k] < st + post_ms; k++) {
            if (!sel[s->neuron[k]]) continue;
            long b = bin_of(&bn, s->t_ms[k] - st);
            if (b >= 0) rate_hz[b] += 1;
        }
    }
    free(sel);
    if (stim_used) *stim_used = used;
    if (!used)
        return ns_errmsg(err, errlen,
                    "no stimulus has its PSTH window [-%g, %g) ms inside [%g, %g) ms", pre_ms,
                    post_ms, s->t0_ms, s->t1_ms);
    double scale = 1000.0 / ((double)used * (double)n_sel * bin_ms);
    for (long k = 0; k < nb; k++) rate_hz[k] *= scale;
    return 0;
}

long ns_stats_sta_lags(double dt_ms, double pre_ms, double post_ms)
{
    if (!isfinite(dt_ms) || !isfinite(pre_ms) || !isfinite(post_ms)) return -1;
    if (dt_ms <= 0 || pre_ms < 0 || post_ms < 0) return -1;
    double lp = floor(pre_ms / dt_ms * (1 + ROUNDOFF));
    double lq = floor(post_ms / dt_ms * (1 + ROUNDOFF));
    if (!(lp + lq < (double)(LONG_MAX / 4))) return -1;
    return (long)lp + (long)lq + 1;
}

int ns_stats_sta(const ns_stats_spikes *s, const long *ids, long n_ids, const double *trace,
                 long n_samples, double trace_t0_ms, double dt_ms, double pre_ms,
                 double post_ms, double *sta, long n_lags, long *n_used, char *err,
                 size_t errlen)
{
    if (check_spikes(s, err, errlen)) return -1;
    if (check_finite(trace_t0_ms, "trace start (ms)", err, errlen) ||
        check_finite(dt_ms, "trace sampling step (ms)", err, errlen) ||
        check_finite(pre_ms, "STA pre-spike time (ms)", err, errlen) ||
        check_finite(post_ms, "STA post-spike time (ms)", err, errlen))
        return -1;
    if (dt_ms <= 0) return ns_errmsg(err, errlen, "trace sampling step %g ms must be positive", dt_ms);
    if (pre_ms < 0 || post_ms < 0)
        return ns_errmsg(err, errlen, "STA window [-%g, %g] ms needs pre >= 0 and post >= 0", pre_ms,
                    post_ms);
    long nl = ns_stats_sta_lags(dt_ms, pre_ms, post_ms);
    if (nl < 1) return ns_errmsg(err, errlen, "STA window [-%g, %g] ms is too long", pre_ms, post_ms);
    if (!sta || n_lags < nl)
        return ns_errmsg(err, errlen, "STA array holds %ld values; %ld lags are needed",
                    sta ? n_lags : 0, nl);
    if (n_samples <= 0 || !trace) return ns_errmsg(err, errlen, "no trace samples given");
    for (long j = 0; j < n_samples; j++)
        if (!isfinite(trace[j]))
            return ns_errmsg(err, errlen, "trace sample %ld: %g is not finite", j, trace[j]);
    unsigned char *sel;
    if (select_ids(s, ids, n_ids, "STA", &sel, err, errlen) < 0) return -1;

    long lpre = (long)floor(pre_ms / dt_ms * (1 + ROUNDOFF));
    long lpost = nl - 1 - lpre;
    for (long l = 0; l < nl; l++) sta[l] = 0;
    long used = 0;
    for (long k = 0; k < s->n; k++) {
        double t = s->t_ms[k];
        if (!sel[s->neuron[k]] || !in_interval(s, t)) continue;
        double x = (t - trace_t0_ms) / dt_ms;
        double i0 = floor(x), f = x - i0;
        if (f < ROUNDOFF) f = 0; /* on the sample grid up to roundoff */
        if (f > 1 - ROUNDOFF) {
            f = 0;
            i0 += 1;
        }
        if (i0 - (double)lpre < 0 || i0 + (double)lpost + (f > 0) > (double)(n_samples - 1))
            continue;
        long base = (long)i0 - lpre;
        if (f > 0)
            for (long l = 0; l < nl; l++)
                sta[l] += (1 - f) * trace[base + l] + f * trace[base + l + 1];
        else
            for (long l = 0; l < nl; l++) sta[l] += trace[base + l];
        used++;
    }
    free(sel);
    if (n_used) *n_used = used;
    if (!used)
        return ns_errmsg(err, errlen,
                    "no trigger spike has its STA window [-%g, %g] ms inside the trace", pre_ms,
                    post_ms);
    for (long l = 0; l < nl; l++) sta[l] /= (double)used;
    return 0;
}

/* ---- public: binned population rate and summary ----------------------------------------- */

int ns_stats_pop_rate_binned(const ns_stats_spikes *s, const ns_stats_pop *pop, double bin_ms,
                             double *rate_hz, long n_bins, char *err, size_t errlen)
{
    long first = 0, count = 0;
    if (check_spikes(s, err, errlen) || check_pop(s, pop, &first, &count, err, errlen))
        return -1;
    long nb = check_bins(s, bin_ms, 1, err, errlen);
    if (nb < 0) return -1;
    if (!rate_hz || n_bins < nb)
        return ns_errmsg(err, errlen, "rate array holds %ld values; %ld bins are needed",
                    rate_hz ? n_bins : 0, nb);
    binning bn = make_binning(s->t0_ms, s->t1_ms, bin_ms, nb);
    for (long k = 0; k < nb; k++) rate_hz[k] = 0;
    for (long k = 0; k < s->n; k++) {
        long i = s->neuron[k];
        if (i < first || i - first >= count || !in_interval(s, s->t_ms[k])) continue;
        long b = bin_of(&bn, s->t_ms[k]);
        if (b >= 0) rate_hz[b] += 1;
    }
    double scale = 1000.0 / ((double)count * bin_ms);
    for (long k = 0; k < nb; k++) rate_hz[k] *= scale;
    return 0;
}

double ns_stats_summary_bytes(long n_neurons, long n_pairs)
{
    /* per neuron: count, last, ISI mean and M2, s1, s2, the current bin's count and the touched
     * list (8 x 8 bytes); per pair: its two ids, the product sum and the hash set's slots */
    return 64.0 * (double)n_neurons + 56.0 * (double)n_pairs;
}

int ns_stats_summarize(const ns_stats_spikes *s, const ns_stats_pop *pops, int n_pops,
                       double bin_ms, long n_pairs, uint64_t seed, ns_stats_sd cv_sd,
                       ns_stats_summary *out, char *err, size_t errlen)
{
    if (check_spikes(s, err, errlen) || check_sd(cv_sd, err, errlen)) return -1;
    if (n_pops <= 0 || !pops) return ns_errmsg(err, errlen, "no populations given");
    if (!out) return ns_errmsg(err, errlen, "no output array for the summary");
    if (n_pairs < 0) return ns_errmsg(err, errlen, "number of pairs %ld is negative", n_pairs);
    long nb = check_bins(s, bin_ms, 2, err, errlen);
    if (nb < 0) return -1;
    long *first = malloc((size_t)n_pops * sizeof *first);
    long *count = malloc((size_t)n_pops * sizeof *count);
    long *pair_off = malloc(((size_t)n_pops + 1) * sizeof *pair_off);
    long *pa = NULL, *pb = NULL;
    scan sc = {0};
    int rc = 0;
    if (!first || !count || !pair_off) {
        rc = oom(err, errlen, "summary");
        goto done;
    }
    size_t cap = 1;
    for (int p = 0; p < n_pops; p++) {
        if (check_pop(s, &pops[p], &first[p], &count[p], err, errlen)) {
            rc = -1;
            goto done;
        }
        cap += (size_t)pair_count(count[p], n_pairs);
    }
    pa = malloc(cap * sizeof *pa);
    pb = malloc(cap * sizeof *pb);
    if (!pa || !pb) {
        rc = oom(err, errlen, "pair sample");
        goto done;
    }
    pair_off[0] = 0;
    for (int p = 0; p < n_pops; p++) {
        long m = sample_pairs(first[p], count[p], n_pairs, seed, pa + pair_off[p],
                              pb + pair_off[p]);
        if (m < 0) {
            rc = oom(err, errlen, "pair sample");
            goto done;
        }
        pair_off[p + 1] = pair_off[p] + m;
    }
    sc.isi = 1;
    sc.binned = 1;
    sc.bn = make_binning(s->t0_ms, s->t1_ms, bin_ms, nb);
    sc.n_pops = n_pops;
    sc.pop_first = first;
    sc.pop_count = count;
    sc.n_pairs = pair_off[n_pops];
    sc.pa = pa;
    sc.pb = pb;
    if ((rc = scan_run(&sc, s, err, errlen))) goto done;

    double t_s = (s->t1_ms - s->t0_ms) / 1000.0;
    for (int p = 0; p < n_pops; p++) {
        ns_stats_summary *row = &out[p];
        memset(row, 0, sizeof *row);
        row->name = pops[p].name;
        row->neurons = count[p];
        double cv_sum = 0, fano_sum = 0;
        long fano_n = 0;
        for (long i = first[p]; i < first[p] + count[p]; i++) {
            row->spikes += sc.count[i];
            double c = cv_of(&sc, i, cv_sd), f = fano_of(sc.s1[i], sc.s2[i], nb);
            if (!isnan(c)) {
                cv_sum += c;
                row->cv_neurons++;
            }
            if (!isnan(f)) {
                fano_sum += f;
                fano_n++;
            }
        }
        rate_moments(&sc, first[p], count[p], t_s, &row->rate_hz, &row->rate_sd_hz);
        row->cv_isi_mean = row->cv_neurons ? cv_sum / (double)row->cv_neurons : NAN;
        row->fano = fano_n ? fano_sum / (double)fano_n : NAN;
        row->fano_neurons = fano_n;
        row->fano_pop = fano_of(sc.ps1[p], sc.ps2[p], nb);
        double corr_sum = 0;
        for (long q = pair_off[p]; q < pair_off[p + 1]; q++) {
            double c = corr_of(&sc, q);
            if (!isnan(c)) {
                corr_sum += c;
                row->pairs++;
            }
        }
        row->corr_mean = row->pairs ? corr_sum / (double)row->pairs : NAN;
    }
done:
    scan_free(&sc);
    free(first);
    free(count);
    free(pair_off);
    free(pa);
    free(pb);
    return rc;
}

/* ---- public: CSV row -------------------------------------------------------------------- */

static int put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(*at < len ? buf + *at : NULL, *at < len ? len - *at : 0, fmt, ap);
    va_end(ap);
    if (w < 0) return -1;
    *at += (size_t)w;
    return 0;
}

static int put_num(char *buf, size_t len, size_t *at, double x)
{
    if (isnan(x)) return put(buf, len, at, ",nan");
    return put(buf, len, at, ",%.10g", x);
}

int ns_stats_summary_csv(const ns_stats_summary *row, char *buf, size_t len)
{
    if (!row || !buf || !len) return -1;
    size_t at = 0;
    const char *name = row->name ? row->name : "";
    if (strpbrk(name, ",\"\r\n")) { /* RFC 4180: quote the field, double the quotes */
        if (put(buf, len, &at, "\"")) return -1;
        for (const char *c = name; *c; c++) {
            if (*c == '"' && put(buf, len, &at, "\"")) return -1;
            if (put(buf, len, &at, "%c", *c)) return -1;
        }
        if (put(buf, len, &at, "\"")) return -1;
    } else if (put(buf, len, &at, "%s", name)) {
        return -1;
    }
    if (put(buf, len, &at, ",%ld,%ld", row->neurons, row->spikes) ||
        put_num(buf, len, &at, row->rate_hz) || put_num(buf, len, &at, row->rate_sd_hz) ||
        put_num(buf, len, &at, row->cv_isi_mean) || put(buf, len, &at, ",%ld", row->cv_neurons) ||
        put_num(buf, len, &at, row->fano) || put(buf, len, &at, ",%ld", row->fano_neurons) ||
        put_num(buf, len, &at, row->fano_pop) || put_num(buf, len, &at, row->corr_mean) ||
        put(buf, len, &at, ",%ld", row->pairs))
        return -1;
    if (at >= len || at > INT_MAX) return -1;
    return (int)at;
}
