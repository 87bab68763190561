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

/* The element count of shape (d0[, d1[, d2]]), with the shape into d[3] (1 past ndim); 0 for a
 * bad shape: ndim outside 1..3, a dim < 1, or more floats than a size_t counts in bytes. */
static size_t shape_size(int ndim, int d0, int d1, int d2, int d[3])
{
    if (ndim < 1 || ndim > 3) return 0;
    d[0] = d0;
    d[1] = ndim > 1 ? d1 : 1;
    d[2] = ndim > 2 ? d2 : 1;
    size_t size = 1;
    for (int k = 0; k < 3; k++) {
        if (d[k] < 1 || size > SIZE_MAX / sizeof(float) / (size_t)d[k]) return 0;
        size *= (size_t)d[k];
    }
    return size;
}

ns_tensor *ns_tensor_create(int ndim, int d0, int d1, int d2)
{
    int d[3];
    size_t size = shape_size(ndim, d0, d1, d2, d);
    if (!size) return NULL;
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
    int d[3];
    size_t size = shape_size(ndim, d0, d1, d2, d);
    if (!size || size != t->size) return NS_TRAIN_EINVAL;
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

int ns_binary_rows_reserve(ns_binary_rows *r, int n, int in, size_t ones, size_t work_bytes)
{
    if (n < 0 || in < 1) return -1;
    size_t rows = (size_t)n + 1; /* never a zero-byte realloc */
    if (rows > r->cap_rows) {
        int *s = realloc(r->start, rows * sizeof *s);
        if (!s) return -1;
        r->start = s;
        int *e = realloc(r->end, rows * sizeof *e);
        if (!e) return -1;
        r->end = e;
        r->cap_rows = rows;
    }
    if (grow((void **)&r->col, &r->cap_ones, ones + 16, sizeof *r->col) || grow(&r->work, &r->cap_work, work_bytes, 1))
        return -1;
    r->n = n;
    r->in = in;
    return 0;
}

int ns_binary_rows_build(ns_binary_rows *r, int n, int in, const float *x)
{
    if (ns_binary_rows_reserve(r, n, in, (size_t)n * (size_t)in, 0)) return -1;
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
        r->end[i] = m;
    }
    return bad ? 0 : 1;
}

void ns_binary_rows_free(ns_binary_rows *r)
{
    free(r->start);
    free(r->end);
    free(r->col);
    free(r->wt);
    free(r->work);
    memset(r, 0, sizeof *r);
}

#ifdef __AVX512F__
/* r[16] (16 rows of 16 floats) transposed in place: r[c] becomes column c. */
static void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) { /* pairs of rows interleaved */
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* r[4i + m], lane k: rows 4i .. 4i+3 of column 4k + m */
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int m = 0; m < 4; m++) { /* lane k of r[m], r[4+m], r[8+m], r[12+m] is column 4k + m */
        __m512 u0 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0x88), u1 = _mm512_shuffle_f32x4(r[m], r[4 + m], 0xDD);
        __m512 u2 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0x88), u3 = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0xDD);
        t[m] = _mm512_shuffle_f32x4(u0, u2, 0x88);
        t[m + 8] = _mm512_shuffle_f32x4(u0, u2, 0xDD);
        t[m + 4] = _mm512_shuffle_f32x4(u1, u3, 0x88);
        t[m + 12] = _mm512_shuffle_f32x4(u1, u3, 0xDD);
    }
    for (int c = 0; c < 16; c++) r[c] = t[c];
}
#endif

/* dst[c][r] (row stride ds) = src[r][c] (row stride ss) for a rows x cols block, in tiles of 16 x
 * 16 (on the vector path, whole tiles in registers); with add, dst += instead of =. */
static void transpose_block(const float *src, size_t ss, int rows, int cols, float *dst, size_t ds, int add)
{
    for (int r0 = 0; r0 < rows; r0 += 16)
        for (int c0 = 0; c0 < cols; c0 += 16) {
#ifdef __AVX512F__
            if (r0 + 16 <= rows && c0 + 16 <= cols) {
                __m512 v[16];
                for (int k = 0; k < 16; k++) v[k] = _mm512_loadu_ps(src + (size_t)(r0 + k) * ss + c0);
                transpose16(v);
                for (int k = 0; k < 16; k++) {
                    float *d = dst + (size_t)(c0 + k) * ds + r0;
                    _mm512_storeu_ps(d, add ? _mm512_add_ps(_mm512_loadu_ps(d), v[k]) : v[k]);
                }
                continue;
            }
#endif
            for (int c = c0; c < cols && c < c0 + 16; c++)
                for (int r = r0; r < rows && r < r0 + 16; r++) {
                    float *d = dst + (size_t)c * ds + r;
                    *d = add ? *d + src[(size_t)r * ss + c] : src[(size_t)r * ss + c];
                }
        }
}

void ns_linear_transpose(const ns_linear *l, float *wt)
{
    const int in = l->in, out = l->out;
    for (int o0 = 0; o0 < out; o0 += NS_LINEAR_WT_CHUNK) { /* block o0: W's rows o0 .. o0 + w, transposed */
        const int w = out - o0 < NS_LINEAR_WT_CHUNK ? out - o0 : NS_LINEAR_WT_CHUNK;
        transpose_block(l->W->data + (size_t)o0 * in, (size_t)in, w, in, wt + (size_t)o0 * in, (size_t)w, 0);
    }
}

enum { CHUNK = NS_LINEAR_WT_CHUNK }; /* outputs summed at once: a few vector registers */

#ifdef __AVX512F__
/* The lanes of a chunk of w (1..64) outputs, sixteen to a mask. */
static void chunk_masks(int w, __mmask16 m[4])
{
    for (int q = 0; q < 4; q++) {
        const int left = w - 16 * q;
        m[q] = left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
    }
}

/* Add the chunk's floats at p (lanes of m only; the others add 0) to the four sums a. */
#define ROW_ADD(a, p, m)                                                       \
    do {                                                                       \
        a[0] = _mm512_add_ps(a[0], _mm512_maskz_loadu_ps(m[0], (p)));      \
        a[1] = _mm512_add_ps(a[1], _mm512_maskz_loadu_ps(m[1], (p) + 16)); \
        a[2] = _mm512_add_ps(a[2], _mm512_maskz_loadu_ps(m[2], (p) + 32)); \
        a[3] = _mm512_add_ps(a[3], _mm512_maskz_loadu_ps(m[3], (p) + 48)); \
    } while (0)

/* Outputs o0 .. o0 + w of rows i0 and i1 at once: y = the sum of rows wt[c[k]] over the row's
 * ones, plus b (or 0). Two rows' sums are eight independent additions, which keeps the adder
 * busy; each output is summed from 0 in the ones' order, then b added, as the plain loop does. */
static void forward_pair(const float *wb, int w, int out, int o0, const __mmask16 m[4], const ns_binary_rows *r,
                         const float *b, int i0, int i1, float *y)
{
    __m512 a[4], c[4];
    for (int q = 0; q < 4; q++) a[q] = c[q] = _mm512_setzero_ps();
    const int *p = r->col + r->start[i0], *pe = r->col + r->end[i0];
    const int *s = r->col + r->start[i1], *se = r->col + r->end[i1];
    for (; p < pe && s < se; p++, s++) {
        ROW_ADD(a, wb + (size_t)*p * w, m);
        ROW_ADD(c, wb + (size_t)*s * w, m);
    }
    for (; p < pe; p++) ROW_ADD(a, wb + (size_t)*p * w, m);
    for (; s < se; s++) ROW_ADD(c, wb + (size_t)*s * w, m);
    float *y0 = y + (size_t)i0 * out + o0, *y1 = y + (size_t)i1 * out + o0;
    for (int q = 0; q < 4; q++) {
        __m512 bq = b ? _mm512_maskz_loadu_ps(m[q], b + o0 + 16 * q) : _mm512_setzero_ps();
        _mm512_mask_storeu_ps(y0 + 16 * q, m[q], _mm512_add_ps(a[q], bq));
        _mm512_mask_storeu_ps(y1 + 16 * q, m[q], _mm512_add_ps(c[q], bq));
    }
}
#endif

void ns_linear_forward_binary_wt(const ns_linear *l, const float *wt, const ns_binary_rows *r, float *y)
{
    const int out = l->out;
    const float *bias = l->b ? l->b->data : NULL;
    /* A chunk of outputs at a time over all rows: the chunk's block of wt (in x 256 bytes, in one
     * piece) stays in the second cache level however wide the layer. */
    for (int o0 = 0; o0 < out; o0 += CHUNK) {
        const int w = out - o0 < CHUNK ? out - o0 : CHUNK;
        const float *wb = wt + (size_t)o0 * l->in;
#ifdef __AVX512F__
        __mmask16 m[4];
        chunk_masks(w, m);
        for (int i = 0; i < r->n; i += 2) /* a lone last row goes as a pair with itself */
            forward_pair(wb, w, out, o0, m, r, bias, i, i + 1 < r->n ? i + 1 : i, y);
#else
        for (int i = 0; i < r->n; i++) {
            float *yr = y + (size_t)i * out;
            const int *c = r->col + r->start[i], ones = r->end[i] - r->start[i];
            float acc[CHUNK] = {0};
            for (int k = 0; k < ones; k++) {
                const float *row = wb + (size_t)c[k] * w;
                for (int o = 0; o < w; o++) acc[o] += row[o];
            }
            for (int o = 0; o < w; o++) yr[o0 + o] = acc[o] + (bias ? bias[o0 + o] : 0.0f);
        }
#endif
    }
}

int ns_linear_forward_binary(const ns_linear *l, ns_binary_rows *r, float *y)
{
    if (grow((void **)&r->wt, &r->cap_wt, (size_t)l->in * l->out, sizeof *r->wt)) return -1;
    ns_linear_transpose(l, r->wt);
    ns_linear_forward_binary_wt(l, r->wt, r, y);
    return 0;
}

enum { BLOCK = 64 }; /* rows a backward block takes: one bit each in a word per input */

int ns_linear_backward_binary(ns_linear *l, ns_binary_rows *r, const float *dy)
{
    const int in = l->in, out = l->out;
    const size_t blocks = ((size_t)r->n + BLOCK - 1) / BLOCK;
    if (grow((void **)&r->wt, &r->cap_wt, (size_t)in * out, sizeof *r->wt) ||
        grow(&r->work, &r->cap_work,
             BLOCK * CHUNK * sizeof(float) + blocks * ((size_t)in * (sizeof(uint64_t) + sizeof(int)) + sizeof(int)), 1))
        return -1; /* (the work's contents need not be kept) */
    float *gt = r->wt; /* dW transposed, in x out */
    /* a block's dy chunk, packed (rows of a wide layer lie a multiple of 4 KB apart, where they
     * would fall into the same few first-level cache sets); then per block of rows: word[in], per
     * input the rows of the block it is on in; on[in], the inputs on in the block, ascending;
     * count[blocks], their number */
    float *pack = r->work;
    uint64_t *words = (uint64_t *)(pack + BLOCK * CHUNK);
    int *lists = (int *)(words + blocks * (size_t)in), *count = lists + blocks * (size_t)in;
    memset(gt, 0, (size_t)in * out * sizeof *gt);
    memset(words, 0, blocks * (size_t)in * sizeof *words);
    for (size_t bk = 0; bk < blocks; bk++) {
        uint64_t *word = words + bk * (size_t)in;
        int *on = lists + bk * (size_t)in, non = 0;
        const int i0 = (int)bk * BLOCK, i1 = r->n - i0 < BLOCK ? r->n : i0 + BLOCK;
        for (int i = i0; i < i1; i++) {
            const uint64_t bit = UINT64_C(1) << (i - i0);
            for (const int *c = r->col + r->start[i], *ce = r->col + r->end[i]; c < ce; c++) word[*c] |= bit;
        }
        for (int j = 0; j < in; j++) on[non] = j, non += word[j] != 0;
        count[bk] = non;
    }
    /* Each input's gradient row sums dy over the rows it is on in, rows ascending (as a scatter
     * row by row would add them), but a chunk of outputs at a time, block by block: the chunk's
     * columns of gt (in x 256 bytes) stay in the second cache level and the block's dy chunk
     * (64 rows x 256 bytes) in the first, and each gradient chunk is read and written once a
     * block, not once a one. */
    for (int o0 = 0; o0 < out; o0 += CHUNK) {
        const int w = out - o0 < CHUNK ? out - o0 : CHUNK;
#ifdef __AVX512F__
        __mmask16 mk[4];
        chunk_masks(w, mk);
        (void)w;
#endif
        for (size_t bk = 0; bk < blocks; bk++) {
            const uint64_t *word = words + bk * (size_t)in;
            const int *on = lists + bk * (size_t)in;
            const int non = count[bk], rows = r->n - (int)bk * BLOCK < BLOCK ? r->n - (int)bk * BLOCK : BLOCK;
            for (int i = 0; i < rows; i++)
                memcpy(pack + (size_t)i * CHUNK, dy + (bk * BLOCK + (size_t)i) * out + o0, (size_t)w * sizeof *pack);
            const float *dyb = pack;
#ifdef __AVX512F__
            int k = 0;
            for (; k + 1 < non; k += 2) { /* two inputs at once: eight independent sums */
                uint64_t m = word[on[k]], m2 = word[on[k + 1]];
                float *dst = gt + (size_t)on[k] * out + o0, *dst2 = gt + (size_t)on[k + 1] * out + o0;
                __m512 a[4], c[4];
                for (int q = 0; q < 4; q++) {
                    a[q] = _mm512_maskz_loadu_ps(mk[q], dst + 16 * q);
                    c[q] = _mm512_maskz_loadu_ps(mk[q], dst2 + 16 * q);
                }
                for (; m && m2; m &= m - 1, m2 &= m2 - 1) {
                    ROW_ADD(a, dyb + (size_t)__builtin_ctzll(m) * CHUNK, mk);
                    ROW_ADD(c, dyb + (size_t)__builtin_ctzll(m2) * CHUNK, mk);
                }
                for (; m; m &= m - 1) ROW_ADD(a, dyb + (size_t)__builtin_ctzll(m) * CHUNK, mk);
                for (; m2; m2 &= m2 - 1) ROW_ADD(c, dyb + (size_t)__builtin_ctzll(m2) * CHUNK, mk);
                for (int q = 0; q < 4; q++) {
                    _mm512_mask_storeu_ps(dst + 16 * q, mk[q], a[q]);
                    _mm512_mask_storeu_ps(dst2 + 16 * q, mk[q], c[q]);
                }
            }
            for (; k < non; k++) {
                uint64_t m = word[on[k]];
                float *dst = gt + (size_t)on[k] * out + o0;
                __m512 a[4];
                for (int q = 0; q < 4; q++) a[q] = _mm512_maskz_loadu_ps(mk[q], dst + 16 * q);
                for (; m; m &= m - 1) ROW_ADD(a, dyb + (size_t)__builtin_ctzll(m) * CHUNK, mk);
                for (int q = 0; q < 4; q++) _mm512_mask_storeu_ps(dst + 16 * q, mk[q], a[q]);
            }
#else
            for (int k = 0; k < non; k++) {
                float *dst = gt + (size_t)on[k] * out + o0;
                for (uint64_t m = word[on[k]]; m; m &= m - 1) {
                    const float *g = dyb + (size_t)__builtin_ctzll(m) * CHUNK;
                    for (int o = 0; o < w; o++) dst[o] += g[o];
                }
            }
#endif
        }
    }
    if (l->db)
        for (int i = 0; i < r->n; i++) {
            const float *g = dy + (size_t)i * out;
            for (int o = 0; o < out; o++) l->db->data[o] += g[o];
        }
    transpose_block(gt, (size_t)out, in, out, l->dW->data, (size_t)in, 1); /* dW += gt transposed */
    return 0;
}
