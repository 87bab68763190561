/* tests/test_cond.c — lif_cond_exp (NEST's iaf_cond_exp) against truth: the closed form under a
 * constant conductance, the subthreshold trajectory and the spike times of a driven neuron
 * against a fine RK4 written here, the scheme's order, refractoriness, signs and state bounds. */
#include <math.h>
#include <string.h>

#include "sim/net_types.h"
#include "tests/harness.h"
#include "tests/testlib.h"

/* The cell of the tests: Brette et al. 2007's COBA neuron. */
typedef struct {
    double C, gL, EL, Eex, Ein, tex, tin, Ie, Vth, Vreset, tref;
} cell;

static const cell coba = {200, 10, -60, 0, -80, 5, 10, 0, -50, -60, 5};

static void set_cell(ns_ctx *ctx, ns_net *net, ns_pop *p, const cell *c)
{
    const char *names[] = {"C_m", "g_L", "E_L", "E_ex", "E_in", "tau_syn_ex", "tau_syn_in", "I_e", "V_th",
                           "V_reset", "t_ref"};
    const double vals[] = {c->C, c->gL, c->EL, c->Eex, c->Ein, c->tex, c->tin, c->Ie, c->Vth, c->Vreset, c->tref};
    if (ns_pop_set_params(net, p, names, vals, 11)) {
        printf("set cell: %s\n", ns_ctx_errmsg(ctx));
        exit(1);
    }
}

/* dV/dt, dg_ex/dt, dg_in/dt of the model's equations (mV/ms, nS/ms). */
static void rhs(const cell *c, const double y[3], double f[3])
{
    f[0] = (-c->gL * (y[0] - c->EL) - y[1] * (y[0] - c->Eex) - y[2] * (y[0] - c->Ein) + c->Ie) / c->C;
    f[1] = -y[1] / c->tex;
    f[2] = -y[2] / c->tin;
}

/* Classical RK4 over [0, h] in m substeps. */
static void rk4(const cell *c, double y[3], double h, int m)
{
    const double s = h / m;
    for (int j = 0; j < m; j++) {
        double k1[3], k2[3], k3[3], k4[3], t[3];
        rhs(c, y, k1);
        for (int i = 0; i < 3; i++) t[i] = y[i] + 0.5 * s * k1[i];
        rhs(c, t, k2);
        for (int i = 0; i < 3; i++) t[i] = y[i] + 0.5 * s * k2[i];
        rhs(c, t, k3);
        for (int i = 0; i < 3; i++) t[i] = y[i] + s * k3[i];
        rhs(c, t, k4);
        for (int i = 0; i < 3; i++) y[i] += s / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
}

/* Input: spikes of the "ex" source (weight wex > 0) and the "in" source (win < 0), sent at the
 * given times (ms) with delay 1 ms, so they reach the conductances at the end of the step that
 * ends at time + 1 ms. */
#define MAXS 64
typedef struct {
    double tex[MAXS], tin[MAXS];
    size_t nex, nin;
    double wex, win;
} drive;

/* A network of one lif_cond_exp neuron with cell c at step dt and the drive d; V starts at V0. */
static ns_pop *build(ns_ctx *ctx, ns_net *net, const cell *c, const drive *d, double V0)
{
    size_t oe[] = {0, d->nex}, oi[] = {0, d->nin};
    ns_pop *se = d->nex ? ns_net_add_spike_source(net, 1, oe, d->tex, "se") : NULL;
    ns_pop *si = d->nin ? ns_net_add_spike_source(net, 1, oi, d->tin, "si") : NULL;
    ns_pop *p = ns_net_add_population(net, "lif_cond_exp", 1, "n");
    NS_CHECK(p != NULL, "%s", ns_ctx_errmsg(ctx));
    set_cell(ctx, net, p, c);
    NS_CHECK(ns_pop_set_state_array(net, p, "V_m", &V0) == 0, "%s", ns_ctx_errmsg(ctx));
    if (se) NS_CHECK(test_connect_const(net, se, p, d->wex, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
    if (si) NS_CHECK(test_connect_const(net, si, p, d->win, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
    return p;
}

/* Does a spike of the list (sent at times t, arriving 1 ms later) reach the step ending at T? */
static int arrivals(const double *t, size_t n, double T, double dt)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) k += fabs(t[i] + 1.0 - T) < 0.25 * dt;
    return k;
}

/* The reference: the same grid rule as the model (threshold at step ends, reset, V held for t_ref
 * steps, arrivals into the conductances at step ends), each step integrated by RK4 in m substeps.
 * Fills V[k] after step k (k = 1 .. nsteps) and the spike steps; returns their number. */
static int reference(const cell *c, const drive *d, double V0, double dt, int nsteps, int m, double *V,
                     int *spk, int maxspk)
{
    double y[3] = {V0, 0, 0};
    const int ref_steps = (int)lround(c->tref / dt);
    int r = 0, ns = 0;
    for (int k = 1; k <= nsteps; k++) {
        if (r > 0) {
            double keep = y[0];
            rk4(c, y, dt, m);
            y[0] = keep;
            r--;
            y[0] = c->Vreset;
        } else {
            rk4(c, y, dt, m);
            if (y[0] >= c->Vth) {
                y[0] = c->Vreset;
                r = ref_steps;
                if (ns < maxspk) spk[ns] = k;
                ns++;
            }
        }
        y[1] += d->wex * arrivals(d->tex, d->nex, k * dt, dt);
        y[2] -= d->win * arrivals(d->tin, d->nin, k * dt, dt);
        V[k] = y[0];
    }
    return ns;
}

/* A constant conductance (tau_syn_ex so long that g_ex does not move over the run): V relaxes to
 * V_inf = (g_L E_L + g E_ex) / (g_L + g) with time constant C / (g_L + g); exact in the scheme. */
static void constant_conductance(void)
{
    const double dt = 0.1, g = 30;
    cell c = coba;
    c.tex = 1e12;
    c.Vth = 100;
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    drive d = {.nex = 0};
    ns_pop *p = build(ctx, net, &c, &d, -70);
    NS_CHECK(ns_pop_set_state_array(net, p, "g_ex", &g) == 0, "%s", ns_ctx_errmsg(ctx));
    const double Vinf = (c.gL * c.EL + g * c.Eex) / (c.gL + g), tau = c.C / (c.gL + g);
    double worst = 0;
    for (int k = 1; k <= 1000; k++) {
        ns_net_run(net, dt);
        double want = Vinf + (-70 - Vinf) * exp(-k * dt / tau);
        worst = fmax(worst, fabs(ns_pop_get_state(p, "V_m", 0) - want) / fabs(want));
    }
    NS_CHECK(worst < 1e-10, "constant conductance: worst relative error of V %.3g", worst);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* A subthreshold drive of mixed excitatory and inhibitory spikes. */
static drive sub_drive(void)
{
    drive d = {.nex = 0, .nin = 0, .wex = 6, .win = -20};
    for (int i = 0; i < 24; i++) d.tex[d.nex++] = 2.0 + 3.7 * i;
    for (int i = 0; i < 10; i++) d.tin[d.nin++] = 5.3 + 8.1 * i;
    d.tex[d.nex++] = 40.0; /* two at once */
    return d;
}

/* The worst |V - reference| over 100 ms of the subthreshold drive at step dt. */
static double sub_error(double dt)
{
    cell c = coba;
    c.Vth = 100; /* no spikes */
    drive d = sub_drive();
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = build(ctx, net, &c, &d, -65);
    const int nsteps = (int)lround(100.0 / dt);
    double *V = malloc((size_t)(nsteps + 1) * sizeof *V);
    int spk[1];
    reference(&c, &d, -65, dt, nsteps, (int)lround(dt / 1e-4), V, spk, 1);
    double worst = 0, swing = 0;
    for (int k = 1; k <= nsteps; k++) {
        ns_net_run(net, dt);
        worst = fmax(worst, fabs(ns_pop_get_state(p, "V_m", 0) - V[k]));
        swing = fmax(swing, fabs(V[k] + 65));
    }
    NS_CHECK(swing > 3, "the drive moves V (by %.3g mV)", swing);
    free(V);
    ns_net_free(net);
    test_ctx_free(ctx);
    return worst;
}

/* The subthreshold trajectory against the reference, and the scheme's second order: halving dt
 * divides the error by about 4. */
static void subthreshold(void)
{
    double e1 = sub_error(0.1), e2 = sub_error(0.05), e3 = sub_error(0.025);
    printf("subthreshold: worst |V - RK4| %.3g, %.3g, %.3g mV at dt 0.1, 0.05, 0.025 ms\n", e1, e2, e3);
    NS_CHECK(e1 < 2e-3, "subthreshold at dt 0.1: worst error %.3g mV", e1);
    NS_CHECK(e1 / e2 > 3.5 && e1 / e2 < 4.5, "order: error ratio %.3g for dt 0.1 / 0.05", e1 / e2);
    NS_CHECK(e2 / e3 > 3.5 && e2 / e3 < 4.5, "order: error ratio %.3g for dt 0.05 / 0.025", e2 / e3);
}

/* A neuron driven above threshold by I_e and conductance input: its spike steps are the
 * reference's, and V is held at V_reset for exactly t_ref after each spike. */
static void driven_spikes(void)
{
    const double dt = 0.1;
    cell c = coba;
    c.Ie = 400; /* alone: V_inf = E_L + I_e / g_L = -20 mV, above threshold */
    drive d = sub_drive();
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = build(ctx, net, &c, &d, -60);
    const int nsteps = 1000;
    double V[1001];
    int spk[64];
    int ns = reference(&c, &d, -60, dt, nsteps, 1000, V, spk, 64);
    NS_CHECK(ns >= 5 && ns < 64, "the reference fires %d times", ns);
    printf("driven: the reference fires %d times in 100 ms\n", ns);
    int got[64], ng = 0, held_bad = 0, since = 1 << 20;
    const int ref_steps = (int)lround(c.tref / dt);
    for (int k = 1; k <= nsteps; k++) {
        int64_t before = ns_pop_n_spikes(p);
        ns_net_run(net, dt);
        double v = ns_pop_get_state(p, "V_m", 0);
        since++;
        if (ns_pop_n_spikes(p) > before) {
            if (ng < 64) got[ng] = k;
            ng++;
            since = 0;
            held_bad |= v != c.Vreset;
        } else if (since <= ref_steps) {
            held_bad |= v != c.Vreset; /* clamped */
        } else if (since == ref_steps + 1) {
            held_bad |= v == c.Vreset; /* free again: V moves */
        }
    }
    NS_CHECK(ng == ns, "spikes: %d, the reference %d", ng, ns);
    int same = 1;
    for (int i = 0; i < ng && i < ns && i < 64; i++) same &= got[i] == spk[i];
    NS_CHECK(same, "spike steps differ from the reference's");
    NS_CHECK(!held_bad, "V not held at V_reset for exactly t_ref after a spike");
    /* the refractory period: no two spikes closer than t_ref + one step */
    int min_gap = 1 << 20;
    for (int i = 1; i < ng && i < 64; i++) min_gap = got[i] - got[i - 1] < min_gap ? got[i] - got[i - 1] : min_gap;
    NS_CHECK(min_gap > ref_steps, "two spikes %d steps apart, t_ref is %d steps", min_gap, ref_steps);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Signs: a weight of -w onto the neuron raises g_in by w (NEST's convention) and leaves g_ex; the
 * conductance then decays as w e^{-s/tau_syn_in}. */
static void signs(void)
{
    const double dt = 0.1;
    cell c = coba;
    drive d = {.nex = 1, .nin = 1, .wex = 4, .win = -67};
    d.tex[0] = 3.0;
    d.tin[0] = 1.0;
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = build(ctx, net, &c, &d, -60);
    double worst_in = 0, worst_ex = 0;
    int early = 0;
    for (int k = 1; k <= 300; k++) {
        ns_net_run(net, dt);
        double t = k * dt, gi = ns_pop_get_state(p, "g_in", 0), ge = ns_pop_get_state(p, "g_ex", 0);
        if (t < 2.0 - 1e-9) early |= gi != 0;
        else worst_in = fmax(worst_in, fabs(gi - 67 * exp(-(t - 2.0) / c.tin)));
        if (t < 4.0 - 1e-9) early |= ge != 0;
        else worst_ex = fmax(worst_ex, fabs(ge - 4 * exp(-(t - 4.0) / c.tex)));
    }
    NS_CHECK(!early, "a conductance moved before its spike arrived");
    NS_CHECK(worst_in < 1e-12, "g_in after a -67 nS spike: worst error %.3g nS", worst_in);
    NS_CHECK(worst_ex < 1e-12, "g_ex after a 4 nS spike: worst error %.3g nS", worst_ex);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Bounds: with I_e = 0, V stays between the lowest and highest of E_in, E_L, E_ex (and its start)
 * however large the conductances: a 1e6 nS inhibitory spike takes V to E_in, not beyond, and an
 * excitatory one of 1e6 nS to E_ex, then past threshold. */
static void bounds(void)
{
    const double dt = 0.1;
    cell c = coba;
    c.Vth = 10; /* above E_ex: V can never reach it */
    drive d = {.nex = 1, .nin = 1, .wex = 1e6, .win = -1e6};
    d.tin[0] = 1.0;
    d.tex[0] = 150.0; /* when g_in has decayed to 0.3 nS */
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = build(ctx, net, &c, &d, -60);
    double lo = 1e9, hi = -1e9;
    for (int k = 1; k <= 2000; k++) {
        ns_net_run(net, dt);
        double v = ns_pop_get_state(p, "V_m", 0);
        lo = fmin(lo, v);
        hi = fmax(hi, v);
    }
    NS_CHECK(lo >= c.Ein - 1e-9 && lo < c.Ein + 1e-3, "lowest V %.12g mV (E_in %g)", lo, c.Ein);
    NS_CHECK(hi <= c.Eex + 1e-9 && hi > c.Eex - 1e-3, "highest V %.12g mV (E_ex %g)", hi, c.Eex);
    NS_CHECK(ns_pop_n_spikes(p) == 0, "no spike below a threshold above E_ex");
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Bad parameters: V_reset at or above V_th is refused with a message naming both. */
static void bad_params(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *p = ns_net_add_population(net, "lif_cond_exp", 1, "n");
    const char *names[] = {"V_reset"};
    double v = -50;
    NS_CHECK(ns_pop_set_params(net, p, names, &v, 1) != 0, "V_reset = V_th accepted");
    NS_CHECK(strstr(ns_ctx_errmsg(ctx), "V_reset") && strstr(ns_ctx_errmsg(ctx), "V_th"), "message: %s",
             ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_get_param(p, "V_reset") == -60, "the default V_reset stays in force");
    NS_CHECK(ns_pop_get_param(p, "g_L") == 16.6667 && ns_pop_get_param(p, "C_m") == 250 &&
                 ns_pop_get_param(p, "E_in") == -85 && ns_pop_get_param(p, "tau_syn_ex") == 0.2,
             "NEST's iaf_cond_exp defaults");
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Event lists (with their lagging last step) and dense rows give the same spikes: 100 spike
 * sources with irregular times drive 60 COBA neurons through drawn excitatory and inhibitory
 * weights and delays, with recurrent inhibition, run in uneven pieces with 1 and 2 threads.
 * Several events of a step onto one unit are summed in another order by the two paths, so the
 * states are compared to rounding and the spike records byte for byte. */
static void input_modes(void)
{
    const double dt = 0.1;
    double V[2][2][60], gin[2][2][60];
    char *rec[2][2];
    size_t len[2][2];
    for (int mode = 0; mode < 2; mode++)
        for (int threads = 1; threads <= 2; threads++) {
            ns_ctx *ctx = test_ctx(5, threads);
            ns_net *net = ns_net_create(ctx, dt);
            ns_net_set_input_mode(net, mode ? NS_INPUT_SPARSE : NS_INPUT_DENSE);
            size_t off[101], k = 0;
            double times[100 * 40];
            for (int i = 0; i < 100; i++) {
                off[i] = k;
                for (int j = 0; j < 40; j++) times[k++] = 0.1 * (1 + (i * 37 + j * 101) % 3000);
            }
            off[100] = k;
            ns_pop *src = ns_net_add_spike_source(net, 100, off, times, "src");
            ns_pop *p = ns_net_add_population(net, "lif_cond_exp", 60, "n");
            NS_CHECK(p != NULL, "%s", ns_ctx_errmsg(ctx));
            set_cell(ctx, net, p, &coba);
            ns_conn_spec s = {.rule = NS_RULE_BERNOULLI, .p = 0.3, .weight = {NS_DIST_NORMAL, 4, 8},
                              .delay = {NS_DIST_UNIFORM, 0.1, 0.5}, .autapses = 1};
            NS_CHECK(ns_net_connect(net, src, p, &s) == 0, "%s", ns_ctx_errmsg(ctx));
            s.weight = (ns_dist){.kind = NS_DIST_CONST, .a = -20, .b = 0};
            s.delay = (ns_dist){.kind = NS_DIST_CONST, .a = 0.1, .b = 0};
            NS_CHECK(ns_net_connect(net, p, p, &s) == 0, "%s", ns_ctx_errmsg(ctx));
            NS_CHECK(ns_net_record_spikes(net, &p, 1, "spikes.csv") == 0, "%s", ns_ctx_errmsg(ctx));
            ns_net_run(net, 77.7);
            ns_net_run(net, 0.1);
            ns_net_run(net, 222.2);
            NS_CHECK(p->sparse == mode && p->lag == mode, "input mode %d took effect", mode);
            for (int i = 0; i < 60; i++) {
                V[mode][threads - 1][i] = ns_pop_get_state(p, "V_m", (size_t)i);
                gin[mode][threads - 1][i] = ns_pop_get_state(p, "g_in", (size_t)i);
            }
            rec[mode][threads - 1] = test_slurp(ctx, "spikes.csv", &len[mode][threads - 1]);
            ns_net_free(net);
            test_ctx_free(ctx);
        }
    int lines = 0;
    for (size_t j = 0; rec[0][0] && j < len[0][0]; j++) lines += rec[0][0][j] == '\n';
    NS_CHECK(lines > 200, "the neurons fire (%d spikes)", lines - 1);
    printf("input modes: %d spikes in 300 ms\n", lines - 1);
    for (int mode = 0; mode < 2; mode++)
        for (int t = 0; t < 2; t++)
            NS_CHECK(rec[mode][t] && len[mode][t] == len[0][0] && !memcmp(rec[mode][t], rec[0][0], len[0][0]),
                     "spikes with %s input, %d threads: the same as dense, 1 thread", mode ? "sparse" : "dense", t + 1);
    double worst = 0;
    for (int i = 0; i < 60; i++) {
        worst = fmax(worst, fabs(V[0][0][i] - V[1][0][i]) / fabs(V[0][0][i]));
        worst = fmax(worst, fabs(gin[0][0][i] - gin[1][0][i]) / fmax(1.0, fabs(gin[0][0][i])));
        NS_CHECK(V[0][0][i] == V[0][1][i] && V[1][0][i] == V[1][1][i], "unit %d: 2 threads, the same V as 1", i);
    }
    NS_CHECK(worst < 1e-10, "dense and sparse agree to rounding (worst relative difference %.3g)", worst);
    printf("input modes: worst relative difference of V and g_in, dense vs sparse: %.3g\n", worst);
    for (int mode = 0; mode < 2; mode++)
        for (int t = 0; t < 2; t++) free(rec[mode][t]);
}

int main(void)
{
    constant_conductance();
    subthreshold();
    driven_spikes();
    signs();
    bounds();
    bad_params();
    input_modes();
    NS_TEST_MAIN_END();
}
