/* tests/test_records.c — the records cross-check: every example runs (shortened) into a fresh
 * folder, and each record that can be derived from another is derived here again, with this
 * file's own CSV reading and arithmetic (no nsim library code), and compared with what nsim wrote.
 *
 * What is derived and compared:
 * - rate.csv from spikes.csv and populations.csv: every bin of every population column, the bin
 *   width read from rate.csv itself (a spike stamped t is in the bin [b, b + bin) holding t);
 * - stats.csv from spikes.csv: neurons, spikes, rate_hz, rate_sd_hz, cv_isi_mean, fano (and
 *   fano_pop if present) exactly; corr_mean and pairs, drawn from a random sample of pairs, against
 *   the mean over all pairs within five standard errors (exactly when every pair is drawn);
 *   brunel_states.lua's states.csv against the same numbers at its printed precision;
 * - a lif state record against spikes.csv: each spike of a recorded unit is followed by V_m at
 *   V_reset at the next sample, each drop onto V_reset has its spike, V_m never exceeds V_th; a
 *   synaptic current sampled every step jumps by the weight exactly one delay after each spike of
 *   its source, and only then;
 * - `nsim plot heatmap`: the colour of each cell's centre, read back through the figure's own
 *   colour bar, is the matrix value (row 0 at the bottom, columns left to right);
 * - run.json: status, networks, neurons (populations files), spikes (spike records), the records
 *   listed exist and every record file written is listed; spike times on the dt grid in (0, T],
 *   sorted, ids in range; state samples on their interval grid up to T.
 * The training examples hold no record derivable from another and are skipped with a reason; a
 * script in examples/ missing from the table below fails. The checker is checked too: copies of
 * the records with one deliberate error each (a spike more in a bin, a statistic off by 1e-6, ...)
 * must fail more checks than the originals. NSIM_KEEP_RECORDS=1 keeps the folders.
 * Last line: "N passed, N failed". */
#include "tests/harness.h"
#include "tests/pngread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- what each example is run with and which of its records derive from which ------------- */

typedef struct {
    const char *stats, *spikes; /* stats file and the spike record it summarises */
    double bin_ms;              /* the Fano and correlation bin the script asked for */
    long pairs;                 /* pairs asked for (nsim.stats's default 1000) */
} stats_link;

typedef struct {
    const char *state;       /* a state record of lif units */
    double v_reset, v_th;    /* mV, as the script sets them */
    const char *current;     /* a synaptic current column, or NULL */
    const char *source;      /* population whose spikes drive it (all to all) */
    double weight, delay_ms; /* pA per spike, ms */
} state_link;

typedef struct {
    const char *script;       /* file in examples/ */
    const char *sets[4];      /* --set arguments */
    const char *skip;         /* why it is not run, or NULL */
    int all_spiking_recorded; /* run.json's spike count must equal the spike records' */
    stats_link stats[4];
    state_link states[2];
} example;

static const example examples[] = {
    {"brunel.lua", {"t_ms=200", "scale=0.1"}, NULL, 1, {{"stats.csv", "spikes.csv", 5, 1000}}, {{0}}},
    {"cuba.lua", {"t_ms=300"}, NULL, 1, {{"stats.csv", "spikes.csv", 5, 1000}}, {{0}}},
    {"coba.lua", {"t_ms=300"}, NULL, 1, {{"stats.csv", "spikes.csv", 5, 1000}}, {{0}}},
    {"devices.lua", {"t_ms=300"}, NULL, 1, {{0}},
     {{"dc_trace.csv", -70, -55, NULL, NULL, 0, 0},
      {"fed_trace.csv", -70, -55, "I_ex", "src", 900, 1.0}}},
    {"brunel_states.lua", {"t_ms=200", "scale=0.1"}, NULL, 1,
     {{"stats_SR.csv", "spikes_SR.csv", 1, 1000}, {"stats_AI.csv", "spikes_AI.csv", 1, 1000},
      {"stats_SIf.csv", "spikes_SIf.csv", 1, 1000}, {"stats_SIs.csv", "spikes_SIs.csv", 1, 1000}},
     {{0}}},
    {"cfc_vs_ltc.lua", {"t_ms=200", "units=8"}, NULL, 1, {{0}}, {{0}}},
    {"cfc_onward.lua", {"t_ms=300"}, NULL, 1, {{0}}, {{0}}},
    {"lattice_rules.lua", {"t_ms=200"}, NULL, 0, {{0}}, {{0}}}, /* its spike source is not recorded */
    {"kg_dispersion.lua", {"t_ms=100"}, NULL, 1, {{0}}, {{0}}},
    {"kg_equipartition.lua", {"t_ms=600"}, NULL, 1, {{0}}, {{0}}},
    {"kg_damped.lua", {"t_ms=400"}, NULL, 1, {{0}}, {{0}}},
    {"kg_canonical.lua", {"t_ms=400"}, NULL, 1, {{0}}, {{0}}},
    {"trained_in_sim.lua", {"epochs=1", "limit=300"}, NULL, 1, {{0}}, {{0}}},
    {"trained_nir.lua", {"epochs=1", "limit=300"}, NULL, 1, {{0}}, {{0}}},
    {"kg_neurons.lua", {"t_ms=14"}, NULL, 1, {{0}}, {{0}}}, /* and wave_arrival.csv, below */
    {"kuramoto_delay.lua", {"t_ms=150"}, NULL, 1, {{0}}, {{0}}}, /* no spikes; tests/test_kuramoto_examples.sh checks its CSVs */
    {"s2net_ring.lua", {"t_ms=150"}, NULL, 1, {{0}}, {{0}}},
    {"s2net_binding.lua", {"t_ms=300"}, NULL, 1, {{0}}, {{0}}}, /* binding.csv: tests/test_s2net_examples.sh */
    {"s2net_connectome.lua", {"t_ms=400"}, NULL, 1, {{0}}, {{0}}}, /* locking.csv: tests/test_s2net_examples.sh */
    {"lif_ps_network.lua", {"t_ms=200", "n=1000"}, NULL, 0, {{0}}, {{0}}}, /* two records of one network;
                                                                           tests/test_lif_ps_example.sh */
    {"microcircuit.lua", {"scale=0.05", "t_ms=200", "warmup_ms=50"}, NULL, 1, {{0}}, {{0}}}, /* its tables: tests/test_microcircuit.sh */
    {"stdp_song.lua", {"t_ms=2000", "n_in=200"}, NULL, 0, {{0}}, {{0}}}, /* its inputs are not recorded; weight files: tests/test_stdp.sh */
    {"compare_fmnist.lua", {0}, "training only: compare.csv and figures, no record derivable from another", 0,
     {{0}}, {{0}}},
    {"compare_randman.lua", {0}, "training only: compare.csv and figures, no record derivable from another", 0,
     {{0}}, {{0}}},
};
enum { N_EXAMPLES = sizeof examples / sizeof examples[0] };

/* ---- a minimal CSV reader: header names, then rows of fields (strings) -------------------- */

typedef struct {
    char *buf;
    char **head;
    int ncol;
    char **f; /* f[row * ncol + col] */
    long nrow;
    int ragged; /* a row had another field count */
} csv;

static void csv_free(csv *c)
{
    free(c->buf);
    free(c->head);
    free(c->f);
    memset(c, 0, sizeof *c);
}

/* Read path; 0, or -1 if it cannot be read or is empty. */
static int csv_read(const char *path, csv *c)
{
    memset(c, 0, sizeof *c);
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    c->buf = malloc((size_t)len + 1);
    if (!c->buf || fread(c->buf, 1, (size_t)len, fp) != (size_t)len) {
        fclose(fp);
        csv_free(c);
        return -1;
    }
    fclose(fp);
    c->buf[len] = 0;
    long lines = 0;
    for (long i = 0; i < len; i++) lines += c->buf[i] == '\n';
    char *line = c->buf, *end = c->buf + len;
    long row = -1, cap = 0;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) nl = end;
        *nl = 0;
        if (nl > line && nl[-1] == '\r') nl[-1] = 0;
        int nf = 1;
        for (char *p = line; *p; p++) nf += *p == ',';
        if (row < 0) {
            c->ncol = nf;
            c->head = malloc((size_t)nf * sizeof *c->head);
            cap = (lines + 1) * nf;
            c->f = malloc((size_t)cap * sizeof *c->f);
            if (!c->head || !c->f) {
                csv_free(c);
                return -1;
            }
        }
        char **dst = row < 0 ? c->head : c->f + row * c->ncol;
        if (row >= 0 && nf != c->ncol) {
            c->ragged = 1;
            line = nl + 1;
            continue;
        }
        char *p = line;
        for (int k = 0; k < nf; k++) {
            dst[k] = p;
            char *comma = strchr(p, ',');
            if (comma) {
                *comma = 0;
                p = comma + 1;
            }
        }
        row++;
        line = nl + 1;
    }
    if (row < 0) {
        csv_free(c);
        return -1;
    }
    c->nrow = row;
    return 0;
}

static int csv_col(const csv *c, const char *name)
{
    for (int k = 0; k < c->ncol; k++)
        if (!strcmp(c->head[k], name)) return k;
    return -1;
}

static const char *csv_s(const csv *c, long r, int k) { return c->f[r * c->ncol + k]; }

/* The field as a number; NaN if it is not one ("nan" is NaN too). */
static double csv_d(const csv *c, long r, int k)
{
    const char *s = csv_s(c, r, k);
    char *e;
    double v = strtod(s, &e);
    return (e == s || *e) ? NAN : v;
}

/* ---- run.json: the few fields used, found by key (the file is nsim's own flat layout) ------ */

typedef struct {
    char file[128], popfile[128];
    int network;
    double t_ms;
} record;

typedef struct {
    char *text;
    char status[32];
    double networks, dt_ms, neurons, spikes;
    record rec[64];
    int nrec;
} runinfo;

/* The number after the first "key": in s (NaN if absent). */
static double json_num(const char *s, const char *key)
{
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(s, pat);
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

/* The string after the first "key": in s, into out (empty if absent). */
static void json_str(const char *s, const char *key, char *out, size_t len)
{
    char pat[80];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(s, pat);
    out[0] = 0;
    if (!p) return;
    p += strlen(pat);
    const char *q = strchr(p, '"');
    if (q && (size_t)(q - p) < len) {
        memcpy(out, p, (size_t)(q - p));
        out[q - p] = 0;
    }
}

static int runinfo_read(const char *dir, runinfo *ri)
{
    memset(ri, 0, sizeof *ri);
    char path[1024];
    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    ri->text = calloc((size_t)len + 1, 1);
    if (!ri->text || fread(ri->text, 1, (size_t)len, fp) != (size_t)len) {
        fclose(fp);
        return -1;
    }
    fclose(fp);
    json_str(ri->text, "status", ri->status, sizeof ri->status);
    ri->networks = json_num(ri->text, "networks");
    ri->dt_ms = json_num(ri->text, "dt_ms");
    ri->neurons = json_num(ri->text, "neurons");
    ri->spikes = json_num(ri->text, "spikes");
    const char *p = strstr(ri->text, "\"records\": {");
    if (!p) return -1;
    p += strlen("\"records\": {");
    for (;;) { /* "NAME": {"network": N, "populations": "P", "simulated_ms": T}, ... } */
        p += strspn(p, " \t\r\n,");
        if (*p != '"' || ri->nrec == 64) break;
        const char *q = strchr(p + 1, '"');
        const char *close = q ? strchr(q, '}') : NULL;
        if (!close) return -1;
        record *r = &ri->rec[ri->nrec++];
        snprintf(r->file, sizeof r->file, "%.*s", (int)(q - p - 1), p + 1);
        char body[512];
        snprintf(body, sizeof body, "%.*s", (int)(close - q), q);
        r->network = (int)json_num(body, "network");
        r->t_ms = json_num(body, "simulated_ms");
        json_str(body, "populations", r->popfile, sizeof r->popfile);
        p = close + 1;
    }
    return 0;
}

/* ---- populations and spikes -------------------------------------------------------------- */

typedef struct {
    char name[64][64];
    long first[64], size[64];
    int n;
    long total;
    int precise; /* a population of a precise model (lif_ps): spike times may lie inside a step */
} popset;

static int popset_find(const popset *ps, const char *name)
{
    for (int k = 0; k < ps->n; k++)
        if (!strcmp(ps->name[k], name)) return k;
    return -1;
}

typedef struct {
    double *t;
    long *step, *id;
    long n;
} spikelist;

static void spikes_free(spikelist *s)
{
    free(s->t);
    free(s->step);
    free(s->id);
    memset(s, 0, sizeof *s);
}

/* ---- checks with a message naming the example and the file -------------------------------- */

static const char *cur_example = "";
static int quiet; /* while a mutated copy is checked: count, print nothing */

/* Count a pass, or a failure printed as "FAIL example: message". */
static int check(int ok, const char *fmt, ...)
{
    if (ok) {
        ns_test_passed++;
        return 1;
    }
    ns_test_failed++;
    if (quiet) return 0;
    printf("FAIL %s: ", cur_example);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    return 0;
}

/* |got - want| within rel * |want| + abs (false for NaN unless both are NaN). */
static int close_to(double got, double want, double rel, double abs_tol)
{
    if (isnan(got) || isnan(want)) return isnan(got) && isnan(want);
    return fabs(got - want) <= rel * fabs(want) + abs_tol;
}

static const char *join(char *buf, size_t len, const char *dir, const char *file)
{
    snprintf(buf, len, "%s/%s", dir, file);
    return buf;
}

/* Read a populations file; checks its header, that ids are contiguous from 0 and size = last -
 * first + 1. */
static int read_pops(const char *dir, const char *file, popset *ps)
{
    memset(ps, 0, sizeof *ps);
    char path[1024];
    csv c;
    if (!check(csv_read(join(path, sizeof path, dir, file), &c) == 0, "%s: cannot read", file)) return -1;
    int kn = csv_col(&c, "population"), kf = csv_col(&c, "first"), kl = csv_col(&c, "last"),
        ks = csv_col(&c, "size"), km = csv_col(&c, "model");
    int ok = check(kn >= 0 && kf >= 0 && kl >= 0 && ks >= 0 && !c.ragged && c.nrow > 0 && c.nrow <= 64,
                   "%s: header or rows malformed", file);
    long next = 0, bad = 0;
    for (long r = 0; ok && r < c.nrow; r++) {
        int k = ps->n++;
        snprintf(ps->name[k], sizeof ps->name[k], "%s", csv_s(&c, r, kn));
        ps->first[k] = (long)csv_d(&c, r, kf);
        ps->size[k] = (long)csv_d(&c, r, ks);
        bad += ps->first[k] != next || (long)csv_d(&c, r, kl) - ps->first[k] + 1 != ps->size[k] ||
               ps->size[k] <= 0;
        next = ps->first[k] + ps->size[k];
        ps->precise |= km >= 0 && !strcmp(csv_s(&c, r, km), "lif_ps");
    }
    ps->total = next;
    if (ok) check(bad == 0, "%s: %ld populations whose ids are not contiguous from 0 or whose size is not last - first + 1", file, bad);
    csv_free(&c);
    return ok ? 0 : -1;
}

/* Read a spike record, checking its header, times on the dt grid in (0, T], (time, id) strictly
 * increasing and ids among the network's. In a network with a precise population (ps->precise)
 * times may lie inside a step: each is counted in the step that ends at or after it. */
static int read_spikes(const char *dir, const char *file, double dt, double t_ms, const popset *ps,
                       spikelist *s)
{
    const int precise = ps->precise;
    memset(s, 0, sizeof *s);
    char path[1024];
    csv c;
    if (!check(csv_read(join(path, sizeof path, dir, file), &c) == 0, "%s: cannot read", file)) return -1;
    int ok = check(c.ncol == 2 && !strcmp(c.head[0], "t_ms") && !strcmp(c.head[1], "neuron") && !c.ragged,
                   "%s: not a t_ms,neuron record", file);
    s->t = malloc((size_t)(c.nrow + 1) * sizeof *s->t);
    s->step = malloc((size_t)(c.nrow + 1) * sizeof *s->step);
    s->id = malloc((size_t)(c.nrow + 1) * sizeof *s->id);
    if (!s->t || !s->step || !s->id) ok = 0;
    long off_grid = 0, out_of_time = 0, unsorted = 0, bad_id = 0;
    long t_steps = llround(t_ms / dt);
    for (long r = 0; ok && r < c.nrow; r++) {
        double t = csv_d(&c, r, 0), id = csv_d(&c, r, 1);
        long k = precise ? (long)ceil(t / dt - 1e-9) : llround(t / dt);
        off_grid += !precise && !(fabs(t - (double)k * dt) <= 1e-9 * fmax(1, fabs(t)));
        out_of_time += k < 1 || k > t_steps;
        bad_id += !(id >= 0 && id < (double)ps->total && id == floor(id));
        if (r > 0 && !precise && !(k > s->step[r - 1] || (k == s->step[r - 1] && (long)id > s->id[r - 1]))) unsorted++;
        if (r > 0 && precise && !(t > s->t[r - 1] || (t == s->t[r - 1] && (long)id > s->id[r - 1]))) unsorted++;
        s->t[r] = t;
        s->step[r] = k;
        s->id[r] = (long)id;
        s->n++;
    }
    if (ok)
        check(off_grid == 0 && out_of_time == 0 && unsorted == 0 && bad_id == 0,
              "%s: %ld times off the %g ms grid, %ld outside (0, %g] ms, %ld out of (time, id) order, %ld ids outside [0, %ld)",
              file, off_grid, dt, out_of_time, t_ms, unsorted, bad_id, ps->total);
    csv_free(&c);
    if (!ok) spikes_free(s);
    return ok ? 0 : -1;
}

/* ---- rate.csv from spikes.csv ------------------------------------------------------------ */

static void check_rate(const char *dir, const record *rr, const csv *rate, const popset *ps,
                       const spikelist *sp, const char *spfile, double dt)
{
    int ok = check(rate->nrow >= 1 && !rate->ragged, "%s: no rows, or rows of unequal length", rr->file);
    if (!ok) return;
    double bin = rate->nrow >= 2 ? csv_d(rate, 1, 0) - csv_d(rate, 0, 0) : rr->t_ms;
    long bsteps = llround(bin / dt), t_steps = llround(rr->t_ms / dt), nb = t_steps / (bsteps > 0 ? bsteps : 1);
    ok = check(bsteps >= 1 && fabs(bin - (double)bsteps * dt) < 1e-6 * dt, "%s: bin %g ms is not a whole number of %g ms steps", rr->file, bin, dt);
    if (!ok) return;
    check(rate->nrow == nb, "%s: %ld rows, want %ld bins of %g ms in %g ms", rr->file, rate->nrow, nb, bin, rr->t_ms);
    long bad_t = 0;
    for (long r = 0; r < rate->nrow; r++) bad_t += fabs(csv_d(rate, r, 0) - (double)(r * bsteps) * dt) > 1e-6 * dt;
    check(bad_t == 0, "%s: %ld bin start times are not multiples of %g ms", rr->file, bad_t, bin);
    long rows = rate->nrow < nb ? rate->nrow : nb;
    long *count = calloc((size_t)rows + 1, sizeof *count);
    for (int k = 1; k < rate->ncol && count; k++) {
        int p = popset_find(ps, rate->head[k]);
        if (!check(p >= 0, "%s: column '%s' is no population of %s", rr->file, rate->head[k], rr->popfile)) continue;
        memset(count, 0, (size_t)rows * sizeof *count);
        long total = 0;
        for (long j = 0; j < sp->n; j++) {
            if (sp->id[j] < ps->first[p] || sp->id[j] >= ps->first[p] + ps->size[p]) continue;
            long b = sp->step[j] / bsteps; /* the bin [b, b + bin) that holds t */
            if (b < rows) count[b]++, total++;
        }
        long differ = 0, first_bad = -1, got_total = 0;
        double bin_s = (double)bsteps * dt / 1000;
        for (long r = 0; r < rows; r++) {
            double want = (double)count[r] / ((double)ps->size[p] * bin_s), got = csv_d(rate, r, k);
            got_total += llround(got * (double)ps->size[p] * bin_s);
            if (!close_to(got, want, 1e-5, 1e-9)) {
                differ++;
                if (first_bad < 0) first_bad = r;
            }
        }
        check(differ == 0,
              "%s column %s: %ld of %ld bins differ from %s binned at %g ms (first at t = %g ms: %g Hz, want %g Hz); "
              "%ld spikes in the column, %ld in %s",
              rr->file, rate->head[k], differ, rows, spfile, bin, first_bad >= 0 ? (double)(first_bad * bsteps) * dt : 0,
              first_bad >= 0 ? csv_d(rate, first_bad, k) : 0,
              first_bad >= 0 ? (double)count[first_bad] / ((double)ps->size[p] * bin_s) : 0, got_total, total, spfile);
    }
    free(count);
    (void)dir;
}

/* ---- statistics from spikes.csv ---------------------------------------------------------- */

typedef struct {
    long neurons, spikes;
    double rate, rate_sd, cv, fano, fano_pop;
    double corr_all, corr_sd; /* mean and sd of the correlation over all pairs of varying neurons */
    long varying;             /* neurons whose binned count varies */
} popstats;

/* The statistics of population p over [0, T] in bins of bin_ms, as docs/guide.md and
 * analysis/stats.h define them: n - 1 variances; ISI CV of neurons with >= 3 spikes; Fano of
 * neurons with spikes in the bins; a spike stamped T in the last bin. */
static void compute_stats(const spikelist *sp, const popset *ps, int p, double dt, double t_ms, double bin_ms,
                          popstats *o)
{
    memset(o, 0, sizeof *o);
    long first = ps->first[p], n = ps->size[p];
    long bsteps = llround(bin_ms / dt), t_steps = llround(t_ms / dt), nb = t_steps / bsteps;
    int covers = nb * bsteps == t_steps;
    long *cnt = calloc((size_t)n, sizeof *cnt);
    double *last = calloc((size_t)n, sizeof *last);
    double *isi_s = calloc((size_t)n, sizeof *isi_s), *isi_ss = calloc((size_t)n, sizeof *isi_ss);
    double *bins = calloc((size_t)n * (size_t)nb, sizeof *bins);
    double *popc = calloc((size_t)nb, sizeof *popc);
    if (!cnt || !last || !isi_s || !isi_ss || !bins || !popc) goto done;
    for (long j = 0; j < sp->n; j++) {
        long i = sp->id[j] - first;
        if (i < 0 || i >= n) continue;
        if (cnt[i] > 0) {
            double x = sp->t[j] - last[i];
            isi_s[i] += x;
            isi_ss[i] += x * x;
        }
        last[i] = sp->t[j];
        cnt[i]++;
        long b = sp->step[j] / bsteps;
        if (b >= nb) b = covers ? nb - 1 : -1;
        if (b >= 0) bins[i * nb + b] += 1, popc[b] += 1;
    }
    double t_s = t_ms / 1000, sum = 0, ss = 0, cv_sum = 0, fano_sum = 0;
    long cv_n = 0, fano_n = 0;
    o->neurons = n;
    for (long i = 0; i < n; i++) {
        o->spikes += cnt[i];
        sum += (double)cnt[i] / t_s;
        if (cnt[i] >= 3) { /* sd (n - 1) over mean of the cnt - 1 intervals */
            double m = (double)(cnt[i] - 1), mean = isi_s[i] / m;
            double var = (isi_ss[i] - m * mean * mean) / (m - 1);
            cv_sum += sqrt(var > 0 ? var : 0) / mean;
            cv_n++;
        }
        double s1 = 0, s2 = 0;
        for (long b = 0; b < nb; b++) s1 += bins[i * nb + b], s2 += bins[i * nb + b] * bins[i * nb + b];
        if (s1 > 0) {
            fano_sum += (s2 - s1 * s1 / (double)nb) / (double)(nb - 1) / (s1 / (double)nb);
            fano_n++;
        }
    }
    o->rate = sum / (double)n;
    for (long i = 0; i < n; i++) ss += ((double)cnt[i] / t_s - o->rate) * ((double)cnt[i] / t_s - o->rate);
    o->rate_sd = n > 1 ? sqrt(ss / (double)(n - 1)) : NAN;
    o->cv = cv_n ? cv_sum / (double)cv_n : NAN;
    o->fano = fano_n ? fano_sum / (double)fano_n : NAN;
    double p1 = 0, p2 = 0;
    for (long b = 0; b < nb; b++) p1 += popc[b], p2 += popc[b] * popc[b];
    o->fano_pop = p1 > 0 ? (p2 - p1 * p1 / (double)nb) / (double)(nb - 1) / (p1 / (double)nb) : NAN;

    /* Correlation over all pairs: each varying neuron's counts centred and scaled to unit norm
     * (rows z_i), so corr_ij = z_i . z_j; the sum over pairs is (|sum z_i|^2 - k) / 2 and the
     * sum of squares (|Z^T Z|_F^2 - k) / 2, with Z^T Z only nb x nb. */
    long k = 0;
    for (long i = 0; i < n; i++) {
        double *z = bins + i * nb, m = 0, v = 0;
        for (long b = 0; b < nb; b++) m += z[b];
        m /= (double)nb;
        for (long b = 0; b < nb; b++) v += (z[b] - m) * (z[b] - m);
        if (v <= 1e-12) continue;
        double *dst = bins + k * nb, sc = 1 / sqrt(v);
        for (long b = 0; b < nb; b++) dst[b] = (z[b] - m) * sc;
        k++;
    }
    o->varying = k;
    o->corr_all = o->corr_sd = NAN;
    if (k >= 2) {
        double *g = calloc((size_t)nb * (size_t)nb, sizeof *g), *tot = calloc((size_t)nb, sizeof *tot);
        if (g && tot) {
            for (long i = 0; i < k; i++) {
                const double *z = bins + i * nb;
                for (long a = 0; a < nb; a++) {
                    tot[a] += z[a];
                    for (long b = a; b < nb; b++) g[a * nb + b] += z[a] * z[b];
                }
            }
            double t2 = 0, f2 = 0, npairs = (double)k * (double)(k - 1) / 2;
            for (long a = 0; a < nb; a++) {
                t2 += tot[a] * tot[a];
                for (long b = a; b < nb; b++) f2 += (a == b ? 1 : 2) * g[a * nb + b] * g[a * nb + b];
            }
            o->corr_all = (t2 - (double)k) / 2 / npairs;
            double msq = (f2 - (double)k) / 2 / npairs, var = msq - o->corr_all * o->corr_all;
            o->corr_sd = sqrt(var > 0 ? var : 0);
        }
        free(g);
        free(tot);
    }
done:
    free(cnt), free(last), free(isi_s), free(isi_ss), free(bins), free(popc);
}

static void check_stats(const char *dir, const stats_link *sl, const popset *ps, const spikelist *sp, double dt,
                        double t_ms)
{
    char path[1024];
    csv c;
    if (!check(csv_read(join(path, sizeof path, dir, sl->stats), &c) == 0, "%s: cannot read", sl->stats)) return;
    int kp = csv_col(&c, "population");
    if (check(kp >= 0 && !c.ragged && c.nrow >= 1, "%s: no population column or no rows", sl->stats)) {
        static const char *const exact[] = {"neurons", "spikes", "rate_hz", "rate_sd_hz", "cv_isi_mean", "fano",
                                            "fano_pop", "corr_mean", "pairs"};
        for (int k = 0; k < c.ncol; k++) {
            int known = 0;
            for (size_t e = 0; e < sizeof exact / sizeof exact[0]; e++) known |= !strcmp(c.head[k], exact[e]);
            if (k != kp && !known) printf("note %s: %s column %s is not derived here\n", cur_example, sl->stats, c.head[k]);
        }
        for (long r = 0; r < c.nrow; r++) {
            const char *name = csv_s(&c, r, kp);
            int p = popset_find(ps, name);
            if (!check(p >= 0, "%s: population %s is not in the populations file", sl->stats, name)) continue;
            popstats o;
            compute_stats(sp, ps, p, dt, t_ms, sl->bin_ms, &o);
            double want[] = {(double)o.neurons, (double)o.spikes, o.rate, o.rate_sd, o.cv, o.fano, o.fano_pop};
            for (int e = 0; e < 7; e++) {
                int k = csv_col(&c, exact[e]);
                if (k < 0) continue;
                double got = csv_d(&c, r, k);
                check(close_to(got, want[e], 1e-8, 1e-12), "%s %s %s: %.10g, from %s %.10g", sl->stats, name, exact[e], got,
                      sl->spikes, want[e]);
            }
            /* corr_mean over a sample of pairs: exact when all pairs are drawn, else within 5 standard
             * errors of the all-pairs mean; pairs used = drawn pairs whose both counts vary */
            int kc = csv_col(&c, "corr_mean"), kq = csv_col(&c, "pairs");
            if (kc < 0 || kq < 0) continue;
            double corr = csv_d(&c, r, kc), used = csv_d(&c, r, kq);
            double all = (double)o.neurons * (double)(o.neurons - 1) / 2;
            double drawn = fmin(all, (double)sl->pairs), pv = all > 0 ? (double)o.varying * (double)(o.varying - 1) / 2 / all : 0;
            if (drawn >= all) {
                check(used == pv * all, "%s %s pairs: %g, want all %g pairs of varying neurons", sl->stats, name, used, pv * all);
                check(close_to(corr, o.corr_all, 1e-8, 1e-12), "%s %s corr_mean: %.10g, mean over all pairs %.10g",
                      sl->stats, name, corr, o.corr_all);
            } else {
                double sd_used = sqrt(drawn * pv * (1 - pv));
                check(fabs(used - drawn * pv) <= 5 * sd_used + 1, "%s %s pairs: %g used of %g drawn; %.4f of all pairs vary, so %g +- %g",
                      sl->stats, name, used, drawn, pv, drawn * pv, 5 * sd_used + 1);
                double se = used > 0 ? o.corr_sd / sqrt(used) : INFINITY;
                check(fabs(corr - o.corr_all) <= 5 * se + 1e-12 || (isnan(corr) && used == 0),
                      "%s %s corr_mean: %.6g, the mean over all %ld varying neurons' pairs is %.6g +- %.3g (5 s.e.)", sl->stats,
                      name, corr, o.varying, o.corr_all, 5 * se);
            }
        }
    }
    csv_free(&c);
}

/* brunel_states.lua's states.csv: per state, E's rate, ISI CV and population Fano (bin 1 ms) from
 * spikes_STATE.csv at the printed precision, and corr as stats_STATE.csv has it. */
static void check_wave_arrival(const char *dir, double dt, const runinfo *ri);

static void check_states_table(const char *dir, double dt, const runinfo *ri)
{
    char path[1024];
    csv c;
    if (!check(csv_read(join(path, sizeof path, dir, "states.csv"), &c) == 0, "states.csv: cannot read")) return;
    int ks = csv_col(&c, "state"), kr = csv_col(&c, "rate_hz"), kc = csv_col(&c, "cv_isi"),
        kf = csv_col(&c, "fano_pop"), kq = csv_col(&c, "corr");
    if (check(ks >= 0 && kr >= 0 && kc >= 0 && kf >= 0 && kq >= 0 && c.nrow == 4, "states.csv: header or rows")) {
        for (long r = 0; r < c.nrow; r++) {
            char spf[160], stf[160];
            snprintf(spf, sizeof spf, "spikes_%s.csv", csv_s(&c, r, ks));
            snprintf(stf, sizeof stf, "stats_%s.csv", csv_s(&c, r, ks));
            const record *rec = NULL;
            for (int i = 0; i < ri->nrec; i++)
                if (!strcmp(ri->rec[i].file, spf)) rec = &ri->rec[i];
            if (!check(rec != NULL, "states.csv: %s is not in run.json's records", spf)) continue;
            popset ps;
            spikelist sp;
            if (read_pops(dir, rec->popfile, &ps) || read_spikes(dir, spf, dt, rec->t_ms, &ps, &sp)) continue;
            int p = popset_find(&ps, "E");
            if (check(p >= 0, "%s: no population E", rec->popfile)) {
                popstats o;
                compute_stats(&sp, &ps, p, dt, rec->t_ms, 1.0, &o);
                double got[] = {csv_d(&c, r, kr), csv_d(&c, r, kc), csv_d(&c, r, kf)}, want[] = {o.rate, o.cv, o.fano_pop};
                static const char *const what[] = {"rate_hz", "cv_isi", "fano_pop"};
                for (int e = 0; e < 3; e++)
                    check(close_to(got[e], want[e], 0, 5.0001e-4), "states.csv %s %s: %g, from %s %.6f", csv_s(&c, r, ks),
                          what[e], got[e], spf, want[e]);
                csv st;
                if (check(csv_read(join(path, sizeof path, dir, stf), &st) == 0, "%s: cannot read", stf)) {
                    int kcm = csv_col(&st, "corr_mean"), kp = csv_col(&st, "population");
                    long row = -1;
                    for (long i = 0; kp >= 0 && i < st.nrow; i++)
                        if (!strcmp(csv_s(&st, i, kp), "E")) row = i;
                    check(kcm >= 0 && row >= 0 && close_to(csv_d(&c, r, kq), csv_d(&st, row, kcm), 0, 5.0001e-5),
                          "states.csv %s corr %g is not %s's E corr_mean", csv_s(&c, r, ks), csv_d(&c, r, kq), stf);
                    csv_free(&st);
                }
            }
            spikes_free(&sp);
        }
    }
    csv_free(&c);
}

/* ---- a lif state record against the spikes of its units ---------------------------------- */

static void check_state(const char *dir, const state_link *sl, const record *rr, const popset *ps,
                        const spikelist *sp, const char *spfile, double dt)
{
    char path[1024];
    csv c;
    if (!check(csv_read(join(path, sizeof path, dir, sl->state), &c) == 0, "%s: cannot read", sl->state)) return;
    int kt = csv_col(&c, "t_ms"), kn = csv_col(&c, "neuron"), kv = csv_col(&c, "V_m");
    int ki = sl->current ? csv_col(&c, sl->current) : -1;
    if (!check(kt == 0 && kn == 1 && kv >= 2 && !c.ragged && c.nrow >= 2 && (!sl->current || ki >= 2),
               "%s: header t_ms,neuron,V_m... with rows expected", sl->state)) {
        csv_free(&c);
        return;
    }
    /* the units, in the order of the first sample time's rows */
    long units[64], nu = 0;
    double t0 = csv_d(&c, 0, kt);
    while (nu < c.nrow && nu < 64 && csv_d(&c, nu, kt) == t0) units[nu] = (long)csv_d(&c, nu, kn), nu++;
    long ns = c.nrow / nu;
    double interval = ns >= 2 ? csv_d(&c, nu, kt) - t0 : t0;
    long isteps = llround(interval / dt);
    long bad_grid = 0;
    for (long r = 0; r < c.nrow; r++)
        bad_grid += csv_d(&c, r, kn) != (double)units[r % nu] ||
                    fabs(csv_d(&c, r, kt) - (double)((r / nu + 1) * isteps) * dt) > 1e-6 * dt;
    check(c.nrow % nu == 0 && bad_grid == 0 && ns == llround(rr->t_ms / dt) / isteps,
          "%s: %ld rows for %ld units are not one sample per unit every %g ms up to %g ms", sl->state, c.nrow, nu,
          interval, rr->t_ms);
    for (long u = 0; u < nu; u++) {
        long missed = 0, unexplained = 0, above = 0, spikes_in = 0, resets = 0;
        double first_missed = -1, first_unexplained = -1;
        /* each spike stamped t in (t_first, t_last]: the first sample at or after t is at V_reset */
        for (long j = 0; j < sp->n; j++) {
            if (sp->id[j] != units[u]) continue;
            long s = (sp->step[j] + isteps - 1) / isteps; /* sample index + 1 at or after the spike */
            if (s < 2 || s > ns) continue;
            spikes_in++;
            double v = csv_d(&c, (s - 1) * nu + u, kv);
            if (!(fabs(v - sl->v_reset) <= 1e-9)) missed++, first_missed = first_missed < 0 ? sp->t[j] : first_missed;
        }
        /* each drop onto V_reset has a spike in (previous sample, this sample] */
        for (long s = 1; s < ns; s++) {
            double v = csv_d(&c, s * nu + u, kv), prev = csv_d(&c, (s - 1) * nu + u, kv);
            above += v > sl->v_th;
            if (!(fabs(v - sl->v_reset) <= 1e-9 && prev > sl->v_reset + 1)) continue;
            resets++;
            long lo = s * isteps, hi = (s + 1) * isteps, found = 0; /* steps (lo, hi] */
            for (long j = 0; j < sp->n && !found; j++) found = sp->id[j] == units[u] && sp->step[j] > lo && sp->step[j] <= hi;
            if (!found) unexplained++, first_unexplained = first_unexplained < 0 ? csv_d(&c, s * nu + u, kt) : first_unexplained;
        }
        check(spikes_in > 0 && missed == 0 && unexplained == 0 && above == 0,
              "%s neuron %ld against %s: %ld spikes, %ld resets; %ld spikes without V_m at %g mV at the next sample (first at %g ms), "
              "%ld resets without a spike (first at %g ms), %ld samples above V_th %g mV",
              sl->state, units[u], spfile, spikes_in, resets, missed, sl->v_reset, first_missed, unexplained, first_unexplained,
              above, sl->v_th);
        if (ki < 0) continue;
        /* the current jumps by weight x (source spikes one delay earlier), and decays by a constant factor otherwise */
        int src = popset_find(ps, sl->source);
        if (!check(src >= 0 && isteps == 1, "%s: source %s unknown or %s not sampled every step", sl->state, sl->source,
                   sl->current))
            continue;
        long dsteps = llround(sl->delay_ms / dt);
        long *arrive = calloc((size_t)ns + 2, sizeof *arrive);
        if (!arrive) continue;
        for (long j = 0; j < sp->n; j++)
            if (sp->id[j] >= ps->first[src] && sp->id[j] < ps->first[src] + ps->size[src] && sp->step[j] + dsteps <= ns)
                arrive[sp->step[j] + dsteps]++;
        double decay = NAN; /* from the sample after the first arrival with none after it */
        for (long s = 1; s + 1 <= ns && isnan(decay); s++)
            if (arrive[s] && !arrive[s + 1]) decay = csv_d(&c, s * nu + u, ki) / csv_d(&c, (s - 1) * nu + u, ki);
        long wrong = 0, n_arr = 0;
        double first_wrong = -1, got_inc = 0, want_inc = 0;
        for (long s = 2; s <= ns; s++) { /* sample s - 1 holds step s */
            double inc = csv_d(&c, (s - 1) * nu + u, ki) - decay * csv_d(&c, (s - 2) * nu + u, ki);
            double want = sl->weight * (double)arrive[s];
            n_arr += arrive[s];
            if (!(fabs(inc - want) <= 1e-4 * (1 + fabs(want))) && first_wrong < 0)
                first_wrong = (double)s * dt, got_inc = inc, want_inc = want;
            wrong += !(fabs(inc - want) <= 1e-4 * (1 + fabs(want)));
        }
        check(n_arr > 0 && decay > 0 && decay < 1 && wrong == 0,
              "%s neuron %ld %s against %s spikes of %s: %ld arrivals, decay %g per step; %ld steps whose jump is not %g pA "
              "per spike arriving (first at %g ms: %g pA, want %g)",
              sl->state, units[u], sl->current, spfile, sl->source, n_arr, decay, wrong, sl->weight, first_wrong, got_inc,
              want_inc);
        free(arrive);
    }
    csv_free(&c);
}

/* ---- running nsim ------------------------------------------------------------------------ */

/* Run nsim with args (NULL-terminated) and stdout, stderr into files in work; its exit status,
 * or -1. */
static int run_nsim(const char *nsim, const char *const *args, const char *work)
{
    char out[1024], err[1024];
    snprintf(out, sizeof out, "%s/stdout", work);
    snprintf(err, sizeof err, "%s/stderr", work);
    const char *argv[32];
    int n = 0;
    argv[n++] = nsim;
    for (; *args && n < 31; args++) argv[n++] = *args;
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, nsim, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) return -1;
    int status;
    if (waitpid(pid, &status, 0) < 0) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void print_file_head(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[512];
    for (int i = 0; fp && i < 3 && fgets(line, sizeof line, fp); i++) printf("    %s", line);
    if (fp) fclose(fp);
}

/* ---- run.json against the files, then every derivation, for one example's folder ----------- */

static int has_prefix_suffix(const char *s, const char *pre, const char *suf)
{
    size_t ls = strlen(s), lp = strlen(pre), lx = strlen(suf);
    return ls >= lp + lx && !strncmp(s, pre, lp) && !strcmp(s + ls - lx, suf);
}

static void check_folder(const example *ex, const char *dir)
{
    runinfo ri;
    if (!check(runinfo_read(dir, &ri) == 0, "run.json missing or without records")) {
        free(ri.text);
        return;
    }
    check(!strcmp(ri.status, "ok"), "run.json status '%s', want ok", ri.status);
    double dt = ri.dt_ms;

    /* networks and neurons: one populations file per network, their sizes summed */
    int nets = 0;
    double neurons = 0;
    popset nps[16];
    for (int k = 1; k <= 16; k++) {
        char f[64], path[1024];
        if (k == 1) snprintf(f, sizeof f, "populations.csv");
        else snprintf(f, sizeof f, "populations_%d.csv", k);
        if (access(join(path, sizeof path, dir, f), F_OK)) break;
        if (read_pops(dir, f, &nps[nets])) break;
        neurons += (double)nps[nets].total;
        nets++;
    }
    check(ri.networks == nets, "run.json networks %g, %d populations files", ri.networks, nets);
    check(ri.neurons == neurons, "run.json neurons %g, the populations files hold %g", ri.neurons, neurons);

    /* every record listed exists with its populations file; every record-shaped CSV is listed */
    for (int i = 0; i < ri.nrec; i++) {
        char path[1024];
        check(!access(join(path, sizeof path, dir, ri.rec[i].file), R_OK), "run.json lists %s, which is not there", ri.rec[i].file);
        check(ri.rec[i].network >= 1 && ri.rec[i].network <= nets && ri.rec[i].t_ms > 0,
              "run.json: %s has network %d (of %d), simulated_ms %g", ri.rec[i].file, ri.rec[i].network, nets, ri.rec[i].t_ms);
    }
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!has_prefix_suffix(e->d_name, "", ".csv") || has_prefix_suffix(e->d_name, "populations", ".csv")) continue;
        char path[1024], first[256] = "";
        FILE *fp = fopen(join(path, sizeof path, dir, e->d_name), "r");
        if (fp && !fgets(first, sizeof first, fp)) first[0] = 0;
        if (fp) fclose(fp);
        if (strncmp(first, "t_ms,", 5)) continue; /* stats, psd, tables: not recorder output */
        int listed = 0;
        for (int i = 0; i < ri.nrec; i++) listed |= !strcmp(ri.rec[i].file, e->d_name);
        /* or a table an analysis function made from a listed record (run.json's "derived": the
         * function's own test recomputes its content) */
        const char *derived = strstr(ri.text, "\"derived\": {");
        char pat[600], from[300] = "";
        snprintf(pat, sizeof pat, "\"%s\": {\"from\": ", e->d_name);
        const char *hit = derived ? strstr(derived, pat) : NULL;
        if (!listed && hit) {
            json_str(hit, "from", from, sizeof from);
            for (int i = 0; i < ri.nrec; i++) listed |= !strcmp(ri.rec[i].file, from);
            check(listed, "run.json: %s is derived from %s, which is not a record it lists", e->d_name, from);
            continue;
        }
        check(listed, "%s is a record (header %.*s) that run.json does not list", e->d_name, (int)strcspn(first, "\n"), first);
    }
    if (d) closedir(d);

    /* the spike records, read once; per network the largest one stands for the network */
    spikelist sp[64];
    const record *sprec[64];
    int nsp = 0;
    double spikes_total = 0;
    long net_max[17] = {0};
    for (int i = 0; i < ri.nrec && nets > 0; i++) {
        const record *r = &ri.rec[i];
        if (r->network < 1 || r->network > nets) continue;
        char path[1024], first[256] = "";
        FILE *fp = fopen(join(path, sizeof path, dir, r->file), "r");
        if (fp && !fgets(first, sizeof first, fp)) first[0] = 0;
        if (fp) fclose(fp);
        if (strcmp(first, "t_ms,neuron\n")) continue;
        if (read_spikes(dir, r->file, dt, r->t_ms, &nps[r->network - 1], &sp[nsp])) continue;
        if (sp[nsp].n > net_max[r->network]) net_max[r->network] = sp[nsp].n;
        sprec[nsp++] = r;
    }
    for (int k = 1; k <= nets; k++) spikes_total += (double)net_max[k];
    if (ex->all_spiking_recorded)
        check(ri.spikes == spikes_total, "run.json spikes %g, the spike records hold %g", ri.spikes, spikes_total);
    else
        check(ri.spikes >= spikes_total, "run.json spikes %g, fewer than the spike records' %g", ri.spikes, spikes_total);

    /* rate records from the largest spike record of their network */
    for (int i = 0; i < ri.nrec; i++) {
        const record *r = &ri.rec[i];
        char path[1024];
        csv c;
        if (r->network < 1 || r->network > nets || csv_read(join(path, sizeof path, dir, r->file), &c)) continue;
        /* a sum record (named in run.json's sums) has a rate record's header: tests/test_kg_neurons.c
         * and test_kg_examples.sh check it against its state record and run.json */
        char sum_pat[200];
        snprintf(sum_pat, sizeof sum_pat, "\"record\": \"%s\"", r->file);
        /* a weight sample (t_ms,synapse,...) neither: tests/test_stdp.sh recomputes it from its matrix */
        int is_rate = c.ncol >= 2 && !strcmp(c.head[0], "t_ms") && strcmp(c.head[1], "neuron") &&
                      strcmp(c.head[1], "synapse") && !strstr(ri.text, sum_pat);
        if (is_rate) {
            int best = -1;
            for (int k = 0; k < nsp; k++)
                if (sprec[k]->network == r->network && (best < 0 || sp[k].n > sp[best].n)) best = k;
            if (check(best >= 0, "%s: no spike record of network %d to derive it from", r->file, r->network))
                check_rate(dir, r, &c, &nps[r->network - 1], &sp[best], sprec[best]->file, dt);
        }
        csv_free(&c);
    }

    /* stats files and state records named in the table */
    for (int s = 0; s < 4 && ex->stats[s].stats; s++) {
        int k = 0;
        while (k < nsp && strcmp(sprec[k]->file, ex->stats[s].spikes)) k++;
        if (check(k < nsp, "%s: its spike record %s was not read", ex->stats[s].stats, ex->stats[s].spikes))
            check_stats(dir, &ex->stats[s], &nps[sprec[k]->network - 1], &sp[k], dt, sprec[k]->t_ms);
    }
    for (int s = 0; s < 2 && ex->states[s].state; s++) {
        const record *r = NULL;
        for (int i = 0; i < ri.nrec; i++)
            if (!strcmp(ri.rec[i].file, ex->states[s].state)) r = &ri.rec[i];
        int best = -1;
        for (int k = 0; r && k < nsp; k++)
            if (sprec[k]->network == r->network && (best < 0 || sp[k].n > sp[best].n)) best = k;
        if (check(r && best >= 0, "%s: not in run.json's records, or no spike record of its network", ex->states[s].state))
            check_state(dir, &ex->states[s], r, &nps[r->network - 1], &sp[best], sprec[best]->file, dt);
    }
    if (!strcmp(ex->script, "brunel_states.lua")) check_states_table(dir, dt, &ri);
    if (!strcmp(ex->script, "kg_neurons.lua")) check_wave_arrival(dir, dt, &ri);

    for (int k = 0; k < nsp; k++) spikes_free(&sp[k]);
    free(ri.text);
}

/* kg_neurons.lua's wave_arrival.csv and wave_speed.csv from its spikes.csv: each neuron's first
 * spike, binned by its distance from the kick (the grid's centre; 64 x 64 sites of 50 µm, bins
 * of 100 µm), the mean per bin; a least-squares line over r in [150, 1000] µm, whose inverse
 * slope is the front's speed: within 10 % of the field's c (m = 0, so c is the group velocity;
 * the lattice's dispersion and the neurons' latency slow it a little). */
static void check_wave_arrival(const char *dir, double dt, const runinfo *ri)
{
    enum { NX = 64, NB = 64 };
    const double h = 50, bw = 100, mid = NX * h / 2;
    const record *rec = NULL;
    for (int i = 0; i < ri->nrec; i++)
        if (!strcmp(ri->rec[i].file, "spikes.csv")) rec = &ri->rec[i];
    if (!check(rec != NULL, "kg_neurons: spikes.csv is not in run.json's records")) return;
    popset ps;
    spikelist sp;
    if (read_pops(dir, rec->popfile, &ps) || read_spikes(dir, "spikes.csv", dt, rec->t_ms, &ps, &sp)) return;
    const int p = popset_find(&ps, "neurons");
    if (check(p >= 0 && ps.size[p] == NX * NX, "%s: no population neurons of 64 x 64", rec->popfile)) {
        double first[NX * NX], sum[NB] = {0};
        long cnt[NB] = {0};
        for (int k = 0; k < NX * NX; k++) first[k] = -1;
        for (long i = 0; i < sp.n; i++) { /* in time order */
            const long k = sp.id[i] - ps.first[p];
            if (k >= 0 && k < NX * NX && first[k] < 0) first[k] = sp.t[i];
        }
        for (int k = 0; k < NX * NX; k++) {
            if (first[k] < 0) continue;
            const double x = (k % NX + 0.5) * h - mid, y = (k / NX + 0.5) * h - mid;
            const int b = (int)floor(sqrt(x * x + y * y) / bw);
            sum[b] += first[k];
            cnt[b]++;
        }
        double sx = 0, sy = 0, sxx = 0, sxy = 0, nf = 0;
        long rows = 0;
        csv c, v;
        char path[1024];
        if (check(csv_read(join(path, sizeof path, dir, "wave_arrival.csv"), &c) == 0, "wave_arrival.csv: cannot read")) {
            const int kr = csv_col(&c, "r_um"), kt = csv_col(&c, "first_spike_ms"), kn = csv_col(&c, "neurons");
            check(kr >= 0 && kt >= 0 && kn >= 0, "wave_arrival.csv: header");
            for (int b = 0; b < NB && kr >= 0 && kt >= 0 && kn >= 0; b++) {
                if (!cnt[b]) continue;
                const double r = (b + 0.5) * bw, t = sum[b] / (double)cnt[b];
                if (r >= 150 && r <= 1000) sx += r, sy += t, sxx += r * r, sxy += r * t, nf++;
                if (!check(rows < c.nrow, "wave_arrival.csv: %ld rows, more bins have spikes", c.nrow)) break;
                check(close_to(csv_d(&c, rows, kr), r, 0, 1e-9) && close_to(csv_d(&c, rows, kt), t, 0, 5.0001e-5) &&
                          csv_d(&c, rows, kn) == (double)cnt[b],
                      "wave_arrival.csv row %ld: %s, %s, %s; from spikes.csv r %g, mean first spike %.4f ms of %ld",
                      rows + 1, csv_s(&c, rows, kr), csv_s(&c, rows, kt), csv_s(&c, rows, kn), r, t, cnt[b]);
                rows++;
            }
            check(rows == c.nrow && rows > 10, "wave_arrival.csv: %ld rows, %ld bins with spikes", c.nrow, rows);
            csv_free(&c);
        }
        const double speed = (nf * sxx - sx * sx) / (nf * sxy - sx * sy); /* 1 / the slope */
        if (check(csv_read(join(path, sizeof path, dir, "wave_speed.csv"), &v) == 0 && v.nrow == 1,
                  "wave_speed.csv: cannot read one row")) {
            const int ks = csv_col(&v, "speed_fit_um_per_ms"), kc = csv_col(&v, "c_um_per_ms");
            if (check(ks >= 0 && kc >= 0, "wave_speed.csv: header")) {
                const double got = csv_d(&v, 0, ks), cc = csv_d(&v, 0, kc);
                check(close_to(got, speed, 1e-5, 0), "wave_speed.csv: speed %g, refitted from spikes.csv %g", got, speed);
                check(fabs(speed - cc) <= 0.1 * cc, "kg_neurons: the arrival front moves at %.1f µm/ms, within 10 %% of "
                      "the field's c = %g µm/ms (%.1f %%)", speed, cc, 100 * (speed - cc) / cc);
            }
            csv_free(&v);
        }
    }
    spikes_free(&sp);
}

/* ---- nsim plot heatmap: the cells' colours against the matrix ---------------------------- */

static int coloured(const unsigned char *p)
{
    int mx = p[0] > p[1] ? (p[0] > p[2] ? p[0] : p[2]) : (p[1] > p[2] ? p[1] : p[2]);
    int mn = p[0] < p[1] ? (p[0] < p[2] ? p[0] : p[2]) : (p[1] < p[2] ? p[1] : p[2]);
    return mx - mn > 40; /* viridis is saturated everywhere; axes, text and paper are grey */
}

/* The run of coloured pixels along a row (dx 1) or column (dy 1) from (x, y), both ends. */
static void run_of(const decoded *im, int x, int y, int dx, int dy, int *lo, int *hi)
{
    int a = dx ? x : y, b = a, n = dx ? im->w : im->h;
    while (a > 0 && coloured(pixel(im, dx ? a - 1 : x, dy ? a - 1 : y))) a--;
    while (b + 1 < n && coloured(pixel(im, dx ? b + 1 : x, dy ? b + 1 : y))) b++;
    *lo = a;
    *hi = b;
}

static void check_heatmap(const char *nsim, const char *work)
{
    enum { NR = 4, NC = 6 }; /* not square, so a transposition cannot hide */
    char csvp[1024], png[1024];
    snprintf(csvp, sizeof csvp, "%s/matrix.csv", work);
    snprintf(png, sizeof png, "%s/matrix.png", work);
    double z[NR][NC];
    FILE *fp = fopen(csvp, "w");
    cur_example = "nsim plot heatmap";
    if (!check(fp != NULL, "cannot write %s", csvp)) return;
    for (int r = 0; r < NR; r++) /* one row per line; distinct values, no row or column monotone */
        for (int c = 0; c < NC; c++) {
            z[r][c] = (double)(5 * (r * NC + c) % (NR * NC));
            fprintf(fp, "%g%s", z[r][c], c + 1 < NC ? "," : "\n");
        }
    fclose(fp);
    const char *args[] = {"plot", "heatmap", csvp, "--out", png, NULL};
    if (!check(run_nsim(nsim, args, work) == 0, "a %d x %d matrix: nsim failed", NR, NC)) return;
    decoded im;
    read_png(png, &im);
    if (!check(im.ok, "%s: not a readable RGBA PNG", png)) return;
    /* the heatmap is the first coloured run along the middle row, the colour bar the next */
    int ym = im.h / 2, x0 = -1, x1 = -1, b0 = -1, b1 = -1;
    for (int x = 0; x < im.w; x++) {
        if (!coloured(pixel(&im, x, ym))) continue;
        int lo, hi;
        run_of(&im, x, ym, 1, 0, &lo, &hi);
        if (x0 < 0) x0 = lo, x1 = hi;
        else if (b0 < 0) b0 = lo, b1 = hi;
        x = hi;
    }
    int y0 = -1, y1 = -1, c0 = -1, c1 = -1;
    if (x0 >= 0) run_of(&im, x0 + 2, ym, 0, 1, &y0, &y1);
    if (b0 >= 0) run_of(&im, (b0 + b1) / 2, ym, 0, 1, &c0, &c1);
    if (check(x0 >= 0 && b0 >= 0 && x1 - x0 > 10 * NC && y1 - y0 > 10 * NR && c1 - c0 > 50,
              "cannot find the cells and the colour bar in %s", png)) {
        double lo = 0, hi = NR * NC - 1; /* the bar spans the data's range, bottom to top */
        long wrong = 0, swapped = 0; /* cells off the matrix, and off it with two cells swapped */
        char where[256] = "";
        for (int r = 0; r < NR; r++)
            for (int c = 0; c < NC; c++) { /* row 0 at the bottom, as the axis counts rows */
                int x = x0 + (int)((c + 0.5) * (x1 - x0 + 1) / NC), y = y1 - (int)((r + 0.5) * (y1 - y0 + 1) / NR);
                const unsigned char *p = pixel(&im, x, y);
                int best = c0;
                double bd = 1e30;
                for (int yy = c0; yy <= c1; yy++) {
                    const unsigned char *q = pixel(&im, (b0 + b1) / 2, yy);
                    double d2 = pow(p[0] - q[0], 2) + pow(p[1] - q[1], 2) + pow(p[2] - q[2], 2);
                    if (d2 < bd) bd = d2, best = yy;
                }
                double v = lo + (hi - lo) * (c1 - best + 0.5) / (c1 - c0 + 1);
                if (fabs(v - z[r][c]) > 0.5) {
                    if (!wrong) snprintf(where, sizeof where, "row %d column %d reads %.2f, want %g", r, c, v, z[r][c]);
                    wrong++;
                }
                int corner = (r == 0 && c == 0) || (r == NR - 1 && c == NC - 1);
                double other = r == 0 && c == 0 ? z[NR - 1][NC - 1] : z[0][0];
                swapped += fabs(v - (corner ? other : z[r][c])) > 0.5;
            }
        check(wrong == 0, "%s: %ld of %d cells drawn with another cell's colour (%s)", png, wrong, NR * NC, where);
        cur_example = "mutation";
        check(swapped >= 2, "heatmap: a matrix with two cells swapped was not told from the drawn one");
    }
    free_png(&im);
}

static int rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return remove(path);
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[2048];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rm_rf(sub);
    }
    closedir(d);
    return rmdir(path);
}


/* ---- the checker checked: a deliberately wrong copy of a record must fail ------------------ */

typedef enum { FIELD, DROP, JSON, RESET } mutation_kind;

typedef struct {
    const char *example, *file; /* an example's folder and one of its files */
    mutation_kind kind;
    long row;                   /* FIELD, DROP: data row (0 = first after the header) */
    const char *col;            /* FIELD: column; JSON: key; RESET: the state variable */
    double mul, add;            /* FIELD, JSON: new = old * mul + add; RESET: new = V_reset + add */
    const char *what;
} mutation;

static const mutation mutations[] = {
    {"devices", "rate.csv", FIELD, 10, "poisson", 1, 20, "rate.csv: one spike more in a bin (5 neurons, 10 ms)"},
    {"devices", "spikes.csv", DROP, 100, NULL, 1, 0, "spikes.csv: one spike deleted"},
    {"devices", "dc_trace.csv", RESET, 0, "V_m", 1, 0.5, "dc_trace.csv: V_m 0.5 mV above V_reset after a spike"},
    {"devices", "fed_trace.csv", FIELD, 500, "I_ex", 1, 1, "fed_trace.csv: I_ex 1 pA off at one sample"},
    {"devices", "populations.csv", FIELD, 1, "size", 1, 1, "populations.csv: a size one too large"},
    {"devices", "run.json", JSON, 0, "spikes", 1, 1, "run.json: spikes one too many"},
    {"devices", "run.json", JSON, 0, "neurons", 1, -1, "run.json: neurons one too few"},
    {"brunel_states", "stats_AI.csv", FIELD, 0, "cv_isi_mean", 1 + 1e-6, 0, "stats_AI.csv: cv_isi_mean off by 1e-6"},
    {"brunel_states", "stats_AI.csv", FIELD, 1, "fano", 1 + 1e-6, 0, "stats_AI.csv: I's fano off by 1e-6"},
    {"brunel_states", "stats_SR.csv", FIELD, 0, "rate_sd_hz", 1 + 1e-6, 0, "stats_SR.csv: rate_sd_hz off by 1e-6"},
    {"brunel_states", "stats_SIs.csv", FIELD, 0, "spikes", 1, 1, "stats_SIs.csv: one spike more"},
    {"brunel_states", "states.csv", FIELD, 1, "fano_pop", 1, 0.002, "states.csv: fano_pop off by 0.002"},
    {"cuba", "stats.csv", FIELD, 0, "corr_mean", 1, 0.05, "stats.csv: corr_mean off by 0.05 (7 standard errors)"},
    {"devices", "rate.csv", FIELD, 20, "fed", 1, 20, "rate.csv: one spike more in the last column"},
    {"devices", "spikes.csv", FIELD, 300, "t_ms", 1, 0.05, "spikes.csv: a time off the dt grid"},
    {"cuba", "stats.csv", FIELD, 1, "pairs", 1, 150, "stats.csv: 150 pairs too many"},
    {"cuba", "stats.csv", FIELD, 0, "rate_hz", 1 + 1e-6, 0, "stats.csv: rate_hz off by 1e-6"},
};

/* Copy src's file into dst (created); 0 or -1. */
static int copy_file(const char *src, const char *dst)
{
    FILE *in = fopen(src, "rb"), *out = in ? fopen(dst, "wb") : NULL;
    char buf[65536];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (!rc && (n = fread(buf, 1, sizeof buf, in)) > 0) rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
    if (in) fclose(in);
    if (out && fclose(out)) rc = -1;
    return rc;
}

/* Write path again with mutation m applied to its text; 1 if it applied. */
static int apply_mutation(const char *path, const mutation *m)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *text = calloc((size_t)len + 1, 1);
    int done = text && fread(text, 1, (size_t)len, fp) == (size_t)len;
    fclose(fp);
    if (!done) {
        free(text);
        return 0;
    }
    done = 0;
    fp = fopen(path, "wb");
    if (m->kind == JSON) {
        char pat[80];
        snprintf(pat, sizeof pat, "\"%s\": ", m->col);
        char *p = strstr(text, pat);
        if (p) {
            p += strlen(pat);
            char *e;
            double v = strtod(p, &e);
            fprintf(fp, "%.*s%.17g%s", (int)(p - text), text, v * m->mul + m->add, e);
            done = 1;
        } else {
            fputs(text, fp);
        }
        fclose(fp);
        free(text);
        return done;
    }
    /* a CSV: header, then rows; the column and, for RESET, the row are found from the header */
    char *line = text, *hdr_end = strchr(text, '\n');
    int col = -1, vcol = -1;
    if (hdr_end) {
        int k = 0;
        for (char *p = text; p < hdr_end; k++) {
            size_t w = strcspn(p, ",\n");
            if (m->col && strlen(m->col) == w && !strncmp(p, m->col, w)) col = k;
            p += w + (p[w] == ',');
            if (p[-1] != ',' && p >= hdr_end) break;
        }
        vcol = col;
    }
    double prev = NAN;
    for (long r = -1; *line; r++) {
        char *nl = strchr(line, '\n');
        size_t w = nl ? (size_t)(nl - line) + 1 : strlen(line);
        int hit = 0;
        if (r >= 0 && !done && m->kind == DROP && r == m->row) {
            hit = done = 1; /* the line is left out */
        } else if (r >= 0 && !done && (m->kind == FIELD ? r == m->row : m->kind == RESET) && col >= 0) {
            char *p = line;
            for (int k = 0; k < col; k++) p = strchr(p, ',') + 1;
            char *e;
            double v = strtod(p, &e);
            if (m->kind == RESET && !(v == -70 && prev > -69)) { /* first sample at V_reset after a rise */
                prev = v;
            } else {
                double nv = m->kind == RESET ? v + m->add : v * m->mul + m->add;
                fprintf(fp, "%.*s%.17g%.*s", (int)(p - line), line, nv, (int)(w - (size_t)(e - line)), e);
                hit = done = 1;
            }
        }
        if (!hit) fwrite(line, 1, w, fp);
        line += w;
    }
    (void)vcol;
    fclose(fp);
    free(text);
    return done;
}

/* For each mutation: copy the example's folder, spoil one record, and check that the copy
 * fails more checks than the original. */
static void check_mutations(const char *work)
{
    for (size_t i = 0; i < sizeof mutations / sizeof mutations[0]; i++) {
        const mutation *m = &mutations[i];
        const example *ex = NULL;
        for (int k = 0; k < N_EXAMPLES; k++)
            if (!strncmp(examples[k].script, m->example, strlen(m->example)) && examples[k].script[strlen(m->example)] == '.')
                ex = &examples[k];
        char src[1024], dst[1024];
        snprintf(src, sizeof src, "%s/%s", work, m->example);
        snprintf(dst, sizeof dst, "%s/mutant", work);
        cur_example = "mutation";
        DIR *d = opendir(src);
        if (!check(ex && d, "%s: no folder %s to mutate", m->what, m->example)) {
            if (d) closedir(d);
            continue;
        }
        mkdir(dst, 0755);
        for (struct dirent *e; (e = readdir(d));) {
            if (e->d_name[0] == '.') continue;
            char a[2048], b[2048];
            snprintf(a, sizeof a, "%s/%s", src, e->d_name);
            snprintf(b, sizeof b, "%s/%s", dst, e->d_name);
            copy_file(a, b);
        }
        closedir(d);
        int saved_p = ns_test_passed, saved_f = ns_test_failed;
        quiet = 1;
        cur_example = ex->script;
        check_folder(ex, src);
        int clean = ns_test_failed - saved_f;
        char target[2048];
        snprintf(target, sizeof target, "%s/%s", dst, m->file);
        int applied = apply_mutation(target, m);
        int before = ns_test_failed;
        check_folder(ex, dst);
        int spoiled = ns_test_failed - before;
        quiet = 0;
        ns_test_passed = saved_p;
        ns_test_failed = saved_f;
        cur_example = "mutation";
        check(applied && spoiled > clean, "%s: %s (%d failed checks, %d on the original)", m->what,
              applied ? "not detected" : "could not be applied", spoiled, clean);
        rm_rf(dst);
    }
}

/* ---- main -------------------------------------------------------------------------------- */

int main(void)
{
    const char *nsim = getenv("NSIM"), *root = getenv("NSIM_SOURCE_ROOT");
    if (!nsim || !*nsim) nsim = "./build/nsim";
    if (!root || !*root) root = ".";
    char work[512];
    ns_test_tmpdir(work, sizeof work, "nsim-records");

    /* every example is in the table, so a new one cannot go unchecked */
    char exdir[1024];
    snprintf(exdir, sizeof exdir, "%s/examples", root);
    DIR *d = opendir(exdir);
    int seen = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!has_prefix_suffix(e->d_name, "", ".lua")) continue;
        int known = 0;
        for (int i = 0; i < N_EXAMPLES; i++) known |= !strcmp(examples[i].script, e->d_name);
        cur_example = e->d_name;
        check(known, "examples/%s is not in tests/test_records.c's table: add how to run it shortened", e->d_name);
        seen++;
    }
    if (d) closedir(d);
    cur_example = "examples/";
    check(seen > 0, "no examples in %s", exdir);

    int skipped = 0;
    for (int i = 0; i < N_EXAMPLES; i++) {
        const example *ex = &examples[i];
        cur_example = ex->script;
        if (ex->skip) {
            printf("skip examples/%s: %s\n", ex->script, ex->skip);
            skipped++;
            continue;
        }
        char script[1024], out[1024];
        snprintf(script, sizeof script, "%s/examples/%s", root, ex->script);
        snprintf(out, sizeof out, "%s/%.*s", work, (int)strcspn(ex->script, "."), ex->script);
        const char *args[20];
        int n = 0;
        args[n++] = "run";
        args[n++] = script;
        args[n++] = "--out";
        args[n++] = out;
        args[n++] = "--quiet";
        for (int k = 0; k < 4 && ex->sets[k]; k++) args[n++] = "--set", args[n++] = ex->sets[k];
        args[n] = NULL;
        int rc = run_nsim(nsim, args, work);
        if (!check(rc == 0, "nsim run exited %d", rc)) {
            char err[1024];
            snprintf(err, sizeof err, "%s/stderr", work);
            print_file_head(err);
            continue;
        }
        check_folder(ex, out);
    }
    check_heatmap(nsim, work);
    check_mutations(work);
    if (getenv("NSIM_KEEP_RECORDS")) printf("records kept in %s\n", work);
    else rm_rf(work);
    printf("%d example(s) skipped (reasons above)\n", skipped);
    NS_TEST_MAIN_END();
}
