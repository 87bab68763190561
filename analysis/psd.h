/* analysis/psd.h — power spectra of plain arrays: Welch, multitaper (DPSS), lattice 2-D spatial,
 * lattice space-time (k, f) with a radial reduction, and per-site spectra of a lattice movie.
 * One normalisation everywhere: a spectrum is a density whose integral is the mean square of the
 * (detrended, windowed) data, so Parseval can be checked and spectra of any method compare.
 *
 * Units: time series are sampled at fs_hz (Hz; a record at dt ms has fs = 1000 / dt). Spectra
 * are one-sided in frequency, in units^2 per Hz (doubled except DC and Nyquist). Lattices have
 * spacing dx in µm; wavenumbers are in cycles per mm (k = 1000 m / (n dx) for index m), and
 * spatial densities are per (cycles/mm)^2. Lattice arrays are C order: a snapshot is
 * field[ix * ny + iy], a movie is movie[(it * nx + ix) * ny + iy].
 * Errors: -1 and a one-line message in err (which may be NULL); nothing is printed.
 * All transforms run through an ns_fft_cache (see fft_cache.h for threads). */
#ifndef NS_PSD_H
#define NS_PSD_H

#include <stddef.h>

#include "analysis/fft_cache.h"

/* Windows are periodic ("DFT-even"): w[i] = a - (1 - a) cos(2 pi i / L). */
typedef enum {
    NS_WINDOW_HANN = 0,  /* a = 0.5 (the default) */
    NS_WINDOW_HAMMING,   /* a = 0.54 */
    NS_WINDOW_RECT       /* w = 1 */
} ns_window;

typedef enum {
    NS_DETREND_MEAN = 0, /* subtract the mean (the default) */
    NS_DETREND_NONE,
    NS_DETREND_LINEAR    /* subtract the least-squares line (a plane for a 2-D snapshot) */
} ns_detrend;

typedef struct {
    long segment;        /* samples per segment, 2 <= segment <= n; spectrum has segment/2+1 bins */
    double overlap;      /* fraction of a segment shared with the next, in [0, 1) (0.5 is usual) */
    ns_window window;
    ns_detrend detrend;  /* applied to each segment */
    double fs_hz;        /* sampling rate, Hz */
} ns_welch_opts;

typedef struct {
    double nw;           /* time-half-bandwidth product NW (e.g. 4): half bandwidth nw*fs/n Hz */
    int k;               /* number of tapers, 0 for the usual floor(2 NW) - 1 */
    ns_detrend detrend;  /* applied to the whole signal */
    double fs_hz;        /* sampling rate, Hz */
    int adaptive;        /* 1: Thomson's adaptive weights; 0: plain average of eigenspectra */
} ns_mtm_opts;

typedef struct {
    double dt_ms;        /* frame interval, ms */
    double dx_um;        /* lattice spacing, µm */
    ns_window window;    /* along time (space is taken as periodic, no window) */
    ns_detrend detrend;  /* along time, at each site */
} ns_spacetime_opts;

/* Frequency bins of a one-sided spectrum of n samples: n/2 + 1. */
long ns_psd_nfreq(long n);

/* Number of Welch segments used for n samples with these options (0 if they are invalid); the
 * samples after the last whole segment are not used. */
long ns_psd_welch_segments(long n, const ns_welch_opts *o);

/* Welch PSD of x[0..n-1]: psd[segment/2+1] in units^2/Hz, normalised by fs * sum(w^2) and
 * averaged over segments; freq_hz[segment/2+1] (may be NULL) gets k fs / segment. With a
 * rectangular window and no overlap, sum(psd) * fs/segment = mean square of detrended segments. */
int ns_psd_welch(ns_fft_cache *c, const double *x, long n, const ns_welch_opts *o, double *psd,
                 double *freq_hz, char *err, size_t errlen);

/* Multitaper PSD of x[0..n-1] with DPSS tapers: psd[n/2+1] in units^2/Hz, same normalisation
 * as Welch (each taper has unit energy); freq_hz[n/2+1] may be NULL. */
int ns_psd_multitaper(ns_fft_cache *c, const double *x, long n, const ns_mtm_opts *o,
                      double *psd, double *freq_hz, char *err, size_t errlen);

/* The first k discrete prolate spheroidal sequences of length n and half bandwidth nw/n cycles
 * per sample: tapers[j * n + i], unit energy, symmetric ones with positive sum, antisymmetric
 * ones positive at the start. lambda[k] (may be NULL) gets their energy concentrations in band. */
int ns_dpss(ns_fft_cache *c, long n, double nw, int k, double *tapers, double *lambda, char *err,
            size_t errlen);

/* Spatial power spectrum of a snapshot field[nx*ny] (spacing dx_um): power[nx*ny] per
 * (cycles/mm)^2, fftshift-ed (index ikx*ny + iky, zero wavenumber at (nx/2, ny/2)); axes
 * kx[nx], ky[ny] in cycles/mm (may be NULL). Two-sided: sum(power) dkx dky = mean square. */
int ns_psd_spatial2d(ns_fft_cache *c, const double *field, int nx, int ny, double dx_um,
                     ns_detrend detrend, double *power, double *kx, double *ky, char *err,
                     size_t errlen);

/* Space-time spectrum of a movie[nt*nx*ny]: power[(if*nx + ikx)*ny + iky] for if = 0..nt/2,
 * per (cycles/mm)^2 per Hz, k fftshift-ed as in ns_psd_spatial2d, one-sided in f. A wave
 * cos(2 pi (k.x - f t)) travelling along +k sits at (k, f), not (-k, f). Axes kx[nx], ky[ny]
 * (cycles/mm) and f_hz[nt/2+1] may be NULL. sum(power) dkx dky df = mean square (rect window). */
int ns_psd_spacetime(ns_fft_cache *c, const double *movie, int nt, int nx, int ny,
                     const ns_spacetime_opts *o, double *power, double *kx, double *ky,
                     double *f_hz, char *err, size_t errlen);

/* Radial average over |k| of nf planes power[(if*nx + ikx)*ny + iky] on axes kx, ky (cycles/mm):
 * out[if*nbins + b] = mean power over grid points with |k| in [(b-1/2) dk_bin, (b+1/2) dk_bin)
 * (0 where none); k_center[b] = b dk_bin (may be NULL). dk_bin <= 0 means min(dkx, dky). */
int ns_psd_radial(const double *power, long nf, int nx, int ny, const double *kx,
                  const double *ky, int nbins, double dk_bin, double *out, double *k_center,
                  char *err, size_t errlen);

/* Welch PSD of every site of a movie[nt * n_sites] (time slowest, site fastest): with all = 0,
 * psd[segment/2+1] is the mean over sites; with all = 1, psd[site*(segment/2+1) + k] per site.
 * freq_hz may be NULL. Units as ns_psd_welch. */
int ns_psd_sites(ns_fft_cache *c, const double *movie, long nt, long n_sites,
                 const ns_welch_opts *o, int all, double *psd, double *freq_hz, char *err,
                 size_t errlen);

#endif
