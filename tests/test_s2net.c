/* tests/test_s2net.c — the S2-Net phase unit against its equations: the bottom-up phasor against
 * a direct sum over the window (and a regular train's closed form), the delayed coupling and the
 * global term against a step-by-step recomputation, 1 and 2 threads alike; and P2 (three shapes
 * bound by phase, FG-ARI computed here) through the nsim.s2net builder. */
#include <complex.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/phase.h"
#include "tests/harness.h"
#include "tests/testlib.h"

enum { NU = 3, STEPS = 260, KWIN = 64 };
static const double dt = 0.5;

typedef struct {
    double Omega, tau_w, kappa, kappa_g, eta;
    int K;
} prm;

typedef struct {
    uint32_t pre, post;
    double w;
    int d; /* steps */
} edge;

/* Unit u's spike times (ms): a regular train of period 20 steps, an irregular one, none. */
static size_t spike_times(int u, double *t)
{
    size_t n = 0;
    if (u == 0)
        for (int s = 3; s < STEPS; s += 20) t[n++] = (s + 1) * dt; /* emitted in step s */
    if (u == 1) {
        static const int s1[] = {1, 9, 10, 40, 77, 78, 79, 150, 151, 200, 233};
        for (size_t k = 0; k < sizeof s1 / sizeof s1[0]; k++) t[n++] = (s1[k] + 1) * dt;
    }
    if (u == 2) { /* a late starter */
        for (int s = 120; s < STEPS; s += 13) t[n++] = (s + 1) * dt;
    }
    return n;
}

/* The recomputation: spike of step s arrives (delay dt) in step s + 1. Per step s: y_i = sum_k<K
 * q^k b_i(s - k) e^{i Omega k dt}, directly; a_i, theta_s_i = arg y + Omega dt; then theta_i(s) from
 * theta_i(s - 1) by Euler with the delayed coupling of the outputs a_j sin/cos theta_j of step
 * s - d, the global sums of step s - 1 and the pull. */
static void reference(const prm *p, const edge *e, int ne, double th0[NU], double th[STEPS][NU], double ts[STEPS][NU],
                      double amp[STEPS][NU])
{
    static int b[STEPS][NU];
    memset(b, 0, sizeof b);
    for (int u = 0; u < NU; u++) {
        double t[STEPS];
        size_t n = spike_times(u, t);
        for (size_t k = 0; k < n; k++) {
            int s = (int)lround(t[k] / dt) - 1 + 1;
            if (s < STEPS) b[s][u] = 1;
        }
    }
    const double q = exp(-dt / p->tau_w);
    double norm = 0.0;
    for (int k = 0; k < p->K; k++) norm += pow(q, k);
    double prev[NU];
    for (int u = 0; u < NU; u++) prev[u] = th0[u];
    double prev_a[NU] = {0};
    for (int s = 0; s < STEPS; s++) {
        double Sg = 0, Cg = 0, Na = 0;
        for (int j = 0; j < NU; j++) {
            Sg += prev_a[j] * sin(prev[j]);
            Cg += prev_a[j] * cos(prev[j]);
            Na += prev_a[j];
        }
        for (int i = 0; i < NU; i++) {
            double complex y = 0;
            for (int k = 0; k < p->K && k <= s; k++)
                if (b[s - k][i]) y += pow(q, k) * cexp(I * p->Omega * k * dt);
            amp[s][i] = cabs(y) / norm;
            const double phs = carg(y) + p->Omega * dt;
            ts[s][i] = cabs(y) > 1e-9 ? ns_phase_wrap(phs) : (s ? ts[s - 1][i] : 0.0);
            double d = p->Omega;
            for (int k = 0; k < ne; k++)
                if ((int)e[k].post == i && s - e[k].d >= 0) {
                    const int j = (int)e[k].pre, sd = s - e[k].d;
                    d += p->kappa * e[k].w * amp[sd][j] * sin(th[sd][j] - prev[i]);
                }
            if (Na > 0) {
                double gs = 0;
                for (int j = 0; j < NU; j++) gs += prev_a[j] * sin(prev[j] - prev[i]);
                d -= p->kappa_g / Na * gs;
            }
            if (cabs(y) > 1e-9) d += p->eta * sin(phs - prev[i]);
            th[s][i] = ns_phase_wrap(prev[i] + dt * d);
        }
        for (int i = 0; i < NU; i++) prev[i] = th[s][i], prev_a[i] = amp[s][i];
    }
}

/* Distance on the circle. */
static double cdist(double a, double b)
{
    double d = fabs(ns_phase_wrap(a - b));
    return d > M_PI ? NS_TWO_PI - d : d;
}

/* The engine: spike sources into s2net_phase one to one, the edges as a graded projection. */
static void engine(const prm *p, const edge *e, int ne, double th0[NU], int threads, double th[STEPS][NU],
                   double ts[STEPS][NU], double amp[STEPS][NU])
{
    ns_ctx *ctx = test_ctx(3, threads);
    ns_net *net = ns_net_create(ctx, dt);
    double times[3 * STEPS];
    size_t off[NU + 1] = {0};
    for (int u = 0; u < NU; u++) off[u + 1] = off[u] + spike_times(u, times + off[u]);
    ns_pop *src = ns_net_add_spike_source(net, NU, off, times, "src");
    ns_pop *ph = ns_net_add_population(net, "s2net_phase", NU, "phase");
    NS_CHECK(src && ph, "populations: %s", ns_ctx_errmsg(ctx));
    const char *names[] = {"Omega", "tau_w", "K", "kappa", "kappa_g", "eta", "in_delay"};
    double vals[] = {p->Omega, p->tau_w, p->K, p->kappa, p->kappa_g, p->eta, dt};
    NS_CHECK(ns_pop_set_params(net, ph, names, vals, 7) == 0, "params: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_set_state_array(net, ph, "theta", th0) == 0, "theta: %s", ns_ctx_errmsg(ctx));
    ns_conn_spec one = {.rule = NS_RULE_ONE_TO_ONE, .weight = {NS_DIST_CONST, 1, 0}, .delay = {NS_DIST_CONST, dt, 0}};
    NS_CHECK(ns_net_connect(net, src, ph, &one) == 0, "one to one: %s", ns_ctx_errmsg(ctx));
    if (ne) {
        uint32_t pre[16], post[16];
        double w[16], d[16];
        for (int k = 0; k < ne; k++) pre[k] = e[k].pre, post[k] = e[k].post, w[k] = e[k].w, d[k] = e[k].d * dt;
        ns_graded_spec gs = {.delay_ms = dt, .n_edges = (size_t)ne, .pre = pre, .post = post, .weights = w, .delays = d};
        NS_CHECK(ns_net_connect_graded_spec(net, ph, ph, &gs) == 0, "edges: %s", ns_ctx_errmsg(ctx));
    }
    for (int s = 0; s < STEPS; s++) {
        NS_CHECK(ns_net_run(net, dt) == 0, "run: %s", ns_ctx_errmsg(ctx));
        for (int i = 0; i < NU; i++) {
            th[s][i] = ns_pop_get_state(ph, "theta", (size_t)i);
            ts[s][i] = ns_pop_get_state(ph, "theta_s", (size_t)i);
            amp[s][i] = ns_pop_get_state(ph, "a", (size_t)i);
        }
    }
    ns_net_free(net);
    test_ctx_free(ctx);
}

static double th_r[STEPS][NU], ts_r[STEPS][NU], a_r[STEPS][NU], th_e[2][STEPS][NU], ts_e[2][STEPS][NU],
    a_e[2][STEPS][NU];

/* One configuration, against the recomputation at every step, 1 and 2 threads identical. */
static void against_reference(const char *what, const prm *p, const edge *e, int ne)
{
    double th0[NU] = {0.3, 2.0, 4.5};
    reference(p, e, ne, th0, th_r, ts_r, a_r);
    for (int t = 0; t < 2; t++) engine(p, e, ne, th0, t + 1, th_e[t], ts_e[t], a_e[t]);
    double eth = 0, ets = 0, ea = 0;
    int empty = 0, not_zero = 0;
    for (int s = 0; s < STEPS; s++)
        for (int i = 0; i < NU; i++) {
            if (a_r[s][i] == 0.0) empty++, not_zero += a_e[0][s][i] != 0.0; /* no spike in the window */
            eth = fmax(eth, cdist(th_e[0][s][i], th_r[s][i]));
            if (a_r[s][i] > 1e-6) ets = fmax(ets, cdist(ts_e[0][s][i], ts_r[s][i]));
            ea = fmax(ea, fabs(a_e[0][s][i] - a_r[s][i]));
        }
    NS_CHECK(eth < 1e-9, "%s: theta differs from the recomputation by %g rad", what, eth);
    NS_CHECK(ets < 1e-9, "%s: theta_s differs from the direct sum by %g rad", what, ets);
    NS_CHECK(ea < 1e-12, "%s: a differs from the direct sum by %g", what, ea);
    NS_CHECK(empty > 0 && not_zero == 0, "%s: a is exactly 0 with no spike in the window (%d of %d steps not)", what,
             not_zero, empty);
    NS_CHECK(!memcmp(th_e[0], th_e[1], sizeof th_e[0]) && !memcmp(a_e[0], a_e[1], sizeof a_e[0]),
             "%s: 1 and 2 threads differ", what);
}

/* The phasor alone (no coupling) against the direct sum, and a regular train's closed forms:
 * theta_s = Omega (t - t_last spike), and with no decay and K a multiple of the period P (steps)
 * a = 1/P exactly once the window is full (one spike per period: a = Omega dt / 2 pi, not 1). */
static void phasor(void)
{
    prm p = {.Omega = NS_TWO_PI / (20 * dt), .tau_w = 15.0, .K = KWIN};
    against_reference("phasor with decay", &p, NULL, 0);
    p.tau_w = 1e300;
    p.K = 60; /* 3 periods of 20 steps */
    against_reference("phasor without decay", &p, NULL, 0);
    double worst_a = 0, worst_t = 0;
    for (int s = 3 + 1 + 60; s < STEPS; s++) { /* unit 0: spikes emitted in steps 3, 23, ...; window full */
        worst_a = fmax(worst_a, fabs(a_e[0][s][0] - 1.0 / 20.0));
        const int last = s - 1 - ((s - 1 - 3) % 20); /* the last emission step before arrival in s */
        const double t = (s + 1) * dt, t_sp = (last + 1) * dt;
        worst_t = fmax(worst_t, cdist(ts_e[0][s][0], p.Omega * (t - t_sp)));
    }
    NS_CHECK(worst_a < 1e-12, "regular train: a is 1/P = %g within %g", 1.0 / 20.0, worst_a);
    NS_CHECK(worst_t < 1e-9, "regular train: theta_s = Omega (t - t_spike) within %g rad", worst_t);
}

/* The delayed coupling and the global term, alone and together with the pull. */
static void coupling(void)
{
    static const edge E[] = {{0, 1, 0.7, 1}, {1, 0, 1.3, 4}, {2, 0, 0.5, 2}, {0, 2, 1.0, 7}, {1, 2, 0.25, 3}};
    prm p = {.Omega = 0.3, .tau_w = 20.0, .K = KWIN, .kappa = 4.0};
    against_reference("delayed coupling", &p, E, 5);
    p.kappa = 0, p.kappa_g = 0.3;
    against_reference("global desynchroniser", &p, NULL, 0);
    p.kappa = 2.5, p.eta = 0.2;
    against_reference("coupling, global term and pull", &p, E, 5);
}

/* A closed form of the coupling: two units whose phases are held by their pull (eta large would
 * be needed); instead one Euler step from known phases with a known delayed partner: unit 1's
 * first coupled step gains dt kappa w a_0 sin(theta_0 - theta_1) exactly. */
static void one_step_closed_form(void)
{
    static const edge E[] = {{0, 1, 0.7, 1}};
    prm p = {.Omega = 0.3, .tau_w = 20.0, .K = KWIN, .kappa = 4.0};
    double th0[NU] = {0.3, 2.0, 4.5};
    engine(&p, E, 1, th0, 1, th_e[0], ts_e[0], a_e[0]);
    /* unit 0 first has a > 0 in step 4 (emitted in 3, arrives in 4); its output reaches unit 1 in 5 */
    const double want = ns_phase_wrap(th_e[0][4][1] + dt * (p.Omega + p.kappa * 0.7 * a_e[0][4][0] *
                                                                          sin(th_e[0][4][0] - th_e[0][4][1])));
    NS_CHECK(cdist(th_e[0][5][1], want) < 1e-12, "first coupled step: %.17g, want %.17g", th_e[0][5][1], want);
    NS_CHECK(cdist(th_e[0][4][1], ns_phase_wrap(2.0 + 5 * dt * p.Omega)) < 1e-12,
             "before the coupling arrives unit 1 runs at Omega: %.17g", th_e[0][4][1]);
}

/* ---- P2: three shapes, FG-ARI ---- */

enum { IW = 32, IH = 32, NPIX = IW * IH, NOBJ = 3 };

/* Three non-touching shapes of comparable area (a square, a disc, a triangle) and their labels,
 * grey 1 (objects) and 0 (background) plus uniform noise of +-0.025 from the seed. */
static void shapes(unsigned seed, double *img, int *lab)
{
    uint64_t r = 0x9e3779b97f4a7c15ull * (seed + 1);
    for (int y = 0; y < IH; y++)
        for (int x = 0; x < IW; x++) {
            int l = 0;
            if (x >= 3 && x < 11 && y >= 3 && y < 11) l = 1;
            if ((x - 22.5) * (x - 22.5) + (y - 8.5) * (y - 8.5) <= 4.6 * 4.6) l = 2;
            if (y >= 18 && y < 29 && fabs(x - 12.0) <= (y - 18) * 0.55 + 0.5) l = 3;
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            lab[y * IW + x] = l;
            img[y * IW + x] = (l ? 1.0 : 0.0) + 0.05 * ((double)(r >> 11) / 9007199254740992.0 - 0.5);
        }
}

/* Adjusted Rand index of two labelings of n items (labels in [0, 8)). */
static double ari(const int *a, const int *b, int n)
{
    double nij[8][8] = {{0}}, ai[8] = {0}, bj[8] = {0};
    for (int k = 0; k < n; k++) nij[a[k]][b[k]]++, ai[a[k]]++, bj[b[k]]++;
    double s = 0, sa = 0, sb = 0;
    for (int i = 0; i < 8; i++) {
        sa += ai[i] * (ai[i] - 1) / 2, sb += bj[i] * (bj[i] - 1) / 2;
        for (int j = 0; j < 8; j++) s += nij[i][j] * (nij[i][j] - 1) / 2;
    }
    const double e = sa * sb / (n * (n - 1.0) / 2), m = (sa + sb) / 2;
    return (s - e) / (m - e);
}

/* k-means of unit vectors (cos, sin) into k clusters, the best of 12 starts spread round the circle. */
static void kmeans(const double *th, int n, int k, int *out)
{
    double best = HUGE_VAL;
    int *lab = malloc((size_t)n * sizeof *lab);
    for (int start = 0; start < 12; start++) {
        double cx[8], cy[8];
        for (int j = 0; j < k; j++) {
            const double ang = NS_TWO_PI * (j / (double)k + start / 36.0);
            cx[j] = cos(ang), cy[j] = sin(ang);
        }
        for (int it = 0; it < 60; it++) {
            for (int i = 0; i < n; i++) {
                double bd = HUGE_VAL;
                for (int j = 0; j < k; j++) {
                    const double d = pow(cos(th[i]) - cx[j], 2) + pow(sin(th[i]) - cy[j], 2);
                    if (d < bd) bd = d, lab[i] = j;
                }
            }
            for (int j = 0; j < k; j++) {
                double sx = 0, sy = 0, m = 0;
                for (int i = 0; i < n; i++)
                    if (lab[i] == j) sx += cos(th[i]), sy += sin(th[i]), m++;
                if (m > 0) cx[j] = sx / m, cy[j] = sy / m;
            }
        }
        double in = 0;
        for (int i = 0; i < n; i++) in += pow(cos(th[i]) - cx[lab[i]], 2) + pow(sin(th[i]) - cy[lab[i]], 2);
        if (in < best - 1e-12) {
            best = in;
            memcpy(out, lab, (size_t)n * sizeof *lab);
        }
    }
    free(lab);
}

/* Run the P2 script; fills theta (NPIX values) from its theta.csv. 0, or -1. */
static int run_p2(const char *dir, unsigned seed, int coupled, int threads, double *theta, char *raw, size_t rawlen)
{
    const char *nsim = getenv("NSIM"), *root = getenv("NSIM_SOURCE_ROOT");
    if (!nsim || !root) return -1;
    char cmd[4096], path[1024];
    snprintf(cmd, sizeof cmd,
             "S2NET_IMAGE=%s/image%u.lua %s run %s/tests/lua/s2net_p2.lua --set coupled=%d --seed %u --threads %d "
             "--out %s/run%u_%d_%d --quiet >/dev/null 2>%s/err.txt",
             dir, seed, nsim, root, coupled, seed, threads, dir, seed, coupled, threads, dir);
    if (system(cmd) != 0) {
        snprintf(path, sizeof path, "%s/err.txt", dir);
        FILE *fe = fopen(path, "r");
        char line[512] = "";
        if (fe && fgets(line, sizeof line, fe)) printf("p2 run: %s", line);
        if (fe) fclose(fe);
        return -1;
    }
    snprintf(path, sizeof path, "%s/run%u_%d_%d/theta.csv", dir, seed, coupled, threads);
    FILE *fp = fopen(path, "r");
    if (!fp) return -1;
    size_t got = fread(raw, 1, rawlen - 1, fp);
    raw[got] = '\0';
    fclose(fp);
    char *line = strchr(raw, '\n');
    int n = 0;
    while (line && n < NPIX) {
        int u;
        double t, a;
        if (sscanf(line + 1, "%d,%lf,%lf", &u, &t, &a) != 3 || u != n) break;
        theta[n++] = t;
        line = strchr(line + 1, '\n');
    }
    return n == NPIX ? 0 : -1;
}

static void p2(void)
{
    char dir[512];
    ns_test_tmpdir(dir, sizeof dir, "nsim-s2net");
    static double img[NPIX], theta[NPIX], fg[NPIX];
    static int lab[NPIX], truth[NPIX], got[NPIX];
    static char raw[2][1 << 17];
    for (unsigned seed = 1; seed <= 5; seed++) {
        shapes(seed, img, lab);
        char path[1024];
        snprintf(path, sizeof path, "%s/image%u.lua", dir, seed);
        FILE *fp = fopen(path, "w");
        fprintf(fp, "width, height = %d, %d\nimg = {", IW, IH);
        for (int k = 0; k < NPIX; k++) fprintf(fp, "%.17g,", img[k]);
        fprintf(fp, "}\n");
        fclose(fp);
        int area[NOBJ + 1] = {0};
        for (int k = 0; k < NPIX; k++) area[lab[k]]++;
        NS_CHECK(area[1] * 1.5 >= area[3] && area[3] * 1.5 >= area[1] && area[2] * 1.5 >= area[3] &&
                     area[3] * 1.5 >= area[2], "areas %d %d %d within a factor 1.5", area[1], area[2], area[3]);
        for (int coupled = 1; coupled >= 0; coupled--) {
            int ok = run_p2(dir, seed, coupled, 1, theta, raw[0], sizeof raw[0]) == 0;
            NS_CHECK(ok, "seed %u coupled %d: the run and its theta.csv", seed, coupled);
            if (!ok) continue;
            int n = 0;
            for (int k = 0; k < NPIX; k++)
                if (lab[k]) fg[n] = theta[k], truth[n++] = lab[k] - 1;
            kmeans(fg, n, NOBJ, got);
            const double v = ari(got, truth, n);
            if (coupled) NS_CHECK(v > 0.9, "seed %u coupled: FG-ARI %.3f > 0.9", seed, v);
            else NS_CHECK(v < 0.2, "seed %u uncoupled: FG-ARI %.3f < 0.2", seed, v);
            printf("P2 seed %u %s: FG-ARI %.3f\n", seed, coupled ? "coupled" : "uncoupled", v);
            if (seed <= 2) {
                ok = run_p2(dir, seed, coupled, 2, theta, raw[1], sizeof raw[1]) == 0;
                NS_CHECK(ok && !strcmp(raw[0], raw[1]), "seed %u coupled %d: 1 and 2 threads give identical phases",
                         seed, coupled);
            }
        }
    }
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("could not remove %s\n", dir);
}

int main(void)
{
    phasor();
    coupling();
    one_step_closed_form();
    p2();
    NS_TEST_MAIN_END();
}
