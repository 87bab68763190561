/* train/tensor.c — float32 arrays, the trainer's generator, and Linear on CBLAS sgemm.
 * Row-major throughout, so PyTorch's x W^T + b maps onto one sgemm with W transposed in place. */
#include "train/tensor.h"

#include <cblas.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif
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

/* ---- Linear ---- */

ns_linear *ns_linear_create(int in, int out, int bias, ns_xoshiro *rng)
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
        l->W->data[k] = (float)((2 * ns_xoshiro_uniform(rng) - 1) * bound);
    if (bias)
        for (int k = 0; k < out; k++)
            l->b->data[k] = (float)((2 * ns_xoshiro_uniform(rng) - 1) * bound);
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

/* ---- binary (spiking) input ---- */

static int grow(void **p, size_t *cap, size_t want, size_t size)
{
    if (want <= *cap) return 0;
    void *q = realloc(*p, want * size);
    if (!q) return -1;
    *p = q;
    *cap = want;
    return 0;
}

int ns_binary_rows_build(ns_binary_rows *r, int n, int in, const float *x)
{
    if (grow((void **)&r->start, &r->cap_rows, (size_t)n + 1, sizeof *r->start) ||
        grow((void **)&r->col, &r->cap_ones, (size_t)n * (size_t)in + 16, sizeof *r->col))
        return -1;
    r->n = n;
    r->in = in;
    int m = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        r->start[i] = m;
        const float *row = x + (size_t)i * in;
        int j = 0;
#ifdef __AVX512F__ /* sixteen inputs a compare; the ones' places from the mask */
        const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
        __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        const __m512i sixteen = _mm512_set1_epi32(16);
        for (; j + 16 <= in; j += 16) {
            __m512 v = _mm512_loadu_ps(row + j);
            __mmask16 nz = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);
            bad |= (int)(nz & _mm512_cmp_ps_mask(v, one, _CMP_NEQ_UQ));
            /* the ones' places packed in a register, stored whole (col has 16 spare at the end;
             * a masked compress straight to memory is much slower on Intel cores) */
            _mm512_storeu_si512(r->col + m, _mm512_maskz_compress_epi32(nz, idx));
            m += __builtin_popcount(nz);
            idx = _mm512_add_epi32(idx, sixteen);
        }
#endif
        for (; j < in; j++) {
            bad |= row[j] != 0.0f && row[j] != 1.0f;
            r->col[m] = j;
            m += row[j] != 0.0f;
        }
    }
    r->start[n] = m;
    return bad ? 0 : 1;
}

void ns_binary_rows_free(ns_binary_rows *r)
{
    free(r->start);
    free(r->col);
    free(r->wt);
    memset(r, 0, sizeof *r);
}

enum { CHUNK = 64 }; /* outputs summed at once: a few vector registers */

int ns_linear_forward_binary(const ns_linear *l, ns_binary_rows *r, float *y)
{
    const int in = l->in, out = l->out;
    if (grow((void **)&r->wt, &r->cap_wt, (size_t)in * out, sizeof *r->wt)) return -1;
    float *wt = r->wt;
    for (int o = 0; o < out; o++)
        for (int j = 0; j < in; j++) wt[(size_t)j * out + o] = l->W->data[(size_t)o * in + j];
    for (int i = 0; i < r->n; i++) {
        float *yr = y + (size_t)i * out;
        const int *c = r->col + r->start[i], ones = r->start[i + 1] - r->start[i];
        for (int o0 = 0; o0 < out; o0 += CHUNK) {
            const int w = out - o0 < CHUNK ? out - o0 : CHUNK;
            float acc[CHUNK] = {0};
#ifdef __AVX512F__
            if (w == CHUNK) { /* the common case: four vector registers of sums */
                __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
                for (int k = 0; k < ones; k++) {
                    const float *row = wt + (size_t)c[k] * out + o0;
                    a0 = _mm512_add_ps(a0, _mm512_loadu_ps(row));
                    a1 = _mm512_add_ps(a1, _mm512_loadu_ps(row + 16));
                    a2 = _mm512_add_ps(a2, _mm512_loadu_ps(row + 32));
                    a3 = _mm512_add_ps(a3, _mm512_loadu_ps(row + 48));
                }
                _mm512_storeu_ps(acc, a0);
                _mm512_storeu_ps(acc + 16, a1);
                _mm512_storeu_ps(acc + 32, a2);
                _mm512_storeu_ps(acc + 48, a3);
            } else
#endif
            {
                for (int k = 0; k < ones; k++) {
                    const float *row = wt + (size_t)c[k] * out + o0;
                    for (int o = 0; o < w; o++) acc[o] += row[o];
                }
            }
            for (int o = 0; o < w; o++) yr[o0 + o] = acc[o] + (l->b ? l->b->data[o0 + o] : 0.0f);
        }
    }
    return 0;
}

int ns_linear_backward_binary(ns_linear *l, ns_binary_rows *r, const float *dy)
{
    const int in = l->in, out = l->out;
    if (grow((void **)&r->wt, &r->cap_wt, (size_t)in * out, sizeof *r->wt)) return -1;
    float *gt = r->wt; /* dW transposed, in x out */
    memset(gt, 0, (size_t)in * out * sizeof *gt);
    for (int i = 0; i < r->n; i++) {
        const float *g = dy + (size_t)i * out;
        const int *c = r->col + r->start[i], ones = r->start[i + 1] - r->start[i];
#ifdef __AVX512F__
        if (out == CHUNK) { /* the row of dy held in four vector registers */
            const __m512 g0 = _mm512_loadu_ps(g), g1 = _mm512_loadu_ps(g + 16), g2 = _mm512_loadu_ps(g + 32),
                         g3 = _mm512_loadu_ps(g + 48);
            for (int k = 0; k < ones; k++) {
                float *dst = gt + (size_t)c[k] * CHUNK;
                _mm512_storeu_ps(dst, _mm512_add_ps(_mm512_loadu_ps(dst), g0));
                _mm512_storeu_ps(dst + 16, _mm512_add_ps(_mm512_loadu_ps(dst + 16), g1));
                _mm512_storeu_ps(dst + 32, _mm512_add_ps(_mm512_loadu_ps(dst + 32), g2));
                _mm512_storeu_ps(dst + 48, _mm512_add_ps(_mm512_loadu_ps(dst + 48), g3));
            }
        } else
#endif
        {
            for (int k = 0; k < ones; k++) {
                float *dst = gt + (size_t)c[k] * out;
                for (int o = 0; o < out; o++) dst[o] += g[o];
            }
        }
        if (l->db)
            for (int o = 0; o < out; o++) l->db->data[o] += g[o];
    }
    for (int o = 0; o < out; o++)
        for (int j = 0; j < in; j++) l->dW->data[(size_t)o * in + j] += gt[(size_t)j * out + o];
    return 0;
}

