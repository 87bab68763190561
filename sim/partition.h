/* sim/partition.h — who steps which units: a population's units cut into blocks, each block
 * owned by one thread (and, with MPI later, one rank). Every loop over "my units" asks the
 * partition; nothing else computes unit ranges from a thread number. */
#ifndef NS_PARTITION_H
#define NS_PARTITION_H

#include <stddef.h>

typedef struct {
    size_t n;       /* units of the population */
    int nblocks;    /* threads for a population split by units; 1 for one stepped as one system */
    size_t *lo;     /* nblocks + 1 offsets: block b is units [lo[b], lo[b + 1]) */
    int *thread;    /* the thread that steps (and receives the input of) block b */
    int *block_of_thread; /* per thread: its block, or -1 (threads entries) */
    int threads;
    int rank;       /* the rank holding the population (one rank today; see docs/design.md) */
} ns_partition;

/* Split n units evenly over `threads` threads (one block each, ascending), or, with whole, keep
 * them as one block stepped by thread `owner`. 0, or -1 when memory runs out. */
int ns_partition_init(ns_partition *p, size_t n, int threads, int whole, int owner);
/* Hand a population stepped as one system to thread `owner` (the engine balances them over the
 * threads before the first run). */
void ns_partition_set_owner(ns_partition *p, int owner);
/* Free the arrays; a zeroed partition is harmless. */
void ns_partition_release(ns_partition *p);

/* The units [*lo, *hi) thread t steps; returns its block, or -1 (and an empty range) when it
 * owns none of this population. */
static inline int ns_partition_range(const ns_partition *p, int t, size_t *lo, size_t *hi)
{
    int b = p->block_of_thread[t];
    *lo = b < 0 ? 0 : p->lo[b];
    *hi = b < 0 ? 0 : p->lo[b + 1];
    return b;
}

/* The block holding unit j (j < n). */
int ns_partition_block(const ns_partition *p, size_t j);

#endif
