/* models/ports.c — the port tables models share (point neurons with current synapses, cells
 * on signal channels) and the look-ups by role the engine uses to route a projection or a
 * device: the descriptor says what inputs a model has; the engine picks among them by kind. */
#include "models/model.h"

const ns_in_port ns_psc_inputs[3] = {
    {"ex", "pA", NS_PORT_EVENT, +1, NULL},
    {"in", "pA", NS_PORT_EVENT, -1, NULL},
    {"current", "pA", NS_PORT_CONTINUOUS, 0, NULL},
};
const ns_out_port ns_spike_output[1] = {{"spikes", "", NS_OUT_SPIKES, 1}};
const ns_in_port ns_signal_inputs[1] = {{"inputs", "1", NS_PORT_CONTINUOUS, 0, "inputs"}};

int ns_model_event_port(const ns_model *m, double weight)
{
    const int sign = weight < 0 ? -1 : +1;
    for (int k = 0; k < m->n_inputs; k++)
        if (m->inputs[k].kind == NS_PORT_EVENT && (m->inputs[k].sign == 0 || m->inputs[k].sign == sign)) return k;
    return -1;
}

int ns_model_current_port(const ns_model *m)
{
    for (int k = 0; k < m->n_inputs; k++)
        if (m->inputs[k].kind == NS_PORT_CONTINUOUS && !m->inputs[k].count_param) return k;
    return -1;
}

int ns_model_channel_port(const ns_model *m)
{
    for (int k = 0; k < m->n_inputs; k++)
        if (m->inputs[k].count_param) return k;
    return -1;
}

const ns_out_port *ns_model_output(const ns_model *m) { return m->n_outputs ? &m->outputs[0] : NULL; }
