/* tests/test_snn.c — the training loop end to end on a small task with a known answer: two
 * classes of 20 features (class c has its features [10c, 10c+10) bright) are learned to better
 * than 95 % by a surrogate-gradient LIF network (with the mean readout and with the leaky one)
 * and an UltraLIF one; the same seed gives the same losses; a mismatched data set is refused; any
 * thread count gives the same weights bit for bit, and a batch's gradient summed over its shards
 * is the mean of its samples' gradients. (Fashion-MNIST accuracy against PyTorch is in
 * docs/benchmarks.md: a test must stay fast.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"
#include "train/snn.h"

static ns_dataset *make_set(int n, uint64_t seed)
{
    float *x = malloc((size_t)n * 20 * sizeof *x);
    int *y = malloc((size_t)n * sizeof *y);
    uint64_t s = seed;
    for (int i = 0; i < n; i++) {
        y[i] = i % 2;
        for (int j = 0; j < 20; j++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            float noise = (float)((s >> 40) & 0xFFFF) / 65536.0f;
            x[i * 20 + j] = (j / 10 == y[i] ? 0.6f : 0.1f) + 0.3f * noise;
        }
    }
    ns_dataset *ds = NULL;
    char err[256];
    if (ns_dataset_from_arrays((size_t)n, 20, 2, x, y, &ds, err, sizeof err)) printf("%s\n", err);
    free(x);
    free(y);
    return ds;
}

/* The defaults, with T = 4 and one hidden layer of `hidden` units of `kind`, batch `batch`. */
static ns_snn_opts small_net(ns_neuron_kind kind, int hidden, int batch)
{
    ns_snn_opts o;
    ns_snn_opts_default(&o);
    o.T = 4;
    o.hidden[0] = hidden;
    o.neuron = ns_neuron_opts_default(kind, hidden);
    o.batch = batch;
    return o;
}

static double train(ns_neuron_kind kind, ns_readout_kind readout, uint64_t seed, double *last_loss)
{
    ns_dataset *tr = make_set(400, 3), *te = make_set(200, 4);
    ns_snn_opts o = small_net(kind, 16, 32);
    o.lr = 1e-2f;
    o.seed = seed;
    o.readout = readout;
    char err[256];
    ns_snn *n = ns_snn_create(20, 2, &o, err, sizeof err);
    NS_CHECK(n != NULL, "%s", err);
    ns_snn_stats st = {0}, ev = {0};
    for (int e = 0; n && e < 15; e++) NS_CHECK(ns_snn_train_epoch(n, tr, e, &st, err, sizeof err) == 0, "%s", err);
    if (n) NS_CHECK(ns_snn_evaluate(n, te, &ev, err, sizeof err) == 0, "%s", err);
    *last_loss = st.loss;
    NS_CHECK(ev.rate > 0 && ev.rate < 1, "%s: hidden rate %g", ns_neuron_kind_name(kind), ev.rate);
    ns_snn_free(n);
    ns_dataset_free(tr);
    ns_dataset_free(te);
    return ev.accuracy;
}

/* The gradients of a recurrent UltraLIF / UltraPLIF network (every weight, bias, eps, ln tau and
 * the recurrent weights) against central differences of the loss, on the largest few entries of
 * each array: relative error below 2e-2 (float32 forward, step 3e-3). */
static void recurrent_gradients(ns_neuron_kind kind)
{
    ns_dataset *ds = make_set(8, 5);
    ns_snn_opts o = small_net(kind, 6, 8);
    o.recurrent = 1;
    ns_encoder_defaults(&o.encoder, NS_ENC_DIRECT);
    char err[256];
    ns_snn *n = ns_snn_create(20, 2, &o, err, sizeof err);
    NS_CHECK(n != NULL, "%s", err);
    if (!n) return;
    ns_train_param p[16];
    int np = ns_snn_params(n, p, 16);
    double loss;
    NS_CHECK(ns_snn_gradients(n, ds, &loss, err, sizeof err) == 0, "%s", err);
    int checked = 0, rec_seen = 0;
    for (int a = 0; a < np; a++) {
        ns_snn_gradients(n, ds, &loss, err, sizeof err); /* at the unperturbed point again */
        float *g = malloc(p[a].n * sizeof *g);
        memcpy(g, p[a].grad, p[a].n * sizeof *g);
        for (int pick = 0; pick < 5 && pick < (int)p[a].n; pick++) {
            size_t best = 0; /* the largest |g| not yet checked */
            for (size_t k = 1; k < p[a].n; k++)
                if (fabsf(g[k]) > fabsf(g[best])) best = k;
            float want = g[best], keep = p[a].value[best];
            const float h = 3e-3f;
            double lp, lm;
            p[a].value[best] = keep + h;
            ns_snn_gradients(n, ds, &lp, err, sizeof err);
            p[a].value[best] = keep - h;
            ns_snn_gradients(n, ds, &lm, err, sizeof err);
            p[a].value[best] = keep;
            double fd = (lp - lm) / (2.0 * h);
            NS_CHECK(fabs(fd - want) <= 2e-2 * fabs(fd) + 1e-6, "%s %s[%zu]: gradient %.6g, differences %.6g",
                     ns_neuron_kind_name(kind), p[a].name, best, want, fd);
            checked++;
            g[best] = 0;
        }
        if (p[a].n == 36) rec_seen = 1; /* the 6 x 6 recurrent weights */
        free(g);
    }
    NS_CHECK(checked >= 20 && rec_seen, "%s: %d entries checked, the recurrent weights among them",
             ns_neuron_kind_name(kind), checked);
    ns_snn_free(n);
    ns_dataset_free(ds);
}

/* The cosine schedule against its closed form lr (1 + cos(pi e / E)) / 2 (E = 4: 1, (2 + sqrt 2)/4,
 * 1/2, (2 - sqrt 2)/4 of lr), the constant one, and ns_snn_set_lr taking effect: the same first
 * batch from the same start moves the weights in proportion to the rate (Adam's first step is
 * lr sign(g) per weight). */
static void lr_schedule(void)
{
    ns_snn_opts o;
    ns_snn_opts_default(&o);
    o.lr = 2e-3f;
    const double want[4] = {1, (2 + sqrt(2)) / 4, 0.5, (2 - sqrt(2)) / 4};
    for (int e = 0; e < 4; e++) NS_CHECK(ns_snn_lr_at(&o, e, 4) == o.lr, "constant schedule, epoch %d", e);
    o.lr_schedule = NS_LR_COSINE;
    for (int e = 0; e < 4; e++)
        NS_CHECK(fabs(ns_snn_lr_at(&o, e, 4) - 2e-3 * want[e]) < 1e-9, "cosine epoch %d: %.9g, closed form %.9g", e,
                 (double)ns_snn_lr_at(&o, e, 4), 2e-3 * want[e]);
    o.batch = 20;
    ns_dataset *ds = make_set(10, 1);
    double moved[2];
    for (int k = 0; k < 2; k++) {
        char err[256];
        ns_snn *n = ns_snn_create(20, 2, &o, err, sizeof err);
        NS_CHECK(n != NULL, "%s", err);
        if (!n) return;
        ns_train_param p[8];
        ns_snn_params(n, p, 8);
        float w0 = p[0].value[0];
        ns_snn_set_lr(n, k ? 4e-3f : 1e-3f);
        ns_snn_stats st;
        NS_CHECK(ns_snn_train_epoch(n, ds, 0, &st, err, sizeof err) == 0, "%s", err);
        moved[k] = fabs(p[0].value[0] - w0);
        ns_snn_free(n);
    }
    NS_CHECK(moved[0] > 0 && fabs(moved[1] / moved[0] - 4) < 1e-3, "one Adam step at 4x the rate moves 4x as far (%.6g, %.6g)",
             moved[0], moved[1]);
    ns_dataset_free(ds);
}

/* A network of `layers` hidden layers of `kind` (recurrent or not, spike or direct input) trained
 * one epoch of 4 batches of 100 (shards 32, 32, 32, 4) on 1, 2 and 3 threads: every learned array
 * is the same bit for bit, and so are the loss, accuracy and rate. */
static void threads_bitwise(ns_neuron_kind kind, int layers, int recurrent, ns_encoding enc, float sparsity)
{
    ns_dataset *tr = make_set(400, 3);
    float *first[16] = {0};
    size_t len[16] = {0};
    int np0 = 0;
    ns_snn_stats st0 = {0};
    char what[96];
    snprintf(what, sizeof what, "%s, %d layer(s)%s, %s input", ns_neuron_kind_name(kind), layers,
             recurrent ? ", recurrent" : "", enc == NS_ENC_BERNOULLI ? "spike" : "direct");
    for (int threads = 1; threads <= 3; threads++) {
        ns_snn_opts o = small_net(kind, 24, 100);
        o.n_hidden = layers;
        o.hidden[1] = 17;
        o.recurrent = recurrent;
        o.threads = threads;
        o.sparsity = sparsity;
        o.lr = 1e-2f;
        ns_encoder_defaults(&o.encoder, enc);
        if (kind == NS_NEURON_LIF) o.neuron.learn_beta = 1;
        char err[256];
        ns_snn *n = ns_snn_create(20, 2, &o, err, sizeof err);
        NS_CHECK(n != NULL, "%s", err);
        if (!n) break;
        ns_snn_stats st;
        NS_CHECK(ns_snn_train_epoch(n, tr, 0, &st, err, sizeof err) == 0, "%s", err);
        ns_train_param p[16];
        int np = ns_snn_params(n, p, 16), same = 1;
        if (threads == 1) {
            np0 = np;
            st0 = st;
            for (int k = 0; k < np; k++) {
                first[k] = malloc(p[k].n * sizeof(float));
                memcpy(first[k], p[k].value, p[k].n * sizeof(float));
                len[k] = p[k].n;
            }
        } else {
            same = np == np0;
            for (int k = 0; same && k < np; k++) same &= len[k] == p[k].n && !memcmp(first[k], p[k].value, len[k] * sizeof(float));
            NS_CHECK(same, "%s: threads %d gives the weights of threads 1, bit for bit", what, threads);
            NS_CHECK(st.loss == st0.loss && st.accuracy == st0.accuracy && st.rate == st0.rate,
                     "%s: threads %d: loss %.17g, accuracy %.17g, rate %.17g; threads 1: %.17g, %.17g, %.17g", what,
                     threads, st.loss, st.accuracy, st.rate, st0.loss, st0.accuracy, st0.rate);
        }
        ns_snn_free(n);
    }
    for (int k = 0; k < np0; k++) free(first[k]);
    ns_dataset_free(tr);
}

/* The gradient of a batch of 70 (shards 32, 32, 6; with the sparsity term and a learned beta)
 * against the mean of the 70 samples' gradients, each computed alone (a batch of 1): the shards'
 * sum is the batch's mean gradient, to float rounding (1e-5 of the largest entry). */
static void shard_gradient_is_batch_mean(void)
{
    enum { N = 70 };
    ns_dataset *ds = make_set(N, 9);
    ns_snn_opts o = small_net(NS_NEURON_LIF, 12, N);
    o.sparsity = 0.5f;
    o.neuron.learn_beta = 1;
    o.threads = 2;
    ns_encoder_defaults(&o.encoder, NS_ENC_DIRECT);
    char err[256];
    ns_snn *n = ns_snn_create(20, 2, &o, err, sizeof err);
    NS_CHECK(n != NULL, "%s", err);
    if (!n) return;
    ns_train_param p[16];
    const int np = ns_snn_params(n, p, 16);
    double loss, sum_loss = 0;
    NS_CHECK(ns_snn_gradients(n, ds, &loss, err, sizeof err) == 0, "%s", err);
    float *whole[16];
    double *mean[16];
    for (int k = 0; k < np; k++) {
        whole[k] = malloc(p[k].n * sizeof(float));
        memcpy(whole[k], p[k].grad, p[k].n * sizeof(float));
        mean[k] = calloc(p[k].n, sizeof(double));
    }
    for (size_t i = 0; i < N; i++) {
        ns_dataset *one = NULL;
        NS_CHECK(ns_dataset_subset(ds, &i, 1, &one, err, sizeof err) == 0, "%s", err);
        double li;
        NS_CHECK(one && ns_snn_gradients(n, one, &li, err, sizeof err) == 0, "%s", err);
        sum_loss += li;
        for (int k = 0; k < np; k++)
            for (size_t j = 0; j < p[k].n; j++) mean[k][j] += p[k].grad[j] / (double)N;
        ns_dataset_free(one);
    }
    NS_CHECK(fabs(loss - sum_loss / N) < 1e-9, "batch loss %.12g, mean of the samples' %.12g", loss, sum_loss / N);
    for (int k = 0; k < np; k++) {
        double worst = 0, big = 0;
        for (size_t j = 0; j < p[k].n; j++) {
            worst = fmax(worst, fabs(whole[k][j] - mean[k][j]));
            big = fmax(big, fabs(mean[k][j]));
        }
        NS_CHECK(big > 0 && worst <= 1e-5 * big, "%s (%zu): batch gradient against the samples' mean: worst %.3g of %.3g",
                 p[k].name, p[k].n, worst, big);
        free(whole[k]);
        free(mean[k]);
    }
    ns_snn_free(n);
    ns_dataset_free(ds);
}

int main(void)
{
    double l1, l2, l3;
    double a_lif = train(NS_NEURON_LIF, NS_READOUT_MEAN, 7, &l1);
    NS_CHECK(a_lif > 0.95, "surrogate LIF test accuracy %.3f", a_lif);
    double a_ultra = train(NS_NEURON_ULTRALIF, NS_READOUT_MEAN, 7, &l2);
    NS_CHECK(a_ultra > 0.95, "UltraLIF test accuracy %.3f", a_ultra);
    double a_leaky = train(NS_NEURON_LIF, NS_READOUT_LEAKY, 7, &l3);
    NS_CHECK(a_leaky > 0.95, "surrogate LIF with SpyTorch's leaky readout: test accuracy %.3f", a_leaky);
    NS_CHECK(l1 != l3, "the leaky readout is used (a different last loss)");
    train(NS_NEURON_LIF, NS_READOUT_MEAN, 7, &l3);
    NS_CHECK(l1 == l3, "the same seed gives the same last loss (%.9g, %.9g)", l1, l3);
    /* a data set that does not fit the network is refused */
    ns_snn_opts o;
    ns_snn_opts_default(&o);
    char err[256];
    ns_snn *n = ns_snn_create(784, 10, &o, err, sizeof err);
    ns_dataset *small = make_set(10, 1);
    ns_snn_stats st;
    NS_CHECK(n && ns_snn_train_epoch(n, small, 0, &st, err, sizeof err) == -1, "20 features into 784 inputs refused");
    NS_CHECK(strstr(err, "20 features") != NULL, "message: %s", err);
    NS_CHECK(ns_snn_create(784, 1, &o, err, sizeof err) == NULL, "one class refused");
    ns_snn_free(n);
    ns_dataset_free(small);
    recurrent_gradients(NS_NEURON_ULTRALIF);
    recurrent_gradients(NS_NEURON_ULTRAPLIF);
    lr_schedule();
    NS_CHECK(ns_snn_shards(128) == 4 && ns_snn_shards(100) == 4 && ns_snn_shards(32) == 1 && ns_snn_shards(1) == 1,
             "shards of 32 samples");
    threads_bitwise(NS_NEURON_LIF, 1, 0, NS_ENC_BERNOULLI, 0);
    threads_bitwise(NS_NEURON_ULTRALIF, 2, 0, NS_ENC_BERNOULLI, 0.1f);
    threads_bitwise(NS_NEURON_ULTRAPLIF, 1, 1, NS_ENC_DIRECT, 0);
    threads_bitwise(NS_NEURON_ULTRADPLIF, 2, 1, NS_ENC_BERNOULLI, 0);
    shard_gradient_is_batch_mean();
    ns_snn_opts bad;
    ns_snn_opts_default(&bad);
    bad.threads = 0;
    char msg[256];
    NS_CHECK(ns_snn_create(20, 2, &bad, msg, sizeof msg) == NULL && strstr(msg, "threads is 0"), "threads 0 refused: %s", msg);
    NS_TEST_MAIN_END();
}
