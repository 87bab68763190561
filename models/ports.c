/* models/ports.c — the port tables models share (point neurons with current synapses, cells
 * on signal channels) and the look-ups by role the engine uses to route a projection or a
 * device: the descriptor says what inputs a model has; the engine picks among them by kind. */
#include "models/model.h"

#include <string.h>

const ns_in_port ns_psc_inputs[3] = {
    {"ex", "pA", NS_PORT_EVENT, +1, NULL, 1},
    {"in", "pA", NS_PORT_EVENT, -1, NULL, 1},
    {"current", "pA", NS_PORT_CONTINUOUS, 0, NULL, 1},
};
const ns_out_port ns_spike_output[1] = {{"spikes", "", NS_OUT_SPIKES, 1, NULL}};
const ns_in_port ns_signal_inputs[1] = {{"inputs", "1", NS_PORT_CONTINUOUS, 0, "inputs", 1}};

int ns_model_event_port(const ns_model *m, double weight)
{
    const int sign = weight < 0 ? -1 : +1;
    for (int k = 0; k < m->n_inputs; k++)
        if (m->inputs[k].kind == NS_PORT_EVENT && (m->inputs[k].sign == 0 || m->inputs[k].sign == sign)) return k;
    return -1;
}

/* The first continuous per-unit port (not a channel port) of exactly `width` values per unit, or -1. */
static int continuous_port(const ns_model *m, int width)
{
    for (int k = 0; k < m->n_inputs; k++)
        if (m->inputs[k].kind == NS_PORT_CONTINUOUS && !m->inputs[k].count_param &&
            ns_in_port_width(&m->inputs[k]) == width)
            return k;
    return -1;
}

int ns_model_current_port(const ns_model *m) { return continuous_port(m, 1); }

int ns_in_port_width(const ns_in_port *p) { return p->width > 1 ? p->width : 1; }
int ns_out_port_width(const ns_out_port *p) { return p->width > 1 ? p->width : 1; }

int ns_model_graded_port(const ns_model *m, int width)
{
    if (width == 1) {
        int port = ns_model_channel_port(m);
        const int pos = ns_model_event_port(m, +1);
        if (port < 0 && pos >= 0 && pos == ns_model_event_port(m, -1) && ns_in_port_width(&m->inputs[pos]) == 1)
            port = pos;
        return port >= 0 ? port : ns_model_current_port(m);
    }
    for (int k = 0; k < m->n_inputs; k++) /* an event port of both signs first, as for width 1 */
        if (m->inputs[k].kind == NS_PORT_EVENT && m->inputs[k].sign == 0 && ns_in_port_width(&m->inputs[k]) == width)
            return k;
    return continuous_port(m, width);
}

int ns_out_port_component(const ns_out_port *out, const char *name)
{
    const size_t len = strlen(name);
    int c = 0;
    for (const char *p = out->components; p && *p; c++) {
        const char *end = strchr(p, ',');
        const size_t l = end ? (size_t)(end - p) : strlen(p);
        if (l == len && !strncmp(p, name, len)) return c;
        if (!end) break;
        p = end + 1;
    }
    return -1;
}

int ns_model_channel_port(const ns_model *m)
{
    for (int k = 0; k < m->n_inputs; k++)
        if (m->inputs[k].count_param) return k;
    return -1;
}

const ns_out_port *ns_model_output(const ns_model *m) { return m->n_outputs ? &m->outputs[0] : NULL; }

size_t ns_model_state_none(const void *data)
{
    (void)data;
    return 0;
}
