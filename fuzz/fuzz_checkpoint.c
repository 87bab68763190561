/* fuzz/fuzz_checkpoint.c — libFuzzer harness of the checkpoint reader (sim/checkpoint.c): the
 * input as it is, and again with its length field and checksum made right, so that mutations
 * get past the header into the body, through ns_checkpoint_check_buffer (no network) and
 * ns_checkpoint_load_buffer into a fresh copy of fuzz/checkpoint_net.h's network. */
#include "fuzz/checkpoint_net.h"
#include "fuzz/harness.h"
#include "sim/checkpoint.h"

/* FNV-1a over 64 bits: the checkpoint's checksum (docs/formats.md). */
static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t k = 0; k < n; k++) h = (h ^ p[k]) * 0x100000001b3ull;
    return h;
}

static void read_into_network(const uint8_t *data, size_t size)
{
    char err[1024];
    ns_checkpoint_time_ms(data, size, 0.1);
    /* the loader checks the same first; a network is built only for what passes (it costs ms) */
    if (ns_checkpoint_check_buffer(data, size, err, sizeof err)) return;
    ns_ctx *ctx = NULL;
    ns_net *net = fuzz_checkpoint_net(fuzz_dir(), &ctx);
    if (!net) abort(); /* the harness's own network must build */
    if (ns_checkpoint_load_buffer(net, data, size, "fuzz.ckpt") == 0) ns_net_run(net, 0.5); /* accepted: it runs */
    ns_net_free(net);
    ns_ctx_discard_outputs(ctx);
    ns_ctx_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_into_network(data, size);
    enum { HEADER = 24 }; /* magic, version, byte order, length: the checksum covers what follows */
    if (size < HEADER + 8) return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed) abort();
    memcpy(fixed, data, size);
    const uint64_t len = size, sum = fnv1a(fixed + HEADER, size - HEADER - 8);
    memcpy(fixed + 16, &len, 8);
    memcpy(fixed + size - 8, &sum, 8);
    read_into_network(fixed, size);
    free(fixed);
    return 0;
}
