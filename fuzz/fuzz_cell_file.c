/* fuzz/fuzz_cell_file.c — libFuzzer harness of the cell weights files (models/cell_file.c's
 * ns_cell_file_read, "nsim-cell 1 KIND ...") and of the CfC and LTC loaders that build a cell
 * from one (ns_cfc_load, ns_ltc_load). The input is the file. */
#include "fuzz/harness.h"
#include "models/cell_file.h"
#include "models/cfc_cell.h"
#include "models/ltc_cell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600], err[1024];
    fuzz_write("cell.txt", data, size, path, sizeof path);
    ns_cell_file *f = ns_cell_file_read(path, err, sizeof err);
    if (!f) return 0;
    size_t units;
    double x;
    ns_cell_file_key_size(f, "units", &units, err, sizeof err);
    ns_cell_file_key_double(f, "theta", &x, err, sizeof err);
    ns_cell_file_array(f, "W", 2, 3, 0, err, sizeof err);
    ns_cell_file_check_used(f, err, sizeof err);
    ns_cell_file_free(f);
    ns_cfc_free(ns_cfc_load(path, err, sizeof err));
    ns_ltc_free(ns_ltc_load(path, err, sizeof err));
    return 0;
}
