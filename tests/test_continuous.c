/* tests/test_continuous.c — ltc and cfc populations in the engine: a population's trajectory
 * equals the cell's own step applied to the same sampled signal; ltc on CVODE at tight
 * tolerance and the fused solver with many unfolds agree; saved weights load back to the same
 * trajectory; bad signals and weights are refused; their state projects onward through graded
 * projections, arriving delay steps later, the same for 1 and 2 threads. */
#include <math.h>

#include "models/cfc_cell.h"
#include "models/ltc_cell.h"
#include "tests/harness.h"
#include "tests/testlib.h"

enum { N = 5, M = 2, STEPS = 200 };
static const double dt = 0.5;

static void signal_of(double *times, double *values)
{
    for (int k = 0; k < STEPS / 4; k++) { /* a sample every 4 steps, held in between */
        times[k] = k * 4 * dt;
        values[2 * k] = sin(0.3 * k);
        values[2 * k + 1] = cos(0.11 * k) * 0.5;
    }
}

/* Run a population of `model` with the signal; its final state variable var. */
static void run_pop(const char *model, const char *solver, double unfolds, const char *weights, const char *save,
                    ns_ctx **keep, double *out, const char *var)
{
    ns_ctx *ctx = test_ctx(9, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = ns_net_add_population(net, model, N, "c");
    const char *names[] = {"inputs", "time_scale"};
    double vals[] = {M, 2.0};
    NS_CHECK(ns_pop_set_params(net, p, names, vals, 2) == 0, "%s", ns_ctx_errmsg(ctx));
    if (unfolds > 0) {
        const char *n2[] = {"unfolds"};
        NS_CHECK(ns_pop_set_params(net, p, n2, &unfolds, 1) == 0, "%s", ns_ctx_errmsg(ctx));
    }
    ns_pop_set_seed(net, p, 11);
    if (solver) NS_CHECK(ns_pop_set_solver(net, p, solver, 1e-11, 1e-11) == 0, "%s", ns_ctx_errmsg(ctx));
    if (weights) NS_CHECK(ns_pop_set_weights(net, p, weights) == 0, "%s", ns_ctx_errmsg(ctx));
    double times[STEPS / 4], values[STEPS / 2];
    signal_of(times, values);
    NS_CHECK(ns_net_add_signal(net, p, STEPS / 4, times, values, M) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, STEPS * dt) == 0, "%s", ns_ctx_errmsg(ctx));
    for (int i = 0; i < N; i++) out[i] = ns_pop_get_state(p, var, (size_t)i);
    if (save) {
        char path[1024];
        ns_ctx_output_path(ctx, save, path, (int)sizeof path); /* registered: removed with the folder */
        NS_CHECK(ns_pop_save_weights(net, p, path) == 0, "%s", ns_ctx_errmsg(ctx));
    }
    ns_net_free(net);
    if (keep) *keep = ctx;
    else test_ctx_free(ctx);
}

static void ltc_population(void)
{
    ns_ctx *ctx;
    char path[1024];
    double fused[N], direct[N] = {0}, cv[N], many[N], loaded[N];
    run_pop("ltc", NULL, 0, NULL, "w.txt", &ctx, fused, "v");
    snprintf(path, sizeof path, "%s/w.txt", ns_ctx_outdir(ctx));
    /* the cell itself, from the saved weights, on the held samples */
    char err[256];
    ns_ltc_cell *cell = ns_ltc_load(path, err, sizeof err);
    NS_CHECK(cell != NULL, "%s", err);
    double times[STEPS / 4], values[STEPS / 2];
    signal_of(times, values);
    for (int s = 0; cell && s < STEPS; s++) ns_ltc_fused(cell, values + 2 * (s / 4), direct, dt / 2.0, 6, direct);
    double worst = 0;
    for (int i = 0; i < N; i++) worst = fmax(worst, fabs(fused[i] - direct[i]));
    NS_CHECK(worst == 0, "ltc population = its cell's fused steps (difference %.3g)", worst);
    ns_ltc_free(cell);
    run_pop("ltc", "cvode_bdf", 0, path, NULL, NULL, cv, "v");
    run_pop("ltc", NULL, 1000, path, NULL, NULL, many, "v");
    worst = 0;
    for (int i = 0; i < N; i++) worst = fmax(worst, fabs(cv[i] - many[i]));
    NS_CHECK(worst < 2e-4, "ltc: CVODE (rtol 1e-11) and 1000 unfolds agree: %.3g", worst);
    double worst6 = 0;
    for (int i = 0; i < N; i++) worst6 = fmax(worst6, fabs(cv[i] - fused[i]));
    NS_CHECK(worst6 > 10 * worst, "6 unfolds are further from CVODE (%.3g) than 1000 (%.3g)", worst6, worst);
    run_pop("ltc", NULL, 0, path, NULL, NULL, loaded, "v");
    NS_CHECK(!memcmp(loaded, fused, sizeof fused), "loaded weights give the same trajectory");
    test_ctx_free(ctx);
}

static void cfc_population(void)
{
    ns_ctx *ctx;
    char path[1024], err[256];
    double pop[N], direct[N] = {0};
    run_pop("cfc", NULL, 0, NULL, "w.txt", &ctx, pop, "h");
    snprintf(path, sizeof path, "%s/w.txt", ns_ctx_outdir(ctx));
    ns_cfc_cell *cell = ns_cfc_load(path, err, sizeof err);
    NS_CHECK(cell != NULL, "%s", err);
    double times[STEPS / 4], values[STEPS / 2];
    signal_of(times, values);
    for (int s = 0; cell && s < STEPS; s++) ns_cfc_step(cell, values + 2 * (s / 4), direct, NULL, dt / 2.0, direct, NULL);
    NS_CHECK(cell && !memcmp(pop, direct, sizeof pop), "cfc population = its cell's closed-form steps");
    double any = 0;
    for (int i = 0; i < N; i++) any += fabs(pop[i]);
    NS_CHECK(any > 0, "the cfc units moved");
    ns_cfc_free(cell);
    test_ctx_free(ctx);
}

static void refused(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = ns_net_add_population(net, "ltc", N, "c");
    double t[] = {0}, v[] = {1, 2, 3};
    NS_CHECK(ns_net_add_signal(net, p, 1, t, v, 3) == NS_EINVAL, "a signal of 3 channels into 1 input refused");
    NS_CHECK(strstr(ns_ctx_errmsg(ctx), "3 channels") != NULL, "message: %s", ns_ctx_errmsg(ctx));
    ns_pop *l = ns_net_add_population(net, "lif", 2, "l");
    test_cuba_cell(ctx, net, l);
    NS_CHECK(ns_net_add_signal(net, l, 1, t, v, 1) == NS_EINVAL, "a signal into lif refused");
    NS_CHECK(ns_pop_set_weights(net, l, "x") == NS_EINVAL, "weights for lif refused");
    ns_conn_spec s = {.rule = NS_RULE_ALL_TO_ALL, .weight = {NS_DIST_CONST, 1, 0}, .delay = {NS_DIST_CONST, 1, 0}, .autapses = 1};
    s.rule = NS_RULE_ONE_TO_ONE;
    NS_CHECK(ns_net_connect(net, l, p, &s) == NS_EINVAL, "one_to_one onto fewer channels refused");
    NS_CHECK(ns_pop_set_weights(net, p, "/no/such/file") == 0, "the path is taken as it is");
    NS_CHECK(ns_net_run(net, 1.0) != 0, "a missing weights file fails the first run");
    NS_CHECK(strstr(ns_ctx_errmsg(ctx), "/no/such/file") != NULL, "message: %s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Spikes projected onto the input channels are a one-step pulse of their weight in the step
 * they arrive: the same as a signal with that pulse. */
static void spikes_as_input(void)
{
    double out[2][N];
    for (int way = 0; way < 2; way++) {
        ns_ctx *ctx = test_ctx(2, 1);
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *p = ns_net_add_population(net, "ltc", N, "c");
        const char *names[] = {"inputs"};
        double m = M;
        ns_pop_set_params(net, p, names, &m, 1);
        ns_pop_set_seed(net, p, 5);
        if (way == 0) { /* unit 0 fires at 10 ms (step 19); 1 ms delay: arrives in step 21 */
            size_t off[] = {0, 1, 1};
            double times[] = {10.0};
            ns_pop *src = ns_net_add_spike_source(net, 2, off, times, "src");
            ns_conn_spec s = {.rule = NS_RULE_ONE_TO_ONE, .weight = {NS_DIST_CONST, 0.75, 0}, .delay = {NS_DIST_CONST, 1.0, 0}, .autapses = 1};
            NS_CHECK(ns_net_connect(net, src, p, &s) == 0, "%s", ns_ctx_errmsg(ctx));
        } else {
            double t[] = {0, 21 * dt, 22 * dt}, v[] = {0, 0, 0.75, 0, 0, 0};
            ns_net_add_signal(net, p, 3, t, v, M);
        }
        NS_CHECK(ns_net_run(net, 40 * dt) == 0, "%s", ns_ctx_errmsg(ctx));
        for (int i = 0; i < N; i++) out[way][i] = ns_pop_get_state(p, "v", (size_t)i);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    NS_CHECK(!memcmp(out[0], out[1], sizeof out[0]), "a spike onto a channel = a one-step pulse of the signal");
}

/* AutoNCP wiring: the populations' synapse masks are sparse, and reload the same. */
static void wired(void)
{
    for (int cfc = 0; cfc <= 1; cfc++) {
        ns_ctx *ctx = test_ctx(4, 1);
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *p = ns_net_add_population(net, cfc ? "cfc" : "ltc", 19, "w");
        const char *names[] = {"inputs", "wiring", "motor", "backbone_layers"};
        double vals[] = {M, 1, 2, 0};
        NS_CHECK(ns_pop_set_params(net, p, names, vals, cfc ? 4 : 3) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_run(net, dt) == 0, "%s", ns_ctx_errmsg(ctx));
        char path[1024], err[256];
        ns_ctx_output_path(ctx, "w.txt", path, (int)sizeof path);
        NS_CHECK(ns_pop_save_weights(net, p, path) == 0, "%s", ns_ctx_errmsg(ctx));
        size_t n = 0, zeros = 0, ones = 0;
        const double *mask = NULL;
        ns_ltc_cell *l = cfc ? NULL : ns_ltc_load(path, err, sizeof err);
        ns_cfc_cell *c = cfc ? ns_cfc_load(path, err, sizeof err) : NULL;
        if (l) mask = ns_ltc_get(l, "mask", &n);
        if (c) mask = ns_cfc_get(c, "ff1.mask", &n);
        for (size_t i = 0; mask && i < n; i++) {
            zeros += mask[i] == 0;
            ones += mask[i] == 1;
        }
        NS_CHECK(mask && zeros > 0 && ones > 0 && zeros + ones == n, "%s: a sparse 0/1 mask (%zu zeros, %zu ones)",
                 cfc ? "cfc" : "ltc", zeros, ones);
        ns_ltc_free(l);
        ns_cfc_free(c);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
}

/* A population of model driven by the signal, its state var projected onto integrators: S
 * through the identity with a delay of D steps, R (2 units) through weights W one step later.
 * Run step by step, S's sum after step s must be the sum of the cell's own states after steps
 * 0 .. s - D, and R's that of W times them; a second network, run in one go on 2 threads (in
 * windows of D steps), must end with the same sums. */
static void graded_sums(const char *model, const char *var)
{
    enum { D = 3, R_N = 2 };
    double W[R_N * N], want_s[N] = {0}, want_r[R_N] = {0}, hist[STEPS][N], end_s[2][N];
    for (int k = 0; k < R_N * N; k++) W[k] = sin(1.0 + 0.7 * k);
    double eye[N * N] = {0};
    for (int i = 0; i < N; i++) eye[i * N + i] = 1.0;
    double worst_s = 0, worst_r = 0, early = 0, moved = 0;
    int ran = 1;
    for (int way = 0; way < 2; way++) {
        ns_ctx *ctx = test_ctx(9, way ? 2 : 1);
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *c = ns_net_add_population(net, model, N, "c");
        ns_pop *sum = ns_net_add_population(net, "integrator", N, "S");
        ns_pop *r = way ? NULL : ns_net_add_population(net, "integrator", R_N, "R");
        set1(ctx, net, c, "inputs", M);
        set1(ctx, net, c, "time_scale", 2.0);
        ns_pop_set_seed(net, c, 11);
        double times[STEPS / 4], values[STEPS / 2];
        signal_of(times, values);
        NS_CHECK(ns_net_add_signal(net, c, STEPS / 4, times, values, M) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_connect_graded(net, c, sum, eye, D * dt) == 0, "%s: %s", model, ns_ctx_errmsg(ctx));
        if (r) NS_CHECK(ns_net_connect_graded(net, c, r, W, dt) == 0, "%s: %s", model, ns_ctx_errmsg(ctx));
        if (way) NS_CHECK(ns_net_run(net, STEPS * dt) == 0, "%s", ns_ctx_errmsg(ctx));
        for (int s = 0; !way && s < STEPS; s++) {
            ran &= ns_net_run(net, dt) == 0;
            for (int j = 0; j < N; j++) moved += fabs(hist[s][j] = ns_pop_get_state(c, var, (size_t)j));
            for (int i = 0; s >= D && i < N; i++) want_s[i] += hist[s - D][i];
            for (int i = 0; s >= 1 && i < R_N; i++) {
                double in = 0;
                for (int j = 0; j < N; j++) in += W[i * N + j] * hist[s - 1][j];
                want_r[i] += in;
            }
            for (int i = 0; i < N; i++) {
                double got = ns_pop_get_state(sum, "sum", (size_t)i);
                worst_s = fmax(worst_s, fabs(got - want_s[i]));
                if (s < D) early += fabs(got);
            }
            for (int i = 0; i < R_N; i++)
                worst_r = fmax(worst_r, fabs(ns_pop_get_state(r, "sum", (size_t)i) - want_r[i]));
        }
        if (!way) NS_CHECK(ran, "%s: step by step: %s", model, ns_ctx_errmsg(ctx));
        for (int i = 0; i < N; i++) end_s[way][i] = ns_pop_get_state(sum, "sum", (size_t)i);
        if (way)
            NS_CHECK(ns_net_window_steps(net) == D, "%s: windows of D = %d steps, got %d", model, D,
                     ns_net_window_steps(net));
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    NS_CHECK(moved > 0, "%s: the cell's state moved", model);
    NS_CHECK(early == 0, "%s: nothing arrives in the first %d steps (got %.3g)", model, D, early);
    NS_CHECK(worst_s == 0, "%s: identity projection, delay %d steps: the sum of the cell's states, exactly (off %.3g)",
             model, D, worst_s);
    NS_CHECK(worst_r < 1e-12, "%s: weights W, delay 1 step: the sum of W times the states (off %.3g)", model,
             worst_r);
    NS_CHECK(!memcmp(end_s[0], end_s[1], sizeof end_s[0]), "%s: run in one go on 2 threads, the same sums", model);
}

/* spike source -> cfc (input channels) -> leaky_readout and lif_delta (graded): a chain of two
 * stages whose result is the same, to the bit, on 1 and 2 threads. */
static void graded_chain(void)
{
    enum { H = 6, RO = 3, LD = 4 };
    double readout[2][3 * RO], v[2][LD];
    int64_t spikes[2];
    for (int threads = 1; threads <= 2; threads++) {
        ns_ctx *ctx = test_ctx(3, threads);
        ns_net *net = ns_net_create(ctx, dt);
        size_t off[] = {0, 3, 5};
        double times[] = {2.0, 9.5, 30.0, 5.0, 17.5};
        ns_pop *src = ns_net_add_spike_source(net, 2, off, times, "src");
        ns_pop *c = ns_net_add_population(net, "cfc", H, "c");
        set1(ctx, net, c, "inputs", 2);
        ns_pop_set_seed(net, c, 17);
        ns_pop *ro = ns_net_add_population(net, "leaky_readout", RO, "ro");
        ns_pop *ld = ns_net_add_population(net, "lif_delta", LD, "ld");
        ns_conn_spec sp = {.rule = NS_RULE_ONE_TO_ONE, .weight = {NS_DIST_CONST, 1.5, 0},
                           .delay = {NS_DIST_CONST, 1.0, 0}};
        NS_CHECK(ns_net_connect(net, src, c, &sp) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_connect(net, c, ro, &sp) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "graded projection"),
                 "cfc emits no spikes, and the message points to graded projections: %s", ns_ctx_errmsg(ctx));
        double wro[RO * H], wld[LD * H];
        for (int k = 0; k < RO * H; k++) wro[k] = cos(0.3 * k);
        for (int k = 0; k < LD * H; k++) wld[k] = 6.0 * sin(0.9 * k + 0.2);
        NS_CHECK(ns_net_connect_graded(net, c, ro, wro, 2 * dt) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_connect_graded(net, c, ld, wld, 4 * dt) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_run(net, 60.0) == 0, "%s", ns_ctx_errmsg(ctx));
        const char *vars[] = {"syn", "U", "U_max"};
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < RO; i++) readout[threads - 1][k * RO + i] = ns_pop_get_state(ro, vars[k], (size_t)i);
        for (int i = 0; i < LD; i++) v[threads - 1][i] = ns_pop_get_state(ld, "V_m", (size_t)i);
        spikes[threads - 1] = ns_pop_n_spikes(ld);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    NS_CHECK(spikes[0] > 0 && isfinite(readout[0][2 * RO]), "the chain carries: %lld lif_delta spikes, U_max %g",
             (long long)spikes[0], readout[0][2 * RO]);
    NS_CHECK(spikes[0] == spikes[1] && !memcmp(readout[0], readout[1], sizeof readout[0]) &&
                 !memcmp(v[0], v[1], sizeof v[0]),
             "spike source -> cfc -> leaky_readout, lif_delta: 1 and 2 threads agree (%lld and %lld spikes)",
             (long long)spikes[0], (long long)spikes[1]);
}

/* Cells stack: a cell A (N units, driven by the signal) projects through weights W with a delay
 * of D steps onto the M' input channels of a cell B of `model`. B must follow, step by step and
 * bit for bit, a twin B' whose channels get the same values as a signal: W times A's state after
 * step s - D, held over step s (0 before D). */
static void stacked(const char *model, const char *var)
{
    enum { D = 2, MB = 3, NB = 4 };
    double W[MB * N], hA[STEPS][N], hB[STEPS][NB];
    for (int k = 0; k < MB * N; k++) W[k] = 0.8 * cos(0.5 + 1.3 * k);
    double times[STEPS / 4], values[STEPS / 2];
    signal_of(times, values);
    int ran = 1;
    { /* A -> B through the graded projection */
        ns_ctx *ctx = test_ctx(9, 1);
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *a = ns_net_add_population(net, "cfc", N, "A"), *b = ns_net_add_population(net, model, NB, "B");
        set1(ctx, net, a, "inputs", M);
        set1(ctx, net, b, "inputs", MB);
        ns_pop_set_seed(net, a, 11);
        ns_pop_set_seed(net, b, 12);
        NS_CHECK(ns_net_add_signal(net, a, STEPS / 4, times, values, M) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_connect_graded(net, a, b, W, D * dt) == 0, "%s: cfc onto %s's channels: %s", model, model,
                 ns_ctx_errmsg(ctx));
        for (int s = 0; s < STEPS; s++) {
            ran &= ns_net_run(net, dt) == 0;
            for (int j = 0; j < N; j++) hA[s][j] = ns_pop_get_state(a, "h", (size_t)j);
            for (int j = 0; j < NB; j++) hB[s][j] = ns_pop_get_state(b, var, (size_t)j);
        }
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    /* B' with the same input as a signal sampled every step */
    static double tt[STEPS], uu[STEPS * MB];
    for (int s = 0; s < STEPS; s++) {
        tt[s] = s * dt;
        for (int i = 0; i < MB; i++) {
            double in = 0;
            for (int j = 0; s >= D && j < N; j++) in += W[i * N + j] * hA[s - D][j];
            uu[s * MB + i] = in;
        }
    }
    ns_ctx *ctx = test_ctx(9, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *b = ns_net_add_population(net, model, NB, "B");
    set1(ctx, net, b, "inputs", MB);
    ns_pop_set_seed(net, b, 12);
    NS_CHECK(ns_net_add_signal(net, b, STEPS, tt, uu, MB) == 0, "%s", ns_ctx_errmsg(ctx));
    double worst = 0, moved = 0;
    for (int s = 0; s < STEPS; s++) {
        ran &= ns_net_run(net, dt) == 0;
        for (int j = 0; j < NB; j++) {
            worst = fmax(worst, fabs(ns_pop_get_state(b, var, (size_t)j) - hB[s][j]));
            moved += fabs(hB[s][j]);
        }
    }
    NS_CHECK(ran && moved > 0 && worst == 0,
             "cfc -> %s's input channels (weights, %d steps later) equals %s driven by that signal (worst %.3g)", model, D,
             model, worst);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* A time_scale that changes between runs: ltc on CVODE and on rk8pd goes on (it stopped with
 * "t_out ... before the current time"); the two agree, and the fused solver with 1000 unfolds
 * a step comes close, under the same schedule. */
static void ltc_time_scale_change(void)
{
    const char *solvers[] = {"cvode_bdf", "rk8pd", "fused"};
    double v[3][N];
    for (int k = 0; k < 3; k++) {
        ns_ctx *ctx = test_ctx(9, 1);
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *p = ns_net_add_population(net, "ltc", N, "c");
        const char *names[] = {"inputs", "time_scale", "unfolds"};
        double vals[] = {M, 2.0, 1000};
        NS_CHECK(ns_pop_set_params(net, p, names, vals, k == 2 ? 3 : 2) == 0, "%s", ns_ctx_errmsg(ctx));
        ns_pop_set_seed(net, p, 11);
        NS_CHECK(ns_pop_set_solver(net, p, solvers[k], 1e-10, 1e-12) == 0, "%s", ns_ctx_errmsg(ctx));
        double times[STEPS / 4], values[STEPS / 2];
        signal_of(times, values);
        NS_CHECK(ns_net_add_signal(net, p, STEPS / 4, times, values, M) == 0, "%s", ns_ctx_errmsg(ctx));
        const double scales[3] = {2.0, 0.5, 1.25};
        int ok = 1;
        for (int r = 0; r < 3 && ok; r++) {
            const char *n1[] = {"time_scale"};
            ok = ns_pop_set_params(net, p, n1, &scales[r], 1) == 0 && ns_net_run(net, 30.5) == 0; /* 61 steps: mid-sample */
        }
        NS_CHECK(ok, "ltc on %s with time_scale changed between runs: %s", solvers[k], ns_ctx_errmsg(ctx));
        for (int i = 0; i < N; i++) v[k][i] = ns_pop_get_state(p, "v", (size_t)i);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    double cr = 0, cf = 0;
    for (int i = 0; i < N; i++) {
        cr = fmax(cr, fabs(v[0][i] - v[1][i]));
        cf = fmax(cf, fabs(v[0][i] - v[2][i]));
    }
    NS_CHECK(cr < 1e-7, "ltc after time_scale changes: CVODE = rk8pd (difference %.3g)", cr);
    NS_CHECK(cf < 2e-3, "ltc after time_scale changes: CVODE = fused with 1000 unfolds (difference %.3g)", cf);
}

/* The weights file's unfolds hold unless the script sets some; cfc's pure mode with a backbone
 * runs; script settings that disagree with a weights file are refused, naming both values. */
static void file_settings(void)
{
    ns_ctx *ctx;
    char path[1024];
    double a12[N], from_file[N], a6[N], b6[N];
    run_pop("ltc", NULL, 12, NULL, "w12.txt", &ctx, a12, "v");
    snprintf(path, sizeof path, "%s/w12.txt", ns_ctx_outdir(ctx));
    run_pop("ltc", NULL, 0, path, NULL, NULL, from_file, "v");
    run_pop("ltc", NULL, 6, path, NULL, NULL, a6, "v");
    run_pop("ltc", NULL, 6, NULL, NULL, NULL, b6, "v");
    double d_file = 0, d6 = 0, moved = 0;
    for (int i = 0; i < N; i++) {
        d_file = fmax(d_file, fabs(from_file[i] - a12[i]));
        d6 = fmax(d6, fabs(a6[i] - b6[i]));
        moved = fmax(moved, fabs(a12[i] - b6[i]));
    }
    NS_CHECK(d_file == 0 && d6 == 0 && moved > 1e-6,
             "ltc: the file's 12 unfolds without a script value (diff %.3g), the script's 6 over it (diff %.3g; 6 vs 12 "
             "differ by %.3g)", d_file, d6, moved);
    test_ctx_free(ctx);

    /* cfc pure mode with a backbone (ncps's default pure CfC has one), saved, loaded, refused against mode 0 */
    ctx = test_ctx(9, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = ns_net_add_population(net, "cfc", N, "c");
    const char *names[] = {"inputs", "mode", "backbone_layers", "backbone_units"};
    double vals[] = {M, 2, 1, 8};
    NS_CHECK(ns_pop_set_params(net, p, names, vals, 4) == 0, "pure with a backbone: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, dt) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_ctx_output_path(ctx, "pure.txt", path, (int)sizeof path);
    NS_CHECK(ns_pop_save_weights(net, p, path) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    const char *bad[][2] = {{"mode", "mode is 0 (default) in the script but 2 (pure)"},
                            {"backbone_layers", "backbone_layers is 0 in the script but 1"},
                            {"mixed_memory", "mixed_memory is 1 in the script but 0"}};
    const double badv[] = {0, 0, 1};
    for (int k = 0; k < 3; k++) {
        net = ns_net_create(ctx, dt);
        p = ns_net_add_population(net, "cfc", N, "c");
        const char *n2[] = {"inputs", bad[k][0]};
        double v2[] = {M, badv[k]};
        NS_CHECK(ns_pop_set_params(net, p, n2, v2, 2) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_pop_set_weights(net, p, path) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_run(net, dt) != 0 && strstr(ns_ctx_errmsg(ctx), bad[k][1]) && !strchr(ns_ctx_errmsg(ctx), '\n'),
                 "a %s conflict is refused in one line: %s", bad[k][0], ns_ctx_errmsg(ctx));
        ns_net_free(net);
    }
    net = ns_net_create(ctx, dt); /* agreeing values, and the others unset, load */
    p = ns_net_add_population(net, "cfc", N, "c");
    const char *n3[] = {"inputs", "mode", "backbone_layers"};
    double v3[] = {M, 2, 1};
    NS_CHECK(ns_pop_set_params(net, p, n3, v3, 3) == 0 && ns_pop_set_weights(net, p, path) == 0 && ns_net_run(net, dt) == 0,
             "agreeing settings load: %s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* A graded projection onto lif (a field site driving its neurons): the value enters lif's
 * continuous `current` port in pA for the one step it arrives. A spike source's output is 1 in
 * the step it fires (step 9, stamped 1.0 ms), weight w pA, delay 0.5 ms: in step 14 the membrane
 * takes P20 w, P20 = tau_m / C (1 - e^(-dt / tau_m)), and decays by e^(-dt / tau_m) a step after,
 * against which every step's V_m is checked, on 1 and 2 threads. */
static void graded_into_lif(void)
{
    const double h = 0.1, w = 300.0, tau = 10.0, C = 250.0, E_L = -70.0;
    for (int threads = 1; threads <= 2; threads++) {
        ns_ctx *ctx = test_ctx(3, threads);
        ns_net *net = ns_net_create(ctx, h);
        size_t off[3] = {0, 1, 1};
        double t_spike = 1.0;
        ns_pop *src = ns_net_add_spike_source(net, 2, off, &t_spike, "src");
        ns_pop *lif = ns_net_add_population(net, "lif", 3, "L");
        const char *names[2] = {"V_th", "I_e"};
        double values[2] = {1000.0, 0.0};
        NS_CHECK(ns_pop_set_params(net, lif, names, values, 2) == 0, "%s", ns_ctx_errmsg(ctx));
        double W[3 * 2] = {w, 0, 0, 0, -w / 2, 7}; /* unit 1 gets nothing, unit 2 -w / 2 */
        NS_CHECK(ns_net_connect_graded(net, src, lif, W, 0.5) == 0, "graded onto lif: %s", ns_ctx_errmsg(ctx));
        const double P20 = tau / C * -expm1(-h / tau), P22 = exp(-h / tau);
        double worst = 0, peak = 0;
        for (int s = 0; s < 40; s++) {
            NS_CHECK(ns_net_run(net, h) == 0, "%s", ns_ctx_errmsg(ctx));
            const double want = s < 14 ? 0.0 : P20 * pow(P22, s - 14);
            const double scale[3] = {w, 0.0, -w / 2};
            for (int i = 0; i < 3; i++)
                worst = fmax(worst, fabs(ns_pop_get_state(lif, "V_m", (size_t)i) - (E_L + scale[i] * want)));
            peak = fmax(peak, ns_pop_get_state(lif, "V_m", 0) - E_L);
        }
        NS_CHECK(worst < 1e-12 && peak > 0.1, "%d thread(s): V_m after a graded pulse into lif's current within 1e-12 mV "
                 "of E_L + P20 w e^(-t / tau_m) (worst %.3g, peak %.3g mV)", threads, worst, peak);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
}

int main(void)
{
    graded_into_lif();
    ltc_time_scale_change();
    file_settings();
    ltc_population();
    cfc_population();
    refused();
    spikes_as_input();
    wired();
    graded_sums("cfc", "h");
    graded_sums("ltc", "v");
    graded_chain();
    stacked("cfc", "h");
    stacked("ltc", "v");
    NS_TEST_MAIN_END();
}
