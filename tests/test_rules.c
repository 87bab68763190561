/* tests/test_rules.c — geometries and the rules that use shapes and counts, against truth
 * recomputed here: exact degrees and neighbour counts (borders and wrap included), no repeated
 * pair without multapses, connection probability against the kernel within binomial error (a
 * wrong sigma fails), multinomial per-pair counts, the same spikes for 1 and 2 threads. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/geometry.h"
#include "sim/rules.h"
#include "tests/harness.h"
#include "tests/testlib.h"

/* The synapses a rule emits, in order. */
typedef struct {
    size_t n, cap;
    uint32_t *pre, *post;
} edges;

static void collect(void *user, uint32_t i, uint32_t j, uint32_t ka, uint32_t kb)
{
    (void)ka;
    (void)kb;
    edges *e = user;
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 1024;
        e->pre = realloc(e->pre, e->cap * sizeof *e->pre);
        e->post = realloc(e->post, e->cap * sizeof *e->post);
        if (!e->pre || !e->post) exit(1);
    }
    e->pre[e->n] = i;
    e->post[e->n++] = j;
}

static void edges_free(edges *e)
{
    free(e->pre);
    free(e->post);
    memset(e, 0, sizeof *e);
}

/* Check and run spec between (ns, gs) and (nt, gt); the edges, or n = 0 and rc on a refusal. */
static int run_rule(ns_ctx *ctx, const ns_conn_spec *spec, size_t ns, const ns_geom *gs, size_t nt, const ns_geom *gt,
                    int same, uint64_t seed, edges *e)
{
    memset(e, 0, sizeof *e);
    ns_rule_job job = {spec, ns, nt, gs, gt, "A", same ? "A" : "B", same, seed, 3};
    int rc = ns_rules_check(ctx, &job);
    if (rc) return rc;
    return ns_rules_run(ctx, &job, collect, e);
}

/* Count of (pre, post) over a dense ns x nt matrix. */
static unsigned *pair_counts(const edges *e, size_t ns, size_t nt)
{
    unsigned *c = calloc(ns * nt, sizeof *c);
    for (size_t k = 0; k < e->n; k++) c[(size_t)e->pre[k] * nt + e->post[k]]++;
    return c;
}

static ns_conn_spec base_spec(ns_rule rule)
{
    return (ns_conn_spec){.rule = rule, .weight = {NS_DIST_CONST, 1, 0}, .delay = {NS_DIST_CONST, 1, 0}, .autapses = 1};
}

/* ---- geometries ---- */

static void geometries(void)
{
    ns_ctx *ctx = ns_ctx_create();
    ns_geom *g = ns_geom_grid(ctx, 4, 3, 50, 0);
    NS_CHECK(g && g->n == 12, "a 4 x 3 grid");
    NS_CHECK(g->pos[3 * 6] == 125 && g->pos[3 * 6 + 1] == 75, "unit 6 = column 2, row 1 at its cell's centre: (%g, %g)",
             g->pos[18], g->pos[19]);
    ns_metric m;
    NS_CHECK(ns_geom_metric(ctx, g, "G", g, "G", &m) == 0 && !m.wrap, "a plain grid does not wrap");
    NS_CHECK_ABS(ns_geom_distance(&m, g, 0, g, 11), sqrt(150.0 * 150 + 100 * 100), 1e-9);
    NS_CHECK(ns_geom_cell(g, 199.9, 149.9) == 11 && ns_geom_cell(g, 0, 0) == 0, "cells");
    NS_CHECK(ns_geom_cell(g, 200, 10) == -1 && ns_geom_cell(g, -0.1, 10) == -1, "outside a plain grid");
    ns_geom *p = ns_geom_grid(ctx, 4, 3, 50, 1);
    NS_CHECK(ns_geom_metric(ctx, p, "P", p, "P", &m) == 0 && m.wrap && m.box[0] == 200 && m.box[1] == 150,
             "a periodic grid wraps on 200 x 150 µm");
    NS_CHECK_ABS(ns_geom_distance(&m, p, 0, p, 11), sqrt(50.0 * 50 + 50 * 50), 1e-9);  /* across both edges */
    NS_CHECK(ns_geom_cell(p, 200, -10) == 8, "a periodic grid wraps a point: %ld", ns_geom_cell(p, 200, -10));
    ns_geom *q = ns_geom_grid(ctx, 2, 3, 50, 1);
    NS_CHECK(ns_geom_metric(ctx, p, "P", q, "Q", &m) == NS_EINVAL &&
                 strstr(ns_ctx_errmsg(ctx), "periodic grids P (200 x 150 µm) and Q (100 x 150 µm) differ in extent"),
             "%s", ns_ctx_errmsg(ctx));

    ns_geom *r = ns_geom_ring(ctx, 8, 10);
    const double R = 80 / (2 * M_PI);
    NS_CHECK_ABS(hypot(r->pos[9], r->pos[10]), R, 1e-9);
    NS_CHECK_ABS(atan2(r->pos[10], r->pos[9]), 3 * M_PI / 4, 1e-12); /* unit 3 at 3/8 of the circle */
    NS_CHECK(ns_geom_metric(ctx, r, "R", r, "R", &m) == 0 && m.ring, "a ring measures along itself");
    NS_CHECK_ABS(ns_geom_distance(&m, r, 1, r, 7), 20, 1e-9); /* two steps the short way round */
    NS_CHECK_ABS(ns_geom_distance(&m, r, 0, r, 4), 40, 1e-9);
    ns_geom *r2 = ns_geom_ring(ctx, 16, 5);
    NS_CHECK(ns_geom_metric(ctx, r, "R", r2, "S", &m) == 0, "rings of one circumference meet");
    NS_CHECK_ABS(ns_geom_distance(&m, r, 1, r2, 15), 15, 1e-9);
    NS_CHECK(ns_geom_metric(ctx, r, "R", g, "G", &m) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "a ring meets only a ring"),
             "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(!ns_geom_grid(ctx, 4, 3, 0, 0) && !strcmp(ns_ctx_errmsg(ctx), "grid spacing = 0 µm is outside (0, 1e12]"),
             "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(!ns_geom_ring(ctx, 4, NAN), "a NaN spacing is refused");
    double xyz[4] = {1, 2, 3, INFINITY};
    NS_CHECK(!ns_geom_points(ctx, 2, xyz, 2) && strstr(ns_ctx_errmsg(ctx), "unit 1"), "%s", ns_ctx_errmsg(ctx));
    ns_geom_free(g);
    ns_geom_free(p);
    ns_geom_free(q);
    ns_geom_free(r);
    ns_geom_free(r2);
    ns_ctx_free(ctx);
}

/* Positions files: a good one read exactly; each bad one named by file, line and what. */
static void positions_files(void)
{
    ns_ctx *ctx = ns_ctx_create();
    char dir[512], path[700];
    ns_test_tmpdir(dir, sizeof dir, "nsim-pos");
    snprintf(path, sizeof path, "%s/p.csv", dir);
    static const struct {
        const char *text, *err; /* err: the message after "FILE", or NULL for a good file */
    } cases[] = {
        {"x_um,y_um\n1.5,2\n# a comment\n\n-3,4e1\n5,6", NULL},
        {"1,2,3\n4,5,6\n7,8,9\n", NULL},
        {"x_um,y_um,z_um\n1,2,3\n4,5\n7,8,9\n", ":3: 2 numbers where the header has 3 ('4,5')"},
        {"1,2\n3,x\n5,6\n", ":2: not a number ('x')"},
        {"1,2\n3,4\n", ": 2 positions for the 3 units of the population (one line each)"},
        {"1,2\n3,4\n5,6\n7,8\n", ":4: more positions than the 3 units of the population"},
        {"x,y\n1,2\n", ":1: the header must be x_um,y_um or x_um,y_um,z_um ('x,y')"},
        {"1,2\n3,inf\n5,6\n", ":2: a coordinate must be a finite number of µm ('inf')"},
        {"1\n", ":1: expected 2 or 3 numbers (x_um,y_um[,z_um]) ('1')"},
        {"1,2\n3,4,5\n", ":2: 3 numbers where earlier lines have 2 ('3,4,5')"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        FILE *fp = fopen(path, "w");
        fputs(cases[c].text, fp);
        fclose(fp);
        ns_geom *g = ns_geom_read(ctx, path, 3);
        if (!cases[c].err) {
            NS_CHECK(g != NULL, "case %zu: %s", c, ns_ctx_errmsg(ctx));
            if (g && c == 0) NS_CHECK(g->dims == 2 && g->pos[0] == 1.5 && g->pos[3] == -3 && g->pos[4] == 40 && g->pos[5] == 0 && g->pos[6] == 5,
                                      "the positions read");
            if (g && c == 1) NS_CHECK(g->dims == 3 && g->pos[8] == 9, "three coordinates");
        } else {
            char want[900];
            snprintf(want, sizeof want, "%s%s", path, cases[c].err);
            NS_CHECK(!g && !strcmp(ns_ctx_errmsg(ctx), want), "case %zu: got '%s', want '%s'", c, ns_ctx_errmsg(ctx), want);
        }
        ns_geom_free(g);
    }
    remove(path);
    rmdir(dir);
    NS_CHECK(!ns_geom_read(ctx, path, 3) && strstr(ns_ctx_errmsg(ctx), "cannot read the positions file"), "%s",
             ns_ctx_errmsg(ctx));
    ns_ctx_free(ctx);
}

/* ---- degrees and totals ---- */

/* fixed_indegree / fixed_outdegree without multapses: exactly K distinct partners per unit, no
 * self pair without autapses, and each candidate drawn K / m of the time (a chi-square over the
 * candidates, df = m - 1, refused beyond df + 8 sqrt(2 df)). */
static void degrees_unique(void)
{
    ns_ctx *ctx = ns_ctx_create();
    const size_t n = 300;
    for (int out = 0; out <= 1; out++)
        for (int aut = 0; aut <= 1; aut++) {
            ns_conn_spec s = base_spec(out ? NS_RULE_FIXED_OUTDEGREE : NS_RULE_FIXED_INDEGREE);
            s.unique = 1;
            s.autapses = aut;
            s.K = 120;
            edges e;
            NS_CHECK(run_rule(ctx, &s, n, NULL, n, NULL, 1, 5, &e) == 0, "%s", ns_ctx_errmsg(ctx));
            unsigned *c = pair_counts(&e, n, n);
            size_t deg_bad = 0, dup = 0, self = 0;
            double chosen[300] = {0};
            for (size_t u = 0; u < n; u++) {
                size_t deg = 0;
                for (size_t v = 0; v < n; v++) {
                    unsigned x = out ? c[u * n + v] : c[v * n + u];
                    deg += x;
                    dup += x > 1;
                    chosen[v] += x;
                }
                deg_bad += deg != 120;
                self += c[u * n + u];
            }
            NS_CHECK(e.n == n * 120 && deg_bad == 0, "every unit has K = 120 partners (%zu synapses, %zu wrong)", e.n, deg_bad);
            NS_CHECK(dup == 0, "no pair twice without multapses (%zu)", dup);
            NS_CHECK(aut || self == 0, "no self pair without autapses (%zu)", self);
            const double m = aut ? n : n - 1;
            double chi2 = 0;
            for (size_t v = 0; v < n; v++) {
                double want = aut ? 120.0 * n / m : 120.0 * (n - 1) / m; /* generators that may pick v, times K / m */
                double var = want * (1 - 120 / m); /* hypergeometric inclusion, independent over units */
                chi2 += (chosen[v] - want) * (chosen[v] - want) / var;
            }
            const double df = n - 1;
            NS_CHECK(chi2 < df + 8 * sqrt(2 * df), "every candidate equally likely: chi2 %.1f, df %.0f", chi2, df);
            free(c);
            edges_free(&e);
        }
    /* K = every candidate: all of them, once */
    ns_conn_spec s = base_spec(NS_RULE_FIXED_INDEGREE);
    s.unique = 1;
    s.K = 9;
    edges e;
    NS_CHECK(run_rule(ctx, &s, 9, NULL, 9, NULL, 1, 5, &e) == 0 && e.n == 81, "K = n takes every source");
    unsigned *c = pair_counts(&e, 9, 9);
    int all = 1;
    for (int k = 0; k < 81; k++) all &= c[k] == 1;
    NS_CHECK(all, "each pair once");
    free(c);
    edges_free(&e);
    s.autapses = 0;
    NS_CHECK(run_rule(ctx, &s, 9, NULL, 9, NULL, 1, 5, &e) == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx), "fixed_indegree K = 9 without multapses is outside [0, 8]: each target has 8 "
                                             "distinct sources in A (autapses off)"),
             "%s", ns_ctx_errmsg(ctx));
    ns_ctx_free(ctx);
}

/* fixed_total: exactly N; with multapses each pair's count is Binomial(N, 1 / M) (M pairs) and
 * the counts are multinomial: their mean N / M, their variance N / M (1 - 1 / M), and each
 * source's total Binomial(N, 1 / ns); without, N distinct pairs, each pair equally likely. */
static void fixed_total(void)
{
    ns_ctx *ctx = ns_ctx_create();
    const size_t ns = 60, nt = 50, M = ns * nt;
    const long N = 45000;
    ns_conn_spec s = base_spec(NS_RULE_FIXED_TOTAL);
    s.N = N;
    edges e;
    NS_CHECK(run_rule(ctx, &s, ns, NULL, nt, NULL, 0, 9, &e) == 0 && e.n == (size_t)N, "N = %ld synapses: %zu", N, e.n);
    unsigned *c = pair_counts(&e, ns, nt);
    double sum = 0, sum2 = 0;
    for (size_t k = 0; k < M; k++) {
        sum += c[k];
        sum2 += (double)c[k] * c[k];
    }
    const double p = 1.0 / M, mean = sum / M, var = (sum2 - sum * sum / M) / (M - 1);
    NS_CHECK_REL(mean, N * p, 1e-12);
    /* the sample variance of M counts has a standard error of about var sqrt(2 / M) (2.6 %) */
    NS_CHECK(fabs(var - N * p * (1 - p)) < 5 * N * p * sqrt(2.0 / M), "per-pair variance %.3f, want %.3f", var,
             N * p * (1 - p));
    double chi2 = 0;
    for (size_t i = 0; i < ns; i++) {
        double tot = 0;
        for (size_t j = 0; j < nt; j++) tot += c[i * nt + j];
        chi2 += (tot - (double)N / ns) * (tot - (double)N / ns) / ((double)N / ns * (1 - 1.0 / ns));
    }
    NS_CHECK(chi2 < (ns - 1) + 8 * sqrt(2.0 * (ns - 1)), "per-source totals multinomial: chi2 %.1f, df %zu", chi2, ns - 1);
    free(c);
    edges_free(&e);

    /* autapses off, one population: no self pair, still N */
    s.autapses = 0;
    NS_CHECK(run_rule(ctx, &s, 40, NULL, 40, NULL, 1, 9, &e) == 0 && e.n == (size_t)N, "N without autapses");
    c = pair_counts(&e, 40, 40);
    unsigned self = 0;
    for (size_t i = 0; i < 40; i++) self += c[i * 40 + i];
    NS_CHECK(self == 0, "no self pair (%u)", self);
    free(c);
    edges_free(&e);

    /* without multapses: N distinct pairs, uniform over pairs (each one 50 times in 200 seeds
     * of N = M / 4 draws: chi-square over the pairs) */
    s.unique = 1;
    s.autapses = 1;
    s.N = 500;
    const size_t a = 40, b = 50;
    double *hits = calloc(a * b, sizeof *hits);
    int dup = 0, exact = 1;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        run_rule(ctx, &s, a, NULL, b, NULL, 0, seed, &e);
        exact &= e.n == 500;
        c = pair_counts(&e, a, b);
        for (size_t k = 0; k < a * b; k++) {
            dup |= c[k] > 1;
            hits[k] += c[k];
        }
        free(c);
        edges_free(&e);
    }
    NS_CHECK(exact && !dup, "N = 500 distinct pairs every time");
    chi2 = 0;
    const double want = 200.0 * 500 / (a * b), vr = want * (1 - 500.0 / (a * b));
    for (size_t k = 0; k < a * b; k++) chi2 += (hits[k] - want) * (hits[k] - want) / vr;
    NS_CHECK(chi2 < (a * b - 1) + 8 * sqrt(2.0 * (a * b - 1)), "pairs equally likely: chi2 %.0f, df %zu", chi2, a * b - 1);
    free(hits);
    s.N = (long)(a * b) + 1;
    NS_CHECK(run_rule(ctx, &s, a, NULL, b, NULL, 0, 1, &e) == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx),
                         "fixed_total N = 2001 without multapses is outside [0, 2000], the distinct pairs from A to B"),
             "%s", ns_ctx_errmsg(ctx));
    ns_ctx_free(ctx);
}

/* ---- lattices ---- */

/* 4 and 8 neighbours on a grid, counted per unit and compared with the neighbours recomputed
 * from the coordinates: interior 4 / 8, edges 3 / 5, corners 2 / 3 on a plain grid, all 4 / 8
 * on a periodic one, each a distinct unit one step away (wrapped). */
static void lattice_neighbours(void)
{
    ns_ctx *ctx = ns_ctx_create();
    const size_t nx = 7, ny = 5, n = nx * ny;
    for (int per = 0; per <= 1; per++)
        for (int nb = 4; nb <= 8; nb += 4) {
            ns_geom *g = ns_geom_grid(ctx, nx, ny, 20, per);
            ns_conn_spec s = base_spec(NS_RULE_LATTICE);
            s.neighbours = nb;
            edges e;
            NS_CHECK(run_rule(ctx, &s, n, g, n, g, 1, 1, &e) == 0, "%s", ns_ctx_errmsg(ctx));
            unsigned *c = pair_counts(&e, n, n);
            int ok = 1;
            for (size_t i = 0; i < n; i++) {
                long x = (long)(i % nx), y = (long)(i / nx);
                int border = (x == 0 || x == (long)nx - 1) + (y == 0 || y == (long)ny - 1);
                int want = per ? nb : nb == 4 ? 4 - border : border == 0 ? 8 : border == 1 ? 5 : 3;
                int got = 0;
                for (size_t j = 0; j < n; j++) {
                    if (!c[i * n + j]) continue;
                    got += (int)c[i * n + j];
                    long dx = labs((long)(j % nx) - x), dy = labs((long)(j / nx) - y);
                    if (per) {
                        dx = dx < (long)nx - dx ? dx : (long)nx - dx;
                        dy = dy < (long)ny - dy ? dy : (long)ny - dy;
                    }
                    ok &= c[i * n + j] == 1 && (nb == 4 ? dx + dy == 1 : (dx <= 1 && dy <= 1 && dx + dy > 0));
                }
                ok &= got == want;
            }
            NS_CHECK(ok, "%d neighbours on a %s 7 x 5 grid", nb, per ? "periodic" : "plain");
            size_t total = per ? n * (size_t)nb
                               : 2 * (2 * n - nx - ny) + (nb == 8 ? 4 * (nx - 1) * (ny - 1) : 0);
            NS_CHECK(e.n == total, "%zu synapses, want %zu", e.n, total);
            free(c);
            edges_free(&e);
            ns_geom_free(g);
        }
    /* a ring: each unit to its two neighbours */
    ns_geom *r = ns_geom_ring(ctx, 10, 3);
    ns_conn_spec s = base_spec(NS_RULE_LATTICE);
    s.neighbours = 2;
    edges e;
    run_rule(ctx, &s, 10, r, 10, r, 1, 1, &e);
    int ok = e.n == 20;
    for (size_t k = 0; k < e.n; k++) ok &= (e.post[k] + 10 - e.pre[k]) % 10 == 1 || (e.pre[k] + 10 - e.post[k]) % 10 == 1;
    NS_CHECK(ok, "a ring's two neighbours");
    edges_free(&e);
    s.neighbours = 4;
    NS_CHECK(run_rule(ctx, &s, 10, r, 10, r, 1, 1, &e) == NS_EINVAL &&
                 strstr(ns_ctx_errmsg(ctx), "lattice neighbours = 4 joins two grids of one shape"),
             "%s", ns_ctx_errmsg(ctx));
    ns_geom *tiny = ns_geom_grid(ctx, 2, 5, 1, 1);
    NS_CHECK(run_rule(ctx, &s, 10, tiny, 10, tiny, 1, 1, &e) == NS_EINVAL &&
                 strstr(ns_ctx_errmsg(ctx), "needs nx and ny of at least 3 (A is 2 x 5)"),
             "%s", ns_ctx_errmsg(ctx));
    s.neighbours = 5;
    NS_CHECK(run_rule(ctx, &s, 10, tiny, 10, tiny, 1, 1, &e) == NS_EINVAL &&
                 strstr(ns_ctx_errmsg(ctx), "lattice neighbours = 5 is not 2 (ring), 4 or 8 (grid)"),
             "%s", ns_ctx_errmsg(ctx));
    ns_geom_free(tiny);
    ns_geom_free(r);
    ns_ctx_free(ctx);
}

/* Lattice points with a^2 + b^2 <= q, (a, b) != (0, 0): Gauss's circle problem counted directly. */
static int circle_points(double q)
{
    int c = 0;
    for (int a = -20; a <= 20; a++)
        for (int b = -20; b <= 20; b++) c += (a || b) && a * a + b * b <= q + 1e-9;
    return c;
}

/* Within a radius: on a periodic 16 x 16 grid every unit has the lattice points of the circle
 * (without itself when autapses are off, with it when on); on a plain grid a corner has the
 * quarter disc's. */
static void lattice_radius(void)
{
    ns_ctx *ctx = ns_ctx_create();
    const size_t n = 256;
    ns_geom *p = ns_geom_grid(ctx, 16, 16, 10, 1), *g = ns_geom_grid(ctx, 16, 16, 10, 0);
    const double radii[] = {10, 14.2, 20, 22.4, 30, 50};
    for (int k = 0; k < 6; k++)
        for (int aut = 0; aut <= 1; aut++) {
            ns_conn_spec s = base_spec(NS_RULE_LATTICE);
            s.radius = radii[k];
            s.autapses = aut;
            edges e;
            run_rule(ctx, &s, n, p, n, p, 1, 1, &e);
            unsigned *c = pair_counts(&e, n, n);
            int want = circle_points(radii[k] * radii[k] / 100) + aut, ok = 1;
            for (size_t i = 0; i < n; i++) {
                int got = 0;
                for (size_t j = 0; j < n; j++) got += (int)c[i * n + j];
                ok &= got == want;
            }
            NS_CHECK(ok, "radius %g µm: %d targets each (autapses %d)", radii[k], want, aut);
            free(c);
            edges_free(&e);
            s.autapses = 0;
            run_rule(ctx, &s, n, g, n, g, 1, 1, &e);
            int corner = 0, quarter = 0;
            for (size_t q = 0; q < e.n; q++) corner += e.pre[q] == 0;
            for (int a = 0; a <= 20; a++)
                for (int b = 0; b <= 20; b++) quarter += (a || b) && a * a + b * b <= radii[k] * radii[k] / 100 + 1e-9;
            NS_CHECK(corner == quarter, "radius %g µm at a plain grid's corner: %d, want %d", radii[k], corner, quarter);
            edges_free(&e);
        }
    ns_conn_spec s = base_spec(NS_RULE_LATTICE);
    s.radius = -1;
    edges e;
    NS_CHECK(run_rule(ctx, &s, n, p, n, p, 1, 1, &e) == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx), "lattice radius = -1 µm is outside (0, inf)"),
             "%s", ns_ctx_errmsg(ctx));
    ns_geom_free(p);
    ns_geom_free(g);
    ns_ctx_free(ctx);
}

/* ---- distance-dependent probability ---- */

/* The pairs of a periodic grid in bins of distance: in each bin the connections made against
 * the sum of the kernel's p(d) over its pairs, a z-score with the binomial variance
 * sum p (1 - p); returns chi2 = sum z^2 over the bins (df = bins) for a kernel of `scale`. */
static double kernel_chi2(const edges *e, const ns_geom *g, int gauss, double p0, double scale, double cutoff,
                          int *bins_out, int *beyond)
{
    enum { BINS = 40 };
    const size_t n = g->n;
    ns_metric m;
    ns_geom_metric(NULL, g, "", g, "", &m);
    unsigned *c = pair_counts(e, n, n);
    double made[BINS] = {0}, want[BINS] = {0}, var[BINS] = {0};
    const double width = 4 * scale / BINS;
    *beyond = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (i == j) continue;
            double dx = g->pos[3 * i] - g->pos[3 * j], dy = g->pos[3 * i + 1] - g->pos[3 * j + 1];
            dx -= m.box[0] * round(dx / m.box[0]); /* the minimal image, recomputed */
            dy -= m.box[1] * round(dy / m.box[1]);
            double d = sqrt(dx * dx + dy * dy);
            if (cutoff > 0 && d > cutoff) {
                *beyond += (int)c[i * n + j];
                continue;
            }
            int b = (int)(d / width);
            if (b >= BINS) b = BINS - 1;
            double p = p0 * (gauss ? exp(-d * d / (2 * scale * scale)) : exp(-d / scale));
            made[b] += c[i * n + j];
            want[b] += p;
            var[b] += p * (1 - p);
        }
    double chi2 = 0;
    int bins = 0;
    for (int b = 0; b < BINS; b++)
        if (var[b] > 1) {
            chi2 += (made[b] - want[b]) * (made[b] - want[b]) / var[b];
            bins++;
        }
    free(c);
    *bins_out = bins;
    return chi2;
}

static void distance_kernels(void)
{
    ns_ctx *ctx = ns_ctx_create();
    ns_geom *g = ns_geom_grid(ctx, 40, 40, 10, 1);
    const size_t n = g->n;
    for (int gauss = 0; gauss <= 1; gauss++)
        for (int cut = 0; cut <= 1; cut++) {
            ns_conn_spec s = base_spec(NS_RULE_DISTANCE);
            s.kernel = gauss ? NS_KERNEL_GAUSSIAN : NS_KERNEL_EXPONENTIAL;
            s.p0 = 0.7;
            s.scale = gauss ? 40 : 25;
            s.cutoff = cut ? 60 : 0;
            s.autapses = 0;
            edges e;
            NS_CHECK(run_rule(ctx, &s, n, g, n, g, 1, 17, &e) == 0, "%s", ns_ctx_errmsg(ctx));
            int bins, beyond;
            double chi2 = kernel_chi2(&e, g, gauss, s.p0, s.scale, s.cutoff, &bins, &beyond);
            /* chi-square with `bins` degrees of freedom: its mean bins, sd sqrt(2 bins); 8 sd never flakes */
            const double limit = bins + 8 * sqrt(2.0 * bins);
            NS_CHECK(chi2 < limit, "%s kernel (cutoff %g): chi2 %.1f over %d bins, limit %.1f (%zu synapses)",
                     gauss ? "gaussian" : "exponential", s.cutoff, chi2, bins, limit, e.n);
            NS_CHECK(beyond == 0, "nothing beyond the cutoff (%d)", beyond);
            /* the test has the power to see a wrong scale: 10 % off is refused */
            int b2, x;
            double wrong = kernel_chi2(&e, g, gauss, s.p0, s.scale * 1.1, s.cutoff, &b2, &x);
            NS_CHECK(wrong > b2 + 8 * sqrt(2.0 * b2), "a scale 10%% off fails: chi2 %.1f over %d bins", wrong, b2);
            edges_free(&e);
        }
    /* between two populations: a grid onto positions (the distance straight, no wrap) */
    ns_geom *a = ns_geom_grid(ctx, 10, 10, 20, 0);
    double xyz[3 * 50];
    for (int k = 0; k < 50; k++) {
        xyz[3 * k] = 7.0 * k;
        xyz[3 * k + 1] = 100;
        xyz[3 * k + 2] = 30;
    }
    ns_geom *b = ns_geom_points(ctx, 50, xyz, 3);
    ns_conn_spec s = base_spec(NS_RULE_DISTANCE);
    s.kernel = NS_KERNEL_GAUSSIAN;
    s.p0 = 1;
    s.scale = 1e-3; /* p = 1 at d = 0 only: never here, the points are 30 µm above the plane */
    edges e;
    NS_CHECK(run_rule(ctx, &s, 100, a, 50, b, 0, 1, &e) == 0 && e.n == 0, "z counts in the distance: %zu", e.n);
    edges_free(&e);
    s.scale = 1e9; /* p = 1 everywhere */
    NS_CHECK(run_rule(ctx, &s, 100, a, 50, b, 0, 1, &e) == 0 && e.n == 5000, "p0 = 1, flat kernel: all pairs");
    edges_free(&e);
    s.p0 = 1.5;
    NS_CHECK(run_rule(ctx, &s, 100, a, 50, b, 0, 1, &e) == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx), "distance p0 = 1.5 is outside [0, 1]"), "%s", ns_ctx_errmsg(ctx));
    s.p0 = 1;
    s.scale = 0;
    NS_CHECK(run_rule(ctx, &s, 100, a, 50, b, 0, 1, &e) == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx), "distance sigma = 0 µm is outside (0, inf)"), "%s", ns_ctx_errmsg(ctx));
    s.scale = 10;
    NS_CHECK(run_rule(ctx, &s, 100, NULL, 50, b, 0, 1, &e) == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx), "rule distance needs a geometry (ring, grid or positions) on A"),
             "%s", ns_ctx_errmsg(ctx));
    ns_geom_free(a);
    ns_geom_free(b);
    ns_geom_free(g);
    ns_ctx_free(ctx);
}

/* ---- sites ---- */

/* A 10 x 10 field of 100 µm sites onto a 20 x 20 grid of 50 µm: each neuron exactly one input,
 * from the site it lies in (x / 100, y / 100 recomputed), each site 4 neurons; the other way
 * (sites = post) the same pairs reversed; positions outside a plain grid are refused, on a
 * periodic one they wrap. */
static void sites(void)
{
    ns_ctx *ctx = ns_ctx_create();
    ns_geom *f = ns_geom_grid(ctx, 10, 10, 100, 0), *nrn = ns_geom_grid(ctx, 20, 20, 50, 0);
    ns_conn_spec s = base_spec(NS_RULE_SITE);
    edges e;
    NS_CHECK(run_rule(ctx, &s, 100, f, 400, nrn, 0, 1, &e) == 0 && e.n == 400, "one synapse per neuron");
    int ok = 1, per_site[100] = {0};
    for (size_t k = 0; k < e.n; k++) {
        size_t j = e.post[k];
        size_t site = (size_t)(nrn->pos[3 * j + 1] / 100) * 10 + (size_t)(nrn->pos[3 * j] / 100);
        ok &= e.pre[k] == site && e.post[k] == k;
        per_site[e.pre[k]]++;
    }
    for (int k = 0; k < 100; k++) ok &= per_site[k] == 4;
    NS_CHECK(ok, "each neuron from its site, each site to 4 neurons");
    edges_free(&e);
    s.sites_post = 1;
    NS_CHECK(run_rule(ctx, &s, 400, nrn, 100, f, 0, 1, &e) == 0 && e.n == 400, "sites = post");
    ok = 1;
    for (size_t k = 0; k < e.n; k++)
        ok &= e.post[k] == (size_t)(nrn->pos[3 * e.pre[k] + 1] / 100) * 10 + (size_t)(nrn->pos[3 * e.pre[k]] / 100);
    NS_CHECK(ok, "each neuron to its site");
    edges_free(&e);
    double xyz[6] = {150, 950, 1000, 20, -5, 30};
    ns_geom *pts = ns_geom_points(ctx, 3, xyz, 2);
    s.sites_post = 0;
    NS_CHECK(run_rule(ctx, &s, 100, f, 3, pts, 0, 1, &e) == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx), "rule site: unit 1 of B at (1000, 20) µm lies outside the grid A, [0, 1000) x [0, 1000) µm"),
             "%s", ns_ctx_errmsg(ctx));
    ns_geom *fp = ns_geom_grid(ctx, 10, 10, 100, 1);
    NS_CHECK(run_rule(ctx, &s, 100, fp, 3, pts, 0, 1, &e) == 0 && e.n == 3 && e.pre[0] == 91 && e.pre[1] == 0 &&
                 e.pre[2] == 9,
             "a periodic grid wraps the points: sites %u %u %u", e.n ? e.pre[0] : 0, e.n > 1 ? e.pre[1] : 0,
             e.n > 2 ? e.pre[2] : 0);
    edges_free(&e);
    NS_CHECK(run_rule(ctx, &s, 3, pts, 100, f, 0, 1, &e) == NS_EINVAL &&
                 strstr(ns_ctx_errmsg(ctx), "rule site needs a grid of sites: A is a positions"),
             "%s", ns_ctx_errmsg(ctx));
    ns_geom_free(pts);
    ns_geom_free(fp);
    ns_geom_free(f);
    ns_geom_free(nrn);
    ns_ctx_free(ctx);
}

/* ---- through the network ---- */

/* A grid with distance-dependent recurrence, a ring, the count rules between them, driven by
 * Poisson input: the synapse count is the rules' own count, positions.csv holds every unit's
 * place, and spikes.csv is byte-identical for 1 and 2 threads. */
static void network_threads(void)
{
    char *ref = NULL;
    size_t ref_len = 0, ref_syn = 0;
    for (int threads = 1; threads <= 2; threads++) {
        ns_ctx *ctx = test_ctx(23, threads);
        ns_net *net = ns_net_create(ctx, 0.1);
        ns_pop *E = ns_net_add_population(net, "lif", 400, "E");
        ns_pop *R = ns_net_add_population(net, "lif", 60, "R");
        NS_CHECK(ns_pop_set_geometry(net, E, ns_geom_grid(ctx, 20, 20, 50, 1)) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_pop_set_geometry(net, R, ns_geom_ring(ctx, 60, 5)) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_pop_set_geometry(net, R, ns_geom_ring(ctx, 60, 5)) == NS_EINVAL &&
                     !strcmp(ns_ctx_errmsg(ctx), "population R has a geometry already"), "%s", ns_ctx_errmsg(ctx));
        ns_conn_spec s = base_spec(NS_RULE_DISTANCE);
        s.p0 = 0.6;
        s.scale = 80;
        s.weight = (ns_dist){.kind = NS_DIST_UNIFORM, .a = 20, .b = 60};
        s.delay = (ns_dist){.kind = NS_DIST_UNIFORM, .a = 0.5, .b = 2.0};
        NS_CHECK(ns_net_connect(net, E, E, &s) == 0, "%s", ns_ctx_errmsg(ctx));
        ns_conn_spec l = base_spec(NS_RULE_LATTICE);
        l.neighbours = 2;
        l.weight.a = 300;
        NS_CHECK(ns_net_connect(net, R, R, &l) == 0, "%s", ns_ctx_errmsg(ctx));
        ns_conn_spec t = base_spec(NS_RULE_FIXED_TOTAL);
        t.N = 3000;
        t.weight.a = -40;
        NS_CHECK(ns_net_connect(net, R, E, &t) == 0, "%s", ns_ctx_errmsg(ctx));
        ns_conn_spec d = base_spec(NS_RULE_FIXED_INDEGREE);
        d.K = 30;
        d.unique = 1;
        d.weight.a = 50;
        NS_CHECK(ns_net_connect(net, E, R, &d) == 0, "%s", ns_ctx_errmsg(ctx));
        /* the same rules run here alone: the network made what they emit */
        edges e = {0};
        ns_rule_job job = {&s, 400, 400, ns_pop_geometry(E), ns_pop_geometry(E), "E", "E", 1, 23, 0}; /* projection 0 */
        ns_rules_run(ctx, &job, collect, &e);
        size_t want = e.n;
        edges_free(&e);
        want += 120 + 3000 + 60 * 30;
        NS_CHECK(ns_net_n_synapses(net) == want, "synapses %zu, want %zu", ns_net_n_synapses(net), want);
        NS_CHECK(ns_net_add_poisson(net, E, 10000, 40, 0, HUGE_VAL) == 0, "%s", ns_ctx_errmsg(ctx));
        ns_pop *both[] = {E, R};
        NS_CHECK(ns_net_record_spikes(net, both, 2, "spikes.csv") == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_run(net, 200) == 0, "%s", ns_ctx_errmsg(ctx));
        size_t len, plen;
        char *got = test_slurp(ctx, "spikes.csv", &len), *pos = test_slurp(ctx, "positions.csv", &plen);
        if (threads == 1) {
            /* positions.csv: the header, then every unit's id and place */
            int lines = 0, ok = pos && !strncmp(pos, "neuron,x_um,y_um,z_um\n", 22);
            for (char *p = pos ? strchr(pos, '\n') + 1 : NULL; p && *p; p = strchr(p, '\n') + 1, lines++) {
                long id;
                double x, y, z;
                ok &= sscanf(p, "%ld,%lf,%lf,%lf", &id, &x, &y, &z) == 4 && id == lines;
                const ns_geom *g = id < 400 ? ns_pop_geometry(E) : ns_pop_geometry(R);
                size_t k = (size_t)id - (id < 400 ? 0 : 400);
                ok &= fabs(x - g->pos[3 * k]) < 1e-9 * (1 + fabs(x)) && fabs(y - g->pos[3 * k + 1]) < 1e-9 * (1 + fabs(y));
            }
            NS_CHECK(ok && lines == 460, "positions.csv holds the 460 units' places (%d lines)", lines);
            ref = got;
            ref_len = len;
            ref_syn = ns_net_n_synapses(net);
            NS_CHECK(len > 5000, "the network fires (%zu bytes of spikes)", len);
        } else {
            NS_CHECK(got && len == ref_len && !memcmp(got, ref, len) && ns_net_n_synapses(net) == ref_syn,
                     "spikes.csv with 2 threads is byte-identical to 1 thread");
            free(got);
        }
        free(pos);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    free(ref);
}

/* Refusals through ns_net_connect and ns_pop_set_geometry. */
static void net_refusals(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *A = ns_net_add_population(net, "lif", 12, "A");
    ns_pop *B = ns_net_add_population(net, "lif", 12, "B");
    NS_CHECK(ns_pop_set_geometry(net, A, ns_geom_grid(ctx, 4, 4, 1, 0)) == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx), "a grid of 16 units for population A of 12"), "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_geometry(A) == NULL, "a refused geometry is not kept");
    ns_conn_spec s = base_spec(NS_RULE_LATTICE);
    s.neighbours = 4;
    NS_CHECK(ns_net_connect(net, A, B, &s) == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx), "rule lattice needs a geometry (ring, grid or positions) on A"),
             "%s", ns_ctx_errmsg(ctx));
    ns_conn_spec t = base_spec(NS_RULE_FIXED_TOTAL);
    t.N = -1;
    NS_CHECK(ns_net_connect(net, A, B, &t) == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx), "fixed_total N = -1 synapses is outside [0, 4294967295]"),
             "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_n_synapses(net) == 0, "nothing made");
    ns_net_free(net);
    test_ctx_free(ctx);
}

int main(void)
{
    geometries();
    positions_files();
    degrees_unique();
    fixed_total();
    lattice_neighbours();
    lattice_radius();
    distance_kernels();
    sites();
    network_threads();
    net_refusals();
    NS_TEST_MAIN_END();
}
