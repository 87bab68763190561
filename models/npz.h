/* models/npz.h — numpy's .npz files (a zip of .npy arrays, what numpy.savez and savez_compressed
 * write), read into float64 arrays and written back, so a PyTorch state_dict saved with numpy
 * reaches the cells. The one idea: every array becomes doubles with its shape; nothing else of
 * numpy's format (object arrays, structured dtypes, zip64 sizes) is accepted.
 *
 * Read: zip members stored (method 0) or deflated (method 8, zlib), CRC-checked; .npy versions 1-3,
 * dtypes float32/64, int8-64, uint8-64, bool, either byte order, C or Fortran order, 0 to 8 dims.
 * Write: stored members, little-endian float64 ('<f8'), C order; PATH.tmp then renamed. */
#ifndef NS_NPZ_H
#define NS_NPZ_H

#include <stddef.h>

#define NS_NPZ_MAX_DIMS 8

/* One array: name (the member's name without ".npy"), shape, count = product of the shape
 * (1 for 0 dims), data in C order (row-major). */
typedef struct {
    char *name;
    size_t ndim;
    size_t shape[NS_NPZ_MAX_DIMS];
    size_t count;
    double *data;
} ns_npz_array;

typedef struct {
    ns_npz_array *a;
    size_t n;
} ns_npz;

/* Read a whole .npz file. NULL and a one-line message naming PATH (and the member) when it is not
 * a zip of .npy arrays this reader takes. */
ns_npz *ns_npz_read(const char *path, char *err, size_t errlen);
/* Release a file read by ns_npz_read; NULL is harmless. */
void ns_npz_free(ns_npz *z);
/* The array called name, or NULL. */
const ns_npz_array *ns_npz_find(const ns_npz *z, const char *name);

/* Write n arrays (names unique, data count doubles each, shape as given) as an .npz of '<f8'
 * members. 0, or -1 and a message; no half-written file is left at path. */
int ns_npz_write(const char *path, const ns_npz_array *arrays, size_t n, char *err, size_t errlen);

#endif
