/* tests/tables.h — a projection's synapses read back from the engine's tables (sim/net_types.h),
 * for tests that compare networks or check drawn weights and delays: every synapse as (pre,
 * post, weight, delay steps), sorted, so that two builds compare field by field. */
#ifndef NS_TEST_TABLES_H
#define NS_TEST_TABLES_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "sim/net_types.h"

/* One synapse: source and absolute target unit, weight (NaN when the projection stores none),
 * delay in steps (the projection's one delay when it stores none). */
typedef struct {
    uint32_t pre, post;
    float w;
    uint16_t d;
} test_syn;

/* By pre, post, weight, delay; field by field (a struct's padding is not compared). */
static int test_syn_cmp(const void *a, const void *b)
{
    const test_syn *x = a, *y = b;
    if (x->pre != y->pre) return x->pre < y->pre ? -1 : 1;
    if (x->post != y->post) return x->post < y->post ? -1 : 1;
    if (x->w != y->w) return x->w < y->w ? -1 : x->w > y->w;
    return (x->d > y->d) - (x->d < y->d);
}

/* Every synapse of projection pr, sorted; *n gets their count. The target block b's first unit
 * is the target's partition's, or 0 for one block. free() the result. */
static test_syn *test_read_back(const ns_proj *pr, size_t *n)
{
    test_syn *s = malloc((pr->n_syn ? pr->n_syn : 1) * sizeof *s);
    size_t k = 0;
    for (int b = 0; b < pr->tgt_blocks; b++) {
        const ns_csr *c = &pr->block[b];
        const size_t base = pr->tgt_blocks == 1 ? 0 : pr->tgt->part.lo[b];
        for (size_t i = 0; i < pr->src->n; i++)
            for (size_t at = c->row[i]; at < c->row[i + 1]; at++)
                s[k++] = (test_syn){(uint32_t)i, (uint32_t)(base + c->tgt[at]), c->w ? c->w[at] : NAN,
                                    ns_csr_has_delays(c) ? (uint16_t)ns_csr_delay(c, at) : (uint16_t)pr->delay_const};
    }
    qsort(s, k, sizeof *s, test_syn_cmp);
    *n = k;
    return s;
}

/* 1 when the two sorted lists hold the same synapses. */
static int test_same_synapses(const test_syn *a, size_t na, const test_syn *b, size_t nb)
{
    if (na != nb) return 0;
    for (size_t k = 0; k < na; k++)
        if (test_syn_cmp(&a[k], &b[k])) return 0;
    return 1;
}

#endif
