/* analysis/bars.c — bar charts, alone or beside a raster whose group rows they line up with
 * (see bars.h). Rows run top to bottom in group order: group 0's first row is the figure's top. */
#include "analysis/bars.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/figure.h"
#include "analysis/raster.h"

enum { MAX_GROUPS = 64 };

static int fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    return -1;
}

/* Check the groups; the rows of all (raster) or one per group (bars alone) into *total. */
static int check(const ns_bars_plot *p, int raster, long *total, char *err, size_t errlen)
{
    if (!p || !p->groups || p->n_groups < 1 || p->n_groups > MAX_GROUPS)
        return fail(err, errlen, "a bar chart needs 1 to 64 groups");
    long n = 0;
    for (int g = 0; g < p->n_groups; g++) {
        const ns_bar_group *b = &p->groups[g];
        char m[256];
        if (!(isfinite(b->value) && b->value >= 0)) {
            snprintf(m, sizeof m, "group %s: value %g is not a finite number >= 0", b->name ? b->name : "?", b->value);
            return fail(err, errlen, m);
        }
        if (!isnan(b->reference) && !(isfinite(b->reference) && b->reference >= 0)) {
            snprintf(m, sizeof m, "group %s: reference %g is not a finite number >= 0", b->name ? b->name : "?",
                     b->reference);
            return fail(err, errlen, m);
        }
        if (raster) {
            if (b->rows < 1 || (b->n > 0 && (!b->t_ms || !b->row))) {
                snprintf(m, sizeof m, "group %s: a raster group needs rows >= 1 and its spikes",
                         b->name ? b->name : "?");
                return fail(err, errlen, m);
            }
            for (long k = 0; k < b->n; k++)
                if (b->row[k] < 0 || b->row[k] >= b->rows) {
                    snprintf(m, sizeof m, "group %s: spike %ld is in row %ld, outside 0 .. %ld", b->name ? b->name : "?",
                             k, b->row[k], b->rows - 1);
                    return fail(err, errlen, m);
                }
            n += b->rows;
        } else {
            n += 1;
        }
    }
    if (raster && !(p->t1_ms > p->t0_ms)) return fail(err, errlen, "the raster's time range is empty");
    *total = n;
    return 0;
}

/* The y range [lo, hi] of group g's rows: rows count down from the top (total). */
static void band(const ns_bars_plot *p, int raster, int g, long total, double *lo, double *hi)
{
    long above = 0;
    for (int k = 0; k < g; k++) above += raster ? p->groups[k].rows : 1;
    *hi = (double)(total - above) - 0.5;
    *lo = *hi - (double)(raster ? p->groups[g].rows : 1);
}

/* Group names right-aligned left of the plot area, at the middle of their bands, and thin grey
 * lines between the bands. */
static void name_rows(ns_figure *f, const ns_bars_plot *p, int raster, long total)
{
    int x, y, w, h;
    ns_figure_plot_area(f, &x, &y, &w, &h);
    cairo_t *cr = ns_figure_cairo(f);
    for (int g = 0; g < p->n_groups; g++) {
        double lo, hi;
        band(p, raster, g, total, &lo, &hi);
        double ym = ns_figure_y(f, 0.5 * (lo + hi));
        ns_figure_text(f, x - 10, ym + 5, 1.0, 15.0, 0, ns_figure_palette(g), p->groups[g].name ? p->groups[g].name : "");
        if (g > 0) {
            cairo_save(cr);
            cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
            cairo_set_line_width(cr, 1.0);
            double yl = floor(ns_figure_y(f, hi)) + 0.5;
            cairo_move_to(cr, x, yl);
            cairo_line_to(cr, x + w, yl);
            cairo_stroke(cr);
            cairo_restore(cr);
        }
    }
}

/* The bars in f's current plot area: axes, bars, values, reference marks and the note. */
static int draw_bars(ns_figure *f, const ns_bars_plot *p, int raster, long total)
{
    double top = 0;
    int any_ref = 0;
    for (int g = 0; g < p->n_groups; g++) {
        top = fmax(top, p->groups[g].value);
        if (!isnan(p->groups[g].reference)) top = fmax(top, p->groups[g].reference), any_ref = 1;
    }
    if (!(top > 0)) top = 1;
    ns_axis xa = {0, top * 1.18, p->value_label, 0, 0}, ya = {-0.5, (double)total - 0.5, NULL, 1, 0};
    if (ns_figure_set_axes(f, &xa, &ya)) return -1;
    cairo_t *cr = ns_figure_cairo(f);
    char num[32];
    for (int g = 0; g < p->n_groups; g++) {
        const ns_bar_group *b = &p->groups[g];
        double lo, hi;
        band(p, raster, g, total, &lo, &hi);
        double pad = 0.2 * (hi - lo);
        double x0 = ns_figure_x(f, 0), x1 = ns_figure_x(f, b->value);
        double y0 = ns_figure_y(f, hi - pad), y1 = ns_figure_y(f, lo + pad);
        ns_rgb c = ns_figure_palette(g);
        cairo_save(cr);
        cairo_set_source_rgb(cr, c.r, c.g, c.b);
        cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
        cairo_fill(cr);
        cairo_restore(cr);
        if (!isnan(b->reference)) { /* a black bar across, a little taller than the bar */
            double xr = floor(ns_figure_x(f, b->reference)) + 0.5;
            ns_rgb k = ns_figure_ink();
            cairo_save(cr);
            cairo_set_source_rgb(cr, k.r, k.g, k.b);
            cairo_set_line_width(cr, 3.0);
            cairo_move_to(cr, xr, y0 - 0.25 * (y1 - y0));
            cairo_line_to(cr, xr, y1 + 0.25 * (y1 - y0));
            cairo_stroke(cr);
            cairo_restore(cr);
        }
        snprintf(num, sizeof num, "%.2f", b->value);
        double xt = fmax(x1, isnan(b->reference) ? x1 : ns_figure_x(f, b->reference)) + 6;
        ns_figure_text(f, xt, 0.5 * (y0 + y1) + 5, 0.0, 13.0, 0, ns_figure_ink(), num);
    }
    ns_figure_draw_axes_opt(f, NS_AXES_Y_NONE);
    if (any_ref) {
        char note[160];
        snprintf(note, sizeof note, "bars: this run; black marks: %s",
                 p->reference_label ? p->reference_label : "reference");
        ns_figure_note(f, note);
    }
    return 0;
}

int ns_plot_bars(const char *path, const ns_bars_plot *p, const char *const *keys, const char *const *values,
                 int n_text, char *err, size_t errlen)
{
    long total;
    if (check(p, 0, &total, err, errlen)) return -1;
    ns_figure *f = ns_figure_create(p->width_px ? p->width_px : 900, p->height_px ? p->height_px : 600);
    if (!f) return fail(err, errlen, "cannot make a figure of that size");
    if (draw_bars(f, p, 0, total)) {
        ns_figure_free(f);
        return fail(err, errlen, "cannot set the bar chart's axes");
    }
    name_rows(f, p, 0, total);
    return ns_figure_finish(f, p->title, path, keys, values, n_text, err, errlen);
}

int ns_plot_raster_bars(const char *path, const ns_bars_plot *p, const char *const *keys,
                        const char *const *values, int n_text, char *err, size_t errlen)
{
    long total;
    if (check(p, 1, &total, err, errlen)) return -1;
    int W = p->width_px ? p->width_px : 1600, H = p->height_px ? p->height_px : 900;
    ns_figure *f = ns_figure_create(W, H);
    if (!f) return fail(err, errlen, "cannot make a figure of that size");
    int x, y, w, h;
    ns_figure_plot_area(f, &x, &y, &w, &h);
    const int gap = 40, rw = (int)(0.66 * (w - gap));
    ns_raster_group rg[MAX_GROUPS];
    for (int g = 0; g < p->n_groups; g++) {
        double lo, hi;
        band(p, 1, g, total, &lo, &hi);
        rg[g] = (ns_raster_group){p->groups[g].name, (long)(lo + 0.5), p->groups[g].rows};
    }
    if (ns_figure_set_plot_area(f, x, y, rw, h)) {
        ns_figure_free(f);
        return fail(err, errlen, "the figure is too small for a raster and bars");
    }
    ns_raster *r = ns_raster_create_sized(p->t0_ms, p->t1_ms, total, rg, p->n_groups, NULL, rw, h);
    if (!r) {
        ns_figure_free(f);
        return fail(err, errlen, "cannot make the raster (out of memory)");
    }
    for (int g = 0; g < p->n_groups; g++) {
        const ns_bar_group *b = &p->groups[g];
        for (long k = 0; k < b->n; k++) ns_raster_add(r, b->t_ms[k], rg[g].first + rg[g].count - 1 - b->row[k]);
    }
    int rc = ns_raster_draw(r, f, NS_AXES_Y_NONE | NS_AXES_NO_LEGEND); /* the names stand at the rows */
    ns_raster_free(r);
    if (!rc) name_rows(f, p, 1, total);
    if (!rc) rc = ns_figure_set_plot_area(f, x + rw + gap, y, w - rw - gap, h);
    if (!rc) rc = draw_bars(f, p, 1, total);
    if (rc) {
        ns_figure_free(f);
        return fail(err, errlen, "cannot draw the raster and bars (out of memory or too small)");
    }
    ns_figure_set_plot_area(f, x, y, w, h); /* the title over both panels */
    return ns_figure_finish(f, p->title, path, keys, values, n_text, err, errlen);
}
