/* models/spike_source.c — `spike_source`: units that emit spikes at given times (NEST's
 * spike_generator as a population, so it connects with weights and delays like any other). */
#include "models/spike_source.h"
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ns_spike_source_data {
    size_t n;
    size_t *offset; /* n + 1 */
    int64_t *steps;
    double *times;  /* ms, sorted like steps */
    double *off;    /* precise: each spike's offset in its step (ms), else NULL */
    size_t *cursor; /* next spike of each unit */
};

static int cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

ns_spike_source_data *ns_spike_source_data_create(size_t n, const size_t *offset, const int64_t *steps,
                                                  const double *times_ms)
{
    ns_spike_source_data *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    size_t total = offset[n];
    d->n = n;
    d->offset = malloc((n + 1) * sizeof *d->offset);
    d->steps = malloc((total ? total : 1) * sizeof *d->steps);
    d->times = malloc((total ? total : 1) * sizeof *d->times);
    d->cursor = malloc((n ? n : 1) * sizeof *d->cursor);
    if (!d->offset || !d->steps || !d->times || !d->cursor) {
        ns_spike_source_data_free(d);
        return NULL;
    }
    memcpy(d->offset, offset, (n + 1) * sizeof *offset);
    if (total) memcpy(d->steps, steps, total * sizeof *steps);
    for (size_t j = 0; j < total; j++) d->times[j] = times_ms ? times_ms[j] : NAN;
    for (size_t i = 0; i < n; i++) { /* rounding to steps keeps the order: both sorted alike */
        qsort(d->steps + offset[i], offset[i + 1] - offset[i], sizeof *steps, cmp_i64);
        qsort(d->times + offset[i], offset[i + 1] - offset[i], sizeof *d->times, cmp_f64);
        d->cursor[i] = offset[i];
    }
    return d;
}

int ns_spike_source_set_precise(ns_spike_source_data *d, double dt)
{
    const size_t total = d->offset[d->n];
    if (d->off || !total) return 0;
    if (!(d->off = malloc(total * sizeof *d->off))) return -1;
    for (size_t j = 0; j < total; j++) {
        const double t = d->times[j];
        if (isnan(t)) { /* no time given: the grid stamp */
            d->off[j] = dt;
            continue;
        }
        const double x = t / dt, r = round(x);
        int64_t s;
        double o;
        if (fabs(x - r) <= 1e-9 * fmax(1.0, r)) { /* on the grid: the end of step r - 1 */
            s = (int64_t)r - 1;
            o = dt;
        } else {
            s = (int64_t)ceil(x) - 1;
            o = t - (double)s * dt;
            if (o > dt) o = dt; /* rounding of s dt near the step's edges */
            if (o <= 0.0) o = nextafter(0.0, 1.0);
        }
        d->steps[j] = s;
        d->off[j] = o;
    }
    return 0;
}

void ns_spike_source_data_free(void *data)
{
    ns_spike_source_data *d = data;
    if (!d) return;
    free(d->offset);
    free(d->steps);
    free(d->times);
    free(d->off);
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
                if (d->off ? ns_spikebuf_push_at(a->out, k, (uint32_t)i, d->off[c])
                           : ns_spikebuf_push(a->out, k, (uint32_t)i))
                    return -1;
                c++;
            }
            d->cursor[i] = c;
        }
    }
    return 0;
}

/* Checkpoints: each unit's cursor (the next spike to send), as 64-bit counts. */
static size_t spike_source_state_size(const void *data) { return ((const ns_spike_source_data *)data)->n * sizeof(uint64_t); }

static void spike_source_state_save(void *data, unsigned char *buf)
{
    const ns_spike_source_data *d = data;
    for (size_t i = 0; i < d->n; i++) {
        uint64_t c = d->cursor[i];
        memcpy(buf + i * sizeof c, &c, sizeof c);
    }
}

static int spike_source_state_load(void *data, const unsigned char *buf, size_t len, char *err, size_t errlen)
{
    ns_spike_source_data *d = data;
    if (len != d->n * sizeof(uint64_t)) return snprintf(err, errlen, "spike_source: %zu bytes of state, not %zu", len, d->n * sizeof(uint64_t)), -1;
    for (size_t i = 0; i < d->n; i++) {
        uint64_t c;
        memcpy(&c, buf + i * sizeof c, sizeof c);
        if (c < d->offset[i] || c > d->offset[i + 1])
            return snprintf(err, errlen, "spike_source: unit %zu's position %llu is outside its %zu spikes", i,
                            (unsigned long long)c, d->offset[i + 1] - d->offset[i]), -1;
    }
    for (size_t i = 0; i < d->n; i++) {
        uint64_t c;
        memcpy(&c, buf + i * sizeof c, sizeof c);
        d->cursor[i] = (size_t)c;
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
    .state_size = spike_source_state_size,
    .state_save = spike_source_state_save,
    .state_load = spike_source_state_load,
};
