/* analysis/lattice.c — figures of lattice movies: snapshots, contact sheets, the space-time
 * spectrum with the Klein-Gordon dispersion over it, and the site spectrum against the exact
 * lattice density of states. Spectra come from analysis/psd.c (FFTW plans in an ns_fft_cache). */
#include "analysis/lattice.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/plot.h"
#include "analysis/psd.h"
#include "base/errmsg.h"

#define TWO_PI 6.283185307179586


double ns_lattice_kg_omega(double m, double c, double h, double kx, double ky)
{
    double sx = sin(kx * h / 2), sy = sin(ky * h / 2);
    return sqrt(m * m + 4 * c * c / (h * h) * (sx * sx + sy * sy));
}

long ns_lattice_kg_dos(double m, double c, double h, int nx, int ny, double lo, double hi, int nb,
                       double *counts)
{
    if (nx < 1 || ny < 1 || nb < 1 || !(hi > lo) || !counts) return 0;
    for (int b = 0; b < nb; b++) counts[b] = 0;
    long n = 0;
    double w = (hi - lo) / nb;
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            double om = ns_lattice_kg_omega(m, c, h, TWO_PI * i / (nx * h), TWO_PI * j / (ny * h));
            long b = (long)floor((om - lo) / w);
            if (b >= 0 && b < nb) {
                counts[b] += 1;
                n++;
            }
        }
    return n;
}

static int check_shape(const char *path, long nt, int nx, int ny, double h, char *err, size_t errlen)
{
    if (!path || !path[0]) { ns_errmsg(err, errlen, "no output path"); return -1; }
    if (nt < 1 || nx < 1 || ny < 1) {
        ns_errmsg(err, errlen, "cannot plot '%s': %ld frames of %d x %d sites", path, nt, nx, ny);
        return -1;
    }
    if (!(h > 0) || !isfinite(h)) {
        ns_errmsg(err, errlen, "cannot plot '%s': spacing h = %g must be a positive number of µm", path, h);
        return -1;
    }
    return 0;
}

int ns_lattice_plot_snapshot(const char *path, const double *frame, int nx, int ny, double h_um,
                             double t_ms, const char *var, const char *z_label, const char *title,
                             double z_lo, double z_hi, const char *const *keys,
                             const char *const *values, int n_text, char *err, size_t errlen)
{
    if (check_shape(path, 1, nx, ny, h_um, err, errlen) || !frame) return -1;
    char tt[256];
    if (!title) {
        snprintf(tt, sizeof tt, "%s at t = %g ms", var ? var : "field", t_ms);
        title = tt;
    }
    ns_plot_opts o = {.title = title, .x_label = "x (µm)", .y_label = "y (µm)",
                      .z_label = z_label ? z_label : var, .x_lo = 0, .x_hi = nx * h_um,
                      .y_lo = 0, .y_hi = ny * h_um, .z_lo = z_lo, .z_hi = z_hi, .equal_aspect = 1};
    if (ny == 1) o.equal_aspect = 0; /* a chain: a strip as tall as the figure would be 1 px */
    return ns_plot_heatmap(path, frame, nx, ny, &o, keys, values, n_text, err, errlen);
}

int ns_lattice_plot_sheet(const char *path, const double *movie, long nt, int nx, int ny,
                          double h_um, const double *t_ms, const long *frames, int n,
                          const char *var, const char *z_label, const char *title,
                          const char *const *keys, const char *const *values, int n_text,
                          char *err, size_t errlen)
{
    if (check_shape(path, nt, nx, ny, h_um, err, errlen) || !movie || !frames) return -1;
    if (n < 1 || n > 1000) {
        ns_errmsg(err, errlen, "cannot plot '%s': %d frames, 1 to 1000 make a sheet", path, n);
        return -1;
    }
    size_t fs = (size_t)nx * (size_t)ny;
    double *z = malloc(fs * (size_t)n * sizeof *z);
    char (*cap)[48] = malloc((size_t)n * sizeof *cap);
    const char **caps = malloc((size_t)n * sizeof *caps);
    int rc = -1;
    if (!z || !cap || !caps) { ns_errmsg(err, errlen, "out of memory"); goto done; }
    for (int p = 0; p < n; p++) {
        if (frames[p] < 0 || frames[p] >= nt) {
            ns_errmsg(err, errlen, "cannot plot '%s': frame %ld is not in [0, %ld)", path, frames[p], nt);
            goto done;
        }
        memcpy(z + (size_t)p * fs, movie + (size_t)frames[p] * fs, fs * sizeof *z);
        snprintf(cap[p], sizeof cap[p], "t = %g ms", t_ms ? t_ms[frames[p]] : (double)frames[p]);
        caps[p] = cap[p];
    }
    int cols = (int)ceil(sqrt((double)n));
    char tt[256];
    if (!title) {
        snprintf(tt, sizeof tt, "%s: %d frames", var ? var : "field", n);
        title = tt;
    }
    ns_plot_opts o = {.title = title, .x_label = "x (µm)", .y_label = "y (µm)",
                      .z_label = z_label ? z_label : var, .x_lo = 0, .x_hi = nx * h_um,
                      .y_lo = 0, .y_hi = ny * h_um, .equal_aspect = ny > 1};
    rc = ns_plot_heatmap_sheet(path, z, nx, ny, n, cols, caps, &o, keys, values, n_text, err, errlen);
done:
    free(z);
    free(cap);
    free(caps);
    return rc;
}

enum { CURVE_N = 401 };

int ns_lattice_plot_spacetime(ns_fft_cache *fc, const char *path, const double *movie, long nt,
                              int nx, int ny, double dt_ms, double h_um, int row, double m,
                              double c, const char *title, const char *const *keys,
                              const char *const *values, int n_text, char *err, size_t errlen)
{
    if (check_shape(path, nt, nx, ny, h_um, err, errlen) || !movie) return -1;
    if (nt < 4 || !(dt_ms > 0)) {
        ns_errmsg(err, errlen, "cannot plot '%s': %ld frames every %g ms; a space-time spectrum needs 4 or more, dt > 0", path, nt, dt_ms);
        return -1;
    }
    if (row >= ny) {
        ns_errmsg(err, errlen, "cannot plot '%s': row %d is not in [0, %d)", path, row, ny);
        return -1;
    }
    if (row < 0 && (nx < 2 || ny < 2)) row = 0; /* a chain: its one row */
    long nf = nt / 2 + 1;
    size_t nsite = (size_t)nx * (size_t)ny;
    int nb = (nx < ny ? nx : ny) / 2 + 1;
    double *sub = NULL, *power = malloc((size_t)nf * nsite * sizeof *power);
    double *ka = malloc((size_t)(nx + ny) * sizeof *ka), *f = malloc((size_t)nf * sizeof *f);
    double *radial = row < 0 ? malloc((size_t)nf * (size_t)nb * sizeof *radial) : NULL;
    double *kc = malloc((size_t)(nb > nx ? nb : nx) * sizeof *kc);
    double *cx = malloc(2 * CURVE_N * sizeof *cx), *cy = malloc(2 * CURVE_N * sizeof *cy);
    int rc = -1;
    if (!power || !ka || !f || (row < 0 && !radial) || !kc || !cx || !cy) {
        ns_errmsg(err, errlen, "out of memory");
        goto done;
    }
    ns_spacetime_opts so = {.dt_ms = dt_ms, .dx_um = h_um, .window = NS_WINDOW_HANN, .detrend = NS_DETREND_MEAN};
    const double *z;
    long zx;
    double klo, khi;
    char tt[256];
    if (row >= 0) {
        sub = malloc((size_t)nt * (size_t)nx * sizeof *sub);
        if (!sub) { ns_errmsg(err, errlen, "out of memory"); goto done; }
        for (long it = 0; it < nt; it++)
            memcpy(sub + it * nx, movie + (size_t)it * nsite + (size_t)row * nx, (size_t)nx * sizeof *sub);
        /* the row as a movie of nx x 1 sites: power[if * nx + ikx] */
        if (ns_psd_spacetime(fc, sub, (int)nt, nx, 1, &so, power, ka, ka + nx, f, err, errlen)) goto done;
        double dk = nx > 1 ? ka[1] - ka[0] : 1;
        klo = ka[0] - dk / 2, khi = ka[nx - 1] + dk / 2;
        z = power, zx = nx;
        if (!title) {
            if (ny > 1) snprintf(tt, sizeof tt, "Space-time spectrum of row %d", row);
            else snprintf(tt, sizeof tt, "Space-time spectrum");
        }
    } else {
        /* the movie's rows are ns_psd_spacetime's slow index: (ny, nx) in its terms */
        if (ns_psd_spacetime(fc, movie, (int)nt, ny, nx, &so, power, ka, ka + ny, f, err, errlen) ||
            ns_psd_radial(power, nf, ny, nx, ka, ka + ny, nb, 0, radial, kc, err, errlen))
            goto done;
        double dk = nb > 1 ? kc[1] - kc[0] : 1;
        klo = kc[0] - dk / 2, khi = kc[nb - 1] + dk / 2;
        z = radial, zx = nb;
        if (!title) snprintf(tt, sizeof tt, "Space-time spectrum (mean over rings of |k|)");
    }
    if (!title) title = tt;
    double df = nf > 1 ? f[1] - f[0] : 1, zmax = 0;
    for (long i = 0; i < nf * zx; i++) zmax = fmax(zmax, z[i]);
    if (!(zmax > 0)) {
        ns_errmsg(err, errlen, "cannot plot '%s': the movie has no power (constant at every site)", path);
        goto done;
    }
    /* the dispersion curves, k in cycles/mm to rad/µm: k 2 pi / 1000; omega rad/ms to Hz: 1000/(2 pi) */
    ns_plot_series curves[2];
    int ncurve = 0;
    if (c > 0 && m >= 0) {
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1 && row >= 0 && ny == 1) break;
            double *x = cx + pass * CURVE_N, *y = cy + pass * CURVE_N;
            for (int i = 0; i < CURVE_N; i++) {
                double kv = klo + (khi - klo) * i / (CURVE_N - 1), kr = kv * TWO_PI / 1000;
                double om;
                if (row >= 0) om = ns_lattice_kg_omega(m, c, h_um, kr, pass ? M_PI / h_um : 0);
                else om = pass ? ns_lattice_kg_omega(m, c, h_um, kr / sqrt(2.0), kr / sqrt(2.0))
                               : ns_lattice_kg_omega(m, c, h_um, kr, 0);
                x[i] = kv;
                y[i] = om * 1000 / TWO_PI;
            }
            curves[ncurve++] = (ns_plot_series){
                row >= 0 ? (pass ? "ω(kx, ky = π/h)" : (ny > 1 ? "ω(kx, ky = 0)" : "ω(k), lattice KG"))
                         : (pass ? "ω along the diagonal" : "ω along an axis"),
                x, y, CURVE_N, 0};
        }
    }
    char note[160];
    snprintf(note, sizeof note, "grey: no power; curves: m = %g rad/ms, c = %g µm/ms, h = %g µm", m, c, h_um);
    ns_plot_opts po = {.title = title, .x_label = row >= 0 ? "kx (cycles/mm)" : "|k| (cycles/mm)",
                       .y_label = "frequency (Hz)", .z_label = "power (a.u.)", .z_log = 1,
                       .z_lo = zmax * 1e-8, .z_hi = zmax, .note = ncurve ? note : "grey: no power in the cell",
                       .x_lo = klo, .x_hi = khi, .y_lo = 0, .y_hi = f[nf - 1] + df / 2,
                       .overlay = curves, .n_overlay = ncurve};
    rc = ns_plot_heatmap(path, z, zx, nf, &po, keys, values, n_text, err, errlen);
done:
    free(sub), free(power), free(ka), free(f), free(radial), free(kc), free(cx), free(cy);
    return rc;
}

int ns_lattice_site_psd(ns_fft_cache *fc, const char *path, const double *movie, long nt, int nx,
                        int ny, double dt_ms, double h_um, long site, long segment, double m,
                        double c, double band_lo_hz, double band_hi_hz, const char *title,
                        double *f_hz, double *psd, double *theory, const char *const *keys,
                        const char *const *values, int n_text, char *err, size_t errlen)
{
    const char *name = path ? path : "site spectrum";
    if (check_shape(name, nt, nx, ny, h_um, err, errlen) || !movie) return -1;
    long ns = (long)nx * ny;
    if (site >= ns) {
        ns_errmsg(err, errlen, "%s: site %ld is not in [0, %ld)", name, site, ns);
        return -1;
    }
    if (segment < 4 || segment > nt) {
        ns_errmsg(err, errlen, "%s: segment %ld samples, must be in [4, %ld] (the frames)", name, segment, nt);
        return -1;
    }
    if (!(c > 0) || !(m >= 0) || !(band_hi_hz > band_lo_hz) || !(band_lo_hz >= 0)) {
        ns_errmsg(err, errlen, "%s: needs c > 0 (got %g), m >= 0 (got %g) and a band lo < hi (got [%g, %g] Hz)",
                     name, c, m, band_lo_hz, band_hi_hz);
        return -1;
    }
    long nf = segment / 2 + 1;
    double *fr = malloc((size_t)nf * sizeof *fr), *p = malloc((size_t)nf * sizeof *p);
    double *th = malloc((size_t)nf * sizeof *th), *trace = NULL;
    int rc = -1;
    if (!fr || !p || !th) { ns_errmsg(err, errlen, "out of memory"); goto done; }
    ns_welch_opts wo = {.segment = segment, .overlap = 0.5, .window = NS_WINDOW_HANN,
                        .detrend = NS_DETREND_MEAN, .fs_hz = 1000.0 / dt_ms};
    if (site < 0) {
        if (ns_psd_sites(fc, movie, nt, ns, &wo, 0, p, fr, err, errlen)) goto done;
    } else {
        trace = malloc((size_t)nt * sizeof *trace);
        if (!trace) { ns_errmsg(err, errlen, "out of memory"); goto done; }
        for (long it = 0; it < nt; it++) trace[it] = movie[(size_t)it * (size_t)ns + (size_t)site];
        if (ns_psd_welch(fc, trace, nt, &wo, p, fr, err, errlen)) goto done;
    }
    /* g(omega)/omega^2 on the spectrum's bins: modes in [f - df/2, f + df/2) per Hz */
    double df = fr[1] - fr[0], w2 = TWO_PI / 1000; /* Hz to rad/ms */
    double lo = -df / 2 * w2, hi = (fr[nf - 1] + df / 2) * w2;
    ns_lattice_kg_dos(m, c, h_um, nx, ny, lo, hi, (int)nf, th);
    double sm = 0, st = 0;
    for (long k = 0; k < nf; k++) {
        double om = fr[k] * w2;
        th[k] = om > 0 ? th[k] / df / (om * om) : 0;
        if (fr[k] >= band_lo_hz && fr[k] <= band_hi_hz) { sm += p[k]; st += th[k]; }
    }
    if (!(st > 0) || !(sm > 0)) {
        ns_errmsg(err, errlen, "%s: the band [%g, %g] Hz holds no %s", name, band_lo_hz, band_hi_hz,
                     st > 0 ? "measured power" : "lattice mode (it must lie between the mass gap and omega_max)");
        goto done;
    }
    for (long k = 0; k < nf; k++) th[k] *= sm / st;
    if (f_hz) memcpy(f_hz, fr, (size_t)nf * sizeof *fr);
    if (psd) memcpy(psd, p, (size_t)nf * sizeof *p);
    if (theory) memcpy(theory, th, (size_t)nf * sizeof *th);
    rc = 0;
    if (path) {
        /* the prediction is a histogram of discrete modes: it is drawn through its non-empty
         * bins (a small lattice leaves bins between its modes empty; the numbers keep the zeros) */
        long nn = 0;
        for (long k = 1; k < nf; k++)
            if (th[k] > 0) fr[nn] = fr[k], th[nn++] = th[k];
        char tt[200], note[200];
        if (!title) {
            if (site < 0) snprintf(tt, sizeof tt, "Site power spectrum (mean over %ld sites)", ns);
            else snprintf(tt, sizeof tt, "Power spectrum of site %ld (column %ld, row %ld)", site, site % nx, site / nx);
            title = tt;
        }
        snprintf(note, sizeof note, "mass gap m/2π = %.4g Hz; prediction scaled to the measured power over the band",
                 m * 1000 / TWO_PI);
        double *fm = malloc((size_t)nf * sizeof *fm);
        if (!fm) { ns_errmsg(err, errlen, "out of memory"); rc = -1; goto done; }
        for (long k = 0; k < nf; k++) fm[k] = k * df; /* the Welch bins */
        ns_plot_series s[2] = {{"measured (Welch)", fm + 1, p + 1, nf - 1, 0},
                               {"g(ω)/ω², exact lattice DOS (non-empty bins)", fr, th, nn, 0}};
        ns_plot_band band = {"fit band", band_lo_hz, band_hi_hz};
        ns_plot_opts o = {.title = title, .x_label = "frequency (Hz)", .y_label = "PSD (field²/Hz)",
                          .x_log = 1, .y_log = 1, .bands = &band, .n_bands = 1, .note = note};
        rc = ns_plot_lines(path, s, 2, &o, keys, values, n_text, err, errlen);
        free(fm);
    }
done:
    free(fr), free(p), free(th), free(trace);
    return rc;
}
