/* tests/test_lif_ps.c — lif_ps (NEST's iaf_psc_exp_ps) against truth: spike times that do not
 * depend on dt, the first crossing of a single input's closed form (solved here by bisection), a
 * brief excursion above threshold inside one step, V at step ends against the closed form, the
 * refractory period ending at the precise time, 1 against 2 threads, per-unit parameters. */
#include <math.h>
#include <string.h>

#include "sim/net_types.h"
#include "tests/harness.h"
#include "tests/testlib.h"

/* The cell of the tests: lif's defaults (C 250 pF, tau_m 10 ms, E_L -70, V_th -55, V_reset -70 mV,
 * t_ref 2 ms, tau_ex 2 ms) with tau_in 5 ms, so that the two currents decay differently. */
static const double C = 250, TAU_M = 10, E_L = -70, V_TH = -55, TAU_EX = 2, TAU_IN = 5;

/* V - E_L (mV) s ms after a current of 1 pA starts decaying with tau_x, written here from the
 * equations: tau_x tau_m / (C (tau_m - tau_x)) (exp(-s/tau_m) - exp(-s/tau_x)). */
static double kernel(double s, double tau_x)
{
    return s <= 0 ? 0.0 : tau_x * TAU_M / (C * (TAU_M - tau_x)) * (exp(-s / TAU_M) - exp(-s / tau_x));
}

/* Where the kernel of tau_x peaks (ms). */
static double kernel_peak(double tau_x) { return TAU_M * tau_x * log(TAU_M / tau_x) / (TAU_M - tau_x); }

/* The first s in [0, kernel_peak] with w kernel(s) = theta (mV), by bisection to 1e-12 ms. */
static double kernel_crossing(double w, double tau_x, double theta)
{
    double lo = 0, hi = kernel_peak(tau_x);
    while (hi - lo > 1e-12) {
        double mid = 0.5 * (lo + hi);
        if (w * kernel(mid, tau_x) >= theta) hi = mid;
        else lo = mid;
    }
    return hi;
}

/* One lif_ps neuron (tau_in as above, t_ref, I_e) driven through a delay of 1 ms by a spike_source
 * with the given times and a weight per spike; records spikes to spikes.csv and, when `every` is
 * set, nothing else: the caller runs it. */
typedef struct {
    const double *t, *w;
    size_t n;
    double t_ref, I_e;
} drive;

static ns_pop *build(ns_ctx *ctx, ns_net *net, const drive *d)
{
    ns_pop *p = ns_net_add_population(net, "lif_ps", 1, "n");
    NS_CHECK(p != NULL, "%s", ns_ctx_errmsg(ctx));
    const char *names[] = {"tau_in", "t_ref", "I_e"};
    const double vals[] = {TAU_IN, d->t_ref, d->I_e};
    NS_CHECK(ns_pop_set_params(net, p, names, vals, 3) == 0, "%s", ns_ctx_errmsg(ctx));
    for (size_t k = 0; k < d->n; k++) { /* a source per spike: each its own weight */
        size_t off[] = {0, 1};
        char name[32];
        snprintf(name, sizeof name, "s%zu", k);
        ns_pop *s = ns_net_add_spike_source(net, 1, off, &d->t[k], name);
        NS_CHECK(s != NULL, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(test_connect_const(net, s, p, d->w[k], 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
    }
    NS_CHECK(ns_net_record_spikes(net, &p, 1, "spikes.csv") == 0, "%s", ns_ctx_errmsg(ctx));
    return p;
}

/* The neuron's spike times over t_ms at step dt (threads 1). */
static test_spikes run_drive(const drive *d, double dt, double t_ms)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    build(ctx, net, d);
    NS_CHECK(ns_net_run(net, t_ms) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_spikes s = test_read_spikes(ctx, "spikes.csv");
    test_ctx_free(ctx);
    return s;
}

/* Off-grid inputs, some strong enough alone, some only together, some into the refractory period:
 * the spike times at dt 0.1, 0.05 and 0.01 ms agree to 1e-9 ms. */
static void dt_independence(void)
{
    const double t[] = {1.2345678, 7.7777777, 8.1234567, 8.3333333, 15.5555555, 16.0, 16.4142136, 30.3141593,
                        31.0271828, 40.9};
    const double w[] = {4000, 2500, 2500, -3000, 6000, 3000, 5000, 2600, 2600, 1000};
    const drive d = {t, w, 10, 2.0, 0.0};
    const double dts[] = {0.1, 0.05, 0.01};
    test_spikes s[3];
    for (int k = 0; k < 3; k++) s[k] = run_drive(&d, dts[k], 60);
    NS_CHECK(s[0].n >= 4, "a driven neuron fires: %zu spikes", s[0].n);
    for (int k = 1; k < 3; k++) {
        NS_CHECK(s[k].n == s[0].n, "dt %g: %zu spikes, dt 0.1: %zu", dts[k], s[k].n, s[0].n);
        double worst = 0;
        for (size_t j = 0; j < s[0].n && j < s[k].n; j++) worst = fmax(worst, fabs(s[k].t[j] - s[0].t[j]));
        NS_CHECK(worst < 1e-9, "dt %g against 0.1: spike times differ by up to %.3g ms", dts[k], worst);
    }
    for (size_t j = 0; j < s[0].n; j++) /* off the grid: not multiples of dt */
        NS_CHECK(fabs(s[0].t[j] / 0.1 - round(s[0].t[j] / 0.1)) > 1e-6, "spike %zu at %.12f is on the grid", j,
                 s[0].t[j]);
    for (int k = 0; k < 3; k++) test_spikes_free(&s[k]);
}

/* A single input of w pA at t0 (arriving t0 + 1 ms) onto a neuron at rest: its one spike is at
 * the first crossing of w kernel(s) with V_th - E_L, for several offsets and weights. */
static void single_input(void)
{
    const double t0s[] = {2.0, 2.0123456789, 3.31415926535, 4.99999};
    const double ws[] = {3000, 4500, 6000};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 3; b++) {
            const drive d = {&t0s[a], &ws[b], 1, 2.0, 0.0};
            test_spikes s = run_drive(&d, 0.1, 20);
            const double want = t0s[a] + 1.0 + kernel_crossing(ws[b], TAU_EX, V_TH - E_L);
            NS_CHECK(s.n == 1, "input %g pA at %g ms: %zu spikes, want 1", ws[b], t0s[a], s.n);
            if (s.n) NS_CHECK_ABS(s.t[0], want, 1e-9);
            test_spikes_free(&s);
        }
}

/* A weight a hair above the least that fires: V rises above threshold for less than a step (about
 * 0.04 ms) around the kernel's peak, placed in the middle of a step, and below it at every step's
 * end; the spike is found, at the closed form's crossing. */
static void brief_excursion(void)
{
    const double dt = 0.1, theta = V_TH - E_L, pk = kernel_peak(TAU_EX);
    const double w = (float)(theta / kernel(pk, TAU_EX) * (1 + 1e-5)); /* as stored: in float */
    const double t_peak = 6.05, t0 = t_peak - 1.0 - pk; /* the input arrives at t0 + 1 */
    const double s_up = kernel_crossing(w, TAU_EX, theta);
    double lo = pk, hi = 2 * pk; /* the way back down, by bisection */
    while (hi - lo > 1e-12) {
        double mid = 0.5 * (lo + hi);
        if (w * kernel(mid, TAU_EX) >= theta) lo = mid;
        else hi = mid;
    }
    const double up = t0 + 1 + s_up, down = t0 + 1 + lo;
    NS_CHECK(down - up < dt && floor(up / dt) == floor(down / dt), "the excursion [%.6f, %.6f] lies inside one step",
             up, down);
    double grid_max = -1e9; /* what a check at step ends would see */
    for (int k = 1; k * dt < 20; k++) grid_max = fmax(grid_max, w * kernel(k * dt - t0 - 1, TAU_EX));
    NS_CHECK(grid_max < theta, "V at step ends stays below threshold (%.9f < %g mV above E_L)", grid_max, theta);
    const drive d = {&t0, &w, 1, 2.0, 0.0};
    test_spikes s = run_drive(&d, dt, 20);
    NS_CHECK(s.n == 1, "a brief excursion inside a step: %zu spikes, want 1", s.n);
    if (s.n) NS_CHECK_ABS(s.t[0], up, 1e-9);
    test_spikes_free(&s);
}

/* Subthreshold: excitatory and inhibitory inputs at off-grid times and a constant I_e; V after
 * every step against the superposition of the closed forms. */
static void subthreshold(void)
{
    const double dt = 0.1, I_e = 200; /* V heads for E_L + 8 mV */
    const double t[] = {1.03, 2.5111, 2.5112, 4.77, 6.0, 9.999};
    const double w[] = {1200, -900, 800, 1500, -2000, 1000};
    const drive d = {t, w, 6, 2.0, I_e};
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = build(ctx, net, &d);
    double worst = 0, vmax = -1e9;
    for (int k = 1; k <= 300; k++) {
        NS_CHECK(ns_net_run(net, dt) == 0, "%s", ns_ctx_errmsg(ctx));
        const double T = k * dt;
        double y = I_e * TAU_M / C * (1 - exp(-T / TAU_M));
        for (int j = 0; j < 6; j++) y += w[j] * kernel(T - t[j] - 1.0, w[j] < 0 ? TAU_IN : TAU_EX);
        worst = fmax(worst, fabs(ns_pop_get_state(p, "V_m", 0) - (E_L + y)));
        vmax = fmax(vmax, E_L + y);
    }
    NS_CHECK(vmax < V_TH && vmax > E_L + 9, "subthreshold but moved (max V %.3f mV)", vmax);
    NS_CHECK(worst < 1e-10, "V at step ends against the closed form: worst error %.3g mV", worst);
    NS_CHECK(ns_pop_n_spikes(p) == 0, "no spikes below threshold");
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* A constant suprathreshold I_e: V rises from reset as y_inf (1 - exp(-s/tau_m)), so the first
 * spike is at tau_m ln(y_inf / (y_inf - theta)) and each next one t_ref + that later (V_reset =
 * E_L), off the grid: the refractory period ends at the spike's precise time plus t_ref. */
static void refractory(void)
{
    const double I_e = 500, y_inf = I_e * TAU_M / C, theta = V_TH - E_L;
    const double s1 = TAU_M * log(y_inf / (y_inf - theta));
    const double trefs[] = {2.0, 0.25, 0.0};
    for (int r = 0; r < 3; r++) {
        const drive d = {NULL, NULL, 0, trefs[r], I_e};
        for (int q = 0; q < 2; q++) {
            const double dt = q ? 0.04 : 0.1;
            test_spikes s = run_drive(&d, dt, 100);
            const size_t want_n = (size_t)floor((100 + trefs[r]) / (s1 + trefs[r]));
            NS_CHECK(s.n == want_n || s.n + 1 == want_n, "t_ref %g dt %g: %zu spikes, want %zu", trefs[r], dt, s.n,
                     want_n);
            double worst = 0;
            for (size_t j = 0; j < s.n; j++) worst = fmax(worst, fabs(s.t[j] - (s1 + (double)j * (s1 + trefs[r]))));
            NS_CHECK(worst < 1e-9, "t_ref %g dt %g: spike times off the closed form by %.3g ms", trefs[r], dt, worst);
            test_spikes_free(&s);
        }
    }
}

/* A small recurrent network of lif_ps driven by off-grid spike sources: spikes.csv is the same
 * for 1 and 2 threads, and precise spikes of lif_ps reach lif_ps through the event lists. */
static char *net_run(int threads, size_t *len, int64_t *n_spikes)
{
    ns_ctx *ctx = test_ctx(7, threads);
    ns_net *net = ns_net_create(ctx, 0.1);
    enum { NS = 20, N = 60, PER = 15 };
    size_t off[NS + 1];
    double times[NS * PER];
    for (int i = 0; i <= NS; i++) off[i] = (size_t)i * PER;
    for (int i = 0; i < NS * PER; i++) times[i] = 0.5 + fmod(i * 7.3137 + (i % NS) * 1.777, 95.0);
    ns_pop *src = ns_net_add_spike_source(net, NS, off, times, "src");
    ns_pop *p = ns_net_add_population(net, "lif_ps", N, "p");
    NS_CHECK(src && p, "%s", ns_ctx_errmsg(ctx));
    ns_conn_spec in = {.rule = NS_RULE_BERNOULLI, .p = 0.3, .weight = {NS_DIST_UNIFORM, 1500, 3500},
                       .delay = {NS_DIST_UNIFORM, 0.5, 2.0}};
    ns_conn_spec rec = {.rule = NS_RULE_BERNOULLI, .p = 0.1, .weight = {NS_DIST_UNIFORM, -2000, 2500},
                        .delay = {NS_DIST_CONST, 1.0, 0}};
    NS_CHECK(ns_net_connect(net, src, p, &in) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_connect(net, p, p, &rec) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_pop *both[] = {src, p};
    NS_CHECK(ns_net_record_spikes(net, both, 2, "spikes.csv") == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 100) == 0, "%s", ns_ctx_errmsg(ctx));
    *n_spikes = ns_pop_n_spikes(p);
    ns_net_free(net);
    char *bytes = test_slurp(ctx, "spikes.csv", len);
    test_ctx_free(ctx);
    return bytes;
}

static void threads(void)
{
    size_t l1 = 0, l2 = 0;
    int64_t n1 = 0, n2 = 0;
    char *a = net_run(1, &l1, &n1), *b = net_run(2, &l2, &n2);
    NS_CHECK(a && b && n1 > 20, "the network fires (%lld spikes)", (long long)n1);
    NS_CHECK(a && b && l1 == l2 && !memcmp(a, b, l1), "spikes.csv: 1 and 2 threads differ (%zu, %zu bytes)", l1, l2);
    free(a);
    free(b);
}

/* rate.csv counts a precise spike in the bin that holds its time: the tonic neuron of refractory()
 * (t_ref 0.25 ms) with a 1 ms rate record, against the bins of its spike times, one of which lies
 * in the last step of its bin (so that counting it with its step's end would move it). */
static void rate_bins(void)
{
    const double I_e = 500, y_inf = I_e * TAU_M / C, theta = V_TH - E_L, tref = 0.25;
    const double s1 = TAU_M * log(y_inf / (y_inf - theta));
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    const drive d = {NULL, NULL, 0, tref, I_e};
    ns_pop *p = build(ctx, net, &d);
    NS_CHECK(ns_net_record_rate(net, &p, 1, 1.0, "rate.csv") == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 100) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    int want[100] = {0}, late = 0;
    for (int j = 0; s1 + j * (s1 + tref) < 100; j++) {
        const double t = s1 + j * (s1 + tref);
        want[(int)floor(t)]++;
        late += t - floor(t) > 0.9;
    }
    NS_CHECK(late > 0, "a spike in the last step of its bin");
    size_t len = 0;
    char *text = test_slurp(ctx, "rate.csv", &len);
    int rows = 0, bad = 0;
    for (char *line = text ? strchr(text, '\n') : NULL; line && line[1]; line = strchr(line + 1, '\n')) {
        double t, hz;
        if (sscanf(line + 1, "%lf,%lf", &t, &hz) != 2) break;
        const int b = (int)lround(t);
        bad += b < 0 || b >= 100 || lround(hz / 1000.0) != want[b];
        rows++;
    }
    NS_CHECK(rows == 100 && bad == 0, "rate.csv: %d rows, %d bins off the spike times' counts", rows, bad);
    free(text);
    test_ctx_free(ctx);
}

/* Per-unit parameters (stepped run by run, each run taking only its own units' events): three
 * units of one population with their own tau_m and V_th fire as three populations of one unit. */
static void per_unit(void)
{
    const double taus[] = {10, 20, 15}, ths[] = {-55, -56, -54};
    const double t[] = {1.2345678, 3.3333333, 3.5, 10.0, 12.1212};
    ns_ctx *ctx = test_ctx(1, 2);
    ns_net *net = ns_net_create(ctx, 0.1);
    size_t off[] = {0, 5};
    ns_pop *src = ns_net_add_spike_source(net, 1, off, t, "src");
    ns_pop *a = ns_net_add_population(net, "lif_ps", 3, "a");
    NS_CHECK(src && a, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_set_param_array(net, a, "tau_m", taus) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_set_param_array(net, a, "V_th", ths) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(test_connect_const(net, src, a, 1800, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_pop *b[3];
    for (int k = 0; k < 3; k++) {
        char name[8];
        snprintf(name, sizeof name, "b%d", k);
        b[k] = ns_net_add_population(net, "lif_ps", 1, name);
        const char *names[] = {"tau_m", "V_th"};
        const double vals[] = {taus[k], ths[k]};
        NS_CHECK(b[k] && ns_pop_set_params(net, b[k], names, vals, 2) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(test_connect_const(net, src, b[k], 1800, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
    }
    NS_CHECK(ns_net_record_spikes(net, &a, 1, "a.csv") == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_record_spikes(net, b, 3, "b.csv") == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 30) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_spikes sa = test_read_spikes(ctx, "a.csv"), sb = test_read_spikes(ctx, "b.csv");
    NS_CHECK(sa.n >= 3 && sa.n == sb.n, "per-unit: %zu spikes, as populations: %zu", sa.n, sb.n);
    for (size_t j = 0; j < sa.n && j < sb.n; j++)
        NS_CHECK(sa.t[j] == sb.t[j] && sa.id[j] - 1 == sb.id[j] - 4, "spike %zu: %.12f of %ld against %.12f of %ld", j,
                 sa.t[j], sa.id[j], sb.t[j], sb.id[j]);
    test_spikes_free(&sa);
    test_spikes_free(&sb);
    test_ctx_free(ctx);
}

int main(void)
{
    dt_independence();
    single_input();
    brief_excursion();
    subthreshold();
    refractory();
    threads();
    per_unit();
    rate_bins();
    NS_TEST_MAIN_END();
}
