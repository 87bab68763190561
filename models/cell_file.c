/* models/cell_file.c — the weights file reader and writer and the NCP
 * wiring generator shared by the CfC and LTC cells. The reader takes the whole file in, checks it
 * completely, and only then hands arrays out, so a cell never sees half a file. */
#include "models/cell_file.h"
#include "base/files.h"
#include "base/errmsg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- writer */

int ns_cell_file_write(const char *path, const char *kind, const char *keys, const ns_cell_array *arrays,
                       size_t n, char *err, size_t errlen)
{
    if (!path || !kind) {
        ns_errmsg(err, errlen, "cell file: no path or kind given");
        return -1;
    }
    for (size_t a = 0; a < n; a++) {
        size_t cnt = arrays[a].rows * arrays[a].cols;
        for (size_t k = 0; k < cnt; k++)
            if (!isfinite(arrays[a].data[k])) {
                ns_errmsg(err, errlen, "%s: array '%s' has a non-finite value at %zu", path, arrays[a].name, k);
                return -1;
            }
    }
    char tmp[4200];
    FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, errlen);
    if (!fp) return -1;
    int bad = fprintf(fp, "nsim-cell 1 %s%s%s\n", kind, keys && *keys ? " " : "", keys ? keys : "") < 0;
    for (size_t a = 0; a < n && !bad; a++) {
        const ns_cell_array *x = &arrays[a];
        bad |= fprintf(fp, "%s %zu %zu\n", x->name, x->rows, x->cols) < 0;
        for (size_t r = 0; r < x->rows && !bad; r++) {
            for (size_t c = 0; c < x->cols; c++)
                bad |= fprintf(fp, c ? " %.17g" : "%.17g", x->data[r * x->cols + c]) < 0;
            bad |= fputc('\n', fp) == EOF;
        }
    }
    if (!bad) bad = fprintf(fp, "end\n") < 0;
    /* a failed fprintf has set the stream's error flag: finish then removes tmp */
    return ns_file_finish(fp, tmp, path, err, errlen);
}

/* ---------------------------------------------------------------- reader */

typedef struct {
    char *name;
    size_t rows, cols;
    double *data;
    int used;
} file_array;

struct ns_cell_file {
    char *path;
    char *kind;
    size_t nkeys;
    char **key, **val;
    size_t narr, cap;
    file_array *arr;
};

void ns_cell_file_free(ns_cell_file *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->nkeys; i++) {
        free(f->key[i]);
        free(f->val[i]);
    }
    for (size_t i = 0; i < f->narr; i++) {
        free(f->arr[i].name);
        free(f->arr[i].data);
    }
    free(f->key);
    free(f->val);
    free(f->arr);
    free(f->kind);
    free(f->path);
    free(f);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* A cursor over the file text that knows its line. */
typedef struct {
    const char *p;
    size_t line;
} cursor;

/* Next whitespace-separated token, skipping '#' comments; length 0 at the end of the text. */
static size_t next_token(cursor *c, const char **tok)
{
    for (;;) {
        while (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n') {
            if (*c->p == '\n') c->line++;
            c->p++;
        }
        if (*c->p != '#') break;
        while (*c->p && *c->p != '\n') c->p++;
    }
    *tok = c->p;
    while (*c->p && *c->p != ' ' && *c->p != '\t' && *c->p != '\r' && *c->p != '\n') c->p++;
    return (size_t)(c->p - *tok);
}

static int parse_size(const char *s, size_t n, size_t *out)
{
    if (n == 0 || n > 12) return -1;
    size_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static char *slurp(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        ns_errmsg(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len - 1, fp);
        len += got;
        if (len + 1 < cap) break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int rerr = ferror(fp);
    fclose(fp);
    if (!buf || rerr) {
        ns_errmsg(err, errlen, "%s: %s", path, buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[len] = 0;
    if (strlen(buf) != len) {
        ns_errmsg(err, errlen, "%s: not a text file (contains a NUL byte)", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* Parse the header line: "nsim-cell 1 KIND key=value ...". */
static int parse_header(ns_cell_file *f, const char *text, const char **rest, char *err, size_t errlen)
{
    const char *eol = strchr(text, '\n');
    if (!eol) eol = text + strlen(text);
    *rest = eol;
    char *line = dup_n(text, (size_t)(eol - text));
    if (!line) {
        ns_errmsg(err, errlen, "%s: out of memory", f->path);
        return -1;
    }
    size_t ntok = 0;
    int rc = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t && !rc; t = strtok_r(NULL, " \t\r", &save)) {
        if (ntok == 0 && strcmp(t, "nsim-cell") != 0) {
            ns_errmsg(err, errlen, "%s:1: not an nsim cell file (the first word is '%s', want 'nsim-cell')", f->path, t);
            rc = -1;
        } else if (ntok == 1 && strcmp(t, "1") != 0) {
            ns_errmsg(err, errlen, "%s:1: unsupported cell file version '%s' (this build reads 1)", f->path, t);
            rc = -1;
        } else if (ntok == 2) {
            if (!(f->kind = strdup(t))) rc = -1;
        } else if (ntok > 2) {
            char *eq = strchr(t, '=');
            if (!eq || eq == t || !eq[1]) {
                ns_errmsg(err, errlen, "%s:1: header item '%s' is not key=value", f->path, t);
                rc = -1;
                break;
            }
            for (size_t i = 0; i < f->nkeys; i++)
                if (strncmp(f->key[i], t, (size_t)(eq - t)) == 0 && f->key[i][eq - t] == 0) {
                    ns_errmsg(err, errlen, "%s:1: header key '%s' given twice", f->path, f->key[i]);
                    rc = -1;
                }
            if (rc) break;
            char **nk = realloc(f->key, (f->nkeys + 1) * sizeof *nk);
            if (nk) f->key = nk;
            char **nv = realloc(f->val, (f->nkeys + 1) * sizeof *nv);
            if (nv) f->val = nv;
            if (!nk || !nv) {
                rc = -1;
                break;
            }
            f->key[f->nkeys] = dup_n(t, (size_t)(eq - t));
            f->val[f->nkeys] = strdup(eq + 1);
            f->nkeys++;
            if (!f->key[f->nkeys - 1] || !f->val[f->nkeys - 1]) rc = -1;
        }
        ntok++;
    }
    free(line);
    if (!rc && ntok < 3) {
        ns_errmsg(err, errlen, "%s:1: header line must read 'nsim-cell 1 KIND key=value ...'", f->path);
        rc = -1;
    }
    if (rc && err && errlen && !err[0]) ns_errmsg(err, errlen, "%s: out of memory", f->path);
    return rc;
}

ns_cell_file *ns_cell_file_read(const char *path, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    if (!path) {
        ns_errmsg(err, errlen, "cell file: no path given");
        return NULL;
    }
    char *text = slurp(path, err, errlen);
    if (!text) return NULL;
    ns_cell_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        ns_errmsg(err, errlen, "%s: out of memory", path);
        free(f);
        free(text);
        return NULL;
    }
    cursor c = {text, 1};
    const char *const text_end = text + strlen(text);
    if (parse_header(f, text, &c.p, err, errlen) != 0) goto fail;
    for (;;) {
        const char *tok;
        size_t n = next_token(&c, &tok);
        if (n == 0) {
            ns_errmsg(err, errlen, "%s:%zu: file ends without 'end' (truncated?)", path, c.line);
            goto fail;
        }
        if (n == 3 && memcmp(tok, "end", 3) == 0) break;
        size_t line = c.line;
        file_array a = {0};
        if (!(a.name = dup_n(tok, n))) goto oom;
        const char *t1, *t2;
        size_t n1 = next_token(&c, &t1), n2 = next_token(&c, &t2);
        if (parse_size(t1, n1, &a.rows) || parse_size(t2, n2, &a.cols) || c.line != line) {
            ns_errmsg(err, errlen, "%s:%zu: array '%s' must be followed by ROWS COLS on its line", path, line, a.name);
            free(a.name);
            goto fail;
        }
        for (size_t i = 0; i < f->narr; i++)
            if (strcmp(f->arr[i].name, a.name) == 0) {
                ns_errmsg(err, errlen, "%s:%zu: array '%s' given twice", path, line, a.name);
                free(a.name);
                goto fail;
            }
        size_t cnt = a.rows * a.cols;
        if (a.rows && cnt / a.rows != a.cols) {
            ns_errmsg(err, errlen, "%s:%zu: array '%s' is too large", path, line, a.name);
            free(a.name);
            goto fail;
        }
        /* each value takes a character and a separator: memory only for what the file can hold */
        if (cnt > (size_t)(text_end - c.p) / 2) {
            ns_errmsg(err, errlen, "%s:%zu: array '%s' declares %zu x %zu values, more than the rest of the file holds",
                      path, line, a.name, a.rows, a.cols);
            free(a.name);
            goto fail;
        }
        if (f->narr == f->cap) {
            size_t ncap = f->cap ? 2 * f->cap : 16;
            file_array *na = realloc(f->arr, ncap * sizeof *na);
            if (!na) {
                free(a.name);
                goto oom;
            }
            f->arr = na;
            f->cap = ncap;
        }
        a.data = malloc((cnt ? cnt : 1) * sizeof *a.data);
        f->arr[f->narr++] = a; /* owned by f from here on */
        if (!a.data) goto oom;
        for (size_t k = 0; k < cnt; k++) {
            size_t m = next_token(&c, &tok);
            char num[64];
            if (m == 0 || m >= sizeof num) {
                ns_errmsg(err, errlen, "%s:%zu: array '%s' has %zu of its %zu values", path, c.line, a.name, k, cnt);
                goto fail;
            }
            memcpy(num, tok, m);
            num[m] = 0;
            char *end;
            double v = strtod(num, &end);
            if (*end) {
                ns_errmsg(err, errlen, "%s:%zu: array '%s': '%s' is not a number", path, c.line, a.name, num);
                goto fail;
            }
            if (!isfinite(v)) {
                ns_errmsg(err, errlen, "%s:%zu: array '%s': non-finite value '%s'", path, c.line, a.name, num);
                goto fail;
            }
            a.data[k] = v;
        }
    }
    const char *tok;
    if (next_token(&c, &tok) != 0) {
        ns_errmsg(err, errlen, "%s:%zu: text after 'end'", path, c.line);
        goto fail;
    }
    free(text);
    return f;
oom:
    ns_errmsg(err, errlen, "%s: out of memory", path);
fail:
    free(text);
    ns_cell_file_free(f);
    return NULL;
}

const char *ns_cell_file_kind(const ns_cell_file *f) { return f->kind; }

const char *ns_cell_file_key(const ns_cell_file *f, const char *key)
{
    for (size_t i = 0; i < f->nkeys; i++)
        if (strcmp(f->key[i], key) == 0) return f->val[i];
    return NULL;
}

/* Header key KEY's value, or NULL with a message when the header has none. */
static const char *need_key(const ns_cell_file *f, const char *key, char *err, size_t errlen)
{
    const char *v = ns_cell_file_key(f, key);
    if (!v) ns_errmsg(err, errlen, "%s:1: header key '%s' missing", f->path, key);
    return v;
}

int ns_cell_file_key_size(const ns_cell_file *f, const char *key, size_t *out, char *err, size_t errlen)
{
    const char *v = need_key(f, key, err, errlen);
    if (!v) return -1;
    if (parse_size(v, strlen(v), out) != 0) {
        ns_errmsg(err, errlen, "%s:1: header key '%s=%s' is not a non-negative integer", f->path, key, v);
        return -1;
    }
    return 0;
}

int ns_cell_file_key_enum(const ns_cell_file *f, const char *key, const char *const *names, int n, int *out,
                          char *err, size_t errlen)
{
    const char *v = need_key(f, key, err, errlen);
    if (!v) return -1;
    char list[256] = "";
    for (int i = 0; i < n; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return 0;
        }
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
    }
    return ns_errmsg(err, errlen, "%s:1: unknown %s '%s' (%s)", f->path, key, v, list);
}

int ns_cell_file_key_double(const ns_cell_file *f, const char *key, double *out, char *err, size_t errlen)
{
    const char *v = need_key(f, key, err, errlen);
    if (!v) return -1;
    char *end;
    double x = strtod(v, &end);
    if (*end || end == v || !isfinite(x)) {
        ns_errmsg(err, errlen, "%s:1: header key '%s=%s' is not a finite number", f->path, key, v);
        return -1;
    }
    *out = x;
    return 0;
}

int ns_cell_file_has(const ns_cell_file *f, const char *name)
{
    for (size_t i = 0; i < f->narr; i++)
        if (strcmp(f->arr[i].name, name) == 0) return 1;
    return 0;
}

const double *ns_cell_file_array(ns_cell_file *f, const char *name, size_t rows, size_t cols, int required,
                                 char *err, size_t errlen)
{
    for (size_t i = 0; i < f->narr; i++) {
        file_array *a = &f->arr[i];
        if (strcmp(a->name, name) != 0) continue;
        a->used = 1;
        if (a->rows != rows || a->cols != cols) {
            ns_errmsg(err, errlen, "%s: array '%s' is %zu x %zu, want %zu x %zu", f->path, name, a->rows, a->cols,
                    rows, cols);
            return NULL;
        }
        return a->data;
    }
    if (required) ns_errmsg(err, errlen, "%s: array '%s' missing", f->path, name);
    return NULL;
}

int ns_cell_file_check_used(const ns_cell_file *f, char *err, size_t errlen)
{
    for (size_t i = 0; i < f->narr; i++)
        if (!f->arr[i].used) {
            ns_errmsg(err, errlen, "%s: unknown array '%s' for a %s cell with these options", f->path,
                    f->arr[i].name, f->kind);
            return -1;
        }
    return 0;
}

int ns_cell_check_size(const char *who, const char *what, size_t v, char *err, size_t errlen)
{
    if (v >= 1 && v <= NS_CELL_MAX_SIZE) return 0;
    return ns_errmsg(err, errlen, "%s: %s is %zu (must be 1 .. %zu)", who, what, v, NS_CELL_MAX_SIZE);
}

/* ---------------------------------------------------------------- NCP wiring */

void ns_ncp_wiring_release(ns_ncp_wiring *w)
{
    if (!w) return;
    free(w->sensory);
    free(w->adj);
    w->sensory = w->adj = NULL;
}

static int wiring_alloc(ns_ncp_wiring *w, size_t inputs, size_t units, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    if (inputs == 0 || units == 0) {
        ns_errmsg(err, errlen, "wiring: %s is 0", inputs == 0 ? "inputs" : "units");
        return -1;
    }
    w->inputs = inputs;
    w->units = units;
    w->sensory = calloc(inputs * units, 1);
    w->adj = calloc(units * units, 1);
    if (!w->sensory || !w->adj) {
        ns_ncp_wiring_release(w);
        ns_errmsg(err, errlen, "wiring: out of memory");
        return -1;
    }
    return 0;
}

static int8_t coin(ns_xoshiro *r) { return ns_xoshiro_below(r, 2) ? 1 : -1; }

/* k distinct values of ids[0..n) in random order (partial Fisher-Yates on a scratch copy). */
static void choose(ns_xoshiro *r, const size_t *ids, size_t n, size_t k, size_t *scratch, size_t *out)
{
    memcpy(scratch, ids, n * sizeof *ids);
    for (size_t i = 0; i < k; i++) {
        size_t j = i + ns_xoshiro_below(r, n - i), t = scratch[i];
        scratch[i] = scratch[j];
        scratch[j] = t;
        out[i] = scratch[i];
    }
}

static size_t clampz(size_t v, size_t lo, size_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* One layer's synapses, in ncps's draw order: each unit of `from` picks k distinct units of `to`,
 * then each unit of `to` that none picked picks `fan` units of `from`; every pair gets a random
 * polarity. The synapse of a pair (a of from, b of to) is a -> b in mat (row = pre, units
 * columns), or b -> a when reverse is set (ncps's command -> motor, drawn by motor fan-in). */
static void link_layer(ns_xoshiro *r, int8_t *mat, size_t units, const size_t *from, size_t nfrom, const size_t *to,
                       size_t nto, size_t k, size_t fan, int reverse, char *reached, size_t *scratch, size_t *pick)
{
    memset(reached, 0, units);
    for (size_t q0 = 0; q0 < nfrom; q0++) {
        choose(r, to, nto, k, scratch, pick);
        for (size_t q = 0; q < k; q++) {
            reached[pick[q]] = 1;
            size_t a = from[q0], b = pick[q];
            mat[reverse ? b * units + a : a * units + b] = coin(r);
        }
    }
    for (size_t q0 = 0; q0 < nto; q0++) {
        size_t b = to[q0];
        if (reached[b]) continue;
        choose(r, from, nfrom, fan, scratch, pick);
        for (size_t q = 0; q < fan; q++) mat[reverse ? b * units + pick[q] : pick[q] * units + b] = coin(r);
    }
}

int ns_ncp_wiring_ncp(ns_ncp_wiring *w, size_t inputs, size_t inter, size_t command, size_t motor,
                      size_t sensory_fanout, size_t inter_fanout, size_t recurrent_command,
                      size_t motor_fanin, uint64_t seed, char *err, size_t errlen)
{
    if (!w) return -1;
    memset(w, 0, sizeof *w);
    if (inter == 0 || command == 0 || motor == 0) {
        ns_errmsg(err, errlen, "NCP wiring: %s neurons is 0", inter == 0 ? "inter" : command == 0 ? "command" : "motor");
        return -1;
    }
    const char *what = NULL, *layer = NULL;
    size_t val = 0, have = 0;
    if (motor_fanin > command) {
        what = "motor_fanin", val = motor_fanin, have = command, layer = "command";
    } else if (inter_fanout > command) {
        what = "inter_fanout", val = inter_fanout, have = command, layer = "command";
    } else if (sensory_fanout > inter) {
        what = "sensory_fanout", val = sensory_fanout, have = inter, layer = "inter";
    }
    if (what) {
        ns_errmsg(err, errlen, "NCP wiring: %s is %zu but there are only %zu %s neurons", what, val, have, layer);
        return -1;
    }
    size_t units = inter + command + motor;
    if (wiring_alloc(w, inputs, units, err, errlen) != 0) return -1;
    w->inter = inter;
    w->command = command;
    w->motor = motor;
    size_t big = inputs > units ? inputs : units;
    size_t *ids = malloc(4 * big * sizeof *ids);
    char *reached = malloc(units);
    if (!ids || !reached) {
        free(ids);
        free(reached);
        ns_ncp_wiring_release(w);
        ns_errmsg(err, errlen, "NCP wiring: out of memory");
        return -1;
    }
    size_t *sens = ids, *pool = ids + big, *scratch = ids + 2 * big, *pick = ids + 3 * big;
    for (size_t k = 0; k < inputs; k++) sens[k] = k;
    size_t *mot = pool, *cmd = pool + motor, *itr = pool + motor + command; /* pool = 0..units-1 */
    for (size_t i = 0; i < units; i++) pool[i] = i;
    ns_xoshiro r;
    ns_xoshiro_seed(&r, seed);
    int8_t *S = w->sensory, *A = w->adj;

    /* sensory -> inter */
    size_t fan = clampz(inputs * sensory_fanout / inter, 1, inputs);
    link_layer(&r, S, units, sens, inputs, itr, inter, sensory_fanout, fan, 0, reached, scratch, pick);
    /* inter -> command; ncps clips the fan-in to the command count, we also to the inter count */
    fan = clampz(inter * inter_fanout / command, 1, command < inter ? command : inter);
    link_layer(&r, A, units, itr, inter, cmd, command, inter_fanout, fan, 0, reached, scratch, pick);
    /* recurrent command synapses (with replacement, a later draw overwrites) */
    for (size_t s = 0; s < recurrent_command; s++) {
        size_t src = cmd[ns_xoshiro_below(&r, command)], dst = cmd[ns_xoshiro_below(&r, command)];
        A[src * units + dst] = coin(&r);
    }
    /* command -> motor, drawn by each motor unit's fan-in */
    fan = clampz(motor * motor_fanin / command, 1, motor);
    link_layer(&r, A, units, mot, motor, cmd, command, motor_fanin, fan, 1, reached, scratch, pick);
    free(ids);
    free(reached);
    return 0;
}

int ns_ncp_wiring_auto(ns_ncp_wiring *w, size_t inputs, size_t units, size_t motor, double sparsity,
                       uint64_t seed, char *err, size_t errlen)
{
    if (!w) return -1;
    memset(w, 0, sizeof *w);
    if (motor == 0 || units < 3 || motor >= units - 2) {
        ns_errmsg(err, errlen, "AutoNCP wiring: motor outputs (%zu) must be at least 1 and less than units - 2 (%zu units)",
                motor, units);
        return -1;
    }
    if (!(sparsity >= 0.1 && sparsity <= 1.0)) {
        ns_errmsg(err, errlen, "AutoNCP wiring: sparsity %g is outside [0.1, 1]", sparsity);
        return -1;
    }
    double density = 1.0 - sparsity;
    size_t ic = units - motor;
    size_t command = (size_t)(0.4 * (double)ic);
    if (command < 1) command = 1;
    size_t inter = ic - command;
    size_t sf = (size_t)((double)inter * density), itf = (size_t)((double)command * density);
    size_t rc = (size_t)((double)command * density * 2), mf = (size_t)((double)command * density);
    return ns_ncp_wiring_ncp(w, inputs, inter, command, motor, sf ? sf : 1, itf ? itf : 1, rc ? rc : 1,
                             mf ? mf : 1, seed, err, errlen);
}

int ns_ncp_wiring_full(ns_ncp_wiring *w, size_t inputs, size_t units, int self_connections, uint64_t seed,
                       char *err, size_t errlen)
{
    if (!w) return -1;
    if (wiring_alloc(w, inputs, units, err, errlen) != 0) return -1;
    w->motor = units;
    ns_xoshiro r;
    ns_xoshiro_seed(&r, seed);
    for (size_t j = 0; j < units; j++)
        for (size_t i = 0; i < units; i++)
            if (i != j || self_connections) w->adj[j * units + i] = ns_xoshiro_below(&r, 3) ? 1 : -1;
    for (size_t k = 0; k < inputs; k++)
        for (size_t i = 0; i < units; i++) w->sensory[k * units + i] = ns_xoshiro_below(&r, 3) ? 1 : -1;
    return 0;
}

/* ---------------------------------------------------------------- mixed-memory LSTM */

/* Orthogonal columns (rows >= cols): Gaussian matrix, then modified Gram-Schmidt on its columns,
 * which is QR with R's diagonal made positive — the distribution torch's orthogonal_ draws. */
static void orthogonal(ns_xoshiro *r, double *a, size_t rows, size_t cols)
{
    for (size_t k = 0; k < rows * cols; k++) a[k] = ns_xoshiro_normal(r);
    for (size_t j = 0; j < cols; j++) {
        for (size_t p = 0; p < j; p++) {
            double d = 0;
            for (size_t i = 0; i < rows; i++) d += a[i * cols + p] * a[i * cols + j];
            for (size_t i = 0; i < rows; i++) a[i * cols + j] -= d * a[i * cols + p];
        }
        double nn = 0;
        for (size_t i = 0; i < rows; i++) nn += a[i * cols + j] * a[i * cols + j];
        nn = sqrt(nn);
        for (size_t i = 0; i < rows; i++) a[i * cols + j] /= nn;
    }
}

void ns_cell_lstm_init(ns_xoshiro *r, double *W_in, double *b_in, double *W_rec, size_t M, size_t N)
{
    double bound = sqrt(6.0 / (double)(M + 4 * N));
    for (size_t k = 0; k < 4 * N * M; k++) W_in[k] = ns_xoshiro_range(r, -bound, bound);
    for (size_t k = 0; k < 4 * N; k++) b_in[k] = ns_xoshiro_range(r, -0.1, 0.1);
    orthogonal(r, W_rec, 4 * N, N);
}

static double lstm_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

void ns_cell_lstm_step(const double *W_in, const double *b_in, const double *W_rec, size_t M, size_t N,
                       const double *u, const double *h_in, const double *c_in, double *z, double *h_out,
                       double *c_out)
{
    for (size_t r = 0; r < 4 * N; r++) {
        double a = 0, b = 0; /* the bias, then each product's sum, as cfc_cell always added them */
        for (size_t k = 0; k < M; k++) a += W_in[r * M + k] * u[k];
        for (size_t k = 0; k < N; k++) b += W_rec[r * N + k] * h_in[k];
        z[r] = b_in[r] + a + b;
    }
    for (size_t i = 0; i < N; i++) {
        double cn = c_in[i] * lstm_sigmoid(z[2 * N + i] + 1.0) + tanh(z[i]) * lstm_sigmoid(z[N + i]);
        c_out[i] = cn;
        h_out[i] = tanh(cn) * lstm_sigmoid(z[3 * N + i]);
    }
}
