/* models/cfc_cell.c — CfC cell mathematics over float64 arrays: backbone, the four heads, the
 * three modes, the mixed-memory LSTM, NCP masks and layered groups, init, save and load.
 * Every array is an entry of one table (name, shape, storage), which drives set, get, save and
 * load alike; the step itself walks plain row-major matrices, one dot product per unit row. */
#include "models/cfc_cell.h"
#include "base/errmsg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


enum { FF1, FF2, TA, TB, NHEAD };
static const char *const head_name[NHEAD] = {"ff1", "ff2", "time_a", "time_b"};
static const char *const mode_name[] = {"default", "no_gate", "pure"};
static const char *const act_name[] = {"lecun_tanh", "tanh", "relu", "silu", "gelu"};

typedef struct {
    char name[32];
    size_t rows, cols;
    double **slot; /* where the storage pointer lives (masks: NULL until set) */
    int mask_of;   /* head index for a mask, -1 otherwise */
} entry;

struct ns_cfc_cell {
    ns_cfc_opts o;
    size_t M, N, K, U, nbb, nhead;
    size_t *groups; /* 2 * n_groups, owned */
    double **bbW, **bbb;
    double *W[NHEAD], *b[NHEAD], *mask[NHEAD];
    double *A, *wtau;
    double *lW_in, *lb_in, *lW_rec;
    double *fcW, *fcb; /* proj_size x proj_in, proj_size */
    size_t proj_in;    /* the units the projection reads: the last group's, else all */
    entry *tab;
    size_t ntab;
    double *x, *za, *zb, *gates; /* scratch: M + N, U, U, 4N */
};

void ns_cfc_opts_default(ns_cfc_opts *o, size_t inputs, size_t units)
{
    memset(o, 0, sizeof *o);
    o->inputs = inputs;
    o->units = units;
    o->mode = NS_CFC_DEFAULT;
    o->backbone_layers = 1;
    o->backbone_units = 128;
    o->activation = NS_CFC_LECUN_TANH;
    o->layered = 1;
}

void ns_cfc_free(ns_cfc_cell *c)
{
    if (!c) return;
    for (size_t l = 0; l < c->nbb; l++) {
        if (c->bbW) free(c->bbW[l]);
        if (c->bbb) free(c->bbb[l]);
    }
    free(c->bbW);
    free(c->bbb);
    for (int h = 0; h < NHEAD; h++) {
        free(c->W[h]);
        free(c->b[h]);
        free(c->mask[h]);
    }
    free(c->A);
    free(c->wtau);
    free(c->lW_in);
    free(c->lb_in);
    free(c->lW_rec);
    free(c->fcW);
    free(c->fcb);
    free(c->tab);
    free(c->groups);
    free(c->x);
    free(c->za);
    free(c->zb);
    free(c->gates);
    free(c);
}

const ns_cfc_opts *ns_cfc_opts_of(const ns_cfc_cell *c) { return &c->o; }

static void add_entry(ns_cfc_cell *c, const char *name, size_t rows, size_t cols, double **slot, int mask_of)
{
    entry *e = &c->tab[c->ntab++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->rows = rows;
    e->cols = cols;
    e->slot = slot;
    e->mask_of = mask_of;
}

static double *zalloc(size_t n) { return calloc(n ? n : 1, sizeof(double)); }

/* Layers of a wiring in ncps's order (inter, command, motor; or all units for a full wiring):
 * first wiring id and count. Returns the number of layers. */
static size_t wiring_layers(const ns_ncp_wiring *w, size_t first[3], size_t count[3])
{
    if (w->inter == 0 || w->command == 0) {
        first[0] = 0;
        count[0] = w->units;
        return 1;
    }
    first[0] = w->motor + w->command;
    count[0] = w->inter;
    first[1] = w->motor;
    count[1] = w->command;
    first[2] = 0;
    count[2] = w->motor;
    return 3;
}

/* Masks and groups from a wiring, in the state order of the layers (see the header). */
static int apply_wiring(ns_cfc_cell *c, const ns_ncp_wiring *w)
{
    size_t first[3], count[3], nl = wiring_layers(w, first, count);
    size_t M = c->M, N = c->N, K = c->K;
    c->groups = malloc(2 * nl * sizeof *c->groups);
    if (!c->groups) return -1;
    for (int h = 0; h < NHEAD; h++)
        if (!(c->mask[h] = zalloc(N * K))) return -1;
    size_t s0 = 0, prev0 = 0;
    for (size_t l = 0; l < nl; l++) {
        c->groups[2 * l] = s0;
        c->groups[2 * l + 1] = count[l];
        for (size_t a = 0; a < count[l]; a++) {
            size_t s = s0 + a, id = first[l] + a;
            for (int h = 0; h < NHEAD; h++) {
                double *row = c->mask[h] + s * K;
                for (size_t q = 0; q < count[l]; q++) row[M + s0 + q] = 1; /* own layer, dense */
                if (l == 0) {
                    for (size_t k = 0; k < M; k++)
                        row[k] = (h >= TA || w->sensory[k * N + id] != 0) ? 1 : 0;
                } else {
                    for (size_t q = 0; q < count[l - 1]; q++) {
                        size_t jd = first[l - 1] + q;
                        row[M + prev0 + q] = (h >= TA || w->adj[jd * N + id] != 0) ? 1 : 0;
                    }
                }
            }
        }
        prev0 = s0;
        s0 += count[l];
    }
    c->o.n_groups = nl;
    return 0;
}

static int check_groups(const size_t *g, size_t ng, size_t N, char *err, size_t errlen)
{
    char *seen = calloc(N, 1);
    if (!seen) return -1;
    for (size_t q = 0; q < ng; q++) {
        if (g[2 * q + 1] == 0 || g[2 * q] >= N || g[2 * q + 1] > N - g[2 * q]) {
            ns_errmsg(err, errlen, "CfC: group %zu (first %zu, count %zu) is empty or outside the %zu units", q,
                    g[2 * q], g[2 * q + 1], N);
            free(seen);
            return -1;
        }
        for (size_t i = g[2 * q]; i < g[2 * q] + g[2 * q + 1]; i++) {
            if (seen[i]) {
                ns_errmsg(err, errlen, "CfC: unit %zu is in two groups", i);
                free(seen);
                return -1;
            }
            seen[i] = 1;
        }
    }
    for (size_t i = 0; i < N; i++)
        if (!seen[i]) {
            ns_errmsg(err, errlen, "CfC: unit %zu is in no group (groups must cover all units)", i);
            free(seen);
            return -1;
        }
    free(seen);
    return 0;
}

ns_cfc_cell *ns_cfc_create(const ns_cfc_opts *o, char *err, size_t errlen)
{
    if (!o) {
        ns_errmsg(err, errlen, "CfC: no options given");
        return NULL;
    }
    ns_cfc_opts op = *o;
    const ns_ncp_wiring *w = op.wiring;
    if (w && op.units == 0) op.units = w->units;
    if (ns_cell_check_size("CfC", "inputs", op.inputs, err, errlen) ||
        ns_cell_check_size("CfC", "units", op.units, err, errlen))
        return NULL;
    if ((unsigned)op.mode > NS_CFC_PURE) {
        ns_errmsg(err, errlen, "CfC: unknown mode %d", (int)op.mode);
        return NULL;
    }
    if ((unsigned)op.activation > NS_CFC_GELU) {
        ns_errmsg(err, errlen, "CfC: unknown activation %d", (int)op.activation);
        return NULL;
    }
    if (op.backbone_layers > 0 && (op.backbone_units == 0 || op.backbone_units > NS_CELL_MAX_SIZE)) {
        ns_errmsg(err, errlen, "CfC: backbone_units is %zu with %zu backbone layers (must be 1 .. %zu)",
                op.backbone_units, op.backbone_layers, NS_CELL_MAX_SIZE);
        return NULL;
    }
    if (op.backbone_layers > 64) {
        ns_errmsg(err, errlen, "CfC: backbone_layers %zu is more than 64", op.backbone_layers);
        return NULL;
    }
    if (w) {
        if (op.backbone_layers > 0) {
            ns_errmsg(err, errlen, "CfC: a wiring needs 0 backbone layers (ncps's wired cell has none)");
            return NULL;
        }
        if (w->units != op.units || w->inputs != op.inputs || !w->sensory || !w->adj) {
            ns_errmsg(err, errlen, "CfC: the wiring is for %zu inputs and %zu units, the cell has %zu and %zu",
                    w->inputs, w->units, op.inputs, op.units);
            return NULL;
        }
        if (op.n_groups) {
            ns_errmsg(err, errlen, "CfC: give a wiring or explicit groups, not both");
            return NULL;
        }
    }
    if (op.n_groups) {
        if (!op.groups) {
            ns_errmsg(err, errlen, "CfC: n_groups is %zu but no groups array given", op.n_groups);
            return NULL;
        }
        if (check_groups(op.groups, op.n_groups, op.units, err, errlen) != 0) return NULL;
    }
    if (op.proj_size > NS_CELL_MAX_SIZE) {
        ns_errmsg(err, errlen, "CfC: proj_size %zu is more than %zu", op.proj_size, NS_CELL_MAX_SIZE);
        return NULL;
    }
    if (op.layered && op.backbone_layers > 0 && (w || op.n_groups)) {
        ns_errmsg(err, errlen, "CfC: layered groups need 0 backbone layers");
        return NULL;
    }

    ns_cfc_cell *c = calloc(1, sizeof *c);
    if (!c) goto oom;
    c->o = op;
    c->o.wiring = NULL;
    c->o.groups = NULL;
    c->o.layered = op.layered ? 1 : 0;
    c->o.mixed_memory = op.mixed_memory ? 1 : 0;
    size_t M = op.inputs, N = op.units;
    c->M = M;
    c->N = N;
    c->nbb = op.backbone_layers;
    c->U = c->nbb ? op.backbone_units : 0;
    c->K = c->nbb ? c->U : M + N;
    c->nhead = op.mode == NS_CFC_PURE ? 1 : NHEAD;
    size_t K = c->K, U = c->U;

    c->tab = calloc(2 * c->nbb + 2 * NHEAD + NHEAD + 7, sizeof *c->tab);
    c->x = zalloc(M + N);
    c->za = zalloc(U);
    c->zb = zalloc(U);
    c->gates = zalloc(4 * N);
    c->bbW = calloc(c->nbb ? c->nbb : 1, sizeof *c->bbW);
    c->bbb = calloc(c->nbb ? c->nbb : 1, sizeof *c->bbb);
    if (!c->tab || !c->x || !c->za || !c->zb || !c->gates || !c->bbW || !c->bbb) goto oom;
    char name[32];
    for (size_t l = 0; l < c->nbb; l++) {
        size_t in = l == 0 ? M + N : U;
        if (!(c->bbW[l] = zalloc(U * in)) || !(c->bbb[l] = zalloc(U))) goto oom;
        snprintf(name, sizeof name, "backbone%zu.W", l);
        add_entry(c, name, U, in, &c->bbW[l], -1);
        snprintf(name, sizeof name, "backbone%zu.b", l);
        add_entry(c, name, 1, U, &c->bbb[l], -1);
    }
    for (size_t h = 0; h < c->nhead; h++) {
        if (!(c->W[h] = zalloc(N * K)) || !(c->b[h] = zalloc(N))) goto oom;
        snprintf(name, sizeof name, "%s.W", head_name[h]);
        add_entry(c, name, N, K, &c->W[h], -1);
        snprintf(name, sizeof name, "%s.b", head_name[h]);
        add_entry(c, name, 1, N, &c->b[h], -1);
    }
    if (op.mode == NS_CFC_PURE) {
        if (!(c->A = zalloc(N)) || !(c->wtau = zalloc(N))) goto oom;
        add_entry(c, "A", 1, N, &c->A, -1);
        add_entry(c, "w_tau", 1, N, &c->wtau, -1);
    }
    if (c->o.mixed_memory) {
        if (!(c->lW_in = zalloc(4 * N * M)) || !(c->lb_in = zalloc(4 * N)) || !(c->lW_rec = zalloc(4 * N * N)))
            goto oom;
        add_entry(c, "lstm.W_in", 4 * N, M, &c->lW_in, -1);
        add_entry(c, "lstm.b_in", 1, 4 * N, &c->lb_in, -1);
        add_entry(c, "lstm.W_rec", 4 * N, N, &c->lW_rec, -1);
    }
    for (size_t h = 0; h < c->nhead; h++) {
        snprintf(name, sizeof name, "%s.mask", head_name[h]);
        add_entry(c, name, N, K, &c->mask[h], (int)h);
    }
    if (w) {
        if (apply_wiring(c, w) != 0) goto oom;
        for (size_t h = c->nhead; h < NHEAD; h++) { /* pure mode: only ff1 has weights */
            free(c->mask[h]);
            c->mask[h] = NULL;
        }
    } else if (op.n_groups) {
        if (!(c->groups = malloc(2 * op.n_groups * sizeof *c->groups))) goto oom;
        memcpy(c->groups, op.groups, 2 * op.n_groups * sizeof *c->groups);
    }
    c->o.groups = c->groups;
    c->proj_in = c->o.n_groups ? c->groups[2 * c->o.n_groups - 1] : N;
    if (op.proj_size) {
        if (!(c->fcW = zalloc(op.proj_size * c->proj_in)) || !(c->fcb = zalloc(op.proj_size))) goto oom;
        add_entry(c, "fc.W", op.proj_size, c->proj_in, &c->fcW, -1);
        add_entry(c, "fc.b", 1, op.proj_size, &c->fcb, -1);
    }
    return c;
oom:
    ns_errmsg(err, errlen, "CfC: out of memory");
    ns_cfc_free(c);
    return NULL;
}

/* ---------------------------------------------------------------- weights */

static entry *find(const ns_cfc_cell *c, const char *name)
{
    for (size_t i = 0; i < c->ntab; i++)
        if (strcmp(c->tab[i].name, name) == 0) return &c->tab[i];
    return NULL;
}

static void apply_mask(ns_cfc_cell *c, int h)
{
    if (!c->mask[h]) return;
    for (size_t k = 0; k < c->N * c->K; k++)
        if (c->mask[h][k] == 0) c->W[h][k] = 0;
}

int ns_cfc_set(ns_cfc_cell *c, const char *name, const double *values, size_t count, char *err, size_t errlen)
{
    entry *e = name ? find(c, name) : NULL;
    if (!e) {
        ns_errmsg(err, errlen, "CfC: no array '%s' in this cell (mode %s%s)", name ? name : "(null)",
                mode_name[c->o.mode], c->o.mixed_memory ? ", mixed memory" : "");
        return -1;
    }
    size_t n = e->rows * e->cols;
    if (count != n || !values) {
        ns_errmsg(err, errlen, "CfC: array '%s' takes %zu values (%zu x %zu), got %zu", name, n, e->rows, e->cols, count);
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        if (!isfinite(values[k])) {
            ns_errmsg(err, errlen, "CfC: array '%s' value %zu is not finite", name, k);
            return -1;
        }
        if (e->mask_of >= 0 && values[k] != 0 && values[k] != 1) {
            ns_errmsg(err, errlen, "CfC: mask '%s' value %zu is %g, not 0 or 1", name, k, values[k]);
            return -1;
        }
    }
    if (!*e->slot && !(*e->slot = zalloc(n))) {
        ns_errmsg(err, errlen, "CfC: out of memory");
        return -1;
    }
    memcpy(*e->slot, values, n * sizeof *values);
    if (e->mask_of >= 0) apply_mask(c, e->mask_of);
    for (int h = 0; h < NHEAD; h++)
        if (e->slot == &c->W[h]) apply_mask(c, h);
    return 0;
}

const double *ns_cfc_get(const ns_cfc_cell *c, const char *name, size_t *count)
{
    entry *e = name ? find(c, name) : NULL;
    if (!e || !*e->slot) return NULL;
    if (count) *count = e->rows * e->cols;
    return *e->slot;
}

/* ---------------------------------------------------------------- init */

static void fill_uniform(ns_xoshiro *r, double *a, size_t n, double bound)
{
    for (size_t k = 0; k < n; k++) a[k] = ns_xoshiro_range(r, -bound, bound);
}

static double xavier(size_t fan_in, size_t fan_out) { return sqrt(6.0 / (double)(fan_in + fan_out)); }

void ns_cfc_init(ns_cfc_cell *c, uint64_t seed)
{
    ns_xoshiro r;
    ns_xoshiro_seed(&r, seed);
    size_t M = c->M, N = c->N, K = c->K, U = c->U;
    for (size_t l = 0; l < c->nbb; l++) {
        size_t in = l == 0 ? M + N : U;
        fill_uniform(&r, c->bbW[l], U * in, xavier(in, U));
        fill_uniform(&r, c->bbb[l], U, 1.0 / sqrt((double)in));
    }
    int any_mask = 0;
    for (size_t h = 0; h < c->nhead; h++) any_mask |= c->mask[h] != NULL;
    size_t one[2] = {0, N};
    size_t ng = c->o.n_groups ? c->o.n_groups : 1;
    const size_t *g = c->o.n_groups ? c->groups : one;
    for (size_t q = 0; q < ng; q++) {
        size_t f = g[2 * q], cnt = g[2 * q + 1], fan_in = 0;
        for (size_t k = 0; k < K; k++) { /* a column counts if any head's mask row uses it */
            int used = !any_mask;
            for (size_t h = 0; h < c->nhead; h++)
                for (size_t i = f; i < f + cnt && c->mask[h] && !used; i++) used = c->mask[h][i * K + k] != 0;
            fan_in += (size_t)used;
        }
        if (fan_in == 0) fan_in = 1;
        for (size_t h = 0; h < c->nhead; h++) {
            fill_uniform(&r, c->W[h] + f * K, cnt * K, xavier(fan_in, cnt));
            fill_uniform(&r, c->b[h] + f, cnt, 1.0 / sqrt((double)fan_in));
        }
        if (c->A) { /* ncps's init_weights passes every 2-D parameter, A and w_tau too, to Xavier */
            fill_uniform(&r, c->A + f, cnt, xavier(cnt, 1));
            fill_uniform(&r, c->wtau + f, cnt, xavier(cnt, 1));
        }
    }
    for (int h = 0; h < NHEAD; h++) apply_mask(c, h);
    if (c->o.mixed_memory) {
        ns_cell_lstm_init(&r, c->lW_in, c->lb_in, c->lW_rec, M, N);
    }
    if (c->fcW) { /* PyTorch's Linear default: U(+-1/sqrt(fan_in)) for weights and bias */
        fill_uniform(&r, c->fcW, c->o.proj_size * c->proj_in, 1.0 / sqrt((double)c->proj_in));
        fill_uniform(&r, c->fcb, c->o.proj_size, 1.0 / sqrt((double)c->proj_in));
    }
}

/* ---------------------------------------------------------------- step */

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static double dot(const double *restrict w, const double *restrict z, size_t n)
{
    double s = 0;
    for (size_t k = 0; k < n; k++) s += w[k] * z[k];
    return s;
}

/* y[U] = act(W x + b) for a U x n matrix. */
static void dense_act(ns_cfc_activation act, const double *W, const double *b, const double *x, size_t n, size_t U,
                      double *restrict y)
{
    for (size_t i = 0; i < U; i++) y[i] = b[i] + dot(W + i * n, x, n);
    switch (act) {
    case NS_CFC_LECUN_TANH:
        for (size_t i = 0; i < U; i++) y[i] = 1.7159 * tanh(0.666 * y[i]);
        break;
    case NS_CFC_TANH:
        for (size_t i = 0; i < U; i++) y[i] = tanh(y[i]);
        break;
    case NS_CFC_RELU:
        for (size_t i = 0; i < U; i++) y[i] = y[i] > 0 ? y[i] : 0;
        break;
    case NS_CFC_SILU:
        for (size_t i = 0; i < U; i++) y[i] = y[i] * sigmoid(y[i]);
        break;
    case NS_CFC_GELU:
        for (size_t i = 0; i < U; i++) y[i] = 0.5 * y[i] * (1.0 + erf(y[i] * M_SQRT1_2));
        break;
    }
}

/* Units [lo, hi) from head input z[K]. */
static void unit_rows(const ns_cfc_cell *c, const double *z, size_t lo, size_t hi, double t, double *h_out)
{
    size_t K = c->K;
    const double *W1 = c->W[FF1], *b1 = c->b[FF1];
    if (c->o.mode == NS_CFC_PURE) {
        for (size_t i = lo; i < hi; i++) {
            double f = b1[i] + dot(W1 + i * K, z, K);
            h_out[i] = -c->A[i] * exp(-t * (fabs(c->wtau[i]) + fabs(f))) * f + c->A[i];
        }
        return;
    }
    const double *W2 = c->W[FF2], *b2 = c->b[FF2], *Wa = c->W[TA], *ba = c->b[TA], *Wb = c->W[TB], *bb = c->b[TB];
    int gate = c->o.mode == NS_CFC_DEFAULT;
    for (size_t i = lo; i < hi; i++) {
        double f1 = tanh(b1[i] + dot(W1 + i * K, z, K));
        double f2 = tanh(b2[i] + dot(W2 + i * K, z, K));
        double ta = ba[i] + dot(Wa + i * K, z, K), tb = bb[i] + dot(Wb + i * K, z, K);
        double g = sigmoid(ta * t + tb);
        h_out[i] = gate ? f1 * (1.0 - g) + g * f2 : f1 + g * f2;
    }
}

void ns_cfc_step(ns_cfc_cell *c, const double *u, const double *h_in, const double *c_in, double t,
                 double *h_out, double *c_out)
{
    size_t M = c->M, N = c->N;
    double *x = c->x, *xh = c->x + M;
    memcpy(x, u, M * sizeof *u);
    if (c->o.mixed_memory) {
        ns_cell_lstm_step(c->lW_in, c->lb_in, c->lW_rec, M, N, u, h_in, c_in, c->gates, xh, c_out);
    } else {
        memcpy(xh, h_in, N * sizeof *h_in);
    }
    const double *z = x;
    if (c->nbb) {
        double *a = c->za, *b = c->zb;
        dense_act(c->o.activation, c->bbW[0], c->bbb[0], x, M + N, c->U, a);
        for (size_t l = 1; l < c->nbb; l++) {
            dense_act(c->o.activation, c->bbW[l], c->bbb[l], a, c->U, c->U, b);
            double *s = a;
            a = b;
            b = s;
        }
        z = a;
    }
    if (c->o.layered && c->o.n_groups) {
        for (size_t q = 0; q < c->o.n_groups; q++) {
            size_t f = c->groups[2 * q], cnt = c->groups[2 * q + 1];
            unit_rows(c, z, f, f + cnt, t, h_out);
            memcpy(xh + f, h_out + f, cnt * sizeof *h_out); /* later groups read the new h */
        }
    } else {
        unit_rows(c, z, 0, N, t, h_out);
    }
}

void ns_cfc_project(const ns_cfc_cell *c, const double *h, double *y)
{
    const double *x = h + (c->N - c->proj_in);
    for (size_t p = 0; p < c->o.proj_size; p++) y[p] = c->fcb[p] + dot(c->fcW + p * c->proj_in, x, c->proj_in);
}

size_t ns_cfc_proj_inputs(const ns_cfc_cell *c) { return c->proj_in; }

/* ---------------------------------------------------------------- save and load */

int ns_cfc_save(const ns_cfc_cell *c, const char *path, char *err, size_t errlen)
{
    ns_cell_array arr[2 * 64 + 32];
    size_t n = 0;
    for (size_t i = 0; i < c->ntab; i++)
        if (*c->tab[i].slot)
            arr[n++] = (ns_cell_array){c->tab[i].name, c->tab[i].rows, c->tab[i].cols, *c->tab[i].slot};
    double *g = NULL;
    if (c->o.n_groups) {
        if (!(g = malloc(2 * c->o.n_groups * sizeof *g))) {
            ns_errmsg(err, errlen, "CfC: out of memory");
            return -1;
        }
        for (size_t k = 0; k < 2 * c->o.n_groups; k++) g[k] = (double)c->groups[k];
        arr[n++] = (ns_cell_array){"groups", c->o.n_groups, 2, g};
    }
    char keys[512];
    snprintf(keys, sizeof keys,
             "inputs=%zu units=%zu mode=%s backbone_layers=%zu backbone_units=%zu activation=%s mixed_memory=%d "
             "groups=%zu layered=%d proj_size=%zu",
             c->M, c->N, mode_name[c->o.mode], c->nbb, c->U, act_name[c->o.activation], c->o.mixed_memory,
             c->o.n_groups, c->o.layered, c->o.proj_size);
    int rc = ns_cell_file_write(path, "cfc", keys, arr, n, err, errlen);
    free(g);
    return rc;
}

/* Values (2^20: 8 MB) above which an array's presence is checked before the cell is made. */
#define BIG_ARRAY 1048576.0

ns_cfc_cell *ns_cfc_load(const char *path, char *err, size_t errlen)
{
    ns_cell_file *f = ns_cell_file_read(path, err, errlen);
    if (!f) return NULL;
    ns_cfc_cell *c = NULL;
    size_t *groups = NULL;
    if (strcmp(ns_cell_file_kind(f), "cfc") != 0) {
        ns_errmsg(err, errlen, "%s: a %s cell file, not cfc", path, ns_cell_file_kind(f));
        goto fail;
    }
    ns_cfc_opts o;
    memset(&o, 0, sizeof o);
    size_t mm = 0, layered = 0;
    int mode, act;
    if (ns_cell_file_key_size(f, "inputs", &o.inputs, err, errlen) ||
        ns_cell_file_key_size(f, "units", &o.units, err, errlen) ||
        ns_cell_file_key_size(f, "backbone_layers", &o.backbone_layers, err, errlen) ||
        ns_cell_file_key_size(f, "backbone_units", &o.backbone_units, err, errlen) ||
        ns_cell_file_key_size(f, "mixed_memory", &mm, err, errlen) ||
        ns_cell_file_key_size(f, "groups", &o.n_groups, err, errlen) ||
        ns_cell_file_key_size(f, "layered", &layered, err, errlen) ||
        ns_cell_file_key_enum(f, "mode", mode_name, 3, &mode, err, errlen) ||
        ns_cell_file_key_enum(f, "activation", act_name, 5, &act, err, errlen))
        goto fail;
    if (mm > 1 || layered > 1) {
        ns_errmsg(err, errlen, "%s: header key '%s' must be 0 or 1", path, mm > 1 ? "mixed_memory" : "layered");
        goto fail;
    }
    o.mode = (ns_cfc_mode)mode;
    o.activation = (ns_cfc_activation)act;
    o.mixed_memory = (int)mm;
    o.layered = (int)layered;
    if (ns_cell_file_key(f, "proj_size") && ns_cell_file_key_size(f, "proj_size", &o.proj_size, err, errlen)) goto fail;
    if (o.proj_size > NS_CELL_MAX_SIZE) {
        ns_errmsg(err, errlen, "%s: header key 'proj_size' is too large", path);
        goto fail;
    }
    if (o.n_groups) {
        if (o.n_groups > NS_CELL_MAX_SIZE) {
            ns_errmsg(err, errlen, "%s: header key 'groups' is too large", path);
            goto fail;
        }
        const double *g = ns_cell_file_array(f, "groups", o.n_groups, 2, 1, err, errlen);
        if (!g || !(groups = malloc(2 * o.n_groups * sizeof *groups))) goto fail;
        for (size_t k = 0; k < 2 * o.n_groups; k++) {
            if (g[k] < 0 || g[k] > (double)NS_CELL_MAX_SIZE || g[k] != floor(g[k])) {
                ns_errmsg(err, errlen, "%s: array 'groups' value %zu (%g) is not a unit index", path, k, g[k]);
                goto fail;
            }
            groups[k] = (size_t)g[k];
        }
        o.groups = groups;
    }
    /* A big cell's largest arrays must be in the file before the cell takes memory for them: a
     * header alone (sizes without the values) is refused with the array's message, not allocated. */
    const size_t U = o.backbone_units, MN = o.inputs + o.units, K = o.backbone_layers ? U : MN;
    const size_t P_in = o.n_groups ? groups[2 * o.n_groups - 1] : o.units;
    char bb[32];
    snprintf(bb, sizeof bb, "backbone%zu.W", o.backbone_layers ? o.backbone_layers - 1 : 0);
    if (o.inputs <= NS_CELL_MAX_SIZE && o.units <= NS_CELL_MAX_SIZE && U <= NS_CELL_MAX_SIZE &&
        o.backbone_layers <= 64 &&
        ((o.backbone_layers && (double)U * (double)(o.backbone_layers > 1 ? U : MN) > BIG_ARRAY &&
          !ns_cell_file_array(f, bb, U, o.backbone_layers > 1 ? U : MN, 1, err, errlen)) ||
         ((double)o.units * (double)K > BIG_ARRAY && !ns_cell_file_array(f, "ff1.W", o.units, K, 1, err, errlen)) ||
         ((double)o.proj_size * (double)P_in > BIG_ARRAY &&
          !ns_cell_file_array(f, "fc.W", o.proj_size, P_in, 1, err, errlen))))
        goto fail;
    if (!(c = ns_cfc_create(&o, err, errlen))) goto with_path;
    for (size_t i = 0; i < c->ntab; i++) {
        entry *e = &c->tab[i];
        if (e->mask_of >= 0 && !ns_cell_file_has(f, e->name)) continue; /* masks are optional */
        const double *v = ns_cell_file_array(f, e->name, e->rows, e->cols, 1, err, errlen);
        if (!v) goto fail;
        if (ns_cfc_set(c, e->name, v, e->rows * e->cols, err, errlen) != 0) goto with_path;
    }
    if (ns_cell_file_check_used(f, err, errlen) != 0) goto fail;
    free(groups);
    ns_cell_file_free(f);
    return c;
with_path:
    ns_errmsg_prefix(err, errlen, path);
fail:
    free(groups);
    ns_cfc_free(c);
    ns_cell_file_free(f);
    return NULL;
}
