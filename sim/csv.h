/* sim/csv.h — reading the spike files nsim writes (and users give to spike sources):
 * CSV with a header naming t_ms and neuron columns. Errors name the file and the line. */
#ifndef NS_CSV_H
#define NS_CSV_H

#include <stddef.h>

/* Called for each spike: time in ms and neuron id; return nonzero to stop. */
typedef int (*ns_spike_fn)(void *user, double t_ms, long neuron);

/* Read path line by line; memory does not grow with the file. Returns 0, or -1 with
 * "FILE:LINE: what is wrong" in err. An empty file (no header) is an error. */
int ns_csv_each_spike(const char *path, ns_spike_fn fn, void *user, char *err, size_t errlen);

/* A numeric table: rows of ncol numbers, with the header's column names when the first line is
 * not numeric. */
typedef struct {
    long nrow, ncol;
    double *v;        /* v[row * ncol + col] */
    char **names;     /* ncol names, or NULL without a header */
} ns_csv_table;

/* Read a CSV file of numbers (every row as long as the first). Returns 0, or -1 with
 * "FILE:LINE: what is wrong" in err. */
int ns_csv_read_table(const char *path, ns_csv_table *tab, char *err, size_t errlen);
/* Free tab's arrays and names (tab itself is the caller's) and leave it empty. */
void ns_csv_table_free(ns_csv_table *tab);

#endif
