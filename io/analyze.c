/* io/analyze.c — loads a spike record into memory and runs the analysis modules over it (see
 * analyze.h). CSV files are written to a temporary name and renamed, so a reader never sees
 * half of one. */
#include "io/analyze.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/plot.h"
#include "analysis/raster.h"
#include "io/csv.h"
#include "base/files.h"
#include "io/runinfo.h"

typedef struct {
    ns_spike_table *tab;
    int oom;
} load_state;

static int add_spike(void *user, double t, long id)
{
    load_state *ls = user;
    ns_spike_table *tab = ls->tab;
    if (tab->n == tab->cap) {
        size_t cap = tab->cap ? 2 * tab->cap : 4096;
        double *t2 = realloc(tab->t, cap * sizeof *t2);
        if (t2) tab->t = t2;
        long *i2 = realloc(tab->id, cap * sizeof *i2);
        if (i2) tab->id = i2;
        if (!t2 || !i2) return ls->oom = 1;
        tab->cap = cap;
    }
    tab->t[tab->n] = t;
    tab->id[tab->n++] = id;
    return 0;
}

static int add_group(ns_spike_table *tab, const char *name, long first, long count, const char *src, char *err,
                     size_t errlen)
{
    if (tab->ngroups == NS_MAX_GROUPS) {
        snprintf(err, errlen, "%s: more than %d populations", src, NS_MAX_GROUPS);
        return -1;
    }
    int g = tab->ngroups++;
    snprintf(tab->names[g], sizeof tab->names[0], "%s", name);
    tab->groups[g] = (ns_stats_pop){tab->names[g], first, count};
    return 0;
}

/* The groups of a populations file; none (and 0) when there is no file to read, unless must.
 * Ids are checked against NS_CSV_MAX_ID before any arithmetic. */
static int read_groups(ns_spike_table *tab, const char *path, int must, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (!must) return 0;
        snprintf(err, errlen, "%s: cannot read the populations file: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    long lineno = 1;
    int rc = 0;
    if (!fgets(line, sizeof line, fp) || strncmp(line, "population,", 11) != 0) {
        snprintf(err, errlen, "%s:1: expected the header population,model,first,last,size", path);
        fclose(fp);
        return -1;
    }
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] != '\n' && feof(fp)) { /* the last line, cut short */
            ns_csv_torn_warning(tab->warning, sizeof tab->warning, path, lineno, line);
            break;
        }
        char name[64], model[64], first_s[32], last_s[32];
        if (sscanf(line, "%63[^,],%63[^,],%31[^,],%31[^,\r\n]", name, model, first_s, last_s) != 4) {
            snprintf(err, errlen, "%s:%ld: expected population,model,first,last,size", path, lineno);
            rc = -1;
            break;
        }
        char *end1, *end2;
        errno = 0;
        long first = strtol(first_s, &end1, 10), last = strtol(last_s, &end2, 10);
        if (*end1 || *end2 || end1 == first_s || end2 == last_s) {
            snprintf(err, errlen, "%s:%ld: first '%s' and last '%s' must be whole numbers", path, lineno, first_s,
                     last_s);
            rc = -1;
            break;
        }
        if (errno == ERANGE || first < 0 || first > NS_CSV_MAX_ID || last < first || last > NS_CSV_MAX_ID) {
            snprintf(err, errlen, "%s:%ld: ids %s..%s must satisfy 0 <= first <= last <= %ld", path, lineno, first_s,
                     last_s, NS_CSV_MAX_ID);
            rc = -1;
            break;
        }
        if ((rc = add_group(tab, name, first, last - first + 1, path, err, errlen))) break;
    }
    fclose(fp);
    return rc;
}

int ns_analyze_parse_groups(const char *spec, ns_stats_pop *groups, char names[][64], char *err, size_t errlen)
{
    int n = 0;
    const char *p = spec;
    while (*p) {
        const char *colon = strchr(p, ':'), *comma = strchr(p, ',');
        if (!comma) comma = p + strlen(p);
        if (!colon || colon > comma || colon == p || colon - p >= 64) {
            snprintf(err, errlen, "--groups '%s': expected NAME:FIRST-LAST,... (e.g. E:0-3199,I:3200-3999)", spec);
            return -1;
        }
        if (n == NS_MAX_GROUPS) {
            snprintf(err, errlen, "--groups '%s': more than %d groups", spec, NS_MAX_GROUPS);
            return -1;
        }
        char range[64];
        snprintf(range, sizeof range, "%.*s", (int)(comma - colon - 1 < 63 ? comma - colon - 1 : 63), colon + 1);
        char *dash = strchr(range, '-'), *e1, *e2;
        long first = -1, last = -1;
        if (dash) {
            *dash = '\0';
            errno = 0;
            first = strtol(range, &e1, 10);
            last = strtol(dash + 1, &e2, 10);
            if (e1 == range || *e1 || e2 == dash + 1 || *e2 || errno == ERANGE) dash = NULL;
        }
        if (!dash) {
            snprintf(err, errlen, "--groups '%s': group %.*s: expected FIRST-LAST, two whole numbers", spec,
                     (int)(colon - p), p);
            return -1;
        }
        if (first < 0 || first > NS_CSV_MAX_ID || last < first || last > NS_CSV_MAX_ID) {
            snprintf(err, errlen, "--groups '%s': group %.*s: ids %ld-%ld must satisfy 0 <= FIRST <= LAST <= %ld", spec,
                     (int)(colon - p), p, first, last, NS_CSV_MAX_ID);
            return -1;
        }
        snprintf(names[n], 64, "%.*s", (int)(colon - p), p);
        groups[n] = (ns_stats_pop){names[n], first, last - first + 1};
        n++;
        p = *comma ? comma + 1 : comma;
    }
    if (!n) {
        snprintf(err, errlen, "--groups is empty: expected NAME:FIRST-LAST,...");
        return -1;
    }
    return n;
}

static int cmp_index_time(const void *a, const void *b, void *arg)
{
    const double *t = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    return t[i] < t[j] ? -1 : t[i] > t[j] ? 1 : (i > j) - (i < j);
}

/* Sort spikes by time (stable), if they are not already. */
static int sort_by_time(ns_spike_table *tab)
{
    size_t n = tab->n, k;
    for (k = 1; k < n && tab->t[k - 1] <= tab->t[k]; k++) {}
    if (k >= n) return 0;
    size_t *order = malloc(n * sizeof *order);
    double *t = malloc(n * sizeof *t);
    long *id = malloc(n * sizeof *id);
    if (!order || !t || !id) {
        free(order), free(t), free(id);
        return -1;
    }
    for (size_t i = 0; i < n; i++) order[i] = i;
    qsort_r(order, n, sizeof *order, cmp_index_time, tab->t);
    for (size_t i = 0; i < n; i++) {
        t[i] = tab->t[order[i]];
        id[i] = tab->id[order[i]];
    }
    free(order);
    free(tab->t);
    free(tab->id);
    tab->t = t;
    tab->id = id;
    return 0;
}

int ns_spike_table_read(ns_spike_table *tab, const char *spikes_csv, const ns_spike_load_opts *o, char *err,
                        size_t errlen)
{
    memset(tab, 0, sizeof *tab);
    tab->max_bytes = o->max_bytes > 0 ? o->max_bytes : NS_ANALYZE_MAX_BYTES_DEFAULT;
    char popfile[4096];
    double run_ms = 0;
    ns_runinfo_origin(spikes_csv, popfile, sizeof popfile, &run_ms);
    if (o->groups) {
        for (int g = 0; g < o->ngroups; g++)
            if (add_group(tab, o->groups[g].name, o->groups[g].first, o->groups[g].count, spikes_csv, err, errlen))
                return -1;
        snprintf(tab->n_from, sizeof tab->n_from, "%s", o->groups_from ? o->groups_from : "given");
    } else if (o->n_neurons > 0) {
        if (o->n_neurons > NS_CSV_MAX_ID) {
            snprintf(err, errlen, "--n %ld: the neuron count must be in [1, %ld]", o->n_neurons, NS_CSV_MAX_ID);
            return -1;
        }
        if (add_group(tab, "all", 0, o->n_neurons, spikes_csv, err, errlen)) return -1;
        snprintf(tab->n_from, sizeof tab->n_from, "--n");
    } else {
        const char *file = o->populations ? o->populations : popfile;
        if (read_groups(tab, file, o->populations != NULL, err, errlen)) return -1;
        if (tab->ngroups) snprintf(tab->n_from, sizeof tab->n_from, "%s", ns_path_base(file));
    }
    char warn[sizeof tab->warning] = "";
    load_state ls = {tab, 0};
    if (ns_csv_read_spikes(spikes_csv, add_spike, &ls, warn, sizeof warn, err, errlen)) goto fail;
    if (warn[0]) snprintf(tab->warning, sizeof tab->warning, "%s", warn);
    if (ls.oom || sort_by_time(tab)) {
        snprintf(err, errlen, "%s: out of memory for %zu spikes", spikes_csv, tab->n);
        goto fail;
    }
    long lo = -1, hi = 0;
    if (tab->ngroups == 0) { /* one group of all the ids seen; ids are at most NS_CSV_MAX_ID */
        long maxid = -1;
        for (size_t j = 0; j < tab->n; j++)
            if (tab->id[j] > maxid) maxid = tab->id[j];
        snprintf(tab->names[0], sizeof tab->names[0], "all");
        tab->groups[0] = (ns_stats_pop){tab->names[0], 0, maxid + 1};
        tab->ngroups = 1;
        snprintf(tab->n_from, sizeof tab->n_from, "largest id");
    }
    for (int g = 0; g < tab->ngroups; g++) {
        if (lo < 0 || tab->groups[g].first < lo) lo = tab->groups[g].first;
        if (tab->groups[g].first + tab->groups[g].count > hi) hi = tab->groups[g].first + tab->groups[g].count;
    }
    tab->id0 = lo;
    tab->n_neurons = hi - lo;
    size_t keep = 0; /* spikes of neurons in no kept group go */
    for (size_t j = 0; j < tab->n; j++) {
        long id = tab->id[j];
        int in = 0;
        for (int g = 0; g < tab->ngroups && !in; g++)
            in = id >= tab->groups[g].first && id - tab->groups[g].first < tab->groups[g].count;
        if (!in) continue;
        tab->t[keep] = tab->t[j];
        tab->id[keep++] = id - lo;
    }
    tab->n = keep;
    for (int g = 0; g < tab->ngroups; g++) tab->groups[g].first -= lo;
    double t1 = o->t_ms > 0 ? o->t_ms : run_ms;
    if (tab->n_neurons <= 0 || (tab->n == 0 && !(t1 > 0))) { /* a NaN from run.json too */
        snprintf(err, errlen, "%s: no spikes to analyse", spikes_csv);
        goto fail;
    }
    tab->t0 = 0.0;
    snprintf(tab->t_from, sizeof tab->t_from, "%s", o->t_ms > 0 ? "--t-ms" : run_ms > 0 ? "run.json" : "last spike");
    /* spikes are stamped at the end of their step, so one stamped t1 belongs to [0, t1] */
    tab->t1 = t1 > 0 ? t1 : tab->t[tab->n - 1];
    if (!(tab->t1 > 0) || !isfinite(tab->t1)) {
        snprintf(err, errlen, "%s: the record ends at %g ms; give its duration with --t-ms MS", spikes_csv, tab->t1);
        goto fail;
    }
    tab->t1 = nextafter(tab->t1, HUGE_VAL);
    return 0;
fail:
    ns_spike_table_free(tab);
    return -1;
}

int ns_spike_table_load(ns_spike_table *tab, const char *spikes_csv, const ns_stats_pop *groups, int ngroups,
                        double t1_ms, char *err, size_t errlen)
{
    ns_spike_load_opts o = {.groups = groups, .ngroups = ngroups, .groups_from = "network", .t_ms = t1_ms};
    int rc = ns_spike_table_read(tab, spikes_csv, &o, err, errlen);
    if (!rc && t1_ms > 0) snprintf(tab->t_from, sizeof tab->t_from, "network");
    return rc;
}

void ns_spike_table_free(ns_spike_table *tab)
{
    free(tab->t);
    free(tab->id);
    tab->t = NULL;
    tab->id = NULL;
    tab->n = tab->cap = 0;
}

ns_stats_spikes ns_spike_table_view(const ns_spike_table *tab)
{
    return (ns_stats_spikes){tab->t, tab->id, (long)tab->n, tab->n_neurons, tab->t0, tab->t1};
}

/* Refuse an analysis that needs more than tab->max_bytes: 0, or -1 with what, the figure and
 * how it is made (how), and the limit. */
static int check_memory(const ns_spike_table *tab, double bytes, const char *what, const char *how, char *err,
                        size_t errlen)
{
    if (bytes <= tab->max_bytes) return 0;
    snprintf(err, errlen, "%s would need %.3g GB (%s), more than the limit of %.3g GB (--max-memory MB)", what,
             bytes / 1e9, how, tab->max_bytes / 1e9);
    return -1;
}

/* A CSV field, quoted when it holds a comma, a quote or a line end. */
static void put_field(FILE *fp, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fprintf(fp, ",%s", s);
        return;
    }
    fputs(",\"", fp);
    for (; *s; s++) {
        if (*s == '"') fputc('"', fp);
        if (*s != '\r' && *s != '\n') fputc(*s, fp);
    }
    fputc('"', fp);
}

int ns_analyze_stats_sd(const ns_spike_table *tab, const ns_stats_opts *o, ns_stats_sd cv_sd,
                        ns_stats_summary *rows, const char *csv_path, char *err, size_t errlen)
{
    ns_stats_spikes v = ns_spike_table_view(tab);
    long pairs = 0;
    for (int g = 0; g < tab->ngroups; g++) {
        double c = (double)tab->groups[g].count, all = c * (c - 1) / 2;
        pairs += o->pairs < all ? o->pairs : (long)all;
    }
    char how[160];
    snprintf(how, sizeof how, "%ld neurons x 64 bytes + %ld pairs x 56 bytes", tab->n_neurons, pairs);
    if (check_memory(tab, ns_stats_summary_bytes(tab->n_neurons, pairs), "spike statistics", how, err, errlen))
        return -1;
    if (ns_stats_summarize(&v, tab->groups, tab->ngroups, o->bin_ms, o->pairs, o->seed, cv_sd, rows, err, errlen))
        return -1;
    if (!csv_path) return 0;
    char tmp[4200], line[1024];
    FILE *fp = ns_file_start(csv_path, tmp, sizeof tmp, err, errlen);
    if (!fp) return -1;
    fputs(NS_ANALYZE_STATS_HEADER "\n", fp);
    for (int g = 0; g < tab->ngroups; g++) {
        if (ns_stats_summary_csv(&rows[g], line, sizeof line) < 0) continue;
        /* t1 is one ulp past the duration (see ns_spike_table_read) */
        fprintf(fp, "%s,%.10g,%s,%.10g", line, o->bin_ms, cv_sd == NS_STATS_SD_POPULATION ? "population" : "sample",
                nextafter(tab->t1, -HUGE_VAL) - tab->t0);
        put_field(fp, tab->t_from);
        put_field(fp, tab->n_from);
        fputc('\n', fp);
    }
    return ns_file_finish(fp, tmp, csv_path, err, errlen);
}

int ns_analyze_stats(const ns_spike_table *tab, const ns_stats_opts *o, ns_stats_summary *rows,
                     const char *csv_path, char *err, size_t errlen)
{
    return ns_analyze_stats_sd(tab, o, NS_STATS_SD_SAMPLE, rows, csv_path, err, errlen);
}

int ns_analyze_rates(const ns_spike_table *tab, double bin_ms, double **rate, long *nbins, char *err, size_t errlen)
{
    ns_stats_spikes v = ns_spike_table_view(tab);
    long nb = ns_stats_nbins(v.t0_ms, v.t1_ms, bin_ms);
    if (nb < 1) {
        snprintf(err, errlen, "bin %g ms: the record (%g ms) holds no whole bin", bin_ms, v.t1_ms - v.t0_ms);
        return -1;
    }
    char how[160];
    snprintf(how, sizeof how, "%ld bins of %g ms x %d population(s) x 8 bytes", nb, bin_ms, tab->ngroups);
    if (check_memory(tab, 8.0 * (double)nb * tab->ngroups, "the population rates", how, err, errlen)) return -1;
    double *r = malloc((size_t)nb * (size_t)tab->ngroups * sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int g = 0; g < tab->ngroups; g++)
        if (ns_stats_pop_rate_binned(&v, &tab->groups[g], bin_ms, r + (size_t)g * (size_t)nb, nb, err, errlen)) {
            free(r);
            return -1;
        }
    *rate = r;
    *nbins = nb;
    return 0;
}

void ns_psd_opts_default(ns_psd_opts *o)
{
    *o = (ns_psd_opts){.bin_ms = 1.0, .overlap = 0.5, .window = NS_WINDOW_HANN, .detrend = NS_DETREND_MEAN, .nw = 4};
}

/* The frequencies of a spectrum of n samples by o's method; *seg gets the Welch segment (o's,
 * or the largest power of two <= n/4, from 16 to 4096). */
static long psd_plan(const ns_psd_opts *o, long n, long *seg)
{
    *seg = o->segment;
    if (!o->multitaper && *seg <= 0)
        for (*seg = 4096; *seg > 16 && *seg > n / 4; *seg /= 2) {}
    return o->multitaper ? ns_psd_nfreq(n) : ns_psd_nfreq(*seg);
}

/* The spectrum of x[n], sampled at fs_hz, by o's method: out[nf] and f[nf] (nf from psd_plan). */
static int psd_one(ns_fft_cache *cache, const double *x, long n, long seg, double fs_hz, const ns_psd_opts *o,
                   double *out, double *f, char *err, size_t errlen)
{
    if (o->multitaper) {
        ns_mtm_opts m = {.nw = o->nw > 0 ? o->nw : 4, .k = 0, .detrend = o->detrend, .fs_hz = fs_hz, .adaptive = 0};
        return ns_psd_multitaper(cache, x, n, &m, out, f, err, errlen);
    }
    ns_welch_opts w = {.segment = seg, .overlap = o->overlap, .window = o->window, .detrend = o->detrend, .fs_hz = fs_hz};
    return ns_psd_welch(cache, x, n, &w, out, f, err, errlen);
}

/* The spectra of m signals of n samples each (x[i * n + j]) sampled at fs_hz, by o's method:
 * *freq[nf], and *psd[i * nf + k], or with mean set their mean *psd[k]; the caller frees both.
 * With o->wisdom, FFT plans are measured once and the wisdom kept there for the next call. */
static int psd_signals(const double *x, long m, long n, double fs_hz, const ns_psd_opts *o, int mean, double **freq,
                       double **psd, long *nf, char *err, size_t errlen)
{
    long seg, n_f = psd_plan(o, n, &seg);
    size_t rows = mean ? 1 : (size_t)m;
    double *f = malloc((size_t)n_f * sizeof *f), *p = calloc(rows * (size_t)n_f, sizeof *p);
    double *one = malloc((size_t)n_f * sizeof *one);
    ns_fft_cache *cache = ns_fft_cache_create(o->wisdom ? NS_FFT_MEASURE : 0);
    int rc = -1;
    FILE *known = o->wisdom ? fopen(o->wisdom, "r") : NULL;
    if (known) {
        fclose(known);
        if (cache && ns_fft_cache_import_wisdom(cache, o->wisdom, err, errlen)) goto done;
    }
    if (!f || !p || !one || !cache) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (long i = 0; i < m; i++) {
        double *out = mean ? one : p + (size_t)i * (size_t)n_f;
        if (psd_one(cache, x + (size_t)i * (size_t)n, n, seg, fs_hz, o, out, f, err, errlen)) goto done;
        for (long k = 0; mean && k < n_f; k++) p[k] += one[k] / (double)m;
    }
    if (o->wisdom && ns_fft_cache_export_wisdom(cache, o->wisdom, err, errlen)) goto done;
    rc = 0;
done:
    ns_fft_cache_free(cache);
    free(one);
    if (rc) {
        free(f);
        free(p);
    } else {
        *freq = f;
        *psd = p;
        *nf = n_f;
    }
    return rc;
}

/* psd.csv: f_hz and one column per group. */
static int write_psd_csv(const ns_spike_table *tab, const double *f, const double *p, long n_f, const char *path,
                         char *err, size_t errlen)
{
    char tmp[4200];
    FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, errlen);
    if (!fp) return -1;
    fputs("f_hz", fp);
    for (int g = 0; g < tab->ngroups; g++) fprintf(fp, ",%s", tab->names[g]);
    fputc('\n', fp);
    for (long k = 0; k < n_f; k++) {
        fprintf(fp, "%.10g", f[k]);
        for (int g = 0; g < tab->ngroups; g++) fprintf(fp, ",%.6g", p[(size_t)g * (size_t)n_f + (size_t)k]);
        fputc('\n', fp);
    }
    return ns_file_finish(fp, tmp, path, err, errlen);
}

int ns_analyze_psd(const ns_spike_table *tab, const ns_psd_opts *o, double **freq, double **psd, long *nf,
                   const char *csv_path, char *err, size_t errlen)
{
    double *rate, *f, *p;
    long nb, n_f;
    if (!(o->bin_ms > 0)) {
        snprintf(err, errlen, "bin width %g ms must be positive", o->bin_ms);
        return -1;
    }
    long nbins = ns_stats_nbins(tab->t0, tab->t1, o->bin_ms), seg;
    if (nbins > 0) { /* the rates, and the spectrum's work arrays: Welch's are one segment long,
                        multitaper's as long as the series, one per taper and a few more */
        long n_f = psd_plan(o, nbins, &seg);
        double per_bin = o->multitaper ? 8.0 * (2.0 * (o->nw > 0 ? o->nw : 4) + 6.0) : 0.0;
        double need = 8.0 * (double)nbins * tab->ngroups + per_bin * (double)nbins +
                      8.0 * (double)(n_f * (tab->ngroups + 2) + 8 * seg);
        char how[200];
        snprintf(how, sizeof how, "%ld bins of %g ms x %d population(s) x 8 bytes%s", nbins, o->bin_ms, tab->ngroups,
                 o->multitaper ? ", and the tapers" : "");
        if (check_memory(tab, need, "the spectrum", how, err, errlen)) return -1;
    }
    if (ns_analyze_rates(tab, o->bin_ms, &rate, &nb, err, errlen)) return -1;
    int rc = psd_signals(rate, tab->ngroups, nb, 1000.0 / o->bin_ms, o, 0, &f, &p, &n_f, err, errlen);
    free(rate);
    if (rc) return -1;
    if (csv_path && write_psd_csv(tab, f, p, n_f, csv_path, err, errlen)) {
        free(f);
        free(p);
        return -1;
    }
    *freq = f;
    *psd = p;
    *nf = n_f;
    return 0;
}

int ns_fig_kind_parse(const char *name)
{
    static const char *const names[] = {"summary", "psd", "rate_hist", "isi_hist"};
    for (int k = 0; k < 4; k++)
        if (!strcmp(name, names[k])) return k;
    return -1;
}

static void group_colours(const ns_spike_table *tab, ns_raster_group *groups)
{
    for (int g = 0; g < tab->ngroups; g++)
        groups[g] = (ns_raster_group){tab->names[g], tab->groups[g].first, tab->groups[g].count};
}

int ns_analyze_raster(const ns_spike_table *tab, const char *title, const char *png_path, const char *const *keys,
                      const char *const *values, int n_text, const char *src, char *err, size_t errlen)
{
    ns_raster_group groups[NS_MAX_GROUPS];
    group_colours(tab, groups);
    ns_raster *r = ns_raster_create(tab->t0, tab->t1, tab->n_neurons, groups, tab->ngroups, title);
    if (!r) {
        snprintf(err, errlen, "%s: cannot make a raster of %ld neurons", src, tab->n_neurons);
        return -1;
    }
    for (size_t j = 0; j < tab->n; j++) ns_raster_add(r, tab->t[j], tab->id[j]);
    int rc = ns_raster_write(r, png_path, keys, values, n_text, err, errlen);
    ns_raster_free(r);
    return rc;
}

static int summary_figure(const ns_spike_table *tab, const ns_psd_opts *o, double rate_bin_ms, const char *title,
                          const char *path, const char *const *keys, const char *const *values, int n_text,
                          char *err, size_t errlen)
{
    double *rate = NULL, *f = NULL, *p = NULL, *tc = NULL;
    long nb = 0, nf = 0;
    int rc = -1;
    if (ns_analyze_rates(tab, rate_bin_ms, &rate, &nb, err, errlen)) return -1;
    if (ns_analyze_psd(tab, o, &f, &p, &nf, NULL, err, errlen)) goto done;
    tc = malloc((size_t)nb * sizeof *tc);
    if (!tc) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (long b = 0; b < nb; b++) tc[b] = tab->t0 + (b + 0.5) * rate_bin_ms;
    const double *rates[NS_MAX_GROUPS], *psds[NS_MAX_GROUPS];
    for (int g = 0; g < tab->ngroups; g++) {
        rates[g] = rate + (size_t)g * (size_t)nb;
        psds[g] = p + (size_t)g * (size_t)nf;
    }
    ns_raster_group groups[NS_MAX_GROUPS];
    group_colours(tab, groups);
    ns_plot_run run = {
        .title = title, .t0_ms = tab->t0, .t1_ms = tab->t1, .n_neurons = tab->n_neurons,
        .groups = groups, .n_groups = tab->ngroups, .spike_t_ms = tab->t, .spike_neuron = tab->id,
        .n_spikes = (long)tab->n, .rate_t_ms = tc, .n_rate = nb, .rate_hz = rates,
        .n_rate_series = tab->ngroups, .f_hz = f, .n_f = nf, .psd = psds, .n_psd_series = tab->ngroups,
    };
    rc = ns_plot_summary(path, &run, keys, values, n_text, err, errlen);
done:
    free(rate);
    free(f);
    free(p);
    free(tc);
    return rc;
}

static int psd_figure(const ns_spike_table *tab, const ns_psd_opts *o, const char *title, const char *path,
                      const char *const *keys, const char *const *values, int n_text, char *err, size_t errlen)
{
    double *f, *p;
    long nf;
    if (ns_analyze_psd(tab, o, &f, &p, &nf, NULL, err, errlen)) return -1;
    ns_plot_series series[NS_MAX_GROUPS];
    for (int g = 0; g < tab->ngroups; g++)
        series[g] = (ns_plot_series){tab->names[g], f, p + (size_t)g * (size_t)nf, nf, 0};
    const ns_plot_band *bands;
    int nbands = ns_plot_standard_bands(&bands);
    ns_plot_opts po = {.title = title ? title : "Power spectrum of the population rate",
                       .x_label = "frequency (Hz)", .y_label = "PSD (Hz²/Hz)", .x_log = 1, .y_log = 1,
                       .bands = bands, .n_bands = nbands};
    int rc = ns_plot_lines(path, series, tab->ngroups, &po, keys, values, n_text, err, errlen);
    free(f);
    free(p);
    return rc;
}

static int rate_hist_figure(const ns_spike_table *tab, const char *title, const char *path, const char *const *keys,
                            const char *const *values, int n_text, char *err, size_t errlen)
{
    ns_stats_spikes v = ns_spike_table_view(tab);
    char how[160];
    snprintf(how, sizeof how, "%ld neurons x 8 bytes", tab->n_neurons);
    if (check_memory(tab, 8.0 * (double)tab->n_neurons, "the rate histogram", how, err, errlen)) return -1;
    double *rate = malloc((size_t)tab->n_neurons * sizeof *rate);
    if (!rate) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = ns_stats_rates(&v, rate, err, errlen);
    /* a rate is a spike count over the duration: bins of whole multiples of 1 / T */
    ns_plot_opts po = {.title = title ? title : "Firing rates", .x_label = "rate (Hz)", .y_label = "neurons",
                       .x_quantum = 1000.0 / (tab->t1 - tab->t0)};
    if (!rc) rc = ns_plot_hist_values(path, rate, tab->n_neurons, 50, &po, keys, values, n_text, err, errlen);
    free(rate);
    return rc;
}

static int isi_hist_figure(const ns_spike_table *tab, const char *title, const char *path, const char *const *keys,
                           const char *const *values, int n_text, char *err, size_t errlen)
{
    char how[160];
    snprintf(how, sizeof how, "%ld neurons x 8 bytes + %zu spikes x 8 bytes", tab->n_neurons, tab->n);
    if (check_memory(tab, 8.0 * ((double)tab->n_neurons + (double)tab->n), "the ISI histogram", how, err, errlen))
        return -1;
    double *last = malloc((size_t)tab->n_neurons * sizeof *last);
    double *isi = malloc((tab->n ? tab->n : 1) * sizeof *isi);
    long n = 0;
    int rc = -1;
    if (!last || !isi) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (long i = 0; i < tab->n_neurons; i++) last[i] = NAN;
    for (size_t j = 0; j < tab->n; j++) { /* spikes are in time order */
        long id = tab->id[j];
        if (!isnan(last[id])) isi[n++] = tab->t[j] - last[id];
        last[id] = tab->t[j];
    }
    ns_plot_opts po = {.title = title ? title : "Inter-spike intervals", .x_label = "ISI (ms)",
                       .y_label = "intervals", .x_log = 1};
    rc = ns_plot_hist_values(path, isi, n, 60, &po, keys, values, n_text, err, errlen);
done:
    free(last);
    free(isi);
    return rc;
}

int ns_analyze_figure(const ns_spike_table *tab, ns_fig_kind kind, const ns_psd_opts *o, double rate_bin_ms,
                      const char *title, const char *png_path, const char *const *keys,
                      const char *const *values, int n_text, char *err, size_t errlen)
{
    switch (kind) {
    case NS_FIG_SUMMARY:
        return summary_figure(tab, o, rate_bin_ms, title, png_path, keys, values, n_text, err, errlen);
    case NS_FIG_PSD: return psd_figure(tab, o, title, png_path, keys, values, n_text, err, errlen);
    case NS_FIG_RATE_HIST: return rate_hist_figure(tab, title, png_path, keys, values, n_text, err, errlen);
    case NS_FIG_ISI_HIST: return isi_hist_figure(tab, title, png_path, keys, values, n_text, err, errlen);
    }
    snprintf(err, errlen, "unknown figure kind %d", (int)kind);
    return -1;
}

int ns_state_traces_load(ns_state_traces *st, const char *state_csv, const char *var, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    ns_csv_table t;
    if (ns_csv_read_table(state_csv, &t, err, errlen)) return -1;
    int rc = -1;
    long col = -1;
    if (!t.names || t.ncol < 3 || strcmp(t.names[0], "t_ms") || strcmp(t.names[1], "neuron")) {
        snprintf(err, errlen, "%s:1: expected a state record header t_ms,neuron,VAR...", state_csv);
        goto done;
    }
    for (long c = 2; c < t.ncol; c++)
        if (!strcmp(t.names[c], var)) col = c;
    if (col < 0) {
        snprintf(err, errlen, "%s:1: no column '%s'", state_csv, var);
        goto done;
    }
    for (long r = 0; r < t.nrow; r++) { /* finite times and whole ids before any arithmetic on them */
        const double tr = t.v[r * t.ncol], id = t.v[r * t.ncol + 1];
        if (!isfinite(tr) || !(id >= 0 && id <= (double)NS_CSV_MAX_ID && id == floor(id))) {
            snprintf(err, errlen, "%s:%ld: expected a finite t_ms and a neuron id in [0, %ld], got %g and %g", state_csv,
                     r + 2, NS_CSV_MAX_ID, tr, id);
            goto done;
        }
    }
    /* rows come as (time, then neurons in a fixed order): the first time's rows name the units */
    long nu = 0;
    while (nu < t.nrow && t.v[nu * t.ncol] == t.v[0]) nu++;
    snprintf(st->warning, sizeof st->warning, "%s", t.warning);
    if (t.warning[0] && t.nrow > nu && t.nrow % nu) { /* a run cut short: its last sample is partial too */
        snprintf(st->warning + strlen(t.warning), sizeof st->warning - strlen(t.warning),
                 ", and the %ld rows of the last sample before it", t.nrow % nu);
        t.nrow -= t.nrow % nu;
    }
    if (t.nrow % nu) {
        snprintf(err, errlen, "%s: %ld rows are not whole samples of %ld neurons", state_csv, t.nrow, nu);
        goto done;
    }
    st->n_units = nu;
    st->nt = t.nrow / nu;
    st->t0 = t.v[0];
    st->dt = st->nt > 1 ? t.v[nu * t.ncol] - t.v[0] : 1.0;
    st->trace = malloc((size_t)t.nrow * sizeof *st->trace);
    st->ids = malloc((size_t)nu * sizeof *st->ids);
    if (!st->trace || !st->ids) {
        snprintf(err, errlen, "%s: out of memory", state_csv);
        goto done;
    }
    for (long u = 0; u < nu; u++) st->ids[u] = (long)t.v[u * t.ncol + 1];
    for (long j = 0; j < st->nt; j++)
        for (long u = 0; u < nu; u++) {
            const double *row = t.v + (j * nu + u) * t.ncol;
            if ((long)row[1] != st->ids[u] || fabs(row[0] - (st->t0 + j * st->dt)) > 1e-6 * st->dt) {
                snprintf(err, errlen, "%s:%ld: samples must come at a fixed interval, the same neurons each time",
                         state_csv, j * nu + u + 2);
                goto done;
            }
            st->trace[u * st->nt + j] = row[col];
        }
    rc = 0;
done:
    ns_csv_table_free(&t);
    if (rc) ns_state_traces_free(st);
    return rc;
}

void ns_state_traces_free(ns_state_traces *st)
{
    free(st->trace);
    free(st->ids);
    memset(st, 0, sizeof *st);
}

int ns_analyze_trace_psd(const ns_state_traces *st, const ns_psd_opts *o, double **freq, double **psd, long *nf,
                         char *err, size_t errlen)
{
    ns_psd_opts estimated = *o;
    estimated.wisdom = NULL; /* the wisdom file is for the population spectra */
    return psd_signals(st->trace, st->n_units, st->nt, 1000.0 / st->dt, &estimated, 1, freq, psd, nf, err, errlen);
}

int ns_analyze_sta(const ns_spike_table *tab, const ns_state_traces *st, double pre_ms, double post_ms,
                   double **sta, long *n_lags, long *n_used, char *err, size_t errlen)
{
    long nl = ns_stats_sta_lags(st->dt, pre_ms, post_ms);
    if (nl < 1) {
        snprintf(err, errlen, "pre %g and post %g ms must be >= 0", pre_ms, post_ms);
        return -1;
    }
    double *sum = calloc((size_t)nl, sizeof *sum), *one = malloc((size_t)nl * sizeof *one);
    if (!sum || !one) {
        free(sum);
        free(one);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ns_stats_spikes v = ns_spike_table_view(tab);
    long total = 0;
    for (long u = 0; u < st->n_units; u++) {
        long id = st->ids[u] - tab->id0, used = 0;
        if (id < 0 || id >= tab->n_neurons) continue; /* a traced neuron outside the record */
        if (ns_stats_sta(&v, &id, 1, st->trace + u * st->nt, st->nt, st->t0, st->dt, pre_ms, post_ms, one, nl,
                         &used, err, errlen)) {
            free(sum);
            free(one);
            return -1;
        }
        for (long k = 0; used && k < nl; k++) sum[k] += one[k] * (double)used;
        total += used;
    }
    for (long k = 0; k < nl; k++) sum[k] = total ? sum[k] / (double)total : NAN;
    free(one);
    *sta = sum;
    *n_lags = nl;
    *n_used = total;
    return 0;
}
