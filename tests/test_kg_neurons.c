/* tests/test_kg_neurons.c — fields and neurons in one network (MODELS.md §8(e)): spikes onto a
 * kg_field by rule site add their weight to s at the neuron's site for one step, against the
 * leapfrog update by hand; phi projected by rule site is a current into the neurons on each site,
 * against lif's exact recurrence; the refusals; 1 vs 2 threads. And the energy record (record_sum). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/geometry.h"
#include "tests/testlib.h"

enum { NX = 6, NY = 5, N = NX * NY };
static const double H = 100, C = 50, M = 0.3, DT = 0.1;

static ns_pop *field(ns_ctx *ctx, ns_net *net, double c, double m, int grid)
{
    ns_pop *K = ns_net_add_population(net, "kg_field", N, "K");
    const char *names[] = {"nx", "ny", "h", "c", "m", "gamma"};
    const double values[] = {NX, NY, H, c, m, 0};
    NS_CHECK(K && ns_pop_set_params(net, K, names, values, 6) == 0, "kg_field made: %s", ns_ctx_errmsg(ctx));
    if (grid) NS_CHECK(ns_pop_set_geometry(net, K, ns_geom_grid(ctx, NX, NY, H, 0)) == 0, "%s", ns_ctx_errmsg(ctx));
    return K;
}

/* The site rule's spec: sites on the target (spikes onto a field) or the source (phi onto neurons). */
static ns_conn_spec site_spec(int sites_post, double w, double delay)
{
    return (ns_conn_spec){.rule = NS_RULE_SITE, .sites_post = sites_post, .weight = {NS_DIST_CONST, w, 0},
                          .delay = {NS_DIST_CONST, delay, 0}, .autapses = 1};
}

/* One spike at t_s from a source at (x, y) = site (2, 3)'s cell, weight w, delay d: phi is 0
 * until the step it arrives in, then dt^2 w at the site alone, then the free leapfrog step of
 * that: 2 phi1 + dt^2 (c^2 Lap phi1 - m^2 phi1), its neighbours dt^2 c^2/h^2 phi1. */
static void spike_source_term(void)
{
    ns_ctx *ctx = test_ctx(3, 1);
    ns_net *net = ns_net_create(ctx, DT);
    ns_pop *K = field(ctx, net, C, M, 1);
    const size_t off[] = {0, 1};
    const double ts[] = {0.5}, xy[] = {2.7 * H, 3.2 * H};
    ns_pop *S = ns_net_add_spike_source(net, 1, off, ts, "S");
    NS_CHECK(S && ns_pop_set_geometry(net, S, ns_geom_points(ctx, 1, xy, 2)) == 0, "%s", ns_ctx_errmsg(ctx));
    const double w = 3.0, d = 0.3;
    ns_conn_spec s = site_spec(1, w, d);
    NS_CHECK(ns_net_connect(net, S, K, &s) == 0, "spikes onto a field by rule site: %s", ns_ctx_errmsg(ctx));
    const size_t site = 3 * NX + 2, east = site + 1;
    /* the spike is stamped in the step ending at 0.5 ms and arrives 3 steps later: in the step ending at 0.8 */
    NS_CHECK(ns_net_run(net, 0.7) == 0, "%s", ns_ctx_errmsg(ctx));
    double before = 0;
    for (size_t i = 0; i < N; i++) before += fabs(ns_pop_get_state(K, "phi", i));
    NS_CHECK(ns_net_run(net, 0.1) == 0, "%s", ns_ctx_errmsg(ctx));
    const double p1 = ns_pop_get_state(K, "phi", site), want1 = DT * DT * w;
    double others = 0;
    for (size_t i = 0; i < N; i++)
        if (i != site) others += fabs(ns_pop_get_state(K, "phi", i));
    NS_CHECK(before == 0 && fabs(p1 - want1) <= 1e-15 && others == 0,
             "a spike at 0.5 ms with delay 0.3 ms: phi stays 0 to 0.7 ms (sum |phi| %g), then at 0.8 ms phi = dt^2 w "
             "= %.17g at its site (got %.17g) and 0 elsewhere (%g)", before, want1, p1, others);
    NS_CHECK(ns_net_run(net, 0.1) == 0, "%s", ns_ctx_errmsg(ctx));
    const double lap = -4 * p1 / (H * H);
    const double want2 = 2 * p1 + DT * DT * (C * C * lap - M * M * p1), want_e = DT * DT * C * C * p1 / (H * H);
    const double p2 = ns_pop_get_state(K, "phi", site), pe = ns_pop_get_state(K, "phi", east);
    NS_CHECK(fabs(p2 - want2) <= 1e-15 * fabs(want2) + 1e-18 && fabs(pe - want_e) <= 1e-15 * want_e,
             "the next step is leapfrog's free step (s acted for one step only): site %.17g (want %.17g), its east "
             "neighbour %.17g (want %.17g); with s held it would be %.6g", p2, want2, pe, want_e, want2 + want1);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* c = 0, m = 0: every site keeps its phi (phi_prev = phi), a different value per site. Neurons
 * placed in some sites get w phi(site) as a current from step D = delay/dt on:
 * V_n - E_L = w phi P20 (1 - P22^(n - D)) / (1 - P22), P22 = e^(-dt/tau_m), P20 = tau_m/C_m (1 - P22). */
static double current_from_field(int threads, double *vout)
{
    ns_ctx *ctx = test_ctx(5, threads);
    ns_net *net = ns_net_create(ctx, DT);
    ns_pop *K = field(ctx, net, 0, 0, 1);
    double phi[N];
    for (int i = 0; i < N; i++) phi[i] = 0.1 + 0.05 * i;
    NS_CHECK(ns_pop_set_state_array(net, K, "phi", phi) == 0 && ns_pop_set_state_array(net, K, "phi_prev", phi) == 0,
             "%s", ns_ctx_errmsg(ctx));
    enum { NN = 4 };
    const double xy[2 * NN] = {0.5 * H, 0.5 * H, 4.9 * H, 1.1 * H, 3.0 * H, 4.99 * H, 4.2 * H, 1.8 * H};
    const size_t at[NN] = {0, 1 * NX + 4, 4 * NX + 3, 1 * NX + 4}; /* the sites they lie in */
    ns_pop *L = ns_net_add_population(net, "lif", NN, "L");
    NS_CHECK(L && ns_pop_set_geometry(net, L, ns_geom_points(ctx, NN, xy, 2)) == 0, "%s", ns_ctx_errmsg(ctx));
    const double w = 40.0, d = 0.5; /* pA per field unit; 5 steps */
    const ns_conn_spec rs = site_spec(0, w, 0);
    ns_graded_spec gs = {.delay_ms = d, .rule = &rs};
    NS_CHECK(ns_net_connect_graded_spec(net, K, L, &gs) == 0, "phi onto neurons by rule site: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_n_synapses(net) == NN, "one edge per neuron (%zu)", ns_net_n_synapses(net));
    const int steps = 40, D = 5;
    NS_CHECK(ns_net_run(net, steps * DT) == 0, "%s", ns_ctx_errmsg(ctx));
    const double tau = 10, Cm = 250, EL = -70, P22 = exp(-DT / tau), P20 = -tau / Cm * expm1(-DT / tau);
    double err = 0;
    for (int k = 0; k < NN; k++) {
        const double want = EL + w * phi[at[k]] * P20 * (1 - pow(P22, steps - D)) / (1 - P22);
        vout[k] = ns_pop_get_state(L, "V_m", (size_t)k);
        err = fmax(err, fabs(vout[k] - want));
    }
    ns_net_free(net);
    test_ctx_free(ctx);
    return err;
}

/* A driven field and lif neurons on a finer grid, both ways: every state the same for 1 and 2 threads. */
static void both_ways(int threads, double *out, int64_t *spikes)
{
    ns_ctx *ctx = test_ctx(7, threads);
    ns_net *net = ns_net_create(ctx, DT);
    ns_pop *K = field(ctx, net, C, M, 1);
    ns_pop *L = ns_net_add_population(net, "lif", 4 * N, "L");
    NS_CHECK(L && ns_pop_set_geometry(net, L, ns_geom_grid(ctx, 2 * NX, 2 * NY, H / 2, 0)) == 0, "%s",
             ns_ctx_errmsg(ctx));
    double t[] = {0.0, 3.0}, a[] = {2000.0, 0.0};
    NS_CHECK(ns_net_add_current(net, L, 2, t, a) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_conn_spec s = site_spec(1, 2.0, 0.2);
    NS_CHECK(ns_net_connect(net, L, K, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    const ns_conn_spec rs = site_spec(0, 300.0, 0);
    ns_graded_spec gs = {.delay_ms = 0.3, .rule = &rs};
    NS_CHECK(ns_net_connect_graded_spec(net, K, L, &gs) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 30.0) == 0, "%s", ns_ctx_errmsg(ctx));
    for (size_t i = 0; i < N; i++) out[i] = ns_pop_get_state(K, "phi", i);
    for (size_t i = 0; i < 4 * N; i++) out[N + i] = ns_pop_get_state(L, "V_m", i);
    *spikes = ns_pop_n_spikes(L);
    ns_net_free(net);
    test_ctx_free(ctx);
}

static void refusals(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, DT);
    ns_pop *K = field(ctx, net, C, M, 0);
    const double xy[] = {50, 50, 50 + NX * H, 50};
    ns_pop *L = ns_net_add_population(net, "lif", 2, "L");
    NS_CHECK(L && ns_pop_set_geometry(net, L, ns_geom_points(ctx, 2, xy, 2)) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_conn_spec s = site_spec(1, 1.0, DT);
    NS_CHECK(ns_net_connect(net, L, K, &s) != 0 && strstr(ns_ctx_errmsg(ctx), "K") &&
                 strstr(ns_ctx_errmsg(ctx), "site"),
             "spikes onto a field without a grid are refused: %s", ns_ctx_errmsg(ctx));
    const ns_conn_spec rs = site_spec(0, 1.0, 0);
    ns_graded_spec gs = {.delay_ms = DT, .rule = &rs};
    NS_CHECK(ns_net_connect_graded_spec(net, K, L, &gs) != 0 && strstr(ns_ctx_errmsg(ctx), "K"),
             "phi from a field without a grid is refused: %s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);
    ctx = test_ctx(1, 1);
    net = ns_net_create(ctx, DT);
    K = field(ctx, net, C, M, 1);
    L = ns_net_add_population(net, "lif", 2, "L");
    NS_CHECK(L && ns_pop_set_geometry(net, L, ns_geom_points(ctx, 2, xy, 2)) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_connect_graded_spec(net, K, L, &gs) != 0 &&
                 strstr(ns_ctx_errmsg(ctx), "unit 1 of L at (650, 50) µm lies outside the grid K"),
             "a neuron outside the field's grid is refused: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_connect(net, L, K, &s) != 0 && strstr(ns_ctx_errmsg(ctx), "lies outside the grid K"),
             "and its spikes too: %s", ns_ctx_errmsg(ctx));
    const ns_conn_spec drawn = {.rule = NS_RULE_SITE, .weight = {NS_DIST_UNIFORM, 0, 1}};
    ns_graded_spec gd = {.delay_ms = DT, .rule = &drawn};
    NS_CHECK(ns_net_connect_graded_spec(net, K, L, &gd) != 0 && strstr(ns_ctx_errmsg(ctx), "one finite weight"),
             "a drawn weight is refused: %s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* MODELS.md §8's H of one periodic field (5 points) from two levels f = phi^n, g = phi^{n-1}:
 * h^2 sum [ v^2 / 2 + (E(f) + E(g)) / 4 ], v = (f - g)/dt, E = c^2 |forward differences|^2 / h^2 + m^2 phi^2. */
static double field_H(const double *f, const double *g, int nx, int ny, double h, double c, double m, double dt)
{
    double sum = 0.0;
    for (int y = 0; y < ny; y++)
        for (int x = 0; x < nx; x++) {
            const int i = y * nx + x, e = y * nx + (x + 1) % nx, up = ((y + 1) % ny) * nx + x;
            const double v = (f[i] - g[i]) / dt;
            const double Ef = c * c * ((f[e] - f[i]) * (f[e] - f[i]) + (f[up] - f[i]) * (f[up] - f[i])) / (h * h) +
                              m * m * f[i] * f[i];
            const double Eg = c * c * ((g[e] - g[i]) * (g[e] - g[i]) + (g[up] - g[i]) * (g[up] - g[i])) / (h * h) +
                              m * m * g[i] * g[i];
            sum += 0.5 * v * v + 0.25 * (Ef + Eg);
        }
    return h * h * sum;
}

enum { EN_NX = 12, EN_NY = 6, EN_N = EN_NX * EN_NY, EN_ROWS = 40 };

/* A 12 x 6 field from a fixed irregular start, 40 samples of H every 0.5 ms by record_sum and of
 * phi, phi_prev by record_state; the sum record's text into sums (whole file) and its summary. */
static void energy_run(int threads, double Hrec[EN_ROWS], double Hre[EN_ROWS], char **text, ns_sum_summary *sm)
{
    const double h = 100, c = 80, m = 0.7, dt = 0.1;
    double f[EN_N], g[EN_N];
    for (int i = 0; i < EN_N; i++) {
        f[i] = sin(0.9 * i) + 0.2 * cos(1.7 * i * i);
        g[i] = 0.95 * f[i] + 0.05 * cos(3.1 * i);
    }
    ns_ctx *ctx = test_ctx(1, threads);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *K = ns_net_add_population(net, "kg_field", EN_N, "K");
    const char *names[] = {"nx", "ny", "h", "c", "m"};
    const double values[] = {EN_NX, EN_NY, h, c, m};
    NS_CHECK(K && !ns_pop_set_params(net, K, names, values, 5), "energy: field made: %s", ns_ctx_errmsg(ctx));
    ns_pop_set_state_array(net, K, "phi", f);
    ns_pop_set_state_array(net, K, "phi_prev", g);
    const char *vars[] = {"phi", "phi_prev"};
    NS_CHECK(!ns_net_record_sum(net, &K, 1, "energy", 0.5, "energy.csv"), "record_sum: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(!ns_net_record_state(net, K, vars, 2, NULL, 0, 0.5, "state.csv"), "record_state: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(!ns_net_run(net, 0.5 * EN_ROWS), "energy run: %s", ns_ctx_errmsg(ctx));
    ns_net_flush(net);
    NS_CHECK(ns_net_n_sums(net) == 1 && !ns_net_sum_summary(net, 0, sm) && ns_net_sum_summary(net, 1, sm) == -1 &&
             !ns_net_sum_summary(net, 0, sm) && !strcmp(sm->pop, "K") && !strcmp(sm->var, "energy") &&
             !strcmp(sm->file, "energy.csv"), "one (record, population) pair of sums: K's energy into energy.csv");
    sm->pop = sm->var = sm->file = NULL; /* the network's, freed below */
    size_t len;
    *text = test_slurp(ctx, "energy.csv", &len);
    char *st = test_slurp(ctx, "state.csv", &len);
    /* the sum record: "t_ms,K" then t,H */
    const char *p = *text ? strchr(*text, '\n') : NULL;
    NS_CHECK(*text && !strncmp(*text, "t_ms,K\n", 7), "energy.csv header is t_ms,K");
    for (int r = 0; r < EN_ROWS; r++) {
        double t;
        Hrec[r] = NAN;
        if (!p || sscanf(p + 1, "%lf,%lf", &t, &Hrec[r]) != 2 || fabs(t - 0.5 * (r + 1)) > 1e-12) {
            NS_CHECK(0, "energy.csv row %d is t = %g, H", r + 1, 0.5 * (r + 1));
            break;
        }
        p = strchr(p + 1, '\n');
    }
    NS_CHECK(p && p[1] == '\0', "energy.csv has exactly %d rows", EN_ROWS);
    /* H recomputed from the recorded levels */
    const char *q = st ? strchr(st, '\n') : NULL;
    for (int r = 0; r < EN_ROWS; r++) {
        double F[EN_N], G[EN_N];
        for (int i = 0; i < EN_N; i++) {
            double t;
            long id;
            if (!q || sscanf(q + 1, "%lf,%ld,%lf,%lf", &t, &id, &F[i], &G[i]) != 4 || id != i) {
                NS_CHECK(0, "state.csv row of unit %d at sample %d", i, r);
                r = EN_ROWS;
                break;
            }
            q = strchr(q + 1, '\n');
        }
        Hre[r] = field_H(F, G, EN_NX, EN_NY, h, c, m, dt);
    }
    free(st);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* The energy record: every row equals H recomputed from the recorded phi, phi_prev (10 digits: to
 * 1e-8), the same bytes for 1 and 2 threads; its summary (run.json's) equals the record's first and
 * last rows and their largest relative deviation; a variable not flagged summed is refused. */
static void energy_record(void)
{
    double H1[EN_ROWS], R1[EN_ROWS], H2[EN_ROWS], R2[EN_ROWS];
    char *t1 = NULL, *t2 = NULL;
    ns_sum_summary s1, s2;
    energy_run(1, H1, R1, &t1, &s1);
    energy_run(2, H2, R2, &t2, &s2);
    double worst = 0.0, dev = 0.0;
    for (int r = 0; r < EN_ROWS; r++) {
        worst = fmax(worst, fabs(H1[r] - R1[r]) / R1[r]);
        if (r) dev = fmax(dev, fabs(H1[r] - H1[0]) / fabs(H1[0]));
    }
    NS_CHECK(worst < 1e-8, "energy.csv's H equals MODELS.md's H recomputed from state.csv's phi, phi_prev at each of "
             "%d samples (worst relative %.2g)", EN_ROWS, worst);
    NS_CHECK(dev > 0 && dev < 0.05, "H bounded: its largest relative deviation %.3g is small and not 0", dev);
    NS_CHECK(t1 && t2 && !strcmp(t1, t2), "energy.csv: the same bytes for 1 and 2 threads");
    NS_CHECK(s1.samples == EN_ROWS && s1.first == H1[0] && s1.last == H1[EN_ROWS - 1] && s1.max_rel_dev == dev &&
             s1.first_t_ms == 0.5 && s1.last_t_ms == 0.5 * EN_ROWS,
             "the summary (run.json's): %lld samples, first %.17g at %g ms, last %.17g at %g ms, deviation %.17g, "
             "equal to the record's", (long long)s1.samples, s1.first, s1.first_t_ms, s1.last, s1.last_t_ms,
             s1.max_rel_dev);
    free(t1);
    free(t2);
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *K = ns_net_add_population(net, "kg_field", 8, "K");
    ns_pop *L = ns_net_add_population(net, "lif", 2, "L");
    NS_CHECK(ns_net_record_sum(net, &K, 1, "phi", 1.0, "s.csv") != 0 &&
             strstr(ns_ctx_errmsg(ctx), "no summed state variable 'phi' (energy)"),
             "record_sum of phi is refused, naming energy: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_record_sum(net, &L, 1, "V_m", 1.0, "s.csv") != 0 && strstr(ns_ctx_errmsg(ctx), "it has none"),
             "record_sum of lif's V_m is refused: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_record_sum(net, &K, 1, "energy", 0.05, "s.csv") != 0 && strstr(ns_ctx_errmsg(ctx), "multiple of dt"),
             "an interval off the grid is refused: %s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);
}

int main(void)
{
    energy_record();
    spike_source_term();
    double v1[4], v2[4];
    const double e1 = current_from_field(1, v1), e2 = current_from_field(2, v2);
    NS_CHECK(e1 < 1e-12 && e2 < 1e-12 && !memcmp(v1, v2, sizeof v1),
             "phi -> current: V_m of 4 neurons (two on one site) after 4 ms equals lif's exact recurrence for "
             "w phi(site) from step delay/dt on, to %.2g mV (1 thread) and %.2g (2 threads); V_m %.6f %.6f %.6f %.6f",
             e1, e2, v1[0], v1[1], v1[2], v1[3]);
    double *o1 = malloc(5 * N * sizeof *o1), *o2 = malloc(5 * N * sizeof *o2);
    int64_t s1, s2;
    both_ways(1, o1, &s1);
    both_ways(2, o2, &s2);
    NS_CHECK(!memcmp(o1, o2, 5 * N * sizeof *o1) && s1 == s2 && s1 > 0,
             "neurons onto a field and the field onto them, 1 and 2 threads: the same bytes (%lld spikes)", (long long)s1);
    free(o1);
    free(o2);
    refusals();
    NS_TEST_MAIN_END();
}
