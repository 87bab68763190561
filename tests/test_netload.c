/* tests/test_netload.c — one model definition: a network of train/ saved with ns_snn_save and
 * loaded into the simulator (ns_net_load_snn) gives, for the same binary input, the logits of the
 * trainer's own forward pass (float32 there, double here: agreement to 1e-4), for LIF, UltraLIF,
 * UltraPLIF, UltraDLIF and UltraDPLIF layers (the ring), LIF with a synaptic current, two hidden layers, recurrent layers (a
 * graded projection of each layer onto itself one step later), and both readouts (mean and
 * SpyTorch's leaky); a file that is not a network, an input population of the wrong size, a
 * graded projection into lif or out of an integrator (a readout, with no output) are refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/cell_file.h"
#include "sim/netload.h"
#include "tests/harness.h"
#include "tests/testlib.h"
#include "train/snn.h"

enum { INPUTS = 12, CLASSES = 3, T = 5 };

/* A trained-for-two-epochs network (so weights have moved from their start) of kind, its Ultra
 * neurons under definition def (with one learned decay per neuron if per_neuron). */
static ns_snn *make_net(ns_neuron_kind kind, int recurrent, ns_readout_kind readout, float syn_alpha,
                        ns_ultra_definition def, int per_neuron)
{
    enum { N = 64 };
    float *x = malloc(N * INPUTS * sizeof *x);
    int *y = malloc(N * sizeof *y);
    for (int i = 0; i < N; i++) {
        y[i] = i % CLASSES;
        for (int j = 0; j < INPUTS; j++) x[i * INPUTS + j] = (j / 4 == y[i]) ? 0.8f : 0.2f;
    }
    char err[256];
    ns_dataset *ds = NULL;
    NS_CHECK(ns_dataset_from_arrays(N, INPUTS, CLASSES, x, y, &ds, err, sizeof err) == 0, "%s", err);
    free(x);
    free(y);
    ns_snn_opts o;
    ns_snn_opts_default(&o);
    o.T = T;
    o.n_hidden = 2;
    o.hidden[0] = 10;
    o.hidden[1] = 7;
    o.neuron = ns_neuron_opts_ultra(kind, 10, def);
    if (kind != NS_NEURON_LIF) o.neuron.per_neuron = per_neuron;
    if (kind == NS_NEURON_LIF) o.neuron.theta = 0.25f; /* so that the second layer spikes too */
    o.neuron.syn_alpha = syn_alpha;
    o.batch = 16;
    o.lr = 1e-2f;
    o.recurrent = recurrent;
    o.readout = readout;
    ns_snn *n = ns_snn_create(INPUTS, CLASSES, &o, err, sizeof err);
    NS_CHECK(n != NULL, "%s", err);
    ns_snn_stats st;
    for (int e = 0; n && ds && e < 2; e++) NS_CHECK(ns_snn_train_epoch(n, ds, e, &st, err, sizeof err) == 0, "%s", err);
    ns_dataset_free(ds);
    return n;
}

/* Drop " definition=..." from the header of the file at path: a file as nsim wrote it before
 * the definition was saved. */
static void strip_definition(const char *path)
{
    FILE *fp = fopen(path, "rb");
    NS_CHECK(fp != NULL, "open %s", path);
    if (!fp) return;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    char *at = strstr(buf, " definition=ablation");
    NS_CHECK(at != NULL, "the saved header names the ablation's definition");
    if (!at) return;
    size_t cut = strlen(" definition=ablation");
    memmove(at, at + cut, n + 1 - (size_t)(at - buf) - cut);
    fp = fopen(path, "wb");
    fputs(buf, fp);
    fclose(fp);
}

/* old_file: the ablation's network saved, then its definition dropped from the header. */
static void same_logits_all(ns_neuron_kind kind, int recurrent, ns_readout_kind readout, float syn_alpha,
                            ns_ultra_definition def, int per_neuron, int old_file)
{
    char name[160];
    snprintf(name, sizeof name, "%s%s%s%s%s%s%s", ns_neuron_kind_name(kind), recurrent ? ", recurrent" : "",
             readout == NS_READOUT_LEAKY ? ", leaky readout" : "", syn_alpha > 0 ? ", synaptic current" : "",
             kind == NS_NEURON_LIF ? "" : def == NS_ULTRA_ABLATION ? ", ablation" : ", library",
             per_neuron ? ", decay per neuron" : "", old_file ? ", file without definition" : "");
    ns_snn *n = make_net(kind, recurrent, readout, syn_alpha, def, per_neuron);
    if (!n) return;
    ns_ctx *ctx = test_ctx(5, 1);
    char path[600], err[256];
    snprintf(path, sizeof path, "%s/net.txt", ns_ctx_outdir(ctx));
    NS_CHECK(ns_snn_save(n, path, err, sizeof err) == 0, "%s", err);
    if (old_file) strip_definition(path);

    int differ = 0;
    double worst = 0, first[CLASSES] = {0};
    for (int sample = 0; sample < 4; sample++) {
        /* A binary input: unit j spikes in step t with probability 1/2 (a fixed pattern). */
        float x[T * INPUTS];
        size_t off[INPUTS + 1] = {0};
        double times[T * INPUTS];
        uint64_t s = 99 + (uint64_t)sample;
        size_t m = 0;
        for (int j = 0; j < INPUTS; j++) {
            for (int t = 0; t < T; t++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                int on = (s >> 63) != 0;
                x[t * INPUTS + j] = (float)on;
                if (on) times[m++] = (t + 1) * 1.0; /* a spike at (t + 1) dt leaves in step t */
            }
            off[j + 1] = m;
        }
        float want[CLASSES];
        NS_CHECK(ns_snn_forward(n, x, want, err, sizeof err) == 0, "%s", err);

        ns_net *net = ns_net_create(ctx, 1.0);
        ns_pop *in = ns_net_add_spike_source(net, INPUTS, off, times, "in");
        ns_loaded_snn ld;
        int loaded = ns_net_load_snn(net, path, in, &ld) == 0;
        NS_CHECK(loaded, "%s", ns_ctx_errmsg(ctx));
        if (loaded && kind != NS_NEURON_LIF && sample == 0) { /* the definition's own model */
            const int temporal = kind == NS_NEURON_ULTRALIF || kind == NS_NEURON_ULTRAPLIF;
            const char *want_model = temporal ? (def == NS_ULTRA_ABLATION ? "ultralif_ablation" : "ultralif")
                                              : (def == NS_ULTRA_ABLATION ? "ultradlif_ablation" : "ultradlif");
            NS_CHECK(strcmp(ns_pop_model(ld.layer[0])->name, want_model) == 0, "%s: layers of model %s, got %s",
                     name, want_model, ns_pop_model(ld.layer[0])->name);
        }
        if (!loaded) {
            ns_net_free(net);
            break;
        }
        NS_CHECK(ld.T == T && ld.n_layers == 2 && ld.classes == CLASSES, "%s: header read back", name);
        NS_CHECK(ld.leaky == (readout == NS_READOUT_LEAKY), "%s: the readout's kind read back", name);
        /* two steps more than the network needs: the readout counts T steps and no more */
        NS_CHECK(ns_net_run(net, (ld.steps + 2) * 1.0) == 0, "%s", ns_ctx_errmsg(ctx));
        double got[CLASSES];
        ns_loaded_snn_logits(&ld, got);
        for (int c = 0; c < CLASSES; c++) {
            worst = fmax(worst, fabs(got[c] - want[c]));
            if (sample == 0) first[c] = want[c];
            differ |= fabs(want[c] - first[c]) > 1e-3;
        }
        ns_net_free(net);
    }
    NS_CHECK(worst < 1e-4, "%s: simulator logits within 1e-4 of the trainer's (worst %.3g)", name, worst);
    NS_CHECK(differ, "%s: the logits move with the input (the hidden layers are not silent)", name);
    ns_snn_free(n);
    test_ctx_free(ctx);
}

static void same_logits_syn(ns_neuron_kind kind, int recurrent, ns_readout_kind readout, float syn_alpha)
{
    same_logits_all(kind, recurrent, readout, syn_alpha, NS_ULTRA_LIBRARY, 0, 0);
}

static void same_logits(ns_neuron_kind kind, int recurrent, ns_readout_kind readout)
{
    same_logits_syn(kind, recurrent, readout, 0);
}

static void refusals(void)
{
    ns_snn *n = make_net(NS_NEURON_ULTRALIF, 0, NS_READOUT_MEAN, 0, NS_ULTRA_LIBRARY, 0);
    if (!n) return;
    ns_ctx *ctx = test_ctx(5, 1);
    char path[600], err[256];
    snprintf(path, sizeof path, "%s/net.txt", ns_ctx_outdir(ctx));
    NS_CHECK(ns_snn_save(n, path, err, sizeof err) == 0, "%s", err);
    ns_net *net = ns_net_create(ctx, 1.0);
    size_t off[INPUTS + 2] = {0};
    double times[1] = {1.0};
    ns_pop *wrong = ns_net_add_spike_source(net, INPUTS + 1, off, times, "wrong");
    ns_loaded_snn ld;
    NS_CHECK(ns_net_load_snn(net, path, wrong, &ld) != 0 && strstr(ns_ctx_errmsg(ctx), "13") != NULL,
             "an input of 13 units for a network of 12 refused: %s", ns_ctx_errmsg(ctx));
    char wpath[600];
    snprintf(wpath, sizeof wpath, "%s/cfc.txt", ns_ctx_outdir(ctx));
    NS_CHECK(ns_cell_file_write(wpath, "cfc", "units=4", NULL, 0, err, sizeof err) == 0, "%s", err);
    NS_CHECK(ns_net_load_snn(net, wpath, wrong, &ld) != 0 && strstr(ns_ctx_errmsg(ctx), "kind snn") != NULL,
             "a cell's weights file is not a network: %s", ns_ctx_errmsg(ctx));
    /* graded projections need an input port on the target (lif takes them as current) and an
     * output on the source */
    ns_pop *lif = ns_net_add_population(net, "lif", 3, "lif");
    test_cuba_cell(ctx, net, lif);
    ns_pop *sum = ns_net_add_population(net, "integrator", 3, "sum");
    double w[3 * (INPUTS + 1)] = {0};
    size_t no_spikes[2] = {0, 0};
    ns_pop *source = ns_net_add_spike_source(net, 1, no_spikes, NULL, "source");
    NS_CHECK(ns_net_connect_graded(net, wrong, source, w, 1.0) != 0 && strstr(ns_ctx_errmsg(ctx), "graded"),
             "a spike source (no input port) refused as a graded target: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_connect_graded(net, wrong, lif, w, 1.0) == 0, "lif takes a graded projection as current: %s",
             ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_connect_graded(net, sum, sum, w, 1.0) != 0 && strstr(ns_ctx_errmsg(ctx), "no output"),
             "an integrator is no graded source: %s", ns_ctx_errmsg(ctx));
    NS_CHECK(ns_net_connect_graded(net, wrong, sum, w, 1.0) == 0, "spike source into an integrator: %s",
             ns_ctx_errmsg(ctx));
    ns_net_free(net);
    ns_snn_free(n);
    test_ctx_free(ctx);
}

int main(void)
{
    same_logits(NS_NEURON_LIF, 0, NS_READOUT_MEAN);
    same_logits(NS_NEURON_ULTRALIF, 0, NS_READOUT_MEAN);
    same_logits(NS_NEURON_ULTRAPLIF, 0, NS_READOUT_MEAN);
    same_logits(NS_NEURON_ULTRADLIF, 0, NS_READOUT_MEAN);
    same_logits(NS_NEURON_ULTRADPLIF, 0, NS_READOUT_MEAN);
    same_logits(NS_NEURON_LIF, 1, NS_READOUT_MEAN);
    same_logits(NS_NEURON_ULTRALIF, 1, NS_READOUT_MEAN);
    same_logits(NS_NEURON_ULTRADPLIF, 1, NS_READOUT_MEAN);
    same_logits(NS_NEURON_LIF, 0, NS_READOUT_LEAKY);
    same_logits(NS_NEURON_ULTRALIF, 0, NS_READOUT_LEAKY);
    same_logits(NS_NEURON_ULTRADLIF, 1, NS_READOUT_LEAKY);
    same_logits_syn(NS_NEURON_LIF, 0, NS_READOUT_MEAN, 0.7f);
    same_logits_syn(NS_NEURON_LIF, 1, NS_READOUT_LEAKY, 0.7f);
    /* the ablation file's definitions, with today's per-neuron decay too, and files without a
     * definition (written before it was saved): the ablation's */
    for (int k = NS_NEURON_ULTRALIF; k <= NS_NEURON_ULTRADPLIF; k++) {
        same_logits_all((ns_neuron_kind)k, 0, NS_READOUT_MEAN, 0, NS_ULTRA_ABLATION, 0, 0);
        same_logits_all((ns_neuron_kind)k, 0, NS_READOUT_MEAN, 0, NS_ULTRA_ABLATION, 0, 1);
    }
    same_logits_all(NS_NEURON_ULTRAPLIF, 1, NS_READOUT_MEAN, 0, NS_ULTRA_ABLATION, 1, 0);
    same_logits_all(NS_NEURON_ULTRADPLIF, 0, NS_READOUT_MEAN, 0, NS_ULTRA_ABLATION, 1, 0);
    same_logits_all(NS_NEURON_ULTRAPLIF, 0, NS_READOUT_MEAN, 0, NS_ULTRA_LIBRARY, 1, 0);
    same_logits_all(NS_NEURON_ULTRADPLIF, 1, NS_READOUT_MEAN, 0, NS_ULTRA_LIBRARY, 1, 0);
    refusals();
    NS_TEST_MAIN_END();
}
