/* sim/plastic.c — STDP on a projection: the weights live in the projection's tables (a float per
 * synapse), the pre traces per source unit, the post spikes (with their traces) per target unit,
 * all per block of the target's partition, so each thread touches only its own. A synapse changes
 * when its source spikes, in NEST's order: the post spikes that reached it since then facilitate,
 * then the pre spike depresses (the whole delay dendritic: a post spike at t reaches it at t + d). */
#include "sim/plastic.h"
#include "base/files.h"
#include "sim/net_types.h"
#include "sim/checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEVER INT64_MIN

/* A post spike: its time stamp (steps) and the post traces o1 (tau_minus) and o2
 * (tau_minus_triplet) just after it, its own jump of 1 included. */
typedef struct {
    int64_t t;
    double o1, o2;
} post_spike;

typedef struct {
    post_spike *e;
    uint32_t n, cap;
} post_hist;

/* One block of the target's partition: per source unit the pre traces r1 (tau_plus) and r2
 * (tau_plus_triplet) just after its last spike, that spike's stamp, and up to which stamp the post
 * arrivals were applied to its synapses; per target unit of the block its post spikes. */
typedef struct {
    double *r1, *r2;
    int64_t *t_last, *t_done;
    post_hist *hist;
    size_t n_tgt;
    int64_t next_scan; /* step of the next look for sources silent longer than the horizon */
} pblock;

struct ns_plastic {
    ns_stdp p;
    double dt;
    int nblocks;
    pblock *blk;
    int64_t horizon; /* steps a silent source's pending facilitation may wait (memory only) */
};

/* ---- the rule's parameters ---- */

enum { PAIR = 1, TRIPLET = 2 };

typedef struct {
    const char *name;
    size_t off;
    int rules;
    int kind; /* 0: time constant (> 0, ms), 1: >= 0, 2: Wmax (nonzero) */
} param;

static const param params[] = {
    {"tau_plus", offsetof(ns_stdp, tau_plus), PAIR | TRIPLET, 0},
    {"tau_minus", offsetof(ns_stdp, tau_minus), PAIR | TRIPLET, 0},
    {"lambda", offsetof(ns_stdp, lambda), PAIR, 1},
    {"alpha", offsetof(ns_stdp, alpha), PAIR, 1},
    {"mu_plus", offsetof(ns_stdp, mu_plus), PAIR, 1},
    {"mu_minus", offsetof(ns_stdp, mu_minus), PAIR, 1},
    {"tau_plus_triplet", offsetof(ns_stdp, tau_plus_triplet), TRIPLET, 0},
    {"tau_minus_triplet", offsetof(ns_stdp, tau_minus_triplet), TRIPLET, 0},
    {"Aplus", offsetof(ns_stdp, a_plus), TRIPLET, 1},
    {"Aminus", offsetof(ns_stdp, a_minus), TRIPLET, 1},
    {"Aplus_triplet", offsetof(ns_stdp, a_plus_triplet), TRIPLET, 1},
    {"Aminus_triplet", offsetof(ns_stdp, a_minus_triplet), TRIPLET, 1},
    {"Wmax", offsetof(ns_stdp, wmax), PAIR | TRIPLET, 2},
};
#define NPARAMS (sizeof params / sizeof params[0])

static int rule_bit(ns_stdp_rule r) { return r == NS_STDP_PAIR ? PAIR : TRIPLET; }
static const char *rule_name(ns_stdp_rule r) { return r == NS_STDP_PAIR ? "stdp" : "stdp_triplet"; }

void ns_stdp_defaults(ns_stdp *s, ns_stdp_rule rule)
{
    memset(s, 0, sizeof *s);
    s->rule = rule;
    s->wmax = 100.0;
    s->tau_minus = 20.0;
    if (rule == NS_STDP_PAIR) {
        s->tau_plus = 20.0;
        s->lambda = 0.01;
        s->alpha = 1.0;
        s->mu_plus = s->mu_minus = 1.0;
    } else {
        s->tau_plus = 16.8;
        s->tau_plus_triplet = 101.0;
        s->tau_minus_triplet = 110.0;
        s->a_plus = 5e-10;
        s->a_minus = 7e-3;
        s->a_plus_triplet = 6.2e-3;
        s->a_minus_triplet = 2.3e-4;
    }
}

int ns_stdp_set(ns_stdp *s, const char *name, double value)
{
    for (size_t k = 0; k < NPARAMS; k++)
        if ((params[k].rules & rule_bit(s->rule)) && !strcmp(params[k].name, name)) {
            *(double *)((char *)s + params[k].off) = value;
            return 0;
        }
    return -1;
}

const char *ns_stdp_names(ns_stdp_rule rule)
{
    return rule == NS_STDP_PAIR ? "tau_plus, tau_minus, lambda, alpha, mu_plus, mu_minus, Wmax"
                                : "tau_plus, tau_minus, tau_plus_triplet, tau_minus_triplet, Aplus, Aminus, "
                                  "Aplus_triplet, Aminus_triplet, Wmax";
}

int ns_stdp_check(ns_ctx *ctx, const ns_stdp *s)
{
    if (s->rule != NS_STDP_PAIR && s->rule != NS_STDP_TRIPLET) return ns_error(ctx, NS_EINVAL, "unknown STDP rule");
    for (size_t k = 0; k < NPARAMS; k++) {
        if (!(params[k].rules & rule_bit(s->rule))) continue;
        double v = *(const double *)((const char *)s + params[k].off);
        const char *name = rule_name(s->rule);
        if (params[k].kind == 0 && !(v > 0 && isfinite(v)))
            return ns_error(ctx, NS_EINVAL, "%s: %s = %g ms is outside (0, inf)", name, params[k].name, v);
        if (params[k].kind == 1 && !(v >= 0 && isfinite(v)))
            return ns_error(ctx, NS_EINVAL, "%s: %s = %g is outside [0, inf)", name, params[k].name, v);
        if (params[k].kind == 2 && !(v != 0 && isfinite(v)))
            return ns_error(ctx, NS_EINVAL, "%s: %s = %g must be a nonzero finite weight", name, params[k].name, v);
    }
    return NS_OK;
}

/* ---- the updates ---- */

static double power(double x, double mu) { return mu == 0.0 ? 1.0 : mu == 1.0 ? x : pow(x, mu); }

/* w after a post spike reaches the synapse with the pre trace kp there; ky: o2 just before that
 * post spike (triplet). */
static double facilitate(const ns_stdp *p, double w, double kp, double ky)
{
    if (p->rule == NS_STDP_PAIR) {
        double u = w / p->wmax + p->lambda * power(1.0 - w / p->wmax, p->mu_plus) * kp;
        return u < 1.0 ? u * p->wmax : p->wmax;
    }
    double a = fabs(w) + kp * (p->a_plus + p->a_plus_triplet * ky);
    return copysign(fmin(a, fabs(p->wmax)), p->wmax);
}

/* w after a pre spike meets the post trace km (o1) at the synapse; kx: r2 just before it. */
static double depress(const ns_stdp *p, double w, double km, double kx)
{
    if (p->rule == NS_STDP_PAIR) {
        double u = w / p->wmax - p->alpha * p->lambda * power(w / p->wmax, p->mu_minus) * km;
        return u > 0.0 ? u * p->wmax : 0.0 * p->wmax;
    }
    double a = fabs(w) - km * (p->a_minus + p->a_minus_triplet * kx);
    return copysign(fmax(a, 0.0), p->wmax);
}

/* w after the post spikes of h that reach the synapse (delay d steps) in (from, to], in time
 * order, each facilitating with the pre trace r1 (just after the source's spike at t_last) decayed
 * to its arrival. */
static double post_arrivals(const struct ns_plastic *pl, double w, const post_hist *h, int64_t d, int64_t from,
                            int64_t to, double r1, int64_t t_last)
{
    if (t_last == NEVER) return w; /* no pre trace yet */
    uint32_t k = h->n;
    while (k > 0 && h->e[k - 1].t + d > from) k--;
    for (; k < h->n && h->e[k].t + d <= to; k++) {
        double kp = r1 * exp(-(double)(h->e[k].t + d - t_last) * pl->dt / pl->p.tau_plus);
        w = facilitate(&pl->p, w, kp, h->e[k].o2 - 1.0);
    }
    return w;
}

/* The post trace o1 at stamp `at` from the spikes of h strictly before it (0 without any). */
static double post_trace(const struct ns_plastic *pl, const post_hist *h, int64_t at)
{
    uint32_t k = h->n;
    while (k > 0 && h->e[k - 1].t >= at) k--;
    if (!k) return 0.0;
    return h->e[k - 1].o1 * exp(-(double)(at - h->e[k - 1].t) * pl->dt / pl->p.tau_minus);
}

static int64_t syn_delay(const ns_proj *pr, const ns_csr *c, size_t j) { return ns_csr_has_delays(c) ? (int64_t)ns_csr_delay(c, j) : pr->delay_const; }

void ns_plastic_pre(const ns_proj *pr, int b, uint32_t i, int64_t tp)
{
    struct ns_plastic *pl = pr->plastic;
    pblock *B = &pl->blk[b];
    const ns_csr *c = &pr->block[b];
    const int64_t tl = B->t_last[i], td = B->t_done[i];
    const double r1 = B->r1[i];
    const double decay = tl == NEVER ? 0.0 : (double)(tp - tl) * pl->dt;
    const double r2 = tl == NEVER || pl->p.rule != NS_STDP_TRIPLET /* the pair rule has no r2 */
                          ? 0.0 : B->r2[i] * exp(-decay / pl->p.tau_plus_triplet); /* just before */
    for (size_t j = c->row[i]; j < c->row[i + 1]; j++) {
        const int64_t d = syn_delay(pr, c, j);
        const post_hist *h = &B->hist[c->tgt[j]];
        double w = post_arrivals(pl, c->w[j], h, d, td, tp, r1, tl);
        double km = post_trace(pl, h, tp - d);
        if (km > 0.0) w = depress(&pl->p, w, km, r2);
        c->w[j] = (float)w;
    }
    B->r1[i] = (tl == NEVER ? 0.0 : r1 * exp(-decay / pl->p.tau_plus)) + 1.0;
    B->r2[i] = r2 + 1.0;
    B->t_last[i] = B->t_done[i] = tp;
}

/* Apply source i's pending facilitation (post arrivals up to stamp T) to its synapses of block b. */
static void flush_source(const ns_proj *pr, int b, size_t i, int64_t T)
{
    struct ns_plastic *pl = pr->plastic;
    pblock *B = &pl->blk[b];
    const ns_csr *c = &pr->block[b];
    if (B->t_last[i] != NEVER)
        for (size_t j = c->row[i]; j < c->row[i + 1]; j++)
            c->w[j] = (float)post_arrivals(pl, c->w[j], &B->hist[c->tgt[j]], syn_delay(pr, c, j), B->t_done[i], T,
                                           B->r1[i], B->t_last[i]);
    B->t_done[i] = T;
}

int ns_plastic_window(const ns_net *net, const ns_proj *pr, int b)
{
    struct ns_plastic *pl = pr->plastic;
    pblock *B = &pl->blk[b];
    const ns_pop *tgt = pr->tgt;
    const size_t lo = pr->tgt_blocks == 1 ? 0 : tgt->part.lo[b];
    for (size_t s = 0; s < tgt->win.n; s++) { /* the block's post spikes, in time order */
        const size_t u = tgt->win.unit[s];
        if (u < lo || u >= lo + B->n_tgt) continue;
        post_hist *h = &B->hist[u - lo];
        if (h->n == h->cap) {
            uint32_t cap = h->cap ? 2 * h->cap : 4;
            post_spike *e = realloc(h->e, cap * sizeof *e);
            if (!e) return -1;
            h->e = e;
            h->cap = cap;
        }
        const int64_t t = net->step + tgt->win.step[s] + 1;
        double o1 = 1.0, o2 = 1.0;
        if (h->n) {
            const post_spike *q = &h->e[h->n - 1];
            o1 += q->o1 * exp(-(double)(t - q->t) * pl->dt / pl->p.tau_minus);
            if (pl->p.rule == NS_STDP_TRIPLET) o2 += q->o2 * exp(-(double)(t - q->t) * pl->dt / pl->p.tau_minus_triplet);
        }
        h->e[h->n++] = (post_spike){t, o1, o2};
    }
    /* Now and then: sources silent for longer than the horizon get their pending facilitation up
     * to the window's start (every post arrival up to it is known, no later pre spike acted yet),
     * then post spikes no source can still need are dropped (keeping the last before the cut, whose
     * trace the next depression reads). */
    const int64_t T = net->step;
    if (T < B->next_scan) return 0;
    B->next_scan = T + (pl->horizon / 2 > 0 ? pl->horizon / 2 : 1);
    int64_t cut = INT64_MAX;
    for (size_t i = 0; i < pr->src->n; i++) {
        if (B->t_done[i] < T - pl->horizon) flush_source(pr, b, i, T);
        if (B->t_done[i] < cut) cut = B->t_done[i];
    }
    for (size_t j = 0; j < B->n_tgt; j++) {
        post_hist *h = &B->hist[j];
        uint32_t drop = 0;
        while (drop + 1 < h->n && h->e[drop + 1].t + pr->dmax <= cut) drop++;
        if (drop) {
            memmove(h->e, h->e + drop, (h->n - drop) * sizeof *h->e);
            h->n -= drop;
        }
    }
    return 0;
}

static void free_blocks(struct ns_plastic *pl)
{
    for (int b = 0; b < pl->nblocks; b++) {
        pblock *B = &pl->blk[b];
        free(B->r1);
        free(B->r2);
        free(B->t_last);
        free(B->t_done);
        if (B->hist)
            for (size_t j = 0; j < B->n_tgt; j++) free(B->hist[j].e);
        free(B->hist);
    }
    free(pl->blk);
}

void ns_plastic_free(struct ns_plastic *pl)
{
    if (!pl) return;
    if (pl->blk) free_blocks(pl);
    free(pl);
}

int ns_plastic_new(ns_net *net, ns_proj *pr, const ns_stdp *s)
{
    const ns_model *tm = pr->tgt->model;
    const ns_out_port *out = ns_model_output(tm);
    if (!out || out->kind != NS_OUT_SPIKES || ns_model_channel_port(tm) >= 0 ||
        ns_model_event_port(tm, s->wmax > 0 ? +1 : -1) < 0)
        return ns_error(net->ctx, NS_EINVAL, "%s: plasticity needs a spiking target that takes spikes, not %s (%s)",
                        rule_name(s->rule), pr->tgt->name, tm->name);
    for (int b = 0; b < pr->tgt_blocks; b++) { /* every weight of Wmax's sign, at most |Wmax| */
        const ns_csr *c = &pr->block[b];
        for (size_t i = 0; i < pr->src->n; i++)
            for (size_t j = c->row[i]; j < c->row[i + 1]; j++) {
                double w = c->w[j];
                if (w * s->wmax < 0 || fabs(w) > fabs(s->wmax))
                    return ns_error(net->ctx, NS_EINVAL,
                                    "%s: weight %g from %s %zu to %s %zu is outside [%g, %g] (0 to Wmax: one sign)",
                                    rule_name(s->rule), w, pr->src->name, i, pr->tgt->name,
                                    (size_t)c->tgt[j] + (pr->tgt_blocks == 1 ? 0 : pr->tgt->part.lo[b]),
                                    fmin(0, s->wmax), fmax(0, s->wmax));
            }
    }
    struct ns_plastic *pl = calloc(1, sizeof *pl);
    if (!pl) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    pl->p = *s;
    pl->dt = net->dt;
    pl->horizon = llround(fmax(1000.0, 10.0 * fmax(s->tau_plus, s->tau_plus_triplet)) / net->dt);
    if (pl->horizon < 1) pl->horizon = 1;
    pl->nblocks = pr->tgt_blocks;
    pr->plastic = pl;
    const size_t ns = pr->src->n;
    if (!(pl->blk = calloc((size_t)pl->nblocks, sizeof *pl->blk))) goto oom;
    for (int b = 0; b < pl->nblocks; b++) {
        pblock *B = &pl->blk[b];
        B->n_tgt = pr->tgt_blocks == 1 ? pr->tgt_n : pr->tgt->part.lo[b + 1] - pr->tgt->part.lo[b];
        B->r1 = calloc(ns + 1, sizeof *B->r1);
        B->r2 = calloc(ns + 1, sizeof *B->r2);
        B->t_last = malloc((ns + 1) * sizeof *B->t_last);
        B->t_done = calloc(ns + 1, sizeof *B->t_done);
        B->hist = calloc(B->n_tgt + 1, sizeof *B->hist);
        if (!B->r1 || !B->r2 || !B->t_last || !B->t_done || !B->hist) goto oom;
        for (size_t i = 0; i < ns; i++) B->t_last[i] = NEVER;
    }
    return NS_OK;
oom:
    ns_plastic_free(pl);
    pr->plastic = NULL;
    return ns_error(net->ctx, NS_ENOMEM, "out of memory for the plasticity of %s to %s", pr->src->name, pr->tgt->name);
}

/* ---- reading the weights ---- */

/* A synapse's place: its block and table position, source and target units. */
typedef struct {
    uint32_t pre, post;
    int b;
    size_t at;
} syn_loc;

static int cmp_loc(const void *x, const void *y)
{
    const syn_loc *a = x, *b = y;
    if (a->post != b->post) return a->post < b->post ? -1 : 1;
    return (a->at > b->at) - (a->at < b->at); /* one pair's synapses share a block: made order */
}

/* The longest row of source units over all blocks together. */
static size_t max_row(const ns_proj *pr)
{
    size_t m = 1;
    for (size_t i = 0; i < pr->src->n; i++) {
        size_t n = 0;
        for (int b = 0; b < pr->tgt_blocks; b++) n += pr->block[b].row[i + 1] - pr->block[b].row[i];
        if (n > m) m = n;
    }
    return m;
}

/* Source i's synapses in the files' order into out (room for max_row); returns how many. */
static size_t sorted_row(const ns_proj *pr, uint32_t i, syn_loc *out)
{
    size_t n = 0;
    for (int b = 0; b < pr->tgt_blocks; b++) {
        const ns_csr *c = &pr->block[b];
        const size_t lo = pr->tgt_blocks == 1 ? 0 : pr->tgt->part.lo[b];
        for (size_t j = c->row[i]; j < c->row[i + 1]; j++) out[n++] = (syn_loc){i, (uint32_t)(ns_csr_target(c, j) + lo), b, j};
    }
    qsort(out, n, sizeof *out, cmp_loc);
    return n;
}

/* The weight of a synapse now (stamp T), rounded as a stored one: a plastic synapse with its
 * source's pending facilitation (post arrivals up to T) applied, the table left as it is. */
static double weight_now(const ns_proj *pr, const syn_loc *s, int64_t T)
{
    const ns_csr *c = &pr->block[s->b];
    if (!ns_csr_has_weights(c)) return (float)pr->spec.weight.a;
    const struct ns_plastic *pl = pr->plastic;
    if (!pl) return ns_csr_weight(c, s->at); /* a static table, packed when held (ns_csr.syn16) */
    const pblock *B = &pl->blk[s->b];
    return (float)post_arrivals(pl, c->w[s->at], &B->hist[c->tgt[s->at]], syn_delay(pr, c, s->at), B->t_done[s->pre],
                                T, B->r1[s->pre], B->t_last[s->pre]);
}

int ns_net_n_projections(const ns_net *net) { return net->nprojs; }

static const ns_proj *proj_at(const ns_net *net, int k)
{
    return k >= 0 && k < net->nprojs ? net->projs[k] : NULL;
}

size_t ns_net_projection_synapses(const ns_net *net, int k)
{
    const ns_proj *pr = proj_at(net, k);
    return pr ? pr->n_syn : 0;
}

int ns_net_projection_plastic(const ns_net *net, int k)
{
    const ns_proj *pr = proj_at(net, k);
    return pr && pr->plastic;
}

int ns_net_weights(const ns_net *net, int k, uint32_t *pre, uint32_t *post, double *w)
{
    const ns_proj *pr = proj_at(net, k);
    if (!pr || pr->graded) return ns_error(net->ctx, NS_EINVAL, "no spike projection %d (%d made)", k, net->nprojs);
    syn_loc *row = malloc(max_row(pr) * sizeof *row);
    if (!row) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    size_t at = 0;
    for (size_t i = 0; i < pr->src->n; i++) {
        size_t n = sorted_row(pr, (uint32_t)i, row);
        for (size_t q = 0; q < n; q++, at++) {
            if (pre) pre[at] = row[q].pre;
            if (post) post[at] = row[q].post;
            if (w) w[at] = weight_now(pr, &row[q], net->step);
        }
    }
    free(row);
    return NS_OK;
}

/* ---- weight records ---- */

struct ns_wrec {
    int proj;
    size_t n;            /* synapses sampled */
    size_t *syn;         /* their numbers, as given */
    syn_loc *loc;        /* their places, found when the record opens */
    int64_t interval;    /* steps */
    int64_t last;        /* step of the last sample written, -1 */
    char matrix[256];
    char matrix_path[4096];
};

void ns_plastic_rec_free(struct ns_wrec *w)
{
    if (!w) return;
    free(w->syn);
    free(w->loc);
    free(w);
}

int ns_plastic_rec_writes(const struct ns_wrec *w, const char *file) { return w && !strcmp(w->matrix, file); }

int ns_net_record_weights(ns_net *net, int k, const size_t *syn, size_t n_sample, double interval_ms,
                          const char *file, const char *matrix)
{
    const ns_proj *pr = proj_at(net, k);
    if (!pr || !pr->plastic)
        return ns_error(net->ctx, NS_EINVAL, "record_weights: projection %d is not a plastic one", k);
    int64_t every = ns_net_steps_of(net, interval_ms);
    if (every < 1)
        return ns_error(net->ctx, NS_EINVAL, "record_weights: interval %g ms must be a positive multiple of dt (%g ms)",
                        interval_ms, net->dt);
    if (!matrix || !*matrix || strchr(matrix, '/') || strlen(matrix) >= sizeof((struct ns_wrec *)0)->matrix)
        return ns_error(net->ctx, NS_EINVAL, "record_weights: matrix file name '%s' must be a plain file name",
                        matrix ? matrix : "");
    if (file && !strcmp(file, matrix))
        return ns_error(net->ctx, NS_EINVAL, "record_weights: file and matrix are both %s", file);
    for (int r = 0; r < net->nrecs; r++)
        if (!strcmp(net->recs[r]->file, matrix) || ns_plastic_rec_writes(net->recs[r]->wrec, matrix))
            return ns_error(net->ctx, NS_EINVAL, "two recorders write %s", matrix);
    const size_t N = pr->n_syn;
    if (syn)
        for (size_t s = 0; s < n_sample; s++)
            if (syn[s] >= N)
                return ns_error(net->ctx, NS_EINVAL, "record_weights: synapse %zu is outside [0, %zu] (%zu synapses)",
                                syn[s], N ? N - 1 : 0, N);
    const size_t n = syn ? n_sample : n_sample < N ? n_sample : N;
    struct ns_wrec *w = calloc(1, sizeof *w);
    if (!w || !(w->syn = malloc((n + 1) * sizeof *w->syn))) {
        ns_plastic_rec_free(w);
        return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    }
    w->proj = k;
    w->n = n;
    for (size_t s = 0; s < n; s++) w->syn[s] = syn ? syn[s] : (size_t)((double)s * (double)N / (double)n);
    w->interval = every;
    w->last = -1;
    snprintf(w->matrix, sizeof w->matrix, "%s", matrix);
    ns_pop *ends[2] = {pr->src, pr->tgt};
    ns_recorder *rec = ns_recorder_new(net, NS_REC_WEIGHT, ends, 2, file);
    if (!rec) {
        ns_plastic_rec_free(w);
        return NS_EINVAL;
    }
    rec->wrec = w;
    rec->interval = every;
    return NS_OK;
}

static int cmp_size(const void *x, const void *y)
{
    size_t a = **(const size_t *const *)x, b = **(const size_t *const *)y;
    return (a > b) - (a < b);
}

int ns_plastic_rec_open(ns_net *net, ns_recorder *rec)
{
    struct ns_wrec *w = rec->wrec;
    const ns_proj *pr = net->projs[w->proj];
    int rc = ns_ctx_output_path(net->ctx, w->matrix, w->matrix_path, (int)sizeof w->matrix_path);
    if (!rc) rc = ns_ctx_note_record(net->ctx, w->matrix, net->ordinal);
    if (rc) return rc;
    /* find the sample's places: its numbers in ascending order against a walk over the rows */
    free(w->loc);
    w->loc = malloc((w->n + 1) * sizeof *w->loc);
    const size_t **order = malloc((w->n + 1) * sizeof *order);
    syn_loc *row = malloc(max_row(pr) * sizeof *row);
    if (!w->loc || !order || !row) {
        free(order);
        free(row);
        return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    }
    for (size_t s = 0; s < w->n; s++) order[s] = &w->syn[s];
    qsort(order, w->n, sizeof *order, cmp_size);
    size_t at = 0, q = 0;
    for (size_t i = 0; i < pr->src->n && q < w->n; i++) {
        size_t m = sorted_row(pr, (uint32_t)i, row);
        for (; q < w->n && *order[q] < at + m; q++) w->loc[order[q] - w->syn] = row[*order[q] - at];
        at += m;
    }
    free(order);
    free(row);
    return NS_OK;
}

static void put_row(ns_net *net, ns_recorder *rec, int64_t T, size_t syn, const syn_loc *s, double wt)
{
    char line[160];
    char *e = ns_recorder_put_time(line, net, T);
    e += snprintf(e, sizeof line - (size_t)(e - line), ",%zu,%u,%u,%.9g\n", syn, s->pre, s->post, wt);
    ns_recorder_emit(rec, line, (size_t)(e - line));
}

/* The sample at step T, once per step, when T is on the interval. */
static void sample(ns_net *net, ns_recorder *rec, int64_t T)
{
    struct ns_wrec *w = rec->wrec;
    if (T % w->interval || T == w->last) return;
    const ns_proj *pr = net->projs[w->proj];
    for (size_t s = 0; s < w->n; s++) put_row(net, rec, T, w->syn[s], &w->loc[s], weight_now(pr, &w->loc[s], T));
    w->last = T;
}

void ns_plastic_rec_window(ns_net *net, ns_recorder *rec) { sample(net, rec, net->step); }

int ns_plastic_rec_end(ns_net *net, ns_recorder *rec)
{
    struct ns_wrec *w = rec->wrec;
    if (!rec->fp) return NS_OK;
    sample(net, rec, net->step);
    const ns_proj *pr = net->projs[w->proj];
    syn_loc *row = malloc(max_row(pr) * sizeof *row);
    if (!row) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    /* written beside and renamed when whole: a failed write leaves the last run's matrix as it was */
    char tmp[4200], err[4400];
    FILE *fp = ns_file_start(w->matrix_path, tmp, sizeof tmp, err, sizeof err);
    if (!fp) {
        free(row);
        return ns_error(net->ctx, NS_EIO, "%s", err);
    }
    fputs("synapse,pre,post,weight\n", fp);
    size_t at = 0;
    for (size_t i = 0; i < pr->src->n; i++) {
        size_t m = sorted_row(pr, (uint32_t)i, row);
        for (size_t q = 0; q < m; q++, at++)
            fprintf(fp, "%zu,%u,%u,%.9g\n", at, row[q].pre, row[q].post, weight_now(pr, &row[q], net->step));
    }
    free(row);
    if (ns_file_finish(fp, tmp, w->matrix_path, err, sizeof err)) return ns_error(net->ctx, NS_EIO, "%s", err);
    return NS_OK;
}

/* ---- checkpoints (sim/checkpoint.h) ---- */

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* Row i of block b's synapses in the global order: by target, then table order (the same for any
 * split: a target's synapses keep their order within its block's row). key: room for the row. */
static size_t row_order(const ns_csr *c, size_t i, uint64_t *key)
{
    const size_t lo = c->row[i], n = c->row[i + 1] - lo;
    for (size_t j = 0; j < n; j++) key[j] = (uint64_t)c->tgt[lo + j] << 32 | (uint64_t)j;
    qsort(key, n, sizeof *key, cmp_u64);
    return n;
}

static size_t longest_row(const ns_proj *pr)
{
    size_t m = 1;
    for (int b = 0; b < pr->tgt_blocks; b++)
        for (size_t i = 0; i < pr->src->n; i++)
            if (pr->block[b].row[i + 1] - pr->block[b].row[i] > m) m = pr->block[b].row[i + 1] - pr->block[b].row[i];
    return m;
}

/* The block that holds target unit u, and u's place in it. */
static int block_of(const ns_proj *pr, size_t u, size_t *at)
{
    int b = 0;
    if (pr->tgt_blocks > 1)
        while (b + 1 < pr->tgt_blocks && u >= pr->tgt->part.lo[b + 1]) b++;
    *at = u - (pr->tgt_blocks == 1 ? 0 : pr->tgt->part.lo[b]);
    return b;
}

/* The rank holding target block b of pr. */
static int block_rank(const ns_proj *pr, int b) { return pr->tgt->part.rank[pr->tgt_blocks == 1 ? 0 : b]; }

void ns_plastic_ckpt_write(const void *proj, ns_ckpt_w *w, int ref)
{
    const ns_proj *pr = proj;
    const struct ns_plastic *pl = pr->plastic;
    const uint64_t ns = pr->src->n, nt = pr->tgt_n, nsyn = pr->n_syn;
    ns_ckpt_owner(w, -1);
    ns_ckpt_put(w, &ns, 8), ns_ckpt_put(w, &nt, 8), ns_ckpt_put(w, &nsyn, 8);
    /* ref: a block that took part in the deliveries (every such block holds the same traces) */
    const pblock *R = &pl->blk[ref];
    ns_ckpt_owner(w, block_rank(pr, ref));
    ns_ckpt_put(w, R->r1, ns * sizeof *R->r1);
    ns_ckpt_put(w, R->r2, ns * sizeof *R->r2);
    ns_ckpt_put(w, R->t_last, ns * sizeof *R->t_last);
    ns_ckpt_put(w, R->t_done, ns * sizeof *R->t_done);
    int64_t scan = INT64_MIN; /* every block stepped looks at the same steps: the latest of them */
    for (int b = 0; b < pl->nblocks; b++)
        if (pl->blk[b].next_scan > scan) scan = pl->blk[b].next_scan;
    ns_ckpt_put(w, &scan, sizeof scan);
    for (size_t u = 0; u < nt; u++) {
        size_t at;
        const int b = block_of(pr, u, &at);
        const post_hist *h = &pl->blk[b].hist[at];
        const uint64_t n = h->n;
        ns_ckpt_owner(w, block_rank(pr, b));
        ns_ckpt_put(w, &n, 8);
        for (uint32_t k = 0; k < h->n; k++) {
            ns_ckpt_put(w, &h->e[k].t, 8), ns_ckpt_put(w, &h->e[k].o1, 8), ns_ckpt_put(w, &h->e[k].o2, 8);
        }
    }
    uint64_t *key = malloc((longest_row(pr) + 1) * sizeof *key);
    if (!key) {
        w->failed = 1;
        return;
    }
    for (size_t i = 0; i < ns; i++)
        for (int b = 0; b < pr->tgt_blocks; b++) {
            const ns_csr *c = &pr->block[b];
            ns_ckpt_owner(w, block_rank(pr, b));
            if (!ns_partition_keeps(&pr->tgt->part, pr->tgt_blocks == 1 ? 0 : b)) continue;
            size_t n = row_order(c, i, key);
            for (size_t j = 0; j < n; j++) ns_ckpt_put(w, &c->w[c->row[i] + (key[j] & 0xffffffffu)], sizeof(float));
        }
    free(key);
    ns_ckpt_owner(w, -1);
}

/* A checkpoint's step stamp within what the updates can take differences of. */
static int stamp_ok(int64_t t) { return t >= 0 && t <= INT64_MAX / 4; }

static int bad_stamp(ns_ckpt_r *r, const char *what, int64_t t)
{
    r->bad = 1;
    snprintf(r->what, sizeof r->what, "corrupt plastic state: the step of %s is %lld", what, (long long)t);
    return -1;
}

int ns_plastic_ckpt_read(void *proj, ns_ckpt_r *r, int apply)
{
    ns_proj *pr = proj; /* NULL: check the layout only */
    struct ns_plastic *pl = pr ? pr->plastic : NULL;
    uint64_t ns, nt, nsyn;
    if (ns_ckpt_get(r, &ns, 8) || ns_ckpt_get(r, &nt, 8) || ns_ckpt_get(r, &nsyn, 8)) return -1;
    if (pr && (ns != pr->src->n || nt != pr->tgt_n || nsyn != pr->n_syn)) {
        r->bad = 1;
        snprintf(r->what, sizeof r->what, "plastic projection %d: %llu x %llu units, %llu synapses; here %zu x %zu, %zu",
                 pr->id, (unsigned long long)ns, (unsigned long long)nt, (unsigned long long)nsyn, pr->src->n, pr->tgt_n,
                 pr->n_syn);
        return -1;
    }
    uint64_t room = ns;
    if (ns_ckpt_get_count(r, &room, 4 * 8, "plastic traces")) return -1;
    const size_t at0 = r->at;
    r->at += (size_t)ns * 32;
    int64_t scan;
    if (ns_ckpt_get(r, &scan, sizeof scan)) return -1;
    /* stamps are steps: never (of a source that has not fired) or in [0, 2^61]; anything else
     * would overflow the differences the updates take */
    for (size_t i = 0; i < 2 * ns; i++) {
        int64_t t;
        memcpy(&t, r->p + at0 + ns * 16 + i * 8, 8);
        if (t != NEVER && !stamp_ok(t)) return bad_stamp(r, "a source's spike", t);
    }
    if (!stamp_ok(scan)) return bad_stamp(r, "the next scan", scan);
    if (apply)
        for (int b = 0; b < pl->nblocks; b++) {
            pblock *B = &pl->blk[b];
            memcpy(B->r1, r->p + at0, ns * 8);
            memcpy(B->r2, r->p + at0 + ns * 8, ns * 8);
            memcpy(B->t_last, r->p + at0 + ns * 16, ns * 8);
            memcpy(B->t_done, r->p + at0 + ns * 24, ns * 8);
            B->next_scan = scan;
        }
    for (size_t u = 0; u < nt; u++) {
        uint64_t n;
        if (ns_ckpt_get(r, &n, 8)) return -1;
        if (n > UINT32_MAX || ns_ckpt_get_count(r, &n, 24, "post spikes")) {
            if (!r->bad) r->bad = 1, snprintf(r->what, sizeof r->what, "post spikes of unit %zu: %llu", u, (unsigned long long)n);
            return -1;
        }
        for (uint64_t k = 0; k < n; k++) { /* stamps in order, each in range */
            int64_t t, t0 = 0;
            memcpy(&t, r->p + r->at + k * 24, 8);
            if (k) memcpy(&t0, r->p + r->at + (k - 1) * 24, 8);
            if (!stamp_ok(t) || t < t0) return bad_stamp(r, "a post spike", t);
        }
        if (apply) {
            size_t at;
            post_hist *h = &pl->blk[block_of(pr, u, &at)].hist[at];
            if (n > h->cap) {
                post_spike *e = realloc(h->e, (size_t)n * sizeof *e);
                if (!e) return r->bad = 1, snprintf(r->what, sizeof r->what, "out of memory"), -1;
                h->e = e;
                h->cap = (uint32_t)n;
            }
            for (uint64_t k = 0; k < n; k++) {
                memcpy(&h->e[k].t, r->p + r->at + k * 24, 8);
                memcpy(&h->e[k].o1, r->p + r->at + k * 24 + 8, 8);
                memcpy(&h->e[k].o2, r->p + r->at + k * 24 + 16, 8);
            }
            h->n = (uint32_t)n;
        }
        r->at += (size_t)n * 24;
    }
    uint64_t nw = nsyn;
    if (ns_ckpt_get_count(r, &nw, sizeof(float), "plastic weights")) return -1;
    const unsigned char *wp = r->p + r->at;
    r->at += (size_t)nsyn * sizeof(float);
    if (!apply) return 0;
    uint64_t *key = malloc(longest_row(pr) * sizeof *key);
    if (!key) return r->bad = 1, snprintf(r->what, sizeof r->what, "out of memory"), -1;
    size_t q = 0;
    for (size_t i = 0; i < ns; i++)
        for (int b = 0; b < pr->tgt_blocks; b++) {
            ns_csr *c = &pr->block[b];
            size_t n = row_order(c, i, key);
            for (size_t j = 0; j < n; j++, q++) memcpy(&c->w[c->row[i] + (key[j] & 0xffffffffu)], wp + q * sizeof(float), sizeof(float));
        }
    free(key);
    return 0;
}
