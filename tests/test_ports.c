/* tests/test_ports.c — graded outputs wider than one value (an oscillator's sin and cos, with
 * delayed Kuramoto coupling computed by the target), sparse graded edges with their own weights
 * and delays, checked against closed forms at every step and for 1 and 2 threads alike; a
 * population stepped as one system by all threads (ultradlif) byte-identical for 1, 2 and 3. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "models/input.h"
#include "models/neuron_eq.h"
#include "tests/harness.h"
#include "tests/testlib.h"

/* A test-only source: unit i sends (sin(omega t + phi_i), cos(omega t + phi_i)) in the step that
 * ends at t, one output port two values wide. */
typedef struct {
    double omega;
} osc_params;

static const ns_state_var osc_state[] = {{"phi", "rad", "phase offset", 0, NS_BOUND_FINITE}};
static const ns_param osc_param_table[] = {
    {"omega", "rad/ms", "angular frequency", 0.3, -HUGE_VAL, HUGE_VAL, offsetof(osc_params, omega)}};
static const ns_out_port osc_outputs[] = {{"phase", "1", NS_OUT_GRADED, 2, "sin,cos"}};

static int osc_step(const ns_step_args *a)
{
    const osc_params *p = a->params;
    for (int k = 0; k < a->nsteps; k++) {
        const double t = (double)(a->step0 + k + 1) * a->dt;
        double *s = ns_output_comp(a, k, 0), *c = ns_output_comp(a, k, 1);
        if (!s) continue;
        for (size_t i = a->lo; i < a->hi; i++) {
            s[i] = sin(p->omega * t + a->state[0][i]);
            c[i] = cos(p->omega * t + a->state[0][i]);
        }
    }
    return 0;
}

static const ns_model osc_model = {
    .version = NS_MODEL_VERSION, .name = "test_osc", .doc = "test oscillator", .kind = NS_KIND_CONTINUOUS,
    .state = osc_state, .n_state = 1, .params = osc_param_table, .n_params = 1, .params_size = sizeof(osc_params),
    .outputs = osc_outputs, .n_outputs = 1, .step = osc_step,
};

/* A test-only target: its input port takes (sum sin, sum cos) per unit and step; it sums both (S,
 * C) and the Kuramoto coupling with its own phase psi = omega t: R += S_in cos psi - C_in sin psi,
 * i.e. sum_j K_ij sin(theta_j(t - d_ij) - psi_i). */
enum { S_SUM, C_SUM, R_SUM };
static const ns_state_var sum2_state[] = {{"S", "1", "", 0, NS_BOUND_FINITE},
                                          {"C", "1", "", 0, NS_BOUND_FINITE},
                                          {"R", "1", "", 0, NS_BOUND_FINITE}};
static const ns_in_port sum2_inputs[] = {{"coupling", "1", NS_PORT_CONTINUOUS, 0, NULL, 2}};

static int sum2_step(const ns_step_args *a)
{
    const osc_params *p = a->params;
    double *const *st = a->state;
    for (int k = 0; k < a->nsteps; k++) {
        const double psi = p->omega * (double)(a->step0 + k + 1) * a->dt;
        double *s = ns_input_comp(a, 0, k, 0), *c = ns_input_comp(a, 0, k, 1);
        for (size_t i = a->lo; i < a->hi; i++) {
            st[S_SUM][i] += s[i];
            st[C_SUM][i] += c[i];
            st[R_SUM][i] += s[i] * cos(psi) - c[i] * sin(psi);
            s[i] = c[i] = 0.0;
        }
    }
    return 0;
}

static const ns_model sum2_model = {
    .version = NS_MODEL_VERSION, .name = "test_sum2", .doc = "test summing target", .kind = NS_KIND_CONTINUOUS,
    .state = sum2_state, .n_state = 3, .params = osc_param_table, .n_params = 1, .params_size = sizeof(osc_params),
    .inputs = sum2_inputs, .n_inputs = 1, .step = sum2_step,
};

enum { NS_ = 4, NT = 3, STEPS = 40 };
static const double dt = 0.25, omega = 0.7, omega_t = 0.45;

/* The closed form: theta_j(s) = omega (s + 1) dt + phi_j is what source unit j sends in step s;
 * an edge (j -> i, weight w, d steps) adds w f(theta_j(s - d)) to target i in step s >= d. Sums
 * over the steps 0 .. T - 1 into S (f = sin), C (cos) and R (sin(theta - psi_i(s))). */
typedef struct {
    uint32_t pre, post;
    double w;
    int d;
} edge;

static void closed_form(const edge *e, int ne, const double *phi, int T, double S[NT], double C[NT], double R[NT])
{
    for (int i = 0; i < NT; i++) S[i] = C[i] = R[i] = 0.0;
    for (int s = 0; s < T; s++)
        for (int k = 0; k < ne; k++) {
            if (s < e[k].d) continue;
            const double th = omega * (double)(s - e[k].d + 1) * dt + phi[e[k].pre];
            const double psi = omega_t * (double)(s + 1) * dt;
            S[e[k].post] += e[k].w * sin(th);
            C[e[k].post] += e[k].w * cos(th);
            R[e[k].post] += e[k].w * sin(th - psi);
        }
}

/* Dense (one delay, every component), dense picking cos onto an integrator, and sparse edges
 * (per-edge weights and delays, a pair twice) from one oscillator population. */
static void wide_and_sparse(void)
{
    static const double phi[NS_] = {0.0, 0.4, -1.1, 2.5};
    static const double Wd[NT * NS_] = {1.0, -0.5, 0.0, 2.0, 0.25, 0.0, 1.5, -1.0, 0.0, 3.0, 0.0, -0.75};
    enum { D = 3, NE = 7 };
    static const edge E[NE] = {{0, 0, 1.5, 1}, {1, 0, -2.0, 4}, {3, 1, 0.5, 2}, {2, 2, 1.25, 7},
                               {3, 2, -0.3, 1}, {3, 2, 0.9, 5}, {0, 1, 2.0, 3}};
    edge dense[NT * NS_];
    int nd = 0;
    for (int i = 0; i < NT; i++)
        for (int j = 0; j < NS_; j++)
            if (Wd[i * NS_ + j] != 0.0) dense[nd++] = (edge){(uint32_t)j, (uint32_t)i, Wd[i * NS_ + j], D};
    double fin[2][4][NT];
    for (int threads = 1; threads <= 2; threads++) {
        ns_ctx *ctx = test_ctx(5, threads);
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *src = ns_net_add_population_of(net, &osc_model, NS_, "osc");
        ns_pop *tgt = ns_net_add_population_of(net, &sum2_model, NT, "dense");
        ns_pop *sp = ns_net_add_population_of(net, &sum2_model, NT, "edges");
        ns_pop *cs = ns_net_add_population(net, "integrator", NT, "cos");
        NS_CHECK(src && tgt && sp && cs, "populations: %s", ns_ctx_errmsg(ctx));
        const char *om[] = {"omega"};
        double w_src = omega, w_tgt = omega_t;
        NS_CHECK(ns_pop_set_params(net, src, om, &w_src, 1) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_pop_set_params(net, tgt, om, &w_tgt, 1) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_pop_set_params(net, sp, om, &w_tgt, 1) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_pop_set_state_array(net, src, "phi", phi) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_connect_graded(net, src, tgt, Wd, D * dt) == 0, "dense, both components: %s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_connect_graded(net, src, cs, Wd, D * dt) != 0 && strstr(ns_ctx_errmsg(ctx), "2 values wide"),
                 "two components onto a one-wide input refused: %s", ns_ctx_errmsg(ctx));
        ns_graded_spec pick = {.w = Wd, .delay_ms = D * dt, .pick = 1, .component = 1};
        NS_CHECK(ns_net_connect_graded_spec(net, src, cs, &pick) == 0, "dense, cos alone: %s", ns_ctx_errmsg(ctx));
        pick.component = 2;
        NS_CHECK(ns_net_connect_graded_spec(net, src, cs, &pick) != 0 && strstr(ns_ctx_errmsg(ctx), "outside [0, 1]"),
                 "component 2 of 2 refused: %s", ns_ctx_errmsg(ctx));
        uint32_t pre[NE], post[NE];
        double w[NE], d[NE];
        for (int k = 0; k < NE; k++) pre[k] = E[k].pre, post[k] = E[k].post, w[k] = E[k].w, d[k] = E[k].d * dt;
        ns_graded_spec es = {.delay_ms = dt, .n_edges = NE, .pre = pre, .post = post, .weights = w, .delays = d};
        NS_CHECK(ns_net_connect_graded_spec(net, src, sp, &es) == 0, "edges: %s", ns_ctx_errmsg(ctx));
        post[2] = NT;
        NS_CHECK(ns_net_connect_graded_spec(net, src, sp, &es) != 0 && strstr(ns_ctx_errmsg(ctx), "connection 2: post 3"),
                 "an edge outside the target refused: %s", ns_ctx_errmsg(ctx));
        post[2] = E[2].post;
        d[3] = 0.5 * dt;
        NS_CHECK(ns_net_connect_graded_spec(net, src, sp, &es) != 0 && strstr(ns_ctx_errmsg(ctx), "shorter than dt"),
                 "an edge delay below dt refused: %s", ns_ctx_errmsg(ctx));
        double worst = 0.0, seen = 0.0;
        for (int s = 1; s <= STEPS; s++) {
            NS_CHECK(ns_net_run(net, dt) == 0, "%s", ns_ctx_errmsg(ctx));
            double S[NT], C[NT], R[NT], S2[NT], C2[NT], R2[NT];
            closed_form(dense, nd, phi, s, S, C, R);
            closed_form(E, NE, phi, s, S2, C2, R2);
            for (int i = 0; i < NT; i++) {
                const double got[7] = {ns_pop_get_state(tgt, "S", (size_t)i), ns_pop_get_state(tgt, "C", (size_t)i),
                                       ns_pop_get_state(tgt, "R", (size_t)i), ns_pop_get_state(cs, "sum", (size_t)i),
                                       ns_pop_get_state(sp, "S", (size_t)i), ns_pop_get_state(sp, "C", (size_t)i),
                                       ns_pop_get_state(sp, "R", (size_t)i)};
                const double want[7] = {S[i], C[i], R[i], C[i], S2[i], C2[i], R2[i]};
                for (int q = 0; q < 7; q++) {
                    worst = fmax(worst, fabs(got[q] - want[q]));
                    seen = fmax(seen, fabs(want[q]));
                }
                if (s == STEPS)
                    for (int q = 0; q < 4; q++) fin[threads - 1][q][i] = got[q < 3 ? q + 4 : 0];
            }
        }
        NS_CHECK(worst < 1e-12 && seen > 1.0, "%d thread(s): sin, cos, Kuramoto sums of a two-wide output (dense, "
                 "picked, sparse edges with per-edge delays) within 1e-12 of the closed form at every step (worst %.3g, "
                 "largest %.3g)", threads, worst, seen);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    NS_CHECK(memcmp(fin[0], fin[1], sizeof fin[0]) == 0, "1 and 2 threads give identical sums");
}

/* ultradlif (the library's ring) stepped by every thread as a team: spikes from a source arrive in
 * blocks of two threads' cuts (unit 18 is the first of the second block for 2 threads), the ring
 * couples across the cuts; every step's V_m and the soft spikes (summed by an integrator through a
 * graded identity) equal a sequential recomputation from neuron_eq.h, and 1, 2 and 3 threads
 * give byte-identical V_m, sums and spike counts. */
enum { RN = 37, RSTEPS = 60 };

static void team_ring(void)
{
    double V0[RN], b[RN], tau[RN];
    for (int i = 0; i < RN; i++) {
        V0[i] = 0.8 * sin(1.3 * i);
        b[i] = -0.45 + 0.6 * cos(0.7 * i);
        tau[i] = 0.6 + 0.35 * sin(0.5 * i) * sin(0.5 * i);
    }
    /* the source: unit 0 spikes every 3 ms from 3 ms, unit 1 every 5 ms from 5 ms (dt 1 ms: a spike
     * at t is emitted in step t - 1) */
    enum { NSP0 = 19, NSP = NSP0 + 11 };
    size_t off[3] = {0, NSP0, NSP};
    double times[NSP];
    int emit[NSP];
    for (int q = 0; q < NSP; q++) {
        times[q] = q < NSP0 ? 3.0 * (q + 1) : 5.0 * (q - NSP0 + 1);
        emit[q] = (int)times[q] - 1;
    }
    uint32_t pre[4] = {0, 0, 1, 1}, post[4] = {4, 18, 36, 17};
    const double w[4] = {2.0, -1.5, 3.0, 0.75}, d[4] = {1.0, 2.0, 1.0, 3.0};
    /* the sequential recomputation */
    double ref_V[RSTEPS][RN], ref_sum[RN] = {0}, V[RN];
    long ref_spikes = 0;
    memcpy(V, V0, sizeof V);
    for (int s = 0; s < RSTEPS; s++) {
        double in[RN] = {0}, W[RN], sp[RN];
        for (int e = 0; e < 4; e++)
            for (size_t q = off[pre[e]]; q < off[pre[e] + 1]; q++)
                if (emit[q] + (int)d[e] == s) in[post[e]] += (double)(float)w[e];
        for (int i = 0; i < RN; i++) W[i] = tau[i] * V[i] + in[i] + b[i];
        for (int i = 0; i < RN; i++) {
            const double u = ns_eq_lse3(W[(i + RN - 1) % RN], W[i], W[(i + 1) % RN], 1.0, NULL, NULL);
            V[i] = ns_eq_ring_spike(W[i], u, 0.0, 1.0, &sp[i]);
            ref_spikes += sp[i] >= 0.5;
            if (s < RSTEPS - 1) ref_sum[i] += sp[i]; /* the integrator gets step s in step s + 1 */
        }
        memcpy(ref_V[s], V, sizeof V);
    }
    double late = 0.0; /* the ring still moves at the end: the last check is not of a fixed point */
    for (int i = 0; i < RN; i++) late = fmax(late, fabs(ref_V[RSTEPS - 1][i] - ref_V[RSTEPS - 2][i]));
    NS_CHECK(late > 1e-3 && ref_spikes > 100 && ref_spikes < RN * RSTEPS - 100,
             "the ring moves to its last step (%.3g) and spikes in part (%ld of %d)", late, ref_spikes, RN * RSTEPS);
    double fin[3][2][RN], tiny_v[3][2];
    long spikes[3];
    static double eye[RN * RN];
    for (int i = 0; i < RN; i++) eye[i * RN + i] = 1.0;
    for (int threads = 1; threads <= 3; threads++) {
        ns_ctx *ctx = test_ctx(7, threads);
        ns_net *net = ns_net_create(ctx, 1.0);
        ns_pop *src = ns_net_add_spike_source(net, 2, off, times, "src");
        ns_pop *ring = ns_net_add_population(net, "ultradlif", RN, "ring");
        ns_pop *sum = ns_net_add_population(net, "integrator", RN, "sum");
        ns_pop *tiny = ns_net_add_population(net, "ultradlif", 2, "tiny"); /* fewer units than threads */
        NS_CHECK(ns_pop_set_state_array(net, tiny, "V_m", V0 + 1) == 0 && ns_pop_set_state_array(net, tiny, "b", b) == 0,
                 "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_pop_set_state_array(net, ring, "V_m", V0) == 0 && ns_pop_set_state_array(net, ring, "b", b) == 0 &&
                     ns_pop_set_state_array(net, ring, "tau", tau) == 0, "%s", ns_ctx_errmsg(ctx));
        ns_conn_spec spec = {.rule = NS_RULE_LIST, .delay = {NS_DIST_CONST, 1.0, 0}, .n_pairs = 4, .pre = pre,
                             .post = post, .weights = w, .delays = d};
        NS_CHECK(ns_net_connect(net, src, ring, &spec) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_connect_graded(net, ring, sum, eye, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
        double worst = 0.0;
        for (int s = 0; s < RSTEPS; s++) {
            NS_CHECK(ns_net_run(net, s < 20 ? 1.0 : s == 20 ? 40.0 : 0.0) == 0, "%s", ns_ctx_errmsg(ctx));
            if (s > 20) continue; /* step by step, then the rest in one run of windows */
            const int at = s < 20 ? s : RSTEPS - 1;
            for (int i = 0; i < RN; i++) worst = fmax(worst, fabs(ns_pop_get_state(ring, "V_m", (size_t)i) - ref_V[at][i]));
        }
        double worst_sum = 0.0;
        for (int i = 0; i < RN; i++) {
            fin[threads - 1][0][i] = ns_pop_get_state(ring, "V_m", (size_t)i);
            fin[threads - 1][1][i] = ns_pop_get_state(sum, "sum", (size_t)i);
            worst_sum = fmax(worst_sum, fabs(fin[threads - 1][1][i] - ref_sum[i]));
        }
        spikes[threads - 1] = (long)ns_pop_n_spikes(ring);
        for (int i = 0; i < 2; i++) tiny_v[threads - 1][i] = ns_pop_get_state(tiny, "V_m", (size_t)i);
        NS_CHECK(worst < 1e-12 && worst_sum < 1e-11 && spikes[threads - 1] == ref_spikes && ref_spikes > 10,
                 "%d thread(s): the ring's V_m every step within 1e-12 of the sequential recomputation (worst %.3g), "
                 "its soft spikes' sums (worst %.3g), %ld spikes (want %ld)", threads, worst, worst_sum,
                 spikes[threads - 1], ref_spikes);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    NS_CHECK(memcmp(fin[0], fin[1], sizeof fin[0]) == 0 && memcmp(fin[0], fin[2], sizeof fin[0]) == 0 &&
                 spikes[0] == spikes[1] && spikes[0] == spikes[2] && !memcmp(tiny_v[0], tiny_v[1], sizeof tiny_v[0]) &&
                 !memcmp(tiny_v[0], tiny_v[2], sizeof tiny_v[0]),
             "1, 2 and 3 threads give byte-identical V_m, sums and spike counts (and a 2-unit ring on 3 threads)");
}

int main(void)
{
    wide_and_sparse();
    team_ring();
    NS_TEST_MAIN_END();
}
