/* sim/netload.c — see netload.h. The file is models/cell_file.h's format, kind "snn". */
#include "sim/netload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/cell_file.h"

static int fail(ns_net *net, ns_cell_file *f, const char *path, const char *msg)
{
    ns_cell_file_free(f);
    return ns_error(ns_net_ctx(net), NS_EINVAL, "%s: %s", path, msg);
}

int ns_net_load_snn(ns_net *net, const char *path, ns_pop *input, ns_loaded_snn *out)
{
    char err[1024];
    memset(out, 0, sizeof *out);
    ns_cell_file *f = ns_cell_file_read(path, err, sizeof err);
    if (!f) return ns_error(ns_net_ctx(net), NS_EINVAL, "%s", err);
    if (strcmp(ns_cell_file_kind(f), "snn")) return fail(net, f, path, "not a trained network (kind snn)");
    size_t T, inputs, classes, layers;
    if (ns_cell_file_key_size(f, "T", &T, err, sizeof err) || ns_cell_file_key_size(f, "inputs", &inputs, err, sizeof err) ||
        ns_cell_file_key_size(f, "classes", &classes, err, sizeof err) ||
        ns_cell_file_key_size(f, "layers", &layers, err, sizeof err))
        return fail(net, f, path, err);
    const char *neuron = ns_cell_file_key(f, "neuron"), *reset = ns_cell_file_key(f, "reset");
    const char *rec_key = ns_cell_file_key(f, "recurrent");
    const int recurrent = rec_key && strcmp(rec_key, "0");
    double theta;
    if (ns_cell_file_key_double(f, "theta", &theta, err, sizeof err)) return fail(net, f, path, err);
    /* the Ultra neurons' definition: files written before it was saved hold the ablation's */
    const char *definition = ns_cell_file_key(f, "definition");
    const int ablation = !definition || !strcmp(definition, "ablation");
    if (definition && !ablation && strcmp(definition, "library")) { /* the message before the file goes */
        int rc = ns_error(ns_net_ctx(net), NS_EINVAL, "%s: definition is library or ablation, not '%s'", path, definition);
        ns_cell_file_free(f);
        return rc;
    }
    const int temporal = neuron && (!strcmp(neuron, "ultralif") || !strcmp(neuron, "ultraplif"));
    const int ring = neuron && (!strcmp(neuron, "ultradlif") || !strcmp(neuron, "ultradplif"));
    const char *model = !neuron ? NULL : !strcmp(neuron, "lif") ? "lif_bptt"
                      : temporal ? (ablation ? "ultralif_ablation" : "ultralif")
                      : ring ? (ablation ? "ultradlif_ablation" : "ultradlif") : NULL;
    if (!model) return fail(net, f, path, "the simulator runs lif, ultralif, ultraplif, ultradlif and ultradplif layers");
    double syn_alpha = 0; /* absent unless the LIF has a synaptic current */
    if (ns_cell_file_key(f, "syn_alpha") && ns_cell_file_key_double(f, "syn_alpha", &syn_alpha, err, sizeof err))
        return fail(net, f, path, err);
    const char *readout = ns_cell_file_key(f, "readout"); /* absent in files of the mean readout only */
    const int leaky = readout && !strcmp(readout, "leaky");
    if (readout && !leaky && strcmp(readout, "mean")) return fail(net, f, path, "the readout is mean or leaky");
    double rbeta = 0, ralpha = 0;
    if (leaky && (ns_cell_file_key_double(f, "readout_beta", &rbeta, err, sizeof err) ||
                  ns_cell_file_key_double(f, "readout_alpha", &ralpha, err, sizeof err)))
        return fail(net, f, path, err);
    if (layers < 1 || layers > NS_LOADED_MAX_LAYERS) return fail(net, f, path, "1 to 4 hidden layers");
    if (ns_pop_size(input) != inputs) {
        ns_cell_file_free(f);
        return ns_error(ns_net_ctx(net), NS_EINVAL, "%s: the network takes %zu inputs, population %s has %zu", path, inputs,
                        ns_pop_name(input), ns_pop_size(input));
    }
    out->T = (int)T;
    out->inputs = (int)inputs;
    out->classes = (int)classes;
    out->n_layers = (int)layers;
    out->steps = (int)(T + layers + 1);
    ns_pop *prev = input;
    size_t prev_n = inputs;
    int rc = NS_OK;
    for (size_t l = 0; l <= layers && !rc; l++) {
        char nW[32], nb[32], nd[32], ne[32], pname[32];
        int last = l == layers;
        snprintf(nW, sizeof nW, last ? "readout.W" : "lin%zu.W", l);
        snprintf(nb, sizeof nb, last ? "readout.b" : "lin%zu.b", l);
        const double *W = NULL, *b = NULL;
        size_t H = last ? classes : 0;
        if (!last) {
            char nh[32];
            snprintf(nh, sizeof nh, "hidden%zu", l);
            if (ns_cell_file_key_size(f, nh, &H, err, sizeof err)) return fail(net, f, path, err);
        }
        W = ns_cell_file_array(f, nW, H, prev_n, 1, err, sizeof err);
        b = W ? ns_cell_file_array(f, nb, 1, H, 1, err, sizeof err) : NULL;
        if (!W || !b) return fail(net, f, path, err);
        snprintf(pname, sizeof pname, last ? "readout" : "layer%zu", l + 1);
        ns_pop *pop = ns_net_add_population(net, !last ? model : leaky ? "leaky_readout" : "integrator", H, pname);
        if (!pop) {
            ns_cell_file_free(f);
            return NS_EINVAL;
        }
        const int ultra = strcmp(model, "lif_bptt") != 0;
        const char *names[5] = {"start", "theta", "eps", "reset_subtract", "alpha"};
        double vals[5] = {(double)(l + 1), theta, 1.0, reset && !strcmp(reset, "subtract"), syn_alpha};
        int nset = 3;
        if (last) { /* the readout counts the T steps of its input */
            names[1] = "steps", names[2] = "beta", names[3] = "alpha";
            vals[1] = (double)T, vals[2] = rbeta, vals[3] = ralpha;
            nset = leaky ? 4 : 2;
        } else { /* eps is saved for every kind, used by the Ultra ones; alpha by lif's synaptic current */
            snprintf(ne, sizeof ne, "eps%zu", l);
            const double *eps = ns_cell_file_array(f, ne, 1, 1, 1, err, sizeof err);
            if (!eps) return fail(net, f, path, err);
            if (ultra) vals[2] = eps[0]; /* LIF's is saved as 0 */
            /* lif_bptt and the ablation's models share one table (lif_bptt ignores eps, they
             * reset_subtract and alpha); the library's have start, theta and eps alone */
            nset = ultra && !ablation ? 3 : 5;
        }
        if ((rc = ns_pop_set_params(net, pop, names, vals, nset))) break;
        if ((rc = ns_pop_set_state_array(net, pop, "b", b))) break;
        if (!last) {
            snprintf(nd, sizeof nd, "decay%zu", l);
            const double *dec = ns_cell_file_array(f, nd, 1, H, 1, err, sizeof err);
            if (!dec) return fail(net, f, path, err);
            const char *decay_var = !ultra ? "beta" : temporal ? "ln_tau" : ablation ? "c" : "tau";
            if ((rc = ns_pop_set_state_array(net, pop, decay_var, dec))) break;
        } else {
            out->readout = pop;
            out->leaky = leaky;
        }
        if ((rc = ns_net_connect_graded(net, prev, pop, W, ns_net_dt(net)))) break;
        if (!last && recurrent) { /* its own output of the step before */
            char nr[32];
            snprintf(nr, sizeof nr, "rec%zu.W", l);
            const double *R = ns_cell_file_array(f, nr, H, H, 1, err, sizeof err);
            if (!R) return fail(net, f, path, err);
            if ((rc = ns_net_connect_graded(net, pop, pop, R, ns_net_dt(net)))) break;
        }
        if (!last) out->layer[l] = pop;
        prev = pop;
        prev_n = H;
    }
    if (!rc && ns_cell_file_check_used(f, err, sizeof err)) rc = ns_error(ns_net_ctx(net), NS_EINVAL, "%s", err);
    ns_cell_file_free(f);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

void ns_loaded_snn_logits(const ns_loaded_snn *ld, double *logits)
{
    for (int c = 0; c < ld->classes; c++)
        logits[c] = ld->leaky ? ns_pop_get_state(ld->readout, "U_max", (size_t)c)
                              : ns_pop_get_state(ld->readout, "sum", (size_t)c) / ld->T;
}
