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
} ns_nir_loaded;

/* Add the graph of the NIR file at path to net, fed from step 0 by the graded output of `input`
 * (a spike is 1), whose size must be the Input node's. dt (the network's, ms) discretises the
 * continuous nodes (times in the file are seconds). Refused with NS_EINVAL and one line
 * "PATH: what is wrong" on the context (missing parts, an edge to an unknown node, sizes that
 * disagree, a node type nsim has no counterpart for); nothing is added to net then but the
 * populations made before the fault was found. */
int ns_nir_load(ns_net *net, const char *path, ns_pop *input, const ns_nir_load_opts *o, ns_nir_loaded *out);

/* After out->steps steps, the readout's values[classes] (dimensionless): the integrator's sum / T,
 * or the leaky readout's largest membrane. */
void ns_nir_logits(const ns_nir_loaded *ld, double *logits);

/* Write the network saved by the trainer at snn_path (models/cell_file.h, kind snn) as a NIR file
 * at nir_path (written as NIR_PATH.tmp, then renamed). dt_ms is the step the time constants are
 * computed for (tau = -dt / ln beta, in seconds). 0, or -1 and "PATH: what" in err (a network NIR
 * cannot express, as a subtractive reset). */
int ns_nir_write_snn(const char *snn_path, const char *nir_path, double dt_ms, char *err, size_t errlen);

/* Parse the NIR file at path and check its graph (types, sizes, edges) without building it: 0,
 * or -1 and "PATH: what" in err. For the fuzz harness and tools. */
int ns_nir_check(const char *path, char *err, size_t errlen);

#endif
