/* tests/test_bars.c — analysis/bars.c read back from its PNGs: each bar as long as its value
 * (to a pixel) and in its group's colour, the reference mark at its value, the raster's spikes
 * in their group's band (group 0 on top), the title kept; bad groups refused with a message. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/bars.h"
#include "analysis/figure.h"
#include "tests/harness.h"
#include "tests/pngread.h"

/* A pixel of colour c laid over white with some opacity (a raster cell's spike). */
static int tinted(const unsigned char *p, ns_rgb c)
{
    double a[3], lo = 1e9, hi = -1e9;
    int n = 0;
    const double cc[3] = {c.r * 255, c.g * 255, c.b * 255};
    for (int k = 0; k < 3; k++)
        if (255 - cc[k] > 60) {
            a[n] = (255 - p[k]) / (255 - cc[k]);
            lo = fmin(lo, a[n]), hi = fmax(hi, a[n]);
            n++;
        }
    return n > 0 && lo > 0.15 && hi - lo < 0.12;
}

static int is_colour(const unsigned char *p, ns_rgb c)
{
    return abs(p[0] - (int)lround(c.r * 255)) <= 2 && abs(p[1] - (int)lround(c.g * 255)) <= 2 &&
           abs(p[2] - (int)lround(c.b * 255)) <= 2;
}

/* The extent of colour c in row y from x0: first to last pixel of it (a reference mark may cut a
 * bar in two), and where it starts. */
static int run_of(const decoded *d, int y, int x0, ns_rgb c, int *start)
{
    int first = -1, last = -1;
    for (int x = x0; x < d->w; x++)
        if (is_colour(pixel(d, x, y), c)) {
            if (first < 0) first = x;
            last = x;
        }
    *start = first;
    return first < 0 ? 0 : last - first + 1;
}

/* The rows holding colour g's widest extent right of x0: its length, and its rows' middle. */
static int bar_of(const decoded *d, int g, int x0, double *y_mid, int *x_start)
{
    int best = 0, y_lo = -1, y_hi = -1;
    for (int y = 0; y < d->h; y++) {
        int s = 0, r = run_of(d, y, x0, ns_figure_palette(g), &s);
        if (r > best) best = r, y_lo = y_hi = y, *x_start = s;
        else if (r == best && r > 0) y_hi = y;
    }
    *y_mid = 0.5 * (y_lo + y_hi);
    return best;
}

static void bars_alone(const char *dir)
{
    ns_bar_group g[3] = {{.name = "A", .value = 2, .reference = NAN},
                         {.name = "B", .value = 8, .reference = 4},
                         {.name = "C", .value = 5, .reference = NAN}};
    ns_bars_plot p = {.title = "three bars", .value_label = "rate (Hz)", .groups = g, .n_groups = 3};
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/bars.png", dir);
    NS_CHECK(ns_plot_bars(path, &p, NULL, NULL, 0, err, sizeof err) == 0, "%s", err);
    decoded d;
    read_png(path, &d);
    NS_CHECK(d.ok && d.w == 900 && d.h == 600, "bars.png is 900 x 600");
    if (!d.ok) return;
    double ym[3];
    int len[3], xs[3];
    for (int k = 0; k < 3; k++) len[k] = bar_of(&d, k, 100, &ym[k], &xs[k]); /* right of the names */
    NS_CHECK(abs(len[1] * 2 - len[0] * 8) <= 8 && abs(len[2] * 2 - len[0] * 5) <= 5,
             "bar lengths %d %d %d go as 2 : 8 : 5", len[0], len[1], len[2]);
    NS_CHECK(xs[0] == xs[1] && xs[1] == xs[2], "bars start at one x (0)");
    NS_CHECK(ym[0] < ym[1] && ym[1] < ym[2], "group 0 on top: bar middles at y %g %g %g", ym[0], ym[1], ym[2]);
    /* the reference of B, a black line at value 4: half of B's bar from its start */
    int xr = xs[1] + (int)lround(len[1] * 0.5), yb = (int)ym[1], black = 0;
    for (int x = xr - 2; x <= xr + 2; x++) black |= is_colour(pixel(&d, x, yb), ns_figure_ink());
    NS_CHECK(black, "B's reference mark at x %d (value 4)", xr);
    const char *t = text_value(&d, "Title");
    NS_CHECK(t && !strcmp(t, "three bars"), "title kept");
    free(d.rgba);
}

static void raster_bars(const char *dir)
{
    /* group 0: 10 rows, a spike every ms in row 3; group 1: 30 rows, none; group 2: 20 rows */
    enum { NS_ = 100 };
    double t0[NS_], t2[1] = {50};
    long r0[NS_], r2[1] = {19};
    for (int k = 0; k < NS_; k++) t0[k] = k + 0.5, r0[k] = 3;
    ns_bar_group g[3] = {{.name = "X", .value = 3, .reference = 3.5, .t_ms = t0, .row = r0, .n = NS_, .rows = 10},
                         {.name = "Y", .value = 1, .reference = NAN, .rows = 30},
                         {.name = "Z", .value = 6, .reference = NAN, .t_ms = t2, .row = r2, .n = 1, .rows = 20}};
    ns_bars_plot p = {.title = "raster and bars", .value_label = "rate (Hz)", .t0_ms = 0, .t1_ms = 100, .groups = g,
                      .n_groups = 3};
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/rb.png", dir);
    NS_CHECK(ns_plot_raster_bars(path, &p, NULL, NULL, 0, err, sizeof err) == 0, "%s", err);
    decoded d;
    read_png(path, &d);
    NS_CHECK(d.ok && d.w == 1600 && d.h == 900, "rb.png is 1600 x 900");
    if (!d.ok) return;
    double ym[3];
    int len[3], xs[3];
    for (int k = 0; k < 3; k++) len[k] = bar_of(&d, k, 1000, &ym[k], &xs[k]);
    NS_CHECK(abs(len[0] * 2 - len[2]) <= 2 && abs(len[1] * 6 - len[2]) <= 6, "bars %d %d %d go as 3 : 1 : 6", len[0],
             len[1], len[2]);
    /* the bands: 60 rows over the plot's height, X's 10 on top, Y's 30, Z's 20 at the bottom: the
     * bar middles' spacing goes as (10 + 30) / 2 : (30 + 20) / 2 */
    double a = ym[1] - ym[0], b = ym[2] - ym[1];
    NS_CHECK(fabs(a / b - 20.0 / 25.0) < 0.03, "bars at their bands' middles: spacing %g : %g, want 20 : 25", a, b);
    /* X's spikes: 100 dots of its colour in one row of the raster, row 3 of X's 10 from the top:
     * 1.5 rows of the 60 (a = 20 rows) above X's bar middle */
    int best_y = -1, best = 0;
    for (int y = 0; y < d.h; y++) {
        int n = 0;
        for (int x = 100; x < 1000; x++) n += tinted(pixel(&d, x, y), ns_figure_palette(0));
        if (n > best) best = n, best_y = y;
    }
    NS_CHECK(best >= 90 && fabs(best_y - (ym[0] - 0.075 * a)) <= 0.05 * a + 2,
             "X's spikes: %d dots in row y %d, want about %g", best, best_y, ym[0] - 0.075 * a);
    free(d.rgba);
}

static void refusals(const char *dir)
{
    char path[4200], err[512] = "";
    snprintf(path, sizeof path, "%s/bad.png", dir);
    ns_bar_group g = {.name = "A", .value = -1, .reference = NAN, .rows = 1};
    ns_bars_plot p = {.groups = &g, .n_groups = 1, .t0_ms = 0, .t1_ms = 1};
    NS_CHECK(ns_plot_bars(path, &p, NULL, NULL, 0, err, sizeof err) == -1 && strstr(err, "value -1"), "%s", err);
    g.value = 1;
    double t = 0.5;
    long row = 1;
    g.t_ms = &t, g.row = &row, g.n = 1;
    NS_CHECK(ns_plot_raster_bars(path, &p, NULL, NULL, 0, err, sizeof err) == -1 && strstr(err, "row 1"), "%s", err);
    p.n_groups = 0;
    NS_CHECK(ns_plot_bars(path, &p, NULL, NULL, 0, err, sizeof err) == -1, "no groups refused");
    FILE *f = fopen(path, "rb");
    NS_CHECK(!f, "nothing written on a refusal");
    if (f) fclose(f);
}

int main(void)
{
    char dir[4096];
    ns_test_tmpdir(dir, sizeof dir, "nsim-bars");
    bars_alone(dir);
    raster_bars(dir);
    refusals(dir);
    NS_TEST_MAIN_END();
}
