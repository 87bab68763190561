/* analysis/fft_cache.h — a small owned cache of FFTW plans keyed by (kind, rank, sizes).
 * Plan once, run many: a plan is made the first time a shape is asked for, on the cache's own
 * scratch arrays, and then executed on the caller's arrays through FFTW's new-array execute.
 *
 * Threads: FFTW's planner is not thread-safe, and neither is this cache (ns_fft_cache_plan, the
 * wisdom calls, create and free). Get every plan from one thread first; the execute calls below
 * (fftw_execute_dft_r2c and friends on distinct arrays) may then run from many threads at once.
 * Arrays handed to the execute calls must be aligned as fftw_malloc aligns (use ns_fft_alloc_*);
 * an array with another alignment is refused (-1), never run through a plan that cannot take it.
 * Wisdom is FFTW's own process-wide table: importing it here makes it visible to every cache. */
#ifndef NS_FFT_CACHE_H
#define NS_FFT_CACHE_H

#include <stddef.h>
#include <fftw3.h>

typedef struct ns_fft_cache ns_fft_cache;
typedef struct ns_fft_plan ns_fft_plan;

typedef enum {
    NS_FFT_R2C,          /* real n[0] x .. x n[rank-1] -> complex, last size halved to n/2+1 */
    NS_FFT_C2R           /* the inverse of R2C, unnormalised (scaled by the product of sizes) */
} ns_fft_kind;

/* Creation flags. */
enum {
    NS_FFT_MEASURE = 1u  /* always plan with FFTW_MEASURE (slow to plan, faster to run) */
};

/* Create an empty cache. Without NS_FFT_MEASURE plans use FFTW_ESTIMATE, except that after a
 * wisdom import a shape the wisdom knows is planned as measured (FFTW_WISDOM_ONLY, no timing).
 * Returns NULL when out of memory. */
ns_fft_cache *ns_fft_cache_create(unsigned flags);

/* Free the cache and every plan it made; NULL is harmless. */
void ns_fft_cache_free(ns_fft_cache *c);

/* Import FFTW wisdom from a file written by ns_fft_cache_export_wisdom (or fftw-wisdom).
 * Returns 0, or -1 with a one-line message in err (missing or unreadable file). */
int ns_fft_cache_import_wisdom(ns_fft_cache *c, const char *path, char *err, size_t errlen);

/* Write FFTW's accumulated wisdom to path. Returns 0, or -1 with a message in err. */
int ns_fft_cache_export_wisdom(const ns_fft_cache *c, const char *path, char *err, size_t errlen);

/* The plan for a transform of kind over rank (1..3) sizes n[0..rank-1] (C order, last fastest),
 * made on first use and lent for the cache's lifetime. NULL with a message in err on bad sizes
 * or when FFTW cannot plan. */
const ns_fft_plan *ns_fft_cache_plan(ns_fft_cache *c, ns_fft_kind kind, int rank, const int *n,
                                     char *err, size_t errlen);

/* Number of plans the cache holds (each shape and kind once). */
int ns_fft_cache_size(const ns_fft_cache *c);

/* Run a plan on caller arrays (out of place, in != out). R2C leaves in untouched; C2R
 * overwrites in. Returns 0, or -1 when the plan is of another kind or an
 * array is not aligned as FFTW planned. Safe from several threads on distinct arrays. */
int ns_fft_r2c(const ns_fft_plan *p, double *in, fftw_complex *out);
int ns_fft_c2r(const ns_fft_plan *p, fftw_complex *in, double *out);

/* SIMD-aligned arrays of n doubles / n complex numbers (fftw_malloc); NULL when out of memory.
 * Free with ns_fft_free (NULL is harmless). */
double *ns_fft_alloc_real(size_t n);
fftw_complex *ns_fft_alloc_complex(size_t n);
void ns_fft_free(void *p);

#endif
