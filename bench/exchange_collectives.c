/* bench/exchange_collectives.c — the choice of the MPI transport's spike collective: one window's
 * exchange as nsim makes it (an Allgather of per-rank counts, then the spikes, 8 bytes each)
 * through MPI_Allgatherv, against the same through MPI_Alltoallv, where each rank sends its
 * spikes to every other rank (what a network whose spikes have targets on every rank needs, as
 * random networks' do) or, with a locality fraction f, only the share (1 - f) of them that other
 * ranks need. Microseconds per window, best of R repeats of N windows, on rank 0.
 *   mpicc -O2 bench/exchange_collectives.c -o exchange_collectives
 *   mpirun -np K ./exchange_collectives SPIKES_PER_WINDOW [WINDOWS] [REPEATS] [LOCAL_FRACTION]
 * SPIKES_PER_WINDOW is the whole network's (Brunel 12,500: about 600; PD14: about 31). */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One window through Allgatherv: counts, then everyone's spikes to everyone. */
static void window_allgatherv(int mine, int K, int *counts, int *displ, uint64_t *send, uint64_t *recv)
{
    MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
    int at = 0;
    for (int r = 0; r < K; r++) displ[r] = at, at += counts[r];
    MPI_Allgatherv(send, mine, MPI_UINT64_T, recv, counts, displ, MPI_UINT64_T, MPI_COMM_WORLD);
}

/* One window through Alltoallv: per destination counts (an Alltoall), then the spikes each needs. */
static void window_alltoallv(int per_dest, int K, int rank, int *scount, int *sdispl, int *rcount, int *rdispl,
                             uint64_t *send, uint64_t *recv)
{
    for (int r = 0; r < K; r++) scount[r] = r == rank ? 0 : per_dest, sdispl[r] = 0; /* the same spikes to each */
    MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, MPI_COMM_WORLD);
    int at = 0;
    for (int r = 0; r < K; r++) rdispl[r] = at, at += rcount[r];
    MPI_Alltoallv(send, scount, sdispl, MPI_UINT64_T, recv, rcount, rdispl, MPI_UINT64_T, MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, K;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &K);
    if (argc < 2) {
        if (!rank) fprintf(stderr, "usage: mpirun -np K %s SPIKES_PER_WINDOW [WINDOWS] [REPEATS] [LOCAL_FRACTION]\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    const int S = atoi(argv[1]), N = argc > 2 ? atoi(argv[2]) : 2000, R = argc > 3 ? atoi(argv[3]) : 5;
    const double f = argc > 4 ? atof(argv[4]) : 0.0;
    const int mine = (S + K - 1) / K, per_dest = (int)((1.0 - f) * mine + 0.5);
    uint64_t *send = calloc((size_t)mine + 1, 8), *recv = calloc((size_t)mine * (size_t)K + 1, 8);
    int *a = malloc(4 * (size_t)K * sizeof *a);
    if (!send || !recv || !a) MPI_Abort(MPI_COMM_WORLD, 1);
    for (int j = 0; j < mine; j++) send[j] = ((uint64_t)j << 32) | (uint64_t)(rank * mine + j);
    double best[2] = {1e30, 1e30};
    for (int rep = 0; rep < R; rep++)
        for (int m = 0; m < 2; m++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            for (int w = 0; w < N; w++) {
                if (m == 0) window_allgatherv(mine, K, a, a + K, send, recv);
                else window_alltoallv(per_dest, K, rank, a, a + K, a + 2 * K, a + 3 * K, send, recv);
            }
            double us = (MPI_Wtime() - t0) / N * 1e6, worst;
            MPI_Reduce(&us, &worst, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
            if (!rank && worst < best[m]) best[m] = worst;
        }
    if (!rank)
        printf("ranks %d, %d spikes a window (%d bytes), local fraction %.2f: Allgatherv %.2f us, Alltoallv %.2f us a window\n",
               K, S, 8 * S, f, best[0], best[1]);
    free(send);
    free(recv);
    free(a);
    MPI_Finalize();
    return 0;
}
