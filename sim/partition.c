/* sim/partition.c — who steps which units (see partition.h). A split population gives block
 * b = r T + t (thread t of rank r, T threads per rank) the units [n b / B, n (b + 1) / B), B =
 * ranks x T (one split by ranks: T = 1, its block on one thread): the same cut the connection
 * tables use for their blocks, so a thread delivers into exactly the units it steps, and a rank
 * holds one contiguous range. */
#include "sim/partition.h"

#include <stdlib.h>

int ns_partition_init(ns_partition *p, size_t n, int threads, int ranks, int my_rank, ns_part_kind kind)
{
    ns_partition_release(p);
    p->kind = kind;
    p->n = n;
    p->threads = threads;
    p->ranks = ranks;
    p->my_rank = my_rank;
    p->placed = kind == NS_PART_SPLIT || kind == NS_PART_RANKS;
    p->per_rank = kind == NS_PART_RANKS ? 1 : threads;
    p->nblocks = kind == NS_PART_WHOLE ? 1 : kind == NS_PART_TEAM ? threads : ranks * p->per_rank;
    p->lo = malloc(((size_t)p->nblocks + 1) * sizeof *p->lo);
    p->thread = malloc((size_t)p->nblocks * sizeof *p->thread);
    p->rank = malloc((size_t)p->nblocks * sizeof *p->rank);
    p->block_of_thread = malloc((size_t)threads * sizeof *p->block_of_thread);
    if (!p->lo || !p->thread || !p->rank || !p->block_of_thread) {
        ns_partition_release(p);
        return -1;
    }
    for (int b = 0; b <= p->nblocks; b++) p->lo[b] = n * (size_t)b / (size_t)p->nblocks;
    for (int b = 0; b < p->nblocks; b++) {
        p->thread[b] = kind == NS_PART_SPLIT || kind == NS_PART_TEAM ? b % threads : 0;
        p->rank[b] = p->placed ? b / p->per_rank : 0;
    }
    for (int t = 0; t < threads; t++) p->block_of_thread[t] = -1;
    for (int b = 0; b < p->nblocks; b++)
        if (p->rank[b] == my_rank) p->block_of_thread[p->thread[b]] = b;
    return 0;
}

void ns_partition_set_owner(ns_partition *p, int rank, int thread)
{
    if (p->placed) return;
    for (int t = 0; t < p->threads; t++) p->block_of_thread[t] = -1;
    for (int b = 0; b < p->nblocks; b++) {
        p->rank[b] = rank;
        if (p->nblocks == 1) p->thread[b] = thread;
        if (rank == p->my_rank) p->block_of_thread[p->thread[b]] = b;
    }
}

void ns_partition_set_thread(ns_partition *p, int thread)
{
    if (!ns_partition_by_ranks(p) || thread < 0 || thread >= p->threads) return;
    for (int t = 0; t < p->threads; t++) p->block_of_thread[t] = -1;
    for (int b = 0; b < p->nblocks; b++) {
        p->thread[b] = thread;
        if (p->rank[b] == p->my_rank) p->block_of_thread[thread] = b;
    }
}

void ns_partition_release(ns_partition *p)
{
    free(p->lo);
    free(p->thread);
    free(p->rank);
    free(p->block_of_thread);
    p->lo = NULL;
    p->thread = p->rank = p->block_of_thread = NULL;
    p->nblocks = 0;
}

void ns_partition_rank_range(const ns_partition *p, int r, size_t *lo, size_t *hi)
{
    *lo = *hi = 0;
    if (!p->placed) {
        if (p->rank[0] == r) *hi = p->n;
        return;
    }
    *lo = p->lo[r * p->per_rank];
    *hi = p->lo[(r + 1) * p->per_rank];
}

int ns_partition_keeps(const ns_partition *p, int b) { return !p->placed || p->rank[b] == p->my_rank; }

int ns_partition_block(const ns_partition *p, size_t j)
{
    const int B = p->nblocks;
    int b = (int)((j * (size_t)B) / (p->n ? p->n : 1));
    if (b >= B) b = B - 1;
    while (b + 1 < B && p->lo[b + 1] <= j) b++;
    while (b > 0 && p->lo[b] > j) b--;
    return b;
}
