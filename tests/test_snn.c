/* tests/test_snn.c — the training loop end to end on a small task with a known answer: two
 * classes of 20 features (class c has its features [10c, 10c+10) bright) are learned to better
 * than 95 % by a surrogate-gradient LIF network (with the mean readout and with the leaky one)
 * and an UltraLIF one; the same seed gives the same losses; a mismatched data set is refused. (Fashion-MNIST accuracy against PyTorch is in
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

static double train(ns_neuron_kind kind, ns_readout_kind readout, uint64_t seed, double *last_loss)
{
    ns_dataset *tr = make_set(400, 3), *te = make_set(200, 4);
    ns_snn_opts o;
    ns_snn_opts_default(&o);
    o.T = 4;
    o.hidden[0] = 16;
    o.neuron = ns_neuron_opts_default(kind, 16);
    o.batch = 32;
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
    NS_TEST_MAIN_END();
}
