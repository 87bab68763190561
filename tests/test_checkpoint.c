/* tests/test_checkpoint.c — checkpoints in one process: a network checkpointed at t and resumed in
 * a second network of another thread count ends at T with every state variable bit for bit equal
 * to the first's, and records the same spikes; bad, truncated, corrupt and foreign checkpoints are
 * refused with their line and change nothing; writing refuses an existing file. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sim/checkpoint.h"
#include "sim/net_types.h"
#include "tests/harness.h"
#include "tests/testlib.h"

static const double dt = 0.1;

/* Seconds on a monotonic clock. */
static double test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static ns_conn_spec spec_of(ns_rule rule, double w, ns_dist d)
{
    ns_conn_spec s = {.rule = rule, .weight = {NS_DIST_CONST, w, 0}, .delay = d, .autapses = 1};
    return s;
}

/* A network with every kind of spike in flight: lif_delta with per-synapse delays onto dense rows
 * (held runs) driven by Poisson input, lif with 0.1 ms delays on event lists (sparse input), a
 * lif_ps taking precise spikes with offsets, an adex on CVODE with one-delay input into its ring; n scales it (n = 1: 600 units). */
static ns_net *build(ns_ctx *ctx, int n, const char *spikes_file)
{
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *E = ns_net_add_population(net, "lif_delta", 400 * (size_t)n, "E");
    ns_pop *L = ns_net_add_population(net, "lif", 100, "L");
    ns_pop *P = ns_net_add_population(net, "lif_ps", 60, "P");
    ns_pop *A = ns_net_add_population(net, "adex", 20, "A");
    const char *ne[] = {"tau_m", "V_th", "V_reset", "E_L", "t_ref"};
    double ve[] = {20, 20, 0, 0, 2};
    NS_CHECK(ns_pop_set_params(net, E, ne, ve, 5) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_dist vm = {.kind = NS_DIST_UNIFORM, .a = 0, .b = 20};
    ns_pop_init_state(net, E, "V_m", &vm);
    const char *nl[] = {"E_L", "V_th", "V_reset", "tau_ex", "tau_in"};
    double vl[] = {-49, -50, -60, 5, 10};
    NS_CHECK(ns_pop_set_params(net, L, nl, vl, 5) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_dist vl0 = {.kind = NS_DIST_UNIFORM, .a = -60, .b = -50};
    ns_pop_init_state(net, L, "V_m", &vl0);
    const char *np[] = {"I_e"};
    double vp[] = {400};
    NS_CHECK(ns_pop_set_params(net, P, np, vp, 1) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_pop_set_params(net, A, np, (double[]){600}, 1) == 0, "%s", ns_ctx_errmsg(ctx));
    ns_dist d1 = {.kind = NS_DIST_UNIFORM, .a = 0.5, .b = 3.0}, d0 = {.kind = NS_DIST_CONST, .a = 0.1},
            dp = {.kind = NS_DIST_UNIFORM, .a = 0.3, .b = 2.0}, d2 = {.kind = NS_DIST_CONST, .a = 2.0};
    ns_conn_spec s = spec_of(NS_RULE_FIXED_INDEGREE, 0.2, d1);
    s.K = 40;
    NS_CHECK(ns_net_connect(net, E, E, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    s = spec_of(NS_RULE_BERNOULLI, 16.2, d0);
    s.p = 0.05;
    NS_CHECK(ns_net_connect(net, L, L, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    s = spec_of(NS_RULE_BERNOULLI, 150, dp);
    s.p = 0.1;
    NS_CHECK(ns_net_connect(net, L, P, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    s = spec_of(NS_RULE_BERNOULLI, -20, dp);
    s.p = 0.1;
    NS_CHECK(ns_net_connect(net, P, P, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    s = spec_of(NS_RULE_BERNOULLI, 30, d1);
    s.p = 0.2;
    NS_CHECK(ns_net_connect(net, E, A, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    s = spec_of(NS_RULE_BERNOULLI, 50, d2); /* one delay onto dense rows: straight into the ring */
    s.p = 0.2;
    NS_CHECK(ns_net_connect(net, L, A, &s) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_add_poisson(net, E, 10000.0, 0.2, 0.0, HUGE_VAL) == 0, "%s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_set_input_mode(net, NS_INPUT_AUTO) == 0, "input mode");
    ns_pop *all[] = {E, L, P, A};
    NS_CHECK(ns_net_record_spikes(net, all, 4, spikes_file) == 0, "%s", ns_ctx_errmsg(ctx));
    return net;
}

/* The bytes of a file (len into *len), or NULL. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    *len = b && fread(b, 1, (size_t)n, fp) == (size_t)n ? (size_t)n : 0;
    fclose(fp);
    return b;
}

/* The lines of a spikes file after time t0 (ms), as one string. */
static char *spikes_after(const char *path, double t0)
{
    size_t len;
    unsigned char *b = slurp(path, &len);
    if (!b) return NULL;
    b[len] = '\0';
    char *out = calloc(len + 1, 1), *o = out, *line = strchr((char *)b, '\n');
    for (char *p = line ? line + 1 : (char *)b + len; *p;) {
        char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) + 1 : strlen(p);
        if (atof(p) > t0 + 1e-6) memcpy(o, p, l), o += l;
        p += l;
    }
    free(b);
    return out;
}

/* Every state variable of every population of a and b equal bit for bit. */
static int same_state(const ns_net *a, const ns_net *b)
{
    for (int k = 0; k < a->npops; k++)
        for (int v = 0; v < a->pops[k]->model->n_state; v++)
            if (memcmp(a->pops[k]->state[v], b->pops[k]->state[v], a->pops[k]->n * sizeof(double))) {
                printf("population %s, %s differs\n", a->pops[k]->name, a->pops[k]->model->state[v].name);
                return 0;
            }
    return 1;
}

static char ckpt_path[1024];

/* Run to 40 ms on ta threads with a checkpoint at 23.7 ms, and resume from it on tb threads. */
static void resume_same_process(int ta, int tb)
{
    ns_ctx *ca = test_ctx(11, ta), *cb = test_ctx(11, tb);
    ns_net *a = build(ca, 1, "spikes.csv"), *b = build(cb, 1, "spikes.csv");
    const double t = 23.7, T = 40.0;
    NS_CHECK(ns_net_run(a, t) == 0, "%s", ns_ctx_errmsg(ca));
    snprintf(ckpt_path, sizeof ckpt_path, "%s/c.ckpt", ns_ctx_outdir(ca));
    NS_CHECK(ns_checkpoint_save(a, ckpt_path, 0) == 0, "%s", ns_ctx_errmsg(ca));
    int held = 0, lists = 0, pending = 0;
    for (int k = 0; k < a->npops; k++) { /* the checkpoint has spikes in flight of both kinds */
        const ns_pop *p = a->pops[k];
        for (int bl = 0; bl < p->part.nblocks; bl++)
            for (size_t s = 0; s < p->ring_len; s++) {
                if (p->held && s < p->held_len) held += p->held[bl][s].n > 0;
                if (p->ev) lists += p->ev[bl][s].n > 0;
            }
    }
    for (int k = 0; k < a->npops; k++)
        for (int r = 0; r < a->pops[k]->model->n_inputs; r++)
            for (size_t j = 0; a->pops[k]->input[r] && j < a->pops[k]->ring_len * a->pops[k]->stride[r]; j++)
                pending += a->pops[k]->input[r][j] != 0.0;
    NS_CHECK(held > 0 && lists > 0 && pending > 0, "held lists %d, event lists %d, ring values %d at the checkpoint", held,
             lists, pending);
    NS_CHECK(ns_net_run(a, T - t) == 0, "%s", ns_ctx_errmsg(ca));
    NS_CHECK(ns_checkpoint_load(b, ckpt_path) == 0, "%s", ns_ctx_errmsg(cb));
    NS_CHECK_ABS(ns_net_time(b), t, 1e-9);
    NS_CHECK(ns_net_run(b, T - t) == 0, "%s", ns_ctx_errmsg(cb));
    NS_CHECK(same_state(a, b), "threads %d -> %d: the state at %g ms", ta, tb, T);
    char pa[1100], pb[1100];
    snprintf(pa, sizeof pa, "%s/spikes.csv", ns_ctx_outdir(ca));
    snprintf(pb, sizeof pb, "%s/spikes.csv", ns_ctx_outdir(cb));
    char *sa = spikes_after(pa, t), *sb = spikes_after(pb, t);
    NS_CHECK(sa && sb && strlen(sa) > 100 && !strcmp(sa, sb), "threads %d -> %d: spikes after %g ms (%zu and %zu bytes)",
             ta, tb, t, sa ? strlen(sa) : 0, sb ? strlen(sb) : 0);
    free(sa), free(sb);
    ns_net_free(a), ns_net_free(b);
    test_ctx_free(ca), test_ctx_free(cb);
}

/* A checkpoint of the network of build(n = 1) at 12 ms, in memory. */
static unsigned char *good_checkpoint(size_t *len)
{
    ns_ctx *c = test_ctx(11, 1);
    ns_net *net = build(c, 1, "spikes.csv");
    char path[1100];
    snprintf(path, sizeof path, "%s/g.ckpt", ns_ctx_outdir(c));
    NS_CHECK(ns_net_run(net, 12.0) == 0 && ns_checkpoint_save(net, path, 0) == 0, "%s", ns_ctx_errmsg(c));
    unsigned char *b = slurp(path, len);
    remove(path);
    ns_net_free(net);
    test_ctx_free(c);
    return b;
}

/* FNV-1a 64, as the format's checksum (docs/formats.md), to make corrupt files that pass it. */
static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t k = 0; k < n; k++) h = (h ^ p[k]) * 0x100000001b3ull;
    return h;
}

static void reseal(unsigned char *b, size_t len)
{
    uint64_t s = fnv(b + 24, len - 24 - 8);
    memcpy(b + len - 8, &s, 8);
}

/* buf refused by the reader alone and by a network (whose state it leaves alone), the message
 * holding `what`. */
static void refused(const unsigned char *buf, size_t len, const char *what, const char *label)
{
    char err[1200];
    int rc = ns_checkpoint_check_buffer(buf, len, err, sizeof err);
    NS_CHECK(rc != 0 && strstr(err, what), "%s: check_buffer %d '%s', want '%s'", label, rc, rc ? err : "", what);
    ns_ctx *c = test_ctx(11, 2);
    ns_net *net = build(c, 1, "spikes.csv");
    NS_CHECK(ns_net_prepare(net) == 0, "%s", ns_ctx_errmsg(c));
    double v0 = net->pops[0]->state[0][3];
    rc = ns_checkpoint_load_buffer(net, buf, len, "bad.ckpt");
    NS_CHECK(rc == NS_EINVAL && !strncmp(ns_ctx_errmsg(c), "bad.ckpt: ", 10) && strstr(ns_ctx_errmsg(c), what) &&
                 !strchr(ns_ctx_errmsg(c), '\n'),
             "%s: load %d '%s'", label, rc, ns_ctx_errmsg(c));
    NS_CHECK(net->step == 0 && net->pops[0]->state[0][3] == v0, "%s: the network was changed", label);
    ns_net_free(net);
    test_ctx_free(c);
}

static void bad_files(void)
{
    size_t len;
    unsigned char *g = good_checkpoint(&len), *b = malloc(len + 16);
    char err[1200];
    NS_CHECK(g && len > 1000, "a checkpoint of %zu bytes", len);
    if (!g || !b) return;
    NS_CHECK(ns_checkpoint_check_buffer(g, len, err, sizeof err) == 0, "%s", err);
    NS_CHECK_ABS(ns_checkpoint_time_ms(g, len, dt), 12.0, 1e-9);
    memcpy(b, g, len);
    b[0] = 'X';
    refused(b, len, "not an nsim checkpoint", "magic");
    memcpy(b, g, len);
    b[8] = 7; /* version */
    refused(b, len, "checkpoint version 7; this nsim reads version 1", "version");
    for (size_t cut = 0; cut < len; cut += cut < 64 ? 1 : len / 7) /* truncated anywhere */
        refused(g, cut, cut < 8 ? "not an nsim checkpoint" : "truncated", "truncated");
    memcpy(b, g, len);
    b[len / 2] ^= 0x10; /* one bit anywhere in the content */
    refused(b, len, "checksum", "flipped bit");
    memcpy(b, g, len);
    b[len] = 0; /* a byte more than its header says */
    refused(b, len + 1, "its header says", "longer");
    /* a count made huge, the checksum made to match: the lengths themselves are checked */
    memcpy(b, g, len);
    uint32_t huge = 0x7fffffff;
    memcpy(b + 24 + 16 + 8 + 4, &huge, 4); /* step, dt, seed, npops: the projection count */
    reseal(b, len);
    refused(b, len, "corrupt length", "projection count");
    memcpy(b, g, len);
    uint64_t hugen = (uint64_t)1 << 40;
    memcpy(b + 90, &hugen, 8); /* population 0's size: after the header (24), step, dt, seed, six counts (72), "E" and "lif_delta" with their lengths */
    reseal(b, len);
    refused(b, len, "corrupt", "population size");
    /* the checkpoint's step made 2^40 (checksum right): its windows of spikes in flight lie far
     * back; the replay empties each ring slot once, not every step since (a fuzzer's find: it hung) */
    memcpy(b, g, len);
    int64_t far = (int64_t)1 << 40;
    memcpy(b + 24, &far, 8);
    reseal(b, len);
    {
        ns_ctx *cf = test_ctx(11, 1);
        ns_net *nf = build(cf, 1, "spikes.csv");
        const double t0 = test_now();
        int rf = ns_checkpoint_load_buffer(nf, b, len, "far.ckpt");
        NS_CHECK(test_now() - t0 < 5.0, "a far step loads (rc %d) in %.1f s", rf, test_now() - t0);
        ns_net_free(nf);
        test_ctx_free(cf);
    }
    /* every byte of the body rewritten (checksum kept right): refused or accepted, never a crash */
    int crashes_none = 1;
    for (size_t at = 24; at < len - 8; at += 1 + at / 64) {
        memcpy(b, g, len);
        b[at] ^= 0xa5;
        reseal(b, len);
        crashes_none &= ns_checkpoint_check_buffer(b, len, err, sizeof err) <= 0;
    }
    NS_CHECK(crashes_none, "the reader walks every rewritten body");
    /* a checkpoint of another network: a population of another size, another seed */
    ns_ctx *c = test_ctx(11, 1);
    ns_net *net = build(c, 2, "spikes.csv");
    int rc = ns_checkpoint_load_buffer(net, g, len, "g.ckpt");
    NS_CHECK(rc == NS_EINVAL && strstr(ns_ctx_errmsg(c), "a checkpoint of another network: population 0 is 'E' (lif_delta, "
                                                        "400 units) there, 'E' (lif_delta, 800 units) here"),
             "%s", ns_ctx_errmsg(c));
    ns_net_free(net);
    test_ctx_free(c);
    c = test_ctx(12, 1);
    net = build(c, 1, "spikes.csv");
    rc = ns_checkpoint_load_buffer(net, g, len, "g.ckpt");
    NS_CHECK(rc == NS_EINVAL && strstr(ns_ctx_errmsg(c), "seed 11 there, 12 here"), "%s", ns_ctx_errmsg(c));
    /* resuming a network that has run is refused */
    NS_CHECK(ns_net_run(net, 1.0) == 0, "%s", ns_ctx_errmsg(c));
    ns_ctx_set_seed(c, 11);
    rc = ns_checkpoint_load_buffer(net, g, len, "g.ckpt");
    NS_CHECK(rc == NS_ESTATE && strstr(ns_ctx_errmsg(c), "before it runs"), "%s", ns_ctx_errmsg(c));
    ns_net_free(net);
    test_ctx_free(c);
    free(g);
    free(b);
}

/* Writing: not before the first run, never over an existing file unless asked, and a failed
 * write leaves nothing. */
static void save_rules(void)
{
    ns_ctx *c = test_ctx(11, 1);
    ns_net *net = build(c, 1, "spikes.csv");
    char path[1100], tmp[1200];
    snprintf(path, sizeof path, "%s/s.ckpt", ns_ctx_outdir(c));
    int rc = ns_checkpoint_save(net, path, 0);
    NS_CHECK(rc == NS_ESTATE && strstr(ns_ctx_errmsg(c), "has not run yet") && access(path, F_OK) != 0, "%d %s", rc,
             ns_ctx_errmsg(c));
    NS_CHECK(ns_net_run(net, 2.0) == 0, "%s", ns_ctx_errmsg(c));
    FILE *fp = fopen(path, "w");
    fputs("keep me\n", fp);
    fclose(fp);
    rc = ns_checkpoint_save(net, path, 0);
    size_t len;
    unsigned char *kept = slurp(path, &len);
    NS_CHECK(rc == NS_EINVAL && strstr(ns_ctx_errmsg(c), "exists already") && kept && len == 8, "%d %s", rc,
             ns_ctx_errmsg(c));
    free(kept);
    NS_CHECK(ns_checkpoint_save(net, path, 1) == 0, "%s", ns_ctx_errmsg(c));
    kept = slurp(path, &len);
    char err[1200];
    NS_CHECK(kept && ns_checkpoint_check_buffer(kept, len, err, sizeof err) == 0, "overwritten when asked");
    free(kept);
    remove(path);
    snprintf(path, sizeof path, "%s/no/such/folder/s.ckpt", ns_ctx_outdir(c));
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    rc = ns_checkpoint_save(net, path, 0);
    NS_CHECK(rc == NS_EIO && access(tmp, F_OK) != 0 && access(path, F_OK) != 0, "%d %s", rc, ns_ctx_errmsg(c));
    ns_net_free(net);
    test_ctx_free(c);
}

/* A model with private data and no checkpoint hooks is refused with one line. */
static void *opaque_create(const ns_model *m, const void *params, size_t n, double dt_ms, const ns_solver_opts *o,
                           char *err, size_t errlen)
{
    (void)m, (void)params, (void)n, (void)dt_ms, (void)o, (void)err, (void)errlen;
    return malloc(16);
}

static int opaque_step(const ns_step_args *a)
{
    (void)a;
    return 0;
}

static void private_state_refused(void)
{
    static const ns_model opaque = {.version = NS_MODEL_VERSION, .name = "opaque", .doc = "test", .kind = NS_KIND_CONTINUOUS,
                                    .step = opaque_step, .data_create = opaque_create, .data_free = free};
    ns_ctx *c = test_ctx(11, 1);
    ns_net *net = ns_net_create(c, dt);
    NS_CHECK(ns_net_add_population_of(net, &opaque, 3, "X") != NULL, "%s", ns_ctx_errmsg(c));
    NS_CHECK(ns_net_run(net, 1.0) == 0, "%s", ns_ctx_errmsg(c));
    char path[1100];
    snprintf(path, sizeof path, "%s/o.ckpt", ns_ctx_outdir(c));
    int rc = ns_checkpoint_save(net, path, 0);
    NS_CHECK(rc == NS_EINVAL && !strcmp(ns_ctx_errmsg(c), "population X (opaque) keeps private state that checkpoints "
                                                          "cannot save") && access(path, F_OK) != 0,
             "%d %s", rc, ns_ctx_errmsg(c));
    ns_net_free(net);
    test_ctx_free(c);
}

/* Every model of the registry with private data says what of it a checkpoint keeps. */
static void registry_hooks(void)
{
    for (int k = 0; k < ns_model_count(); k++) {
        const ns_model *m = ns_model_at(k);
        const int data = m->data_create || !strcmp(m->name, "spike_source");
        NS_CHECK(!data || m->state_size, "model %s has private data and no checkpoint hooks", m->name);
        NS_CHECK(!m->state_save == !m->state_load, "model %s: state_save and state_load come together", m->name);
    }
}

int main(void)
{
    registry_hooks();
    resume_same_process(1, 2);
    resume_same_process(2, 1);
    resume_same_process(2, 3);
    bad_files();
    save_rules();
    private_state_refused();
    NS_TEST_MAIN_END();
}
