/* fuzz/fuzz_csv_table.c — libFuzzer harness of the numeric-table readers: io/csv.c's
 * ns_csv_read_table and what reads through it, the weight files (io/weight_file.c) and state
 * records (io/analyze.c's ns_state_traces_load). The input is the file. */
#include <math.h>

#include "fuzz/harness.h"
#include "io/analyze.h"
#include "io/csv.h"
#include "io/weight_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600], warn[320], err[1024];
    fuzz_write("table.csv", data, size, path, sizeof path);
    ns_csv_table t;
    if (!ns_csv_read_table(path, &t, err, sizeof err)) ns_csv_table_free(&t);
    double *w, t_ms;
    long n;
    if (!ns_weight_file_read(path, &w, &n, &t_ms, warn, sizeof warn, err, sizeof err)) free(w);
    ns_state_traces st;
    if (!ns_state_traces_load(&st, path, "v", err, sizeof err)) ns_state_traces_free(&st);
    return 0;
}
