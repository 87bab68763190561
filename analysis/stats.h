/* analysis/stats.h — spike statistics: rates, ISI CV, Fano, count correlation, Kuramoto order,
 * PSTH, spike-triggered average, binned population rate and a per-population summary.
 * Input is a borrowed view of a time-sorted spike list; counts are one streaming pass. */
#ifndef NS_STATS_H
#define NS_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Conventions for every function below.
 * - Spikes are parallel arrays sorted by time (non-decreasing; ties allowed). Unsorted input,
 *   a non-finite time, a neuron id outside [0, n_neurons) or t1 <= t0 is refused: -1 and a
 *   one-line message in err (err may be NULL; errlen is its size). Nothing is sorted for you.
 * - Only spikes in the recording interval [t0_ms, t1_ms) count; others are ignored, so a
 *   transient can be cut off by raising t0_ms.
 * - Bins of width bin_ms start at t0_ms; a trailing partial bin is dropped (see ns_stats_nbins).
 * - Variances use the n - 1 denominator (sample variance), except the ISI CV's sd, whose
 *   convention is chosen (ns_stats_sd). A statistic that is undefined (too few spikes, zero
 *   mean, a single neuron) is NaN, not an error.
 * - Output arrays are the caller's; a function that returns -1 may have written part of them. */

/* A borrowed view of a spike record: spike k is neuron[k] at t_ms[k] (ms). */
typedef struct {
    const double *t_ms;  /* n spike times, ms, non-decreasing */
    const long *neuron;  /* n neuron ids in [0, n_neurons) */
    long n;              /* number of spikes (may be 0) */
    long n_neurons;      /* N, neurons recorded (> 0) */
    double t0_ms, t1_ms; /* recording interval [t0, t1), ms */
} ns_stats_spikes;

/* A population: the neuron id range [first, first + count). name is borrowed (may be NULL).
 * Wherever a const ns_stats_pop * is taken, NULL means all n_neurons neurons. */
typedef struct {
    const char *name;
    long first;
    long count;
} ns_stats_pop;

/* The sd of an ISI CV over a neuron's m intervals: the sample sd (m - 1 denominator, the
 * default, as numpy.std(ddof=1) and R's sd) or the population sd (m denominator, numpy's
 * default ddof=0; smaller by sqrt((m - 1) / m)). */
typedef enum { NS_STATS_SD_SAMPLE = 0, NS_STATS_SD_POPULATION = 1 } ns_stats_sd;

/* One row of the standard summary (ns_stats_summarize); names follow the stats.csv columns. */
typedef struct {
    const char *name;   /* borrowed from the ns_stats_pop */
    long neurons;       /* neurons in the population */
    long spikes;        /* spikes in [t0, t1) */
    double rate_hz;     /* mean firing rate over neurons, Hz */
    double rate_sd_hz;  /* sd of the rate over neurons, Hz (NaN for one neuron) */
    double cv_isi_mean; /* mean ISI CV over neurons with >= 3 spikes (NaN if none) */
    long cv_neurons;    /* neurons that entered cv_isi_mean */
    double fano;        /* mean per-neuron Fano factor over neurons with spikes (NaN if none) */
    long fano_neurons;  /* neurons that entered fano (those with a spike in the whole bins) */
    double fano_pop;    /* Fano factor of the population's summed count per bin, all its neurons
                           (Brette et al. 2007's measure; NaN if no spikes) */
    double corr_mean;   /* mean pairwise spike-count correlation (NaN if no pair used) */
    long pairs;         /* pairs that entered corr_mean */
} ns_stats_summary;

/* Header line matching ns_stats_summary_csv (no newline). */
#define NS_STATS_CSV_HEADER \
    "population,neurons,spikes,rate_hz,rate_sd_hz,cv_isi_mean,cv_neurons,fano,fano_neurons,fano_pop," \
    "corr_mean,pairs"

/* Number of whole bins of width bin_ms (ms) in [t0_ms, t1_ms), allowing 1e-9 relative roundoff
 * (so 1000 ms / 0.1 ms is 10000 bins). -1 if an argument is non-finite, bin_ms <= 0 or
 * t1_ms <= t0_ms. */
long ns_stats_nbins(double t0_ms, double t1_ms, double bin_ms);

/* Firing rate of every neuron, Hz: spikes in [t0, t1) / (t1 - t0). rate_hz holds n_neurons. */
int ns_stats_rates(const ns_stats_spikes *s, double *rate_hz, char *err, size_t errlen);

/* Mean and sd over the population's neurons of their rates, Hz (either output may be NULL). */
int ns_stats_pop_rate(const ns_stats_spikes *s, const ns_stats_pop *pop, double *mean_hz,
                      double *sd_hz, char *err, size_t errlen);

/* ISI coefficient of variation (sd / mean of the intervals between spikes in [t0, t1), the sd
 * by convention sd) of every neuron; NaN for neurons with fewer than 3 spikes. cv holds
 * n_neurons (dimensionless). */
int ns_stats_cv_isi(const ns_stats_spikes *s, ns_stats_sd sd, double *cv, char *err, size_t errlen);

/* Mean ISI CV over the population's neurons that have >= 3 spikes (NaN if none); n_defined
 * (may be NULL) receives how many neurons entered the mean. */
int ns_stats_pop_cv_isi(const ns_stats_spikes *s, const ns_stats_pop *pop, ns_stats_sd sd,
                        double *cv_mean, long *n_defined, char *err, size_t errlen);

/* Fano factor (variance / mean over bins of width bin_ms, ms) of every neuron's spike count;
 * NaN for a neuron without spikes in the bins. fano holds n_neurons. Needs >= 2 whole bins. */
int ns_stats_fano(const ns_stats_spikes *s, double bin_ms, double *fano, char *err,
                  size_t errlen);

/* Fano factor of the population's summed spike count in bins of bin_ms (ms); NaN without
 * spikes. About 1 for independent Poisson neurons, much larger for synchronous activity. */
int ns_stats_pop_fano(const ns_stats_spikes *s, const ns_stats_pop *pop, double bin_ms,
                      double *fano, char *err, size_t errlen);

/* Pearson correlation of binned spike counts (bins of bin_ms, ms) over a sample of distinct
 * pairs of the population's neurons: min(n_pairs, all pairs), drawn from splitmix64(seed) so the
 * same seed gives the same pairs. Pairs with a zero-variance count are skipped; *pairs_used
 * (may be NULL) says how many entered *corr_mean (NaN if none). corr (may be NULL) holds
 * n_pairs values, NaN for skipped or undrawn pairs; ids (may be NULL) holds 2 * n_pairs ids,
 * pair q being (ids[2q], ids[2q+1]) with ids[2q] < ids[2q+1], or -1 -1 if undrawn. */
int ns_stats_corr(const ns_stats_spikes *s, const ns_stats_pop *pop, double bin_ms,
                  long n_pairs, uint64_t seed, double *corr_mean, long *pairs_used,
                  double *corr, long *ids, char *err, size_t errlen);

/* Kuramoto order parameter of n >= 1 phases (rad): r = |mean exp(i phase)| in [0, 1], and the
 * mean phase psi (rad, in (-pi, pi]); either output may be NULL. */
int ns_stats_kuramoto(const double *phase_rad, long n, double *r, double *psi_rad, char *err,
                      size_t errlen);

/* Kuramoto r(t) from spikes: each neuron's phase grows linearly by 2 pi from one of its spikes
 * to the next (undefined before its first and after its last spike in [t0, t1)). r_t (may be
 * NULL) holds n_grid = ns_stats_nbins(t0, t1, dt_ms) values at t0 + k dt_ms, NaN where fewer
 * than 2 neurons have a phase; *r_mean is the mean of the defined values (NaN if none). */
int ns_stats_kuramoto_spikes(const ns_stats_spikes *s, const ns_stats_pop *pop, double dt_ms,
                             double *r_t, long n_grid, double *r_mean, char *err,
                             size_t errlen);

/* Peri-stimulus time histogram, Hz per neuron: spikes of the n_ids neurons in ids (NULL: all
 * neurons; duplicates count once) at lag t - stim in bins of bin_ms over [-pre_ms, post_ms),
 * divided by stimuli x neurons x bin width. rate_hz holds ns_stats_nbins(-pre, post, bin);
 * bin k starts at lag -pre_ms + k bin_ms. Stimuli whose window is not inside [t0, t1) are
 * skipped (*stim_used, may be NULL, counts the rest; none left is an error). */
int ns_stats_psth(const ns_stats_spikes *s, const long *ids, long n_ids, const double *stim_ms,
                  long n_stim, double pre_ms, double post_ms, double bin_ms, double *rate_hz,
                  long n_bins, long *stim_used, char *err, size_t errlen);

/* Number of lags of a spike-triggered average: floor(pre/dt) + floor(post/dt) + 1 (1e-9
 * roundoff allowed), or -1 for bad arguments (dt_ms <= 0, pre_ms or post_ms < 0, non-finite). */
long ns_stats_sta_lags(double dt_ms, double pre_ms, double post_ms);

/* Spike-triggered average of one trace (a neuron's state variable, or a population mean),
 * sampled every dt_ms from trace_t0_ms: trace[j] is at trace_t0_ms + j dt_ms. Triggers are the
 * spikes in [t0, t1) of the ids (NULL: all neurons); the trace is linearly interpolated at
 * t_spike + l dt_ms, l = -floor(pre/dt)..floor(post/dt), so sta[0] is at lag -floor(pre/dt) dt.
 * Spikes whose window leaves the trace are skipped; *n_used (may be NULL) counts the rest, and
 * none left is an error. sta holds n_lags = ns_stats_sta_lags(dt, pre, post). */
int ns_stats_sta(const ns_stats_spikes *s, const long *ids, long n_ids, const double *trace,
                 long n_samples, double trace_t0_ms, double dt_ms, double pre_ms,
                 double post_ms, double *sta, long n_lags, long *n_used, char *err,
                 size_t errlen);

/* Population rate in bins of bin_ms (ms), Hz per neuron: the population's spikes in bin k
 * divided by neurons x bin width. rate_hz holds n_bins = ns_stats_nbins(t0, t1, bin_ms)
 * values, bin k starting at t0 + k bin_ms; a uniform series ready for a spectrum. */
int ns_stats_pop_rate_binned(const ns_stats_spikes *s, const ns_stats_pop *pop, double bin_ms,
                             double *rate_hz, long n_bins, char *err, size_t errlen);

/* Standard summary of n_pops populations in one pass over the spikes: rates, ISI CV (sd by
 * convention cv_sd), Fano factors (bins of bin_ms, ms) and count correlation on n_pairs pairs
 * per population, each drawn from seed exactly as ns_stats_corr does. out holds n_pops rows. */
int ns_stats_summarize(const ns_stats_spikes *s, const ns_stats_pop *pops, int n_pops,
                       double bin_ms, long n_pairs, uint64_t seed, ns_stats_sd cv_sd,
                       ns_stats_summary *out, char *err, size_t errlen);
/* Bytes ns_stats_summarize allocates for n_neurons neurons and n_pairs pairs in all (its time
 * bins are streamed, so the duration does not count). */
double ns_stats_summary_bytes(long n_neurons, long n_pairs);

/* Format one summary row as CSV in the NS_STATS_CSV_HEADER column order (no newline; the name
 * quoted if it needs to be, NaN as "nan"). Returns the length, or -1 if buf is too small. */
int ns_stats_summary_csv(const ns_stats_summary *row, char *buf, size_t len);

#endif
