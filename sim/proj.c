/* sim/proj.c — projections: connection rules drawn from counter-based random numbers, stored as
 * CSR by source, one table per thread's block of target units. The rule runs twice (count, then
 * fill) instead of buffering pairs: the draws are a pure function of the seed, so both passes
 * see the same synapses and no temporary list of 16-byte pairs is needed. */
#include "sim/net_types.h"
#include "sim/rules.h"
#include "base/bigmem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    ns_net *net;
    ns_proj *pr;
    int pass;        /* 0 count, 1 fill */
    size_t **fill;   /* per block: per source, synapses placed (pass 1) or counted (pass 0) */
    uint64_t seed;
    int draw;        /* weight or delay is a distribution */
    int dmin, dmax;
    size_t pair;     /* list rule: the pair being visited */
    int rc;          /* a rule of sim/rules.c that failed */
    int only;        /* the one block whose synapses this state keeps, or -1 for all */
    size_t src_lo, src_hi; /* the sources whose synapses this state keeps */
} gen_state;

/* The first target index of block b: the target's partition, or 0 for its one block (a
 * population stepped whole, whose targets may be input channels rather than units). */
static size_t block_lo(const ns_proj *pr, int b) { return pr->tgt_blocks == 1 ? 0 : pr->tgt->part.lo[b]; }

/* How many targets block b holds (its table's targets are below it). */
static size_t block_units(const ns_proj *pr, int b)
{
    return pr->tgt_blocks == 1 ? pr->tgt_n : pr->tgt->part.lo[b + 1] - pr->tgt->part.lo[b];
}

/* 1 when this rank keeps block b's table: the blocks it holds, every block of a population
 * placed on a rank only before the first run, and every block of a plastic projection (every rank
 * follows every weight, so weight records and net:weights read them anywhere). */
static int keeps(const ns_proj *pr, int b)
{
    return pr->spec.synapse || pr->plastic || ns_partition_keeps(&pr->tgt->part, b);
}

/* 1 when block b's synapses count towards the projection's total on this rank: a block is
 * counted by the rank that holds it, or by rank 0 when every rank keeps it. */
static int counts(const ns_proj *pr, int b)
{
    const ns_partition *p = &pr->tgt->part;
    if (pr->spec.synapse || pr->plastic || !p->placed) return p->my_rank == 0;
    return p->rank[b] == p->my_rank;
}

/* A block whose table this rank keeps (every rank keeps one: its own threads' blocks). */
static const ns_csr *kept_block(const ns_proj *pr)
{
    for (int b = 0; b < pr->tgt_blocks; b++)
        if (pr->block[b].row) return &pr->block[b];
    return &pr->block[0];
}

static void visit(gen_state *g, uint32_t i, uint32_t j, uint32_t ka, uint32_t kb)
{
    ns_proj *pr = g->pr;
    if (i < g->src_lo || i >= g->src_hi) return; /* another thread's sources (fill_by_sources) */
    int b = pr->tgt_blocks == 1 ? 0 : ns_partition_block(&pr->tgt->part, j);
    if ((g->only >= 0 && b != g->only) || !g->fill[b]) return; /* another thread's, or another rank's */
    if (g->pass == 0) {
        g->fill[b][i]++;
        return;
    }
    ns_csr *c = &pr->block[b];
    size_t at = c->row[i] + g->fill[b][i]++;
    double u[4] = {0.5, 0.5, 0.5, 0.5};
    if (g->draw) ns_rng_u01x4(g->seed, NS_STREAM_WEIGHT, (uint32_t)pr->id, ka, kb, u);
    c->tgt[at] = j - (uint32_t)block_lo(pr, b);
    const ns_conn_spec *s = &pr->spec;
    if (c->w) c->w[at] = (float)(s->weights ? s->weights[g->pair] : ns_dist_draw(&s->weight, u[0], u[1]));
    if (c->wd) c->wd[at] = s->weights ? s->weights[g->pair] : ns_dist_draw(&s->weight, u[0], u[1]); /* graded */
    int d = pr->delay_const;
    if (c->d) {
        double steps = round((s->delays ? s->delays[g->pair] : ns_dist_draw(&s->delay, u[2], u[3])) / g->net->dt);
        d = steps < 1 ? 1 : steps > 65535 ? 65535 : (int)steps;
        c->d[at] = (uint16_t)d;
    }
    if (d < g->dmin) g->dmin = d;
    if (d > g->dmax) g->dmax = d;
}

/* Each unit u of n_gen draws K partners from [0, n_pick), with replacement: u is the target
 * (fixed_indegree, incoming) or the source (fixed_outdegree). */
static void fixed_degree(gen_state *g, ns_rule_seq *q, size_t n_gen, size_t n_pick, long K, int no_self, int incoming)
{
    for (size_t u = 0; u < n_gen; u++) {
        ns_rule_seq_start(q, (uint32_t)u);
        for (long k = 0; k < K;) {
            size_t v = (size_t)(ns_rule_seq_next(q) * (double)n_pick);
            if (v >= n_pick) v = n_pick - 1;
            if (no_self && u == v) continue;
            if (incoming) visit(g, (uint32_t)v, (uint32_t)u, (uint32_t)u, (uint32_t)k++);
            else visit(g, (uint32_t)u, (uint32_t)v, (uint32_t)u, (uint32_t)k++);
        }
    }
}

static void rule_emit(void *user, uint32_t i, uint32_t j, uint32_t ka, uint32_t kb) { visit(user, i, j, ka, kb); }

static ns_rule_job rule_job(const ns_proj *pr, uint64_t seed)
{
    return (ns_rule_job){&pr->spec, pr->src->n, pr->tgt_n, pr->src->geom, pr->tgt->geom, pr->src->name,
                         pr->tgt->name, pr->src == pr->tgt, seed, (uint32_t)pr->id};
}

static void run_rule(gen_state *g)
{
    ns_proj *pr = g->pr;
    const ns_conn_spec *s = &pr->spec;
    if (ns_rules_owns(s)) { /* the rules of shapes and counts */
        ns_rule_job job = rule_job(pr, g->seed);
        g->rc = ns_rules_run(g->net->ctx, &job, rule_emit, g);
        return;
    }
    size_t ns = pr->src->n, nt = pr->tgt_n;
    int no_self = !s->autapses && pr->src == pr->tgt;
    ns_rule_seq q = {.seed = g->seed, .proj = (uint32_t)pr->id};
    switch (s->rule) {
    case NS_RULE_ALL_TO_ALL:
        for (size_t i = 0; i < ns; i++)
            for (size_t j = 0; j < nt; j++)
                if (!(no_self && i == j)) visit(g, (uint32_t)i, (uint32_t)j, (uint32_t)i, (uint32_t)j);
        break;
    case NS_RULE_ONE_TO_ONE:
        for (size_t i = 0; i < ns; i++)
            if (!no_self) visit(g, (uint32_t)i, (uint32_t)i, (uint32_t)i, 0);
        break;
    case NS_RULE_BERNOULLI: {
        if (s->p <= 0.0) break;
        double log_q = log1p(-s->p); /* -inf when p == 1: every skip is 0 */
        for (size_t i = 0; i < ns; i++) {
            ns_rule_seq_start(&q, (uint32_t)i);
            uint32_t made = 0;
            for (size_t j = (size_t)-1;;) {
                double skip = s->p >= 1.0 ? 0.0 : floor(log(ns_rule_seq_next(&q)) / log_q);
                if (skip >= (double)nt) break;
                j += (size_t)skip + 1;
                if (j >= nt) break;
                if (no_self && i == j) continue;
                visit(g, (uint32_t)i, (uint32_t)j, (uint32_t)i, made++);
            }
        }
        break;
    }
    case NS_RULE_FIXED_INDEGREE:
        fixed_degree(g, &q, nt, ns, s->K, no_self, 1);
        break;
    case NS_RULE_FIXED_OUTDEGREE:
        fixed_degree(g, &q, ns, nt, s->K, no_self, 0);
        break;
    case NS_RULE_LIST: /* in list order; a pair's draws (when weight or delay is a distribution) are keyed by k */
        for (g->pair = 0; g->pair < s->n_pairs; g->pair++)
            visit(g, s->pre[g->pair], s->post[g->pair], (uint32_t)g->pair, (uint32_t)(g->pair >> 32));
        break;
    default: break;
    }
}

/* Run the rule over all blocks: in one pass, or (parallel) with a thread per block of the
 * target's partition, each drawing every pair and keeping its own block's; the pairs come from
 * counter-based numbers, so each thread sees the same ones and the tables do not depend on the
 * thread count. */
static void run_blocks(gen_state *g, int parallel)
{
    if (!parallel) {
        run_rule(g);
        return;
    }
    const int T = g->pr->tgt_blocks;
    gen_state *part = malloc((size_t)T * sizeof *part);
    int *mine = malloc((size_t)T * sizeof *mine), M = 0; /* the blocks this rank keeps */
    if (!part || !mine) { /* one pass then, as without threads */
        free(part);
        free(mine);
        run_rule(g);
        return;
    }
    for (int b = 0; b < T; b++)
        if (g->fill[b]) mine[M++] = b;
#pragma omp parallel for num_threads(g->net->threads) schedule(static, 1)
    for (int q = 0; q < M; q++) {
        const int b = mine[q];
        part[b] = *g;
        part[b].only = b;
        run_rule(&part[b]);
    }
    for (int q = 0; q < M; q++) {
        const int b = mine[q];
        if (part[b].dmin < g->dmin) g->dmin = part[b].dmin;
        if (part[b].dmax > g->dmax) g->dmax = part[b].dmax;
        if (!g->rc) g->rc = part[b].rc;
    }
    free(part);
    free(mine);
}

/* cut[0 .. T]: T ranges of table c's sources [cut[t], cut[t + 1]) with about equal numbers of
 * synapses (the first source whose row starts at or past t / T of them). */
static void source_ranges(const ns_csr *c, size_t ns, int T, size_t *cut)
{
    const size_t total = c->row[ns];
    cut[0] = 0;
    for (int t = 1; t < T; t++) {
        const size_t want = total / (size_t)T * (size_t)t;
        size_t i = cut[t - 1];
        while (i < ns && c->row[i] < want) i++;
        cut[t] = i;
    }
    cut[T] = ns;
}

/* The fill of a projection of one block (pass 1) shared over the run's threads by ranges of
 * sources (source_ranges): each thread runs the whole rule and keeps its sources' synapses,
 * whose draws (weights, delays) are the most of the work. Every row gets the same synapses in
 * the same order as in one pass, so the table does not depend on the thread count. */
static void fill_by_sources(gen_state *g)
{
    const int T = g->net->threads;
    gen_state *part = malloc((size_t)T * sizeof *part);
    size_t *cut = malloc(((size_t)T + 1) * sizeof *cut);
    if (!part || !cut) { /* one pass then, as without threads */
        free(part);
        free(cut);
        run_rule(g);
        return;
    }
    source_ranges(&g->pr->block[0], g->pr->src->n, T, cut);
    for (int t = 0; t < T; t++) {
        part[t] = *g;
        part[t].src_lo = cut[t];
        part[t].src_hi = cut[t + 1];
    }
#pragma omp parallel for num_threads(T) schedule(static, 1)
    for (int t = 0; t < T; t++) run_rule(&part[t]);
    for (int t = 0; t < T; t++) {
        if (part[t].dmin < g->dmin) g->dmin = part[t].dmin;
        if (part[t].dmax > g->dmax) g->dmax = part[t].dmax;
        if (!g->rc) g->rc = part[t].rc;
    }
    free(part);
    free(cut);
}

/* Sort each row of table c, of sources [i0, nsrc), by delay, stably (synapses of one delay keep their
 * order), carrying targets and weights: a spike's synapses of one delay are then one run, held
 * together for their arrival step (ns_pop.held). A counting sort over the row's own delay range
 * (at most the 65536 values of a 16-bit delay). 0, or -1 out of memory. */
static int sort_rows_by_delay(ns_csr *c, size_t i0, size_t nsrc)
{
    size_t longest = 0;
    for (size_t i = i0; i < nsrc; i++)
        if (c->row[i + 1] - c->row[i] > longest) longest = c->row[i + 1] - c->row[i];
    if (longest < 2) return 0;
    size_t *cnt = malloc((UINT16_MAX + 2) * sizeof *cnt), *idx = malloc(longest * sizeof *idx);
    uint32_t *t2 = malloc(longest * sizeof *t2);
    uint16_t *d2 = malloc(longest * sizeof *d2);
    float *w2 = c->w ? malloc(longest * sizeof *w2) : NULL;
    double *wd2 = c->wd ? malloc(longest * sizeof *wd2) : NULL;
    int rc = (!cnt || !idx || !t2 || !d2 || (c->w && !w2) || (c->wd && !wd2)) ? -1 : 0;
    for (size_t i = i0; !rc && i < nsrc; i++) {
        const size_t lo = c->row[i], n = c->row[i + 1] - lo;
        const uint16_t *d = c->d + lo;
        uint16_t dl = d[0], dh = d[0];
        int sorted = 1;
        for (size_t j = 1; j < n; j++) {
            sorted &= d[j] >= d[j - 1];
            if (d[j] < dl) dl = d[j];
            if (d[j] > dh) dh = d[j];
        }
        if (sorted) continue;
        const size_t range = (size_t)(dh - dl) + 1; /* idx[j]: where synapse j goes */
        memset(cnt, 0, (range + 1) * sizeof *cnt);
        for (size_t j = 0; j < n; j++) cnt[d[j] - dl + 1]++;
        for (size_t r = 1; r <= range; r++) cnt[r] += cnt[r - 1];
        for (size_t j = 0; j < n; j++) idx[j] = cnt[d[j] - dl]++;
        for (size_t j = 0; j < n; j++) {
            t2[idx[j]] = c->tgt[lo + j];
            d2[idx[j]] = d[j];
            if (w2) w2[idx[j]] = c->w[lo + j];
            if (wd2) wd2[idx[j]] = c->wd[lo + j];
        }
        memcpy(c->tgt + lo, t2, n * sizeof *t2);
        memcpy(c->d + lo, d2, n * sizeof *d2);
        if (w2) memcpy(c->w + lo, w2, n * sizeof *w2);
        if (wd2) memcpy(c->wd + lo, wd2, n * sizeof *wd2);
    }
    free(cnt);
    free(idx);
    free(t2);
    free(d2);
    free(w2);
    free(wd2);
    return rc;
}

/* The synapses a rule makes, known before it runs (bernoulli: the expected count), and the
 * bytes of their tables; refused with both figures and the machine's memory when they would not
 * fit in it, before the rule spends minutes counting pairs. */
static int check_size(ns_net *net, const ns_proj *pr)
{
    const ns_conn_spec *s = &pr->spec;
    const double ns = (double)pr->src->n, nt = (double)pr->tgt_n;
    double syn = 0;
    int exact = s->rule != NS_RULE_BERNOULLI;
    if (ns_rules_owns(s)) {
        ns_rule_job job = rule_job(pr, 0);
        syn = ns_rules_estimate(&job, &exact);
    } else switch (s->rule) {
    case NS_RULE_ALL_TO_ALL: syn = ns * nt; break;
    case NS_RULE_ONE_TO_ONE: syn = ns; break;
    case NS_RULE_BERNOULLI: syn = s->p * ns * nt; break;
    case NS_RULE_FIXED_INDEGREE: syn = nt * (double)s->K; break;
    case NS_RULE_FIXED_OUTDEGREE: syn = ns * (double)s->K; break;
    case NS_RULE_LIST: syn = (double)s->n_pairs; break;
    default: break;
    }
    const int draw_w = s->weight.kind != NS_DIST_CONST || s->weights || s->synapse, draw_d = s->delay.kind != NS_DIST_CONST || s->delays;
    const double per = sizeof(uint32_t) + (pr->graded ? sizeof(double) : draw_w ? sizeof(float) : 0) +
                       (draw_d ? sizeof(uint16_t) : 0);
    const double bytes = syn * per + (double)pr->tgt_blocks * (ns + 1) * 2 * sizeof(size_t);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double mem = pages > 0 && page > 0 ? (double)pages * (double)page : HUGE_VAL;
    if (bytes <= mem && syn <= (double)SIZE_MAX / 16) return NS_OK;
    return ns_error(net->ctx, NS_ENOMEM,
                    "%s from %s (%zu) to %s (%zu): %s%.4g synapses need %.3g GB for their tables, more than the "
                    "%.3g GB of memory of this machine",
                    ns_rules_name(s->rule), pr->src->name, pr->src->n, pr->tgt->name, pr->tgt_n,
                    exact ? "" : "about ", syn, bytes / 1e9, mem / 1e9);
}

size_t ns_proj_run_bytes(const ns_proj *pr)
{
    size_t bytes = 0;
    for (int b = 0; b < pr->tgt_blocks; b++)
        if (pr->block[b].run_row && counts(pr, b)) /* a row offset per source, a delay and a length per run */
            bytes += (pr->src->n + 1) * sizeof(uint32_t) +
                     (size_t)pr->block[b].run_row[pr->src->n] * (sizeof(uint16_t) + sizeof(uint16_t));
    return bytes;
}

int ns_proj_build(ns_net *net, ns_proj *pr)
{
    int rc0 = check_size(net, pr);
    if (rc0) return rc0;
    int T = pr->tgt_blocks;
    size_t ns = pr->src->n;
    gen_state g = {.net = net, .pr = pr, .seed = ns_ctx_seed(net->ctx), .dmin = 1 << 30, .dmax = 0, .only = -1,
                   .src_hi = SIZE_MAX};
    /* a thread per block, unless the rule may fail part-way (its message is the context's); the
     * fill of one block by ranges of sources */
    const ns_rule rule = pr->spec.rule;
    const int threadable = net->threads > 1 &&
                           !(ns_rules_owns(&pr->spec) && (rule == NS_RULE_FIXED_INDEGREE || rule == NS_RULE_FIXED_OUTDEGREE));
    const int parallel = T > 1 && threadable;
    int by_sources = 0; /* one block this rank keeps, filled and sorted by ranges of sources */
    g.draw = pr->spec.weight.kind != NS_DIST_CONST || pr->spec.delay.kind != NS_DIST_CONST;
    int rc = NS_OK;
    int64_t counted = 0; /* synapses this rank counts towards the total (see counts) */
    pr->block = calloc((size_t)T, sizeof *pr->block);
    g.fill = calloc((size_t)T, sizeof *g.fill);
    if (!pr->block || !g.fill) {
        rc = ns_error(net->ctx, NS_ENOMEM, "out of memory");
        goto done;
    }
    for (int b = 0; b < T; b++) /* the tables of the blocks this rank keeps */
        if (keeps(pr, b) && !(g.fill[b] = calloc(ns + 1, sizeof(size_t)))) {
            rc = ns_error(net->ctx, NS_ENOMEM, "out of memory");
            goto done;
        }
    run_blocks(&g, parallel);
    if ((rc = g.rc)) goto done;
    /* weights and delays are stored per synapse only when they vary; a graded projection's always,
     * in double */
    const int draw_w = !pr->graded && (pr->spec.weight.kind != NS_DIST_CONST || pr->spec.weights || pr->spec.synapse),
              draw_d = pr->spec.delay.kind != NS_DIST_CONST || pr->spec.delays;
    pr->n_syn = 0;
    for (int b = 0; b < T; b++) {
        ns_csr *c = &pr->block[b];
        size_t total = 0;
        if (!g.fill[b]) continue;
        if (!(c->row = malloc((ns + 1) * sizeof *c->row))) {
            rc = ns_error(net->ctx, NS_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < ns; i++) {
            c->row[i] = total;
            total += g.fill[b][i];
        }
        c->row[ns] = total;
        pr->n_syn += total;
        if (counts(pr, b)) counted += (int64_t)total;
        c->tgt = ns_big_malloc((total + 1) * sizeof *c->tgt);
        if (draw_w) c->w = ns_big_malloc((total + 1) * sizeof *c->w);
        if (pr->graded) c->wd = ns_big_malloc((total + 1) * sizeof *c->wd);
        if (draw_d) c->d = ns_big_malloc((total + 1) * sizeof *c->d);
        if (!c->tgt || (draw_w && !c->w) || (pr->graded && !c->wd) || (draw_d && !c->d)) {
            rc = ns_error(net->ctx, NS_ENOMEM, "out of memory for %zu synapses", total);
            goto done;
        }
        memset(g.fill[b], 0, (ns + 1) * sizeof(size_t));
    }
    g.pass = 1;
    by_sources = T == 1 && threadable && g.fill[0];
    if (by_sources) fill_by_sources(&g);
    else run_blocks(&g, parallel);
    rc = g.rc;
    if (!rc && draw_d) { /* rows by delay, a block per thread, or one block by ranges of sources */
        int failed = 0;
        /* job q: block q whole, or (by sources) block 0's sources [cut[q], cut[q + 1]) */
        size_t *cut = by_sources ? malloc(((size_t)net->threads + 1) * sizeof *cut) : NULL;
        const int jobs = cut ? net->threads : T;
        if (cut) source_ranges(&pr->block[0], ns, jobs, cut);
#pragma omp parallel for num_threads(cut || parallel ? jobs : 1) schedule(static, 1) reduction(| : failed)
        for (int q = 0; q < jobs; q++) {
            ns_csr *c = &pr->block[cut ? 0 : q];
            failed |= c->row && sort_rows_by_delay(c, cut ? cut[q] : 0, cut ? cut[q + 1] : ns) != 0;
        }
        free(cut);
        if (failed) rc = ns_error(net->ctx, NS_ENOMEM, "out of memory sorting synapses by delay");
    }
    if (!rc && draw_d && g.dmax <= UINT8_MAX) /* narrow the delays to a byte each */
        for (int b = 0; b < T && !rc; b++) {
            ns_csr *c = &pr->block[b];
            if (!c->row) continue; /* a block another rank keeps */
            const size_t n = c->row[ns];
            if (!(c->d8 = ns_big_malloc((n + 1) * sizeof *c->d8))) {
                rc = ns_error(net->ctx, NS_ENOMEM, "out of memory for %zu synapses", n);
                break;
            }
            for (size_t j = 0; j < n; j++) c->d8[j] = (uint8_t)c->d[j];
            free(c->d);
            c->d = NULL;
        }
    pr->dmin = g.dmin;
    pr->dmax = g.dmax;
done:
    if (net->transport->nranks > 1) { /* the whole projection: its count, delays, a rank's failure */
        int64_t sum = counted, v[3] = {rc != 0, g.dmax, -(int64_t)g.dmin};
        if (net->transport->reduce(net->transport, net->ctx, &sum, 1, NS_REDUCE_SUM) ||
            net->transport->reduce(net->transport, net->ctx, v, 3, NS_REDUCE_MAX)) {
            if (!rc) rc = NS_ERUN;
        } else if (!rc && v[0]) {
            rc = ns_error(net->ctx, NS_ENOMEM, "another rank could not build the synapses of %s to %s", pr->src->name,
                          pr->tgt->name);
        } else if (!rc) {
            pr->n_syn = (size_t)sum;
            pr->dmax = (int)v[1];
            pr->dmin = (int)-v[2];
        }
    }
    if (g.fill)
        for (int b = 0; b < T; b++) free(g.fill[b]);
    free(g.fill);
    return rc;
}

void ns_proj_delete(ns_proj *pr)
{
    if (!pr) return;
    if (pr->block)
        for (int b = 0; b < pr->tgt_blocks; b++) {
            free(pr->block[b].row);
            free(pr->block[b].tgt);
            free(pr->block[b].w);
            free(pr->block[b].d);
            free(pr->block[b].d8);
            free(pr->block[b].wd);
            free(pr->block[b].run_row);
            free(pr->block[b].run_len);
            free(pr->block[b].run_d);
            free(pr->block[b].syn16);
            free(pr->block[b].state);
        }
    ns_plastic_free(pr->plastic);
    free(pr->hsrc);
    free(pr->block);
    free(pr);
}

/* Room for one more run in e; 0, or -1 when memory runs out. */
static int reserve_run(ns_events *e)
{
    if (e->n < e->cap) return 0;
    size_t cap = e->cap ? 2 * e->cap : 64;
    ns_event_run *r = realloc(e->run, cap * sizeof *r);
    if (!r) return -1;
    e->run = r;
    if (e->off) { /* a list with offsets keeps one per run */
        double *o = realloc(e->off, cap * sizeof *o);
        if (!o) return -1;
        e->off = o;
    }
    e->cap = cap;
    return 0;
}

/* Record that the next run of e (index e->n, room reserved) arrives at off ms from its step's
 * start. A list's first precise run gives it offsets, the runs before it at the step's end (dt);
 * lists that only grid sources fill never get any. 0, or -1 when memory runs out. */
static int put_offset(ns_events *e, double off, double dt)
{
    if (!e->off) {
        if (!(e->off = malloc(e->cap * sizeof *e->off))) return -1;
        for (size_t j = 0; j < e->n; j++) e->off[j] = dt;
    }
    e->off[e->n] = off;
    return 0;
}

/* Where one block's deliveries land: the target port's ring (pos for weights >= 0, neg for
 * weights < 0: the same ring for a port of both signs, a continuous port or a cell's channels),
 * its stride per step, or the block's event lists (targets that take spikes as lists). */
typedef struct {
    double *pos, *neg;
    size_t stride, L;
    ns_events *ev;
    uint32_t base; /* the block's first target: table entries are relative to it */
    double w0;     /* the projection's one weight, when the table stores none */
    int delay;     /* its one delay in steps, when the table stores none */
    ns_held *held; /* spikes with per-synapse delays into dense rows: the block's held lists */
    size_t held_len, hslot0; /* their count, and the list of the spike's own step */
    const ns_held_src *hsrc; /* where the block's held runs land */
    int precise;   /* lists: the source's spikes carry offsets (its window's offset) */
    double off;    /* lists: the offset of the spike being delivered (ms from its step's start) */
    double dt;     /* the step (ms): a grid spike's offset in a list that has offsets */
} sink;

/* Room for one more held run in h; 0, or -1 when memory runs out. */
static int reserve_held(ns_held *h)
{
    if (h->n < h->cap) return 0;
    size_t cap = h->cap ? 2 * h->cap : 64;
    ns_held_run *r = realloc(h->run, cap * sizeof *r);
    if (!r) return -1;
    h->run = r;
    h->cap = cap;
    return 0;
}

/* The end of the run of equal delays that starts at synapse j of a row ending at hi. */
static inline size_t run_end8(const uint8_t *d, size_t j, size_t hi)
{
    size_t e = j + 1;
    while (e < hi && d[e] == d[j]) e++;
    return e;
}

static inline size_t run_end16(const uint16_t *d, size_t j, size_t hi)
{
    size_t e = j + 1;
    while (e < hi && d[e] == d[j]) e++;
    return e;
}

/* The one delivery path: value x (1 for a spike, a graded value otherwise) sent by source unit i
 * in the step whose ring slot is slot0 fans out through row i of table c, each synapse adding
 * w x to its target's input in the step it arrives, slot0 + delay. Returns -1 when memory runs
 * out (event lists only). */
static inline int fan_out(const ns_csr *c, const sink *k, size_t i, size_t slot0, double x)
{
    const size_t lo = c->row[i], hi = c->row[i + 1], L = k->L, n = k->stride;
    if (lo == hi) return 0;
    const uint32_t *restrict tg = c->tgt;
    if (k->ev) { /* lists: one run per spike (per synapse when delays vary); the hook applies them */
        const float w0 = (float)k->w0;
        const int per_syn = ns_csr_has_delays(c);
        for (size_t j = lo; j < hi; j = per_syn ? j + 1 : hi) {
            size_t slot = slot0 + (per_syn ? ns_csr_delay(c, j) : (size_t)k->delay);
            ns_events *e = &k->ev[slot >= L ? slot - L : slot];
            if (reserve_run(e) || ((k->precise || e->off) && put_offset(e, k->precise ? k->off : k->dt, k->dt)))
                return -1;
            e->run[e->n++] = (ns_event_run){tg + j, c->w ? c->w + j : NULL, w0, k->base, (uint32_t)(per_syn ? 1 : hi - lo)};
        }
        return 0;
    }
    if (!ns_csr_has_delays(c)) {
        size_t slot = slot0 + (size_t)k->delay;
        if (slot >= L) slot -= L;
        double *pb = k->pos + slot * n, *nb = k->neg + slot * n;
        if (c->wd) { /* graded weights, kept in double: one signed port */
            double *restrict b = pb;
            for (size_t j = lo; j < hi; j++) b[tg[j]] += c->wd[j] * x;
        } else if (!c->w) { /* the common case: one weight, one delay for the whole projection */
            const double wx = k->w0 * x;
            double *restrict b = wx < 0 ? nb : pb;
            for (size_t j = lo; j < hi; j++) b[tg[j]] += wx;
        } else {
            for (size_t j = lo; j < hi; j++) {
                double wk = c->w[j] * x;
                (wk < 0 ? nb : pb)[tg[j]] += wk;
            }
        }
        return 0;
    }
    if (k->held) { /* a spike: its row's runs of one delay (ns_proj_make_runs), each into its slot's list */
        size_t j = lo;
        for (uint32_t q = c->run_row[i], qe = c->run_row[i + 1]; q < qe; q++) {
            size_t slot = k->hslot0 + c->run_d[q];
            if (slot >= k->held_len) slot -= k->held_len;
            ns_held *h = &k->held[slot];
            if (reserve_held(h)) return -1;
            h->run[h->n++] = (ns_held_run){k->hsrc, (uint32_t)j, c->run_len[q]};
            j += c->run_len[q];
        }
        return 0;
    }
    for (size_t j = lo; j < hi; j++) {
        size_t slot = slot0 + ns_csr_delay(c, j);
        if (slot >= L) slot -= L;
        double wk = (c->wd ? c->wd[j] : c->w ? c->w[j] : k->w0) * x;
        (wk < 0 ? k->neg : k->pos)[slot * n + tg[j]] += wk;
    }
    return 0;
}

/* Ask for the first cache lines of row i's tables a little before fan_out reads them: rows lie
 * anywhere in tables far larger than the caches, and a spike's row is short. A held row is read
 * only for its runs when the spike leaves (its targets and weights when the runs arrive), so
 * only its run list is asked for, all of it. */
static inline void prefetch_row(const ns_csr *c, size_t i, int held)
{
    const size_t j = c->row[i];
    if (held) {
        const uint32_t q = c->run_row[i], n = c->run_row[i + 1] - q;
        for (uint32_t k = 0; k < n; k += 32) {
            __builtin_prefetch(c->run_len + q + k);
            __builtin_prefetch(c->run_d + q + k);
        }
        return;
    }
    __builtin_prefetch(c->tgt + j);
    __builtin_prefetch(c->tgt + j + 16);
    if (c->w) __builtin_prefetch(c->w + j);
    if (c->d) __builtin_prefetch(c->d + j);
    if (c->d8) __builtin_prefetch(c->d8 + j);
}

/* Above this many spikes of a source in a window, ns_proj_prefetch leaves them to the delivery. */
enum { PREFETCH_MAX_SPIKES = 32 };

void ns_proj_prefetch(const ns_proj *pr, int tid, int stage)
{
    const int b = pr->tgt->part.block_of_thread[tid];
    const ns_pop *src = pr->src;
    /* a long window of spikes is asked for within the delivery itself (two spikes ahead); event
     * lists read a row's targets only when the list is applied, a step later */
    if (b < 0 || !pr->block || !src->win.n || src->win.n > PREFETCH_MAX_SPIKES ||
        ns_model_output(src->model)->kind != NS_OUT_SPIKES || pr->plastic || (stage == 1 && pr->tgt->sparse))
        return;
    const ns_csr *c = &pr->block[b];
    if (!c->row) return;
    for (size_t s = 0; s < src->win.n; s++) {
        const uint32_t i = src->win.unit[s];
        if (stage == 0) {
            __builtin_prefetch(c->row + i);
            if (c->run_row) __builtin_prefetch(c->run_row + i);
        }
        else if (c->row[i] != c->row[i + 1]) prefetch_row(c, i, pr->held);
    }
}

/* The start of the run after the one at synapse j of a row ending at hi: equal delays, at most
 * 65,535 synapses (a run's length is 16 bits). */
static size_t next_run(const ns_csr *c, size_t j, size_t hi)
{
    const size_t e = c->d8 ? run_end8(c->d8, j, hi) : run_end16(c->d, j, hi);
    return e - j > UINT16_MAX ? j + UINT16_MAX : e;
}

/* Block b's table, of n synapses with weights, packed: its targets and weights side by side in
 * c->syn16 when the block holds at most 65,536 targets (tgt and w freed, their pages given back
 * as the copy proceeds); 0 (packed or left as it was), or -1 when memory runs out (c unchanged). */
static int pack_block(const ns_proj *pr, int b, size_t n)
{
    ns_csr *c = &pr->block[b];
    if (block_units(pr, b) > (size_t)UINT16_MAX + 1) return 0;
    ns_held_syn16 *y = ns_big_malloc((n + 1) * sizeof *y);
    if (!y) return -1;
    enum { CHUNK = 1 << 19 }; /* synapses: 2 MiB of targets */
    for (size_t from = 0; from < n; from += CHUNK) {
        const size_t to = n - from < CHUNK ? n : from + CHUNK;
        for (size_t j = from; j < to; j++) y[j] = (ns_held_syn16){(uint16_t)c->tgt[j], c->w[j]};
        ns_big_release(c->tgt, (n + 1) * sizeof *c->tgt, from * sizeof *c->tgt, to * sizeof *c->tgt);
        ns_big_release(c->w, (n + 1) * sizeof *c->w, from * sizeof *c->w, to * sizeof *c->w);
    }
    free(c->tgt);
    free(c->w);
    c->tgt = NULL;
    c->w = NULL;
    c->syn16 = y;
    return 0;
}

int ns_proj_make_runs(ns_proj *pr)
{
    const size_t ns = pr->src->n;
    for (int b = 0; b < pr->tgt_blocks; b++) {
        ns_csr *c = &pr->block[b];
        if (!c->row || c->run_row || !ns_csr_has_delays(c)) continue; /* another rank's, made, or none */
        size_t runs = 0; /* count, then fill */
        for (size_t i = 0; i < ns; i++)
            for (size_t j = c->row[i]; j < c->row[i + 1]; j = next_run(c, j, c->row[i + 1])) runs++;
        /* runs <= synapses < 2^32: ns_proj_held takes no larger table */
        c->run_row = malloc((ns + 1) * sizeof *c->run_row);
        c->run_len = ns_big_malloc((runs + 1) * sizeof *c->run_len);
        c->run_d = ns_big_malloc((runs + 1) * sizeof *c->run_d);
        if (!c->run_row || !c->run_len || !c->run_d) return -1;
        size_t q = 0;
        for (size_t i = 0; i < ns; i++) {
            c->run_row[i] = (uint32_t)q;
            for (size_t j = c->row[i], e; j < c->row[i + 1]; j = e, q++) {
                e = next_run(c, j, c->row[i + 1]);
                c->run_len[q] = (uint16_t)(e - j);
                c->run_d[q] = (uint16_t)ns_csr_delay(c, j);
            }
        }
        c->run_row[ns] = (uint32_t)q;
        if (c->w && pack_block(pr, b, c->row[ns])) return -1;
    }
    return 0;
}

int ns_proj_held(const ns_proj *pr)
{
    const ns_pop *tgt = pr->tgt;
    if (pr->block) /* a held run names its first synapse by a 32-bit place in its table */
        for (int b = 0; b < pr->tgt_blocks; b++)
            if (pr->block[b].row && pr->block[b].row[pr->src->n] > UINT32_MAX) return 0;
    /* a plastic synapse's weight must be read as its spike leaves, before later spikes change it */
    return ns_model_output(pr->src->model)->kind == NS_OUT_SPIKES && !tgt->sparse && !pr->graded && !pr->plastic && pr->block &&
           ns_csr_has_delays(kept_block(pr)) && !kept_block(pr)->wd && pr->tgt_n == tgt->n && pr->port_pos >= 0 &&
           !tgt->model->inputs[pr->port_pos].count_param && ns_in_port_width(&tgt->model->inputs[pr->port_pos]) == 1 &&
           pr->port_neg >= 0 && ns_in_port_width(&tgt->model->inputs[pr->port_neg]) == 1;
}

/* The weights of a plastic projection's block b that another rank delivers: this rank follows
 * them too (the same spikes, the same updates), so that every rank holds every weight. */
static int follow_plastic(const ns_net *net, const ns_proj *pr, int b)
{
    const ns_pop *src = pr->src;
    if (!pr->block[b].row[src->n]) return 0;
    if (ns_plastic_window(net, pr, b)) return -1;
    for (size_t s = 0; s < src->win.n; s++) ns_plastic_pre(pr, b, src->win.unit[s], net->step + src->win.step[s] + 1);
    return 0;
}

int ns_proj_deliver(ns_net *net, const ns_proj *pr, int tid)
{
    const ns_partition *part = &pr->tgt->part;
    if (pr->plastic && part->ranks > 1) /* blocks held elsewhere, shared out over this rank's threads */
        for (int o = 0; o < pr->tgt_blocks; o++)
            if (part->rank[o] != part->my_rank && o % net->threads == tid && follow_plastic(net, pr, o)) return -1;
    const int b = part->block_of_thread[tid]; /* the block whose input this thread writes */
    if (b < 0) return 0;
    const ns_csr *c = &pr->block[b];
    const ns_pop *src = pr->src, *tgt = pr->tgt;
    if (!c->row[src->n]) return 0;
    if (pr->plastic && ns_plastic_window(net, pr, b)) return -1; /* the targets' spikes of the window */
    const size_t base = block_lo(pr, b), L = tgt->ring_len;
    sink k = {.stride = tgt->stride[pr->port_pos], .L = L, .base = (uint32_t)base,
              .w0 = pr->graded ? 0.0 : (double)(float)pr->spec.weight.a, /* rounded as a stored one */
              .delay = pr->delay_const};
    /* event lists hold spikes only: a graded projection onto such a target makes it dense */
    if (tgt->sparse && ns_model_output(src->model)->kind == NS_OUT_SPIKES && !c->wd) {
        k.ev = tgt->ev[b];
        k.precise = src->win.offset != NULL; /* offsets travel in lists only */
        k.dt = net->dt;
    } else {
        k.pos = tgt->input[pr->port_pos] + (pr->tgt_blocks == 1 ? 0 : base);
        k.neg = tgt->input[pr->port_neg] + (pr->tgt_blocks == 1 ? 0 : base);
    }
    const int spikes = ns_model_output(src->model)->kind == NS_OUT_SPIKES;
    if (!k.ev && pr->held) {
        k.held = tgt->held[b];
        k.held_len = tgt->held_len;
        /* refreshed at every delivery: set_weights may have given the table weights since */
        pr->hsrc[b] = (ns_held_src){c->syn16, c->tgt, c->w, k.w0, k.base, pr->port_pos, pr->port_neg};
        k.hsrc = &pr->hsrc[b];
    }
    if (spikes) { /* the window's spikes, each a value 1 */
        for (size_t s = 0; s < src->win.n; s++) {
            /* a spike's row offsets asked for eight spikes ahead, its row two ahead */
            if (s + 8 < src->win.n) __builtin_prefetch(c->row + src->win.unit[s + 8]);
            if (s + 2 < src->win.n) prefetch_row(c, src->win.unit[s + 2], k.held != NULL);
            if (k.precise) k.off = src->win.offset[s];
            if (k.held) k.hslot0 = (size_t)((net->step + src->win.step[s]) % (int64_t)k.held_len);
            if (pr->plastic) /* the weights of the spike's synapses, updated first (sim/plastic.c) */
                ns_plastic_pre(pr, b, src->win.unit[s], net->step + src->win.step[s] + 1);
            if (fan_out(c, &k, src->win.unit[s], (size_t)((net->step + src->win.step[s]) % (int64_t)L), 1.0)) return -1;
        }
        return 0;
    }
    /* graded values, each unit's, step by step and component by component (component src_comp + q
     * into the target port's component q, n values further along its row); a 0 sends nothing */
    const int W = ns_out_port_width(ns_model_output(src->model));
    double *const pos0 = k.pos;
    for (int st = 0; st < net->window_now; st++) {
        const size_t slot0 = (size_t)((net->step + st) % (int64_t)L);
        for (int q = 0; q < pr->n_comp; q++) {
            const double *out = src->graded + ((size_t)st * (size_t)W + (size_t)(pr->src_comp + q)) * src->n;
            k.pos = k.neg = pos0 + (size_t)q * tgt->n;
            for (size_t i = 0; i < src->n; i++)
                if (out[i] != 0.0) fan_out(c, &k, i, slot0, out[i]);
        }
    }
    return 0;
}

/* ---- reading and setting synapses (sim/proj.h) ---- */

/* A synapse's place in the tables, as sim/plastic.c orders them: target unit, block, position. */
typedef struct {
    uint32_t post;
    int b;
    size_t at;
} proj_loc;

static int cmp_proj_loc(const void *x, const void *y)
{
    const proj_loc *a = x, *b = y;
    if (a->post != b->post) return a->post < b->post ? -1 : 1;
    return (a->at > b->at) - (a->at < b->at); /* one pair's synapses share a block: made order */
}

static ns_proj *spike_proj(const ns_net *net, int k, const char *what)
{
    ns_proj *pr = k >= 0 && k < net->nprojs ? net->projs[k] : NULL;
    if (!pr || pr->graded) {
        ns_error(net->ctx, NS_EINVAL, "%s: no spike projection %d (%d made)", what, k, net->nprojs);
        return NULL;
    }
    return pr;
}

/* Call visit(user, s, pre, loc) for every synapse of pr this rank keeps, numbered s in the order
 * of ns_net_weights. 0, or NS_ENOMEM. */
static int walk_synapses(const ns_net *net, const ns_proj *pr, void (*visit)(void *, size_t, uint32_t, const proj_loc *),
                         void *user)
{
    size_t m = 1;
    for (size_t i = 0; i < pr->src->n; i++) { /* the longest row over all blocks together */
        size_t n = 0;
        for (int b = 0; b < pr->tgt_blocks; b++)
            if (pr->block[b].row) n += pr->block[b].row[i + 1] - pr->block[b].row[i];
        if (n > m) m = n;
    }
    proj_loc *row = malloc(m * sizeof *row);
    if (!row) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    size_t s = 0;
    for (size_t i = 0; i < pr->src->n; i++) {
        size_t n = 0;
        for (int b = 0; b < pr->tgt_blocks; b++) {
            const ns_csr *c = &pr->block[b];
            if (!c->row) continue;
            for (size_t j = c->row[i]; j < c->row[i + 1]; j++)
                row[n++] = (proj_loc){(uint32_t)(ns_csr_target(c, j) + block_lo(pr, b)), b, j};
        }
        qsort(row, n, sizeof *row, cmp_proj_loc);
        for (size_t q = 0; q < n; q++) visit(user, s++, (uint32_t)i, &row[q]);
    }
    free(row);
    return NS_OK;
}

typedef struct {
    const ns_proj *pr;
    double dt;
    uint32_t *pre, *post;
    double *delay_ms;
} delay_out;

static void put_delay(void *user, size_t s, uint32_t i, const proj_loc *l)
{
    delay_out *o = user;
    const ns_csr *c = &o->pr->block[l->b];
    if (o->pre) o->pre[s] = i;
    if (o->post) o->post[s] = l->post;
    if (o->delay_ms)
        o->delay_ms[s] = (double)(ns_csr_has_delays(c) ? (int)ns_csr_delay(c, l->at) : o->pr->delay_const) * o->dt;
}

int ns_net_projection_delays(const ns_net *net, int k, uint32_t *pre, uint32_t *post, double *delay_ms)
{
    const ns_proj *pr = spike_proj(net, k, "projection delays");
    if (!pr) return NS_EINVAL;
    delay_out o = {pr, net->dt, pre, post, delay_ms};
    return walk_synapses(net, pr, put_delay, &o);
}

typedef struct {
    ns_proj *pr;
    const double *w;
} weight_in;

static void put_weight(void *user, size_t s, uint32_t i, const proj_loc *l)
{
    weight_in *o = user;
    (void)i;
    ns_csr_set_weight(&o->pr->block[l->b], l->at, (float)o->w[s]);
}

int ns_net_set_weights(ns_net *net, int k, const double *w, size_t n)
{
    ns_proj *pr = spike_proj(net, k, "set_weights");
    if (!pr) return NS_EINVAL;
    if (pr->plastic || pr->spec.synapse)
        return ns_error(net->ctx, NS_EINVAL, "set_weights: the projection of %s to %s is plastic: its STDP rule owns "
                                             "its weights", pr->src->name, pr->tgt->name);
    if (n != pr->n_syn)
        return ns_error(net->ctx, NS_EINVAL, "set_weights: %zu weights for the %zu synapses of %s to %s", n, pr->n_syn,
                        pr->src->name, pr->tgt->name);
    for (size_t s = 0; s < n; s++)
        if (!isfinite(w[s]) || fabs(w[s]) > 3.0e38)
            return ns_error(net->ctx, NS_EINVAL, "set_weights: weight %zu (0-based) of %s to %s is %g, not a finite "
                                                 "float", s, pr->src->name, pr->tgt->name, w[s]);
    for (int b = 0; b < pr->tgt_blocks; b++) { /* a constant weight becomes one per synapse */
        ns_csr *c = &pr->block[b];
        if (!c->row || ns_csr_has_weights(c)) continue;
        const size_t total = c->row[pr->src->n];
        if (!(c->w = ns_big_malloc((total + 1) * sizeof *c->w)))
            return ns_error(net->ctx, NS_ENOMEM, "out of memory for %zu weights", total);
        for (size_t j = 0; j < total; j++) c->w[j] = (float)pr->spec.weight.a;
        if (c->run_row && pack_block(pr, b, total)) /* a held table's, packed as the first run packs them */
            return ns_error(net->ctx, NS_ENOMEM, "out of memory for %zu weights", total);
    }
    weight_in o = {pr, w};
    return walk_synapses(net, pr, put_weight, &o);
}
