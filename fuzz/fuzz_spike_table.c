/* fuzz/fuzz_spike_table.c — libFuzzer harness of the spike-table loader that nsim analyze and
 * nsim plot use (io/analyze.c's ns_spike_table_read): a spikes.csv with the run.json and the
 * populations file beside it (io/runinfo.c's ns_runinfo_origin). Input: the three files, cut by FUZZ_SEP. */
#include "fuzz/harness.h"
#include "io/analyze.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[3] = {"spikes.csv", "run.json", "populations.csv"};
    char path[600], spikes[600], err[1024];
    for (int k = 0; k < 3; k++) {
        const uint8_t *part;
        size_t len;
        if (fuzz_part(data, size, k, &part, &len) == 0) fuzz_write(names[k], part, len, k ? path : spikes, sizeof path);
        else fuzz_remove(names[k]);
    }
    ns_spike_load_opts o;
    memset(&o, 0, sizeof o);
    ns_spike_table tab;
    if (!ns_spike_table_read(&tab, spikes, &o, err, sizeof err)) ns_spike_table_free(&tab);
    return 0;
}
