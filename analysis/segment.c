/* analysis/segment.c — clustering of phases on the unit circle and the adjusted Rand index.
 * k-means is Lloyd's with k-means++ seeding from counter-based draws; agglomerative clustering
 * builds the average-linkage tree by the nearest-neighbour chain and cuts it at k clusters. */
#include "analysis/segment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "base/rng.h"

enum { SEGMENT_STREAM = 0x53450000u }; /* this module's draws: (restart, centre, 0) */

/* ---- adjusted Rand index ---- */

typedef struct {
    int a, b;
} pair;

static int cmp_ab(const void *x, const void *y)
{
    const pair *p = x, *q = y;
    if (p->a != q->a) return (p->a > q->a) - (p->a < q->a);
    return (p->b > q->b) - (p->b < q->b);
}

static int cmp_b(const void *x, const void *y)
{
    const pair *p = x, *q = y;
    return (p->b > q->b) - (p->b < q->b);
}

static double choose2(double x) { return 0.5 * x * (x - 1); }

/* The ARI of the n pairs (sorted in place). */
static double ari_pairs(pair *p, long n)
{
    qsort(p, (size_t)n, sizeof *p, cmp_ab);
    double sum_ij = 0, sum_a = 0, sum_b = 0;
    long run_ab = 1, run_a = 1;
    for (long i = 1; i <= n; i++) {
        int same_a = i < n && p[i].a == p[i - 1].a, same_ab = same_a && p[i].b == p[i - 1].b;
        if (same_ab) run_ab++; else sum_ij += choose2((double)run_ab), run_ab = 1;
        if (same_a) run_a++; else sum_a += choose2((double)run_a), run_a = 1;
    }
    qsort(p, (size_t)n, sizeof *p, cmp_b);
    long run_b = 1;
    for (long i = 1; i <= n; i++) {
        if (i < n && p[i].b == p[i - 1].b) run_b++; else sum_b += choose2((double)run_b), run_b = 1;
    }
    double expected = sum_a * sum_b / choose2((double)n), max = 0.5 * (sum_a + sum_b);
    if (max == expected) return 1.0; /* both one cluster, or both all singletons */
    return (sum_ij - expected) / (max - expected);
}

int ns_ari(const int *a, const int *b, long n, double *ari, char *err, size_t errlen)
{
    if (n < 1 || !a || !b) return ns_errmsg(err, errlen, "ARI: no labels to compare");
    pair *p = malloc(sizeof *p * (size_t)n);
    if (!p) return ns_errmsg(err, errlen, "ARI: out of memory for %ld labels", n);
    for (long i = 0; i < n; i++) p[i] = (pair){a[i], b[i]};
    *ari = ari_pairs(p, n);
    free(p);
    return 0;
}

int ns_fg_ari(const int *labels, const int *mask, long n, double *ari, char *err, size_t errlen)
{
    if (n < 1 || !labels || !mask) return ns_errmsg(err, errlen, "FG-ARI: no labels to compare");
    long m = 0;
    for (long i = 0; i < n; i++) m += mask[i] > 0;
    if (m == 0) return ns_errmsg(err, errlen, "FG-ARI: the mask has no foreground pixel (label > 0)");
    pair *p = malloc(sizeof *p * (size_t)m);
    if (!p) return ns_errmsg(err, errlen, "FG-ARI: out of memory for %ld labels", m);
    m = 0;
    for (long i = 0; i < n; i++)
        if (mask[i] > 0) p[m++] = (pair){labels[i], mask[i]};
    *ari = ari_pairs(p, m);
    free(p);
    return 0;
}

/* ---- clustering ---- */

/* Number clusters 1..k by the circular mean phase of their members in [0, 2 pi): lab[m] in
 * 0..k-1 in, 1..k out. */
static void relabel_by_phase(const double *x, const double *y, long m, int k, int *lab)
{
    double *sx = calloc((size_t)k, sizeof *sx), *sy = calloc((size_t)k, sizeof *sy), *ang = malloc(sizeof *ang * k);
    int *order = malloc(sizeof *order * k), *rank = malloc(sizeof *rank * k);
    if (!sx || !sy || !ang || !order || !rank) { /* keep the raw numbering */
        for (long i = 0; i < m; i++) lab[i]++;
        free(sx), free(sy), free(ang), free(order), free(rank);
        return;
    }
    for (long i = 0; i < m; i++) sx[lab[i]] += x[i], sy[lab[i]] += y[i];
    for (int c = 0; c < k; c++) {
        double a = atan2(sy[c], sx[c]);
        ang[c] = a < 0 ? a + 2 * M_PI : a;
        order[c] = c;
    }
    for (int i = 1; i < k; i++) /* insertion sort: k is small */
        for (int j = i; j > 0 && (ang[order[j]] < ang[order[j - 1]] ||
                                  (ang[order[j]] == ang[order[j - 1]] && order[j] < order[j - 1])); j--) {
            int t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }
    for (int r = 0; r < k; r++) rank[order[r]] = r + 1;
    for (long i = 0; i < m; i++) lab[i] = rank[lab[i]];
    free(sx), free(sy), free(ang), free(order), free(rank);
}

static double d2(double x0, double y0, double x1, double y1)
{
    double dx = x0 - x1, dy = y0 - y1;
    return dx * dx + dy * dy;
}

/* One k-means run from a k-means++ seeding (restart r); lab[m] gets 0..k-1. Returns the inertia. */
static double kmeans_run(const double *x, const double *y, long m, int k, int max_iter, uint64_t seed, int r,
                         double *cx, double *cy, double *dmin, int *lab)
{
    double u[4];
    ns_rng_u01x4(seed, SEGMENT_STREAM, (uint32_t)r, 0, 0, u);
    long first = (long)(u[0] * m);
    if (first >= m) first = m - 1;
    cx[0] = x[first], cy[0] = y[first];
    for (long i = 0; i < m; i++) dmin[i] = d2(x[i], y[i], cx[0], cy[0]);
    for (int c = 1; c < k; c++) {
        double total = 0;
        for (long i = 0; i < m; i++) total += dmin[i];
        ns_rng_u01x4(seed, SEGMENT_STREAM, (uint32_t)r, (uint32_t)c, 0, u);
        long pick = -1;
        if (total > 0) {
            double target = u[0] * total, acc = 0;
            for (long i = 0; i < m; i++) {
                acc += dmin[i];
                if (dmin[i] > 0) pick = i;
                if (acc > target && dmin[i] > 0) break;
            }
        }
        if (pick < 0) pick = (long)(u[1] * m) < m ? (long)(u[1] * m) : m - 1; /* all points on centres */
        cx[c] = x[pick], cy[c] = y[pick];
        for (long i = 0; i < m; i++) {
            double d = d2(x[i], y[i], cx[c], cy[c]);
            if (d < dmin[i]) dmin[i] = d;
        }
    }
    for (long i = 0; i < m; i++) lab[i] = -1;
    double inertia = 0;
    for (int it = 0; it < max_iter; it++) {
        int changed = 0;
        inertia = 0;
        for (long i = 0; i < m; i++) {
            int best = 0;
            double bd = d2(x[i], y[i], cx[0], cy[0]);
            for (int c = 1; c < k; c++) {
                double d = d2(x[i], y[i], cx[c], cy[c]);
                if (d < bd) bd = d, best = c;
            }
            if (lab[i] != best) lab[i] = best, changed = 1;
            dmin[i] = bd;
            inertia += bd;
        }
        if (!changed) break;
        /* new centroids; an empty cluster takes the point farthest from its centre */
        for (int c = 0; c < k; c++) cx[c] = cy[c] = 0;
        for (int c = 0; c < k; c++) {
            double sx = 0, sy = 0;
            long nc = 0;
            for (long i = 0; i < m; i++)
                if (lab[i] == c) sx += x[i], sy += y[i], nc++;
            if (nc) {
                cx[c] = sx / nc, cy[c] = sy / nc;
            } else {
                long far = 0;
                for (long i = 1; i < m; i++)
                    if (dmin[i] > dmin[far]) far = i;
                cx[c] = x[far], cy[c] = y[far];
                dmin[far] = 0;
                lab[far] = c;
            }
        }
    }
    return inertia;
}

static int kmeans(const double *x, const double *y, long m, int k, const ns_cluster_opts *o, int *lab,
                  double *inertia)
{
    int restarts = o && o->restarts > 0 ? o->restarts : 10, max_iter = o && o->max_iter > 0 ? o->max_iter : 300;
    uint64_t seed = o ? o->seed : 0;
    double *cx = malloc(sizeof *cx * k), *cy = malloc(sizeof *cy * k), *dmin = malloc(sizeof *dmin * m);
    int *tmp = malloc(sizeof *tmp * m);
    if (!cx || !cy || !dmin || !tmp) {
        free(cx), free(cy), free(dmin), free(tmp);
        return -1;
    }
    double best = INFINITY;
    for (int r = 0; r < restarts; r++) {
        double in = kmeans_run(x, y, m, k, max_iter, seed, r, cx, cy, dmin, tmp);
        if (in < best) best = in, memcpy(lab, tmp, sizeof *lab * m);
    }
    *inertia = best;
    free(cx), free(cy), free(dmin), free(tmp);
    return 0;
}

/* Condensed index of the pair i != j of m points. */
static size_t cidx(long i, long j, long m)
{
    if (i > j) { long t = i; i = j; j = t; }
    return (size_t)i * (size_t)(2 * m - i - 1) / 2 + (size_t)(j - i - 1);
}

typedef struct {
    long i, j;
    double h;
    long seq;
} merge;

static int cmp_merge(const void *a, const void *b)
{
    const merge *p = a, *q = b;
    if (p->h != q->h) return (p->h > q->h) - (p->h < q->h);
    return (p->seq > q->seq) - (p->seq < q->seq);
}

static long uf_find(long *parent, long i)
{
    while (parent[i] != i) parent[i] = parent[parent[i]], i = parent[i];
    return i;
}

/* Average linkage by the nearest-neighbour chain; the merges sorted by height are replayed
 * until k clusters remain. lab[m] gets 0..k-1. */
static int agglomerative(const double *x, const double *y, long m, int k, int *lab)
{
    size_t np = (size_t)m * (size_t)(m - 1) / 2;
    double *d = malloc(sizeof *d * (np ? np : 1));
    long *size = malloc(sizeof *size * m), *chain = malloc(sizeof *chain * m), *parent = malloc(sizeof *parent * m);
    char *alive = malloc((size_t)m);
    merge *mg = malloc(sizeof *mg * (size_t)(m > 1 ? m - 1 : 1));
    if (!d || !size || !chain || !parent || !alive || !mg) {
        free(d), free(size), free(chain), free(parent), free(alive), free(mg);
        return -1;
    }
    for (long i = 0; i < m; i++)
        for (long j = i + 1; j < m; j++) d[cidx(i, j, m)] = sqrt(d2(x[i], y[i], x[j], y[j]));
    for (long i = 0; i < m; i++) size[i] = 1, alive[i] = 1;
    long top = 0, nm = 0, next_start = 0;
    while (nm < m - 1) {
        if (top == 0) {
            while (!alive[next_start]) next_start++;
            chain[top++] = next_start;
        }
        long a = chain[top - 1], prev = top >= 2 ? chain[top - 2] : -1, b = -1;
        double bd = INFINITY;
        if (prev >= 0) b = prev, bd = d[cidx(a, prev, m)];
        for (long c = 0; c < m; c++)
            if (alive[c] && c != a) {
                double dc = d[cidx(a, c, m)];
                if (dc < bd) bd = dc, b = c;
            }
        if (b == prev) { /* reciprocal nearest neighbours: merge into the lower index */
            top -= 2;
            long keep = a < b ? a : b, gone = a < b ? b : a;
            mg[nm] = (merge){keep, gone, bd, nm};
            nm++;
            for (long c = 0; c < m; c++)
                if (alive[c] && c != keep && c != gone)
                    d[cidx(keep, c, m)] = (size[keep] * d[cidx(keep, c, m)] + size[gone] * d[cidx(gone, c, m)]) /
                                          (double)(size[keep] + size[gone]);
            size[keep] += size[gone];
            alive[gone] = 0;
        } else {
            chain[top++] = b;
        }
    }
    qsort(mg, (size_t)nm, sizeof *mg, cmp_merge);
    for (long i = 0; i < m; i++) parent[i] = i;
    for (long s = 0; s < m - k; s++) {
        long ri = uf_find(parent, mg[s].i), rj = uf_find(parent, mg[s].j);
        if (ri < rj) parent[rj] = ri; else parent[ri] = rj;
    }
    long *id = size; /* reuse: root -> cluster number */
    for (long i = 0; i < m; i++) id[i] = -1;
    long nc = 0;
    for (long i = 0; i < m; i++) {
        long r = uf_find(parent, i);
        if (id[r] < 0) id[r] = nc++;
        lab[i] = (int)id[r];
    }
    free(d), free(size), free(chain), free(parent), free(alive), free(mg);
    return 0;
}

int ns_cluster_phases(const double *theta, const int *active, long n, int k, const ns_cluster_opts *o, int *labels,
                      double *inertia, char *err, size_t errlen)
{
    if (n < 1 || !theta || !labels) return ns_errmsg(err, errlen, "cluster: no phases");
    long m = 0;
    for (long i = 0; i < n; i++) {
        if (active && !active[i]) continue;
        if (!isfinite(theta[i])) return ns_errmsg(err, errlen, "cluster: phase %ld is %g; phases must be finite", i, theta[i]);
        m++;
    }
    if (k < 1 || k > m)
        return ns_errmsg(err, errlen, "cluster: k = %d; must be in [1, %ld], the number of active units", k, m);
    ns_cluster_method method = o ? o->method : NS_CLUSTER_KMEANS;
    if (method == NS_CLUSTER_AGGLOMERATIVE && m > NS_CLUSTER_MAX_AGGLOMERATIVE)
        return ns_errmsg(err, errlen, "cluster: agglomerative clustering of %ld units; at most %d (use k-means)", m,
                         NS_CLUSTER_MAX_AGGLOMERATIVE);
    double *x = malloc(sizeof *x * m), *y = malloc(sizeof *y * m);
    int *lab = malloc(sizeof *lab * m);
    if (!x || !y || !lab) {
        free(x), free(y), free(lab);
        return ns_errmsg(err, errlen, "cluster: out of memory for %ld units", m);
    }
    m = 0;
    for (long i = 0; i < n; i++)
        if (!active || active[i]) x[m] = cos(theta[i]), y[m] = sin(theta[i]), m++;
    double in = 0;
    int rc = method == NS_CLUSTER_AGGLOMERATIVE ? agglomerative(x, y, m, k, lab) : kmeans(x, y, m, k, o, lab, &in);
    if (rc) {
        free(x), free(y), free(lab);
        return ns_errmsg(err, errlen, "cluster: out of memory for %ld units", m);
    }
    if (method == NS_CLUSTER_AGGLOMERATIVE) { /* inertia of the cut, for comparison */
        double *cx = calloc((size_t)k, sizeof *cx), *cy = calloc((size_t)k, sizeof *cy);
        long *cn = calloc((size_t)k, sizeof *cn);
        if (cx && cy && cn) {
            for (long i = 0; i < m; i++) cx[lab[i]] += x[i], cy[lab[i]] += y[i], cn[lab[i]]++;
            for (int c = 0; c < k; c++)
                if (cn[c]) cx[c] /= cn[c], cy[c] /= cn[c];
            for (long i = 0; i < m; i++) in += d2(x[i], y[i], cx[lab[i]], cy[lab[i]]);
        }
        free(cx), free(cy), free(cn);
    }
    relabel_by_phase(x, y, m, k, lab);
    m = 0;
    for (long i = 0; i < n; i++) labels[i] = !active || active[i] ? lab[m++] : 0;
    if (inertia) *inertia = in;
    free(x), free(y), free(lab);
    return 0;
}
