/* analysis/bars.h — bar charts: one horizontal bar per group with an optional reference mark, on
 * its own or beside a raster of the groups' spikes whose rows it lines up with (the figure of
 * the cortical microcircuit: a sample of each population's spikes, and its rate). */
#ifndef NS_BARS_H
#define NS_BARS_H

#include <stddef.h>

/* One group: its bar and, for the raster, its spikes (times in ms, rows 0 .. rows - 1 within the
 * group, row 0 at the group's top). Group i is drawn in palette colour i, top to bottom. */
typedef struct {
    const char *name;
    double value;       /* the bar's length (x units, >= 0) */
    double reference;   /* a black mark at this value; NaN: none */
    const double *t_ms; /* raster: n spikes */
    const long *row;
    long n;
    long rows;          /* raster: rows of the group (>= 1); for bars alone, ignored */
} ns_bar_group;

typedef struct {
    const char *title;           /* may be NULL */
    const char *value_label;     /* x axis of the bars, with unit: "rate (Hz)" */
    const char *reference_label; /* what the marks are (a note above the bars); NULL: "reference" */
    double t0_ms, t1_ms;         /* raster: the time range, t0 < t1 */
    const ns_bar_group *groups;
    int n_groups;                /* 1 .. 64 */
    int width_px, height_px;     /* 0: 1600 x 900 with a raster, 900 x 600 alone */
} ns_bars_plot;

/* A bar chart alone: the groups' bars top to bottom, names at the left, the value printed at each
 * bar's end. Writes path as ns_figure_write_png does (keys/values: n_text tEXt pairs) and returns 0,
 * or -1 with a one-line message in err (errlen bytes): no group, a value that is negative or not
 * finite, a bad size, or the write failing. */
int ns_plot_bars(const char *path, const ns_bars_plot *p, const char *const *keys, const char *const *values,
                 int n_text, char *err, size_t errlen);

/* The raster of the groups' spikes in [t0_ms, t1_ms] (group 0 at the top, each its rows) with the
 * bar chart at its right, each bar at the height of its group's rows. Returns as ns_plot_bars; a
 * row outside its group is an error too. */
int ns_plot_raster_bars(const char *path, const ns_bars_plot *p, const char *const *keys,
                        const char *const *values, int n_text, char *err, size_t errlen);

#endif
