/* train/snn.c — see snn.h. A batch is cut into shards of NS_SNN_SHARD samples; each shard is a
 * forward pass through all layers over T steps at once (time-major [T][B][.], each Linear one
 * sgemm over T*B rows), the loss, and the backward pass in reverse into its own gradients, on any
 * thread; the gradients are then summed in shard order and Adam walks every parameter array. */
#include "train/snn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "models/cell_file.h"
#include "base/errmsg.h"
#include "train/adam.h"
#include "train/tensor.h"

typedef struct {
    ns_train_param p;
    float *m, *v;
} adam_slot;

/* Learned arrays at most: per hidden layer the Linear's W and b, the neurons' own and a recurrent
 * W; then the readout's W and b. */
enum { MAX_SLOTS = NS_SNN_MAX_LAYERS * (2 + NS_NEURON_MAX_PARAMS + 1) + 2 };

/* The encoding epoch of every evaluation: its draws do not depend on the training epoch. */
#define EVAL_EPOCH UINT64_C(0xE7A1)

/* One shard of a batch: its samples' forward and backward, with its own work arrays, neuron
 * tapes and gradients. Its Linears share W and b with the network's (shallow copies) and own
 * their dW and db; its neuron layers are copies whose learned values are refreshed from the
 * network's before each batch. */
typedef struct {
    ns_linear lin[NS_SNN_MAX_LAYERS + 1], rec[NS_SNN_MAX_LAYERS]; /* rec used where the network's is */
    ns_neuron_layer *neu[NS_SNN_MAX_LAYERS];
    float *grad[MAX_SLOTS];                    /* its gradient of each Adam slot, in the slots' order */
    float *x;                                  /* encoded input [T][B][inputs] */
    ns_binary_rows xin;                        /* its ones, when it is spikes (x_binary) */
    int x_binary;
    float *cur[NS_SNN_MAX_LAYERS], *s[NS_SNN_MAX_LAYERS]; /* input currents and spikes [T][B][H_l] */
    float *y, *logits, *dlogits, *dy, *ds, *dI;
    int *labels, *t_max;                       /* t_max: the leaky readout's step of each maximum */
    double loss, spikes[NS_SNN_MAX_LAYERS];    /* this batch's tallies */
    long right;
    double phase[NS_SNN_PHASES];               /* seconds spent in each phase, summed */
    int rc;                                    /* this batch's status, with the message in err */
    char err[256];
} shard;

struct ns_snn {
    ns_snn_opts o;
    int inputs, classes, L;
    ns_linear *lin[NS_SNN_MAX_LAYERS + 1];     /* hidden layers' inputs, then the readout */
    ns_neuron_layer *neu[NS_SNN_MAX_LAYERS];
    ns_linear *rec[NS_SNN_MAX_LAYERS];         /* recurrent weights (o.recurrent), else NULL */
    float *w0t;                                /* the first Linear's W transposed, for spikes in */
    int w0t_fresh;                             /* 0 once W may have changed: after a learning step,
                                                  and at each entry (params are lent out) */
    shard *sh;                                 /* n_shards of them */
    int n_shards;
    size_t *idx;
    adam_slot slots[MAX_SLOTS];
    int n_slots;
    ns_adam adam;
    double phase[NS_SNN_PHASES];               /* the network's own (the transpose, reduce and Adam) */
};

static const char *const phase_names[NS_SNN_PHASES] = {"encode", "input layer forward", "neurons forward",
                                                       "other Linear forward, readout, loss", "neurons backward",
                                                       "input layer gradients", "other weight gradients",
                                                       "reduce and Adam"};

const char *ns_snn_phase_name(int p) { return p >= 0 && p < NS_SNN_PHASES ? phase_names[p] : "?"; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The calling thread's CPU time, s: the phases count it, so that other programs' load does not. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Add the CPU seconds since *t to phase[p] and restart *t. */
static void lap(double *phase, int p, double *t)
{
    double u = cpu_s();
    phase[p] += u - *t;
    *t = u;
}

void ns_snn_opts_default(ns_snn_opts *o)
{
    memset(o, 0, sizeof *o);
    o->T = 1;
    o->n_hidden = 1;
    o->hidden[0] = 64;
    o->neuron = ns_neuron_opts_default(NS_NEURON_ULTRALIF, 64);
    ns_encoder_defaults(&o->encoder, NS_ENC_BERNOULLI);
    o->batch = 128;
    o->lr = 1e-3f;
    o->lr_schedule = NS_LR_CONSTANT;
    o->seed = 1;
    o->threads = 1;
    o->readout = NS_READOUT_MEAN;
    o->readout_beta = expf(-1.0f / 10.0f);
    o->readout_alpha = expf(-1.0f / 5.0f);
}

int ns_snn_shards(int batch) { return batch < 1 ? 0 : (batch + NS_SNN_SHARD - 1) / NS_SNN_SHARD; }

static void shard_free(ns_snn *n, shard *h)
{
    for (int l = 0; l <= n->L; l++) {
        ns_tensor_free(h->lin[l].dW);
        ns_tensor_free(h->lin[l].db);
    }
    for (int l = 0; l < n->L; l++) {
        ns_tensor_free(h->rec[l].dW);
        ns_neuron_layer_free(h->neu[l]);
        free(h->cur[l]);
        free(h->s[l]);
    }
    free(h->x), free(h->y), free(h->logits), free(h->dlogits), free(h->dy), free(h->ds), free(h->dI);
    free(h->labels), free(h->t_max);
    ns_binary_rows_free(&h->xin);
}

void ns_snn_free(ns_snn *n)
{
    if (!n) return;
    for (int k = 0; n->sh && k < n->n_shards; k++) shard_free(n, &n->sh[k]);
    free(n->sh);
    for (int l = 0; l <= n->L; l++) ns_linear_free(n->lin[l]);
    for (int l = 0; l < n->L; l++) {
        ns_neuron_layer_free(n->neu[l]);
        ns_linear_free(n->rec[l]);
    }
    for (int k = 0; k < n->n_slots; k++) {
        free(n->slots[k].m);
        free(n->slots[k].v);
    }
    free(n->idx), free(n->w0t);
    free(n);
}

static int add_params(ns_snn *n, ns_train_param *p, int count)
{
    for (int k = 0; k < count; k++) {
        if (n->n_slots == MAX_SLOTS) return -1;
        adam_slot *a = &n->slots[n->n_slots++];
        a->p = p[k];
        a->m = calloc(p[k].n, sizeof *a->m);
        a->v = calloc(p[k].n, sizeof *a->v);
        if (!a->m || !a->v) return -1;
    }
    return 0;
}

/* A Linear sharing src's W and b, with its own zeroed dW (and db). -1 out of memory. */
static int shallow_linear(ns_linear *dst, const ns_linear *src)
{
    *dst = *src;
    dst->dW = ns_tensor_create(2, src->out, src->in, 1);
    dst->db = src->b ? ns_tensor_create(1, src->out, 1, 1) : NULL;
    return !dst->dW || (src->b && !dst->db) ? -1 : 0;
}

/* Shard h's arrays for up to B samples; its gradients listed in the slots' order. -1 out of memory. */
static int shard_create(ns_snn *n, shard *h, int B)
{
    const ns_snn_opts *o = &n->o;
    const size_t TB = (size_t)o->T * (size_t)B;
    int widest = n->inputs, k = 0;
    for (int l = 0; l < n->L; l++) {
        const int H = o->hidden[l];
        ns_neuron_opts no = o->neuron;
        no.units = H;
        if (shallow_linear(&h->lin[l], n->lin[l]) || !(h->neu[l] = ns_neuron_layer_create(&no)) ||
            (n->rec[l] && shallow_linear(&h->rec[l], n->rec[l])))
            return -1;
        if (!(h->cur[l] = malloc(TB * (size_t)H * sizeof(float))) || !(h->s[l] = malloc(TB * (size_t)H * sizeof(float))))
            return -1;
        ns_train_param p[NS_NEURON_MAX_PARAMS + 3];
        int c = ns_linear_params(&h->lin[l], p);
        c += ns_neuron_layer_params(h->neu[l], p + c);
        if (n->rec[l]) c += ns_linear_params(&h->rec[l], p + c);
        for (int j = 0; j < c; j++) h->grad[k++] = p[j].grad;
        if (H > widest) widest = H;
    }
    if (shallow_linear(&h->lin[n->L], n->lin[n->L])) return -1;
    ns_train_param p[2];
    int c = ns_linear_params(&h->lin[n->L], p);
    for (int j = 0; j < c; j++) h->grad[k++] = p[j].grad;
    if (k != n->n_slots) return -1;
    const size_t C = (size_t)n->classes;
    h->x = malloc(TB * (size_t)n->inputs * sizeof(float));
    h->y = malloc(TB * C * sizeof(float));
    h->dy = malloc(TB * C * sizeof(float));
    h->logits = malloc((size_t)B * C * sizeof(float));
    h->dlogits = malloc((size_t)B * C * sizeof(float));
    h->ds = malloc(TB * (size_t)widest * sizeof(float));
    h->dI = malloc(TB * (size_t)widest * sizeof(float));
    h->labels = malloc((size_t)B * sizeof(int));
    h->t_max = malloc((size_t)B * C * sizeof(int));
    return !h->x || !h->y || !h->dy || !h->logits || !h->dlogits || !h->ds || !h->dI || !h->labels || !h->t_max ? -1 : 0;
}

ns_snn *ns_snn_create(int inputs, int classes, const ns_snn_opts *o, char *err, size_t errlen)
{
    if (o->T < 1 || o->batch < 1 || o->n_hidden < 1 || o->n_hidden > NS_SNN_MAX_LAYERS || inputs < 1 ||
        classes < 2 || !(o->lr > 0)) {
        ns_errmsg(err, errlen, "network: T, batch, lr and sizes must be positive (hidden layers 1..%d, classes >= 2)",
                 NS_SNN_MAX_LAYERS);
        return NULL;
    }
    if (o->threads < 1 || o->threads > NS_SNN_MAX_THREADS) {
        ns_errmsg(err, errlen, "network: threads is %d, must be in 1..%d", o->threads, NS_SNN_MAX_THREADS);
        return NULL;
    }
    if (o->readout == NS_READOUT_LEAKY && !(o->readout_beta >= 0 && o->readout_beta <= 1 && o->readout_alpha >= 0 &&
                                            o->readout_alpha <= 1)) {
        ns_errmsg(err, errlen, "network: the leaky readout's beta and alpha must be in [0, 1]");
        return NULL;
    }
    for (int l = 0; l < o->n_hidden; l++)
        if (o->hidden[l] < 1) {
            ns_errmsg(err, errlen, "network: hidden layer %d has %d units", l + 1, o->hidden[l]);
            return NULL;
        }
    ns_snn *n = calloc(1, sizeof *n);
    if (!n) goto oom;
    n->o = *o;
    n->inputs = inputs;
    n->classes = classes;
    n->L = o->n_hidden;
    ns_xoshiro rng;
    ns_xoshiro_seed(&rng, o->seed);
    int prev = inputs;
    for (int l = 0; l < n->L; l++) {
        int H = o->hidden[l];
        ns_neuron_opts no = o->neuron;
        no.units = H;
        if (!(n->lin[l] = ns_linear_create(prev, H, 1, &rng)) || !(n->neu[l] = ns_neuron_layer_create(&no))) goto oom;
        if (o->recurrent && !(n->rec[l] = ns_linear_create(H, H, 0, &rng))) goto oom;
        ns_train_param p[NS_NEURON_MAX_PARAMS + 3];
        int c = ns_linear_params(n->lin[l], p);
        c += ns_neuron_layer_params(n->neu[l], p + c);
        if (n->rec[l]) c += ns_linear_params(n->rec[l], p + c);
        if (add_params(n, p, c)) goto oom;
        prev = H;
    }
    if (!(n->lin[n->L] = ns_linear_create(prev, classes, 1, &rng))) goto oom;
    ns_train_param p[2];
    if (add_params(n, p, ns_linear_params(n->lin[n->L], p))) goto oom;
    n->n_shards = ns_snn_shards(o->batch);
    if (!(n->sh = calloc((size_t)n->n_shards, sizeof *n->sh))) goto oom;
    for (int k = 0; k < n->n_shards; k++) {
        const int left = o->batch - k * NS_SNN_SHARD;
        if (shard_create(n, &n->sh[k], left < NS_SNN_SHARD ? left : NS_SNN_SHARD)) goto oom;
    }
    n->idx = malloc((size_t)o->batch * sizeof(size_t));
    size_t wt_bytes = ((size_t)inputs * (size_t)o->hidden[0] * sizeof(float) + 63) / 64 * 64;
    n->w0t = aligned_alloc(64, wt_bytes);
    if (!n->w0t || !n->idx) goto oom;
    n->adam = ns_adam_make(o->lr);
    /* The threads are the trainer's, over shards: BLAS runs in the caller's thread, so that its
     * sums cannot depend on how many threads it would split them over. */
    openblas_set_num_threads(1);
    return n;
oom:
    ns_errmsg(err, errlen, "network: out of memory");
    ns_snn_free(n);
    return NULL;
}

/* Hidden layer l of shard h over T steps for its B samples from the input `in` [T][B][.]: currents
 * into h->cur[l], outputs into h->s[l]. A recurrent layer adds s_{t-1} Wrec^T to step t's current
 * and so runs step by step. */
static int layer_forward(ns_snn *n, shard *h, int l, int B, const float *in, double *t)
{
    const int T = n->o.T, H = n->o.hidden[l];
    const size_t step = (size_t)B * (size_t)H;
    if (l == 0 && in == h->x && h->x_binary) { /* spikes in: a sum of weight rows per spike */
        ns_linear_forward_binary_wt(&h->lin[0], n->w0t, &h->xin, h->cur[0]);
    } else {
        ns_linear_forward(&h->lin[l], T * B, in, h->cur[l]);
    }
    lap(h->phase, l ? NS_SNN_PHASE_FORWARD_OTHER : NS_SNN_PHASE_FORWARD_INPUT, t);
    int rc = 0;
    if (!h->rec[l].W) {
        rc = ns_neuron_layer_forward(h->neu[l], T, B, h->cur[l], h->s[l]);
    } else {
        for (int k = 0; k < T && !rc; k++) {
            if (k)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, H, H, 1.0f, h->s[l] + (k - 1) * step, H,
                            h->rec[l].W->data, H, 1.0f, h->cur[l] + k * step, H);
            rc = ns_neuron_layer_forward_steps(h->neu[l], T, B, k, k + 1, h->cur[l], h->s[l]);
        }
    }
    lap(h->phase, NS_SNN_PHASE_FORWARD_NEURONS, t);
    return rc;
}

/* Backward through hidden layer l of shard h: from h->ds (dL/ds, [T][B][H]) to h->dI
 * (dL/dcurrent). A recurrent layer's step t passes dI_t Wrec on to ds_{t-1} (so ds is changed)
 * and, at the end, dWrec += sum_t dI_t^T s_{t-1}. */
static int layer_backward(ns_snn *n, shard *h, int l, int B, double *t)
{
    const int T = n->o.T, H = n->o.hidden[l];
    const size_t step = (size_t)B * (size_t)H;
    int rc = 0;
    if (!h->rec[l].W) {
        rc = ns_neuron_layer_backward(h->neu[l], T, B, h->ds, h->dI);
        lap(h->phase, NS_SNN_PHASE_BACKWARD_NEURONS, t);
        return rc;
    }
    for (int k = T - 1; k >= 0 && !rc; k--) {
        rc = ns_neuron_layer_backward_steps(h->neu[l], T, B, k, k + 1, h->ds, h->dI);
        if (k && !rc)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, H, 1.0f, h->dI + k * step, H,
                        h->rec[l].W->data, H, 1.0f, h->ds + (k - 1) * step, H);
    }
    lap(h->phase, NS_SNN_PHASE_BACKWARD_NEURONS, t);
    if (!rc && T > 1) ns_linear_backward(&h->rec[l], (T - 1) * B, h->s[l], h->dI + step, NULL);
    lap(h->phase, NS_SNN_PHASE_GRADIENTS, t);
    return rc;
}

/* logits[B][classes] from shard h's readout Linear output h->y. */
static void readout_forward(ns_snn *n, shard *h, int B)
{
    if (n->o.readout == NS_READOUT_LEAKY)
        ns_readout_leaky_forward(n->o.T, B, n->classes, n->o.readout_beta, n->o.readout_alpha, h->y, h->logits,
                                 h->t_max);
    else
        ns_readout_mean_forward(n->o.T, B, n->classes, h->y, h->logits);
}

/* The sum of s[cnt] in double, as eight interleaved partial sums (so that it vectorizes; exact
 * for spikes of 0 and 1). */
static double sum_spikes(const float *s, size_t cnt)
{
    double part[8] = {0};
    size_t k = 0;
    for (; k + 8 <= cnt; k += 8)
        for (int q = 0; q < 8; q++) part[q] += s[k + q];
    for (; k < cnt; k++) part[k % 8] += s[k];
    return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

/* Shard h's part of a batch of `batch` samples: its B samples idx at encoding epoch `epoch`,
 * forward, its sum of losses, right answers and spike sums into its tallies, and with learn its
 * gradients (of the batch's mean loss) into its own arrays. Status in h->rc, message in h->err. */
static void shard_pass(ns_snn *n, shard *h, const ns_dataset *ds, const size_t *idx, int B, int batch, uint64_t epoch,
                       int learn)
{
    const int T = n->o.T, C = n->classes, TB = T * B;
    double t = cpu_s();
    h->loss = 0;
    h->right = 0;
    for (int l = 0; l < n->L; l++) h->spikes[l] = 0;
    h->rc = -1;
    if (n->o.encoder.kind == NS_ENC_BERNOULLI) { /* spikes: straight to their lists, h->x unused */
        if (ns_encode_bernoulli_rows(&n->o.encoder.bernoulli, ds, idx, (size_t)B, T, epoch, &h->xin, h->err,
                                     sizeof h->err))
            return;
        h->x_binary = 1;
    } else {
        if (ns_encode(&n->o.encoder, ds, idx, (size_t)B, T, epoch, h->x, h->err, sizeof h->err)) return;
        if ((h->x_binary = ns_binary_rows_build(&h->xin, TB, n->inputs, h->x)) < 0) {
            ns_errmsg(h->err, sizeof h->err, "out of memory");
            return;
        }
    }
    const int *all = ns_dataset_labels(ds);
    for (int b = 0; b < B; b++) h->labels[b] = all[idx[b]];
    lap(h->phase, NS_SNN_PHASE_ENCODE, &t);
    const float *in = h->x;
    for (int l = 0; l < n->L; l++) {
        if (layer_forward(n, h, l, B, in, &t)) {
            ns_errmsg(h->err, sizeof h->err, "out of memory");
            return;
        }
        in = h->s[l];
        h->spikes[l] = sum_spikes(h->s[l], (size_t)TB * (size_t)n->o.hidden[l]);
    }
    ns_linear_forward(&h->lin[n->L], TB, in, h->y);
    readout_forward(n, h, B);
    double l = ns_loss_cross_entropy_sum(B, C, h->logits, h->labels, learn ? h->dlogits : NULL, batch);
    if (isnan(l)) {
        ns_errmsg(h->err, sizeof h->err, "loss is not a number (labels outside 0..%d?)", C - 1);
        return;
    }
    h->loss = l;
    h->right = ns_count_correct(B, C, h->logits, h->labels);
    lap(h->phase, NS_SNN_PHASE_FORWARD_OTHER, &t);
    h->rc = 0;
    if (!learn) return;
    h->rc = -1;
    for (int k = 0; k < n->L; k++) {
        ns_neuron_layer_zero_grad(h->neu[k]);
        if (h->rec[k].W) ns_linear_zero_grad(&h->rec[k]);
    }
    for (int k = 0; k <= n->L; k++) ns_linear_zero_grad(&h->lin[k]);
    if (n->o.readout == NS_READOUT_LEAKY)
        ns_readout_leaky_backward(T, B, C, n->o.readout_beta, n->o.readout_alpha, h->t_max, h->dlogits, h->dy);
    else
        ns_readout_mean_backward(T, B, C, h->dlogits, h->dy);
    ns_linear_backward(&h->lin[n->L], TB, h->s[n->L - 1], h->dy, h->ds);
    lap(h->phase, NS_SNN_PHASE_GRADIENTS, &t);
    for (int k = n->L - 1; k >= 0; k--) {
        const size_t cnt = (size_t)TB * (size_t)n->o.hidden[k];
        if (n->o.sparsity > 0) { /* lambda * mean rate over the whole batch: lambda / its count each */
            const float g = (float)(n->o.sparsity / ((double)T * batch * n->o.hidden[k]));
            for (size_t i = 0; i < cnt; i++) h->ds[i] += g;
        }
        if (layer_backward(n, h, k, B, &t)) {
            ns_errmsg(h->err, sizeof h->err, "backward without its forward");
            return;
        }
        if (k == 0 && h->x_binary) {
            if (ns_linear_backward_binary(&h->lin[0], &h->xin, h->dI)) {
                ns_errmsg(h->err, sizeof h->err, "out of memory");
                return;
            }
        } else {
            ns_linear_backward(&h->lin[k], TB, k ? h->s[k - 1] : h->x, h->dI, k ? h->ds : NULL);
        }
        lap(h->phase, k ? NS_SNN_PHASE_GRADIENTS : NS_SNN_PHASE_GRADIENTS_INPUT, &t);
    }
    h->rc = 0;
}

/* The first `shards` shards' neuron layers take the network's learned values as they are now. */
static void sync_neurons(ns_snn *n, int shards)
{
    for (int q = 0; q < shards; q++)
        for (int l = 0; l < n->L; l++) {
            ns_train_param src[NS_NEURON_MAX_PARAMS], dst[NS_NEURON_MAX_PARAMS];
            int np = ns_neuron_layer_params(n->neu[l], src);
            ns_neuron_layer_params(n->sh[q].neu[l], dst);
            for (int j = 0; j < np; j++) memcpy(dst[j].value, src[j].value, src[j].n * sizeof(float));
        }
}

/* Elements [a, b) of slot k: its gradient, the shards' summed in shard order (whoever runs this),
 * and with step an Adam step. */
static void reduce_step(ns_snn *n, int k, size_t a, size_t b, int shards, int step)
{
    adam_slot *s = &n->slots[k];
    float *g = s->p.grad;
    memcpy(g + a, n->sh[0].grad[k] + a, (b - a) * sizeof *g);
    for (int q = 1; q < shards; q++) {
        const float *gq = n->sh[q].grad[k];
        for (size_t i = a; i < b; i++) g[i] += gq[i];
    }
    if (step) ns_adam_update(&n->adam, s->p.value + a, g + a, s->m + a, s->v + a, b - a);
}

enum { REDUCE_PIECE = 16384 }; /* elements of a slot one thread reduces at a time */

/* Forward a batch of B samples (indices idx) at encoding epoch `epoch` in shards of
 * NS_SNN_SHARD, on up to o.threads threads; the loss (and with learn, the backward pass, the
 * gradients summed over the shards in shard order, and with learn 1 an Adam step). Adds the
 * summed losses, right answers and spike sums to the tallies. */
static int batch_pass(ns_snn *n, const ns_dataset *ds, const size_t *idx, int B, uint64_t epoch, int learn,
                      double *loss, long *right, double *spikes, char *err, size_t errlen)
{
    const int shards = ns_snn_shards(B);
    double t = cpu_s();
    if (!n->w0t_fresh) { /* for spikes in (whether the input is spikes shows in the shards) */
        ns_linear_transpose(n->lin[0], n->w0t);
        n->w0t_fresh = 1;
    }
    sync_neurons(n, shards);
    /* the reduction's pieces: every slot cut into runs of REDUCE_PIECE elements */
    int pieces = 0;
    for (int k = 0; k < n->n_slots; k++) pieces += (int)((n->slots[k].p.n + REDUCE_PIECE - 1) / REDUCE_PIECE);
    if (learn == 1) ns_adam_tick(&n->adam);
    lap(n->phase, NS_SNN_PHASE_ADAM, &t);
#ifdef _OPENMP
    const int threads = n->o.threads < shards ? n->o.threads : shards;
#pragma omp parallel num_threads(threads)
#endif
    {
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (int q = 0; q < shards; q++) {
            const int lo = q * NS_SNN_SHARD, cnt = B - lo < NS_SNN_SHARD ? B - lo : NS_SNN_SHARD;
            shard_pass(n, &n->sh[q], ds, idx + lo, cnt, B, epoch, learn);
        }
        int ok = 1;
        for (int q = 0; q < shards; q++) ok &= n->sh[q].rc == 0;
        if (learn && ok) {
            /* every thread walks the same list of pieces; piece p is reduced by one of them */
            double tr = cpu_s();
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1) nowait
#endif
            for (int p = 0; p < pieces; p++) {
                int k = 0, rest = p;
                for (;; k++) {
                    int in_k = (int)((n->slots[k].p.n + REDUCE_PIECE - 1) / REDUCE_PIECE);
                    if (rest < in_k) break;
                    rest -= in_k;
                }
                size_t a = (size_t)rest * REDUCE_PIECE, b = a + REDUCE_PIECE;
                if (b > n->slots[k].p.n) b = n->slots[k].p.n;
                reduce_step(n, k, a, b, shards, learn == 1);
            }
            /* the thread's reduce time goes to shard tid's tally (no shard runs now) */
            n->sh[tid].phase[NS_SNN_PHASE_ADAM] += cpu_s() - tr;
        }
    }
    t = cpu_s();
    for (int q = 0; q < shards; q++)
        if (n->sh[q].rc) return ns_errmsg(err, errlen, "%s", n->sh[q].err);
    for (int q = 0; q < shards; q++) { /* the tallies in shard order */
        *loss += n->sh[q].loss;
        *right += n->sh[q].right;
        for (int l = 0; l < n->L; l++) spikes[l] += n->sh[q].spikes[l];
    }
    if (learn == 1) n->w0t_fresh = 0;
    lap(n->phase, NS_SNN_PHASE_ADAM, &t);
    return 0;
}

static int run_set(ns_snn *n, const ns_dataset *ds, int epoch, int learn, ns_snn_stats *st, char *err, size_t errlen)
{
    const double t0 = now_s();
    const size_t N = ns_dataset_n(ds);
    n->w0t_fresh = 0;
    if ((int)ns_dataset_dim(ds) != n->inputs || ns_dataset_classes(ds) > n->classes) {
        ns_errmsg(err, errlen, "data set of %zu features and %d classes, network of %d and %d", ns_dataset_dim(ds),
                 ns_dataset_classes(ds), n->inputs, n->classes);
        return -1;
    }
    size_t *order = malloc((N ? N : 1) * sizeof *order);
    if (!order) return ns_errmsg(err, errlen, "out of memory");
    if (learn) ns_dataset_permutation(N, n->o.seed, (uint64_t)epoch, order);
    else
        for (size_t i = 0; i < N; i++) order[i] = i;
    double loss = 0, spikes[NS_SNN_MAX_LAYERS] = {0};
    long right = 0;
    const uint64_t enc_epoch = learn ? (uint64_t)epoch : EVAL_EPOCH;
    int rc = 0;
    for (size_t at = 0; at < N && !rc; at += (size_t)n->o.batch) {
        int B = (int)(N - at < (size_t)n->o.batch ? N - at : (size_t)n->o.batch);
        rc = batch_pass(n, ds, order + at, B, enc_epoch, learn, &loss, &right, spikes, err, errlen);
    }
    free(order);
    if (rc) return -1;
    double units = 0, total = 0;
    for (int l = 0; l < n->L; l++) {
        units += (double)n->o.hidden[l];
        total += spikes[l];
    }
    st->loss = N ? loss / (double)N : NAN;
    st->accuracy = N ? (double)right / (double)N : NAN;
    st->rate = N ? total / ((double)N * n->o.T * units) : NAN;
    st->seconds = now_s() - t0;
    return 0;
}

int ns_snn_train_epoch(ns_snn *n, const ns_dataset *ds, int epoch, ns_snn_stats *st, char *err, size_t errlen)
{
    return run_set(n, ds, epoch, 1, st, err, errlen);
}

int ns_snn_evaluate(ns_snn *n, const ns_dataset *ds, ns_snn_stats *st, char *err, size_t errlen)
{
    return run_set(n, ds, 0, 0, st, err, errlen);
}

int ns_snn_hidden_spikes(ns_snn *n, const ns_dataset *ds, size_t i, int l, float *s, char *err, size_t errlen)
{
    if (l < 0 || l >= n->L || i >= ns_dataset_n(ds)) return ns_errmsg(err, errlen, "no layer %d or sample %zu", l, i);
    double loss = 0, spikes[NS_SNN_MAX_LAYERS] = {0};
    long right = 0;
    n->w0t_fresh = 0;
    if (batch_pass(n, ds, &i, 1, EVAL_EPOCH, 0, &loss, &right, spikes, err, errlen)) return -1;
    memcpy(s, n->sh[0].s[l], (size_t)n->o.T * (size_t)n->o.hidden[l] * sizeof *s);
    return 0;
}

/* The arrays of a saved network, widened to double (the weights file's type). */
enum { SAVE_MAX = 5 * NS_SNN_MAX_LAYERS + 2 };
typedef struct {
    ns_cell_array arr[SAVE_MAX];
    double *mem[SAVE_MAX];
    char names[SAVE_MAX][32];
    size_t na;
} save_list;

/* Append src[rows * cols] as array `name`; -1 out of memory. */
static int save_add(save_list *s, const char *name, size_t rows, size_t cols, const float *src)
{
    double *d = s->mem[s->na] = malloc(rows * cols * sizeof *d);
    if (!d) return -1;
    for (size_t k = 0; k < rows * cols; k++) d[k] = src[k];
    snprintf(s->names[s->na], sizeof s->names[0], "%s", name);
    s->arr[s->na] = (ns_cell_array){s->names[s->na], rows, cols, d};
    s->na++;
    return 0;
}

int ns_snn_save(ns_snn *n, const char *path, char *err, size_t errlen)
{
    save_list sl = {0};
    char name[32];
    int rc = -1;
    if (err && errlen) err[0] = '\0';
    const ns_neuron_opts *no = ns_neuron_layer_opts(n->neu[0]);
    for (int l = 0; l <= n->L; l++) {
        const ns_linear *lin = n->lin[l];
        for (int part = 0; part < 2; part++) { /* W, then b */
            if (l < n->L) snprintf(name, sizeof name, "lin%d.%s", l, part ? "b" : "W");
            else snprintf(name, sizeof name, "readout.%s", part ? "b" : "W");
            if (save_add(&sl, name, part ? 1 : (size_t)lin->out, part ? (size_t)lin->out : (size_t)lin->in,
                         part ? lin->b->data : lin->W->data))
                goto done;
        }
        if (l == n->L) break;
        int H = n->o.hidden[l];
        snprintf(name, sizeof name, "rec%d.W", l);
        if (n->rec[l] && save_add(&sl, name, (size_t)H, (size_t)H, n->rec[l]->W->data)) goto done;
        float *f = malloc((size_t)H * sizeof *f);
        if (!f) goto done;
        ns_neuron_layer_decay(n->neu[l], f);
        snprintf(name, sizeof name, "decay%d", l);
        int bad = save_add(&sl, name, 1, (size_t)H, f);
        free(f);
        const float eps = ns_neuron_layer_eps(n->neu[l]);
        snprintf(name, sizeof name, "eps%d", l);
        if (bad || save_add(&sl, name, 1, 1, &eps)) goto done;
    }
    char keys[512];
    snprintf(keys, sizeof keys, "T=%d inputs=%d classes=%d layers=%d recurrent=%d neuron=%s theta=%.17g reset=%s", n->o.T,
             n->inputs, n->classes, n->L, n->o.recurrent ? 1 : 0, ns_neuron_kind_name(no->kind), (double)no->theta,
             no->reset == NS_RESET_SUBTRACT ? "subtract" : "zero");
    for (int l = 0; l < n->L; l++) {
        size_t used = strlen(keys);
        snprintf(keys + used, sizeof keys - used, " hidden%d=%d", l, n->o.hidden[l]);
    }
    if (no->kind != NS_NEURON_LIF) { /* which Ultra equations (files without it: the ablation's) */
        size_t used = strlen(keys);
        snprintf(keys + used, sizeof keys - used, " definition=%s", ns_ultra_definition_name(no->definition));
    }
    if (no->syn_alpha > 0) {
        size_t used = strlen(keys);
        snprintf(keys + used, sizeof keys - used, " syn_alpha=%.9g", (double)no->syn_alpha);
    }
    if (n->o.readout == NS_READOUT_LEAKY) {
        size_t used = strlen(keys);
        snprintf(keys + used, sizeof keys - used, " readout=leaky readout_beta=%.9g readout_alpha=%.9g",
                 (double)n->o.readout_beta, (double)n->o.readout_alpha);
    }
    rc = ns_cell_file_write(path, "snn", keys, sl.arr, sl.na, err, errlen);
done:
    if (rc && err && errlen && !err[0]) ns_errmsg(err, errlen, "out of memory");
    for (size_t k = 0; k < sl.na; k++) free(sl.mem[k]);
    return rc;
}

int ns_snn_forward(ns_snn *n, const float *x, float *logits, char *err, size_t errlen)
{
    const int T = n->o.T;
    shard *h = &n->sh[0];
    const float *in = x;
    double t = cpu_s();
    sync_neurons(n, 1);
    for (int l = 0; l < n->L; l++) {
        if (layer_forward(n, h, l, 1, in, &t)) return ns_errmsg(err, errlen, "out of memory");
        in = h->s[l];
    }
    ns_linear_forward(&h->lin[n->L], T, in, h->y);
    readout_forward(n, h, 1);
    memcpy(logits, h->logits, (size_t)n->classes * sizeof *logits);
    return 0;
}

void ns_snn_phase_seconds(const ns_snn *n, double out[NS_SNN_PHASES])
{
    for (int p = 0; p < NS_SNN_PHASES; p++) {
        out[p] = n->phase[p];
        for (int q = 0; q < n->n_shards; q++) out[p] += n->sh[q].phase[p];
    }
}

float ns_snn_lr_at(const ns_snn_opts *o, int e, int epochs)
{
    if (o->lr_schedule != NS_LR_COSINE || epochs < 1) return o->lr;
    return (float)(o->lr * 0.5 * (1.0 + cos(3.14159265358979323846 * e / epochs)));
}

void ns_snn_set_lr(ns_snn *n, float lr) { n->adam.lr = lr; }

int ns_snn_params(ns_snn *n, ns_train_param *out, int max)
{
    int k = 0;
    for (; k < n->n_slots && k < max; k++) out[k] = n->slots[k].p;
    return k;
}

int ns_snn_gradients(ns_snn *n, const ns_dataset *ds, double *loss, char *err, size_t errlen)
{
    const size_t N = ns_dataset_n(ds);
    if ((int)ns_dataset_dim(ds) != n->inputs || N < 1 || N > (size_t)n->o.batch)
        return ns_errmsg(err, errlen, "gradients: 1 to %d samples of %d features", n->o.batch, n->inputs);
    for (size_t i = 0; i < N; i++) n->idx[i] = i;
    long right = 0;
    double spikes[NS_SNN_MAX_LAYERS] = {0};
    *loss = 0;
    n->w0t_fresh = 0;
    if (batch_pass(n, ds, n->idx, (int)N, 0, 2, loss, &right, spikes, err, errlen)) return -1;
    *loss /= (double)N; /* the cross-entropy, summed in double */
    return 0;
}

