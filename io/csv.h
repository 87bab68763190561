/* io/csv.h — reading the spike files nsim writes (and users give to spike sources or to
 * nsim analyze): CSV with the header t_ms,neuron, plain or gzip-compressed, and numeric tables.
 * Errors name the file and the line; a last line cut short is dropped with a warning. */
#ifndef NS_CSV_H
#define NS_CSV_H

#include <stddef.h>
#include <stdint.h>

/* The largest neuron id a spike file may hold: 2^53 - 1, the largest integer a double (and so
 * every tool that keeps ids as floating point) holds exactly. */
#define NS_CSV_MAX_ID 9007199254740991L

/* Called for each spike: time in ms and neuron id; return nonzero to stop. */
typedef int (*ns_spike_fn)(void *user, double t_ms, long neuron);

/* Read a spike file line by line (gzip-compressed or plain, whatever its name); memory does not
 * grow with the file. The header must be exactly t_ms,neuron (either order; a state record's
 * t_ms,neuron,VAR is refused); each line a finite time in ms and a whole neuron id in
 * [0, NS_CSV_MAX_ID]; empty lines and lines starting with '#' are skipped. A last line without
 * a newline (a run cut short while writing) is dropped, and warn (may be NULL) receives one
 * line "FILE:LINE: ..." saying so; otherwise warn is "". Returns 0, or -1 with
 * "FILE:LINE: what is wrong" in err. An empty file (no header) is an error. */
int ns_csv_read_spikes(const char *path, ns_spike_fn fn, void *user, char *warn, size_t warnlen, char *err,
                       size_t errlen);
/* ns_csv_read_spikes without the warning (for records this run wrote and flushed itself). */
int ns_csv_each_spike(const char *path, ns_spike_fn fn, void *user, char *err, size_t errlen);

/* A numeric table: rows of ncol numbers, with the header's column names when the first line is
 * not numeric. */
typedef struct {
    long nrow, ncol;
    double *v;        /* v[row * ncol + col] */
    char **names;     /* ncol names, or NULL without a header */
    char warning[320];/* "FILE:LINE: ..." when a last line without a newline was dropped, else "" */
} ns_csv_table;

/* Read a CSV file of numbers (every row as long as the first). A last line without a newline is
 * dropped, with tab->warning saying so. Returns 0, or -1 with "FILE:LINE: what is wrong" in err. */
int ns_csv_read_table(const char *path, ns_csv_table *tab, char *err, size_t errlen);
/* Free tab's arrays and names (tab itself is the caller's) and leave it empty. */
void ns_csv_table_free(ns_csv_table *tab);

/* A graded projection's edges read from a file (ns_csv_read_edges), freed by ns_csv_edges_free. */
typedef struct {
    size_t n;
    uint32_t *pre, *post;  /* 0-based source unit and target input */
    double *w, *delay_ms;
    double *phase_delay_ms; /* ns_csv_read_edges_phase only: per edge (delay_ms where the file has no such column) */
    long *line;             /* ns_csv_read_edges_phase only: each edge's line in the file */
} ns_csv_edges;

/* Read an edge list: the header exactly source,target,weight,delay_ms, then one edge a line: a
 * source unit index in [0, n_src), a target index in [0, n_tgt) (0-based whole numbers), a finite
 * weight, a delay in ms within [min_delay_ms, max_delay_ms] (dt and 65535 steps); empty lines and lines starting with
 * '#' are skipped, a last line without a newline is read as any other. Returns 0, or -1 with
 * "FILE:LINE: what is wrong" (the value and its allowed range) in err. */
int ns_csv_read_edges(const char *path, size_t n_src, size_t n_tgt, double min_delay_ms, double max_delay_ms,
                      ns_csv_edges *e, char *err, size_t errlen);
/* ns_csv_read_edges for a scaffold of n units (sources and targets alike), which also takes the
 * header source,target,weight,delay_ms,phase_delay_ms (phase_delay_ms checked as delay_ms is), and
 * fills e->phase_delay_ms (delay_ms when the column is absent) and e->line. */
int ns_csv_read_edges_phase(const char *path, size_t n, double min_delay_ms, double max_delay_ms, ns_csv_edges *e,
                            char *err, size_t errlen);
/* Free e's arrays (e itself is the caller's) and leave it empty (n = 0). */
void ns_csv_edges_free(ns_csv_edges *e);

/* The one-line warning about a torn last line (lineno, its first characters), into warn. */
void ns_csv_torn_warning(char *warn, size_t warnlen, const char *path, long lineno, const char *text);

#endif
