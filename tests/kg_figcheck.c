/* tests/kg_figcheck.c — reads back the space-time figure examples/kg_dispersion.lua draws (the whole
 * lattice's |phi(k, f)|^2 averaged over rings of |k|) and checks it against the lattice dispersion
 * computed here: in every |k| column the brightest cell lies between the axis and diagonal curves'
 * frequencies of that ring, and the two drawn curves pass through omega(k) of this file's formula.
 * Run by tests/test_kg_examples.sh: kg_figcheck PNG NX NY H_UM M C FRAME_MS NT. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/figure.h"
#include "tests/harness.h"
#include "tests/pngread.h"

/* omega (rad/ms) of the 5-point lattice Klein-Gordon field at (kx, ky) rad/µm, in Hz. */
static double kg_hz(double m, double c, double h, double kx, double ky)
{
    double s = sin(kx * h / 2), t = sin(ky * h / 2);
    return sqrt(m * m + 4 * c * c / (h * h) * (s * s + t * t)) * 1000 / (2 * M_PI);
}

static int near(const unsigned char *p, ns_rgb b, int tol2)
{
    int dr = p[0] - (int)lround(b.r * 255), dg = p[1] - (int)lround(b.g * 255), db = p[2] - (int)lround(b.b * 255);
    return dr * dr + dg * dg + db * db < tol2;
}

/* A heatmap cell's pixel: viridis is saturated everywhere (grey frames, text and legend are not). */
static int saturated(const unsigned char *p)
{
    int mx = p[0] > p[1] ? p[0] : p[1], mn = p[0] < p[1] ? p[0] : p[1];
    mx = mx > p[2] ? mx : p[2], mn = mn < p[2] ? mn : p[2];
    return mx - mn > 40;
}

int main(int argc, char **argv)
{
    if (argc != 9) {
        printf("usage: kg_figcheck PNG NX NY H_UM M C FRAME_MS NT\n");
        return 2;
    }
    const int nx = atoi(argv[2]), ny = atoi(argv[3]);
    const double h = atof(argv[4]), m = atof(argv[5]), c = atof(argv[6]), dt = atof(argv[7]);
    const long nt = atol(argv[8]);
    decoded im;
    read_png(argv[1], &im);
    NS_CHECK(im.ok && im.w == NS_FIG_WIDTH && im.h == NS_FIG_HEIGHT, "%s decodes, %d x %d px (want %d x %d)", argv[1],
             im.w, im.h, NS_FIG_WIDTH, NS_FIG_HEIGHT);
    if (!im.ok || im.w != NS_FIG_WIDTH || im.h != NS_FIG_HEIGHT) NS_TEST_MAIN_END();
    /* the heatmap's plot area (analysis/plot.c's margins at the default size) and its axes: |k| in
     * rings of dk cycles/mm centred on 0, dk, ...; f in bins of df Hz from 0 */
    const int px = 100, py = 80, pw = NS_FIG_WIDTH - 100 - 160, ph = NS_FIG_HEIGHT - 80 - 76;
    const int nb = (nx < ny ? nx : ny) / 2 + 1;
    const double dk = 1000.0 / ((nx > ny ? nx : ny) * h), klo = -dk / 2, khi = (nb - 1) * dk + dk / 2;
    const long nf = nt / 2 + 1;
    const double df = 1000.0 / (nt * dt), fhi = (nf - 1) * df + df / 2;
    const double to_rad = 2 * M_PI / 1000; /* cycles/mm to rad/µm */
    int bad_ridge = 0, bad_curve = 0, columns = 0;
    for (int j = 0; j < nb; j++) {
        const double kc = j * dk;
        const int X = px + (int)lround((kc - klo) / (khi - klo) * pw);
        /* the brightest heatmap pixel of the column (viridis' green channel rises monotonically) */
        int by = -1, bg = -1;
        for (int y = py + 1; y < py + ph - 1; y++) {
            const unsigned char *p = pixel(&im, X, y);
            if (saturated(p) && !near(p, ns_figure_palette(1), 2000) && !near(p, ns_figure_palette(2), 2000) &&
                p[1] > bg)
                bg = p[1], by = y;
        }
        const double f = (1.0 - (by - py + 0.5) / ph) * fhi;
        /* ring j holds |k| in [kc - dk/2, kc + dk/2): its modes lie between the axis and diagonal
         * frequencies of its edges */
        const double klo_r = fmax(0.0, kc - dk / 2) * to_rad, khi_r = (kc + dk / 2) * to_rad;
        const double flo = kg_hz(m, c, h, klo_r, 0), fup = kg_hz(m, c, h, khi_r / sqrt(2.0), khi_r / sqrt(2.0));
        if (!(by >= 0 && f >= flo - 1.5 * df && f <= fup + 1.5 * df)) {
            printf("column |k| = %.4g cycles/mm: brightest cell at %.1f Hz (y %d px), want [%.1f, %.1f] Hz\n", kc, f, by,
                   flo, fup);
            bad_ridge++;
        }
        /* the curves in this column: the axis curve (palette 1) at omega(kc, 0), the diagonal
         * (palette 2, drawn last) at omega(kc/sqrt 2, kc/sqrt 2); where the two lie within 3 px
         * the diagonal hides the axis curve, and either colour counts for it */
        const double kr = kc * to_rad;
        const double fcs[2] = {kg_hz(m, c, h, kr, 0), kg_hz(m, c, h, kr / sqrt(2.0), kr / sqrt(2.0))};
        int Yc[2];
        for (int pass = 0; pass < 2; pass++) Yc[pass] = py + (int)lround((1 - fcs[pass] / fhi) * ph);
        for (int pass = 0; pass < 2; pass++) {
            const int either = pass == 0 && abs(Yc[0] - Yc[1]) <= 3;
            int yb = -1;
            for (int y = py; y < py + ph; y++) {
                const unsigned char *p = pixel(&im, X, y);
                if ((near(p, ns_figure_palette(1 + pass), 900) || (either && near(p, ns_figure_palette(2), 900))) &&
                    (yb < 0 || abs(y - Yc[pass]) < abs(yb - Yc[pass])))
                    yb = y;
            }
            if (yb < 0 || abs(yb - Yc[pass]) > 2) {
                printf("column |k| = %.4g cycles/mm: %s curve at y %d px, want %d (%.1f Hz)\n", kc,
                       pass ? "diagonal" : "axis", yb, Yc[pass], fcs[pass]);
                bad_curve++;
            }
        }
        columns++;
    }
    NS_CHECK(bad_ridge == 0, "%s: the brightest cell of each of %d |k| columns lies between the ring's axis and "
             "diagonal frequencies (within 1.5 bins of %.3g Hz)", argv[1], columns, df);
    NS_CHECK(bad_curve == 0, "%s: the axis and diagonal curves pass within 2 px of omega(k) in each of %d columns",
             argv[1], columns);
    const char *script = text_value(&im, "Script");
    NS_CHECK(script && strstr(script, "kg_dispersion.lua"), "the figure's Script chunk names kg_dispersion.lua (%s)",
             script ? script : "none");
    free_png(&im);
    NS_TEST_MAIN_END();
}
