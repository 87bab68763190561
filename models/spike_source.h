/* models/spike_source.h — data of a `spike_source` population: given spike steps per unit.
 * Stored compressed by unit (offsets into one sorted array), walked by a cursor per unit. */
#ifndef NS_SPIKE_SOURCE_H
#define NS_SPIKE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ns_spike_source_data ns_spike_source_data;

/* Build from n units; unit i fires at the grid steps steps[offset[i] .. offset[i+1]) (a spike
 * emitted in step s is stamped (s+1) dt), given at the times times_ms[...] (ms, each rounding to
 * its step; NULL: the steps' stamps), which a precise target takes (ns_spike_source_set_precise).
 * Steps and times are sorted per unit here; arrays are copied. Returns NULL when memory runs out. */
ns_spike_source_data *ns_spike_source_data_create(size_t n, const size_t *offset, const int64_t *steps,
                                                  const double *times_ms);
/* Emit every spike at its exact time from here on: in the step s with s dt < t <= (s+1) dt, at
 * offset t - s dt (ms, in (0, dt]; a time within 1e-9 steps of a grid point is taken as that point,
 * offset dt), for precise targets (models with ns_model.precise); grid targets of the source then
 * take a spike at the end of the step its time falls in, rather than at the nearest step end.
 * dt: the step (ms). 0, or -1 when memory runs out. */
int ns_spike_source_set_precise(ns_spike_source_data *d, double dt);
/* Release the data (a void * so that it fits the model's data_free hook); NULL is harmless. */
void ns_spike_source_data_free(void *data);

#endif
