/* io/nir.h — NIR, the Neuromorphic Intermediate Representation (an HDF5 file; nsim follows the
 * layout of nir 1.0, docs/nir.md): a graph read into a runnable network (each neuron node a
 * population, each chain of Affine / Linear / Scale / Flatten one graded projection per pair of
 * neuron nodes), and a network saved by the trainer (ns_snn_save) written out as NIR. */
#ifndef NS_NIR_H
#define NS_NIR_H

#include <stddef.h>

#include "sim/net.h"

enum { NS_NIR_MAX_NODES = 64, NS_NIR_NAME = 64 };

/* The NIR version nsim writes; it reads every 1.x. */
#define NS_NIR_VERSION "1.0.0"

typedef struct {
    int T; /* steps of one sample: the mean readout's divisor and the readout's window; 0: the
              file's metadata T, else every step counts (the mean readout then needs T) */
} ns_nir_load_opts;

typedef struct {
    int n_pops;                              /* the neuron nodes, in the order of their names */
    ns_pop *pop[NS_NIR_MAX_NODES];
    char name[NS_NIR_MAX_NODES][NS_NIR_NAME]; /* their node names */
    int depth[NS_NIR_MAX_NODES];             /* steps from the input: each one's first live step */
    ns_pop *readout;                         /* integrator (mean) or leaky_readout (LI, CubaLI) */
    int leaky;                               /* 1: the readout is an LI or CubaLI node */
    int T, classes;
    int steps;                               /* from the input's first step to the readout's last: T + its depth */
    int cell;                                /* 1: an nsim.CfC graph, 2: an nsim.LTC graph (the readout is the
                                                cell population itself, its logits the cell's state) */
} ns_nir_loaded;

/* The options of an ncps cell that its arrays cannot tell (docs/nir.md, nsim.CfC and nsim.LTC). */
typedef struct {
    int mode;         /* CfC: 0 default, 1 no_gate (a pure CfC is known by its arrays w_tau and A) */
    int activation;   /* CfC: the backbone's, 0 lecun_tanh, 1 tanh, 2 relu, 3 silu, 4 gelu */
    int implicit;     /* LTC: 1 gleak, cm, w, sensory_w are raw values under softplus (ncps's default), 0 the values */
    unsigned unfolds; /* LTC: the fused solver's unfolds, 1 .. 1000 */
    double epsilon;   /* LTC: the fused solver's denominator term, [0, 1] */
} ns_nir_cell_opts;

/* ncps's defaults: mode default, lecun_tanh, implicit 1, 6 unfolds, epsilon 1e-8. */
void ns_nir_cell_opts_default(ns_nir_cell_opts *o);

/* Add the graph of the NIR file at path to net, fed from step 0 by the graded output of `input`
 * (a spike is 1), whose size must be the Input node's. dt (the network's, ms) discretises the
 * continuous nodes (times in the file are seconds). Refused with NS_EINVAL and one line
 * "PATH: what is wrong" on the context (missing parts, an edge to an unknown node, sizes that
 * disagree, a node type nsim has no counterpart for); nothing is added to net then but the
 * populations made before the fault was found. A graph with an nsim.CfC or nsim.LTC node must be
 * Input -> cell -> Output: the cell becomes a cfc or ltc population (the readout), its arrays written
 * unchanged as NODE.npz in the context's output folder, which the population loads at its first run. */
int ns_nir_load(ns_net *net, const char *path, ns_pop *input, const ns_nir_load_opts *o, ns_nir_loaded *out);

/* After out->steps steps, the readout's values[classes] (dimensionless): the integrator's sum / T,
 * the leaky readout's largest membrane, or a cell's state (CfC h, LTC v). */
void ns_nir_logits(const ns_nir_loaded *ld, double *logits);

/* Write the network saved by the trainer at snn_path (models/cell_file.h, kind snn) as a NIR file
 * at nir_path (written as NIR_PATH.tmp, then renamed). dt_ms is the step the time constants are
 * computed for (tau = -dt / ln beta, in seconds). 0, or -1 and "PATH: what" in err (a network NIR
 * cannot express, as a subtractive reset). */
int ns_nir_write_snn(const char *snn_path, const char *nir_path, double dt_ms, char *err, size_t errlen);

/* Write the ncps CfC or LTC state_dict saved as .npz at npz_path (models/ncps_npz.h; an LTC when it
 * has an array *gleak) as the NIR graph Input -> nsim.CfC or nsim.LTC -> Output at nir_path (as
 * NIR_PATH.tmp, then renamed): the node holds every array of the file under its name and shape,
 * and the options o (NULL: ncps's defaults). The arrays are first built into a cell with o, so a
 * file that makes none is refused. 0, or -1 and "PATH: what" in err, nothing written. */
int ns_nir_write_cell(const char *npz_path, const char *nir_path, const ns_nir_cell_opts *o, char *err, size_t errlen);

/* Parse the NIR file at path and check its graph (types, sizes, edges) without building it: 0,
 * or -1 and "PATH: what" in err. For the fuzz harness and tools. */
int ns_nir_check(const char *path, char *err, size_t errlen);

#endif
