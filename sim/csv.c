/* sim/csv.c — a streaming reader of "t_ms,neuron" spike files (see csv.h). The header decides
 * which columns hold the time and the neuron, so extra columns are allowed. */
#include "sim/csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int column_of(char *header, const char *name)
{
    int col = 0;
    for (char *tok = strtok(header, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), col++) {
        while (*tok == ' ') tok++;
        if (strcmp(tok, name) == 0) return col;
    }
    return -1;
}

int ns_csv_each_spike(const char *path, ns_spike_fn fn, void *user, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    char line[4096], copy[4096];
    int rc = 0;
    long lineno = 1;
    if (!fgets(line, sizeof line, fp)) {
        snprintf(err, errlen, "%s:1: empty file, expected a header t_ms,neuron", path);
        fclose(fp);
        return -1;
    }
    memcpy(copy, line, sizeof line);
    int ct = column_of(copy, "t_ms");
    memcpy(copy, line, sizeof line);
    int cn = column_of(copy, "neuron");
    if (ct < 0 || cn < 0) {
        snprintf(err, errlen, "%s:1: header must name the columns t_ms and neuron", path);
        fclose(fp);
        return -1;
    }
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        if (line[0] == '\n' || line[0] == '\r' || line[0] == '#') continue;
        double t = NAN;
        long id = -1;
        int col = 0, ok_t = 0, ok_n = 0;
        char *p = line;
        for (;;) {
            char *end;
            if (col == ct) {
                t = strtod(p, &end);
                ok_t = end != p && isfinite(t);
                p = end;
            } else if (col == cn) {
                id = strtol(p, &end, 10);
                ok_n = end != p && id >= 0;
                p = end;
            }
            while (*p == ' ') p++;
            char *comma = strchr(p, ',');
            if (!comma) break;
            p = comma + 1;
            col++;
        }
        if (!ok_t || !ok_n) {
            snprintf(err, errlen, "%s:%ld: expected a time in ms and a neuron id >= 0", path, lineno);
            rc = -1;
            break;
        }
        if (fn(user, t, id)) break;
    }
    if (!rc && ferror(fp)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    }
    fclose(fp);
    return rc;
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
    while (getline(&line, &cap, fp) > 0) {
        lineno++;
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
                long k = 0;
                for (char *tok = strtok(line, ",\r\n"); tok && k < tab->ncol; tok = strtok(NULL, ",\r\n"))
                    if (!(tab->names[k++] = strdup(tok))) goto oom;
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
