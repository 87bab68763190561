/* analysis/raster.c — streaming spike raster: spikes binned into a plot-area pixel grid.
 * With more neurons than pixel rows, a row holds several neurons and is drawn as density in the
 * (mixed) colour of its groups; with fewer, each neuron owns a band and spikes are short ticks. */
#include "analysis/raster.h"
#include "base/errmsg.h"
#include "analysis/figure.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GROUP_NONE = -1, GROUP_MIXED = -2 };
enum { MAX_GROUPS = 1024, HIST_CAP = 256 };
#define MAX_NEURONS 1e12          /* keeps neuron * rows inside 64 bits */

struct ns_raster {
    double t0, t1, col_per_ms;
    long n;                  /* neurons */
    int cols, rows;          /* grid: plot width x (n or plot height) */
    int ticks;               /* one neuron per grid row: draw ticks */
    uint32_t *count;         /* rows * cols spike counts, row 0 = neuron 0 (bottom) */
    int *row_group;          /* group of each grid row, GROUP_NONE or GROUP_MIXED */
    ns_rgb *row_colour;      /* group colours mixed by neuron share */
    ns_raster_group *groups; /* names point into names */
    char *names;
    int n_groups;
    long *group_spikes;      /* n_groups + 1, the last for neurons in no group */
    long spikes;
    char title[256];
    ns_figure *fig;
};

void ns_raster_free(ns_raster *r)
{
    if (!r) return;
    ns_figure_free(r->fig);
    free(r->count);
    free(r->row_group);
    free(r->row_colour);
    free(r->groups);
    free(r->names);
    free(r->group_spikes);
    free(r);
}

/* Neurons of grid row k: [row_first(k), row_first(k+1)), the inverse of neuron*rows/n. */
static long row_first(const ns_raster *r, long k)
{
    return (long)(((long long)k * r->n + r->rows - 1) / r->rows);
}

static void classify_rows(ns_raster *r)
{
    ns_rgb ink = ns_figure_ink();
    for (long k = 0; k < r->rows; k++) {
        long lo = row_first(r, k), hi = row_first(r, k + 1), size = hi - lo;
        double w_r = 0, w_g = 0, w_b = 0, covered = 0;
        int group = GROUP_NONE, n_touch = 0;
        for (int g = 0; g < r->n_groups; g++) {
            long a = r->groups[g].first, b = a + r->groups[g].count;
            long ov = (b < hi ? b : hi) - (a > lo ? a : lo);
            if (ov <= 0) continue;
            if (covered + ov > size) ov = size - (long)covered;  /* overlapping groups */
            if (ov <= 0) continue;
            ns_rgb c = ns_figure_palette(g);
            w_r += ov * c.r; w_g += ov * c.g; w_b += ov * c.b;
            covered += ov;
            group = g;
            n_touch++;
        }
        double rest = size - covered;
        w_r += rest * ink.r; w_g += rest * ink.g; w_b += rest * ink.b;
        r->row_colour[k] = (ns_rgb){w_r / size, w_g / size, w_b / size};
        if (n_touch == 0) r->row_group[k] = GROUP_NONE;
        else if (n_touch == 1 && rest == 0) r->row_group[k] = group;
        else r->row_group[k] = GROUP_MIXED;
    }
}

/* The constructor behind both creates: grid of cols x (n or rows_px) cells. */
static ns_raster *raster_new(double t0_ms, double t1_ms, long n_neurons,
                             const ns_raster_group *groups, int n_groups, const char *title,
                             int cols, int rows_px)
{
    if (!isfinite(t0_ms) || !isfinite(t1_ms) || !(t1_ms > t0_ms)) return NULL;
    if (n_neurons < 1 || (double)n_neurons > MAX_NEURONS) return NULL;
    if (n_groups < 0 || n_groups > MAX_GROUPS || (n_groups > 0 && !groups)) return NULL;
    size_t name_bytes = 0;
    for (int g = 0; g < n_groups; g++) {
        const ns_raster_group *G = &groups[g];
        if (G->first < 0 || G->count < 1 || G->first > n_neurons - G->count) return NULL;
        name_bytes += (G->name ? strlen(G->name) : 24) + 1;
    }

    ns_raster *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->t0 = t0_ms;
    r->t1 = t1_ms;
    r->n = n_neurons;
    r->cols = cols;
    r->ticks = n_neurons <= rows_px;
    r->rows = r->ticks ? (int)n_neurons : rows_px;
    r->col_per_ms = cols / (t1_ms - t0_ms);
    r->n_groups = n_groups;
    snprintf(r->title, sizeof r->title, "%s", title ? title : "Spike raster");

    r->count = calloc((size_t)r->rows * (size_t)r->cols, sizeof *r->count);
    r->row_group = malloc((size_t)r->rows * sizeof *r->row_group);
    r->row_colour = malloc((size_t)r->rows * sizeof *r->row_colour);
    r->group_spikes = calloc((size_t)n_groups + 1, sizeof *r->group_spikes);
    r->groups = malloc(((size_t)n_groups + 1) * sizeof *r->groups);
    r->names = malloc(name_bytes + 1);
    if (!r->count || !r->row_group || !r->row_colour || !r->group_spikes || !r->groups ||
        !r->names) {
        ns_raster_free(r);
        return NULL;
    }
    char *p = r->names;
    for (int g = 0; g < n_groups; g++) {
        r->groups[g] = groups[g];
        size_t room = (groups[g].name ? strlen(groups[g].name) : 24) + 1;
        if (groups[g].name) snprintf(p, room, "%s", groups[g].name);
        else snprintf(p, room, "group %d", g);
        r->groups[g].name = p;
        p += room;
    }
    classify_rows(r);
    return r;
}

ns_raster *ns_raster_create(double t0_ms, double t1_ms, long n_neurons,
                            const ns_raster_group *groups, int n_groups, const char *title)
{
    ns_figure *fig = ns_figure_create(NS_FIG_WIDTH, NS_FIG_HEIGHT);
    if (!fig) return NULL;
    int pw, ph;
    ns_figure_plot_area(fig, NULL, NULL, &pw, &ph);
    ns_raster *r = raster_new(t0_ms, t1_ms, n_neurons, groups, n_groups, title, pw, ph);
    if (!r) { ns_figure_free(fig); return NULL; }
    r->fig = fig;
    return r;
}

ns_raster *ns_raster_create_sized(double t0_ms, double t1_ms, long n_neurons,
                                  const ns_raster_group *groups, int n_groups, const char *title,
                                  int w_px, int h_px)
{
    if (w_px < 10 || h_px < 10 || w_px > 8000 || h_px > 8000) return NULL;
    return raster_new(t0_ms, t1_ms, n_neurons, groups, n_groups, title, w_px, h_px);
}

/* The group of a neuron in a mixed row: first match, as classify_rows counts them. */
static int find_group(const ns_raster *r, long neuron)
{
    for (int g = 0; g < r->n_groups; g++)
        if (neuron >= r->groups[g].first && neuron - r->groups[g].first < r->groups[g].count)
            return g;
    return r->n_groups;
}

void ns_raster_add(ns_raster *r, double t_ms, long neuron)
{
    if (!r || !(t_ms >= r->t0 && t_ms < r->t1) || neuron < 0 || neuron >= r->n) return;
    long col = (long)((t_ms - r->t0) * r->col_per_ms);
    if (col >= r->cols) col = r->cols - 1;
    long row = r->ticks ? neuron : (long)(((long long)neuron * r->rows) / r->n);
    uint32_t *c = &r->count[(size_t)row * (size_t)r->cols + (size_t)col];
    if (*c < UINT32_MAX) (*c)++;
    int g = r->row_group[row];
    if (g == GROUP_MIXED) g = find_group(r, neuron);
    else if (g == GROUP_NONE) g = r->n_groups;
    r->group_spikes[g]++;
    r->spikes++;
}

void ns_raster_add_many(ns_raster *r, const double *t_ms, const long *neuron, long n)
{
    if (!r || !t_ms || !neuron) return;
    for (long i = 0; i < n; i++) ns_raster_add(r, t_ms[i], neuron[i]);
}

long ns_raster_spikes(const ns_raster *r) { return r ? r->spikes : 0; }

long ns_raster_group_spikes(const ns_raster *r, int g)
{
    if (!r || g < 0 || g > r->n_groups) return 0;
    return r->group_spikes[g];
}

/* Opacity per spike count: 1 - 10^(-c/c90), where c90 is the 90th percentile count of non-empty
 * cells, so a typical busy cell is near full colour in sparse and dense rasters alike; a single
 * spike never falls below a visible floor. */
static void opacity_table(const ns_raster *r, double *alpha)
{
    long hist[HIST_CAP] = {0}, nonzero = 0;
    size_t cells = (size_t)r->rows * (size_t)r->cols;
    for (size_t i = 0; i < cells; i++) {
        uint32_t c = r->count[i];
        if (!c) continue;
        hist[c < HIST_CAP ? c : HIST_CAP - 1]++;
        nonzero++;
    }
    long want = (long)ceil(0.9 * nonzero), seen = 0;
    int c90 = 1;
    for (int c = 1; c < HIST_CAP; c++) {
        seen += hist[c];
        if (seen >= want) { c90 = c; break; }
    }
    alpha[0] = 0;
    for (int c = 1; c < HIST_CAP; c++) {
        double a = 1 - pow(10.0, -(double)c / c90);
        alpha[c] = a > 0.3 ? a : 0.3;
    }
}

static void blend(unsigned char *px, ns_rgb col, double a)
{
    /* px is an opaque ARGB32 pixel, read and written as one native-endian word */
    uint32_t p;
    memcpy(&p, px, 4);
    double old[3] = {(p >> 16) & 255, (p >> 8) & 255, p & 255}, c[3] = {col.r, col.g, col.b};
    uint32_t out = 0xff000000u;
    for (int k = 0; k < 3; k++) {
        double v = old[k] * (1 - a) + 255.0 * c[k] * a;
        out |= (uint32_t)lround(v < 0 ? 0 : v > 255 ? 255 : v) << (16 - 8 * k);
    }
    memcpy(px, &out, 4);
}

/* Grid cells onto the plot area of f: cell column x covers pixel columns [x*pw/cols,
 * (x+1)*pw/cols) (one to one when the grid was made for this area); at least one pixel each. */
static void draw_spikes(const ns_raster *r, ns_figure *f)
{
    int px, py, pw, ph;
    ns_figure_plot_area(f, &px, &py, &pw, &ph);
    double alpha[HIST_CAP];
    opacity_table(r, alpha);

    unsigned char *data;
    int stride;
    ns_figure_pixels(f, &data, &stride);
    double band = (double)ph / r->rows;  /* px per grid row */
    double th = band <= 3 ? band : fmin(0.75 * band, 28.0);  /* tick height, px */

    for (int k = 0; k < r->rows; k++) {
        int y0, y1;  /* pixel rows [y0, y1) */
        if (r->ticks) {
            double yc = ns_figure_y(f, (double)k);
            y0 = (int)floor(yc - 0.5 * th + 0.5);
            y1 = (int)floor(yc + 0.5 * th + 0.5);
            if (y1 <= y0) { y0 = (int)floor(yc); y1 = y0 + 1; }
        } else {
            y1 = py + ph - (int)((long long)k * ph / r->rows);
            y0 = py + ph - (int)((long long)(k + 1) * ph / r->rows);
            if (y0 >= y1) y0 = y1 - 1;
        }
        if (y0 < py) y0 = py;
        if (y1 > py + ph) y1 = py + ph;
        const uint32_t *cnt = r->count + (size_t)k * (size_t)r->cols;
        for (int x = 0; x < r->cols; x++) {
            uint32_t c = cnt[x];
            if (!c) continue;
            double a = alpha[c < HIST_CAP ? c : HIST_CAP - 1];
            int x0 = px + (int)((long long)x * pw / r->cols);
            int x1 = px + (int)((long long)(x + 1) * pw / r->cols);
            if (x1 <= x0) x1 = x0 + 1;
            for (int y = y0; y < y1; y++)
                for (int xx = x0; xx < x1; xx++)
                    blend(data + (size_t)y * stride + 4 * (size_t)xx, r->row_colour[k], a);
        }
    }
    ns_figure_pixels_done(f);
}

int ns_raster_draw(ns_raster *r, ns_figure *f, unsigned axes_flags)
{
    if (!r || !f) return -1;
    double span_s = (r->t1 - r->t0) / 1000.0;
    ns_axis xa, ya = {-0.5, r->n - 0.5, "neuron id", 1.0, 0};
    ns_figure_time_axis(r->t0, r->t1, &xa);
    if (ns_figure_set_axes(f, &xa, &ya) != 0) return -1;

    int n_leg = r->n_groups + (r->n_groups > 0 && r->group_spikes[r->n_groups] > 0);
    const char **names = malloc((size_t)(n_leg + 1) * sizeof *names);
    int *colours = malloc((size_t)(n_leg + 1) * sizeof *colours);
    char (*text)[96] = malloc((size_t)(n_leg + 1) * sizeof *text);
    if (!names || !colours || !text) {
        free(names); free(colours); free(text);
        return -1;
    }

    draw_spikes(r, f);
    ns_figure_draw_axes_opt(f, axes_flags);

    char note[160];
    snprintf(note, sizeof note, "%ld spikes, %ld neurons, mean rate %.2f Hz", r->spikes, r->n,
             r->spikes / (double)r->n / span_s);
    ns_figure_note(f, note);

    long in_groups = 0;
    for (int g = 0; g < r->n_groups; g++) {
        in_groups += r->groups[g].count;
        snprintf(text[g], sizeof text[g], "%s  %.2f Hz", r->groups[g].name,
                 r->group_spikes[g] / (double)r->groups[g].count / span_s);
        names[g] = text[g];
        colours[g] = g;
    }
    if (n_leg > r->n_groups) {
        long rest = r->n > in_groups ? r->n - in_groups : 1;
        snprintf(text[r->n_groups], sizeof text[0], "other  %.2f Hz",
                 r->group_spikes[r->n_groups] / (double)rest / span_s);
        names[r->n_groups] = text[r->n_groups];
        colours[r->n_groups] = -1;
    }
    if (!(axes_flags & NS_AXES_NO_LEGEND)) ns_figure_legend(f, names, colours, n_leg, NS_LEGEND_ABOVE);
    free(names);
    free(colours);
    free(text);
    return 0;
}

int ns_raster_write(ns_raster *r, const char *path, const char *const *keys,
                    const char *const *values, int n_text, char *err, size_t errlen)
{
    if (!r || !path || !path[0]) {
        ns_errmsg(err, errlen, "no raster or no output path");
        return -1;
    }
    if (!r->fig) r->fig = ns_figure_create(NS_FIG_WIDTH, NS_FIG_HEIGHT);  /* a sized raster */
    if (!r->fig) {
        ns_errmsg(err, errlen, "cannot write '%s': out of memory", path);
        return -1;
    }
    ns_figure *f = r->fig;
    ns_figure_clear(f);
    if (ns_raster_draw(r, f, 0) != 0) {
        ns_errmsg(err, errlen, "cannot write '%s': out of memory", path);
        return -1;
    }
    ns_figure_title(f, r->title);
    return ns_figure_write_png(f, path, keys, values, n_text, err, errlen);
}
