/* tests/test_phase_analysis.c — order parameters and the synchrony contrast against closed
 * forms (identical phases, evenly spread phases, groups locked in anti-phase or at 120 degrees,
 * a von Mises-like spread with a known R), the phase colours, and the content of the phase
 * raster and phase map figures (a known phase gives a known hue at a known pixel). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/phase.h"
#include "tests/harness.h"
#include "tests/pngread.h"

static void rgb_of(const decoded *d, int x, int y, double *r, double *g, double *b)
{
    const unsigned char *p = pixel(d, x, y);
    *r = p[0] / 255.0, *g = p[1] / 255.0, *b = p[2] / 255.0;
}

/* Hue in [0, 1) of an RGB colour (the HSV hexcone, written out independently of the code). */
static double hue_of(double r, double g, double b)
{
    double mx = fmax(r, fmax(g, b)), mn = fmin(r, fmin(g, b)), c = mx - mn, h;
    if (c <= 0) return NAN;
    if (mx == r) h = fmod((g - b) / c, 6.0);
    else if (mx == g) h = (b - r) / c + 2;
    else h = (r - g) / c + 4;
    h /= 6;
    return h < 0 ? h + 1 : h;
}

static double circ_dist(double a, double b) /* on [0, 1) */
{
    double d = fabs(a - b);
    return fmin(d, 1 - d);
}

int main(void)
{
    char err[256];
    /* R of identical phases is 1 (any multiple of 2 pi); of n evenly spread phases 0 */
    {
        double th[7], R, psi;
        for (int i = 0; i < 7; i++) th[i] = 1.3 + 2 * M_PI * (i - 3);
        ns_phase_order(th, 7, &R, &psi);
        NS_CHECK_ABS(R, 1.0, 1e-12);
        NS_CHECK_ABS(psi, 1.3, 1e-12);
        for (int i = 0; i < 7; i++) th[i] = 0.4 + 2 * M_PI * i / 7;
        ns_phase_order(th, 7, &R, &psi);
        NS_CHECK_ABS(R, 0.0, 1e-12);
        /* two phases a apart: R = |cos(a / 2)|, psi the midpoint */
        double two[2] = {0.2, 0.2 + 1.0};
        ns_phase_order(two, 2, &R, &psi);
        NS_CHECK_ABS(R, cos(0.5), 1e-12);
        NS_CHECK_ABS(psi, 0.7, 1e-12);
        /* uniform on [-w, w] (fine grid): R = sin(w) / w */
        enum { M = 100001 };
        static double u[M];
        double w = 1.1;
        for (int i = 0; i < M; i++) u[i] = -w + 2 * w * (i + 0.5) / M;
        ns_phase_order(u, M, &R, &psi);
        NS_CHECK_ABS(R, sin(w) / w, 1e-9);
    }
    /* groups over time: two groups locked in anti-phase (within 1, between 0, contrast 1), one
     * sample where they share a phase (contrast 0), one where group 2 is spread (R_2 = 0) */
    {
        enum { NU = 9, NT = 4 };
        double th[NU * NT];
        int group[NU] = {1, 2, 1, 2, 1, 2, 0, 1, 2}; /* unit 6 in no group */
        for (int u = 0; u < NU; u++)
            for (int j = 0; j < NT; j++) {
                double t = 0.7 * j, v;
                if (group[u] == 0) v = 2.0 + u;           /* ignored */
                else if (j == 0) v = t + (group[u] == 2 ? M_PI : 0);
                else if (j == 1) v = t + 3 * 2 * M_PI * (group[u] == 2);
                else if (j == 2 && group[u] == 2) v = 2 * M_PI * (u == 8 ? 3 : u / 2) / 4.0; /* units 1,3,5,8: 0, pi/2, pi, 3pi/2 */
                else v = t + (group[u] == 2 ? M_PI / 2 : 0); /* j = 3: a quarter period apart */
                th[u * NT + j] = v;
            }
        double R[2 * NT], psi[2 * NT], Rall[NT], wi[NT], be[NT], co[NT];
        NS_CHECK(ns_phase_groups(th, NU, NT, group, 2, R, psi, Rall, wi, be, co, err, sizeof err) == 0, "%s", err);
        NS_CHECK_ABS(R[0], 1, 1e-12);
        NS_CHECK_ABS(R[NT], 1, 1e-12);
        NS_CHECK_ABS(psi[0], 0, 1e-12);
        NS_CHECK_ABS(fabs(psi[NT]), M_PI, 1e-12);
        NS_CHECK_ABS(wi[0], 1, 1e-12);
        NS_CHECK_ABS(be[0], 0, 1e-12);
        NS_CHECK_ABS(co[0], 1, 1e-12);
        NS_CHECK_ABS(Rall[0], 0, 1e-12); /* 4 and 4 units in anti-phase */
        NS_CHECK_ABS(co[1], 0, 1e-12);   /* one phase */
        NS_CHECK_ABS(be[1], 1, 1e-12);
        NS_CHECK_ABS(R[NT + 2], 0, 1e-12); /* group 2 spread evenly */
        NS_CHECK_ABS(wi[2], 0.5, 1e-12);
        NS_CHECK_ABS(be[2], 0.5, 1e-12);  /* |1 + 0| / 2 */
        NS_CHECK_ABS(co[2], 0, 1e-12);
        NS_CHECK_ABS(be[3], cos(M_PI / 4), 1e-12); /* |1 + i| / 2 */
        NS_CHECK_ABS(co[3], 1 - cos(M_PI / 4), 1e-12);
    }
    /* three synchronous groups at 0, 120, 240 degrees: contrast 1 - cos(60 deg) = 1/2 */
    {
        double th[6];
        int group[6] = {1, 1, 2, 2, 3, 3};
        for (int u = 0; u < 6; u++) th[u] = 2 * M_PI * (group[u] - 1) / 3 + 0.3;
        double co, wi, be;
        NS_CHECK(ns_phase_groups(th, 6, 1, group, 3, NULL, NULL, NULL, &wi, &be, &co, err, sizeof err) == 0, "%s", err);
        NS_CHECK_ABS(co, 0.5, 1e-12);
        /* one group: between and contrast are NaN */
        int one[6] = {1, 1, 1, 1, 1, 1};
        ns_phase_groups(th, 6, 1, one, 1, NULL, NULL, NULL, &wi, &be, &co, err, sizeof err);
        NS_CHECK(isnan(be) && isnan(co), "one group: between %g, contrast %g", be, co);
        int empty[6] = {1, 1, 1, 3, 3, 3};
        NS_CHECK(ns_phase_groups(th, 6, 1, empty, 3, NULL, NULL, NULL, NULL, NULL, NULL, err, sizeof err) == -1 &&
                     strstr(err, "group 2 holds no unit"), "%s", err);
        int bad[6] = {1, 1, 1, 4, 2, 2};
        NS_CHECK(ns_phase_groups(th, 6, 1, bad, 3, NULL, NULL, NULL, NULL, NULL, NULL, err, sizeof err) == -1 &&
                     strstr(err, "group 4"), "%s", err);
    }
    /* the rotating frame: Omega t + offset_g becomes offset_g - (the mean offset), constant in time */
    {
        enum { NU = 6, NT = 50 };
        double th[NU * NT];
        int group[NU] = {1, 1, 2, 2, 0, 2};
        double off[3] = {5.0, 0.4, 1.0}; /* group 0's unit is left out of the mean */
        for (int u = 0; u < NU; u++)
            for (int j = 0; j < NT; j++) th[u * NT + j] = 0.37 * j + off[group[u]];
        ns_phase_subtract_mean(th, NU, NT, group);
        /* the mean of e^{i 0.4} x2 and e^{i 1.0} x3 over the grouped units */
        double c = 2 * cos(0.4) + 3 * cos(1.0), s = 2 * sin(0.4) + 3 * sin(1.0), psi = atan2(s, c);
        int ok = 1;
        for (int u = 0; u < NU; u++)
            for (int j = 0; j < NT; j++) {
                double want = fmod(off[group[u]] - psi + 4 * M_PI, 2 * M_PI);
                ok &= fabs(th[u * NT + j] - want) < 1e-9;
            }
        NS_CHECK(ok, "rotating frame: each unit's phase is its offset minus the mean, at every sample");
    }
    /* colours: hue = phase / 2 pi, value = brightness */
    {
        for (int k = 0; k < 12; k++) {
            double th = 2 * M_PI * k / 12 + 0.01;
            ns_rgb c = ns_phase_colour(th + 4 * M_PI, 0.8);
            NS_CHECK(circ_dist(hue_of(c.r, c.g, c.b), th / (2 * M_PI)) < 1e-9, "phase %g: hue %g", th, hue_of(c.r, c.g, c.b));
            NS_CHECK_ABS(fmax(c.r, fmax(c.g, c.b)), 0.8, 1e-12);
            NS_CHECK_ABS(fmin(c.r, fmin(c.g, c.b)), 0.0, 1e-12);
        }
        ns_rgb red = ns_phase_colour(0, 1), green = ns_phase_colour(2 * M_PI / 3, 1), black = ns_phase_colour(1, 0);
        NS_CHECK(red.r == 1 && red.g == 0 && red.b == 0, "phase 0 is red");
        NS_CHECK(fabs(green.g - 1) < 1e-12 && green.r < 1e-12 && green.b < 1e-12, "2 pi / 3 is green");
        NS_CHECK(black.r == 0 && black.g == 0 && black.b == 0, "brightness 0 is black");
    }

    char dir[512], path[600];
    ns_test_figure_dir(dir, sizeof dir, "phase_figs");
    /* the phase map: a 40 x 30 image, left half phase pi/2 (yellow-green, hue 1/4), right half phase pi (cyan),
     * bottom rows activity 0; read back: hue at the cell centres, black where inactive */
    {
        int W = 40, H = 30;
        double th[40 * 30], act[40 * 30];
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                th[y * W + x] = x < W / 2 ? M_PI / 2 : M_PI;
                act[y * W + x] = y >= 25 ? 0 : y >= 20 ? 0.5 : 1;
            }
        snprintf(path, sizeof path, "%s/phase_map.png", dir);
        NS_CHECK(ns_phase_plot_map(path, th, act, W, H, "test map", NULL, NULL, 0, err, sizeof err) == 0, "%s", err);
        decoded d;
        read_png(path, &d);
        NS_CHECK(d.ok, "%s readable", path);
        if (d.ok) {
            /* find the plot area: the image is drawn with square pixels; locate it by the colour run
             * of the top-left cell's row through the middle of row 5 */
            int x0 = -1, x1 = -1, y0 = -1, y1 = -1;
            for (int x = 0; x < d.w && x0 < 0; x++) {
                for (int y = 0; y < d.h; y++) {
                    const unsigned char *p = pixel(&d, x, y);
                    double r = p[0] / 255.0, g = p[1] / 255.0, b = p[2] / 255.0;
                    if (g > 0.9 && b < 0.1 && r > 0.45 && r < 0.55) { x0 = x; break; } /* hue 1/4: (0.5, 1, 0) */
                }
            }
            for (int y = 0; y < d.h && y0 < 0; y++)
                for (int x = 0; x < d.w; x++) {
                    const unsigned char *p = pixel(&d, x, y);
                    if (p[1] > 240 && p[2] < 20 && p[0] > 115 && p[0] < 140) { y0 = y; break; }
                }
            for (int y = d.h - 1; y >= 0 && y1 < 0; y--) /* bottom of the black rows, in column x0 + 2 */
                if (x0 >= 0) {
                    const unsigned char *p = pixel(&d, x0 + 2, y);
                    if (p[0] < 5 && p[1] < 5 && p[2] < 5 && y > y0) y1 = y;
                }
            for (int x = d.w - 1; x >= 0 && x1 < 0 && y0 >= 0; x--) { /* right end of the cyan cells (phase pi) */
                const unsigned char *p = pixel(&d, x, y0 + 2);
                if (p[0] < 20 && p[1] > 240 && p[2] > 240) x1 = x;
            }
            NS_CHECK(x0 >= 0 && y0 >= 0 && x1 > x0 && y1 > y0, "plot area found: %d %d %d %d", x0, x1, y0, y1);
            if (x0 >= 0 && y0 >= 0 && x1 > x0 && y1 > y0) {
                double cw = (x1 - x0 + 1) / (double)W, chh = (y1 - y0 + 1) / (double)H;
                NS_CHECK(fabs(cw - chh) < 0.05 * cw, "square pixels: %g x %g px", cw, chh);
                /* cell centres */
                struct { int x, y; double hue, v; } want[] = {{5, 3, 0.25, 1}, {30, 10, 0.5, 1}, {10, 22, 0.25, 0.5},
                                                             {35, 22, 0.5, 0.5}, {3, 27, NAN, 0}, {38, 28, NAN, 0}};
                for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
                    int px = x0 + (int)((want[k].x + 0.5) * cw), py = y0 + (int)((want[k].y + 0.5) * chh);
                    double r, g, b;
                    rgb_of(&d, px, py, &r, &g, &b);
                    double v = fmax(r, fmax(g, b));
                    NS_CHECK_ABS(v, want[k].v, 0.01);
                    if (!isnan(want[k].hue))
                        NS_CHECK(circ_dist(hue_of(r, g, b), want[k].hue) < 0.01, "cell (%d, %d): hue %g, want %g",
                                 want[k].x, want[k].y, hue_of(r, g, b), want[k].hue);
                }
            }
            /* the colour wheel: somewhere right of the image, a pixel of every hue at full brightness */
            int hues[12] = {0};
            for (int y = 0; y < d.h; y++)
                for (int x = x1 + 20; x1 > 0 && x < d.w; x++) {
                    double r, g, b;
                    rgb_of(&d, x, y, &r, &g, &b);
                    if (fmax(r, fmax(g, b)) > 0.97 && fmin(r, fmin(g, b)) < 0.03) hues[(int)(hue_of(r, g, b) * 12) % 12] = 1;
                }
            int all = 1;
            for (int k = 0; k < 12; k++) all &= hues[k];
            NS_CHECK(all, "the colour wheel shows every hue");
        }
        free_png(&d);
    }
    /* the phase raster: 3 groups of units with phases 2 pi f t + offsets; group order on y */
    {
        enum { NU = 30, NT = 100 };
        double th[NU * NT];
        int group[NU];
        for (int u = 0; u < NU; u++) {
            group[u] = u % 4; /* 0: none (last on y), 1..3 */
            for (int j = 0; j < NT; j++) th[u * NT + j] = group[u] == 0 ? 0 : 2 * M_PI * (group[u] - 1) / 3;
        }
        snprintf(path, sizeof path, "%s/phase_raster.png", dir);
        NS_CHECK(ns_phase_plot_raster(path, th, NULL, NU, NT, 0, 1, group, 3, NULL, NULL, NULL, 0, err, sizeof err) == 0,
                 "%s", err);
        decoded d;
        read_png(path, &d);
        NS_CHECK(d.ok, "%s readable", path);
        if (d.ok) {
            /* down the middle column of the plot: red (group 1), green (2), blue (3), red (none) in
             * runs of 8, 7, 7, 8 units */
            int x = 100 + (NS_FIG_WIDTH - 100 - 220) / 2, runs = 0, len[8] = {0};
            double last = -1, hue[8];
            for (int y = 82; y < NS_FIG_HEIGHT - 78; y++) {
                double r, g, b;
                rgb_of(&d, x, y, &r, &g, &b);
                if (fmin(r, fmin(g, b)) > 0.5) continue; /* the white lines between groups */
                double h = hue_of(r, g, b);
                if (isnan(h)) continue;
                if (last < 0 || circ_dist(h, last) > 0.05) {
                    if (runs == 8) break;
                    hue[runs++] = h;
                }
                last = h;
                len[runs - 1]++;
            }
            NS_CHECK(runs == 4, "%d colour runs", runs);
            if (runs == 4) {
                NS_CHECK(circ_dist(hue[0], 0) < 0.01 && circ_dist(hue[1], 1 / 3.0) < 0.01 &&
                             circ_dist(hue[2], 2 / 3.0) < 0.01 && circ_dist(hue[3], 0) < 0.01,
                         "hues %g %g %g %g", hue[0], hue[1], hue[2], hue[3]);
                double total = len[0] + len[1] + len[2] + len[3];
                NS_CHECK(fabs(len[0] / total - 8 / 30.0) < 0.02 && fabs(len[1] / total - 7 / 30.0) < 0.02,
                         "run lengths %d %d %d %d", len[0], len[1], len[2], len[3]);
            }
        }
        free_png(&d);
        NS_CHECK(ns_phase_plot_raster(path, th, NULL, NU, NT, 0, 0, group, 3, NULL, NULL, NULL, 0, err, sizeof err) == -1 &&
                     strstr(err, "> 0"), "%s", err);
    }
    NS_TEST_MAIN_END();
}
