/* sim/proj.c — projections: connection rules drawn from counter-based random numbers, stored as
 * CSR by source, one table per thread's block of target units. The rule runs twice (count, then
 * fill) instead of buffering pairs: the draws are a pure function of the seed, so both passes
 * see the same synapses and no temporary list of 16-byte pairs is needed. */
#include "sim/net_types.h"
#include "sim/rules.h"

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
} gen_state;

/* Uniforms from a per-unit sequence of the connect stream, four per Philox call. */
typedef struct {
    uint64_t seed;
    uint32_t proj, unit, next;
    double u[4];
} unit_seq;

static double seq_next(unit_seq *s)
{
    if (s->next % 4 == 0) ns_rng_u01x4(s->seed, NS_STREAM_CONNECT, s->proj, s->unit, s->next / 4, s->u);
    return s->u[s->next++ % 4];
}

static int block_of(size_t j, size_t n, int T)
{
    int b = (int)((j * (size_t)T) / (n ? n : 1));
    if (b >= T) b = T - 1;
    while (b + 1 < T && ns_part_lo(n, b + 1, T) <= j) b++;
    while (b > 0 && ns_part_lo(n, b, T) > j) b--;
    return b;
}

static void visit(gen_state *g, uint32_t i, uint32_t j, uint32_t ka, uint32_t kb)
{
    ns_proj *pr = g->pr;
    int b = block_of(j, pr->tgt_n, pr->tgt_blocks);
    if (g->pass == 0) {
        g->fill[b][i]++;
        return;
    }
    ns_csr *c = &pr->block[b];
    size_t at = c->row[i] + g->fill[b][i]++;
    double u[4] = {0.5, 0.5, 0.5, 0.5};
    if (g->draw) ns_rng_u01x4(g->seed, NS_STREAM_WEIGHT, (uint32_t)pr->id, ka, kb, u);
    c->tgt[at] = j - (uint32_t)ns_part_lo(pr->tgt_n, b, pr->tgt_blocks);
    const ns_conn_spec *s = &pr->spec;
    if (c->w) c->w[at] = (float)(s->weights ? s->weights[g->pair] : ns_dist_draw(&s->weight, u[0], u[1]));
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
static void fixed_degree(gen_state *g, unit_seq *q, size_t n_gen, size_t n_pick, long K, int no_self, int incoming)
{
    for (size_t u = 0; u < n_gen; u++) {
        q->unit = (uint32_t)u;
        q->next = 0;
        for (long k = 0; k < K;) {
            size_t v = (size_t)(seq_next(q) * (double)n_pick);
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
    unit_seq q = {.seed = g->seed, .proj = (uint32_t)pr->id};
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
            q.unit = (uint32_t)i;
            q.next = 0;
            uint32_t made = 0;
            for (size_t j = (size_t)-1;;) {
                double skip = s->p >= 1.0 ? 0.0 : floor(log(seq_next(&q)) / log_q);
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
    const int draw_w = s->weight.kind != NS_DIST_CONST || s->weights, draw_d = s->delay.kind != NS_DIST_CONST || s->delays;
    const double per = sizeof(uint32_t) + (draw_w ? sizeof(float) : 0) + (draw_d ? sizeof(uint16_t) : 0);
    const double bytes = syn * per + (double)net->threads * (ns + 1) * 2 * sizeof(size_t);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double mem = pages > 0 && page > 0 ? (double)pages * (double)page : HUGE_VAL;
    if (bytes <= mem && syn <= (double)SIZE_MAX / 16) return NS_OK;
    return ns_error(net->ctx, NS_ENOMEM,
                    "%s from %s (%zu) to %s (%zu): %s%.4g synapses need %.3g GB for their tables, more than the "
                    "%.3g GB of memory of this machine",
                    ns_rules_name(s->rule), pr->src->name, pr->src->n, pr->tgt->name, pr->tgt_n,
                    exact ? "" : "about ", syn, bytes / 1e9, mem / 1e9);
}

int ns_proj_build(ns_net *net, ns_proj *pr)
{
    int rc0 = check_size(net, pr);
    if (rc0) return rc0;
    int T = net->threads;
    size_t ns = pr->src->n;
    gen_state g = {.net = net, .pr = pr, .seed = ns_ctx_seed(net->ctx), .dmin = 1 << 30, .dmax = 0};
    g.draw = pr->spec.weight.kind != NS_DIST_CONST || pr->spec.delay.kind != NS_DIST_CONST;
    int rc = NS_OK;
    pr->block = calloc((size_t)T, sizeof *pr->block);
    g.fill = calloc((size_t)T, sizeof *g.fill);
    if (!pr->block || !g.fill) {
        rc = ns_error(net->ctx, NS_ENOMEM, "out of memory");
        goto done;
    }
    for (int b = 0; b < T; b++)
        if (!(g.fill[b] = calloc(ns + 1, sizeof(size_t)))) {
            rc = ns_error(net->ctx, NS_ENOMEM, "out of memory");
            goto done;
        }
    run_rule(&g);
    if ((rc = g.rc)) goto done;
    /* weights and delays are stored per synapse only when they vary */
    const int draw_w = pr->spec.weight.kind != NS_DIST_CONST || pr->spec.weights,
              draw_d = pr->spec.delay.kind != NS_DIST_CONST || pr->spec.delays;
    pr->n_syn = 0;
    for (int b = 0; b < T; b++) {
        ns_csr *c = &pr->block[b];
        size_t total = 0;
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
        c->tgt = malloc((total + 1) * sizeof *c->tgt);
        if (draw_w) c->w = malloc((total + 1) * sizeof *c->w);
        if (draw_d) c->d = malloc((total + 1) * sizeof *c->d);
        if (!c->tgt || (draw_w && !c->w) || (draw_d && !c->d)) {
            rc = ns_error(net->ctx, NS_ENOMEM, "out of memory for %zu synapses", total);
            goto done;
        }
        memset(g.fill[b], 0, (ns + 1) * sizeof(size_t));
    }
    g.pass = 1;
    run_rule(&g);
    rc = g.rc;
    pr->dmin = g.dmin;
    pr->dmax = g.dmax;
done:
    if (g.fill)
        for (int b = 0; b < T; b++) free(g.fill[b]);
    free(g.fill);
    return rc;
}

void ns_proj_delete(ns_proj *pr, int threads)
{
    if (!pr) return;
    if (pr->block)
        for (int b = 0; b < threads; b++) {
            free(pr->block[b].row);
            free(pr->block[b].tgt);
            free(pr->block[b].w);
            free(pr->block[b].d);
        }
    free(pr->block);
    free(pr->gw);
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
    e->cap = cap;
    return 0;
}

/* Delivery into event lists (targets with sparse input): a spike's row as one run when the
 * projection's delay is constant, else a run per synapse into the slot of its delay. */
static int deliver_events(ns_net *net, const ns_proj *pr, int tid)
{
    const ns_csr *c = &pr->block[tid];
    const ns_pop *src = pr->src, *tgt = pr->tgt;
    const size_t L = tgt->ring_len;
    const uint32_t base = (uint32_t)ns_part_lo(tgt->n, tid, net->threads);
    const float w0 = (float)pr->spec.weight.a;
    ns_events *ev = tgt->ev[tid];
    for (size_t s = 0; s < src->win.n; s++) {
        size_t i = src->win.unit[s];
        size_t slot0 = (size_t)((net->step + src->win.step[s]) % (int64_t)L);
        size_t lo = c->row[i], hi = c->row[i + 1];
        if (lo == hi) continue;
        if (!c->d) {
            size_t slot = slot0 + (size_t)pr->delay_const;
            ns_events *e = &ev[slot >= L ? slot - L : slot];
            if (reserve_run(e)) return -1;
            e->run[e->n++] = (ns_event_run){c->tgt + lo, c->w ? c->w + lo : NULL, w0, base, (uint32_t)(hi - lo)};
            continue;
        }
        for (size_t k = lo; k < hi; k++) {
            size_t slot = slot0 + c->d[k];
            ns_events *e = &ev[slot >= L ? slot - L : slot];
            if (reserve_run(e)) return -1;
            e->run[e->n++] = (ns_event_run){c->tgt + k, c->w ? c->w + k : NULL, w0, base, 1};
        }
    }
    return 0;
}

/* Delivery into a continuous population's input channels: a spike adds its weight to the
 * channel's value in the step it arrives (thread 0 holds all such synapses). */
static void deliver_channels(ns_net *net, const ns_proj *pr)
{
    const ns_csr *c = &pr->block[0];
    const ns_pop *src = pr->src, *tgt = pr->tgt;
    const size_t L = tgt->ring_len, M = (size_t)tgt->n_channels;
    const double w0 = (float)pr->spec.weight.a;
    for (size_t s = 0; s < src->win.n; s++) {
        size_t i = src->win.unit[s];
        size_t slot0 = (size_t)((net->step + src->win.step[s]) % (int64_t)L);
        for (size_t k = c->row[i]; k < c->row[i + 1]; k++) {
            size_t slot = slot0 + (c->d ? c->d[k] : (size_t)pr->delay_const);
            if (slot >= L) slot -= L;
            tgt->signal[slot * M + c->tgt[k]] += c->w ? c->w[k] : w0;
        }
    }
}

/* A graded projection: each thread sums, into its own target inputs (units, or a cell's input
 * channels, which one thread holds), the weights times the source's output, or for a spiking
 * source the weight row of each spike. */
static void deliver_graded(ns_net *net, const ns_proj *pr, int tid, int nsteps)
{
    const ns_pop *src = pr->src, *tgt = pr->tgt;
    const size_t ns = src->n, nt = pr->tgt_n, L = tgt->ring_len;
    const size_t lo = ns_part_lo(nt, tid, pr->tgt_blocks), hi = ns_part_lo(nt, tid + 1, pr->tgt_blocks);
    double *in = tgt->model->channels_param ? tgt->signal : tgt->input[tgt->model->spike_receptor];
    if (!src->model->graded_output) { /* spikes: each adds its row to the step it arrives in */
        for (size_t e = 0; e < src->win.n; e++) {
            const double *w = pr->gw + (size_t)src->win.unit[e] * nt;
            double *row = in + (size_t)((net->step + src->win.step[e] + pr->delay_const) % (int64_t)L) * nt;
            for (size_t i = lo; i < hi; i++) row[i] += w[i];
        }
        return;
    }
    for (int k = 0; k < nsteps; k++) {
        const double *out = src->graded + (size_t)k * ns;
        size_t slot = (size_t)((net->step + k + pr->delay_const) % (int64_t)L);
        for (size_t i = lo; i < hi; i++) {
            const double *w = pr->gw + i * ns;
            double sum = 0;
            for (size_t j = 0; j < ns; j++) sum += w[j] * out[j];
            in[slot * nt + i] += sum;
        }
    }
}

int ns_proj_deliver(ns_net *net, const ns_proj *pr, int tid)
{
    if (pr->gw) {
        if (tid < pr->tgt_blocks) deliver_graded(net, pr, tid, net->window_now);
        return 0;
    }
    const ns_csr *c = &pr->block[tid];
    const ns_pop *src = pr->src, *tgt = pr->tgt;
    if (tid >= pr->tgt_blocks || !src->win.n || !c->row[src->n]) return 0;
    if (tgt->model->channels_param) {
        deliver_channels(net, pr);
        return 0;
    }
    if (tgt->sparse) return deliver_events(net, pr, tid);
    const size_t n = tgt->n, L = tgt->ring_len;
    double *pos = tgt->input[tgt->model->spike_receptor] + ns_part_lo(n, tid, net->threads);
    double *neg = tgt->input[tgt->model->neg_receptor] + ns_part_lo(n, tid, net->threads);
    const uint32_t *restrict tg = c->tgt;
    const float *restrict w = c->w;
    const double w0 = (float)pr->spec.weight.a; /* a constant weight, rounded as a stored one */
    double *const base0 = w0 < 0 ? neg : pos;
    for (size_t s = 0; s < src->win.n; s++) {
        size_t i = src->win.unit[s];
        size_t slot0 = (size_t)((net->step + src->win.step[s]) % (int64_t)L);
        size_t lo = c->row[i], hi = c->row[i + 1];
        if (!c->d) {
            size_t slot = slot0 + (size_t)pr->delay_const;
            if (slot >= L) slot -= L;
            if (!w) { /* the common case: one weight, one delay for the whole projection */
                double *restrict b = base0 + slot * n;
                for (size_t k = lo; k < hi; k++) b[tg[k]] += w0;
            } else {
                double *pb = pos + slot * n, *nb = neg + slot * n;
                for (size_t k = lo; k < hi; k++) {
                    double wk = w[k];
                    (wk < 0 ? nb : pb)[tg[k]] += wk;
                }
            }
        } else {
            for (size_t k = lo; k < hi; k++) {
                size_t slot = slot0 + c->d[k];
                if (slot >= L) slot -= L;
                double wk = w ? w[k] : w0;
                (wk < 0 ? neg : pos)[slot * n + tg[k]] += wk;
            }
        }
    }
    return 0;
}
