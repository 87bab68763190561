/* bench/wall_clock.h — the monotonic wall clock of the stand-alone C benchmarks (stream_triad.c,
 * scatter_floor.c, held_layout.c), each built on its own with cc. */
#ifndef NS_BENCH_WALL_CLOCK_H
#define NS_BENCH_WALL_CLOCK_H

#include <time.h>

/* Seconds on the monotonic clock (an arbitrary origin: take differences). */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
