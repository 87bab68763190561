/* analysis/phase_plot.c — the phase figures: a raster of phases sorted by group with a cyclic
 * colour bar, and a phase map of an image with a colour wheel. Cells are painted straight into the
 * figure's pixels (hue = phase, brightness = activity); axes and text come from analysis/figure.c. */
#include "analysis/phase.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/errmsg.h"

enum { MARGIN_LEFT = 100, MARGIN_TOP = 80, MARGIN_BOTTOM = 76 };
enum { BAR_GAP = 80, BAR_W = 22, RIGHT_ROOM = 220 };      /* raster: cyclic colour bar at the right */
enum { WHEEL_ROOM = 300, WHEEL_R = 90 };                   /* map: colour wheel at the right */
#define MAX_CELLS 2e8

static uint32_t pack(ns_rgb c)
{
    uint32_t r = (uint32_t)lround(c.r * 255), g = (uint32_t)lround(c.g * 255), b = (uint32_t)lround(c.b * 255);
    return 0xff000000u | r << 16 | g << 8 | b;
}

static const char *const phase_tick_labels[5] = {"0", "π/2", "π", "3π/2", "2π"};

/* The cyclic colour bar: x, y, h px; phase 0 at the bottom, 2 pi at the top. */
static void phase_bar(ns_figure *f, int x, int y, int h)
{
    unsigned char *data;
    int stride;
    ns_figure_pixels(f, &data, &stride);
    for (int i = 0; i < h; i++) {
        uint32_t col = pack(ns_phase_colour(2 * M_PI * (1 - (i + 0.5) / h), 1));
        uint32_t *dst = (uint32_t *)(void *)(data + (size_t)(y + i) * stride) + x;
        for (int j = 0; j < BAR_W; j++) dst[j] = col;
    }
    ns_figure_pixels_done(f);
    cairo_t *cr = ns_figure_cairo(f);
    ns_rgb ink = ns_figure_ink();
    cairo_save(cr);
    cairo_set_source_rgb(cr, ink.r, ink.g, ink.b);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x - 0.5, y - 0.5, BAR_W + 1, h + 1);
    for (int k = 0; k <= 4; k++) {
        double yy = y + h - k * h / 4.0;
        cairo_move_to(cr, x + BAR_W, yy);
        cairo_line_to(cr, x + BAR_W + 6, yy);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
    for (int k = 0; k <= 4; k++)
        ns_figure_text(f, x + BAR_W + 10, y + h - k * h / 4.0 + 6, 0, 16, 0, ink, phase_tick_labels[k]);
    ns_figure_text(f, x + BAR_W + 70, y + h / 2.0, 0.5, 18, 1, ink, "phase (rad)");
}

int ns_phase_plot_raster(const char *path, const double *theta, const double *activity, long n_units, long nt,
                         double t0_ms, double dt_ms, const int *group, int n_groups, const char *title,
                         const char *const *keys, const char *const *values, int n_text, char *err, size_t errlen)
{
    if (!path || !path[0]) return ns_errmsg(err, errlen, "phase raster: no output path");
    if (!theta || n_units < 1 || nt < 1 || (double)n_units * nt > MAX_CELLS)
        return ns_errmsg(err, errlen, "%s: a phase raster of %ld units and %ld samples (at least 1 each, %g cells at most)",
                         path, n_units, nt, MAX_CELLS);
    if (!(dt_ms > 0) || !isfinite(t0_ms)) return ns_errmsg(err, errlen, "%s: sample interval %g ms; must be > 0", path, dt_ms);
    if (!group) n_groups = 1;
    if (n_groups < 1) return ns_errmsg(err, errlen, "%s: %d groups; at least 1", path, n_groups);
    for (long u = 0; group && u < n_units; u++)
        if (group[u] < 0 || group[u] > n_groups)
            return ns_errmsg(err, errlen, "%s: unit %ld is in group %d; groups are 0 (none) .. %d", path, u, group[u],
                             n_groups);
    /* the order on y: group 1, 2, ..., then the units of no group */
    long *order = malloc(sizeof *order * n_units), *start = calloc((size_t)n_groups + 2, sizeof *start);
    if (!order || !start) {
        free(order), free(start);
        return ns_errmsg(err, errlen, "%s: out of memory", path);
    }
    long n = 0;
    for (int g = 1; g <= n_groups + 1; g++) {
        start[g - 1] = n;
        int want = g <= n_groups ? g : 0;
        for (long u = 0; u < n_units; u++)
            if ((group ? group[u] : 1) == want) order[n++] = u;
    }
    start[n_groups + 1] = n;
    ns_figure *f = ns_figure_create(NS_FIG_WIDTH, NS_FIG_HEIGHT);
    if (!f) {
        free(order), free(start);
        return ns_errmsg(err, errlen, "%s: out of memory", path);
    }
    int px = MARGIN_LEFT, py = MARGIN_TOP, pw = NS_FIG_WIDTH - MARGIN_LEFT - RIGHT_ROOM,
        ph = NS_FIG_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    ns_axis xa, ya = {(double)n_units, 0, "unit (sorted by group)", 1, 0};
    double div = ns_figure_time_axis(t0_ms, t0_ms + nt * dt_ms, &xa);
    xa.lo /= div, xa.hi /= div;
    if (ns_figure_set_plot_area(f, px, py, pw, ph) || ns_figure_set_axes(f, &xa, &ya)) {
        free(order), free(start);
        ns_figure_free(f);
        return ns_errmsg(err, errlen, "%s: bad layout", path);
    }
    unsigned char *data;
    int stride;
    ns_figure_pixels(f, &data, &stride);
    for (int i = 0; i < ph; i++) {
        long r = (long)floor((i + 0.5) / ph * n_units);
        long u = order[r < n_units ? r : n_units - 1];
        uint32_t *dst = (uint32_t *)(void *)(data + (size_t)(py + i) * stride) + px;
        for (int jx = 0; jx < pw; jx++) {
            long j = (long)floor((jx + 0.5) / pw * nt);
            if (j >= nt) j = nt - 1;
            double v = activity ? activity[(size_t)u * nt + j] : 1;
            dst[jx] = pack(ns_phase_colour(theta[(size_t)u * nt + j], v));
        }
    }
    ns_figure_pixels_done(f);
    /* group boundaries and names */
    cairo_t *cr = ns_figure_cairo(f);
    ns_rgb ink = ns_figure_ink();
    int ng = group ? n_groups + 1 : 1;
    for (int g = 0; g < ng; g++) {
        long a = start[g], b = start[g + 1];
        if (b <= a) continue;
        double ya_px = ns_figure_y(f, (double)a), yb_px = ns_figure_y(f, (double)b);
        if (g > 0) {
            cairo_save(cr);
            cairo_set_source_rgb(cr, 1, 1, 1);
            cairo_set_line_width(cr, 2);
            cairo_move_to(cr, px, ya_px);
            cairo_line_to(cr, px + pw, ya_px);
            cairo_stroke(cr);
            cairo_restore(cr);
        }
        char name[32];
        if (!group) snprintf(name, sizeof name, "all");
        else if (g < n_groups) snprintf(name, sizeof name, "group %d", g + 1);
        else snprintf(name, sizeof name, "none");
        if (fabs(yb_px - ya_px) >= 14) ns_figure_text(f, px + pw + 8, 0.5 * (ya_px + yb_px) + 5, 0, 14, 0, ink, name);
    }
    ns_figure_draw_axes(f);
    char note[160];
    snprintf(note, sizeof note, "%ld units, %ld samples of %g ms; colour: phase%s", n_units, nt, dt_ms,
             activity ? ", brightness: activity" : "");
    ns_figure_note(f, note);
    phase_bar(f, px + pw + BAR_GAP, py, ph);
    ns_figure_set_plot_area(f, px, py, pw, ph);
    free(order), free(start);
    return ns_figure_finish(f, title ? title : "Phase raster", path, keys, values, n_text, err, errlen);
}

/* The colour wheel: centre (cx, cy), radius R px; angle = phase counter-clockwise from the right,
 * distance from the centre = brightness (activity). */
static void colour_wheel(ns_figure *f, double cx, double cy, int R)
{
    unsigned char *data;
    int stride;
    ns_figure_pixels(f, &data, &stride);
    for (int dy = -R; dy <= R; dy++)
        for (int dx = -R; dx <= R; dx++) {
            double x = dx, y = -dy, r = hypot(x, y) / R;
            if (r > 1) continue;
            uint32_t *dst = (uint32_t *)(void *)(data + (size_t)((int)cy + dy) * stride) + ((int)cx + dx);
            *dst = pack(ns_phase_colour(atan2(y, x), r));
        }
    ns_figure_pixels_done(f);
    ns_rgb ink = ns_figure_ink();
    static const char *const lab[4] = {"0", "π/2", "π", "3π/2"};
    for (int k = 0; k < 4; k++) {
        double a = k * M_PI / 2, tx = cx + (R + 14) * cos(a), ty = cy - (R + 14) * sin(a);
        ns_figure_text(f, tx, ty + 6, k == 0 ? 0 : k == 2 ? 1 : 0.5, 16, 0, ink, lab[k]);
    }
    ns_figure_text(f, cx, cy + R + 44, 0.5, 15, 0, ink, "hue: phase (rad)");
    ns_figure_text(f, cx, cy + R + 64, 0.5, 15, 0, ink, "brightness: activity,");
    ns_figure_text(f, cx, cy + R + 84, 0.5, 15, 0, ink, "0 at the centre, 1 at the rim");
}

int ns_phase_plot_map(const char *path, const double *theta, const double *activity, int width, int height,
                      const char *title, const char *const *keys, const char *const *values, int n_text, char *err,
                      size_t errlen)
{
    if (!path || !path[0]) return ns_errmsg(err, errlen, "phase map: no output path");
    if (!theta || width < 1 || height < 1 || (double)width * height > MAX_CELLS)
        return ns_errmsg(err, errlen, "%s: a phase map of %d x %d px (at least 1 x 1)", path, width, height);
    ns_figure *f = ns_figure_create(NS_FIG_WIDTH, NS_FIG_HEIGHT);
    if (!f) return ns_errmsg(err, errlen, "%s: out of memory", path);
    int px = MARGIN_LEFT, py = MARGIN_TOP, pw = NS_FIG_WIDTH - MARGIN_LEFT - WHEEL_ROOM,
        ph = NS_FIG_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    ns_figure_fit_aspect(&px, &pw, &ph, (double)width / height); /* square pixels */
    ns_axis xa = {0, width, "x (pixels)", 1, 0}, ya = {height, 0, "y (pixels)", 1, 0};
    if (ns_figure_set_plot_area(f, px, py, pw, ph) || ns_figure_set_axes(f, &xa, &ya)) {
        ns_figure_free(f);
        return ns_errmsg(err, errlen, "%s: bad layout", path);
    }
    unsigned char *data;
    int stride;
    ns_figure_pixels(f, &data, &stride);
    for (int i = 0; i < ph; i++) {
        long iy = (long)floor((i + 0.5) / ph * height);
        if (iy >= height) iy = height - 1;
        uint32_t *dst = (uint32_t *)(void *)(data + (size_t)(py + i) * stride) + px;
        for (int jx = 0; jx < pw; jx++) {
            long ix = (long)floor((jx + 0.5) / pw * width);
            if (ix >= width) ix = width - 1;
            size_t k = (size_t)iy * width + ix;
            dst[jx] = pack(ns_phase_colour(theta[k], activity ? activity[k] : 1));
        }
    }
    ns_figure_pixels_done(f);
    ns_figure_draw_axes(f);
    colour_wheel(f, NS_FIG_WIDTH - WHEEL_ROOM / 2.0 + 10, MARGIN_TOP + WHEEL_R + 40, WHEEL_R);
    ns_figure_set_plot_area(f, px, py, pw, ph);
    return ns_figure_finish(f, title ? title : "Phase map", path, keys, values, n_text, err, errlen);
}
