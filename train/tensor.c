/* train/tensor.c — float32 arrays, the trainer's generator, and Linear on CBLAS sgemm.
 * Row-major throughout, so PyTorch's x W^T + b maps onto one sgemm with W transposed in place. */
#include "train/tensor.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

ns_tensor *ns_tensor_create(int ndim, int d0, int d1, int d2)
{
    if (ndim < 1 || ndim > 3) return NULL;
    int d[3] = {d0, ndim > 1 ? d1 : 1, ndim > 2 ? d2 : 1};
    size_t size = 1;
    for (int k = 0; k < 3; k++) {
        if (d[k] < 1) return NULL;
        if (size > SIZE_MAX / sizeof(float) / (size_t)d[k]) return NULL;
        size *= (size_t)d[k];
    }
    ns_tensor *t = malloc(sizeof *t);
    if (!t) return NULL;
    size_t bytes = (size * sizeof(float) + 63) / 64 * 64; /* aligned_alloc wants a multiple */
    t->data = aligned_alloc(64, bytes);
    if (!t->data) {
        free(t);
        return NULL;
    }
    memset(t->data, 0, bytes);
    t->size = size;
    t->ndim = ndim;
    memcpy(t->shape, d, sizeof d);
    return t;
}

void ns_tensor_free(ns_tensor *t)
{
    if (!t) return;
    free(t->data);
    free(t);
}

void ns_tensor_zero(ns_tensor *t)
{
    memset(t->data, 0, t->size * sizeof(float));
}

void ns_tensor_fill(ns_tensor *t, float v)
{
    for (size_t k = 0; k < t->size; k++) t->data[k] = v;
}

int ns_tensor_reshape(ns_tensor *t, int ndim, int d0, int d1, int d2)
{
    if (ndim < 1 || ndim > 3) return NS_TRAIN_EINVAL;
    int d[3] = {d0, ndim > 1 ? d1 : 1, ndim > 2 ? d2 : 1};
    size_t size = 1;
    for (int k = 0; k < 3; k++) {
        if (d[k] < 1) return NS_TRAIN_EINVAL;
        size *= (size_t)d[k];
    }
    if (size != t->size) return NS_TRAIN_EINVAL;
    t->ndim = ndim;
    memcpy(t->shape, d, sizeof d);
    return NS_TRAIN_OK;
}

/* ---- generator ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void ns_train_rng_seed(ns_train_rng *r, uint64_t seed)
{
    for (int k = 0; k < 4; k++) r->s[k] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t ns_train_rng_next(ns_train_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double ns_train_rng_uniform(ns_train_rng *r)
{
    return (double)(ns_train_rng_next(r) >> 11) * 0x1.0p-53;
}

/* ---- Linear ---- */

ns_linear *ns_linear_create(int in, int out, int bias, ns_train_rng *rng)
{
    if (in < 1 || out < 1 || !rng) return NULL;
    ns_linear *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->in = in;
    l->out = out;
    l->W = ns_tensor_create(2, out, in, 1);
    l->dW = ns_tensor_create(2, out, in, 1);
    if (bias) {
        l->b = ns_tensor_create(1, out, 1, 1);
        l->db = ns_tensor_create(1, out, 1, 1);
    }
    if (!l->W || !l->dW || (bias && (!l->b || !l->db))) {
        ns_linear_free(l);
        return NULL;
    }
    /* kaiming_uniform_(a = sqrt(5)): gain sqrt(2/(1 + 5)), bound gain sqrt(3/in) = 1/sqrt(in);
     * the bias bound is 1/sqrt(fan_in) too. */
    double bound = 1 / sqrt((double)in);
    for (size_t k = 0; k < l->W->size; k++)
        l->W->data[k] = (float)((2 * ns_train_rng_uniform(rng) - 1) * bound);
    if (bias)
        for (int k = 0; k < out; k++)
            l->b->data[k] = (float)((2 * ns_train_rng_uniform(rng) - 1) * bound);
    return l;
}

void ns_linear_free(ns_linear *l)
{
    if (!l) return;
    ns_tensor_free(l->W);
    ns_tensor_free(l->b);
    ns_tensor_free(l->dW);
    ns_tensor_free(l->db);
    free(l);
}

void ns_linear_forward(const ns_linear *l, int n, const float *x, float *y)
{
    int in = l->in, out = l->out;
    if (n < 1) return;
    float beta = 0;
    if (l->b) {
        for (int r = 0; r < n; r++) memcpy(y + (size_t)r * out, l->b->data, (size_t)out * sizeof *y);
        beta = 1;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, l->W->data, in,
                beta, y, out);
}

void ns_linear_backward(ns_linear *l, int n, const float *x, const float *dy, float *dx)
{
    int in = l->in, out = l->out;
    if (n < 1) return;
    /* dW[out][in] += dy^T[out][n] x[n][in] */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1.0f, dy, out, x, in, 1.0f,
                l->dW->data, in);
    if (l->db) {
        float *db = l->db->data;
        for (int r = 0; r < n; r++) {
            const float *row = dy + (size_t)r * out;
            for (int j = 0; j < out; j++) db[j] += row[j];
        }
    }
    /* dx[n][in] = dy[n][out] W[out][in] */
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, dy, out,
                    l->W->data, in, 0.0f, dx, in);
}

void ns_linear_zero_grad(ns_linear *l)
{
    ns_tensor_zero(l->dW);
    if (l->db) ns_tensor_zero(l->db);
}

int ns_linear_params(ns_linear *l, ns_train_param out[2])
{
    out[0] = (ns_train_param){"weight", l->W->data, l->dW->data, l->W->size};
    if (!l->b) return 1;
    out[1] = (ns_train_param){"bias", l->b->data, l->db->data, l->b->size};
    return 2;
}
