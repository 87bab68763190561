/* sim/transport_mpi.c — the MPI transport (see transport.h). Every rank runs the same script and
 * steps only its own blocks; at a window's end each rank merges its threads' spikes, one
 * MPI_Allgatherv hands every rank's lists (and graded outputs) to every rank, and each merges
 * them again in (step, unit) order, so every rank holds the same window lists. Collectives are
 * nonblocking and waited for while looking for a failure notice: a rank that stopped on its own
 * stops the others at their next collective instead of leaving them waiting. */
#include "sim/transport.h"

#include "sim/net_types.h"

#include <stdlib.h>
#include <string.h>

#ifdef NS_HAVE_MPI
#include <limits.h>
#include <mpi.h>
#include <sched.h>

typedef struct {
    int *cnt;                 /* ranks x populations: spikes x 2 + 1 when they carry offsets */
    int *mine;                /* this rank's row of cnt */
    int *bytes, *displ;       /* per rank: bytes of its part of the exchange, where it lands */
    size_t *cur;              /* per rank: the read position in the received parts */
    unsigned char *sbuf, *rbuf;
    size_t scap, rcap;
    int npops;                /* populations the arrays are made for */
    int broken;               /* a notice came: no further collective call is made */
    char why[NS_TRANSPORT_NOTICE_LEN]; /* the notice's message */
} mpi_state;

/* Room for need bytes in *buf (capacity *cap); 0, or -1 out of memory. */
static int grow(unsigned char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t c = need + need / 2 + 64;
    unsigned char *b = realloc(*buf, c);
    if (!b) return -1;
    *buf = b;
    *cap = c;
    return 0;
}

/* Wait for request r while looking for a failure notice (NS_TRANSPORT_FAIL_TAG); a notice is read,
 * its message becomes the context's, and the transport is broken (no further collective call).
 * 0, or NS_ERUN. */
static int wait_for(ns_transport *t, ns_ctx *ctx, MPI_Request *r)
{
    mpi_state *m = t->impl;
    for (long spin = 0;; spin++) {
        int done = 0, notice = 0;
        MPI_Test(r, &done, MPI_STATUS_IGNORE);
        if (done) return 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, NS_TRANSPORT_FAIL_TAG, MPI_COMM_WORLD, &notice, &st);
        if (notice) { /* "STATUS rank R: MESSAGE": its message becomes this rank's */
            char text[NS_TRANSPORT_NOTICE_LEN];
            MPI_Recv(text, (int)sizeof text, MPI_CHAR, st.MPI_SOURCE, NS_TRANSPORT_FAIL_TAG, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            text[sizeof text - 1] = '\0';
            const char *msg = strchr(text, ' ');
            m->broken = 1;
            snprintf(m->why, sizeof m->why, "%s", msg ? msg + 1 : text);
            return ns_error(ctx, NS_ERUN, "%s", m->why);
        }
        if (spin > 64) sched_yield(); /* ranks may outnumber cores (mpirun --oversubscribe) */
    }
}

/* A failure of this rank alone inside a collective step (out of memory for its buffers): the
 * others are told with a notice, as the command tells them of a failure outside a run, and this
 * rank makes no further collective call. Returns rc. */
static int fail_alone(ns_transport *t, ns_ctx *ctx, int rc)
{
    mpi_state *m = t->impl;
    char msg[NS_TRANSPORT_NOTICE_LEN];
    snprintf(msg, sizeof msg, "%d rank %d: %s", rc, t->rank, ns_ctx_errmsg(ctx));
    for (int r = 0; r < t->nranks; r++)
        if (r != t->rank) MPI_Send(msg, (int)sizeof msg, MPI_CHAR, r, NS_TRANSPORT_FAIL_TAG, MPI_COMM_WORLD);
    m->broken = 1;
    snprintf(m->why, sizeof m->why, "%s", ns_ctx_errmsg(ctx));
    return rc;
}

static int broken(ns_transport *t, ns_ctx *ctx)
{
    mpi_state *m = t->impl;
    return m->broken ? ns_error(ctx, NS_ERUN, "%s", m->why[0] ? m->why : "another rank stopped") : 0;
}

/* Every rank: the status and message of rank low (the lowest that failed) on every rank's ctx;
 * returns that status. */
static int tell_failure(ns_transport *t, ns_ctx *ctx, int low, int rc)
{
    char msg[NS_TRANSPORT_NOTICE_LEN] = "";
    if (t->rank == low) snprintf(msg, sizeof msg, "%d %s", rc, ns_ctx_errmsg(ctx));
    MPI_Request r;
    MPI_Ibcast(msg, (int)sizeof msg, MPI_CHAR, low, MPI_COMM_WORLD, &r);
    if (wait_for(t, ctx, &r)) return NS_ERUN;
    if (t->rank == low) return rc;
    msg[sizeof msg - 1] = '\0';
    char *text = NULL;
    long code = strtol(msg, &text, 10);
    if (text && *text == ' ') text++;
    return ns_error(ctx, code ? (int)code : NS_ERUN, "rank %d: %s", low, text ? text : "");
}

static int mpi_agree(ns_transport *t, ns_ctx *ctx, int rc, int *stop)
{
    if (broken(t, ctx)) return rc ? rc : NS_ERUN;
    /* one reduction: the lowest failing rank (nranks: none) and, negated, any stop */
    int mine[2] = {rc ? t->rank : t->nranks, stop && *stop ? -1 : 0}, got[2];
    MPI_Request r;
    MPI_Iallreduce(mine, got, 2, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &r);
    if (wait_for(t, ctx, &r)) return NS_ERUN;
    const int low = got[0];
    if (stop) *stop = got[1] < 0;
    return low == t->nranks ? 0 : tell_failure(t, ctx, low, rc);
}

static int mpi_reduce(ns_transport *t, ns_ctx *ctx, int64_t *v, int n, int op)
{
    if (broken(t, ctx)) return -1;
    MPI_Request r;
    MPI_Iallreduce(MPI_IN_PLACE, v, n, MPI_INT64_T, op == NS_REDUCE_SUM ? MPI_SUM : MPI_MAX, MPI_COMM_WORLD, &r);
    return wait_for(t, ctx, &r) ? -1 : 0;
}

/* The per-rank arrays for npops populations (and one more entry a rank: its step's failure); 0,
 * or -1 out of memory. */
static int arrays(mpi_state *m, int nranks, int npops)
{
    if (m->npops == npops && m->cnt) return 0;
    free(m->cnt);
    m->cnt = malloc(((size_t)nranks + 1) * ((size_t)npops + 1) * sizeof *m->cnt);
    if (!m->cnt) return -1;
    m->mine = m->cnt + (size_t)nranks * ((size_t)npops + 1);
    m->npops = npops;
    return 0;
}

/* bytes[] and displ[] from each rank's byte count as a size_t; -1 when a part is beyond an int. */
static int layout(ns_transport *t, const size_t *sz)
{
    mpi_state *m = t->impl;
    size_t at = 0;
    for (int r = 0; r < t->nranks; r++) {
        if (sz[r] > INT_MAX || at > INT_MAX) return -1;
        m->bytes[r] = (int)sz[r];
        m->displ[r] = (int)at;
        at += sz[r];
    }
    return at > INT_MAX ? -1 : 0;
}

static int mpi_share(ns_transport *t, ns_net *net, int k, double *x, int rows)
{
    mpi_state *m = t->impl;
    if (broken(t, net->ctx)) return NS_ERUN;
    const ns_pop *pop = net->pops[k];
    const int K = t->nranks;
    size_t sz[K], lo, hi, total = 0;
    for (int r = 0; r < K; r++) {
        ns_partition_rank_range(&pop->part, r, &lo, &hi);
        sz[r] = (size_t)rows * (hi - lo) * sizeof(double);
        total += sz[r];
    }
    ns_partition_rank_range(&pop->part, t->rank, &lo, &hi);
    if (grow(&m->sbuf, &m->scap, sz[t->rank] + 1) || grow(&m->rbuf, &m->rcap, total + 1))
        return fail_alone(t, net->ctx, ns_error(net->ctx, NS_ENOMEM, "out of memory"));
    if (layout(t, sz)) /* the same on every rank: no notice needed */
        return ns_error(net->ctx, NS_ENOMEM, "%s: more than 2 GB to share at once", pop->name);
    for (int q = 0; q < rows; q++)
        memcpy(m->sbuf + (size_t)q * (hi - lo) * sizeof(double), x + (size_t)q * pop->n + lo, (hi - lo) * sizeof(double));
    MPI_Request r;
    MPI_Iallgatherv(m->sbuf, m->bytes[t->rank], MPI_BYTE, m->rbuf, m->bytes, m->displ, MPI_BYTE, MPI_COMM_WORLD, &r);
    if (wait_for(t, net->ctx, &r)) return NS_ERUN;
    for (int s = 0; s < K; s++) {
        ns_partition_rank_range(&pop->part, s, &lo, &hi);
        for (int q = 0; s != t->rank && q < rows; q++)
            memcpy(x + (size_t)q * pop->n + lo, m->rbuf + (size_t)m->displ[s] + (size_t)q * (hi - lo) * sizeof(double),
                   (hi - lo) * sizeof(double));
    }
    return NS_OK;
}

static int mpi_gather(ns_transport *t, ns_ctx *ctx, const void *buf, size_t len, unsigned char **all, size_t *lens)
{
    mpi_state *m = t->impl;
    *all = NULL;
    if (broken(t, ctx)) return NS_ERUN;
    const int K = t->nranks;
    int64_t mine = (int64_t)len, got[K];
    MPI_Request r;
    MPI_Igather(&mine, 1, MPI_INT64_T, got, 1, MPI_INT64_T, 0, MPI_COMM_WORLD, &r);
    if (wait_for(t, ctx, &r)) return NS_ERUN;
    size_t sz[K], total = 0;
    for (int q = 0; q < K; q++) total += sz[q] = t->rank == 0 ? (size_t)got[q] : 0;
    /* rank 0 alone knows the sizes: its verdict on them travels with one broadcast */
    int ok = 1;
    if (t->rank == 0) ok = !layout(t, sz) && (*all = malloc(total + 1)) != NULL;
    MPI_Ibcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD, &r);
    if (wait_for(t, ctx, &r)) {
        free(*all);
        *all = NULL;
        return NS_ERUN;
    }
    if (!ok) return ns_error(ctx, NS_ENOMEM, "out of memory, or more than 2 GB, to gather on rank 0");
    MPI_Igatherv(buf, (int)len, MPI_BYTE, *all, m->bytes, m->displ, MPI_BYTE, 0, MPI_COMM_WORLD, &r);
    if (wait_for(t, ctx, &r)) {
        free(*all);
        *all = NULL;
        return NS_ERUN;
    }
    for (int q = 0; t->rank == 0 && q < K; q++) lens[q] = sz[q];
    return NS_OK;
}

/* Room for n spikes (with offsets when off) in the window list; 0, or -1 out of memory. */
static int reserve_win(ns_spikebuf *w, size_t n, int off)
{
    if (!off && w->offset) {
        free(w->offset);
        w->offset = NULL;
    }
    if (n <= w->cap && (!off || w->offset)) return 0;
    const size_t cap = n > w->cap ? n : w->cap;
    ns_spikebuf_release(w);
    w->unit = malloc(cap * sizeof *w->unit);
    w->step = malloc(cap * sizeof *w->step);
    if (off) w->offset = malloc(cap * sizeof *w->offset);
    if (!w->unit || !w->step || (off && !w->offset)) {
        ns_spikebuf_release(w);
        return -1;
    }
    w->cap = cap;
    return 0;
}

/* The graded values a population sends: nsteps x width rows of its units, when a graded
 * projection leaves it. */
static size_t graded_rows(const ns_pop *pop, int nsteps)
{
    if (!pop->graded) return 0;
    return (size_t)nsteps * (size_t)ns_out_port_width(ns_model_output(pop->model));
}

static int mpi_exchange(ns_transport *t, ns_net *net, int nsteps, int step_rc)
{
    mpi_state *m = t->impl;
    const double t0 = ns_wall_seconds();
    if (broken(t, net->ctx)) return step_rc ? step_rc : NS_ERUN;
    const int K = t->nranks, P = net->npops, Q = net->npops + 1, me = t->rank;
    int rc = NS_OK;
    if (arrays(m, K, P)) return fail_alone(t, net->ctx, ns_error(net->ctx, NS_ENOMEM, "out of memory"));
    m->mine[P] = step_rc;
    for (int k = 0; k < P && !step_rc; k++) { /* this rank's threads merged: its part of each list, in order */
        ns_pop *pop = net->pops[k];
        size_t emitted = 0;
        for (int th = 0; th < net->threads; th++) emitted += pop->tout[th].n;
        ns_pop_merge(net, pop, nsteps);
        pop->n_spikes -= (int64_t)pop->win.n; /* counted again below, with every rank's */
        if (pop->win.n != emitted) rc = ns_error(net->ctx, NS_ENOMEM, "out of memory for spikes of %s", pop->name);
        m->mine[k] = (int)(pop->win.n * 2 + (pop->win.offset != NULL));
    }
    if (step_rc) /* this rank's step failed: its counts are not looked at */
        for (int k = 0; k < P; k++) m->mine[k] = 0;
    MPI_Request r; /* the counts, and each rank's step failure, in one call */
    MPI_Iallgather(m->mine, Q, MPI_INT, m->cnt, Q, MPI_INT, MPI_COMM_WORLD, &r);
    if (wait_for(t, net->ctx, &r)) return NS_ERUN;
    for (int s = 0; s < K; s++)
        if (m->cnt[(size_t)s * (size_t)Q + (size_t)P]) /* the lowest failing rank's message, everywhere */
            return tell_failure(t, net->ctx, s, step_rc);
    size_t sz[K], total = 0;
    for (int s = 0; s < K; s++) {
        sz[s] = 0;
        for (int k = 0; k < P; k++) {
            const int c = m->cnt[(size_t)s * (size_t)Q + (size_t)k];
            size_t lo, hi;
            ns_partition_rank_range(&net->pops[k]->part, s, &lo, &hi);
            sz[s] += (size_t)(c / 2) * (8 + (c & 1 ? 8 : 0)) + graded_rows(net->pops[k], nsteps) * (hi - lo) * sizeof(double);
        }
        total += sz[s];
    }
    if (grow(&m->sbuf, &m->scap, sz[me] + 1) || grow(&m->rbuf, &m->rcap, total + 1))
        return fail_alone(t, net->ctx, ns_error(net->ctx, NS_ENOMEM, "out of memory for the exchange"));
    if (layout(t, sz)) /* the same on every rank: no notice needed */
        return ns_error(net->ctx, NS_ENOMEM, "more than 2 GB of spikes from one rank in a window");
    unsigned char *p = m->sbuf; /* per population: (step, unit) pairs, offsets, graded rows */
    for (int k = 0; k < P; k++) {
        const ns_pop *pop = net->pops[k];
        for (size_t j = 0; j < pop->win.n; j++) {
            memcpy(p, &pop->win.step[j], 4);
            memcpy(p + 4, &pop->win.unit[j], 4);
            p += 8;
        }
        if (pop->win.offset) {
            memcpy(p, pop->win.offset, pop->win.n * sizeof(double));
            p += pop->win.n * sizeof(double);
        }
        size_t lo, hi, rows = graded_rows(pop, nsteps);
        ns_partition_rank_range(&pop->part, me, &lo, &hi);
        for (size_t q = 0; q < rows; q++, p += (hi - lo) * sizeof(double))
            memcpy(p, pop->graded + q * pop->n + lo, (hi - lo) * sizeof(double));
    }
    MPI_Iallgatherv(m->sbuf, m->bytes[me], MPI_BYTE, m->rbuf, m->bytes, m->displ, MPI_BYTE, MPI_COMM_WORLD, &r);
    if (wait_for(t, net->ctx, &r)) return NS_ERUN;
    for (int s = 0; s < K; s++) m->cur[s] = (size_t)m->displ[s];
    for (int k = 0; k < P; k++) { /* every rank's parts merged: ranks hold ascending units */
        ns_pop *pop = net->pops[k];
        size_t n = 0;
        int off = 0;
        for (int s = 0; s < K; s++) {
            n += (size_t)(m->cnt[(size_t)s * (size_t)Q + (size_t)k] / 2);
            off |= m->cnt[(size_t)s * (size_t)Q + (size_t)k] & 1;
        }
        if (reserve_win(&pop->win, n, off)) {
            pop->win.n = 0;
            rc = ns_error(net->ctx, NS_ENOMEM, "out of memory for spikes of %s", pop->name);
        }
        size_t *cnt = pop->step_count;
        memset(cnt, 0, ((size_t)nsteps + 1) * sizeof *cnt);
        for (int s = 0; s < K; s++) {
            const int c = m->cnt[(size_t)s * (size_t)Q + (size_t)k];
            for (int j = 0; j < c / 2; j++) {
                int32_t st;
                memcpy(&st, m->rbuf + m->cur[s] + (size_t)j * 8, 4);
                cnt[st + 1]++;
            }
        }
        for (int q = 0; q < nsteps; q++) cnt[q + 1] += cnt[q];
        for (int s = 0; s < K; s++) {
            const int c = m->cnt[(size_t)s * (size_t)Q + (size_t)k];
            const unsigned char *sp = m->rbuf + m->cur[s], *op = sp + (size_t)(c / 2) * 8;
            for (int j = 0; pop->win.unit && j < c / 2; j++) {
                int32_t st;
                memcpy(&st, sp + (size_t)j * 8, 4);
                size_t at = cnt[st]++;
                pop->win.step[at] = st;
                memcpy(&pop->win.unit[at], sp + (size_t)j * 8 + 4, 4);
                if (off) {
                    if (c & 1) memcpy(&pop->win.offset[at], op + (size_t)j * 8, 8);
                    else pop->win.offset[at] = net->dt;
                }
            }
            m->cur[s] += (size_t)(c / 2) * (8 + (c & 1 ? 8 : 0));
            size_t lo, hi, rows = graded_rows(pop, nsteps);
            ns_partition_rank_range(&pop->part, s, &lo, &hi);
            for (size_t q = 0; q < rows; q++, m->cur[s] += (hi - lo) * sizeof(double))
                if (s != me) memcpy(pop->graded + q * pop->n + lo, m->rbuf + m->cur[s], (hi - lo) * sizeof(double));
        }
        if (pop->win.unit) pop->win.n = n;
        pop->n_spikes += (int64_t)pop->win.n;
    }
    t->bytes_sent += (int64_t)sz[me];
    t->windows++;
    t->exchange_s += ns_wall_seconds() - t0;
    return rc;
}

static void mpi_free(ns_transport *t)
{
    mpi_state *m = t->impl;
    if (m) {
        free(m->cnt);
        free(m->bytes);
        free(m->displ);
        free(m->cur);
        free(m->sbuf);
        free(m->rbuf);
        free(m);
    }
    free(t);
}

/* MPI's world when this process is one of several ranks: 1 and its rank and size, else 0. */
static int world(int *rank, int *size)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (!init || fin) return 0;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return *size > 1;
}

ns_transport *ns_transport_default(void)
{
    int rank = 0, size = 1;
    if (!world(&rank, &size)) return ns_transport_local();
    ns_transport *t = calloc(1, sizeof *t);
    mpi_state *m = calloc(1, sizeof *m);
    if (m) {
        m->bytes = calloc((size_t)size, sizeof *m->bytes);
        m->displ = calloc((size_t)size, sizeof *m->displ);
        m->cur = calloc((size_t)size, sizeof *m->cur);
    }
    if (!t || !m || !m->bytes || !m->displ || !m->cur) {
        if (m) free(m->bytes), free(m->displ), free(m->cur);
        free(m);
        free(t);
        return NULL;
    }
    *t = (ns_transport){.name = "mpi", .rank = rank, .nranks = size, .exchange = mpi_exchange,
                        .agree = mpi_agree, .reduce = mpi_reduce, .share = mpi_share, .gather = mpi_gather, .free = mpi_free, .impl = m};
    return t;
}

void ns_transport_world(int *rank, int *ranks)
{
    *rank = 0;
    *ranks = 1;
    if (!world(rank, ranks)) *rank = 0, *ranks = 1;
}

#else /* built without MPI: one rank */

ns_transport *ns_transport_default(void) { return ns_transport_local(); }

void ns_transport_world(int *rank, int *ranks)
{
    *rank = 0;
    *ranks = 1;
}

#endif
