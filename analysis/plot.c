/* analysis/plot.c — line plots, histograms, heatmaps and the run summary on analysis/figure.c.
 * Each kind is a "panel" drawn into the figure's current plot area, so the summary is the same
 * panels placed side by side; validation happens before any drawing and fails with one line. */
#include "analysis/plot.h"
#include "base/errmsg.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MARGIN_LEFT = 100, MARGIN_TOP = 80, MARGIN_BOTTOM = 76, MARGIN_RIGHT = 40 };
enum { CBAR_GAP = 18, CBAR_W = 22, CBAR_ROOM = 160 };  /* colour bar: px right of the plot */
enum { LUT_SIZE = 1024 };
#define LOG_Y_DECADES 12.0   /* widest auto range of a log y axis, decades */
#define BAND_LABEL_PX 13.0
#define LINE_PX       1.8
#define MAX_CELLS     1e9    /* heatmap cells */

/* Summary layout for NS_PLOT_SUMMARY_WIDTH x _HEIGHT (px). */
enum { SUM_PSD_W = 400, SUM_COL_GAP = 110, SUM_PANEL_GAP = 24 };
#define SUM_RASTER_SHARE 0.6  /* of the left column's height */

/* viridis sampled at every 16th of its 256 published entries (and the last), as 0-255 sRGB */
static const unsigned char viridis[17][3] = {
    {68, 1, 84},    {72, 24, 106},  {71, 45, 123},  {66, 64, 134},  {59, 82, 139},
    {51, 99, 141},  {44, 114, 142}, {38, 130, 142}, {33, 145, 140}, {31, 160, 136},
    {40, 174, 128}, {63, 188, 115}, {94, 201, 98},  {132, 212, 75}, {173, 220, 48},
    {216, 226, 25}, {253, 231, 37},
};

static const ns_plot_band standard_bands[] = {
    {"delta", 1, 4}, {"theta", 4, 8}, {"alpha", 8, 13}, {"beta", 13, 30}, {"gamma", 30, 80},
};

static const ns_rgb missing = {0.85, 0.85, 0.85};  /* heatmap cells without a colour */
static const ns_rgb band_ink = {0.32, 0.32, 0.32};

ns_rgb ns_plot_viridis(double u)
{
    if (!(u > 0)) u = 0;  /* and NaN */
    if (u > 1) u = 1;
    double pos = u * 255.0;
    int k = (int)(pos / 16.0);
    if (k > 15) k = 15;
    double a = k * 16.0, b = k == 15 ? 255.0 : a + 16.0, w = (pos - a) / (b - a);
    ns_rgb c;
    c.r = ((1 - w) * viridis[k][0] + w * viridis[k + 1][0]) / 255.0;
    c.g = ((1 - w) * viridis[k][1] + w * viridis[k + 1][1]) / 255.0;
    c.b = ((1 - w) * viridis[k][2] + w * viridis[k + 1][2]) / 255.0;
    return c;
}

int ns_plot_standard_bands(const ns_plot_band **bands)
{
    if (bands) *bands = standard_bands;
    return (int)(sizeof standard_bands / sizeof standard_bands[0]);
}

static const ns_plot_opts no_opts;

static ns_figure *new_figure(const ns_plot_opts *o, char *err, size_t errlen, const char *path)
{
    int w = o->width_px ? o->width_px : NS_FIG_WIDTH;
    int h = o->height_px ? o->height_px : NS_FIG_HEIGHT;
    ns_figure *f = ns_figure_create(w, h);
    if (!f)
        ns_errmsg(err, errlen, "cannot plot '%s': bad figure size %d x %d px (200..8000) or out of "
                "memory", path, w, h);
    return f;
}

/* A given axis range: both ends equal means "from the data" (0); else finite, lo < hi, and
 * positive on a log axis (1), or bad (-1). */
static int given_range(double lo, double hi, int log)
{
    if (lo == hi) return 0;
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi)) return -1;
    if (log && !(lo > 0)) return -1;
    return 1;
}

/* Widen a degenerate range [v, v] to something drawable around v. */
static void widen(double *lo, double *hi, int log)
{
    if (*lo < *hi) return;
    if (log) {
        *lo /= sqrt(10.0);
        *hi *= sqrt(10.0);
    } else {
        double d = *lo != 0 ? 0.1 * fabs(*lo) : 0.5;
        *lo -= d;
        *hi += d;
    }
}

/* Pad a data range for the y axis: 5 % each side (in log10 on a log axis); a linear range of
 * non-negative data close to zero starts at zero. */
static void pad_y(double *lo, double *hi, int log)
{
    if (!log && *lo == *hi) {  /* a constant: show it against zero */
        double v = *lo;
        *lo = v > 0 ? 0 : v < 0 ? 1.1 * v : 0;
        *hi = v > 0 ? 1.1 * v : v < 0 ? 0 : 1;
        return;
    }
    widen(lo, hi, log);
    if (log) {
        double d = 0.05 * log10(*hi / *lo);
        *lo /= pow(10.0, d);
        *hi *= pow(10.0, d);
        return;
    }
    double d = 0.05 * (*hi - *lo);
    if (*lo >= 0 && *lo <= 0.3 * *hi) *lo = 0;
    else *lo -= d;
    *hi += d;
}

/* A linear axis over data that come within a tenth of their span of zero reaches zero, so that
 * "0" is a tick: samples from t = dt, rates from 0.2 Hz, frequencies from the first bin. */
static void reach_zero(double *lo, double *hi)
{
    double span = *hi - *lo;
    if (*lo > 0 && *lo <= 0.1 * span) *lo = 0;
    else if (*hi < 0 && -*hi <= 0.1 * span) *hi = 0;
}

/* ---- line panels ---- */

static int drawable(double x, double y, int xlog, int ylog)
{
    return isfinite(x) && isfinite(y) && (!xlog || x > 0) && (!ylog || y > 0);
}

static void draw_bands(ns_figure *f, const ns_plot_band *b, int n, const ns_axis *xa, int labels)
{
    cairo_t *cr = ns_figure_cairo(f);
    int px, py, pw, ph;
    ns_figure_plot_area(f, &px, &py, &pw, &ph);
    double amin = fmin(xa->lo, xa->hi), amax = fmax(xa->lo, xa->hi);
    for (int i = 0; i < n; i++) {
        double lo = fmax(b[i].lo, amin), hi = fmin(b[i].hi, amax);
        if (!(lo < hi)) continue;  /* outside the axis */
        double x0 = ns_figure_x(f, lo), x1 = ns_figure_x(f, hi);
        if (x1 < x0) { double t = x0; x0 = x1; x1 = t; }
        if (!labels) {
            cairo_save(cr);
            cairo_rectangle(cr, px, py, pw, ph);
            cairo_clip(cr);
            cairo_rectangle(cr, x0, py, x1 - x0, ph);
            cairo_set_source_rgba(cr, 0, 0, 0, i % 2 ? 0.10 : 0.055);
            cairo_fill(cr);
            cairo_restore(cr);
            continue;
        }
        const char *s = b[i].name;
        if (!s || !s[0]) continue;
        double w = ns_figure_text_width(f, BAND_LABEL_PX, s), cx = 0.5 * (x0 + x1);
        if (w + 6 <= x1 - x0)
            ns_figure_text(f, cx, py + 6 + BAND_LABEL_PX, 0.5, BAND_LABEL_PX, 0, band_ink, s);
        else  /* too narrow: reading upwards from below the top edge */
            ns_figure_text(f, cx + 0.35 * BAND_LABEL_PX, py + 6 + w, 0.0, BAND_LABEL_PX, 1,
                           band_ink, s);
    }
}

/* Dots at the drawable points of s: every one (all), or only those with no drawable neighbour,
 * which would vanish from a polyline. A dot of radius r px, ringed in white so it shows over a
 * line of its own colour. */
static void draw_points(ns_figure *f, const ns_plot_series *s, int colour, int xlog, int ylog, int all,
                        double r)
{
    cairo_t *cr = ns_figure_cairo(f);
    int px, py, pw, ph;
    ns_figure_plot_area(f, &px, &py, &pw, &ph);
    ns_rgb c = ns_figure_palette(colour);
    cairo_save(cr);
    cairo_rectangle(cr, px, py, pw, ph);
    cairo_clip(cr);
    for (long i = 0; i < s->n; i++) {
        if (!drawable(s->x[i], s->y[i], xlog, ylog)) continue;
        int left = i > 0 && drawable(s->x[i - 1], s->y[i - 1], xlog, ylog);
        int right = i + 1 < s->n && drawable(s->x[i + 1], s->y[i + 1], xlog, ylog);
        if (!all && (left || right)) continue;
        cairo_new_path(cr);
        cairo_arc(cr, ns_figure_x(f, s->x[i]), ns_figure_y(f, s->y[i]), r, 0, 6.2831853);
        cairo_set_source_rgb(cr, c.r, c.g, c.b);
        if (all) {
            cairo_fill_preserve(cr);
            cairo_set_source_rgb(cr, 1, 1, 1);
            cairo_set_line_width(cr, 1.0);
            cairo_stroke(cr);
        } else {
            cairo_fill(cr);
        }
    }
    cairo_restore(cr);
}

/* Check series and options and find the axes of a line panel (see ns_plot_lines_axes).
 * allow_empty: with nothing drawable, axes for an empty frame instead of failing (*empty set).
 * *nonfinite counts the points left out as non-finite. */
static int line_axes(const ns_plot_series *s, int n, const ns_plot_opts *o, int allow_empty,
                     ns_axis *xa_out, ns_axis *ya_out, int *empty_out, long *nonfinite_out,
                     char *msg, size_t msglen)
{
    if (!s || n < 1) { ns_errmsg(msg, msglen, "no series to plot"); return -1; }
    for (int i = 0; i < n; i++)
        if (s[i].n < 1 || !s[i].x || !s[i].y) {
            ns_errmsg(msg, msglen, "series %d (%s) has no points", i, s[i].name ? s[i].name : "unnamed");
            return -1;
        }
    int gx = given_range(o->x_lo, o->x_hi, o->x_log), gy = given_range(o->y_lo, o->y_hi, o->y_log);
    if (gx < 0 || gy < 0) {
        ns_errmsg(msg, msglen, "bad %s range [%g, %g]%s", gx < 0 ? "x" : "y",
                gx < 0 ? o->x_lo : o->y_lo, gx < 0 ? o->x_hi : o->y_hi,
                (gx < 0 ? o->x_log : o->y_log) ? " for a log axis" : "");
        return -1;
    }
    if (o->n_bands < 0 || (o->n_bands > 0 && !o->bands)) {
        ns_errmsg(msg, msglen, "bad band list");
        return -1;
    }
    for (int i = 0; i < o->n_bands; i++)
        if (!isfinite(o->bands[i].lo) || !isfinite(o->bands[i].hi) ||
            !(o->bands[i].lo < o->bands[i].hi)) {
            ns_errmsg(msg, msglen, "band %d (%s) has a bad range [%g, %g]", i,
                    o->bands[i].name ? o->bands[i].name : "unnamed", o->bands[i].lo,
                    o->bands[i].hi);
            return -1;
        }

    /* data ranges over drawable points (inside a given x range) */
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    long found = 0, nonfinite = 0;
    for (int i = 0; i < n; i++)
        for (long k = 0; k < s[i].n; k++) {
            double x = s[i].x[k], y = s[i].y[k];
            if (!isfinite(x) || !isfinite(y)) { nonfinite++; continue; }
            if (!drawable(x, y, o->x_log, o->y_log)) continue;
            if (gx && (x < o->x_lo || x > o->x_hi)) continue;
            found++;
            xmin = fmin(xmin, x); xmax = fmax(xmax, x);
            ymin = fmin(ymin, y); ymax = fmax(ymax, y);
        }
    int empty = found == 0;
    if (empty && !allow_empty) {
        ns_errmsg(msg, msglen, "no %sfinite data to plot%s", o->x_log || o->y_log ? "positive " : "",
                o->x_log || o->y_log ? " on the log axes" : "");
        return -1;
    }
    if (empty) {  /* an empty frame over the x values that could be shown */
        for (int i = 0; i < n; i++)
            for (long k = 0; k < s[i].n; k++) {
                double x = s[i].x[k];
                if (!isfinite(x) || (o->x_log && !(x > 0))) continue;
                xmin = fmin(xmin, x);
                xmax = fmax(xmax, x);
            }
        if (!(xmin <= xmax)) { xmin = 1; xmax = 100; }
        ymin = o->y_log ? 0.1 : 0;
        ymax = o->y_log ? 10 : 0;
    }

    ns_axis xa = {xmin, xmax, o->x_label, 0.0, o->x_log};
    ns_axis ya = {ymin, ymax, o->y_label, 0.0, o->y_log};
    if (gx) { xa.lo = o->x_lo; xa.hi = o->x_hi; }
    else {
        widen(&xa.lo, &xa.hi, o->x_log);
        if (!o->x_log) reach_zero(&xa.lo, &xa.hi);
    }
    if (gy) { ya.lo = o->y_lo; ya.hi = o->y_hi; }
    else {
        if (o->y_log && ya.hi / ya.lo > pow(10.0, LOG_Y_DECADES))
            ya.lo = ya.hi / pow(10.0, LOG_Y_DECADES);
        pad_y(&ya.lo, &ya.hi, o->y_log);
    }
    *xa_out = xa;
    *ya_out = ya;
    if (empty_out) *empty_out = empty;
    if (nonfinite_out) *nonfinite_out = nonfinite;
    return 0;
}

int ns_plot_lines_axes(const ns_plot_series *series, int n_series, const ns_plot_opts *opts,
                       ns_axis *x, ns_axis *y, char *err, size_t errlen)
{
    const ns_plot_opts *o = opts ? opts : &no_opts;
    if (!x || !y) { ns_errmsg(err, errlen, "no axes to fill"); return -1; }
    return line_axes(series, n_series, o, 0, x, y, NULL, NULL, err, errlen);
}

/* Check series and options, set the axes of f from them and draw a line panel into the current
 * plot area. allow_empty: with nothing drawable, draw an empty panel saying so instead of
 * failing. colours: palette index per series, NULL for 0, 1, ... */
static int lines_panel(ns_figure *f, const ns_plot_series *s, int n, const int *colours,
                       const ns_plot_opts *o, unsigned axes_flags, int legend, int allow_empty,
                       char *msg, size_t msglen)
{
    ns_axis xa, ya;
    int empty;
    long nonfinite;
    if (line_axes(s, n, o, allow_empty, &xa, &ya, &empty, &nonfinite, msg, msglen)) return -1;
    if (ns_figure_set_axes(f, &xa, &ya) != 0) {
        ns_errmsg(msg, msglen, "cannot set axes x [%g, %g], y [%g, %g]", xa.lo, xa.hi, ya.lo, ya.hi);
        return -1;
    }

    draw_bands(f, o->bands, o->n_bands, &xa, 0);
    for (int pass = 0; pass < 2 && !empty; pass++) /* the lines, then the dots over them */
        for (int i = 0; i < n; i++) {
            int c = colours ? colours[i] : i;
            if (pass == 0 && !s[i].points) {
                ns_figure_polyline(f, s[i].x, s[i].y, s[i].n, c, LINE_PX);
                draw_points(f, &s[i], c, o->x_log, o->y_log, 0, 2.5);
            } else if (pass == 1 && s[i].points) {
                draw_points(f, &s[i], c, o->x_log, o->y_log, 1, 4.0);
            }
        }
    draw_bands(f, o->bands, o->n_bands, &xa, 1);
    ns_figure_draw_axes_opt(f, axes_flags);
    if (empty) {
        int px, py, pw, ph;
        ns_figure_plot_area(f, &px, &py, &pw, &ph);
        ns_figure_text(f, px + 0.5 * pw, py + 0.5 * ph, 0.5, 15, 0, band_ink,
                       o->x_log || o->y_log ? "no positive values" : "no finite values");
    }

    char note[320];
    note[0] = '\0';
    if (o->note) snprintf(note, sizeof note, "%s", o->note);
    if (nonfinite) {
        size_t len = strlen(note);
        snprintf(note + len, sizeof note - len, "%s%ld non-finite point%s left out",
                 len ? "; " : "", nonfinite, nonfinite == 1 ? "" : "s");
    }
    ns_figure_note(f, note);

    if (legend && n > 1) {
        const char **names = malloc((size_t)n * sizeof *names);
        int *cols = malloc((size_t)n * sizeof *cols);
        char (*fallback)[24] = malloc((size_t)n * sizeof *fallback);
        if (!names || !cols || !fallback) {
            free(names); free(cols); free(fallback);
            ns_errmsg(msg, msglen, "out of memory");
            return -1;
        }
        for (int i = 0; i < n; i++) {
            snprintf(fallback[i], sizeof fallback[i], "series %d", i);
            names[i] = s[i].name ? s[i].name : fallback[i];
            cols[i] = colours ? colours[i] : i;
        }
        ns_figure_legend(f, names, cols, n, NS_LEGEND_ABOVE);
        free(names); free(cols); free(fallback);
    }
    return 0;
}

int ns_plot_lines(const char *path, const ns_plot_series *series, int n_series,
                  const ns_plot_opts *opts, const char *const *keys, const char *const *values,
                  int n_text, char *err, size_t errlen)
{
    const ns_plot_opts *o = opts ? opts : &no_opts;
    if (!path || !path[0]) { ns_errmsg(err, errlen, "no output path"); return -1; }
    ns_figure *f = new_figure(o, err, errlen, path);
    if (!f) return -1;
    char msg[256];
    if (lines_panel(f, series, n_series, NULL, o, 0, 1, 0, msg, sizeof msg) != 0) {
        ns_errmsg(err, errlen, "cannot plot '%s': %s", path, msg);
        ns_figure_free(f);
        return -1;
    }
    if (n_series < 2 || n_text < 0 || (n_text > 0 && (!keys || !values)))
        return ns_figure_finish(f, o->title, path, keys, values, n_text, err, errlen);
    /* the legend's names also as text, "Legend" = "a; b; c", for readers of the file */
    char legend[2048];
    size_t used = 0;
    legend[0] = '\0';
    for (int i = 0; i < n_series && used < sizeof legend; i++) {
        char fallback[24];
        snprintf(fallback, sizeof fallback, "series %d", i);
        used += (size_t)snprintf(legend + used, sizeof legend - used, "%s%s", i ? "; " : "",
                                 series[i].name ? series[i].name : fallback);
    }
    const char **k2 = malloc(((size_t)n_text + 1) * sizeof *k2), **v2 = malloc(((size_t)n_text + 1) * sizeof *v2);
    if (!k2 || !v2) {
        free(k2); free(v2);
        ns_figure_free(f);
        ns_errmsg(err, errlen, "cannot plot '%s': out of memory", path);
        return -1;
    }
    for (int i = 0; i < n_text; i++) k2[i] = keys[i], v2[i] = values[i];
    k2[n_text] = "Legend";
    v2[n_text] = legend;
    int rc = ns_figure_finish(f, o->title, path, k2, v2, n_text + 1, err, errlen);
    free(k2);
    free(v2);
    return rc;
}

/* The last `depth` components of path (all of it when it has fewer), without a ".csv" or
 * ".csv.gz" ending, into out. */
static void path_tail(const char *path, int depth, char *out, size_t len)
{
    const char *end = path + strlen(path), *start = end;
    while (end > path + 1 && end[-1] == '/') end--;  /* "dir/" is "dir" */
    start = end;
    for (int d = 0; d < depth && start > path;) {
        start--;
        if (*start == '/' && start + 1 < end) {
            if (++d == depth) { start++; break; }
        }
    }
    size_t n = (size_t)(end - start);
    static const char *const endings[] = {".csv.gz", ".csv"};
    for (int i = 0; i < 2; i++) {
        size_t e = strlen(endings[i]);
        if (n > e && !strncmp(start + n - e, endings[i], e)) { n -= e; break; }
    }
    snprintf(out, len, "%.*s", (int)n, start);
}

void ns_plot_short_names(const char *const *paths, int n, char *names, size_t len)
{
    if (!paths || !names || n < 1 || len < 1) return;
    for (int depth = 1; depth <= 64; depth++) {
        int longer = 0, same = 0;
        for (int i = 0; i < n; i++) {
            char *out = names + (size_t)i * len;
            path_tail(paths[i] ? paths[i] : "", depth, out, len);
            char whole[1024];
            path_tail(paths[i] ? paths[i] : "", 65, whole, sizeof whole);
            longer |= strcmp(out, whole) != 0;  /* a longer tail exists */
        }
        for (int i = 0; i < n && !same; i++)
            for (int j = i + 1; j < n && !same; j++)
                same = !strcmp(names + (size_t)i * len, names + (size_t)j * len) &&
                       strcmp(paths[i] ? paths[i] : "", paths[j] ? paths[j] : "") != 0;
        if (!same || !longer) return;
    }
}

/* ---- histograms ---- */

static int hist_panel(ns_figure *f, const double *edges, const double *counts, long nb,
                      const ns_plot_opts *o, const char *note, char *msg, size_t msglen)
{
    for (long i = 0; i <= nb; i++)
        if (!isfinite(edges[i]) || (i > 0 && !(edges[i] > edges[i - 1]))) {
            ns_errmsg(msg, msglen, "bin edges must be finite and increasing (edge %ld is %g)", i,
                    edges[i]);
            return -1;
        }
    if (o->x_log && !(edges[0] > 0)) {
        ns_errmsg(msg, msglen, "bin edges must be positive on a log x axis (first is %g)", edges[0]);
        return -1;
    }
    double cmax = 0, cmin_pos = INFINITY;
    for (long i = 0; i < nb; i++) {
        if (!isfinite(counts[i]) || counts[i] < 0) {
            ns_errmsg(msg, msglen, "count %ld is %g (counts must be finite and >= 0)", i, counts[i]);
            return -1;
        }
        cmax = fmax(cmax, counts[i]);
        if (counts[i] > 0) cmin_pos = fmin(cmin_pos, counts[i]);
    }
    if (o->y_log && !(cmax > 0)) {
        ns_errmsg(msg, msglen, "no positive counts to show on a log y axis");
        return -1;
    }
    int gx = given_range(o->x_lo, o->x_hi, o->x_log), gy = given_range(o->y_lo, o->y_hi, o->y_log);
    if (gx < 0 || gy < 0) {
        ns_errmsg(msg, msglen, "bad %s axis range", gx < 0 ? "x" : "y");
        return -1;
    }
    ns_axis xa = {edges[0], edges[nb], o->x_label, 0.0, o->x_log};
    ns_axis ya = {0, cmax > 0 ? 1.05 * cmax : 1.0, o->y_label ? o->y_label : "count", 0.0,
                  o->y_log};
    if (o->y_log) {
        ya.lo = cmin_pos / 2;
        ya.hi = cmax * 1.5;
    }
    if (gx) { xa.lo = o->x_lo; xa.hi = o->x_hi; }
    else if (!o->x_log) reach_zero(&xa.lo, &xa.hi);
    if (gy) { ya.lo = o->y_lo; ya.hi = o->y_hi; }
    if (ns_figure_set_axes(f, &xa, &ya) != 0) {
        ns_errmsg(msg, msglen, "cannot set the axes");
        return -1;
    }

    cairo_t *cr = ns_figure_cairo(f);
    int px, py, pw, ph;
    ns_figure_plot_area(f, &px, &py, &pw, &ph);
    ns_rgb c = ns_figure_palette(0);
    double base = ns_figure_y(f, ya.lo);
    cairo_save(cr);
    cairo_rectangle(cr, px, py, pw, ph);
    cairo_clip(cr);
    /* bars first, then white seams between wide ones */
    for (long i = 0; i < nb; i++) {
        if (!(counts[i] > 0)) continue;
        double x0 = round(ns_figure_x(f, edges[i])), x1 = round(ns_figure_x(f, edges[i + 1]));
        if (x1 < x0 + 1) x1 = x0 + 1;
        double top = round(ns_figure_y(f, counts[i]));
        if (!isfinite(x0) || !isfinite(x1) || !isfinite(top)) continue;
        cairo_rectangle(cr, x0, top, x1 - x0, base - top);
    }
    cairo_set_source_rgb(cr, 0.3 + 0.7 * c.r, 0.3 + 0.7 * c.g, 0.3 + 0.7 * c.b);  /* tint */
    cairo_fill(cr);
    cairo_set_line_width(cr, 1.0);
    for (long i = 0; i < nb; i++) {
        if (!(counts[i] > 0)) continue;
        double x0 = round(ns_figure_x(f, edges[i])), x1 = round(ns_figure_x(f, edges[i + 1]));
        double top = round(ns_figure_y(f, counts[i]));
        if (!isfinite(x0) || !isfinite(x1) || !isfinite(top)) continue;
        cairo_move_to(cr, x0, top + 0.5);   /* the bar's top edge in the full colour */
        cairo_line_to(cr, fmax(x1, x0 + 1), top + 0.5);
        cairo_set_source_rgb(cr, c.r, c.g, c.b);
        cairo_stroke(cr);
        if (x1 - x0 >= 6) {
            cairo_move_to(cr, x0 + 0.5, top);
            cairo_line_to(cr, x0 + 0.5, base);
            cairo_set_source_rgb(cr, 1, 1, 1);
            cairo_stroke(cr);
        }
    }
    cairo_restore(cr);
    ns_figure_draw_axes(f);

    char text[400];
    if (o->note && note) snprintf(text, sizeof text, "%s; %s", o->note, note);
    else snprintf(text, sizeof text, "%s", o->note ? o->note : note ? note : "");
    ns_figure_note(f, text);
    return 0;
}

int ns_plot_hist(const char *path, const double *edges, long n_edges, const double *counts,
                 long n_counts, const ns_plot_opts *opts, const char *const *keys,
                 const char *const *values, int n_text, char *err, size_t errlen)
{
    const ns_plot_opts *o = opts ? opts : &no_opts;
    if (!path || !path[0]) { ns_errmsg(err, errlen, "no output path"); return -1; }
    if (!edges || !counts || n_counts < 1) {
        ns_errmsg(err, errlen, "cannot plot '%s': no bins", path);
        return -1;
    }
    if (n_edges != n_counts + 1) {
        ns_errmsg(err, errlen, "cannot plot '%s': %ld bin edges for %ld counts (need counts + 1)",
                path, n_edges, n_counts);
        return -1;
    }
    ns_figure *f = new_figure(o, err, errlen, path);
    if (!f) return -1;
    char msg[256];
    if (hist_panel(f, edges, counts, n_counts, o, NULL, msg, sizeof msg) != 0) {
        ns_errmsg(err, errlen, "cannot plot '%s': %s", path, msg);
        ns_figure_free(f);
        return -1;
    }
    return ns_figure_finish(f, o->title, path, keys, values, n_text, err, errlen);
}

/* The unit of an axis label "name (unit)", or "" */
static void label_unit(const char *label, char *unit, size_t n)
{
    unit[0] = '\0';
    const char *open = label ? strrchr(label, '(') : NULL, *close = open ? strchr(open, ')') : NULL;
    if (open && close && close > open + 1 && !close[1])
        snprintf(unit, n, " %.*s", (int)(close - open - 1), open + 1);
}

long ns_plot_hist_bins(const double *values, long n, int n_bins, const ns_plot_opts *opts,
                       double **edges_out, double **counts_out, long *usable_out, long *outside_out,
                       char *err, size_t errlen)
{
    const ns_plot_opts *o = opts ? opts : &no_opts;
    *edges_out = *counts_out = NULL;
    if (!values || n < 1) { ns_errmsg(err, errlen, "no values"); return -1; }
    if (n_bins < 1 || n_bins > 1000000) {
        ns_errmsg(err, errlen, "%d bins (1..1000000)", n_bins);
        return -1;
    }
    int gx = given_range(o->x_lo, o->x_hi, o->x_log);
    if (gx < 0) {
        ns_errmsg(err, errlen, "bad x range [%g, %g]%s", o->x_lo, o->x_hi,
                o->x_log ? " for a log axis" : "");
        return -1;
    }
    double q = o->x_quantum;
    if (!isfinite(q) || q < 0) {
        ns_errmsg(err, errlen, "bad x quantum %g (a positive step, or 0 for none)", q);
        return -1;
    }
    int lg = o->x_log;
    double lo = INFINITY, hi = -INFINITY;
    long usable = 0;
    for (long i = 0; i < n; i++) {
        double v = values[i];
        if (!isfinite(v) || (lg && !(v > 0))) continue;
        usable++;
        lo = fmin(lo, v);
        hi = fmax(hi, v);
    }
    if (!usable) {
        ns_errmsg(err, errlen, "no %svalues among %ld", lg ? "positive finite " : "finite ", n);
        return -1;
    }
    if (gx) { lo = o->x_lo; hi = o->x_hi; }
    if (lg || (q > 0 && fmax(fabs(lo), fabs(hi)) / q > 1e12)) q = 0;  /* log bins; a quantum far too fine */

    long nb = n_bins, k0 = 0, per = 1;
    if (q > 0) {
        /* whole multiples of q, each bin per quanta wide and centred on them, so that every
         * bin holds the same number of possible values (bins of any other width alias with the
         * lattice and draw a comb) */
        k0 = lround(lo / q);
        long k1 = lround(hi / q);
        if (!gx && k0 > 0 && k0 <= 0.1 * (double)(k1 - k0)) k0 = 0;
        per = (k1 - k0 + 1 + n_bins - 1) / n_bins;
        if (per < 1) per = 1;
        nb = (k1 - k0) / per + 1;
    } else if (!gx) {
        widen(&lo, &hi, lg);
        if (!lg) reach_zero(&lo, &hi);
    }
    double *edges = malloc(((size_t)nb + 1) * sizeof *edges);
    double *counts = calloc((size_t)nb, sizeof *counts);
    if (!edges || !counts) {
        free(edges); free(counts);
        ns_errmsg(err, errlen, "out of memory");
        return -1;
    }
    double a = lg ? log10(lo) : lo, b = lg ? log10(hi) : hi;
    for (long i = 0; i <= nb; i++) {
        if (q > 0) {
            edges[i] = ((double)k0 - 0.5 + (double)(i * per)) * q;
        } else {
            double e = a + (b - a) * (double)i / (double)nb;
            edges[i] = lg ? pow(10.0, e) : e;
        }
    }
    if (q <= 0) {
        edges[0] = lo;
        edges[nb] = hi;
    }
    long outside = 0;
    for (long i = 0; i < n; i++) {
        double v = values[i];
        if (!isfinite(v) || (lg && !(v > 0))) continue;
        long k;
        if (q > 0) {
            double m = round(v / q) - (double)k0;
            if (m < 0 || m >= (double)nb * (double)per) { outside++; continue; }
            k = (long)m / per;
        } else {
            if (v < lo || v > hi) { outside++; continue; }
            double u = ((lg ? log10(v) : v) - a) / (b - a);
            k = (long)(u * (double)nb);
            if (k >= nb) k = nb - 1;
            if (k < 0) k = 0;
        }
        counts[k] += 1;
    }
    *edges_out = edges;
    *counts_out = counts;
    if (usable_out) *usable_out = usable;
    if (outside_out) *outside_out = outside;
    return nb;
}

int ns_plot_hist_values(const char *path, const double *values, long n, int n_bins,
                        const ns_plot_opts *opts, const char *const *keys,
                        const char *const *text_values, int n_text, char *err, size_t errlen)
{
    const ns_plot_opts *o = opts ? opts : &no_opts;
    if (!path || !path[0]) { ns_errmsg(err, errlen, "no output path"); return -1; }
    double *edges, *counts;
    long usable, outside;
    char msg[256];
    long nb = ns_plot_hist_bins(values, n, n_bins, o, &edges, &counts, &usable, &outside, msg, sizeof msg);
    if (nb < 0) {
        ns_errmsg(err, errlen, "cannot plot '%s': %s", path, msg);
        return -1;
    }
    double sum = 0;
    for (long i = 0; i < n; i++)
        if (isfinite(values[i]) && (!o->x_log || values[i] > 0)) sum += values[i];

    char note[200], unit[64];
    label_unit(o->x_label, unit, sizeof unit);
    int len = snprintf(note, sizeof note, "%ld values, mean %.4g%s", usable, sum / usable, unit);
    if (outside)
        len += snprintf(note + len, sizeof note - (size_t)len, ", %ld outside the range", outside);
    if (usable < n)
        snprintf(note + len, sizeof note - (size_t)len, ", %ld %s left out", n - usable,
                 o->x_log ? "non-positive or non-finite" : "non-finite");

    ns_figure *f = new_figure(o, err, errlen, path);
    int rc = -1;
    if (f) {
        if (hist_panel(f, edges, counts, nb, o, note, msg, sizeof msg) != 0) {
            ns_errmsg(err, errlen, "cannot plot '%s': %s", path, msg);
            ns_figure_free(f);
        } else {
            rc = ns_figure_finish(f, o->title, path, keys, text_values, n_text, err, errlen);
        }
    }
    free(edges);
    free(counts);
    return rc;
}

/* ---- heatmaps ---- */

static uint32_t pack(ns_rgb c)
{
    uint32_t r = (uint32_t)lround(c.r * 255), g = (uint32_t)lround(c.g * 255),
             b = (uint32_t)lround(c.b * 255);
    return 0xff000000u | r << 16 | g << 8 | b;
}

/* Colour table position of z in [lo, hi] (log10 values when lg), or -1 for no colour. */
static int lut_index(double z, double lo, double hi, int lg)
{
    if (lg) z = z > 0 ? log10(z) : NAN;
    if (!isfinite(z)) return -1;
    double u = (z - lo) / (hi - lo);
    if (u < 0) u = 0;
    if (u > 1) u = 1;
    return (int)lround(u * (LUT_SIZE - 1));
}

/* Data value at fraction u of an axis, inverse of the linear or log mapping. */
static double axis_value(const ns_axis *a, double u)
{
    if (a->log10) return a->lo * pow(a->hi / a->lo, u);
    return a->lo + u * (a->hi - a->lo);
}

/* The grid to paint: z values, colour range (log10 values when lg) and the colour table. */
typedef struct { const double *z; long nx, ny; double lo, hi; int lg; const uint32_t *lut; } cells;

/* Each pixel of the plot area takes the colour of the cell under its centre (nearest cell, so a
 * grid finer than the pixels is sampled, not averaged); written straight into the surface. */
static void paint_cells(ns_figure *f, const cells *c, const ns_axis *xa, const ns_axis *ya)
{
    int px, py, pw, ph;
    ns_figure_plot_area(f, &px, &py, &pw, &ph);
    long *ix = malloc((size_t)pw * sizeof *ix);
    if (!ix) return;
    for (int j = 0; j < pw; j++) {
        double v = axis_value(xa, (j + 0.5) / pw);
        long k = (long)floor((v - xa->lo) / (xa->hi - xa->lo) * c->nx);
        ix[j] = k < 0 ? 0 : k >= c->nx ? c->nx - 1 : k;
    }
    unsigned char *data;
    int stride;
    ns_figure_pixels(f, &data, &stride);
    uint32_t grey = pack(missing);
    for (int i = 0; i < ph; i++) {
        double v = axis_value(ya, 1 - (i + 0.5) / ph);
        long iy = (long)floor((v - ya->lo) / (ya->hi - ya->lo) * c->ny);
        iy = iy < 0 ? 0 : iy >= c->ny ? c->ny - 1 : iy;
        const double *row = c->z + (size_t)iy * (size_t)c->nx;
        uint32_t *dst = (uint32_t *)(void *)(data + (size_t)(py + i) * stride) + px;
        for (int j = 0; j < pw; j++) {
            int k = lut_index(row[ix[j]], c->lo, c->hi, c->lg);
            dst[j] = k < 0 ? grey : c->lut[k];
        }
    }
    ns_figure_pixels_done(f);
    free(ix);
}

static void paint_colour_bar(ns_figure *f, const uint32_t *lut)
{
    int px, py, pw, ph;
    ns_figure_plot_area(f, &px, &py, &pw, &ph);
    unsigned char *data;
    int stride;
    ns_figure_pixels(f, &data, &stride);
    for (int i = 0; i < ph; i++) {
        uint32_t col = lut[(int)lround((1 - (i + 0.5) / ph) * (LUT_SIZE - 1))];
        uint32_t *dst = (uint32_t *)(void *)(data + (size_t)(py + i) * stride) + px;
        for (int j = 0; j < pw; j++) dst[j] = col;
    }
    ns_figure_pixels_done(f);
}

/* The viridis colour table of the heatmaps (LUT_SIZE entries, malloc'd; NULL when out of memory). */
static uint32_t *viridis_lut(void)
{
    uint32_t *lut = malloc(LUT_SIZE * sizeof *lut);
    if (lut)
        for (int k = 0; k < LUT_SIZE; k++) lut[k] = pack(ns_plot_viridis(k / (LUT_SIZE - 1.0)));
    return lut;
}

/* The colour bar, a panel of its own CBAR_W px wide at (x, y), h px tall, its value axis
 * [zmin, zmax] (labelled label, log10 when z_log) on the right. */
static void colour_bar(ns_figure *f, int x, int y, int h, double zmin, double zmax,
                       const char *label, int z_log, const uint32_t *lut)
{
    ns_axis ba = {0, 1, NULL, 0.0, 0}, za = {zmin, zmax, label, 0.0, z_log};
    if (ns_figure_set_plot_area(f, x, y, CBAR_W, h) == 0 && ns_figure_set_axes(f, &ba, &za) == 0) {
        paint_colour_bar(f, lut);
        ns_figure_draw_axes_opt(f, NS_AXES_X_NONE | NS_AXES_Y_RIGHT);
    }
}

/* The overlay lines of a heatmap, over the cells, and their legend (inside, top right). */
static void draw_overlay(ns_figure *f, const ns_plot_opts *o)
{
    for (int i = 0; i < o->n_overlay && o->overlay; i++) {
        const ns_plot_series *s = &o->overlay[i];
        if (s->x && s->y && s->n > 1) ns_figure_polyline(f, s->x, s->y, s->n, 1 + i, 2.0);
    }
}

static void overlay_legend(ns_figure *f, const ns_plot_opts *o)
{
    const char *names[16];
    int cols[16], n = 0;
    for (int i = 0; i < o->n_overlay && o->overlay && n < 16; i++)
        if (o->overlay[i].name) {
            names[n] = o->overlay[i].name;
            cols[n++] = 1 + i;
        }
    if (n) ns_figure_legend(f, names, cols, n, NS_LEGEND_INSIDE);
}

int ns_plot_heatmap(const char *path, const double *z, long nx, long ny, const ns_plot_opts *opts,
                    const char *const *keys, const char *const *values, int n_text, char *err,
                    size_t errlen)
{
    const ns_plot_opts *o = opts ? opts : &no_opts;
    if (!path || !path[0]) { ns_errmsg(err, errlen, "no output path"); return -1; }
    if (!z || nx < 1 || ny < 1) {
        ns_errmsg(err, errlen, "cannot plot '%s': empty heatmap (%ld x %ld)", path, nx, ny);
        return -1;
    }
    if ((double)nx * (double)ny > MAX_CELLS) {
        ns_errmsg(err, errlen, "cannot plot '%s': %ld x %ld cells is too many", path, nx, ny);
        return -1;
    }
    int gx = given_range(o->x_lo, o->x_hi, o->x_log), gy = given_range(o->y_lo, o->y_hi, o->y_log);
    int gz = given_range(o->z_lo, o->z_hi, o->z_log);
    if (gx < 0 || gy < 0 || gz < 0 || (o->x_log && !gx) || (o->y_log && !gy)) {
        char which = gx < 0 || (o->x_log && !gx) ? 'x' : gy < 0 || (o->y_log && !gy) ? 'y' : 'z';
        ns_errmsg(err, errlen, "cannot plot '%s': bad %c extent (lo < hi, both > 0 on a log scale)",
                path, which);
        return -1;
    }

    long cells_n = nx * ny, usable = 0;
    double zmin = INFINITY, zmax = -INFINITY;
    for (long i = 0; i < cells_n; i++) {
        double v = z[i];
        if (!isfinite(v) || (o->z_log && !(v > 0))) continue;
        usable++;
        zmin = fmin(zmin, v);
        zmax = fmax(zmax, v);
    }
    if (!usable) {
        ns_errmsg(err, errlen, "cannot plot '%s': no %svalues among %ld cells", path,
                o->z_log ? "positive finite " : "finite ", cells_n);
        return -1;
    }
    if (gz) { zmin = o->z_lo; zmax = o->z_hi; }
    else widen(&zmin, &zmax, o->z_log);

    ns_figure *f = new_figure(o, err, errlen, path);
    if (!f) return -1;
    int fw, fh;
    ns_figure_size(f, &fw, &fh);
    int px = MARGIN_LEFT, py = MARGIN_TOP;
    int pw = fw - MARGIN_LEFT - CBAR_ROOM, ph = fh - MARGIN_TOP - MARGIN_BOTTOM;
    ns_axis xa = {gx ? o->x_lo : 0, gx ? o->x_hi : (double)nx, o->x_label, gx ? 0.0 : 1.0, o->x_log};
    ns_axis ya = {gy ? o->y_lo : 0, gy ? o->y_hi : (double)ny, o->y_label, gy ? 0.0 : 1.0, o->y_log};
    if (o->equal_aspect && !o->x_log && !o->y_log) {
        ns_figure_fit_aspect(&px, &pw, &ph, (xa.hi - xa.lo) / (ya.hi - ya.lo));
    }
    uint32_t *lut = viridis_lut();
    if (!lut || ns_figure_set_plot_area(f, px, py, pw, ph) != 0 ||
        ns_figure_set_axes(f, &xa, &ya) != 0) {
        ns_errmsg(err, errlen, "cannot plot '%s': %s", path, lut ? "bad layout" : "out of memory");
        free(lut);
        ns_figure_free(f);
        return -1;
    }

    cells c = {z, nx, ny, o->z_log ? log10(zmin) : zmin, o->z_log ? log10(zmax) : zmax, o->z_log,
               lut};
    paint_cells(f, &c, &xa, &ya);
    draw_overlay(f, o);
    ns_figure_draw_axes(f);
    if (o->note) ns_figure_note(f, o->note);
    overlay_legend(f, o);

    /* the colour bar is a panel of its own, its value axis on the right */
    colour_bar(f, px + pw + CBAR_GAP, py, ph, zmin, zmax, o->z_label, o->z_log, lut);
    ns_figure_set_plot_area(f, px, py, pw, ph);
    ns_figure_set_axes(f, &xa, &ya);
    free(lut);
    return ns_figure_finish(f, o->title, path, keys, values, n_text, err, errlen);
}

int ns_plot_heatmap_sheet(const char *path, const double *z, long nx, long ny, int n_panels,
                          int cols, const char *const *captions, const ns_plot_opts *opts,
                          const char *const *keys, const char *const *values, int n_text,
                          char *err, size_t errlen)
{
    const ns_plot_opts *o = opts ? opts : &no_opts;
    if (!path || !path[0]) { ns_errmsg(err, errlen, "no output path"); return -1; }
    if (!z || nx < 1 || ny < 1 || n_panels < 1 || n_panels > 1000 || cols < 1) {
        ns_errmsg(err, errlen, "cannot plot '%s': a sheet of %d panels of %ld x %ld in %d columns "
                "(1 to 1000 panels, at least 1 column)", path, n_panels, nx, ny, cols);
        return -1;
    }
    if ((double)nx * (double)ny * n_panels > MAX_CELLS) {
        ns_errmsg(err, errlen, "cannot plot '%s': too many cells", path);
        return -1;
    }
    if (cols > n_panels) cols = n_panels;
    int rows = (n_panels + cols - 1) / cols;
    int gx = given_range(o->x_lo, o->x_hi, 0), gy = given_range(o->y_lo, o->y_hi, 0);
    int gz = given_range(o->z_lo, o->z_hi, 0);
    if (gx < 0 || gy < 0 || gz < 0) {
        ns_errmsg(err, errlen, "cannot plot '%s': bad extent (lo < hi)", path);
        return -1;
    }
    double zmin = INFINITY, zmax = -INFINITY;
    for (long i = 0; i < nx * ny * n_panels; i++)
        if (isfinite(z[i])) { zmin = fmin(zmin, z[i]); zmax = fmax(zmax, z[i]); }
    if (!(zmin <= zmax)) {
        ns_errmsg(err, errlen, "cannot plot '%s': no finite values", path);
        return -1;
    }
    if (gz) { zmin = o->z_lo; zmax = o->z_hi; }
    else widen(&zmin, &zmax, 0);
    ns_axis xa = {gx ? o->x_lo : 0, gx ? o->x_hi : (double)nx, o->x_label, gx ? 0.0 : 1.0, 0};
    ns_axis ya = {gy ? o->y_lo : 0, gy ? o->y_hi : (double)ny, o->y_label, gy ? 0.0 : 1.0, 0};
    /* panels: a square-ish cell per panel, gaps for captions and tick labels */
    enum { GAP_X = 56, GAP_Y = 64, PANEL = 260 };
    double ratio = o->equal_aspect ? (xa.hi - xa.lo) / (ya.hi - ya.lo) : 1.0;
    int pw0 = ratio >= 1 ? PANEL : (int)lround(PANEL * ratio), ph0 = ratio >= 1 ? (int)lround(PANEL / ratio) : PANEL;
    if (pw0 < 40) pw0 = 40;
    if (ph0 < 40) ph0 = 40;
    int W = o->width_px ? o->width_px : MARGIN_LEFT + cols * pw0 + (cols - 1) * GAP_X + CBAR_ROOM;
    int H = o->height_px ? o->height_px : MARGIN_TOP + rows * ph0 + (rows - 1) * GAP_Y + MARGIN_BOTTOM;
    ns_figure *f = ns_figure_create(W, H);
    if (!f) {
        ns_errmsg(err, errlen, "cannot plot '%s': bad figure size %d x %d px (200..8000) or out of memory",
                path, W, H);
        return -1;
    }
    int pw = (W - MARGIN_LEFT - CBAR_ROOM - (cols - 1) * GAP_X) / cols;
    int ph = (H - MARGIN_TOP - MARGIN_BOTTOM - (rows - 1) * GAP_Y) / rows;
    if (o->equal_aspect) {
        if (ratio * ph > pw) ph = (int)lround(pw / ratio);
        else pw = (int)lround(ph * ratio);
    }
    uint32_t *lut = viridis_lut();
    if (!lut || pw < 10 || ph < 10) {
        ns_errmsg(err, errlen, "cannot plot '%s': %s", path, lut ? "panels too small" : "out of memory");
        free(lut);
        ns_figure_free(f);
        return -1;
    }
    for (int p = 0; p < n_panels; p++) {
        int r = p / cols, cc = p % cols;
        int x0 = MARGIN_LEFT + cc * (pw + GAP_X), y0 = MARGIN_TOP + r * (ph + GAP_Y);
        if (ns_figure_set_plot_area(f, x0, y0, pw, ph) || ns_figure_set_axes(f, &xa, &ya)) continue;
        cells c = {z + (size_t)p * (size_t)(nx * ny), nx, ny, zmin, zmax, 0, lut};
        paint_cells(f, &c, &xa, &ya);
        /* axis labels only on the left column and the bottom row (or the last panel of a column) */
        ns_axis xl = xa, yl = ya;
        int bottom = r == rows - 1 || p + cols >= n_panels;
        if (!bottom) xl.label = NULL;
        if (cc) yl.label = NULL;
        ns_figure_set_axes(f, &xl, &yl);
        ns_figure_draw_axes_opt(f, bottom ? 0 : NS_AXES_X_NO_LABELS);
        if (captions && captions[p])
            ns_figure_text(f, x0 + pw / 2.0, y0 - 8, 0.5, 15, 0, ns_figure_ink(), captions[p]);
    }
    int bar_h = rows * ph + (rows - 1) * GAP_Y;
    int bar_x = MARGIN_LEFT + cols * pw + (cols - 1) * GAP_X + CBAR_GAP;
    colour_bar(f, bar_x, MARGIN_TOP, bar_h, zmin, zmax, o->z_label, 0, lut);
    free(lut);
    ns_figure_set_plot_area(f, MARGIN_LEFT, MARGIN_TOP, cols * pw + (cols - 1) * GAP_X, bar_h);
    return ns_figure_finish(f, o->title, path, keys, values, n_text, err, errlen);
}

/* ---- the run summary ---- */

static int check_run(const ns_plot_run *r, char *msg, size_t msglen)
{
    if (!r) { ns_errmsg(msg, msglen, "no run to summarise"); return -1; }
    if (!isfinite(r->t0_ms) || !isfinite(r->t1_ms) || !(r->t1_ms > r->t0_ms)) {
        ns_errmsg(msg, msglen, "bad time range [%g, %g] ms", r->t0_ms, r->t1_ms);
        return -1;
    }
    if (r->n_neurons < 1) { ns_errmsg(msg, msglen, "%ld neurons", r->n_neurons); return -1; }
    if (r->n_groups < 0 || (r->n_groups > 0 && !r->groups)) {
        ns_errmsg(msg, msglen, "bad group list");
        return -1;
    }
    if (r->n_spikes < 0 || (r->n_spikes > 0 && (!r->spike_t_ms || !r->spike_neuron))) {
        ns_errmsg(msg, msglen, "%ld spikes without spike arrays", r->n_spikes);
        return -1;
    }
    int want = r->n_groups > 0 ? r->n_groups : 1;
    if (r->n_rate_series != want || r->n_psd_series != want) {
        ns_errmsg(msg, msglen, "%d rate and %d PSD series for %d group%s (need one per group)",
                r->n_rate_series, r->n_psd_series, want, want == 1 ? "" : "s");
        return -1;
    }
    if (r->n_rate < 1 || !r->rate_t_ms || !r->rate_hz) {
        ns_errmsg(msg, msglen, "no population rate samples");
        return -1;
    }
    if (r->n_f < 1 || !r->f_hz || !r->psd) {
        ns_errmsg(msg, msglen, "no PSD frequencies");
        return -1;
    }
    for (int g = 0; g < want; g++)
        if (!r->rate_hz[g] || !r->psd[g]) {
            ns_errmsg(msg, msglen, "group %d has no %s array", g, r->rate_hz[g] ? "PSD" : "rate");
            return -1;
        }
    return 0;
}

int ns_plot_summary(const char *path, const ns_plot_run *run, const char *const *keys,
                    const char *const *values, int n_text, char *err, size_t errlen)
{
    if (!path || !path[0]) { ns_errmsg(err, errlen, "no output path"); return -1; }
    char msg[256];
    if (check_run(run, msg, sizeof msg) != 0) {
        ns_errmsg(err, errlen, "cannot plot '%s': %s", path, msg);
        return -1;
    }
    const ns_plot_run *r = run;
    int W = NS_PLOT_SUMMARY_WIDTH, H = NS_PLOT_SUMMARY_HEIGHT;
    int col_w = W - MARGIN_LEFT - MARGIN_RIGHT - SUM_PSD_W - SUM_COL_GAP;
    int col_h = H - MARGIN_TOP - MARGIN_BOTTOM;
    int raster_h = (int)lround(SUM_RASTER_SHARE * col_h);
    int rate_y = MARGIN_TOP + raster_h + SUM_PANEL_GAP, rate_h = col_h - raster_h - SUM_PANEL_GAP;
    int psd_x = MARGIN_LEFT + col_w + SUM_COL_GAP;

    ns_raster *ras = ns_raster_create_sized(r->t0_ms, r->t1_ms, r->n_neurons, r->groups,
                                            r->n_groups, NULL, col_w, raster_h);
    if (!ras) {
        ns_errmsg(err, errlen, "cannot plot '%s': bad neuron groups (each inside 0..%ld) or out of "
                "memory", path, r->n_neurons - 1);
        return -1;
    }
    int nser = r->n_groups > 0 ? r->n_groups : 1;
    ns_figure *f = ns_figure_create(W, H);
    double *t_axis = malloc((size_t)r->n_rate * sizeof *t_axis);
    ns_plot_series *rs = malloc((size_t)nser * sizeof *rs), *ps = malloc((size_t)nser * sizeof *ps);
    int *colours = malloc((size_t)nser * sizeof *colours);
    char (*unnamed)[24] = malloc((size_t)nser * sizeof *unnamed);
    int rc = -1;
    if (!f || !t_axis || !rs || !ps || !colours || !unnamed) {
        ns_errmsg(err, errlen, "cannot plot '%s': out of memory", path);
        goto done;
    }
    ns_raster_add_many(ras, r->spike_t_ms, r->spike_neuron, r->n_spikes);

    /* raster, with the time axis shared with the rate panel below */
    ns_axis ta;
    double div = ns_figure_time_axis(r->t0_ms, r->t1_ms, &ta);
    ns_figure_set_plot_area(f, MARGIN_LEFT, MARGIN_TOP, col_w, raster_h);
    if (ns_raster_draw(ras, f, NS_AXES_X_NO_LABELS) != 0) {
        ns_errmsg(err, errlen, "cannot plot '%s': out of memory", path);
        goto done;
    }

    for (long i = 0; i < r->n_rate; i++) t_axis[i] = r->rate_t_ms[i] / div;
    for (int g = 0; g < nser; g++) {
        snprintf(unnamed[g], sizeof unnamed[g], "group %d", g);  /* as the raster names it */
        const char *name = r->n_groups == 0 ? NULL : r->groups[g].name ? r->groups[g].name
                                                                       : unnamed[g];
        rs[g] = (ns_plot_series){name, t_axis, r->rate_hz[g], r->n_rate, 0};
        ps[g] = (ns_plot_series){name, r->f_hz, r->psd[g], r->n_f, 0};
        colours[g] = r->n_groups > 0 ? g : -1;
    }
    ns_plot_opts ro = {0};
    ro.x_label = ta.label;
    ro.y_label = "rate (Hz)";
    ro.x_lo = ta.lo;
    ro.x_hi = ta.hi;
    ns_figure_set_plot_area(f, MARGIN_LEFT, rate_y, col_w, rate_h);
    ns_figure_set_ylabel_x(f, ns_figure_ylabel_x(f));  /* line up with the raster's label */
    if (lines_panel(f, rs, nser, colours, &ro, 0, 0, 1, msg, sizeof msg) != 0) {
        ns_errmsg(err, errlen, "cannot plot '%s': rate: %s", path, msg);
        goto done;
    }
    ns_figure_set_ylabel_x(f, 0);

    ns_plot_opts po = {0};
    po.x_label = "frequency (Hz)";
    po.y_label = r->psd_label ? r->psd_label : "PSD (Hz²/Hz)";
    po.x_log = po.y_log = 1;
    po.bands = r->bands;
    po.n_bands = r->n_bands;
    ns_figure_set_plot_area(f, psd_x, MARGIN_TOP, SUM_PSD_W, col_h);
    if (lines_panel(f, ps, nser, colours, &po, 0, 1, 1, msg, sizeof msg) != 0) {
        ns_errmsg(err, errlen, "cannot plot '%s': PSD: %s", path, msg);
        goto done;
    }

    /* the title centred over all panels */
    ns_figure_set_plot_area(f, MARGIN_LEFT, MARGIN_TOP, W - MARGIN_LEFT - MARGIN_RIGHT, col_h);
    ns_figure_title(f, r->title ? r->title : "Run summary");
    rc = ns_figure_write_png(f, path, keys, values, n_text, err, errlen);
done:
    ns_figure_free(f);
    ns_raster_free(ras);
    free(t_axis);
    free(rs);
    free(ps);
    free(colours);
    free(unnamed);
    return rc;
}
