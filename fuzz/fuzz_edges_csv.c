/* fuzz/fuzz_edges_csv.c — libFuzzer harness of the edge lists: io/csv.c's ns_csv_read_edges
 * (net:connect_graded{file =}) and ns_csv_read_edges_phase with sim/scaffold.c's
 * ns_scaffold_from_edges (nsim.scaffold{file =}, an S2-Net adjacency CSV). The input is the file. */
#include <math.h>

#include "fuzz/harness.h"
#include "io/csv.h"
#include "sim/scaffold.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600], err[1024];
    fuzz_write("edges.csv", data, size, path, sizeof path);
    ns_csv_edges e;
    if (!ns_csv_read_edges(path, 16, 8, 0.1, 6553.5, &e, err, sizeof err)) ns_csv_edges_free(&e);
    for (int dup = 0; dup < 2; dup++) {
        if (ns_csv_read_edges_phase(path, 16, 0.0, HUGE_VAL, &e, err, sizeof err)) break;
        ns_scaffold sc;
        memset(&sc, 0, sizeof sc);
        if (!ns_scaffold_from_edges(&sc, 16, e.n, e.pre, e.post, e.w, e.delay_ms, e.phase_delay_ms, e.line, path, dup,
                                    err, sizeof err)) {
            ns_scaffold_check_dt(&sc, 0.1, err, sizeof err);
            ns_scaffold_free(&sc);
        }
    }
    return 0;
}
