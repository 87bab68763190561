/* models/cfc_cell.h — a layer of N closed-form continuous-time (CfC) units driven by M inputs,
 * as plain float64 arrays (Hasani et al., Nature MI 2022; MODELS.md §5; ncps's CfCCell and CfC).
 * The one idea: every weight is a named array with the shape PyTorch gives it (out x in), so the
 * cell, its weights file and a trained ncps model map one-to-one. Time is dimensionless.
 *
 * Step (x = [u ; h], z = backbone(x) or x itself with 0 backbone layers):
 *     default:  h' = tanh(ff1 z) (1 - g) + g tanh(ff2 z),  g = sigmoid(time_a(z) t + time_b(z))
 *     no_gate:  h' = tanh(ff1 z) + g tanh(ff2 z)
 *     pure:     f = ff1 z;  h' = -A exp(-t (|w_tau| + |f|)) f + A
 * With mixed_memory an LSTM cell runs first (ncps's order): (h_l, c') = LSTM(u, h, c) with gates
 * i, ig, fg, og = W_in u + b_in + W_rec h (that order), c' = c sigmoid(fg + 1) + tanh(i) sigmoid(ig),
 * h_l = tanh(c') sigmoid(og); then x = [u ; h_l]. The caller carries c next to h.
 *
 * Arrays (names as in the weights file; shapes rows x cols; K = M + N without a backbone, else
 * backbone_units = U):
 *     backbone0.W U x (M+N), backbone0.b 1 x U, backbone1.W U x U, ... (one pair per layer)
 *     ff1.W N x K, ff1.b 1 x N;  ff2, time_a, time_b the same (not in pure mode)
 *     A 1 x N, w_tau 1 x N (pure mode only)
 *     lstm.W_in 4N x M, lstm.b_in 1 x 4N, lstm.W_rec 4N x N (mixed_memory only; no recurrent bias)
 *     fc.W P x R, fc.b 1 x P (proj_size P only; R the units it reads, see ns_cfc_opts)
 *     ff1.mask, ff2.mask, time_a.mask, time_b.mask  N x K of 0/1 (optional; a head's weights
 *         under a 0 are held at 0, as ncps multiplies them out)
 *     groups G x 2 (optional): unit ranges (first, count) partitioning [0, N), in update order
 * Weights file header keys: inputs units mode backbone_layers backbone_units activation
 * mixed_memory groups layered proj_size (see models/cell_file.h for the file syntax; proj_size may be
 * absent, meaning 0).
 *
 * Groups and layered: with layered = 1 the groups are updated one after another, each reading
 * the new h of the groups before it (ncps's WiredCfCCell: inter, then command, then motor layer;
 * needs 0 backbone layers); with layered = 0 all units update at once from the old h. */
#ifndef NS_CFC_CELL_H
#define NS_CFC_CELL_H

#include <stddef.h>
#include <stdint.h>

#include "models/cell_file.h"

typedef enum { NS_CFC_DEFAULT, NS_CFC_NO_GATE, NS_CFC_PURE } ns_cfc_mode;

typedef enum {
    NS_CFC_LECUN_TANH, /* 1.7159 tanh(0.666 x), ncps's default */
    NS_CFC_TANH,
    NS_CFC_RELU,
    NS_CFC_SILU, /* x sigmoid(x) */
    NS_CFC_GELU  /* exact: x (1 + erf(x / sqrt 2)) / 2, PyTorch's default */
} ns_cfc_activation;

typedef struct {
    size_t inputs;          /* M >= 1 */
    size_t units;           /* N >= 1 (with a wiring: its unit count) */
    ns_cfc_mode mode;
    size_t backbone_layers; /* 0: the heads read [u ; h] */
    size_t backbone_units;  /* U, used when backbone_layers > 0 */
    ns_cfc_activation activation;
    int mixed_memory;       /* 1: LSTM cell in front */
    /* NCP wiring (NULL: dense). Copied at create: masks on all four heads and three groups in
     * ncps's WiredCfCCell layout. State index order is inter | command | motor (wiring ids
     * inter, then command, then motor, each ascending); the motor outputs are the last
     * wiring->motor entries of h. Unit j's heads read: inputs it has a sensory synapse from
     * (inter layer), units of the layer before it it has a synapse from (ff1, ff2) or all of
     * them (time_a, time_b), and all units of its own layer, as ncps does. Needs 0 backbone
     * layers and units == wiring->units (or units 0). */
    const ns_ncp_wiring *wiring;
    int layered;            /* with groups: 1 updates them in order (ncps; the default), 0 at once */
    size_t n_groups;        /* explicit groups instead of a wiring's (0: none) */
    const size_t *groups;   /* 2 * n_groups: first, count of each group in update order */
    size_t proj_size;       /* P > 0: ncps's proj_size, a Linear readout y = fc.W h + fc.b of the
                               last group's units (a wiring's motor units), else of all; 0: none */
} ns_cfc_opts;

typedef struct ns_cfc_cell ns_cfc_cell;

/* ncps's CfC defaults for M inputs and N units: default mode, 1 backbone layer of 128 units,
 * lecun_tanh, no mixed memory, no wiring, layered 1 (matters only once a wiring is given). */
void ns_cfc_opts_default(ns_cfc_opts *o, size_t inputs, size_t units);

/* Build a cell with all weights 0 (masks and groups from the options). NULL and a message when
 * a size is 0, the mode or activation is unknown, or wiring/groups do not fit. */
ns_cfc_cell *ns_cfc_create(const ns_cfc_opts *o, char *err, size_t errlen);
/* Release the cell and all its arrays; NULL is harmless. */
void ns_cfc_free(ns_cfc_cell *c);

/* The options the cell was built with (wiring pointer cleared; groups lent by the cell). */
const ns_cfc_opts *ns_cfc_opts_of(const ns_cfc_cell *c);

/* Seeded initialisation as ncps's torch CfC: every weight matrix (and, in pure mode, A and
 * w_tau, which ncps also passes through it) Xavier-uniform U(+-sqrt(6/(fan_in + fan_out)));
 * biases PyTorch's Linear default U(+-1/sqrt(fan_in)); the LSTM's W_in Xavier, W_rec orthogonal,
 * b_in U(+-0.1). With groups, fan_in and fan_out are per group (the columns its mask rows use,
 * its size), as ncps's per-layer cells have them. Masked weights stay 0. */
void ns_cfc_init(ns_cfc_cell *c, uint64_t seed);

/* Copy count values into array NAME (list above). Copy, validate, commit: -1 and a message when
 * the name is unknown for this cell, count differs, a value is not finite or a mask value not
 * 0/1; the cell is then unchanged. Setting a mask zeroes its head's weights under the 0s. */
int ns_cfc_set(ns_cfc_cell *c, const char *name, const double *values, size_t count, char *err, size_t errlen);

/* Array NAME lent by the cell, its length in *count; NULL when absent (no mask set, ...). */
const double *ns_cfc_get(const ns_cfc_cell *c, const char *name, size_t *count);

/* One step of elapsed time t (dimensionless; ncps's default 1): u[M] inputs, h_in[N] state to
 * h_out[N]; with mixed memory also the LSTM cell state c_in[N] to c_out[N] (else both NULL).
 * Outputs may alias inputs. Not reentrant on one cell (it uses the cell's scratch space). */
void ns_cfc_step(ns_cfc_cell *c, const double *u, const double *h_in, const double *c_in, double t,
                 double *h_out, double *c_out);

/* The projection (proj_size > 0 only): y[P] = fc.W h[N - R ..] + fc.b, from the state h[N] after a
 * step; R = ns_cfc_proj_inputs (ncps's CfC readout fc(h_out)). */
void ns_cfc_project(const ns_cfc_cell *c, const double *h, double *y);
size_t ns_cfc_proj_inputs(const ns_cfc_cell *c);

/* Write the cell's options and arrays as a weights file (models/cell_file.h). 0 or -1 + message. */
int ns_cfc_save(const ns_cfc_cell *c, const char *path, char *err, size_t errlen);

/* Build a cell from a weights file of kind cfc. NULL and a message naming the file, the line or
 * array and what is wrong (missing, wrong shape, non-finite, unknown, bad header key). */
ns_cfc_cell *ns_cfc_load(const char *path, char *err, size_t errlen);

#endif
