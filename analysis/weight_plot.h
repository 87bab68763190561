/* analysis/weight_plot.h — the weight histogram of a plastic projection (the figure of `nsim plot
 * weights`): how many synapses have each weight, with the bins and counts in its text chunks. */
#ifndef NS_WEIGHT_PLOT_H
#define NS_WEIGHT_PLOT_H

#include <stddef.h>

/* A histogram of the n weights w (the target model's weight unit, named in x_label, e.g.
 * "weight (pA)"; NULL: "weight") in n_bins equal bins over their range (from 0 when the range
 * starts within a tenth of its span of it), titled title (NULL: "Weights"), written as PNG to path
 * with the n_text tEXt pairs keys/values and two more: "Bins" = "LO HI N" (the range and the bin
 * count, %.17g: weight v is in bin floor((v - LO) / (HI - LO) N), the last bin holding HI) and
 * "Counts" = the N counts, space separated. 0, or -1 with a one-line message in err. */
int ns_plot_weights(const char *path, const double *w, long n, int n_bins, const char *title, const char *x_label,
                    const char *const *keys, const char *const *values, int n_text, char *err, size_t errlen);

#endif
