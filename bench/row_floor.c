/* bench/row_floor.c — the floor of a spike-fed Linear's work on this machine (training's input
 * layer, docs/benchmarks.md, issue 19): rows of 64 floats (256 bytes, one output chunk of
 * train/tensor.c) picked from a block of IN rows that stays in the second cache level, as a spike
 * picks its weights. Three measures, ns per row, best of R repeats, one thread:
 *   read    — a sequential pass over the block summed into an accumulator: the level's bandwidth;
 *   gather  — rows at the places of Bernoulli spikes (density P), IN inputs a step, each step's
 *             rows summed into an accumulator and stored: the forward's work, nothing else;
 *   scatter — the same places, a 64-float vector added into each picked row: a gradient added
 *             spike by spike (a read and a write of each row);
 *   l1      — rows picked at random from a block of 64 rows (16 KB, in the first cache level) and
 *             summed: the floor of train/tensor.c's gradient, which packs 64 steps' dL/dI chunks
 *             and sums, per input, the rows of the steps it is on in.
 * No test, no library: the lower bound nsim's kernels are compared with.
 *   cc -O3 -march=native -mprefer-vector-width=512 bench/row_floor.c -o row_floor
 *   ./row_floor [IN 784] [P 0.163] [STEPS 40960] [REPEATS 5] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wall_clock.h"

enum { W = 64 }; /* floats a row: one output chunk */
typedef float v16 __attribute__((vector_size(64))); /* 16 floats: a row is 4, kept in registers */

static float sink; /* keeps the sums alive */

/* ns per row of a sequential pass over n rows, summed. */
static double read_pass(const float *blk, int n, int reps)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        const double t0 = now_s();
        for (int pass = 0; pass < 64; pass++)
            for (int k = 0; k < n; k++) {
                const v16 *row = (const v16 *)(blk + (size_t)k * W);
                a0 += row[0], a1 += row[1], a2 += row[2], a3 += row[3];
            }
        const double dt = (now_s() - t0) / (64.0 * n);
        const v16 a = a0 + a1 + a2 + a3;
        for (int o = 0; o < 16; o++) sink += a[o];
        if (dt < best) best = dt;
    }
    return best * 1e9;
}

int main(int argc, char **argv)
{
    const int in = argc > 1 ? atoi(argv[1]) : 784;
    const double p = argc > 2 ? atof(argv[2]) : 0.163;
    const int steps = argc > 3 ? atoi(argv[3]) : 40960;
    const int reps = argc > 4 ? atoi(argv[4]) : 5;
    if (in < 1 || !(p > 0 && p <= 1) || steps < 1 || reps < 1) {
        fprintf(stderr, "row_floor: IN >= 1, 0 < P <= 1, STEPS >= 1, REPEATS >= 1\n");
        return 2;
    }
    float *blk = aligned_alloc(64, (size_t)in * W * sizeof *blk);
    float *out = aligned_alloc(64, (size_t)steps * W * sizeof *out);
    int *start = malloc(((size_t)steps + 1) * sizeof *start);
    int *col = malloc((size_t)steps * in * sizeof *col);
    if (!blk || !out || !start || !col) {
        fprintf(stderr, "row_floor: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < (size_t)in * W; i++) blk[i] = (float)(i % 7) * 0.25f;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    const uint64_t cut = (uint64_t)(p * 4294967296.0);
    size_t ones = 0;
    for (int s = 0; s < steps; s++) { /* each input on with probability p, inputs ascending */
        start[s] = (int)ones;
        for (int j = 0; j < in; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if ((x >> 32) < cut) col[ones++] = j;
        }
    }
    start[steps] = (int)ones;
    const double rd = read_pass(blk, in, reps);
    double g = 1e30, sc = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        for (int s = 0; s < steps; s++) {
            v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
            for (int k = start[s]; k < start[s + 1]; k++) {
                const v16 *row = (const v16 *)(blk + (size_t)col[k] * W);
                a0 += row[0], a1 += row[1], a2 += row[2], a3 += row[3];
            }
            v16 *o = (v16 *)(out + (size_t)s * W);
            o[0] = a0, o[1] = a1, o[2] = a2, o[3] = a3;
        }
        double dt = (now_s() - t0) / (double)ones;
        if (dt < g) g = dt;
        t0 = now_s();
        for (int s = 0; s < steps; s++) {
            const v16 *v = (const v16 *)(out + (size_t)s * W);
            const v16 v0 = v[0] * 1e-9f, v1 = v[1] * 1e-9f, v2 = v[2] * 1e-9f, v3 = v[3] * 1e-9f;
            for (int k = start[s]; k < start[s + 1]; k++) {
                v16 *row = (v16 *)(blk + (size_t)col[k] * W);
                row[0] += v0, row[1] += v1, row[2] += v2, row[3] += v3;
            }
        }
        dt = (now_s() - t0) / (double)ones;
        if (dt < sc) sc = dt;
    }
    double l1 = 1e30; /* the block's first 64 rows, picked by the spikes' inputs mod 64 */
    for (int r = 0; r < reps; r++) {
        const double t0 = now_s();
        for (int s = 0; s < steps; s++) {
            v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
            for (int k = start[s]; k < start[s + 1]; k++) {
                const v16 *row = (const v16 *)(blk + (size_t)(col[k] & 63) * W);
                a0 += row[0], a1 += row[1], a2 += row[2], a3 += row[3];
            }
            v16 *o = (v16 *)(out + (size_t)s * W);
            o[0] = a0, o[1] = a1, o[2] = a2, o[3] = a3;
        }
        const double dt = (now_s() - t0) / (double)ones;
        if (dt < l1) l1 = dt;
    }
    for (int o = 0; o < W; o++) sink += out[o] + blk[o];
    printf("block %d rows x %d floats (%.0f KB), %d steps, %.3f of inputs on (%zu rows picked)\n", in, W,
           in * W * 4 / 1024.0, steps, (double)ones / ((double)steps * in), ones);
    printf("read %.3f ns/row (%.1f GB/s)  gather %.3f ns/row  scatter %.3f ns/row  l1 %.3f ns/row%s\n", rd,
           256.0 / rd, g * 1e9, sc * 1e9, l1 * 1e9, sink == 12345.0f ? " " : "");
    free(blk), free(out), free(start), free(col);
    return 0;
}
