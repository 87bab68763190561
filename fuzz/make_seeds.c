/* fuzz/make_seeds.c — writes seed inputs of the harnesses that nsim's own writers make: CfC and
 * LTC weights files (fuzz_cell_file/), their ncps state_dicts (fuzz_npz/) and trained-network files of
 * train/ (fuzz_netload/), small and freshly initialised. Usage: make_seeds DIR (the folders exist). */
#include <stdio.h>
#include <string.h>

#include "models/cfc_cell.h"
#include "models/ltc_cell.h"
#include "models/ncps_npz.h"
#include "train/snn.h"
#include "fuzz/checkpoint_net.h"
#include "sim/checkpoint.h"

static int failed(const char *what, const char *err)
{
    fprintf(stderr, "make_seeds: %s: %s\n", what, err);
    return 1;
}

static int cells(const char *dir)
{
    char path[1024], err[512];
    int bad = 0;
    for (int k = 0; k < 3; k++) { /* plain; mixed memory with a backbone; no gate, proj_size */
        ns_cfc_opts o;
        ns_cfc_opts_default(&o, 2, 3);
        o.backbone_layers = k == 1 ? 1 : 0;
        o.backbone_units = 4;
        o.mixed_memory = k == 1;
        o.mode = k == 2 ? NS_CFC_NO_GATE : NS_CFC_DEFAULT;
        o.proj_size = k == 2 ? 2 : 0;
        ns_cfc_cell *c = ns_cfc_create(&o, err, sizeof err);
        if (!c) return failed("cfc", err);
        ns_cfc_init(c, 7 + (uint64_t)k);
        snprintf(path, sizeof path, "%s/fuzz_cell_file/cfc%d.txt", dir, k);
        if (ns_cfc_save(c, path, err, sizeof err)) bad |= failed("cannot write a seed", err);
        snprintf(path, sizeof path, "%s/fuzz_npz/cfc%d.npz", dir, k);
        if (ns_cfc_export_npz(c, path, err, sizeof err)) bad |= failed("cannot write a seed", err);
        ns_cfc_free(c);
    }
    for (int k = 0; k < 2; k++) { /* affine mappings; mixed memory */
        ns_ltc_opts o;
        ns_ltc_opts_default(&o, 2, 3);
        o.mixed_memory = k;
        ns_ltc_cell *c = ns_ltc_create(&o, err, sizeof err);
        if (!c) return failed("ltc", err);
        ns_ltc_init(c, 11 + (uint64_t)k, 1);
        snprintf(path, sizeof path, "%s/fuzz_cell_file/ltc%d.txt", dir, k);
        if (ns_ltc_save(c, path, err, sizeof err)) bad |= failed("cannot write a seed", err);
        snprintf(path, sizeof path, "%s/fuzz_npz/ltc%d.npz", dir, k);
        if (ns_ltc_export_npz(c, path, 1, err, sizeof err)) bad |= failed("cannot write a seed", err);
        ns_ltc_free(c);
    }
    return bad;
}

static int networks(const char *dir)
{
    static const ns_neuron_kind kinds[3] = {NS_NEURON_ULTRALIF, NS_NEURON_LIF, NS_NEURON_ULTRADLIF};
    char path[1024], err[512];
    int bad = 0;
    for (int k = 0; k < 3; k++) {
        ns_snn_opts o;
        ns_snn_opts_default(&o);
        o.T = 2;
        o.n_hidden = k == 1 ? 2 : 1;
        o.hidden[0] = 3;
        o.hidden[1] = 2;
        o.neuron = ns_neuron_opts_ultra(kinds[k], 3, NS_ULTRA_LIBRARY);
        o.recurrent = k == 2;
        o.readout = k == 1 ? NS_READOUT_LEAKY : NS_READOUT_MEAN;
        ns_snn *n = ns_snn_create(4, 2, &o, err, sizeof err);
        if (!n) return failed("snn", err);
        snprintf(path, sizeof path, "%s/fuzz_netload/snn%d.txt", dir, k);
        if (ns_snn_save(n, path, err, sizeof err)) bad |= failed("cannot write a seed", err);
        ns_snn_free(n);
    }
    return bad;
}

/* Checkpoints of fuzz/checkpoint_net.h's network at two times (spikes in flight, traces moved). */
static int checkpoints(const char *dir)
{
    char run[1024], path[1024];
    snprintf(run, sizeof run, "%s/checkpoint_run", dir);
    ns_ctx *ctx = NULL;
    ns_net *net = fuzz_checkpoint_net(run, &ctx);
    if (!net) return failed("checkpoint network", "cannot build it");
    int bad = 0;
    const double t[] = {2.0, 7.3};
    for (int k = 0; k < 2 && !bad; k++) {
        snprintf(path, sizeof path, "%s/fuzz_checkpoint/at%d.ckpt", dir, k);
        if (ns_net_run(net, t[k] - (k ? t[k - 1] : 0)) || ns_checkpoint_save(net, path, 1))
            bad = failed("cannot write a checkpoint seed", ns_ctx_errmsg(ctx));
    }
    ns_net_free(net);
    ns_ctx_discard_outputs(ctx);
    ns_ctx_free(ctx);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    return cells(argv[1]) | networks(argv[1]) | checkpoints(argv[1]);
}
