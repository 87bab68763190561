/* io/weight_file.c — a weight record read back through the CSV table reader: the weight column,
 * whole for a matrix file, its last sample for a sample file. */
#include "io/weight_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/csv.h"

int ns_weight_file_read(const char *path, double **w, long *n, double *t_ms, char *warn, size_t warnlen, char *err,
                        size_t errlen)
{
    *w = NULL;
    *n = 0;
    *t_ms = NAN;
    if (warnlen) warn[0] = '\0';
    ns_csv_table t;
    if (ns_csv_read_table(path, &t, err, errlen)) return -1;
    snprintf(warn, warnlen, "%s", t.warning);
    long wc = -1, tc = -1;
    for (long c = 0; t.names && c < t.ncol; c++) {
        if (!strcmp(t.names[c], "weight")) wc = c;
        if (!strcmp(t.names[c], "t_ms")) tc = c;
    }
    int rc = -1;
    if (wc < 0) {
        snprintf(err, errlen, "%s: no weight column (a file of net:record_weights has one)", path);
        goto done;
    }
    if (!(*w = malloc(((size_t)t.nrow + 1) * sizeof **w))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    double last = -HUGE_VAL;
    for (long r = 0; tc >= 0 && r < t.nrow; r++) last = fmax(last, t.v[r * t.ncol + tc]);
    for (long r = 0; r < t.nrow; r++)
        if (tc < 0 || t.v[r * t.ncol + tc] == last) (*w)[(*n)++] = t.v[r * t.ncol + wc];
    if (tc >= 0 && t.nrow) *t_ms = last;
    rc = 0;
done:
    ns_csv_table_free(&t);
    return rc;
}
