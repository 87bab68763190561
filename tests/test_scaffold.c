/* tests/test_scaffold.c — S2-Net scaffolds: a small image's grid edges and weights recomputed
 * here, degrees and weight sums; adjacency CSVs read with and without phase_delay_ms; every kind
 * of bad file refused with its file, line and what is wrong; delays checked against dt. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/csv.h"
#include "sim/scaffold.h"
#include "tests/harness.h"
#include "tests/testlib.h"

/* The 4 x 3 image's grid, against weights computed here from the pixel pairs. */
static void grid(void)
{
    enum { NX = 4, NY = 3 };
    static const double img[NX * NY] = {0.0, 0.1, 0.9, 1.0, 0.2, 0.5, 0.5, 0.8, 1.0, 0.0, 0.3, 0.7};
    const double sigma = 0.4;
    for (int nb = 4; nb <= 8; nb += 4) {
        ns_scaffold sc;
        char err[512];
        NS_CHECK(ns_scaffold_grid(&sc, img, NX, NY, nb, sigma, 1.0, 2.0, 3.0, 4.0, err, sizeof err) == 0, "%s", err);
        /* every ordered pair of distinct pixels at Chebyshev distance 1 (and Manhattan 1 for 4) */
        size_t want = 0, found = 0;
        double deg[NX * NY] = {0}, ws[NX * NY] = {0};
        for (int i = 0; i < NX * NY; i++)
            for (int j = 0; j < NX * NY; j++) {
                const int dx = abs(i % NX - j % NX), dy = abs(i / NX - j / NX);
                const int near = nb == 4 ? dx + dy == 1 : (dx <= 1 && dy <= 1 && dx + dy > 0);
                if (!near) continue;
                want++;
                const double w = exp(-(img[i] - img[j]) * (img[i] - img[j]) / (sigma * sigma));
                deg[i] += 1, ws[i] += w;
                for (size_t k = 0; k < sc.n_edges; k++)
                    if (sc.pre[k] == (uint32_t)j && sc.post[k] == (uint32_t)i) {
                        found++;
                        NS_CHECK(fabs(sc.w[k] - w) < 1e-15, "W(%d <- %d) = %.17g, want %.17g", i, j, sc.w[k], w);
                        const int diag = dx + dy == 2;
                        NS_CHECK(sc.delay_ms[k] == (diag ? 2.0 : 1.0) && sc.phase_delay_ms[k] == (diag ? 4.0 : 3.0),
                                 "delays of %d <- %d: %g, %g", i, j, sc.delay_ms[k], sc.phase_delay_ms[k]);
                    }
            }
        NS_CHECK(sc.n_edges == want && found == want, "%d neighbours: %zu edges, want %zu (found %zu)", nb, sc.n_edges,
                 want, found);
        for (int i = 0; i < NX * NY; i++)
            NS_CHECK(sc.deg[i] == deg[i] && fabs(sc.wsum[i] - ws[i]) < 1e-14, "pixel %d: deg %g (%g), wsum %g (%g)", i,
                     sc.deg[i], deg[i], sc.wsum[i], ws[i]);
        NS_CHECK(ns_scaffold_check_dt(&sc, 1.0, err, sizeof err) == 0, "%s", err);
        NS_CHECK(ns_scaffold_check_dt(&sc, 0.3, err, sizeof err) != 0 &&
                     strstr(err, "scaffold: edge 0: delay_ms 1 ms is not a whole number of steps of dt 0.3 ms"),
                 "a delay not a multiple of dt: %s", err);
        NS_CHECK(ns_scaffold_check_dt(&sc, 2.0, err, sizeof err) != 0 && strstr(err, "in [1, 65535] (0.5 steps)"),
                 "a delay below dt: %s", err);
        ns_scaffold_free(&sc);
    }
    ns_scaffold sc;
    char err[512];
    NS_CHECK(ns_scaffold_grid(&sc, img, NX, NY, 6, sigma, 1, 1, 1, 1, err, sizeof err) != 0 &&
                 !strcmp(err, "scaffold: neighbours must be 4 or 8, not 6"), "%s", err);
    NS_CHECK(ns_scaffold_grid(&sc, img, NX, NY, 8, 0.0, 1, 1, 1, 1, err, sizeof err) != 0 && strstr(err, "sigma 0"),
             "%s", err);
    double bad[NX * NY];
    memcpy(bad, img, sizeof bad);
    bad[5] = NAN;
    NS_CHECK(ns_scaffold_grid(&sc, bad, NX, NY, 8, sigma, 1, 1, 1, 1, err, sizeof err) != 0 &&
                 strstr(err, "pixel 5 (column 1, row 1) is nan"), "%s", err);
}

/* Read FILE's text as a scaffold of n units with dt 1 ms (duplicates refused): 0, or -1 with err. */
static int read_text(const char *dir, const char *name, const char *text, size_t n, int dup, char *err, size_t errlen,
                     ns_scaffold *sc)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    ns_csv_edges e;
    if (ns_csv_read_edges_phase(path, n, 0.0, HUGE_VAL, &e, err, errlen)) return -1;
    if (ns_scaffold_from_edges(sc, n, e.n, e.pre, e.post, e.w, e.delay_ms, e.phase_delay_ms, e.line, path, dup, err,
                               errlen))
        return -1;
    if (ns_scaffold_check_dt(sc, 1.0, err, errlen)) {
        ns_scaffold_free(sc);
        return -1;
    }
    return 0;
}

static void csv(void)
{
    char dir[512], err[1024];
    ns_test_tmpdir(dir, sizeof dir, "nsim-scaffold");
    ns_scaffold sc;
    NS_CHECK(read_text(dir, "a.csv", "source,target,weight,delay_ms\n0,1,0.5,2\n# note\n\n2,0,1.5,1\n", 3, 0, err,
                       sizeof err, &sc) == 0, "%s", err);
    if (sc.n_edges == 2) {
        NS_CHECK(sc.pre[1] == 2 && sc.post[1] == 0 && sc.w[1] == 1.5 && sc.delay_ms[1] == 1 && sc.phase_delay_ms[1] == 1 &&
                     sc.line[1] == 5, "edge 1: %u %u %g %g %g line %ld", sc.pre[1], sc.post[1], sc.w[1], sc.delay_ms[1],
                 sc.phase_delay_ms[1], sc.line[1]);
        NS_CHECK(sc.deg[0] == 1 && sc.deg[1] == 1 && sc.deg[2] == 0 && sc.wsum[0] == 1.5, "degrees");
        ns_scaffold_free(&sc);
    }
    NS_CHECK(read_text(dir, "b.csv", "source,target,weight,delay_ms,phase_delay_ms\n0,1,0.5,2,7\n", 3, 0, err,
                       sizeof err, &sc) == 0 && sc.phase_delay_ms[0] == 7 && sc.delay_ms[0] == 2, "phase_delay_ms: %s", err);
    if (sc.n) ns_scaffold_free(&sc);
    NS_CHECK(read_text(dir, "c.csv", "source,target,weight,delay_ms\n0,1,0.5,2\n0,1,0.7,3\n", 3, 1, err, sizeof err, &sc) == 0,
             "duplicates allowed: %s", err);
    if (sc.n) ns_scaffold_free(&sc);
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"source,target,weight\n0,1,1\n", "bad.csv:1: the header must be source,target,weight,delay_ms, got 'source,target,weight'"},
        {"source,target,weight,delay_ms\n0,1,1\n", "bad.csv:2: expected 4 fields source,target,weight,delay_ms, got 3"},
        {"source,target,weight,delay_ms,phase_delay_ms\n0,1,1,1\n",
         "bad.csv:2: expected 5 fields source,target,weight,delay_ms,phase_delay_ms, got 4"},
        {"source,target,weight,delay_ms\n0,x,1,1\n", "bad.csv:2: target 'x' is not a number"},
        {"source,target,weight,delay_ms\n0,1,1,1\n3,1,1,1\n", "bad.csv:3: source 3 is not a unit index in [0, 2]"},
        {"source,target,weight,delay_ms\n0,1.5,1,1\n", "bad.csv:2: target 1.5 is not a unit index in [0, 2]"},
        {"source,target,weight,delay_ms\n0,1,nan,1\n", "bad.csv:2: weight 'nan' is not a finite number"},
        {"source,target,weight,delay_ms\n0,1,-0.5,1\n", "bad.csv:2: weight -0.5 must be a finite number >= 0"},
        {"source,target,weight,delay_ms\n0,1,1,-1\n", "bad.csv:2: delay_ms '-1' is outside [0, inf] ms"},
        {"source,target,weight,delay_ms\n0,1,1,nan\n", "bad.csv:2: delay_ms 'nan' is outside [0, inf] ms"},
        {"source,target,weight,delay_ms,phase_delay_ms\n0,1,1,1,q\n", "bad.csv:2: phase_delay_ms 'q' is outside [0, inf] ms"},
        {"source,target,weight,delay_ms\n0,1,1,1\n1,2,1,1.5\n",
         "bad.csv:3: delay_ms 1.5 ms is not a whole number of steps of dt 1 ms in [1, 65535] (1.5 steps)"},
        {"source,target,weight,delay_ms,phase_delay_ms\n0,1,1,1,0\n",
         "bad.csv:2: phase_delay_ms 0 ms is not a whole number of steps of dt 1 ms in [1, 65535] (0 steps)"},
        {"source,target,weight,delay_ms\n0,1,1,1\n# c\n0,1,2,2\n",
         "bad.csv:4: edge 0 -> 1 is given twice (first on line 2); duplicates are not allowed"},
        {"", "bad.csv: empty (expected the header source,target,weight,delay_ms)"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        err[0] = '\0';
        const int rc = read_text(dir, "bad.csv", bad[k].text, 3, 0, err, sizeof err, &sc);
        const char *tail = strrchr(err, '/');
        NS_CHECK(rc != 0 && tail && !strcmp(tail + 1, bad[k].msg), "bad file %zu: got '%s', want '%s'", k, err, bad[k].msg);
        if (!rc) ns_scaffold_free(&sc);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("could not remove %s\n", dir);
}

int main(void)
{
    grid();
    csv();
    NS_TEST_MAIN_END();
}
