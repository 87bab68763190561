/* tests/test_rng.c — random numbers: Philox4x32-10 against the known-answer vectors published
 * with Random123, the vectorized fill against single draws, and the distributions' moments. */
#include <math.h>

#include "base/rng.h"
#include "tests/harness.h"

static void known_answers(void)
{
    /* (counter, key) -> output, from Random123's kat_vectors for philox4x32 with 10 rounds */
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e,
         0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb,
         0x5001e420, 0x24126ea1},
    };
    for (int t = 0; t < 3; t++) {
        const uint32_t *v = kat[t];
        uint64_t seed = (uint64_t)v[4] | (uint64_t)v[5] << 32;
        uint32_t got[4], fill[4];
        ns_rng_u32x4(seed, v[0], v[1], v[2], v[3], got);
        ns_rng_fill_u32(seed, v[0], v[1], v[2], v[3], 1, fill);
        for (int i = 0; i < 4; i++) {
            NS_CHECK(got[i] == v[6 + i], "KAT %d word %d: %08x, want %08x", t, i, got[i], v[6 + i]);
            NS_CHECK(fill[i] == v[6 + i], "KAT %d word %d (fill): %08x, want %08x", t, i, fill[i], v[6 + i]);
        }
    }
}

static void fill_matches_single(void)
{
    enum { N = 300 };
    uint32_t out[4 * N];
    ns_rng_fill_u32(12345678901ull, 4, 7, 99, 1000, N, out);
    int same = 1;
    for (uint32_t j = 0; j < N; j++) {
        uint32_t one[4];
        ns_rng_u32x4(12345678901ull, 4, 7, 99, 1000 + j, one);
        for (int i = 0; i < 4; i++) same &= one[i] == out[4 * j + i];
    }
    NS_CHECK(same, "the vectorized fill gives the single draws");
    /* every length up to three blocks of sixteen counters, across the counter's wrap at 2^32, and
     * not a word written past the 4 n asked for */
    for (uint32_t n = 0; n <= 49; n++) {
        uint32_t buf[4 * 49 + 8];
        for (size_t i = 0; i < sizeof buf / sizeof *buf; i++) buf[i] = 0xA5A5A5A5u;
        const uint32_t c0 = 0xFFFFFFF0u + n % 7;
        ns_rng_fill_u32(0xFEEDFACECAFEBEEFull, 3, 0xFFFFFFFFu, n, c0, n, buf);
        int ok = 1;
        for (uint32_t j = 0; j < n; j++) {
            uint32_t one[4];
            ns_rng_u32x4(0xFEEDFACECAFEBEEFull, 3, 0xFFFFFFFFu, n, c0 + j, one);
            for (int i = 0; i < 4; i++) ok &= one[i] == buf[4 * j + i];
        }
        for (size_t i = 4 * (size_t)n; i < sizeof buf / sizeof *buf; i++) ok &= buf[i] == 0xA5A5A5A5u;
        NS_CHECK(ok, "fill of %u counters from %08x: the single draws, nothing written beyond", n, c0);
    }
}

static void moments(void)
{
    enum { N = 200000 };
    double s1 = 0, s2 = 0, n1 = 0, n2 = 0, lo = 1, hi = 0;
    for (uint32_t i = 0; i < N; i++) {
        double u[4];
        ns_rng_u01x4(9, 1, 2, i, 0, u);
        lo = fmin(lo, u[0]);
        hi = fmax(hi, u[0]);
        s1 += u[0];
        s2 += u[0] * u[0];
        double z = ns_rng_normal_from(u[1], u[2]);
        n1 += z;
        n2 += z * z;
    }
    NS_CHECK(lo > 0 && hi < 1, "uniforms in (0, 1): [%g, %g]", lo, hi);
    NS_CHECK_ABS(s1 / N, 0.5, 4 * sqrt(1.0 / 12 / N));
    NS_CHECK_ABS(s2 / N - 0.25, 1.0 / 12, 4 * sqrt(1.0 / 180 / N));
    NS_CHECK_ABS(n1 / N, 0.0, 4 * sqrt(1.0 / N));
    NS_CHECK_ABS(n2 / N, 1.0, 4 * sqrt(2.0 / N));
    ns_dist d = {.kind = NS_DIST_UNIFORM, .a = -60, .b = -50};
    NS_CHECK(ns_dist_draw(&d, 0.25, 0.9) == -57.5, "uniform(-60, -50) at 0.25");
    NS_CHECK(ns_dist_min(&d) == -60 && ns_dist_max(&d) == -50, "uniform bounds");
    d = (ns_dist){.kind = NS_DIST_NORMAL, .a = 3, .b = 2};
    NS_CHECK(isinf(ns_dist_min(&d)) && isinf(ns_dist_max(&d)), "normal is unbounded");
}

int main(void)
{
    known_answers();
    fill_matches_single();
    moments();
    NS_TEST_MAIN_END();
}
