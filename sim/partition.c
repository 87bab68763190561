/* sim/partition.c — who steps which units (see partition.h). A split population gives thread t
 * the units [n t / T, n (t + 1) / T); the same cut the connection tables use for their blocks,
 * so a thread delivers into exactly the units it steps. */
#include "sim/partition.h"

#include <stdlib.h>

int ns_partition_init(ns_partition *p, size_t n, int threads, int whole, int owner)
{
    ns_partition_release(p);
    p->n = n;
    p->threads = threads;
    p->nblocks = whole ? 1 : threads;
    p->lo = malloc(((size_t)p->nblocks + 1) * sizeof *p->lo);
    p->thread = malloc((size_t)p->nblocks * sizeof *p->thread);
    p->block_of_thread = malloc((size_t)threads * sizeof *p->block_of_thread);
    if (!p->lo || !p->thread || !p->block_of_thread) {
        ns_partition_release(p);
        return -1;
    }
    for (int t = 0; t < threads; t++) p->block_of_thread[t] = whole ? -1 : t;
    for (int b = 0; b <= p->nblocks; b++) p->lo[b] = n * (size_t)b / (size_t)p->nblocks;
    for (int b = 0; b < p->nblocks; b++) p->thread[b] = whole ? owner : b;
    if (whole) p->block_of_thread[owner] = 0;
    return 0;
}

void ns_partition_set_owner(ns_partition *p, int owner)
{
    if (p->nblocks != 1 || p->threads == 1) return;
    p->block_of_thread[p->thread[0]] = -1;
    p->thread[0] = owner;
    p->block_of_thread[owner] = 0;
}

void ns_partition_release(ns_partition *p)
{
    free(p->lo);
    free(p->thread);
    free(p->block_of_thread);
    p->lo = NULL;
    p->thread = p->block_of_thread = NULL;
    p->nblocks = 0;
}

int ns_partition_block(const ns_partition *p, size_t j)
{
    const int B = p->nblocks;
    int b = (int)((j * (size_t)B) / (p->n ? p->n : 1));
    if (b >= B) b = B - 1;
    while (b + 1 < B && p->lo[b + 1] <= j) b++;
    while (b > 0 && p->lo[b] > j) b--;
    return b;
}
