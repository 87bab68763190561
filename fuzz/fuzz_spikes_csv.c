/* fuzz/fuzz_spikes_csv.c — libFuzzer harness of the spike-file reader (io/csv.c's
 * ns_csv_read_spikes: the t_ms,neuron files spike sources and nsim analyze read, plain or gzip).
 * The input is the file; a refusal is fine, a crash or a sanitizer report is not. */
#include "fuzz/harness.h"
#include "io/csv.h"

static int count_spike(void *user, double t_ms, long neuron)
{
    (void)t_ms;
    (void)neuron;
    (*(long *)user)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600], warn[320], err[1024];
    fuzz_write("spikes.csv", data, size, path, sizeof path);
    long n = 0;
    ns_csv_read_spikes(path, count_spike, &n, warn, sizeof warn, err, sizeof err);
    return 0;
}
