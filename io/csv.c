/* io/csv.c — a streaming reader of "t_ms,neuron" spike files, plain or gzip-compressed (zlib
 * reads both), and a reader of numeric tables (see csv.h). Every line is checked whole; a last
 * line without its newline is what a run cut short leaves, so it is dropped, never guessed at. */
#include "io/csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { SPIKE_LINE = 4096 };

void ns_csv_torn_warning(char *warn, size_t warnlen, const char *path, long lineno, const char *text)
{
    if (!warn || !warnlen) return;
    int n = (int)strcspn(text, "\r\n");
    snprintf(warn, warnlen, "%s:%ld: the last line '%.*s%s' has no newline at its end (the file was cut short): "
             "dropped", path, lineno, n > 40 ? 40 : n, text, n > 40 ? "..." : "");
}

/* Trim spaces and a line end off a field in place. */
static char *trim(char *f)
{
    while (*f == ' ' || *f == '\t') f++;
    char *e = f + strlen(f);
    while (e > f && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) e--;
    *e = '\0';
    return f;
}

/* The columns of a spike file's header: t_ms and neuron, in either order and nothing else.
 * *t_first is 1 when t_ms comes first. */
static int spike_header(const char *line, int *t_first)
{
    char copy[SPIKE_LINE];
    snprintf(copy, sizeof copy, "%s", line);
    char *comma = strchr(copy, ',');
    if (!comma || strchr(comma + 1, ',')) return -1;
    *comma = '\0';
    const char *a = trim(copy), *b = trim(comma + 1);
    if (!strcmp(a, "t_ms") && !strcmp(b, "neuron")) *t_first = 1;
    else if (!strcmp(a, "neuron") && !strcmp(b, "t_ms")) *t_first = 0;
    else return -1;
    return 0;
}

/* A line "time,id" (or "id,time"): 0, or -1 with what is wrong in why. */
static int spike_fields(char *line, int t_first, double *t, long *id, char *why, size_t whylen)
{
    char *comma = strchr(line, ',');
    if (!comma || strchr(comma + 1, ',')) {
        snprintf(why, whylen, "expected a time in ms and a neuron id, two fields");
        return -1;
    }
    *comma = '\0';
    char *ft = trim(t_first ? line : comma + 1), *fn = trim(t_first ? comma + 1 : line), *end;
    *t = strtod(ft, &end);
    if (end == ft || *end || !isfinite(*t)) {
        snprintf(why, whylen, "expected a time in ms and a neuron id: '%.40s' is not a finite time", ft);
        return -1;
    }
    errno = 0;
    *id = strtol(fn, &end, 10);
    if (end == fn || *end) {
        snprintf(why, whylen, "expected a time in ms and a neuron id: '%.40s' is not a whole number", fn);
        return -1;
    }
    if (errno == ERANGE || *id < 0 || *id > NS_CSV_MAX_ID) {
        snprintf(why, whylen, "neuron id %.40s is outside [0, %ld]", fn, NS_CSV_MAX_ID);
        return -1;
    }
    return 0;
}

int ns_csv_read_spikes(const char *path, ns_spike_fn fn, void *user, char *warn, size_t warnlen, char *err,
                       size_t errlen)
{
    if (warn && warnlen) warn[0] = '\0';
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        snprintf(err, errlen, "%s: cannot read: %s", path, errno ? strerror(errno) : "out of memory");
        return -1;
    }
    gzbuffer(gz, 1 << 17);
    char line[SPIKE_LINE], why[160];
    int rc = 0, t_first = 1, have_header = 0;
    long lineno = 0;
    while (gzgets(gz, line, sizeof line)) {
        lineno++;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            if (!gzeof(gz)) { /* not the end of the file: a NUL byte, or a line too long */
                snprintf(err, errlen, "%s:%ld: a line longer than %d characters, or a NUL byte in it", path, lineno,
                         SPIKE_LINE - 2);
                rc = -1;
                break;
            }
            if (have_header) { /* the last line, cut short (a header cut short is judged as it is) */
                if (strspn(line, " \t\r") < len) ns_csv_torn_warning(warn, warnlen, path, lineno, line);
                break;
            }
        }
        if (!have_header) {
            if (spike_header(line, &t_first)) {
                snprintf(err, errlen, "%s:%ld: header is '%.60s', expected 't_ms,neuron' (a spike file)", path, lineno,
                         trim(line));
                rc = -1;
                break;
            }
            have_header = 1;
            continue;
        }
        if (line[0] == '\n' || line[0] == '\r' || line[0] == '#') continue;
        double t;
        long id;
        if (spike_fields(line, t_first, &t, &id, why, sizeof why)) {
            snprintf(err, errlen, "%s:%ld: %s", path, lineno, why);
            rc = -1;
            break;
        }
        if (fn(user, t, id)) break;
    }
    int zerr = 0;
    const char *zmsg = gzerror(gz, &zerr);
    if (!rc && zerr == Z_BUF_ERROR) { /* compressed data cut short: what came out is read */
        if (warn && warnlen && !warn[0])
            snprintf(warn, warnlen, "%s: the compressed data end early (the file was cut short): read up to line %ld",
                     path, lineno);
    } else if (!rc && zerr != Z_OK) {
        snprintf(err, errlen, "%s: cannot read: %s", path, zerr == Z_ERRNO ? strerror(errno) : zmsg);
        rc = -1;
    }
    if (!rc && !have_header) {
        snprintf(err, errlen, "%s:1: empty file, expected a header t_ms,neuron", path);
        rc = -1;
    }
    gzclose(gz);
    return rc;
}

int ns_csv_each_spike(const char *path, ns_spike_fn fn, void *user, char *err, size_t errlen)
{
    return ns_csv_read_spikes(path, fn, user, NULL, 0, err, errlen);
}

/* Split a line at commas into numbers; returns the count, or -1 if a field is not a number. */
static long parse_numbers(char *line, double *out, long max)
{
    long n = 0;
    char *p = line;
    for (;;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p) return -1;
        while (*end == ' ' || *end == '\r' || *end == '\n') end++;
        if (*end && *end != ',') return -1;
        if (n < max) out[n] = v;
        n++;
        if (!*end) return n;
        p = end + 1;
    }
}

int ns_csv_read_table(const char *path, ns_csv_table *tab, char *err, size_t errlen)
{
    memset(tab, 0, sizeof *tab);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, vcap = 0;
    long lineno = 0;
    double *row = NULL;
    int rc = -1;
    ssize_t got_len;
    while ((got_len = getline(&line, &cap, fp)) > 0) {
        lineno++;
        if (line[got_len - 1] != '\n') { /* the last line, cut short */
            if (strspn(line, " \t\r") < (size_t)got_len)
                ns_csv_torn_warning(tab->warning, sizeof tab->warning, path, lineno, line);
            break;
        }
        if (line[0] == '#' || line[0] == '\n' || line[0] == '\r') continue;
        if (tab->ncol == 0) { /* the first line fixes the columns */
            long commas = 0;
            for (char *c = line; *c; c++) commas += *c == ',';
            tab->ncol = commas + 1;
            row = malloc((size_t)tab->ncol * sizeof *row);
            if (!row) goto oom;
            char *copy = strdup(line);
            if (!copy) goto oom;
            long got = parse_numbers(copy, row, tab->ncol);
            free(copy);
            if (got < 0) { /* a header */
                tab->names = calloc((size_t)tab->ncol, sizeof *tab->names);
                if (!tab->names) goto oom;
                /* one name per column, an empty one too (a name ends at a comma or a line end) */
                char *p = line;
                for (long k = 0; k < tab->ncol; k++) {
                    if (!(tab->names[k] = strndup(p, strcspn(p, ",\r\n")))) goto oom;
                    char *comma = strchr(p, ',');
                    if (comma) p = comma + 1;
                }
                continue;
            }
        }
        long got = parse_numbers(line, row, tab->ncol);
        if (got != tab->ncol) {
            snprintf(err, errlen, "%s:%ld: expected %ld numbers", path, lineno, tab->ncol);
            goto done;
        }
        if ((size_t)(tab->nrow + 1) * (size_t)tab->ncol > vcap) {
            vcap = vcap ? 2 * vcap : (size_t)tab->ncol * 256;
            double *v = realloc(tab->v, vcap * sizeof *v);
            if (!v) goto oom;
            tab->v = v;
        }
        memcpy(tab->v + (size_t)tab->nrow * (size_t)tab->ncol, row, (size_t)tab->ncol * sizeof *row);
        tab->nrow++;
    }
    if (tab->nrow == 0) {
        snprintf(err, errlen, "%s: no rows of numbers", path);
        goto done;
    }
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
done:
    free(line);
    free(row);
    fclose(fp);
    if (rc) ns_csv_table_free(tab);
    return rc;
}

void ns_csv_table_free(ns_csv_table *tab)
{
    if (tab->names)
        for (long k = 0; k < tab->ncol; k++) free(tab->names[k]);
    free(tab->names);
    free(tab->v);
    memset(tab, 0, sizeof *tab);
}

/* One field of an edge line as a whole index below n, into *out: 0, or -1 with the reason in why. */
static int edge_index(const char *f, size_t n, const char *name, uint32_t *out, char *why, size_t whylen)
{
    char *end;
    double v = strtod(f, &end);
    if (end == f || *end) {
        snprintf(why, whylen, "%s '%.40s' is not a number", name, f);
        return -1;
    }
    if (!(v >= 0 && v < (double)n && v == floor(v))) {
        snprintf(why, whylen, "%s %.17g is not a unit index in [0, %zu]", name, v, n - 1);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* The edge reader; with_phase 1 also takes the header with a fifth column phase_delay_ms (its
 * values into e->phase_delay_ms) and keeps each edge's line number (e->line). */
static int read_edges(const char *path, size_t n_src, size_t n_tgt, double min_delay_ms, double max_delay_ms,
                      int with_phase, ns_csv_edges *e, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL, why[256];
    size_t cap = 0, room = 0;
    long lineno = 0;
    int header = 0, rc = -1;
    while (getline(&line, &cap, fp) > 0) {
        lineno++;
        char *text = trim(line);
        if (!*text || *text == '#') continue;
        if (!header) {
            if (with_phase && !strcmp(text, "source,target,weight,delay_ms,phase_delay_ms")) {
                header = 2;
                continue;
            }
            if (strcmp(text, "source,target,weight,delay_ms")) {
                snprintf(err, errlen, "%s:%ld: the header must be source,target,weight,delay_ms, got '%.60s'", path,
                         lineno, text);
                goto done;
            }
            header = 1;
            continue;
        }
        int commas = 0;
        for (const char *c = text; *c; c++) commas += *c == ',';
        const int nf = header == 2 ? 5 : 4;
        if (commas != nf - 1) {
            snprintf(err, errlen, "%s:%ld: expected %d fields source,target,weight,delay_ms%s, got %d", path, lineno,
                     nf, nf == 5 ? ",phase_delay_ms" : "", commas + 1);
            goto done;
        }
        char *f[5] = {text};
        for (int k = 1; k < nf; k++) {
            f[k] = strchr(f[k - 1], ',');
            *f[k]++ = '\0';
        }
        for (int k = 0; k < nf; k++) f[k] = trim(f[k]);
        if (e->n == room) {
            room = room ? 2 * room : 256;
            uint32_t *pre = realloc(e->pre, room * sizeof *pre), *post = pre ? realloc(e->post, room * sizeof *post) : NULL;
            if (pre) e->pre = pre;
            if (post) e->post = post;
            double *w = post ? realloc(e->w, room * sizeof *w) : NULL;
            if (w) e->w = w;
            double *d = w ? realloc(e->delay_ms, room * sizeof *d) : NULL;
            if (d) e->delay_ms = d;
            if (d && with_phase) {
                double *pd = realloc(e->phase_delay_ms, room * sizeof *pd);
                if (pd) e->phase_delay_ms = pd;
                long *ln = pd ? realloc(e->line, room * sizeof *ln) : NULL;
                if (ln) e->line = ln;
                if (!ln) d = NULL;
            }
            if (!d) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto done;
            }
        }
        if (edge_index(f[0], n_src, "source", &e->pre[e->n], why, sizeof why) ||
            edge_index(f[1], n_tgt, "target", &e->post[e->n], why, sizeof why)) {
            snprintf(err, errlen, "%s:%ld: %s", path, lineno, why);
            goto done;
        }
        char *end;
        const double w = strtod(f[2], &end);
        if (end == f[2] || *end || !isfinite(w)) {
            snprintf(err, errlen, "%s:%ld: weight '%.40s' is not a finite number", path, lineno, f[2]);
            goto done;
        }
        const double d = strtod(f[3], &end);
        if (end == f[3] || *end || !(d >= min_delay_ms * (1 - 1e-9) && d <= max_delay_ms)) {
            if (with_phase)
                snprintf(err, errlen, "%s:%ld: delay_ms '%.40s' is outside [%g, %g] ms", path, lineno, f[3],
                         min_delay_ms, max_delay_ms);
            else
                snprintf(err, errlen, "%s:%ld: delay_ms '%.40s' is outside [%g, %g] ms (dt to 65535 steps)", path,
                         lineno, f[3], min_delay_ms, max_delay_ms);
            goto done;
        }
        double pd = d;
        if (header == 2) {
            pd = strtod(f[4], &end);
            if (end == f[4] || *end || !(pd >= min_delay_ms * (1 - 1e-9) && pd <= max_delay_ms)) {
                snprintf(err, errlen, "%s:%ld: phase_delay_ms '%.40s' is outside [%g, %g] ms", path, lineno, f[4],
                         min_delay_ms, max_delay_ms);
                goto done;
            }
        }
        if (with_phase) e->phase_delay_ms[e->n] = pd, e->line[e->n] = lineno;
        e->w[e->n] = w;
        e->delay_ms[e->n++] = d;
    }
    if (!header) snprintf(err, errlen, "%s: empty (expected the header source,target,weight,delay_ms)", path);
    else rc = 0;
done:
    free(line);
    fclose(fp);
    if (rc) ns_csv_edges_free(e);
    return rc;
}

int ns_csv_read_edges(const char *path, size_t n_src, size_t n_tgt, double min_delay_ms, double max_delay_ms,
                      ns_csv_edges *e, char *err, size_t errlen)
{
    return read_edges(path, n_src, n_tgt, min_delay_ms, max_delay_ms, 0, e, err, errlen);
}

int ns_csv_read_edges_phase(const char *path, size_t n, double min_delay_ms, double max_delay_ms, ns_csv_edges *e,
                            char *err, size_t errlen)
{
    return read_edges(path, n, n, min_delay_ms, max_delay_ms, 1, e, err, errlen);
}

void ns_csv_edges_free(ns_csv_edges *e)
{
    free(e->phase_delay_ms);
    free(e->line);
    free(e->pre);
    free(e->post);
    free(e->w);
    free(e->delay_ms);
    memset(e, 0, sizeof *e);
}
