/* train/tensor.h — float32 arrays, a seeded generator, and the dense (Linear) layer on CBLAS.
 * Arrays are plain row-major float blocks the caller indexes itself; the only heavy arithmetic
 * in training, the matrix products, goes to sgemm. Status: 0 ok, -1 invalid argument, -2 out of
 * memory (the values of base/status.h's NS_EINVAL and NS_ENOMEM). */
#ifndef NS_TENSOR_H
#define NS_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "base/xoshiro.h"

enum { NS_TRAIN_OK = 0, NS_TRAIN_EINVAL = -1, NS_TRAIN_ENOMEM = -2 };

/* A row-major float32 array of up to 3 dimensions; owns data (64-byte aligned, zeroed). */
typedef struct {
    float *data;
    size_t size;  /* product of the shape */
    int ndim;     /* 1..3 */
    int shape[3]; /* entries past ndim are 1 */
} ns_tensor;

/* A zeroed tensor of shape (d0[, d1[, d2]]); dims past ndim are ignored. NULL on a bad shape
 * (ndim outside 1..3, a dim < 1) or out of memory. */
ns_tensor *ns_tensor_create(int ndim, int d0, int d1, int d2);
void ns_tensor_free(ns_tensor *t); /* NULL is harmless */
/* Set every element to 0, or to v. */
void ns_tensor_zero(ns_tensor *t);
void ns_tensor_fill(ns_tensor *t, float v);
/* Give the same data a new shape of the same size; -1 (and no change) if the sizes differ. */
int ns_tensor_reshape(ns_tensor *t, int ndim, int d0, int d1, int d2);


/* A learnable array lent by a layer: value[n] and its gradient grad[n] (same lifetime as the
 * layer). An optimizer walks these. */
typedef struct {
    const char *name;
    float *value;
    float *grad;
    size_t n;
} ns_train_param;

/* Dense layer y = x W^T + b, PyTorch's nn.Linear layout: W is out x in (row-major), b is out.
 * Gradients dW, db accumulate across backward calls until ns_linear_zero_grad. */
typedef struct {
    int in, out;
    ns_tensor *W, *b;   /* b NULL without bias */
    ns_tensor *dW, *db; /* db NULL without bias */
} ns_linear;

/* A layer with PyTorch's default initialisation: W and b uniform in +-1/sqrt(in) (kaiming-uniform,
 * a = sqrt(5)), drawn from rng, W row by row, then b. bias 0: no b. NULL if out of memory. */
ns_linear *ns_linear_create(int in, int out, int bias, ns_xoshiro *rng);
void ns_linear_free(ns_linear *l); /* NULL is harmless */
/* y[n][out] = x[n][in] W^T + b, for n rows (a batch, or T*B time-major rows). */
void ns_linear_forward(const ns_linear *l, int n, const float *x, float *y);
/* From dy[n][out]: dW += dy^T x, db += column sums of dy, and dx[n][in] = dy W (overwritten;
 * dx NULL skips it, as for a first layer). x is the forward's input. */
void ns_linear_backward(ns_linear *l, int n, const float *x, const float *dy, float *dx);
/* Zero dW and db. */
void ns_linear_zero_grad(ns_linear *l);
/* Lend "weight" and (with bias) "bias" into out[2]; returns the count. */
int ns_linear_params(ns_linear *l, ns_train_param out[2]);

/* Spiking input, event-driven: a 0/1 input x[n][in] as the list of each row's ones. A Linear
 * fed by it costs a row of weights per one instead of a multiply per input (a Bernoulli-coded
 * Fashion-MNIST image has about one input in six on). Row i's ones, features ascending, are
 * col[start[i]] .. col[end[i] - 1]; the rows need not lie in order in col. */
typedef struct {
    int n, in;
    int *start, *end; /* n each */
    int *col;         /* the ones' inputs */
    float *wt;        /* work: a Linear's W, or its gradient, transposed (in x out) */
    void *work;       /* work of the builders and of the backward */
    size_t cap_rows, cap_ones, cap_wt, cap_work; /* in elements; cap_work in bytes */
} ns_binary_rows;

/* Fill r from x[n][in]: 1 if every value is 0 or 1 (then r holds the lists), 0 if not (r is then
 * unusable), -1 out of memory. */
int ns_binary_rows_build(ns_binary_rows *r, int n, int in, const float *x);
/* Free r's arrays and zero it (the struct itself is the caller's); a zeroed r is harmless. */
void ns_binary_rows_free(ns_binary_rows *r);
/* Set r to n rows of in inputs, with room for `ones` ones in all (col gets 16 more, for
 * whole-vector stores) and work_bytes of work, keeping what col and work hold: for builders
 * such as encode.h's ns_encode_bernoulli_rows. -1 out of memory or n < 0, in < 1. */
int ns_binary_rows_reserve(ns_binary_rows *r, int n, int in, size_t ones, size_t work_bytes);
/* wt (in * out floats) = W transposed a block of NS_LINEAR_WT_CHUNK outputs at a time, for
 * ns_linear_forward_binary_wt: block o0 (outputs o0 .. o0 + w, w = 64 but for a shorter last one)
 * starts at wt + o0 in and holds wt[j w + (o - o0)] = W[o][j], so that the rows a spike reads lie
 * together (with out 64, plain W transposed). Refresh it whenever W changes. */
enum { NS_LINEAR_WT_CHUNK = 64 };
void ns_linear_transpose(const ns_linear *l, float *wt);
/* ns_linear_forward for such an input, from wt made by ns_linear_transpose: the same y to float
 * rounding (each y is b plus its weights summed in input order). */
void ns_linear_forward_binary_wt(const ns_linear *l, const float *wt, const ns_binary_rows *r, float *y);
/* The same, transposing W into r's work first. -1 out of memory. */
int ns_linear_forward_binary(const ns_linear *l, ns_binary_rows *r, float *y);
/* ns_linear_backward without dx for such an input: dW += dy^T x, db += column sums of dy (to float
 * rounding). -1 out of memory. */
int ns_linear_backward_binary(ns_linear *l, ns_binary_rows *r, const float *dy);

#endif
