/* tests/test_segment.c — the adjusted Rand index against hand-computed tables, the pair-counting
 * form and scikit-learn's documented values; FG-ARI against the ARI of the foreground alone;
 * k-means and agglomerative clustering of phases (separated clusters, wrap-around at 2 pi,
 * numbering, determinism), the average-linkage cut against a brute-force implementation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/segment.h"
#include "base/xoshiro.h"
#include "tests/harness.h"

/* ARI from pair counts (an independent form): over all unordered pairs, s = same in both,
 * x = same in a only, y = same in b only, d = apart in both;
 * ARI = 2 (s d - x y) / ((s + x)(x + d) + (s + y)(y + d)). */
static double ari_pairs_brute(const int *a, const int *b, int n)
{
    double s = 0, x = 0, y = 0, d = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            int sa = a[i] == a[j], sb = b[i] == b[j];
            if (sa && sb) s++;
            else if (sa) x++;
            else if (sb) y++;
            else d++;
        }
    double den = (s + x) * (x + d) + (s + y) * (y + d);
    return den == 0 ? 1.0 : 2 * (s * d - x * y) / den;
}

static double ari(const int *a, const int *b, long n)
{
    double v = NAN;
    char err[128];
    if (ns_ari(a, b, n, &v, err, sizeof err)) printf("ns_ari: %s\n", err);
    return v;
}

static double u01(ns_xoshiro *s) { return ns_xoshiro_uniform(s); }

/* Brute-force average linkage: merge the closest pair of clusters (mean pairwise chord distance,
 * lowest indices first on ties) until k remain; lab[n] gets a cluster id. */
static void brute_average(const double *th, int n, int k, int *lab)
{
    for (int i = 0; i < n; i++) lab[i] = i;
    for (int nc = n; nc > k; nc--) {
        double best = INFINITY;
        int ba = -1, bb = -1;
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++) {
                int ha = 0, hb = 0;
                for (int i = 0; i < n; i++) ha |= lab[i] == a, hb |= lab[i] == b;
                if (!ha || !hb) continue;
                double sum = 0;
                int cnt = 0;
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                        if (lab[i] == a && lab[j] == b) sum += hypot(cos(th[i]) - cos(th[j]), sin(th[i]) - sin(th[j])), cnt++;
                if (sum / cnt < best) best = sum / cnt, ba = a, bb = b;
            }
        for (int i = 0; i < n; i++)
            if (lab[i] == bb) lab[i] = ba;
    }
}

int main(void)
{
    char err[256];
    /* hand-computed: [0,0,1,1] vs [0,0,1,2]: sum C(n_ij,2) = 1, rows 2, columns 1, E = 2/6,
     * max 3/2: (1 - 1/3) / (3/2 - 1/3) = 4/7 (scikit-learn's documentation: 0.57) */
    {
        int a[4] = {0, 0, 1, 1}, b[4] = {0, 0, 1, 2}, c[4] = {1, 1, 0, 0}, one[4] = {0, 0, 0, 0}, sing[4] = {0, 1, 2, 3};
        NS_CHECK_ABS(ari(a, b, 4), 4.0 / 7.0, 1e-15);
        NS_CHECK_ABS(ari(b, a, 4), 4.0 / 7.0, 1e-15);
        NS_CHECK_ABS(ari_pairs_brute(a, b, 4), 4.0 / 7.0, 1e-15);
        NS_CHECK_ABS(ari(a, c, 4), 1.0, 0);         /* permuted labels */
        NS_CHECK_ABS(ari(a, a, 4), 1.0, 0);
        NS_CHECK_ABS(ari(one, sing, 4), 0.0, 0);    /* scikit-learn: 0.0 */
        NS_CHECK_ABS(ari(one, one, 4), 1.0, 0);     /* both one cluster */
        NS_CHECK_ABS(ari(sing, sing, 4), 1.0, 0);   /* both all singletons */
    }
    /* a 3 x 3 table by hand: a = [0 0 0 0 0 1 1 1 1 2 2 2], b = [0 0 0 1 1 1 1 2 2 2 2 2]:
     * n_ij = {3,2,0 / 0,2,2 / 0,0,3}: sum C = 3+1+1+1+3 = 9; rows 5,4,3: 10+6+3 = 19;
     * columns 3,4,5: 3+6+10 = 19; E = 19*19/66; ARI = (9 - E) / (19 - E) */
    {
        int a[12] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2}, b[12] = {0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2};
        double E = 19.0 * 19.0 / 66.0;
        NS_CHECK_ABS(ari(a, b, 12), (9 - E) / (19 - E), 1e-14);
        NS_CHECK_ABS(ari_pairs_brute(a, b, 12), (9 - E) / (19 - E), 1e-14);
        int big[12];
        for (int i = 0; i < 12; i++) big[i] = 1000 * a[i] - 7; /* any label values */
        NS_CHECK_ABS(ari(big, b, 12), (9 - E) / (19 - E), 1e-14);
    }
    /* random labelings: ns_ari equals the pair-counting form; the mean is about 0 */
    {
        ns_xoshiro s[1];
        ns_xoshiro_seed(s, 42);
        double sum = 0, maxdiff = 0;
        int nrep = 2000, n = 60, a[60], b[60];
        for (int r = 0; r < nrep; r++) {
            int ka = 2 + r % 3, kb = 2 + (r / 3) % 4;
            for (int i = 0; i < n; i++) a[i] = (int)(u01(s) * ka), b[i] = (int)(u01(s) * kb);
            double v = ari(a, b, n);
            sum += v;
            maxdiff = fmax(maxdiff, fabs(v - ari_pairs_brute(a, b, n)));
        }
        NS_CHECK(maxdiff < 1e-12, "ns_ari and the pair-counting form differ by %g", maxdiff);
        NS_CHECK_ABS(sum / nrep, 0.0, 0.005);
    }
    /* FG-ARI: the background is left out, whatever the labels say there */
    {
        int mask[10] = {0, 0, 1, 1, 1, 0, 2, 2, 2, 0}, lab[10] = {5, 1, 1, 1, 2, 2, 2, 2, 2, 1};
        int fa[6] = {1, 1, 2, 2, 2, 2}, fb[6] = {1, 1, 1, 2, 2, 2};
        double v;
        NS_CHECK(ns_fg_ari(lab, mask, 10, &v, err, sizeof err) == 0, "%s", err);
        NS_CHECK_ABS(v, ari_pairs_brute(fa, fb, 6), 1e-15);
        int perfect[10] = {9, 9, 3, 3, 3, 9, 4, 4, 4, 3};
        NS_CHECK(ns_fg_ari(perfect, mask, 10, &v, err, sizeof err) == 0 && v == 1.0, "perfect FG-ARI %g", v);
        int zero[10] = {0};
        NS_CHECK(ns_fg_ari(lab, zero, 10, &v, err, sizeof err) == -1 && strstr(err, "foreground"), "%s", err);
    }

    /* clustering: three separated clusters; labels 1..3 by mean phase; inactive units 0 */
    for (int method = 0; method < 2; method++) {
        ns_xoshiro s[1];
        ns_xoshiro_seed(s, 7 + method);
        enum { N = 300 };
        double th[N];
        int truth[N], active[N], lab[N];
        double centres[3] = {4.5, 0.5, 2.5};
        for (int i = 0; i < N; i++) {
            truth[i] = i % 3;
            double z = sqrt(-2 * log(u01(s) + 1e-300)) * cos(2 * M_PI * u01(s));
            th[i] = centres[truth[i]] + 0.15 * z + 2 * M_PI * (i % 5 - 2); /* any multiple of 2 pi */
            active[i] = i % 10 != 9;
        }
        ns_cluster_opts o = {method, 0, 0, 3};
        double inertia;
        NS_CHECK(ns_cluster_phases(th, active, N, 3, &o, lab, &inertia, err, sizeof err) == 0, "%s", err);
        int ok0 = 1, numbering = 1;
        int want_label[3] = {3, 1, 2}; /* 4.5 is the largest phase, 0.5 the smallest */
        for (int i = 0; i < N; i++) {
            if (!active[i]) ok0 &= lab[i] == 0;
            else numbering &= lab[i] == want_label[truth[i]];
        }
        NS_CHECK(ok0, "method %d: inactive units labelled 0", method);
        NS_CHECK(numbering, "method %d: clusters numbered by mean phase", method);
        /* the inertia is the sum of squared distances to the cluster centroids */
        double cx[4] = {0}, cy[4] = {0}, cn[4] = {0}, in = 0;
        for (int i = 0; i < N; i++)
            if (active[i]) cx[lab[i]] += cos(th[i]), cy[lab[i]] += sin(th[i]), cn[lab[i]]++;
        for (int c = 1; c <= 3; c++) cx[c] /= cn[c], cy[c] /= cn[c];
        for (int i = 0; i < N; i++)
            if (active[i]) in += pow(cos(th[i]) - cx[lab[i]], 2) + pow(sin(th[i]) - cy[lab[i]], 2);
        NS_CHECK_REL(inertia, in, 1e-9);
        int lab2[N];
        ns_cluster_phases(th, active, N, 3, &o, lab2, NULL, err, sizeof err);
        NS_CHECK(!memcmp(lab, lab2, sizeof lab), "method %d: not deterministic", method);
    }
    /* wrap-around: 350 and 10 degrees are one cluster, 180 the other; the one at 0 comes first */
    for (int method = 0; method < 2; method++) {
        double th[40];
        int lab[40];
        for (int i = 0; i < 40; i++) {
            double deg = i < 15 ? 350 + (i % 3) : i < 30 ? 12 + (i % 3) : 180 + (i % 3); /* mean +2 degrees */
            th[i] = deg * M_PI / 180;
        }
        ns_cluster_opts o = {method, 0, 0, 1};
        NS_CHECK(ns_cluster_phases(th, NULL, 40, 2, &o, lab, NULL, err, sizeof err) == 0, "%s", err);
        int ok = 1;
        for (int i = 0; i < 40; i++) ok &= lab[i] == (i < 30 ? 1 : 2);
        NS_CHECK(ok, "method %d: 350 and 10 degrees not one cluster", method);
    }
    /* k-means over seeds recovers four clusters of unequal size (ARI 1) */
    for (uint64_t seed = 1; seed <= 5; seed++) {
        double th[200];
        int truth[200], lab[200];
        ns_xoshiro s[1];
        ns_xoshiro_seed(s, seed);
        for (int i = 0; i < 200; i++) {
            truth[i] = i < 20 ? 0 : i < 80 ? 1 : i < 140 ? 2 : 3;
            th[i] = truth[i] * M_PI / 2 + 0.3 * (u01(s) - 0.5);
        }
        ns_cluster_opts o = {NS_CLUSTER_KMEANS, 0, 0, seed};
        ns_cluster_phases(th, NULL, 200, 4, &o, lab, NULL, err, sizeof err);
        NS_CHECK_ABS(ari(lab, truth, 200), 1.0, 0);
    }
    /* restarts: five clusters at 0, 40, 120, 200 and 280 degrees into three have local optima a
     * single k-means++ run often ends in; the best of 10 runs is never worse than the first
     * alone, and better for some seeds */
    {
        double th[500];
        int lab[500], better = 0, worse = 0;
        double c[5] = {0, 40, 120, 200, 280};
        for (int i = 0; i < 500; i++) th[i] = (c[i % 5] + 8 * sin(i * 1.7)) * M_PI / 180;
        for (uint64_t seed = 1; seed <= 10; seed++) {
            double i1, i10;
            ns_cluster_opts o1 = {NS_CLUSTER_KMEANS, 1, 0, seed}, o10 = {NS_CLUSTER_KMEANS, 10, 0, seed};
            ns_cluster_phases(th, NULL, 500, 3, &o1, lab, &i1, err, sizeof err);
            ns_cluster_phases(th, NULL, 500, 3, &o10, lab, &i10, err, sizeof err);
            better += i10 < i1 - 1e-9;
            worse += i10 > i1 + 1e-9;
        }
        NS_CHECK(worse == 0 && better > 0, "best of 10 restarts: better than one run for %d seeds, worse for %d", better,
                 worse);
    }
    /* the average-linkage cut equals a brute-force one on random points */
    for (uint64_t seed = 1; seed <= 20; seed++) {
        ns_xoshiro s[1];
        ns_xoshiro_seed(s, 100 + seed);
        int n = 12 + (int)(seed % 7), k = 2 + (int)(seed % 3), lab[20], ref[20];
        double th[20];
        for (int i = 0; i < n; i++) th[i] = 2 * M_PI * u01(s);
        ns_cluster_opts o = {NS_CLUSTER_AGGLOMERATIVE, 0, 0, 0};
        NS_CHECK(ns_cluster_phases(th, NULL, n, k, &o, lab, NULL, err, sizeof err) == 0, "%s", err);
        brute_average(th, n, k, ref);
        NS_CHECK_ABS(ari(lab, ref, n), 1.0, 0);
    }
    /* bad input */
    {
        double th[3] = {0, 1, NAN};
        int lab[3], act[3] = {1, 1, 0};
        NS_CHECK(ns_cluster_phases(th, act, 3, 3, NULL, lab, NULL, err, sizeof err) == -1 && strstr(err, "[1, 2]"), "%s", err);
        NS_CHECK(ns_cluster_phases(th, NULL, 3, 2, NULL, lab, NULL, err, sizeof err) == -1 && strstr(err, "finite"), "%s", err);
        NS_CHECK(ns_cluster_phases(th, act, 3, 2, NULL, lab, NULL, err, sizeof err) == 0 && lab[2] == 0, "%s", err);
    }
    NS_TEST_MAIN_END();
}
