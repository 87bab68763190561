/* lua/lua_train.c — training from a script: nsim.train{...} runs one configuration and returns
 * its per-epoch figures; nsim.compare{...} runs several on the same data, seed and order and
 * writes compare.csv, learning-curve figures and a raster of each one's hidden spikes;
 * nsim.training_data{...} writes the data they train on, for another trainer to read. */
#include "lua/lua_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "analysis/plot.h"
#include "analysis/raster.h"
#include "base/files.h"
#include "lua/lua_util.h"
#include "io/runinfo.h"
#include "io/nir.h"
#include "lua/lua_nir.h"
#include "train/snn.h"

/* The data of a run: train and test sets, held by a Lua userdata so that an error raised while
 * they are in use still frees them (its __gc). */
typedef struct {
    ns_dataset *train, *test;
} data_pair;
#define DATA_MT "nsim.data"

static const char *const train_keys[] = {"data", "neuron", "surrogate", "reset", "T", "hidden", "epochs", "lr",
                                         "batch", "seed", "threads", "sparsity", "encoding", "limit", "name",
                                         "learn_beta", "beta", "save", "readout", "readout_beta", "recurrent",
                                         "readout_alpha", "lr_schedule", "surrogate_param", "latency_rule", "syn_alpha",
                                         "definition", "theta", "tau", "eps", "learn_eps", "tau_per", "tau_clamp", "nir", "nir_dt", NULL};

static void free_pair(data_pair *d)
{
    ns_dataset_free(d->train);
    ns_dataset_free(d->test);
    d->train = d->test = NULL;
}

static int data_gc(lua_State *L)
{
    free_pair(luaL_checkudata(L, 1, DATA_MT));
    return 0;
}

/* The first `limit` samples of *ds (0: all). */
static int limit_set(ns_dataset **ds, long limit, char *err, size_t errlen)
{
    if (limit <= 0 || (size_t)limit >= ns_dataset_n(*ds)) return 0;
    size_t *idx = malloc((size_t)limit * sizeof *idx);
    if (!idx) return snprintf(err, errlen, "out of memory"), -1;
    for (long i = 0; i < limit; i++) idx[i] = (size_t)i * (ns_dataset_n(*ds) / (size_t)limit);
    ns_dataset *sub;
    int rc = ns_dataset_subset(*ds, idx, (size_t)limit, &sub, err, errlen);
    free(idx);
    if (rc) return -1;
    ns_dataset_free(*ds);
    *ds = sub;
    return 0;
}

/* data = "fashion-mnist" | "randman" | a folder of IDX files (the Fashion-MNIST names); the
 * pair is pushed as a userdata (see data_pair). */
static data_pair *load_data(lua_State *L, int idx, uint64_t seed, long limit)
{
    char err[1024];
    const char *name = ns_lua_field_string(L, idx, "data", "fashion-mnist", "training");
    int rc;
    data_pair *d = lua_newuserdatauv(L, sizeof *d, 0);
    memset(d, 0, sizeof *d);
    luaL_setmetatable(L, DATA_MT);
    if (!strcmp(name, "randman")) {
        ns_randman_params p;
        ns_randman_defaults(&p);
        p.seed = seed;
        ns_dataset *all = NULL;
        rc = ns_dataset_randman(&p, &all, err, sizeof err);
        if (!rc) rc = ns_dataset_split(all, 0.2, seed, &d->train, &d->test, err, sizeof err);
        ns_dataset_free(all);
    } else {
        const char *dir = !strcmp(name, "fashion-mnist") ? NULL : name;
        rc = ns_dataset_load_fashion_mnist(dir, 1, &d->train, err, sizeof err);
        if (!rc) rc = ns_dataset_load_fashion_mnist(dir, 0, &d->test, err, sizeof err);
    }
    if (!rc) rc = limit_set(&d->train, limit, err, sizeof err);
    if (!rc) rc = limit_set(&d->test, limit > 0 ? limit / 5 + 1 : 0, err, sizeof err);
    if (rc) luaL_error(L, "training data: %s", err);
    if (limit > 0) /* the test set is cut too: say so */
        ns_ctx_log(ns_lua_script(L)->ctx, "limit %ld: %zu training samples, %zu test samples (limit / 5 + 1 of the test set)",
                   limit, ns_dataset_n(d->train), ns_dataset_n(d->test));
    return d;
}

/* The most units a hidden layer may have. */
enum { MAX_UNITS = 1 << 20 };

/* The options of one configuration (table at idx, over the defaults in base). */
static ns_snn_opts read_opts(lua_State *L, int idx, const ns_snn_opts *base, int *epochs, const char **name)
{
    static const ns_lua_enum resets[] = {{"zero", NS_RESET_ZERO}, {"subtract", NS_RESET_SUBTRACT}, {NULL, 0}};
    static const ns_lua_enum readouts[] = {{"mean", NS_READOUT_MEAN}, {"leaky", NS_READOUT_LEAKY}, {NULL, 0}};
    static const ns_lua_enum schedules[] = {{"constant", NS_LR_CONSTANT}, {"cosine", NS_LR_COSINE}, {NULL, 0}};
    ns_snn_opts o = *base;
    ns_lua_check_keys(L, idx, train_keys, "training");
    char err[256];
    const char *neuron = ns_lua_field_string(L, idx, "neuron", ns_neuron_kind_name(o.neuron.kind), "training");
    ns_neuron_kind kind;
    if (ns_neuron_kind_from_name(neuron, &kind)) luaL_error(L, "training: unknown neuron '%s' (lif, ultralif, ultraplif, ultradlif, ultradplif)", neuron);
    static const ns_lua_enum defs[] = {{"library", NS_ULTRA_LIBRARY}, {"ablation", NS_ULTRA_ABLATION}, {NULL, 0}};
    if (kind == NS_NEURON_LIF) { /* the Ultra neurons' own options */
        static const char *const ultra_only[] = {"definition", "tau", "eps", "learn_eps", "tau_clamp", NULL};
        for (int k = 0; ultra_only[k]; k++) {
            lua_getfield(L, idx, ultra_only[k]);
            int given = !lua_isnil(L, -1);
            lua_pop(L, 1);
            if (given) luaL_error(L, "training: %s is an option of the Ultra neurons (ultralif, ultraplif, ultradlif, ultradplif), not of lif", ultra_only[k]);
        }
    }
    const ns_ultra_definition def = ns_lua_field_enum(L, idx, "definition", defs, o.neuron.definition, "is", "training");
    /* another neuron or definition starts from its defaults */
    if (kind != o.neuron.kind || (kind != NS_NEURON_LIF && def != o.neuron.definition))
        o.neuron = ns_neuron_opts_ultra(kind, o.hidden[0], def);
    o.neuron.theta = (float)ns_lua_field_number(L, idx, "theta", o.neuron.theta, "training");
    if (!isfinite(o.neuron.theta)) luaL_error(L, "training: theta (the threshold) must be a finite number");
    o.neuron.tau = (float)ns_lua_field_number(L, idx, "tau", o.neuron.tau, "training");
    if (!(o.neuron.tau > 0 && o.neuron.tau < 1))
        ns_lua_errorf(L, "training: tau (the decay per step, or the learned one's start) is %g, must be in (0, 1)", (double)o.neuron.tau);
    o.neuron.eps = (float)ns_lua_field_number(L, idx, "eps", o.neuron.eps, "training");
    if (!(o.neuron.eps > 0 && isfinite(o.neuron.eps)))
        ns_lua_errorf(L, "training: eps (the max-plus temperature, or its learned start) is %g, must be positive", (double)o.neuron.eps);
    o.neuron.learn_eps = ns_lua_field_bool(L, idx, "learn_eps", o.neuron.learn_eps);
    o.neuron.tau_clamp = ns_lua_field_bool(L, idx, "tau_clamp", o.neuron.tau_clamp);
    static const ns_lua_enum pers[] = {{"layer", 0}, {"neuron", 1}, {NULL, 0}};
    o.neuron.per_neuron = ns_lua_field_enum(L, idx, "tau_per", pers, o.neuron.per_neuron, "is", "training");
    const char *surr = ns_lua_field_string(L, idx, "surrogate", NULL, "training");
    if (surr) {
        if (ns_surrogate_from_name(surr, &o.neuron.surrogate)) luaL_error(L, "training: unknown surrogate '%s'", surr);
        o.neuron.surrogate_param = ns_surrogate_default(o.neuron.surrogate);
    }
    o.neuron.surrogate_param =
        (float)ns_lua_field_number(L, idx, "surrogate_param", o.neuron.surrogate_param, "training");
    if (!(o.neuron.surrogate_param > 0)) luaL_error(L, "training: surrogate_param must be positive");
    o.neuron.reset = ns_lua_field_enum(L, idx, "reset", resets, o.neuron.reset, "is", "training");
    o.recurrent = ns_lua_field_bool(L, idx, "recurrent", o.recurrent);
    o.neuron.learn_beta = ns_lua_field_bool(L, idx, "learn_beta", o.neuron.learn_beta);
    o.neuron.beta = (float)ns_lua_field_number(L, idx, "beta", o.neuron.beta, "training");
    o.neuron.syn_alpha = (float)ns_lua_field_number(L, idx, "syn_alpha", o.neuron.syn_alpha, "training");
    if (!(o.neuron.syn_alpha >= 0 && o.neuron.syn_alpha < 1) || (o.neuron.syn_alpha > 0 && o.neuron.kind != NS_NEURON_LIF))
        luaL_error(L, "training: syn_alpha (a lif's synaptic decay per step) is in [0, 1), for neuron lif only");
    o.readout = ns_lua_field_enum(L, idx, "readout", readouts, o.readout, "is", "training");
    o.readout_beta = (float)ns_lua_field_number(L, idx, "readout_beta", o.readout_beta, "training");
    o.readout_alpha = (float)ns_lua_field_number(L, idx, "readout_alpha", o.readout_alpha, "training");
    o.T = (int)ns_lua_field_whole(L, idx, "T", o.T, 1, 1e6, "training");
    lua_getfield(L, idx, "hidden");
    if (lua_isnumber(L, -1)) {
        o.n_hidden = 1;
        o.hidden[0] = (int)ns_lua_field_whole(L, idx, "hidden", 0, 1, MAX_UNITS, "training");
    } else if (lua_istable(L, -1)) {
        o.n_hidden = (int)luaL_len(L, -1);
        if (o.n_hidden < 1 || o.n_hidden > NS_SNN_MAX_LAYERS) luaL_error(L, "training: 1 to %d hidden layers", NS_SNN_MAX_LAYERS);
        for (int l = 0; l < o.n_hidden; l++) {
            lua_geti(L, -1, l + 1);
            const double h = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : NAN;
            if (!(h >= 1 && h <= MAX_UNITS && h == floor(h)))
                ns_lua_errorf(L, "training: hidden[%d] is not a whole number of units in [1, %d]", l + 1, MAX_UNITS);
            o.hidden[l] = (int)h;
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "training: hidden is a number of units or a list of them, one per layer");
    }
    lua_pop(L, 1);
    *epochs = (int)ns_lua_field_whole(L, idx, "epochs", *epochs, 1, 1e6, "training");
    o.lr = (float)ns_lua_field_number(L, idx, "lr", o.lr, "training");
    o.lr_schedule = ns_lua_field_enum(L, idx, "lr_schedule", schedules, o.lr_schedule, "is", "training");
    o.batch = (int)ns_lua_field_whole(L, idx, "batch", o.batch, 1, 1 << 20, "training");
    o.seed = (uint64_t)ns_lua_field_whole(L, idx, "seed", (double)o.seed, 0, 9007199254740992.0, "training");
    const double threads = ns_lua_field_number(L, idx, "threads", o.threads, "training");
    if (!(threads >= 1 && threads <= NS_SNN_MAX_THREADS && threads == (int)threads))
        ns_lua_errorf(L, "training: threads is %g, must be a whole number in 1..%d (the weights are the same for any)",
                      threads, NS_SNN_MAX_THREADS);
    o.threads = (int)threads;
    o.sparsity = (float)ns_lua_field_number(L, idx, "sparsity", o.sparsity, "training");
    const char *enc = ns_lua_field_string(L, idx, "encoding", NULL, "training");
    if (enc) {
        ns_encoding k;
        if (ns_encoding_from_name(enc, &k, err, sizeof err)) luaL_error(L, "training: %s", err);
        ns_encoder_defaults(&o.encoder, k);
    }
    static const ns_lua_enum latency_rules[] = {{"linear", NS_LATENCY_LINEAR}, {"lif", NS_LATENCY_LIF}, {NULL, 0}};
    o.encoder.latency.rule = ns_lua_field_enum(L, idx, "latency_rule", latency_rules, o.encoder.latency.rule, "is",
                                               "training");
    if (*epochs < 1 || o.T < 1 || o.batch < 1 || !(o.lr > 0))
        luaL_error(L, "training: epochs, T, batch and lr must be positive");
    if (name) *name = ns_lua_field_string(L, idx, "name", neuron, "training");
    return o;
}

typedef struct {
    ns_snn_stats train, test;
} epoch_row;

/* Train one configuration; rows[epochs] receive the figures; the network is returned. */
static ns_snn *run_config(lua_State *L, const ns_snn_opts *o, int epochs, const data_pair *d, const char *name,
                          epoch_row *rows)
{
    ns_script *s = ns_lua_script(L);
    char err[1024];
    ns_snn *n = ns_snn_create((int)ns_dataset_dim(d->train), ns_dataset_classes(d->train), o, err, sizeof err);
    if (!n) luaL_error(L, "training %s: %s", name, err);
    for (int e = 0; e < epochs; e++) {
        ns_snn_set_lr(n, ns_snn_lr_at(o, e, epochs));
        if (ns_snn_train_epoch(n, d->train, e, &rows[e].train, err, sizeof err) ||
            ns_snn_evaluate(n, d->test, &rows[e].test, err, sizeof err)) {
            ns_snn_free(n);
            luaL_error(L, "training %s: %s", name, err);
        }
        ns_ctx_log(s->ctx, "%s: epoch %d/%d  loss %.4f  train %.2f %%  test %.2f %%  rate %.3f  %.2f s", name, e + 1,
                   epochs, rows[e].train.loss, 100 * rows[e].train.accuracy, 100 * rows[e].test.accuracy,
                   rows[e].test.rate, rows[e].train.seconds);
        s->simulated = 1;
        if (e + 1 < epochs && ns_ctx_stop_requested(s->ctx)) {
            ns_snn_free(n);
            s->interrupted = 1;
            luaL_error(L, "training %s: interrupted after epoch %d of %d", name, e + 1, epochs);
        }
    }
    return n;
}

static void push_rows(lua_State *L, const epoch_row *rows, int epochs)
{
    lua_createtable(L, epochs, 0);
    for (int e = 0; e < epochs; e++) {
        lua_createtable(L, 0, 6);
        lua_pushnumber(L, rows[e].train.loss);
        lua_setfield(L, -2, "loss");
        lua_pushnumber(L, rows[e].train.accuracy);
        lua_setfield(L, -2, "train_acc");
        lua_pushnumber(L, rows[e].test.accuracy);
        lua_setfield(L, -2, "test_acc");
        lua_pushnumber(L, rows[e].test.rate);
        lua_setfield(L, -2, "rate");
        lua_pushnumber(L, rows[e].train.seconds);
        lua_setfield(L, -2, "seconds");
        lua_rawseti(L, -2, e + 1);
    }
}

static ns_snn_opts base_opts(void)
{
    ns_snn_opts o;
    ns_snn_opts_default(&o);
    return o;
}

/* nsim.train{data, neuron, surrogate, surrogate_param, reset, T, hidden, epochs, lr, lr_schedule, batch, seed, threads,
 * sparsity, encoding, limit, save, nir, nir_dt} — {epochs = {{loss, train_acc, test_acc, rate, seconds}, ...}, test_acc,
 * file, nir}; save names a file in the output folder for net:load_network (ns_snn_save), nir one for
 * net:load_nir (io/nir.h, time constants for a step of nir_dt ms, 1 unless given). */
static int l_train(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int epochs = 5;
    ns_snn_opts base = base_opts();
    ns_snn_opts o = read_opts(L, 1, &base, &epochs, NULL);
    const char *save = ns_lua_field_string(L, 1, "save", NULL, "training");
    const char *nir = ns_lua_field_string(L, 1, "nir", NULL, "training");
    const double nir_dt = ns_lua_field_number(L, 1, "nir_dt", 1.0, "training");
    char path[4096], nir_path[4096], scratch[4200], err[1024];
    if (save && ns_ctx_output_path(ns_lua_script(L)->ctx, save, path, (int)sizeof path)) /* refused before training */
        luaL_error(L, "training: save: %s", ns_ctx_errmsg(ns_lua_script(L)->ctx));
    if (nir && !(nir_dt > 0 && nir_dt < 1e6)) ns_lua_errorf(L, "training: nir_dt = %g ms, must be in (0, 1e6)", nir_dt);
    if (nir && o.neuron.kind == NS_NEURON_LIF && o.neuron.reset == NS_RESET_SUBTRACT) /* io/nir.c says so too */
        luaL_error(L, "training: nir: reset = subtract has no NIR node (NIR's LIF resets to v_reset): train with reset = \"zero\"");
    if (nir && ns_ctx_output_path(ns_lua_script(L)->ctx, nir, nir_path, (int)sizeof nir_path))
        luaL_error(L, "training: nir: %s", ns_ctx_errmsg(ns_lua_script(L)->ctx));
    data_pair *d = load_data(L, 1, o.seed, (long)ns_lua_field_whole(L, 1, "limit", 0, 0, 1e12, "training"));
    epoch_row *rows = lua_newuserdatauv(L, (size_t)epochs * sizeof *rows, 0);
    const char *name = ns_lua_field_string(L, 1, "name", ns_neuron_kind_name(o.neuron.kind), "training");
    ns_snn *n = run_config(L, &o, epochs, d, name, rows);
    int failed = save && ns_snn_save(n, path, err, sizeof err);
    /* NIR is written from the saved network: the save's file, else one beside the NIR file, removed after */
    if (nir && !save) snprintf(scratch, sizeof scratch, "%s.snn", nir_path);
    int nir_failed = !failed && nir && !save && ns_snn_save(n, scratch, err, sizeof err);
    ns_snn_free(n);
    free_pair(d); /* now: a data set can be large */
    if (failed) luaL_error(L, "training: save: %s", err);
    if (nir_failed) luaL_error(L, "training: nir: %s", err);
    if (nir) {
        nir_failed = ns_nir_write_snn(save ? path : scratch, nir_path, nir_dt, err, sizeof err);
        if (!save) remove(scratch);
        if (nir_failed) luaL_error(L, "training: nir: %s", err);
    }
    lua_createtable(L, 0, 4);
    if (save) {
        lua_pushstring(L, path);
        lua_setfield(L, -2, "file");
    }
    if (nir) {
        lua_pushstring(L, nir_path);
        lua_setfield(L, -2, "nir");
    }
    push_rows(L, rows, epochs);
    lua_setfield(L, -2, "epochs");
    lua_pushnumber(L, rows[epochs - 1].test.accuracy);
    lua_setfield(L, -2, "test_acc");
    return 1;
}

/* A raster of a network's hidden spikes (values above 0.5 count) for test sample 0. */
static void hidden_raster(lua_State *L, ns_snn *n, const data_pair *d, const ns_snn_opts *o, const char *name)
{
    char err[1024], path[4096], file[256];
    size_t units = (size_t)o->hidden[0];
    float *s = malloc((size_t)o->T * units * sizeof *s);
    if (!s || ns_snn_hidden_spikes(n, d->test, 0, 0, s, err, sizeof err)) {
        free(s);
        return;
    }
    ns_raster_group g = {name, 0, (long)units};
    char title[256];
    snprintf(title, sizeof title, "%s: hidden spikes for test sample 0 (label %d)", name, ns_dataset_labels(d->test)[0]);
    ns_raster *r = ns_raster_create(0.0, (double)o->T, (long)units, &g, 1, title);
    for (int t = 0; r && t < o->T; t++)
        for (size_t u = 0; u < units; u++)
            if (s[(size_t)t * units + u] > 0.5f) ns_raster_add(r, t + 0.5, (long)u);
    snprintf(file, sizeof file, "raster_%s.png", name);
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, ns_lua_script(L), NULL, 0);
    if (r && !ns_ctx_output_path(ns_lua_script(L)->ctx, file, path, (int)sizeof path))
        ns_raster_write(r, path, pt.keys, pt.vals, pt.n, err, sizeof err);
    ns_raster_free(r);
    free(s);
}

/* nsim.compare{configs = {{name, neuron, ...}, ...}, data, epochs, T, hidden, ... (shared)} —
 * compare.csv, accuracy.png, rate.png and raster_NAME.png; returns {NAME = {epochs...}, ...}. */
static int l_compare(lua_State *L)
{
    ns_script *s = ns_lua_script(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "configs");
    int cfg = lua_gettop(L);
    if (!lua_istable(L, cfg) || luaL_len(L, cfg) < 1) luaL_error(L, "nsim.compare: configs (a list of tables) is required");
    int nc = (int)luaL_len(L, cfg);
    if (nc > 16) luaL_error(L, "nsim.compare: at most 16 configurations");
    for (int c = 1; c <= nc; c++)
        if (lua_geti(L, cfg, c) != LUA_TTABLE) luaL_error(L, "nsim.compare: configuration %d is not a table", c);
    lua_settop(L, cfg);
    /* the shared options: everything in the table but configs */
    lua_newtable(L);
    int shared = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "configs")) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_settable(L, shared);
        } else {
            lua_pop(L, 1);
        }
    }
    int epochs = 5;
    if (lua_getfield(L, shared, "save") != LUA_TNIL) luaL_error(L, "nsim.compare: save belongs to nsim.train");
    lua_pop(L, 1);
    if (lua_getfield(L, shared, "nir") != LUA_TNIL) luaL_error(L, "nsim.compare: nir belongs to nsim.train");
    lua_pop(L, 1);
    ns_snn_opts base = base_opts();
    base = read_opts(L, shared, &base, &epochs, NULL);
    /* every configuration is read before any trains, so a bad one is refused before the work */
    const char *names[16];
    ns_snn_opts opts[16];
    for (int c = 0; c < nc; c++) {
        lua_geti(L, cfg, c + 1);
        int e = epochs;
        if (lua_getfield(L, -1, "save") != LUA_TNIL) luaL_error(L, "nsim.compare: save belongs to nsim.train");
        lua_pop(L, 1);
        if (lua_getfield(L, -1, "nir") != LUA_TNIL) luaL_error(L, "nsim.compare: nir belongs to nsim.train");
        lua_pop(L, 1);
        opts[c] = read_opts(L, lua_gettop(L), &base, &e, &names[c]);
        if (e != epochs) luaL_error(L, "nsim.compare: every configuration runs the same epochs");
        lua_pop(L, 1); /* the configuration table; its name string stays alive in the list */
    }
    data_pair *d = load_data(L, shared, base.seed, (long)ns_lua_field_whole(L, shared, "limit", 0, 0, 1e12, "nsim.compare"));
    epoch_row *rows = lua_newuserdatauv(L, (size_t)nc * (size_t)epochs * sizeof *rows, 0);
    lua_createtable(L, 0, nc);
    int result = lua_gettop(L);
    for (int c = 0; c < nc; c++) {
        const ns_snn_opts o = opts[c];
        ns_snn *n = run_config(L, &o, epochs, d, names[c], rows + (size_t)c * (size_t)epochs);
        hidden_raster(L, n, d, &o, names[c]);
        ns_snn_free(n);
        push_rows(L, rows + (size_t)c * (size_t)epochs, epochs);
        lua_setfield(L, result, names[c]);
    }
    free_pair(d);
    char path[4096], err[1024] = ""; /* empty unless a figure fails, not the output path */
    if (ns_ctx_output_path(s->ctx, "compare.csv", path, (int)sizeof path)) return ns_lua_fail(L);
    char tmp[4200];
    FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, sizeof err);
    if (!fp) luaL_error(L, "%s", err);
    fputs("config,epoch,loss,train_acc,test_acc,rate,seconds\n", fp);
    for (int c = 0; c < nc; c++)
        for (int e = 0; e < epochs; e++) {
            const epoch_row *r = &rows[(size_t)c * (size_t)epochs + (size_t)e];
            fprintf(fp, "%s,%d,%.6f,%.6f,%.6f,%.6f,%.3f\n", names[c], e + 1, r->train.loss, r->train.accuracy,
                    r->test.accuracy, r->test.rate, r->train.seconds);
        }
    if (ns_file_finish(fp, tmp, path, err, sizeof err)) luaL_error(L, "%s", err);
    double *x = lua_newuserdatauv(L, (size_t)epochs * sizeof *x, 0);
    double *acc = lua_newuserdatauv(L, (size_t)nc * (size_t)epochs * sizeof *acc, 0);
    double *rate = lua_newuserdatauv(L, (size_t)nc * (size_t)epochs * sizeof *rate, 0);
    ns_plot_series sa[16], sr[16];
    for (int e = 0; e < epochs; e++) x[e] = e + 1;
    for (int c = 0; c < nc; c++) {
        for (int e = 0; e < epochs; e++) {
            acc[c * epochs + e] = 100 * rows[(size_t)c * (size_t)epochs + (size_t)e].test.accuracy;
            rate[c * epochs + e] = rows[(size_t)c * (size_t)epochs + (size_t)e].test.rate;
        }
        sa[c] = (ns_plot_series){names[c], x, acc + c * epochs, epochs, 0};
        sr[c] = (ns_plot_series){names[c], x, rate + c * epochs, epochs, 0};
    }
    ns_runinfo_text pt;
    ns_runinfo_text_script(&pt, s, NULL, 0);
    ns_plot_opts pa = {.title = "Test accuracy per epoch", .x_label = "epoch", .y_label = "test accuracy (%)"};
    ns_plot_opts pr = {.title = "Mean hidden spike rate per epoch", .x_label = "epoch", .y_label = "spikes per unit and step"};
    if (ns_ctx_output_path(s->ctx, "accuracy.png", path, (int)sizeof path) ||
        ns_plot_lines(path, sa, nc, &pa, pt.keys, pt.vals, pt.n, err, sizeof err) ||
        ns_ctx_output_path(s->ctx, "rate.png", path, (int)sizeof path) ||
        ns_plot_lines(path, sr, nc, &pr, pt.keys, pt.vals, pt.n, err, sizeof err))
        luaL_error(L, "nsim.compare: figures: %s", err[0] ? err : ns_ctx_errmsg(s->ctx));
    lua_pushvalue(L, result);
    return 1;
}

/* Rows of ds as CSV lines "SET,label,v0,...": each value printed to 9 significant digits, which
 * reads back as the same float32. */
static void write_rows(FILE *fp, const char *set, const ns_dataset *ds)
{
    const size_t n = ns_dataset_n(ds), d = ns_dataset_dim(ds);
    const int *y = ns_dataset_labels(ds);
    for (size_t i = 0; i < n; i++) {
        const float *x = ns_dataset_row(ds, i);
        fprintf(fp, "%s,%d", set, y[i]);
        for (size_t j = 0; j < d; j++) fprintf(fp, ",%.9g", (double)x[j]);
        fputc('\n', fp);
    }
}

/* nsim.training_data{data, seed, limit, file} — writes the training and test sets nsim.train
 * trains and tests on for the same data, seed and limit (the same load_data) to FILE in the output
 * folder as CSV: set,label,x0.. (features) or t0.. (spike times, in steps), the training rows first,
 * each set in the order nsim holds it; returns {file, train, test, dim, classes, steps}. */
static int l_training_data(lua_State *L)
{
    static const char *const keys[] = {"data", "seed", "limit", "file", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    ns_lua_check_keys(L, 1, keys, "training data");
    const char *file = ns_lua_field_string(L, 1, "file", NULL, "training data");
    if (!file) luaL_error(L, "training data: file (a CSV file in the output folder) is required");
    const double seed = ns_lua_field_number(L, 1, "seed", (double)base_opts().seed, "training data");
    if (!(seed >= 0 && seed <= 9007199254740992.0 && seed == floor(seed)))
        ns_lua_errorf(L, "training data: seed is %g, must be a whole number in 0..2^53", seed);
    const double limit = ns_lua_field_number(L, 1, "limit", 0, "training data");
    if (!(limit >= 0 && limit <= 1e15 && limit == floor(limit)))
        ns_lua_errorf(L, "training data: limit is %g, must be a whole number >= 0 (0: all samples)", limit);
    ns_script *s = ns_lua_script(L);
    char path[4096], tmp[4200], err[1024];
    if (ns_ctx_output_path(s->ctx, file, path, (int)sizeof path)) /* refused before the data is made */
        luaL_error(L, "training data: file: %s", ns_ctx_errmsg(s->ctx));
    data_pair *d = load_data(L, 1, (uint64_t)seed, (long)limit);
    const int times = ns_dataset_kind(d->train) == NS_DATA_SPIKE_TIMES;
    const size_t dim = ns_dataset_dim(d->train);
    FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, sizeof err);
    if (!fp) luaL_error(L, "training data: %s", err);
    fputs("set,label", fp);
    for (size_t j = 0; j < dim; j++) fprintf(fp, ",%c%zu", times ? 't' : 'x', j);
    fputc('\n', fp);
    write_rows(fp, "train", d->train);
    write_rows(fp, "test", d->test);
    if (ns_file_finish(fp, tmp, path, err, sizeof err)) luaL_error(L, "training data: %s", err);
    lua_createtable(L, 0, 6);
    lua_pushstring(L, path);
    lua_setfield(L, -2, "file");
    lua_pushinteger(L, (lua_Integer)ns_dataset_n(d->train));
    lua_setfield(L, -2, "train");
    lua_pushinteger(L, (lua_Integer)ns_dataset_n(d->test));
    lua_setfield(L, -2, "test");
    lua_pushinteger(L, (lua_Integer)dim);
    lua_setfield(L, -2, "dim");
    lua_pushinteger(L, ns_dataset_classes(d->train));
    lua_setfield(L, -2, "classes");
    lua_pushinteger(L, ns_dataset_steps(d->train));
    lua_setfield(L, -2, "steps");
    free_pair(d);
    return 1;
}

void ns_lua_open_train(lua_State *L)
{
    static const luaL_Reg fns[] = {{"train", l_train}, {"compare", l_compare}, {"training_data", l_training_data},
                                   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
    luaL_newmetatable(L, DATA_MT);
    lua_pushcfunction(L, data_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}
