/* bench/psd_speed.c — wall time of a Welch PSD of 10^7 samples (segment 4096, 50 % overlap, Hann).
 * Target: well under a second. Planning is timed apart from the runs: with the plan cache a
 * second call costs only the transforms. Build (from the project root):
 *   gcc -std=c11 -O2 -D_GNU_SOURCE -I. analysis/fft_cache.c analysis/psd.c bench/psd_speed.c \
 *       $(pkg-config --cflags --libs fftw3) -lm -o psd_speed && ./psd_speed [n_samples] */
#include "analysis/fft_cache.h"
#include "analysis/psd.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000000L;
    ns_welch_opts o = {.segment = 4096, .overlap = 0.5, .window = NS_WINDOW_HANN,
                       .detrend = NS_DETREND_MEAN, .fs_hz = 10000};
    if (n < o.segment) {
        fprintf(stderr, "psd_speed: need at least %ld samples\n", o.segment);
        return 1;
    }
    double *x = malloc((size_t)n * sizeof *x);
    double *p = malloc((size_t)ns_psd_nfreq(o.segment) * sizeof *p);
    if (!x || !p) {
        fprintf(stderr, "psd_speed: out of memory\n");
        return 1;
    }
    uint64_t s = 88172645463325252ull;
    for (long i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = (double)(s >> 11) * 0x1.0p-53 - 0.5 + sin(0.05 * (double)i);
    }

    char err[256];
    ns_fft_cache *c = ns_fft_cache_create(0);
    double t0 = now_s();
    if (ns_psd_welch(c, x, n, &o, p, NULL, err, sizeof err)) {
        fprintf(stderr, "psd_speed: %s\n", err);
        return 1;
    }
    double first = now_s() - t0;
    double best = INFINITY;
    for (int rep = 0; rep < 5; rep++) {
        t0 = now_s();
        ns_psd_welch(c, x, n, &o, p, NULL, err, sizeof err);
        best = fmin(best, now_s() - t0);
    }
    printf("welch psd: %ld samples, segment %ld, overlap %.2f, Hann, %ld segments\n", n,
           o.segment, o.overlap, ns_psd_welch_segments(n, &o));
    printf("first call (plans the FFT): %.4f s\n", first);
    printf("warm call (best of 5):      %.4f s\n", best);
    ns_fft_cache_free(c);
    free(x);
    free(p);
    return 0;
}
