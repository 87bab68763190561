/* sim/checkpoint.c — a network's state between runs in one file, and resuming from it. Everything
 * is kept in global unit order, nothing per thread or block: state arrays, input rings by absolute
 * step, and the spikes still in flight as the spikes themselves (their windows replayed on resume
 * to rebuild held runs and event lists for whatever split the resumed run has). */
#include "sim/checkpoint.h"
#include "sim/net_types.h"
#include "base/files.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { HEADER_BYTES = 24, BOM = 0x01020304 };

/* ---- the spikes of the last windows ---- */

typedef struct {
    int64_t s0;
    int nsteps;
    ns_spikebuf *sp; /* per population (only those whose spikes are replayed are filled) */
} hwin;

struct ns_ckpt_hist {
    int npops;
    unsigned char *flag; /* per population: its spikes travel as held runs or event lists */
    hwin *w;
    size_t n, cap;
};

/* 1 when pr's spikes wait in per-block structures (held runs or event lists) after delivery. */
static int replays(const ns_proj *pr)
{
    return pr->n_syn && ns_model_output(pr->src->model)->kind == NS_OUT_SPIKES && !pr->graded && !pr->plastic &&
           (pr->held || pr->tgt->sparse);
}

void ns_checkpoint_hist_free(struct ns_ckpt_hist *h)
{
    if (!h) return;
    for (size_t k = 0; k < h->cap; k++) {
        for (int p = 0; h->w[k].sp && p < h->npops; p++) ns_spikebuf_release(&h->w[k].sp[p]);
        free(h->w[k].sp);
    }
    free(h->w);
    free(h->flag);
    free(h);
}

/* The history of net, made at its first window (NULL with *none when no spikes need it). */
static struct ns_ckpt_hist *hist_of(ns_net *net, int *none)
{
    *none = 0;
    if (net->ckpt_hist) return net->ckpt_hist;
    int any = 0;
    for (int k = 0; k < net->nprojs; k++) any |= replays(net->projs[k]);
    if (!any) return *none = 1, NULL;
    struct ns_ckpt_hist *h = calloc(1, sizeof *h);
    if (!h || !(h->flag = calloc((size_t)net->npops + 1, 1))) {
        free(h);
        return NULL;
    }
    h->npops = net->npops;
    for (int k = 0; k < net->nprojs; k++)
        if (replays(net->projs[k])) h->flag[net->projs[k]->src->id] = 1;
    return net->ckpt_hist = h;
}

/* A new window at the end of h (its buffers reused from a dropped one); NULL out of memory. */
static hwin *hist_push(struct ns_ckpt_hist *h, int64_t s0, int nsteps)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 8;
        hwin *w = realloc(h->w, cap * sizeof *w);
        if (!w) return NULL;
        memset(w + h->cap, 0, (cap - h->cap) * sizeof *w);
        h->w = w;
        h->cap = cap;
    }
    hwin *w = &h->w[h->n];
    if (!w->sp && !(w->sp = calloc((size_t)h->npops, sizeof *w->sp))) return NULL;
    w->s0 = s0;
    w->nsteps = nsteps;
    for (int p = 0; p < h->npops; p++) w->sp[p].n = 0;
    h->n++;
    return w;
}

/* Drop the windows none of whose spikes can arrive at step `from` or later (kept in order; the
 * dropped ones' buffers move behind the live ones for reuse). */
static void hist_prune(struct ns_ckpt_hist *h, int64_t from, int dmax)
{
    while (h->n && h->w[0].s0 + h->w[0].nsteps - 1 + dmax < from) { /* usually one a window */
        const hwin first = h->w[0];
        memmove(h->w, h->w + 1, (h->n - 1) * sizeof *h->w);
        h->w[--h->n] = first;
    }
}

static int copy_spikes(ns_spikebuf *dst, const ns_spikebuf *src)
{
    dst->n = 0;
    if (!src->n) return 0;
    if (src->n > dst->cap || (src->offset && !dst->offset)) {
        size_t cap = src->n > dst->cap ? src->n : dst->cap;
        uint32_t *u = realloc(dst->unit, cap * sizeof *u);
        if (u) dst->unit = u;
        int32_t *s = realloc(dst->step, cap * sizeof *s);
        if (s) dst->step = s;
        double *o = realloc(dst->offset, cap * sizeof *o);
        if (o) dst->offset = o;
        if (!u || !s || !o) return -1;
        dst->cap = cap;
    }
    memcpy(dst->unit, src->unit, src->n * sizeof *src->unit);
    memcpy(dst->step, src->step, src->n * sizeof *src->step);
    if (src->offset) memcpy(dst->offset, src->offset, src->n * sizeof *src->offset);
    dst->n = src->n;
    return 0;
}

/* n spikes from a checkpoint's bytes (steps, units, offsets or NULL; possibly unaligned) into dst. */
static int copy_raw(ns_spikebuf *dst, size_t n, const unsigned char *st, const unsigned char *un, const unsigned char *of)
{
    ns_spikebuf_release(dst);
    dst->unit = malloc((n ? n : 1) * sizeof *dst->unit);
    dst->step = malloc((n ? n : 1) * sizeof *dst->step);
    if (of) dst->offset = malloc((n ? n : 1) * sizeof *dst->offset);
    if (!dst->unit || !dst->step || (of && !dst->offset)) return -1;
    memcpy(dst->unit, un, n * sizeof *dst->unit);
    memcpy(dst->step, st, n * sizeof *dst->step);
    if (of) memcpy(dst->offset, of, n * sizeof *dst->offset);
    dst->n = n;
    dst->cap = n ? n : 1;
    return 0;
}

int ns_checkpoint_note_window(ns_net *net, int nsteps)
{
    int none;
    struct ns_ckpt_hist *h = hist_of(net, &none);
    if (none) return 0;
    if (!h) return -1;
    hist_prune(h, net->step + nsteps, net->dmax);
    hwin *w = hist_push(h, net->step, nsteps);
    if (!w) return -1;
    for (int p = 0; p < net->npops; p++) {
        if (!h->flag[p]) continue;
        ns_spikebuf *b = &w->sp[p];
        if (copy_spikes(b, &net->pops[p]->win)) return -1;
        if (!net->pops[p]->win.offset && b->offset) { /* this window's spikes are grid spikes */
            free(b->offset);
            b->offset = NULL;
        }
    }
    return 0;
}

/* ---- writing ---- */

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++) h = (h ^ b[k]) * 0x100000001b3ull;
    return h;
}
#define FNV0 0xcbf29ce484222325ull

/* 1 when this rank provides the current segment's bytes. */
static int provides(const ns_ckpt_w *w) { return w->owner < 0 ? w->rank == 0 : w->owner == w->rank; }

void ns_ckpt_put(ns_ckpt_w *w, const void *p, size_t n)
{
    if (!n || w->failed || !provides(w)) return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 1 << 16;
        while (cap < w->len + n) cap *= 2;
        unsigned char *b = realloc(w->buf, cap);
        if (!b) {
            w->failed = 1;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    if (w->nseg) w->seg[2 * (w->nseg - 1) + 1] += n;
}

void ns_ckpt_owner(ns_ckpt_w *w, int owner)
{
    if (w->nranks <= 1 || (w->nseg && w->owner == owner)) return;
    w->owner = owner;
    if (w->nseg == w->segcap) {
        size_t cap = w->segcap ? 2 * w->segcap : 256;
        uint64_t *s = realloc(w->seg, 2 * cap * sizeof *s);
        if (!s) {
            w->failed = 1;
            return;
        }
        w->seg = s;
        w->segcap = cap;
    }
    w->seg[2 * w->nseg] = (uint64_t)(owner + 1);
    w->seg[2 * w->nseg + 1] = 0;
    w->nseg++;
}

static void put_u32(ns_ckpt_w *w, uint32_t v) { ns_ckpt_put(w, &v, 4); }
static void put_u64(ns_ckpt_w *w, uint64_t v) { ns_ckpt_put(w, &v, 8); }
static void put_i64(ns_ckpt_w *w, int64_t v) { ns_ckpt_put(w, &v, 8); }
static void put_str(ns_ckpt_w *w, const char *s)
{
    put_u32(w, (uint32_t)strlen(s));
    ns_ckpt_put(w, s, strlen(s));
}

/* The network's fingerprint: what must be equal for a checkpoint to fit it. */
static void put_fingerprint(ns_ckpt_w *w, const ns_net *net)
{
    put_u64(w, ns_ctx_seed(net->ctx));
    put_u32(w, (uint32_t)net->npops), put_u32(w, (uint32_t)net->nprojs), put_u32(w, (uint32_t)net->ndevs);
    put_u32(w, (uint32_t)net->nrecs), put_u32(w, (uint32_t)net->window), put_u32(w, (uint32_t)net->dmax);
    for (int k = 0; k < net->npops; k++) {
        const ns_pop *p = net->pops[k];
        put_str(w, p->name), put_str(w, p->model->name);
        put_u64(w, p->n);
        put_u32(w, (uint32_t)p->model->n_state), put_u32(w, (uint32_t)p->model->n_inputs);
        put_u64(w, p->ring_len);
        put_u32(w, (uint32_t)p->sparse), put_u32(w, (uint32_t)p->lag);
        put_u64(w, p->model->params_size);
    }
    for (int k = 0; k < net->nprojs; k++) {
        const ns_proj *pr = net->projs[k];
        put_u32(w, (uint32_t)pr->src->id), put_u32(w, (uint32_t)pr->tgt->id);
        put_u64(w, pr->n_syn), put_u64(w, pr->tgt_n);
        put_u32(w, (uint32_t)pr->dmin), put_u32(w, (uint32_t)pr->dmax);
        put_u32(w, (uint32_t)pr->graded), put_u32(w, pr->plastic != NULL), put_u32(w, (uint32_t)pr->held);
    }
    for (int k = 0; k < net->ndevs; k++) put_u32(w, (uint32_t)net->devs[k]->kind), put_u32(w, (uint32_t)net->devs[k]->tgt->id);
    for (int k = 0; k < net->nrecs; k++) put_u32(w, (uint32_t)net->recs[k]->kind), put_u32(w, (uint32_t)net->recs[k]->npops);
}

static void put_pop(ns_ckpt_w *w, const ns_net *net, ns_pop *p)
{
    const ns_model *m = p->model;
    ns_ckpt_put(w, p->params, m->params_size);
    const uint64_t up = p->unit_params ? (uint64_t)(p->n * m->params_size) : 0;
    put_u64(w, up);
    ns_ckpt_put(w, p->unit_params, up);
    for (int v = 0; v < m->n_state; v++) ns_ckpt_put(w, p->state[v], p->n * sizeof(double)); /* whole after a run */
    /* the input rings: each rank holds the pending input of its own units (a ring of channels:
     * the rank of the population's first block) */
    for (int r = 0; r < m->n_inputs; r++) { /* rows in absolute-step order from the current step */
        const double *ring = p->input ? p->input[r] : NULL;
        put_u64(w, ring ? (uint64_t)(p->ring_len * p->stride[r]) : 0);
        for (size_t j = 0; ring && j < p->ring_len; j++) {
            const double *row = ring + (size_t)((net->step + (int64_t)j) % (int64_t)p->ring_len) * p->stride[r];
            if (w->nranks <= 1 || p->stride[r] != p->n) {
                ns_ckpt_owner(w, w->nranks <= 1 ? -1 : p->part.rank[0]);
                ns_ckpt_put(w, row, p->stride[r] * sizeof(double));
                continue;
            }
            for (int q = 0; q < w->nranks; q++) {
                size_t lo, hi;
                ns_partition_rank_range(&p->part, q, &lo, &hi);
                ns_ckpt_owner(w, q);
                ns_ckpt_put(w, row + lo, (hi - lo) * sizeof(double));
            }
        }
        ns_ckpt_owner(w, -1);
    }
    /* private state: a population kept on one rank has it there; one split over ranks keeps it
     * per unit (refuse_save checks: n equal parts in unit order), each rank its own units' */
    const int split = w->nranks > 1 && p->part.placed;
    ns_ckpt_owner(w, p->data && m->state_size && w->nranks > 1 && !split ? p->part.rank[0] : -1);
    size_t len = p->data && m->state_size && (split || provides(w)) ? m->state_size(p->data) : 0;
    put_u64(w, len);
    if (len) {
        unsigned char *buf = malloc(len);
        if (!buf) {
            w->failed = 1;
            return;
        }
        m->state_save(p->data, buf);
        if (!split) ns_ckpt_put(w, buf, len);
        for (int q = 0; split && q < w->nranks; q++) {
            size_t lo, hi;
            ns_partition_rank_range(&p->part, q, &lo, &hi);
            ns_ckpt_owner(w, q);
            ns_ckpt_put(w, buf + lo * (len / p->n), (hi - lo) * (len / p->n));
        }
        free(buf);
    }
    ns_ckpt_owner(w, -1);
}

static void put_history(ns_ckpt_w *w, const ns_net *net)
{
    const struct ns_ckpt_hist *h = net->ckpt_hist;
    size_t first = 0, n = h ? h->n : 0;
    while (first < n && h->w[first].s0 + h->w[first].nsteps - 1 + net->dmax < net->step) first++;
    put_u64(w, n - first);
    for (size_t k = first; k < n; k++) {
        const hwin *x = &h->w[k];
        put_i64(w, x->s0);
        put_u32(w, (uint32_t)x->nsteps);
        for (int p = 0; p < net->npops; p++) {
            const ns_spikebuf *b = h->flag[p] ? &x->sp[p] : NULL;
            put_u64(w, b ? b->n : 0);
            put_u32(w, b && b->offset ? 1 : 0);
            if (!b) continue;
            ns_ckpt_put(w, b->step, b->n * sizeof *b->step);
            ns_ckpt_put(w, b->unit, b->n * sizeof *b->unit);
            if (b->offset) ns_ckpt_put(w, b->offset, b->n * sizeof *b->offset);
        }
    }
}

static void put_recorders(ns_ckpt_w *w, const ns_net *net)
{
    for (int k = 0; k < net->nrecs; k++) {
        const ns_recorder *rec = net->recs[k];
        if (rec->kind == NS_REC_RATE) {
            put_i64(w, rec->cur_bin);
            ns_ckpt_put(w, rec->counts, (size_t)rec->npops * sizeof *rec->counts);
        } else if (rec->kind == NS_REC_SUM) {
            put_i64(w, rec->sum_samples), put_i64(w, rec->sum_step0), put_i64(w, rec->sum_step1);
            ns_ckpt_put(w, rec->sum_first, (size_t)rec->npops * sizeof(double));
            ns_ckpt_put(w, rec->sum_last, (size_t)rec->npops * sizeof(double));
            ns_ckpt_put(w, rec->sum_dev, (size_t)rec->npops * sizeof(double));
        }
    }
}

/* Why net cannot be checkpointed, or NULL. */
static int refuse_save(ns_net *net)
{
    if (!net->finalized)
        return ns_error(net->ctx, NS_ESTATE, "a checkpoint is made between runs: this network has not run yet");
    for (int k = 0; k < net->npops; k++) {
        const ns_pop *p = net->pops[k];
        if (p->data && !p->model->state_size)
            return ns_error(net->ctx, NS_EINVAL, "population %s (%s) keeps private state that checkpoints cannot save",
                            p->name, p->model->name);
    }
    for (int k = 0; net->transport->nranks > 1 && k < net->npops; k++) {
        const ns_pop *p = net->pops[k];
        const size_t len = p->data && p->model->state_size && p->part.placed ? p->model->state_size(p->data) : 0;
        if (len % (p->n ? p->n : 1))
            return ns_error(net->ctx, NS_EINVAL, "population %s (%s) is split over ranks and keeps private state that "
                            "is not per unit: checkpoints under several ranks cannot gather it", p->name, p->model->name);
    }
    for (int k = 0; k < net->nprojs; k++)
        if (net->projs[k]->plastic && net->projs[k]->tgt->sparse)
            return ns_error(net->ctx, NS_EINVAL, "a plastic projection onto %s, which takes its spikes as lists: "
                            "checkpoints cannot save its spikes in flight", net->projs[k]->tgt->name);
    return NS_OK;
}

/* The global reference block of plastic projection pr (the lowest target block holding synapses,
 * found over ranks: each rank knows the tables of its own blocks), or -1 (the transport failed). */
static int plastic_ref(ns_net *net, const ns_proj *pr)
{
    const int ns = (int)pr->src->n, nb = pr->tgt_blocks;
    int64_t mine = -(int64_t)(nb - 1); /* none anywhere: the last block, as on one rank */
    for (int b = nb - 1; b >= 0; b--)
        if (ns_partition_keeps(&pr->tgt->part, nb == 1 ? 0 : b) && pr->block[b].row && pr->block[b].row[ns]) mine = -b;
    if (net->transport->reduce(net->transport, net->ctx, &mine, 1, NS_REDUCE_MAX)) return -1;
    return (int)-mine;
}

/* The body as this rank provides it (w); 0, or an ns_status code with the message on the context. */
static int put_body(ns_net *net, ns_ckpt_w *w)
{
    put_i64(w, net->step);
    ns_ckpt_put(w, &net->dt, sizeof net->dt);
    put_fingerprint(w, net);
    for (int k = 0; k < net->npops; k++) put_pop(w, net, net->pops[k]);
    for (int k = 0; k < net->nprojs; k++)
        if (net->projs[k]->plastic) {
            const int ref = plastic_ref(net, net->projs[k]);
            if (ref < 0) return NS_ERUN;
            ns_plastic_ckpt_write(net->projs[k], w, ref);
        }
    put_history(w, net);
    put_recorders(w, net);
    return NS_OK;
}

/* Under several ranks: every rank's segments gathered on rank 0 and put in order into *out
 * (rank 0: the body, malloc'd, *outlen bytes). Every rank calls it; 0, or an ns_status code. */
static int gather_body(ns_net *net, ns_ckpt_w *w, unsigned char **out, size_t *outlen)
{
    ns_transport *t = net->transport;
    const int K = t->nranks;
    /* what a rank sends: its segment count, its lengths of every segment, then its bytes */
    const size_t head = (1 + w->nseg) * 8, mine = head + w->len;
    unsigned char *send = malloc(mine);
    int rc = !send || w->failed ? ns_error(net->ctx, NS_ENOMEM, "out of memory for a checkpoint") : NS_OK;
    if (send) {
        const uint64_t nseg = w->nseg;
        memcpy(send, &nseg, 8);
        for (size_t k = 0; k < w->nseg; k++) memcpy(send + 8 + 8 * k, &w->seg[2 * k + 1], 8);
        if (w->len) memcpy(send + head, w->buf, w->len);
    }
    unsigned char *all = NULL;
    size_t lens[K];
    rc = t->agree(t, net->ctx, rc, NULL);
    if (!rc) rc = t->gather(t, net->ctx, send, mine, &all, lens);
    free(send);
    if (rc || t->rank != 0) return rc;
    size_t at[K], data[K];
    size_t base = 0;
    for (int q = 0; q < K; q++) { /* each rank's part: its header, then its data */
        uint64_t n;
        memcpy(&n, all + base, 8);
        if (n != w->nseg || lens[q] < (1 + n) * 8) {
            free(all);
            return ns_error(net->ctx, NS_ERUN, "the ranks made different checkpoints (%llu and %zu segments)",
                            (unsigned long long)n, w->nseg);
        }
        at[q] = base + 8;
        data[q] = base + (1 + n) * 8;
        base += lens[q];
    }
    size_t total = 0;
    for (int q = 0; q < K; q++) total += lens[q];
    unsigned char *body = malloc(total + 1);
    if (!body) {
        free(all);
        return ns_error(net->ctx, NS_ENOMEM, "out of memory for a checkpoint");
    }
    size_t n = 0;
    for (size_t k = 0; k < w->nseg; k++) {
        const int q = w->seg[2 * k] ? (int)w->seg[2 * k] - 1 : 0;
        uint64_t len;
        memcpy(&len, all + at[q] + 8 * k, 8);
        memcpy(body + n, all + data[q], len);
        data[q] += len;
        n += len;
    }
    free(all);
    *out = body;
    *outlen = n;
    return NS_OK;
}

/* Rank 0: the file at path from the body (header, body, checksum). */
static int write_file(ns_net *net, const char *path, int overwrite, const unsigned char *body, size_t n)
{
    if (!overwrite && access(path, F_OK) == 0)
        return ns_error(net->ctx, NS_EINVAL, "%s: exists already (a checkpoint never replaces a file unless asked to: "
                        "overwrite = true)", path);
    char tmp[4200], err[4400];
    FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, sizeof err);
    if (!fp) return ns_error(net->ctx, NS_EIO, "%s", err);
    const uint32_t version = NS_CHECKPOINT_VERSION, bom = BOM;
    const uint64_t len = HEADER_BYTES + n + 8, sum = fnv(FNV0, body, n);
    int bad = fwrite(NS_CHECKPOINT_MAGIC, 1, 8, fp) != 8 || fwrite(&version, 4, 1, fp) != 1 || fwrite(&bom, 4, 1, fp) != 1 ||
              fwrite(&len, 8, 1, fp) != 1 || (n && fwrite(body, 1, n, fp) != n) || fwrite(&sum, 8, 1, fp) != 1;
    if (bad) {
        fclose(fp);
        remove(tmp);
        return ns_error(net->ctx, NS_EIO, "%s: write failed", path);
    }
    if (ns_file_finish(fp, tmp, path, err, sizeof err)) return ns_error(net->ctx, NS_EIO, "%s", err);
    return NS_OK;
}

int ns_checkpoint_save(ns_net *net, const char *path, int overwrite)
{
    int rc = refuse_save(net); /* the same on every rank */
    if (rc) return rc;
    ns_transport *t = net->transport;
    ns_ckpt_w w = {.rank = t->rank, .nranks = t->nranks, .owner = -1};
    ns_ckpt_owner(&w, -1);
    rc = put_body(net, &w);
    unsigned char *body = w.buf;
    size_t n = w.len;
    if (!rc && t->nranks > 1) {
        body = NULL;
        rc = gather_body(net, &w, &body, &n);
    } else if (!rc && w.failed) {
        rc = ns_error(net->ctx, NS_ENOMEM, "%s: out of memory", path);
    }
    if (!rc && t->rank == 0) rc = write_file(net, path, overwrite, body, n);
    if (body != w.buf) free(body);
    free(w.buf);
    free(w.seg);
    if (t->nranks > 1 && rc != NS_ERUN) rc = t->agree(t, net->ctx, rc, NULL); /* rank 0's outcome, everywhere */
    return rc;
}

/* ---- reading ---- */

int ns_ckpt_get(ns_ckpt_r *r, void *dst, size_t n)
{
    if (r->bad) return -1;
    if (n > r->len - r->at) {
        r->bad = 1;
        snprintf(r->what, sizeof r->what, "truncated: %zu bytes needed at byte %zu, %zu left", n, r->at, r->len - r->at);
        return -1;
    }
    if (dst) memcpy(dst, r->p + r->at, n);
    r->at += n;
    return 0;
}

int ns_ckpt_get_count(ns_ckpt_r *r, uint64_t *n, size_t size, const char *what)
{
    if (r->bad) return -1;
    if (*n > (r->len - r->at) / (size ? size : 1)) {
        r->bad = 1;
        snprintf(r->what, sizeof r->what, "corrupt length: %llu %s of %zu bytes at byte %zu, %zu bytes left",
                 (unsigned long long)*n, what, size, r->at, r->len - r->at);
        return -1;
    }
    return 0;
}

static uint32_t get_u32(ns_ckpt_r *r)
{
    uint32_t v = 0;
    ns_ckpt_get(r, &v, 4);
    return v;
}
static uint64_t get_u64(ns_ckpt_r *r)
{
    uint64_t v = 0;
    ns_ckpt_get(r, &v, 8);
    return v;
}
static int64_t get_i64(ns_ckpt_r *r)
{
    int64_t v = 0;
    ns_ckpt_get(r, &v, 8);
    return v;
}

static int fail(ns_ckpt_r *r, const char *fmt, const char *a, const char *b)
{
    if (!r->bad) {
        r->bad = 1;
        snprintf(r->what, sizeof r->what, fmt, a, b);
    }
    return -1;
}

/* A string into out (len bytes). */
static int get_str(ns_ckpt_r *r, char *out, size_t len)
{
    uint64_t n = get_u32(r);
    if (r->bad) return -1;
    if (n >= len || ns_ckpt_get_count(r, &n, 1, "characters")) return fail(r, "corrupt length of a name", "", "");
    memcpy(out, r->p + r->at, n);
    out[n] = '\0';
    r->at += n;
    return 0;
}

/* The fingerprint as the file holds it. */
typedef struct {
    char name[64], model[64];
    uint64_t n, ring_len, params_size;
    uint32_t n_state, n_inputs, sparse, lag;
} fp_pop;

typedef struct {
    uint64_t seed;
    uint32_t npops, nprojs, ndevs, nrecs, window, dmax;
    fp_pop *pop;
    uint32_t *rec_kind, *rec_npops;
    unsigned char *plastic;
} fprint;

static void fprint_free(fprint *f)
{
    free(f->pop);
    free(f->rec_kind);
    free(f->rec_npops);
    free(f->plastic);
}

/* Read the fingerprint; with net, compare it and say the first difference. */
static int get_fingerprint(ns_ckpt_r *r, fprint *f, const ns_net *net)
{
    char here[200], there[200];
#define DIFF(...)                                                                                   \
    do {                                                                                            \
        r->bad = 1;                                                                                 \
        snprintf(r->what, sizeof r->what, "a checkpoint of another network: " __VA_ARGS__);         \
        return -1;                                                                                  \
    } while (0)
    f->seed = get_u64(r);
    f->npops = get_u32(r), f->nprojs = get_u32(r), f->ndevs = get_u32(r), f->nrecs = get_u32(r);
    f->window = get_u32(r), f->dmax = get_u32(r);
    if (r->bad) return -1;
    uint64_t np = f->npops, npr = f->nprojs, nd = f->ndevs, nr = f->nrecs;
    if (ns_ckpt_get_count(r, &np, 40, "populations") || ns_ckpt_get_count(r, &npr, 44, "projections") ||
        ns_ckpt_get_count(r, &nd, 8, "devices") || ns_ckpt_get_count(r, &nr, 8, "recorders"))
        return -1;
    if (net) {
        if (f->seed != ns_ctx_seed(net->ctx))
            DIFF("seed %llu there, %llu here", (unsigned long long)f->seed, (unsigned long long)ns_ctx_seed(net->ctx));
        if (f->npops != (uint32_t)net->npops) DIFF("%u populations there, %d here", f->npops, net->npops);
    }
    f->pop = calloc(f->npops + 1, sizeof *f->pop);
    f->rec_kind = calloc(f->nrecs + 1, sizeof *f->rec_kind);
    f->rec_npops = calloc(f->nrecs + 1, sizeof *f->rec_npops);
    f->plastic = calloc(f->nprojs + 1, 1);
    if (!f->pop || !f->rec_kind || !f->rec_npops || !f->plastic) return fail(r, "out of memory", "", "");
    for (uint32_t k = 0; k < f->npops; k++) {
        fp_pop *q = &f->pop[k];
        if (get_str(r, q->name, sizeof q->name) || get_str(r, q->model, sizeof q->model)) return -1;
        q->n = get_u64(r);
        q->n_state = get_u32(r), q->n_inputs = get_u32(r);
        q->ring_len = get_u64(r);
        q->sparse = get_u32(r), q->lag = get_u32(r);
        q->params_size = get_u64(r);
        if (r->bad) return -1;
        if (q->n_state > NS_MODEL_MAX_STATE || q->n_inputs > NS_MAX_INPUTS || q->params_size > 1u << 20 || !q->n ||
            q->n > UINT32_MAX || !q->ring_len || q->ring_len > UINT32_MAX)
            return fail(r, "corrupt description of population '%s'", q->name, "");
        if (!net) continue;
        const ns_pop *p = net->pops[k];
        snprintf(there, sizeof there, "'%s' (%s, %llu units)", q->name, q->model, (unsigned long long)q->n);
        snprintf(here, sizeof here, "'%s' (%s, %zu units)", p->name, p->model->name, p->n);
        if (strcmp(here, there)) DIFF("population %u is %s there, %s here", k, there, here);
        if (q->n_state != (uint32_t)p->model->n_state || q->n_inputs != (uint32_t)p->model->n_inputs ||
            q->params_size != p->model->params_size)
            DIFF("population %s's model %s has another layout (another nsim version?)", p->name, p->model->name);
        if (q->ring_len != p->ring_len || q->sparse != (uint32_t)p->sparse || q->lag != (uint32_t)p->lag)
            DIFF("population %s takes its input otherwise (%s, a ring of %llu steps there; %s, %zu here: an input mode "
                 "or a state record changed)", p->name, q->sparse ? "lists" : "rows", (unsigned long long)q->ring_len,
                 p->sparse ? "lists" : "rows", p->ring_len);
    }
    if (net && (f->nprojs != (uint32_t)net->nprojs || f->ndevs != (uint32_t)net->ndevs || f->nrecs != (uint32_t)net->nrecs))
        DIFF("%u projections, %u devices, %u recorders there; %d, %d, %d here", f->nprojs, f->ndevs, f->nrecs,
             net->nprojs, net->ndevs, net->nrecs);
    for (uint32_t k = 0; k < f->nprojs; k++) {
        uint32_t src = get_u32(r), tgt = get_u32(r);
        uint64_t nsyn = get_u64(r), tgt_n = get_u64(r);
        uint32_t dmin = get_u32(r), dmax = get_u32(r), graded = get_u32(r), plastic = get_u32(r), held = get_u32(r);
        if (r->bad) return -1;
        if (src >= f->npops || tgt >= f->npops || plastic > 1) return fail(r, "corrupt description of a projection", "", "");
        f->plastic[k] = (unsigned char)plastic;
        if (!net) continue;
        const ns_proj *pr = net->projs[k];
        if ((int)src != pr->src->id || (int)tgt != pr->tgt->id || nsyn != pr->n_syn || tgt_n != pr->tgt_n)
            DIFF("projection %u is %s -> %s with %llu synapses there, %s -> %s with %zu here", k, f->pop[src].name,
                 f->pop[tgt].name, (unsigned long long)nsyn, pr->src->name, pr->tgt->name, pr->n_syn);
        if ((int)dmin != pr->dmin || (int)dmax != pr->dmax || (int)graded != pr->graded ||
            (int)plastic != (pr->plastic != NULL) || (int)held != pr->held)
            DIFF("projection %u (%s -> %s) has other delays or synapses (%u..%u steps there, %d..%d here)", k,
                 pr->src->name, pr->tgt->name, dmin, dmax, pr->dmin, pr->dmax);
    }
    for (uint32_t k = 0; k < f->ndevs; k++) {
        uint32_t kind = get_u32(r), tgt = get_u32(r);
        if (r->bad) return -1;
        if (net && ((int)kind != (int)net->devs[k]->kind || (int)tgt != net->devs[k]->tgt->id))
            DIFF("device %u differs (kind or target)", k);
    }
    for (uint32_t k = 0; k < f->nrecs; k++) {
        f->rec_kind[k] = get_u32(r), f->rec_npops[k] = get_u32(r);
        if (r->bad) return -1;
        if (f->rec_kind[k] > NS_REC_WEIGHT || f->rec_npops[k] > f->npops + 1024u)
            return fail(r, "corrupt description of a recorder", "", "");
        if (net && ((int)f->rec_kind[k] != (int)net->recs[k]->kind || (int)f->rec_npops[k] != net->recs[k]->npops))
            DIFF("recorder %u differs (kind or populations)", k);
    }
    if (net && (f->window != (uint32_t)net->window || f->dmax != (uint32_t)net->dmax))
        DIFF("windows of %u steps and delays up to %u there; %d and %d here", f->window, f->dmax, net->window, net->dmax);
#undef DIFF
    return 0;
}

/* One population's section; with apply, into p. */
static int get_pop(ns_ckpt_r *r, const fp_pop *q, ns_net *net, ns_pop *p, int apply)
{
    const int64_t S = net ? net->step : 0;
    if (ns_ckpt_get(r, NULL, q->params_size)) return -1;
    const unsigned char *params = r->p + r->at - q->params_size;
    uint64_t up = get_u64(r);
    if (r->bad) return -1;
    if ((up && up != q->n * q->params_size) || ns_ckpt_get_count(r, &up, 1, "bytes of per-unit parameters"))
        return fail(r, "corrupt length of the per-unit parameters of '%s'", q->name, "");
    const unsigned char *units = r->p + r->at;
    r->at += up;
    if (p && !apply) { /* per-unit parameters are fixed at the first run: they must be the script's */
        if ((up != 0) != (p->unit_params != NULL) || (up && memcmp(units, p->unit_params, up)))
            return fail(r, "a checkpoint of another network: the per-unit parameters of %s differ", q->name, "");
        char err[512];
        void *consts = calloc(1, p->model->consts_size ? p->model->consts_size : 1);
        void *copy = malloc(q->params_size + 1); /* aligned for the model, unlike the file's bytes */
        const int oom = !consts || !copy;
        if (!oom) memcpy(copy, params, q->params_size);
        int bad = oom || (p->model->init && p->model->init(copy, consts, net->dt, err, sizeof err));
        free(consts);
        free(copy);
        if (bad) return fail(r, "the parameters of %s are refused: %s", q->name, oom ? "out of memory" : err);
    }
    uint64_t nstate = q->n * q->n_state;
    if (ns_ckpt_get_count(r, &nstate, sizeof(double), "state values")) return -1;
    const unsigned char *state = r->p + r->at;
    r->at += nstate * sizeof(double);
    if (apply) {
        memcpy(p->params, params, q->params_size);
        if (p->model->init) p->model->init(p->params, p->consts, net->dt, p->err, sizeof p->err); /* checked */
        p->err[0] = '\0';
        for (uint32_t v = 0; v < q->n_state; v++) memcpy(p->state[v], state + (size_t)v * q->n * sizeof(double), q->n * sizeof(double));
    }
    for (uint32_t port = 0; port < q->n_inputs; port++) {
        uint64_t cnt = get_u64(r);
        if (r->bad) return -1;
        if (ns_ckpt_get_count(r, &cnt, sizeof(double), "input values")) return -1;
        if (cnt % q->ring_len) return fail(r, "corrupt length of an input ring of '%s'", q->name, "");
        if (p && cnt != (p->input && p->input[port] ? p->ring_len * p->stride[port] : 0))
            return fail(r, "a checkpoint of another network: the input ring of %s has another size", q->name, "");
        const unsigned char *ring = r->p + r->at;
        r->at += cnt * sizeof(double);
        if (apply && cnt) {
            const size_t stride = p->stride[port];
            for (size_t j = 0; j < p->ring_len; j++)
                memcpy(p->input[port] + (size_t)((S + (int64_t)j) % (int64_t)p->ring_len) * stride,
                       ring + j * stride * sizeof(double), stride * sizeof(double));
        }
    }
    uint64_t len = get_u64(r);
    if (r->bad || ns_ckpt_get_count(r, &len, 1, "bytes of model state")) return -1;
    const unsigned char *data = r->p + r->at;
    r->at += len;
    if (p) {
        const ns_model *m = p->model;
        size_t want = p->data && m->state_size ? m->state_size(p->data) : 0;
        if (len != want)
            return fail(r, "a checkpoint of another network: the private state of %s has another size", q->name, "");
        if (apply && len) {
            char err[512];
            if (m->state_load(p->data, data, len, err, sizeof err)) return fail(r, "%s", err, "");
        }
    }
    return 0;
}

/* 1 when population p's spikes are replayed (a source of a held or listed projection). */
static int replayed(const ns_net *net, int p)
{
    for (int k = 0; k < net->nprojs; k++)
        if (net->projs[k]->src->id == p && replays(net->projs[k])) return 1;
    return 0;
}

/* The windows of spikes in flight; with apply, replayed into net's held lists and event lists. */
static int get_history(ns_ckpt_r *r, const fprint *f, ns_net *net, int apply)
{
    uint64_t nw = get_u64(r);
    if (r->bad || ns_ckpt_get_count(r, &nw, 12, "windows")) return -1;
    const int64_t S = net ? net->step : 0;
    struct ns_ckpt_hist *h = NULL;
    int none = 1;
    if (apply) {
        h = hist_of(net, &none);
        if (!none && !h) return fail(r, "out of memory", "", "");
    }
    int64_t last_end = INT64_MIN;
    for (uint64_t k = 0; k < nw; k++) {
        int64_t s0 = get_i64(r);
        uint32_t nsteps = get_u32(r);
        if (r->bad) return -1;
        if (!nsteps || nsteps > f->window || s0 < 0 || s0 > INT64_MAX / 4 || s0 < last_end ||
            (net && s0 + (int64_t)nsteps > S))
            return fail(r, "corrupt window of spikes in flight", "", "");
        last_end = s0 + nsteps;
        hwin *w = h ? hist_push(h, s0, (int)nsteps) : NULL;
        if (h && !w) return fail(r, "out of memory", "", "");
        for (uint32_t p = 0; p < f->npops; p++) {
            uint64_t n = get_u64(r);
            uint32_t off = get_u32(r);
            if (r->bad || ns_ckpt_get_count(r, &n, off ? 16 : 8, "spikes")) return -1;
            if (off > 1 || (n && net && !replayed(net, (int)p))) return fail(r, "corrupt spikes in flight", "", "");
            const unsigned char *st = r->p + r->at, *un = st + n * 4, *of = un + n * 4;
            r->at += n * (off ? 16 : 8);
            for (uint64_t j = 0; j < n; j++) {
                int32_t s;
                uint32_t u;
                memcpy(&s, st + j * 4, 4);
                memcpy(&u, un + j * 4, 4);
                if (s < 0 || (uint32_t)s >= nsteps || u >= f->pop[p].n)
                    return fail(r, "corrupt spikes in flight of '%s'", f->pop[p].name, "");
            }
            if (!w || !h->flag[p]) continue;
            if (copy_raw(&w->sp[p], n, st, un, off ? of : NULL)) return fail(r, "out of memory", "", "");
        }
    }
    if (!apply || none) return 0;
    /* Replay: each window's delivery as the run that wrote the checkpoint made it (projections in
     * order, each block's spikes in (step, unit) order), onto this run's blocks; arrivals before S
     * were applied in that run, so their lists are emptied after each window. */
    for (size_t k = 0; k < h->n; k++) {
        hwin *w = &h->w[k];
        for (int p = 0; p < net->npops; p++)
            if (h->flag[p]) {
                ns_spikebuf t = net->pops[p]->win;
                net->pops[p]->win = w->sp[p];
                w->sp[p] = t;
            }
        net->step = w->s0;
        net->window_now = w->nsteps;
        int oom = 0;
        for (int j = 0; j < net->nprojs; j++)
            if (replays(net->projs[j]))
                for (int tid = 0; tid < net->threads; tid++) oom |= ns_proj_deliver(net, net->projs[j], tid) != 0;
        for (int p = 0; p < net->npops; p++)
            if (h->flag[p]) {
                ns_spikebuf t = net->pops[p]->win;
                net->pops[p]->win = w->sp[p];
                w->sp[p] = t;
            }
        net->step = S;
        if (oom) return fail(r, "out of memory", "", "");
        for (int p = 0; p < net->npops; p++) {
            ns_pop *pop = net->pops[p];
            /* the lists are rings: their last L steps before S are every slot (and a window far
             * back, which a damaged file may give, costs no more than that) */
            const int64_t L = (int64_t)(pop->ring_len > pop->held_len ? pop->ring_len : pop->held_len);
            const int64_t from = S - (w->s0 + 1) > L ? S - L : w->s0 + 1;
            for (int64_t s = from; s < S; s++)
                for (int b = 0; b < pop->part.nblocks; b++) {
                    if (pop->ev) pop->ev[b][(size_t)(s % (int64_t)pop->ring_len)].n = 0;
                    if (pop->held) pop->held[b][(size_t)(s % (int64_t)pop->held_len)].n = 0;
                }
        }
    }
    for (int p = 0; p < net->npops; p++) net->pops[p]->win.n = 0;
    return 0;
}

static int get_recorders(ns_ckpt_r *r, const fprint *f, ns_net *net, int apply)
{
    for (uint32_t k = 0; k < f->nrecs; k++) {
        const uint64_t np = f->rec_npops[k];
        ns_recorder *rec = net ? net->recs[k] : NULL;
        if (f->rec_kind[k] == NS_REC_RATE) {
            int64_t cur = get_i64(r);
            uint64_t n = np;
            if (r->bad || ns_ckpt_get_count(r, &n, 8, "rate counts")) return -1;
            if (cur < 0) return fail(r, "corrupt rate recorder", "", "");
            if (apply) {
                rec->cur_bin = cur;
                memcpy(rec->counts, r->p + r->at, np * 8);
            }
            r->at += np * 8;
        } else if (f->rec_kind[k] == NS_REC_SUM) {
            int64_t v[3] = {get_i64(r), get_i64(r), get_i64(r)};
            uint64_t n = 3 * np;
            if (r->bad || ns_ckpt_get_count(r, &n, 8, "sums")) return -1;
            if (apply) {
                rec->sum_samples = v[0], rec->sum_step0 = v[1], rec->sum_step1 = v[2];
                memcpy(rec->sum_first, r->p + r->at, np * 8);
                memcpy(rec->sum_last, r->p + r->at + np * 8, np * 8);
                memcpy(rec->sum_dev, r->p + r->at + 2 * np * 8, np * 8);
            }
            r->at += 3 * np * 8;
        }
    }
    return 0;
}

/* The header and the checksum of buf; 0, or -1 with r->what. Leaves r at the body's start. */
static int get_header(ns_ckpt_r *r)
{
    if (r->len < 8 || memcmp(r->p, NS_CHECKPOINT_MAGIC, 8))
        return fail(r, "not an nsim checkpoint (its first bytes are not %s)", NS_CHECKPOINT_MAGIC, "");
    if (r->len < HEADER_BYTES + 8 + 16) return fail(r, "truncated: too short for a checkpoint's header", "", "");
    uint32_t version, bom;
    uint64_t len;
    memcpy(&version, r->p + 8, 4);
    memcpy(&bom, r->p + 12, 4);
    memcpy(&len, r->p + 16, 8);
    if (bom != BOM) return fail(r, "written on a machine of the other byte order", "", "");
    if (version != NS_CHECKPOINT_VERSION) {
        char v[32], mine[32];
        snprintf(v, sizeof v, "%u", version);
        snprintf(mine, sizeof mine, "%d", NS_CHECKPOINT_VERSION);
        return fail(r, "checkpoint version %s; this nsim reads version %s", v, mine);
    }
    if (len != r->len) {
        char a[64], b[64];
        snprintf(a, sizeof a, "%zu", r->len);
        snprintf(b, sizeof b, "%llu", (unsigned long long)len);
        return fail(r, len > r->len ? "truncated: %s bytes of %s" : "%s bytes, its header says %s", a, b);
    }
    uint64_t sum;
    memcpy(&sum, r->p + r->len - 8, 8);
    if (fnv(FNV0, r->p + HEADER_BYTES, r->len - HEADER_BYTES - 8) != sum)
        return fail(r, "corrupt: its checksum does not match its content", "", "");
    r->at = HEADER_BYTES;
    r->len -= 8; /* the checksum is not content */
    return 0;
}

/* The whole body: checked (net NULL: its layout only; else also against net), or applied. */
static int parse(ns_ckpt_r *r, ns_net *net, int apply)
{
    r->at = HEADER_BYTES;
    int64_t step = get_i64(r);
    double dt = 0;
    ns_ckpt_get(r, &dt, sizeof dt);
    if (r->bad) return -1;
    if (step < 0 || step > INT64_MAX / 4 || !(dt > 0)) return fail(r, "corrupt time", "", "");
    if (net && fabs(dt - net->dt) > 1e-12 * net->dt) {
        char a[64], b[64];
        snprintf(a, sizeof a, "%g", dt);
        snprintf(b, sizeof b, "%g", net->dt);
        return fail(r, "a checkpoint of another network: dt %s ms there, %s ms here", a, b);
    }
    fprint f = {0};
    int rc = get_fingerprint(r, &f, net);
    if (!rc && apply) net->step = step; /* rings and replay count from here */
    for (uint32_t k = 0; !rc && k < f.npops; k++) rc = get_pop(r, &f.pop[k], net, net ? net->pops[k] : NULL, apply);
    for (uint32_t k = 0; !rc && k < f.nprojs; k++)
        if (f.plastic[k]) rc = ns_plastic_ckpt_read(net ? net->projs[k] : NULL, r, apply);
    if (!rc && net && !apply) net->step = step, rc = get_history(r, &f, net, 0), net->step = 0;
    else if (!rc) rc = get_history(r, &f, net, apply);
    if (!rc) rc = get_recorders(r, &f, net, apply);
    if (!rc && r->at != r->len) rc = fail(r, "corrupt: bytes left over after its last section", "", "");
    fprint_free(&f);
    return rc ? -1 : 0;
}

int ns_checkpoint_check_buffer(const void *buf, size_t len, char *err, size_t errlen)
{
    ns_ckpt_r r = {.p = buf, .len = len};
    if (get_header(&r) || parse(&r, NULL, 0)) {
        snprintf(err, errlen, "%s", r.what);
        return -1;
    }
    return 0;
}

double ns_checkpoint_time_ms(const void *buf, size_t len, double dt_ms)
{
    int64_t step;
    if (len < HEADER_BYTES + 8 || memcmp(buf, NS_CHECKPOINT_MAGIC, 8)) return -1;
    memcpy(&step, (const unsigned char *)buf + HEADER_BYTES, 8);
    return step < 0 ? -1 : (double)step * dt_ms;
}

int ns_checkpoint_load_buffer(ns_net *net, const void *buf, size_t len, const char *name)
{
    if (net->step)
        return ns_error(net->ctx, NS_ESTATE, "%s: a network resumes from a checkpoint before it runs (it is at %g ms)",
                        name, ns_net_time(net));
    int rc = ns_net_prepare(net);
    if (rc) return rc;
    ns_ckpt_r r = {.p = buf, .len = len};
    if (get_header(&r) || parse(&r, net, 0)) return ns_error(net->ctx, NS_EINVAL, "%s: %s", name, r.what);
    r.len = len;
    if (get_header(&r) || parse(&r, net, 1)) { /* checked above: only memory can fail here */
        return ns_error(net->ctx, NS_ENOMEM, "%s: %s", name, r.what);
    }
    return NS_OK;
}

int ns_checkpoint_load(ns_net *net, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return ns_error(net->ctx, NS_EIO, "%s: cannot read the checkpoint", path);
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t grown = cap ? 2 * cap : 1 << 16;
            unsigned char *b = realloc(buf, grown);
            if (!b) {
                free(buf);
                fclose(fp);
                return ns_error(net->ctx, NS_ENOMEM, "%s: out of memory", path);
            }
            buf = b;
            cap = grown;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    int err = ferror(fp);
    fclose(fp);
    int rc = err ? ns_error(net->ctx, NS_EIO, "%s: read failed", path) : ns_checkpoint_load_buffer(net, buf, len, path);
    free(buf);
    return rc;
}
