/* bench/held_layout.c — what the layout of a held table costs on this machine: runs of RUN
 * synapses at random places in a table far larger than the caches (a spike's synapses of one
 * delay, read as they arrive), each adding its weight to a random unit of one of two rows of ROW
 * doubles (ports of weights >= 0 and < 0, cache-resident as the row being stepped is), their
 * lines asked for 8 runs ahead, as nsim's release of held runs does. Three layouts of the same
 * synapses: targets and weights in two arrays (4 + 4 bytes, nsim before the packing), side by
 * side (8 bytes, ns_csr.syn) and side by side with 2-byte targets (6 bytes, ns_csr.syn16). The
 * layouts take turns, REPEATS rounds of each in every thread, so that a shared machine's
 * slow spells fall on all three alike; prints the median nanoseconds per synapse event of each
 * (wall time per round over all threads' events) and its ratio to the two arrays.
 *   cc -O3 -march=native -pthread bench/held_layout.c -o held_layout
 *   ./held_layout ROW_DOUBLES TABLE_SYNAPSES THREADS REPEATS RUN */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wall_clock.h"

typedef struct {
    uint32_t tgt;
    float w;
} syn8;

typedef struct __attribute__((packed)) {
    uint16_t tgt;
    float w;
} syn6;

enum { LAYOUTS = 3, AHEAD = 8, EVENTS_PER_ROUND = 1 << 24 };
static const char *const layout_name[LAYOUTS] = {"two arrays (4 + 4 B)", "side by side (8 B)", "side by side (6 B)"};

typedef struct {
    const uint32_t *tgt;
    const float *w;
    const syn8 *s8;
    const syn6 *s6;
    size_t m, run, events;
    double *pos, *neg;
    uint64_t seed;
    int layout;
} job;

/* bytes on 2 MB pages, as nsim's tables are (base/bigmem.c). */
static void *big(size_t bytes)
{
    const size_t page = 2u << 20, rounded = (bytes + page - 1) / page * page;
    void *p = aligned_alloc(page, rounded);
    if (p) (void)madvise(p, rounded, MADV_HUGEPAGE);
    return p;
}

static inline void ask(const void *p, size_t bytes)
{
    const char *c = p;
    for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch(c + b);
    __builtin_prefetch(c + bytes - 1);
}

static void *work(void *arg)
{
    const job *J = arg;
    double *restrict pos = J->pos, *restrict neg = J->neg;
    size_t start[AHEAD];
    uint64_t x = J->seed;
    const size_t R = J->run;
    for (size_t done = 0, k = 0; done < J->events + AHEAD * R; done += R, k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const size_t a = (size_t)(x % (J->m - R));
        if (k >= AHEAD) {
            const size_t b = start[k % AHEAD];
            if (J->layout == 0)
                for (size_t j = b; j < b + R; j++) {
                    const double w = J->w[j];
                    (w < 0 ? neg : pos)[J->tgt[j]] += w;
                }
            else if (J->layout == 1)
                for (size_t j = b; j < b + R; j++) {
                    const double w = J->s8[j].w;
                    (w < 0 ? neg : pos)[J->s8[j].tgt] += w;
                }
            else
                for (size_t j = b; j < b + R; j++) {
                    const double w = J->s6[j].w;
                    (w < 0 ? neg : pos)[J->s6[j].tgt] += w;
                }
        }
        start[k % AHEAD] = a;
        if (J->layout == 0) {
            ask(J->tgt + a, R * sizeof *J->tgt);
            ask(J->w + a, R * sizeof *J->w);
        } else if (J->layout == 1)
            ask(J->s8 + a, R * sizeof *J->s8);
        else
            ask(J->s6 + a, R * sizeof *J->s6);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: held_layout ROW_DOUBLES TABLE_SYNAPSES THREADS REPEATS RUN\n");
        return 2;
    }
    const size_t row = strtoull(argv[1], NULL, 10), m = strtoull(argv[2], NULL, 10);
    const int T = atoi(argv[3]), reps = atoi(argv[4]);
    const size_t run = strtoull(argv[5], NULL, 10);
    if (row < 1 || row > 65536 || m < 2 * run || T < 1 || T > 64 || reps < 1 || run < 1) {
        fprintf(stderr, "held_layout: ROW in 1 .. 65536 (2-byte targets), TABLE >= 2 RUN, THREADS 1 .. 64, REPEATS >= 1, RUN >= 1\n");
        return 2;
    }
    uint32_t *tgt = big(m * sizeof *tgt);
    float *w = big(m * sizeof *w);
    syn8 *s8 = big(m * sizeof *s8);
    syn6 *s6 = big(m * sizeof *s6);
    double *rows = calloc((size_t)T * 2 * row, sizeof *rows);
    double *sec = malloc((size_t)LAYOUTS * (size_t)reps * sizeof *sec);
    if (!tgt || !w || !s8 || !s6 || !rows || !sec) {
        fprintf(stderr, "held_layout: out of memory\n");
        return 1;
    }
    uint64_t x = 88172645463325252ull;
    for (size_t j = 0; j < m; j++) { /* a fifth of the weights negative, as in a cortical network */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        tgt[j] = (uint32_t)(x % row);
        w[j] = (x >> 40) % 5 == 0 ? -4.0f * (float)(1 + (x >> 50) % 7) : (float)(1 + (x >> 50) % 7);
        s8[j] = (syn8){tgt[j], w[j]};
        s6[j] = (syn6){(uint16_t)tgt[j], w[j]};
    }
    const size_t per = EVENTS_PER_ROUND / (size_t)T;
    pthread_t th[64];
    job jobs[64];
    for (int r = 0; r < reps; r++)
        for (int L = 0; L < LAYOUTS; L++) {
            for (int t = 0; t < T; t++)
                jobs[t] = (job){tgt, w, s8, s6, m, run, per, rows + (size_t)t * 2 * row, rows + (size_t)t * 2 * row + row,
                                0x9E3779B97F4A7C15ull * (uint64_t)(t + 1) + (uint64_t)r, L};
            const double t0 = now_s();
            for (int t = 1; t < T; t++) pthread_create(&th[t], NULL, work, &jobs[t]);
            work(&jobs[0]);
            for (int t = 1; t < T; t++) pthread_join(th[t], NULL);
            sec[(size_t)L * (size_t)reps + (size_t)r] = now_s() - t0;
        }
    double check = 0;
    for (size_t j = 0; j < (size_t)T * 2 * row; j++) check += rows[j];
    printf("held runs of %zu synapses at random places in %zu synapses (%.2f GB as two arrays), rows of %zu doubles, %d "
           "thread(s), %d rounds of %d M events each, taking turns (checksum %.6g)\n",
           run, m, (double)m * 8 / 1e9, row, T, reps, EVENTS_PER_ROUND >> 20, check);
    double base = 0;
    for (int L = 0; L < LAYOUTS; L++) {
        double *s = sec + (size_t)L * (size_t)reps;
        qsort(s, (size_t)reps, sizeof *s, cmp_double);
        const double ns = s[reps / 2] / (double)(per * (size_t)T) * 1e9;
        if (L == 0) base = ns;
        printf("%-22s %6.3f ns an event (median; %.3f .. %.3f)  ratio %.3f\n", layout_name[L], ns,
               s[0] / (double)(per * (size_t)T) * 1e9, s[reps - 1] / (double)(per * (size_t)T) * 1e9, ns / base);
    }
    free(tgt), free(w), free(s8), free(s6), free(rows), free(sec);
    return 0;
}
