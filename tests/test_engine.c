/* tests/test_engine.c — the engine against statistics and exact bookkeeping: Poisson input mean
 * and variance, connection counts of every rule, delivery at exactly t + delay, the same spikes
 * for any thread count, runs that continue, recorders, and refused bad input. */
#include <math.h>
#include <sys/stat.h>

#include "sim/net_types.h"
#include "sim/plastic.h"
#include "sim/proj.h"
#include "tests/harness.h"
#include "tests/tables.h"
#include "tests/testlib.h"

/* The first unit of thread t of T in a population of n, worked out here independently of
 * sim/partition.c: an even split in ascending blocks. */
static size_t part_lo(size_t n, int t, int T) { return n * (size_t)t / (size_t)T; }

static const double dt = 0.1;

static ns_conn_spec spec_of(ns_rule rule, double w, double d)
{
    ns_conn_spec s = {.rule = rule, .weight = {NS_DIST_CONST, w, 0}, .delay = {NS_DIST_CONST, d, 0}, .autapses = 1};
    return s;
}

/* Poisson drive counted exactly: a lif_delta with no leak to speak of and no threshold in reach
 * sums its 1 mV inputs, so V is the count, Poisson(rate T). */
static void poisson_counts(void)
{
    ns_ctx *ctx = test_ctx(7, 1);
    ns_net *net = ns_net_create(ctx, dt);
    const size_t N = 4000;
    ns_pop *p = ns_net_add_population(net, "lif_delta", N, "n");
    const char *names[] = {"tau_m", "V_th"};
    double vals[] = {1e12, 1e12};
    NS_CHECK(ns_pop_set_params(net, p, names, vals, 2) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_add_poisson(net, p, 2000.0, 1.0, 0.0, HUGE_VAL) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 100.0) == 0, "%s", ns_ctx_errmsg(ctx));
    double lambda = 2000.0 * 0.1, sum = 0, sum2 = 0;
    int integral = 1;
    for (size_t i = 0; i < N; i++) {
        double c = ns_pop_get_state(p, "V_m", i);
        integral &= fabs(c - round(c)) < 1e-6;
        sum += c;
        sum2 += c * c;
    }
    double mean = sum / N, var = (sum2 - N * mean * mean) / (N - 1);
    NS_CHECK(integral, "Poisson counts are whole numbers");
    NS_CHECK_ABS(mean, lambda, 4 * sqrt(lambda / N));
    NS_CHECK_ABS(var, lambda, 4 * sqrt((2 * lambda * lambda + lambda) / N));
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* The count a Poisson device gives unit i at step s, from its definition: the draw v, element i % 4
 * of Philox counter (seed, device stream, id, s, i / 4), passes the thresholds floor(2^32 P(K <= j))
 * of the Poisson(lambda) distribution function, j = 0, 1, ... */
static int poisson_count_of(uint64_t seed, int id, int64_t s, size_t i, double lambda)
{
    uint32_t v[4];
    ns_rng_u32x4(seed, NS_STREAM_DEVICE, (uint32_t)id, (uint32_t)s, (uint32_t)(i / 4), v);
    double p = exp(-lambda), cdf = p;
    int k = 0;
    while (k < 1024 && cdf * 4294967296.0 < 4294967295.0 && v[i % 4] >= (uint64_t)(cdf * 4294967296.0)) {
        k++;
        p *= lambda / k;
        cdf += p;
    }
    return k;
}

/* Poisson counts exactly, unit by unit: two devices (lambda 0.4 and 6 a step, the second's counts
 * mostly beyond the vectorized search's eight thresholds) into 1,000 and 37 leak-free lif_delta
 * units (chunks of 256 and a short tail), on 1 and 2 threads; V is each unit's summed counts. */
static void poisson_exact(int threads)
{
    ns_ctx *ctx = test_ctx(11, threads);
    ns_net *net = ns_net_create(ctx, dt);
    const size_t n[2] = {1000, 37};
    const double rate[2] = {4000.0, 60000.0};
    ns_pop *p[2];
    const char *names[] = {"tau_m", "V_th"};
    double vals[] = {1e12, 1e12};
    for (int d = 0; d < 2; d++) {
        p[d] = ns_net_add_population(net, "lif_delta", n[d], d ? "b" : "a");
        NS_CHECK(ns_pop_set_params(net, p[d], names, vals, 2) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_add_poisson(net, p[d], rate[d], 1.0, 0.0, HUGE_VAL) == 0, "%s", ns_ctx_errmsg(ctx));
    }
    const int steps = 20;
    NS_CHECK(ns_net_run(net, steps * dt) == 0, "%s", ns_ctx_errmsg(ctx));
    for (int d = 0; d < 2; d++) {
        size_t bad = 0, first = 0;
        double total = 0;
        for (size_t i = 0; i < n[d]; i++) {
            int want = 0;
            for (int64_t s = 0; s < steps; s++) want += poisson_count_of(ns_ctx_seed(ctx), d, s, i, rate[d] * dt * 1e-3);
            const double got = ns_pop_get_state(p[d], "V_m", i);
            if (fabs(got - want) > 1e-9 && !bad++) first = i;
            total += want;
        }
        NS_CHECK(bad == 0, "Poisson device %d, %d thread(s): %zu of %zu units' counts differ from the definition (first %zu)",
                 d, threads, bad, n[d], first);
        NS_CHECK(total > 0, "device %d drew counts", d);
    }
    ns_net_free(net);
    test_ctx_free(ctx);
}

static size_t count_rows(const ns_proj *pr, size_t i, int threads)
{
    size_t n = 0;
    for (int b = 0; b < threads; b++) n += pr->block[b].row[i + 1] - pr->block[b].row[i];
    return n;
}

static void connection_counts(int threads)
{
    ns_ctx *ctx = test_ctx(3, threads);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *a = ns_net_add_population(net, "lif", 1000, "a");
    test_cuba_cell(ctx, net, a);
    ns_pop *b = ns_net_add_population(net, "lif", 800, "b");
    test_cuba_cell(ctx, net, b);
    ns_conn_spec s = spec_of(NS_RULE_BERNOULLI, 1, 1);
    s.p = 0.1;
    NS_CHECK(ns_net_connect(net, a, b, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    double n = 1000.0 * 800, want = n * 0.1, sd = sqrt(n * 0.1 * 0.9);
    NS_CHECK_ABS((double)net->projs[0]->n_syn, want, 4 * sd);
    /* per-source counts are Binomial(800, 0.1): their variance too */
    double sum2 = 0;
    for (size_t i = 0; i < 1000; i++) {
        double c = (double)count_rows(net->projs[0], i, threads);
        sum2 += (c - 80) * (c - 80);
    }
    NS_CHECK_ABS(sum2 / 1000, 72.0, 4 * 72.0 * sqrt(2.0 / 1000));
    s.p = 1.0;
    ns_net_connect(net, a, b, &s);
    NS_CHECK(net->projs[1]->n_syn == 800000, "p = 1 gives all pairs, got %zu", net->projs[1]->n_syn);
    s.p = 0.0;
    ns_net_connect(net, a, b, &s);
    NS_CHECK(net->projs[2]->n_syn == 0, "p = 0 gives none");
    s = spec_of(NS_RULE_FIXED_INDEGREE, 1, 1);
    s.K = 37;
    ns_net_connect(net, a, b, &s);
    size_t *indeg = calloc(800, sizeof *indeg);
    for (int t = 0; t < threads; t++) {
        const ns_csr *c = &net->projs[3]->block[t];
        for (size_t k = 0; k < c->row[1000]; k++) indeg[c->tgt[k] + part_lo(800, t, threads)]++;
    }
    int all = 1;
    for (size_t j = 0; j < 800; j++) all &= indeg[j] == 37;
    NS_CHECK(all, "fixed_indegree: every target has K = 37 sources");
    free(indeg);
    s = spec_of(NS_RULE_FIXED_OUTDEGREE, 1, 1);
    s.K = 11;
    ns_net_connect(net, a, b, &s);
    all = 1;
    for (size_t i = 0; i < 1000; i++) all &= count_rows(net->projs[4], i, threads) == 11;
    NS_CHECK(all, "fixed_outdegree: every source has K = 11 targets");
    s = spec_of(NS_RULE_ALL_TO_ALL, 1, 1);
    s.autapses = 0;
    ns_net_connect(net, a, a, &s);
    NS_CHECK(net->projs[5]->n_syn == 1000 * 999, "all_to_all without autapses: %zu", net->projs[5]->n_syn);
    int self = 0;
    for (int t = 0; t < threads; t++) {
        const ns_csr *c = &net->projs[5]->block[t];
        for (size_t i = 0; i < 1000; i++)
            for (size_t k = c->row[i]; k < c->row[i + 1]; k++) self |= c->tgt[k] + part_lo(1000, t, threads) == i;
    }
    NS_CHECK(!self, "no autapses when they are off");
    s = spec_of(NS_RULE_ONE_TO_ONE, 1, 1);
    NS_CHECK(ns_net_connect(net, a, b, &s) == NS_EINVAL, "one_to_one of unequal sizes is refused");
    NS_CHECK(strstr(ns_ctx_errmsg(ctx), "equal sizes") != NULL, "message: %s", ns_ctx_errmsg(ctx));
    ns_net_connect(net, a, a, &s);
    NS_CHECK(net->projs[6]->n_syn == 1000, "one_to_one");
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Every synapse's input arrives exactly delay after the spike: a source fires at 1.0 ms into
 * 300 targets with delays drawn from uniform(lo, hi) ms; each target's current first moves at
 * 1.0 + its synapse's delay. Delays of 0.5 to 3 ms are stored a byte each, those of 20 to 30 ms
 * (200 to 300 steps) two bytes. */
static void delivery_time(int threads, int mode, double lo, double hi)
{
    ns_ctx *ctx = test_ctx(11, threads);
    ns_net *net = ns_net_create(ctx, dt);
    NS_CHECK(ns_net_set_input_mode(net, mode) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_pop *src = test_one_spike(net, 1.0);
    ns_pop *p = ns_net_add_population(net, "lif", 300, "n");
    test_cuba_cell(ctx, net, p);
    ns_conn_spec s = spec_of(NS_RULE_ALL_TO_ALL, 50, 0);
    s.delay = (ns_dist){.kind = NS_DIST_UNIFORM, .a = lo, .b = hi};
    NS_CHECK(ns_net_connect(net, src, p, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    long first[300];
    int whole = 1; /* the weight, whole, in the step it arrives */
    for (int j = 0; j < 300; j++) first[j] = -1;
    const long steps = lround(hi / dt) + 20;
    for (long k = 1; k <= steps; k++) {
        ns_net_run(net, dt);
        for (int j = 0; j < 300; j++)
            if (first[j] < 0 && ns_pop_get_state(p, "I_ex", (size_t)j) != 0) {
                first[j] = k;
                whole &= fabs(ns_pop_get_state(p, "I_ex", (size_t)j) - 50) < 1e-9;
            }
    }
    NS_CHECK(whole, "each synapse's weight arrives whole (threads %d, input mode %d)", threads, mode);
    int exact = 1, spread = 0;
    const ns_proj *pr = net->projs[0];
    for (int t = 0; t < threads; t++) {
        const ns_csr *c = &pr->block[t];
        for (size_t k = 0; k < c->row[1]; k++) {
            size_t j = c->tgt[k] + part_lo(300, t, threads);
            exact &= first[j] == 10 + (int)ns_csr_delay(c, k);
            spread |= ns_csr_delay(c, k) != ns_csr_delay(c, 0);
        }
    }
    NS_CHECK(exact, "input arrives at exactly t + delay (threads %d, input mode %d)", threads, mode);
    NS_CHECK(spread, "delays were drawn, not constant");
    NS_CHECK(pr->dmin >= lround(lo / dt) && pr->dmax <= lround(hi / dt), "delays in [%g, %g] ms: %d .. %d steps", lo, hi,
             pr->dmin, pr->dmax);
    NS_CHECK(pr->dmax < 256 ? pr->block[0].d8 && !pr->block[0].d : pr->block[0].d && !pr->block[0].d8,
             "delays up to %d steps stored in %d byte(s)", pr->dmax, pr->dmax < 256 ? 1 : 2);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* A held projection's runs of one delay (ns_csr.run_row): they cover each row in order, every
 * run's synapses share its delay, neighbouring runs differ in delay unless a run was cut at
 * 65,535 synapses; and a row of 70,000 synapses of one delay (cut into two runs, or one per
 * thread's block) delivers its weight to every target in the step it arrives. */
static void held_runs(int threads)
{
    ns_ctx *ctx = test_ctx(13, threads);
    ns_net *net = ns_net_create(ctx, dt);
    NS_CHECK(ns_net_set_input_mode(net, NS_INPUT_DENSE) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_pop *src = test_one_spike(net, 1.0);
    enum { N = 70000 };
    ns_pop *p = ns_net_add_population(net, "lif", N, "n");
    test_cuba_cell(ctx, net, p);
    ns_conn_spec s = spec_of(NS_RULE_ALL_TO_ALL, 50, 0);
    s.delay = (ns_dist){.kind = NS_DIST_UNIFORM, .a = 1.0, .b = 1.04}; /* all 10 steps, stored per synapse */
    NS_CHECK(ns_net_connect(net, src, p, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_pop *q = ns_net_add_population(net, "lif", 40, "m");
    test_cuba_cell(ctx, net, q);
    ns_pop *many = ns_net_add_population(net, "lif", 5, "k");
    test_cuba_cell(ctx, net, many);
    s.delay = (ns_dist){.kind = NS_DIST_UNIFORM, .a = 0.5, .b = 3.0};
    NS_CHECK(ns_net_connect(net, many, q, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 1.0) == 0, "%s", ns_ctx_errmsg(ctx)); /* the spike at 1.0 ms is the last step's */
    for (int k = 0; k < 2; k++) {
        const ns_proj *pr = net->projs[k];
        NS_CHECK(pr->held, "projection %d is held", k);
        int cover = 1, same = 1, apart = 1, cut = 0;
        for (int b = 0; b < pr->tgt_blocks; b++) {
            const ns_csr *c = &pr->block[b];
            NS_CHECK(c->run_row != NULL, "projection %d block %d has runs", k, b);
            if (!c->run_row) continue;
            for (size_t i = 0; i < pr->src->n; i++) {
                size_t j = c->row[i];
                for (uint32_t r = c->run_row[i]; r < c->run_row[i + 1]; r++) {
                    for (size_t m = j; m < j + c->run_len[r]; m++) same &= ns_csr_delay(c, m) == c->run_d[r];
                    if (r > c->run_row[i] && c->run_d[r] == c->run_d[r - 1]) {
                        cut++;
                        apart &= c->run_len[r - 1] == UINT16_MAX;
                    }
                    cover &= c->run_len[r] > 0;
                    j += c->run_len[r];
                }
                cover &= j == c->row[i + 1];
            }
        }
        NS_CHECK(cover && same && apart, "projection %d: runs cover the rows with one delay each (%d %d %d)", k, cover,
                 same, apart);
        if (k == 0) /* 70,000 synapses of one delay: cut once on one thread, not at all in halves */
            NS_CHECK(cut == (threads == 1 ? 1 : 0), "the long run cut %d times with %d thread(s)", cut, threads);
    }
    int ok = 1;
    for (int step = 1; step <= 11; step++) {
        NS_CHECK(ns_net_run(net, dt) == 0, "%s", ns_ctx_errmsg(ctx));
        for (size_t j = 0; j < N; j += 1) {
            double I = ns_pop_get_state(p, "I_ex", j);
            ok &= step < 10 ? I == 0 : step == 10 ? fabs(I - 50) < 1e-9 : I < 50 && I > 40;
        }
    }
    NS_CHECK(ok, "all %d targets get the weight whole in the step it arrives (threads %d)", N, threads);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* A held table that stores weights is packed at the first run when its targets are below 65,536
 * (targets and weights side by side, ns_csr.syn16; else left as two arrays): its synapses read
 * back as before
 * (pairs, weights); set_weights after the run writes into it (read back again), and the new
 * weights arrive, whole, at each spike's time + its synapse's delay, for a spike sent before the
 * weights were set (a spike adds the weight its synapse has when it arrives) and one after; a
 * table of one weight given weights by set_weights is packed too. Populations whole on a thread
 * (split = populations): the 70,000 targets are one block. */
static void held_packed(int threads)
{
    enum { P = 3 };
    const size_t n[P] = {120, 120, 70000};
    ns_ctx *ctx = test_ctx(17, threads);
    ns_net *net = ns_net_create(ctx, dt);
    NS_CHECK(ns_net_set_input_mode(net, NS_INPUT_DENSE) == 0 && ns_net_set_split(net, NS_SPLIT_POPULATIONS) == 0, "%s",
             ns_ctx_errmsg(ctx));
    size_t off[] = {0, 2};
    double times[] = {1.0, 4.0};
    ns_pop *src = ns_net_add_spike_source(net, 1, off, times, "src"), *tgt[P];
    ns_conn_spec s = spec_of(NS_RULE_ALL_TO_ALL, 0, 0);
    s.weight = (ns_dist){.kind = NS_DIST_NORMAL, .a = 20, .b = 5};
    s.delay = (ns_dist){.kind = NS_DIST_UNIFORM, .a = 0.5, .b = 1.5};
    ns_conn_spec c = spec_of(NS_RULE_ALL_TO_ALL, 30, 0); /* one weight: targets only */
    c.delay = s.delay;
    for (int k = 0; k < P; k++) {
        char name[8];
        snprintf(name, sizeof name, "t%d", k);
        tgt[k] = ns_net_add_population(net, "lif", n[k], name);
        test_cuba_cell(ctx, net, tgt[k]);
        NS_CHECK(ns_net_connect(net, src, tgt[k], k == 1 ? &c : &s) == 0, "%s", ns_ctx_errmsg(ctx));
    }
    double *w0[P], *wnew[P], *d[P], *prev[P];
    long *seen[P];
    uint32_t *pre0[P], *post0[P];
    for (int k = 0; k < P; k++) {
        w0[k] = malloc(n[k] * sizeof **w0), wnew[k] = malloc(n[k] * sizeof **wnew), d[k] = malloc(n[k] * sizeof **d);
        prev[k] = calloc(n[k], sizeof **prev), seen[k] = malloc(2 * n[k] * sizeof **seen);
        pre0[k] = malloc(n[k] * sizeof **pre0), post0[k] = malloc(n[k] * sizeof **post0);
        for (size_t j = 0; j < 2 * n[k]; j++) seen[k][j] = -1;
        NS_CHECK(ns_net_weights(net, k, pre0[k], post0[k], w0[k]) == 0, "%s", ns_ctx_errmsg(ctx));
    }
    NS_CHECK(ns_net_run(net, 1.2) == 0, "%s", ns_ctx_errmsg(ctx)); /* the first spike on its way */
    for (int k = 0; k < P; k++) {
        const ns_proj *pr = net->projs[k];
        const ns_csr *t = &pr->block[0];
        const int want = k == 0 ? t->syn16 && !t->tgt && !t->w : k == 1 ? !t->syn16 && t->tgt && !t->w : !t->syn16 && t->tgt && t->w;
        NS_CHECK(pr->held && pr->tgt_blocks == 1 && want, "projection %d held, its table %s (threads %d)", k,
                 k == 0 ? "packed" : k == 1 ? "targets only" : "two arrays (targets beyond 65,535)", threads);
        uint32_t *pre = malloc(n[k] * sizeof *pre), *post = malloc(n[k] * sizeof *post);
        double *w = malloc(n[k] * sizeof *w), *dd = malloc(n[k] * sizeof *dd);
        NS_CHECK(ns_net_weights(net, k, pre, post, w) == 0, "%s", ns_ctx_errmsg(ctx));
        int same = 1;
        for (size_t j = 0; j < n[k]; j++) same &= pre[j] == pre0[k][j] && post[j] == post0[k][j] && w[j] == w0[k][j];
        NS_CHECK(same, "projection %d reads back as before the run (threads %d)", k, threads);
        NS_CHECK(ns_net_projection_delays(net, k, NULL, post, dd) == 0, "%s", ns_ctx_errmsg(ctx));
        for (size_t j = 0; j < n[k]; j++) { /* by target: both signs, none 0 */
            wnew[k][post[j]] = -40.25 + (double)(j % 160) * 0.5 - 7 * k;
            d[k][post[j]] = dd[j];
            w[j] = wnew[k][post[j]];
        }
        NS_CHECK(ns_net_set_weights(net, k, w, n[k]) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_weights(net, k, NULL, post, w) == 0, "%s", ns_ctx_errmsg(ctx));
        int set = 1;
        for (size_t j = 0; j < n[k]; j++) set &= w[j] == (float)wnew[k][post[j]];
        NS_CHECK(set, "projection %d: set_weights after the run reads back (threads %d)", k, threads);
        free(pre), free(post), free(w), free(dd);
    }
    NS_CHECK(net->projs[1]->block[0].syn16 && !net->projs[1]->block[0].tgt,
             "a held table of one weight given weights is packed (threads %d)", threads);
    /* each target's input, step by step: the first arrival (spike at 1.0 ms) and the second (4.0) */
    int whole = 1, on_time = 1;
    for (long step = 13; step <= 60; step++) {
        NS_CHECK(ns_net_run(net, dt) == 0, "%s", ns_ctx_errmsg(ctx));
        for (int k = 0; k < P; k++)
            for (size_t j = 0; j < n[k]; j++) {
                const double w = (float)wnew[k][j];
                const double I = ns_pop_get_state(tgt[k], w < 0 ? "I_in" : "I_ex", j);
                /* an arrival: the current jumps over what the previous step's value decayed to */
                const double jump = I - prev[k][j] * exp(-dt / ns_pop_get_param(tgt[k], w < 0 ? "tau_in" : "tau_ex"));
                if (fabs(jump) > 1e-6) {
                    long *at = &seen[k][2 * j];
                    if (at[0] < 0) at[0] = step;
                    else if (at[1] < 0) at[1] = step;
                    else on_time = 0; /* a third arrival */
                    whole &= fabs(jump - w) < 1e-9 * fabs(w);
                }
                prev[k][j] = I;
            }
    }
    for (int k = 0; k < P; k++)
        for (size_t j = 0; j < n[k]; j++) {
            const long delay = lround(d[k][j] / dt);
            on_time &= seen[k][2 * j] == 10 + delay && seen[k][2 * j + 1] == 40 + delay;
        }
    NS_CHECK(whole && on_time, "the new weights arrive whole (%d) at 1.0 and 4.0 ms + each delay (%d) (threads %d)", whole,
             on_time, threads);
    for (int k = 0; k < P; k++) free(w0[k]), free(wnew[k]), free(d[k]), free(prev[k]), free(seen[k]), free(pre0[k]), free(post0[k]);
    ns_net_free(net);
    test_ctx_free(ctx);
}

static int cmp_u64_asc(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* run.json's synapse_bytes against the layout docs/formats.md and docs/design.md describe,
 * counted from the synapses read back (pairs and delays), not from the tables: per synapse a
 * target (2 bytes in a held table with weights whose block's targets are below 65,536, else
 * 4), a weight when they vary (4), a delay when they vary (1 below 256 steps); per block a row
 * offset per source and one more (8 bytes); per held block a run offset per source and one more
 * and, per run (a source's synapses of one delay in one block), a length and a delay (4 bytes). */
static void synapse_bytes_count(int threads, int split)
{
    ns_ctx *ctx = test_ctx(19, threads);
    ns_net *net = ns_net_create(ctx, dt);
    NS_CHECK(ns_net_set_input_mode(net, NS_INPUT_DENSE) == 0 && ns_net_set_split(net, split) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_pop *a = ns_net_add_population(net, "lif", 40, "A"), *b = ns_net_add_population(net, "lif", 300, "B"),
           *c = ns_net_add_population(net, "lif", 70000, "C");
    ns_conn_spec drawn = spec_of(NS_RULE_FIXED_INDEGREE, 0, 0);
    drawn.K = 10;
    drawn.weight = (ns_dist){.kind = NS_DIST_NORMAL, .a = 20, .b = 5};
    drawn.delay = (ns_dist){.kind = NS_DIST_UNIFORM, .a = 0.5, .b = 3.0};
    ns_conn_spec one_w = drawn, fixed = spec_of(NS_RULE_FIXED_INDEGREE, 15, 1.0), to_c = drawn;
    one_w.weight = (ns_dist){.kind = NS_DIST_CONST, .a = 15};
    fixed.K = 5;
    to_c.K = 1;
    NS_CHECK(ns_net_connect(net, a, b, &drawn) == 0 && ns_net_connect(net, a, b, &one_w) == 0 &&
                 ns_net_connect(net, a, b, &fixed) == 0 && ns_net_connect(net, a, c, &to_c) == 0,
             "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 0.5) == 0, "%s", ns_ctx_errmsg(ctx));
    size_t want = 0;
    for (int k = 0; k < net->nprojs; k++) {
        const ns_proj *pr = net->projs[k];
        const size_t n = pr->n_syn, nsrc = pr->src->n, ntgt = pr->tgt->n;
        const int B = pr->tgt_blocks, weights = k != 1 && k != 2, delays = k != 2, held = k != 2;
        uint32_t *pre = malloc(n * sizeof *pre), *post = malloc(n * sizeof *post);
        double *d = malloc(n * sizeof *d);
        uint64_t *key = malloc(n * sizeof *key);
        NS_CHECK(ns_net_projection_delays(net, k, pre, post, d) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(held == pr->held, "projection %d held: %d", k, pr->held);
        /* blocks: the target population whole (split = populations, or one thread), else cut evenly */
        const size_t block_units = B == 1 ? ntgt : (ntgt + (size_t)B - 1) / (size_t)B;
        const int narrow = held && weights && block_units <= 65536;
        want += n * ((narrow ? 2u : 4u) + (weights ? 4u : 0u) + (delays ? 1u : 0u)) + (size_t)B * (nsrc + 1) * 8;
        if (held) {
            for (size_t j = 0; j < n; j++) {
                const size_t blk = B == 1 ? 0 : (size_t)B * post[j] / ntgt; /* part_lo's even cut */
                key[j] = ((uint64_t)pre[j] * (uint64_t)B + blk) << 16 | (uint64_t)lround(d[j] / dt);
            }
            qsort(key, n, sizeof *key, cmp_u64_asc);
            size_t runs = n ? 1 : 0;
            for (size_t j = 1; j < n; j++) runs += key[j] != key[j - 1];
            want += (size_t)B * (nsrc + 1) * 4 + runs * 4;
        }
        free(pre), free(post), free(d), free(key);
    }
    NS_CHECK(ns_net_synapse_bytes(net) == want, "synapse_bytes %zu, the layout gives %zu (threads %d, split %d)",
             ns_net_synapse_bytes(net), want, threads, split);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* The list rule: the given pairs, each with its own weight and delay, arrive at exactly
 * t + delay with that weight (to 1e-9: a lagging lif keeps its currents scaled; a repeated pair
 * sums; a negative weight goes to I_in);
 * a unit no pair names gets nothing. Source spikes at 1.0 (unit 0) and 2.0 ms (unit 2). */
static void list_rule(int threads)
{
    ns_ctx *ctx = test_ctx(11, threads);
    ns_net *net = ns_net_create(ctx, dt);
    size_t off[] = {0, 1, 1, 2};
    double times[] = {1.0, 2.0};
    ns_pop *src = ns_net_add_spike_source(net, 3, off, times, "src");
    ns_pop *p = ns_net_add_population(net, "lif", 5, "n");
    test_cuba_cell(ctx, net, p);
    const uint32_t pre[] = {0, 0, 2, 2, 0, 0};
    const uint32_t post[] = {1, 3, 3, 0, 1, 2};
    const double w[] = {5, 7, 11, 13, 2, -3}, d[] = {0.3, 0.5, 0.1, 1.0, 0.3, 0.2};
    ns_conn_spec s = spec_of(NS_RULE_LIST, 1, 0.1);
    s.n_pairs = 6, s.pre = pre, s.post = post, s.weights = w, s.delays = d;
    NS_CHECK(ns_net_connect(net, src, p, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(net->projs[0]->n_syn == 6, "list: 6 synapses, got %zu", net->projs[0]->n_syn);
    /* first step (1-based) each unit's current moves, and its value then */
    long first_ex[5], first_in[5];
    double at_ex[5] = {0}, at_in[5] = {0};
    for (int j = 0; j < 5; j++) first_ex[j] = first_in[j] = -1;
    for (long k = 1; k <= 40; k++) {
        ns_net_run(net, dt);
        for (int j = 0; j < 5; j++) {
            double ex = ns_pop_get_state(p, "I_ex", (size_t)j), in = ns_pop_get_state(p, "I_in", (size_t)j);
            if (first_ex[j] < 0 && ex != 0) first_ex[j] = k, at_ex[j] = ex;
            if (first_in[j] < 0 && in != 0) first_in[j] = k, at_in[j] = in;
        }
    }
    NS_CHECK(first_ex[1] == 13 && fabs(at_ex[1] - 7) < 1e-9, "0 -> 1 twice (5 + 2 pA, 0.3 ms): step %ld, %g pA", first_ex[1], at_ex[1]);
    NS_CHECK(first_ex[3] == 15 && fabs(at_ex[3] - 7) < 1e-9, "0 -> 3 (7 pA, 0.5 ms): step %ld, %g pA", first_ex[3], at_ex[3]);
    NS_CHECK(first_ex[0] == 30 && fabs(at_ex[0] - 13) < 1e-9, "2 -> 0 (13 pA, 1.0 ms): step %ld, %g pA", first_ex[0], at_ex[0]);
    NS_CHECK(first_in[2] == 12 && fabs(at_in[2] + 3) < 1e-9 && first_ex[2] < 0, "0 -> 2 (-3 pA, 0.2 ms) into I_in: step %ld, %g pA",
             first_in[2], at_in[2]);
    NS_CHECK(first_ex[4] < 0 && first_in[4] < 0, "unit 4, in no pair, gets nothing");
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* A small CUBA-like network with Poisson drive, drawn weights and delays. */
static void build_net(ns_net *net, ns_ctx *ctx)
{
    const char *names[] = {"E_L", "V_th", "V_reset"};
    double vals[] = {-60, -50, -60};
    ns_pop *e = ns_net_add_population(net, "lif", 400, "E");
    test_cuba_cell(ctx, net, e);
    ns_pop *i = ns_net_add_population(net, "lif", 100, "I");
    test_cuba_cell(ctx, net, i);
    ns_pop_set_params(net, e, names, vals, 3);
    ns_pop_set_params(net, i, names, vals, 3);
    ns_dist v0 = {.kind = NS_DIST_UNIFORM, .a = -60, .b = -50};
    ns_pop_init_state(net, e, "V_m", &v0);
    ns_pop_init_state(net, i, "V_m", &v0);
    ns_conn_spec s = spec_of(NS_RULE_BERNOULLI, 0, 0);
    s.p = 0.1;
    s.weight = (ns_dist){.kind = NS_DIST_NORMAL, .a = 30, .b = 5};
    s.delay = (ns_dist){.kind = NS_DIST_UNIFORM, .a = 0.5, .b = 2.0};
    ns_net_connect(net, e, e, &s);
    ns_net_connect(net, e, i, &s);
    s.weight = (ns_dist){.kind = NS_DIST_CONST, .a = -120, .b = 0};
    s.delay = (ns_dist){.kind = NS_DIST_CONST, .a = 0.8, .b = 0};
    ns_net_connect(net, i, e, &s);
    ns_net_connect(net, i, i, &s);
    ns_net_add_poisson(net, e, 8000, 20, 0, HUGE_VAL);
    ns_net_add_poisson(net, i, 8000, 20, 0, HUGE_VAL);
    ns_pop *pops[] = {e, i};
    if (ns_net_record_spikes(net, pops, 2, "spikes.csv")) printf("%s\n", ns_ctx_errmsg(ctx));
}

/* The same network for 1, 2 and 3 threads, its populations cut into a block per thread or
 * (by_pop) each whole on one thread (nsim.network's split), and run in one piece or two. */
static void thread_determinism(void)
{
    char *ref = NULL;
    size_t ref_len = 0;
    for (int threads = 1; threads <= 3; threads++) {
        for (int split = 0; split <= (threads == 1); split++) {
          for (int by_pop = 0; by_pop <= 1; by_pop++) {
            ns_ctx *ctx = test_ctx(42, threads);
            ns_net *net = ns_net_create(ctx, dt);
            NS_CHECK(ns_net_set_split(net, by_pop ? NS_SPLIT_POPULATIONS : NS_SPLIT_UNITS) == 0, "%s", ns_ctx_errmsg(ctx));
            if (by_pop) ns_net_set_rebalance(net, 3); /* populations change threads often, by timings */
            build_net(net, ctx);
            if (split) { /* runs continue where the last one stopped */
                ns_net_run(net, 73.4);
                ns_net_run(net, 126.6);
            } else {
                NS_CHECK(ns_net_run(net, 200.0) == 0, "%s", ns_ctx_errmsg(ctx));
            }
            size_t len;
            char *got = test_slurp(ctx, "spikes.csv", &len);
            if (!ref) {
                ref = got;
                ref_len = len;
                NS_CHECK(len > 10000, "the network fires (%zu bytes of spikes)", len);
            } else {
                NS_CHECK(got && len == ref_len && memcmp(got, ref, len) == 0,
                         "spikes.csv with %d threads%s%s is byte-identical to 1 thread", threads,
                         split ? " (split run)" : "", by_pop ? " (populations whole on threads)" : "");
                free(got);
            }
            ns_net_free(net);
            test_ctx_free(ctx);
          }
        }
    }
    free(ref);
}

/* A population split by ranks (sim/partition.c): a block per rank, each on one thread of its
 * rank, moved as a whole by ns_partition_set_thread; the rank ranges those of a split by units. */
static void partition_by_ranks(void)
{
    for (int me = 0; me < 3; me++) {
        ns_partition p = {0}, q = {0};
        NS_CHECK(ns_partition_init(&p, 1000, 2, 3, me, NS_PART_RANKS) == 0, "init");
        NS_CHECK(ns_partition_init(&q, 1000, 2, 3, me, NS_PART_SPLIT) == 0, "init");
        NS_CHECK(p.nblocks == 3 && p.placed, "3 ranks: %d blocks, placed %d", p.nblocks, p.placed);
        int ok = 1;
        for (int b = 0; b < 3; b++) ok &= p.lo[b] == part_lo(1000, b, 3) && p.rank[b] == b && p.thread[b] == 0;
        for (int r = 0; r < 3; r++) {
            size_t lo, hi, qlo, qhi;
            ns_partition_rank_range(&p, r, &lo, &hi);
            ns_partition_rank_range(&q, r, &qlo, &qhi);
            ok &= lo == qlo && hi == qhi && lo == part_lo(1000, r, 3) && hi == part_lo(1000, r + 1, 3);
        }
        NS_CHECK(ok, "rank %d: blocks and rank ranges of 1000 units over 3 ranks", me);
        NS_CHECK(p.block_of_thread[0] == me && p.block_of_thread[1] == -1, "rank %d: its block on thread 0", me);
        ns_partition_set_thread(&p, 1);
        size_t lo, hi;
        NS_CHECK(ns_partition_range(&p, 0, &lo, &hi) == -1 && lo == hi && ns_partition_range(&p, 1, &lo, &hi) == me &&
                     lo == part_lo(1000, me, 3) && hi == part_lo(1000, me + 1, 3),
                 "rank %d: after set_thread(1) thread 1 steps the rank's units", me);
        ns_partition_set_thread(&q, 1); /* a split by units stays as it is */
        NS_CHECK(q.block_of_thread[0] == 2 * me && q.block_of_thread[1] == 2 * me + 1, "split by units: unmoved");
        ns_partition_release(&p);
        ns_partition_release(&q);
    }
}

/* nsim.network's split = "populations" on 2 threads: five populations, each one block on one
 * thread, both threads stepping some, and the larger work first to the less loaded thread, so
 * that neither thread carries more than half the work plus the largest population's. */
static void split_populations(void)
{
    ns_ctx *ctx = test_ctx(9, 2);
    ns_net *net = ns_net_create(ctx, dt);
    NS_CHECK(ns_net_set_split(net, 7) != 0, "an unknown split is refused");
    NS_CHECK(ns_net_set_split(net, NS_SPLIT_POPULATIONS) == 0, "%s", ns_ctx_errmsg(ctx));
    const size_t size[5] = {900, 150, 600, 300, 40};
    ns_pop *p[5];
    for (int k = 0; k < 5; k++) {
        char name[8];
        snprintf(name, sizeof name, "P%d", k);
        p[k] = ns_net_add_population(net, "lif", size[k], name);
        test_cuba_cell(ctx, net, p[k]);
    }
    NS_CHECK(ns_net_set_split(net, NS_SPLIT_UNITS) != 0 && strstr(ns_ctx_errmsg(ctx), "before the first population"),
             "split after a population is made is refused: %s", ns_ctx_errmsg(ctx));
    ns_conn_spec s = spec_of(NS_RULE_BERNOULLI, 20, 0);
    s.p = 0.05;
    s.delay = (ns_dist){.kind = NS_DIST_UNIFORM, .a = 0.5, .b = 2.0};
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++) NS_CHECK(ns_net_connect(net, p[a], p[b], &s) == 0, "%s", ns_ctx_errmsg(ctx));
    for (int k = 0; k < 5; k++) ns_net_add_poisson(net, p[k], 8000, 20, 0, HUGE_VAL);
    NS_CHECK(ns_net_run(net, 20.0) == 0, "%s", ns_ctx_errmsg(ctx));
    double load[2] = {0, 0}, total = 0, largest = 0;
    int whole = 1;
    for (int k = 0; k < 5; k++) {
        const ns_partition *q = &p[k]->part;
        whole &= q->nblocks == 1 && (q->block_of_thread[0] == 0) + (q->block_of_thread[1] == 0) == 1;
        double syn = 0; /* the work measure of sim/net.c: units and incoming synapses / 1000 */
        for (int j = 0; j < net->nprojs; j++)
            if (net->projs[j]->tgt == p[k]) syn += (double)net->projs[j]->n_syn;
        const double w = (double)size[k] + syn / 1000;
        load[q->thread[0]] += w;
        total += w;
        if (w > largest) largest = w;
    }
    NS_CHECK(whole, "every population is one block stepped by one thread");
    NS_CHECK(load[0] > 0 && load[1] > 0, "both threads step populations (%g and %g)", load[0], load[1]);
    NS_CHECK(fmax(load[0], load[1]) <= total / 2 + largest, "balanced: %g and %g of %g", load[0], load[1], total);
    /* rebalancing by measured work: P1 said to be as busy as the rest together, plus one */
    NS_CHECK(ns_net_set_rebalance(net, -1) != 0, "a negative rebalancing period is refused");
    NS_CHECK(ns_net_set_rebalance(net, 1) == 0, "%s", ns_ctx_errmsg(ctx));
    const double busy[5] = {1, 5, 1, 1, 1};
    for (int k = 0; k < 5; k++) p[k]->busy_s = busy[k];
    const int64_t moves = net->moves;
    int was_alone = 1; /* the first choice may have had it so already: then nothing moves */
    for (int k = 0; k < 5; k++)
        if (k != 1) was_alone &= p[k]->part.thread[0] != p[1]->part.thread[0];
    NS_CHECK(ns_net_run(net, dt * net->window) == 0, "%s", ns_ctx_errmsg(ctx)); /* one window */
    int alone = 1;
    for (int k = 0; k < 5; k++)
        if (k != 1) alone &= p[k]->part.thread[0] != p[1]->part.thread[0];
    NS_CHECK(alone, "rebalanced: P1 on one thread, the other four on the other");
    NS_CHECK(was_alone ? net->moves == moves : net->moves > moves, "moves counted (%lld, before %lld)",
             (long long)net->moves, (long long)moves);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* A rate recorder and a state recorder on a spike source whose spikes are known. */
static void recorders(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    /* 10 units, unit i fires at 1, 2, ... ms for i < 5 and never otherwise */
    size_t off[11];
    double times[5 * 20];
    size_t k = 0;
    for (int i = 0; i < 10; i++) {
        off[i] = k;
        for (int j = 1; i < 5 && j <= 20; j++) times[k++] = j;
    }
    off[10] = k;
    ns_pop *src = ns_net_add_spike_source(net, 10, off, times, "src");
    ns_pop *p = ns_net_add_population(net, "lif", 2, "n");
    test_cuba_cell(ctx, net, p);
    ns_conn_spec s = spec_of(NS_RULE_ALL_TO_ALL, 10, 1.0);
    ns_net_connect(net, src, p, &s);
    ns_pop *pops[] = {src};
    NS_CHECK(ns_net_record_rate(net, pops, 1, 5.0, "rate.csv") == 0, "%s", ns_ctx_errmsg(ctx));
    const char *vars[] = {"V_m", "I_ex"};
    size_t units[] = {1};
    NS_CHECK(ns_net_record_state(net, p, vars, 2, units, 1, 0.5, "state.csv") == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_record_state(net, p, vars, 1, units, 1, 0.25, "x.csv") == NS_EINVAL, "interval off the grid refused");
    NS_CHECK(ns_net_record_state(net, p, (const char *[]){"nope"}, 1, units, 1, 0.5, "y.csv") == NS_EINVAL,
             "unknown variable refused");
    NS_CHECK(ns_net_record_rate(net, pops, 1, 1.0, "rate.csv") == NS_EINVAL, "two recorders on one file refused");
    NS_CHECK(ns_net_run(net, 20.0) == 0, "%s", ns_ctx_errmsg(ctx));
    size_t len;
    char *rate = test_slurp(ctx, "rate.csv", &len);
    /* bins [0,5): spikes at 1..4 -> 4 spikes x 5 units / (10 units x 5 ms) = 400 Hz */
    NS_CHECK(rate && !strncmp(rate, "t_ms,src\n0.0,400\n5.0,500\n10.0,500\n15.0,500\n", len),
             "rate.csv: %s", rate ? rate : "(missing)");
    free(rate);
    char *state = test_slurp(ctx, "state.csv", &len);
    int rows = 0;
    for (size_t j = 0; state && j < len; j++) rows += state[j] == '\n';
    NS_CHECK(state && !strncmp(state, "t_ms,neuron,V_m,I_ex\n0.5,11,-60,0\n", 34), "state.csv header and first row");
    NS_CHECK(rows == 1 + 40, "state.csv has 40 samples (%d rows)", rows);
    free(state);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Sparse event lists (with their lagging last step) and dense rows give the same trajectories:
 * 200 spike sources with irregular times drive 50 lif neurons through drawn weights and delays,
 * run in uneven pieces, with 1 and 2 threads. */
/* A Poisson generator's spikes reach its target under every input mode: "sparse" leaves a
 * Poisson-driven population on dense rows (its lists would never see them), with the spikes of
 * "dense". */
static void poisson_any_mode(void)
{
    int64_t spikes[3];
    for (int mode = NS_INPUT_AUTO; mode <= NS_INPUT_SPARSE; mode++) {
        ns_ctx *ctx = test_ctx(8, 1);
        ns_net *net = ns_net_create(ctx, dt);
        NS_CHECK(ns_net_set_input_mode(net, mode) == 0, "%s", ns_ctx_errmsg(ctx));
        ns_pop *p = ns_net_add_population(net, "lif", 100, "n");
        test_cuba_cell(ctx, net, p);
        NS_CHECK(ns_net_add_poisson(net, p, 8000.0, 30.0, 0.0, HUGE_VAL) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_run(net, 200.0) == 0, "%s", ns_ctx_errmsg(ctx));
        spikes[mode] = ns_pop_n_spikes(p);
        NS_CHECK(!p->sparse, "input mode %d: a Poisson-driven population takes dense rows", mode);
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    NS_CHECK(spikes[0] > 100 && spikes[1] == spikes[0] && spikes[2] == spikes[0],
             "the same Poisson-driven spikes in every input mode: %lld %lld %lld", (long long)spikes[0],
             (long long)spikes[1], (long long)spikes[2]);
}

static void input_modes(void)
{
    double V[2][2][50], Iex[2][2][50];
    int64_t spikes[2][2];
    for (int mode = 0; mode < 2; mode++)
        for (int threads = 1; threads <= 2; threads++) {
            ns_ctx *ctx = test_ctx(5, threads);
            ns_net *net = ns_net_create(ctx, dt);
            ns_net_set_input_mode(net, mode ? NS_INPUT_SPARSE : NS_INPUT_DENSE);
            size_t off[201];
            double times[200 * 30];
            size_t k = 0;
            for (int i = 0; i < 200; i++) {
                off[i] = k;
                for (int j = 0; j < 30; j++) times[k++] = 0.1 * (1 + (i * 37 + j * 101) % 3000);
            }
            off[200] = k;
            ns_pop *src = ns_net_add_spike_source(net, 200, off, times, "src");
            ns_pop *p = ns_net_add_population(net, "lif", 50, "n");
            test_cuba_cell(ctx, net, p);
            const char *names[] = {"E_L", "V_th", "V_reset"};
            double vals[] = {-60, -50, -65};
            ns_pop_set_params(net, p, names, vals, 3);
            ns_conn_spec s = spec_of(NS_RULE_BERNOULLI, 0, 0);
            s.p = 0.3;
            s.weight = (ns_dist){.kind = NS_DIST_NORMAL, .a = 40, .b = 60};
            s.delay = (ns_dist){.kind = NS_DIST_UNIFORM, .a = 0.1, .b = 0.5};
            NS_CHECK(ns_net_connect(net, src, p, &s) == 0, "%s", ns_ctx_errmsg(ctx));
            s.weight = (ns_dist){.kind = NS_DIST_CONST, .a = -30, .b = 0};
            s.delay = (ns_dist){.kind = NS_DIST_CONST, .a = 0.1, .b = 0};
            NS_CHECK(ns_net_connect(net, p, p, &s) == 0, "%s", ns_ctx_errmsg(ctx));
            ns_net_run(net, 77.7);
            ns_net_run(net, 0.1);
            ns_net_run(net, 222.2);
            NS_CHECK(p->sparse == mode && p->lag == mode, "input mode %d took effect", mode);
            for (int i = 0; i < 50; i++) {
                V[mode][threads - 1][i] = ns_pop_get_state(p, "V_m", (size_t)i);
                Iex[mode][threads - 1][i] = ns_pop_get_state(p, "I_ex", (size_t)i);
            }
            spikes[mode][threads - 1] = ns_pop_n_spikes(p);
            ns_net_free(net);
            test_ctx_free(ctx);
        }
    NS_CHECK(spikes[0][0] > 100, "the neurons fire (%lld spikes)", (long long)spikes[0][0]);
    for (int mode = 0; mode < 2; mode++)
        NS_CHECK(spikes[mode][0] == spikes[mode][1] && !memcmp(V[mode][0], V[mode][1], sizeof V[mode][0]),
                 "mode %d: 2 threads give the same state as 1", mode);
    NS_CHECK(spikes[0][0] == spikes[1][0], "dense and sparse: the same spike count (%lld, %lld)",
             (long long)spikes[0][0], (long long)spikes[1][0]);
    double worst = 0;
    for (int i = 0; i < 50; i++) {
        worst = fmax(worst, fabs(V[0][0][i] - V[1][0][i]) / fabs(V[0][0][i]));
        worst = fmax(worst, fabs(Iex[0][0][i] - Iex[1][0][i]) / fmax(1.0, fabs(Iex[0][0][i])));
    }
    NS_CHECK(worst < 1e-10, "dense and sparse agree to rounding (worst relative difference %.3g)", worst);
}

static void bad_input(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    NS_CHECK(ns_net_create(ctx, 0.0) == NULL, "dt 0 refused");
    NS_CHECK(ns_net_create(ctx, NAN) == NULL, "dt NaN refused");
    ns_net *net = ns_net_create(ctx, dt);
    NS_CHECK(ns_net_add_population(net, "nope", 10, NULL) == NULL, "unknown model refused");
    NS_CHECK(strstr(ns_ctx_errmsg(ctx), "unknown model 'nope'") != NULL, "message: %s", ns_ctx_errmsg(ctx));
    ns_pop *p = ns_net_add_population(net, "lif", 10, "p");
    test_cuba_cell(ctx, net, p);
    const char *n1[] = {"tau_x"};
    double v1[] = {1};
    NS_CHECK(ns_pop_set_params(net, p, n1, v1, 1) == NS_EINVAL, "unknown parameter refused");
    NS_CHECK(strstr(ns_ctx_errmsg(ctx), "no parameter 'tau_x'") != NULL, "message: %s", ns_ctx_errmsg(ctx));
    const char *n2[] = {"V_th", "tau_m"};
    double v2[] = {-40, -5};
    NS_CHECK(ns_pop_set_params(net, p, n2, v2, 2) == NS_EINVAL, "negative tau_m refused");
    NS_CHECK(strstr(ns_ctx_errmsg(ctx), "lif.tau_m = -5") != NULL, "message: %s", ns_ctx_errmsg(ctx));
    double v3[] = {NAN, 10};
    NS_CHECK(ns_pop_set_params(net, p, n2, v3, 2) == NS_EINVAL, "NaN refused");
    const char *n4[] = {"V_reset", "V_th"};
    double v4[] = {-40, -45};
    NS_CHECK(ns_pop_set_params(net, p, n4, v4, 2) == NS_EINVAL, "V_reset above V_th refused");
    /* copy, validate, commit: the refused values left the old ones in force */
    NS_CHECK(ns_model_get_param(p->model, p->params, ns_model_param_index(p->model, "V_th")) == -50,
             "V_th unchanged after refused sets");
    ns_conn_spec s = spec_of(NS_RULE_ALL_TO_ALL, 1, 0.05);
    NS_CHECK(ns_net_connect(net, p, p, &s) == NS_EINVAL, "delay below dt refused");
    NS_CHECK(strstr(ns_ctx_errmsg(ctx), "shorter than dt") != NULL, "message: %s", ns_ctx_errmsg(ctx));
    s = spec_of(NS_RULE_BERNOULLI, 1, 1);
    s.p = 1.5;
    NS_CHECK(ns_net_connect(net, p, p, &s) == NS_EINVAL, "p > 1 refused");
    NS_CHECK(strstr(ns_ctx_errmsg(ctx), "outside [0, 1]") != NULL, "message: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_add_poisson(net, p, -3, 1, 0, 10) == NS_EINVAL, "negative rate refused");
    ns_pop *one = ns_net_add_population(net, "lif", 1, "one");
    test_cuba_cell(ctx, net, one);
    s = spec_of(NS_RULE_FIXED_INDEGREE, 1, 1);
    s.K = 3;
    s.autapses = 0;
    NS_CHECK(ns_net_connect(net, one, one, &s) == NS_EINVAL, "K partners without autapses in 1 unit refused");
    NS_CHECK(ns_net_run(net, 0.05) == NS_EINVAL, "run time off the grid refused");
    NS_CHECK(ns_net_run(net, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_add_population(net, "lif", 1, "late") == NULL, "populations after the first run refused");
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Every state variable of every model declares its bound (a row left at 0 would stop any run). */
static void state_bounds_declared(void)
{
    for (int i = 0; i < ns_model_count(); i++) {
        const ns_model *m = ns_model_at(i);
        for (int k = 0; k < m->n_state; k++)
            NS_CHECK(m->state[k].bound > 0, "%s.%s declares its bound (got %g)", m->name, m->state[k].name,
                     m->state[k].bound);
    }
}

/* A state beyond its bound, or not a number, stops the run with the unit and the variable: AdEx
 * driven by 2e5 pA (its V runs away past V_peak between two checks), and a NaN and a -inf put
 * into a lif's membrane between two runs (for 1 and 2 threads: the first thread to see one writes
 * the message). A run whose state stays within bounds, and a variable infinite by design
 * (leaky_readout's U_max before its first counted step), are untouched. */
static void state_blowup(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *a = ns_net_add_population(net, "adex", 2, "A");
    set1(ctx, net, a, "I_e", 2e5);
    NS_CHECK(ns_net_run(net, 100.0) == NS_ERUN, "AdEx at 2e5 pA fails");
    const char *msg = ns_ctx_errmsg(ctx), *tail = " mV, beyond the bound |V_m| <= 10000 mV that adex declares";
    double v = 0;
    int at = 0;
    char head[96];
    snprintf(head, sizeof head, "at t = %g ms: population A: unit 0: V_m = %%lf%%n", NS_STATE_CHECK_MS);
    NS_CHECK(sscanf(msg, head, &v, &at) == 1 && v > 1e4 && strcmp(msg + at, tail) == 0, "message: %s", msg);
    NS_CHECK(ns_net_time(net) == NS_STATE_CHECK_MS, "stopped at the first check, %g ms (got %g)", NS_STATE_CHECK_MS,
             ns_net_time(net));
    ns_net_free(net);
    test_ctx_free(ctx);

    for (int threads = 1; threads <= 2; threads++)
        for (int inf = 0; inf <= 1; inf++) {
            ctx = test_ctx(1, threads);
            net = ns_net_create(ctx, dt);
            ns_pop *p = ns_net_add_population(net, "lif", 8, "p");
            NS_CHECK(ns_net_run(net, 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
            /* V_m, which a default lif (at rest) keeps, put in as the state setters do (a lagging
             * population integrates its own copy of it: ns_pop_sync hands it over) */
            p->state[0][5] = inf ? -HUGE_VAL : NAN;
            ns_pop_sync(net, p, 1);
            NS_CHECK(ns_net_run(net, 2 * NS_STATE_CHECK_MS) == NS_ERUN, "a %s in the state stops the run",
                     inf ? "-inf" : "NaN");
            char want[160]; /* found at the first check after it was put there */
            snprintf(want, sizeof want, "at t = %g ms: population p: unit 5: V_m is %s (a state must be a finite number)",
                     NS_STATE_CHECK_MS, inf ? "-inf" : "NaN");
            NS_CHECK(strcmp(ns_ctx_errmsg(ctx), want) == 0, "%d threads: %s", threads, ns_ctx_errmsg(ctx));
            ns_net_free(net);
            test_ctx_free(ctx);
        }

    /* a lagging population (event lists, no state record) integrates its own copy of V_m: the
     * check sees it all the same. -1e12 pA drives V_m to about -4e8 mV; the currents stay finite */
    for (int threads = 1; threads <= 2; threads++) {
        ctx = test_ctx(1, threads);
        net = ns_net_create(ctx, dt);
        ns_pop *src = test_one_spike(net, 1.0);
        ns_pop *lag = ns_net_add_population(net, "lif", 5, "lag");
        NS_CHECK(test_connect_const(net, src, lag, -1e12, 0.1) == 0, "%s", ns_ctx_errmsg(ctx));
        NS_CHECK(ns_net_run(net, 2 * NS_STATE_CHECK_MS) == NS_ERUN && lag->lag, "a lagging population's V_m "
                 "beyond its bound stops the run (lagging %d)", lag->lag);
        const char *m = ns_ctx_errmsg(ctx);
        double v = 0;
        int at = 0;
        char head[96];
        /* any unit (all take the same input; at 2 threads the first to look names its own) */
        snprintf(head, sizeof head, "at t = %g ms: population lag: unit %%*u: V_m = %%lf%%n", NS_STATE_CHECK_MS);
        NS_CHECK(sscanf(m, head, &v, &at) == 1 && v < -1e8 && strstr(m + at, "beyond the bound |V_m| <= 10000 mV"),
                 "%d threads: %s", threads, m);
        ns_net_free(net);
        test_ctx_free(ctx);
    }

    /* a membrane that would reach 2^50 mV without firing (V_th out of reach) would read as a
     * refractory count in a lagging population's X: the step stops the run instead, at once */
    ctx = test_ctx(1, 1);
    net = ns_net_create(ctx, dt);
    ns_pop *src1 = test_one_spike(net, 1.0), *far = ns_net_add_population(net, "lif", 9, "far");
    set1(ctx, net, far, "V_th", 1e300);
    NS_CHECK(test_connect_const(net, src1, far, 1e18, 0.1) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 2 * NS_STATE_CHECK_MS) == NS_ERUN && far->lag, "a membrane beyond 2^50 mV stops the run");
    NS_CHECK(strstr(ns_ctx_errmsg(ctx), "population far: a membrane above 2^50 mV without firing") &&
                 ns_net_time(net) < NS_STATE_CHECK_MS,
             "in the step it happens (t = %g ms): %s", ns_net_time(net), ns_ctx_errmsg(ctx));
    ns_net_free(net);
    test_ctx_free(ctx);

    ctx = test_ctx(1, 2);
    net = ns_net_create(ctx, dt);
    ns_pop *ro = ns_net_add_population(net, "leaky_readout", 3, "ro");
    set1(ctx, net, ro, "start", 1e6);
    ns_pop *l = ns_net_add_population(net, "lif", 4, "l");
    set1(ctx, net, l, "I_e", 1e3);
    NS_CHECK(ns_net_run(net, 20.0) == 0, "a run within bounds goes on: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_get_state(ro, "U_max", 0) == -HUGE_VAL, "U_max is still -inf");
    NS_CHECK(ns_pop_n_spikes(l) > 0, "the driven lif fired");
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Times the step counter cannot hold are refused with their range, before anything is built: a
 * spike time of 1e300 ms (llround overflowed and the spike was lost), a spike at 0 (before the
 * end of the first step: nsim stamps spikes at step ends), device times, run lengths (also one
 * that would carry an advanced network past the limit), record intervals and dt. A spike time
 * beyond the run's end is accepted and never fires in that run. */
static void time_ranges(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    NS_CHECK(ns_net_create(ctx, 1e300) == NULL && !strcmp(ns_ctx_errmsg(ctx), "dt must be within [1e-06, 1e+06] ms, got 1e+300"),
             "dt 1e300: %s", ns_ctx_errmsg(ctx));
    ns_net *net = ns_net_create(ctx, dt);
    const double lim = (double)((INT64_MAX / 4) / 1) * dt; /* dt 0.1 ms: time stamps in units of 0.1 ms */
    char want[512];
    NS_CHECK(test_one_spike(net, 1e300) == NULL, "spike time 1e300 refused");
    snprintf(want, sizeof want, "spike time 1e+300 ms is outside [0.1, %g] ms (from dt to the longest time the step counter holds)", lim);
    NS_CHECK(!strcmp(ns_ctx_errmsg(ctx), want), "message: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(test_one_spike(net, -1) == NULL && strstr(ns_ctx_errmsg(ctx), "spike time -1 ms is outside [0.1, "), "%s",
             ns_ctx_errmsg(ctx));
    NS_CHECK(test_one_spike(net, 0) == NULL &&
                 !strcmp(ns_ctx_errmsg(ctx), "spike time 0 ms is before dt (0.1 ms): nsim stamps a spike at the end of "
                                             "the step that emits it (as NEST does); add dt to times stamped at the step's "
                                             "start (as Brian2's are)"),
             "spike at 0: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(test_one_spike(net, lim * 2) == NULL, "spike time twice the limit refused");
    ns_pop *p = ns_net_add_population(net, "lif", 2, "p");
    NS_CHECK(ns_net_add_poisson(net, p, 10, 1, 1e300, HUGE_VAL) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "within [0, "),
             "Poisson start 1e300: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_add_poisson(net, p, 10, 1, 0, 1e300) == NS_EINVAL, "Poisson stop 1e300 refused");
    NS_CHECK(ns_net_add_poisson(net, p, 10, 1, 0, HUGE_VAL) == 0, "Poisson without an end: %s", ns_ctx_errmsg(ctx));
    double t[] = {0, 1e300}, a[] = {1, 2};
    NS_CHECK(ns_net_add_current(net, p, 2, t, a) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "current change 2 (t = 1e+300 ms"),
             "current at 1e300: %s", ns_ctx_errmsg(ctx));
    const char *vars[] = {"V_m"};
    size_t units[] = {0};
    NS_CHECK(ns_net_record_state(net, p, vars, 1, units, 1, 1e300, "s.csv") == NS_EINVAL, "interval 1e300 refused");
    NS_CHECK(ns_net_record_rate(net, &p, 1, 1e300, "r.csv") == NS_EINVAL, "bin 1e300 refused");
    size_t off[] = {0, 2};
    double times[] = {5.0, 1e6}; /* the second beyond this run's end */
    ns_pop *src = ns_net_add_spike_source(net, 1, off, times, "src");
    NS_CHECK(src != NULL, "%s", ns_ctx_errmsg(ctx));
    ns_net_record_spikes(net, &src, 1, "spikes.csv");
    NS_CHECK(ns_net_run(net, 1e300) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "run time 1e+300 ms"), "run 1e300: %s",
             ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, 10.0) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, lim) == NS_EINVAL && strstr(ns_ctx_errmsg(ctx), "past"), "a run past the counter's end: %s",
             ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_time(net) == 10.0, "the refused runs did not move the clock (%g ms)", ns_net_time(net));
    ns_net_flush(net);
    test_spikes sp = test_read_spikes(ctx, "spikes.csv");
    NS_CHECK(sp.n == 1 && sp.t[0] == 5.0 && sp.id[0] == 2, "only the spike at 5 ms within the run (%zu spikes)", sp.n);
    test_spikes_free(&sp);
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* Connections that cannot fit are refused at once with their size: all_to_all between two
 * populations of 10^6 (10^12 synapses, 4 TB of target indices, beyond any machine this runs on)
 * and fixed_indegree with K = 10^9; K beyond a 32-bit count names its range. The counts are
 * recomputed here from the rule. */
static void connection_size(void)
{
    ns_ctx *ctx = test_ctx(1, 2);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *a = ns_net_add_population(net, "lif", 1000000, "A");
    ns_pop *b = ns_net_add_population(net, "lif", 1000000, "B");
    ns_conn_spec s = spec_of(NS_RULE_ALL_TO_ALL, 1, 1);
    double t0 = ns_wall_seconds();
    NS_CHECK(ns_net_connect(net, a, b, &s) == NS_ENOMEM, "all_to_all of 10^12 refused");
    NS_CHECK(strstr(ns_ctx_errmsg(ctx), "all_to_all from A (1000000) to B (1000000): 1e+12 synapses need 4e+03 GB for "
                                        "their tables, more than the ") != NULL,
             "message: %s", ns_ctx_errmsg(ctx));
    s = spec_of(NS_RULE_FIXED_INDEGREE, 1, 1);
    s.K = 1000000000;
    NS_CHECK(ns_net_connect(net, a, b, &s) == NS_ENOMEM &&
                 strstr(ns_ctx_errmsg(ctx), "fixed_indegree from A (1000000) to B (1000000): 1e+15 synapses need 4e+06 GB"),
             "K = 10^9 refused: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_wall_seconds() - t0 < 1.0, "refused at once (%.2f s)", ns_wall_seconds() - t0);
    s.K = 1000000000000L;
    NS_CHECK(ns_net_connect(net, a, b, &s) == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx), "K = 1000000000000 partners per unit is outside [0, 4294967295]"),
             "K = 10^12: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_n_synapses(net) == 0, "nothing was built");
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* One state record over two populations of different models (adex first, then lif): the rows of
 * each sample are adex's units then lif's, with global ids, and each column holds the named
 * variable of the unit's own model (I_ex is lif's second variable and adex's third). I_ex starts
 * at 100 (i + 1) pA and, with no input, is I_ex(0) exp(-t/tau_ex) at t = 0.1 ms (lif: tau_ex 2 ms,
 * adex: 0.2 ms); lif's V_m follows its closed form too. The lif population would lag (sparse
 * input) but a state record keeps it current. */
static void state_record_list(void)
{
    ns_ctx *ctx = test_ctx(1, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *a = ns_net_add_population(net, "adex", 2, "A");
    ns_pop *l = ns_net_add_population(net, "lif", 3, "L");
    double ia[2] = {100, 200}, il[3] = {100, 200, 300};
    NS_CHECK(ns_pop_set_state_array(net, a, "I_ex", ia) == 0 && ns_pop_set_state_array(net, l, "I_ex", il) == 0, "%s",
             ns_ctx_errmsg(ctx));
    ns_pop *pops[] = {l, a}; /* any order: rows follow the global ids */
    const char *vars[] = {"V_m", "I_ex"};
    NS_CHECK(ns_net_record_states(net, pops, 2, vars, 2, NULL, 0, dt, "state.csv") == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_run(net, dt) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_net_flush(net);
    char path[1024], line[256];
    snprintf(path, sizeof path, "%s/state.csv", ns_ctx_outdir(ctx));
    FILE *fp = fopen(path, "r");
    NS_CHECK(fp && fgets(line, sizeof line, fp) && !strcmp(line, "t_ms,neuron,V_m,I_ex\n"), "header");
    /* lif (NEST defaults): V = E_L + P21 I0 with P21 = tau_ex tau_m / (C (tau_m - tau_ex)) (e^-h/tau_m - e^-h/tau_ex) */
    const double h = dt, P21 = 2.0 * 10.0 / (250.0 * (10.0 - 2.0)) * (exp(-h / 10.0) - exp(-h / 2.0));
    int rows = 0, good = 1;
    double t, v, i_ex;
    long id;
    while (fp && fscanf(fp, "%lf,%ld,%lf,%lf", &t, &id, &v, &i_ex) == 4) {
        double want_i = id < 2 ? ia[id] * exp(-h / 0.2) : il[id - 2] * exp(-h / 2.0);
        good &= t == 0.1 && id == rows && fabs(i_ex - want_i) <= (id < 2 ? 1e-4 : 1e-8) * want_i; /* adex: CVODE's tolerance */
        if (id >= 2) good &= fabs(v - (-70.0 + P21 * il[id - 2])) < 1e-7; /* the file has 10 digits */
        if (!good) printf("row %d: %g,%ld,%.10g,%.10g (I_ex wants %.10g)\n", rows, t, id, v, i_ex, want_i);
        rows++;
    }
    if (fp) fclose(fp);
    NS_CHECK(rows == 5 && good, "5 rows, each unit's own variables (%d rows)", rows);
    NS_CHECK(ns_net_record_states(net, pops, 2, vars, 1, (size_t[]){2}, 1, dt, "x.csv") != 0, "after the run refused");
    ns_net_free(net);

    net = ns_net_create(ctx, dt);
    a = ns_net_add_population(net, "adex", 2, "A");
    l = ns_net_add_population(net, "lif", 3, "L");
    ns_pop *both[] = {a, l};
    NS_CHECK(ns_net_record_states(net, both, 2, vars, 1, (size_t[]){2}, 1, dt, "x.csv") == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx), "unit 2 is outside population A (0 .. 1)"),
             "a unit outside one of the populations: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_record_states(net, both, 2, (const char *[]){"w"}, 1, NULL, 0, dt, "x.csv") == NS_EINVAL &&
                 !strcmp(ns_ctx_errmsg(ctx), "population L: model lif has no state variable 'w'"),
             "a variable one model lacks: %s", ns_ctx_errmsg(ctx));
    ns_pop *twice[] = {a, a};
    NS_CHECK(ns_net_record_states(net, twice, 2, vars, 1, NULL, 0, dt, "x.csv") == NS_EINVAL, "a population twice refused");
    ns_net_free(net);
    test_ctx_free(ctx);
}

/* The tables are built with a thread per target block; they must hold the same synapses, weights
 * and delays for 1 and 2 threads, for the rules that fill rows in sorted order (fixed_total with
 * multapses) and at random (fixed_indegree), with drawn weights and delays. And spikes with
 * per-synapse delays into dense rows (held per arrival step) arrive at exactly t + delay. */
/* A projection onto a population stepped whole by one thread (split = populations) is one
 * table, filled by ranges of sources over the run's threads: the same table, byte for byte
 * (targets, weights, delays, row by row in the same order), for 1, 2 and 3 threads. */
static void tables_by_sources(void)
{
    ns_csr ref = {0};
    size_t nsyn = 0;
    unsigned char *keep[3] = {0}; /* threads 1's targets, weights and delays */
    for (int threads = 1; threads <= 3; threads++) {
        ns_ctx *ctx = test_ctx(5, threads);
        ns_net *net = ns_net_create(ctx, dt);
        NS_CHECK(ns_net_set_split(net, NS_SPLIT_POPULATIONS) == 0, "%s", ns_ctx_errmsg(ctx));
        ns_pop *a = ns_net_add_population(net, "lif", 900, "A");
        ns_conn_spec s = spec_of(NS_RULE_FIXED_TOTAL, 0, 0);
        s.N = 90000;
        s.weight = (ns_dist){.kind = NS_DIST_NORMAL, .a = 20, .b = 5};
        s.delay = (ns_dist){.kind = NS_DIST_NORMAL, .a = 1.5, .b = 0.75};
        NS_CHECK(ns_net_connect(net, a, a, &s) == 0, "%s", ns_ctx_errmsg(ctx));
        const ns_proj *pr = net->projs[0];
        NS_CHECK(pr->tgt_blocks == 1 && pr->block[0].row && pr->block[0].w && pr->block[0].d8,
                 "threads %d: one table with weights and one-byte delays", threads);
        const ns_csr *c = &pr->block[0];
        const size_t n = c->row[900];
        const size_t bytes[3] = {n * sizeof *c->tgt, n * sizeof *c->w, n * sizeof *c->d8};
        const void *have[3] = {c->tgt, c->w, c->d8};
        if (threads == 1) {
            nsyn = n;
            ref.row = malloc(901 * sizeof *ref.row);
            memcpy(ref.row, c->row, 901 * sizeof *ref.row);
            for (int k = 0; k < 3; k++) memcpy(keep[k] = malloc(bytes[k]), have[k], bytes[k]);
        } else {
            int same = n == nsyn && !memcmp(c->row, ref.row, 901 * sizeof *ref.row);
            for (int k = 0; k < 3 && same; k++) same = !memcmp(have[k], keep[k], bytes[k]);
            NS_CHECK(same, "threads %d: the table of 1 thread, byte for byte (%zu synapses)", threads, n);
        }
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    free(ref.row);
    for (int k = 0; k < 3; k++) free(keep[k]);
}

static void tables_any_threads(void)
{
    test_syn *ref[3] = {0};
    size_t nref[3] = {0};
    for (int threads = 1; threads <= 2; threads++) {
        ns_ctx *ctx = test_ctx(5, threads);
        ns_net *net = ns_net_create(ctx, dt);
        ns_pop *a = ns_net_add_population(net, "lif", 700, "A"), *b = ns_net_add_population(net, "lif", 500, "B");
        ns_conn_spec s = spec_of(NS_RULE_FIXED_TOTAL, 0, 0);
        s.N = 60000;
        s.autapses = 0;
        s.weight = (ns_dist){.kind = NS_DIST_NORMAL, .a = 20, .b = 5};
        s.delay = (ns_dist){.kind = NS_DIST_UNIFORM, .a = 0.1, .b = 3.0};
        NS_CHECK(ns_net_connect(net, a, a, &s) == 0, "%s", ns_ctx_errmsg(ctx));
        s.autapses = 1;
        NS_CHECK(ns_net_connect(net, a, b, &s) == 0, "%s", ns_ctx_errmsg(ctx));
        ns_conn_spec f = spec_of(NS_RULE_FIXED_INDEGREE, 0, 0);
        f.K = 40;
        f.weight = (ns_dist){.kind = NS_DIST_UNIFORM, .a = -30, .b = -10};
        f.delay = (ns_dist){.kind = NS_DIST_UNIFORM, .a = 0.5, .b = 2.5};
        NS_CHECK(ns_net_connect(net, b, a, &f) == 0, "%s", ns_ctx_errmsg(ctx));
        int by_delay = 1; /* rows sorted by delay: a spike's synapses of one delay are one run */
        for (int k = 0; k < 3; k++)
            for (int t = 0; t < net->projs[k]->tgt_blocks; t++) {
                const ns_csr *c = &net->projs[k]->block[t];
                for (size_t i = 0; i < net->projs[k]->src->n; i++)
                    for (size_t q = c->row[i] + 1; q < c->row[i + 1]; q++) by_delay &= ns_csr_delay(c, q) >= ns_csr_delay(c, q - 1);
            }
        NS_CHECK(by_delay, "rows sorted by delay (threads %d)", threads);
        for (int k = 0; k < 3; k++) {
            size_t n;
            NS_CHECK(net->projs[k]->tgt_blocks == threads, "projection %d: %d blocks", k, net->projs[k]->tgt_blocks);
            test_syn *r = test_read_back(net->projs[k], &n);
            if (threads == 1) {
                ref[k] = r;
                nref[k] = n;
                continue;
            }
            NS_CHECK(test_same_synapses(r, n, ref[k], nref[k]), "projection %d: the same %zu synapses for 1 and 2 threads (%zu)", k, nref[k], n);
            free(r);
        }
        /* sources in sorted order did not bias them: each source of A -> A about N / 700 */
        if (threads == 2) {
            double chi2 = 0;
            size_t *per = calloc(700, sizeof *per), self = 0;
            for (size_t q = 0; q < nref[0]; q++) {
                per[ref[0][q].pre]++;
                self += ref[0][q].pre == ref[0][q].post;
            }
            for (size_t i = 0; i < 700; i++) chi2 += pow(per[i] - 60000.0 / 700, 2) / (60000.0 / 700 * (1 - 1.0 / 700));
            NS_CHECK(chi2 < 699 + 8 * sqrt(2.0 * 699) && self == 0, "fixed_total sources multinomial: chi2 %.0f, df 699; "
                     "%zu self pairs", chi2, self);
            free(per);
        }
        ns_net_free(net);
        test_ctx_free(ctx);
    }
    for (int k = 0; k < 3; k++) free(ref[k]);
    tables_by_sources();
}

int main(void)
{
    tables_any_threads();
    poisson_counts();
    poisson_exact(1);
    poisson_exact(2);
    connection_counts(1);
    connection_counts(2);
    for (int mode = NS_INPUT_AUTO; mode <= NS_INPUT_SPARSE; mode++) { /* dense: the held lists */
        delivery_time(1, mode, 0.5, 3.0);
        delivery_time(2, mode, 0.5, 3.0);
        delivery_time(2, mode, 20.0, 30.0);
    }
    list_rule(1);
    list_rule(2);
    held_runs(1);
    held_runs(2);
    held_packed(1);
    held_packed(2);
    for (int t = 1; t <= 2; t++) {
        synapse_bytes_count(t, NS_SPLIT_POPULATIONS);
        synapse_bytes_count(t, NS_SPLIT_UNITS);
    }
    thread_determinism();
    partition_by_ranks();
    split_populations();
    recorders();
    input_modes();
    poisson_any_mode();
    bad_input();
    state_bounds_declared();
    state_blowup();
    time_ranges();
    connection_size();
    state_record_list();
    NS_TEST_MAIN_END();
}
