/* tests/test_raster.c — tests for analysis/raster.c and analysis/figure.c.
 * Writes rasters of synthetic spike sets and decodes the PNGs back with libpng: size, content
 * (ink in the plot area, both group colours), metadata chunks, and the failure paths. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp, opendir */
#endif

#include "analysis/figure.h"
#include "analysis/raster.h"
#include "tests/harness.h"
#include "tests/pngread.h"

#include <dirent.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static int is_white(const unsigned char *p) { return p[0] > 245 && p[1] > 245 && p[2] > 245; }

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int dir_entries(const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(dp);
    return n;
}

/* A small deterministic generator so the test needs no engine. */
static double uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static void test_nice_ticks(void)
{
    double first = -1, step = -1;
    int n = ns_figure_nice_ticks(0, 1000, 6, 0, &first, &step);
    NS_CHECK(n == 6, "n = %d", n);
    NS_CHECK_ABS(first, 0, 0);
    NS_CHECK_REL(step, 200, 1e-12);

    n = ns_figure_nice_ticks(-0.5, 12499.5, 7, 1, &first, &step);
    NS_CHECK_REL(step, 2000, 1e-12);
    NS_CHECK(n == 7, "n = %d", n);

    n = ns_figure_nice_ticks(-0.5, 2.5, 7, 1, &first, &step);  /* integer ids only */
    NS_CHECK_REL(step, 1, 1e-12);
    NS_CHECK(n == 3, "n = %d", n);

    n = ns_figure_nice_ticks(0.013, 0.0871, 5, 0, &first, &step);
    NS_CHECK_REL(step, 0.02, 1e-12);
    NS_CHECK_REL(first, 0.02, 1e-12);
    NS_CHECK(n == 4, "n = %d", n);

    n = ns_figure_nice_ticks(3, 3, 5, 0, &first, &step);
    NS_CHECK(n == 0, "empty range gives %d ticks", n);
}

static void test_bad_create(void)
{
    ns_raster_group ok = {"E", 0, 10};
    ns_raster_group past_end = {"E", 5, 10};
    ns_raster_group empty = {"E", 0, 0};
    ns_raster_group negative = {"E", -1, 3};
    NS_CHECK(ns_raster_create(0, 0, 10, NULL, 0, NULL) == NULL, "t1 == t0");
    NS_CHECK(ns_raster_create(10, 0, 10, NULL, 0, NULL) == NULL, "t1 < t0");
    NS_CHECK(ns_raster_create(0, NAN, 10, NULL, 0, NULL) == NULL, "NaN time");
    NS_CHECK(ns_raster_create(0, INFINITY, 10, NULL, 0, NULL) == NULL, "infinite time");
    NS_CHECK(ns_raster_create(0, 100, 0, NULL, 0, NULL) == NULL, "no neurons");
    NS_CHECK(ns_raster_create(0, 100, -5, NULL, 0, NULL) == NULL, "negative neurons");
    NS_CHECK(ns_raster_create(0, 100, 10, NULL, 1, NULL) == NULL, "groups NULL");
    NS_CHECK(ns_raster_create(0, 100, 10, &ok, -1, NULL) == NULL, "negative group count");
    NS_CHECK(ns_raster_create(0, 100, 10, &past_end, 1, NULL) == NULL, "group past the end");
    NS_CHECK(ns_raster_create(0, 100, 10, &empty, 1, NULL) == NULL, "empty group");
    NS_CHECK(ns_raster_create(0, 100, 10, &negative, 1, NULL) == NULL, "negative first");
    ns_raster *r = ns_raster_create(0, 100, 10, &ok, 1, NULL);
    NS_CHECK(r != NULL, "valid arguments refused");
    ns_raster_free(r);
    ns_raster_free(NULL);
    ns_figure_free(NULL);
    NS_CHECK(ns_figure_create(10, 10) == NULL, "tiny figure accepted");
}

static void test_two_groups(const char *dir)
{
    const long n = 1000, n_e = 800;
    ns_raster_group groups[2] = {{"E", 0, n_e}, {"I", n_e, n - n_e}};
    ns_raster *r = ns_raster_create(0, 1000, n, groups, 2, "two groups");
    NS_CHECK(r != NULL, "create failed");
    if (!r) return;

    /* regular: every neuron every 50 ms with its own phase; random: uniform, 5 Hz on average */
    long added = 0, per_group[2] = {0, 0};
    for (long i = 0; i < n; i++)
        for (double t = (double)(i % 50); t < 1000; t += 50) {
            ns_raster_add(r, t, i);
            added++;
            per_group[i >= n_e]++;
        }
    uint64_t seed = 42;
    for (int k = 0; k < 5000; k++) {
        long i = (long)(uniform(&seed) * n);
        ns_raster_add(r, 1000 * uniform(&seed), i);
        added++;
        per_group[i >= n_e]++;
    }
    /* outside the range: ignored */
    ns_raster_add(r, -0.1, 3);
    ns_raster_add(r, 1000, 3);
    ns_raster_add(r, NAN, 3);
    ns_raster_add(r, 10, -1);
    ns_raster_add(r, 10, n);
    ns_raster_add(NULL, 10, 3);
    NS_CHECK(ns_raster_spikes(r) == added, "counted %ld, added %ld", ns_raster_spikes(r), added);
    NS_CHECK(ns_raster_group_spikes(r, 0) == per_group[0], "E %ld vs %ld",
             ns_raster_group_spikes(r, 0), per_group[0]);
    NS_CHECK(ns_raster_group_spikes(r, 1) == per_group[1], "I %ld vs %ld",
             ns_raster_group_spikes(r, 1), per_group[1]);
    NS_CHECK(ns_raster_group_spikes(r, 2) == 0, "ungrouped %ld", ns_raster_group_spikes(r, 2));

    char path[512], err[512] = "";
    snprintf(path, sizeof path, "%s/raster.png", dir);
    const char *keys[] = {"seed", "t_ms", "model", "tau_m"};
    const char *values[] = {"42", "1000", "lif", "20 ms (\xcf\x84_m)"};
    int rc = ns_raster_write(r, path, keys, values, 4, err, sizeof err);
    NS_CHECK(rc == 0, "write failed: %s", err);
    NS_CHECK(dir_entries(dir) == 1, "%d entries in %s (temporary left?)", dir_entries(dir), dir);

    decoded d;
    read_png(path, &d);
    NS_CHECK(d.ok, "cannot decode %s as 8-bit RGBA", path);
    if (d.ok) {
        NS_CHECK(d.w == NS_FIG_WIDTH && d.h == NS_FIG_HEIGHT, "size %d x %d", d.w, d.h);
        ns_figure *f = ns_figure_create(NS_FIG_WIDTH, NS_FIG_HEIGHT);
        int px = 0, py = 0, pw = 0, ph = 0;
        if (f) ns_figure_plot_area(f, &px, &py, &pw, &ph);
        ns_figure_free(f);
        long ink = 0, blue = 0, red = 0, opaque = 0;
        for (int y = py; y < py + ph; y++)
            for (int x = px; x < px + pw; x++) {
                const unsigned char *p = pixel(&d, x, y);
                opaque += p[3] == 255;
                if (is_white(p)) continue;
                ink++;
                if (p[2] > p[0] + 60) blue++;
                if (p[0] > p[2] + 60) red++;
            }
        NS_CHECK(opaque == (long)pw * ph, "%ld of %ld plot pixels opaque", opaque, (long)pw * ph);
        NS_CHECK(ink > 10000, "only %ld non-white pixels in the plot area", ink);
        NS_CHECK(blue > 1000, "only %ld blue pixels", blue);
        NS_CHECK(red > 200, "only %ld red pixels", red);
        /* excitatory (low ids) at the bottom: blue below red */
        long blue_top = 0;
        for (int y = py; y < py + ph / 10; y++)
            for (int x = px; x < px + pw; x++) {
                const unsigned char *p = pixel(&d, x, y);
                blue_top += !is_white(p) && p[2] > p[0] + 60;
            }
        NS_CHECK(blue_top == 0, "%ld blue pixels among the I neurons at the top", blue_top);
        /* the margins hold text: some ink left of and below the plot */
        long margin_ink = 0;
        for (int y = py + ph + 2; y < d.h; y++)
            for (int x = 0; x < d.w; x++) margin_ink += !is_white(pixel(&d, x, y));
        NS_CHECK(margin_ink > 500, "only %ld ink pixels under the plot (tick labels?)", margin_ink);

        const char *v;
        NS_CHECK((v = text_value(&d, "Software")) && strcmp(v, "nsim") == 0, "Software = %s", v);
        NS_CHECK((v = text_value(&d, "Title")) && strcmp(v, "two groups") == 0, "Title = %s", v);
        for (int i = 0; i < 4; i++)
            NS_CHECK((v = text_value(&d, keys[i])) && strcmp(v, values[i]) == 0, "%s = %s",
                     keys[i], v ? v : "(missing)");
    }
    free(d.rgba);

    /* write again after more spikes: the same object redraws from scratch */
    ns_raster_add(r, 500, 0);
    rc = ns_raster_write(r, path, NULL, NULL, 0, err, sizeof err);
    NS_CHECK(rc == 0, "second write failed: %s", err);
    remove(path);

    /* failure paths: no file, no temporary, a message that names the path */
    const char *nowhere = "/nonexistent-nsim-dir/sub/raster.png";
    err[0] = '\0';
    rc = ns_raster_write(r, nowhere, NULL, NULL, 0, err, sizeof err);
    NS_CHECK(rc == -1, "write to %s returned %d", nowhere, rc);
    NS_CHECK(strstr(err, nowhere) != NULL, "message does not name the path: %s", err);
    NS_CHECK(strchr(err, '\n') == NULL, "message is not one line: %s", err);
    NS_CHECK(!file_exists(nowhere), "%s exists", nowhere);

    snprintf(path, sizeof path, "%s/a-folder", dir);  /* rename onto a folder fails late */
    mkdir(path, 0755);
    err[0] = '\0';
    rc = ns_raster_write(r, path, NULL, NULL, 0, err, sizeof err);
    NS_CHECK(rc == -1, "write onto a folder returned %d", rc);
    NS_CHECK(strstr(err, path) != NULL, "message does not name the path: %s", err);
    NS_CHECK(dir_entries(dir) == 1, "%d entries in %s after a failed write", dir_entries(dir), dir);
    rmdir(path);

    snprintf(path, sizeof path, "%s/bad-key.png", dir);
    const char *bad_keys[] = {""};
    const char *bad_values[] = {"x"};
    rc = ns_raster_write(r, path, bad_keys, bad_values, 1, err, sizeof err);
    NS_CHECK(rc == -1, "empty tEXt key accepted");
    NS_CHECK(!file_exists(path), "%s written despite a bad key", path);
    ns_raster_free(r);
}

/* Ten neurons: each spike is a vertical tick several px tall, not a single pixel. */
static void test_few_neurons(const char *dir)
{
    ns_raster *r = ns_raster_create(0, 200, 10, NULL, 0, NULL);
    NS_CHECK(r != NULL, "create failed");
    if (!r) return;
    for (long i = 0; i < 10; i++)
        for (double t = 5 + i; t < 200; t += 20) ns_raster_add(r, t, i);
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/few.png", dir);
    NS_CHECK(ns_raster_write(r, path, NULL, NULL, 0, err, sizeof err) == 0, "%s", err);
    decoded d;
    read_png(path, &d);
    NS_CHECK(d.ok, "cannot decode %s", path);
    if (d.ok) {
        ns_figure *f = ns_figure_create(NS_FIG_WIDTH, NS_FIG_HEIGHT);
        int px = 0, py = 0, pw = 0, ph = 0;
        if (f) ns_figure_plot_area(f, &px, &py, &pw, &ph);
        ns_figure_free(f);
        int tallest = 0;
        for (int x = px + 1; x < px + pw - 1; x++) {
            int run = 0;
            for (int y = py + 1; y < py + ph - 1; y++) {
                run = is_white(pixel(&d, x, y)) ? 0 : run + 1;
                if (run > tallest) tallest = run;
            }
        }
        NS_CHECK(tallest >= 8, "tallest tick is %d px", tallest);
        NS_CHECK(strcmp(text_value(&d, "Title") ? text_value(&d, "Title") : "", "Spike raster") == 0,
                 "default title missing");
    }
    free(d.rgba);
    remove(path);
    ns_raster_free(r);
}

/* Half-transparent red must come back as (255, 0, 0, 128), not cairo's premultiplied (128, 0, 0). */
static void test_unpremultiply(const char *dir)
{
    ns_figure *f = ns_figure_create(200, 200);
    NS_CHECK(f != NULL, "create failed");
    if (!f) return;
    cairo_t *cr = ns_figure_cairo(f);
    cairo_save(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
    cairo_set_source_rgba(cr, 1, 0, 0, 128 / 255.0);
    cairo_paint(cr);
    cairo_restore(cr);
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/alpha.png", dir);
    NS_CHECK(ns_figure_write_png(f, path, NULL, NULL, 0, err, sizeof err) == 0, "%s", err);
    decoded d;
    read_png(path, &d);
    NS_CHECK(d.ok, "cannot decode %s", path);
    if (d.ok) {
        const unsigned char *p = pixel(&d, 100, 100);
        NS_CHECK(p[3] == 128, "alpha %d", p[3]);
        NS_CHECK_ABS(p[0], 255, 1);
        NS_CHECK(p[1] == 0 && p[2] == 0, "green %d blue %d", p[1], p[2]);
        NS_CHECK(text_value(&d, "Title") == NULL, "untitled figure has a Title");
    }
    free(d.rgba);
    remove(path);
    ns_figure_free(f);
}

/* Draw a figure with the note and/or the legend of a five-group raster, write it, decode it. */
static void note_legend_png(const char *dir, const char *name, int note, int legend, decoded *d)
{
    static const char *const names[] = {"dc  28.00 Hz", "staircase  44.00 Hz", "poisson  314.80 Hz",
                                        "fed  8.00 Hz", "src  10.00 Hz"};
    static const int colours[] = {0, 1, 2, 3, 4};
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/%s.png", dir, name);
    ns_figure *f = ns_figure_create(1200, 800);
    memset(d, 0, sizeof *d);
    if (!f) return;
    ns_figure_set_plot_area(f, 100, 80, 950, 400);  /* as wide as the summary's raster */
    if (note) ns_figure_note(f, "997 spikes, 22 neurons, mean rate 90.64 Hz");
    if (legend) ns_figure_legend(f, names, colours, 5, NS_LEGEND_ABOVE);
    NS_CHECK(ns_figure_write_png(f, path, NULL, NULL, 0, err, sizeof err) == 0, "%s", err);
    ns_figure_free(f);
    read_png(path, d);
    remove(path);
}

/* A note and a legend too wide to share its row: neither prints over the other. The note alone
 * gives its pixels; with the legend, those pixels appear unchanged, in place or a row (18 px)
 * higher, with nothing else within 2 px of them. */
static void test_note_legend(const char *dir)
{
    decoded alone, both;
    note_legend_png(dir, "note", 1, 0, &alone);
    note_legend_png(dir, "both", 1, 1, &both);
    NS_CHECK(alone.ok && both.ok, "cannot decode the note figures");
    if (alone.ok && both.ok) {
        int x0 = alone.w, x1 = -1, y0 = alone.h, y1 = -1;
        for (int y = 0; y < 80; y++)
            for (int x = 0; x < alone.w; x++)
                if (!is_white(pixel(&alone, x, y))) {
                    if (x < x0) x0 = x;
                    if (x > x1) x1 = x;
                    if (y < y0) y0 = y;
                    if (y > y1) y1 = y;
                }
        NS_CHECK(x1 > x0 + 100, "no note drawn");
        int clean = 0;
        for (int shift = 0; shift <= 18 && x1 > x0; shift += 18) {
            int ok = y0 - shift - 2 >= 0;
            for (int y = y0 - 2; ok && y <= y1 + 2; y++)
                for (int x = x0 - 2; ok && x <= x1 + 2; x++) {
                    const unsigned char *a = pixel(&alone, x, y), *b = pixel(&both, x, y - shift);
                    ok = a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
                }
            clean |= ok;
        }
        NS_CHECK(clean, "the legend prints over the note (note at x %d-%d, y %d-%d)", x0, x1, y0, y1);
        long legend_px = 0;
        for (int y = 0; y < 80; y++)
            for (int x = x1 + 4; x < both.w; x++) legend_px += !is_white(pixel(&both, x, y));
        NS_CHECK(legend_px > 500, "no legend above the plot (%ld px)", legend_px);
    }
    free(alone.rgba);
    free(both.rgba);
}

/* Read by the leak checker under -fsanitize=address (ignored otherwise): fontconfig keeps
 * allocations for the life of the process, which are not leaks of ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

int main(void)
{
    char dir[512];
    ns_test_tmpdir(dir, sizeof dir, "nsim-test-raster");
    test_nice_ticks();
    test_bad_create();
    test_two_groups(dir);
    test_few_neurons(dir);
    test_unpremultiply(dir);
    test_note_legend(dir);
    NS_CHECK(dir_entries(dir) == 0, "%d files left in %s", dir_entries(dir), dir);
    rmdir(dir);
    cairo_debug_reset_static_data();  /* let the leak checker see only our own memory */
    NS_TEST_MAIN_END();
}
