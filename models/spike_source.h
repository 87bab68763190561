/* models/spike_source.h — data of a `spike_source` population: given spike steps per unit.
 * Stored compressed by unit (offsets into one sorted array), walked by a cursor per unit. */
#ifndef NS_SPIKE_SOURCE_H
#define NS_SPIKE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct ns_spike_source_data ns_spike_source_data;

/* Build from n units; unit i fires at the grid steps steps[offset[i] .. offset[i+1]) (a spike
 * emitted in step s is stamped (s+1) dt). Steps are sorted per unit here; arrays are copied.
 * Returns NULL when memory runs out. */
ns_spike_source_data *ns_spike_source_data_create(size_t n, const size_t *offset, const int64_t *steps);
/* Release the data (a void * so that it fits the model's data_free hook); NULL is harmless. */
void ns_spike_source_data_free(void *data);

#endif
