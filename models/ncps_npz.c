/* models/ncps_npz.c — ncps state_dicts (.npz) to CfC / LTC cells and back: find the cell's prefix,
 * check every array's shape, scatter a wired CfC's per-layer blocks into the cell's one masked
 * matrix per head (and gather them back), apply or invert LTC's softplus. */
#include "models/ncps_npz.h"
#include "base/errmsg.h"
#include "models/npz.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double ns_softplus(double x) { return x > 20 ? x : log1p(exp(x)); }

/* softplus(20) exceeds 20 by 2.1e-9: above that a value is its own preimage */
double ns_softplus_inv(double y) { return y > 20 + 2.1e-9 ? y : log(expm1(y)); }

int ns_npz_path(const char *path)
{
    size_t n = strlen(path);
    if (n >= 4 && strcmp(path + n - 4, ".npz") == 0) return 1;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char b[4] = {0};
    size_t r = fread(b, 1, 4, f);
    fclose(f);
    return r == 4 && memcmp(b, "PK\3\4", 4) == 0;
}

/* ---------------------------------------------------------------- reading */

typedef struct {
    ns_npz *z;
    int owned; /* 1: z was read here and is freed by close_reader */
    char *used;
    const char *path;
    char cell[256];  /* prefix of the cell's arrays */
    char model[256]; /* prefix of lstm.* and fc.* */
} reader;

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0 && (a == b || s[a - b - 1] == '.');
}

/* Find the one array whose name ends with ".SUFFIX" (or is SUFFIX); set the prefixes from it. */
static int find_prefix(reader *r, const char *suffix, const char *what, char *err, size_t errlen)
{
    int found = 0;
    for (size_t i = 0; i < r->z->n; i++) {
        const char *name = r->z->a[i].name;
        if (!ends_with(name, suffix)) continue;
        size_t p = strlen(name) - strlen(suffix);
        if (found && (strlen(r->cell) != p || strncmp(r->cell, name, p) != 0))
            return ns_errmsg(err, errlen, "%s: two %s models in the file (%s and %.*s): save one model's state_dict",
                             r->path, what, r->cell, (int)p, name);
        if (p >= sizeof r->cell) return ns_errmsg(err, errlen, "%s: array name %s too long", r->path, name);
        memcpy(r->cell, name, p);
        r->cell[p] = '\0';
        found = 1;
    }
    if (!found) return ns_errmsg(err, errlen, "%s: no array named *%s: not an ncps %s state_dict", r->path, suffix, what);
    snprintf(r->model, sizeof r->model, "%s", r->cell);
    size_t n = strlen(r->model);
    if (n >= 9 && strcmp(r->model + n - 9, "rnn_cell.") == 0) r->model[n - 9] = '\0';
    return 0;
}

/* Array prefix+name, or NULL. */
static const ns_npz_array *lookup(const reader *r, const char *prefix, const char *name)
{
    char full[600];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return ns_npz_find(r->z, full);
}

/* The same, marked used (check_used). */
static const ns_npz_array *get(reader *r, const char *prefix, const char *name)
{
    const ns_npz_array *a = lookup(r, prefix, name);
    if (a) r->used[a - r->z->a] = 1;
    return a;
}

/* Array prefix+name checked to be rows x cols (rows 0: a vector of cols values, any shape of one
 * non-1 dimension); NULL with a message when absent (if required) or of another shape. */
static const double *arr(reader *r, const char *prefix, const char *name, size_t rows, size_t cols, int required,
                         char *err, size_t errlen)
{
    const ns_npz_array *a = get(r, prefix, name);
    if (!a) {
        if (required) ns_errmsg(err, errlen, "%s: no array %s%s", r->path, prefix, name);
        else if (err && errlen) err[0] = '\0';
        return NULL;
    }
    int ok;
    if (rows == 0) {
        size_t big = 0;
        for (size_t d = 0; d < a->ndim; d++) big += a->shape[d] != 1;
        ok = a->count == cols && big <= 1;
    } else {
        ok = a->ndim == 2 && a->shape[0] == rows && a->shape[1] == cols;
    }
    if (!ok) {
        char sh[96] = "";
        int n = 0;
        for (size_t d = 0; d < a->ndim && n < 80; d++) n += snprintf(sh + n, sizeof sh - (size_t)n, d ? " x %zu" : "%zu", a->shape[d]);
        if (rows) ns_errmsg(err, errlen, "%s: array %s is %s, not %zu x %zu", r->path, a->name, a->ndim ? sh : "a scalar", rows, cols);
        else ns_errmsg(err, errlen, "%s: array %s is %s, not %zu values", r->path, a->name, a->ndim ? sh : "a scalar", cols);
        return NULL;
    }
    return a->data;
}

/* A 2-D array's shape, or 0 when absent / not 2-D. */
static int shape2(reader *r, const char *prefix, const char *name, size_t *rows, size_t *cols)
{
    const ns_npz_array *a = lookup(r, prefix, name);
    if (!a || a->ndim != 2) return 0;
    *rows = a->shape[0];
    *cols = a->shape[1];
    return 1;
}

static int has(reader *r, const char *prefix, const char *name)
{
    return lookup(r, prefix, name) != NULL;
}

/* A reader over the arrays z (lent; z NULL: read from the file at path), where naming them in messages. */
static int open_reader(reader *r, const ns_npz *z, const char *path, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->z = (ns_npz *)z;
    if (!z && !(r->z = ns_npz_read(path, err, errlen))) return -1;
    r->owned = !z;
    if (!(r->used = calloc(r->z->n + 1, 1))) return ns_errmsg(err, errlen, "%s: out of memory", path);
    return 0;
}

static void close_reader(reader *r)
{
    if (r->owned) ns_npz_free(r->z);
    free(r->used);
}

/* Every array under the model's prefix was used, else -1 naming the first that was not. */
static int check_used(reader *r, char *err, size_t errlen)
{
    size_t p = strlen(r->model);
    for (size_t i = 0; i < r->z->n; i++)
        if (!r->used[i] && strncmp(r->z->a[i].name, r->model, p) == 0)
            return ns_errmsg(err, errlen, "%s: array %s is not part of an ncps model of this kind", r->path, r->z->a[i].name);
    return 0;
}

/* ---------------------------------------------------------------- CfC */

static const char *const heads[4] = {"ff1", "ff2", "time_a", "time_b"};

static int set_c(ns_cfc_cell *c, const char *name, const double *v, size_t n, const char *path, char *err, size_t errlen)
{
    if (ns_cfc_set(c, name, v, n, err, errlen) == 0) return 0;
    ns_errmsg_prefix(err, errlen, path);
    return -1;
}

/* The mixed-memory LSTM and the projection, beside the cell. */
static int cfc_extras_opts(reader *r, ns_cfc_opts *o, size_t R, char *err, size_t errlen)
{
    size_t a, b;
    o->mixed_memory = has(r, r->model, "lstm.input_map.weight");
    if (shape2(r, r->model, "fc.weight", &a, &b)) {
        if (b != R) return ns_errmsg(err, errlen, "%s: array %sfc.weight reads %zu values, the cell gives %zu", r->path, r->model, b, R);
        o->proj_size = a;
    }
    return 0;
}

static int cfc_extras_set(reader *r, ns_cfc_cell *c, size_t M, size_t N, char *err, size_t errlen)
{
    const ns_cfc_opts *o = ns_cfc_opts_of(c);
    if (o->mixed_memory) {
        const double *wi = arr(r, r->model, "lstm.input_map.weight", 4 * N, M, 1, err, errlen);
        const double *bi = wi ? arr(r, r->model, "lstm.input_map.bias", 0, 4 * N, 1, err, errlen) : NULL;
        const double *wr = bi ? arr(r, r->model, "lstm.recurrent_map.weight", 4 * N, N, 1, err, errlen) : NULL;
        if (!wr || set_c(c, "lstm.W_in", wi, 4 * N * M, r->path, err, errlen) ||
            set_c(c, "lstm.b_in", bi, 4 * N, r->path, err, errlen) ||
            set_c(c, "lstm.W_rec", wr, 4 * N * N, r->path, err, errlen))
            return -1;
    }
    if (o->proj_size) {
        size_t P = o->proj_size, R = ns_cfc_proj_inputs(c);
        const double *w = arr(r, r->model, "fc.weight", P, R, 1, err, errlen);
        const double *b = w ? arr(r, r->model, "fc.bias", 0, P, 1, err, errlen) : NULL;
        if (!b || set_c(c, "fc.W", w, P * R, r->path, err, errlen) || set_c(c, "fc.b", b, P, r->path, err, errlen))
            return -1;
    }
    return 0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* A dense (unwired) CfCCell: backbone.I, the heads, pure's w_tau and A, an optional sparsity mask. */
static ns_cfc_cell *cfc_dense(reader *r, ns_cfc_mode gated, ns_cfc_activation act, char *err, size_t errlen)
{
    ns_cfc_cell *c = NULL;
    size_t idx[64], nbb = 0, plen = strlen(r->cell);
    for (size_t i = 0; i < r->z->n; i++) { /* backbone Linear layers: PREFIX backbone.I.weight */
        const char *name = r->z->a[i].name;
        if (strncmp(name, r->cell, plen) != 0 || strncmp(name + plen, "backbone.", 9) != 0) continue;
        char *end;
        unsigned long v = strtoul(name + plen + 9, &end, 10);
        if (strcmp(end, ".weight") != 0) continue;
        if (nbb == 64) return ns_errmsg(err, errlen, "%s: more than 64 backbone layers", r->path), NULL;
        idx[nbb++] = v;
    }
    qsort(idx, nbb, sizeof *idx, cmp_size);
    size_t N, K, U = 0, M;
    if (!shape2(r, r->cell, "ff1.weight", &N, &K))
        return ns_errmsg(err, errlen, "%s: array %sff1.weight is not a matrix", r->path, r->cell), NULL;
    if (nbb) {
        size_t in;
        char name[64];
        snprintf(name, sizeof name, "backbone.%zu.weight", idx[0]);
        if (!shape2(r, r->cell, name, &U, &in) || in <= N)
            return ns_errmsg(err, errlen, "%s: array %s%s does not read the inputs and the %zu units", r->path, r->cell, name, N), NULL;
        M = in - N;
    } else {
        if (K <= N) return ns_errmsg(err, errlen, "%s: array %sff1.weight reads %zu values, no inputs beside the %zu units", r->path, r->cell, K, N), NULL;
        M = K - N;
    }
    ns_cfc_opts o;
    ns_cfc_opts_default(&o, M, N);
    int pure = has(r, r->cell, "w_tau") || has(r, r->cell, "A");
    o.mode = pure ? NS_CFC_PURE : gated;
    o.activation = act;
    o.backbone_layers = nbb;
    o.backbone_units = nbb ? U : 128;
    if (cfc_extras_opts(r, &o, N, err, errlen)) return NULL;
    if (!(c = ns_cfc_create(&o, err, errlen))) {
        ns_errmsg_prefix(err, errlen, r->path);
        return NULL;
    }
    for (size_t l = 0; l < nbb; l++) {
        char src[64], dst[32];
        size_t in = l ? U : M + N;
        snprintf(src, sizeof src, "backbone.%zu.weight", idx[l]);
        const double *w = arr(r, r->cell, src, U, in, 1, err, errlen);
        snprintf(dst, sizeof dst, "backbone%zu.W", l);
        if (!w || set_c(c, dst, w, U * in, r->path, err, errlen)) goto fail;
        snprintf(src, sizeof src, "backbone.%zu.bias", idx[l]);
        snprintf(dst, sizeof dst, "backbone%zu.b", l);
        if (!(w = arr(r, r->cell, src, 0, U, 1, err, errlen)) || set_c(c, dst, w, U, r->path, err, errlen)) goto fail;
    }
    size_t Kh = nbb ? U : M + N;
    for (int h = 0; h < (pure ? 1 : 4); h++) {
        char src[64], dst[32];
        snprintf(src, sizeof src, "%s.weight", heads[h]);
        const double *w = arr(r, r->cell, src, N, Kh, 1, err, errlen);
        snprintf(dst, sizeof dst, "%s.W", heads[h]);
        if (!w || set_c(c, dst, w, N * Kh, r->path, err, errlen)) goto fail;
        snprintf(src, sizeof src, "%s.bias", heads[h]);
        snprintf(dst, sizeof dst, "%s.b", heads[h]);
        if (!(w = arr(r, r->cell, src, 0, N, 1, err, errlen)) || set_c(c, dst, w, N, r->path, err, errlen)) goto fail;
    }
    if (pure) {
        const double *w = arr(r, r->cell, "w_tau", 0, N, 1, err, errlen);
        if (!w || set_c(c, "w_tau", w, N, r->path, err, errlen)) goto fail;
        if (!(w = arr(r, r->cell, "A", 0, N, 1, err, errlen)) || set_c(c, "A", w, N, r->path, err, errlen)) goto fail;
    }
    const double *m = arr(r, r->cell, "sparsity_mask", N, Kh, 0, err, errlen);
    if (!m && err && err[0]) goto fail;
    if (m && (set_c(c, "ff1.mask", m, N * Kh, r->path, err, errlen) ||
              (!pure && set_c(c, "ff2.mask", m, N * Kh, r->path, err, errlen))))
        goto fail;
    if (cfc_extras_set(r, c, M, N, err, errlen)) goto fail;
    return c;
fail:
    ns_cfc_free(c);
    return NULL;
}

/* ncps's WiredCfCCell: layers L = 0, 1, ... each a CfCCell reading [layer L-1's new h (the inputs
 * for L = 0) ; its own h], scattered into one N x (M + N) matrix per head, state in layer order. */
static ns_cfc_cell *cfc_wired(reader *r, ns_cfc_mode gated, char *err, size_t errlen)
{
    size_t n[64], in[64], L = 0, N = 0;
    for (;; L++) {
        char name[64];
        snprintf(name, sizeof name, "layer_%zu.ff1.weight", L);
        if (!has(r, r->cell, name)) break;
        if (L == 64) return ns_errmsg(err, errlen, "%s: more than 64 wired layers", r->path), NULL;
        size_t cols;
        if (!shape2(r, r->cell, name, &n[L], &cols) || cols <= n[L] || n[L] == 0)
            return ns_errmsg(err, errlen, "%s: array %s%s is not a layer's units x (inputs + units)", r->path, r->cell, name), NULL;
        in[L] = cols - n[L];
        if (L && in[L] != n[L - 1])
            return ns_errmsg(err, errlen, "%s: layer %zu reads %zu values, layer %zu has %zu units", r->path, L, in[L], L - 1, n[L - 1]), NULL;
        N += n[L];
    }
    size_t M = in[0], K = M + N;
    int pure = has(r, r->cell, "layer_0.w_tau");
    size_t groups[128], s0 = 0;
    for (size_t l = 0; l < L; l++) {
        groups[2 * l] = s0;
        groups[2 * l + 1] = n[l];
        s0 += n[l];
    }
    ns_cfc_opts o;
    ns_cfc_opts_default(&o, M, N);
    o.mode = pure ? NS_CFC_PURE : gated;
    o.backbone_layers = 0;
    o.n_groups = L;
    o.groups = groups;
    o.layered = 1;
    if (cfc_extras_opts(r, &o, n[L - 1], err, errlen)) return NULL;
    ns_cfc_cell *c = ns_cfc_create(&o, err, errlen);
    if (!c) {
        ns_errmsg_prefix(err, errlen, r->path);
        return NULL;
    }
    double *W = calloc(N * K, sizeof *W), *B = calloc(N, sizeof *B), *Mf = calloc(N * K, sizeof *Mf),
           *Mt = calloc(N * K, sizeof *Mt);
    if (!W || !B || !Mf || !Mt) {
        ns_errmsg(err, errlen, "%s: out of memory", r->path);
        goto fail;
    }
    /* column of layer l's input column q in the full matrix */
#define COL(l, q) ((q) < in[l] ? ((l) == 0 ? (q) : M + groups[2 * ((l) - 1)] + (q)) : M + groups[2 * (l)] + (q) - in[l])
    for (size_t l = 0; l < L; l++) { /* the masks: sparsity_mask for ff1 and ff2, the block for the time heads */
        char name[64];
        size_t cols = in[l] + n[l];
        snprintf(name, sizeof name, "layer_%zu.sparsity_mask", l);
        const double *m = arr(r, r->cell, name, n[l], cols, 0, err, errlen);
        if (!m && err && err[0]) goto fail;
        for (size_t i = 0; i < n[l]; i++)
            for (size_t q = 0; q < cols; q++) {
                size_t k = (groups[2 * l] + i) * K + COL(l, q);
                Mf[k] = m ? m[i * cols + q] : 1;
                Mt[k] = 1;
            }
    }
    for (int h = 0; h < (pure ? 1 : 4); h++) {
        memset(W, 0, N * K * sizeof *W);
        for (size_t l = 0; l < L; l++) {
            char name[64];
            size_t cols = in[l] + n[l];
            snprintf(name, sizeof name, "layer_%zu.%s.weight", l, heads[h]);
            const double *w = arr(r, r->cell, name, n[l], cols, 1, err, errlen);
            snprintf(name, sizeof name, "layer_%zu.%s.bias", l, heads[h]);
            const double *b = w ? arr(r, r->cell, name, 0, n[l], 1, err, errlen) : NULL;
            if (!b) goto fail;
            for (size_t i = 0; i < n[l]; i++) {
                B[groups[2 * l] + i] = b[i];
                for (size_t q = 0; q < cols; q++) W[(groups[2 * l] + i) * K + COL(l, q)] = w[i * cols + q];
            }
        }
        char dst[32];
        snprintf(dst, sizeof dst, "%s.mask", heads[h]);
        if (set_c(c, dst, h < 2 ? Mf : Mt, N * K, r->path, err, errlen)) goto fail;
        snprintf(dst, sizeof dst, "%s.W", heads[h]);
        if (set_c(c, dst, W, N * K, r->path, err, errlen)) goto fail;
        snprintf(dst, sizeof dst, "%s.b", heads[h]);
        if (set_c(c, dst, B, N, r->path, err, errlen)) goto fail;
    }
#undef COL
    if (pure) {
        const char *nm[2] = {"w_tau", "A"};
        for (int k = 0; k < 2; k++) {
            for (size_t l = 0; l < L; l++) {
                char name[64];
                snprintf(name, sizeof name, "layer_%zu.%s", l, nm[k]);
                const double *v = arr(r, r->cell, name, 0, n[l], 1, err, errlen);
                if (!v) goto fail;
                memcpy(B + groups[2 * l], v, n[l] * sizeof *v);
            }
            if (set_c(c, nm[k], B, N, r->path, err, errlen)) goto fail;
        }
    }
    if (cfc_extras_set(r, c, M, N, err, errlen)) goto fail;
    free(W);
    free(B);
    free(Mf);
    free(Mt);
    return c;
fail:
    free(W);
    free(B);
    free(Mf);
    free(Mt);
    ns_cfc_free(c);
    return NULL;
}

ns_cfc_cell *ns_cfc_import_npz(const char *path, ns_cfc_mode gated_mode, ns_cfc_activation activation, char *err,
                               size_t errlen)
{
    return ns_cfc_import_arrays(NULL, path, gated_mode, activation, err, errlen);
}

ns_cfc_cell *ns_cfc_import_arrays(const ns_npz *z, const char *path, ns_cfc_mode gated_mode, ns_cfc_activation activation,
                                  char *err, size_t errlen)
{
    reader r;
    ns_cfc_cell *c = NULL;
    if (open_reader(&r, z, path, err, errlen)) goto done;
    if (gated_mode == NS_CFC_PURE) gated_mode = NS_CFC_DEFAULT;
    int wired = 0;
    for (size_t i = 0; i < r.z->n && !wired; i++) wired = ends_with(r.z->a[i].name, "layer_0.ff1.weight");
    if (find_prefix(&r, wired ? "layer_0.ff1.weight" : "ff1.weight", "CfC", err, errlen)) goto done;
    c = wired ? cfc_wired(&r, gated_mode, err, errlen) : cfc_dense(&r, gated_mode, activation, err, errlen);
    if (c && check_used(&r, err, errlen)) {
        ns_cfc_free(c);
        c = NULL;
    }
done:
    close_reader(&r);
    return c;
}

/* ---------------------------------------------------------------- writing */

typedef struct {
    ns_npz_array *a;
    size_t n, cap;
    int oom;
} writer;

/* Add an array (data copied) of ndim 1 (cols values) or 2 (rows x cols). */
static void put(writer *w, const char *name, size_t ndim, size_t rows, size_t cols, const double *data)
{
    if (w->oom) return;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 32;
        ns_npz_array *a = realloc(w->a, cap * sizeof *a);
        if (!a) {
            w->oom = 1;
            return;
        }
        w->a = a;
        w->cap = cap;
    }
    ns_npz_array *a = &w->a[w->n];
    memset(a, 0, sizeof *a);
    a->ndim = ndim;
    a->shape[0] = ndim == 1 ? cols : rows;
    a->shape[1] = cols;
    a->count = ndim == 1 ? cols : rows * cols;
    a->name = strdup(name);
    a->data = malloc((a->count ? a->count : 1) * sizeof *a->data);
    if (!a->name || !a->data) {
        free(a->name);
        free(a->data);
        w->oom = 1;
        return;
    }
    memcpy(a->data, data, a->count * sizeof *data);
    w->n++;
}

static void drop(writer *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->a[i].name);
        free(w->a[i].data);
    }
    free(w->a);
    memset(w, 0, sizeof *w);
}

static int finish(writer *w, const char *path, char *err, size_t errlen)
{
    int rc = w->oom ? ns_errmsg(err, errlen, "%s: out of memory", path) : ns_npz_write(path, w->a, w->n, err, errlen);
    drop(w);
    return rc;
}

static void put_extras_cfc(writer *w, const ns_cfc_cell *c)
{
    const ns_cfc_opts *o = ns_cfc_opts_of(c);
    size_t M = o->inputs, N = o->units;
    if (o->mixed_memory) {
        put(w, "lstm.input_map.weight", 2, 4 * N, M, ns_cfc_get(c, "lstm.W_in", NULL));
        put(w, "lstm.input_map.bias", 1, 1, 4 * N, ns_cfc_get(c, "lstm.b_in", NULL));
        put(w, "lstm.recurrent_map.weight", 2, 4 * N, N, ns_cfc_get(c, "lstm.W_rec", NULL));
    }
    if (o->proj_size) {
        put(w, "fc.weight", 2, o->proj_size, ns_cfc_proj_inputs(c), ns_cfc_get(c, "fc.W", NULL));
        put(w, "fc.bias", 1, 1, o->proj_size, ns_cfc_get(c, "fc.b", NULL));
    }
}

int ns_cfc_export_npz(const ns_cfc_cell *c, const char *path, char *err, size_t errlen)
{
    const ns_cfc_opts *o = ns_cfc_opts_of(c);
    size_t M = o->inputs, N = o->units, nh = o->mode == NS_CFC_PURE ? 1 : 4;
    writer w = {0};
    char name[96];
    int grouped = o->n_groups > 0 && o->layered;
    if (o->n_groups > 0 && !grouped) grouped = 0; /* groups updated at once: a plain cell */
    if (grouped) {
        /* ncps's layers are contiguous in state order, each reading the one before it */
        size_t K = M + N, L = o->n_groups, s0 = 0;
        const size_t *g = o->groups;
        for (size_t l = 0; l < L; l++, s0 += g[2 * l - 1])
            if (g[2 * l] != s0)
                return ns_errmsg(err, errlen, "%s: group %zu does not follow the one before it in the state: ncps's "
                                 "wired CfC cannot hold this cell", path, l);
        for (size_t l = 0; l < L; l++) {
            size_t f = g[2 * l], nl = g[2 * l + 1], in = l ? g[2 * l - 1] : M, cols = in + nl;
            size_t c0 = l ? M + g[2 * l - 2] : 0; /* first column of its input block */
            double *W = malloc(nl * cols * sizeof *W), *m = malloc(nl * cols * sizeof *m);
            if (!W || !m) {
                free(W);
                free(m);
                w.oom = 1;
                break;
            }
            const double *mask = ns_cfc_get(c, "ff1.mask", NULL);
            for (size_t h = 0; h < nh; h++) {
                char hn[32];
                snprintf(hn, sizeof hn, "%s.W", heads[h]);
                const double *Wf = ns_cfc_get(c, hn, NULL);
                for (size_t i = 0; i < nl; i++)
                    for (size_t k = 0; k < K; k++) {
                        size_t col = k;
                        int in_block = (k >= c0 && k < c0 + in) || (k >= M + f && k < M + f + nl);
                        double v = Wf[(f + i) * K + col];
                        size_t q = k >= M + f && k < M + f + nl ? in + (k - M - f) : k - c0;
                        if (!in_block) {
                            if (v != 0) {
                                free(W);
                                free(m);
                                drop(&w);
                                return ns_errmsg(err, errlen, "%s: unit %zu's %s reads outside its layer's inputs: ncps's wired "
                                                 "CfC cannot hold this cell", path, f + i, heads[h]);
                            }
                            continue;
                        }
                        double mk = mask ? mask[(f + i) * K + col] : 1;
                        if (h == 1 && mk == 0 && v != 0) { /* ff2 must fit under ff1's mask */
                            free(W);
                            free(m);
                            drop(&w);
                            return ns_errmsg(err, errlen, "%s: ff2 has a weight where ff1's mask is 0: ncps's one "
                                             "sparsity mask cannot hold this cell", path);
                        }
                        W[i * cols + q] = v;
                        if (h == 0) m[i * cols + q] = mk;
                    }
                snprintf(name, sizeof name, "rnn_cell.layer_%zu.%s.weight", l, heads[h]);
                put(&w, name, 2, nl, cols, W);
                snprintf(hn, sizeof hn, "%s.b", heads[h]);
                snprintf(name, sizeof name, "rnn_cell.layer_%zu.%s.bias", l, heads[h]);
                put(&w, name, 1, 1, nl, ns_cfc_get(c, hn, NULL) + f);
            }
            snprintf(name, sizeof name, "rnn_cell.layer_%zu.sparsity_mask", l);
            put(&w, name, 2, nl, cols, m);
            if (o->mode == NS_CFC_PURE) {
                snprintf(name, sizeof name, "rnn_cell.layer_%zu.w_tau", l);
                put(&w, name, 2, 1, nl, ns_cfc_get(c, "w_tau", NULL) + f);
                snprintf(name, sizeof name, "rnn_cell.layer_%zu.A", l);
                put(&w, name, 2, 1, nl, ns_cfc_get(c, "A", NULL) + f);
            }
            free(W);
            free(m);
        }
    } else {
        size_t U = o->backbone_units, K = o->backbone_layers ? U : M + N;
        for (size_t l = 0; l < o->backbone_layers; l++) { /* nn.Sequential: Linear at 0, 2, 4, ... */
            char src[32];
            snprintf(src, sizeof src, "backbone%zu.W", l);
            snprintf(name, sizeof name, "rnn_cell.backbone.%zu.weight", 2 * l);
            put(&w, name, 2, U, l ? U : M + N, ns_cfc_get(c, src, NULL));
            snprintf(src, sizeof src, "backbone%zu.b", l);
            snprintf(name, sizeof name, "rnn_cell.backbone.%zu.bias", 2 * l);
            put(&w, name, 1, 1, U, ns_cfc_get(c, src, NULL));
        }
        for (size_t h = 0; h < nh; h++) {
            char src[32];
            snprintf(src, sizeof src, "%s.W", heads[h]);
            snprintf(name, sizeof name, "rnn_cell.%s.weight", heads[h]);
            put(&w, name, 2, N, K, ns_cfc_get(c, src, NULL));
            snprintf(src, sizeof src, "%s.b", heads[h]);
            snprintf(name, sizeof name, "rnn_cell.%s.bias", heads[h]);
            put(&w, name, 1, 1, N, ns_cfc_get(c, src, NULL));
        }
        if (o->mode == NS_CFC_PURE) {
            put(&w, "rnn_cell.w_tau", 2, 1, N, ns_cfc_get(c, "w_tau", NULL));
            put(&w, "rnn_cell.A", 2, 1, N, ns_cfc_get(c, "A", NULL));
        }
    }
    put_extras_cfc(&w, c);
    return finish(&w, path, err, errlen);
}

/* ---------------------------------------------------------------- LTC */

static const char *const ltc_pos[4] = {"gleak", "cm", "w", "sensory_w"}; /* under softplus when implicit */

static int is_pos(const char *name)
{
    for (int k = 0; k < 4; k++)
        if (strcmp(name, ltc_pos[k]) == 0) return 1;
    return 0;
}

ns_ltc_cell *ns_ltc_import_npz(const char *path, int implicit, unsigned unfolds, double epsilon, char *err,
                               size_t errlen)
{
    return ns_ltc_import_arrays(NULL, path, implicit, unfolds, epsilon, err, errlen);
}

ns_ltc_cell *ns_ltc_import_arrays(const ns_npz *z, const char *path, int implicit, unsigned unfolds, double epsilon,
                                  char *err, size_t errlen)
{
    reader r;
    ns_ltc_cell *c = NULL;
    double *tmp = NULL;
    if (open_reader(&r, z, path, err, errlen) || find_prefix(&r, "gleak", "LTC", err, errlen)) goto fail;
    size_t M, N, x;
    if (!shape2(&r, r.cell, "sensory_w", &M, &N) || !shape2(&r, r.cell, "w", &x, &x) || x != N) {
        ns_errmsg(err, errlen, "%s: arrays %ssensory_w (inputs x units) and %sw (units x units) are missing or do not agree",
                  path, r.cell, r.cell);
        goto fail;
    }
    ns_ltc_opts o;
    ns_ltc_opts_default(&o, M, N);
    o.unfolds = unfolds;
    o.epsilon = epsilon;
    o.input_mapping = has(&r, r.cell, "input_b") ? NS_LTC_MAP_AFFINE : has(&r, r.cell, "input_w") ? NS_LTC_MAP_LINEAR : NS_LTC_MAP_NONE;
    o.output_mapping = has(&r, r.cell, "output_b") ? NS_LTC_MAP_AFFINE : has(&r, r.cell, "output_w") ? NS_LTC_MAP_LINEAR : NS_LTC_MAP_NONE;
    char full[600];
    snprintf(full, sizeof full, "%soutput_w", r.cell);
    const ns_npz_array *ow = ns_npz_find(r.z, full);
    o.motor = ow ? ow->count : N;
    o.mixed_memory = has(&r, r.model, "lstm.input_map.weight");
    if (!(c = ns_ltc_create(&o, err, errlen))) {
        ns_errmsg_prefix(err, errlen, path);
        goto fail;
    }
    static const struct {
        const char *src, *dst;
        int shape; /* 0 vector of N, 1 N x N, 2 M x N, 3 vector of M, 4 vector of motor */
        int optional;
    } map[] = {{"gleak", "gleak", 0, 0}, {"vleak", "vleak", 0, 0}, {"cm", "cm", 0, 0}, {"w", "w", 1, 0},
               {"sigma", "sigma", 1, 0}, {"mu", "mu", 1, 0}, {"erev", "erev", 1, 0}, {"sensory_w", "sensory_w", 2, 0},
               {"sensory_sigma", "sensory_sigma", 2, 0}, {"sensory_mu", "sensory_mu", 2, 0},
               {"sensory_erev", "sensory_erev", 2, 0}, {"sparsity_mask", "mask", 1, 1},
               {"sensory_sparsity_mask", "sensory_mask", 2, 1}, {"input_w", "input_w", 3, 1},
               {"input_b", "input_b", 3, 1}, {"output_w", "output_w", 4, 1}, {"output_b", "output_b", 4, 1}};
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
        size_t rows = map[k].shape == 1 ? N : map[k].shape == 2 ? M : 0;
        size_t cols = map[k].shape == 3 ? M : map[k].shape == 4 ? o.motor : N;
        const double *v = arr(&r, r.cell, map[k].src, rows, cols, !map[k].optional, err, errlen);
        if (!v) {
            if (err && err[0]) goto fail;
            continue;
        }
        size_t n = (rows ? rows : 1) * cols;
        free(tmp);
        if (!(tmp = malloc(n * sizeof *tmp))) {
            ns_errmsg(err, errlen, "%s: out of memory", path);
            goto fail;
        }
        /* a weight under a mask's 0 does nothing in ncps, whatever its raw value: 0 here */
        const char *mname = strcmp(map[k].src, "w") == 0 ? "sparsity_mask" : strcmp(map[k].src, "sensory_w") == 0 ? "sensory_sparsity_mask" : NULL;
        snprintf(full, sizeof full, "%s%s", r.cell, mname ? mname : "");
        const ns_npz_array *ma = mname ? ns_npz_find(r.z, full) : NULL;
        for (size_t q = 0; q < n; q++) {
            tmp[q] = implicit && is_pos(map[k].src) ? ns_softplus(v[q]) : v[q];
            if (ma && ma->count == n && ma->data[q] == 0) tmp[q] = 0;
        }
        if (ns_ltc_set(c, map[k].dst, tmp, n, err, errlen) != 0) {
            char what[700];
            snprintf(what, sizeof what, "%s: array %s%s%s", path, r.cell, map[k].src,
                     implicit ? "" : " (ncps without implicit_param_constraints clips it at 0)");
            ns_errmsg_prefix(err, errlen, what);
            goto fail;
        }
    }
    if (o.mixed_memory) {
        const double *wi = arr(&r, r.model, "lstm.input_map.weight", 4 * N, M, 1, err, errlen);
        const double *bi = wi ? arr(&r, r.model, "lstm.input_map.bias", 0, 4 * N, 1, err, errlen) : NULL;
        const double *wr = bi ? arr(&r, r.model, "lstm.recurrent_map.weight", 4 * N, N, 1, err, errlen) : NULL;
        if (!wr || ns_ltc_set(c, "lstm.W_in", wi, 4 * N * M, err, errlen) || ns_ltc_set(c, "lstm.b_in", bi, 4 * N, err, errlen) ||
            ns_ltc_set(c, "lstm.W_rec", wr, 4 * N * N, err, errlen))
            goto fail;
    }
    if (check_used(&r, err, errlen)) goto fail;
    free(tmp);
    close_reader(&r);
    return c;
fail:
    free(tmp);
    ns_ltc_free(c);
    close_reader(&r);
    return NULL;
}

int ns_ltc_export_npz(const ns_ltc_cell *c, const char *path, int implicit, char *err, size_t errlen)
{
    const ns_ltc_opts *o = ns_ltc_opts_of(c);
    size_t M = o->inputs, N = o->units, P = o->motor;
    static const struct {
        const char *src, *dst;
        int shape;
    } map[] = {{"gleak", "gleak", 0}, {"vleak", "vleak", 0}, {"cm", "cm", 0}, {"sigma", "sigma", 1}, {"mu", "mu", 1},
               {"w", "w", 1}, {"erev", "erev", 1}, {"sensory_sigma", "sensory_sigma", 2}, {"sensory_mu", "sensory_mu", 2},
               {"sensory_w", "sensory_w", 2}, {"sensory_erev", "sensory_erev", 2}, {"mask", "sparsity_mask", 1},
               {"sensory_mask", "sensory_sparsity_mask", 2}, {"input_w", "input_w", 3}, {"input_b", "input_b", 3},
               {"output_w", "output_w", 4}, {"output_b", "output_b", 4}};
    writer w = {0};
    double *tmp = NULL;
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
        size_t n;
        const double *v = ns_ltc_get(c, map[k].src, &n);
        if (!v) continue;
        double *t = realloc(tmp, n * sizeof *t);
        if (!t) {
            w.oom = 1;
            break;
        }
        tmp = t;
        const double *mask = strcmp(map[k].src, "w") == 0 ? ns_ltc_get(c, "mask", NULL)
                           : strcmp(map[k].src, "sensory_w") == 0 ? ns_ltc_get(c, "sensory_mask", NULL) : NULL;
        for (size_t q = 0; q < n; q++) {
            tmp[q] = v[q];
            if (!implicit || !is_pos(map[k].src)) continue;
            if (mask && mask[q] == 0) {
                tmp[q] = 0; /* any raw value: the mask multiplies it out */
            } else if (!(v[q] > 0)) {
                free(tmp);
                drop(&w);
                return ns_errmsg(err, errlen, "%s: %s value %zu is %g: softplus (implicit constraints) cannot give it; "
                                 "write it with implicit_constraints 0", path, map[k].src, q, v[q]);
            } else {
                tmp[q] = ns_softplus_inv(v[q]);
            }
        }
        char name[64];
        snprintf(name, sizeof name, "rnn_cell.%s", map[k].dst);
        size_t cols = map[k].shape == 3 ? M : map[k].shape == 4 ? P : N;
        put(&w, name, map[k].shape == 1 || map[k].shape == 2 ? 2 : 1, map[k].shape == 1 ? N : M, cols, tmp);
    }
    free(tmp);
    if (o->mixed_memory) {
        put(&w, "lstm.input_map.weight", 2, 4 * N, M, ns_ltc_get(c, "lstm.W_in", NULL));
        put(&w, "lstm.input_map.bias", 1, 1, 4 * N, ns_ltc_get(c, "lstm.b_in", NULL));
        put(&w, "lstm.recurrent_map.weight", 2, 4 * N, N, ns_ltc_get(c, "lstm.W_rec", NULL));
    }
    return finish(&w, path, err, errlen);
}
