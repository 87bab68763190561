/* sim/partition.h — who steps which units: a population's units cut into blocks, each block
 * owned by one rank and, on it, one thread. Every loop over "my units" asks the partition;
 * nothing else computes unit ranges from a thread or rank number. */
#ifndef NS_PARTITION_H
#define NS_PARTITION_H

#include <stddef.h>

/* How a population's units are cut (ns_partition_init). */
typedef enum {
    NS_PART_SPLIT, /* a block per thread of every rank, in ascending order */
    NS_PART_WHOLE, /* one block, stepped as one system by one thread of one rank */
    NS_PART_TEAM,  /* a block per thread of one rank, stepped together */
    NS_PART_RANKS  /* a block per rank, each stepped by one thread of its rank (nsim.network's
                      split = "populations": threads share out whole populations) */
} ns_part_kind;

typedef struct {
    ns_part_kind kind;
    size_t n;       /* units of the population */
    int nblocks;    /* ranks x threads for a population split by units; the threads of one rank
                       for a team; the ranks for one split by ranks; 1 for one stepped as one system */
    size_t *lo;     /* nblocks + 1 offsets: block b is units [lo[b], lo[b + 1]) */
    int *thread;    /* the thread (of its rank) that steps (and receives the input of) block b */
    int *rank;      /* the rank that holds block b */
    int *block_of_thread; /* per thread of this rank: its block, or -1 (threads entries) */
    int threads;    /* threads per rank */
    int ranks, my_rank;
    int per_rank;   /* blocks a rank holds, for a population placed from the start */
    int placed;     /* 1 when a block's rank is known from the start (split populations); 0 for a
                       population kept on one rank (whole, team), placed before the first run */
} ns_partition;

/* Cut n units into blocks of the given kind over ranks x threads: evenly and in ascending order
 * (block r x per_rank + k is the k-th of rank r); a whole or team population starts on rank 0,
 * thread 0 (ns_partition_set_owner moves it), a population split by ranks on thread 0 of each
 * (ns_partition_set_thread). my_rank is this process's rank. 0, or -1 when memory runs out. */
int ns_partition_init(ns_partition *p, size_t n, int threads, int ranks, int my_rank, ns_part_kind kind);
/* Hand a population kept on one rank to rank `rank` and, when it is one block, to that rank's
 * thread `thread` (the engine balances them before the first run). */
void ns_partition_set_owner(ns_partition *p, int rank, int thread);
/* Hand every block of a population split by ranks to thread `thread` of its rank (the engine
 * balances them before the first run); other kinds are left as they are. */
void ns_partition_set_thread(ns_partition *p, int thread);
/* Free the arrays; a zeroed partition is harmless. */
void ns_partition_release(ns_partition *p);

/* The units [*lo, *hi) thread t of this rank steps; returns its block, or -1 (and an empty
 * range) when it owns none of this population. */
static inline int ns_partition_range(const ns_partition *p, int t, size_t *lo, size_t *hi)
{
    int b = p->block_of_thread[t];
    *lo = b < 0 ? 0 : p->lo[b];
    *hi = b < 0 ? 0 : p->lo[b + 1];
    return b;
}

/* 1 for a population split by ranks, whose blocks rebalancing may hand to another thread. */
static inline int ns_partition_by_ranks(const ns_partition *p) { return p->kind == NS_PART_RANKS; }

/* The units [*lo, *hi) rank r holds: one contiguous range (empty when it holds none). */
void ns_partition_rank_range(const ns_partition *p, int r, size_t *lo, size_t *hi);

/* 1 when this rank keeps block b's connection tables: it holds the block, or the block's rank
 * is chosen only before the first run (every rank keeps them then). */
int ns_partition_keeps(const ns_partition *p, int b);

/* The block holding unit j (j < n). */
int ns_partition_block(const ns_partition *p, size_t j);

#endif
