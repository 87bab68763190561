/* train/dataset.h — in-memory training data: IDX files (plain or gzip), randman, splits, shuffles.
 * One idea: a data set is n rows of d float32 plus a label, and every random choice is a pure
 * function of (seed, counters), so no result depends on call order or batch make-up. */
#ifndef NS_TRAIN_DATASET_H
#define NS_TRAIN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "base/xoshiro.h"

/* Debian's dataset-fashion-mnist puts the four files here (override with -D at build time). */
#ifndef NS_FASHION_MNIST_DIR
#define NS_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#endif

typedef enum {
    NS_DATA_FEATURES = 0,    /* x[i][j] is a feature value (pixels in [0, 1] for images) */
    NS_DATA_SPIKE_TIMES = 1  /* x[i][j]: unit j's spike time in steps, in [0, steps); < 0 silent */
} ns_data_kind;

typedef struct ns_dataset ns_dataset;

/* ---- creation, access, release --------------------------------------------------------------- */

/* Copy n feature rows x[n][d] (row-major) and labels y[n] in [0, classes) into a new data set.
 * Refuses NaN/Inf features and labels out of range. Returns 0, or -1 with a message in err. */
int ns_dataset_from_arrays(size_t n, size_t d, int classes, const float *x, const int *y,
                           ns_dataset **out, char *err, size_t errlen);

/* Copy a spike-time data set: times[n][d] in steps, each in [0, steps) or negative (no spike),
 * trial length `steps` (>= 1). Returns 0, or -1 with a message. */
int ns_dataset_from_spike_times(size_t n, size_t d, int classes, int steps, const float *times,
                                const int *y, ns_dataset **out, char *err, size_t errlen);

/* Release a data set; NULL is harmless. */
void ns_dataset_free(ns_dataset *ds);

size_t ns_dataset_n(const ns_dataset *ds);          /* number of samples */
size_t ns_dataset_dim(const ns_dataset *ds);        /* features (or units) per sample */
int ns_dataset_classes(const ns_dataset *ds);       /* labels lie in [0, classes) */
ns_data_kind ns_dataset_kind(const ns_dataset *ds); /* features or spike times */
int ns_dataset_steps(const ns_dataset *ds);         /* trial length, steps (spike times), else 0 */

/* Lent views, valid while ds lives: all rows x[n][dim]; row i (i < n); labels y[n]. */
const float *ns_dataset_x(const ns_dataset *ds);
const float *ns_dataset_row(const ns_dataset *ds, size_t i);
const int *ns_dataset_labels(const ns_dataset *ds);

/* randman sets only: the manifold coordinates each sample was drawn at, [n][coord_dim] in [0, 1]
 * (regression targets). NULL and 0 for other data sets. */
const float *ns_dataset_coords(const ns_dataset *ds);
int ns_dataset_coord_dim(const ns_dataset *ds);

/* Count samples per class into counts[classes]. */
void ns_dataset_class_counts(const ns_dataset *ds, size_t *counts);

/* ---- IDX files ------------------------------------------------------------------------------- */

/* Read an IDX image file (magic 0x00000803, or 0x00000802 for plain vectors; unsigned bytes,
 * big-endian sizes) and its IDX label file (magic 0x00000801), gzip-compressed or plain. Pixels
 * become x/255 in [0, 1]; classes = largest label + 1. Missing file, wrong magic, truncation,
 * trailing bytes or a count mismatch: -1 with a one-line message naming the file. */
int ns_dataset_load_idx(const char *images_path, const char *labels_path, ns_dataset **out,
                        char *err, size_t errlen);

/* Fashion-MNIST (or MNIST) from dir (NULL: NS_FASHION_MNIST_DIR): train != 0 reads
 * train-{images-idx3,labels-idx1}-ubyte (60000 samples), else t10k-* (10000), each gzipped or
 * not (.gz or no suffix), also spelled train-images.idx3-ubyte, and the test set also named
 * test-*: the first found in that order. 784 features. */
int ns_dataset_load_fashion_mnist(const char *dir, int train, ns_dataset **out, char *err,
                                  size_t errlen);

/* ---- randman (Zenke & Vogels 2021; fzenke/randman) ------------------------------------------- */

typedef struct {
    int classes;           /* number of manifolds, one per class (10) */
    int units;             /* embedding dimension D: input units, one spike each (100) */
    int steps;             /* trial length in steps; spike times lie in [0, steps) (100) */
    int dim;               /* manifold dimension d: x ~ U[0,1]^d (2) */
    double alpha;          /* spectral fall-off; larger is smoother (2) */
    double prec;           /* cut-off precision: F = min(ceil(prec^(-1/alpha)), max_freq) (1e-3) */
    int max_freq;          /* upper bound on F (1000) */
    int samples_per_class; /* (1000) */
    double step_frac;      /* spikes fall in the first step_frac of the trial (1.0) */
    int use_bias;          /* keep the constant (f = 0) component; the reference's default is 0 */
    uint64_t seed;         /* every draw is a function of (seed, class, index) (1) */
} ns_randman_params;

/* Fill p with the defaults listed above. */
void ns_randman_defaults(ns_randman_params *p);

/* Number of Fourier components per input dimension, F, for these parameters. */
int ns_randman_freqs(const ns_randman_params *p);

/* Generate the spike-timing data set: per class, samples_per_class points x ~ U[0,1]^dim mapped
 * through the class manifold; each unit's value is min-max scaled over that class's samples,
 * u = (y - min)/(max - min + 1e-7), and becomes a spike time u * steps * step_frac in [0, steps)
 * (the spike's step is its floor). Samples are stored class by class. Returns 0 or -1. */
int ns_dataset_randman(const ns_randman_params *p, ns_dataset **out, char *err, size_t errlen);

/* Evaluate class cls's raw manifold (before scaling) at n points x[n][dim] in [0,1]:
 * y[n][units], y_k(x) = prod_m sum_f theta0 s_f sin(2 pi (f x_m theta1 + theta2)). */
int ns_randman_eval(const ns_randman_params *p, int cls, size_t n, const double *x, double *y,
                    char *err, size_t errlen);

/* ---- subsets, splits, shuffles --------------------------------------------------------------- */

/* A new data set of rows idx[0..m) of ds (repeats allowed), same kind, classes and steps. */
int ns_dataset_subset(const ns_dataset *ds, const size_t *idx, size_t m, ns_dataset **out,
                      char *err, size_t errlen);

/* Stratified seeded split: in each class, round(test_frac * count) randomly chosen samples go to
 * *test, the rest to *train; both keep ds's order. test_frac in [0, 1]. */
int ns_dataset_split(const ns_dataset *ds, double test_frac, uint64_t seed, ns_dataset **train,
                     ns_dataset **test, char *err, size_t errlen);

/* perm[0..n) = a uniformly random permutation of 0..n-1, a pure function of (seed, epoch):
 * the per-epoch sample order. */
void ns_dataset_permutation(size_t n, uint64_t seed, uint64_t epoch, size_t *perm);

/* ---- counter-based random numbers (shared with train/encode.c) ------------------------------- */

/* A 64-bit key hashed from (seed, a, b, c): names one independent stream. */
uint64_t ns_dataset_key(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);

/* The counter stride of the streams: 2^64 over the golden ratio, splitmix64's increment. */
#define NS_DATASET_GOLDEN 0x9e3779b97f4a7c15ULL

/* Draw number `counter` of stream `key` as a raw 64-bit word: splitmix64's output for state
 * key + (counter + 1) * NS_DATASET_GOLDEN. Inline because encoders call it once per step and
 * feature (train/encode.c's vector Bernoulli draws step the same states themselves). */
static inline uint64_t ns_dataset_bits(uint64_t key, uint64_t counter)
{
    return ns_splitmix64_mix(key + (counter + 1) * NS_DATASET_GOLDEN);
}

/* The same draw as a uniform double in [0, 1): the top 53 bits times 2^-53. */
static inline double ns_dataset_u01(uint64_t key, uint64_t counter)
{
    return (double)(ns_dataset_bits(key, counter) >> 11) * 0x1.0p-53;
}

#endif
