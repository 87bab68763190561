/* train/dataset.c — IDX reader (zlib), randman generator, subsets, stratified splits, permutations.
 * One idea: all randomness is splitmix64 over a hashed (seed, stream) key and a counter, so each
 * draw can be recomputed alone: no generator state to carry, no dependence on call order. */
#include "train/dataset.h"
#include "base/errmsg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

struct ns_dataset {
    size_t n, d;
    int classes;
    ns_data_kind kind;
    int steps;      /* spike-time sets only */
    float *x;       /* [n][d] */
    int *y;         /* [n] */
    float *coords;  /* randman only: [n][coord_dim] */
    int coord_dim;
};

/* Stream tags keep the different uses of one seed apart. */
enum { TAG_THETA = 1, TAG_X = 2, TAG_SPLIT = 3, TAG_PERM = 4 };

/* ---- counter-based random numbers ------------------------------------------------------------ */

uint64_t ns_dataset_key(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = ns_splitmix64_mix(seed + NS_DATASET_GOLDEN);
    h = ns_splitmix64_mix((h ^ a) + NS_DATASET_GOLDEN);
    h = ns_splitmix64_mix((h ^ b) + NS_DATASET_GOLDEN);
    return ns_splitmix64_mix((h ^ c) + NS_DATASET_GOLDEN);
}

/* Uniform integer in [0, m), m >= 1, without modulo bias; *ctr advances past every draw used. */
static uint64_t uniform_below(uint64_t key, uint64_t *ctr, uint64_t m)
{
    uint64_t thresh = (0 - m) % m; /* 2^64 mod m: reject the short top band */
    for (;;) {
        uint64_t r = ns_dataset_bits(key, (*ctr)++);
        if (r >= thresh)
            return r % m;
    }
}

/* ---- creation and access --------------------------------------------------------------------- */

/* n rows of d floats cannot be held: no feature, or more bytes than a size_t counts. */
static int bad_size(size_t n, size_t d)
{
    return d == 0 || (n > 0 && d > SIZE_MAX / sizeof(float) / n);
}

static ns_dataset *ds_alloc(size_t n, size_t d, int classes, char *err, size_t errlen)
{
    if (bad_size(n, d)) {
        ns_errmsg(err, errlen, "data set: bad size %zu x %zu", n, d);
        return NULL;
    }
    ns_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) {
        ns_errmsg(err, errlen, "data set: out of memory");
        return NULL;
    }
    ds->n = n;
    ds->d = d;
    ds->classes = classes;
    ds->kind = NS_DATA_FEATURES;
    ds->x = malloc((n ? n * d : 1) * sizeof(float));
    ds->y = malloc((n ? n : 1) * sizeof(int));
    if (!ds->x || !ds->y) {
        ns_dataset_free(ds);
        ns_errmsg(err, errlen, "data set: out of memory for %zu x %zu values", n, d);
        return NULL;
    }
    return ds;
}

void ns_dataset_free(ns_dataset *ds)
{
    if (!ds)
        return;
    free(ds->x);
    free(ds->y);
    free(ds->coords);
    free(ds);
}

static int check_labels(size_t n, int classes, const int *y, char *err, size_t errlen)
{
    if (classes < 1) return ns_errmsg(err, errlen, "data set: classes must be >= 1, got %d", classes);
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || y[i] >= classes) {
            ns_errmsg(err, errlen, "data set: label %d of sample %zu is outside [0, %d)", y[i], i,
                   classes);
            return -1;
        }
    return 0;
}

int ns_dataset_from_arrays(size_t n, size_t d, int classes, const float *x, const int *y,
                           ns_dataset **out, char *err, size_t errlen)
{
    *out = NULL;
    if (bad_size(n, d)) return ns_errmsg(err, errlen, "data set: bad size %zu x %zu", n, d);
    if (n > 0 && (!x || !y)) return ns_errmsg(err, errlen, "data set: NULL array");
    if (check_labels(n, classes, y, err, errlen))
        return -1;
    for (size_t k = 0; k < n * d; k++)
        if (!isfinite(x[k])) {
            ns_errmsg(err, errlen, "data set: feature %zu of sample %zu is not finite", k % d, k / d);
            return -1;
        }
    ns_dataset *ds = ds_alloc(n, d, classes, err, errlen);
    if (!ds)
        return -1;
    if (n) {
        memcpy(ds->x, x, n * d * sizeof(float));
        memcpy(ds->y, y, n * sizeof(int));
    }
    *out = ds;
    return 0;
}

int ns_dataset_from_spike_times(size_t n, size_t d, int classes, int steps, const float *times,
                                const int *y, ns_dataset **out, char *err, size_t errlen)
{
    *out = NULL;
    if (bad_size(n, d) || (n > 0 && !times)) {
        ns_errmsg(err, errlen, "spike-time data set: bad size %zu x %zu or NULL array", n, d);
        return -1;
    }
    if (steps < 1) return ns_errmsg(err, errlen, "spike-time data set: steps must be >= 1, got %d", steps);
    for (size_t k = 0; k < n * d; k++)
        if (!(times[k] < (float)steps)) { /* also catches NaN */
            ns_errmsg(err, errlen, "spike-time data set: time %g of unit %zu, sample %zu is not below "
                   "steps = %d", (double)times[k], k % d, k / d, steps);
            return -1;
        }
    if (ns_dataset_from_arrays(n, d, classes, times, y, out, err, errlen))
        return -1;
    (*out)->kind = NS_DATA_SPIKE_TIMES;
    (*out)->steps = steps;
    return 0;
}

size_t ns_dataset_n(const ns_dataset *ds) { return ds->n; }
size_t ns_dataset_dim(const ns_dataset *ds) { return ds->d; }
int ns_dataset_classes(const ns_dataset *ds) { return ds->classes; }
ns_data_kind ns_dataset_kind(const ns_dataset *ds) { return ds->kind; }
int ns_dataset_steps(const ns_dataset *ds) { return ds->steps; }
const float *ns_dataset_x(const ns_dataset *ds) { return ds->x; }
const float *ns_dataset_row(const ns_dataset *ds, size_t i) { return ds->x + i * ds->d; }
const int *ns_dataset_labels(const ns_dataset *ds) { return ds->y; }
const float *ns_dataset_coords(const ns_dataset *ds) { return ds->coords; }
int ns_dataset_coord_dim(const ns_dataset *ds) { return ds->coord_dim; }

void ns_dataset_class_counts(const ns_dataset *ds, size_t *counts)
{
    memset(counts, 0, (size_t)ds->classes * sizeof *counts);
    for (size_t i = 0; i < ds->n; i++)
        counts[ds->y[i]]++;
}

/* ---- IDX files ------------------------------------------------------------------------------- */

/* Read len bytes; *got is how many arrived. Returns 0 when all did, 1 on a short read (end of
 * file, or a gzip stream cut short: *cut set), -1 on a read or decompression error (message
 * set). */
static int read_all(gzFile f, const char *path, void *buf, size_t len, size_t *got, int *cut,
                    char *err, size_t errlen)
{
    unsigned char *p = buf;
    *got = 0;
    *cut = 0;
    while (*got < len) {
        size_t want = len - *got;
        if (want > (1u << 30))
            want = 1u << 30;
        int r = gzread(f, p + *got, (unsigned)want);
        int errnum = Z_OK;
        const char *msg = gzerror(f, &errnum);
        if (r < 0 || (errnum != Z_OK && errnum != Z_BUF_ERROR)) {
            ns_errmsg(err, errlen, "%s: read error: %s", path,
                   errnum == Z_ERRNO ? strerror(errno) : msg);
            return -1;
        }
        *got += (size_t)r;
        if ((size_t)r < want) {
            *cut = errnum == Z_BUF_ERROR; /* zlib: "unexpected end of file" inside the stream */
            return 1;
        }
    }
    return 0;
}

/* Read len bytes into a buffer that grows as they arrive, so a header's count is not trusted with
 * memory before the data is there: *out (malloc'd; the caller frees it, also on failure), *got
 * bytes of it read. Returns as read_all. */
static int read_grown(gzFile f, const char *path, size_t len, unsigned char **out, size_t *got, int *cut,
                      char *err, size_t errlen)
{
    size_t cap = len < ((size_t)1 << 20) ? len : (size_t)1 << 20;
    unsigned char *buf = malloc(cap ? cap : 1);
    *out = buf;
    *got = 0;
    *cut = 0;
    if (!buf) {
        ns_errmsg(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (;;) {
        size_t part;
        int r = read_all(f, path, buf + *got, cap - *got, &part, cut, err, errlen);
        *got += part;
        if (r != 0 || *got == len)
            return r;
        size_t ncap = cap > len / 2 ? len : 2 * cap;
        unsigned char *nb = realloc(buf, ncap);
        if (!nb) {
            ns_errmsg(err, errlen, "%s: out of memory for %zu data bytes", path, ncap);
            return -1;
        }
        *out = buf = nb;
        cap = ncap;
    }
}

static gzFile idx_open(const char *path, char *err, size_t errlen)
{
    if (!path) {
        ns_errmsg(err, errlen, "IDX file: NULL path");
        return NULL;
    }
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        ns_errmsg(err, errlen, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    gzbuffer(f, 1u << 17);
    return f;
}

/* Read the magic and sizes. labels: want 0x00000801; else 0x00000802/0x00000803. Sets dims[0..nd).
 * Returns 0 or -1 (message set). */
static int idx_header(gzFile f, const char *path, int labels, uint32_t dims[3], int *nd,
                      char *err, size_t errlen)
{
    unsigned char h[16];
    size_t got;
    int cut;
    int r = read_all(f, path, h, 4, &got, &cut, err, errlen);
    if (r < 0)
        return -1;
    if (r > 0) {
        ns_errmsg(err, errlen, "%s: truncated: %s (%zu of 4 magic bytes)", path,
               got ? "header cut short" : "empty file", got);
        return -1;
    }
    uint32_t magic = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    int ok = labels ? magic == 0x00000801u : (magic == 0x00000803u || magic == 0x00000802u);
    if (!ok) {
        ns_errmsg(err, errlen, "%s: bad magic 0x%08x, want %s", path, (unsigned)magic,
               labels ? "0x00000801 (IDX unsigned-byte labels)"
                      : "0x00000803 (IDX unsigned-byte images)");
        return -1;
    }
    *nd = h[3];
    r = read_all(f, path, h + 4, 4 * (size_t)*nd, &got, &cut, err, errlen);
    if (r < 0)
        return -1;
    if (r > 0) {
        ns_errmsg(err, errlen, "%s: truncated header (%zu of %d size bytes)", path, got, 4 * *nd);
        return -1;
    }
    for (int i = 0; i < *nd; i++) {
        const unsigned char *b = h + 4 + 4 * i;
        dims[i] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (dims[i] == 0) {
            ns_errmsg(err, errlen, "%s: header declares size 0 in dimension %d", path, i);
            return -1;
        }
    }
    return 0;
}

/* After the data: anything left means the header and the file disagree. */
static int idx_check_end(gzFile f, const char *path, uint32_t items, const char *what, char *err,
                         size_t errlen)
{
    unsigned char c;
    size_t got;
    int cut;
    int r = read_all(f, path, &c, 1, &got, &cut, err, errlen);
    if (r < 0)
        return -1;
    if (got) {
        ns_errmsg(err, errlen, "%s: trailing bytes after the %u %s the header declares", path,
               (unsigned)items, what);
        return -1;
    }
    return 0;
}

static void idx_truncated(const char *path, size_t want, size_t got, int cut, uint32_t items,
                          const char *what, char *err, size_t errlen)
{
    ns_errmsg(err, errlen, "%s: truncated%s: header declares %u %s (%zu data bytes), got %zu", path,
           cut ? " gzip stream" : "", (unsigned)items, what, want, got);
}

/* Labels file: returns 0 with *y (malloc'd) and *n, or -1. */
static int idx_read_labels(const char *path, int **y, uint32_t *n, char *err, size_t errlen)
{
    *y = NULL;
    gzFile f = idx_open(path, err, errlen);
    if (!f)
        return -1;
    uint32_t dims[3];
    int nd;
    unsigned char *buf = NULL;
    int rc = -1;
    if (idx_header(f, path, 1, dims, &nd, err, errlen))
        goto done;
    *n = dims[0];
    size_t got;
    int cut;
    int r = read_grown(f, path, *n, &buf, &got, &cut, err, errlen);
    if (r < 0)
        goto done;
    if (r > 0) {
        idx_truncated(path, *n, got, cut, *n, "labels", err, errlen);
        goto done;
    }
    if (idx_check_end(f, path, *n, "labels", err, errlen))
        goto done;
    if (!(*y = malloc(((size_t)*n ? *n : 1) * sizeof(int)))) {
        ns_errmsg(err, errlen, "%s: out of memory for %u labels", path, (unsigned)*n);
        goto done;
    }
    for (uint32_t i = 0; i < *n; i++)
        (*y)[i] = buf[i];
    rc = 0;
done:
    free(buf);
    gzclose(f);
    if (rc) {
        free(*y);
        *y = NULL;
    }
    return rc;
}

int ns_dataset_load_idx(const char *images_path, const char *labels_path, ns_dataset **out,
                        char *err, size_t errlen)
{
    *out = NULL;
    int *y = NULL;
    uint32_t nlab = 0;
    if (idx_read_labels(labels_path, &y, &nlab, err, errlen))
        return -1;

    gzFile f = idx_open(images_path, err, errlen);
    if (!f) {
        free(y);
        return -1;
    }
    ns_dataset *ds = NULL;
    unsigned char *buf = NULL;
    int rc = -1;
    uint32_t dims[3];
    int nd;
    if (idx_header(f, images_path, 0, dims, &nd, err, errlen))
        goto done;
    uint32_t n = dims[0];
    size_t d = dims[1] * (size_t)(nd == 3 ? dims[2] : 1);
    if (n != nlab) {
        ns_errmsg(err, errlen, "%s has %u images but %s has %u labels", images_path, (unsigned)n,
               labels_path, (unsigned)nlab);
        goto done;
    }
    int classes = 1;
    for (uint32_t i = 0; i < n; i++)
        if (y[i] + 1 > classes)
            classes = y[i] + 1;
    if (bad_size(n, d)) {
        ns_errmsg(err, errlen, "%s: header declares %u images of %zu values: too many for memory", images_path,
                  (unsigned)n, d);
        goto done;
    }
    /* the bytes first (memory follows the data), then the data set of their values */
    size_t total = (size_t)n * d, got;
    int cut;
    int r = read_grown(f, images_path, total, &buf, &got, &cut, err, errlen);
    if (r < 0)
        goto done;
    if (r > 0) {
        idx_truncated(images_path, total, got, cut, n, "images", err, errlen);
        goto done;
    }
    if (idx_check_end(f, images_path, n, "images", err, errlen))
        goto done;
    ds = ds_alloc(n, d, classes, err, errlen);
    if (!ds)
        goto done;
    memcpy(ds->y, y, (size_t)n * sizeof(int));
    float lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = (float)v / 255.0f;
    for (size_t k = 0; k < total; k++)
        ds->x[k] = lut[buf[k]];
    rc = 0;
done:
    free(buf);
    free(y);
    gzclose(f);
    if (rc) {
        ns_dataset_free(ds);
        return -1;
    }
    *out = ds;
    return 0;
}

/* The first readable file of one IDX kind ("images-idx3", "labels-idx1") of a set in base, under
 * the names MNIST and Fashion-MNIST ship with and their common variants (path len bytes); 0, or -1
 * with what was looked for in err. */
static int idx_find(const char *base, int train, const char *kind, char *path, size_t len, char *err, size_t errlen)
{
    static const char *const train_sets[] = {"train", NULL}, *const test_sets[] = {"t10k", "test", NULL};
    static const char *const forms[] = {"%s/%s-%s-ubyte.gz", "%s/%s-%s-ubyte", NULL};
    char dotted[32];
    snprintf(dotted, sizeof dotted, "%s", kind);
    *strchr(dotted, '-') = '.'; /* images.idx3: the other common spelling */
    for (const char *const *set = train ? train_sets : test_sets; *set; set++)
        for (int dot = 0; dot <= 1; dot++)
            for (const char *const *f = forms; *f; f++) {
                snprintf(path, len, *f, base, *set, dot ? dotted : kind);
                if (access(path, R_OK) == 0) return 0;
            }
    ns_errmsg(err, errlen, "%s: no %s %s file (looked for %s-%s-ubyte, %s-%s-ubyte%s, each also .gz)", base,
              train ? "training" : "test", kind, train ? "train" : "t10k", kind, train ? "train" : "t10k", dotted,
              train ? "" : " and test-*");
    return -1;
}

int ns_dataset_load_fashion_mnist(const char *dir, int train, ns_dataset **out, char *err,
                                  size_t errlen)
{
    const char *base = dir ? dir : NS_FASHION_MNIST_DIR;
    size_t len = strlen(base) + 64;
    char *img = malloc(len), *lab = malloc(len);
    int rc = -1;
    *out = NULL;
    if (!img || !lab) ns_errmsg(err, errlen, "%s: out of memory", base);
    else if (!idx_find(base, train, "images-idx3", img, len, err, errlen) &&
             !idx_find(base, train, "labels-idx1", lab, len, err, errlen))
        rc = ns_dataset_load_idx(img, lab, out, err, errlen);
    free(img);
    free(lab);
    return rc;
}

/* ---- randman --------------------------------------------------------------------------------- */

void ns_randman_defaults(ns_randman_params *p)
{
    p->classes = 10;
    p->units = 100;
    p->steps = 100;
    p->dim = 2;
    p->alpha = 2.0;
    p->prec = 1e-3;
    p->max_freq = 1000;
    p->samples_per_class = 1000;
    p->step_frac = 1.0;
    p->use_bias = 0;
    p->seed = 1;
}

int ns_randman_freqs(const ns_randman_params *p)
{
    double f = ceil(pow(p->prec, -1.0 / p->alpha));
    return f < (double)p->max_freq ? (int)f : p->max_freq;
}

static int randman_check(const ns_randman_params *p, char *err, size_t errlen)
{
    const char *bad = NULL;
    if (p->classes < 1 || p->classes > 1000000)
        bad = "classes must be in [1, 1e6]";
    else if (p->units < 1 || p->units > 1000000)
        bad = "units must be in [1, 1e6]";
    else if (p->steps < 1)
        bad = "steps must be >= 1";
    else if (p->dim < 1 || p->dim > 64)
        bad = "dim must be in [1, 64]";
    else if (!(p->alpha > 0) || !isfinite(p->alpha))
        bad = "alpha must be positive and finite";
    else if (!(p->prec > 0 && p->prec < 1))
        bad = "prec must lie in (0, 1)";
    else if (p->max_freq < 1 || p->max_freq > 100000)
        bad = "max_freq must be in [1, 1e5]";
    else if (p->samples_per_class < 1)
        bad = "samples_per_class must be >= 1";
    else if (!(p->step_frac > 0 && p->step_frac <= 1))
        bad = "step_frac must lie in (0, 1]";
    else if ((double)p->classes * p->samples_per_class * p->units > 4e9)
        bad = "classes * samples_per_class * units exceeds 4e9 values";
    if (bad) return ns_errmsg(err, errlen, "randman: %s", bad);
    return 0;
}

/* One class's manifold, prepared for evaluation: for unit k, input dim m, component f, the term
 * amp sin(w x + ph) with amp = theta0 s_f, w = 2 pi f theta1, ph = 2 pi theta2. */
typedef struct {
    int units, dim, nf;
    double *amp, *w, *ph; /* [units][dim][nf] */
} manifold;

static void manifold_free(manifold *m)
{
    free(m->amp);
    free(m->w);
    free(m->ph);
}

static int manifold_build(const ns_randman_params *p, int cls, manifold *m, char *err,
                          size_t errlen)
{
    int F = ns_randman_freqs(p);
    size_t cnt = (size_t)p->units * (size_t)p->dim * (size_t)F;
    m->units = p->units;
    m->dim = p->dim;
    m->nf = F;
    m->amp = malloc(cnt * sizeof(double));
    m->w = malloc(cnt * sizeof(double));
    m->ph = malloc(cnt * sizeof(double));
    if (!m->amp || !m->w || !m->ph) {
        manifold_free(m);
        ns_errmsg(err, errlen, "randman: out of memory");
        return -1;
    }
    const double two_pi = 6.283185307179586476925;
    uint64_t key = ns_dataset_key(p->seed, TAG_THETA, (uint64_t)cls, 0);
    /* theta[k][m][j][f], j = 0..2, drawn in that flat order as the reference lays it out */
    for (size_t km = 0; km < (size_t)p->units * (size_t)p->dim; km++)
        for (int f = 0; f < F; f++) {
            uint64_t base = km * 3 * (uint64_t)F + (uint64_t)f;
            double t0 = ns_dataset_u01(key, base);
            double t1 = ns_dataset_u01(key, base + (uint64_t)F);
            double t2 = ns_dataset_u01(key, base + 2 * (uint64_t)F);
            if (f == 0 && !p->use_bias)
                t0 = 0; /* the f = 0 term is a constant offset; the reference drops it */
            double s = 1.0 / (pow(f + 1.0, p->alpha) + 1.0);
            size_t i = km * (size_t)F + (size_t)f;
            m->amp[i] = t0 * s;
            m->w[i] = two_pi * f * t1;
            m->ph[i] = two_pi * t2;
        }
    return 0;
}

/* y[units] at one point x[dim] */
static void manifold_eval(const manifold *m, const double *x, double *y)
{
    for (int k = 0; k < m->units; k++) {
        double prod = 1.0;
        for (int d = 0; d < m->dim; d++) {
            size_t base = ((size_t)k * (size_t)m->dim + (size_t)d) * (size_t)m->nf;
            const double *a = m->amp + base, *w = m->w + base, *ph = m->ph + base;
            double g = 0.0;
            for (int f = 0; f < m->nf; f++)
                if (a[f] != 0.0)
                    g += a[f] * sin(w[f] * x[d] + ph[f]);
            prod *= g;
        }
        y[k] = prod;
    }
}

int ns_randman_eval(const ns_randman_params *p, int cls, size_t n, const double *x, double *y,
                    char *err, size_t errlen)
{
    if (randman_check(p, err, errlen))
        return -1;
    if (cls < 0 || cls >= p->classes) {
        ns_errmsg(err, errlen, "randman: class %d outside [0, %d)", cls, p->classes);
        return -1;
    }
    manifold m;
    if (manifold_build(p, cls, &m, err, errlen))
        return -1;
    for (size_t i = 0; i < n; i++)
        manifold_eval(&m, x + i * (size_t)p->dim, y + i * (size_t)p->units);
    manifold_free(&m);
    return 0;
}

int ns_dataset_randman(const ns_randman_params *p, ns_dataset **out, char *err, size_t errlen)
{
    *out = NULL;
    if (randman_check(p, err, errlen))
        return -1;
    size_t spc = (size_t)p->samples_per_class, units = (size_t)p->units, dim = (size_t)p->dim;
    size_t n = (size_t)p->classes * spc;
    ns_dataset *ds = ds_alloc(n, units, p->classes, err, errlen);
    if (!ds)
        return -1;
    ds->kind = NS_DATA_SPIKE_TIMES;
    ds->steps = p->steps;
    ds->coord_dim = p->dim;
    ds->coords = malloc(n * dim * sizeof(float));
    double *x = malloc(spc * dim * sizeof(double));
    double *y = malloc(spc * units * sizeof(double));
    double *lo = malloc(units * sizeof(double)), *hi = malloc(units * sizeof(double));
    int rc = -1;
    if (!ds->coords || !x || !y || !lo || !hi) {
        ns_errmsg(err, errlen, "randman: out of memory");
        goto done;
    }
    const float steps_f = (float)p->steps;
    const float last = nextafterf(steps_f, 0.0f); /* largest float below steps */
    for (int c = 0; c < p->classes; c++) {
        manifold m;
        if (manifold_build(p, c, &m, err, errlen))
            goto done;
        uint64_t kx = ns_dataset_key(p->seed, TAG_X, (uint64_t)c, 0);
        for (size_t i = 0; i < spc * dim; i++)
            x[i] = ns_dataset_u01(kx, i);
        for (size_t i = 0; i < spc; i++)
            manifold_eval(&m, x + i * dim, y + i * units);
        manifold_free(&m);

        /* min-max scale each unit over this class's samples, as the reference's standardize() */
        for (size_t k = 0; k < units; k++) {
            lo[k] = hi[k] = y[k];
        }
        for (size_t i = 1; i < spc; i++)
            for (size_t k = 0; k < units; k++) {
                double v = y[i * units + k];
                if (v < lo[k])
                    lo[k] = v;
                if (v > hi[k])
                    hi[k] = v;
            }
        const double scale = p->steps * p->step_frac;
        for (size_t i = 0; i < spc; i++) {
            size_t row = (size_t)c * spc + i;
            for (size_t k = 0; k < units; k++) {
                double u = (y[i * units + k] - lo[k]) / (hi[k] - lo[k] + 1e-7);
                float t = (float)(u * scale);
                ds->x[row * units + k] = t < steps_f ? t : last; /* float rounding can hit steps */
            }
            for (size_t j = 0; j < dim; j++)
                ds->coords[row * dim + j] = (float)x[i * dim + j];
            ds->y[row] = c;
        }
    }
    *out = ds;
    ds = NULL;
    rc = 0;
done:
    free(x);
    free(y);
    free(lo);
    free(hi);
    ns_dataset_free(ds);
    return rc;
}

/* ---- subsets, splits, permutations ----------------------------------------------------------- */

int ns_dataset_subset(const ns_dataset *ds, const size_t *idx, size_t m, ns_dataset **out,
                      char *err, size_t errlen)
{
    *out = NULL;
    for (size_t i = 0; i < m; i++)
        if (idx[i] >= ds->n) {
            ns_errmsg(err, errlen, "data set subset: index %zu out of range (n = %zu)", idx[i], ds->n);
            return -1;
        }
    ns_dataset *s = ds_alloc(m, ds->d, ds->classes, err, errlen);
    if (!s)
        return -1;
    s->kind = ds->kind;
    s->steps = ds->steps;
    if (ds->coords) {
        s->coord_dim = ds->coord_dim;
        s->coords = malloc((m ? m : 1) * (size_t)ds->coord_dim * sizeof(float));
        if (!s->coords) {
            ns_dataset_free(s);
            ns_errmsg(err, errlen, "data set subset: out of memory");
            return -1;
        }
    }
    for (size_t i = 0; i < m; i++) {
        memcpy(s->x + i * ds->d, ds->x + idx[i] * ds->d, ds->d * sizeof(float));
        s->y[i] = ds->y[idx[i]];
        if (s->coords)
            memcpy(s->coords + i * (size_t)ds->coord_dim,
                   ds->coords + idx[i] * (size_t)ds->coord_dim,
                   (size_t)ds->coord_dim * sizeof(float));
    }
    *out = s;
    return 0;
}

void ns_dataset_permutation(size_t n, uint64_t seed, uint64_t epoch, size_t *perm)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    uint64_t key = ns_dataset_key(seed, TAG_PERM, epoch, 0), ctr = 0;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)uniform_below(key, &ctr, i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

int ns_dataset_split(const ns_dataset *ds, double test_frac, uint64_t seed, ns_dataset **train,
                     ns_dataset **test, char *err, size_t errlen)
{
    *train = *test = NULL;
    if (!(test_frac >= 0 && test_frac <= 1)) {
        ns_errmsg(err, errlen, "data set split: test fraction %g outside [0, 1]", test_frac);
        return -1;
    }
    size_t n = ds->n, C = (size_t)ds->classes;
    size_t *cnt = calloc(C, sizeof *cnt), *start = calloc(C + 1, sizeof *start);
    size_t *bycls = malloc((n ? n : 1) * sizeof *bycls), *fill = calloc(C, sizeof *fill);
    size_t *itr = malloc((n ? n : 1) * sizeof *itr), *ite = malloc((n ? n : 1) * sizeof *ite);
    unsigned char *is_test = calloc(n ? n : 1, 1);
    int rc = -1;
    if (!cnt || !start || !bycls || !fill || !itr || !ite || !is_test) {
        ns_errmsg(err, errlen, "data set split: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        cnt[ds->y[i]]++;
    for (size_t c = 0; c < C; c++)
        start[c + 1] = start[c] + cnt[c];
    for (size_t i = 0; i < n; i++) {
        size_t c = (size_t)ds->y[i];
        bycls[start[c] + fill[c]++] = i;
    }
    for (size_t c = 0; c < C; c++) {
        /* partial Fisher-Yates: the first k of a random shuffle of this class go to test */
        size_t m = cnt[c], k = (size_t)llround(test_frac * (double)m);
        size_t *v = bycls + start[c];
        uint64_t key = ns_dataset_key(seed, TAG_SPLIT, c, 0), ctr = 0;
        for (size_t i = 0; i < k; i++) {
            size_t j = i + (size_t)uniform_below(key, &ctr, m - i);
            size_t t = v[i];
            v[i] = v[j];
            v[j] = t;
            is_test[v[i]] = 1;
        }
    }
    size_t ntr = 0, nte = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_test[i])
            ite[nte++] = i;
        else
            itr[ntr++] = i;
    }
    if (ns_dataset_subset(ds, itr, ntr, train, err, errlen))
        goto done;
    if (ns_dataset_subset(ds, ite, nte, test, err, errlen)) {
        ns_dataset_free(*train);
        *train = NULL;
        goto done;
    }
    rc = 0;
done:
    free(cnt);
    free(start);
    free(bycls);
    free(fill);
    free(itr);
    free(ite);
    free(is_test);
    return rc;
}
