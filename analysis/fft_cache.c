/* analysis/fft_cache.c — FFTW plans made once per (kind, rank, sizes) and lent to callers.
 * Plans are made on scratch arrays from fftw_malloc, which are then freed: FFTW_MEASURE scribbles
 * on the arrays it plans with, so a caller's data is never touched by planning. */
#include "analysis/fft_cache.h"
#include "base/errmsg.h"

#include <stdint.h>
#include <stdlib.h>

enum { MAX_RANK = 3 };

struct ns_fft_plan {
    ns_fft_kind kind;
    int rank;
    int n[MAX_RANK];
    fftw_plan plan;
};

struct ns_fft_cache {
    unsigned flags;
    int have_wisdom;     /* a wisdom file was imported through this cache */
    ns_fft_plan **plans; /* individually allocated, so lent pointers survive growth */
    int n_plans, cap;
};

ns_fft_cache *ns_fft_cache_create(unsigned flags)
{
    ns_fft_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->flags = flags;
    return c;
}

void ns_fft_cache_free(ns_fft_cache *c)
{
    if (!c) return;
    for (int i = 0; i < c->n_plans; i++) {
        fftw_destroy_plan(c->plans[i]->plan);
        free(c->plans[i]);
    }
    free(c->plans);
    free(c);
}

int ns_fft_cache_import_wisdom(ns_fft_cache *c, const char *path, char *err, size_t errlen)
{
    if (!c || !path) return ns_errmsg(err, errlen, "fft wisdom: no cache or no path");
    if (!fftw_import_wisdom_from_filename(path)) {
        ns_errmsg(err, errlen, "fft wisdom: cannot read wisdom from '%s'", path);
        return -1;
    }
    c->have_wisdom = 1;
    return 0;
}

int ns_fft_cache_export_wisdom(const ns_fft_cache *c, const char *path, char *err, size_t errlen)
{
    if (!c || !path) return ns_errmsg(err, errlen, "fft wisdom: no cache or no path");
    if (!fftw_export_wisdom_to_filename(path)) {
        ns_errmsg(err, errlen, "fft wisdom: cannot write wisdom to '%s'", path);
        return -1;
    }
    return 0;
}

int ns_fft_cache_size(const ns_fft_cache *c)
{
    return c ? c->n_plans : 0;
}

/* Plan on scratch arrays for both sides of the transform: n_real reals, n_cplx complex (>= 1). */
static fftw_plan make_plan(ns_fft_kind kind, int rank, const int *n, size_t n_real,
                           size_t n_cplx, unsigned fl)
{
    fftw_plan p = NULL;
    double *r = fftw_alloc_real(n_real);
    fftw_complex *z = fftw_alloc_complex(n_cplx);
    if (r && z) {
        if (kind == NS_FFT_R2C) p = fftw_plan_dft_r2c(rank, n, r, z, fl);
        else p = fftw_plan_dft_c2r(rank, n, z, r, fl);
    }
    fftw_free(r);
    fftw_free(z);
    return p;
}

const ns_fft_plan *ns_fft_cache_plan(ns_fft_cache *c, ns_fft_kind kind, int rank, const int *n,
                                     char *err, size_t errlen)
{
    if (!c || !n) {
        ns_errmsg(err, errlen, "fft plan: no cache or no sizes");
        return NULL;
    }
    if (kind != NS_FFT_R2C && kind != NS_FFT_C2R) {
        ns_errmsg(err, errlen, "fft plan: unknown transform kind %d", (int)kind);
        return NULL;
    }
    if (rank < 1 || rank > MAX_RANK) {
        ns_errmsg(err, errlen, "fft plan: rank %d outside 1..%d", rank, MAX_RANK);
        return NULL;
    }
    size_t total = 1, half = 1;
    for (int d = 0; d < rank; d++) {
        if (n[d] < 1) {
            ns_errmsg(err, errlen, "fft plan: size %d of dimension %d is not positive", n[d], d);
            return NULL;
        }
        if (total > (SIZE_MAX / 32) / (size_t)n[d]) {
            ns_errmsg(err, errlen, "fft plan: transform too large");
            return NULL;
        }
        total *= (size_t)n[d];
        half *= d == rank - 1 ? (size_t)(n[d] / 2 + 1) : (size_t)n[d];
    }

    for (int i = 0; i < c->n_plans; i++) {
        const ns_fft_plan *p = c->plans[i];
        if (p->kind != kind || p->rank != rank) continue;
        int same = 1;
        for (int d = 0; d < rank; d++) same &= p->n[d] == n[d];
        if (same) return p;
    }

    if (c->n_plans == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        ns_fft_plan **grown = realloc(c->plans, (size_t)cap * sizeof *grown);
        if (!grown) {
            ns_errmsg(err, errlen, "fft plan: out of memory");
            return NULL;
        }
        c->plans = grown;
        c->cap = cap;
    }
    ns_fft_plan *p = calloc(1, sizeof *p);
    if (!p) {
        ns_errmsg(err, errlen, "fft plan: out of memory");
        return NULL;
    }
    p->kind = kind;
    p->rank = rank;
    for (int d = 0; d < rank; d++) p->n[d] = n[d];

    /* Both kinds have total reals on one side and half complex numbers on the other. */
    if (c->flags & NS_FFT_MEASURE) {
        p->plan = make_plan(kind, rank, n, total, half, FFTW_MEASURE);
    } else {
        /* Measured plans only where wisdom already paid for the timing. */
        if (c->have_wisdom)
            p->plan = make_plan(kind, rank, n, total, half, FFTW_MEASURE | FFTW_WISDOM_ONLY);
        if (!p->plan) p->plan = make_plan(kind, rank, n, total, half, FFTW_ESTIMATE);
    }
    if (!p->plan) {
        free(p);
        ns_errmsg(err, errlen, "fft plan: FFTW could not plan a rank-%d transform (out of memory?)",
                rank);
        return NULL;
    }
    c->plans[c->n_plans++] = p;
    return p;
}

/* Plans were made on fftw_malloc arrays (alignment 0); FFTW's new-array execute needs the same. */
static int aligned(void *a)
{
    return a && fftw_alignment_of(a) == 0;
}

int ns_fft_r2c(const ns_fft_plan *p, double *in, fftw_complex *out)
{
    if (!p || p->kind != NS_FFT_R2C || !aligned(in) || !aligned(out) || (void *)in == (void *)out)
        return -1;
    fftw_execute_dft_r2c(p->plan, in, out);
    return 0;
}

int ns_fft_c2r(const ns_fft_plan *p, fftw_complex *in, double *out)
{
    if (!p || p->kind != NS_FFT_C2R || !aligned(in) || !aligned(out) || (void *)in == (void *)out)
        return -1;
    fftw_execute_dft_c2r(p->plan, in, out);
    return 0;
}

double *ns_fft_alloc_real(size_t n)
{
    return fftw_alloc_real(n > 0 ? n : 1);
}

fftw_complex *ns_fft_alloc_complex(size_t n)
{
    return fftw_alloc_complex(n > 0 ? n : 1);
}

void ns_fft_free(void *p)
{
    if (p) fftw_free(p);
}
