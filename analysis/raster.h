/* analysis/raster.h — streaming spike raster plot (PNG), one colour per neuron group.
 * Spikes are binned as they arrive into a grid of plot-area pixels, so memory is bounded by the
 * image and not the spike count; drawing renders the grid as density (alpha grows with count). */
#ifndef NS_RASTER_H
#define NS_RASTER_H

#include <stddef.h>

typedef struct ns_raster ns_raster;
typedef struct ns_figure ns_figure;  /* analysis/figure.h (C11 allows the repeated typedef) */

/* A named range of neuron ids [first, first+count); group i is drawn in palette colour i. */
typedef struct { const char *name; long first; long count; } ns_raster_group;

/* Create a raster for spikes in [t0_ms, t1_ms) of neurons 0..n_neurons-1; groups name and colour
 * id ranges (may be 0 groups; names and title are copied). title may be NULL.
 * Returns NULL on bad arguments or out of memory. */
ns_raster *ns_raster_create(double t0_ms, double t1_ms, long n_neurons,
                            const ns_raster_group *groups, int n_groups, const char *title);

/* As ns_raster_create, but with a grid for a plot area of w_px x h_px (10..8000 each): the size
 * of the panel it will be drawn into with ns_raster_draw, so each grid cell is one pixel. */
ns_raster *ns_raster_create_sized(double t0_ms, double t1_ms, long n_neurons,
                                  const ns_raster_group *groups, int n_groups, const char *title,
                                  int w_px, int h_px);

/* Add one spike (time in ms, neuron id). Spikes outside the range are ignored. O(1), no
 * allocation. */
void ns_raster_add(ns_raster *r, double t_ms, long neuron);

/* Add n spikes from parallel arrays (times in ms, neuron ids). */
void ns_raster_add_many(ns_raster *r, const double *t_ms, const long *neuron, long n);

/* Spikes counted so far (inside the range), in total and for group g (g == n_groups: neurons
 * in no group). */
long ns_raster_spikes(const ns_raster *r);
long ns_raster_group_spikes(const ns_raster *r, int g);

/* Draw and write the PNG at path; text pairs go in tEXt chunks. Returns 0, or -1 with a
 * one-line message in err. May be called again after more spikes are added. */
int ns_raster_write(ns_raster *r, const char *path, const char *const *keys,
                    const char *const *values, int n_text, char *err, size_t errlen);

/* Draw the raster into f's current plot area (a panel of another figure): sets f's axes to time
 * (ms, or s beyond 2 s) and neuron id, draws the spikes (rescaled if the grid is another size),
 * the axes with ns_figure_draw_axes_opt flags, the spike-count note and the group legend above
 * (not with NS_AXES_NO_LEGEND).
 * Does not draw the title. Returns 0, or -1 on out of memory. */
int ns_raster_draw(ns_raster *r, ns_figure *f, unsigned axes_flags);

/* Free the raster; NULL is harmless. */
void ns_raster_free(ns_raster *r);

#endif
