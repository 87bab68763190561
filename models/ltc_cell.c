/* models/ltc_cell.c — LTC cell mathematics over float64 arrays: sensory drive, right-hand side,
 * Jacobian, ncps's fused solver, init, save and load. Synapse arrays are pre-major ([j * N + i]),
 * so every inner loop runs over post-synaptic units along contiguous memory. */
#include "models/ltc_cell.h"
#include "base/errmsg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char *const map_name[] = {"none", "linear", "affine"};

enum { FREE, POSITIVE, NONNEG, MASK }; /* value constraint of an array */

typedef struct {
    const char *name;
    size_t rows, cols;
    double **slot;
    int constraint;
} entry;

struct ns_ltc_cell {
    ns_ltc_opts o;
    size_t M, N, motor;
    double *gleak, *vleak, *cm;
    double *w, *sigma, *mu, *erev, *mask;
    double *sw, *ssigma, *smu, *serev, *smask;
    double *in_w, *in_b, *out_w, *out_b;
    double *lW_in, *lb_in, *lW_rec; /* mixed memory's LSTM */
    int8_t *pol, *spol; /* a wiring's polarities for init, or NULL */
    entry tab[21];
    size_t ntab;
    double *work; /* fused solver scratch: 4N; the LSTM's gates 4N */
};

void ns_ltc_opts_default(ns_ltc_opts *o, size_t inputs, size_t units)
{
    memset(o, 0, sizeof *o);
    o->inputs = inputs;
    o->units = units;
    o->input_mapping = NS_LTC_MAP_AFFINE;
    o->output_mapping = NS_LTC_MAP_AFFINE;
    o->unfolds = 6;
    o->epsilon = 1e-8;
}

void ns_ltc_free(ns_ltc_cell *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->ntab; i++) free(*c->tab[i].slot);
    free(c->pol);
    free(c->spol);
    free(c->work);
    free(c);
}

const ns_ltc_opts *ns_ltc_opts_of(const ns_ltc_cell *c) { return &c->o; }

static int add(ns_ltc_cell *c, const char *name, size_t rows, size_t cols, double **slot, int constraint)
{
    if (!(*slot = calloc(rows * cols + 1, sizeof(double)))) return -1;
    c->tab[c->ntab++] = (entry){name, rows, cols, slot, constraint};
    return 0;
}

static void fill(double *a, size_t n, double v)
{
    for (size_t k = 0; k < n; k++) a[k] = v;
}

ns_ltc_cell *ns_ltc_create(const ns_ltc_opts *o, char *err, size_t errlen)
{
    if (!o) {
        ns_errmsg(err, errlen, "LTC: no options given");
        return NULL;
    }
    ns_ltc_opts op = *o;
    const ns_ncp_wiring *wr = op.wiring;
    if (wr) {
        if (op.units == 0) op.units = wr->units;
        if (op.motor == 0) op.motor = wr->motor;
        if (wr->units != op.units || wr->inputs != op.inputs || !wr->sensory || !wr->adj) {
            ns_errmsg(err, errlen, "LTC: the wiring is for %zu inputs and %zu units, the cell has %zu and %zu",
                    wr->inputs, wr->units, op.inputs, op.units);
            return NULL;
        }
    }
    if (ns_cell_check_size("LTC", "inputs", op.inputs, err, errlen) ||
        ns_cell_check_size("LTC", "units", op.units, err, errlen))
        return NULL;
    if (op.motor == 0) op.motor = op.units;
    if (op.motor > op.units) {
        ns_errmsg(err, errlen, "LTC: motor is %zu but there are only %zu units", op.motor, op.units);
        return NULL;
    }
    if ((unsigned)op.input_mapping > NS_LTC_MAP_AFFINE) {
        ns_errmsg(err, errlen, "LTC: unknown input mapping %d", (int)op.input_mapping);
        return NULL;
    }
    if ((unsigned)op.output_mapping > NS_LTC_MAP_AFFINE) {
        ns_errmsg(err, errlen, "LTC: unknown output mapping %d", (int)op.output_mapping);
        return NULL;
    }
    if (op.unfolds == 0) {
        ns_errmsg(err, errlen, "LTC: unfolds is 0 (must be at least 1)");
        return NULL;
    }
    if (!(op.epsilon >= 0) || !isfinite(op.epsilon)) {
        ns_errmsg(err, errlen, "LTC: epsilon %g must be finite and >= 0", op.epsilon);
        return NULL;
    }
    ns_ltc_cell *c = calloc(1, sizeof *c);
    if (!c) goto oom;
    c->o = op;
    c->o.wiring = NULL;
    size_t M = op.inputs, N = op.units, P = op.motor;
    c->M = M;
    c->N = N;
    c->motor = P;
    if (add(c, "gleak", 1, N, &c->gleak, NONNEG) || add(c, "vleak", 1, N, &c->vleak, FREE) ||
        add(c, "cm", 1, N, &c->cm, POSITIVE) || add(c, "w", N, N, &c->w, NONNEG) ||
        add(c, "sigma", N, N, &c->sigma, FREE) || add(c, "mu", N, N, &c->mu, FREE) ||
        add(c, "erev", N, N, &c->erev, FREE) || add(c, "mask", N, N, &c->mask, MASK) ||
        add(c, "sensory_w", M, N, &c->sw, NONNEG) || add(c, "sensory_sigma", M, N, &c->ssigma, FREE) ||
        add(c, "sensory_mu", M, N, &c->smu, FREE) || add(c, "sensory_erev", M, N, &c->serev, FREE) ||
        add(c, "sensory_mask", M, N, &c->smask, MASK))
        goto oom;
    if (op.input_mapping != NS_LTC_MAP_NONE && add(c, "input_w", 1, M, &c->in_w, FREE)) goto oom;
    if (op.input_mapping == NS_LTC_MAP_AFFINE && add(c, "input_b", 1, M, &c->in_b, FREE)) goto oom;
    if (op.output_mapping != NS_LTC_MAP_NONE && add(c, "output_w", 1, P, &c->out_w, FREE)) goto oom;
    if (op.output_mapping == NS_LTC_MAP_AFFINE && add(c, "output_b", 1, P, &c->out_b, FREE)) goto oom;
    if (op.mixed_memory && (add(c, "lstm.W_in", 4 * N, M, &c->lW_in, FREE) || add(c, "lstm.b_in", 1, 4 * N, &c->lb_in, FREE) ||
                            add(c, "lstm.W_rec", 4 * N, N, &c->lW_rec, FREE)))
        goto oom;
    c->o.mixed_memory = op.mixed_memory ? 1 : 0;
    if (!(c->work = calloc(4 * N, sizeof *c->work))) goto oom;
    fill(c->cm, N, 1.0); /* a valid cell from the start; init or set replace it */
    fill(c->mask, N * N, 1.0);
    fill(c->smask, M * N, 1.0);
    if (c->in_w) fill(c->in_w, M, 1.0);
    if (c->out_w) fill(c->out_w, P, 1.0);
    if (wr) {
        if (!(c->pol = malloc(N * N)) || !(c->spol = malloc(M * N))) goto oom;
        memcpy(c->pol, wr->adj, N * N);
        memcpy(c->spol, wr->sensory, M * N);
        for (size_t k = 0; k < N * N; k++) c->mask[k] = c->pol[k] != 0;
        for (size_t k = 0; k < M * N; k++) c->smask[k] = c->spol[k] != 0;
    }
    return c;
oom:
    ns_errmsg(err, errlen, "LTC: out of memory");
    ns_ltc_free(c);
    return NULL;
}

/* ---------------------------------------------------------------- weights */

static const entry *find(const ns_ltc_cell *c, const char *name)
{
    for (size_t i = 0; i < c->ntab; i++)
        if (strcmp(c->tab[i].name, name) == 0) return &c->tab[i];
    return NULL;
}

static void apply_masks(ns_ltc_cell *c)
{
    for (size_t k = 0; k < c->N * c->N; k++)
        if (c->mask[k] == 0) c->w[k] = 0;
    for (size_t k = 0; k < c->M * c->N; k++)
        if (c->smask[k] == 0) c->sw[k] = 0;
}

int ns_ltc_set(ns_ltc_cell *c, const char *name, const double *values, size_t count, char *err, size_t errlen)
{
    const entry *e = name ? find(c, name) : NULL;
    if (!e) {
        ns_errmsg(err, errlen, "LTC: no array '%s' in this cell (input mapping %s, output mapping %s)",
                name ? name : "(null)", map_name[c->o.input_mapping], map_name[c->o.output_mapping]);
        return -1;
    }
    size_t n = e->rows * e->cols;
    if (count != n || !values) {
        ns_errmsg(err, errlen, "LTC: array '%s' takes %zu values (%zu x %zu), got %zu", name, n, e->rows, e->cols, count);
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        double v = values[k];
        const char *bad = !isfinite(v)                               ? "is not finite"
                          : e->constraint == POSITIVE && !(v > 0)     ? "must be > 0"
                          : e->constraint == NONNEG && !(v >= 0)      ? "must be >= 0"
                          : e->constraint == MASK && v != 0 && v != 1 ? "must be 0 or 1"
                                                                      : NULL;
        if (bad) {
            ns_errmsg(err, errlen, "LTC: array '%s' value %zu (%g) %s", name, k, v, bad);
            return -1;
        }
    }
    memcpy(*e->slot, values, n * sizeof *values);
    apply_masks(c);
    return 0;
}

const double *ns_ltc_get(const ns_ltc_cell *c, const char *name, size_t *count)
{
    const entry *e = name ? find(c, name) : NULL;
    if (!e) return NULL;
    if (count) *count = e->rows * e->cols;
    return *e->slot;
}

/* ---------------------------------------------------------------- init */

static double softplus(double x) { return x > 30 ? x : log1p(exp(x)); }

static void draw(ns_xoshiro *r, double *a, size_t n, double lo, double hi, int sp)
{
    for (size_t k = 0; k < n; k++) {
        double x = ns_xoshiro_range(r, lo, hi);
        a[k] = sp ? softplus(x) : x;
    }
}

void ns_ltc_init(ns_ltc_cell *c, uint64_t seed, int softplus)
{
    ns_xoshiro r;
    ns_xoshiro_seed(&r, seed);
    size_t M = c->M, N = c->N;
    int sp = softplus != 0;
    draw(&r, c->gleak, N, 0.001, 1.0, sp);
    draw(&r, c->vleak, N, -0.2, 0.2, 0);
    draw(&r, c->cm, N, 0.4, 0.6, sp);
    draw(&r, c->sigma, N * N, 3, 8, 0);
    draw(&r, c->mu, N * N, 0.3, 0.8, 0);
    draw(&r, c->w, N * N, 0.001, 1.0, sp);
    draw(&r, c->ssigma, M * N, 3, 8, 0);
    draw(&r, c->smu, M * N, 0.3, 0.8, 0);
    draw(&r, c->sw, M * N, 0.001, 1.0, sp);
    if (c->pol) {
        for (size_t k = 0; k < N * N; k++) c->erev[k] = c->pol[k];
        for (size_t k = 0; k < M * N; k++) c->serev[k] = c->spol[k];
    } else { /* ncps's FullyConnected: polarity -1 with odds 1 in 3, self-synapses included */
        for (size_t k = 0; k < N * N; k++) c->erev[k] = ns_xoshiro_below(&r, 3) ? 1 : -1;
        for (size_t k = 0; k < M * N; k++) c->serev[k] = ns_xoshiro_below(&r, 3) ? 1 : -1;
    }
    if (c->in_w) fill(c->in_w, M, 1.0);
    if (c->in_b) fill(c->in_b, M, 0.0);
    if (c->out_w) fill(c->out_w, c->motor, 1.0);
    if (c->out_b) fill(c->out_b, c->motor, 0.0);
    if (c->lW_in) ns_cell_lstm_init(&r, c->lW_in, c->lb_in, c->lW_rec, M, N);
    apply_masks(c);
}

void ns_ltc_lstm(ns_ltc_cell *c, const double *u, const double *v_in, const double *c_in, double *v_out, double *c_out)
{
    ns_cell_lstm_step(c->lW_in, c->lb_in, c->lW_rec, c->M, c->N, u, v_in, c_in, c->work, v_out, c_out);
}

/* ---------------------------------------------------------------- dynamics */

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

void ns_ltc_drive(const ns_ltc_cell *c, const double *u, double *drive)
{
    size_t M = c->M, N = c->N;
    double *restrict num = drive, *restrict den = drive + N;
    for (size_t i = 0; i < N; i++) num[i] = den[i] = 0;
    for (size_t k = 0; k < M; k++) {
        double x = u[k];
        if (c->in_w) x *= c->in_w[k];
        if (c->in_b) x += c->in_b[k];
        const double *w = c->sw + k * N, *s = c->ssigma + k * N, *m = c->smu + k * N, *e = c->serev + k * N;
        for (size_t i = 0; i < N; i++) {
            double a = w[i] * sigmoid(s[i] * (x - m[i]));
            num[i] += a * e[i];
            den[i] += a;
        }
    }
}

void ns_ltc_rhs(const ns_ltc_cell *c, double t, const double *v, double *dvdt, const double *drive)
{
    (void)t;
    size_t N = c->N;
    const double *num = drive, *den = drive + N;
    for (size_t i = 0; i < N; i++) dvdt[i] = c->gleak[i] * (c->vleak[i] - v[i]) + num[i] - den[i] * v[i];
    for (size_t j = 0; j < N; j++) {
        const double *w = c->w + j * N, *s = c->sigma + j * N, *m = c->mu + j * N, *e = c->erev + j * N;
        double vj = v[j];
        for (size_t i = 0; i < N; i++) dvdt[i] += w[i] * sigmoid(s[i] * (vj - m[i])) * (e[i] - v[i]);
    }
    for (size_t i = 0; i < N; i++) dvdt[i] /= c->cm[i];
}

/* Column j of the Jacobian for post units [lo, hi), i != j: the presynaptic term into the column,
 * and the synapse's conductance out of each post unit's diagonal entry. */
static void jac_column(const ns_ltc_cell *c, const double *v, size_t j, size_t lo, size_t hi, double *jac)
{
    size_t N = c->N;
    const double *w = c->w + j * N, *s = c->sigma + j * N, *m = c->mu + j * N, *e = c->erev + j * N;
    double vj = v[j], *col = jac + j * N;
    for (size_t i = lo; i < hi; i++) {
        double g = sigmoid(s[i] * (vj - m[i]));
        col[i] = w[i] * g * (1.0 - g) * s[i] * (e[i] - v[i]);
        jac[i * N + i] -= w[i] * g;
    }
}

void ns_ltc_jac(const ns_ltc_cell *c, double t, const double *v, const double *drive, double *jac)
{
    (void)t;
    size_t N = c->N;
    /* the diagonal accumulates -(g_l + sensory + recurrent conductance) as the columns go by */
    for (size_t i = 0; i < N; i++) jac[i * N + i] = -(c->gleak[i] + drive[N + i]);
    for (size_t j = 0; j < N; j++) {
        jac_column(c, v, j, 0, j, jac);
        jac_column(c, v, j, j + 1, N, jac);
        size_t d = j * N + j;
        double g = sigmoid(c->sigma[d] * (v[j] - c->mu[d]));
        jac[d] += c->w[d] * g * (1.0 - g) * c->sigma[d] * (c->erev[d] - v[j]) - c->w[d] * g;
    }
    for (size_t j = 0; j < N; j++)
        for (size_t i = 0; i < N; i++) jac[j * N + i] /= c->cm[i];
}

int ns_ltc_fused(ns_ltc_cell *c, const double *u, const double *v_in, double delta, unsigned K, double *v_out)
{
    if (!(delta > 0) || !isfinite(delta)) return -1;
    if (K == 0) K = c->o.unfolds;
    size_t N = c->N;
    double *sens = c->work, *a = c->work + 2 * N, *b = c->work + 3 * N;
    ns_ltc_drive(c, u, sens);
    if (v_out != v_in) memcpy(v_out, v_in, N * sizeof *v_in);
    double dt = delta / K, eps = c->o.epsilon;
    for (unsigned step = 0; step < K; step++) {
        for (size_t i = 0; i < N; i++) a[i] = b[i] = 0;
        for (size_t j = 0; j < N; j++) {
            const double *w = c->w + j * N, *s = c->sigma + j * N, *m = c->mu + j * N, *e = c->erev + j * N;
            double vj = v_out[j];
            for (size_t i = 0; i < N; i++) {
                double g = w[i] * sigmoid(s[i] * (vj - m[i]));
                a[i] += g * e[i];
                b[i] += g;
            }
        }
        for (size_t i = 0; i < N; i++) {
            double cmt = c->cm[i] / dt;
            v_out[i] = (cmt * v_out[i] + c->gleak[i] * c->vleak[i] + a[i] + sens[i]) /
                       (cmt + c->gleak[i] + b[i] + sens[N + i] + eps);
        }
    }
    return 0;
}

void ns_ltc_output(const ns_ltc_cell *c, const double *v, double *y)
{
    for (size_t k = 0; k < c->motor; k++) {
        double x = v[k];
        if (c->out_w) x *= c->out_w[k];
        if (c->out_b) x += c->out_b[k];
        y[k] = x;
    }
}

/* ---------------------------------------------------------------- save and load */

int ns_ltc_save(const ns_ltc_cell *c, const char *path, char *err, size_t errlen)
{
    ns_cell_array arr[21];
    for (size_t i = 0; i < c->ntab; i++)
        arr[i] = (ns_cell_array){c->tab[i].name, c->tab[i].rows, c->tab[i].cols, *c->tab[i].slot};
    char keys[512];
    snprintf(keys, sizeof keys,
             "inputs=%zu units=%zu motor=%zu input_mapping=%s output_mapping=%s unfolds=%u epsilon=%.17g mixed_memory=%d",
             c->M, c->N, c->motor, map_name[c->o.input_mapping], map_name[c->o.output_mapping], c->o.unfolds,
             c->o.epsilon, c->o.mixed_memory);
    return ns_cell_file_write(path, "ltc", keys, arr, c->ntab, err, errlen);
}

ns_ltc_cell *ns_ltc_load(const char *path, char *err, size_t errlen)
{
    ns_cell_file *f = ns_cell_file_read(path, err, errlen);
    if (!f) return NULL;
    ns_ltc_cell *c = NULL;
    if (strcmp(ns_cell_file_kind(f), "ltc") != 0) {
        ns_errmsg(err, errlen, "%s: a %s cell file, not ltc", path, ns_cell_file_kind(f));
        goto fail;
    }
    ns_ltc_opts o;
    ns_ltc_opts_default(&o, 0, 0);
    size_t unfolds;
    int in_map, out_map;
    if (ns_cell_file_key_size(f, "inputs", &o.inputs, err, errlen) ||
        ns_cell_file_key_size(f, "units", &o.units, err, errlen) ||
        ns_cell_file_key_size(f, "motor", &o.motor, err, errlen) ||
        ns_cell_file_key_size(f, "unfolds", &unfolds, err, errlen) ||
        ns_cell_file_key_double(f, "epsilon", &o.epsilon, err, errlen) ||
        ns_cell_file_key_enum(f, "input_mapping", map_name, 3, &in_map, err, errlen) ||
        ns_cell_file_key_enum(f, "output_mapping", map_name, 3, &out_map, err, errlen))
        goto fail;
    o.input_mapping = (ns_ltc_mapping)in_map;
    o.output_mapping = (ns_ltc_mapping)out_map;
    if (unfolds > 1000000 || o.motor == 0) {
        ns_errmsg(err, errlen, "%s:1: header key '%s' out of range", path, o.motor == 0 ? "motor" : "unfolds");
        goto fail;
    }
    o.unfolds = (unsigned)unfolds;
    size_t mm = 0;
    if (ns_cell_file_key(f, "mixed_memory") && ns_cell_file_key_size(f, "mixed_memory", &mm, err, errlen)) goto fail;
    if (mm > 1) {
        ns_errmsg(err, errlen, "%s:1: header key 'mixed_memory' must be 0 or 1", path);
        goto fail;
    }
    o.mixed_memory = (int)mm;
    /* A big cell's largest arrays must be in the file before the cell takes memory for them (above
     * 2^20 values: a header alone is refused with the array's message, not allocated). */
    if (o.inputs <= NS_CELL_MAX_SIZE && o.units <= NS_CELL_MAX_SIZE &&
        (((double)o.units * (double)o.units > 1048576.0 && !ns_cell_file_array(f, "w", o.units, o.units, 1, err, errlen)) ||
         ((double)o.inputs * (double)o.units > 1048576.0 &&
          !ns_cell_file_array(f, "sensory_w", o.inputs, o.units, 1, err, errlen))))
        goto fail;
    if (!(c = ns_ltc_create(&o, err, errlen))) goto with_path;
    /* masks last, so that they hold the weights they cover at 0 */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < c->ntab; i++) {
            const entry *e = &c->tab[i];
            if ((e->constraint == MASK) != pass) continue;
            const double *v = ns_cell_file_array(f, e->name, e->rows, e->cols, 1, err, errlen);
            if (!v) goto fail;
            if (ns_ltc_set(c, e->name, v, e->rows * e->cols, err, errlen) != 0) goto with_path;
        }
    if (ns_cell_file_check_used(f, err, errlen) != 0) goto fail;
    ns_cell_file_free(f);
    return c;
with_path:
    ns_errmsg_prefix(err, errlen, path);
fail:
    ns_ltc_free(c);
    ns_cell_file_free(f);
    return NULL;
}
