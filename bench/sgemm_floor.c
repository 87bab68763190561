/* bench/sgemm_floor.c — the floor of a dense Linear's work on this machine: OpenBLAS's sgemm,
 * one thread, at the shapes training gives it for a layer of IN inputs and OUT outputs over a
 * shard of ROWS rows (T x 32 samples): forward y = x W^T, weight gradient dW += dy^T x and input
 * gradient dx = dy W. Prints GFLOP/s of each, best of R repeats (docs/benchmarks.md, issue 19).
 *   cc -O2 bench/sgemm_floor.c -o sgemm_floor -lopenblas
 *   OPENBLAS_NUM_THREADS=1 ./sgemm_floor [IN 512] [OUT 256] [ROWS 320] [REPEATS 5] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "wall_clock.h"

int main(int argc, char **argv)
{
    const int in = argc > 1 ? atoi(argv[1]) : 512, out = argc > 2 ? atoi(argv[2]) : 256;
    const int rows = argc > 3 ? atoi(argv[3]) : 320, reps = argc > 4 ? atoi(argv[4]) : 5;
    if (in < 1 || out < 1 || rows < 1 || reps < 1) {
        fprintf(stderr, "sgemm_floor: IN, OUT, ROWS, REPEATS >= 1\n");
        return 2;
    }
    float *x = malloc((size_t)rows * in * sizeof *x), *w = malloc((size_t)out * in * sizeof *w);
    float *y = malloc((size_t)rows * out * sizeof *y), *dw = calloc((size_t)out * in, sizeof *dw);
    float *dx = malloc((size_t)rows * in * sizeof *dx);
    if (!x || !w || !y || !dw || !dx) {
        fprintf(stderr, "sgemm_floor: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < (size_t)rows * in; i++) x[i] = (float)(i % 2);
    for (size_t i = 0; i < (size_t)out * in; i++) w[i] = (float)(i % 13) * 0.01f;
    for (size_t i = 0; i < (size_t)rows * out; i++) y[i] = (float)(i % 7) * 0.1f;
    const double flop = 2.0 * rows * in * out;
    const int calls = (int)(2e9 / flop) + 1; /* about 2 GFLOP a repeat */
    double best[3] = {1e30, 1e30, 1e30};
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        for (int c = 0; c < calls; c++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
        double t1 = now_s();
        for (int c = 0; c < calls; c++)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, rows, 1.0f, y, out, x, in, 1.0f, dw, in);
        double t2 = now_s();
        for (int c = 0; c < calls; c++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, out, 1.0f, y, out, w, in, 0.0f, dx, in);
        double t3 = now_s(), dt[3] = {t1 - t0, t2 - t1, t3 - t2};
        for (int k = 0; k < 3; k++)
            if (dt[k] < best[k]) best[k] = dt[k];
    }
    printf("sgemm %d x %d over %d rows, one call %.1f MFLOP: forward %.1f, weight gradient %.1f, input gradient "
           "%.1f GFLOP/s (%g)\n",
           in, out, rows, flop * 1e-6, calls * flop / best[0] * 1e-9, calls * flop / best[1] * 1e-9,
           calls * flop / best[2] * 1e-9, (double)(y[1] + dw[1] + dx[1]));
    free(x), free(w), free(y), free(dw), free(dx);
    return 0;
}
