/* tests/test_ode.c — ODE populations in the engine: lif's equations on CVODE give the spikes of
 * exactly integrated lif; AdEx spike times from CVODE's root finding agree with GSL's rk8pd at
 * tight tolerance; the engine's AdEx population fires where a single-neuron integration says;
 * a solver that blows up stops the run with a message naming the population and the time. */
#include <math.h>

#include "models/ode_pop.h"
#include "solvers/cvode.h"
#include "solvers/gsl_ode.h"
#include "tests/harness.h"
#include "tests/testlib.h"

static const double dt = 0.1;

/* Drive a population of `model` with irregular input spikes and a DC step; its spike record. */
static test_spikes run_driven(const char *model, const char *solver)
{
    ns_ctx *ctx = test_ctx(3, 1);
    ns_net *net = ns_net_create(ctx, dt);
    enum { N = 6 };
    size_t off[N + 1];
    double times[N * 40];
    size_t k = 0;
    for (int i = 0; i < N; i++) {
        off[i] = k;
        for (int j = 0; j < 40; j++) times[k++] = 0.1 * (1 + (i * 131 + j * 977 + j * j * 7) % 9000);
    }
    off[N] = k;
    /* times must be sorted per unit for readability only: the source sorts them */
    ns_pop *src = ns_net_add_spike_source(net, N, off, times, "src");
    ns_pop *p = ns_net_add_population(net, model, N, "n");
    test_cuba_cell(ctx, net, p);
    if (solver) ns_pop_set_solver(net, p, solver, 1e-10, 1e-10);
    const char *names[] = {"E_L", "V_th", "V_reset", "t_ref"};
    double vals[] = {-65, -55, -70, 2};
    NS_CHECK(ns_pop_set_params(net, p, names, vals, 4) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_conn_spec s = {.rule = NS_RULE_ONE_TO_ONE, .weight = {NS_DIST_CONST, 900, 0}, .delay = {NS_DIST_CONST, 1.0, 0}, .autapses = 1};
    NS_CHECK(ns_net_connect(net, src, p, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    double t[] = {100, 600}, a[] = {350, 0};
    ns_net_add_current(net, p, 2, t, a);
    ns_pop *pops[] = {p};
    ns_net_record_spikes(net, pops, 1, "spikes.csv");
    NS_CHECK(ns_net_run(net, 1000.0) == 0, "%s", ns_ctx_errmsg(ctx));
    test_spikes sp = test_read_spikes(ctx, "spikes.csv");
    ns_net_free(net);
    test_ctx_free(ctx);
    return sp;
}

static void lif_on_cvode(void)
{
    test_spikes exact = run_driven("lif", NULL), ode = run_driven("lif_ode", "cvode_bdf");
    test_spikes rk = run_driven("lif_ode", "rk4");
    NS_CHECK(exact.n > 50, "the neurons fire (%zu spikes)", exact.n);
    int same = exact.n == ode.n;
    for (size_t j = 0; same && j < exact.n; j++) same = exact.t[j] == ode.t[j] && exact.id[j] == ode.id[j];
    NS_CHECK(same, "lif_ode on CVODE: %zu spikes, exact lif %zu, and the same steps", ode.n, exact.n);
    int same_rk = exact.n == rk.n;
    for (size_t j = 0; same_rk && j < exact.n; j++) same_rk = exact.t[j] == rk.t[j] && exact.id[j] == rk.id[j];
    NS_CHECK(same_rk, "lif_ode on RK4 at dt: %zu spikes, exact %zu", rk.n, exact.n);
    test_spikes_free(&exact);
    test_spikes_free(&ode);
    test_spikes_free(&rk);
}

/* One AdEx neuron (the model's own equations) under a constant current, integrated with root
 * finding and reset: its spike times. */
typedef struct {
    const ns_model *m;
    double params[32];
    double drive;
} adex_one;

static int one_rhs(double t, const double *y, double *ydot, void *user)
{
    (void)t;
    adex_one *o = user;
    o->m->ode->rhs(o->params, y, o->drive, ydot);
    return 0;
}

static int one_root(double t, const double *y, double *g, void *user)
{
    (void)t;
    adex_one *o = user;
    g[0] = o->m->ode->threshold(o->params, y);
    return 0;
}

static int adex_times(int use_gsl, double *out, int max)
{
    adex_one o = {.m = ns_model_find("adex"), .drive = 800};
    ns_model_defaults(o.m, o.params);
    ns_ode_system sys = {.n = 4, .rhs = one_rhs, .roots = one_root, .nroots = 1, .user = &o};
    char err[256];
    double y[4] = {-70.6, 0, 0, 0}, t = 0;
    int n = 0, hit[1];
    ns_cvode *cv = use_gsl ? NULL : ns_cvode_create(&sys, NS_CVODE_BDF, 1e-10, 1e-10, NULL, err, sizeof err);
    ns_gsl_ode *gs = use_gsl ? ns_gsl_ode_create(&sys, 1e-12, 1e-12, NULL, err, sizeof err) : NULL;
    if (cv) ns_cvode_init(cv, 0, y, err, sizeof err);
    if (gs) ns_gsl_ode_init(gs, 0, y, err, sizeof err);
    while (t < 500 && n < max) {
        int rc = cv ? ns_cvode_advance(cv, 500, y, &t, hit, err, sizeof err) : ns_gsl_ode_advance(gs, 500, y, &t, hit, err, sizeof err);
        if (rc < 0) break;
        if (rc == NS_ODE_ROOT && hit[0] > 0) {
            out[n++] = t;
            o.m->ode->reset(o.params, y);
            if (cv) ns_cvode_reinit(cv, t, y, err, sizeof err);
            else ns_gsl_ode_reinit(gs, t, y, err, sizeof err);
        }
    }
    ns_cvode_free(cv);
    ns_gsl_ode_free(gs);
    return n;
}

static void adex_roots(void)
{
    double a[64], b[64];
    int na = adex_times(0, a, 64), nb = adex_times(1, b, 64);
    NS_CHECK(na >= 5 && na == nb, "AdEx spikes: CVODE %d, rk8pd %d", na, nb);
    double worst = 0;
    for (int j = 0; j < na && j < nb; j++) worst = fmax(worst, fabs(a[j] - b[j]));
    NS_CHECK(worst < 0.01, "AdEx spike times, CVODE against rk8pd: worst difference %.3g ms", worst);
    /* adaptation: intervals grow */
    NS_CHECK(na > 3 && a[2] - a[1] > a[1] - a[0], "AdEx adapts: intervals %g then %g ms", a[1] - a[0], a[2] - a[1]);

    /* the engine's population, on CVODE and on rk8pd, fires in the steps holding those times */
    for (int use_gsl = 0; use_gsl <= 1; use_gsl++) {
        ns_ctx *ctx = test_ctx(1, 1);
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *p = ns_net_add_population(net, "adex", 1, "adex");
        NS_CHECK(ns_pop_set_solver(net, p, use_gsl ? "rk8pd" : "cvode_bdf", 1e-10, 1e-10) == 0, "%s", ns_ctx_errmsg(ctx));
        const char *names[] = {"I_e"};
        double vals[] = {800};
        ns_pop_set_params(net, p, names, vals, 1);
        ns_pop *pops[] = {p};
        ns_net_record_spikes(net, pops, 1, "spikes.csv");
        NS_CHECK(ns_net_run(net, 500.0) == 0, "%s", ns_ctx_errmsg(ctx));
        test_spikes s = test_read_spikes(ctx, "spikes.csv");
        int ok = (int)s.n == na;
        for (size_t j = 0; ok && j < s.n; j++) ok = fabs(s.t[j] - ceil(a[j] / dt - 1e-9) * dt) < 1e-9;
        NS_CHECK(ok, "adex population (%s): %zu spikes in the steps of the %d roots", use_gsl ? "rk8pd" : "CVODE", s.n, na);
        ns_solver_stats st;
        NS_CHECK(ns_pop_solver_stats(p, &st) && st.steps > 0 && st.rhs_evals >= st.steps && st.roots == na,
                 "solver counters: %ld steps, %ld rhs, %ld roots", st.steps, st.rhs_evals, st.roots);
        test_spikes_free(&s);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
}

/* AdEx's refractory clamp (t_ref 2 ms = 20 steps) starts at the root, as NEST's aeif models
 * hold V from the spike on: V is exactly V_r at the end of the spike's step and of the 20 steps
 * after it, and moves again in the step after those. */
static void adex_refractory(void)
{
    for (int use_gsl = 0; use_gsl <= 1; use_gsl++) {
        ns_ctx *ctx = test_ctx(1, 1);
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *p = ns_net_add_population(net, "adex", 1, "adex");
        NS_CHECK(ns_pop_set_solver(net, p, use_gsl ? "rk8pd" : "cvode_bdf", 1e-10, 1e-10) == 0, "%s", ns_ctx_errmsg(ctx));
        const char *names[] = {"I_e", "t_ref"};
        double vals[] = {800, 2.0};
        NS_CHECK(ns_pop_set_params(net, p, names, vals, 2) == 0, "%s", ns_ctx_errmsg(ctx));
        enum { STEPS = 3000 };
        static double V[STEPS];
        static long fired_at[STEPS];
        long nfired = 0, before = 0;
        for (int k = 0; k < STEPS; k++) {
            NS_CHECK(ns_net_run(net, dt) == 0, "%s", ns_ctx_errmsg(ctx));
            V[k] = ns_pop_get_state(p, "V_m", 0);
            if (ns_pop_n_spikes(p) > before) fired_at[nfired++] = k;
            before = ns_pop_n_spikes(p);
        }
        int held = 1, moves = 1;
        for (long j = 0; j < nfired; j++) {
            long k = fired_at[j];
            for (long m = k; m <= k + 20 && m < STEPS; m++) held &= V[m] == -70.6;
            if (k + 21 < STEPS) moves &= V[k + 21] != -70.6;
        }
        NS_CHECK(nfired >= 3 && held, "adex (%s), t_ref 2 ms: V held at V_r from the spike's step through 20 more (%ld spikes)",
                 use_gsl ? "rk8pd" : "CVODE", nfired);
        NS_CHECK(moves, "adex (%s): V moves again in the 21st step after a spike", use_gsl ? "rk8pd" : "CVODE");
        ns_net_free(net);
        test_ctx_free(ctx);
    }
}

/* RK4 at a step far beyond a 1 ns synaptic time constant blows up: the run stops with status
 * NS_ERUN and a message naming the population and the time, not a hang. */
static void blow_up(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *src = test_one_spike(net, 1.0);
    ns_pop *p = ns_net_add_population(net, "adex", 1, "fragile");
    NS_CHECK(ns_pop_set_solver(net, p, "rk5", 1e-6, 1e-8) == NS_EINVAL, "unknown solver refused");
    NS_CHECK(ns_pop_set_solver(net, p, "rk4", 0, 1e-8) == NS_EINVAL, "rtol 0 refused");
    ns_pop *l = ns_net_add_population(net, "lif", 1, "plain");
    test_cuba_cell(ctx, net, l);
    NS_CHECK(ns_pop_set_solver(net, l, "rk4", 1e-6, 1e-8) == NS_EINVAL, "no solver for lif");
    ns_pop_set_solver(net, p, "rk4", 1e-6, 1e-8);
    const char *names[] = {"tau_ex"};
    double vals[] = {1e-6};
    ns_pop_set_params(net, p, names, vals, 1);
    test_connect_const(net, src, p, 100, 1.0);
    int rc = ns_net_run(net, 100.0);
    NS_CHECK(rc == NS_ERUN, "a blow-up ends the run with NS_ERUN (%d)", rc);
    NS_CHECK(strstr(ns_ctx_errmsg(ctx), "population fragile") && strstr(ns_ctx_errmsg(ctx), "t ="),
             "message: %s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);
}

int main(void)
{
    lif_on_cvode();
    adex_roots();
    adex_refractory();
    blow_up();
    NS_TEST_MAIN_END();
}
