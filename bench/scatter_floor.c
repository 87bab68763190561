/* bench/scatter_floor.c — the floor of spike delivery on this machine: a stream of synapses
 * (4-byte target, 4-byte weight, read in order from a table far larger than the caches, as a
 * spike's rows are) each adding its weight to a random unit of a row of doubles. The row is the
 * size of a population's input row (cache-resident: nsim's held lists add into it) or of a whole
 * ring of max_delay rows (what a direct scatter with per-synapse delays touches). With RUN > 0
 * the table is read in runs of RUN synapses that start at random places, as a spike's synapses
 * of one delay are (nsim's held runs), instead of front to back. Prints nanoseconds per synapse
 * event, best of R repeats.
 *   cc -O3 -march=native -pthread bench/scatter_floor.c -o scatter_floor
 *   ./scatter_floor ROW_DOUBLES TABLE_SYNAPSES THREADS REPEATS [RUN] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "wall_clock.h"

typedef struct {
    const uint32_t *tgt;
    const float *w;
    double *row;
    size_t lo, hi, run, m;
} slice;

static void *work(void *p)
{
    const slice *s = p;
    double *restrict row = s->row;
    if (!s->run) {
        for (size_t j = s->lo; j < s->hi; j++) row[s->tgt[j]] += s->w[j];
        return NULL;
    }
    /* runs at random places, their lines asked for 8 runs ahead (as nsim's release does) */
    enum { AHEAD = 8 };
    size_t start[AHEAD];
    uint64_t x = 0x9E3779B97F4A7C15ull ^ s->lo;
    for (size_t done = s->lo, k = 0; done < s->hi + AHEAD * s->run; done += s->run, k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const size_t a = (size_t)(x % (s->m - s->run));
        if (k >= AHEAD) { /* the run drawn AHEAD runs ago */
            const size_t b = start[k % AHEAD];
            for (size_t j = b; j < b + s->run; j++) row[s->tgt[j]] += s->w[j];
        }
        start[k % AHEAD] = a;
        for (size_t j = 0; j < s->run; j += 16) {
            __builtin_prefetch(s->tgt + a + j);
            __builtin_prefetch(s->w + a + j);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: scatter_floor ROW_DOUBLES TABLE_SYNAPSES THREADS REPEATS [RUN]\n");
        return 2;
    }
    const size_t n = strtoull(argv[1], NULL, 10), m = strtoull(argv[2], NULL, 10);
    const size_t run = argc == 6 ? strtoull(argv[5], NULL, 10) : 0;
    const int T = atoi(argv[3]), R = atoi(argv[4]);
    if (n < 1 || m < 1 || T < 1 || T > 64 || R < 1 || run >= m) return 2;
    uint32_t *tgt = malloc(m * sizeof *tgt);
    float *w = malloc(m * sizeof *w);
    double *rows = calloc(n * (size_t)T, sizeof *rows); /* a row per thread, as per target block */
    if (!tgt || !w || !rows) return 1;
    uint64_t x = 88172645463325252ull;
    for (size_t j = 0; j < m; j++) { /* xorshift: random targets */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        tgt[j] = (uint32_t)(x % n);
        w[j] = (float)(x >> 40) * 1e-6f;
    }
    double best = 1e30;
    for (int r = 0; r < R; r++) {
        pthread_t th[64];
        slice sl[64];
        double t0 = now_s();
        for (int t = 0; t < T; t++) {
            sl[t] = (slice){tgt, w, rows + (size_t)t * n, m * (size_t)t / (size_t)T, m * (size_t)(t + 1) / (size_t)T, run, m};
            pthread_create(&th[t], NULL, work, &sl[t]);
        }
        for (int t = 0; t < T; t++) pthread_join(th[t], NULL);
        double dt = now_s() - t0;
        if (dt < best) best = dt;
    }
    double check = 0;
    for (size_t i = 0; i < n * (size_t)T; i++) check += rows[i];
    printf("row %zu doubles (%.2f MB), %zu synapses, %s %zu, %d threads: %.3f ns per event, %.0f M events/s (check "
           "%.3g)\n", n, (double)n * 8 / 1e6, m, run ? "runs at random places of" : "streamed, run", run, T,
           best / (double)m * 1e9, (double)m / best / 1e6, check);
    free(tgt);
    free(w);
    free(rows);
    return 0;
}
