/* tests/test_stdp.c — STDP (sim/plastic.c) against truth: the closed-form weight change of one
 * pre/post pair at every delta t in [-100, 100] ms (pair rule additive and multiplicative, triplet
 * rule), the whole delay dendritic; random trains against an event-by-event recomputation written
 * here; the mean drift of Poisson pairs against the rule's rate prediction; 1 and 2 threads
 * bit-identical; the weight records recomputed; bad parameters refused. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "models/input.h"
#include "sim/plastic.h"
#include "tests/harness.h"
#include "tests/testlib.h"

/* ---- a test neuron: fires at t1 and t2 (ms, < 0: never) and, independently in each step, with
 * probability rate dt (a Bernoulli process, Poisson in the limit); its input is read and dropped ---- */

typedef struct {
    double t1, t2, rate, salt;
} clk_params;

static const ns_state_var clk_state[] = {{"n", "1", "spikes emitted", 0, NS_BOUND_ANY}};
static const ns_param clk_table[] = {
    {"t1", "ms", "a spike time", -1, -HUGE_VAL, HUGE_VAL, offsetof(clk_params, t1)},
    {"t2", "ms", "a spike time", -1, -HUGE_VAL, HUGE_VAL, offsetof(clk_params, t2)},
    {"rate", "Hz", "Bernoulli rate", 0, 0, 1e4, offsetof(clk_params, rate)},
    {"salt", "1", "random stream", 0, 0, 1e9, offsetof(clk_params, salt)}};
static const ns_in_port clk_in[] = {{"spikes", "pA", NS_PORT_EVENT, 0, NULL, 0}};
static const ns_out_port clk_out[] = {{"spikes", "1", NS_OUT_SPIKES, 0, NULL}};

static int clk_step(const ns_step_args *a)
{
    const clk_params *p = a->params;
    const int64_t s1 = p->t1 >= 0 ? llround(p->t1 / a->dt) : -1, s2 = p->t2 >= 0 ? llround(p->t2 / a->dt) : -1;
    const double pr = p->rate * a->dt * 1e-3;
    for (int k = 0; k < a->nsteps; k++) {
        const int64_t stamp = a->step0 + k + 1; /* the spike's time, in steps */
        double *row = ns_input_row(a, 0, k);
        for (size_t i = a->lo; i < a->hi; i++) {
            if (row) row[i] = 0.0;
            int fire = stamp == s1 || stamp == s2;
            if (pr > 0) {
                double u[4];
                ns_rng_u01x4(1234567, 99, (uint32_t)p->salt, (uint32_t)i, (uint32_t)stamp, u);
                fire |= u[0] < pr;
            }
            if (fire) {
                a->state[0][i] += 1;
                if (ns_spikebuf_push(a->out, k, (uint32_t)i)) return -1;
            }
        }
    }
    return 0;
}

static const ns_model clk_model = {
    .version = NS_MODEL_VERSION, .name = "test_clock", .doc = "test neuron firing at given times or at random",
    .kind = NS_KIND_SPIKING, .state = clk_state, .n_state = 1, .params = clk_table, .n_params = 4,
    .params_size = sizeof(clk_params), .inputs = clk_in, .n_inputs = 1, .outputs = clk_out, .n_outputs = 1,
    .step = clk_step,
};

static void die(ns_ctx *ctx, const char *what)
{
    printf("%s: %s\n", what, ns_ctx_errmsg(ctx));
    exit(1);
}

static ns_pop *clock_pop(ns_ctx *ctx, ns_net *net, size_t n, const char *name, const double *t1, const double *t2,
                         double rate, double salt)
{
    ns_pop *p = ns_net_add_population_of(net, &clk_model, n, name);
    if (!p) die(ctx, name);
    const char *names[] = {"rate", "salt"};
    double vals[] = {rate, salt};
    if (ns_pop_set_params(net, p, names, vals, 2)) die(ctx, "params");
    if (t1 && ns_pop_set_param_array(net, p, "t1", t1)) die(ctx, "t1");
    if (t2 && ns_pop_set_param_array(net, p, "t2", t2)) die(ctx, "t2");
    return p;
}

/* ---- the rule written out again, from its equations ---- */

/* One weight change at a post spike's arrival (pre trace kp; ky the post trace o2 just before
 * that post spike) or at a pre spike (post trace km; kx the pre trace r2 just before it). */
static double ref_up(const ns_stdp *p, double w, double kp, double ky)
{
    if (p->rule == NS_STDP_PAIR) {
        double x = w / p->wmax;
        x += p->lambda * pow(1 - x, p->mu_plus) * kp;
        return (x > 1 ? 1 : x) * p->wmax;
    }
    double x = w + kp * (p->a_plus + p->a_plus_triplet * ky);
    return x > p->wmax ? p->wmax : x;
}

static double ref_down(const ns_stdp *p, double w, double km, double kx)
{
    if (p->rule == NS_STDP_PAIR) {
        double x = w / p->wmax;
        x -= p->alpha * p->lambda * pow(x, p->mu_minus) * km;
        return (x < 0 ? 0 : x) * p->wmax;
    }
    double x = w - km * (p->a_minus + p->a_minus_triplet * kx);
    return x < 0 ? 0 : x;
}

/* The weight after pre spikes at tp[] and post spikes at tq[] (ms, ascending), delay d (ms, all
 * dendritic: post spike j acts at the synapse at tq[j] + d), event by event in time order; each
 * trace a sum over the spikes strictly before (a pre spike and a post arrival at one time do not
 * pair). Positive Wmax. */
static double ref_weight(const ns_stdp *p, double w, const double *tp, int np, const double *tq, int nq, double d)
{
    int i = 0, j = 0;
    const double eps = 1e-9;
    while (i < np || j < nq) {
        double t_pre = i < np ? tp[i] : HUGE_VAL, t_arr = j < nq ? tq[j] + d : HUGE_VAL;
        if (j < nq && t_arr <= t_pre + eps) { /* a post arrival (first at a tie: neither sees the other) */
            double kp = 0, ky = 0;
            for (int a = 0; a < np && tp[a] < t_arr - eps; a++) kp += exp(-(t_arr - tp[a]) / p->tau_plus);
            for (int b = 0; b < j; b++) ky += exp(-(tq[j] - tq[b]) / p->tau_minus_triplet);
            if (kp > 0) w = ref_up(p, w, kp, ky);
            j++;
        } else {
            double km = 0, kx = 0;
            for (int b = 0; b < nq && tq[b] + d < t_pre - eps; b++) km += exp(-(t_pre - tq[b] - d) / p->tau_minus);
            for (int a = 0; a < i; a++) kx += exp(-(t_pre - tp[a]) / p->tau_plus_triplet);
            if (km > 0) w = ref_down(p, w, km, kx);
            i++;
        }
    }
    return w;
}

static ns_stdp pair_rule(double mu)
{
    ns_stdp s;
    ns_stdp_defaults(&s, NS_STDP_PAIR);
    s.tau_plus = 16.8;
    s.tau_minus = 33.7;
    s.lambda = 0.01;
    s.alpha = 1.05;
    s.mu_plus = s.mu_minus = mu;
    s.wmax = 100;
    return s;
}

static ns_stdp triplet_rule(void)
{
    ns_stdp s;
    ns_stdp_defaults(&s, NS_STDP_TRIPLET);
    s.tau_plus = 16.8;
    s.tau_minus = 33.7;
    s.tau_plus_triplet = 101;
    s.tau_minus_triplet = 125;
    s.a_plus = 0.5;
    s.a_minus = 0.7;
    s.a_plus_triplet = 0.9;
    s.a_minus_triplet = 0.3;
    s.wmax = 100;
    return s;
}

/* ---- one pair at every delta t ---- */

enum { NDT = 401 };               /* delta t = -100 .. 100 ms by 0.5 ms */
static const double T_PRE = 200;  /* ms */
static const double DELAY = 1.5;  /* ms: the whole delay dendritic */
static const double W0 = 50;

/* The closed form of one pair: pre at tp, post at tq (so delta t = tq - tp), the post spike at
 * the synapse at ta = tq + d. Post after pre (ta > tp): w/Wmax += lambda (1 - w/Wmax)^mu
 * exp(-(ta - tp)/tau_plus); before (ta < tp): w/Wmax -= alpha lambda (w/Wmax)^mu exp(-(tp -
 * ta)/tau_minus); at ta == tp no change. Triplet: A2+ exp(-(ta - tp)/tau_plus) and -A2-
 * exp(-(tp - ta)/tau_minus) (the third spike's terms need a third spike). */
static double pair_closed_form(const ns_stdp *p, double w, double delta_t, double d)
{
    const double lag = delta_t + d; /* ta - tp */
    if (fabs(lag) < 1e-9) return 0.0;
    if (p->rule == NS_STDP_TRIPLET) return lag > 0 ? p->a_plus * exp(-lag / p->tau_plus) : -p->a_minus * exp(lag / p->tau_minus);
    const double u = w / p->wmax;
    if (lag > 0) return p->wmax * p->lambda * pow(1 - u, p->mu_plus) * exp(-lag / p->tau_plus);
    return -p->wmax * p->alpha * p->lambda * pow(u, p->mu_minus) * exp(lag / p->tau_minus);
}

/* The pair's network: pre unit k fires at T_PRE (and, with probe, again at T_PRE + 150 ms, after
 * which the stored weight is read rather than the one with pending facilitation applied), post
 * unit k at T_PRE + delta_t(k); one_to_one. Returns the weights (NDT). */
static void run_pairs(const ns_stdp *s, int probe, double dt, double *w_out)
{
    ns_ctx *ctx = test_ctx(3, 1);
    ns_net *net = ns_net_create(ctx, dt);
    double t1[NDT], t2[NDT], tq[NDT];
    for (int k = 0; k < NDT; k++) {
        t1[k] = T_PRE;
        t2[k] = probe ? T_PRE + 150 : -1;
        tq[k] = T_PRE - 100 + 0.5 * k;
    }
    ns_pop *pre = clock_pop(ctx, net, NDT, "pre", t1, t2, 0, 0);
    ns_pop *post = clock_pop(ctx, net, NDT, "post", tq, NULL, 0, 1);
    ns_conn_spec spec = {.rule = NS_RULE_ONE_TO_ONE, .weight = {NS_DIST_CONST, W0, 0},
                         .delay = {NS_DIST_CONST, DELAY, 0}, .synapse = s};
    if (ns_net_connect(net, pre, post, &spec)) die(ctx, "connect");
    if (ns_net_run(net, probe ? 400 : 330)) die(ctx, "run");
    NS_CHECK(ns_net_projection_synapses(net, 0) == NDT, "%zu synapses", ns_net_projection_synapses(net, 0));
    uint32_t a[NDT], b[NDT];
    if (ns_net_weights(net, 0, a, b, w_out)) die(ctx, "weights");
    int order = 1;
    for (int k = 0; k < NDT; k++) order &= a[k] == (uint32_t)k && b[k] == (uint32_t)k;
    NS_CHECK(order, "one_to_one synapses in pre order");
    ns_net_free(net);
    test_ctx_free(ctx);
}

static void test_pair_window(void)
{
    const double dts[] = {0.1, 0.5};
    for (int rule = 0; rule < 3; rule++)
        for (int q = 0; q < 2; q++) {
            ns_stdp s = rule == 2 ? triplet_rule() : pair_rule(rule == 0 ? 0.0 : 1.0);
            double w[NDT], worst = 0;
            int worst_k = 0;
            run_pairs(&s, 0, dts[q], w);
            for (int k = 0; k < NDT; k++) {
                double dtk = -100 + 0.5 * k;
                double want = pair_closed_form(&s, W0, dtk, DELAY);
                double err = fabs((w[k] - W0) - want);
                if (!(err <= worst)) {
                    worst = err;
                    worst_k = k;
                }
            }
            /* the stored weight is a float: 50 holds 4e-6 exactly */
            NS_CHECK(worst < 1e-5, "%s mu %g dt %g: delta t %g ms: change %.9g, closed form %.9g",
                     rule == 2 ? "triplet" : "pair", s.mu_plus, dts[q], -100 + 0.5 * worst_k, w[worst_k] - W0,
                     pair_closed_form(&s, W0, -100 + 0.5 * worst_k, DELAY));
            /* the window's shape: potentiation exactly for post arrivals after the pre spike */
            int signs = 1;
            for (int k = 0; k < NDT; k++) {
                double lag = -100 + 0.5 * k + DELAY;
                signs &= lag > 1e-9 ? w[k] > W0 : lag < -1e-9 ? w[k] < W0 : w[k] == W0;
            }
            NS_CHECK(signs, "%s: w grows for delta t > -d, falls for delta t < -d, stays at delta t = -d",
                     rule == 2 ? "triplet" : "pair");
        }
    /* with a second pre spike 150 ms later the pending facilitation is applied and stored, and the
     * probe's own depression follows: against the event-by-event recomputation */
    for (int rule = 0; rule < 3; rule++) {
        ns_stdp s = rule == 2 ? triplet_rule() : pair_rule(rule == 0 ? 0.0 : 1.0);
        double w[NDT], worst = 0;
        run_pairs(&s, 1, 0.1, w);
        for (int k = 0; k < NDT; k++) {
            double tp[2] = {T_PRE, T_PRE + 150}, tq[1] = {T_PRE - 100 + 0.5 * k};
            double want = ref_weight(&s, W0, tp, 2, tq, 1, DELAY);
            if (fabs(w[k] - want) > worst) worst = fabs(w[k] - want);
        }
        NS_CHECK(worst < 1e-5, "%s with a probe spike: largest error %g", rule == 2 ? "triplet" : "pair", worst);
    }
}

/* The triplet terms: a pre spike with two post spikes 20 ms apart (A3+: the second post spike
 * sees o2 = exp(-20/tau_y)), and two pre spikes 20 ms apart with one post spike (A3-), at every
 * offset, against the closed forms written out. */
static void test_triplet_terms(void)
{
    const ns_stdp s = triplet_rule();
    const double dt = 0.1, gap = 20;
    ns_ctx *ctx = test_ctx(3, 1);
    ns_net *net = ns_net_create(ctx, dt);
    double pre1[NDT], none[NDT], q1[NDT], q2[NDT], p1[NDT], p2[NDT], qq[NDT];
    for (int k = 0; k < NDT; k++) {
        const double off = -100 + 0.5 * k;
        pre1[k] = T_PRE;
        none[k] = -1;
        q1[k] = T_PRE + off;
        q2[k] = T_PRE + off + gap;
        p1[k] = T_PRE;
        p2[k] = T_PRE + gap;
        qq[k] = T_PRE + off;
    }
    ns_pop *a_pre = clock_pop(ctx, net, NDT, "a_pre", pre1, none, 0, 0);
    ns_pop *a_post = clock_pop(ctx, net, NDT, "a_post", q1, q2, 0, 1);
    ns_pop *b_pre = clock_pop(ctx, net, NDT, "b_pre", p1, p2, 0, 2);
    ns_pop *b_post = clock_pop(ctx, net, NDT, "b_post", qq, none, 0, 3);
    ns_conn_spec spec = {.rule = NS_RULE_ONE_TO_ONE, .weight = {NS_DIST_CONST, W0, 0},
                         .delay = {NS_DIST_CONST, DELAY, 0}, .synapse = &s};
    if (ns_net_connect(net, a_pre, a_post, &spec) || ns_net_connect(net, b_pre, b_post, &spec)) die(ctx, "connect");
    if (ns_net_run(net, 400)) die(ctx, "run");
    double wa[NDT], wb[NDT];
    if (ns_net_weights(net, 0, NULL, NULL, wa) || ns_net_weights(net, 1, NULL, NULL, wb)) die(ctx, "weights");
    const double Ap = s.a_plus, Am = s.a_minus, A3p = s.a_plus_triplet, A3m = s.a_minus_triplet;
    double worst_a = 0, worst_b = 0;
    for (int k = 0; k < NDT; k++) {
        const double off = -100 + 0.5 * k;
        /* a: pre at 0, post arrivals at x1 = off + d and x2 = x1 + gap (relative to the pre spike) */
        const double x1 = off + DELAY, x2 = x1 + gap;
        double want = 0;
        if (x1 > 1e-9) want += Ap * exp(-x1 / s.tau_plus);
        if (x2 > 1e-9) want += exp(-x2 / s.tau_plus) * (Ap + A3p * exp(-gap / s.tau_minus_triplet));
        if (x1 < -1e-9) want -= Am * exp(x1 / s.tau_minus); /* the pre spike meets o1 of both (r2 = 0) */
        if (x2 < -1e-9) want -= Am * exp(x2 / s.tau_minus);
        worst_a = fmax(worst_a, fabs(wa[k] - W0 - want));
        /* b: pre at 0 and gap, one post arrival at y = off + d */
        const double y = off + DELAY;
        double wb_want = 0;
        if (y > 1e-9) wb_want += Ap * exp(-y / s.tau_plus) + (y > gap + 1e-9 ? Ap * exp(-(y - gap) / s.tau_plus) : 0);
        if (y < -1e-9) wb_want -= Am * exp(y / s.tau_minus); /* depression at the first pre (r2 = 0) */
        if (y < gap - 1e-9) wb_want -= exp(-(gap - y) / s.tau_minus) * (Am + A3m * exp(-gap / s.tau_plus_triplet));
        worst_b = fmax(worst_b, fabs(wb[k] - W0 - wb_want));
    }
    NS_CHECK(worst_a < 1e-5, "triplet, post-post after a pre: largest error %g", worst_a);
    NS_CHECK(worst_b < 1e-5, "triplet, pre-pre around a post: largest error %g", worst_b);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* ---- random trains ---- */

enum { NR = 24 };

typedef struct {
    uint32_t pre[NR * NR], post[NR * NR];
    double delay[NR * NR];
    double w[NR * NR];
    size_t n;
} rand_net;

/* NR x NR synapses with delays of 0.5 .. 6 ms, Bernoulli trains of 12 Hz (pre units 0 and 1 fire
 * only once, at 50 ms: silent longer than the engine's horizon, their pending facilitation is
 * applied by the engine's sweep; post units 0 and 1 once, at 60 ms: their one spike's trace must
 * outlive the history's pruning), 2600 ms. Spike times into *spk (pre ids 0 .. NR-1, post NR ..). */
static void run_random(const ns_stdp *s, int threads, rand_net *r, test_spikes *spk, const char *wfile)
{
    ns_ctx *ctx = test_ctx(11, threads);
    ns_net *net = ns_net_create(ctx, 0.1);
    double once[NR], none[NR];
    for (int k = 0; k < NR; k++) {
        once[k] = k < 2 ? 50 : -1;
        none[k] = -1;
    }
    ns_pop *pre = clock_pop(ctx, net, NR, "pre", once, none, 12, 5);
    double once_post[NR];
    for (int k = 0; k < NR; k++) once_post[k] = k < 2 ? 60 : -1;
    ns_pop *post = clock_pop(ctx, net, NR, "post", once_post, none, 12, 6);
    double rates[NR];
    for (int k = 0; k < NR; k++) rates[k] = k < 2 ? 0 : 12;
    if (ns_pop_set_param_array(net, pre, "rate", rates) || ns_pop_set_param_array(net, post, "rate", rates)) die(ctx, "rates");
    double dl[NR * NR], wl[NR * NR];
    uint32_t pi[NR * NR], qi[NR * NR];
    size_t n = 0;
    for (int j = NR - 1; j >= 0; j--) /* listed out of order on purpose */
        for (int i = 0; i < NR; i++) {
            pi[n] = (uint32_t)i;
            qi[n] = (uint32_t)j;
            dl[n] = 0.5 + 0.1 * (double)((i * 7 + j * 13) % 56);
            wl[n] = 20 + (double)((i * 5 + j * 3) % 60);
            n++;
        }
    ns_conn_spec spec = {.rule = NS_RULE_LIST, .delay = {NS_DIST_CONST, 1, 0}, .n_pairs = n, .pre = pi, .post = qi, .weights = wl, .delays = dl,
                         .synapse = s};
    if (ns_net_connect(net, pre, post, &spec)) die(ctx, "connect");
    ns_pop *both[2] = {pre, post};
    if (ns_net_record_spikes(net, both, 2, "spikes.csv")) die(ctx, "record");
    if (wfile && ns_net_record_weights(net, 0, NULL, 9, 100, wfile, "w_matrix.csv")) die(ctx, "record_weights");
    if (ns_net_run(net, 1300) || ns_net_run(net, 1300)) die(ctx, "run"); /* two runs continue */
    r->n = ns_net_projection_synapses(net, 0);
    if (ns_net_weights(net, 0, r->pre, r->post, r->w)) die(ctx, "weights");
    /* the list's delays, found again for each synapse of the weight order */
    for (size_t k = 0; k < r->n; k++) r->delay[k] = 0.5 + 0.1 * (double)((r->pre[k] * 7 + r->post[k] * 13) % 56);
    *spk = test_read_spikes(ctx, "spikes.csv");
    if (wfile) {
        /* the records: the matrix is what ns_net_weights says; the sample rows are the matrix's
         * rows of synapses floor(s N / 9) at every 100 ms, the last equal to the matrix, the first
         * the weights given */
        size_t len;
        char *m = test_slurp(ctx, "w_matrix.csv", &len), *sm = test_slurp(ctx, wfile, &len);
        NS_CHECK(m && !strncmp(m, "synapse,pre,post,weight\n", 24), "matrix header");
        NS_CHECK(sm && !strncmp(sm, "t_ms,synapse,pre,post,weight\n", 29), "sample header");
        size_t rows = 0, good = 0;
        char *p = m ? strchr(m, '\n') : NULL;
        while (p && p[1]) {
            unsigned long syn, a, b;
            double w;
            if (sscanf(p + 1, "%lu,%lu,%lu,%lf", &syn, &a, &b, &w) != 4) break;
            good += syn == rows && a == r->pre[rows] && b == r->post[rows] && (float)w == (float)r->w[rows];
            rows++;
            p = strchr(p + 1, '\n');
        }
        NS_CHECK(rows == r->n && good == r->n, "matrix: %zu rows, %zu equal to ns_net_weights (of %zu)", rows, good, r->n);
        size_t srows = 0, sgood = 0, at_end = 0, at_start = 0;
        p = sm ? strchr(sm, '\n') : NULL;
        while (p && p[1]) {
            double t, w;
            unsigned long syn, a, b;
            if (sscanf(p + 1, "%lf,%lu,%lu,%lu,%lf", &t, &syn, &a, &b, &w) != 5) break;
            size_t want_syn = (size_t)((double)(srows % 9) * (double)r->n / 9.0);
            long tk = lround(t);
            sgood += syn == want_syn && a == r->pre[syn] && b == r->post[syn] && tk == 100 * (long)(srows / 9) &&
                     fabs(t - (double)tk) < 1e-9;
            if (tk == 2600) at_end += (float)w == (float)r->w[syn];
            if (tk == 0) at_start += w == 20 + (double)((a * 5 + b * 3) % 60);
            srows++;
            p = strchr(p + 1, '\n');
        }
        NS_CHECK(srows == 27 * 9 && sgood == srows, "sample: %zu rows (27 times x 9), %zu as expected", srows, sgood);
        NS_CHECK(at_end == 9 && at_start == 9, "sample at 2600 ms equals the matrix (%zu of 9), at 0 the given (%zu)",
                 at_end, at_start);
        free(m);
        free(sm);
    }
    ns_net_free(net);
    test_ctx_free(ctx);
}

static void test_random_trains(void)
{
    for (int rule = 0; rule < 2; rule++) {
        ns_stdp s = rule ? triplet_rule() : pair_rule(0.5);
        if (!rule) s.tau_minus = 300; /* post spikes matter for long: the history's pruning shows */
        if (rule) s.a_plus = 0.05, s.a_minus = 0.07, s.a_plus_triplet = 0.09, s.a_minus_triplet = 0.03;
        rand_net *one = malloc(sizeof *one), *two = malloc(sizeof *two);
        test_spikes sp1, sp2;
        run_random(&s, 1, one, &sp1, rule ? NULL : "w_sample.csv");
        run_random(&s, 2, two, &sp2, NULL);
        NS_CHECK(one->n == NR * NR && two->n == one->n && !memcmp(one->w, two->w, sizeof one->w) &&
                     !memcmp(one->pre, two->pre, sizeof one->pre) && !memcmp(one->post, two->post, sizeof one->post),
                 "%s: 1 and 2 threads give bit-identical weights", rule ? "triplet" : "pair");
        double worst = 0, moved = 0;
        size_t worst_k = 0;
        for (size_t k = 0; k < one->n; k++) {
            double tp[512], tq[512];
            int np = 0, nq = 0;
            for (size_t e = 0; e < sp1.n; e++) {
                if (sp1.id[e] == (long)one->pre[k] && np < 512) tp[np++] = sp1.t[e];
                if (sp1.id[e] == NR + (long)one->post[k] && nq < 512) tq[nq++] = sp1.t[e];
            }
            double w0 = 20 + (double)((one->pre[k] * 5 + one->post[k] * 3) % 60);
            double want = ref_weight(&s, w0, tp, np, tq, nq, one->delay[k]);
            moved = fmax(moved, fabs(want - w0));
            if (fabs(one->w[k] - want) > worst) {
                worst = fabs(one->w[k] - want);
                worst_k = k;
            }
        }
        NS_CHECK(worst < 2e-4 && moved > 1, "%s: random trains, largest error %g (synapse %zu), largest change %g",
                 rule ? "triplet" : "pair", worst, worst_k, moved);
        test_spikes_free(&sp1);
        test_spikes_free(&sp2);
        free(one);
        free(two);
    }
}

/* A plastic recurrent lif network with delays of 1 .. 8 ms and a fast static projection (windows of
 * a step, so spikes wait several windows in flight): its weights with input as dense rows and with
 * event lists asked for. A plastic projection's target takes dense rows either way (a spike adds
 * the weight its synapse had at the pre spike), so the two runs agree to the bit. */
static void run_lif(int mode, int threads, double *w, size_t *n)
{
    ns_ctx *ctx = test_ctx(4, threads);
    ns_net *net = ns_net_create(ctx, 0.1);
    if (ns_net_set_input_mode(net, mode)) die(ctx, "mode");
    ns_pop *e = ns_net_add_population(net, "lif", 80, "E");
    ns_pop *f = ns_net_add_population(net, "lif", 10, "F");
    if (!e || !f) die(ctx, "lif");
    if (ns_net_add_poisson(net, e, 9000, 22, 0, HUGE_VAL)) die(ctx, "poisson");
    ns_stdp s = pair_rule(0);
    s.wmax = 60;
    ns_conn_spec spec = {.rule = NS_RULE_FIXED_INDEGREE, .K = 20, .weight = {NS_DIST_UNIFORM, 10, 40},
                         .delay = {NS_DIST_UNIFORM, 1, 8}, .synapse = &s};
    if (ns_net_connect(net, e, e, &spec)) die(ctx, "plastic");
    ns_conn_spec fast = {.rule = NS_RULE_ALL_TO_ALL, .weight = {NS_DIST_CONST, 1, 0}, .delay = {NS_DIST_CONST, 0.1, 0}};
    if (ns_net_connect(net, f, e, &fast)) die(ctx, "fast");
    static double w0[1600];
    if (ns_net_weights(net, 0, NULL, NULL, w0)) die(ctx, "weights before");
    if (ns_net_run(net, 400)) die(ctx, "run");
    *n = ns_net_projection_synapses(net, 0);
    if (ns_net_weights(net, 0, NULL, NULL, w)) die(ctx, "weights");
    size_t moved = 0;
    for (size_t k = 0; k < *n && k < 1600; k++) moved += w[k] != w0[k];
    NS_CHECK(ns_pop_n_spikes(e) > 200 && moved > 800, "E fired %lld spikes, %zu weights changed",
             (long long)ns_pop_n_spikes(e), moved);
    ns_net_free(net);
    test_ctx_free(ctx);
}

static void test_input_modes(void)
{
    static double wd[1600], ws[1600], w2[1600];
    size_t nd, ns, n2;
    run_lif(NS_INPUT_DENSE, 1, wd, &nd);
    run_lif(NS_INPUT_SPARSE, 1, ws, &ns);
    run_lif(NS_INPUT_SPARSE, 2, w2, &n2);
    NS_CHECK(nd == 1600 && ns == nd && n2 == nd && !memcmp(wd, ws, sizeof wd) && !memcmp(wd, w2, sizeof wd),
             "plastic lif network: dense rows, event lists asked for, and 2 threads give the same weights");
}

/* ---- the drift of independent Poisson (Bernoulli) pairs ---- */

/* N independent synapses (one_to_one), pre at rho_pre, post at rho_post (Hz), for T ms at step dt;
 * the mean weight change per second against the prediction, within 4 standard errors of the
 * mean (the synapses' own spread). The prediction is the rule's expectation for trains that fire
 * in each step with probability p = rho dt: a trace just before a spike of the other side (or its
 * own) is on average p q / (1 - q), q = exp(-dt / tau) (rho tau as dt -> 0); pair additive:
 * rho_pre rho_post (A+ tau+ - A- tau-) with A+ = lambda Wmax, A- = alpha lambda Wmax; triplet
 * (Pfister & Gerstner 2006): rho_pre rho_post [tau+ (A2+ + A3+ rho_post tau_y) - tau- (A2- + A3-
 * rho_pre tau_x)]. */
static void drift(const ns_stdp *s, double rho_pre, double rho_post, double w0)
{
    enum { N = 1000 };
    const double dt = 0.5, T = 20000;
    ns_ctx *ctx = test_ctx(21, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *pre = clock_pop(ctx, net, N, "pre", NULL, NULL, rho_pre, 7);
    ns_pop *post = clock_pop(ctx, net, N, "post", NULL, NULL, rho_post, 8);
    ns_conn_spec spec = {.rule = NS_RULE_ONE_TO_ONE, .weight = {NS_DIST_CONST, w0, 0},
                         .delay = {NS_DIST_CONST, 2.0, 0}, .synapse = s};
    if (ns_net_connect(net, pre, post, &spec)) die(ctx, "connect");
    if (ns_net_run(net, T)) die(ctx, "run");
    static double w[N];
    if (ns_net_weights(net, 0, NULL, NULL, w)) die(ctx, "weights");
    double mean = 0, var = 0, lo = HUGE_VAL, hi = -HUGE_VAL;
    for (int k = 0; k < N; k++) mean += (w[k] - w0) / N;
    for (int k = 0; k < N; k++) {
        var += (w[k] - w0 - mean) * (w[k] - w0 - mean) / (N - 1);
        lo = fmin(lo, w[k]);
        hi = fmax(hi, w[k]);
    }
    const double sec = T * 1e-3, se = sqrt(var / N) / sec, got = mean / sec;
    const double pp = rho_pre * dt * 1e-3, pq = rho_post * dt * 1e-3, per_s = 1000 / dt;
#define TRACE(p, tau) ((p) * exp(-dt / (tau)) / (1 - exp(-dt / (tau))))
    double want, cont;
    if (s->rule == NS_STDP_PAIR) {
        want = per_s * (pq * s->lambda * s->wmax * TRACE(pp, s->tau_plus) -
                        pp * s->alpha * s->lambda * s->wmax * TRACE(pq, s->tau_minus));
        cont = rho_pre * rho_post * s->lambda * s->wmax * (s->tau_plus - s->alpha * s->tau_minus) * 1e-3;
    } else {
        want = per_s * (pq * TRACE(pp, s->tau_plus) * (s->a_plus + s->a_plus_triplet * TRACE(pq, s->tau_minus_triplet)) -
                        pp * TRACE(pq, s->tau_minus) * (s->a_minus + s->a_minus_triplet * TRACE(pp, s->tau_plus_triplet)));
        cont = rho_pre * rho_post * 1e-3 *
               (s->tau_plus * (s->a_plus + s->a_plus_triplet * rho_post * s->tau_minus_triplet * 1e-3) -
                s->tau_minus * (s->a_minus + s->a_minus_triplet * rho_pre * s->tau_plus_triplet * 1e-3));
    }
#undef TRACE
    NS_CHECK(lo > 0 && hi < s->wmax, "%s: no weight reached a bound (%g .. %g)", s->rule ? "triplet" : "pair", lo, hi);
    NS_CHECK(fabs(got - want) <= 4 * se, "%s at %g / %g Hz: drift %.5g per s, predicted %.5g (4 SE = %.3g)",
             s->rule ? "triplet" : "pair", rho_pre, rho_post, got, want, 4 * se);
    NS_CHECK(fabs(want - cont) < 0.05 * fabs(cont), "%s: step-grid prediction %.5g within 5%% of the continuous %.5g",
             s->rule ? "triplet" : "pair", want, cont);
    printf("drift %s %g/%g Hz: %.5g +- %.3g per s, predicted %.5g (continuous %.5g)\n", s->rule ? "triplet" : "pair",
           rho_pre, rho_post, got, se, want, cont);
    ns_net_free(net);
    test_ctx_free(ctx);
}

static void test_drift(void)
{
    ns_stdp p = pair_rule(0);
    p.tau_plus = 20;
    p.tau_minus = 30;
    p.alpha = 0.25;
    p.lambda = 0.002;
    drift(&p, 20, 30, 50);
    ns_stdp t = triplet_rule();
    t.a_plus = 0.002;
    t.a_plus_triplet = 0.004;
    t.a_minus = 0.003;
    t.a_minus_triplet = 0.002;
    drift(&t, 20, 40, 50);
}

/* ---- refusals ---- */

static void test_refusals(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_stdp s = pair_rule(1);
    NS_CHECK(ns_stdp_check(ctx, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    struct {
        const char *name;
        double v;
        const char *says;
    } bad[] = {{"tau_plus", 0, "tau_plus = 0 ms is outside (0, inf)"},
               {"tau_minus", -1, "tau_minus = -1 ms is outside (0, inf)"},
               {"lambda", -0.1, "lambda = -0.1 is outside [0, inf)"},
               {"mu_plus", NAN, "mu_plus = nan is outside [0, inf)"},
               {"Wmax", 0, "Wmax = 0 must be a nonzero finite weight"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ns_stdp b = s;
        NS_CHECK(ns_stdp_set(&b, bad[k].name, bad[k].v) == 0, "%s is a pair parameter", bad[k].name);
        NS_CHECK(ns_stdp_check(ctx, &b) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), bad[k].says), "%s: %s", bad[k].name,
                 ns_ctx_errmsg(ctx));
    }
    NS_CHECK(ns_stdp_set(&s, "Aplus", 1) == -1, "Aplus is not a pair parameter");
    ns_stdp t = triplet_rule();
    NS_CHECK(ns_stdp_set(&t, "lambda", 1) == -1 && ns_stdp_set(&t, "Aminus_triplet", -1) == 0 &&
                 ns_stdp_check(ctx, &t) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "Aminus_triplet = -1"),
             "triplet: %s", ns_ctx_errmsg(ctx));

    ns_net *net = ns_net_create(ctx, 0.1);
    ns_pop *a = clock_pop(ctx, net, 3, "a", NULL, NULL, 0, 0);
    ns_pop *b = clock_pop(ctx, net, 3, "b", NULL, NULL, 0, 1);
    ns_pop *c = ns_net_add_population(net, "integrator", 3, "c");
    ns_conn_spec spec = {.rule = NS_RULE_ALL_TO_ALL, .weight = {NS_DIST_CONST, -5, 0}, .delay = {NS_DIST_CONST, 1, 0},
                         .synapse = &s};
    NS_CHECK(ns_net_connect(net, a, b, &spec) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "weight -5 from a 0 to b 0 is outside [0, 100]"),
             "a weight of the other sign: %s", ns_ctx_errmsg(ctx));
    spec.weight.a = 150;
    NS_CHECK(ns_net_connect(net, a, b, &spec) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "weight 150"),
             "a weight above Wmax: %s", ns_ctx_errmsg(ctx));
    s.wmax = -100;
    spec.weight.a = -5;
    NS_CHECK(ns_net_connect(net, a, b, &spec) == 0, "inhibitory: Wmax -100, weight -5: %s", ns_ctx_errmsg(ctx));
    spec.weight.a = 5;
    NS_CHECK(ns_net_connect(net, a, b, &spec) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "outside [-100, 0]"),
             "weight 5 with Wmax -100: %s", ns_ctx_errmsg(ctx));
    if (c) {
        spec.weight.a = -5;
        NS_CHECK(ns_net_connect(net, a, c, &spec) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "spiking target"),
                 "onto a continuous population: %s", ns_ctx_errmsg(ctx));
    }
    s.wmax = 100;
    spec.weight.a = 5;
    spec.synapse = NULL;
    NS_CHECK(ns_net_connect(net, a, b, &spec) == 0, "static");
    const int k_static = ns_net_n_projections(net) - 1;
    NS_CHECK(ns_net_record_weights(net, k_static, NULL, 3, 1, "w.csv", "m.csv") == NS_EINVAL &&
                 strstr(ns_ctx_errmsg(ctx), "not a plastic one"),
             "weights of a static projection: %s", ns_ctx_errmsg(ctx));
    size_t far[] = {9};
    NS_CHECK(ns_net_record_weights(net, 0, far, 1, 1, "w.csv", "m.csv") == NS_EINVAL &&
                 strstr(ns_ctx_errmsg(ctx), "synapse 9 is outside [0, 8]"),
             "a synapse beyond the projection: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_record_weights(net, 0, NULL, 1, 0.05, "w.csv", "m.csv") == NS_EINVAL,
             "an interval off the grid: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_record_weights(net, 0, NULL, 1, 1, "w.csv", "w.csv") == NS_EINVAL, "one file for both");
    NS_CHECK(ns_net_record_weights(net, 0, NULL, 1, 1, "w.csv", "m.csv") == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_record_spikes(net, &a, 1, "m.csv") == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "two recorders write m.csv"),
             "a spike record onto a weight matrix: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_record_weights(net, 0, NULL, 1, 1, "w2.csv", "w.csv") == NS_EINVAL &&
                 strstr(ns_ctx_errmsg(ctx), "two recorders write w.csv"),
             "a matrix onto a weight sample: %s", ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);
}

int main(void)
{
    test_pair_window();
    test_triplet_terms();
    test_random_trains();
    test_input_modes();
    test_drift();
    test_refusals();
    NS_TEST_MAIN_END();
}
