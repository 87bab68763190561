/* models/spike_source.c — `spike_source`: units that emit spikes at given times (NEST's
 * spike_generator as a population, so it connects with weights and delays like any other). */
#include "models/spike_source.h"
#include "models/model.h"

#include <stdlib.h>
#include <string.h>

struct ns_spike_source_data {
    size_t n;
    size_t *offset; /* n + 1 */
    int64_t *steps;
    size_t *cursor; /* next spike of each unit */
};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

ns_spike_source_data *ns_spike_source_data_create(size_t n, const size_t *offset, const int64_t *steps)
{
    ns_spike_source_data *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    size_t total = offset[n];
    d->n = n;
    d->offset = malloc((n + 1) * sizeof *d->offset);
    d->steps = malloc((total ? total : 1) * sizeof *d->steps);
    d->cursor = malloc((n ? n : 1) * sizeof *d->cursor);
    if (!d->offset || !d->steps || !d->cursor) {
        ns_spike_source_data_free(d);
        return NULL;
    }
    memcpy(d->offset, offset, (n + 1) * sizeof *offset);
    if (total) memcpy(d->steps, steps, total * sizeof *steps);
    for (size_t i = 0; i < n; i++) {
        qsort(d->steps + offset[i], offset[i + 1] - offset[i], sizeof *steps, cmp_i64);
        d->cursor[i] = offset[i];
    }
    return d;
}

void ns_spike_source_data_free(void *data)
{
    ns_spike_source_data *d = data;
    if (!d) return;
    free(d->offset);
    free(d->steps);
    free(d->cursor);
    free(d);
}

static int spike_source_step(const ns_step_args *a)
{
    ns_spike_source_data *d = a->data;
    for (int k = 0; k < a->nsteps; k++) {
        int64_t s = a->step0 + k;
        for (size_t i = a->lo; i < a->hi; i++) {
            size_t c = d->cursor[i], end = d->offset[i + 1];
            while (c < end && d->steps[c] < s) c++; /* spikes before the run began are skipped */
            while (c < end && d->steps[c] == s) { /* duplicates are one spike each */
                if (ns_spikebuf_push(a->out, k, (uint32_t)i)) return -1;
                c++;
            }
            d->cursor[i] = c;
        }
    }
    return 0;
}

const ns_model ns_model_spike_source = {
    .version = NS_MODEL_VERSION,
    .name = "spike_source",
    .doc = "emits spikes at given times (from a list or a CSV file t_ms,neuron)",
    .kind = NS_KIND_SOURCE,
    .outputs = ns_spike_output,
    .n_outputs = 1,
    .step = spike_source_step,
    .data_free = ns_spike_source_data_free,
};
