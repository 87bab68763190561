/* fuzz/fuzz_npz.c — libFuzzer harness of numpy's .npz reader (models/npz.c's ns_npz_read: a zip of
 * .npy arrays, stored or deflated) and of the ncps state_dict importers on top of it
 * (models/ncps_npz.c: ns_cfc_import_npz, ns_ltc_import_npz). The input is the file. */
#include "fuzz/harness.h"
#include "models/ncps_npz.h"
#include "models/npz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600], err[1024];
    fuzz_write("model.npz", data, size, path, sizeof path);
    ns_npz *z = ns_npz_read(path, err, sizeof err);
    if (!z) return 0;
    ns_npz_find(z, "w");
    ns_npz_free(z);
    ns_cfc_free(ns_cfc_import_npz(path, NS_CFC_DEFAULT, NS_CFC_LECUN_TANH, err, sizeof err));
    ns_ltc_free(ns_ltc_import_npz(path, 1, 6, 1e-8, err, sizeof err));
    return 0;
}
