/* fuzz/fuzz_idx.c — libFuzzer harness of the IDX reader (train/dataset.c's ns_dataset_load_idx:
 * MNIST and Fashion-MNIST image and label files, plain or gzip). Input: the labels file, then
 * the images file after FUZZ_SEP (without one, the input serves as both). */
#include "fuzz/harness.h"
#include "train/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char labels[600], images[600], err[1024];
    const uint8_t *part;
    size_t len;
    fuzz_part(data, size, 0, &part, &len);
    fuzz_write("labels-idx1-ubyte", part, len, labels, sizeof labels);
    if (fuzz_part(data, size, 1, &part, &len)) part = data, len = size;
    fuzz_write("images-idx3-ubyte", part, len, images, sizeof images);
    ns_dataset *ds = NULL;
    if (!ns_dataset_load_idx(images, labels, &ds, err, sizeof err)) ns_dataset_free(ds);
    return 0;
}
