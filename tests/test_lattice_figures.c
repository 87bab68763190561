/* tests/test_lattice_figures.c — tests for analysis/lattice.c: the density of states against the
 * chain's closed form, a snapshot's pixels read back through its colour bar, the contact sheet's
 * panel count, and the dispersion curve through the ridge of a plane wave's space-time spectrum. */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/figure.h"
#include "analysis/lattice.h"
#include "analysis/plot.h"
#include "tests/harness.h"
#include "tests/pngread.h"

static char out_dir[512];
static int keep_files;

static void path_for(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/lattice_%s.png", out_dir, name);
}

static void done_with(const char *path, decoded *im)
{
    free(im->rgba);
    im->rgba = NULL;
    if (!keep_files) remove(path);
}

/* A colour of the viridis map (not grey, not white): r, g, b not all within 12 of each other. */
static int coloured(const unsigned char *p)
{
    int mx = p[0] > p[1] ? p[0] : p[1], mn = p[0] < p[1] ? p[0] : p[1];
    mx = mx > p[2] ? mx : p[2];
    mn = mn < p[2] ? mn : p[2];
    return mx - mn > 12;
}

/* Runs of coloured pixels along row y (horizontal) or column x (vertical): starts and ends. */
static int runs(const decoded *im, int fixed, int vertical, int *lo, int *hi, int cap)
{
    int n = 0, in = 0, len = vertical ? im->h : im->w;
    for (int i = 0; i < len; i++) {
        const unsigned char *p = vertical ? pixel(im, fixed, i) : pixel(im, i, fixed);
        int c = coloured(p);
        if (c && !in && n < cap) lo[n] = i, in = 1;
        if (!c && in) { hi[n++] = i - 1; in = 0; }
    }
    if (in && n < cap) hi[n++] = len - 1;
    return n;
}

static int dist2(const unsigned char *a, ns_rgb b)
{
    int dr = a[0] - (int)lround(b.r * 255), dg = a[1] - (int)lround(b.g * 255), db = a[2] - (int)lround(b.b * 255);
    return dr * dr + dg * dg + db * db;
}

/* 1-D chain: the count of modes in each bin against the closed form N (2/pi) asin(sqrt(...)). */
static void test_dos_chain(void)
{
    enum { N = 20000, NB = 50 };
    double m = 0.5, c = 2.0, h = 10.0, wmax = sqrt(m * m + 4 * c * c / (h * h));
    double counts[NB];
    long n = ns_lattice_kg_dos(m, c, h, N, 1, m, wmax * (1 + 1e-12), NB, counts);
    NS_CHECK(n == N, "%ld modes counted of %d", n, N);
    double w = (wmax * (1 + 1e-12) - m) / NB, worst = 0;
    for (int b = 0; b < NB; b++) {
        double lo = m + b * w, hi = fmin(wmax, m + (b + 1) * w);
        double cdf_lo = 2 / M_PI * asin(sqrt((lo * lo - m * m) / (wmax * wmax - m * m)));
        double cdf_hi = 2 / M_PI * asin(sqrt((hi * hi - m * m) / (wmax * wmax - m * m)));
        worst = fmax(worst, fabs(counts[b] - N * (cdf_hi - cdf_lo)));
    }
    NS_CHECK(worst <= 2.0, "chain DOS off the closed form by %g modes in a bin", worst);
    /* 2-D: every mode counted once, none below the gap, the k = 0 mode at m */
    double c2[40];
    n = ns_lattice_kg_dos(m, c, h, 16, 12, 0, 1.5, 40, c2);
    NS_CHECK(n == 16 * 12, "2-D: %ld modes of %d", n, 16 * 12);
    double bw = 1.5 / 40;
    long below = 0;
    for (int b = 0; b < 40; b++) if ((b + 1) * bw <= m) below += (long)c2[b];
    NS_CHECK(below == 0, "%ld modes below the mass gap", below);
    NS_CHECK(c2[(int)floor(m / bw)] >= 1, "no mode at the gap");
    /* 2-D against a brute-force count written out here */
    double bf[40] = {0};
    for (int j = 0; j < 12; j++)
        for (int i = 0; i < 16; i++) {
            double sx = sin(M_PI * i / 16), sy = sin(M_PI * j / 12);
            double om = sqrt(m * m + 4 * c * c / (h * h) * (sx * sx + sy * sy));
            bf[(int)floor(om / bw)] += 1;
        }
    int same = 1;
    for (int b = 0; b < 40; b++) same &= bf[b] == c2[b];
    NS_CHECK(same, "2-D DOS differs from the brute-force count");
}

/* A snapshot: every cell's colour read back through the colour bar gives the matrix. */
static void test_snapshot(void)
{
    enum { NX = 12, NY = 8 };
    double z[NX * NY];
    for (int k = 0; k < NX * NY; k++) z[k] = fmod(k * 0.37, 1.0);  /* site k: column k % NX, row k / NX */
    char path[600], err[512];
    path_for(path, sizeof path, "snapshot");
    NS_CHECK(ns_lattice_plot_snapshot(path, z, NX, NY, 25.0, 12.5, "phi", "phi (a.u.)", NULL, 0, 1, NULL, NULL, 0,
                                      err, sizeof err) == 0, "%s", err);
    decoded im;
    read_png(path, &im);
    NS_CHECK(im.ok, "cannot decode %s", path);
    if (!im.ok) return;
    const char *t = text_value(&im, "Title");
    NS_CHECK(t && !strcmp(t, "phi at t = 12.5 ms"), "title %s", t ? t : "(none)");
    int lo[8], hi[8];
    int nr = runs(&im, im.h / 2, 0, lo, hi, 8);
    NS_CHECK(nr == 2, "%d coloured runs across the middle (plot and colour bar)", nr);
    if (nr == 2) {
        int x0 = lo[0], x1 = hi[0], bx = (lo[1] + hi[1]) / 2;
        int lo2[8], hi2[8];
        int nv = runs(&im, (x0 + x1) / 2, 1, lo2, hi2, 8);
        NS_CHECK(nv == 1, "%d coloured runs down the plot", nv);
        int y0 = lo2[0], y1 = hi2[0];
        /* µm axes with one µm as long on both: 12 x 25 µm wide, 8 x 25 µm tall */
        double aspect = (x1 - x0 + 1.0) / (y1 - y0 + 1.0);
        NS_CHECK_ABS(aspect, 1.5, 0.02);
        int blo[2], bhi[2];
        NS_CHECK(runs(&im, bx, 1, blo, bhi, 2) == 1, "colour bar not one run");
        double worst = 0;
        for (int row = 0; row < NY; row++)
            for (int col = 0; col < NX; col++) {
                int px = x0 + (int)((col + 0.5) * (x1 - x0 + 1) / NX);
                int py = y1 - (int)((row + 0.5) * (y1 - y0 + 1) / NY);  /* row 0 at the bottom */
                const unsigned char *p = pixel(&im, px, py);
                int best = -1, bd = 1 << 30;
                for (int yy = blo[0]; yy <= bhi[0]; yy++) {
                    const unsigned char *q = pixel(&im, bx, yy);
                    int d = (p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (p[2] - q[2]) * (p[2] - q[2]);
                    if (d < bd) bd = d, best = yy;
                }
                double v = 1 - (best - blo[0] + 0.5) / (bhi[0] - blo[0] + 1);
                worst = fmax(worst, fabs(v - z[row * NX + col]));
            }
        NS_CHECK(worst < 0.01, "cell colour read back off by %g (range 1)", worst);
    }
    done_with(path, &im);
}

/* A contact sheet of 5 frames: 3 panels in the top row, 2 in the bottom one, one colour bar. */
static void test_sheet(void)
{
    enum { NX = 10, NY = 10, NT = 7 };
    double movie[NT * NX * NY], t[NT];
    for (int it = 0; it < NT; it++) {
        t[it] = it * 2.5;
        for (int k = 0; k < NX * NY; k++) movie[it * NX * NY + k] = it + 0.1 * (k % NX);
    }
    long frames[5] = {0, 1, 3, 5, 6};
    char path[600], err[512];
    path_for(path, sizeof path, "sheet");
    NS_CHECK(ns_lattice_plot_sheet(path, movie, NT, NX, NY, 10.0, t, frames, 5, "phi", "phi (a.u.)", NULL, NULL,
                                   NULL, 0, err, sizeof err) == 0, "%s", err);
    decoded im;
    read_png(path, &im);
    NS_CHECK(im.ok, "cannot decode %s", path);
    if (!im.ok) return;
    int lo[16], hi[16];
    /* down the first panel's column: two panel rows */
    int x = -1;
    for (int i = 0; i < im.w && x < 0; i++)
        for (int y = 0; y < im.h; y += 4)
            if (coloured(pixel(&im, i, y))) { x = i + 20; break; }
    int nv = x >= 0 ? runs(&im, x, 1, lo, hi, 16) : 0;
    NS_CHECK(nv == 2, "%d panel rows, want 2", nv);
    if (nv == 2) {
        int top = runs(&im, (lo[0] + hi[0]) / 2, 0, lo, hi, 16);
        NS_CHECK(top == 4, "%d coloured runs in the top row, want 3 panels and the bar", top);
        int lo2[16], hi2[16];
        runs(&im, x, 1, lo2, hi2, 16);
        int bot = runs(&im, (lo2[1] + hi2[1]) / 2, 0, lo, hi, 16);
        NS_CHECK(bot == 3, "%d coloured runs in the bottom row, want 2 panels and the bar", bot);
    }
    done_with(path, &im);
    NS_CHECK(ns_lattice_plot_sheet(path, movie, NT, NX, NY, 10.0, t, (long[]){9}, 1, "phi", NULL, NULL, NULL, NULL, 0,
                                   err, sizeof err) == -1 && strstr(err, "frame 9"), "frame out of range: %s", err);
}

/* A plane wave of known (k, omega) on a chain: the brightest bin is at (k, omega/2pi) and the
 * dispersion curve's pixels in that k column are at that frequency. */
static void test_spacetime_overlay(void)
{
    enum { NX = 64, NT = 256, J = 8 };
    double h = 10, m = 0.3, c = 5, dt = 2.0;
    double k = 2 * M_PI * J / (NX * h);  /* rad/µm */
    double s = sin(k * h / 2), om = sqrt(m * m + 4 * c * c / (h * h) * s * s);  /* rad/ms */
    static double movie[NT * NX];
    for (int it = 0; it < NT; it++)
        for (int x = 0; x < NX; x++) movie[it * NX + x] = cos(k * x * h - om * it * dt);
    char path[600], err[512];
    path_for(path, sizeof path, "spacetime");
    NS_CHECK(ns_lattice_plot_spacetime(NULL, path, movie, NT, NX, 1, dt, h, 0, m, c, NULL, NULL, NULL, 0, err,
                                       sizeof err) == 0, "%s", err);
    decoded im;
    read_png(path, &im);
    NS_CHECK(im.ok, "cannot decode %s", path);
    if (!im.ok) return;
    /* the plot area: the heatmap's, default size */
    int px = 100, py = 80, pw = NS_FIG_WIDTH - 100 - 160, ph = NS_FIG_HEIGHT - 80 - 76;
    double dk = 1000.0 / (NX * h), klo = -NX / 2 * dk - dk / 2, khi = (NX / 2 - 1) * dk + dk / 2;
    double df = 1000.0 / (NT * dt), fhi = NT / 2 * df + df / 2;
    double kc = J * dk, fc = om * 1000 / (2 * M_PI);  /* cycles/mm, Hz */
    int X = px + (int)lround((kc - klo) / (khi - klo) * pw), Yc = py + (int)lround((1 - fc / fhi) * ph);
    /* the brightest cell: yellow, the top of viridis; find the brightest pixel in the plot */
    int bx = -1, by = -1, bl = -1;
    ns_rgb top = ns_plot_viridis(1);
    int bd = 1 << 30;
    for (int y = py + 1; y < py + ph - 1; y++)
        for (int x = px + 1; x < px + pw - 1; x++) {
            int d = dist2(pixel(&im, x, y), top);
            if (d < bd) bd = d, bx = x, by = y;
        }
    (void)bl;
    double cell_w = (double)pw / NX, cell_h = ph / (fhi / df);
    NS_CHECK(abs(bx - X) <= cell_w, "brightest cell at x = %d px, want %d (k = %g cycles/mm)", bx, X, kc);
    NS_CHECK(abs(by - Yc) <= 1.5 * cell_h, "brightest cell at y = %d px, want %d (f = %g Hz)", by, Yc, fc);
    /* the curve (palette colour 1) in that column */
    ns_rgb red = ns_figure_palette(1);
    int found = 0, yb = -1;
    for (int y = py; y < py + ph; y++)
        if (dist2(pixel(&im, X, y), red) < 900) {
            found++;
            if (yb < 0 || abs(y - Yc) < abs(yb - Yc)) yb = y;
        }
    NS_CHECK(found > 0, "no curve pixel in column %d", X);
    NS_CHECK(abs(yb - Yc) <= 2, "curve at y = %d px in the k column, want %d", yb, Yc);
    done_with(path, &im);
}

/* The site spectrum's prediction: zero below the gap, scaled to the measured power in the band. */
static void test_site_psd(void)
{
    enum { NX = 32, NY = 32, NT = 512 };
    double h = 10, m = 0.3, c = 5, dt = 1.0;
    static double movie[NT * NX * NY];
    /* a sum of a few lattice modes with random phases */
    for (int q = 0; q < 6; q++) {
        int i = (q * 5) % NX, j = (q * 3 + 1) % NY;
        double kx = 2 * M_PI * i / (NX * h), ky = 2 * M_PI * j / (NY * h), om = ns_lattice_kg_omega(m, c, h, kx, ky);
        for (int it = 0; it < NT; it++)
            for (int s = 0; s < NX * NY; s++)
                movie[it * NX * NY + s] += cos(kx * (s % NX) * h + ky * (s / NX) * h - om * it * dt + q);
    }
    long nf = 128 / 2 + 1;
    double f[65], p[65], th[65], mp = 0, mt = 0;
    char err[512], path[600];
    path_for(path, sizeof path, "site_psd");
    double band_lo = 2 * m * 1000 / (2 * M_PI), band_hi = 150;
    NS_CHECK(ns_lattice_site_psd(NULL, path, movie, NT, NX, NY, dt, h, -1, 128, m, c, band_lo, band_hi, NULL, f, p, th,
                                 NULL, NULL, 0, err, sizeof err) == 0, "%s", err);
    for (long k = 0; k < nf; k++) {
        if (f[k] < m * 1000 / (2 * M_PI) - (f[1] - f[0])) NS_CHECK(th[k] == 0, "prediction %g below the gap at %g Hz", th[k], f[k]);
        if (f[k] >= band_lo && f[k] <= band_hi) mp += p[k], mt += th[k];
    }
    NS_CHECK_ABS(mt / mp, 1.0, 1e-12);
    if (!keep_files) remove(path);
    NS_CHECK(ns_lattice_site_psd(NULL, NULL, movie, NT, NX, NY, dt, h, NX * NY, 128, m, c, 1, 2, NULL, NULL, NULL, NULL,
                                 NULL, NULL, 0, err, sizeof err) == -1 && strstr(err, "site 1024"), "bad site: %s", err);
}

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

int main(void)
{
    keep_files = ns_test_figure_dir(out_dir, sizeof out_dir, "nsim-test-lattice");
    test_dos_chain();
    test_snapshot();
    test_sheet();
    test_spacetime_overlay();
    test_site_psd();
    if (!keep_files) NS_CHECK(rmdir(out_dir) == 0, "files left in %s", out_dir);
    cairo_debug_reset_static_data();
    NS_TEST_MAIN_END();
}
