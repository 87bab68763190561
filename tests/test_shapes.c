/* tests/test_shapes.c — the synthetic shape images: areas within a factor 1.5, at least 2 px of
 * background between objects and to the border, every object one 4-connected piece, grey levels
 * as promised, noise of the stated sd, and the same image for the same seed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/shapes.h"
#include "tests/harness.h"

/* Chebyshev distance between the closest pixels of two different objects, by brute force. */
static int min_gap(const int *mask, int w, int h)
{
    int best = 1 << 30;
    for (long p = 0; p < (long)w * h; p++) {
        if (!mask[p]) continue;
        int x = (int)(p % w), y = (int)(p / w);
        for (long q = p + 1; q < (long)w * h; q++) {
            if (!mask[q] || mask[q] == mask[p]) continue;
            int dx = abs(x - (int)(q % w)), dy = abs(y - (int)(q / w)), d = dx > dy ? dx : dy;
            if (d < best) best = d;
        }
    }
    return best;
}

/* Number of 4-connected pieces of label lab. */
static int pieces(const int *mask, int w, int h, int lab)
{
    int *seen = calloc((size_t)w * h, sizeof *seen), *stack = malloc(sizeof(int) * (size_t)w * h), n = 0;
    for (int p = 0; p < w * h; p++) {
        if (mask[p] != lab || seen[p]) continue;
        n++;
        int top = 0;
        stack[top++] = p;
        seen[p] = 1;
        while (top) {
            int q = stack[--top], x = q % w, y = q / w;
            int nb[4][2] = {{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}};
            for (int k = 0; k < 4; k++) {
                int xx = nb[k][0], yy = nb[k][1];
                if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
                int r = yy * w + xx;
                if (mask[r] == lab && !seen[r]) seen[r] = 1, stack[top++] = r;
            }
        }
    }
    free(seen), free(stack);
    return n;
}

static void check_image(int w, int h, int n, const int *kinds, int nk, double noise, unsigned seed)
{
    double *img = malloc(sizeof *img * w * h), *img2 = malloc(sizeof *img2 * w * h);
    int *mask = malloc(sizeof *mask * w * h), *mask2 = malloc(sizeof *mask2 * w * h);
    char err[256] = "";
    int rc = ns_shapes_make(w, h, n, kinds, nk, noise, seed, img, mask, err, sizeof err);
    NS_CHECK(rc == 0, "%dx%d, %d objects, seed %u: %s", w, h, n, seed, err);
    if (rc) goto done;
    long area[5] = {0};
    int border_ok = 1, labels_ok = 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int m = mask[y * w + x];
            if (m < 0 || m > n) labels_ok = 0;
            else area[m]++;
            if (m && (x < 2 || y < 2 || x >= w - 2 || y >= h - 2)) border_ok = 0;
        }
    NS_CHECK(labels_ok, "labels in 0..%d", n);
    NS_CHECK(border_ok, "seed %u: an object within 2 px of the border", seed);
    long amin = area[1], amax = area[1];
    for (int j = 1; j <= n; j++) {
        NS_CHECK(area[j] >= 10, "seed %u: object %d has %ld px", seed, j, area[j]);
        if (area[j] < amin) amin = area[j];
        if (area[j] > amax) amax = area[j];
        NS_CHECK(pieces(mask, w, h, j) == 1, "seed %u: object %d is in %d pieces", seed, j, pieces(mask, w, h, j));
    }
    NS_CHECK(amax <= 1.5 * amin, "seed %u: areas %ld..%ld, ratio %.3f > 1.5", seed, amin, amax, (double)amax / amin);
    int gap = min_gap(mask, w, h);
    NS_CHECK(gap >= 3, "seed %u: objects %d px apart (max-norm): fewer than 2 background px between", seed, gap);
    /* grey levels: per object, the mean is its level; all levels distinct and apart from the background */
    double mean[5] = {0}, var0 = 0;
    for (long p = 0; p < (long)w * h; p++) mean[mask[p]] += img[p];
    for (int j = 0; j <= n; j++) mean[j] /= area[j];
    for (long p = 0; p < (long)w * h; p++)
        if (!mask[p]) var0 += (img[p] - mean[0]) * (img[p] - mean[0]);
    var0 /= area[0] - 1;
    NS_CHECK_ABS(mean[0], NS_SHAPES_BACKGROUND, 0.02 + 4 * noise / sqrt((double)area[0]) + (noise > 0.05 ? 0.02 : 0));
    for (int i = 1; i <= n; i++)
        for (int j = i + 1; j <= n; j++)
            NS_CHECK(fabs(mean[i] - mean[j]) > 0.1, "seed %u: objects %d and %d at grey %.3f and %.3f", seed, i, j,
                     mean[i], mean[j]);
    if (noise > 0 && noise <= 0.05) /* clipping at 0 cuts a little off the background's noise */
        NS_CHECK(sqrt(var0) > 0.8 * noise && sqrt(var0) < 1.1 * noise, "seed %u: background sd %.4f for noise %.3f", seed,
                 sqrt(var0), noise);
    /* deterministic */
    rc = ns_shapes_make(w, h, n, kinds, nk, noise, seed, img2, mask2, err, sizeof err);
    NS_CHECK(rc == 0 && !memcmp(img, img2, sizeof *img * w * h) && !memcmp(mask, mask2, sizeof *mask * w * h),
             "seed %u: a second call differs", seed);
done:
    free(img), free(img2), free(mask), free(mask2);
}

int main(void)
{
    int all[5] = {NS_SHAPE_SQUARE, NS_SHAPE_DISC, NS_SHAPE_TRIANGLE, NS_SHAPE_BAR, NS_SHAPE_RING};
    for (unsigned seed = 1; seed <= 5; seed++) {
        check_image(64, 64, 3, all, 3, 0.05, seed);                          /* square, disc, triangle */
        check_image(64, 48, 4, all + 1, 4, 0.03, seed + 10);                 /* disc, triangle, bar, ring */
        check_image(40, 40, 2, (int[]){NS_SHAPE_RING, NS_SHAPE_BAR}, 2, 0, seed + 20);
    }
    check_image(128, 128, 4, NULL, 0, 0.1, 7);
    check_image(16, 16, 2, (int[]){NS_SHAPE_DISC}, 1, 0, 3);

    /* a noiseless image: exactly the levels 0.1 and 0.35..0.95 evenly spaced */
    {
        int w = 48, h = 48, mask[48 * 48];
        double img[48 * 48];
        char err[256];
        NS_CHECK(ns_shapes_make(w, h, 4, NULL, 0, 0, 9, img, mask, err, sizeof err) == 0, "%s", err);
        int seen[4] = {0}, ok = 1;
        for (int p = 0; p < w * h; p++) {
            if (!mask[p]) { ok &= img[p] == NS_SHAPES_BACKGROUND; continue; }
            double k = (img[p] - 0.35) / 0.2;
            int ki = (int)lround(k);
            ok &= fabs(k - ki) < 1e-9 && ki >= 0 && ki < 4;
            if (ki >= 0 && ki < 4) seen[ki] = 1;
        }
        NS_CHECK(ok && seen[0] && seen[1] && seen[2] && seen[3], "noiseless levels 0.1 and 0.35, 0.55, 0.75, 0.95");
        /* a different seed gives a different image */
        int mask2[48 * 48];
        double img2[48 * 48];
        ns_shapes_make(w, h, 4, NULL, 0, 0, 10, img2, mask2, err, sizeof err);
        NS_CHECK(memcmp(mask, mask2, sizeof mask) != 0, "seeds 9 and 10 give the same mask");
    }

    /* bad arguments: one message naming the value and its range */
    {
        double img[64 * 64];
        int mask[64 * 64];
        char err[256] = "";
        NS_CHECK(ns_shapes_make(64, 64, 5, NULL, 0, 0, 1, img, mask, err, sizeof err) == -1 && strstr(err, "[2, 4]"), "%s", err);
        NS_CHECK(ns_shapes_make(8, 64, 2, NULL, 0, 0, 1, img, mask, err, sizeof err) == -1 && strstr(err, "[16, 4096]"), "%s", err);
        NS_CHECK(ns_shapes_make(64, 64, 2, NULL, 0, -0.1, 1, img, mask, err, sizeof err) == -1 && strstr(err, "noise"), "%s", err);
        NS_CHECK(ns_shapes_make(64, 64, 2, (int[]){7}, 1, 0, 1, img, mask, err, sizeof err) == -1 && strstr(err, "ring"), "%s", err);
        NS_CHECK(ns_shape_kind_parse("ring") == NS_SHAPE_RING && ns_shape_kind_parse("blob") == -1, "kind names");
    }
    NS_TEST_MAIN_END();
}
