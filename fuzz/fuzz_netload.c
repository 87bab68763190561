/* fuzz/fuzz_netload.c — libFuzzer harness of the trained-network loader (sim/netload.c's
 * ns_net_load_snn, net:load_network: a cell file of kind snn that train/ saves). The input is the
 * file; the input population has as many units as its header's inputs= says (1 .. 256). */
#include "fuzz/harness.h"
#include "sim/ctx.h"
#include "sim/netload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600];
    fuzz_write("net.txt", data, size, path, sizeof path);
    size_t n = 1;
    const uint8_t *eol = memchr(data, '\n', size);
    char head[256];
    snprintf(head, sizeof head, "%.*s", (int)(eol ? eol - data : (long)size < 255 ? (long)size : 255), (const char *)data);
    const char *at = strstr(head, " inputs=");
    if (at) {
        long v = strtol(at + 8, NULL, 10);
        if (v >= 1 && v <= 256) n = (size_t)v;
    }
    ns_ctx *ctx = ns_ctx_create();
    ns_net *net = ctx ? ns_net_create(ctx, 1.0) : NULL;
    size_t offset[257] = {0};
    const double no_time = 1.0;
    ns_pop *in = net ? ns_net_add_spike_source(net, n, offset, &no_time, "in") : NULL;
    ns_loaded_snn ld;
    if (in) ns_net_load_snn(net, path, in, &ld);
    ns_net_free(net);
    ns_ctx_free(ctx);
    return 0;
}
