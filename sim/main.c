/* sim/main.c — the `nsim` command: run a script, list models, draw a raster, print the version.
 * The only file that talks to the terminal. Exit status: 0 ok, 2 bad input (nothing is left
 * behind), 1 a failure during a run (what was recorded stays on disk). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/raster.h"
#include "models/model.h"
#include "sim/csv.h"
#include "sim/ctx.h"
#include "sim/lua_api.h"
#include "sim/runinfo.h"

static const char usage[] =
    "usage: nsim run SCRIPT.lua [--out DIR] [--set NAME=VALUE]... [--seed N] [--threads N] [--quiet]\n"
    "       nsim models [NAME]\n"
    "       nsim plot raster SPIKES.csv --out PNG [--title TEXT]\n"
    "       nsim version\n"
    "       nsim --help\n"
    "\n"
    "run      runs a Lua simulation script; records, figures and run.json go to DIR\n"
    "         (default out/<script name>/). --set values reach the script through\n"
    "         nsim.param(name, default); a value the script never reads is refused.\n"
    "models   lists the models, or one model's parameters with units, defaults and ranges.\n"
    "plot     draws a spike raster from a spikes.csv (populations.csv beside it names groups).\n";

static int bad_usage(const char *what)
{
    fprintf(stderr, "nsim: %s (nsim --help shows the usage)\n", what);
    return 2;
}

typedef struct {
    int tty, shown;
} progress_state;

static void show_progress(void *user, double done, double total, double wall)
{
    progress_state *p = user;
    if (!p->tty || total <= 0) return;
    if (done >= total) {
        if (p->shown) fputs("\r\033[K", stderr);
        p->shown = 0;
        return;
    }
    if (wall < 1.0) return;
    int width = 30, filled = (int)(width * done / total);
    double eta = done > 0 ? wall * (total - done) / done : 0;
    fprintf(stderr, "\r[%.*s%*s] %3.0f%%  %.0f / %.0f ms  %.1f s, %.1f s left", filled,
            "##############################", width - filled, "", 100 * done / total, done, total, wall, eta);
    p->shown = 1;
}

static int parse_u64(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-') return -1;
    *out = strtoull(s, &end, 10);
    return (errno || *end) ? -1 : 0;
}

/* Refuse an output folder that cannot be made or written, before anything runs. */
static int check_outdir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return fprintf(stderr, "nsim: %s: output folder exists and is not a folder\n", dir), 2;
        if (access(dir, W_OK) != 0) return fprintf(stderr, "nsim: %s: output folder is not writable\n", dir), 2;
        return 0;
    }
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    for (;;) { /* the nearest existing ancestor must be writable */
        char *slash = strrchr(parent, '/');
        if (!slash) {
            snprintf(parent, sizeof parent, ".");
        } else if (slash == parent) {
            parent[1] = '\0';
        } else {
            *slash = '\0';
        }
        if (stat(parent, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                fprintf(stderr, "nsim: %s: output folder cannot be made (%s is not a folder)\n", dir, parent);
                return 2;
            }
            break;
        }
        if (!strcmp(parent, ".") || !strcmp(parent, "/")) break;
    }
    if (access(parent, W_OK) != 0) {
        fprintf(stderr, "nsim: %s: output folder cannot be made (%s is not writable)\n", dir, parent);
        return 2;
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    const char *script = NULL, *out = NULL;
    unsigned long long seed = 1, threads = 1;
    int quiet = 0;
    ns_setting settings[128];
    int nset = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(a, "--set") && i + 1 < argc) {
            char *eq = strchr(argv[++i], '=');
            if (!eq || eq == argv[i]) return bad_usage("--set takes NAME=VALUE");
            if (nset == 128) return bad_usage("too many --set");
            *eq = '\0';
            settings[nset++] = (ns_setting){argv[i], eq + 1, 0};
        } else if (!strcmp(a, "--seed") && i + 1 < argc) {
            if (parse_u64(argv[++i], &seed)) return bad_usage("--seed takes a whole number >= 0");
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            if (parse_u64(argv[++i], &threads) || threads < 1 || threads > 1024)
                return bad_usage("--threads takes a whole number from 1 to 1024");
        } else if (!strcmp(a, "--quiet")) quiet = 1;
        else if (a[0] == '-') {
            char msg[256];
            snprintf(msg, sizeof msg, "unknown or incomplete option %s", a);
            return bad_usage(msg);
        } else if (!script) script = a;
        else return bad_usage("one script at a time");
    }
    if (!script) return bad_usage("run needs a script");
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "nsim: %s: cannot read the script: %s\n", script, strerror(errno));
        return 2;
    }
    char defout[4096];
    if (!out) {
        const char *base = strrchr(script, '/');
        base = base ? base + 1 : script;
        size_t len = strlen(base);
        if (len > 4 && !strcmp(base + len - 4, ".lua")) len -= 4;
        snprintf(defout, sizeof defout, "out/%.*s", (int)len, base);
        out = defout;
    }
    int rc = check_outdir(out);
    if (rc) return rc;
    ns_ctx *ctx = ns_ctx_create();
    if (!ctx) return fprintf(stderr, "nsim: out of memory\n"), 1;
    ns_ctx_set_seed(ctx, seed);
    ns_ctx_set_threads(ctx, (int)threads);
    ns_ctx_set_outdir(ctx, out);
    progress_state prog = {isatty(2) && !quiet, 0};
    ns_ctx_set_progress(ctx, show_progress, &prog);
    ns_script *s = calloc(1, sizeof *s);
    if (!s) return fprintf(stderr, "nsim: out of memory\n"), 1;
    s->ctx = ctx;
    s->script = script;
    s->settings = settings;
    s->nsettings = nset;
    double t0 = ns_wall_seconds();
    int failed = ns_script_run(s);
    show_progress(&prog, 1, 1, 0);
    double wall = ns_wall_seconds() - t0;
    if (failed && !s->run_failed) {
        fprintf(stderr, "nsim: %s\n", s->errmsg);
        ns_ctx_discard_outputs(ctx);
        rc = 2;
    } else {
        if (failed) fprintf(stderr, "nsim: %s\n", s->errmsg);
        if (ns_runinfo_write(ctx, s, failed ? "failed" : "ok", wall)) {
            fprintf(stderr, "nsim: %s\n", ns_ctx_errmsg(ctx));
            failed = 1;
        }
        rc = failed ? 1 : 0;
        if (!quiet && !failed)
            fprintf(stderr, "nsim: %s: %zu neurons, %zu synapses, %lld spikes in %.0f ms; build %.2f s, simulate %.2f s -> %s/\n",
                    script, s->units, s->synapses, (long long)s->spikes, s->t_ms, s->build_s, s->simulate_s, out);
    }
    free(s);
    ns_ctx_free(ctx);
    return rc;
}

static const char *kind_name(ns_model_kind k)
{
    switch (k) {
    case NS_KIND_SPIKING: return "spiking";
    case NS_KIND_CONTINUOUS: return "continuous";
    case NS_KIND_FIELD: return "field";
    case NS_KIND_SOURCE: return "source";
    }
    return "?";
}

static void print_range(double lo, double hi)
{
    char a[32], b[32];
    if (isinf(lo)) snprintf(a, sizeof a, "-inf");
    else snprintf(a, sizeof a, "%g", lo);
    if (isinf(hi)) snprintf(b, sizeof b, "inf");
    else snprintf(b, sizeof b, "%g", hi);
    printf("[%s, %s]", a, b);
}

static int cmd_models(int argc, char **argv)
{
    if (argc == 0) {
        for (int i = 0; i < ns_model_count(); i++) {
            const ns_model *m = ns_model_at(i);
            printf("%-14s %-10s %s\n", m->name, kind_name(m->kind), m->doc);
        }
        return 0;
    }
    const ns_model *m = ns_model_find(argv[0]);
    if (!m) {
        fprintf(stderr, "nsim: unknown model '%s' (nsim models lists them)\n", argv[0]);
        return 2;
    }
    printf("%s (%s): %s\n", m->name, kind_name(m->kind), m->doc);
    if (m->n_params) {
        printf("\nparameters:\n  %-10s %-6s %10s  %-20s %s\n", "name", "unit", "default", "range", "meaning");
        for (int i = 0; i < m->n_params; i++) {
            const ns_param *p = &m->params[i];
            printf("  %-10s %-6s %10g  ", p->name, p->unit, p->def);
            print_range(p->min, p->max);
            printf("  %s\n", p->doc);
        }
    }
    int shown = 0;
    for (int i = 0; i < m->n_state; i++) {
        if (m->state[i].internal) continue;
        if (!shown++) printf("\nstate variables:\n");
        printf("  %-10s %-6s %s\n", m->state[i].name, m->state[i].unit, m->state[i].doc);
    }
    if (m->n_receptors)
        printf("\nspike weights in %s%s\n", m->weight_unit,
               m->neg_receptor != m->spike_receptor ? " (negative weights go to the inhibitory receptor)" : "");
    return 0;
}

typedef struct {
    double tmax;
    long maxid;
    ns_raster *r;
} scan_state;

static int scan_spike(void *user, double t, long id)
{
    scan_state *s = user;
    if (t > s->tmax) s->tmax = t;
    if (id > s->maxid) s->maxid = id;
    return 0;
}

static int draw_spike(void *user, double t, long id)
{
    ns_raster_add(((scan_state *)user)->r, t, id);
    return 0;
}

static int cmd_plot(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "raster") != 0) return bad_usage("plot knows: raster");
    const char *file = NULL, *out = NULL, *title = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--title") && i + 1 < argc) title = argv[++i];
        else if (argv[i][0] == '-') return bad_usage("unknown option for plot raster");
        else file = argv[i];
    }
    if (!file || !out) return bad_usage("plot raster needs SPIKES.csv and --out PNG");
    char err[1024];
    scan_state s = {0, -1, NULL};
    if (ns_csv_each_spike(file, scan_spike, &s, err, sizeof err)) return fprintf(stderr, "nsim: %s\n", err), 2;
    if (s.maxid < 0) return fprintf(stderr, "nsim: %s: no spikes to draw\n", file), 2;
    /* populations.csv beside the spikes names the groups */
    char popfile[4096], names[64][64];
    ns_raster_group groups[64];
    int ng = 0;
    const char *slash = strrchr(file, '/');
    snprintf(popfile, sizeof popfile, "%.*spopulations.csv", slash ? (int)(slash - file + 1) : 0, file);
    FILE *fp = fopen(popfile, "r");
    long n = s.maxid + 1;
    if (fp) {
        char line[512];
        if (fgets(line, sizeof line, fp))
            while (ng < 64 && fgets(line, sizeof line, fp)) {
                long first, last;
                char model[64];
                if (sscanf(line, "%63[^,],%63[^,],%ld,%ld", names[ng], model, &first, &last) == 4) {
                    groups[ng] = (ns_raster_group){names[ng], first, last - first + 1};
                    if (last + 1 > n) n = last + 1;
                    ng++;
                }
            }
        fclose(fp);
    }
    double t1 = s.tmax > 0 ? ceil(s.tmax) : 1.0;
    if (!(s.r = ns_raster_create(0.0, t1, n, groups, ng, title ? title : file)))
        return fprintf(stderr, "nsim: %s: cannot make a raster\n", file), 2;
    ns_csv_each_spike(file, draw_spike, &s, err, sizeof err);
    const char *keys[] = {"Software", "Source"};
    const char *vals[] = {"nsim " NS_VERSION, file};
    int rc = ns_raster_write(s.r, out, keys, vals, 2, err, sizeof err);
    ns_raster_free(s.r);
    if (rc) return fprintf(stderr, "nsim: %s\n", err), 2;
    printf("%s\n", out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return bad_usage("a command is needed");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("nsim %s\n", NS_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "models")) return cmd_models(argc - 2, argv + 2);
    if (!strcmp(cmd, "plot")) return cmd_plot(argc - 2, argv + 2);
    char msg[256];
    snprintf(msg, sizeof msg, "unknown command '%s'", cmd);
    return bad_usage(msg);
}
