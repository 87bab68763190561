/* lua/lua_figures.c — what a script does with its records: nsim.raster, nsim.stats, nsim.psd and
 * nsim.figure. Records are read back from the files the recorders wrote (flushed first), so
 * the figures show exactly what is on disk; every output goes to the run's output folder. */
#include "lua/lua_figures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "analysis/plot.h"
#include "analysis/raster.h"
#include "io/analyze.h"
#include "io/csv.h"
#include "base/files.h"
#include "lua/lua_util.h"
#include "io/runinfo.h"

/* The output path of a plain file name; raises a Lua error (prefixed with what) otherwise. */
static void output_path(lua_State *L, const char *file, const char *what, char *path, int len)
{
    if (ns_ctx_output_path(ns_lua_script(L)->ctx, file, path, len))
        luaL_error(L, "%s: %s", what, ns_ctx_errmsg(ns_lua_script(L)->ctx));
}

/* The recorder at idx, flushed, with something recorded. */
static ns_net *recorder(lua_State *L, int idx, int *k, const char *what)
{
    ns_net *net = ns_lua_check_recorder(L, idx, k);
    if (ns_net_time(net) <= 0) luaL_error(L, "%s: nothing recorded before net:run", what);
    if (ns_net_flush(net)) ns_lua_fail(L);
    return net;
}

/* The populations of spike recorder k of net, at most NS_MAX_GROUPS of them (a figure's groups). */
static int recorder_pops(lua_State *L, ns_net *net, int k, ns_pop *const **pops, const char *what)
{
    int np = ns_net_spike_recorder_pops(net, k, pops);
    if (np > NS_MAX_GROUPS)
        luaL_error(L, "%s: a record of at most %d populations, this one has %d", what, NS_MAX_GROUPS, np);
    return np;
}

/* Load a recorder's spikes, grouped by its populations, over [0, the network's time]; returns
 * the recorder's network. */
static ns_net *load_record(lua_State *L, int idx, ns_spike_table *tab, const char *what)
{
    int k;
    ns_net *net = recorder(L, idx, &k, what);
    ns_pop *const *pops;
    int np = recorder_pops(L, net, k, &pops, what);
    ns_stats_pop groups[NS_MAX_GROUPS];
    for (int i = 0; i < np; i++)
        groups[i] = (ns_stats_pop){ns_pop_name(pops[i]), (long)ns_pop_first_id(pops[i]), (long)ns_pop_size(pops[i])};
    char err[1024];
    if (ns_spike_table_load(tab, ns_net_spike_recorder_path(net, k), groups, np, ns_net_time(net), err, sizeof err))
        luaL_error(L, "%s: %s", what, err);
    return net;
}

typedef struct {
    ns_raster *r;
    long base;
} raster_feed;

static int feed_raster(void *user, double t, long id)
{
    raster_feed *f = user;
    ns_raster_add(f->r, t, id - f->base);
    return 0;
}

/* nsim.raster(recorder, file, {title}) — streams the spikes file into the raster. */
static int l_raster(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    int k;
    ns_net *net = recorder(L, 1, &k, "nsim.raster");
    const char *file = luaL_optstring(L, 2, "raster.png");
    static const char *const keys[] = {"title", NULL};
    ns_lua_options(L, 3, keys, "nsim.raster");
    const char *title = ns_lua_field_string(L, 3, "title", NULL, "nsim.raster");
    ns_pop *const *pops;
    int np = recorder_pops(L, net, k, &pops, "nsim.raster");
    ns_raster_group groups[NS_MAX_GROUPS];
    long lo = -1, hi = 0;
    for (int i = 0; i < np; i++) {
        long first = (long)ns_pop_first_id(pops[i]), n = (long)ns_pop_size(pops[i]);
        if (lo < 0 || first < lo) lo = first;
        if (first + n > hi) hi = first + n;
    }
    for (int i = 0; i < np; i++)
        groups[i] = (ns_raster_group){ns_pop_name(pops[i]), (long)ns_pop_first_id(pops[i]) - lo, (long)ns_pop_size(pops[i])};
    char deftitle[256];
    if (!title) {
        snprintf(deftitle, sizeof deftitle, "%s — spike raster", ns_path_base(s->script));
        title = deftitle;
    }
    char path[4096], err[1024];
    output_path(L, file, "nsim.raster", path, (int)sizeof path);
    ns_raster *ras = ns_raster_create(0.0, ns_net_time(net) * (1 + 1e-12), hi - lo, groups, np, title);
    if (!ras) ns_lua_errorf(L, "nsim.raster: cannot make a raster of %ld neurons", hi - lo);
    raster_feed feed = {ras, lo};
    int rc = ns_csv_each_spike(ns_net_spike_recorder_path(net, k), feed_raster, &feed, err, sizeof err);
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, s, title, ns_net_dt(net));
    if (!rc) rc = ns_raster_write(ras, path, pt.keys, pt.vals, pt.n, err, sizeof err);
    ns_raster_free(ras);
    if (rc) luaL_error(L, "%s", err);
    lua_pushstring(L, path);
    return 1;
}

/* The file option: a name (default def), or false for none. Returns NULL for none. */
static const char *opt_file(lua_State *L, int idx, const char *def, const char *what)
{
    if (lua_isnoneornil(L, idx)) return def;
    lua_getfield(L, idx, "file");
    const char *f = def;
    if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) f = NULL;
    else if (!lua_isnil(L, -1)) f = ns_lua_field_string(L, idx, "file", def, what);
    lua_pop(L, 1);
    return f;
}

static void set_number(lua_State *L, const char *key, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

/* nsim.stats(recorder, {bin, pairs, file}) — stats.csv and a table by population. */
static int l_stats(lua_State *L)
{
    static const char *const keys[] = {"bin", "pairs", "file", NULL};
    ns_lua_options(L, 2, keys, "nsim.stats");
    ns_stats_opts o = {ns_lua_field_number(L, 2, "bin", 5.0, "nsim.stats"),
                       (long)ns_lua_field_number(L, 2, "pairs", 1000, "nsim.stats"), ns_ctx_seed(ns_lua_script(L)->ctx)};
    const char *file = opt_file(L, 2, "stats.csv", "nsim.stats");
    char path[4096], err[1024];
    if (file) output_path(L, file, "nsim.stats", path, (int)sizeof path);
    ns_spike_table tab;
    load_record(L, 1, &tab, "nsim.stats");
    ns_stats_summary rows[NS_MAX_GROUPS];
    int rc = ns_analyze_stats(&tab, &o, rows, file ? path : NULL, err, sizeof err);
    if (rc) {
        ns_spike_table_free(&tab);
        luaL_error(L, "nsim.stats: %s", err);
    }
    lua_createtable(L, 0, tab.ngroups);
    for (int g = 0; g < tab.ngroups; g++) {
        lua_createtable(L, 0, 8);
        set_number(L, "neurons", (double)rows[g].neurons);
        set_number(L, "spikes", (double)rows[g].spikes);
        set_number(L, "rate", rows[g].rate_hz);
        set_number(L, "rate_sd", rows[g].rate_sd_hz);
        set_number(L, "cv", rows[g].cv_isi_mean);
        set_number(L, "fano", rows[g].fano);
        set_number(L, "fano_pop", rows[g].fano_pop);
        set_number(L, "corr", rows[g].corr_mean);
        lua_setfield(L, -2, tab.names[g]);
    }
    ns_spike_table_free(&tab);
    return 1;
}

/* Read PSD options from the table at idx into o. */
static void psd_options(lua_State *L, int idx, ns_psd_opts *o, char *wisdom, int wisdom_len, const char *what)
{
    static const ns_lua_enum windows[] = {{"hann", NS_WINDOW_HANN}, {"hamming", NS_WINDOW_HAMMING},
                                          {"rect", NS_WINDOW_RECT}, {"rectangular", NS_WINDOW_RECT}, {NULL, 0}};
    static const ns_lua_enum detrends[] = {
        {"mean", NS_DETREND_MEAN}, {"none", NS_DETREND_NONE}, {"linear", NS_DETREND_LINEAR}, {NULL, 0}};
    static const ns_lua_enum methods[] = {{"welch", 0}, {"multitaper", 1}, {NULL, 0}};
    ns_psd_opts_default(o);
    /* FFT plans are measured once per output folder and kept there as wisdom */
    if (!ns_ctx_output_path(ns_lua_script(L)->ctx, ".fftw-wisdom", wisdom, wisdom_len)) o->wisdom = wisdom;
    o->bin_ms = ns_lua_field_number(L, idx, "bin", o->bin_ms, what);
    o->segment = (long)ns_lua_field_number(L, idx, "segment", (double)o->segment, what);
    o->overlap = ns_lua_field_number(L, idx, "overlap", o->overlap, what);
    o->nw = ns_lua_field_number(L, idx, "nw", o->nw, what);
    o->window = ns_lua_field_enum(L, idx, "window", windows, o->window, "must be", what);
    o->detrend = ns_lua_field_enum(L, idx, "detrend", detrends, o->detrend, "must be", what);
    o->multitaper = ns_lua_field_enum(L, idx, "method", methods, o->multitaper, "must be", what);
}

static const char *const psd_keys[] = {"bin", "segment", "overlap", "window", "detrend", "method", "nw", "file",
                                       "var", NULL};

/* A state file of the output folder (a plain name), loaded for variable var. */
static void load_state(lua_State *L, const char *file, const char *var, ns_state_traces *st, const char *what)
{
    char path[4096], err[1024];
    if (strchr(file, '/')) luaL_error(L, "%s: '%s' must be a file of the output folder", what, file);
    snprintf(path, sizeof path, "%s/%s", ns_ctx_outdir(ns_lua_script(L)->ctx), file);
    if (ns_state_traces_load(st, path, var, err, sizeof err)) luaL_error(L, "%s: %s", what, err);
}

/* Push a Lua list of n numbers. */
static void push_list(lua_State *L, const double *v, long n)
{
    lua_createtable(L, (int)n, 0);
    for (long i = 0; i < n; i++) {
        lua_pushnumber(L, v[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* nsim.psd(recorder, {bin, segment, overlap, window, detrend, method, nw, file}) — the PSD of
 * each population's rate: psd.csv and {f = {...}, E = {...}, ...}. */
static int l_psd(lua_State *L)
{
    ns_lua_options(L, 2, psd_keys, "nsim.psd");
    ns_psd_opts o;
    char wisdom[4096];
    psd_options(L, 2, &o, wisdom, (int)sizeof wisdom, "nsim.psd");
    if (lua_type(L, 1) == LUA_TSTRING) { /* a state record: the mean spectrum of a variable */
        const char *var = ns_lua_field_string(L, 2, "var", NULL, "nsim.psd");
        if (!var) luaL_error(L, "nsim.psd: a state record needs var, the variable to analyse");
        ns_state_traces st;
        load_state(L, lua_tostring(L, 1), var, &st, "nsim.psd");
        double *f, *p;
        long nf;
        char err[1024];
        int rc = ns_analyze_trace_psd(&st, &o, &f, &p, &nf, err, sizeof err);
        ns_state_traces_free(&st);
        if (rc) luaL_error(L, "nsim.psd: %s", err);
        lua_createtable(L, 0, 2);
        push_list(L, f, nf);
        lua_setfield(L, -2, "f");
        push_list(L, p, nf);
        lua_setfield(L, -2, var);
        free(f);
        free(p);
        return 1;
    }
    const char *file = opt_file(L, 2, "psd.csv", "nsim.psd");
    char path[4096], err[1024];
    if (file) output_path(L, file, "nsim.psd", path, (int)sizeof path);
    ns_spike_table tab;
    load_record(L, 1, &tab, "nsim.psd");
    double *f, *p;
    long nf;
    if (ns_analyze_psd(&tab, &o, &f, &p, &nf, file ? path : NULL, err, sizeof err)) {
        ns_spike_table_free(&tab);
        luaL_error(L, "nsim.psd: %s", err);
    }
    lua_createtable(L, 0, tab.ngroups + 1);
    push_list(L, f, nf);
    lua_setfield(L, -2, "f");
    for (int g = 0; g < tab.ngroups; g++) {
        push_list(L, p + (size_t)g * (size_t)nf, nf);
        lua_setfield(L, -2, tab.names[g]);
    }
    free(f);
    free(p);
    ns_spike_table_free(&tab);
    return 1;
}

/* nsim.figure(kind, recorder, {file, title, rate_bin, and the PSD options}) — kind is summary,
 * psd, rate_hist or isi_hist; the file defaults to KIND.png. */
static int l_figure(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    const char *kind_name = luaL_checkstring(L, 1);
    int kind = ns_fig_kind_parse(kind_name);
    if (kind < 0) luaL_error(L, "nsim.figure: unknown kind '%s' (summary, psd, rate_hist, isi_hist)", kind_name);
    static const char *const keys[] = {"bin", "segment", "overlap", "window", "detrend", "method", "nw",
                                       "file", "title", "rate_bin", NULL};
    ns_lua_options(L, 3, keys, "nsim.figure");
    ns_psd_opts o;
    char wisdom[4096];
    psd_options(L, 3, &o, wisdom, (int)sizeof wisdom, "nsim.figure");
    char deffile[64];
    snprintf(deffile, sizeof deffile, "%s.png", kind_name);
    const char *file = ns_lua_field_string(L, 3, "file", deffile, "nsim.figure");
    const char *title = ns_lua_field_string(L, 3, "title", NULL, "nsim.figure");
    double rate_bin = ns_lua_field_number(L, 3, "rate_bin", 5.0, "nsim.figure");
    char path[4096], err[1024];
    output_path(L, file, "nsim.figure", path, (int)sizeof path);
    ns_spike_table tab;
    ns_net *net = load_record(L, 2, &tab, "nsim.figure");
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, s, title ? title : kind_name, ns_net_dt(net));
    int rc = ns_analyze_figure(&tab, (ns_fig_kind)kind, &o, rate_bin, title, path, pt.keys, pt.vals, pt.n, err, sizeof err);
    ns_spike_table_free(&tab);
    if (rc) luaL_error(L, "nsim.figure: %s", err);
    lua_pushstring(L, path);
    return 1;
}

/* nsim.psth(recorder, {times, pre, post, bin}) — rate (Hz per neuron) around stimulus times:
 * {t = bin starts (ms, relative to the stimulus), POP = rates, ...}. */
static int l_psth(lua_State *L)
{
    static const char *const keys[] = {"times", "pre", "post", "bin", NULL};
    luaL_checktype(L, 2, LUA_TTABLE);
    ns_lua_check_keys(L, 2, keys, "nsim.psth");
    double pre = ns_lua_field_number(L, 2, "pre", 20, "nsim.psth"), post = ns_lua_field_number(L, 2, "post", 50, "nsim.psth");
    double bin = ns_lua_field_number(L, 2, "bin", 1, "nsim.psth");
    lua_getfield(L, 2, "times");
    if (!lua_istable(L, -1)) luaL_error(L, "nsim.psth: times (the stimulus times, ms) is required");
    long n = (long)luaL_len(L, -1);
    double *stim = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *stim, 0);
    for (long i = 0; i < n; i++) {
        lua_geti(L, -2, i + 1);
        stim[i] = luaL_checknumber(L, -1);
        lua_pop(L, 1);
    }
    long nb = ns_stats_nbins(-pre, post, bin);
    if (nb < 1) ns_lua_errorf(L, "nsim.psth: the window [-%g, %g] ms holds no bin of %g ms", pre, post, bin);
    double *rate = lua_newuserdatauv(L, (size_t)nb * sizeof *rate, 0);
    ns_spike_table tab;
    load_record(L, 1, &tab, "nsim.psth");
    ns_stats_spikes v = ns_spike_table_view(&tab);
    lua_createtable(L, 0, tab.ngroups + 1);
    lua_createtable(L, (int)nb, 0);
    for (long b = 0; b < nb; b++) {
        lua_pushnumber(L, -pre + b * bin);
        lua_rawseti(L, -2, b + 1);
    }
    lua_setfield(L, -2, "t");
    char err[1024];
    for (int g = 0; g < tab.ngroups; g++) {
        long cnt = tab.groups[g].count, used;
        long *ids = malloc((size_t)cnt * sizeof *ids);
        int rc = -1;
        snprintf(err, sizeof err, "out of memory");
        if (ids) {
            for (long i = 0; i < cnt; i++) ids[i] = tab.groups[g].first + i;
            rc = ns_stats_psth(&v, ids, cnt, stim, n, pre, post, bin, rate, nb, &used, err, sizeof err);
            free(ids);
        }
        if (rc) {
            ns_spike_table_free(&tab);
            luaL_error(L, "nsim.psth: %s", err);
        }
        push_list(L, rate, nb);
        lua_setfield(L, -2, tab.names[g]);
    }
    ns_spike_table_free(&tab);
    return 1;
}

/* nsim.sta(recorder, {state, var, pre, post}) — the average of a recorded variable around the
 * spikes of the traced neurons: {t = lags (ms), value = averages, spikes = triggers used}. */
static int l_sta(lua_State *L)
{
    static const char *const keys[] = {"state", "var", "pre", "post", NULL};
    luaL_checktype(L, 2, LUA_TTABLE);
    ns_lua_check_keys(L, 2, keys, "nsim.sta");
    const char *file = ns_lua_field_string(L, 2, "state", "state.csv", "nsim.sta");
    const char *var = ns_lua_field_string(L, 2, "var", "V_m", "nsim.sta");
    double pre = ns_lua_field_number(L, 2, "pre", 20, "nsim.sta"), post = ns_lua_field_number(L, 2, "post", 5, "nsim.sta");
    int k;
    recorder(L, 1, &k, "nsim.sta"); /* flushed, and something recorded */
    ns_state_traces st;
    load_state(L, file, var, &st, "nsim.sta");
    ns_spike_table tab;
    load_record(L, 1, &tab, "nsim.sta");
    double *sta;
    long nl, used;
    char err[1024];
    int rc = ns_analyze_sta(&tab, &st, pre, post, &sta, &nl, &used, err, sizeof err);
    double dt = st.dt;
    ns_spike_table_free(&tab);
    ns_state_traces_free(&st);
    if (rc) luaL_error(L, "nsim.sta: %s", err);
    lua_createtable(L, 0, 3);
    lua_createtable(L, (int)nl, 0);
    long before = (long)floor(pre / dt + 1e-9);
    for (long j = 0; j < nl; j++) {
        lua_pushnumber(L, (j - before) * dt);
        lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "t");
    push_list(L, sta, nl);
    lua_setfield(L, -2, "value");
    lua_pushinteger(L, used);
    lua_setfield(L, -2, "spikes");
    free(sta);
    return 1;
}

/* nsim.kuramoto(recorder, {dt}) — the Kuramoto order parameter of each population from its
 * spikes (each neuron's phase advancing linearly by 2 pi between its spikes), on a grid of dt ms:
 * {t = {...}, POP = {R(t)...}, mean = {POP = time-averaged R}}. */
static int l_kuramoto(lua_State *L)
{
    static const char *const keys[] = {"dt", NULL};
    ns_lua_options(L, 2, keys, "nsim.kuramoto");
    double dt = ns_lua_field_number(L, 2, "dt", 1.0, "nsim.kuramoto");
    ns_spike_table tab;
    load_record(L, 1, &tab, "nsim.kuramoto");
    ns_stats_spikes v = ns_spike_table_view(&tab);
    long ng = ns_stats_nbins(v.t0_ms, v.t1_ms, dt);
    if (ng < 1) {
        ns_spike_table_free(&tab);
        ns_lua_errorf(L, "nsim.kuramoto: dt %g ms holds no step of the record", dt);
    }
    double *r = lua_newuserdatauv(L, (size_t)ng * sizeof *r, 0);
    lua_createtable(L, 0, tab.ngroups + 2);
    lua_createtable(L, (int)ng, 0);
    for (long k = 0; k < ng; k++) {
        lua_pushnumber(L, v.t0_ms + k * dt);
        lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "t");
    lua_createtable(L, 0, tab.ngroups);
    char err[1024];
    for (int g = 0; g < tab.ngroups; g++) {
        double mean;
        if (ns_stats_kuramoto_spikes(&v, &tab.groups[g], dt, r, ng, &mean, err, sizeof err)) {
            ns_spike_table_free(&tab);
            luaL_error(L, "nsim.kuramoto: %s", err);
        }
        lua_pushnumber(L, mean);
        lua_setfield(L, -2, tab.names[g]);
        push_list(L, r, ng);
        lua_setfield(L, -3, tab.names[g]);
    }
    lua_setfield(L, -2, "mean");
    ns_spike_table_free(&tab);
    return 1;
}

/* nsim.plot{series = {{name =, x = {...}, y = {...}}, ...}, file, title, x_label, y_label,
 * x_log, y_log, bands} — lines of the script's own numbers, in the house style. */
static int l_plot(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    static const char *const keys[] = {"series", "file", "title", "x_label", "y_label", "x_log", "y_log", "bands", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    ns_lua_check_keys(L, 1, keys, "nsim.plot");
    const char *file = ns_lua_field_string(L, 1, "file", "plot.png", "nsim.plot");
    ns_plot_opts po = {.title = ns_lua_field_string(L, 1, "title", NULL, "nsim.plot"),
                       .x_label = ns_lua_field_string(L, 1, "x_label", NULL, "nsim.plot"),
                       .y_label = ns_lua_field_string(L, 1, "y_label", NULL, "nsim.plot")};
    po.x_log = ns_lua_field_bool(L, 1, "x_log", 0);
    po.y_log = ns_lua_field_bool(L, 1, "y_log", 0);
    if (ns_lua_field_bool(L, 1, "bands", 0)) po.n_bands = ns_plot_standard_bands(&po.bands);
    lua_getfield(L, 1, "series");
    int top = lua_gettop(L);
    if (!lua_istable(L, top)) luaL_error(L, "nsim.plot: series (a list of {name, x, y}) is required");
    int n = (int)luaL_len(L, top);
    if (n < 1 || n > 64) luaL_error(L, "nsim.plot: 1 to 64 series, got %d", n);
    ns_plot_series series[64];
    for (int i = 0; i < n; i++) {
        lua_geti(L, top, i + 1);
        int at = lua_gettop(L);
        if (!lua_istable(L, at)) luaL_error(L, "nsim.plot: series %d is not a table", i + 1);
        lua_getfield(L, at, "name");
        const char *name = lua_tostring(L, -1); /* kept alive by the series table */
        lua_getfield(L, at, "x");
        lua_getfield(L, at, "y");
        if (!lua_istable(L, -1) || !lua_istable(L, -2)) luaL_error(L, "nsim.plot: series %d needs lists x and y", i + 1);
        long nx = (long)luaL_len(L, -2), ny = (long)luaL_len(L, -1);
        if (nx != ny) ns_lua_errorf(L, "nsim.plot: series %d has %ld x and %ld y", i + 1, nx, ny);
        double *x = lua_newuserdatauv(L, (size_t)(nx ? nx : 1) * sizeof *x, 0);
        double *y = lua_newuserdatauv(L, (size_t)(ny ? ny : 1) * sizeof *y, 0);
        for (long j = 0; j < nx; j++) {
            lua_geti(L, at + 2, j + 1);
            lua_geti(L, at + 3, j + 1);
            x[j] = luaL_checknumber(L, -2);
            y[j] = luaL_checknumber(L, -1);
            lua_pop(L, 2);
        }
        series[i] = (ns_plot_series){name, x, y, nx};
        /* leave the series table, its fields and the arrays on the stack until drawn */
    }
    char path[4096], err[1024];
    output_path(L, file, "nsim.plot", path, (int)sizeof path);
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, s, po.title ? po.title : "plot", 0);
    if (ns_plot_lines(path, series, n, &po, pt.keys, pt.vals, pt.n, err, sizeof err)) luaL_error(L, "nsim.plot: %s", err);
    lua_pushstring(L, path);
    return 1;
}

void ns_lua_open_figures(lua_State *L)
{
    static const luaL_Reg fns[] = {{"raster", l_raster}, {"stats", l_stats}, {"psd", l_psd}, {"figure", l_figure},
                                   {"psth", l_psth}, {"sta", l_sta}, {"plot", l_plot},
                                   {"kuramoto", l_kuramoto}, {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
