/* sim/scaffold.c — S2-Net scaffolds: the edges of a pixel grid weighted by grey-value similarity,
 * or a checked list of edges (a parcel graph read by the Lua layer), with each target's degree and
 * weight sum for the normalised couplings. */
#include "sim/scaffold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ns_scaffold_free(ns_scaffold *sc)
{
    free(sc->pre), free(sc->post), free(sc->w), free(sc->delay_ms), free(sc->phase_delay_ms), free(sc->line);
    free(sc->deg), free(sc->wsum);
    memset(sc, 0, sizeof *sc);
}

/* deg and wsum of every target. */
static int scaffold_degrees(ns_scaffold *sc)
{
    sc->deg = calloc(sc->n + 1, sizeof *sc->deg);
    sc->wsum = calloc(sc->n + 1, sizeof *sc->wsum);
    if (!sc->deg || !sc->wsum) return -1;
    for (size_t k = 0; k < sc->n_edges; k++) {
        sc->deg[sc->post[k]] += 1.0;
        sc->wsum[sc->post[k]] += sc->w[k];
    }
    return 0;
}

static int alloc_edges(ns_scaffold *sc, size_t m)
{
    sc->pre = malloc((m + 1) * sizeof *sc->pre);
    sc->post = malloc((m + 1) * sizeof *sc->post);
    sc->w = malloc((m + 1) * sizeof *sc->w);
    sc->delay_ms = malloc((m + 1) * sizeof *sc->delay_ms);
    sc->phase_delay_ms = malloc((m + 1) * sizeof *sc->phase_delay_ms);
    return sc->pre && sc->post && sc->w && sc->delay_ms && sc->phase_delay_ms ? 0 : -1;
}

int ns_scaffold_grid(ns_scaffold *sc, const double *img, int nx, int ny, int neighbours, double sigma,
                     double d_axial, double d_diag, double tau_axial, double tau_diag, char *err, size_t errlen)
{
    memset(sc, 0, sizeof *sc);
    if (nx < 1 || ny < 1 || (double)nx * ny > 4294967295.0) {
        snprintf(err, errlen, "scaffold: width %d and height %d must be at least 1 (at most 2^32 - 1 pixels)", nx, ny);
        return -1;
    }
    if (neighbours != 4 && neighbours != 8) {
        snprintf(err, errlen, "scaffold: neighbours must be 4 or 8, not %d", neighbours);
        return -1;
    }
    if (!(sigma > 0) || !isfinite(sigma)) {
        snprintf(err, errlen, "scaffold: sigma %g must be a finite number above 0 (grey units)", sigma);
        return -1;
    }
    const double dl[4] = {d_axial, d_diag, tau_axial, tau_diag};
    static const char *const dn[4] = {"delay (axial)", "delay (diagonal)", "phase_delay (axial)",
                                      "phase_delay (diagonal)"};
    for (int k = 0; k < 4; k++)
        if (!(dl[k] >= 0) || !isfinite(dl[k])) {
            snprintf(err, errlen, "scaffold: %s %g ms must be a finite number >= 0", dn[k], dl[k]);
            return -1;
        }
    const size_t n = (size_t)nx * (size_t)ny;
    for (size_t k = 0; k < n; k++)
        if (!isfinite(img[k])) {
            snprintf(err, errlen, "scaffold: pixel %zu (column %zu, row %zu) is %g, not a finite grey value", k,
                     k % (size_t)nx, k / (size_t)nx, img[k]);
            return -1;
        }
    static const int off[8][2] = {{0, -1}, {-1, 0}, {1, 0}, {0, 1}, {-1, -1}, {1, -1}, {-1, 1}, {1, 1}};
    sc->n = n;
    sc->nx = nx, sc->ny = ny;
    if (alloc_edges(sc, n * (size_t)neighbours)) goto oom;
    size_t m = 0;
    for (int y = 0; y < ny; y++)
        for (int x = 0; x < nx; x++) {
            const size_t i = (size_t)y * (size_t)nx + (size_t)x;
            for (int q = 0; q < neighbours; q++) {
                const int xj = x + off[q][0], yj = y + off[q][1];
                if (xj < 0 || yj < 0 || xj >= nx || yj >= ny) continue;
                const size_t j = (size_t)yj * (size_t)nx + (size_t)xj;
                const double dI = img[i] - img[j];
                sc->pre[m] = (uint32_t)j;
                sc->post[m] = (uint32_t)i;
                sc->w[m] = exp(-dI * dI / (sigma * sigma));
                sc->delay_ms[m] = q < 4 ? d_axial : d_diag;
                sc->phase_delay_ms[m] = q < 4 ? tau_axial : tau_diag;
                m++;
            }
        }
    sc->n_edges = m;
    if (scaffold_degrees(sc)) goto oom;
    return 0;
oom:
    ns_scaffold_free(sc);
    snprintf(err, errlen, "scaffold: out of memory for %d x %d pixels", nx, ny);
    return -1;
}

/* "FILE:LINE: " or "edge K: " for edge k's messages. */
static void where(const ns_scaffold *sc, size_t k, char *buf, size_t len)
{
    if (sc->line && sc->file[0]) snprintf(buf, len, "%s:%ld: ", sc->file, sc->line[k]);
    else snprintf(buf, len, "scaffold: edge %zu: ", k);
}

static int cmp_pair(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int ns_scaffold_from_edges(ns_scaffold *sc, size_t n, size_t n_edges, uint32_t *pre, uint32_t *post, double *w,
                           double *delay_ms, double *phase_delay_ms, long *line, const char *file,
                           int allow_duplicates, char *err, size_t errlen)
{
    memset(sc, 0, sizeof *sc);
    sc->n = n, sc->n_edges = n_edges;
    sc->pre = pre, sc->post = post, sc->w = w, sc->delay_ms = delay_ms, sc->phase_delay_ms = phase_delay_ms;
    sc->line = line;
    if (file) snprintf(sc->file, sizeof sc->file, "%s", file);
    char at[600];
    for (size_t k = 0; k < n_edges; k++) {
        const int bad_id = pre[k] >= n || post[k] >= n, bad_w = !(w[k] >= 0) || !isfinite(w[k]),
                  bad_d = !(delay_ms[k] >= 0) || !isfinite(delay_ms[k]) || !(phase_delay_ms[k] >= 0) ||
                          !isfinite(phase_delay_ms[k]);
        if (!bad_id && !bad_w && !bad_d) continue;
        where(sc, k, at, sizeof at); /* formatted for the bad edge only */
        if (bad_id) {
            snprintf(err, errlen, "%s%s %u is not a unit index in [0, %zu]", at, pre[k] >= n ? "source" : "target",
                     pre[k] >= n ? pre[k] : post[k], n - 1);
            goto fail;
        }
        if (bad_w) {
            snprintf(err, errlen, "%sweight %g must be a finite number >= 0", at, w[k]);
            goto fail;
        }
        {
            snprintf(err, errlen, "%s%s %g ms must be a finite number >= 0", at,
                     !(delay_ms[k] >= 0) || !isfinite(delay_ms[k]) ? "delay_ms" : "phase_delay_ms",
                     !(delay_ms[k] >= 0) || !isfinite(delay_ms[k]) ? delay_ms[k] : phase_delay_ms[k]);
            goto fail;
        }
    }
    if (!allow_duplicates && n_edges > 1) {
        uint64_t *key = malloc(n_edges * sizeof *key);
        if (!key) goto oom;
        for (size_t k = 0; k < n_edges; k++) key[k] = (uint64_t)pre[k] << 32 | post[k];
        /* a sorted copy of the (source, target) keys finds a repeated pair; key, in file order,
         * then gives its first and second edge */
        uint64_t *kk = malloc(n_edges * sizeof *kk);
        if (!kk) {
            free(key);
            goto oom;
        }
        memcpy(kk, key, n_edges * sizeof *kk);
        qsort(kk, n_edges, sizeof *kk, cmp_pair);
        uint64_t dup = 0;
        int found = 0;
        for (size_t k = 1; k < n_edges && !found; k++)
            if (kk[k] == kk[k - 1]) dup = kk[k], found = 1;
        free(kk);
        if (found) { /* name the second occurrence in file order */
            size_t first = n_edges, second = n_edges;
            for (size_t k = 0; k < n_edges && second == n_edges; k++)
                if (key[k] == dup) {
                    if (first == n_edges) first = k;
                    else second = k;
                }
            free(key);
            where(sc, second, at, sizeof at);
            if (sc->line)
                snprintf(err, errlen, "%sedge %u -> %u is given twice (first on line %ld); duplicates are not allowed",
                         at, pre[second], post[second], sc->line[first]);
            else
                snprintf(err, errlen, "%sedge %u -> %u is given twice (first as edge %zu); duplicates are not allowed",
                         at, pre[second], post[second], first);
            goto fail;
        }
        free(key);
    }
    if (scaffold_degrees(sc)) goto oom;
    return 0;
oom:
    snprintf(err, errlen, "scaffold: out of memory for %zu edges", n_edges);
fail:
    ns_scaffold_free(sc);
    return -1;
}

int ns_scaffold_check_dt(const ns_scaffold *sc, double dt, char *err, size_t errlen)
{
    char at[600];
    for (size_t k = 0; k < sc->n_edges; k++)
        for (int p = 0; p < 2; p++) {
            const double d = p ? sc->phase_delay_ms[k] : sc->delay_ms[k];
            const double steps = d / dt, r = round(steps);
            if (r >= 1 && r <= 65535 && fabs(steps - r) <= 1e-9 * r) continue;
            where(sc, k, at, sizeof at);
            snprintf(err, errlen, "%s%s %g ms is not a whole number of steps of dt %g ms in [1, 65535] (%g steps)", at,
                     p ? "phase_delay_ms" : "delay_ms", d, dt, steps);
            return -1;
        }
    return 0;
}
