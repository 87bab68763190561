/* tests/test_plot.c — tests for analysis/plot.c (line plots, histograms, heatmaps, run summary).
 * Every figure is decoded back with libpng and checked for size, ink inside its panels and its
 * text chunks; bad inputs must fail with one line. NSIM_PLOT_SAMPLES=DIR keeps the PNGs there. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime */
#endif

#include "analysis/figure.h"
#include "analysis/plot.h"
#include "tests/harness.h"
#include "tests/pngread.h"

#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char out_dir[256];
static int keep_files;


static int white(const unsigned char *p) { return p[0] > 245 && p[1] > 245 && p[2] > 245; }

/* Non-white pixels in [x0, x1) x [y0, y1), one px inside so the frame does not count. */
static long ink_in(const decoded *im, int x0, int y0, int x1, int y1)
{
    long n = 0;
    for (int y = y0 + 1; y < y1 - 1; y++)
        for (int x = x0 + 1; x < x1 - 1; x++) n += !white(pixel(im, x, y));
    return n;
}

/* Pixels close to palette colour c (within 40 per channel, any blending with white aside). */
static long colour_in(const decoded *im, int x0, int y0, int x1, int y1, ns_rgb c)
{
    long n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const unsigned char *p = pixel(im, x, y);
            n += abs(p[0] - (int)(255 * c.r)) < 40 && abs(p[1] - (int)(255 * c.g)) < 40 &&
                 abs(p[2] - (int)(255 * c.b)) < 40;
        }
    return n;
}

static void default_area(int *x, int *y, int *w, int *h)
{
    ns_figure *f = ns_figure_create(NS_FIG_WIDTH, NS_FIG_HEIGHT);
    *x = *y = *w = *h = 0;
    if (f) ns_figure_plot_area(f, x, y, w, h);
    ns_figure_free(f);
}

static void path_for(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/plot_%s.png", out_dir, name);
}

static const char *keys[] = {"seed", "model"};
static const char *vals[] = {"7", "lif"};

/* Decode path and check what every figure must satisfy; returns the decoded (caller frees px). */
static void check_figure_(const char *path, int w, int h, const char *title, int margins,
                          decoded *im)
{
    read_png(path, im);
    NS_CHECK(im->ok, "cannot decode %s as 8-bit RGBA", path);
    if (!im->ok) return;
    NS_CHECK(im->w == w && im->h == h, "%s: %d x %d, want %d x %d", path, im->w, im->h, w, h);
    const char *v;
    NS_CHECK((v = text_value(im, "seed")) && strcmp(v, "7") == 0, "%s: seed = %s", path, v);
    NS_CHECK((v = text_value(im, "model")) && strcmp(v, "lif") == 0, "%s: model = %s", path, v);
    NS_CHECK((v = text_value(im, "Software")) && strcmp(v, "nsim") == 0, "%s: Software", path);
    if (title) NS_CHECK((v = text_value(im, "Title")) && strcmp(v, title) == 0, "%s: Title", path);
    /* something to read in the margins: tick labels under and left of the plot */
    if (!margins) return;
    NS_CHECK(ink_in(im, 0, h - 70, w, h) > 300, "%s: nothing under the plot", path);
    NS_CHECK(ink_in(im, 0, 80, 95, h - 80) > 300, "%s: nothing left of the plot", path);
}

static void check_figure(const char *path, int w, int h, const char *title, decoded *im)
{
    check_figure_(path, w, h, title, 1, im);
}

static void done_with(const char *path, decoded *im)
{
    free(im->rgba);
    im->rgba = NULL;
    if (!keep_files) remove(path);
}

/* A PSD-like spectrum: 1/f with a gamma peak at f_peak, zero at f = 0. */
static double spectrum(double f, double f_peak, double gain)
{
    if (f <= 0) return 0;
    return gain * (1.0 / f + 5.0 * exp(-0.5 * pow((f - f_peak) / 6.0, 2)));
}

static void test_lines(void)
{
    enum { N = 501 };
    static double f[N], p0[N], p1[N], p2[N];
    for (int i = 0; i < N; i++) {
        f[i] = i;  /* 0..500 Hz, f = 0 cannot be shown on a log axis */
        p0[i] = spectrum(f[i], 40, 1.0);
        p1[i] = spectrum(f[i], 20, 0.3);
        p2[i] = spectrum(f[i], 60, 0.05);
    }
    p0[100] = -3;       /* negative: left out on a log axis */
    p1[200] = NAN;      /* non-finite: left out */
    p2[300] = 0;
    ns_plot_series s[3] = {{"E", f, p0, N, 0}, {"I", f, p1, N, 0}, {"thalamus", f, p2, N, 0}};
    const ns_plot_band *bands;
    int nb = ns_plot_standard_bands(&bands);
    NS_CHECK(nb == 5 && bands[1].lo == 4 && bands[1].hi == 8, "standard bands");

    int px, py, pw, ph;
    default_area(&px, &py, &pw, &ph);
    char path[512], err[512];
    decoded im;

    ns_plot_opts o = {0};
    o.title = "Power spectra";
    o.x_label = "frequency (Hz)";
    o.y_label = "PSD (Hz²/Hz)";
    o.x_log = o.y_log = 1;
    o.bands = bands;
    o.n_bands = nb;
    path_for(path, sizeof path, "psd_loglog");
    err[0] = '\0';
    NS_CHECK(ns_plot_lines(path, s, 3, &o, keys, vals, 2, err, sizeof err) == 0, "%s", err);
    check_figure(path, NS_FIG_WIDTH, NS_FIG_HEIGHT, "Power spectra", &im);
    if (im.ok) {
        NS_CHECK(ink_in(&im, px, py, px + pw, py + ph) > 5000, "empty plot area");
        NS_CHECK(colour_in(&im, px, py, px + pw, py + ph, ns_figure_palette(0)) > 300, "no E line");
        NS_CHECK(colour_in(&im, px, py, px + pw, py + ph, ns_figure_palette(1)) > 300, "no I line");
        NS_CHECK(colour_in(&im, px, py, px + pw, py + ph, ns_figure_palette(2)) > 300,
                 "no third line");
        /* the legend above the plot shows all three colours */
        NS_CHECK(colour_in(&im, px, py - 30, px + pw, py, ns_figure_palette(2)) > 50,
                 "no legend above the plot");
    }
    done_with(path, &im);

    /* semi-log: log y only, on linear frequency */
    o.x_log = 0;
    o.title = "Power spectra, semi-log";
    path_for(path, sizeof path, "psd_semilog");
    NS_CHECK(ns_plot_lines(path, s, 3, &o, keys, vals, 2, err, sizeof err) == 0, "%s", err);
    check_figure(path, NS_FIG_WIDTH, NS_FIG_HEIGHT, o.title, &im);
    if (im.ok) NS_CHECK(ink_in(&im, px, py, px + pw, py + ph) > 5000, "empty plot area");
    done_with(path, &im);

    /* linear, one series, with a given x range */
    ns_plot_opts lin = {0};
    lin.title = "Linear";
    lin.x_label = "frequency (Hz)";
    lin.y_label = "PSD (Hz²/Hz)";
    lin.x_lo = 0;
    lin.x_hi = 100;
    path_for(path, sizeof path, "lines_linear");
    NS_CHECK(ns_plot_lines(path, s, 1, &lin, keys, vals, 2, err, sizeof err) == 0, "%s", err);
    check_figure(path, NS_FIG_WIDTH, NS_FIG_HEIGHT, lin.title, &im);
    if (im.ok)
        NS_CHECK(colour_in(&im, px, py, px + pw, py + ph, ns_figure_palette(0)) > 300, "no line");
    done_with(path, &im);

    /* a log axis over data that is mostly zero or negative: the rest is drawn, no crash */
    static double mostly_bad[N];
    for (int i = 0; i < N; i++) mostly_bad[i] = i % 50 == 7 ? 1.0 + i : (i % 2 ? 0.0 : -1.0);
    ns_plot_series sparse = {"sparse", f, mostly_bad, N, 0};
    o.x_log = o.y_log = 1;
    o.title = "Sparse positive points";
    path_for(path, sizeof path, "lines_sparse_log");
    NS_CHECK(ns_plot_lines(path, &sparse, 1, &o, keys, vals, 2, err, sizeof err) == 0, "%s", err);
    check_figure(path, NS_FIG_WIDTH, NS_FIG_HEIGHT, o.title, &im);
    if (im.ok)  /* isolated points drawn as dots */
        NS_CHECK(colour_in(&im, px, py, px + pw, py + ph, ns_figure_palette(0)) > 20,
                 "isolated points not drawn");
    done_with(path, &im);
}

/* A series of points (points = 1) is a dot at each point, no line between them, drawn over the
 * lines: checked at the pixels the figure's own axes map the data to. */
static void test_points(void)
{
    double lx[2] = {0, 10}, ly[2] = {0, 10};   /* a line from (0, 0) to (10, 10) */
    double dx[3] = {2, 8, 5}, dy[3] = {8, 8, 5}; /* two dots off it, one on it */
    ns_plot_series s[2] = {{"line", lx, ly, 2, 0}, {"dots", dx, dy, 3, 1}};
    ns_plot_opts o = {0};
    o.title = "points over a line";
    o.x_label = "x (1)";
    o.y_label = "y (1)";
    char path[512], err[512];
    path_for(path, sizeof path, "points");
    NS_CHECK(ns_plot_lines(path, s, 2, &o, keys, vals, 2, err, sizeof err) == 0, "%s", err);
    ns_axis xa, ya;
    NS_CHECK(ns_plot_lines_axes(s, 2, &o, &xa, &ya, err, sizeof err) == 0, "%s", err);
    ns_figure *f = ns_figure_create(NS_FIG_WIDTH, NS_FIG_HEIGHT);
    NS_CHECK(f && ns_figure_set_axes(f, &xa, &ya) == 0, "figure axes");
    decoded im;
    check_figure(path, NS_FIG_WIDTH, NS_FIG_HEIGHT, "points over a line", &im);
    if (im.ok && f) {
        const ns_rgb dot = ns_figure_palette(1), line = ns_figure_palette(0);
        for (int i = 0; i < 3; i++) {
            const int x = (int)lround(ns_figure_x(f, dx[i])), y = (int)lround(ns_figure_y(f, dy[i]));
            NS_CHECK(colour_in(&im, x - 1, y - 1, x + 2, y + 2, dot) == 9, "no dot at (%g, %g): pixel (%d, %d)",
                     dx[i], dy[i], x, y);
        }
        /* between the two dots off the line: nothing of the dots' colour (no line joins them) */
        const int mx = (int)lround(ns_figure_x(f, 5)), my = (int)lround(ns_figure_y(f, 8));
        NS_CHECK(colour_in(&im, mx - 30, my - 3, mx + 30, my + 4, dot) == 0, "a line joins the dots");
        /* the line is drawn elsewhere along it */
        const int lxp = (int)lround(ns_figure_x(f, 2.5)), lyp = (int)lround(ns_figure_y(f, 2.5));
        NS_CHECK(colour_in(&im, lxp - 2, lyp - 2, lxp + 3, lyp + 3, line) > 0, "the line is missing");
    }
    ns_figure_free(f);
    done_with(path, &im);
}

static void test_lines_bad(void)
{
    double x[4] = {1, 2, 3, 4}, y[4] = {1, 2, 3, 4};
    double nan4[4] = {NAN, NAN, NAN, NAN}, neg[4] = {0, -1, -2, 0};
    ns_plot_series ok = {"ok", x, y, 4, 0};
    ns_plot_series none = {"none", x, y, 0, 0};
    ns_plot_series nans = {"nan", x, nan4, 4, 0};
    ns_plot_series negs = {"neg", x, neg, 4, 0};
    ns_plot_opts o = {0}, lg = {0}, bad_range = {0}, bad_band = {0};
    lg.y_log = 1;
    bad_range.x_log = 1;
    bad_range.x_lo = -1;
    bad_range.x_hi = 10;
    ns_plot_band inverted = {"theta", 8, 4};
    bad_band.bands = &inverted;
    bad_band.n_bands = 1;
    char path[512], err[512];
    path_for(path, sizeof path, "bad");
    struct { const char *what; const ns_plot_series *s; int n; const ns_plot_opts *o; } cases[] = {
        {"zero series", &ok, 0, &o},
        {"NULL series", NULL, 1, &o},
        {"n = 0", &none, 1, &o},
        {"NaN-only", &nans, 1, &o},
        {"non-positive on log y", &negs, 1, &lg},
        {"log x range below zero", &ok, 1, &bad_range},
        {"inverted band", &ok, 1, &bad_band},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        int rc = ns_plot_lines(path, cases[i].s, cases[i].n, cases[i].o, NULL, NULL, 0, err,
                               sizeof err);
        NS_CHECK(rc == -1, "%s: returned %d", cases[i].what, rc);
        NS_CHECK(err[0] && !strchr(err, '\n'), "%s: message '%s'", cases[i].what, err);
        NS_CHECK(strstr(err, path) != NULL, "%s: message does not name the file: %s",
                 cases[i].what, err);
        NS_CHECK(access(path, F_OK) != 0, "%s: file written anyway", cases[i].what);
    }
    NS_CHECK(ns_plot_lines(NULL, &ok, 1, NULL, NULL, NULL, 0, err, sizeof err) == -1, "no path");
    /* an unwritable path fails late, naming the path */
    err[0] = '\0';
    NS_CHECK(ns_plot_lines("/nonexistent-nsim/x.png", &ok, 1, NULL, NULL, NULL, 0, err,
                           sizeof err) == -1, "unwritable path");
    NS_CHECK(strstr(err, "/nonexistent-nsim/x.png") != NULL, "message: %s", err);
}

/* A small deterministic generator, so the test needs no engine. */
static double uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static void test_hist(void)
{
    int px, py, pw, ph;
    default_area(&px, &py, &pw, &ph);
    char path[512], err[512];
    decoded im;

    /* rate histogram from given bins */
    double edges[21], counts[20];
    for (int i = 0; i <= 20; i++) edges[i] = 2.0 * i;
    for (int i = 0; i < 20; i++) counts[i] = 400 * exp(-0.5 * pow((i - 6) / 3.0, 2));
    counts[15] = 0;
    ns_plot_opts o = {0};
    o.title = "Firing rates";
    o.x_label = "rate (Hz)";
    o.y_label = "neurons";
    path_for(path, sizeof path, "hist_rates");
    NS_CHECK(ns_plot_hist(path, edges, 21, counts, 20, &o, keys, vals, 2, err, sizeof err) == 0,
             "%s", err);
    check_figure(path, NS_FIG_WIDTH, NS_FIG_HEIGHT, o.title, &im);
    if (im.ok) {
        long bar = colour_in(&im, px, py, px + pw, py + ph, ns_figure_palette(0));
        NS_CHECK(ink_in(&im, px, py, px + pw, py + ph) > 50000, "bars missing");
        NS_CHECK(bar > 200, "bar tops missing (%ld px)", bar);
        /* the tallest bar (bin 6, 12-14 Hz) reaches near the top; the right end is empty */
        int xc = px + (int)(pw * 13.0 / 40.0), xr = px + (int)(pw * 37.0 / 40.0);
        NS_CHECK(!white(pixel(&im, xc, py + ph / 8)), "tallest bar too short");
        NS_CHECK(white(pixel(&im, xr, py + ph / 2)), "bar where counts are ~0");
    }
    done_with(path, &im);

    /* ISI histogram of raw values on a log x axis, log-spaced bins, with junk values */
    enum { N = 20000 };
    static double isi[N];
    uint64_t seed = 3;
    for (int i = 0; i < N; i++) isi[i] = -20.0 * log(1 - uniform(&seed)) + 2.0;  /* ms */
    isi[0] = NAN;
    isi[1] = -1;
    isi[2] = 0;
    ns_plot_opts io = {0};
    io.title = "Interspike intervals";
    io.x_label = "ISI (ms)";
    io.x_log = 1;
    path_for(path, sizeof path, "hist_isi");
    NS_CHECK(ns_plot_hist_values(path, isi, N, 40, &io, keys, vals, 2, err, sizeof err) == 0, "%s",
             err);
    check_figure(path, NS_FIG_WIDTH, NS_FIG_HEIGHT, io.title, &im);
    if (im.ok) NS_CHECK(ink_in(&im, px, py, px + pw, py + ph) > 30000, "bars missing");
    done_with(path, &im);

    /* log y with empty bins: they are left out, no crash */
    ns_plot_opts ly = o;
    ly.y_log = 1;
    ly.title = "Firing rates, log counts";
    path_for(path, sizeof path, "hist_logy");
    NS_CHECK(ns_plot_hist(path, edges, 21, counts, 20, &ly, keys, vals, 2, err, sizeof err) == 0,
             "%s", err);
    check_figure(path, NS_FIG_WIDTH, NS_FIG_HEIGHT, ly.title, &im);
    if (im.ok) {
        int x15 = px + (int)(pw * 31.0 / 40.0);  /* bin 15 (30-32 Hz) is empty */
        NS_CHECK(white(pixel(&im, x15, py + ph - 5)), "empty bin drawn on a log axis");
    }
    done_with(path, &im);

    /* bad inputs */
    double nan3[3] = {NAN, NAN, NAN}, back[3] = {0, 2, 1}, neg[2] = {1, -1};
    path_for(path, sizeof path, "bad");
    struct { const char *what; int rc; } c[8];
    int k = 0;
    c[k].what = "mismatched sizes";
    c[k++].rc = ns_plot_hist(path, edges, 20, counts, 20, NULL, NULL, NULL, 0, err, sizeof err);
    c[k].what = "no bins";
    c[k++].rc = ns_plot_hist(path, edges, 1, counts, 0, NULL, NULL, NULL, 0, err, sizeof err);
    c[k].what = "decreasing edges";
    c[k++].rc = ns_plot_hist(path, back, 3, counts, 2, NULL, NULL, NULL, 0, err, sizeof err);
    c[k].what = "negative count";
    c[k++].rc = ns_plot_hist(path, edges, 3, neg, 2, NULL, NULL, NULL, 0, err, sizeof err);
    c[k].what = "NaN-only values";
    c[k++].rc = ns_plot_hist_values(path, nan3, 3, 10, NULL, NULL, NULL, 0, err, sizeof err);
    c[k].what = "n = 0 values";
    c[k++].rc = ns_plot_hist_values(path, isi, 0, 10, NULL, NULL, NULL, 0, err, sizeof err);
    c[k].what = "zero bins";
    c[k++].rc = ns_plot_hist_values(path, isi, 10, 0, NULL, NULL, NULL, 0, err, sizeof err);
    c[k].what = "non-positive values on log x";
    c[k++].rc = ns_plot_hist_values(path, back, 1, 10, &io, NULL, NULL, 0, err, sizeof err);
    for (int i = 0; i < k; i++) NS_CHECK(c[i].rc == -1, "%s: returned %d", c[i].what, c[i].rc);
    err[0] = '\0';
    ns_plot_hist(path, edges, 20, counts, 20, NULL, NULL, NULL, 0, err, sizeof err);
    NS_CHECK(strstr(err, "20 bin edges for 20 counts") != NULL, "message: %s", err);
    NS_CHECK(access(path, F_OK) != 0, "file written for bad input");
}

/* Relative luminance-like lightness of a pixel (viridis grows lighter monotonically). */
static double lightness(const unsigned char *p) { return 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]; }

/* Heatmap options: a title, the three labels and the extent [0, x_hi] x [0, y_hi]. */
static ns_plot_opts heat_opts(const char *title, const char *x_label, const char *y_label, const char *z_label,
                              double x_hi, double y_hi)
{
    ns_plot_opts o = {0};
    o.title = title;
    o.x_label = x_label;
    o.y_label = y_label;
    o.z_label = z_label;
    o.x_lo = 0; o.x_hi = x_hi;
    o.y_lo = 0; o.y_hi = y_hi;
    return o;
}

static void test_heatmap(void)
{
    char path[512], err[512];
    decoded im;

    /* viridis itself: ends as published, lightness increasing */
    ns_rgb a = ns_plot_viridis(0), b = ns_plot_viridis(1);
    NS_CHECK_ABS(a.r * 255, 68, 0.5);
    NS_CHECK_ABS(b.g * 255, 231, 0.5);
    double prev = -1;
    int monotone = 1;
    for (int i = 0; i <= 100; i++) {
        ns_rgb c = ns_plot_viridis(i / 100.0);
        double l = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
        if (l < prev) monotone = 0;
        prev = l;
    }
    NS_CHECK(monotone, "viridis lightness not increasing");

    /* a known gradient along x: colour lightness must increase left to right */
    enum { NX = 64, NY = 32 };
    static double z[NX * NY];
    for (int iy = 0; iy < NY; iy++)
        for (int ix = 0; ix < NX; ix++) z[iy * NX + ix] = ix;
    ns_plot_opts o = heat_opts("Gradient", "x (µm)", "y (µm)", "value (mV)", 640, 320);
    path_for(path, sizeof path, "heatmap_gradient");
    NS_CHECK(ns_plot_heatmap(path, z, NX, NY, &o, keys, vals, 2, err, sizeof err) == 0, "%s", err);
    check_figure(path, NS_FIG_WIDTH, NS_FIG_HEIGHT, o.title, &im);
    if (im.ok) {
        int px, py, pw, ph;
        default_area(&px, &py, &pw, &ph);
        int y = py + ph / 2, steps = 0, up = 0;
        double first = lightness(pixel(&im, px + 3, y)), last = first;
        for (int x = px + 3; x < px + 860; x += 10) {  /* the heatmap is narrower than pw */
            double l = lightness(pixel(&im, x, y));
            steps++;
            up += l >= last - 0.5;
            last = l;
        }
        NS_CHECK(up == steps, "lightness fell %d times along the gradient", steps - up);
        NS_CHECK(last - first > 100, "gradient too flat: %g to %g", first, last);
        /* no ink in the column of a constant: a vertical line has one colour */
        const unsigned char *top = pixel(&im, px + 400, py + 3), *bot = pixel(&im, px + 400, py + ph - 3);
        NS_CHECK(top[0] == bot[0] && top[1] == bot[1] && top[2] == bot[2], "column not uniform");
        NS_CHECK(!white(pixel(&im, px + 5, py + 5)), "cell missing at the top left");
    }
    done_with(path, &im);

    /* gradient along y with equal aspect (a lattice snapshot) and a NaN cell */
    enum { L = 48 };
    static double lat[L * L];
    for (int iy = 0; iy < L; iy++)
        for (int ix = 0; ix < L; ix++)
            lat[iy * L + ix] = -70 + 20.0 * iy / (L - 1) + 3 * sin(ix * 0.4);
    lat[5 * L + 5] = NAN;
    ns_plot_opts lo = heat_opts("Lattice snapshot at t = 250 ms", "x (µm)", "y (µm)", "V (mV)", 480, 480);
    lo.equal_aspect = 1;
    path_for(path, sizeof path, "heatmap_lattice");
    NS_CHECK(ns_plot_heatmap(path, lat, L, L, &lo, keys, vals, 2, err, sizeof err) == 0, "%s", err);
    check_figure_(path, NS_FIG_WIDTH, NS_FIG_HEIGHT, lo.title, 0, &im);  /* square, centred */
    if (im.ok) {
        /* find the square plot: the middle column of the decoded, dark bottom to light top */
        int x = NS_FIG_WIDTH / 2 - 60;
        double l_top = lightness(pixel(&im, x, 90)), l_bot = lightness(pixel(&im, x, NS_FIG_HEIGHT - 90));
        NS_CHECK(l_top > l_bot + 60, "lattice not lighter at the top: %g vs %g", l_top, l_bot);
    }
    done_with(path, &im);

    /* space-time spectrum on a log colour scale, with zeros */
    enum { NF = 200, NK = 60 };
    static double st[NF * NK];
    for (int ik = 0; ik < NK; ik++)
        for (int jf = 0; jf < NF; jf++) {
            double fq = jf * 1.0, k = ik * 0.05;  /* Hz, 1/mm */
            double ridge = exp(-pow(fq - 40.0 * k - 10, 2) / 40.0);
            st[ik * NF + jf] = jf == 0 ? 0.0 : 1e-4 / (1 + fq) + ridge;
        }
    ns_plot_opts so = heat_opts("Space-time spectrum", "frequency (Hz)", "|k| (1/mm)", "power (mV²/Hz)", NF, NK * 0.05);
    so.z_log = 1;
    path_for(path, sizeof path, "heatmap_spacetime");
    NS_CHECK(ns_plot_heatmap(path, st, NF, NK, &so, keys, vals, 2, err, sizeof err) == 0, "%s", err);
    check_figure(path, NS_FIG_WIDTH, NS_FIG_HEIGHT, so.title, &im);
    done_with(path, &im);

    /* bad inputs */
    path_for(path, sizeof path, "bad");
    double nan4[4] = {NAN, NAN, NAN, NAN}, zero4[4] = {0, 0, -1, 0};
    ns_plot_opts zl = {0}, bad_ext = {0};
    zl.z_log = 1;
    bad_ext.x_lo = 5; bad_ext.x_hi = 1;
    NS_CHECK(ns_plot_heatmap(path, z, 0, 4, NULL, NULL, NULL, 0, err, sizeof err) == -1, "nx = 0");
    NS_CHECK(ns_plot_heatmap(path, NULL, 2, 2, NULL, NULL, NULL, 0, err, sizeof err) == -1, "NULL");
    NS_CHECK(ns_plot_heatmap(path, nan4, 2, 2, NULL, NULL, NULL, 0, err, sizeof err) == -1,
             "NaN-only accepted");
    NS_CHECK(strstr(err, "no finite values") != NULL, "message: %s", err);
    NS_CHECK(ns_plot_heatmap(path, zero4, 2, 2, &zl, NULL, NULL, 0, err, sizeof err) == -1,
             "log scale of non-positive data accepted");
    NS_CHECK(ns_plot_heatmap(path, z, 2, 2, &bad_ext, NULL, NULL, 0, err, sizeof err) == -1,
             "inverted extent accepted");
    NS_CHECK(access(path, F_OK) != 0, "file written for bad input");
}

/* ---- nsim plot heatmap / spacetime: pixels against the matrix ---- */

/* The viridis position u in [0, 1] nearest to a pixel's colour; *dist is the colour distance
 * (0-255 units), large for a pixel that is no viridis colour (grey, ink, white). */
static double viridis_u(const unsigned char *p, double *dist)
{
    double best = INFINITY, u_best = 0;
    for (int k = 0; k <= 2046; k++) {
        ns_rgb c = ns_plot_viridis(k / 2046.0);
        double dr = p[0] - 255 * c.r, dg = p[1] - 255 * c.g, db = p[2] - 255 * c.b;
        double d = dr * dr + dg * dg + db * db;
        if (d < best) { best = d; u_best = k / 2046.0; }
    }
    *dist = sqrt(best);
    return u_best;
}

static int is_ink(const unsigned char *p)
{
    ns_rgb c = ns_figure_ink();
    return abs(p[0] - (int)lround(255 * c.r)) <= 2 && abs(p[1] - (int)lround(255 * c.g)) <= 2 &&
           abs(p[2] - (int)lround(255 * c.b)) <= 2;
}

/* The painted cells of a heatmap: from a point inside, out to the frame on each side. Returns
 * [x0, x1) x [y0, y1) in px, or 0 if no frame was found. */
static int heat_cells(const decoded *im, int xin, int yin, int *x0, int *y0, int *x1, int *y1)
{
    int x = xin, y = yin;
    while (x > 0 && !is_ink(pixel(im, x, yin))) x--;
    *x0 = x + 1;
    for (x = xin; x < im->w && !is_ink(pixel(im, x, yin)); x++) {}
    *x1 = x;
    while (y > 0 && !is_ink(pixel(im, xin, y))) y--;
    *y0 = y + 1;
    for (y = yin; y < im->h && !is_ink(pixel(im, xin, y)); y++) {}
    *y1 = y;
    return *x0 > 1 && *x1 < im->w && *y0 > 1 && *y1 < im->h && *x1 - *x0 > 50 && *y1 - *y0 > 50;
}

/* Run nsim with args (a shell command line after the program); returns its exit status. */
static int run_nsim(const char *args)
{
    const char *nsim = getenv("NSIM");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s >/dev/null 2>&1", nsim ? nsim : "build/nsim", args);
    int rc = system(cmd);
    return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Write an nrow x ncol matrix (v[r * ncol + c]) as a CSV file without a header. */
static void write_matrix(const char *path, const double *v, int nrow, int ncol)
{
    FILE *fp = fopen(path, "w");
    NS_CHECK(fp != NULL, "cannot write %s", path);
    if (!fp) return;
    for (int r = 0; r < nrow; r++)
        for (int c = 0; c < ncol; c++) fprintf(fp, "%.17g%c", v[r * ncol + c], c + 1 < ncol ? ',' : '\n');
    fclose(fp);
}

/* nsim plot heatmap M.csv: the cell of row r, column c of the file is drawn at x in [c, c+1),
 * y in [r, r+1) (row 0 at the bottom), in the colour of its value. Each cell's centre pixel is
 * decoded back to a value through viridis and the colour bar's range [min, max] of the data. */
static void check_heatmap_cli(const char *name, const double *v, int nrow, int ncol, double tol)
{
    char csv[512], png[512], args[1200];
    snprintf(csv, sizeof csv, "%s/%s.csv", out_dir, name);
    path_for(png, sizeof png, name);
    write_matrix(csv, v, nrow, ncol);
    snprintf(args, sizeof args, "plot heatmap '%s' --out '%s'", csv, png);
    NS_CHECK(run_nsim(args) == 0, "%s failed", args);
    decoded im;
    read_png(png, &im);
    NS_CHECK(im.ok, "cannot decode %s", png);
    int x0, y0, x1, y1;
    if (im.ok && heat_cells(&im, 400, im.h / 2, &x0, &y0, &x1, &y1)) {
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < nrow * ncol; i++) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
        double cw = (double)(x1 - x0) / ncol, ch = (double)(y1 - y0) / nrow, worst = 0, dist_worst = 0;
        int wr = 0, wc = 0;
        for (int r = 0; r < nrow; r++)
            for (int c = 0; c < ncol; c++) {
                int x = x0 + (int)((c + 0.5) * cw), y = y1 - 1 - (int)((r + 0.5) * ch);
                double dist, got = lo + (hi - lo) * viridis_u(pixel(&im, x, y), &dist);
                dist_worst = fmax(dist_worst, dist);
                if (fabs(got - v[r * ncol + c]) > worst) worst = fabs(got - v[r * ncol + c]), wr = r, wc = c;
            }
        NS_CHECK(worst <= tol, "%s: cell (row %d, column %d) drawn as %g, is %g", name, wr, wc,
                 v[wr * ncol + wc] + worst, v[wr * ncol + wc]);
        NS_CHECK(dist_worst < 6, "%s: a cell colour is %g away from viridis", name, dist_worst);
        /* colour rises with the value: along the middle column, bottom to top, for a matrix
         * that grows with the row */
        if (v[(nrow - 1) * ncol] > v[0]) {
            int xm = x0 + (int)((ncol / 2 + 0.5) * cw), falls = 0;
            double prev = -1, dist;
            for (int y = y1 - 1; y >= y0; y--) {
                double u = viridis_u(pixel(&im, xm, y), &dist);
                falls += u < prev - 1e-9;
                prev = u;
            }
            NS_CHECK(falls == 0, "%s: colour falls %d times going up a column", name, falls);
        }
    } else if (im.ok) {
        NS_CHECK(0, "%s: no heatmap frame found", name);
    }
    done_with(png, &im);
    if (!keep_files) remove(csv);
}

static void test_heatmap_cli(void)
{
    /* 20 x 20, the value is the row index: a gradient along y, first row at the bottom */
    static double m20[20 * 20], m4030[40 * 30], hot[40 * 30];
    for (int r = 0; r < 20; r++)
        for (int c = 0; c < 20; c++) m20[r * 20 + c] = r;
    check_heatmap_cli("cli_heatmap_rows", m20, 20, 20, 0.1);
    /* 40 rows x 30 columns, every cell its own value r * 30 + c: a transposed or sheared drawing
     * puts most cells tens of units off (the colours resolve about 1/400 of the range) */
    for (int r = 0; r < 40; r++)
        for (int c = 0; c < 30; c++) m4030[r * 30 + c] = r * 30 + c;
    check_heatmap_cli("cli_heatmap_40x30", m4030, 40, 30, 6.0);
    /* one hot cell at row 7, column 23 of 40 x 30 zeros: its pixels and only they are lit */
    hot[7 * 30 + 23] = 1;
    check_heatmap_cli("cli_heatmap_hot", hot, 40, 30, 0.01);
    char csv[512], png[512], args[1200];
    snprintf(csv, sizeof csv, "%s/cli_hot.csv", out_dir);
    path_for(png, sizeof png, "cli_hot");
    write_matrix(csv, hot, 40, 30);
    snprintf(args, sizeof args, "plot heatmap '%s' --out '%s'", csv, png);
    NS_CHECK(run_nsim(args) == 0, "%s failed", args);
    decoded im;
    read_png(png, &im);
    int x0, y0, x1, y1;
    if (im.ok && heat_cells(&im, 400, im.h / 2, &x0, &y0, &x1, &y1)) {
        double cw = (x1 - x0) / 30.0, ch = (y1 - y0) / 40.0;
        long lit = 0, outside = 0;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) {
                double dist, u = viridis_u(pixel(&im, x, y), &dist);
                if (u < 0.5) continue;
                lit++;
                int c = (int)((x + 0.5 - x0) / cw), r = (int)((y1 - y - 0.5) / ch);
                outside += !(r == 7 && c == 23);
            }
        NS_CHECK(outside == 0, "%ld lit pixels outside the cell at row 7, column 23", outside);
        NS_CHECK_REL((double)lit, cw * ch, 0.25);
    } else {
        NS_CHECK(0, "cli_hot: not decoded or no frame");
    }
    done_with(png, &im);
    if (!keep_files) remove(csv);

    /* nsim plot spacetime: a plane wave cos(2 pi (3 x / 16 sites - 4 t / 64 frames)) on a
     * 16 x 16 lattice of 100 um, 1 ms frames, has |k| = 3 / 1.6 mm = 1.875 cycles/mm and
     * f = 4 / 64 ms = 62.5 Hz: the brightest cell is column 3 (|k| bins of 0.625 cycles/mm from
     * 0) and row 4 (frequency bins of 15.625 Hz from 0) of the 9 x 33 cells */
    enum { NT = 64, LX = 16, LY = 16 };
    snprintf(csv, sizeof csv, "%s/cli_movie.csv", out_dir);
    FILE *fp = fopen(csv, "w");
    NS_CHECK(fp != NULL, "cannot write %s", csv);
    if (!fp) return;
    for (int t = 0; t < NT; t++)
        for (int s = 0; s < LX * LY; s++) {
            int ix = s / LY;  /* sites x-major */
            fprintf(fp, "%.9f%c", cos(2 * 3.14159265358979323846 * (3.0 * ix / LX - 4.0 * t / NT)),
                    s + 1 < LX * LY ? ',' : '\n');
        }
    fclose(fp);
    path_for(png, sizeof png, "cli_spacetime");
    snprintf(args, sizeof args, "plot spacetime '%s' --nx %d --ny %d --dt 1 --dx 100 --out '%s'", csv, LX, LY, png);
    NS_CHECK(run_nsim(args) == 0, "%s failed", args);
    read_png(png, &im);
    if (im.ok && heat_cells(&im, 400, im.h / 2, &x0, &y0, &x1, &y1)) {
        double best = -1, dist;
        int bx = 0, by = 0;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) {
                double u = viridis_u(pixel(&im, x, y), &dist);
                if (dist < 6 && u > best) best = u, bx = x, by = y;
            }
        /* the cell under the pixel's centre */
        int col = (int)((bx + 0.5 - x0) * 9.0 / (x1 - x0)), row = (int)((y1 - by - 0.5) * 33.0 / (y1 - y0));
        NS_CHECK(col == 3 && row == 4, "spacetime peak drawn at column %d, row %d, want 3, 4 (px %d, %d in [%d, %d) x [%d, %d))",
                 col, row, bx, by, x0, x1, y0, y1);
        NS_CHECK(best > 0.99, "spacetime peak colour u = %g", best);
    } else {
        NS_CHECK(0, "cli_spacetime: not decoded or no frame");
    }
    done_with(png, &im);
    if (!keep_files) remove(csv);
}

/* ---- axes, ticks, bins and names ---- */

/* Does the tick list hold a labelled tick at value v with label text? */
static int has_tick(const ns_tick *t, int n, double v, const char *text)
{
    for (int i = 0; i < n; i++)
        if (fabs(t[i].value - v) <= 1e-9 * fmax(1, fabs(v)) && !strcmp(t[i].label, text)) return 1;
    return 0;
}

static void test_axes_ticks(void)
{
    ns_tick t[96];
    char err[256];
    /* a time series sampled from t = dt = 1 ms to 300 ms: the x axis starts at 0, labelled "0" */
    static double x[300], y[300];
    for (int i = 0; i < 300; i++) x[i] = i + 1, y[i] = sin(i * 0.1);
    ns_plot_series s = {"trace", x, y, 300, 0};
    ns_plot_opts o = {0};
    o.x_label = "time (ms)";
    ns_axis xa, ya;
    NS_CHECK(ns_plot_lines_axes(&s, 1, &o, &xa, &ya, err, sizeof err) == 0, "%s", err);
    NS_CHECK(xa.lo == 0 && xa.hi == 300, "x axis [%g, %g], want [0, 300]", xa.lo, xa.hi);
    int n = ns_figure_axis_ticks(&xa, 1060, 0, t, 96);
    NS_CHECK(has_tick(t, n, 0, "0"), "no tick labelled 0 among %d (first %g '%s')", n, n ? t[0].value : NAN,
             n ? t[0].label : "");
    NS_CHECK(has_tick(t, n, 300, "300"), "no tick labelled 300");
    /* data that stay far from 0 keep their own range; negative data near 0 end at 0 */
    for (int i = 0; i < 300; i++) x[i] = 1000 + i;
    NS_CHECK(ns_plot_lines_axes(&s, 1, &o, &xa, &ya, err, sizeof err) == 0, "%s", err);
    NS_CHECK(xa.lo == 1000, "x axis from %g, want 1000", xa.lo);
    for (int i = 0; i < 300; i++) x[i] = -300 + i;
    NS_CHECK(ns_plot_lines_axes(&s, 1, &o, &xa, &ya, err, sizeof err) == 0, "%s", err);
    NS_CHECK(xa.hi == 0, "x axis to %g, want 0", xa.hi);
    /* y: a positive signal starting near 0 is shown against 0 */
    for (int i = 0; i < 300; i++) x[i] = i, y[i] = 1 + i;
    NS_CHECK(ns_plot_lines_axes(&s, 1, &o, &xa, &ya, err, sizeof err) == 0, "%s", err);
    n = ns_figure_axis_ticks(&ya, 644, 1, t, 96);
    NS_CHECK(ya.lo == 0 && has_tick(t, n, 0, "0"), "y axis from %g without a 0 tick", ya.lo);

    /* a log axis of 15.6-500 Hz (one decade, 100, inside) is labelled 20 50 100 200 500, not
     * with linear ticks 100 200 300 400 500 */
    ns_axis la = {15.625, 500, "frequency (Hz)", 0, 1};
    n = ns_figure_axis_ticks(&la, 400, 0, t, 96);
    const char *want[] = {"20", "50", "100", "200", "500"};
    double wv[] = {20, 50, 100, 200, 500};
    int labelled = 0;
    for (int i = 0; i < n; i++) labelled += t[i].label[0] != 0;
    for (int i = 0; i < 5; i++) NS_CHECK(has_tick(t, n, wv[i], want[i]), "no log tick %s", want[i]);
    NS_CHECK(labelled == 5, "%d labels on 15.6-500 Hz, want 5", labelled);
    NS_CHECK(!has_tick(t, n, 300, "300"), "linear tick 300 on a log axis");
    /* under a decade, 128-995 ms on 1060 px: 1..9 labels, never closer than 56 px */
    ns_axis isi = {128, 995, "ISI (ms)", 0, 1};
    n = ns_figure_axis_ticks(&isi, 1060, 0, t, 96);
    for (int v = 200; v <= 500; v += 100) {
        char txt[8];
        snprintf(txt, sizeof txt, "%d", v);
        NS_CHECK(has_tick(t, n, v, txt), "no log tick %s on 128-995 ms", txt);
    }
    double axes_lo[] = {128, 15.625, 1e-3, 0.7, 2}, axes_hi[] = {995, 500, 1e3, 3e5, 90}, lens[] = {1060, 400, 644, 300, 250};
    for (int a = 0; a < 5; a++) {
        ns_axis ax = {axes_lo[a], axes_hi[a], NULL, 0, 1};
        n = ns_figure_axis_ticks(&ax, lens[a], 0, t, 96);
        double last = 0, closest = INFINITY, ppd = lens[a] / log10(axes_hi[a] / axes_lo[a]);
        int nl = 0;
        for (int i = 0; i < n; i++) {
            if (!t[i].label[0]) continue;
            if (last > 0) closest = fmin(closest, ppd * log10(t[i].value / last));
            last = t[i].value;
            nl++;
        }
        NS_CHECK(nl >= 2 && closest >= 56 - 1e-9, "log axis [%g, %g] on %g px: %d labels, closest %g px apart",
                 axes_lo[a], axes_hi[a], lens[a], nl, closest);
    }
    /* wide log axes keep labelled decades only */
    ns_axis wide = {1e-3, 1e3, NULL, 0, 1};
    n = ns_figure_axis_ticks(&wide, 644, 1, t, 96);
    labelled = 0;
    for (int i = 0; i < n; i++) labelled += t[i].label[0] != 0;
    NS_CHECK(labelled == 7 && has_tick(t, n, 1, "1") && has_tick(t, n, 1e-3, "0.001"),
             "decades 1e-3..1e3: %d labels", labelled);
    /* a bad axis gives no ticks */
    ns_axis bad = {1, 1, NULL, 0, 0};
    NS_CHECK(ns_figure_axis_ticks(&bad, 500, 0, t, 96) == 0, "ticks on an empty range");
}

/* Rates of neurons over T ms are count / T: whole multiples of the quantum 1000 / T Hz. The
 * bins must each hold a whole number of multiples, centred, and count exactly the values an
 * independent tally puts there; none between two full ones may be empty (the comb). */
static void test_hist_quantum(void)
{
    enum { N = 4000 };
    static double rate[N];
    static long count_of[1000];
    const double T_ms = 300, q = 1000 / T_ms;
    uint64_t seed = 11;
    for (int i = 0; i < N; i++) {
        double u = uniform(&seed), c = floor(-3.0 * log(1 - u));  /* geometric counts, mean ~2.5 */
        if (c > 999) c = 999;
        count_of[(long)c]++;
        rate[i] = c / (T_ms / 1000);
    }
    ns_plot_opts o = {0};
    o.x_label = "rate (Hz)";
    o.x_quantum = q;
    double *edges, *counts;
    long usable, outside;
    char err[256];
    long nb = ns_plot_hist_bins(rate, N, 50, &o, &edges, &counts, &usable, &outside, err, sizeof err);
    NS_CHECK(nb >= 1 && nb <= 50, "%ld bins: %s", nb, err);
    if (nb < 1) return;
    NS_CHECK(usable == N && outside == 0, "usable %ld, outside %ld", usable, outside);
    NS_CHECK_ABS(edges[0], -q / 2, 1e-9);  /* starts at 0: the bin of rate 0 is centred on 0 */
    long total = 0;
    int comb = 0;
    for (long b = 0; b < nb; b++) {
        double w = (edges[b + 1] - edges[b]) / q;
        NS_CHECK_ABS(w, round(w), 1e-9);
        /* independent tally: counts c with c q inside [edges[b], edges[b+1]) */
        long want = 0;
        for (long c = 0; c < 1000; c++)
            if (c * q >= edges[b] && c * q < edges[b + 1]) want += count_of[c];
        NS_CHECK(counts[b] == want, "bin %ld [%g, %g): %g, independent count %ld", b, edges[b], edges[b + 1],
                 counts[b], want);
        total += (long)counts[b];
        /* each multiple lies inside its bin, half a quantum from the edges */
        double m = edges[b] / q + 0.5;
        NS_CHECK_ABS(m, round(m), 1e-9);
        if (b > 0 && b + 1 < nb && counts[b] == 0 && counts[b - 1] > 20 && counts[b + 1] > 20) comb++;
    }
    NS_CHECK(total == N, "bins hold %ld of %d", total, N);
    NS_CHECK(comb == 0, "%d empty bins between full ones", comb);
    free(edges);
    free(counts);

    /* the same rates in 50 plain bins alias: bins of 0.6 quanta miss multiples (the comb) */
    o.x_quantum = 0;
    nb = ns_plot_hist_bins(rate, N, 50, &o, &edges, &counts, &usable, &outside, err, sizeof err);
    comb = 0;
    for (long b = 1; b + 1 < nb; b++) comb += counts[b] == 0 && counts[b - 1] > 20 && counts[b + 1] > 20;
    NS_CHECK(comb > 0, "plain bins show no comb: the check above would not see one");
    NS_CHECK(edges[0] == 0, "plain bins from %g, want 0", edges[0]);
    free(edges);
    free(counts);
    o.x_quantum = -1;
    NS_CHECK(ns_plot_hist_bins(rate, N, 50, &o, &edges, &counts, NULL, NULL, err, sizeof err) == -1,
             "negative quantum accepted");
}

static void test_short_names(void)
{
    char names[4][64];
    const char *two_dirs[] = {"out/cuba/psd.csv", "out/brunel/psd.csv"};
    ns_plot_short_names(two_dirs, 2, names[0], sizeof names[0]);
    NS_CHECK(!strcmp(names[0], "cuba/psd") && !strcmp(names[1], "brunel/psd"), "%s, %s", names[0], names[1]);
    const char *two_files[] = {"/data/x/run1/psd_AI.csv", "/data/x/run1/psd_SR.csv.gz"};
    ns_plot_short_names(two_files, 2, names[0], sizeof names[0]);
    NS_CHECK(!strcmp(names[0], "psd_AI") && !strcmp(names[1], "psd_SR"), "%s, %s", names[0], names[1]);
    const char *deep[] = {"a/x/run/psd.csv", "b/x/run/psd.csv", "c/y/run/psd.csv"};
    ns_plot_short_names(deep, 3, names[0], sizeof names[0]);
    NS_CHECK(!strcmp(names[0], "a/x/run/psd") && !strcmp(names[1], "b/x/run/psd") && !strcmp(names[2], "c/y/run/psd"),
             "%s, %s, %s", names[0], names[1], names[2]);
    const char *one[] = {"/long/path/to/psd.csv"};
    ns_plot_short_names(one, 1, names[0], sizeof names[0]);
    NS_CHECK(!strcmp(names[0], "psd"), "%s", names[0]);
    const char *same[] = {"a/psd.csv", "a/psd.csv"};
    ns_plot_short_names(same, 2, names[0], sizeof names[0]);
    NS_CHECK(!strcmp(names[0], "psd") && !strcmp(names[1], "psd"), "%s, %s", names[0], names[1]);
}

/* nsim plot psd of two psd.csv files of the same name: the legend names them by their folders */
static void test_psd_legend_cli(void)
{
    char d1[600], d2[600], f1[700], f2[700], png[512], args[2200];
    snprintf(d1, sizeof d1, "%s/runA", out_dir);
    snprintf(d2, sizeof d2, "%s/runB", out_dir);
    mkdir(d1, 0777);
    mkdir(d2, 0777);
    snprintf(f1, sizeof f1, "%s/psd.csv", d1);
    snprintf(f2, sizeof f2, "%s/psd.csv", d2);
    for (int k = 0; k < 2; k++) {
        FILE *fp = fopen(k ? f2 : f1, "w");
        NS_CHECK(fp != NULL, "cannot write %s", k ? f2 : f1);
        if (!fp) return;
        fprintf(fp, "f_hz,E,I\n");
        for (int i = 0; i <= 64; i++) fprintf(fp, "%g,%g,%g\n", i * 7.8125, 1.0 / (1 + i + k), 0.5 / (1 + i));
        fclose(fp);
    }
    path_for(png, sizeof png, "cli_psd_legend");
    snprintf(args, sizeof args, "plot psd '%s' '%s' --out '%s'", f1, f2, png);
    NS_CHECK(run_nsim(args) == 0, "%s failed", args);
    decoded im;
    read_png(png, &im);
    const char *v = im.ok ? text_value(&im, "Legend") : NULL;
    NS_CHECK(v && !strcmp(v, "runA/psd: E; runA/psd: I; runB/psd: E; runB/psd: I"), "Legend = %s", v ? v : "(none)");
    done_with(png, &im);
    if (!keep_files) remove(f1), remove(f2), rmdir(d1), rmdir(d2);
}

/* nsim plot rate_hist of a record whose rates are 1..7 Hz over 1 s (quantum 1 Hz): the bars
 * touch, with no gap (a comb) between the first and the last, and every neuron is counted. */
static void test_rate_hist_cli(void)
{
    char dir[600], csv[700], png[512], args[1600];
    snprintf(dir, sizeof dir, "%s/rates", out_dir);
    mkdir(dir, 0777);
    snprintf(csv, sizeof csv, "%s/spikes.csv", dir);
    FILE *fp = fopen(csv, "w");
    NS_CHECK(fp != NULL, "cannot write %s", csv);
    if (!fp) return;
    /* neuron i fires (i % 7) + 1 times in [5, 905) ms, in time order; a last spike of neuron 0
     * at 1000 ms makes the record 1 s long (no run.json: the last spike ends it) */
    fprintf(fp, "t_ms,neuron\n");
    for (int slot = 0; slot < 7 * 200; slot++) {
        int j = slot / 200, i = slot % 200;
        if (j < i % 7 + 1) fprintf(fp, "%.3f,%d\n", 5 + j * 128.0 + i * 0.01, i);
    }
    fprintf(fp, "1000,0\n");
    fclose(fp);
    path_for(png, sizeof png, "cli_rate_hist");
    snprintf(args, sizeof args, "plot rate_hist '%s' --out '%s'", csv, png);
    NS_CHECK(run_nsim(args) == 0, "%s failed", args);
    decoded im;
    read_png(png, &im);
    int px, py, pw, ph;
    default_area(&px, &py, &pw, &ph);
    if (im.ok) {
        int y = py + ph - 4, first = -1, last = -1, gap = 0, run = 0;
        for (int x = px + 1; x < px + pw - 1; x++)
            if (!white(pixel(&im, x, y))) {
                if (first < 0) first = x;
                last = x;
            }
        for (int x = first; first >= 0 && x <= last; x++) {
            run = white(pixel(&im, x, y)) ? run + 1 : 0;
            if (run > gap) gap = run;
        }
        NS_CHECK(first >= 0 && last - first > pw / 2, "bars span %d..%d px", first, last);
        NS_CHECK(gap <= 2, "a gap of %d px between bars (a comb)", gap);
    }
    done_with(png, &im);
    if (!keep_files) remove(csv), rmdir(dir);
}

/* Synthetic run: E and I groups firing Poisson-like with a gamma-band modulation. */
typedef struct {
    long n, n_spikes;
    double *t;
    long *id;
    double rate_t[1000], rate_e[1000], rate_i[1000];
    double f[501], psd_e[501], psd_i[501];
} fake_run;

static void fake(fake_run *r, long n, long n_spikes, double t_ms)
{
    r->n = n;
    r->n_spikes = n_spikes;
    r->t = malloc((size_t)n_spikes * sizeof *r->t);
    r->id = malloc((size_t)n_spikes * sizeof *r->id);
    uint64_t seed = 11;
    long n_e = n * 4 / 5;
    for (long k = 0; r->t && r->id && k < n_spikes; k++) {
        double t;
        do {  /* thinning: rate modulated at 40 Hz */
            t = t_ms * uniform(&seed);
        } while (uniform(&seed) > 0.5 + 0.5 * sin(2 * 3.14159265 * 40 * t / 1000));
        r->t[k] = t;
        r->id[k] = (long)(uniform(&seed) * n);
    }
    for (int i = 0; i < 1000; i++) {  /* 1 ms bins */
        r->rate_t[i] = (i + 0.5) * t_ms / 1000;
        double m = 0.5 + 0.5 * sin(2 * 3.14159265 * 40 * r->rate_t[i] / 1000);
        r->rate_e[i] = 2 * m * n_spikes / (double)n / (t_ms / 1000) * (0.8 + 0.4 * uniform(&seed));
        r->rate_i[i] = r->rate_e[i] * (0.9 + 0.2 * uniform(&seed));
    }
    for (int i = 0; i <= 500; i++) {
        r->f[i] = i;
        r->psd_e[i] = spectrum(i, 40, 2.0) * (0.7 + 0.6 * uniform(&seed));
        r->psd_i[i] = spectrum(i, 40, 1.0) * (0.7 + 0.6 * uniform(&seed));
    }
    (void)n_e;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void test_summary(long n, long n_spikes, const char *name, int timed)
{
    static fake_run fr;
    fake(&fr, n, n_spikes, 1000);
    NS_CHECK(fr.t && fr.id, "out of memory");
    if (!fr.t || !fr.id) { free(fr.t); free(fr.id); return; }
    ns_raster_group groups[2] = {{"E", 0, n * 4 / 5}, {"I", n * 4 / 5, n - n * 4 / 5}};
    const double *rates[2] = {fr.rate_e, fr.rate_i}, *psds[2] = {fr.psd_e, fr.psd_i};
    const ns_plot_band *bands;
    int nb = ns_plot_standard_bands(&bands);
    ns_plot_run run = {0};
    run.title = "CUBA network, 1 s";
    run.t0_ms = 0;
    run.t1_ms = 1000;
    run.n_neurons = n;
    run.groups = groups;
    run.n_groups = 2;
    run.spike_t_ms = fr.t;
    run.spike_neuron = fr.id;
    run.n_spikes = n_spikes;
    run.rate_t_ms = fr.rate_t;
    run.n_rate = 1000;
    run.rate_hz = rates;
    run.n_rate_series = 2;
    run.f_hz = fr.f;
    run.n_f = 501;
    run.psd = psds;
    run.n_psd_series = 2;
    run.bands = bands + 1;  /* theta, alpha, beta, gamma */
    run.n_bands = nb - 1;

    char path[512], err[512];
    path_for(path, sizeof path, name);
    double t0 = seconds();
    int rc = ns_plot_summary(path, &run, keys, vals, 2, err, sizeof err);
    double dt = seconds() - t0;
    NS_CHECK(rc == 0, "%s", err);
    if (timed)
        printf("summary figure: %ld spikes, %ld neurons, 1 s: %.3f s\n", n_spikes, n, dt);

    decoded im;
    const int W = NS_PLOT_SUMMARY_WIDTH, H = NS_PLOT_SUMMARY_HEIGHT;
    check_figure(path, W, H, run.title, &im);
    if (im.ok) {
        /* raster: upper left; rate: lower left; PSD: right third */
        NS_CHECK(ink_in(&im, 110, 100, 1000, 450) > n_spikes / 10, "raster panel empty");
        NS_CHECK(colour_in(&im, 110, 100, 1000, 450, ns_figure_palette(1)) > 200 ||
                 ink_in(&im, 110, 100, 1000, 200) > 5000, "no inhibitory spikes at the top");
        NS_CHECK(colour_in(&im, 110, 560, 1000, 800, ns_figure_palette(0)) > 500, "rate E missing");
        NS_CHECK(ink_in(&im, 1170, 100, 1550, 800) > 3000, "PSD panel empty");
        NS_CHECK(colour_in(&im, 1170, 100, 1550, 800, ns_figure_palette(1)) > 100, "PSD I missing");
    }
    done_with(path, &im);

    /* mismatched and missing inputs */
    path_for(path, sizeof path, "bad");
    ns_plot_run bad = run;
    bad.n_rate_series = 1;
    err[0] = '\0';
    NS_CHECK(ns_plot_summary(path, &bad, NULL, NULL, 0, err, sizeof err) == -1,
             "one rate series for two groups accepted");
    NS_CHECK(strstr(err, "need one per group") != NULL, "message: %s", err);
    bad = run;
    bad.n_f = 0;
    NS_CHECK(ns_plot_summary(path, &bad, NULL, NULL, 0, err, sizeof err) == -1, "n_f = 0");
    bad = run;
    bad.t1_ms = bad.t0_ms;
    NS_CHECK(ns_plot_summary(path, &bad, NULL, NULL, 0, err, sizeof err) == -1, "empty time range");
    bad = run;
    ns_raster_group past[2] = {{"E", 0, n}, {"I", n - 5, 10}};
    bad.groups = past;
    NS_CHECK(ns_plot_summary(path, &bad, NULL, NULL, 0, err, sizeof err) == -1, "group past end");
    NS_CHECK(ns_plot_summary(path, NULL, NULL, NULL, 0, err, sizeof err) == -1, "NULL run");
    NS_CHECK(access(path, F_OK) != 0, "file written for bad input");

    /* a silent run without groups still gives a figure: empty raster, flat rate, no PSD */
    static double zero_rate[1000], zero_psd[501];
    const double *zr[1] = {zero_rate}, *zp[1] = {zero_psd};
    ns_plot_run quiet = run;
    quiet.title = "Silent network";
    quiet.groups = NULL;
    quiet.n_groups = 0;
    quiet.n_spikes = 0;
    quiet.rate_hz = zr;
    quiet.psd = zp;
    quiet.n_rate_series = quiet.n_psd_series = 1;
    path_for(path, sizeof path, "summary_silent");
    err[0] = '\0';
    NS_CHECK(ns_plot_summary(path, &quiet, keys, vals, 2, err, sizeof err) == 0, "%s", err);
    check_figure(path, W, H, quiet.title, &im);
    done_with(path, &im);

    free(fr.t);
    free(fr.id);
}

/* Five seconds of 60 neurons without groups: the time axis in s on both left panels, one tick
 * per spike in the raster (fewer neurons than pixel rows), rates and PSD in ink. */
static void test_summary_long(void)
{
    enum { N = 60, NS = 3000, NR = 500, NF = 257 };
    static double t[NS], rt[NR], rate[NR], f[NF], psd[NF];
    static long id[NS];
    uint64_t seed = 5;
    for (int k = 0; k < NS; k++) {
        t[k] = 5000 * uniform(&seed);
        id[k] = (long)(N * uniform(&seed));
    }
    for (int i = 0; i < NR; i++) {
        rt[i] = (i + 0.5) * 10;  /* 10 ms bins */
        rate[i] = 10 * (1 + 0.5 * sin(i * 0.2)) * (0.7 + 0.6 * uniform(&seed));
    }
    for (int i = 0; i < NF; i++) {
        f[i] = i * (50.0 / (NF - 1));  /* to 50 Hz, the Nyquist rate of 10 ms bins */
        psd[i] = spectrum(f[i], 3.2, 1.0);
    }
    const double *rates[1] = {rate}, *psds[1] = {psd};
    ns_plot_run run = {0};
    run.title = "60 neurons, 5 s";
    run.t0_ms = 0;
    run.t1_ms = 5000;
    run.n_neurons = N;
    run.spike_t_ms = t;
    run.spike_neuron = id;
    run.n_spikes = NS;
    run.rate_t_ms = rt;
    run.n_rate = NR;
    run.rate_hz = rates;
    run.n_rate_series = 1;
    run.f_hz = f;
    run.n_f = NF;
    run.psd = psds;
    run.n_psd_series = 1;
    run.psd_label = "PSD (Hz)";
    char path[512], err[512] = "";
    path_for(path, sizeof path, "summary_long");
    NS_CHECK(ns_plot_summary(path, &run, keys, vals, 2, err, sizeof err) == 0, "%s", err);
    decoded im;
    check_figure(path, NS_PLOT_SUMMARY_WIDTH, NS_PLOT_SUMMARY_HEIGHT, run.title, &im);
    if (im.ok) {
        /* ink-coloured ticks in the raster; the rate in ink too */
        NS_CHECK(colour_in(&im, 110, 100, 1000, 450, ns_figure_ink()) > 2000, "no raster ticks");
        NS_CHECK(colour_in(&im, 110, 580, 1000, 800, ns_figure_ink()) > 500, "no rate line");
    }
    done_with(path, &im);
}

/* Read by the leak checker under -fsanitize=address (ignored otherwise): fontconfig keeps
 * allocations for the life of the process, which are not leaks of ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

int main(void)
{
    keep_files = ns_test_figure_dir(out_dir, sizeof out_dir, "nsim-test-plot");
    test_lines();
    test_lines_bad();
    test_points();
    test_hist();
    test_heatmap();
    test_heatmap_cli();
    test_axes_ticks();
    test_hist_quantum();
    test_short_names();
    test_psd_legend_cli();
    test_rate_hist_cli();
    test_summary(1000, 20000, "summary", 0);
    test_summary(12500, 1000000, "summary_1e6", 1);
    test_summary_long();
    if (!keep_files) NS_CHECK(rmdir(out_dir) == 0, "files left in %s", out_dir);
    cairo_debug_reset_static_data();  /* let the leak checker see only our own memory */
    NS_TEST_MAIN_END();
}
