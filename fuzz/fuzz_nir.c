/* fuzz/fuzz_nir.c — libFuzzer harness of the NIR reader and graph builder (io/nir.c's ns_nir_load,
 * net:load_nir). The input is not the HDF5 bytes (that would fuzz libhdf5's own parser) but a
 * recipe the harness writes a NIR file from with libhdf5: nodes of any type (Conv2d and unknown
 * ones too), parameters present or not, of fitting or wrong lengths, odd values, edges between any
 * two nodes or a missing one. The graph is then loaded and, when accepted, run for a few steps. */
#include <hdf5.h>
#include <math.h>

#include "fuzz/harness.h"
#include "io/nir.h"
#include "sim/ctx.h"

typedef struct {
    const uint8_t *p;
    size_t n;
} bytes;

static unsigned next(bytes *b)
{
    if (!b->n) return 0;
    b->n--;
    return *b->p++;
}

static const char *const types[] = {"Input", "Output", "Affine", "Linear", "Scale", "Flatten", "LIF", "CubaLIF",
                                    "IF", "Threshold", "LI", "CubaLI", "nsim.UltraLIF", "nsim.UltraDLIF", "Conv2d",
                                    "Foo", "NIRGraph"};
/* every parameter name any node takes, and one no node does */
static const char *const names[] = {"shape", "weight", "bias", "scale", "start_dim", "tau", "tau_mem", "tau_syn", "r",
                                    "v_leak", "v_threshold", "v_reset", "w_in", "threshold", "ln_tau", "theta",
                                    "eps", "reset_subtract", "c", "definition", "bogus"};
static const double values[] = {0, 1, -1, 0.5, 2, 1e-3, 5e-3, -1e-3, 1e30, -1e30, 1e-300, 3, 0.999, 1.0 / 3,
                                INFINITY, NAN};

static void w_str(hid_t loc, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s), H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(t);
}

static void w_nums(hid_t loc, const char *name, int rank, const hsize_t *dims, const double *v)
{
    hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(loc, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), H5Dclose(d);
    H5Sclose(sp);
}

/* Write the recipe's graph to path; *n_in: the first Input node's size (1 if none). */
static void write_graph(bytes *b, const char *path, size_t *n_in)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return;
    unsigned flags = next(b);
    if (!(flags & 1)) w_str(f, "version", flags & 2 ? "2.0" : "1.0.0");
    hid_t root = H5Gcreate2(f, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    w_str(root, "type", flags & 4 ? "Graph" : "NIRGraph");
    int nn = (int)(next(b) % 8) + 1;
    char nm[8][8];
    *n_in = 1;
    hid_t nodes = flags & 8 ? -1 : H5Gcreate2(root, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    for (int i = 0; i < nn; i++) {
        snprintf(nm[i], sizeof nm[i], "n%d", i);
        unsigned t = next(b) % (sizeof types / sizeof types[0]);
        hsize_t size = next(b) % 6 + 1;
        if (!strcmp(types[t], "Input") && *n_in == 1) *n_in = (size_t)size;
        if (nodes < 0) continue;
        hid_t g = H5Gcreate2(nodes, nm[i], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (next(b) % 16) w_str(g, "type", types[t]);
        int np = (int)(next(b) % 8);
        for (int k = 0; k < np; k++) {
            const char *key = names[next(b) % (sizeof names / sizeof names[0])];
            if (H5Lexists(g, key, H5P_DEFAULT) > 0) continue;
            if (!strcmp(key, "definition")) {
                w_str(g, key, next(b) % 3 == 0 ? "library" : next(b) % 2 ? "ablation" : "x");
                continue;
            }
            unsigned form = next(b);
            hsize_t dims[2] = {form & 1 ? 1 : size, size};
            if (form & 2) dims[0] = next(b) % 7;
            if (form & 4) dims[1] = next(b) % 7 + 1;
            int rank = form & 8 ? 0 : !strcmp(key, "weight") || form & 16 ? 2 : 1;
            double v[64];
            size_t n = rank == 0 ? 1 : rank == 1 ? dims[0] : dims[0] * dims[1];
            for (size_t j = 0; j < n && j < 64; j++)
                v[j] = !strcmp(key, "shape") ? (double)size : values[next(b) % (sizeof values / sizeof values[0])];
            if (n <= 64) w_nums(g, key, rank, dims, v);
        }
        H5Gclose(g);
    }
    if (nodes >= 0) H5Gclose(nodes);
    int ne = (int)(next(b) % 12);
    if (!(flags & 16)) {
        const char *e[24];
        for (int k = 0; k < ne; k++) {
            unsigned a = next(b) % (unsigned)(nn + 1), c = next(b) % (unsigned)(nn + 1);
            e[2 * k] = a < (unsigned)nn ? nm[a] : "ghost";
            e[2 * k + 1] = c < (unsigned)nn ? nm[c] : "ghost";
        }
        hsize_t dims[2] = {(hsize_t)ne, 2};
        hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate_simple(2, dims, NULL);
        H5Tset_size(t, H5T_VARIABLE);
        hid_t d = H5Dcreate2(root, "edges", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (d >= 0) {
            if (ne) H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, e);
            H5Dclose(d);
        }
        H5Sclose(sp);
        H5Tclose(t);
    }
    if (flags & 32) {
        hid_t md = H5Gcreate2(root, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        double T = next(b) % 5;
        w_nums(md, "T", 0, NULL, &T);
        H5Gclose(md);
    }
    H5Gclose(root);
    H5Fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    char path[600], err[1024];
    snprintf(path, sizeof path, "%s/g.nir", fuzz_dir());
    bytes b = {data, size};
    size_t n_in = 1;
    write_graph(&b, path, &n_in);
    ns_nir_check(path, err, sizeof err);
    ns_ctx *ctx = ns_ctx_create();
    ns_net *net = ctx ? ns_net_create(ctx, 1.0) : NULL;
    size_t offset[8] = {0};
    const double no_time = 1.0;
    ns_pop *in = net ? ns_net_add_spike_source(net, n_in, offset, &no_time, "in") : NULL;
    ns_nir_loaded ld;
    ns_nir_load_opts o = {(int)(next(&b) % 4)};
    if (in && !ns_nir_load(net, path, in, &o, &ld)) {
        ns_net_run(net, 4.0);
        double logits[8];
        if (ld.classes <= 8) ns_nir_logits(&ld, logits);
    }
    ns_net_free(net);
    ns_ctx_free(ctx);
    return 0;
}
