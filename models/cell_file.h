/* models/cell_file.h — what the CfC and LTC cells share: the weights file and the NCP wiring
 * generator (their initialisers draw from base/xoshiro.h). The one idea: a weights file is plain text, a
 * header line then named arrays, so train/, Python and a text editor all read and write it.
 *
 * The weights file ("the format train/ writes"), version 1:
 *
 *     nsim-cell 1 KIND key=value key=value ...        header line: kind (cfc, ltc) and sizes
 *     # a comment: '#' to the end of a line, anywhere
 *     NAME ROWS COLS                                  an array, then ROWS*COLS numbers,
 *     v v v ...                                       row-major, written one row per line
 *     ...
 *     end                                             required: a truncated file is refused
 *
 * Numbers are decimal floats as C's strtod reads them; the writer prints %.17g, so a save and a
 * load round-trip every double bit-exactly. NaN and infinity are refused. A vector is 1 x n;
 * masks (0/1) and index tables are written as numbers too. Names are unique;
 * the keys and arrays each kind expects are listed in models/cfc_cell.h and models/ltc_cell.h. */
#ifndef NS_CELL_FILE_H
#define NS_CELL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/xoshiro.h"

/* ---- the weights file ---- */

/* One named array of rows x cols doubles, row-major, lent by the caller. */
typedef struct {
    const char *name;
    size_t rows, cols;
    const double *data;
} ns_cell_array;

/* Write a weights file: header "nsim-cell 1 KIND KEYS" (keys: "k=v k=v ..."), the arrays, "end".
 * Writes PATH.tmp and renames it, so no half-written file is left. 0, or -1 and a message. */
int ns_cell_file_write(const char *path, const char *kind, const char *keys, const ns_cell_array *arrays,
                       size_t n, char *err, size_t errlen);

typedef struct ns_cell_file ns_cell_file;

/* Read and parse a whole weights file (syntax, sizes, finiteness, unique names). NULL and a
 * message "PATH:LINE: what" when it is malformed. */
ns_cell_file *ns_cell_file_read(const char *path, char *err, size_t errlen);
/* Release a parsed file and every array it lent; NULL is harmless. */
void ns_cell_file_free(ns_cell_file *f);

/* The kind named in the header line ("cfc", "ltc"). */
const char *ns_cell_file_kind(const ns_cell_file *f);

/* Header key as a string, or NULL when absent. */
const char *ns_cell_file_key(const ns_cell_file *f, const char *key);

/* Header key as a non-negative integer / a finite double. -1 and a message when absent or bad. */
int ns_cell_file_key_size(const ns_cell_file *f, const char *key, size_t *out, char *err, size_t errlen);
int ns_cell_file_key_double(const ns_cell_file *f, const char *key, double *out, char *err, size_t errlen);
/* Header key as one of names[0 .. n) (its index into *out). -1 and a message listing the names
 * when absent or another word. */
int ns_cell_file_key_enum(const ns_cell_file *f, const char *key, const char *const *names, int n, int *out,
                          char *err, size_t errlen);
/* The largest size (inputs, units, groups) a cell file may declare. */
#define NS_CELL_MAX_SIZE ((size_t)1 << 24)
/* 0 when a cell's size v (inputs, units) is within 1 .. NS_CELL_MAX_SIZE, else -1 and the message
 * "WHO: WHAT is V (must be 1 .. MAX)". */
int ns_cell_check_size(const char *who, const char *what, size_t v, char *err, size_t errlen);

/* 1 when the file holds an array NAME, else 0. */
int ns_cell_file_has(const ns_cell_file *f, const char *name);

/* Array NAME, checked to be rows x cols; marks it used. NULL when absent (message only if
 * required is set) or when its shape differs (always a message). */
const double *ns_cell_file_array(ns_cell_file *f, const char *name, size_t rows, size_t cols, int required,
                                 char *err, size_t errlen);

/* -1 and a message naming the first array no ns_cell_file_array call asked for (a typo in a name
 * must not pass silently), else 0. */
int ns_cell_file_check_used(const ns_cell_file *f, char *err, size_t errlen);

/* ---- the mixed-memory LSTM cell that CfC and LTC put in front (ncps's LSTMCell) ----
 * Gates z = W_in u + b_in + W_rec h (4N rows: input, input gate, forget gate, output gate),
 * c' = c sigmoid(z_fg + 1) + tanh(z_i) sigmoid(z_ig), h' = tanh(c') sigmoid(z_og).
 * W_in 4N x M, b_in 4N, W_rec 4N x N, row-major; no recurrent bias. */

/* ncps's initialisation: W_in Xavier-uniform, b_in U(+-0.1), W_rec orthogonal columns. */
void ns_cell_lstm_init(ns_xoshiro *r, double *W_in, double *b_in, double *W_rec, size_t M, size_t N);

/* One LSTM step: inputs u[M], state h_in[N], c_in[N] to h_out[N], c_out[N] (c_out may alias c_in,
 * h_out must not alias h_in); z is scratch of 4N. */
void ns_cell_lstm_step(const double *W_in, const double *b_in, const double *W_rec, size_t M, size_t N,
                       const double *u, const double *h_in, const double *c_in, double *z, double *h_out,
                       double *c_out);

/* ---- NCP wiring (Lechner et al. 2020; ncps's NCP and AutoNCP) ----
 * Unit ids as ncps numbers them: motor [0, motor), command [motor, motor + command),
 * inter [motor + command, units). Polarities are -1, 0 (no synapse), +1. */
typedef struct {
    size_t inputs, units;
    size_t inter, command, motor; /* 0, 0, units for a fully connected wiring */
    int8_t *sensory;              /* inputs x units: [k * units + i] = input k -> unit i */
    int8_t *adj;                  /* units x units: [j * units + i] = unit j -> unit i */
} ns_ncp_wiring;

/* ncps's NCP: each input to sensory_fanout distinct inter units, each inter unit to inter_fanout
 * distinct command units, recurrent_command random command->command synapses, each motor unit
 * from motor_fanin distinct command units; units left unreached get ncps's mean fan-in/out;
 * polarity +-1 with equal odds. 0, or -1 and a message when a fan-out exceeds its layer. */
int ns_ncp_wiring_ncp(ns_ncp_wiring *w, size_t inputs, size_t inter, size_t command, size_t motor,
                      size_t sensory_fanout, size_t inter_fanout, size_t recurrent_command,
                      size_t motor_fanin, uint64_t seed, char *err, size_t errlen);

/* ncps's AutoNCP: units in total, motor outputs (< units - 2), sparsity in [0.1, 1]; command
 * max(int(0.4 (units - motor)), 1), the rest inter; fan-outs int(layer size x (1 - sparsity)), >= 1. */
int ns_ncp_wiring_auto(ns_ncp_wiring *w, size_t inputs, size_t units, size_t motor, double sparsity,
                       uint64_t seed, char *err, size_t errlen);

/* ncps's FullyConnected: every input and unit to every unit (self-synapses if self_connections),
 * polarity -1 with probability 1/3, +1 otherwise. */
int ns_ncp_wiring_full(ns_ncp_wiring *w, size_t inputs, size_t units, int self_connections, uint64_t seed,
                       char *err, size_t errlen);

/* Release the arrays of a wiring (the struct itself is the caller's); harmless when zeroed. */
void ns_ncp_wiring_release(ns_ncp_wiring *w);

#endif
