/* analysis/phase.c — order parameters and the synchrony contrast of groups of phase oscillators
 * (see analysis/phase.h for the definitions); the figures are in analysis/phase_plot.c. */
#include "analysis/phase.h"

#include <math.h>
#include <stdlib.h>

#include "base/errmsg.h"

void ns_phase_order(const double *theta, long n, double *R, double *psi)
{
    double c = 0, s = 0;
    for (long i = 0; i < n; i++) c += cos(theta[i]), s += sin(theta[i]);
    if (n > 0) c /= n, s /= n;
    double r = hypot(c, s);
    if (R) *R = r;
    if (psi) *psi = r > 0 ? atan2(s, c) : 0;
}

int ns_phase_groups(const double *theta, long n_units, long nt, const int *group, int n_groups, double *R,
                    double *psi, double *R_all, double *within, double *between, double *contrast, char *err,
                    size_t errlen)
{
    if (n_units < 1 || nt < 1 || !theta) return ns_errmsg(err, errlen, "order parameter: no phases");
    if (n_groups < 1 || !group) return ns_errmsg(err, errlen, "order parameter: no groups");
    long *count = calloc((size_t)n_groups + 1, sizeof *count);
    double *zc = malloc(sizeof *zc * (n_groups + 1)), *zs = malloc(sizeof *zs * (n_groups + 1));
    if (!count || !zc || !zs) {
        free(count), free(zc), free(zs);
        return ns_errmsg(err, errlen, "order parameter: out of memory");
    }
    for (long u = 0; u < n_units; u++) {
        if (group[u] < 0 || group[u] > n_groups) {
            int g = group[u];
            free(count), free(zc), free(zs);
            return ns_errmsg(err, errlen, "order parameter: unit %ld is in group %d; groups are 0 (none) .. %d", u, g,
                             n_groups);
        }
        count[group[u]]++;
    }
    for (int g = 1; g <= n_groups; g++)
        if (!count[g]) {
            free(count), free(zc), free(zs);
            return ns_errmsg(err, errlen, "order parameter: group %d holds no unit", g);
        }
    long n_all = n_units - count[0];
    for (long j = 0; j < nt; j++) {
        for (int g = 0; g <= n_groups; g++) zc[g] = zs[g] = 0;
        for (long u = 0; u < n_units; u++) {
            double th = theta[u * nt + j];
            zc[group[u]] += cos(th), zs[group[u]] += sin(th);
        }
        double ac = 0, as = 0, w = 0, b = 0;
        for (int g = 1; g <= n_groups; g++) {
            ac += zc[g], as += zs[g];
            zc[g] /= count[g], zs[g] /= count[g];
            double r = hypot(zc[g], zs[g]);
            if (R) R[(size_t)(g - 1) * nt + j] = r;
            if (psi) psi[(size_t)(g - 1) * nt + j] = r > 0 ? atan2(zs[g], zc[g]) : 0;
            w += r;
        }
        w /= n_groups;
        long pairs = 0;
        for (int a = 1; a <= n_groups; a++)
            for (int c = a + 1; c <= n_groups; c++) b += 0.5 * hypot(zc[a] + zc[c], zs[a] + zs[c]), pairs++;
        b = pairs ? b / pairs : NAN;
        if (R_all) R_all[j] = hypot(ac, as) / n_all;
        if (within) within[j] = w;
        if (between) between[j] = b;
        if (contrast) contrast[j] = pairs ? w - b : NAN;
    }
    free(count), free(zc), free(zs);
    return 0;
}

void ns_phase_subtract_mean(double *theta, long n_units, long nt, const int *group)
{
    for (long j = 0; j < nt; j++) {
        double c = 0, s = 0;
        for (long u = 0; u < n_units; u++)
            if (!group || group[u] > 0) c += cos(theta[u * nt + j]), s += sin(theta[u * nt + j]);
        double psi = c * c + s * s > 0 ? atan2(s, c) : 0;
        for (long u = 0; u < n_units; u++) {
            double v = fmod(theta[u * nt + j] - psi, 2 * M_PI);
            theta[u * nt + j] = v < 0 ? v + 2 * M_PI : v;
        }
    }
}

ns_rgb ns_phase_colour(double theta, double v)
{
    if (!(v > 0)) v = 0; /* NaN: black */
    if (v > 1) v = 1;
    if (!isfinite(theta)) return (ns_rgb){0.5 * v, 0.5 * v, 0.5 * v};
    double h = fmod(theta / (2 * M_PI), 1.0);
    if (h < 0) h += 1;
    double s6 = h * 6;
    int sector = (int)s6;
    if (sector > 5) sector = 5;
    double f = s6 - sector, q = v * (1 - f), t = v * f;
    switch (sector) {
    case 0: return (ns_rgb){v, t, 0};
    case 1: return (ns_rgb){q, v, 0};
    case 2: return (ns_rgb){0, v, t};
    case 3: return (ns_rgb){0, q, v};
    case 4: return (ns_rgb){t, 0, v};
    default: return (ns_rgb){v, 0, q};
    }
}
