/* lua/lua_figures.c — what a script does with its records: nsim.raster, nsim.stats, nsim.psd and
 * nsim.figure. Records are read back from the files the recorders wrote (flushed first), so
 * the figures show exactly what is on disk; every output goes to the run's output folder. */
#include "lua/lua_figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lua.h>

#include "analysis/bars.h"
#include "analysis/lattice.h"
#include "analysis/plot.h"
#include "analysis/raster.h"
#include "io/analyze.h"
#include "io/csv.h"
#include "base/files.h"
#include "lua/lua_util.h"
#include "io/runinfo.h"

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
    ns_lua_output_path(L, file, "nsim.raster", path, (int)sizeof path);
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
                       (long)ns_lua_field_whole(L, 2, "pairs", 1000, 0, 1e12, "nsim.stats"), ns_ctx_seed(ns_lua_script(L)->ctx)};
    const char *file = opt_file(L, 2, "stats.csv", "nsim.stats");
    char path[4096], err[1024];
    if (file) ns_lua_output_path(L, file, "nsim.stats", path, (int)sizeof path);
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
    o->segment = (long)ns_lua_field_whole(L, idx, "segment", (double)o->segment, 0, 1e15, what);
    o->overlap = ns_lua_field_number(L, idx, "overlap", o->overlap, what);
    o->nw = ns_lua_field_number(L, idx, "nw", o->nw, what);
    o->window = ns_lua_field_enum(L, idx, "window", windows, o->window, "must be", what);
    o->detrend = ns_lua_field_enum(L, idx, "detrend", detrends, o->detrend, "must be", what);
    o->multitaper = ns_lua_field_enum(L, idx, "method", methods, o->multitaper, "must be", what);
}

static const char *const psd_keys[] = {"bin", "segment", "overlap", "window", "detrend", "method", "nw", "file",
                                       "var", NULL};

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
        ns_lua_load_state(L, lua_tostring(L, 1), var, &st, "nsim.psd");
        double *f, *p;
        long nf;
        char err[1024];
        int rc = ns_analyze_trace_psd(&st, &o, &f, &p, &nf, err, sizeof err);
        ns_state_traces_free(&st);
        if (rc) luaL_error(L, "nsim.psd: %s", err);
        lua_createtable(L, 0, 2);
        ns_lua_push_numbers(L, f, nf, 1);
        lua_setfield(L, -2, "f");
        ns_lua_push_numbers(L, p, nf, 1);
        lua_setfield(L, -2, var);
        free(f);
        free(p);
        return 1;
    }
    const char *file = opt_file(L, 2, "psd.csv", "nsim.psd");
    char path[4096], err[1024];
    if (file) ns_lua_output_path(L, file, "nsim.psd", path, (int)sizeof path);
    ns_spike_table tab;
    load_record(L, 1, &tab, "nsim.psd");
    double *f, *p;
    long nf;
    if (ns_analyze_psd(&tab, &o, &f, &p, &nf, file ? path : NULL, err, sizeof err)) {
        ns_spike_table_free(&tab);
        luaL_error(L, "nsim.psd: %s", err);
    }
    lua_createtable(L, 0, tab.ngroups + 1);
    ns_lua_push_numbers(L, f, nf, 1);
    lua_setfield(L, -2, "f");
    for (int g = 0; g < tab.ngroups; g++) {
        ns_lua_push_numbers(L, p + (size_t)g * (size_t)nf, nf, 1);
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
    ns_lua_output_path(L, file, "nsim.figure", path, (int)sizeof path);
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
        ns_lua_push_numbers(L, rate, nb, 1);
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
    ns_lua_load_state(L, file, var, &st, "nsim.sta");
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
    ns_lua_push_numbers(L, sta, nl, 1);
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
        ns_lua_push_numbers(L, r, ng, 1);
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
        lua_getfield(L, at, "points");
        const int points = lua_toboolean(L, -1);
        lua_pop(L, 1);
        series[i] = (ns_plot_series){name, x, y, nx, points};
        /* leave the series table, its fields and the arrays on the stack until drawn */
    }
    char path[4096], err[1024];
    ns_lua_output_path(L, file, "nsim.plot", path, (int)sizeof path);
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, s, po.title ? po.title : "plot", 0);
    if (ns_plot_lines(path, series, n, &po, pt.keys, pt.vals, pt.n, err, sizeof err)) luaL_error(L, "nsim.plot: %s", err);
    lua_pushstring(L, path);
    return 1;
}

/* A list of numbers at field key of the table at idx (n of them, or any number when n < 0), in a
 * userdata left on the stack; NULL when the field is absent. */
static double *number_field(lua_State *L, int idx, const char *key, long *n, const char *what)
{
    lua_getfield(L, idx, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    char name[160];
    snprintf(name, sizeof name, "%s: %s", what, key);
    const long want = *n;
    double *v = ns_lua_number_list(L, -1, n, 0, name);
    if (want >= 0 && *n != want) ns_lua_errorf(L, "%s has %ld numbers, want %ld", name, *n, want);
    return v; /* the list and the userdata stay on the stack */
}

/* nsim.bars(file, {groups = {{name =, t =, row =, rows =}, ...}, values =, reference =, t0 =, t1 =,
 * value_label =, reference_label =, title =}) and nsim.raster_bars(...): a bar per group (values),
 * with black marks at reference; raster_bars draws beside them each group's spikes (times t, ms,
 * rows row within its `rows`) over [t0, t1]. */
static int bars_common(lua_State *L, int raster, const char *what)
{
    ns_script *s = ns_lua_script(L);
    const char *file = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    static const char *const keys[] = {"groups", "values", "reference", "t0", "t1", "value_label", "reference_label",
                                       "title", NULL};
    ns_lua_check_keys(L, 2, keys, what);
    lua_getfield(L, 2, "groups");
    int gt = lua_gettop(L);
    if (!lua_istable(L, gt)) luaL_error(L, "%s: groups (a list of {name, ...}) is required", what);
    long ng = (long)luaL_len(L, gt);
    if (ng < 1 || ng > 64) ns_lua_errorf(L, "%s: 1 to 64 groups, got %ld", what, ng);
    long nv = ng, nr = ng;
    double *val = number_field(L, 2, "values", &nv, what);
    if (!val) luaL_error(L, "%s: values (one number a group) is required", what);
    double *ref = number_field(L, 2, "reference", &nr, what);
    ns_bar_group g[64];
    for (long i = 0; i < ng; i++) {
        lua_geti(L, gt, i + 1);
        int at = lua_gettop(L);
        if (!lua_istable(L, at)) ns_lua_errorf(L, "%s: group %ld is not a table", what, i + 1);
        static const char *const gkeys[] = {"name", "t", "row", "rows", NULL};
        ns_lua_check_keys(L, at, gkeys, what);
        lua_getfield(L, at, "name");
        const char *name = lua_tostring(L, -1); /* kept by the group table, which stays on the stack */
        g[i] = (ns_bar_group){.name = name, .value = val[i], .reference = ref ? ref[i] : NAN};
        if (raster) {
            long n = -1, nrow;
            double *t = number_field(L, at, "t", &n, what);
            nrow = t ? n : 0;
            double *row = number_field(L, at, "row", &nrow, what);
            if (!t || !row) ns_lua_errorf(L, "%s: group %ld needs lists t and row", what, i + 1);
            long *ri = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *ri, 0);
            for (long k = 0; k < n; k++) {
                if (row[k] != floor(row[k])) ns_lua_errorf(L, "%s: group %ld: row %g is not whole", what, i + 1, row[k]);
                ri[k] = (long)row[k];
            }
            double rows = ns_lua_field_number(L, at, "rows", NAN, what);
            if (!(rows >= 1 && rows == floor(rows) && rows < 1e7))
                ns_lua_errorf(L, "%s: group %ld needs rows, a whole number >= 1", what, i + 1);
            g[i].t_ms = t, g[i].row = ri, g[i].n = n, g[i].rows = (long)rows;
        }
    }
    ns_bars_plot p = {.title = ns_lua_field_string(L, 2, "title", NULL, what),
                      .value_label = ns_lua_field_string(L, 2, "value_label", NULL, what),
                      .reference_label = ns_lua_field_string(L, 2, "reference_label", NULL, what),
                      .t0_ms = ns_lua_field_number(L, 2, "t0", 0, what),
                      .t1_ms = ns_lua_field_number(L, 2, "t1", 0, what),
                      .groups = g, .n_groups = (int)ng};
    char path[4096], err[1024];
    ns_lua_output_path(L, file, what, path, (int)sizeof path);
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, s, p.title ? p.title : "bars", 0);
    int rc = raster ? ns_plot_raster_bars(path, &p, pt.keys, pt.vals, pt.n, err, sizeof err)
                    : ns_plot_bars(path, &p, pt.keys, pt.vals, pt.n, err, sizeof err);
    if (rc) luaL_error(L, "%s: %s", what, err);
    lua_pushstring(L, path);
    return 1;
}

static int l_bars(lua_State *L) { return bars_common(L, 0, "nsim.bars"); }
static int l_raster_bars(lua_State *L) { return bars_common(L, 1, "nsim.raster_bars"); }

/* ---- lattice records: a state record of one variable of a lattice population ---- */

/* A lattice record as the scripts give it: {file = "phi.csv", var = "phi", nx =, ny =, h =}, the
 * state record (every site, every sample) of a population whose unit k sits at column k % nx,
 * row k / nx. The movie (movie[it * nx * ny + k]) is in a userdata left on the Lua stack. */
typedef struct {
    double *movie;
    long nt;
    int nx, ny;
    double h, t0, dt;
    const char *var;
} lattice_rec;

/* The last lattice record read, kept in the Lua registry (a userdata: this header, then the
 * movie), so that a script's sequence of figures from one record (frames, a sheet, a spectrum)
 * reads the CSV once: it serves again while the file's size and modification time, the variable
 * and the shape are those it was read with. */
typedef struct {
    char key[4400];           /* "path\nvar\nnx\nny" */
    long long size, sec, nsec; /* the file's, when it was read */
    long nt;
    double t0, dt;
    double movie[];
} lattice_cache;

static const char lattice_cache_key = 0; /* its address is the registry key */

/* Read the record (every site, every sample) into a new cache entry, left on the stack. */
static lattice_cache *read_lattice(lua_State *L, const char *file, const lattice_rec *r, const char *what)
{
    ns_state_traces st;
    ns_lua_load_state(L, file, r->var, &st, what);
    long n = (long)r->nx * r->ny;
    int ok = st.n_units == n;
    for (long u = 0; ok && u < n; u++) ok = st.ids[u] - st.ids[0] == u;
    if (!ok || st.nt < 1) {
        long nu = st.n_units, nt = st.nt;
        ns_state_traces_free(&st);
        ns_lua_errorf(L, "%s: %s holds %ld units (consecutive: %s) and %ld samples; a lattice of %d x %d needs "
                      "all %ld sites, in order", what, file, nu, ok ? "yes" : "no", nt, r->nx, r->ny, n);
    }
    lattice_cache *c = lua_newuserdatauv(L, sizeof *c + (size_t)n * (size_t)st.nt * sizeof *c->movie, 0);
    c->nt = st.nt, c->t0 = st.t0, c->dt = st.dt;
    for (long u = 0; u < n; u++)
        for (long j = 0; j < st.nt; j++) c->movie[j * n + u] = st.trace[u * st.nt + j];
    ns_state_traces_free(&st);
    return c;
}

static void load_lattice(lua_State *L, int idx, lattice_rec *r, const char *what)
{
    static const char *const keys[] = {"file", "var", "nx", "ny", "h", NULL};
    if (!lua_istable(L, idx))
        ns_lua_errorf(L, "%s: the record is a table {file =, var =, nx =, ny =, h =}", what);
    ns_lua_check_keys(L, idx, keys, what);
    const char *file = ns_lua_field_string(L, idx, "file", NULL, what);
    r->var = ns_lua_field_string(L, idx, "var", NULL, what);
    double nx = ns_lua_field_number(L, idx, "nx", 0, what), ny = ns_lua_field_number(L, idx, "ny", 1, what);
    r->h = ns_lua_field_number(L, idx, "h", 0, what);
    if (!file || !r->var) ns_lua_errorf(L, "%s: the record needs file (a state record) and var", what);
    if (!(nx >= 1 && nx <= 1e6 && nx == floor(nx)) || !(ny >= 1 && ny <= 1e6 && ny == floor(ny)))
        ns_lua_errorf(L, "%s: nx = %g and ny = %g must be whole numbers of sites in [1, 1e6]", what, nx, ny);
    if (!(r->h > 0) || !isfinite(r->h)) ns_lua_errorf(L, "%s: h = %g must be the spacing in µm, > 0", what, r->h);
    r->nx = (int)nx, r->ny = (int)ny;
    char key[sizeof ((lattice_cache *)0)->key];
    snprintf(key, sizeof key, "%s/%s\n%s\n%d\n%d", ns_ctx_outdir(ns_lua_script(L)->ctx), file, r->var, r->nx, r->ny);
    struct stat sb;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", ns_ctx_outdir(ns_lua_script(L)->ctx), file);
    const int have_stat = strchr(file, '/') == NULL && stat(path, &sb) == 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &lattice_cache_key);
    lattice_cache *c = lua_touserdata(L, -1);
    const int fresh = c && have_stat && !strcmp(c->key, key) && c->size == (long long)sb.st_size &&
                      c->sec == (long long)sb.st_mtim.tv_sec && c->nsec == (long long)sb.st_mtim.tv_nsec;
    if (!fresh) { /* (else the cached movie stays on the stack) */
        lua_pop(L, 1);
        c = read_lattice(L, file, r, what);
        snprintf(c->key, sizeof c->key, "%s", key);
        c->size = have_stat ? (long long)sb.st_size : -1;
        c->sec = have_stat ? (long long)sb.st_mtim.tv_sec : -1;
        c->nsec = have_stat ? (long long)sb.st_mtim.tv_nsec : -1;
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &lattice_cache_key);
    }
    r->movie = c->movie, r->nt = c->nt, r->t0 = c->t0, r->dt = c->dt;
}

static double frame_time(const lattice_rec *r, long it) { return r->t0 + it * r->dt; }

static long check_frame(lua_State *L, const lattice_rec *r, lua_Number v, const char *what)
{
    if (!(v >= 0 && v < r->nt && v == floor(v)))
        ns_lua_errorf(L, "%s: frame %g is not in [0, %ld] (0-based, one per sample)", what, v, r->nt - 1);
    return (long)v;
}

/* nsim.lattice_snapshot(record, frame, "snap.png") — frame (0-based) as a heatmap with µm axes
 * and a colour bar, titled with its time. */
static int l_lattice_snapshot(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    lattice_rec r;
    load_lattice(L, 1, &r, "nsim.lattice_snapshot");
    long it = check_frame(L, &r, luaL_checknumber(L, 2), "nsim.lattice_snapshot");
    char path[4096], err[1024];
    ns_lua_output_path(L, luaL_optstring(L, 3, "snapshot.png"), "nsim.lattice_snapshot", path, (int)sizeof path);
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, s, NULL, 0);
    if (ns_lattice_plot_snapshot(path, r.movie + (size_t)it * (size_t)r.nx * (size_t)r.ny, r.nx, r.ny, r.h,
                                 frame_time(&r, it), r.var, r.var, NULL, 0, 0, pt.keys, pt.vals, pt.n, err, sizeof err))
        luaL_error(L, "nsim.lattice_snapshot: %s", err);
    lua_pushstring(L, path);
    return 1;
}

/* nsim.lattice_frames(record, {prefix = "frame_", every = 1}) — frames 0, every, 2 every, ... as
 * prefix0000.png, prefix0001.png, ... on one colour range (the record's min..max), so a frame
 * sequence reads as a movie. Returns the number of files. */
static int l_lattice_frames(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    static const char *const keys[] = {"prefix", "every", NULL};
    lattice_rec r;
    load_lattice(L, 1, &r, "nsim.lattice_frames");
    ns_lua_options(L, 2, keys, "nsim.lattice_frames");
    const char *prefix = lua_istable(L, 2) ? ns_lua_field_string(L, 2, "prefix", "frame_", "nsim.lattice_frames") : "frame_";
    double every = lua_istable(L, 2) ? ns_lua_field_number(L, 2, "every", 1, "nsim.lattice_frames") : 1;
    if (!(every >= 1 && every == floor(every))) ns_lua_errorf(L, "nsim.lattice_frames: every = %g must be a whole number >= 1", every);
    size_t fs = (size_t)r.nx * (size_t)r.ny;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < fs * (size_t)r.nt; i++)
        if (isfinite(r.movie[i])) lo = fmin(lo, r.movie[i]), hi = fmax(hi, r.movie[i]);
    if (!(hi > lo)) lo = hi = 0; /* constant or empty: each frame's own range */
    long n = 0;
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, s, NULL, 0);
    for (long it = 0; it < r.nt; it += (long)every, n++) {
        char name[512], path[4096], err[1024];
        snprintf(name, sizeof name, "%s%04ld.png", prefix, n);
        ns_lua_output_path(L, name, "nsim.lattice_frames", path, (int)sizeof path);
        if (ns_lattice_plot_snapshot(path, r.movie + (size_t)it * fs, r.nx, r.ny, r.h, frame_time(&r, it), r.var, r.var,
                                     NULL, lo, hi, pt.keys, pt.vals, pt.n, err, sizeof err))
            luaL_error(L, "nsim.lattice_frames: %s", err);
    }
    lua_pushinteger(L, n);
    return 1;
}

/* nsim.lattice_sheet(record, {frames = 12 or {0, 5, ...}}, "sheet.png") — a contact sheet: the
 * given frames (0-based), or that many spread evenly over the record, on one colour range. */
static int l_lattice_sheet(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    static const char *const keys[] = {"frames", NULL};
    lattice_rec r;
    load_lattice(L, 1, &r, "nsim.lattice_sheet");
    ns_lua_options(L, 2, keys, "nsim.lattice_sheet");
    long nsel = 12, *sel;
    int list = 0;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "frames");
        if (lua_istable(L, -1)) list = 1, nsel = (long)luaL_len(L, -1);
        else if (!lua_isnil(L, -1)) nsel = (long)luaL_checknumber(L, -1);
        lua_pop(L, 1);
    }
    if (nsel < 1 || nsel > 100) ns_lua_errorf(L, "nsim.lattice_sheet: %ld frames; a sheet holds 1 to 100", nsel);
    sel = lua_newuserdatauv(L, (size_t)nsel * sizeof *sel, 0);
    if (list) {
        lua_getfield(L, 2, "frames");
        for (long i = 0; i < nsel; i++) {
            lua_geti(L, -1, i + 1);
            sel[i] = check_frame(L, &r, luaL_checknumber(L, -1), "nsim.lattice_sheet");
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    } else {
        if (nsel > r.nt) nsel = r.nt;
        for (long i = 0; i < nsel; i++) sel[i] = nsel > 1 ? (long)llround((double)i * (r.nt - 1) / (nsel - 1)) : 0;
    }
    double *t = lua_newuserdatauv(L, (size_t)r.nt * sizeof *t, 0);
    for (long it = 0; it < r.nt; it++) t[it] = frame_time(&r, it);
    char path[4096], err[1024];
    ns_lua_output_path(L, luaL_optstring(L, 3, "sheet.png"), "nsim.lattice_sheet", path, (int)sizeof path);
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, s, NULL, 0);
    if (ns_lattice_plot_sheet(path, r.movie, r.nt, r.nx, r.ny, r.h, t, sel, (int)nsel, r.var, r.var, NULL, pt.keys,
                              pt.vals, pt.n, err, sizeof err))
        luaL_error(L, "nsim.lattice_sheet: %s", err);
    lua_pushstring(L, path);
    return 1;
}

/* nsim.spacetime(record, {m =, c =, h =, row =}, "st.png") — the space-time spectrum of a row
 * (row = 0-based index) or of the whole lattice (no row), with the lattice KG dispersion for m
 * (rad/ms) and c (µm/ms) drawn over it (h: the record's unless given). */
static int l_spacetime(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    static const char *const keys[] = {"m", "c", "h", "row", "title", NULL};
    lattice_rec r;
    load_lattice(L, 1, &r, "nsim.spacetime");
    ns_lua_options(L, 2, keys, "nsim.spacetime");
    double m = 0, c = 0, h = r.h, row = -1;
    const char *title = NULL;
    if (lua_istable(L, 2)) {
        m = ns_lua_field_number(L, 2, "m", 0, "nsim.spacetime");
        c = ns_lua_field_number(L, 2, "c", 0, "nsim.spacetime");
        h = ns_lua_field_number(L, 2, "h", r.h, "nsim.spacetime");
        row = ns_lua_field_number(L, 2, "row", -1, "nsim.spacetime");
        title = ns_lua_field_string(L, 2, "title", NULL, "nsim.spacetime");
    }
    if (!(m >= 0) || !(c >= 0) || !(h > 0)) ns_lua_errorf(L, "nsim.spacetime: m = %g, c = %g must be >= 0 and h = %g > 0", m, c, h);
    if (row != -1 && !(row >= 0 && row < r.ny && row == floor(row)))
        ns_lua_errorf(L, "nsim.spacetime: row = %g is not in [0, %d] (0-based)", row, r.ny - 1);
    char path[4096], err[1024];
    ns_lua_output_path(L, luaL_optstring(L, 3, "spacetime.png"), "nsim.spacetime", path, (int)sizeof path);
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, s, NULL, 0);
    if (ns_lattice_plot_spacetime(NULL, path, r.movie, r.nt, r.nx, r.ny, r.dt, h, (int)row, m, c, title, pt.keys,
                                  pt.vals, pt.n, err, sizeof err))
        luaL_error(L, "nsim.spacetime: %s", err);
    lua_pushstring(L, path);
    return 1;
}

/* nsim.lattice_psd(record, {m =, c =, band = {lo, hi} (Hz), site =, segment =, csv =}, "psd.png")
 * — a site's spectrum (site: 0-based; none: the mean over sites) against g(omega)/omega^2 from
 * the exact lattice density of states, scaled over the band: {f = , psd = , theory = }; csv
 * (a file name) also writes f_hz,psd,psd_theory. */
static int l_lattice_psd(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    static const char *const keys[] = {"m", "c", "band", "site", "segment", "csv", "title", NULL};
    const char *what = "nsim.lattice_psd";
    lattice_rec r;
    load_lattice(L, 1, &r, what);
    luaL_checktype(L, 2, LUA_TTABLE);
    ns_lua_check_keys(L, 2, keys, what);
    double m = ns_lua_field_number(L, 2, "m", -1, what), c = ns_lua_field_number(L, 2, "c", 0, what);
    double site = ns_lua_field_number(L, 2, "site", -1, what);
    double seg = ns_lua_field_number(L, 2, "segment", (double)(r.nt >= 512 ? 256 : r.nt / 2), what);
    const char *csv = ns_lua_field_string(L, 2, "csv", NULL, what), *title = ns_lua_field_string(L, 2, "title", NULL, what);
    lua_getfield(L, 2, "band");
    if (!lua_istable(L, -1) || luaL_len(L, -1) != 2) ns_lua_errorf(L, "%s: band = {lo, hi} (Hz) is required", what);
    lua_geti(L, -1, 1);
    lua_geti(L, -2, 2);
    double blo = luaL_checknumber(L, -2), bhi = luaL_checknumber(L, -1);
    lua_pop(L, 3);
    if (site != -1 && !(site >= 0 && site == floor(site)))
        ns_lua_errorf(L, "%s: site = %g is not a site index (0-based)", what, site);
    if (!(seg >= 4 && seg == floor(seg))) ns_lua_errorf(L, "%s: segment = %g must be a whole number >= 4", what, seg);
    long nf = (long)seg / 2 + 1;
    double *f = lua_newuserdatauv(L, 3 * (size_t)nf * sizeof *f, 0), *p = f + nf, *th = p + nf;
    char path[4096], err[1024];
    ns_lua_output_path(L, luaL_optstring(L, 3, "site_psd.png"), what, path, (int)sizeof path);
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, s, NULL, 0);
    if (ns_lattice_site_psd(NULL, path, r.movie, r.nt, r.nx, r.ny, r.dt, r.h, (long)site, (long)seg, m, c, blo, bhi, title,
                            f, p, th, pt.keys, pt.vals, pt.n, err, sizeof err))
        luaL_error(L, "%s: %s", what, err);
    if (csv) {
        char cpath[4096];
        ns_lua_output_path(L, csv, what, cpath, (int)sizeof cpath);
        char tmp[4200];
        FILE *fp = ns_file_start(cpath, tmp, sizeof tmp, err, sizeof err);
        if (!fp) luaL_error(L, "%s: %s", what, err);
        fprintf(fp, "f_hz,psd,psd_theory\n");
        for (long k = 0; k < nf; k++) fprintf(fp, "%.9g,%.9g,%.9g\n", f[k], p[k], th[k]);
        if (ns_file_finish(fp, tmp, cpath, err, sizeof err)) luaL_error(L, "%s: %s", what, err);
    }
    lua_createtable(L, 0, 3);
    ns_lua_push_numbers(L, f, nf, 1);
    lua_setfield(L, -2, "f");
    ns_lua_push_numbers(L, p, nf, 1);
    lua_setfield(L, -2, "psd");
    ns_lua_push_numbers(L, th, nf, 1);
    lua_setfield(L, -2, "theory");
    return 1;
}

/* nsim.lattice_movie(record, "movie.csv") — the record as a movie table: a row per frame of the
 * nx*ny sites in site order (column-fastest), no header: what `nsim plot spacetime` reads. */
static int l_lattice_movie(lua_State *L)
{
    lattice_rec r;
    load_lattice(L, 1, &r, "nsim.lattice_movie");
    char path[4096];
    ns_lua_output_path(L, luaL_optstring(L, 2, "movie.csv"), "nsim.lattice_movie", path, (int)sizeof path);
    char tmp[4200], err[4400];
    FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, sizeof err);
    if (!fp) luaL_error(L, "nsim.lattice_movie: %s", err);
    size_t n = (size_t)r.nx * (size_t)r.ny;
    for (long it = 0; it < r.nt; it++)
        for (size_t k = 0; k < n; k++) fprintf(fp, "%.9g%c", r.movie[(size_t)it * n + k], k + 1 < n ? ',' : '\n');
    if (ns_file_finish(fp, tmp, path, err, sizeof err)) luaL_error(L, "nsim.lattice_movie: %s", err);
    lua_pushstring(L, path);
    return 1;
}

void ns_lua_open_figures(lua_State *L)
{
    static const luaL_Reg fns[] = {{"raster", l_raster}, {"stats", l_stats}, {"psd", l_psd}, {"figure", l_figure},
                                   {"psth", l_psth}, {"sta", l_sta}, {"plot", l_plot},
                                   {"bars", l_bars}, {"raster_bars", l_raster_bars},
                                   {"kuramoto", l_kuramoto}, {"lattice_snapshot", l_lattice_snapshot},
                                   {"lattice_frames", l_lattice_frames}, {"lattice_sheet", l_lattice_sheet},
                                   {"spacetime", l_spacetime}, {"lattice_psd", l_lattice_psd},
                                   {"lattice_movie", l_lattice_movie}, {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
