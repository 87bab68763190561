/* models/input.h — how a step hook reads its input: the rows of its ports for step k of the
 * window, its event lists, its graded output row. The ring buffers and their slot arithmetic
 * live here only; a hook never computes a slot. */
#ifndef NS_INPUT_H
#define NS_INPUT_H

#include "models/model.h"

/* The ring slot of step k of the window (engine bookkeeping, for the helpers below). */
static inline size_t ns_input_slot_(const ns_step_args *a, int k)
{
    return (size_t)((a->step0 + k) % (int64_t)a->ring_len);
}

/* Port `port`'s values arriving in step k of the window: one per unit (index by unit, 0 .. n-1),
 * or one per channel for a channel port; NULL when nothing drives a continuous port. The hook
 * consumes the row: it leaves what it read at 0 (it may clear inside its own update loop). */
static inline double *ns_input_row(const ns_step_args *a, int port, int k)
{
    double *ring = a->input[port];
    if (!ring) return NULL;
    return ring + ns_input_slot_(a, k) * a->stride[port];
}

/* Component c of a wide port's row (ns_in_port.width): the row holds the components one after
 * another, n values each. */
static inline double *ns_input_comp(const ns_step_args *a, int port, int k, int c)
{
    double *row = ns_input_row(a, port, k);
    return row ? row + (size_t)c * a->n : NULL;
}

/* With event lists (a->events non-NULL): the events arriving in step k (k = -1: the step before
 * the window, whose events may have come after it; see ns_step_args.lag). The engine clears them. */
static inline const ns_events *ns_input_events(const ns_step_args *a, int k)
{
    const int64_t L = (int64_t)a->ring_len;
    return &a->events[(size_t)(((a->step0 + k) % L + L) % L)];
}

/* Ask for every run's targets and weights of list e before they are applied: each run points
 * into a synapse table far larger than the caches, and one that is fetched only when the loop
 * reaches it stalls on every line. A hint, no change in results. */
static inline void ns_events_prefetch(const ns_events *e)
{
    for (size_t j = 0; j < e->n; j++) {
        const ns_event_run *r = &e->run[j];
        for (const char *p = (const char *)r->tgt, *end = (const char *)(r->tgt + r->n); p < end; p += 64)
            __builtin_prefetch(p);
        if (r->w)
            for (const char *p = (const char *)r->w, *end = (const char *)(r->w + r->n); p < end; p += 64)
                __builtin_prefetch(p);
    }
}

/* Where a model with graded output writes component c of its values of step k (n of them), or
 * NULL when no projection reads them. */
static inline double *ns_output_comp(const ns_step_args *a, int k, int c)
{
    return a->graded ? a->graded + ((size_t)k * (size_t)a->graded_width + (size_t)c) * a->n : NULL;
}

/* Component 0 (the only one of a one-wide output) of step k. */
static inline double *ns_output_row(const ns_step_args *a, int k) { return ns_output_comp(a, k, 0); }

#endif
