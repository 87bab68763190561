/* analysis/shapes.c — synthetic shape images and their masks for the segmentation checks: each
 * shape is rasterised at the size that gives a common target area, placed by seeded rejection
 * sampling away from the others and the border, then drawn at its grey level with noise. */
#include "analysis/shapes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "base/rng.h"

/* Random stream of this module (beside the engine's streams of base/rng.h): counters
 * (purpose, a, b) below. */
enum { SHAPES_STREAM = 0x53480000u };
enum { DRAW_LEVELS = 1, DRAW_ORIENT, DRAW_PLACE, DRAW_NOISE };

static const char *const kind_names[NS_SHAPE_COUNT] = {"square", "disc", "triangle", "bar", "ring"};

int ns_shape_kind_parse(const char *s)
{
    for (int k = 0; s && k < NS_SHAPE_COUNT; k++)
        if (!strcmp(s, kind_names[k])) return k;
    return -1;
}

const char *ns_shape_kind_name(int kind)
{
    return kind >= 0 && kind < NS_SHAPE_COUNT ? kind_names[kind] : "?";
}

static double u01(uint64_t seed, uint32_t purpose, uint32_t a, uint32_t b, int which)
{
    double u[4];
    ns_rng_u01x4(seed, SHAPES_STREAM + purpose, a, b, 0, u);
    return u[which & 3];
}

/* One rasterised shape: pixel offsets from its centre. */
typedef struct {
    int *dx, *dy;
    long n, cap;
    int x0, x1, y0, y1; /* bounding box of the offsets */
} shape_px;

static int inside(int kind, double r, int vertical, int dims_w, int dims_h, int x, int y)
{
    double dx = x, dy = y;
    switch (kind) {
    case NS_SHAPE_SQUARE:
    case NS_SHAPE_BAR: { /* a dims_w x dims_h block (swapped when vertical), centred */
        int w = vertical ? dims_h : dims_w, h = vertical ? dims_w : dims_h;
        int xa = -(w / 2), ya = -(h / 2);
        return x >= xa && x < xa + w && y >= ya && y < ya + h;
    }
    case NS_SHAPE_DISC: return dx * dx + dy * dy <= r * r;
    case NS_SHAPE_RING: {
        double d2 = dx * dx + dy * dy, ri = 0.55 * r;
        return d2 <= r * r && d2 >= ri * ri;
    }
    case NS_SHAPE_TRIANGLE: { /* centroid at 0, apex up (y grows downwards), circumradius r */
        double ax = 0, ay = -r, bx = -r * sqrt(3) / 2, by = r / 2, cx = -bx, cy = by;
        double s1 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax);
        double s2 = (cx - bx) * (dy - by) - (cy - by) * (dx - bx);
        double s3 = (ax - cx) * (dy - cy) - (ay - cy) * (dx - cx);
        return (s1 <= 0 && s2 <= 0 && s3 <= 0) || (s1 >= 0 && s2 >= 0 && s3 >= 0);
    }
    }
    return 0;
}

/* Rasterise into s (keeping the largest 4-connected piece); returns its area or -1 (memory). */
static long rasterise(int kind, double r, int vertical, int w, int h, shape_px *s)
{
    int R = (int)ceil(fmax(r, fmax(w, h))) + 2, side = 2 * R + 1;
    unsigned char *bm = calloc((size_t)side * side, 1);
    int *stack = malloc(sizeof(int) * (size_t)side * side);
    if (!bm || !stack) {
        free(bm), free(stack);
        return -1;
    }
    for (int y = -R; y <= R; y++)
        for (int x = -R; x <= R; x++) bm[(y + R) * side + (x + R)] = (unsigned char)inside(kind, r, vertical, w, h, x, y);
    /* label 4-connected pieces (2, 3, ...) and keep the largest */
    int best = 0, next = 2;
    long best_n = 0;
    for (int i = 0; i < side * side; i++) {
        if (bm[i] != 1) continue;
        if (next > 255) break;
        long cnt = 0;
        int top = 0;
        stack[top++] = i;
        bm[i] = (unsigned char)next;
        while (top) {
            int p = stack[--top], px = p % side, py = p / side;
            cnt++;
            int nb[4] = {px > 0 ? p - 1 : -1, px < side - 1 ? p + 1 : -1, py > 0 ? p - side : -1,
                         py < side - 1 ? p + side : -1};
            for (int k = 0; k < 4; k++)
                if (nb[k] >= 0 && bm[nb[k]] == 1) bm[nb[k]] = (unsigned char)next, stack[top++] = nb[k];
        }
        if (cnt > best_n) best_n = cnt, best = next;
        next++;
    }
    free(stack);
    if (best_n > s->cap) {
        int *nx = realloc(s->dx, sizeof(int) * (size_t)best_n), *ny = nx ? realloc(s->dy, sizeof(int) * (size_t)best_n) : NULL;
        if (nx) s->dx = nx;
        if (ny) s->dy = ny;
        if (!nx || !ny) {
            free(bm);
            return -1;
        }
        s->cap = best_n;
    }
    s->n = 0;
    s->x0 = s->y0 = R, s->x1 = s->y1 = -R;
    for (int y = -R; y <= R; y++)
        for (int x = -R; x <= R; x++)
            if (best && bm[(y + R) * side + (x + R)] == best) {
                s->dx[s->n] = x, s->dy[s->n] = y, s->n++;
                if (x < s->x0) s->x0 = x;
                if (x > s->x1) s->x1 = x;
                if (y < s->y0) s->y0 = y;
                if (y > s->y1) s->y1 = y;
            }
    free(bm);
    return s->n;
}

/* The shape of kind with area as close to A px as the pixel grid allows. */
static long shape_of_area(int kind, int vertical, double A, shape_px *s)
{
    if (kind == NS_SHAPE_SQUARE || kind == NS_SHAPE_BAR) {
        /* whole-pixel sides: a near-square a x b, or a bar three times as long as wide */
        int a, b;
        if (kind == NS_SHAPE_SQUARE) {
            a = (int)floor(sqrt(A));
            if (a < 1) a = 1;
            b = (int)lround(A / a);
        } else {
            b = (int)lround(sqrt(A / 3));
            if (b < 2) b = 2;
            a = (int)lround(A / b);
        }
        if (b < 1) b = 1;
        return rasterise(kind, 0, vertical, a, b, s);
    }
    double lo = 0.5, hi = 4 * sqrt(A) + 4; /* area(hi) > A for every kind */
    for (int it = 0; it < 40; it++) {
        double mid = 0.5 * (lo + hi);
        long n = rasterise(kind, mid, vertical, 0, 0, s);
        if (n < 0) return -1;
        if (n < A) lo = mid; else hi = mid;
    }
    long nlo = rasterise(kind, lo, vertical, 0, 0, s);
    if (nlo < 0) return -1;
    long nhi = rasterise(kind, hi, vertical, 0, 0, s); /* the smallest size reaching A */
    if (nhi < 0) return -1;
    if (fabs(nlo - A) < fabs(nhi - A)) return rasterise(kind, lo, vertical, 0, 0, s);
    return nhi;
}

int ns_shapes_make(int width, int height, int n_objects, const int *kinds, int n_kinds, double noise_sd,
                   uint64_t seed, double *image, int *mask, char *err, size_t errlen)
{
    static const int default_kinds[4] = {NS_SHAPE_SQUARE, NS_SHAPE_DISC, NS_SHAPE_TRIANGLE, NS_SHAPE_BAR};
    if (width < 16 || width > 4096 || height < 16 || height > 4096)
        return ns_errmsg(err, errlen, "shapes: image size %d x %d px; each side must be in [16, 4096]", width, height);
    if (n_objects < NS_SHAPES_MIN_OBJECTS || n_objects > NS_SHAPES_MAX_OBJECTS)
        return ns_errmsg(err, errlen, "shapes: %d objects; must be in [%d, %d]", n_objects, NS_SHAPES_MIN_OBJECTS,
                         NS_SHAPES_MAX_OBJECTS);
    if (!(noise_sd >= 0 && noise_sd <= 1))
        return ns_errmsg(err, errlen, "shapes: noise sd %g; must be in [0, 1] (grey levels)", noise_sd);
    if (!image || !mask) return ns_errmsg(err, errlen, "shapes: no image or mask array");
    if (!kinds) kinds = default_kinds, n_kinds = 4;
    if (n_kinds < 1) return ns_errmsg(err, errlen, "shapes: an empty list of kinds");
    for (int i = 0; i < n_kinds; i++)
        if (kinds[i] < 0 || kinds[i] >= NS_SHAPE_COUNT)
            return ns_errmsg(err, errlen, "shapes: kind %d unknown; square, disc, triangle, bar or ring", kinds[i]);

    const int gap = NS_SHAPES_GAP_PX;
    size_t npx = (size_t)width * height;
    unsigned char *forbid = malloc(npx);
    shape_px sh[NS_SHAPES_MAX_OBJECTS];
    memset(sh, 0, sizeof sh);
    int ok = 0, oom = !forbid;
    double inner = (double)(width - 2 * gap) * (height - 2 * gap);
    int vertical[NS_SHAPES_MAX_OBJECTS];
    for (int j = 0; j < n_objects; j++) vertical[j] = u01(seed, DRAW_ORIENT, (uint32_t)j, 0, 0) < 0.5;
    for (int round = 0; round < 16 && !ok && !oom; round++) {
        double A = 0.2 * pow(0.85, round) * inner / n_objects;
        if (A < 10) break;
        long amin = 0, amax = 0;
        for (int j = 0; j < n_objects && !oom; j++) {
            long a = shape_of_area(kinds[j % n_kinds], vertical[j], A, &sh[j]);
            if (a < 0) oom = 1;
            if (j == 0 || a < amin) amin = a;
            if (j == 0 || a > amax) amax = a;
        }
        if (oom || amin < 1 || (double)amax > NS_SHAPES_MAX_AREA_RATIO * (double)amin) continue;
        /* place in turn; a failed placement starts the round's placements over, a few times */
        for (int attempt = 0; attempt < 8 && !ok; attempt++) {
            memset(forbid, 0, npx);
            memset(mask, 0, npx * sizeof *mask);
            int placed = 0;
            for (int j = 0; j < n_objects; j++) {
                shape_px *s = &sh[j];
                int cx_lo = gap - s->x0, cx_hi = width - 1 - gap - s->x1;
                int cy_lo = gap - s->y0, cy_hi = height - 1 - gap - s->y1;
                if (cx_lo > cx_hi || cy_lo > cy_hi) break;
                int found = 0;
                for (int t = 0; t < 400 && !found; t++) {
                    double u[4];
                    ns_rng_u01x4(seed, SHAPES_STREAM + DRAW_PLACE, (uint32_t)(round * 64 + attempt), (uint32_t)j,
                                 (uint32_t)t, u);
                    int cx = cx_lo + (int)(u[0] * (cx_hi - cx_lo + 1));
                    int cy = cy_lo + (int)(u[1] * (cy_hi - cy_lo + 1));
                    if (cx > cx_hi) cx = cx_hi;
                    if (cy > cy_hi) cy = cy_hi;
                    int clear = 1;
                    for (long p = 0; p < s->n && clear; p++)
                        clear = !forbid[(size_t)(cy + s->dy[p]) * width + (cx + s->dx[p])];
                    if (!clear) continue;
                    found = 1;
                    for (long p = 0; p < s->n; p++) {
                        int x = cx + s->dx[p], y = cy + s->dy[p];
                        mask[(size_t)y * width + x] = j + 1;
                        for (int yy = y - gap; yy <= y + gap; yy++)
                            for (int xx = x - gap; xx <= x + gap; xx++)
                                if (xx >= 0 && xx < width && yy >= 0 && yy < height) forbid[(size_t)yy * width + xx] = 1;
                    }
                }
                if (!found) break;
                placed++;
            }
            ok = placed == n_objects;
        }
    }
    for (int j = 0; j < NS_SHAPES_MAX_OBJECTS; j++) free(sh[j].dx), free(sh[j].dy);
    free(forbid);
    if (oom) return ns_errmsg(err, errlen, "shapes: out of memory");
    if (!ok)
        return ns_errmsg(err, errlen, "shapes: %d objects do not fit apart in %d x %d px; use a larger image", n_objects,
                         width, height);

    /* grey levels evenly spaced in [0.35, 0.95], in a seeded order (Fisher-Yates) */
    int order[NS_SHAPES_MAX_OBJECTS];
    for (int j = 0; j < n_objects; j++) order[j] = j;
    for (int j = n_objects - 1; j > 0; j--) {
        int k = (int)(u01(seed, DRAW_LEVELS, (uint32_t)j, 0, 0) * (j + 1));
        if (k > j) k = j;
        int t = order[j];
        order[j] = order[k], order[k] = t;
    }
    double level[NS_SHAPES_MAX_OBJECTS + 1];
    level[0] = NS_SHAPES_BACKGROUND;
    for (int j = 0; j < n_objects; j++) level[j + 1] = 0.35 + 0.6 * order[j] / (n_objects - 1);
    for (size_t p = 0; p < npx; p++) {
        double v = level[mask[p]];
        if (noise_sd > 0) {
            double u[4];
            ns_rng_u01x4(seed, SHAPES_STREAM + DRAW_NOISE, (uint32_t)(p >> 32), (uint32_t)p, 0, u);
            v += noise_sd * ns_rng_normal_from(u[0], u[1]);
        }
        image[p] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    return 0;
}
