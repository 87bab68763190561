/* tests/test_params.c — per-unit parameters (ns_pop_set_param_array): each unit follows the closed
 * form of its own parameters; a population with per-unit values runs exactly as single-unit
 * populations with those values as scalars (the same membrane, bit for bit, under DC and spike
 * input taken as dense rows, at 1 and 2 threads), for lif (per-unit constants) and lif_delta
 * (runs of equal parameters); lif's vector loop for shared constants gives the scalar loop's
 * numbers in every input form; population-wide values set later keep the arrays; default state
 * follows each unit's parameters; bad values, a late call and models stepped as one system are
 * refused with the unit or the reason named. */
#include <math.h>
#include <string.h>

#include "sim/net_types.h"
#include "tests/harness.h"
#include "tests/testlib.h"

static const double dt = 0.1;

enum { N = 6 };
static const double I_e[N] = {300, 350, 400, 400, 400, 500};   /* pA: runs of 1, 1, 3, 1 */
static const double tau_m[N] = {20, 20, 10, 10, 10, 15};      /* ms */

/* V(t) = E_L + R I (1 - e^{-t/tau}) for every unit with its own I_e and tau_m (no threshold in
 * reach); then tau_m set for the whole population keeps each unit's I_e. */
static void closed_form(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = ns_net_add_population(net, "lif", N, "n");
    const char *names[] = {"E_L", "V_th", "V_reset", "C_m"};
    double vals[] = {-70, 1000, -70, 250};
    NS_CHECK(ns_pop_set_params(net, p, names, vals, 4) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_set_param_array(net, p, "I_e", I_e) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_set_param_array(net, p, "tau_m", tau_m) == 0, "%s", ns_ctx_errmsg(ctx));
    double worst = 0;
    for (int k = 1; k <= 1000; k++) {
        ns_net_run(net, dt);
        for (int i = 0; i < N; i++) {
            double t = k * dt, want = -70 + I_e[i] * tau_m[i] / 250 * (1 - exp(-t / tau_m[i]));
            worst = fmax(worst, fabs(ns_pop_get_state(p, "V_m", (size_t)i) - want) / fabs(want));
        }
    }
    NS_CHECK(worst < 1e-12, "per-unit I_e and tau_m: worst relative error %.3g against each unit's closed form", worst);
    ns_net_free(net);

    /* a population-wide tau_m after the arrays: every unit takes it, each keeps its I_e */
    net = ns_net_create(ctx, dt);
    p = ns_net_add_population(net, "lif", N, "n");
    NS_CHECK(ns_pop_set_params(net, p, names, vals, 4) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_set_param_array(net, p, "I_e", I_e) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_set_param_array(net, p, "tau_m", tau_m) == 0, "%s", ns_ctx_errmsg(ctx));
    const char *tn[] = {"tau_m"};
    double tv[] = {5};
    NS_CHECK(ns_pop_set_params(net, p, tn, tv, 1) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_net_run(net, 100 * dt);
    worst = 0;
    for (int i = 0; i < N; i++) {
        double want = -70 + I_e[i] * 5 / 250 * (1 - exp(-10.0 / 5));
        worst = fmax(worst, fabs(ns_pop_get_state(p, "V_m", (size_t)i) - want) / fabs(want));
    }
    NS_CHECK(worst < 1e-12, "tau_m set for all after the arrays: each unit keeps its I_e (worst %.3g)", worst);
    ns_net_free(net);

    /* the default state follows each unit's parameters: V_m starts at its own E_L */
    net = ns_net_create(ctx, dt);
    p = ns_net_add_population(net, "lif", N, "n");
    const double E_L[N] = {-70, -65, -65, -60, -55, -50};
    NS_CHECK(ns_pop_set_param_array(net, p, "E_L", E_L) == 0, "%s", ns_ctx_errmsg(ctx));
    int at_rest = 1;
    for (int i = 0; i < N; i++) at_rest &= ns_pop_get_state(p, "V_m", (size_t)i) == E_L[i];
    NS_CHECK(at_rest, "V_m starts at each unit's E_L");
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* The membrane of every unit after each of 20 pieces of 10 ms, for the per-unit population (one
 * network) or for N single-unit populations (another); spike input from a source of 3 units
 * into all, all-to-all, and each unit's DC; out[20][N]. */
static void trajectories(const char *model, int per_unit, int threads, double *out)
{
    ns_ctx *ctx = test_ctx(5, threads);
    ns_net *net = ns_net_create(ctx, dt);
    ns_net_set_input_mode(net, NS_INPUT_DENSE); /* as a population with per-unit values takes it */
    size_t off[4] = {0, 3, 5, 8};
    double times[8] = {5.0, 40.0, 90.0, 12.3, 77.7, 30.0, 31.0, 150.0};
    ns_pop *src = ns_net_add_spike_source(net, 3, off, times, "src");
    const double w = strcmp(model, "lif") ? 2.0 : 400.0; /* mV into lif_delta, pA into lif */
    ns_conn_spec c = {.rule = NS_RULE_ALL_TO_ALL, .weight = {NS_DIST_CONST, w, 0}, .delay = {NS_DIST_CONST, 1.0, 0},
                      .autapses = 1};
    ns_pop *pops[N];
    const char *names[] = {"I_e", "tau_m"};
    if (per_unit) {
        pops[0] = ns_net_add_population(net, model, N, "all");
        if (!strcmp(model, "lif")) test_cuba_cell(ctx, net, pops[0]);
        NS_CHECK(ns_pop_set_param_array(net, pops[0], "I_e", I_e) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_pop_set_param_array(net, pops[0], "tau_m", tau_m) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_connect(net, src, pops[0], &c) == 0, "%s", ns_ctx_errmsg(ctx));
    } else {
        for (int i = 0; i < N; i++) {
            char name[16];
            snprintf(name, sizeof name, "u%d", i);
            pops[i] = ns_net_add_population(net, model, 1, name);
            if (!strcmp(model, "lif")) test_cuba_cell(ctx, net, pops[i]);
            double v[2] = {I_e[i], tau_m[i]};
            NS_CHECK(ns_pop_set_params(net, pops[i], names, v, 2) == 0, "%s", ns_ctx_errmsg(ctx));
            NS_CHECK(ns_net_connect(net, src, pops[i], &c) == 0, "%s", ns_ctx_errmsg(ctx));
        }
    }
    for (int k = 0; k < 20; k++) {
        NS_CHECK(ns_net_run(net, 10.0) == 0, "%s", ns_ctx_errmsg(ctx));
        for (int i = 0; i < N; i++)
            out[k * N + i] = per_unit ? ns_pop_get_state(pops[0], "V_m", (size_t)i) : ns_pop_get_state(pops[i], "V_m", 0);
    }
    if (per_unit)
        NS_CHECK(ns_pop_n_spikes(pops[0]) > 20, "%s: the units fire (%lld spikes)", model, (long long)ns_pop_n_spikes(pops[0]));
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* lif derives every unit's constants at once (init_units); lif_delta steps each run of equal
 * parameters on its own: both paths against the scalars. */
static void same_as_scalars(const char *model)
{
    double a[20 * N], b[20 * N], c[20 * N];
    trajectories(model, 1, 1, a);
    trajectories(model, 0, 1, b);
    trajectories(model, 1, 2, c);
    NS_CHECK(!memcmp(a, b, sizeof a), "%s: per-unit values run as single-unit populations with scalars, bit for bit",
             model);
    NS_CHECK(!memcmp(a, c, sizeof a), "%s: the same at 2 threads", model);
}

/* lif's units step eight at a time where they share constants (models/lif.c): a population of
 * 261 units (a block of 256 and a tail of 5) with drawn initial V_m, spike input as one event a
 * step and sign at most (all-to-all from 3 excitatory and 2 inhibitory sources with distinct
 * times) and a stepped current, in four
 * forms: per-unit arrays of equal values (the scalar loop, dense rows), shared constants on dense
 * rows, on event lists (a recorded population: currents kept as they are) and on lagging lists
 * (currents kept scaled). The first three give the same membrane and spikes bit for bit; the
 * scaled form agrees to rounding with the same spikes. The run is cut into pieces of 7 ms, some
 * of them ending while units are refractory (t_ref 5 ms), and in the second half V_th is set to
 * its own value before each piece, which takes a lagging population's state out of its own form
 * and back. out: V_m of every unit after each piece; returns the spike record
 * (spikes.csv, malloc'd) and its count in *spikes. */
enum { VN = 261, VPIECES = 30 };
static char *vector_form(int form, double *out, int64_t *spikes)
{
    ns_ctx *ctx = test_ctx(9, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_net_set_input_mode(net, form <= 1 ? NS_INPUT_DENSE : NS_INPUT_SPARSE);
    size_t off[4] = {0, 3, 5, 8};
    double times[8] = {5.0, 40.0, 90.0, 12.3, 77.7, 30.0, 31.0, 150.0};
    ns_pop *src = ns_net_add_spike_source(net, 3, off, times, "src");
    ns_pop *p = ns_net_add_population(net, "lif", VN, "n");
    test_cuba_cell(ctx, net, p);
    if (form == 0) {
        double same[VN];
        for (int i = 0; i < VN; i++) same[i] = 20.0;
        NS_CHECK(ns_pop_set_param_array(net, p, "tau_m", same) == 0, "%s", ns_ctx_errmsg(ctx));
    }
    NS_CHECK(ns_pop_init_state(net, p, "V_m", &(ns_dist){.kind = NS_DIST_UNIFORM, .a = -60, .b = -50}) == 0, "%s",
             ns_ctx_errmsg(ctx));
    ns_conn_spec c = {.rule = NS_RULE_ALL_TO_ALL, .weight = {NS_DIST_CONST, 300.0, 0},
                      .delay = {NS_DIST_CONST, 1.0, 0}};
    NS_CHECK(ns_net_connect(net, src, p, &c) == 0, "%s", ns_ctx_errmsg(ctx));
    size_t off_i[3] = {0, 2, 4};
    double times_i[4] = {8.0, 55.5, 33.3, 101.0};
    ns_pop *inh = ns_net_add_spike_source(net, 2, off_i, times_i, "inh");
    c.weight.a = -250.0;
    NS_CHECK(ns_net_connect(net, inh, p, &c) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_record_spikes(net, &p, 1, "spikes.csv") == 0, "%s", ns_ctx_errmsg(ctx));
    const double at[3] = {20.0, 60.0, 120.0}, amp[3] = {150.0, -40.0, 90.0};
    NS_CHECK(ns_net_add_current(net, p, 3, at, amp) == 0, "%s", ns_ctx_errmsg(ctx));
    if (form == 2) {
        const char *vars[] = {"V_m"};
        const size_t units[] = {0};
        NS_CHECK(ns_net_record_state(net, p, vars, 1, units, 1, 10.0, "vector_form.csv") == 0, "%s",
                 ns_ctx_errmsg(ctx));
    }
    for (int k = 0; k < VPIECES; k++) {
        const char *th[] = {"V_th"}; /* its own value again: a lagging state goes out and back in */
        const double minus50[] = {-50.0};
        NS_CHECK(k < VPIECES / 2 || ns_pop_set_params(net, p, th, minus50, 1) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_run(net, 7.0) == 0, "%s", ns_ctx_errmsg(ctx));
        for (int i = 0; i < VN; i++) out[k * VN + i] = ns_pop_get_state(p, "V_m", (size_t)i);
    }
    NS_CHECK((form == 0) == (p->unit_consts != NULL) && (form >= 2) == p->sparse && (form == 3) == (p->lag > 0),
             "form %d took effect (per-unit constants %d, lists %d, lagging %d)", form, p->unit_consts != NULL,
             p->sparse, p->lag);
    *spikes = ns_pop_n_spikes(p);
    ns_net_free(net);
    size_t len;
    char *csv = test_slurp(ctx, "spikes.csv", &len);
    test_ctx_free(ctx);
    return csv;
}

static void vector_forms(void)
{
    static double V[4][VPIECES * VN];
    int64_t spikes[4];
    char *csv[4];
    for (int f = 0; f < 4; f++) csv[f] = vector_form(f, V[f], &spikes[f]);
    NS_CHECK(spikes[0] > VN && csv[0], "the units fire (%lld spikes)", (long long)spikes[0]);
    for (int f = 1; f < 4 && csv[0]; f++)
        NS_CHECK(csv[f] && !strcmp(csv[f], csv[0]), "form %d: the scalar loop's spikes, unit for unit (%lld)", f,
                 (long long)spikes[f]);
    NS_CHECK(!memcmp(V[1], V[0], sizeof V[0]), "shared constants on dense rows: the scalar loop's membrane bit for bit");
    NS_CHECK(!memcmp(V[2], V[0], sizeof V[0]), "shared constants on event lists: the same bit for bit");
    double worst = 0;
    for (int i = 0; i < VPIECES * VN; i++) worst = fmax(worst, fabs(V[3][i] - V[0][i]) / fabs(V[0][i]));
    NS_CHECK(worst < 1e-12, "scaled currents on lagging lists: V_m to rounding (worst relative %.3g)", worst);
    for (int f = 0; f < 4; f++) free(csv[f]);
}

static void refusals(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = ns_net_add_population(net, "lif", N, "exc");
    double bad[N] = {20, 20, 20, -1, 20, 20};
    NS_CHECK(ns_pop_set_param_array(net, p, "tau_m", bad) != 0 && strstr(ns_ctx_errmsg(ctx), "unit 3") &&
                 strstr(ns_ctx_errmsg(ctx), "exc"),
             "tau_m -1 at unit 3 refused, naming the population and unit: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_set_param_array(net, p, "tau_x", bad) != 0 && strstr(ns_ctx_errmsg(ctx), "tau_x"),
             "an unknown parameter refused: %s", ns_ctx_errmsg(ctx));
    ns_pop *a = ns_net_add_population(net, "adex", 3, "ad");
    NS_CHECK(ns_pop_set_param_array(net, a, "a", bad) != 0 && strstr(ns_ctx_errmsg(ctx), "per population"),
             "an ODE population (one system) refused: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_set_param_array(net, p, "I_e", I_e) == 0, "%s", ns_ctx_errmsg(ctx));
    const char *n1[] = {"tau_m"};
    double v1[] = {-5};
    NS_CHECK(ns_pop_set_params(net, p, n1, v1, 1) != 0, "a bad population-wide value still refused: %s",
             ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_set_param_array(net, p, "I_e", I_e) != 0 && strstr(ns_ctx_errmsg(ctx), "before the first run"),
             "per-unit values after the first run refused: %s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);
}

int main(void)
{
    closed_form();
    same_as_scalars("lif");
    same_as_scalars("lif_delta");
    vector_forms();
    refusals();
    NS_TEST_MAIN_END();
}
