/* bench/stream_triad.c — a STREAM-like bound for a leapfrog sweep: the triad a = b + s c over three
 * arrays of n doubles (two read, one written: the traffic of one kg_field site update, phi^n and
 * phi^{n-1} read, phi^{n+1} written), split over T threads, best of R repeats; also the copy a = b.
 *   cc -O2 -pthread bench/stream_triad.c -o stream_triad && ./stream_triad n threads repeats */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "wall_clock.h"

typedef struct {
    double *a, *b, *c;
    long lo, hi;
    int copy;
} slice;

static void *work(void *p)
{
    slice *s = p;
    if (s->copy)
        for (long i = s->lo; i < s->hi; i++) s->a[i] = s->b[i];
    else
        for (long i = s->lo; i < s->hi; i++) s->a[i] = s->b[i] + 0.5 * s->c[i];
    return NULL;
}

/* Best wall time of one pass over all n elements with T threads. */
static double best_pass(double *a, double *b, double *c, long n, int T, int reps, int copy)
{
    double best = 1e30;
    pthread_t th[64];
    slice sl[64];
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        for (int k = 0; k < T; k++) {
            sl[k] = (slice){a, b, c, n * k / T, n * (k + 1) / T, copy};
            pthread_create(&th[k], NULL, work, &sl[k]);
        }
        for (int k = 0; k < T; k++) pthread_join(th[k], NULL);
        double t = now_s() - t0;
        if (t < best) best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1L << 20;
    int T = argc > 2 ? atoi(argv[2]) : 1, reps = argc > 3 ? atoi(argv[3]) : 20;
    if (n < 1 || T < 1 || T > 64 || reps < 1) {
        fprintf(stderr, "stream_triad: n >= 1, 1 <= threads <= 64, repeats >= 1\n");
        return 2;
    }
    double *a = malloc(sizeof(double) * (size_t)n), *b = malloc(sizeof(double) * (size_t)n),
           *c = malloc(sizeof(double) * (size_t)n);
    if (!a || !b || !c) {
        fprintf(stderr, "stream_triad: out of memory for 3 x %ld doubles\n", n);
        return 1;
    }
    for (long i = 0; i < n; i++) a[i] = 0.0, b[i] = (double)(i % 7), c[i] = (double)(i % 5);
    double tt = best_pass(a, b, c, n, T, reps, 0), tc = best_pass(a, b, c, n, T, reps, 1);
    printf("triad over 3 x %ld doubles (%.0f MB), %d thread(s): %.1f million elements/s (%.1f GB/s); copy %.1f GB/s\n",
           n, 24.0 * (double)n / 1e6, T, (double)n / tt / 1e6, 24.0 * (double)n / tt / 1e9, 16.0 * (double)n / tc / 1e9);
    free(a);
    free(b);
    free(c);
    return 0;
}
