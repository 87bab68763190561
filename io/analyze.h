/* io/analyze.h — the bridge from a run's records to analysis/: load spikes.csv (with the
 * populations file of its network beside it) into memory, and compute and write stats.csv and
 * psd.csv. Shared by the Lua functions (nsim.stats, nsim.psd, nsim.figure) and `nsim analyze` /
 * `nsim plot`. */
#ifndef NS_ANALYZE_H
#define NS_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/psd.h"
#include "analysis/stats.h"

enum { NS_MAX_GROUPS = 64 };

/* The memory an analysis may take unless told otherwise (nsim analyze --max-memory): 2 GiB.
 * An analysis that would need more is refused, with the figure, before it allocates. */
#define NS_ANALYZE_MAX_BYTES_DEFAULT 2147483648.0

/* Spikes of one record, sorted by time, with the populations they belong to. */
typedef struct {
    double *t;            /* ms */
    long *id;             /* global neuron ids */
    size_t n, cap;
    long id0;             /* the smallest id of the groups: ids are shifted by it in `view` */
    long n_neurons;
    double t0, t1;        /* the recording interval [t0, t1), ms */
    int ngroups;
    ns_stats_pop groups[NS_MAX_GROUPS]; /* first relative to id0 */
    char names[NS_MAX_GROUPS][64];
    char t_from[64];      /* where t1 came from: "run.json", "--t-ms", "last spike", "network" */
    char n_from[256];     /* where the groups came from: a populations file, "--groups", "--n",
                             "largest id", "network" */
    double max_bytes;     /* the memory an analysis of it may take (bytes) */
    char warning[320];    /* a line the caller shows the user (a torn last line dropped), or "" */
} ns_spike_table;

/* How to read a spike file whose run.json and populations file may be missing. */
typedef struct {
    const ns_stats_pop *groups; /* the populations (global ids) and their count, or NULL */
    int ngroups;
    const char *groups_from;    /* where the groups came from, for stats.csv ("--groups") */
    const char *populations;    /* a populations file (population,model,first,last,size) to read
                                   instead of the one run.json names beside the record */
    long n_neurons;             /* > 0: one group "all" of neurons 0 .. n - 1 (--n) */
    double t_ms;                /* > 0: the record lasts [0, t_ms] (--t-ms); else run.json's
                                   simulated time, else the last spike's time */
    double max_bytes;           /* the memory limit of the analyses; 0: NS_ANALYZE_MAX_BYTES_DEFAULT */
} ns_spike_load_opts;

/* Load a spike file (plain or .gz) with the groups and duration o gives or, where it gives none,
 * those of run.json and the populations file beside it, else one group "all" up to the largest
 * id and the last spike's time; spikes of neurons in no group are left out. tab->t_from and
 * tab->n_from say where they came from; tab->warning carries a torn last line's warning. Returns
 * 0, or -1 with a one-line message. */
int ns_spike_table_read(ns_spike_table *tab, const char *spikes_csv, const ns_spike_load_opts *o, char *err,
                        size_t errlen);

/* Load spikes_csv. The groups (global id ranges with names) are given, or (groups NULL) read
 * from the populations file of the network that wrote it (ns_runinfo_origin: populations.csv,
 * populations_2.csv ... beside it), or else one group "all"; spikes of other neurons are left
 * out. The interval is [0, t1_ms], or up to the last spike when t1_ms <= 0 (ms). Returns 0, or
 * -1 with a message. */
int ns_spike_table_load(ns_spike_table *tab, const char *spikes_csv, const ns_stats_pop *groups, int ngroups,
                        double t1_ms, char *err, size_t errlen);
/* Free tab's arrays (tab itself is the caller's) and leave it empty. */
void ns_spike_table_free(ns_spike_table *tab);
/* The table as the statistics functions take it (ids relative to id0). */
ns_stats_spikes ns_spike_table_view(const ns_spike_table *tab);

/* Parse a population split "E:0-3199,I:3200-3999" (names, inclusive global id ranges) into
 * groups[<= NS_MAX_GROUPS] whose names point into names. Returns the count, or -1 with a
 * message. */
int ns_analyze_parse_groups(const char *spec, ns_stats_pop *groups, char names[][64], char *err, size_t errlen);

typedef struct {
    double bin_ms;   /* counts for Fano factors and correlations (default 5) */
    long pairs;      /* pairs sampled per population for correlations (default 1000) */
    uint64_t seed;
} ns_stats_opts;

/* The columns of stats.csv: the statistics, then how they were made (the count bin in ms, the
 * CV's sd, the duration in ms, where the duration and the neurons came from). */
#define NS_ANALYZE_STATS_HEADER NS_STATS_CSV_HEADER ",bin_ms,cv_sd,duration_ms,duration_from,neurons_from"

/* Summary statistics of every group into rows[tab->ngroups] (the ISI CV with the sample sd);
 * with a path, also stats.csv. Refused, with the figure, when it would need more memory than
 * tab->max_bytes. */
int ns_analyze_stats(const ns_spike_table *tab, const ns_stats_opts *o, ns_stats_summary *rows,
                     const char *csv_path, char *err, size_t errlen);
/* The same with the ISI CV's sd convention chosen (nsim analyze --cv-sd). */
int ns_analyze_stats_sd(const ns_spike_table *tab, const ns_stats_opts *o, ns_stats_sd cv_sd,
                        ns_stats_summary *rows, const char *csv_path, char *err, size_t errlen);

typedef struct {
    double bin_ms;   /* population rate bins, ms (default 1) */
    long segment;    /* Welch segment, bins (default: the largest power of two <= n/4, at most 4096) */
    double overlap;  /* Welch overlap fraction (default 0.5) */
    ns_window window;
    ns_detrend detrend;
    int multitaper;  /* 1: multitaper with nw instead of Welch */
    double nw;
    const char *wisdom; /* FFTW wisdom file: read if there, plans measured, written back; or NULL */
} ns_psd_opts;

/* The defaults above: 1 ms bins, Welch with the default segment, Hann, overlap 0.5, mean
 * removed; nw 4 for multitaper; no wisdom file. */
void ns_psd_opts_default(ns_psd_opts *o);

/* PSD of each group's population rate (Hz^2/Hz): freq[nf], psd[g * nf + k]; the caller frees
 * both. With a path, also psd.csv (f_hz, one column per group). */
int ns_analyze_psd(const ns_spike_table *tab, const ns_psd_opts *o, double **freq, double **psd, long *nf,
                   const char *csv_path, char *err, size_t errlen);

/* Each group's binned population rate (Hz): rate[g * nbins + b], bins of bin_ms from t0; caller frees. */
int ns_analyze_rates(const ns_spike_table *tab, double bin_ms, double **rate, long *nbins, char *err, size_t errlen);

/* A state record (state.csv: t_ms,neuron,VAR...) of one variable: trace[u * nt + j] of neuron
 * ids[u] at t0 + j dt. */
typedef struct {
    double *trace;
    long *ids;
    long n_units, nt;
    double t0, dt;     /* ms */
    char warning[320]; /* a torn last line dropped, or "" */
} ns_state_traces;

/* Load variable var of a state record. Returns 0, or -1 with "FILE:LINE: ..." in err. */
int ns_state_traces_load(ns_state_traces *st, const char *state_csv, const char *var, char *err, size_t errlen);
/* Free st's arrays (st itself is the caller's) and leave it empty. */
void ns_state_traces_free(ns_state_traces *st);

/* Mean Welch/multitaper PSD over the traces (units^2/Hz): freq and psd of nf values, caller frees. */
int ns_analyze_trace_psd(const ns_state_traces *st, const ns_psd_opts *o, double **freq, double **psd, long *nf,
                         char *err, size_t errlen);

/* Spike-triggered average of each traced neuron's variable around its own spikes (in the record
 * tab), averaged over all triggers: sta[n_lags] at lags -pre .. post in steps of the trace's dt.
 * *n_used is the number of spikes that entered it. */
int ns_analyze_sta(const ns_spike_table *tab, const ns_state_traces *st, double pre_ms, double post_ms,
                   double **sta, long *n_lags, long *n_used, char *err, size_t errlen);

/* Figures of a record. */
typedef enum {
    NS_FIG_SUMMARY,  /* raster above, population rate below, PSD beside */
    NS_FIG_PSD,      /* PSD of each population's rate, log-log, frequency bands shaded */
    NS_FIG_RATE_HIST,/* histogram of the neurons' firing rates */
    NS_FIG_ISI_HIST  /* histogram of inter-spike intervals (log bins) */
} ns_fig_kind;

/* Parse a figure kind name ("summary", "psd", "rate_hist", "isi_hist"); -1 when unknown. */
int ns_fig_kind_parse(const char *name);

/* A spike raster of the record into png_path with the given PNG text chunks; src names the
 * record in the message when the raster cannot be made. */
int ns_analyze_raster(const ns_spike_table *tab, const char *title, const char *png_path, const char *const *keys,
                      const char *const *values, int n_text, const char *src, char *err, size_t errlen);

/* Draw a figure of the record into png_path with the given PNG text chunks. rate_bin_ms is the
 * bin of the summary's rate panel; o the PSD options. */
int ns_analyze_figure(const ns_spike_table *tab, ns_fig_kind kind, const ns_psd_opts *o, double rate_bin_ms,
                      const char *title, const char *png_path, const char *const *keys,
                      const char *const *values, int n_text, char *err, size_t errlen);

#endif
