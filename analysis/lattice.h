/* analysis/lattice.h — figures of a lattice field's movie: snapshots with µm axes, frame
 * sequences and contact sheets, the space-time spectrum with the Klein-Gordon dispersion drawn
 * over it, and a site's power spectrum beside the density-of-states prediction (MODELS.md §8).
 *
 * A movie is movie[it * nx * ny + k], frame it, site k at column k % nx and row k / nx (the
 * kg_field and grid layout: x fastest). Units: h in µm, times in ms, m and omega in rad/ms, c in
 * µm/ms, k in rad/µm for the formulas; figures show k in cycles/mm and frequency in Hz.
 * Errors: -1 and a one-line message in err; nothing is printed. FFTs run through an ns_fft_cache
 * (plans made once per shape; NULL: a cache made and freed inside the call). */
#ifndef NS_LATTICE_H
#define NS_LATTICE_H

#include <stddef.h>

#include "analysis/fft_cache.h"

/* Angular frequency (rad/ms) of the 5-point lattice Klein-Gordon mode (kx, ky) (rad/µm):
 * omega^2 = m^2 + (4 c^2/h^2)(sin^2(kx h/2) + sin^2(ky h/2)). */
double ns_lattice_kg_omega(double m, double c, double h, double kx, double ky);

/* The exact density of states of a periodic nx x ny lattice (5-point): counts[b] = number of
 * the nx*ny modes (kx = 2 pi i/(nx h), ky = 2 pi j/(ny h)) whose omega lies in
 * [lo + b w, lo + (b+1) w), w = (hi - lo)/nb (rad/ms). Returns the number of modes counted. */
long ns_lattice_kg_dos(double m, double c, double h, int nx, int ny, double lo, double hi, int nb,
                       double *counts);

/* A snapshot: frame[nx*ny] as a heatmap with µm axes (cell edges at column * h and row * h,
 * one µm as long on both axes), a colour bar labelled z_label, titled "var at t = T ms"
 * (title: NULL for that). Colour range [z_lo, z_hi]; equal: the frame's min..max. */
int ns_lattice_plot_snapshot(const char *path, const double *frame, int nx, int ny, double h_um,
                             double t_ms, const char *var, const char *z_label, const char *title,
                             double z_lo, double z_hi, const char *const *keys,
                             const char *const *values, int n_text, char *err, size_t errlen);

/* A contact sheet of frames[0..n-1] of a movie of nt frames (times t_ms[nt]) in a grid of
 * ceil(sqrt(n)) columns, each panel captioned with its time, one colour range over all of them. */
int ns_lattice_plot_sheet(const char *path, const double *movie, long nt, int nx, int ny,
                          double h_um, const double *t_ms, const long *frames, int n,
                          const char *var, const char *z_label, const char *title,
                          const char *const *keys, const char *const *values, int n_text,
                          char *err, size_t errlen);

/* The space-time spectrum. row >= 0: |phi(kx, f)|^2 of that lattice row (signed kx, fftshifted,
 * one-sided f) with the curve omega(kx, 0) drawn over it and, for ny > 1, omega(kx, pi/h) (a
 * row holds every ky: its power lies between the two). row < 0: the whole lattice's spectrum
 * averaged over rings of |k|, with the curves along an axis and along the diagonal. The curves
 * are drawn when c > 0 (m >= 0). Log colour, eight decades below the peak. Frames are dt_ms
 * apart; a Hann window in time, the mean removed at each site. */
int ns_lattice_plot_spacetime(ns_fft_cache *fc, const char *path, const double *movie, long nt,
                              int nx, int ny, double dt_ms, double h_um, int row, double m,
                              double c, const char *title, const char *const *keys,
                              const char *const *values, int n_text, char *err, size_t errlen);

/* A site's power spectrum (Welch, Hann, segment samples, half overlap; site < 0: the mean over
 * all sites) and the prediction S(omega) ∝ g(omega)/omega^2 with g the exact lattice density of
 * states (ns_lattice_kg_dos on the spectrum's frequency bins), scaled to the measured spectrum's
 * integral over [band_lo_hz, band_hi_hz] (shaded). Log-log. f_hz, psd, theory (nf =
 * segment/2 + 1 values each, may be NULL) get the numbers; path NULL: no figure. */
int ns_lattice_site_psd(ns_fft_cache *fc, const char *path, const double *movie, long nt, int nx,
                        int ny, double dt_ms, double h_um, long site, long segment, double m,
                        double c, double band_lo_hz, double band_hi_hz, const char *title,
                        double *f_hz, double *psd, double *theory, const char *const *keys,
                        const char *const *values, int n_text, char *err, size_t errlen);

#endif
