/* analysis/phase.h — phase analysis of oscillator networks: the Kuramoto order parameter of
 * groups of units over time, the within- minus between-group synchrony contrast, and the phase
 * figures (a phase raster sorted by group and a phase map of an image, hue = phase). */
#ifndef NS_PHASE_ANALYSIS_H
#define NS_PHASE_ANALYSIS_H

#include <stddef.h>

#include "analysis/figure.h"

/* The Kuramoto order parameter of n phases (radians): R e^{i psi} = (1/n) sum_k e^{i theta_k};
 * R in [0, 1] (1: all equal mod 2 pi, 0: balanced), psi in (-pi, pi] (0 when R = 0). */
void ns_phase_order(const double *theta, long n, double *R, double *psi);

/* Per-group synchrony of a state record. theta[u * nt + j] is unit u's phase (radians) at sample
 * j (unit-major, as io/analyze.h loads a state record); group[u] in 0..n_groups is its group
 * (0: in no group, left out). Every group 1..n_groups must hold a unit. For each sample j, with
 * z_g = R_g e^{i psi_g} the mean of e^{i theta} over group g:
 *   R[(g - 1) * nt + j] = R_g, psi[...] = psi_g (may be NULL);
 *   R_all[j]   = the order parameter of all grouped units together (may be NULL);
 *   within[j]  = (1/G) sum_g R_g;
 *   between[j] = the mean over pairs a < b of |z_a + z_b| / 2, the order parameter of the two
 *                groups pooled with equal weight: 1 when both are synchronous at one phase, 0
 *                when they are synchronous in anti-phase (or both incoherent);
 *   contrast[j] = within - between, in [0, 1] (between <= within always): 0 when the groups are
 *                incoherent or share one phase; 1 only for two synchronous groups in anti-phase;
 *                for G synchronous groups at evenly spread phases 1 - mean_pairs |cos(dpsi/2)|
 *                (1/2 for G = 3, 0.53 for G = 4).
 * With one group, between and contrast are NaN. within, between, contrast may be NULL.
 * Returns 0, or -1 with a message (bad sizes, an empty group, a label out of range). */
int ns_phase_groups(const double *theta, long n_units, long nt, const int *group, int n_groups, double *R,
                    double *psi, double *R_all, double *within, double *between, double *contrast, char *err,
                    size_t errlen);

/* The rotating frame: from each sample j of theta[u * nt + j] (unit-major) subtract psi(j), the
 * mean phase of the units with group[u] > 0 (group NULL: all units), in place, and wrap the result
 * into [0, 2 pi). The common advance (Omega t in the lab frame) goes; phase differences stay. A
 * sample whose units' order parameter is 0 has no mean phase and is only wrapped. */
void ns_phase_subtract_mean(double *theta, long n_units, long nt, const int *group);

/* The colour of phase theta (radians) at brightness v (clamped to [0, 1]): HSV with hue
 * theta / 2 pi (mod 1), full saturation, value v. Phase 0 is red, 2 pi / 3 green, 4 pi / 3 blue;
 * v = 0 is black. */
ns_rgb ns_phase_colour(double theta, double v);

/* A phase raster: units on y sorted by group (group 1 at the top, then 2, ..., units in no group
 * (0) last), in unit order within a group, time on x in ms (cell j spans [t0 + j dt, t0 + (j + 1)
 * dt)), colour = ns_phase_colour(theta, activity) (activity NULL: brightness 1), with lines and
 * names between groups and a cyclic colour bar 0..2 pi at the right. theta and activity are
 * unit-major as in ns_phase_groups; group may be NULL (one group). Written through
 * ns_figure_write_png with n_text tEXt pairs. Returns 0, or -1 with a message. */
int ns_phase_plot_raster(const char *path, const double *theta, const double *activity, long n_units, long nt,
                         double t0_ms, double dt_ms, const int *group, int n_groups, const char *title,
                         const char *const *keys, const char *const *values, int n_text, char *err, size_t errlen);

/* A phase map of a width x height image: pixel (x, y) (row-major, y = 0 the top row, drawn at the
 * top) in ns_phase_colour(theta, activity) (activity NULL: 1), square pixels, axes in pixels, and
 * a colour wheel legend (angle = phase, distance from the centre = activity). Returns 0, or -1. */
int ns_phase_plot_map(const char *path, const double *theta, const double *activity, int width, int height,
                      const char *title, const char *const *keys, const char *const *values, int n_text, char *err,
                      size_t errlen);

#endif
