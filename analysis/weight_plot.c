/* analysis/weight_plot.c — the weight histogram: bins from ns_plot_hist_bins, drawn by ns_plot_hist,
 * the bins and counts also written into the PNG's text so that a reader can check them. */
#include "analysis/weight_plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/plot.h"
#include "base/errmsg.h"

int ns_plot_weights(const char *path, const double *w, long n, int n_bins, const char *title, const char *x_label,
                    const char *const *keys, const char *const *values, int n_text, char *err, size_t errlen)
{
    if (n_text < 0 || n_text > 14) {
        ns_errmsg(err, errlen, "cannot plot '%s': too many text chunks", path);
        return -1;
    }
    ns_plot_opts po = {.title = title ? title : "Weights", .x_label = x_label ? x_label : "weight",
                       .y_label = "synapses"};
    double *edges = NULL, *counts = NULL;
    long usable = 0, outside = 0;
    char msg[256];
    long nb = ns_plot_hist_bins(w, n, n_bins, &po, &edges, &counts, &usable, &outside, msg, sizeof msg);
    if (nb < 0) {
        ns_errmsg(err, errlen, "cannot plot '%s': %s", path, msg);
        return -1;
    }
    double sum = 0;
    for (long i = 0; i < n; i++)
        if (isfinite(w[i])) sum += w[i];
    char note[160], bins[128];
    snprintf(note, sizeof note, "%ld synapses, mean weight %.4g", usable, usable ? sum / (double)usable : NAN);
    po.note = note;
    snprintf(bins, sizeof bins, "%.17g %.17g %ld", edges[0], edges[nb], nb);
    char *cts = malloc((size_t)nb * 24 + 1);
    int rc = -1;
    if (!cts) {
        ns_errmsg(err, errlen, "out of memory");
        goto done;
    }
    size_t at = 0;
    cts[0] = '\0';
    for (long k = 0; k < nb; k++) at += (size_t)snprintf(cts + at, 24, k ? " %.0f" : "%.0f", counts[k]);
    const char *k2[16], *v2[16];
    for (int i = 0; i < n_text; i++) {
        k2[i] = keys[i];
        v2[i] = values[i];
    }
    k2[n_text] = "Bins";
    v2[n_text] = bins;
    k2[n_text + 1] = "Counts";
    v2[n_text + 1] = cts;
    rc = ns_plot_hist(path, edges, nb + 1, counts, nb, &po, k2, v2, n_text + 2, err, errlen);
done:
    free(cts);
    free(edges);
    free(counts);
    return rc;
}
