/* tests/testlib.h — helpers shared by the engine tests: a context writing into a fresh
 * temporary folder, reading back the spikes.csv a run wrote (or any file whole), and the
 * one-spike input most single-neuron tests start from. Header only. */
#ifndef NS_TESTLIB_H
#define NS_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/ctx.h"
#include "sim/net.h"
#include "tests/harness.h"

/* A context with seed and threads, writing into a new folder under /tmp (or $TMPDIR). */
static inline ns_ctx *test_ctx(uint64_t seed, int threads)
{
    ns_ctx *ctx = ns_ctx_create();
    if (!ctx) {
        printf("cannot make a context\n");
        exit(1);
    }
    char tmpl[512];
    ns_test_tmpdir(tmpl, sizeof tmpl, "nsim-test");
    ns_ctx_set_outdir(ctx, tmpl);
    ns_ctx_set_seed(ctx, seed);
    ns_ctx_set_threads(ctx, threads);
    return ctx;
}

/* Remove the files of the test folder and the folder. */
static inline void test_ctx_free(ns_ctx *ctx)
{
    ns_ctx_discard_outputs(ctx);
    rmdir(ns_ctx_outdir(ctx));
    ns_ctx_free(ctx);
}

typedef struct {
    size_t n;
    double *t;
    long *id;
} test_spikes;

/* Read a spikes.csv (t_ms,neuron) from the context's folder; exits on a malformed file. */
static inline test_spikes test_read_spikes(ns_ctx *ctx, const char *file)
{
    char path[1024], line[256];
    snprintf(path, sizeof path, "%s/%s", ns_ctx_outdir(ctx), file);
    test_spikes s = {0, NULL, NULL};
    FILE *fp = fopen(path, "r");
    if (!fp || !fgets(line, sizeof line, fp) || strcmp(line, "t_ms,neuron\n") != 0) {
        printf("%s: missing or bad header\n", path);
        exit(1);
    }
    size_t cap = 0;
    double t;
    long id;
    while (fscanf(fp, "%lf,%ld", &t, &id) == 2) {
        if (s.n == cap) {
            cap = cap ? 2 * cap : 256;
            s.t = realloc(s.t, cap * sizeof *s.t);
            s.id = realloc(s.id, cap * sizeof *s.id);
        }
        s.t[s.n] = t;
        s.id[s.n++] = id;
    }
    fclose(fp);
    return s;
}

static inline void test_spikes_free(test_spikes *s)
{
    free(s->t);
    free(s->id);
}

/* The whole of a file in the context's folder, NUL-terminated and malloc'd (the caller frees
 * it), its length in bytes in *len (0 after a short read); NULL when it cannot be opened. */
static inline char *test_slurp(ns_ctx *ctx, const char *file, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ns_ctx_outdir(ctx), file);
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    rewind(fp);
    char *buf = malloc(*len + 1);
    if (fread(buf, 1, *len, fp) != *len) *len = 0;
    buf[*len] = '\0';
    fclose(fp);
    return buf;
}

/* A spike source "src" of one unit that fires once, at t_ms (ms). */
static inline ns_pop *test_one_spike(ns_net *net, double t_ms)
{
    size_t off[] = {0, 1};
    double times[] = {t_ms};
    return ns_net_add_spike_source(net, 1, off, times, "src");
}

/* Connect every unit of src to every unit of tgt (autapses allowed) with one weight, in the
 * target's unit, and one delay (ms); returns ns_net_connect's status. */
static inline int test_connect_const(ns_net *net, ns_pop *src, ns_pop *tgt, double weight, double delay_ms)
{
    ns_conn_spec spec = {.rule = NS_RULE_ALL_TO_ALL, .weight = {NS_DIST_CONST, weight, 0},
                         .delay = {NS_DIST_CONST, delay_ms, 0}, .autapses = 1};
    return ns_net_connect(net, src, tgt, &spec);
}

/* Set one parameter of a population (aborts the test on failure). */
static inline void set1(ns_ctx *ctx, ns_net *net, ns_pop *pop, const char *name, double value)
{
    const char *names[] = {name};
    if (ns_pop_set_params(net, pop, names, &value, 1)) {
        printf("set %s: %s\n", name, ns_ctx_errmsg(ctx));
        exit(1);
    }
}

/* The cell lif's defaults were before they became NEST's iaf_psc_exp ones: Brette et al. 2007's
 * CUBA cell (C_m 200 pF, tau_m 20 ms, E_L -49 mV, V_th -50 mV, V_reset -60 mV, t_ref 5 ms,
 * tau_ex 5 ms, tau_in 10 ms; V starts at E_L). Tests written against those defaults set it, so
 * that they check what they checked. For lif and lif_ode, before any per-unit value. */
static inline void test_cuba_cell(ns_ctx *ctx, ns_net *net, ns_pop *pop)
{
    const char *names[] = {"C_m", "tau_m", "E_L", "V_th", "V_reset", "t_ref", "tau_ex", "tau_in"};
    const double vals[] = {200, 20, -49, -50, -60, 5, 5, 10};
    if (ns_pop_set_params(net, pop, names, vals, 8)) {
        printf("the CUBA cell: %s\n", ns_ctx_errmsg(ctx));
        exit(1);
    }
}

#endif
