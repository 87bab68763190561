/* lua/lua_phase.c — nsim.shapes, read_image, read_mask, write_image, write_mask, cluster_phases,
 * ari, fg_ari, order_parameter, phase_raster and phase_map. Images and masks are flat Lua lists,
 * row-major from the top row, with width and height fields; phases come from a state record of
 * the output folder or from lists. Every output goes to the run's output folder. */
#include "lua/lua_phase.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "analysis/image.h"
#include "analysis/phase.h"
#include "analysis/segment.h"
#include "analysis/shapes.h"
#include "base/files.h"
#include "io/analyze.h"
#include "io/runinfo.h"
#include "lua/lua_util.h"

/* ---- helpers ---- */

/* An input file: as given when it exists (or is absolute), else beside the script. */
static void input_path(lua_State *L, const char *file, char *out, size_t len)
{
    ns_script *s = ns_lua_script(L);
    snprintf(out, len, "%s", file);
    if (file[0] == '/' || access(file, F_OK) == 0) return;
    ns_path_beside(s->script, file, out, len);
    if (access(out, F_OK) != 0) snprintf(out, len, "%s", file);
}

/* The list at idx as whole numbers (labels) in [lo, hi]. */
static int *label_list(lua_State *L, int idx, long *n, int lo, int hi, const char *what)
{
    double *v = ns_lua_number_list(L, idx, n, 0, what);
    int *lab = lua_newuserdatauv(L, (size_t)(*n ? *n : 1) * sizeof *lab, 0);
    for (long i = 0; i < *n; i++) {
        if (!(v[i] >= lo && v[i] <= hi && v[i] == floor(v[i])))
            ns_lua_errorf(L, "%s: item %ld is %g, not a whole number in [%d, %d]", what, i + 1, v[i], lo, hi);
        lab[i] = (int)v[i];
    }
    return lab;
}

/* The width and height fields of an image table at idx, checked against its length. */
static void image_dims(lua_State *L, int idx, long n, int *w, int *h, const char *what)
{
    double wd = ns_lua_field_number(L, idx, "width", 0, what), hd = ns_lua_field_number(L, idx, "height", 0, what);
    if (!(wd >= 1 && hd >= 1 && wd == floor(wd) && hd == floor(hd) && wd <= 32768 && hd <= 32768))
        ns_lua_errorf(L, "%s: the image needs width and height, whole numbers of pixels in [1, 32768] (has %g x %g)",
                      what, wd, hd);
    if ((long)wd * (long)hd != n)
        ns_lua_errorf(L, "%s: %ld values for a %g x %g image (%g pixels)", what, n, wd, hd, wd * hd);
    *w = (int)wd, *h = (int)hd;
}

static void set_dims(lua_State *L, int w, int h)
{
    lua_pushinteger(L, w);
    lua_setfield(L, -2, "width");
    lua_pushinteger(L, h);
    lua_setfield(L, -2, "height");
}

static void push_image(lua_State *L, int w, int h, const double *px)
{
    long n = (long)w * h;
    lua_createtable(L, (int)n, 2);
    for (long i = 0; i < n; i++) {
        lua_pushnumber(L, px[i]);
        lua_rawseti(L, -2, i + 1);
    }
    set_dims(L, w, h);
}

static void push_mask(lua_State *L, int w, int h, const int *lab, int k)
{
    long n = (long)w * h;
    lua_createtable(L, (int)n, 3);
    for (long i = 0; i < n; i++) {
        lua_pushinteger(L, lab[i]);
        lua_rawseti(L, -2, i + 1);
    }
    set_dims(L, w, h);
    lua_pushinteger(L, k);
    lua_setfield(L, -2, "objects");
}


/* ---- images ---- */

/* nsim.shapes{width, height, objects, kinds, noise, seed, image = FILE, mask = FILE} -> image, mask */
static int l_shapes(lua_State *L)
{
    static const char *const keys[] = {"width", "height", "objects", "kinds", "noise", "seed", "image", "mask", NULL};
    const char *what = "nsim.shapes";
    if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TTABLE);
    ns_lua_options(L, 1, keys, what);
    double w = ns_lua_field_number(L, 1, "width", 64, what), h = ns_lua_field_number(L, 1, "height", 64, what);
    double n = ns_lua_field_number(L, 1, "objects", 3, what), noise = ns_lua_field_number(L, 1, "noise", 0.05, what);
    double seed = ns_lua_field_number(L, 1, "seed", (double)ns_ctx_seed(ns_lua_script(L)->ctx), what);
    if (!(w >= 16 && w <= 4096 && w == floor(w)) || !(h >= 16 && h <= 4096 && h == floor(h)))
        ns_lua_errorf(L, "%s: width = %g, height = %g; each a whole number of pixels in [16, 4096]", what, w, h);
    if (!(n >= 2 && n <= 4 && n == floor(n))) ns_lua_errorf(L, "%s: objects = %g; a whole number in [2, 4]", what, n);
    if (!(seed >= 0 && seed < 18446744073709551616.0 && seed == floor(seed)))
        ns_lua_errorf(L, "%s: seed = %g; a whole number >= 0", what, seed);
    int kinds[16], nk = 0;
    if (!lua_isnoneornil(L, 1)) {
        int t = lua_getfield(L, 1, "kinds");
        if (t == LUA_TSTRING) { /* one name: every object of that kind */
            lua_createtable(L, 1, 0);
            lua_pushvalue(L, -2);
            lua_rawseti(L, -2, 1);
            lua_remove(L, -2);
            t = LUA_TTABLE;
        }
        if (t == LUA_TTABLE) {
            nk = (int)luaL_len(L, -1);
            if (nk < 1 || nk > 16) ns_lua_errorf(L, "%s: kinds lists %d shapes; give 1 to 16", what, nk);
            for (int i = 0; i < nk; i++) {
                lua_geti(L, -1, i + 1);
                const char *s = lua_tostring(L, -1);
                kinds[i] = s && lua_type(L, -1) == LUA_TSTRING ? ns_shape_kind_parse(s) : -1;
                if (kinds[i] < 0)
                    ns_lua_errorf(L, "%s: kinds item %d is '%s'; square, disc, triangle, bar or ring", what, i + 1,
                                  s ? s : luaL_typename(L, -1));
                lua_pop(L, 1);
            }
        } else if (t != LUA_TNIL) {
            ns_lua_errorf(L, "%s: kinds must be a list of names (square, disc, triangle, bar, ring)", what);
        }
        lua_pop(L, 1);
    }
    const char *img_file = ns_lua_field_string(L, 1, "image", NULL, what);
    const char *mask_file = ns_lua_field_string(L, 1, "mask", NULL, what);
    size_t npx = (size_t)w * (size_t)h;
    double *img = lua_newuserdatauv(L, npx * sizeof *img, 0);
    int *mask = lua_newuserdatauv(L, npx * sizeof *mask, 0);
    char err[512];
    if (ns_shapes_make((int)w, (int)h, (int)n, nk ? kinds : NULL, nk, noise, (uint64_t)seed, img, mask, err, sizeof err))
        luaL_error(L, "%s: %s", what, err);
    char path[4096];
    if (img_file) {
        ns_lua_output_path(L, img_file, what, path, (int)sizeof path);
        if (ns_image_write(path, (int)w, (int)h, img, err, sizeof err)) luaL_error(L, "%s: %s", what, err);
    }
    if (mask_file) {
        ns_lua_output_path(L, mask_file, what, path, (int)sizeof path);
        if (ns_image_write_mask(path, (int)w, (int)h, mask, err, sizeof err)) luaL_error(L, "%s: %s", what, err);
    }
    push_image(L, (int)w, (int)h, img);
    push_mask(L, (int)w, (int)h, mask, (int)n);
    return 2;
}

/* nsim.read_image(FILE) -> image (grey values in [0, 1]) */
static int l_read_image(lua_State *L)
{
    char path[4096], err[1024];
    input_path(L, luaL_checkstring(L, 1), path, sizeof path);
    int w, h;
    double *px;
    if (ns_image_read(path, &w, &h, &px, err, sizeof err)) luaL_error(L, "nsim.read_image: %s", err);
    push_image(L, w, h, px);
    free(px);
    return 1;
}

/* nsim.read_mask(FILE) -> mask (labels 0..k, field objects = k) */
static int l_read_mask(lua_State *L)
{
    char path[4096], err[1024];
    input_path(L, luaL_checkstring(L, 1), path, sizeof path);
    int w, h, k, *lab;
    if (ns_image_read_mask(path, &w, &h, &lab, &k, err, sizeof err)) luaL_error(L, "nsim.read_mask: %s", err);
    push_mask(L, w, h, lab, k);
    free(lab);
    return 1;
}

/* nsim.write_image(FILE, image) / nsim.write_mask(FILE, mask) -> path */
static int l_write_image(lua_State *L)
{
    const char *what = "nsim.write_image", *file = luaL_checkstring(L, 1);
    lua_settop(L, 2);
    long n;
    double *px = ns_lua_number_list(L, 2, &n, 0, "nsim.write_image: the image");
    int w, h;
    image_dims(L, 2, n, &w, &h, what);
    char path[4096], err[1024];
    ns_lua_output_path(L, file, what, path, (int)sizeof path);
    if (ns_image_write(path, w, h, px, err, sizeof err)) luaL_error(L, "%s: %s", what, err);
    lua_pushstring(L, path);
    return 1;
}

static int l_write_mask(lua_State *L)
{
    const char *what = "nsim.write_mask", *file = luaL_checkstring(L, 1);
    lua_settop(L, 2);
    long n;
    int *lab = label_list(L, 2, &n, 0, 65535, "nsim.write_mask: the mask");
    int w, h;
    image_dims(L, 2, n, &w, &h, what);
    char path[4096], err[1024];
    ns_lua_output_path(L, file, what, path, (int)sizeof path);
    if (ns_image_write_mask(path, w, h, lab, err, sizeof err)) luaL_error(L, "%s: %s", what, err);
    lua_pushstring(L, path);
    return 1;
}

/* ---- clustering and scores ---- */

/* nsim.cluster_phases(theta, k, {active, threshold, method, seed, restarts}) -> labels, inertia */
static int l_cluster_phases(lua_State *L)
{
    static const char *const keys[] = {"active", "threshold", "method", "seed", "restarts", NULL};
    static const ns_lua_enum methods[] = {{"kmeans", NS_CLUSTER_KMEANS}, {"agglomerative", NS_CLUSTER_AGGLOMERATIVE},
                                          {"k-means", NS_CLUSTER_KMEANS}, {NULL, 0}};
    const char *what = "nsim.cluster_phases";
    lua_settop(L, 3); /* the options stay at 3 whatever the helpers push */
    long n;
    double *theta = ns_lua_number_list(L, 1, &n, 0, "nsim.cluster_phases: theta");
    if (n < 1) ns_lua_errorf(L, "%s: theta is an empty list", what);
    double k = luaL_checknumber(L, 2);
    ns_lua_options(L, 3, keys, what);
    ns_cluster_opts o = {0};
    o.method = (ns_cluster_method)ns_lua_field_enum(L, 3, "method", methods, NS_CLUSTER_KMEANS, "must be", what);
    double seed = ns_lua_field_number(L, 3, "seed", (double)ns_ctx_seed(ns_lua_script(L)->ctx), what);
    double restarts = ns_lua_field_number(L, 3, "restarts", 10, what);
    double threshold = ns_lua_field_number(L, 3, "threshold", 0, what);
    if (!(seed >= 0 && seed < 18446744073709551616.0 && seed == floor(seed)))
        ns_lua_errorf(L, "%s: seed = %g; a whole number >= 0", what, seed);
    if (!(restarts >= 1 && restarts <= 1000 && restarts == floor(restarts)))
        ns_lua_errorf(L, "%s: restarts = %g; a whole number in [1, 1000]", what, restarts);
    if (!(k >= 1 && k == floor(k) && k <= n)) ns_lua_errorf(L, "%s: k = %g; a whole number in [1, %ld]", what, k, n);
    o.seed = (uint64_t)seed, o.restarts = (int)restarts;
    int *active = NULL;
    if (!lua_isnoneornil(L, 3) && lua_getfield(L, 3, "active") != LUA_TNIL) {
        long na;
        double *a = ns_lua_number_list(L, -1, &na, 1, "nsim.cluster_phases: active");
        if (na != n) ns_lua_errorf(L, "%s: active has %ld values for %ld phases", what, na, n);
        active = lua_newuserdatauv(L, (size_t)n * sizeof *active, 0);
        for (long i = 0; i < n; i++) active[i] = a[i] > threshold;
    }
    int *lab = lua_newuserdatauv(L, (size_t)n * sizeof *lab, 0);
    double inertia;
    char err[512];
    if (ns_cluster_phases(theta, active, n, (int)k, &o, lab, &inertia, err, sizeof err)) luaL_error(L, "%s: %s", what, err);
    lua_createtable(L, (int)n, 0);
    for (long i = 0; i < n; i++) {
        lua_pushinteger(L, lab[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushnumber(L, inertia);
    return 2;
}

static int score(lua_State *L, int fg)
{
    const char *what = fg ? "nsim.fg_ari" : "nsim.ari";
    lua_settop(L, 2);
    long na, nb;
    int *a = label_list(L, 1, &na, -2147483647, 2147483647, fg ? "nsim.fg_ari: labels" : "nsim.ari: first labels");
    int *b = label_list(L, 2, &nb, fg ? 0 : -2147483647, 2147483647, fg ? "nsim.fg_ari: mask" : "nsim.ari: second labels");
    if (na != nb) ns_lua_errorf(L, "%s: %ld labels against %ld; one each per unit", what, na, nb);
    double v;
    char err[512];
    int rc = fg ? ns_fg_ari(a, b, na, &v, err, sizeof err) : ns_ari(a, b, na, &v, err, sizeof err);
    if (rc) luaL_error(L, "%s: %s", what, err);
    lua_pushnumber(L, v);
    return 1;
}

/* nsim.ari(a, b) and nsim.fg_ari(labels, mask) -> number */
static int l_ari(lua_State *L) { return score(L, 0); }
static int l_fg_ari(lua_State *L) { return score(L, 1); }

/* ---- state records ---- */

/* The traces of var (and of act when not NULL, same units and samples) copied into userdata on
 * the stack; the state record's layout (unit-major). */
typedef struct {
    double *theta, *act;
    long n_units, nt;
    double t0, dt;
} phase_rec;

static void load_phases(lua_State *L, const char *file, const char *var, const char *act, phase_rec *r, const char *what)
{
    ns_state_traces st;
    ns_lua_load_state(L, file, var, &st, what);
    size_t n = (size_t)st.n_units * (size_t)st.nt;
    r->n_units = st.n_units, r->nt = st.nt, r->t0 = st.t0, r->dt = st.dt;
    r->theta = lua_newuserdatauv(L, (n ? n : 1) * sizeof *r->theta, 0);
    if (n) memcpy(r->theta, st.trace, n * sizeof *r->theta);
    ns_state_traces_free(&st);
    if (r->n_units < 1 || r->nt < 1) ns_lua_errorf(L, "%s: %s holds no sample", what, file);
    r->act = NULL;
    if (act) {
        ns_lua_load_state(L, file, act, &st, what);
        if (st.n_units != r->n_units || st.nt != r->nt) {
            ns_state_traces_free(&st);
            ns_lua_errorf(L, "%s: %s: %s and %s are not recorded for the same units and samples", what, file, var, act);
        }
        r->act = lua_newuserdatauv(L, n * sizeof *r->act, 0);
        memcpy(r->act, st.trace, n * sizeof *r->act);
        ns_state_traces_free(&st);
    }
}

/* The groups option at idx (a mask or list, one label per unit; nil: all in group 1): labels
 * and the number of groups (the largest label). */
static int *read_groups(lua_State *L, int idx, const char *key, long n_units, int *n_groups, const char *what)
{
    int *g;
    if (lua_isnoneornil(L, idx) || lua_getfield(L, idx, key) == LUA_TNIL) {
        if (!lua_isnoneornil(L, idx)) lua_pop(L, 1);
        g = lua_newuserdatauv(L, (size_t)n_units * sizeof *g, 0);
        for (long u = 0; u < n_units; u++) g[u] = 1;
        *n_groups = 1;
        return g;
    }
    char w[96];
    snprintf(w, sizeof w, "%s: %s", what, key);
    long n;
    g = label_list(L, -1, &n, 0, 65535, w);
    if (n != n_units)
        ns_lua_errorf(L, "%s: %s has %ld labels for the %ld units of the record (one per unit, 0 for none)", what, key, n,
                      n_units);
    *n_groups = 0;
    for (long u = 0; u < n_units; u++)
        if (g[u] > *n_groups) *n_groups = g[u];
    if (*n_groups < 1) ns_lua_errorf(L, "%s: %s puts every unit in group 0 (none)", what, key);
    return g;
}

/* nsim.order_parameter{file, var, groups, csv} -> {t_ms, R, within, between, contrast, groups = {{R, psi}, ...}} */
static int l_order_parameter(lua_State *L)
{
    static const char *const keys[] = {"file", "var", "groups", "csv", NULL};
    const char *what = "nsim.order_parameter";
    luaL_checktype(L, 1, LUA_TTABLE);
    ns_lua_check_keys(L, 1, keys, what);
    const char *file = ns_lua_field_string(L, 1, "file", "state.csv", what);
    const char *var = ns_lua_field_string(L, 1, "var", "theta", what);
    const char *csv = "order.csv";
    if (lua_getfield(L, 1, "csv") == LUA_TBOOLEAN && !lua_toboolean(L, -1)) csv = NULL;
    else if (lua_type(L, -1) == LUA_TSTRING) csv = lua_tostring(L, -1);
    else if (!lua_isnil(L, -1)) ns_lua_errorf(L, "%s: csv must be a file name, or false for none", what);
    if (csv && !strcmp(csv, file)) ns_lua_errorf(L, "%s: csv '%s' is the record being read; give another name", what, csv);
    lua_pop(L, 1);
    phase_rec r;
    load_phases(L, file, var, NULL, &r, what);
    int ng;
    int *group = read_groups(L, 1, "groups", r.n_units, &ng, what);
    long nt = r.nt;
    double *buf = lua_newuserdatauv(L, sizeof(double) * (size_t)nt * (2 * (size_t)ng + 4), 0);
    double *R = buf, *psi = R + (size_t)ng * nt, *Rall = psi + (size_t)ng * nt, *wi = Rall + nt, *be = wi + nt, *co = be + nt;
    char err[512];
    if (ns_phase_groups(r.theta, r.n_units, nt, group, ng, R, psi, Rall, wi, be, co, err, sizeof err))
        luaL_error(L, "%s: %s", what, err);
    if (csv) {
        char path[4096], tmp[4200];
        ns_lua_output_path(L, csv, what, path, (int)sizeof path);
        FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, sizeof err);
        if (!fp) luaL_error(L, "%s: %s", what, err);
        fprintf(fp, "t_ms,R");
        for (int g = 1; g <= ng; g++) fprintf(fp, ",R_%d", g);
        for (int g = 1; g <= ng; g++) fprintf(fp, ",psi_%d", g);
        fprintf(fp, ",within,between,contrast\n");
        for (long j = 0; j < nt; j++) {
            fprintf(fp, "%.10g,%.10g", r.t0 + j * r.dt, Rall[j]);
            for (int g = 0; g < ng; g++) fprintf(fp, ",%.10g", R[(size_t)g * nt + j]);
            for (int g = 0; g < ng; g++) fprintf(fp, ",%.10g", psi[(size_t)g * nt + j]);
            fprintf(fp, ",%.10g,%.10g,%.10g\n", wi[j], be[j], co[j]);
        }
        if (ns_file_finish(fp, tmp, path, err, sizeof err)) luaL_error(L, "%s: %s", what, err);
        if (ns_ctx_note_derived(ns_lua_script(L)->ctx, csv, file, "nsim.order_parameter")) ns_lua_fail(L);
    }
    lua_createtable(L, 0, 6);
    lua_createtable(L, (int)nt, 0);
    for (long j = 0; j < nt; j++) {
        lua_pushnumber(L, r.t0 + j * r.dt);
        lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "t_ms");
    ns_lua_push_numbers(L, Rall, nt, 1);
    lua_setfield(L, -2, "R");
    ns_lua_push_numbers(L, wi, nt, 1);
    lua_setfield(L, -2, "within");
    ns_lua_push_numbers(L, be, nt, 1);
    lua_setfield(L, -2, "between");
    ns_lua_push_numbers(L, co, nt, 1);
    lua_setfield(L, -2, "contrast");
    lua_createtable(L, ng, 0);
    for (int g = 0; g < ng; g++) {
        lua_createtable(L, 0, 2);
        ns_lua_push_numbers(L, R + (size_t)g * nt, nt, 1);
        lua_setfield(L, -2, "R");
        ns_lua_push_numbers(L, psi + (size_t)g * nt, nt, 1);
        lua_setfield(L, -2, "psi");
        lua_rawseti(L, -2, g + 1);
    }
    lua_setfield(L, -2, "groups");
    return 1;
}

/* nsim.phase_raster{file, var, activity, groups, out, title} -> path */
static int l_phase_raster(lua_State *L)
{
    static const char *const keys[] = {"file", "var", "activity", "groups", "out", "title", "relative", NULL};
    const char *what = "nsim.phase_raster";
    luaL_checktype(L, 1, LUA_TTABLE);
    ns_lua_check_keys(L, 1, keys, what);
    const char *file = ns_lua_field_string(L, 1, "file", "state.csv", what);
    const char *var = ns_lua_field_string(L, 1, "var", "theta", what);
    const char *act = ns_lua_field_string(L, 1, "activity", NULL, what);
    const char *out = ns_lua_field_string(L, 1, "out", "phase_raster.png", what);
    const char *title = ns_lua_field_string(L, 1, "title", NULL, what);
    phase_rec r;
    load_phases(L, file, var, act, &r, what);
    int ng;
    int *group = read_groups(L, 1, "groups", r.n_units, &ng, what);
    int relative = ns_lua_field_bool(L, 1, "relative", 0);
    if (relative) ns_phase_subtract_mean(r.theta, r.n_units, r.nt, group);
    char path[4096], err[1024], deftitle[300];
    if (!title) {
        snprintf(deftitle, sizeof deftitle, "%s — phase raster (%s%s)", ns_path_base(ns_lua_script(L)->script), var,
                 relative ? " minus the mean phase" : "");
        title = deftitle;
    }
    ns_lua_output_path(L, out, what, path, (int)sizeof path);
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, ns_lua_script(L), title, 0);
    if (ns_phase_plot_raster(path, r.theta, r.act, r.n_units, r.nt, r.t0, r.dt, group, ng, title, pt.keys, pt.vals,
                             pt.n, err, sizeof err))
        luaL_error(L, "%s: %s", what, err);
    lua_pushstring(L, path);
    return 1;
}

/* nsim.phase_map{theta = list | file, var, t_ms, activity, width, height, out, title} -> path */
static int l_phase_map(lua_State *L)
{
    static const char *const keys[] = {"theta", "file", "var", "t_ms", "activity", "width", "height", "out", "title",
                                       "relative", NULL};
    const char *what = "nsim.phase_map";
    luaL_checktype(L, 1, LUA_TTABLE);
    ns_lua_check_keys(L, 1, keys, what);
    const char *out = ns_lua_field_string(L, 1, "out", "phase_map.png", what);
    const char *title = ns_lua_field_string(L, 1, "title", NULL, what);
    double *theta = NULL, *act = NULL, t_shown = NAN;
    long n = 0;
    if (lua_getfield(L, 1, "theta") != LUA_TNIL) { /* lists: theta and activity (numbers) */
        theta = ns_lua_number_list(L, -1, &n, 0, "nsim.phase_map: theta");
        if (lua_getfield(L, 1, "activity") != LUA_TNIL) {
            long na;
            act = ns_lua_number_list(L, -1, &na, 0, "nsim.phase_map: activity");
            if (na != n) ns_lua_errorf(L, "%s: activity has %ld values for %ld phases", what, na, n);
        }
        if (lua_getfield(L, 1, "file") != LUA_TNIL) ns_lua_errorf(L, "%s: give theta (a list) or file (a record), not both", what);
    } else { /* a state record: the sample at t_ms (default the last) */
        const char *file = ns_lua_field_string(L, 1, "file", "state.csv", what);
        const char *var = ns_lua_field_string(L, 1, "var", "theta", what);
        const char *av = NULL;
        if (lua_getfield(L, 1, "activity") == LUA_TSTRING) av = lua_tostring(L, -1);
        else if (!lua_isnil(L, -1)) ns_lua_errorf(L, "%s: with a record, activity names its variable (e.g. \"a\")", what);
        phase_rec r;
        load_phases(L, file, var, av, &r, what);
        double t = ns_lua_field_number(L, 1, "t_ms", r.t0 + (r.nt - 1) * r.dt, what);
        long j = lround((t - r.t0) / r.dt);
        if (!(j >= 0 && j < r.nt) || fabs(r.t0 + j * r.dt - t) > 1e-6 * r.dt)
            ns_lua_errorf(L, "%s: t_ms = %g is not a sample of %s (%g to %g ms every %g ms)", what, t, file, r.t0,
                          r.t0 + (r.nt - 1) * r.dt, r.dt);
        n = r.n_units;
        theta = lua_newuserdatauv(L, (size_t)n * sizeof *theta, 0);
        for (long u = 0; u < n; u++) theta[u] = r.theta[(size_t)u * r.nt + j];
        if (r.act) {
            act = lua_newuserdatauv(L, (size_t)n * sizeof *act, 0);
            for (long u = 0; u < n; u++) act[u] = r.act[(size_t)u * r.nt + j];
        }
        t_shown = r.t0 + j * r.dt;
    }
    int w, h;
    image_dims(L, 1, n, &w, &h, what);
    if (ns_lua_field_bool(L, 1, "relative", 0)) { /* a copy: the script's list stays as it is */
        double *rel = lua_newuserdatauv(L, (size_t)n * sizeof *rel, 0);
        memcpy(rel, theta, (size_t)n * sizeof *rel);
        ns_phase_subtract_mean(rel, n, 1, NULL);
        theta = rel;
    }
    char path[4096], err[1024], deftitle[300];
    if (!title) {
        if (isnan(t_shown)) snprintf(deftitle, sizeof deftitle, "%s — phase map", ns_path_base(ns_lua_script(L)->script));
        else snprintf(deftitle, sizeof deftitle, "%s — phase map at t = %g ms", ns_path_base(ns_lua_script(L)->script), t_shown);
        title = deftitle;
    }
    ns_lua_output_path(L, out, what, path, (int)sizeof path);
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, ns_lua_script(L), title, 0);
    if (ns_phase_plot_map(path, theta, act, w, h, title, pt.keys, pt.vals, pt.n, err, sizeof err))
        luaL_error(L, "%s: %s", what, err);
    lua_pushstring(L, path);
    return 1;
}

void ns_lua_open_phase(lua_State *L)
{
    static const luaL_Reg fns[] = {{"shapes", l_shapes},
                                   {"read_image", l_read_image},
                                   {"read_mask", l_read_mask},
                                   {"write_image", l_write_image},
                                   {"write_mask", l_write_mask},
                                   {"cluster_phases", l_cluster_phases},
                                   {"ari", l_ari},
                                   {"fg_ari", l_fg_ari},
                                   {"order_parameter", l_order_parameter},
                                   {"phase_raster", l_phase_raster},
                                   {"phase_map", l_phase_map},
                                   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
