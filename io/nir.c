/* io/nir.c — see nir.h. The file is read whole into a small graph (nodes with their typed
 * parameters, edges), checked, then compiled: neuron nodes become populations, stateless chains
 * are multiplied out into one dense matrix and bias per (source, target) pair. */
#include "io/nir.h"

#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/cell_file.h"
#include "models/ncps_npz.h"

enum { MAX_PARAMS = 16, MAX_EDGES = 512, MAX_RANK = 4, MAX_WALK = 100000 };
#define MAX_VALUES ((size_t)1 << 26)
/* the largest dense map (target units x source units) a projection or chain may make: 512 MB */
#define MAX_MAP ((size_t)1 << 26)

typedef struct {
    char key[NS_NIR_NAME];
    int str;        /* 1: a string (s) */
    char s[64];
    int rank;
    size_t dim[MAX_RANK];
    size_t n;       /* values */
    double *v;
} nir_param;

typedef enum {
    K_INPUT, K_OUTPUT, K_AFFINE, K_LINEAR, K_SCALE, K_FLATTEN, K_LIF, K_CUBALIF, K_IF, K_THRESHOLD, K_LI, K_CUBALI,
    K_ULTRALIF, K_ULTRADLIF, K_CFC, K_LTC
} node_kind;

typedef struct {
    char name[NS_NIR_NAME], type[32];
    node_kind kind;
    int np;
    nir_param p[MAX_PARAMS];
    size_t in_n, out_n; /* sizes of what it takes and gives (0: that of its input) */
    ns_npz cell;        /* nsim.CfC, nsim.LTC: the cell's arrays (ncps state_dict names) */
} nir_node;

typedef struct {
    char path[1024];
    int nn, ne;
    nir_node node[NS_NIR_MAX_NODES];
    int edge[MAX_EDGES][2];
    int has_T;
    double meta_T;
} nir_graph;

static const struct {
    const char *type;
    node_kind kind;
} kinds[] = {{"Input", K_INPUT},     {"Output", K_OUTPUT},       {"Affine", K_AFFINE},
             {"Linear", K_LINEAR},   {"Scale", K_SCALE},         {"Flatten", K_FLATTEN},
             {"LIF", K_LIF},         {"CubaLIF", K_CUBALIF},     {"IF", K_IF},
             {"Threshold", K_THRESHOLD}, {"LI", K_LI},           {"CubaLI", K_CUBALI},
             {"nsim.UltraLIF", K_ULTRALIF}, {"nsim.UltraDLIF", K_ULTRADLIF},
             {"nsim.CfC", K_CFC},       {"nsim.LTC", K_LTC}};
/* NIR node types nsim knows and has no engine counterpart for */
static const char *const refused[] = {"Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "Delay", "I", "NIRGraph", NULL};
#define SUPPORTED "Input, Output, Affine, Linear, Scale, Flatten, LIF, CubaLIF, IF, LI, CubaLI, Threshold, nsim.UltraLIF, nsim.UltraDLIF, nsim.CfC, nsim.LTC"

static int gfail(char *err, size_t errlen, const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int gfail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s", path, msg);
    return -1;
}

static void graph_free(nir_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->nn; i++)
    {
        for (int k = 0; k < g->node[i].np; k++) free(g->node[i].p[k].v);
        for (size_t k = 0; k < g->node[i].cell.n; k++) free(g->node[i].cell.a[k].name), free(g->node[i].cell.a[k].data);
        free(g->node[i].cell.a);
    }
    free(g);
}

/* ---- reading HDF5 ---- */

/* Up to n strings of the string dataset d into out (n rows of w chars). */
static int read_strings(hid_t d, size_t n, char *out, size_t w)
{
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d), mt = -1;
    int rc = -1;
    hssize_t np = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    if (ft < 0 || sp < 0 || H5Tget_class(ft) != H5T_STRING || np != (hssize_t)n) goto done;
    mt = H5Tcopy(H5T_C_S1);
    if (H5Tset_cset(mt, H5Tget_cset(ft)) < 0) goto done; /* HDF5 converts no character set to another */
    if (H5Tis_variable_str(ft) > 0) {
        char **buf = calloc(n ? n : 1, sizeof *buf);
        if (!buf || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            free(buf);
            goto done;
        }
        rc = 0;
        for (size_t i = 0; i < n; i++) {
            if (!buf[i] || strlen(buf[i]) >= w) rc = -1;
            else strcpy(out + i * w, buf[i]);
        }
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mt, sp, H5P_DEFAULT, buf);
#else
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, buf);
#endif
        free(buf);
    } else {
        size_t sz = H5Tget_size(ft);
        if (sz == 0 || sz >= w) goto done;
        char *buf = calloc(n ? n : 1, sz + 1);
        if (!buf || H5Tset_size(mt, sz + 1) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
            H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            free(buf);
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            memcpy(out + i * w, buf + i * (sz + 1), sz + 1);
            out[i * w + sz] = 0;
        }
        free(buf);
        rc = 0;
    }
done:
    if (mt >= 0) H5Tclose(mt);
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    return rc;
}

/* One dataset into p: a string or numbers (integers and floats read as doubles). */
static int read_param(hid_t loc, const char *name, nir_param *p, const char *path, const char *node, char *err,
                      size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (strlen(name) >= sizeof p->key) return gfail(err, errlen, path, "node %s: parameter name '%.40s...' is too long", node, name);
    strcpy(p->key, name);
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return gfail(err, errlen, path, "node %s: cannot read %s", node, name);
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
    int rc = 0;
    H5T_class_t cl = ft < 0 ? H5T_NO_CLASS : H5Tget_class(ft);
    int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    if (cl == H5T_STRING) {
        p->str = 1;
        if (rank != 0 || read_strings(d, 1, p->s, sizeof p->s))
            rc = gfail(err, errlen, path, "node %s: %s is not one string of at most %zu characters", node, name,
                       sizeof p->s - 1);
    } else if (cl == H5T_FLOAT || cl == H5T_INTEGER) {
        hsize_t dims[MAX_RANK];
        if (rank < 0 || rank > MAX_RANK) {
            rc = gfail(err, errlen, path, "node %s: %s has %d dimensions (at most %d)", node, name, rank, MAX_RANK);
        } else {
            H5Sget_simple_extent_dims(sp, dims, NULL);
            p->rank = rank;
            p->n = 1;
            for (int k = 0; k < rank; k++) {
                p->dim[k] = (size_t)dims[k];
                p->n = dims[k] && p->n > MAX_VALUES / dims[k] ? MAX_VALUES + 1 : p->n * (size_t)dims[k];
            }
            if (p->n > MAX_VALUES) {
                rc = gfail(err, errlen, path, "node %s: %s has more than %zu values", node, name, MAX_VALUES);
            } else if (!(p->v = malloc((p->n ? p->n : 1) * sizeof *p->v))) {
                rc = gfail(err, errlen, path, "out of memory");
            } else if (p->n && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->v) < 0) {
                rc = gfail(err, errlen, path, "node %s: cannot read %s as numbers", node, name);
            } else {
                for (size_t i = 0; i < p->n && !rc; i++)
                    if (!isfinite(p->v[i]) && !(isinf(p->v[i]) && !strncmp(name, "tau", 3)))
                        rc = gfail(err, errlen, path, "node %s: %s[%zu] is %g, not a finite number", node, name, i, p->v[i]);
            }
        }
    } else {
        rc = gfail(err, errlen, path, "node %s: %s is neither numbers nor a string", node, name);
    }
    if (sp >= 0) H5Sclose(sp);
    if (ft >= 0) H5Tclose(ft);
    H5Dclose(d);
    return rc;
}

typedef struct {
    char (*names)[NS_NIR_NAME];
    int n, max, too_long;
    int *is_group;
    hid_t loc;
} name_list;

/* H5Literate's callback: collect the member names and whether each is a group. */
static herr_t collect_name(hid_t loc, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    name_list *l = data;
    if (l->n >= l->max) return 1;
    if (strlen(name) >= NS_NIR_NAME) {
        l->too_long = 1;
        return 1;
    }
    hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
    l->is_group[l->n] = o >= 0 && H5Iget_type(o) == H5I_GROUP;
    if (o >= 0) H5Oclose(o);
    strcpy(l->names[l->n++], name);
    return 0;
}

static int list_members(hid_t g, char (*names)[NS_NIR_NAME], int *is_group, int max, int *n)
{
    name_list l = {names, 0, max, 0, is_group, g};
    hsize_t idx = 0;
    herr_t r = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, &l);
    *n = l.n;
    if (r < 0 || l.too_long) return -1;
    return r > 0 ? 1 : 0; /* 1: more than max */
}

static int kind_of(const char *type, node_kind *k)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(type, kinds[i].type)) return *k = kinds[i].kind, 0;
    return -1;
}

/* The options of the cell nodes (every other dataset of theirs is one of the cell's arrays). */
static int is_cell_option(const char *key)
{
    static const char *const opts[] = {"mode", "activation", "implicit_constraints", "unfolds", "epsilon", NULL};
    for (int i = 0; opts[i]; i++)
        if (!strcmp(key, opts[i])) return 1;
    return 0;
}

enum { MAX_CELL_ARRAYS = 64 };

/* An nsim.CfC or nsim.LTC node: its options into nd->p, its arrays into nd->cell (shapes kept). */
static int read_cell(hid_t g, nir_node *nd, const char *path, char *err, size_t errlen)
{
    char names[MAX_CELL_ARRAYS][NS_NIR_NAME];
    int is_group[MAX_CELL_ARRAYS], n = 0, rc = 0;
    if (list_members(g, names, is_group, MAX_CELL_ARRAYS, &n))
        return gfail(err, errlen, path, "node %s: more than %d members or a name of %d characters or more", nd->name,
                     MAX_CELL_ARRAYS, NS_NIR_NAME);
    if (!(nd->cell.a = calloc((size_t)n + 1, sizeof *nd->cell.a))) return gfail(err, errlen, path, "out of memory");
    for (int i = 0; !rc && i < n; i++) {
        if (is_group[i] || !strcmp(names[i], "type")) continue;
        nir_param p;
        if ((rc = read_param(g, names[i], &p, path, nd->name, err, errlen))) {
            free(p.v);
            break;
        }
        if (is_cell_option(names[i])) {
            if (nd->np >= MAX_PARAMS) rc = gfail(err, errlen, path, "node %s: too many options", nd->name);
            else nd->p[nd->np++] = p;
            continue;
        }
        if (p.str) {
            rc = gfail(err, errlen, path, "node %s: %s is a string, not one of the cell's arrays (options: mode, activation, "
                       "implicit_constraints, unfolds, epsilon)", nd->name, names[i]);
            break;
        }
        ns_npz_array *a = &nd->cell.a[nd->cell.n];
        if (!(a->name = strdup(names[i]))) {
            free(p.v);
            rc = gfail(err, errlen, path, "out of memory");
            break;
        }
        a->ndim = (size_t)p.rank;
        for (int k = 0; k < p.rank; k++) a->shape[k] = p.dim[k];
        a->count = p.n;
        a->data = p.v;
        nd->cell.n++;
    }
    return rc;
}

static int read_node(hid_t nodes, const char *name, nir_node *nd, const char *path, char *err, size_t errlen)
{
    memset(nd, 0, sizeof *nd);
    strcpy(nd->name, name);
    hid_t g = H5Gopen2(nodes, name, H5P_DEFAULT);
    if (g < 0) return gfail(err, errlen, path, "node %s is not a group", name);
    char names[MAX_PARAMS * 2][NS_NIR_NAME];
    int is_group[MAX_PARAMS * 2], n, rc = 0;
    hid_t td = H5Lexists(g, "type", H5P_DEFAULT) > 0 ? H5Dopen2(g, "type", H5P_DEFAULT) : -1;
    if (td < 0) {
        rc = gfail(err, errlen, path, "node %s has no type", name);
    } else {
        if (read_strings(td, 1, nd->type, sizeof nd->type)) rc = gfail(err, errlen, path, "node %s: type is not a string", name);
        H5Dclose(td);
    }
    if (!rc && kind_of(nd->type, &nd->kind)) {
        int known = 0;
        for (int i = 0; refused[i]; i++) known |= !strcmp(nd->type, refused[i]);
        rc = known ? gfail(err, errlen, path, "node %s: %s has no counterpart in nsim's engine (nsim runs " SUPPORTED ")",
                           name, nd->type)
                   : gfail(err, errlen, path, "node %s: unknown type '%s' (nsim runs " SUPPORTED ")", name, nd->type);
    }
    if (!rc && (nd->kind == K_CFC || nd->kind == K_LTC)) {
        rc = read_cell(g, nd, path, err, errlen);
        H5Gclose(g);
        return rc;
    }
    int more = rc ? 0 : list_members(g, names, is_group, MAX_PARAMS * 2, &n);
    if (!rc && more) rc = gfail(err, errlen, path, "node %s: too many members or a name too long", name);
    for (int i = 0; !rc && i < n; i++) {
        if (is_group[i] || !strcmp(names[i], "type")) continue; /* input_type, output_type, metadata */
        if (nd->np >= MAX_PARAMS) rc = gfail(err, errlen, path, "node %s: more than %d parameters", name, MAX_PARAMS);
        else if (!(rc = read_param(g, names[i], &nd->p[nd->np], path, name, err, errlen))) nd->np++;
        else if (nd->p[nd->np].v) free(nd->p[nd->np].v), nd->p[nd->np].v = NULL;
    }
    H5Gclose(g);
    return rc;
}

static int node_index(const nir_graph *g, const char *name)
{
    for (int i = 0; i < g->nn; i++)
        if (!strcmp(g->node[i].name, name)) return i;
    return -1;
}

static nir_graph *graph_read(const char *path, char *err, size_t errlen)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* HDF5 prints its error stack otherwise */
    if (access(path, R_OK) != 0) return gfail(err, errlen, path, "cannot read the file"), NULL;
    if (H5Fis_hdf5(path) <= 0) return gfail(err, errlen, path, "not an HDF5 file (NIR is one)"), NULL;
    nir_graph *g = calloc(1, sizeof *g);
    if (!g) return gfail(err, errlen, path, "out of memory"), NULL;
    snprintf(g->path, sizeof g->path, "%s", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), root = -1, nodes = -1, ed = -1;
    int rc = 0;
    if (f < 0) rc = gfail(err, errlen, path, "cannot open the HDF5 file");
    if (!rc && H5Lexists(f, "version", H5P_DEFAULT) > 0) {
        char v[32] = "";
        hid_t vd = H5Dopen2(f, "version", H5P_DEFAULT);
        if (vd < 0 || read_strings(vd, 1, v, sizeof v)) rc = gfail(err, errlen, path, "version is not a string");
        else if (strncmp(v, "1.", 2) && strcmp(v, "1")) rc = gfail(err, errlen, path, "NIR version '%s' (nsim reads 1.x)", v);
        if (vd >= 0) H5Dclose(vd);
    }
    if (!rc && (H5Lexists(f, "node", H5P_DEFAULT) <= 0 || (root = H5Gopen2(f, "node", H5P_DEFAULT)) < 0))
        rc = gfail(err, errlen, path, "no group 'node' (the graph)");
    if (!rc) {
        char t[32] = "";
        hid_t td = H5Lexists(root, "type", H5P_DEFAULT) > 0 ? H5Dopen2(root, "type", H5P_DEFAULT) : -1;
        if (td >= 0 && (read_strings(td, 1, t, sizeof t) || strcmp(t, "NIRGraph")))
            rc = gfail(err, errlen, path, "node: type is '%s', not NIRGraph", t);
        if (td >= 0) H5Dclose(td);
    }
    if (!rc && (H5Lexists(root, "nodes", H5P_DEFAULT) <= 0 || (nodes = H5Gopen2(root, "nodes", H5P_DEFAULT)) < 0))
        rc = gfail(err, errlen, path, "no group node/nodes");
    char names[NS_NIR_MAX_NODES][NS_NIR_NAME];
    int is_group[NS_NIR_MAX_NODES], n = 0;
    if (!rc) {
        int more = list_members(nodes, names, is_group, NS_NIR_MAX_NODES, &n);
        if (more) rc = gfail(err, errlen, path, "node/nodes: more than %d nodes, or a name of %d characters or more",
                             NS_NIR_MAX_NODES, NS_NIR_NAME);
        else if (!n) rc = gfail(err, errlen, path, "node/nodes is empty");
    }
    for (int i = 0; !rc && i < n; i++) {
        if (!is_group[i]) rc = gfail(err, errlen, path, "node/nodes/%s is not a group", names[i]);
        else if (!(rc = read_node(nodes, names[i], &g->node[i], path, err, errlen))) g->nn++;
        else g->nn = i + 1; /* its parameters read so far are freed with the graph */
    }
    if (!rc && (H5Lexists(root, "edges", H5P_DEFAULT) <= 0 || (ed = H5Dopen2(root, "edges", H5P_DEFAULT)) < 0))
        rc = gfail(err, errlen, path, "no dataset node/edges");
    if (!rc) {
        hid_t sp = H5Dget_space(ed);
        hsize_t dims[2] = {0, 0};
        int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
        if (rank == 1 || rank == 2) H5Sget_simple_extent_dims(sp, dims, NULL);
        if (sp >= 0) H5Sclose(sp);
        if (rank != 2 || dims[1] != 2) {
            if (!(sp >= 0 && rank == 1 && dims[0] == 0))
                rc = gfail(err, errlen, path, "node/edges is not a list of (source, target) pairs of names");
        } else if (dims[0] > MAX_EDGES) {
            rc = gfail(err, errlen, path, "node/edges: %llu edges (at most %d)", (unsigned long long)dims[0], MAX_EDGES);
        } else {
            char(*e)[NS_NIR_NAME] = calloc(dims[0] * 2 + 1, sizeof *e);
            if (!e) rc = gfail(err, errlen, path, "out of memory");
            else if (read_strings(ed, (size_t)dims[0] * 2, (char *)e, NS_NIR_NAME))
                rc = gfail(err, errlen, path, "node/edges: not strings (node names)");
            for (size_t k = 0; !rc && k < dims[0]; k++) {
                for (int s = 0; s < 2 && !rc; s++) {
                    int j = node_index(g, e[2 * k + (size_t)s]);
                    if (j < 0) rc = gfail(err, errlen, path, "edge %s -> %s: no node named %s", e[2 * k], e[2 * k + 1],
                                          e[2 * k + (size_t)s]);
                    g->edge[k][s] = j;
                }
                g->ne++;
            }
            free(e);
        }
    }
    /* graph metadata: T, the steps of one sample (nsim's exports write it) */
    if (!rc && H5Lexists(root, "metadata", H5P_DEFAULT) > 0) {
        hid_t md = H5Gopen2(root, "metadata", H5P_DEFAULT);
        if (md >= 0 && H5Lexists(md, "T", H5P_DEFAULT) > 0) {
            nir_param p;
            if (!read_param(md, "T", &p, path, "metadata", err, errlen) && !p.str && p.n == 1 && p.v[0] >= 1 && p.v[0] <= 1e9) {
                g->has_T = 1;
                g->meta_T = p.v[0];
            }
            free(p.v);
            err[0] = 0;
        }
        if (md >= 0) H5Gclose(md);
    }
    if (ed >= 0) H5Dclose(ed);
    if (nodes >= 0) H5Gclose(nodes);
    if (root >= 0) H5Gclose(root);
    if (f >= 0) H5Fclose(f);
    if (rc) {
        graph_free(g);
        return NULL;
    }
    return g;
}

/* ---- checking the graph ---- */

static nir_param *param(nir_node *nd, const char *key)
{
    for (int k = 0; k < nd->np; k++)
        if (!strcmp(nd->p[k].key, key)) return &nd->p[k];
    return NULL;
}

/* The parameters each kind takes; the first of `sized` sets the node's size. */
typedef struct {
    const char *required[8], *optional[4];
} kind_params;

static kind_params params_of(node_kind k)
{
    switch (k) {
    case K_INPUT: return (kind_params){{"shape"}, {NULL}};
    case K_OUTPUT: return (kind_params){{NULL}, {"shape"}};
    case K_AFFINE: return (kind_params){{"weight", "bias"}, {NULL}};
    case K_LINEAR: return (kind_params){{"weight"}, {NULL}};
    case K_SCALE: return (kind_params){{"scale"}, {NULL}};
    case K_FLATTEN: return (kind_params){{NULL}, {"start_dim", "end_dim"}};
    case K_LIF: return (kind_params){{"v_threshold", "tau", "r", "v_leak"}, {"v_reset"}};
    case K_CUBALIF: return (kind_params){{"v_threshold", "tau_syn", "tau_mem", "r", "v_leak"}, {"v_reset", "w_in"}};
    case K_IF: return (kind_params){{"v_threshold", "r"}, {"v_reset"}};
    case K_THRESHOLD: return (kind_params){{"threshold"}, {NULL}};
    case K_LI: return (kind_params){{"tau", "r", "v_leak"}, {NULL}};
    case K_CUBALI: return (kind_params){{"tau_mem", "tau_syn", "r", "v_leak"}, {"w_in"}};
    case K_ULTRALIF: return (kind_params){{"ln_tau", "definition", "theta", "eps"}, {"reset_subtract"}};
    case K_ULTRADLIF: return (kind_params){{"definition", "theta", "eps"}, {"tau", "c", "reset_subtract"}};
    case K_CFC:
    case K_LTC: break; /* check_cell */
    }
    return (kind_params){{NULL}, {NULL}};
}

static int is_neuron(node_kind k) { return k >= K_LIF; }
static int is_stateless(node_kind k) { return k == K_AFFINE || k == K_LINEAR || k == K_SCALE || k == K_FLATTEN; }

static size_t shape_size(const nir_param *p)
{
    size_t n = 1;
    for (size_t i = 0; i < p->n; i++) {
        if (!(p->v[i] >= 1 && p->v[i] <= (double)NS_CELL_MAX_SIZE) || p->v[i] != floor(p->v[i])) return 0;
        n = n > NS_CELL_MAX_SIZE / (size_t)p->v[i] ? NS_CELL_MAX_SIZE + 1 : n * (size_t)p->v[i];
    }
    return n > NS_CELL_MAX_SIZE ? 0 : n;
}

static const char *const cfc_modes[] = {"default", "no_gate", NULL};
static const char *const cfc_acts[] = {"lecun_tanh", "tanh", "relu", "silu", "gelu", NULL};

/* A cell node's options, checked (defaults ncps's); -1 and "PATH: node NAME: ..." when one is wrong. */
static int cell_options(nir_graph *g, nir_node *nd, ns_nir_cell_opts *o, char *err, size_t errlen)
{
    ns_nir_cell_opts_default(o);
    for (int k = 0; k < nd->np; k++) {
        const nir_param *p = &nd->p[k];
        const int ltc_key = !strcmp(p->key, "implicit_constraints") || !strcmp(p->key, "unfolds") || !strcmp(p->key, "epsilon");
        if (ltc_key != (nd->kind == K_LTC))
            return gfail(err, errlen, g->path, "node %s: %s takes no option '%s'", nd->name, nd->type, p->key);
        if (!ltc_key) {
            const char *const *names = !strcmp(p->key, "mode") ? cfc_modes : cfc_acts;
            int idx = -1;
            for (int i = 0; p->str && names[i]; i++)
                if (!strcmp(p->s, names[i])) idx = i;
            if (idx < 0)
                return gfail(err, errlen, g->path, "node %s: %s must be one of the strings %s, not %s%s%s", nd->name, p->key,
                             names == cfc_modes ? "default, no_gate" : "lecun_tanh, tanh, relu, silu, gelu",
                             p->str ? "'" : "numbers", p->str ? p->s : "", p->str ? "'" : "");
            *(names == cfc_modes ? &o->mode : &o->activation) = idx;
            continue;
        }
        const double v = !p->str && p->n == 1 ? p->v[0] : NAN;
        if (!strcmp(p->key, "implicit_constraints") && !(v == 0 || v == 1))
            return gfail(err, errlen, g->path, "node %s: implicit_constraints must be one number, 0 or 1", nd->name);
        if (!strcmp(p->key, "unfolds") && !(v >= 1 && v <= 1000 && v == floor(v)))
            return gfail(err, errlen, g->path, "node %s: unfolds must be one whole number in [1, 1000]", nd->name);
        if (!strcmp(p->key, "epsilon") && !(v >= 0 && v <= 1))
            return gfail(err, errlen, g->path, "node %s: epsilon must be one number in [0, 1]", nd->name);
        if (!strcmp(p->key, "implicit_constraints")) o->implicit = (int)v;
        else if (!strcmp(p->key, "unfolds")) o->unfolds = (unsigned)v;
        else o->epsilon = v;
    }
    return 0;
}

/* A cell node: its options, and its arrays making an ncps cell (the .npz import's checks, by name);
 * the cell's inputs and units are the node's sizes. */
static int check_cell(nir_graph *g, nir_node *nd, char *err, size_t errlen)
{
    ns_nir_cell_opts o;
    if (cell_options(g, nd, &o, err, errlen)) return -1;
    char where[1200];
    snprintf(where, sizeof where, "%s: node %s", g->path, nd->name);
    if (nd->kind == K_CFC) {
        ns_cfc_cell *c = ns_cfc_import_arrays(&nd->cell, where, o.mode ? NS_CFC_NO_GATE : NS_CFC_DEFAULT,
                                              (ns_cfc_activation)o.activation, err, errlen);
        if (!c) return -1;
        nd->in_n = ns_cfc_opts_of(c)->inputs, nd->out_n = ns_cfc_opts_of(c)->units;
        ns_cfc_free(c);
    } else {
        ns_ltc_cell *c = ns_ltc_import_arrays(&nd->cell, where, o.implicit, o.unfolds, o.epsilon, err, errlen);
        if (!c) return -1;
        nd->in_n = ns_ltc_opts_of(c)->inputs, nd->out_n = ns_ltc_opts_of(c)->units;
        ns_ltc_free(c);
    }
    return 0;
}

void ns_nir_cell_opts_default(ns_nir_cell_opts *o)
{
    o->mode = 0;
    o->activation = 0;
    o->implicit = 1;
    o->unfolds = 6;
    o->epsilon = 1e-8;
}

/* Parameters present, of the right kind, and sizes agreeing within each node. */
static int check_node(nir_graph *g, nir_node *nd, char *err, size_t errlen)
{
    const char *path = g->path;
    if (nd->kind == K_CFC || nd->kind == K_LTC) return check_cell(g, nd, err, errlen);
    kind_params kp = params_of(nd->kind);
    for (int k = 0; k < nd->np; k++) { /* a misspelt name must not pass silently */
        int ok = 0;
        for (int i = 0; i < 8 && kp.required[i]; i++) ok |= !strcmp(nd->p[k].key, kp.required[i]);
        for (int i = 0; i < 4 && kp.optional[i]; i++) ok |= !strcmp(nd->p[k].key, kp.optional[i]);
        if (!ok) return gfail(err, errlen, path, "node %s: %s takes no parameter '%s'", nd->name, nd->type, nd->p[k].key);
    }
    for (int i = 0; i < 8 && kp.required[i]; i++)
        if (!param(nd, kp.required[i])) return gfail(err, errlen, path, "node %s: %s needs %s", nd->name, nd->type, kp.required[i]);
    for (int k = 0; k < nd->np; k++) {
        int want_str = !strcmp(nd->p[k].key, "definition");
        if (nd->p[k].str != want_str)
            return gfail(err, errlen, path, "node %s: %s must be %s", nd->name, nd->p[k].key, want_str ? "a string" : "numbers");
    }
    nir_param *w;
    switch (nd->kind) {
    case K_INPUT:
    case K_OUTPUT: {
        nir_param *s = param(nd, "shape");
        if (s && (s->rank > 1 || !(nd->in_n = shape_size(s))))
            return gfail(err, errlen, path, "node %s: shape must list sizes of 1 to %zu", nd->name, (size_t)NS_CELL_MAX_SIZE);
        nd->out_n = nd->in_n;
        return 0;
    }
    case K_AFFINE:
    case K_LINEAR:
        w = param(nd, "weight");
        if (w->rank != 2 || !w->dim[0] || !w->dim[1])
            return gfail(err, errlen, path, "node %s: weight must be a matrix (outputs x inputs), not of %d dimensions", nd->name, w->rank);
        nd->out_n = w->dim[0];
        nd->in_n = w->dim[1];
        if (nd->kind == K_AFFINE && param(nd, "bias")->n != nd->out_n)
            return gfail(err, errlen, path, "shape mismatch: node %s: bias has %zu values, weight %zu rows", nd->name,
                         param(nd, "bias")->n, nd->out_n);
        return 0;
    case K_FLATTEN: return 0;
    case K_ULTRADLIF:
        if (!param(nd, "tau") == !param(nd, "c"))
            return gfail(err, errlen, path, "node %s: nsim.UltraDLIF takes tau (definition library) or c (ablation)", nd->name);
        break;
    default: break;
    }
    /* the elementwise nodes: the longest per-neuron parameter sets the size, the others have that
     * length or 1 */
    nir_param *size_p = NULL;
    for (int k = 0; k < nd->np; k++) {
        nir_param *p = &nd->p[k];
        int scalar = p->str || !strcmp(p->key, "theta") || !strcmp(p->key, "eps") || !strcmp(p->key, "reset_subtract");
        if (!scalar && (!size_p || p->n > size_p->n)) size_p = p;
    }
    if (!size_p) return gfail(err, errlen, path, "node %s: no per-neuron parameter tells its size", nd->name);
    nd->in_n = nd->out_n = size_p->n;
    if (!nd->in_n) return gfail(err, errlen, path, "node %s: %s is empty", nd->name, size_p->key);
    for (int k = 0; k < nd->np; k++) {
        nir_param *p = &nd->p[k];
        if (p->str) continue;
        int scalar = !strcmp(p->key, "theta") || !strcmp(p->key, "eps") || !strcmp(p->key, "reset_subtract");
        if (scalar ? p->n != 1 : (p->n != nd->in_n && p->n != 1))
            return gfail(err, errlen, path, "shape mismatch: node %s: %s has %zu values, %s %zu", nd->name, p->key, p->n,
                         scalar ? "one wanted" : size_p->key, scalar ? (size_t)1 : nd->in_n);
    }
    if (nd->kind == K_ULTRALIF || nd->kind == K_ULTRADLIF) {
        const char *def = param(nd, "definition")->s;
        if (strcmp(def, "library") && strcmp(def, "ablation"))
            return gfail(err, errlen, path, "node %s: definition is library or ablation, not '%s'", nd->name, def);
        if (nd->kind == K_ULTRADLIF && !strcmp(def, "library") != !!param(nd, "tau"))
            return gfail(err, errlen, path, "node %s: the library's UltraDLIF takes tau, the ablation's c", nd->name);
    }
    return 0;
}

/* Every node's sizes, every edge's sizes agreeing, one Input and one Output. */
static int check_graph(nir_graph *g, char *err, size_t errlen)
{
    int inputs = 0, outputs = 0;
    for (int i = 0; i < g->nn; i++) {
        if (check_node(g, &g->node[i], err, errlen)) return -1;
        inputs += g->node[i].kind == K_INPUT;
        outputs += g->node[i].kind == K_OUTPUT;
    }
    if (inputs != 1 || outputs != 1)
        return gfail(err, errlen, g->path, "%d Input and %d Output nodes (nsim runs graphs of one each)", inputs, outputs);
    /* sizes flow along edges into the nodes that take any (Flatten, Output without a shape) */
    for (int pass = 0; pass <= g->nn; pass++)
        for (int e = 0; e < g->ne; e++) {
            nir_node *a = &g->node[g->edge[e][0]], *b = &g->node[g->edge[e][1]];
            if (a->out_n && !b->in_n) b->in_n = a->out_n;
            if (b->in_n && (b->kind == K_FLATTEN || b->kind == K_OUTPUT)) b->out_n = b->in_n;
        }
    for (int e = 0; e < g->ne; e++) {
        nir_node *a = &g->node[g->edge[e][0]], *b = &g->node[g->edge[e][1]];
        if (a->kind == K_OUTPUT) return gfail(err, errlen, g->path, "edge %s -> %s leaves the Output node", a->name, b->name);
        if (b->kind == K_INPUT) return gfail(err, errlen, g->path, "edge %s -> %s enters the Input node", a->name, b->name);
        if (a->out_n != b->in_n)
            return gfail(err, errlen, g->path, "shape mismatch: edge %s -> %s: %s gives %zu values, %s takes %zu", a->name,
                         b->name, a->name, a->out_n, b->name, b->in_n);
    }
    for (int i = 0; i < g->nn; i++) {
        nir_node *nd = &g->node[i];
        int in = 0, out = 0;
        for (int e = 0; e < g->ne; e++) in += g->edge[e][1] == i, out += g->edge[e][0] == i;
        if (!in && nd->kind != K_INPUT) return gfail(err, errlen, g->path, "node %s has no incoming edge", nd->name);
        if (!out && nd->kind != K_OUTPUT) return gfail(err, errlen, g->path, "node %s has no outgoing edge", nd->name);
        if (!nd->in_n) return gfail(err, errlen, g->path, "node %s: its size cannot be told", nd->name);
        if (nd->kind == K_LI || nd->kind == K_CUBALI)
            for (int e = 0; e < g->ne; e++)
                if (g->edge[e][0] == i && g->node[g->edge[e][1]].kind != K_OUTPUT)
                    return gfail(err, errlen, g->path, "node %s: nsim runs %s only as the readout (edges into Output alone)",
                                 nd->name, nd->type);
    }
    return 0;
}

int ns_nir_check(const char *path, char *err, size_t errlen)
{
    nir_graph *g = graph_read(path, err, errlen);
    if (!g) return -1;
    int rc = check_graph(g, err, errlen);
    graph_free(g);
    return rc;
}

/* ---- building the network ---- */

typedef struct {
    int src, tgt;
    double *W; /* in_n(tgt) x out_n(src) */
} proj;

typedef struct {
    nir_graph *g;
    proj pr[MAX_EDGES];
    int npr;
    double *bias[NS_NIR_MAX_NODES]; /* each target's summed biases */
    long walked;                    /* collect's calls: paths through stateless nodes multiply */
    char *err;
    size_t errlen;
} compiler;

static int add_proj(compiler *c, int src, int tgt, size_t m, const double *A)
{
    size_t n = c->g->node[src].out_n;
    for (int k = 0; k < c->npr; k++)
        if (c->pr[k].src == src && c->pr[k].tgt == tgt) {
            for (size_t i = 0; i < m * n; i++) c->pr[k].W[i] += A[i];
            return 0;
        }
    if (c->npr >= MAX_EDGES) return gfail(c->err, c->errlen, c->g->path, "more than %d projections", MAX_EDGES);
    double *W = malloc(m * n * sizeof *W);
    if (!W) return gfail(c->err, c->errlen, c->g->path, "out of memory");
    memcpy(W, A, m * n * sizeof *W);
    c->pr[c->npr++] = (proj){src, tgt, W};
    return 0;
}

/* What node u's output reaches target tgt through A (m x out_n(u)): a projection from u when it has
 * state, else through u's own map (bias into the target's) on to what feeds u. */
static int collect(compiler *c, int tgt, size_t m, int u, const double *A, int depth)
{
    nir_graph *g = c->g;
    nir_node *nu = &g->node[u];
    if (!is_stateless(nu->kind)) return add_proj(c, u, tgt, m, A);
    if (depth > NS_NIR_MAX_NODES)
        return gfail(c->err, c->errlen, g->path, "node %s: a cycle of Affine, Linear, Scale and Flatten nodes (no neuron in it)", nu->name);
    if (++c->walked > MAX_WALK)
        return gfail(c->err, c->errlen, g->path, "more than %d paths through Affine, Linear, Scale and Flatten nodes", MAX_WALK);
    size_t k = nu->out_n, kin = nu->in_n;
    if (m && kin > MAX_MAP / m)
        return gfail(c->err, c->errlen, g->path, "node %s: a map of %zu x %zu values (at most %zu)", nu->name, m, kin, MAX_MAP);
    double *B = calloc(m * kin > 0 ? m * kin : 1, sizeof *B);
    if (!B) return gfail(c->err, c->errlen, g->path, "out of memory");
    if (nu->kind == K_AFFINE || nu->kind == K_LINEAR) {
        const double *W = param(nu, "weight")->v;
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < k; j++) {
                double a = A[i * k + j];
                if (a == 0) continue;
                for (size_t l = 0; l < kin; l++) B[i * kin + l] += a * W[j * kin + l];
            }
        if (nu->kind == K_AFFINE) {
            const double *b = param(nu, "bias")->v;
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < k; j++) c->bias[tgt][i] += A[i * k + j] * b[j];
        }
    } else if (nu->kind == K_SCALE) {
        const nir_param *s = param(nu, "scale");
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < k; j++) B[i * k + j] = A[i * k + j] * s->v[s->n == 1 ? 0 : j];
    } else { /* Flatten: the values in the same order */
        memcpy(B, A, m * k * sizeof *B);
    }
    int rc = 0;
    for (int e = 0; e < g->ne && !rc; e++)
        if (g->edge[e][1] == u) rc = collect(c, tgt, m, g->edge[e][0], B, depth + 1);
    free(B);
    return rc;
}

/* Value i of parameter key (one value serves every neuron), def when absent. */
static double pv(nir_node *nd, const char *key, size_t i, double def)
{
    nir_param *p = param(nd, key);
    return !p ? def : p->v[p->n == 1 ? 0 : i];
}

/* exp(-dt / tau): 0 for tau 0, 1 for an infinite tau; a negative tau is refused by the caller. */
static double decay(double dt_s, double tau) { return tau == 0 ? 0.0 : isinf(tau) ? 1.0 : exp(-dt_s / tau); }

/* A gain equal to 1 but for the rounding of r (1 - beta) is 1. */
static double snap(double g) { return fabs(g - 1.0) <= 1e-12 ? 1.0 : g; }

/* One value for the whole node, or a refusal naming it. */
static int uniform(compiler *c, nir_node *nd, const char *what, const double *v, size_t n, double *out)
{
    for (size_t i = 1; i < n; i++)
        if (fabs(v[i] - v[0]) > 1e-9 * fmax(1.0, fabs(v[0])))
            return gfail(c->err, c->errlen, c->g->path, "node %s: %s differs between neurons (%g, %g): nsim's %s takes one per node",
                         nd->name, what, v[0], v[i], nd->type);
    *out = v[0];
    return 0;
}

static int check_taus(compiler *c, nir_node *nd)
{
    static const char *const taus[] = {"tau", "tau_mem", "tau_syn", "r", NULL};
    for (int t = 0; taus[t]; t++) {
        nir_param *p = param(nd, taus[t]);
        for (size_t i = 0; p && i < p->n; i++)
            if (p->v[i] < 0) return gfail(c->err, c->errlen, c->g->path, "node %s: %s[%zu] is %g, must be >= 0", nd->name, taus[t], i, p->v[i]);
    }
    return 0;
}

/* Make the population of target node t (a neuron node, or the integrator behind Output), set its
 * parameters and state from the node and the summed bias, and scale the rows of its incoming
 * projections by the node's input gain. */
static ns_pop *make_pop(compiler *c, ns_net *net, int t, double dt_s, int start, int T, int *leaky)
{
    nir_graph *g = c->g;
    nir_node *nd = &g->node[t];
    const size_t m = nd->in_n;
    double *gain = calloc(m, sizeof *gain), *b = calloc(m, sizeof *b), *beta = calloc(m, sizeof *beta),
           *v0 = calloc(m, sizeof *v0), *syn0 = calloc(m, sizeof *syn0), *th = calloc(m, sizeof *th),
           *al = calloc(m, sizeof *al);
    ns_pop *pop = NULL;
    int rc = 0;
    if (!gain || !b || !beta || !v0 || !syn0 || !th || !al) {
        gfail(c->err, c->errlen, g->path, "out of memory");
        goto done;
    }
    if (check_taus(c, nd)) goto done;
    const char *model = "lif_bptt";
    double theta = 0, alpha = 0, betau = 0;
    for (size_t i = 0; i < m; i++) {
        const double bias = c->bias[t][i];
        double be = 0, a = 0, gn = 1, cst = 0, vr = pv(nd, "v_reset", i, 0);
        switch (nd->kind) {
        case K_LIF:
        case K_CUBALIF:
            be = decay(dt_s, pv(nd, nd->kind == K_LIF ? "tau" : "tau_mem", i, 0));
            a = nd->kind == K_LIF ? 0 : decay(dt_s, pv(nd, "tau_syn", i, 0));
            gn = pv(nd, "r", i, 1) * (1 - be) * (1 - a) * pv(nd, "w_in", i, 1);
            cst = (1 - be) * (pv(nd, "v_leak", i, 0) - vr);
            th[i] = pv(nd, "v_threshold", i, 0) - vr;
            break;
        case K_IF:
            be = 1, gn = pv(nd, "r", i, 1) * dt_s, th[i] = pv(nd, "v_threshold", i, 0) - vr;
            break;
        case K_THRESHOLD:
            be = 0, cst = -pv(nd, "threshold", i, 0), vr = 0;
            break;
        case K_LI:
        case K_CUBALI:
            be = decay(dt_s, pv(nd, nd->kind == K_LI ? "tau" : "tau_mem", i, 0));
            a = nd->kind == K_LI ? 0 : decay(dt_s, pv(nd, "tau_syn", i, 0));
            gn = pv(nd, "r", i, 1) * (1 - be) * (1 - a) * pv(nd, "w_in", i, 1);
            cst = (1 - be) * pv(nd, "v_leak", i, 0);
            vr = 0;
            break;
        case K_ULTRALIF:
            be = pv(nd, "ln_tau", i, 0);
            break;
        case K_ULTRADLIF:
            be = pv(nd, param(nd, "tau") ? "tau" : "c", i, 0);
            break;
        default: /* the integrator behind Output */
            break;
        }
        gain[i] = snap(gn);
        beta[i] = be;
        al[i] = a;
        b[i] = gain[i] * bias + cst * (1 - a);
        syn0[i] = cst;
        v0[i] = -vr; /* the membrane starts at 0, kept shifted by v_reset */
    }
    const int lif_like = nd->kind == K_LIF || nd->kind == K_CUBALIF || nd->kind == K_IF;
    if (lif_like && (uniform(c, nd, "v_threshold - v_reset", th, m, &theta) || uniform(c, nd, "tau_syn", al, m, &alpha))) goto done;
    if (lif_like && alpha > 0.999999) {
        gfail(c->err, c->errlen, g->path, "node %s: tau_syn %g s is %.9g steps of %g ms: nsim's synaptic decay per step is at most 0.999999",
              nd->name, pv(nd, "tau_syn", 0, 0), pv(nd, "tau_syn", 0, 0) / dt_s, dt_s * 1e3);
        goto done;
    }
    if ((nd->kind == K_LI || nd->kind == K_CUBALI) &&
        (uniform(c, nd, nd->kind == K_LI ? "tau" : "tau_mem", beta, m, &betau) || uniform(c, nd, "tau_syn", al, m, &alpha)))
        goto done;
    const char *names[5] = {"start", "theta", "eps", "reset_subtract", "alpha"};
    double vals[5] = {start, theta, 1.0, 0.0, alpha};
    int nset = 5;
    const char *decay_var = "beta", *v_var = "V_m";
    *leaky = 0;
    if (nd->kind == K_OUTPUT || nd->kind == K_LI || nd->kind == K_CUBALI) {
        *leaky = nd->kind != K_OUTPUT;
        model = *leaky ? "leaky_readout" : "integrator";
        names[1] = "steps", names[2] = "beta", names[3] = "alpha";
        vals[1] = T > 0 ? T : 1e15, vals[2] = betau, vals[3] = alpha;
        nset = *leaky ? 4 : 2;
        decay_var = v_var = NULL;
    } else if (nd->kind == K_ULTRALIF || nd->kind == K_ULTRADLIF) {
        const int ablation = !strcmp(param(nd, "definition")->s, "ablation");
        model = nd->kind == K_ULTRALIF ? (ablation ? "ultralif_ablation" : "ultralif")
                                       : (ablation ? "ultradlif_ablation" : "ultradlif");
        vals[1] = pv(nd, "theta", 0, 0);
        vals[2] = pv(nd, "eps", 0, 1);
        vals[3] = pv(nd, "reset_subtract", 0, 0);
        vals[4] = 0;
        nset = ablation ? 5 : 3;
        decay_var = nd->kind == K_ULTRALIF ? "ln_tau" : ablation ? "c" : "tau";
        v_var = NULL;
    }
    pop = ns_net_add_population(net, model, m, nd->name);
    if (!pop) goto done;
    rc = ns_pop_set_params(net, pop, names, vals, nset);
    if (!rc) rc = ns_pop_set_state_array(net, pop, "b", b);
    if (!rc && decay_var) rc = ns_pop_set_state_array(net, pop, decay_var, beta);
    if (!rc && v_var) rc = ns_pop_set_state_array(net, pop, v_var, v0);
    if (!rc && alpha > 0 && (lif_like || *leaky)) rc = ns_pop_set_state_array(net, pop, "syn", syn0);
    if (rc) {
        pop = NULL;
        goto done;
    }
    for (int k = 0; k < c->npr; k++)
        if (c->pr[k].tgt == t) {
            size_t n = g->node[c->pr[k].src].out_n;
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++) c->pr[k].W[i * n + j] *= gain[i];
        }
done:
    free(gain), free(b), free(beta), free(v0), free(syn0), free(th), free(al);
    return pop;
}

/* A graph with a cell node: Input -> nsim.CfC or nsim.LTC -> Output, nothing else. The cell
 * population is the readout; the Input's graded output feeds its input channels one to one. Its
 * weights reach it as NODE.npz in the output folder (a population loads its cell from a file at its
 * first run), written from the node's arrays as they are, so the cell is the one check_cell built. */
static int load_cell(ns_net *net, nir_graph *g, ns_pop *input, const ns_nir_load_opts *o, ns_nir_loaded *out, char *err,
                     size_t errlen)
{
    int in_node = -1, cell = -1;
    for (int i = 0; i < g->nn; i++) {
        if (g->node[i].kind == K_INPUT) in_node = i;
        if (g->node[i].kind == K_CFC || g->node[i].kind == K_LTC) cell = cell < 0 ? i : -2;
    }
    if (cell == -2 || g->nn != 3 || g->ne != 2 || g->node[g->edge[0][0]].kind == K_OUTPUT ||
        !((g->edge[0][0] == in_node && g->edge[1][0] == cell) || (g->edge[1][0] == in_node && g->edge[0][0] == cell)))
        return gfail(err, errlen, g->path, "nsim runs an nsim.CfC or nsim.LTC node only as Input -> cell -> Output (three "
                     "nodes, two edges)");
    nir_node *nd = &g->node[cell];
    if (ns_pop_size(input) != nd->in_n)
        return gfail(err, errlen, g->path, "node %s takes %zu inputs, population %s has %zu", nd->name, nd->in_n,
                     ns_pop_name(input), ns_pop_size(input));
    ns_nir_cell_opts co;
    if (cell_options(g, nd, &co, err, errlen)) return -1;
    if (nd->kind == K_LTC && co.epsilon != 1e-8)
        return gfail(err, errlen, g->path, "node %s: epsilon %g: nsim's ltc population runs ncps's 1e-8", nd->name, co.epsilon);
    char file[NS_NIR_NAME + 16], wpath[4096];
    ns_ctx *ctx = ns_net_ctx(net);
    /* a file of its own: another graph loaded in this run may have a node of the same name */
    for (int k = 1;; k++) {
        if (k == 1) snprintf(file, sizeof file, "%s.npz", nd->name);
        else snprintf(file, sizeof file, "%s_%d.npz", nd->name, k);
        if (ns_ctx_output_path(ctx, file, wpath, (int)sizeof wpath))
            return gfail(err, errlen, g->path, "node %s: %s", nd->name, ns_ctx_errmsg(ctx));
        if (access(wpath, F_OK) != 0) break;
        if (k >= 1000) return gfail(err, errlen, g->path, "node %s: no free name for its weights file", nd->name);
    }
    if (ns_npz_write(wpath, nd->cell.a, nd->cell.n, err, errlen)) return -1;
    const size_t M = nd->in_n;
    const char *names[3];
    double vals[3];
    names[0] = "inputs", vals[0] = (double)M;
    if (nd->kind == K_CFC) names[1] = "mode", vals[1] = co.mode ? 1 : -1, names[2] = "activation", vals[2] = co.activation;
    else names[1] = "implicit_constraints", vals[1] = co.implicit, names[2] = "unfolds", vals[2] = co.unfolds;
    ns_pop *pop = ns_net_add_population(net, nd->kind == K_CFC ? "cfc" : "ltc", nd->out_n, nd->name);
    double *I = pop ? calloc(M * M, sizeof *I) : NULL;
    int rc = !I;
    for (size_t i = 0; I && i < M; i++) I[i * M + i] = 1.0;
    if (!rc) rc = ns_pop_set_params(net, pop, names, vals, 3);
    if (!rc) rc = ns_pop_set_weights(net, pop, wpath);
    if (!rc) rc = ns_net_connect_graded(net, input, pop, I, ns_net_dt(net));
    free(I);
    if (rc) {
        snprintf(err, errlen, "%.900s: node %s: %s", g->path, nd->name, pop || rc != 1 ? ns_ctx_errmsg(ctx) : "out of memory");
        return -1;
    }
    const int T = o && o->T > 0 ? o->T : g->has_T ? (int)g->meta_T : 0;
    out->n_pops = 1;
    out->pop[0] = pop;
    snprintf(out->name[0], NS_NIR_NAME, "%s", nd->name);
    out->depth[0] = 1;
    out->readout = pop;
    out->T = T;
    out->classes = (int)nd->out_n;
    out->steps = T + 1;
    out->cell = nd->kind == K_CFC ? 1 : 2;
    return 0;
}

int ns_nir_load(ns_net *net, const char *path, ns_pop *input, const ns_nir_load_opts *o, ns_nir_loaded *out)
{
    char err[1024] = "";
    memset(out, 0, sizeof *out);
    nir_graph *g = graph_read(path, err, sizeof err);
    if (!g) return ns_error(ns_net_ctx(net), NS_EINVAL, "%s", err);
    compiler *c = calloc(1, sizeof *c);
    ns_pop *pops[NS_NIR_MAX_NODES] = {0};
    int depth[NS_NIR_MAX_NODES], rc = 0, in_node = -1, out_node = -1, readout = -1;
    if (!c) {
        graph_free(g);
        return ns_error(ns_net_ctx(net), NS_ENOMEM, "out of memory");
    }
    c->g = g, c->err = err, c->errlen = sizeof err;
    rc = check_graph(g, err, sizeof err);
    int has_cell = 0;
    for (int i = 0; i < g->nn; i++) has_cell |= g->node[i].kind == K_CFC || g->node[i].kind == K_LTC;
    if (!rc && has_cell) {
        if (load_cell(net, g, input, o, out, err, sizeof err)) rc = ns_error(ns_net_ctx(net), NS_EINVAL, "%s", err), memset(out, 0, sizeof *out);
        free(c);
        graph_free(g);
        return rc;
    }
    for (int i = 0; i < g->nn; i++) {
        if (g->node[i].kind == K_INPUT) in_node = i;
        if (g->node[i].kind == K_OUTPUT) out_node = i;
    }
    if (!rc && ns_pop_size(input) != g->node[in_node].out_n)
        rc = gfail(err, sizeof err, path, "the graph takes %zu inputs (node %s), population %s has %zu", g->node[in_node].out_n,
                   g->node[in_node].name, ns_pop_name(input), ns_pop_size(input));
    /* the readout: an LI or CubaLI feeding Output alone, else an integrator in Output's place */
    if (!rc) {
        int preds = 0, last = -1;
        for (int e = 0; e < g->ne; e++)
            if (g->edge[e][1] == out_node) preds++, last = g->edge[e][0];
        readout = out_node;
        if (preds == 1 && (g->node[last].kind == K_LI || g->node[last].kind == K_CUBALI)) readout = last;
        for (int i = 0; i < g->nn && !rc; i++)
            if ((g->node[i].kind == K_LI || g->node[i].kind == K_CUBALI) && i != readout)
                rc = gfail(err, sizeof err, path, "node %s: nsim runs %s only as the readout (the one node feeding Output)",
                           g->node[i].name, g->node[i].type);
    }
    /* every target's incoming projections and summed bias */
    for (int t = 0; t < g->nn && !rc; t++) {
        nir_node *nt = &g->node[t];
        if (!(is_neuron(nt->kind) || (t == readout && nt->kind == K_OUTPUT))) continue;
        size_t m = nt->in_n;
        if (m > MAX_MAP / m) {
            rc = gfail(err, sizeof err, path, "node %s: %zu neurons: nsim builds at most 8192 a node (its maps are dense)", nt->name, m);
            break;
        }
        double *I = calloc(m * m, sizeof *I);
        if (!(c->bias[t] = calloc(m, sizeof *c->bias[t])) || !I) {
            free(I);
            rc = gfail(err, sizeof err, path, "out of memory");
            break;
        }
        for (size_t i = 0; i < m; i++) I[i * m + i] = 1.0;
        for (int e = 0; e < g->ne && !rc; e++)
            if (g->edge[e][1] == t) rc = collect(c, t, m, g->edge[e][0], I, 0);
        free(I);
    }
    /* each target's first live step: its shortest path from the input, one step per projection */
    for (int i = 0; i < g->nn; i++) depth[i] = i == in_node ? 0 : -1;
    for (int pass = 0; pass < g->nn && !rc; pass++)
        for (int k = 0; k < c->npr; k++) {
            int s = c->pr[k].src, t = c->pr[k].tgt;
            if (s != t && depth[s] >= 0 && (depth[t] < 0 || depth[t] > depth[s] + 1)) depth[t] = depth[s] + 1;
        }
    for (int k = 0; k < c->npr && !rc; k++)
        if (c->pr[k].src != in_node && !c->bias[c->pr[k].src] && g->node[c->pr[k].src].kind != K_INPUT)
            rc = gfail(err, sizeof err, path, "node %s feeds a neuron but is none", g->node[c->pr[k].src].name);
    const int T = o && o->T > 0 ? o->T : g->has_T ? (int)g->meta_T : 0;
    const double dt_s = ns_net_dt(net) * 1e-3;
    if (!rc) pops[in_node] = input;
    for (int t = 0; t < g->nn && !rc; t++) {
        if (!c->bias[t]) continue;
        int leaky = 0;
        if (!(pops[t] = make_pop(c, net, t, dt_s, depth[t] < 0 ? 0 : depth[t], T, &leaky))) {
            if (!err[0]) /* the engine refused a value: say which file and node */
                snprintf(err, sizeof err, "%s: node %s: %s", path, g->node[t].name, ns_ctx_errmsg(ns_net_ctx(net)));
            rc = NS_EINVAL;
            break;
        }
        if (t == readout) {
            out->readout = pops[t];
            out->leaky = leaky;
        } else if (out->n_pops < NS_NIR_MAX_NODES) {
            out->pop[out->n_pops] = pops[t];
            out->depth[out->n_pops] = depth[t];
            snprintf(out->name[out->n_pops++], NS_NIR_NAME, "%s", g->node[t].name);
        }
    }
    for (int k = 0; k < c->npr && !rc; k++)
        rc = ns_net_connect_graded(net, pops[c->pr[k].src], pops[c->pr[k].tgt], c->pr[k].W, ns_net_dt(net));
    if (!rc) {
        out->T = T;
        out->classes = (int)g->node[readout].out_n;
        out->steps = T + (depth[readout] < 0 ? 0 : depth[readout]);
    }
    if (rc && err[0]) rc = ns_error(ns_net_ctx(net), NS_EINVAL, "%s", err);
    for (int k = 0; k < c->npr; k++) free(c->pr[k].W);
    for (int i = 0; i < g->nn; i++) free(c->bias[i]);
    free(c);
    graph_free(g);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

void ns_nir_logits(const ns_nir_loaded *ld, double *logits)
{
    for (int c = 0; c < ld->classes; c++)
        logits[c] = ld->cell ? ns_pop_get_state(ld->readout, ld->cell == 1 ? "h" : "v", (size_t)c)
                  : ld->leaky ? ns_pop_get_state(ld->readout, "U_max", (size_t)c)
                              : ns_pop_get_state(ld->readout, "sum", (size_t)c) / (ld->T > 0 ? ld->T : 1);
}

/* ---- writing ---- */

static int w_string(hid_t loc, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), d = -1;
    int rc = -1;
    if (t >= 0 && sp >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
        (d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
        H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0)
        rc = 0;
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return rc;
}

/* numbers as float64 (rank 0: one value, a scalar dataset) or int64 (ints set) */
static int w_array(hid_t loc, const char *name, int rank, const size_t *dims, const double *v, int ints)
{
    hsize_t hd[MAX_RANK] = {0};
    size_t n = 1;
    for (int k = 0; k < rank; k++) hd[k] = dims[k], n *= dims[k];
    hid_t sp = rank ? H5Screate_simple(rank, hd, NULL) : H5Screate(H5S_SCALAR), d = -1;
    int rc = -1;
    long long *iv = ints ? malloc((n ? n : 1) * sizeof *iv) : NULL;
    if (ints && iv)
        for (size_t i = 0; i < n; i++) iv[i] = (long long)v[i];
    if (sp >= 0 && (!ints || iv) &&
        (d = H5Dcreate2(loc, name, ints ? H5T_STD_I64LE : H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
        H5Dwrite(d, ints ? H5T_NATIVE_LLONG : H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, ints ? (const void *)iv : (const void *)v) >= 0)
        rc = 0;
    free(iv);
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

static int w_vec(hid_t loc, const char *name, size_t n, const double *v) { return w_array(loc, name, 1, &n, v, 0); }

/* A node group under nodes with its type; the caller writes the parameters and closes it. */
static hid_t w_node(hid_t nodes, const char *name, const char *type)
{
    hid_t g = H5Gcreate2(nodes, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0 && w_string(g, "type", type)) {
        H5Gclose(g);
        return -1;
    }
    return g;
}

static int w_edges(hid_t loc, const char (*e)[2][NS_NIR_NAME], int n)
{
    hsize_t dims[2] = {(hsize_t)n, 2};
    const char **p = malloc((size_t)(n ? n : 1) * 2 * sizeof *p);
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate_simple(2, dims, NULL), d = -1;
    int rc = -1;
    if (p) {
        for (int k = 0; k < n; k++) p[2 * k] = e[k][0], p[2 * k + 1] = e[k][1];
        if (t >= 0 && sp >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
            (d = H5Dcreate2(loc, "edges", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
            H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, p) >= 0)
            rc = 0;
    }
    free(p);
    if (d >= 0) H5Dclose(d);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return rc;
}

/* ln beta's time constant, seconds: dt / -ln beta (beta 0: 0). */
static double tau_of(double beta, double dt_s) { return beta == 0 ? 0.0 : -dt_s / log(beta); }

typedef struct {
    const char *path;
    char *err;
    size_t errlen;
    hid_t nodes;
    char (*edges)[2][NS_NIR_NAME];
    int ne;
} writer;

static int edge(writer *w, const char *a, const char *b)
{
    if (w->ne >= MAX_EDGES) return -1;
    snprintf(w->edges[w->ne][0], NS_NIR_NAME, "%s", a);
    snprintf(w->edges[w->ne][1], NS_NIR_NAME, "%s", b);
    w->ne++;
    return 0;
}

/* A group for an Affine or a Linear of rows x cols. */
static int w_affine(writer *w, const char *name, const double *W, const double *b, size_t rows, size_t cols)
{
    hid_t g = w_node(w->nodes, name, b ? "Affine" : "Linear");
    size_t dims[2] = {rows, cols};
    int rc = g < 0 || w_array(g, "weight", 2, dims, W, 0) || (b && w_vec(g, "bias", rows, b));
    if (g >= 0) H5Gclose(g);
    return rc ? -1 : 0;
}

/* The body of ns_nir_write_snn on an open file: f is the new file, s the parsed snn file. */
static int write_snn(writer *w, hid_t f, ns_cell_file *s, double dt_s)
{
    char err[512];
    size_t T, inputs, classes, layers;
    const char *path = w->path;
    if (ns_cell_file_key_size(s, "T", &T, err, sizeof err) || ns_cell_file_key_size(s, "inputs", &inputs, err, sizeof err) ||
        ns_cell_file_key_size(s, "classes", &classes, err, sizeof err) ||
        ns_cell_file_key_size(s, "layers", &layers, err, sizeof err))
        return gfail(w->err, w->errlen, path, "%s", err);
    if (layers < 1 || layers > 4) return gfail(w->err, w->errlen, path, "1 to 4 hidden layers, not %zu", layers);
    const char *neuron = ns_cell_file_key(s, "neuron"), *reset = ns_cell_file_key(s, "reset");
    const char *rec_key = ns_cell_file_key(s, "recurrent"), *definition = ns_cell_file_key(s, "definition");
    const char *readout = ns_cell_file_key(s, "readout");
    const int recurrent = rec_key && strcmp(rec_key, "0"), subtract = reset && !strcmp(reset, "subtract");
    const int leaky = readout && !strcmp(readout, "leaky");
    const char *def = definition ? definition : "ablation";
    double theta = 0, syn_alpha = 0, rbeta = 0, ralpha = 0;
    if (ns_cell_file_key_double(s, "theta", &theta, err, sizeof err) ||
        (ns_cell_file_key(s, "syn_alpha") && ns_cell_file_key_double(s, "syn_alpha", &syn_alpha, err, sizeof err)) ||
        (leaky && (ns_cell_file_key_double(s, "readout_beta", &rbeta, err, sizeof err) ||
                   ns_cell_file_key_double(s, "readout_alpha", &ralpha, err, sizeof err))))
        return gfail(w->err, w->errlen, path, "%s", err);
    const int lif = neuron && !strcmp(neuron, "lif");
    const int ultra = neuron && (!strcmp(neuron, "ultralif") || !strcmp(neuron, "ultraplif"));
    const int ring = neuron && (!strcmp(neuron, "ultradlif") || !strcmp(neuron, "ultradplif"));
    if (!lif && !ultra && !ring) return gfail(w->err, w->errlen, path, "neuron '%s' has no NIR node", neuron ? neuron : "");
    if (lif && subtract)
        return gfail(w->err, w->errlen, path, "reset = subtract has no NIR node (NIR's LIF resets to v_reset): train with reset = \"zero\"");
    if (readout && !leaky && strcmp(readout, "mean")) return gfail(w->err, w->errlen, path, "the readout is mean or leaky");
    hid_t g;
    size_t shape = inputs;
    double shape_d = (double)inputs;
    if ((g = w_node(w->nodes, "input", "Input")) < 0 || w_array(g, "shape", 1, (size_t[]){1}, &shape_d, 1)) return -1;
    H5Gclose(g);
    (void)shape;
    char prev[NS_NIR_NAME] = "input";
    size_t prev_n = inputs;
    for (size_t l = 0; l < layers; l++) {
        char nh[32], nW[32], nb[32], nd[32], ne[32], lin[NS_NIR_NAME], neu[NS_NIR_NAME];
        size_t H;
        snprintf(nh, sizeof nh, "hidden%zu", l);
        if (ns_cell_file_key_size(s, nh, &H, err, sizeof err)) return gfail(w->err, w->errlen, path, "%s", err);
        snprintf(nW, sizeof nW, "lin%zu.W", l), snprintf(nb, sizeof nb, "lin%zu.b", l);
        snprintf(nd, sizeof nd, "decay%zu", l), snprintf(ne, sizeof ne, "eps%zu", l);
        const double *W = ns_cell_file_array(s, nW, H, prev_n, 1, err, sizeof err);
        const double *b = W ? ns_cell_file_array(s, nb, 1, H, 1, err, sizeof err) : NULL;
        const double *dec = b ? ns_cell_file_array(s, nd, 1, H, 1, err, sizeof err) : NULL;
        const double *eps = dec ? ns_cell_file_array(s, ne, 1, 1, 1, err, sizeof err) : NULL;
        if (!eps) return gfail(w->err, w->errlen, path, "%s", err);
        snprintf(lin, sizeof lin, "lin%zu", l);
        snprintf(neu, sizeof neu, "%s%zu", lif ? "lif" : ultra ? "ultralif" : "ultradlif", l);
        if (w_affine(w, lin, W, b, H, prev_n)) return -1;
        if (lif) {
            double *tau = malloc(H * sizeof *tau), *r = malloc(H * sizeof *r), *zero = calloc(H, sizeof *zero),
                   *thr = malloc(H * sizeof *thr), *ts = malloc(H * sizeof *ts), *win = malloc(H * sizeof *win);
            int rc = !tau || !r || !zero || !thr || !ts || !win;
            for (size_t i = 0; !rc && i < H; i++) {
                if (!(dec[i] >= 0 && dec[i] < 1)) {
                    rc = gfail(w->err, w->errlen, path, "layer %zu: beta[%zu] is %g: NIR's LIF needs a decay in [0, 1)", l, i, dec[i]);
                    break;
                }
                tau[i] = tau_of(dec[i], dt_s), r[i] = 1 / (1 - dec[i]), thr[i] = theta;
                ts[i] = tau_of(syn_alpha, dt_s), win[i] = 1 / (1 - syn_alpha);
            }
            if (!rc) {
                g = w_node(w->nodes, neu, syn_alpha > 0 ? "CubaLIF" : "LIF");
                rc = g < 0 || w_vec(g, syn_alpha > 0 ? "tau_mem" : "tau", H, tau) || w_vec(g, "r", H, r) ||
                     w_vec(g, "v_leak", H, zero) || w_vec(g, "v_threshold", H, thr) || w_vec(g, "v_reset", H, zero) ||
                     (syn_alpha > 0 && (w_vec(g, "tau_syn", H, ts) || w_vec(g, "w_in", H, win)));
                if (g >= 0) H5Gclose(g);
            }
            free(tau), free(r), free(zero), free(thr), free(ts), free(win);
            if (rc) return -1;
        } else {
            g = w_node(w->nodes, neu, ultra ? "nsim.UltraLIF" : "nsim.UltraDLIF");
            double rs = subtract;
            int rc = g < 0 || w_string(g, "definition", def) || w_array(g, "theta", 0, NULL, &theta, 0) ||
                     w_array(g, "eps", 0, NULL, eps, 0) || w_array(g, "reset_subtract", 0, NULL, &rs, 0) ||
                     w_vec(g, ultra ? "ln_tau" : !strcmp(def, "library") ? "tau" : "c", H, dec);
            if (g >= 0) H5Gclose(g);
            if (rc) return -1;
        }
        if (edge(w, prev, lin) || edge(w, lin, neu)) return -1;
        if (recurrent) {
            char nr[32], rec[NS_NIR_NAME];
            snprintf(nr, sizeof nr, "rec%zu.W", l);
            snprintf(rec, sizeof rec, "rec%zu", l);
            const double *R = ns_cell_file_array(s, nr, H, H, 1, err, sizeof err);
            if (!R) return gfail(w->err, w->errlen, path, "%s", err);
            if (w_affine(w, rec, R, NULL, H, H) || edge(w, neu, rec) || edge(w, rec, neu)) return -1;
        }
        snprintf(prev, sizeof prev, "%s", neu);
        prev_n = H;
    }
    const double *W = ns_cell_file_array(s, "readout.W", classes, prev_n, 1, err, sizeof err);
    const double *b = W ? ns_cell_file_array(s, "readout.b", 1, classes, 1, err, sizeof err) : NULL;
    if (!b) return gfail(w->err, w->errlen, path, "%s", err);
    if (ns_cell_file_check_used(s, err, sizeof err)) return gfail(w->err, w->errlen, path, "%s", err);
    if (w_affine(w, "readout", W, b, classes, prev_n) || edge(w, prev, "readout")) return -1;
    if (leaky) {
        if (!(rbeta >= 0 && rbeta < 1 && ralpha >= 0 && ralpha < 1))
            return gfail(w->err, w->errlen, path, "readout_beta %g and readout_alpha %g must be in [0, 1)", rbeta, ralpha);
        double *v = malloc(classes * 5 * sizeof *v);
        if (!v) return gfail(w->err, w->errlen, path, "out of memory");
        for (size_t i = 0; i < classes; i++) {
            v[i] = tau_of(rbeta, dt_s), v[classes + i] = 1 / (1 - rbeta), v[2 * classes + i] = 0;
            v[3 * classes + i] = tau_of(ralpha, dt_s), v[4 * classes + i] = 1 / (1 - ralpha);
        }
        g = w_node(w->nodes, "li", ralpha > 0 ? "CubaLI" : "LI");
        int rc = g < 0 || w_vec(g, ralpha > 0 ? "tau_mem" : "tau", classes, v) || w_vec(g, "r", classes, v + classes) ||
                 w_vec(g, "v_leak", classes, v + 2 * classes) ||
                 (ralpha > 0 && (w_vec(g, "tau_syn", classes, v + 3 * classes) || w_vec(g, "w_in", classes, v + 4 * classes)));
        if (g >= 0) H5Gclose(g);
        free(v);
        if (rc || edge(w, "readout", "li") || edge(w, "li", "output")) return -1;
    } else if (edge(w, "readout", "output")) {
        return -1;
    }
    double cls = (double)classes;
    if ((g = w_node(w->nodes, "output", "Output")) < 0 || w_array(g, "shape", 1, (size_t[]){1}, &cls, 1)) return -1;
    H5Gclose(g);
    /* the graph's metadata: the steps of one sample, and the step the taus were computed for */
    hid_t md = H5Gcreate2(f, "node/metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    double Td = (double)T;
    int rc = md < 0 || w_array(md, "T", 0, NULL, &Td, 1) || w_array(md, "dt", 0, NULL, &dt_s, 0) ||
             w_string(md, "generator", "nsim " NS_VERSION);
    if (md >= 0) H5Gclose(md);
    return rc ? -1 : 0;
}

/* The file a writer fills first: PATH.tmp, renamed onto PATH by commit_file. */
static int tmp_name(const char *nir_path, char *tmp, size_t len, char *err, size_t errlen)
{
    if (snprintf(tmp, len, "%s.tmp", nir_path) >= (int)len) return gfail(err, errlen, nir_path, "path too long");
    return 0;
}

/* After writing tmp (rc its outcome): rename it onto nir_path, or remove it and leave nir_path as
 * it was, with err saying why (a message already there is kept). */
static int commit_file(int rc, const char *tmp, const char *nir_path, char *err, size_t errlen)
{
    if (!rc && rename(tmp, nir_path) != 0) rc = -1;
    if (!rc) return 0;
    remove(tmp);
    if (!err[0]) gfail(err, errlen, nir_path, "cannot write the NIR file");
    return -1;
}

int ns_nir_write_snn(const char *snn_path, const char *nir_path, double dt_ms, char *err, size_t errlen)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (!(dt_ms > 0 && isfinite(dt_ms))) return gfail(err, errlen, nir_path, "dt is %g ms, must be positive", dt_ms);
    char tmp[4200];
    if (tmp_name(nir_path, tmp, sizeof tmp, err, errlen)) return -1;
    ns_cell_file *s = ns_cell_file_read(snn_path, err, errlen);
    if (!s) return -1;
    if (strcmp(ns_cell_file_kind(s), "snn")) {
        ns_cell_file_free(s);
        return gfail(err, errlen, snn_path, "not a trained network (kind snn)");
    }
    writer w = {snn_path, err, errlen, -1, calloc(MAX_EDGES, sizeof *w.edges), 0};
    err[0] = 0;
    hid_t f = w.edges ? H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT) : -1, root = -1;
    int rc = f < 0 || w_string(f, "version", NS_NIR_VERSION) ||
             (root = H5Gcreate2(f, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 || w_string(root, "type", "NIRGraph") ||
             (w.nodes = H5Gcreate2(root, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0;
    if (!rc) rc = write_snn(&w, f, s, dt_ms * 1e-3);
    if (!rc) rc = w_edges(root, (const char(*)[2][NS_NIR_NAME])w.edges, w.ne);
    if (w.nodes >= 0) H5Gclose(w.nodes);
    if (root >= 0) H5Gclose(root);
    if (f >= 0 && H5Fclose(f) < 0) rc = -1;
    free(w.edges);
    ns_cell_file_free(s);
    return commit_file(rc, tmp, nir_path, err, errlen);
}

/* ---- writing an ncps cell ---- */

int ns_nir_write_cell(const char *npz_path, const char *nir_path, const ns_nir_cell_opts *o, char *err, size_t errlen)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    ns_nir_cell_opts d;
    if (!o) ns_nir_cell_opts_default(&d), o = &d;
    if (!(o->mode == 0 || o->mode == 1)) return gfail(err, errlen, nir_path, "mode %d: 0 (default) or 1 (no_gate)", o->mode);
    if (!(o->activation >= 0 && o->activation <= 4))
        return gfail(err, errlen, nir_path, "activation %d: 0 lecun_tanh, 1 tanh, 2 relu, 3 silu or 4 gelu", o->activation);
    if (!(o->implicit == 0 || o->implicit == 1)) return gfail(err, errlen, nir_path, "implicit_constraints %d: 0 or 1", o->implicit);
    if (!(o->unfolds >= 1 && o->unfolds <= 1000)) return gfail(err, errlen, nir_path, "unfolds %u: 1 to 1000", o->unfolds);
    if (!(o->epsilon >= 0 && o->epsilon <= 1)) return gfail(err, errlen, nir_path, "epsilon %g: 0 to 1", o->epsilon);
    char tmp[4200];
    if (tmp_name(nir_path, tmp, sizeof tmp, err, errlen)) return -1;
    ns_npz *z = ns_npz_read(npz_path, err, errlen);
    if (!z) return -1;
    int ltc = 0;
    for (size_t i = 0; i < z->n; i++) {
        size_t n = strlen(z->a[i].name);
        ltc |= n >= 5 && !strcmp(z->a[i].name + n - 5, "gleak") && (n == 5 || z->a[i].name[n - 6] == '.');
    }
    /* the arrays must make a cell, and fit a node: names HDF5 can hold and nsim reads back */
    size_t M = 0, N = 0;
    int rc = 0;
    if (ltc) {
        ns_ltc_cell *c = ns_ltc_import_npz(npz_path, o->implicit, o->unfolds, o->epsilon, err, errlen);
        if (c) M = ns_ltc_opts_of(c)->inputs, N = ns_ltc_opts_of(c)->units, ns_ltc_free(c);
        rc = !c;
    } else {
        ns_cfc_cell *c = ns_cfc_import_npz(npz_path, o->mode ? NS_CFC_NO_GATE : NS_CFC_DEFAULT,
                                           (ns_cfc_activation)o->activation, err, errlen);
        if (c) M = ns_cfc_opts_of(c)->inputs, N = ns_cfc_opts_of(c)->units, ns_cfc_free(c);
        rc = !c;
    }
    if (!rc && z->n + 8 > MAX_CELL_ARRAYS) rc = gfail(err, errlen, npz_path, "%zu arrays: a NIR cell node holds at most %d", z->n, MAX_CELL_ARRAYS - 8);
    for (size_t i = 0; !rc && i < z->n; i++) {
        const char *nm = z->a[i].name;
        if (strlen(nm) >= NS_NIR_NAME || strchr(nm, '/') || !strcmp(nm, "type") || is_cell_option(nm) || z->a[i].ndim > MAX_RANK)
            rc = gfail(err, errlen, npz_path, "array %s: a NIR node's arrays have names of 1 to %d characters without '/', other "
                       "than type and the options, and at most %d dimensions", nm, NS_NIR_NAME - 1, MAX_RANK);
    }
    if (rc) {
        ns_npz_free(z);
        return -1;
    }
    char edges[2][2][NS_NIR_NAME];
    const char *node = ltc ? "ltc" : "cfc";
    snprintf(edges[0][0], NS_NIR_NAME, "input"), snprintf(edges[0][1], NS_NIR_NAME, "%s", node);
    snprintf(edges[1][0], NS_NIR_NAME, "%s", node), snprintf(edges[1][1], NS_NIR_NAME, "output");
    err[0] = 0;
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), root = -1, nodes = -1, g = -1;
    double Md = (double)M, Nd = (double)N;
    rc = f < 0 || w_string(f, "version", NS_NIR_VERSION) ||
         (root = H5Gcreate2(f, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 || w_string(root, "type", "NIRGraph") ||
         (nodes = H5Gcreate2(root, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0;
    if (!rc) {
        rc = (g = w_node(nodes, "input", "Input")) < 0 || w_array(g, "shape", 1, (size_t[]){1}, &Md, 1);
        if (g >= 0) H5Gclose(g);
    }
    if (!rc) {
        rc = (g = w_node(nodes, "output", "Output")) < 0 || w_array(g, "shape", 1, (size_t[]){1}, &Nd, 1);
        if (g >= 0) H5Gclose(g);
    }
    if (!rc) {
        rc = (g = w_node(nodes, node, ltc ? "nsim.LTC" : "nsim.CfC")) < 0;
        for (size_t i = 0; !rc && i < z->n; i++)
            rc = w_array(g, z->a[i].name, (int)z->a[i].ndim, z->a[i].shape, z->a[i].data, 0);
        if (!rc && !ltc) rc = w_string(g, "mode", cfc_modes[o->mode]) || w_string(g, "activation", cfc_acts[o->activation]);
        if (!rc && ltc) {
            double im = o->implicit, un = o->unfolds;
            rc = w_array(g, "implicit_constraints", 0, NULL, &im, 1) || w_array(g, "unfolds", 0, NULL, &un, 1) ||
                 w_array(g, "epsilon", 0, NULL, &o->epsilon, 0);
        }
        if (g >= 0) H5Gclose(g);
    }
    if (!rc) rc = w_edges(root, (const char(*)[2][NS_NIR_NAME])edges, 2);
    if (!rc) {
        hid_t md = H5Gcreate2(root, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        rc = md < 0 || w_string(md, "generator", "nsim " NS_VERSION);
        if (md >= 0) H5Gclose(md);
    }
    if (nodes >= 0) H5Gclose(nodes);
    if (root >= 0) H5Gclose(root);
    if (f >= 0 && H5Fclose(f) < 0) rc = -1;
    ns_npz_free(z);
    return commit_file(rc, tmp, nir_path, err, errlen);
}
