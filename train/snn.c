/* train/snn.c — see snn.h. One batch is a forward pass through all layers over T steps at once
 * (time-major [T][B][.], each Linear one sgemm over T*B rows), the loss, and the backward pass
 * in reverse; the neuron layers keep their own tapes. Adam walks every parameter array. */
#include "train/snn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

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

struct ns_snn {
    ns_snn_opts o;
    int inputs, classes, L;
    ns_linear *lin[NS_SNN_MAX_LAYERS + 1];     /* hidden layers' inputs, then the readout */
    ns_neuron_layer *neu[NS_SNN_MAX_LAYERS];
    ns_linear *rec[NS_SNN_MAX_LAYERS];         /* recurrent weights (o.recurrent), else NULL */
    float *x;                                  /* encoded input [T][B][inputs] */
    ns_binary_rows xin;                        /* its ones, when it is spikes (x_binary) */
    int x_binary;
    float *w0t;                                /* the first Linear's W transposed, for spikes in */
    int w0t_fresh;                             /* 0 once W may have changed: after a learning step,
                                                  and at each entry (params are lent out) */
    float *cur[NS_SNN_MAX_LAYERS], *s[NS_SNN_MAX_LAYERS]; /* input currents and spikes [T][B][H_l] */
    float *y, *logits, *dlogits, *dy, *ds, *dI;
    int *labels, *t_max;                       /* t_max: the leaky readout's step of each maximum */
    size_t *idx;
    adam_slot slots[MAX_SLOTS];
    int n_slots;
    ns_adam adam;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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

void ns_snn_free(ns_snn *n)
{
    if (!n) return;
    for (int l = 0; l <= n->L; l++) ns_linear_free(n->lin[l]);
    for (int l = 0; l < n->L; l++) {
        ns_neuron_layer_free(n->neu[l]);
        ns_linear_free(n->rec[l]);
        free(n->cur[l]);
        free(n->s[l]);
    }
    for (int k = 0; k < n->n_slots; k++) {
        free(n->slots[k].m);
        free(n->slots[k].v);
    }
    free(n->x), free(n->y), free(n->logits), free(n->dlogits), free(n->dy), free(n->ds), free(n->dI);
    free(n->labels), free(n->t_max), free(n->idx), free(n->w0t);
    ns_binary_rows_free(&n->xin);
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

ns_snn *ns_snn_create(int inputs, int classes, const ns_snn_opts *o, char *err, size_t errlen)
{
    if (o->T < 1 || o->batch < 1 || o->n_hidden < 1 || o->n_hidden > NS_SNN_MAX_LAYERS || inputs < 1 ||
        classes < 2 || !(o->lr > 0)) {
        ns_errmsg(err, errlen, "network: T, batch, lr and sizes must be positive (hidden layers 1..%d, classes >= 2)",
                 NS_SNN_MAX_LAYERS);
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
    const size_t TB = (size_t)o->T * (size_t)o->batch;
    int prev = inputs, widest = inputs;
    for (int l = 0; l < n->L; l++) {
        int H = o->hidden[l];
        ns_neuron_opts no = o->neuron;
        no.units = H;
        if (!(n->lin[l] = ns_linear_create(prev, H, 1, &rng)) || !(n->neu[l] = ns_neuron_layer_create(&no))) goto oom;
        if (!(n->cur[l] = malloc(TB * (size_t)H * sizeof(float))) || !(n->s[l] = malloc(TB * (size_t)H * sizeof(float))))
            goto oom;
        if (o->recurrent && !(n->rec[l] = ns_linear_create(H, H, 0, &rng))) goto oom;
        ns_train_param p[NS_NEURON_MAX_PARAMS + 3];
        int c = ns_linear_params(n->lin[l], p);
        c += ns_neuron_layer_params(n->neu[l], p + c);
        if (n->rec[l]) c += ns_linear_params(n->rec[l], p + c);
        if (add_params(n, p, c)) goto oom;
        if (H > widest) widest = H;
        prev = H;
    }
    if (!(n->lin[n->L] = ns_linear_create(prev, classes, 1, &rng))) goto oom;
    ns_train_param p[2];
    if (add_params(n, p, ns_linear_params(n->lin[n->L], p))) goto oom;
    n->x = malloc(TB * (size_t)inputs * sizeof(float));
    n->y = malloc(TB * (size_t)classes * sizeof(float));
    n->dy = malloc(TB * (size_t)classes * sizeof(float));
    n->logits = malloc((size_t)o->batch * (size_t)classes * sizeof(float));
    n->dlogits = malloc((size_t)o->batch * (size_t)classes * sizeof(float));
    n->ds = malloc(TB * (size_t)widest * sizeof(float));
    n->dI = malloc(TB * (size_t)widest * sizeof(float));
    n->labels = malloc((size_t)o->batch * sizeof(int));
    n->t_max = malloc((size_t)o->batch * (size_t)classes * sizeof(int));
    n->idx = malloc((size_t)o->batch * sizeof(size_t));
    n->w0t = malloc((size_t)inputs * (size_t)o->hidden[0] * sizeof(float));
    if (!n->w0t || !n->y || !n->dy || !n->logits || !n->dlogits || !n->ds || !n->dI || !n->labels || !n->t_max || !n->idx) goto oom;
    n->adam = ns_adam_make(o->lr);
    openblas_set_num_threads(o->threads > 0 ? o->threads : 1);
    return n;
oom:
    ns_errmsg(err, errlen, "network: out of memory");
    ns_snn_free(n);
    return NULL;
}

/* Hidden layer l over T steps for B samples from its input `in` [T][B][.]: currents into
 * n->cur[l], outputs into n->s[l]. A recurrent layer adds s_{t-1} Wrec^T to step t's current and
 * so runs step by step. */
static int layer_forward(ns_snn *n, int l, int B, const float *in)
{
    const int T = n->o.T, H = n->o.hidden[l];
    const size_t step = (size_t)B * (size_t)H;
    if (l == 0 && in == n->x && n->x_binary) { /* spikes in: a sum of weight rows per spike */
        if (!n->w0t_fresh) ns_linear_transpose(n->lin[0], n->w0t);
        n->w0t_fresh = 1;
        ns_linear_forward_binary_wt(n->lin[0], n->w0t, &n->xin, n->cur[0]);
    } else {
        ns_linear_forward(n->lin[l], T * B, in, n->cur[l]);
    }
    if (!n->rec[l]) return ns_neuron_layer_forward(n->neu[l], T, B, n->cur[l], n->s[l]);
    for (int t = 0; t < T; t++) {
        if (t)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, H, H, 1.0f, n->s[l] + (t - 1) * step, H,
                        n->rec[l]->W->data, H, 1.0f, n->cur[l] + t * step, H);
        int rc = ns_neuron_layer_forward_steps(n->neu[l], T, B, t, t + 1, n->cur[l], n->s[l]);
        if (rc) return rc;
    }
    return 0;
}

/* Backward through hidden layer l: from n->ds (dL/ds, [T][B][H]) to n->dI (dL/dcurrent). A
 * recurrent layer's step t passes dI_t Wrec on to ds_{t-1} (so ds is changed) and, at the end,
 * dWrec += sum_t dI_t^T s_{t-1}. */
static int layer_backward(ns_snn *n, int l, int B)
{
    const int T = n->o.T, H = n->o.hidden[l];
    const size_t step = (size_t)B * (size_t)H;
    if (!n->rec[l]) return ns_neuron_layer_backward(n->neu[l], T, B, n->ds, n->dI);
    for (int t = T - 1; t >= 0; t--) {
        int rc = ns_neuron_layer_backward_steps(n->neu[l], T, B, t, t + 1, n->ds, n->dI);
        if (rc) return rc;
        if (t)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, H, H, 1.0f, n->dI + t * step, H,
                        n->rec[l]->W->data, H, 1.0f, n->ds + (t - 1) * step, H);
    }
    if (T > 1) ns_linear_backward(n->rec[l], (T - 1) * B, n->s[l], n->dI + step, NULL);
    return 0;
}

/* logits[B][classes] from the readout Linear's output n->y. */
static void readout_forward(ns_snn *n, int B, float *logits)
{
    if (n->o.readout == NS_READOUT_LEAKY)
        ns_readout_leaky_forward(n->o.T, B, n->classes, n->o.readout_beta, n->o.readout_alpha, n->y, logits, n->t_max);
    else
        ns_readout_mean_forward(n->o.T, B, n->classes, n->y, logits);
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

/* Forward a batch of B samples (indices idx) at encoding epoch `epoch`; the loss (and with
 * learn, the backward pass and an Adam step). Adds right answers and spike sums to the tallies. */
static int batch_pass(ns_snn *n, const ns_dataset *ds, const size_t *idx, int B, uint64_t epoch, int learn,
                      double *loss, long *right, double *spikes, char *err, size_t errlen)
{
    const int T = n->o.T, C = n->classes;
    const int TB = T * B;
    if (n->o.encoder.kind == NS_ENC_BERNOULLI) { /* spikes: straight to their lists, n->x unused */
        if (ns_encode_bernoulli_rows(&n->o.encoder.bernoulli, ds, idx, (size_t)B, T, epoch, &n->xin, err, errlen))
            return -1;
        n->x_binary = 1;
    } else {
        if (ns_encode(&n->o.encoder, ds, idx, (size_t)B, T, epoch, n->x, err, errlen)) return -1;
        if ((n->x_binary = ns_binary_rows_build(&n->xin, TB, n->inputs, n->x)) < 0)
            return ns_errmsg(err, errlen, "out of memory");
    }
    const int *all = ns_dataset_labels(ds);
    for (int b = 0; b < B; b++) n->labels[b] = all[idx[b]];
    const float *in = n->x;
    for (int l = 0; l < n->L; l++) {
        if (layer_forward(n, l, B, in)) return ns_errmsg(err, errlen, "out of memory");
        in = n->s[l];
        const size_t cnt = (size_t)TB * (size_t)n->o.hidden[l];
        spikes[l] += sum_spikes(n->s[l], cnt);
    }
    ns_linear_forward(n->lin[n->L], TB, in, n->y);
    readout_forward(n, B, n->logits);
    double l = ns_loss_cross_entropy(B, C, n->logits, n->labels, learn ? n->dlogits : NULL);
    if (isnan(l)) return ns_errmsg(err, errlen, "loss is not a number (labels outside 0..%d?)", C - 1);
    *loss += (double)l * B;
    *right += ns_count_correct(B, C, n->logits, n->labels);
    if (!learn) return 0;
    for (int k = 0; k < n->L; k++) {
        ns_neuron_layer_zero_grad(n->neu[k]);
        if (n->rec[k]) ns_linear_zero_grad(n->rec[k]);
    }
    for (int k = 0; k <= n->L; k++) ns_linear_zero_grad(n->lin[k]);
    if (n->o.readout == NS_READOUT_LEAKY)
        ns_readout_leaky_backward(T, B, C, n->o.readout_beta, n->o.readout_alpha, n->t_max, n->dlogits, n->dy);
    else
        ns_readout_mean_backward(T, B, C, n->dlogits, n->dy);
    ns_linear_backward(n->lin[n->L], TB, n->s[n->L - 1], n->dy, n->ds);
    for (int k = n->L - 1; k >= 0; k--) {
        const size_t cnt = (size_t)TB * (size_t)n->o.hidden[k];
        if (n->o.sparsity > 0) ns_loss_sparsity(cnt, n->s[k], n->o.sparsity, n->ds); /* its gradient into ds */
        if (layer_backward(n, k, B)) return ns_errmsg(err, errlen, "backward without its forward");
        if (k == 0 && n->x_binary) {
            if (ns_linear_backward_binary(n->lin[0], &n->xin, n->dI)) return ns_errmsg(err, errlen, "out of memory");
        } else {
            ns_linear_backward(n->lin[k], TB, k ? n->s[k - 1] : n->x, n->dI, k ? n->ds : NULL);
        }
    }
    if (learn == 2) return 0; /* gradients only */
    ns_adam_tick(&n->adam);
    n->w0t_fresh = 0;
    for (int k = 0; k < n->n_slots; k++) {
        adam_slot *a = &n->slots[k];
        ns_adam_update(&n->adam, a->p.value, a->p.grad, a->m, a->v, a->p.n);
    }
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
    memcpy(s, n->s[l], (size_t)n->o.T * (size_t)n->o.hidden[l] * sizeof *s);
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
    const float *in = x;
    for (int l = 0; l < n->L; l++) {
        if (layer_forward(n, l, 1, in)) return ns_errmsg(err, errlen, "out of memory");
        in = n->s[l];
    }
    ns_linear_forward(n->lin[n->L], T, in, n->y);
    readout_forward(n, 1, logits);
    return 0;
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

