/* models/ltc_cell.h — N liquid time-constant (LTC) units with M sensory inputs, as plain float64
 * arrays (Hasani et al., AAAI 2021; MODELS.md §6; ncps's LTCCell). The one idea: one set of
 * parameters serves both integrators — an ODE right-hand side with its Jacobian for CVODE, and
 * ncps's fused semi-implicit solver — so the two can be compared on the very same cell.
 *
 *   C_m,i dv_i/dt = g_l,i (v_leak,i - v_i) + sum_j w_ji s(sigma_ji (v_j - mu_ji)) (E_ji - v_i)
 *                 + sum_k ws_ki s(sigmas_ki (x_k - mus_ki)) (Es_ki - v_i),   s the logistic,
 *   x = u * input_w + input_b (the input mapping; affine, linear or none), held fixed over a step.
 * Time and v are dimensionless as in ncps (a step of elapsed time 1 by default).
 *
 * Layout, names as in the weights file (ncps's parameter names; shapes rows x cols):
 *     gleak, vleak, cm          1 x N      per unit
 *     w, sigma, mu, erev, mask  N x N      synapse pre j -> post i at [j * N + i] (ncps's [src, dest])
 *     sensory_w, sensory_sigma, sensory_mu, sensory_erev, sensory_mask   M x N, input k -> unit i at [k * N + i]
 *     input_w, input_b          1 x M      (input_b only for affine, neither for none)
 *     output_w, output_b        1 x motor  (likewise for the output mapping)
 *     lstm.W_in 4N x M, lstm.b_in 1 x 4N, lstm.W_rec 4N x N   (mixed_memory only: ncps's LSTM cell
 *                               in front, see models/cell_file.h; it reads the unmapped inputs)
 * A synapse whose mask is 0 has w held at 0 (ncps multiplies w by the mask). Parameters are the
 * effective values: cm > 0, gleak, w, sensory_w >= 0 (ncps keeps them so by clipping or softplus).
 * Weights file header keys: inputs units motor input_mapping output_mapping unfolds epsilon
 * mixed_memory (may be absent: 0). */
#ifndef NS_LTC_CELL_H
#define NS_LTC_CELL_H

#include <stddef.h>
#include <stdint.h>

#include "models/cell_file.h"

typedef enum { NS_LTC_MAP_NONE, NS_LTC_MAP_LINEAR, NS_LTC_MAP_AFFINE } ns_ltc_mapping;

typedef struct {
    size_t inputs;                 /* M >= 1 */
    size_t units;                  /* N >= 1 (with a wiring: its unit count, or 0) */
    size_t motor;                  /* outputs: the first `motor` units (0: all; a wiring's motor count) */
    ns_ltc_mapping input_mapping;  /* ncps default affine */
    ns_ltc_mapping output_mapping; /* ncps default affine */
    unsigned unfolds;              /* K of the fused solver, ncps default 6 */
    double epsilon;                /* added to the fused solver's denominator, ncps default 1e-8 */
    int mixed_memory;              /* 1: ncps's LSTM cell in front (ns_ltc_lstm before each step) */
    /* Wiring (NULL: fully connected, polarities drawn at init as ncps's FullyConnected does).
     * Copied at create: masks = |polarity|, and init sets erev = polarity. Unit ids as the
     * wiring's (motor first), so the outputs are units 0 .. motor - 1 as in ncps. */
    const ns_ncp_wiring *wiring;
} ns_ltc_opts;

typedef struct ns_ltc_cell ns_ltc_cell;

/* ncps's LTC defaults for M inputs and N units: affine input and output mappings, 6 unfolds,
 * epsilon 1e-8, all units outputs, no wiring. */
void ns_ltc_opts_default(ns_ltc_opts *o, size_t inputs, size_t units);

/* Build a cell: parameters 0, masks 1 (or the wiring's), mappings the identity. NULL and a
 * message when a size is 0, motor > units, unfolds is 0, epsilon is negative or not finite. */
ns_ltc_cell *ns_ltc_create(const ns_ltc_opts *o, char *err, size_t errlen);
/* Release the cell and all its arrays; NULL is harmless. */
void ns_ltc_free(ns_ltc_cell *c);

/* The options the cell was built with (wiring pointer cleared). */
const ns_ltc_opts *ns_ltc_opts_of(const ns_ltc_cell *c);

/* Seeded initialisation with ncps's ranges, uniform: gleak [0.001, 1], vleak [-0.2, 0.2],
 * cm [0.4, 0.6], w and sensory_w [0.001, 1], sigma [3, 8], mu [0.3, 0.8]; erev = the wiring's
 * polarity (+-1); mappings w 1, b 0. softplus = 1 stores softplus of the gleak, cm, w and
 * sensory_w draws: the effective values of ncps's LTC class (implicit_param_constraints). */
void ns_ltc_init(ns_ltc_cell *c, uint64_t seed, int softplus);

/* Copy count values into array NAME (list above). Copy, validate, commit: -1 and a message when
 * the name is unknown, count differs, a value is not finite, cm <= 0, gleak/w/sensory_w < 0 or
 * a mask value not 0/1; the cell is then unchanged. Setting a mask zeroes w under its 0s. */
int ns_ltc_set(ns_ltc_cell *c, const char *name, const double *values, size_t count, char *err, size_t errlen);

/* Array NAME lent by the cell, its length in *count; NULL when this cell has none. */
const double *ns_ltc_get(const ns_ltc_cell *c, const char *name, size_t *count);

/* Sensory drive of inputs u[M] (mapped here): drive[i] = sum_k ws s() Es, drive[N + i] =
 * sum_k ws s(), i.e. the sensory conductance-weighted reversal and conductance of unit i.
 * Compute it once per step; rhs, jac and the solvers hold it fixed. */
void ns_ltc_drive(const ns_ltc_cell *c, const double *u, double *drive);

/* dv/dt [1/time] at state v[N] with the sensory drive held fixed; t is unused (autonomous),
 * there for a CVODE right-hand side. */
void ns_ltc_rhs(const ns_ltc_cell *c, double t, const double *v, double *dvdt, const double *drive);

/* Jacobian of rhs, N x N column-major as SUNDIALS dense matrices: jac[j * N + i] = d(dv_i/dt)/dv_j. */
void ns_ltc_jac(const ns_ltc_cell *c, double t, const double *v, const double *drive, double *jac);

/* ncps's fused solver: K unfolds (0: the cell's) of semi-implicit Euler steps of delta / K over
 * elapsed time delta, inputs u[M], v_in[N] to v_out[N] (may alias). -1 when delta is not
 * positive and finite, else 0. Not reentrant on one cell (scratch space). */
int ns_ltc_fused(ns_ltc_cell *c, const double *u, const double *v_in, double delta, unsigned K, double *v_out);

/* Mixed memory (ncps's LTC with mixed_memory): the LSTM cell's step from the raw inputs u[M], the
 * state v_in[N] and the LSTM cell state c_in[N] to v_out[N] (must not alias v_in) and c_out[N]
 * (may alias c_in); the ODE step then starts from v_out. Only for a cell made with mixed_memory. */
void ns_ltc_lstm(ns_ltc_cell *c, const double *u, const double *v_in, const double *c_in, double *v_out, double *c_out);

/* Outputs y[motor] = v[k] * output_w[k] + output_b[k] (per the output mapping), k < motor. */
void ns_ltc_output(const ns_ltc_cell *c, const double *v, double *y);

/* Write the cell's options and arrays as a weights file (models/cell_file.h). 0 or -1 + message. */
int ns_ltc_save(const ns_ltc_cell *c, const char *path, char *err, size_t errlen);

/* Build a cell from a weights file of kind ltc. NULL and a message naming the file, the line or
 * array and what is wrong. */
ns_ltc_cell *ns_ltc_load(const char *path, char *err, size_t errlen);

#endif
