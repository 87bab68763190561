/* sim/netload.h — a network trained by train/ (ns_snn_save) loaded into the simulator: each
 * hidden layer a population of the trainer's neuron (ultralif, ultradlif or lif_bptt, the same
 * equations), each Linear a graded projection, the readout an integrator (mean readout) or a
 * leaky_readout. One model definition: the simulator's run of the saved network gives the
 * trainer's forward pass. */
#ifndef NS_NETLOAD_H
#define NS_NETLOAD_H

#include "sim/net.h"

enum { NS_LOADED_MAX_LAYERS = 4 };

typedef struct {
    int T, inputs, classes, n_layers;
    ns_pop *layer[NS_LOADED_MAX_LAYERS];
    ns_pop *readout;     /* integrator (mean readout) or leaky_readout */
    int leaky;           /* 1: the leaky readout */
    int steps;           /* steps from the input's first to the last readout step: T + layers + 1 */
} ns_loaded_snn;

/* Add the network saved at path to net, fed by the graded output of `input` (a spike is 1),
 * whose sample starts in step 0; each layer takes one step after the one before. Nothing to
 * free: the populations belong to net. */
int ns_net_load_snn(ns_net *net, const char *path, ns_pop *input, ns_loaded_snn *out);
/* After out->steps steps, the trainer's logits[classes] (dimensionless): the integrator's
 * sum / T, or the leaky readout's largest membrane. */
void ns_loaded_snn_logits(const ns_loaded_snn *ld, double *logits);

#endif
