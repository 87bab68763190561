/* analysis/plot.h — the figures read at a glance: line plots (PSDs), histograms, heatmaps, and the
 * run summary (raster over population rate, PSD beside). Inputs are plain arrays; each function
 * draws one figure in the shared style of analysis/figure.h and writes it as PNG with tEXt chunks. */
#ifndef NS_PLOT_H
#define NS_PLOT_H

#include <stddef.h>

#include "analysis/figure.h"
#include "analysis/raster.h"

/* One line: n points (x[i], y[i]). Points that cannot be drawn (non-finite, or <= 0 on a log
 * axis) are skipped and break the line. Series i is drawn in palette colour i. */
typedef struct {
    const char *name;   /* legend entry; NULL: "series i" */
    const double *x;    /* n abscissae, e.g. frequency (Hz) */
    const double *y;    /* n ordinates, e.g. power (Hz^2/Hz) */
    long n;
    int points;         /* 1: a dot at each point and no line (measurements over a curve); drawn
                         * after the lines, so over them */
} ns_plot_series;

/* A shaded span of the x axis with a label at its top, e.g. {"theta", 4, 8} (Hz). */
typedef struct {
    const char *name;   /* may be NULL */
    double lo, hi;      /* x range in data units, lo < hi */
} ns_plot_band;

/* Figure options; a zero-initialised struct gives linear axes ranged from the data, no title,
 * and the default size. Labels should carry units, e.g. "frequency (Hz)". */
typedef struct {
    const char *title, *x_label, *y_label, *note;  /* note: small grey text above the plot */
    int x_log, y_log;          /* logarithmic axes */
    double x_lo, x_hi;         /* axis ranges; lo == hi (e.g. both 0): from the data. */
    double y_lo, y_hi;         /* Heatmaps: the extents of the cell edges */
    const ns_plot_band *bands; /* line plots: shaded x spans drawn under the lines */
    int n_bands;
    const char *z_label;       /* heatmaps: colour bar label with unit */
    int z_log;                 /* heatmaps: logarithmic colour scale */
    double z_lo, z_hi;         /* heatmaps: colour range; equal: from the data */
    int equal_aspect;          /* heatmaps: one x unit as long as one y unit (linear axes) */
    double x_quantum;          /* histograms of values on a linear axis: the values are whole
                                  multiples of it (a count over a duration T: 1000 / T_ms Hz),
                                  and each bin is a whole number of multiples wide, centred on
                                  them; 0: none */
    int width_px, height_px;   /* figure size; 0: NS_FIG_WIDTH x NS_FIG_HEIGHT */
    const ns_plot_series *overlay; /* heatmaps: lines drawn over the cells in the plot's data
                                      units (e.g. a dispersion curve), series i in palette
                                      colour 1 + i (red first), 2 px; named ones get a legend */
    int n_overlay;
} ns_plot_opts;

/* Everything the run summary shows. Group i is palette colour i in every panel; with no groups
 * there is one population, drawn in ink, and one rate and one PSD series. */
typedef struct {
    const char *title;                 /* NULL: "Run summary" */
    double t0_ms, t1_ms;               /* time range of the raster and rate panels (ms) */
    long n_neurons;                    /* neuron ids 0..n_neurons-1 */
    const ns_raster_group *groups;     /* as in raster.h; may be NULL with n_groups 0 */
    int n_groups;
    const double *spike_t_ms;          /* n_spikes spike times (ms), any order */
    const long *spike_neuron;          /* n_spikes neuron ids */
    long n_spikes;                     /* may be 0 (a silent run) */
    const double *rate_t_ms;           /* n_rate bin centres (ms) */
    long n_rate;
    const double *const *rate_hz;      /* n_rate_series arrays of n_rate rates (Hz) */
    int n_rate_series;                 /* n_groups, or 1 without groups */
    const double *f_hz;                /* n_f frequencies (Hz); f = 0 is skipped (log axis) */
    long n_f;
    const double *const *psd;          /* n_psd_series arrays of n_f values */
    int n_psd_series;                  /* n_groups, or 1 without groups */
    const char *psd_label;             /* NULL: "PSD (Hz²/Hz)" */
    const ns_plot_band *bands;         /* optional shaded bands in the PSD panel */
    int n_bands;
} ns_plot_run;

enum { NS_PLOT_SUMMARY_WIDTH = 1600, NS_PLOT_SUMMARY_HEIGHT = 900 };  /* px */

/* Every function below writes path through ns_figure_write_png (keys/values: n_text tEXt pairs,
 * may be 0) and returns 0, or -1 with a one-line message in err (errlen bytes): bad input
 * (no data, mismatched sizes, nothing drawable), or a write failure naming the path. */

/* Line plot of n_series series; a legend when there are several (its names also in a tEXt
 * "Legend" = "name; name; ..."); bands shaded under the lines.
 * Auto ranges come from drawable points; an auto log y range spans at most 12 decades. */
int ns_plot_lines(const char *path, const ns_plot_series *series, int n_series,
                  const ns_plot_opts *opts, const char *const *keys, const char *const *values,
                  int n_text, char *err, size_t errlen);

/* The axes ns_plot_lines draws for these series and options: the given ranges, or the data's
 * (a linear x range that starts within a tenth of its span of 0 starts at 0, so "0" is a tick;
 * y padded by 5 %). Returns 0, or -1 with a one-line message in err (no drawable data). */
int ns_plot_lines_axes(const ns_plot_series *series, int n_series, const ns_plot_opts *opts,
                       ns_axis *x, ns_axis *y, char *err, size_t errlen);

/* Histogram of given bins: n_edges increasing edges (x units) and n_counts = n_edges - 1 counts
 * (>= 0, e.g. spikes or a density). On a log y axis empty bins are not drawn. */
int ns_plot_hist(const char *path, const double *edges, long n_edges, const double *counts,
                 long n_counts, const ns_plot_opts *opts, const char *const *keys,
                 const char *const *values, int n_text, char *err, size_t errlen);

/* Histogram of n raw values in the bins of ns_plot_hist_bins. Values outside are counted in the
 * note, which also gives the mean (with the unit of x_label's "(unit)"). */
int ns_plot_hist_values(const char *path, const double *values, long n, int n_bins,
                        const ns_plot_opts *opts, const char *const *keys,
                        const char *const *text_values, int n_text, char *err, size_t errlen);

/* The bins of n raw values: n_bins equal bins over [x_lo, x_hi], or, when those are equal, over
 * the finite values (a linear range that starts within a tenth of its span of 0 starts at 0);
 * with x_log equal in log10 x (ISIs); with x_quantum > 0 on a linear axis, at most n_bins bins
 * of a whole number of quanta each, edges halfway between multiples, so every bin holds equally
 * many possible values. Sets *edges (nb + 1, increasing) and *counts (nb), both malloc'd for the
 * caller to free, *usable (finite values, positive on a log axis) and *outside (usable values
 * beyond the bins); either may be NULL. Returns nb, or -1 with a one-line message in err. */
long ns_plot_hist_bins(const double *values, long n, int n_bins, const ns_plot_opts *opts,
                       double **edges, double **counts, long *usable, long *outside, char *err,
                       size_t errlen);

/* Heatmap of z: ny rows of nx values, row-major, z[iy * nx + ix], row 0 at the bottom. Cell
 * edges span [x_lo, x_hi] x [y_lo, y_hi] (equal: cell indices 0..nx, 0..ny), so a cell is
 * x_lo + ix * (x_hi - x_lo) / nx wide. Viridis colour bar labelled z_label; NaN cells (and <= 0
 * ones with z_log) are drawn light grey. */
int ns_plot_heatmap(const char *path, const double *z, long nx, long ny, const ns_plot_opts *opts,
                    const char *const *keys, const char *const *values, int n_text, char *err,
                    size_t errlen);

/* A contact sheet: n_panels heatmaps of one size (panel p is z + p * nx * ny, laid out as in
 * ns_plot_heatmap) in a grid of cols columns, read left to right and top down, each captioned
 * (captions[p], e.g. "t = 12.5 ms"; may be NULL) and sharing one colour range and one colour bar
 * at the right. opts gives the cell extents (x_lo..y_hi), axis labels (on the outer panels
 * only), z_label, z range (equal: all panels' min..max), equal_aspect and the figure size (0:
 * made to fit, about 300 px a panel). */
int ns_plot_heatmap_sheet(const char *path, const double *z, long nx, long ny, int n_panels,
                          int cols, const char *const *captions, const ns_plot_opts *opts,
                          const char *const *keys, const char *const *values, int n_text,
                          char *err, size_t errlen);

/* The run summary, NS_PLOT_SUMMARY_WIDTH x _HEIGHT px: spike raster above, binned population
 * rate below on the same time axis, PSD (log-log) to the right. */
int ns_plot_summary(const char *path, const ns_plot_run *run, const char *const *keys,
                    const char *const *values, int n_text, char *err, size_t errlen);

/* Short legend names of n files: each path's last component without ".csv" (or ".csv.gz"), or
 * as many trailing components as it takes to tell different paths apart ("a/psd", "b/psd" for
 * out/a/psd.csv and out/b/psd.csv). Name i goes to names + i * len (len bytes each). */
void ns_plot_short_names(const char *const *paths, int n, char *names, size_t len);

/* The viridis colour at u in [0, 1] (clamped; NaN gives u = 0): dark blue to yellow. */
ns_rgb ns_plot_viridis(double u);

/* The usual bands of neural rhythms (Hz): delta 1-4, theta 4-8, alpha 8-13, beta 13-30,
 * gamma 30-80. Sets *bands to a static table and returns its length. */
int ns_plot_standard_bands(const ns_plot_band **bands);

#endif
