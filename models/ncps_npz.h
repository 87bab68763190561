/* models/ncps_npz.h — CfC and LTC cells from and to a PyTorch state_dict of ncps's CfC / LTC
 * saved with numpy (.npz, models/npz.h), so a trained ncps model runs in nsim and goes back.
 * The one idea: the arrays' names and shapes say almost everything (sizes, backbone, pure mode,
 * wiring layers and masks, mixed memory, projection, mappings); the few choices they cannot say
 * (CfC default or no_gate, the backbone activation, LTC's softplus constraints and unfolds) are
 * the caller's arguments.
 *
 * Names read (PREFIX: anything before the cell's arrays, e.g. "rnn_cell." or "model.rnn.rnn_cell."):
 *   CfC:  PREFIX backbone.I.weight / .bias (Linear layers, I ascending), ff1 ff2 time_a time_b
 *         .weight / .bias, w_tau and A (pure), sparsity_mask (on ff1 and ff2); a wired CfC has
 *         PREFIX layer_L.* for each layer L (inter, command, motor) instead. Beside the cell:
 *         lstm.input_map.weight / .bias, lstm.recurrent_map.weight (mixed memory), fc.weight /
 *         .bias (proj_size).
 *   LTC:  PREFIX gleak vleak cm sigma mu w erev sensory_sigma sensory_mu sensory_w sensory_erev
 *         sparsity_mask sensory_sparsity_mask input_w input_b output_w output_b; lstm.* beside.
 * Every array under the model's prefix must be used (a typo or another model's array is refused).
 * Written: the same names with "rnn_cell.", "lstm." and "fc.", shapes as ncps registers them. */
#ifndef NS_NCPS_NPZ_H
#define NS_NCPS_NPZ_H

#include <stddef.h>

#include "models/cfc_cell.h"
#include "models/ltc_cell.h"
#include "models/npz.h"

/* 1 when path names an .npz (its name ends in ".npz", or it starts with a zip signature). */
int ns_npz_path(const char *path);

/* A CfC cell from an ncps CfC state_dict. gated_mode (NS_CFC_DEFAULT or NS_CFC_NO_GATE) is taken
 * unless the arrays are of pure mode (w_tau, A); activation is the backbone's. NULL and a one-line
 * message naming the file and the array when the arrays do not make an ncps CfC. */
ns_cfc_cell *ns_cfc_import_npz(const char *path, ns_cfc_mode gated_mode, ns_cfc_activation activation, char *err,
                               size_t errlen);
/* The same from arrays in memory (z lent, e.g. a NIR node's; the names and checks of the file's),
 * path naming them in messages (a file, or "FILE: node NAME"). */
ns_cfc_cell *ns_cfc_import_arrays(const ns_npz *z, const char *path, ns_cfc_mode gated_mode, ns_cfc_activation activation,
                                  char *err, size_t errlen);
/* Write the cell as an ncps CfC state_dict (keys "rnn_cell.*", "lstm.*", "fc.*"; a layered cell
 * with groups as ncps's WiredCfCCell, "rnn_cell.layer_L.*"). Weights under a mask's 0 are written
 * as 0. -1 and a message when ncps has no form for the cell (a grouped cell that reads outside
 * ncps's layer blocks). */
int ns_cfc_export_npz(const ns_cfc_cell *c, const char *path, char *err, size_t errlen);

/* An LTC cell from an ncps LTC state_dict: implicit 1 reads gleak, cm, w and sensory_w as ncps's
 * raw parameters under softplus (implicit_param_constraints, ncps LTC's default), 0 as the values
 * themselves (then they must be >= 0, cm > 0: ncps's clipping); unfolds K and epsilon as given
 * (ncps's ode_unfolds 6 and 1e-8 by default). NULL and a message when the arrays do not fit. */
ns_ltc_cell *ns_ltc_import_npz(const char *path, int implicit, unsigned unfolds, double epsilon, char *err,
                               size_t errlen);
/* The same from arrays in memory (z lent), path naming them in messages. */
ns_ltc_cell *ns_ltc_import_arrays(const ns_npz *z, const char *path, int implicit, unsigned unfolds, double epsilon,
                                  char *err, size_t errlen);
/* Write the cell as an ncps LTC state_dict; implicit 1 writes softplus's inverse of gleak, cm, w and
 * sensory_w (refused when one of them is 0 where its mask is 1). 0, or -1 and a message. */
int ns_ltc_export_npz(const ns_ltc_cell *c, const char *path, int implicit, char *err, size_t errlen);

/* PyTorch's softplus (threshold 20) and its inverse, for positive y. */
double ns_softplus(double x);
double ns_softplus_inv(double y);

#endif
