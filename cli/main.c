/* cli/main.c — the `nsim` command: run a script, list models, draw a raster, print the version.
 * The only file that talks to the terminal. Exit status: 0 ok, 2 bad input (nothing is left
 * behind), 1 a failure during a run (what was recorded stays on disk). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/lattice.h"
#include "analysis/plot.h"
#include "analysis/weight_plot.h"
#include "io/weight_file.h"
#include "base/errmsg.h"
#include "models/model.h"
#include "io/analyze.h"
#include "io/csv.h"
#include "sim/ctx.h"
#include "base/files.h"
#include "lua/lua_api.h"
#include "cli/model_docs.h"
#include "cli/param_scan.h"
#include "io/runinfo.h"
#include "sim/transport.h"

#ifdef NS_HAVE_MPI
#include <ftw.h>
#include <mpi.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif
#include <sys/stat.h>
#endif

static const char usage[] =
    "usage: nsim run SCRIPT.lua [--out DIR] [--set NAME=VALUE]... [--seed N] [--threads N] [--quiet]\n"
    "       nsim run SCRIPT.lua --resume CHECKPOINT ...   (continue from net:checkpoint's file)\n"
    "       nsim models [NAME]        nsim models --markdown [NAME]\n"
    "       nsim plot raster|summary|psd|rate_hist|isi_hist SPIKES.csv --out PNG [--title TEXT]\n"
    "       nsim plot psd PSD.csv... --out PNG        nsim plot heatmap MATRIX.csv --out PNG\n"
    "       nsim plot weights WEIGHTS.csv --out PNG [--title TEXT]\n"
    "       nsim plot spacetime MOVIE.csv --nx N --ny N --dt MS --dx UM [--m M --c C] [--row R] --out PNG\n"
    "       nsim analyze SPIKES.csv[.gz] [--psd] [--stats] [--out DIR]\n"
    "                [--bin MS] [--segment N] [--method welch|multitaper] [--pairs N]\n"
    "                [--cv-sd sample|population] [--max-memory MB]\n"
    "                [--t-ms MS] [--n N | --groups E:0-3199,I:3200-3999 | --populations FILE]\n"
    "       nsim version\n"
    "       nsim --help\n"
    "\n"
    "run      runs a Lua simulation script; records, figures and run.json go to DIR\n"
    "         (default out/<script name>/). --set values reach the script through\n"
    "         nsim.param(name, default); a value the script never reads is refused.\n"
    "         Under mpirun -np K (built with MPI) K ranks of --threads N each share the\n"
    "         network, with the same records as one process; rank 0 writes DIR.\n"
    "models   lists the models, or one model's parameters with units, defaults and ranges;\n"
    "         --markdown prints the tables of docs/models.md (every model's, or NAME's).\n"
    "plot     draws a figure from a record (run.json and the populations file beside it name\n"
    "         the groups and the duration), a psd.csv or a matrix of numbers.\n"
    "analyze  writes stats.csv (rates, ISI CV, Fano factors, correlations) and psd.csv (spectra\n"
    "         of the population rates) of a spikes.csv, beside it or into DIR. Without run.json\n"
    "         beside the file, --t-ms gives its duration and --n, --groups or --populations its\n"
    "         neurons (plot takes them too); stats.csv says which were used and where from.\n";

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

static void print_log(void *user, const char *line)
{
    (void)user;
    fprintf(stderr, "%s\n", line);
}

static int parse_u64(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-') return -1;
    *out = strtoull(s, &end, 10);
    return (errno || *end) ? -1 : 0;
}

/* The signal that asked the run to stop (SIGINT, SIGTERM), 0 while none has. The engine looks at
 * it once per window through the context; a second signal ends the process at once. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) { stop_signal = sig; }

static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND; /* the second Ctrl-C is the shell's as usual */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* run.json says "running" while a run simulates, so a folder whose run was killed says so. */
static int mark_running(ns_script *s) { return ns_runinfo_write(s->ctx, s, "running", 0); }

/* What a run says when it fails, for the other ranks (the failure notice of an MPI run). */
typedef struct {
    const char *out;       /* the output folder to use whatever --out says (a rank other than 0), or NULL */
    int quiet;             /* print nothing but failures (a rank other than 0 prints nothing at all) */
    char msg[1200];        /* the failure, "FILE:LINE: what is wrong" */
} run_opts;

static int cmd_run(int argc, char **argv, run_opts *ro)
{
    const char *script = NULL, *out = NULL, *resume = NULL;
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
        } else if (!strcmp(a, "--resume") && i + 1 < argc) resume = argv[++i];
        else if (!strcmp(a, "--quiet")) quiet = 1;
        else if (a[0] == '-') {
            char msg[256];
            snprintf(msg, sizeof msg, "unknown or incomplete option %s", a);
            return bad_usage(msg);
        } else if (!script) script = a;
        else return bad_usage("one script at a time");
    }
    if (!script) return bad_usage("run needs a script");
    if (ro->out) out = ro->out;
    quiet |= ro->quiet;
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "nsim: %s: cannot read the script: %s\n", script, strerror(errno));
        return 2;
    }
    char defout[4096];
    if (!out) {
        const char *base = ns_path_base(script);
        size_t len = strlen(base);
        if (len > 4 && !strcmp(base + len - 4, ".lua")) len -= 4;
        snprintf(defout, sizeof defout, "out/%.*s", (int)len, base);
        out = defout;
    }
    char err[1200];
    if (ns_param_scan_check(script, settings, nset, err, sizeof err)) { /* a mistyped --set, before any work */
        fprintf(stderr, "nsim: %s\n", err);
        return 2;
    }
    ns_ctx *ctx = ns_ctx_create();
    if (!ctx) return fprintf(stderr, "nsim: out of memory\n"), 1;
    if (ns_ctx_set_run_outdir(ctx, out)) { /* refused before anything runs */
        fprintf(stderr, "nsim: %s\n", ns_ctx_errmsg(ctx));
        ns_ctx_free(ctx);
        return 2;
    }
    ns_ctx_set_seed(ctx, seed);
    ns_ctx_set_threads(ctx, (int)threads);
    ns_ctx_set_stop_flag(ctx, &stop_signal);
    progress_state prog = {isatty(2) && !quiet, 0};
    ns_ctx_set_progress(ctx, show_progress, &prog);
    if (!quiet) ns_ctx_set_log(ctx, print_log, NULL);
    ns_script *s = calloc(1, sizeof *s);
    if (!s) {
        fprintf(stderr, "nsim: out of memory\n");
        ns_ctx_free(ctx);
        return 1;
    }
    s->ctx = ctx;
    s->script = script;
    s->settings = settings;
    s->nsettings = nset;
    s->before_first_run = mark_running;
    s->resume = resume;
    catch_stop_signals();
    double t0 = ns_wall_seconds();
    int failed = ns_script_run(s);
    show_progress(&prog, 1, 1, 0);
    if (failed) snprintf(ro->msg, sizeof ro->msg, "%s", s->errmsg);
    double wall = ns_wall_seconds() - t0;
    int rc;
    if (failed && !s->run_failed) { /* refused before anything was simulated: leave nothing */
        fprintf(stderr, "nsim: %s%s\n", s->errmsg, s->interrupted ? "; nothing was simulated, nothing written" : "");
        ns_ctx_discard_outputs(ctx);
        if (ns_ctx_previous_run(ctx))
            fprintf(stderr, "nsim: the earlier run in %s/ could not be moved back: it is kept in %s/\n", out,
                    ns_ctx_previous_run(ctx));
        rc = s->interrupted ? 128 + (int)stop_signal : 2;
    } else {
        const char *status = s->interrupted ? "interrupted" : failed ? "failed" : "ok";
        int written = ns_runinfo_write(ctx, s, status, wall);
        if (failed)
            fprintf(stderr, "nsim: %s; what was recorded until then is kept in %s/ (run.json says \"%s\")\n", s->errmsg,
                    out, status);
        if (written) {
            fprintf(stderr, "nsim: %s\n", ns_ctx_errmsg(ctx));
            failed = 1;
        }
        rc = s->interrupted ? 128 + (int)stop_signal : failed ? 1 : 0;
        if (!quiet && !failed)
            fprintf(stderr, "nsim: %s: %zu neurons, %zu synapses, %lld spikes in %.0f ms; build %.2f s, simulate %.2f s -> %s/\n",
                    script, s->units, s->synapses, (long long)s->spikes, s->t_ms, s->build_s, s->simulate_s, out);
    }
    if (!quiet && ns_ctx_previous_run(ctx))
        fprintf(stderr, "nsim: the earlier run that was in %s is kept in %s\n", out, ns_ctx_previous_run(ctx));
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

static void format_range(char *buf, size_t n, double lo, double hi)
{
    char a[32], b[32];
    if (isinf(lo)) snprintf(a, sizeof a, "-inf");
    else snprintf(a, sizeof a, "%g", lo);
    if (isinf(hi)) snprintf(b, sizeof b, "inf");
    else snprintf(b, sizeof b, "%g", hi);
    snprintf(buf, n, "[%s, %s]", a, b);
}

/* Columns on the terminal: a UTF-8 character (µm, Ω) takes one, so count the bytes that do not
 * continue a character. */
static int display_width(const char *s)
{
    int w = 0;
    for (; s && *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* s in a column width wide: left-aligned (padded after) or right-aligned (padded before). */
static void print_cell(const char *s, int width, int right)
{
    int pad = width - display_width(s);
    if (right && pad > 0) printf("%*s", pad, "");
    fputs(s, stdout);
    if (!right && pad > 0) printf("%*s", pad, "");
}

static int widest(int w, const char *s)
{
    int d = display_width(s);
    return d > w ? d : w;
}

/* nsim models [NAME]: the column widths come from the content, so every column lines up. */
/* nsim models --markdown [NAME]: NAME's tables as docs/models.md holds them between its markers,
 * or, without NAME, every model under a heading of its own. */
static int models_markdown(int argc, char **argv)
{
    if (argc > 1) return bad_usage("nsim models --markdown takes at most one model name");
    const ns_model *one = argc ? ns_model_find(argv[0]) : NULL;
    if (argc && !one) {
        fprintf(stderr, "nsim: unknown model '%s' (nsim models lists them)\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < ns_model_count(); i++) {
        const ns_model *m = ns_model_at(i);
        if (one && m != one) continue;
        char *text = ns_model_docs_tables(m);
        if (!text) {
            fprintf(stderr, "nsim: out of memory\n");
            return 1;
        }
        if (!one) printf("%s## `%s` (%s)\n\n%s\n\n", i ? "\n" : "", m->name, kind_name(m->kind), m->doc);
        fputs(text, stdout);
        free(text);
    }
    return 0;
}

static int cmd_models(int argc, char **argv)
{
    if (argc && !strcmp(argv[0], "--markdown")) return models_markdown(argc - 1, argv + 1);
    if (argc == 0) {
        int wn = 0, wk = 0;
        for (int i = 0; i < ns_model_count(); i++) {
            wn = widest(wn, ns_model_at(i)->name);
            wk = widest(wk, kind_name(ns_model_at(i)->kind));
        }
        for (int i = 0; i < ns_model_count(); i++) {
            const ns_model *m = ns_model_at(i);
            print_cell(m->name, wn + 2, 0);
            print_cell(kind_name(m->kind), wk + 2, 0);
            printf("%s\n", m->doc);
        }
        return 0;
    }
    const ns_model *m = ns_model_find(argv[0]);
    if (!m) {
        fprintf(stderr, "nsim: unknown model '%s' (nsim models lists them)\n", argv[0]);
        return 2;
    }
    printf("%s (%s): %s\n", m->name, kind_name(m->kind), m->doc);
    /* one width for the name and unit columns of both tables */
    int wn = display_width("name"), wu = display_width("unit"), wd = display_width("default"),
        wr = display_width("range");
    char def[32], range[80];
    for (int i = 0; i < m->n_params; i++) {
        const ns_param *p = &m->params[i];
        wn = widest(wn, p->name);
        wu = widest(wu, p->unit);
        snprintf(def, sizeof def, "%g", p->def);
        wd = widest(wd, def);
        format_range(range, sizeof range, p->min, p->max);
        wr = widest(wr, range);
    }
    for (int i = 0; i < m->n_state; i++) {
        if (m->state[i].internal) continue;
        wn = widest(wn, m->state[i].name);
        wu = widest(wu, m->state[i].unit);
    }
    if (m->n_params) {
        printf("\nparameters:\n  ");
        print_cell("name", wn + 2, 0);
        print_cell("unit", wu + 2, 0);
        print_cell("default", wd, 1);
        printf("  ");
        print_cell("range", wr + 2, 0);
        printf("meaning\n");
        for (int i = 0; i < m->n_params; i++) {
            const ns_param *p = &m->params[i];
            snprintf(def, sizeof def, "%g", p->def);
            format_range(range, sizeof range, p->min, p->max);
            printf("  ");
            print_cell(p->name, wn + 2, 0);
            print_cell(p->unit, wu + 2, 0);
            print_cell(def, wd, 1);
            printf("  ");
            print_cell(range, wr + 2, 0);
            printf("%s\n", p->doc);
        }
    }
    int shown = 0;
    for (int i = 0; i < m->n_state; i++) {
        if (m->state[i].internal) continue;
        if (!shown++) printf("\nstate variables:\n");
        printf("  ");
        print_cell(m->state[i].name, wn + 2, 0);
        print_cell(m->state[i].unit, wu + 2, 0);
        printf("%s%s\n", m->state[i].doc,
               m->summed & NS_STATE_SUMMED(i) ? "; its sum over the population can be recorded (net:record_sum)" : "");
    }
    const int pos = ns_model_event_port(m, +1), neg = ns_model_event_port(m, -1);
    if (pos >= 0)
        printf("\nspike weights in %s%s\n", m->inputs[pos].unit,
               neg != pos ? " (negative weights go to the inhibitory receptor)" : "");
    if (m->describe) { /* what the defaults give */
        void *params = calloc(1, m->params_size + 1);
        char line[512] = "";
        if (params) {
            ns_model_defaults(m, params);
            m->describe(params, line, sizeof line);
            printf("\nwith the defaults: %s\n", line);
        }
        free(params);
    }
    return 0;
}

/* Options shared by plot and analyze. */
typedef struct {
    const char *out, *title;
    ns_psd_opts psd;
    ns_stats_opts stats;
    double rate_bin;
    int want_psd, want_stats;
    int nx, ny;        /* plot spacetime */
    double dt, dx;
    double kg_m, kg_c; /* plot spacetime: the dispersion curve's m (rad/ms) and c (um/ms) */
    int row;           /* plot spacetime: a lattice row, 1-based here (0: the whole lattice) */
    ns_stats_sd cv_sd;  /* analyze --cv-sd */
    ns_spike_load_opts load; /* --t-ms, --n, --groups, --populations, --max-memory */
    ns_stats_pop groups[NS_MAX_GROUPS];
    char group_names[NS_MAX_GROUPS][64];
} cli_opts;

/* Parse the options after the files; returns 0, or 2 after printing the problem. */
static int parse_analysis_opts(int argc, char **argv, const char **files, int *nfiles, cli_opts *o)
{
    ns_psd_opts_default(&o->psd);
    o->stats = (ns_stats_opts){5.0, 1000, 1};
    o->rate_bin = 5.0;
    *nfiles = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "--psd")) o->want_psd = 1;
        else if (!strcmp(a, "--stats")) o->want_stats = 1;
        else if (!strcmp(a, "--out") && v) o->out = argv[++i];
        else if (!strcmp(a, "--title") && v) o->title = argv[++i];
        else if (!strcmp(a, "--bin") && v) {
            o->psd.bin_ms = o->stats.bin_ms = strtod(argv[++i], &end);
            if (*end || !(o->psd.bin_ms > 0)) return bad_usage("--bin takes a positive number of ms");
        } else if (!strcmp(a, "--segment") && v) {
            o->psd.segment = strtol(argv[++i], &end, 10);
            if (*end || o->psd.segment < 2) return bad_usage("--segment takes a whole number of bins >= 2");
        } else if (!strcmp(a, "--method") && v) {
            i++;
            if (!strcmp(v, "multitaper")) o->psd.multitaper = 1;
            else if (strcmp(v, "welch")) return bad_usage("--method is welch or multitaper");
        } else if ((!strcmp(a, "--nx") || !strcmp(a, "--ny")) && v) {
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 100000) return bad_usage("--nx and --ny take whole numbers of sites");
            if (a[3] == 'x') o->nx = (int)n;
            else o->ny = (int)n;
        } else if ((!strcmp(a, "--dt") || !strcmp(a, "--dx")) && v) {
            double x = strtod(argv[++i], &end);
            if (*end || !(x > 0)) return bad_usage("--dt (ms) and --dx (um) take positive numbers");
            if (a[3] == 't') o->dt = x;
            else o->dx = x;
        } else if ((!strcmp(a, "--m") || !strcmp(a, "--c")) && v) {
            double x = strtod(argv[++i], &end);
            if (*end || !(x >= 0) || !isfinite(x))
                return bad_usage("--m (rad/ms) and --c (um/ms) take numbers >= 0");
            if (a[2] == 'm') o->kg_m = x;
            else o->kg_c = x;
        } else if (!strcmp(a, "--row") && v) {
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 0 || n > 100000) return bad_usage("--row takes a lattice row, a whole number >= 0");
            o->row = (int)n + 1;
        } else if (!strcmp(a, "--pairs") && v) {
            o->stats.pairs = strtol(argv[++i], &end, 10);
            if (*end || o->stats.pairs < 1) return bad_usage("--pairs takes a whole number >= 1");
        } else if (!strcmp(a, "--cv-sd") && v) {
            i++;
            if (!strcmp(v, "population")) o->cv_sd = NS_STATS_SD_POPULATION;
            else if (!strcmp(v, "sample")) o->cv_sd = NS_STATS_SD_SAMPLE;
            else return bad_usage("--cv-sd is sample (n - 1) or population (n)");
        } else if (!strcmp(a, "--t-ms") && v) {
            o->load.t_ms = strtod(argv[++i], &end);
            if (*end || !(o->load.t_ms > 0) || !isfinite(o->load.t_ms))
                return bad_usage("--t-ms takes the record's duration, a positive number of ms");
        } else if (!strcmp(a, "--max-memory") && v) {
            double mb = strtod(argv[++i], &end);
            if (*end || !(mb > 0) || !isfinite(mb)) return bad_usage("--max-memory takes a positive number of MB");
            o->load.max_bytes = mb * 1048576.0;
        } else if (!strcmp(a, "--n") && v) {
            errno = 0;
            o->load.n_neurons = strtol(argv[++i], &end, 10);
            if (*end || errno || o->load.n_neurons < 1 || o->load.n_neurons > NS_CSV_MAX_ID) {
                char msg[160];
                snprintf(msg, sizeof msg, "--n takes the neuron count, a whole number in [1, %ld]", NS_CSV_MAX_ID);
                return bad_usage(msg);
            }
        } else if (!strcmp(a, "--groups") && v) {
            char err[400];
            int n = ns_analyze_parse_groups(argv[++i], o->groups, o->group_names, err, sizeof err);
            if (n < 0) return bad_usage(err);
            o->load.groups = o->groups;
            o->load.ngroups = n;
            o->load.groups_from = "--groups";
        } else if (!strcmp(a, "--populations") && v) {
            o->load.populations = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            char msg[256];
            snprintf(msg, sizeof msg, "unknown or incomplete option %s", a);
            return bad_usage(msg);
        } else if (*nfiles < 16) files[(*nfiles)++] = a;
        else return bad_usage("at most 16 files");
    }
    if ((o->load.n_neurons > 0) + (o->load.groups != NULL) + (o->load.populations != NULL) > 1)
        return bad_usage("--n, --groups and --populations each say which neurons there are: give one");
    return 0;
}

/* Load a spike file for plot or analyze with the options' duration and neurons; a warning about
 * the file goes to stderr. Returns 0, or 2 after printing the problem. */
static int load_spikes(const char *file, const cli_opts *o, ns_spike_table *tab)
{
    char err[1200];
    if (ns_spike_table_read(tab, file, &o->load, err, sizeof err)) {
        fprintf(stderr, "nsim: %s\n", err);
        return 2;
    }
    if (tab->warning[0]) fprintf(stderr, "nsim: warning: %s\n", tab->warning);
    return 0;
}

/* A table whose last line was cut short had it dropped: say so. */
static void warn_torn(const ns_csv_table *t)
{
    if (t->warning[0]) fprintf(stderr, "nsim: warning: %s\n", t->warning);
}

/* nsim plot psd of psd.csv files: each column after f_hz is a line. nsim's psd.csv holds spectra
 * of population rates in Hz, hence Hz²/Hz (docs/formats.md). */
static int plot_psd_tables(const char *const *files, int nfiles, const cli_opts *o, char *err, size_t errlen)
{
    enum { MAX_SERIES = 64 };
    ns_csv_table tabs[16] = {0};
    ns_plot_series series[MAX_SERIES];
    char names[MAX_SERIES][160];
    double *cols[MAX_SERIES + 16] = {0}; /* every copied column, x columns included */
    int ns = 0, nc = 0, rc = -1;
    char shortname[16][128]; /* legend: as much of each path as tells the files apart */
    ns_plot_short_names(files, nfiles, shortname[0], sizeof shortname[0]);
    for (int k = 0; k < nfiles; k++) {
        ns_csv_table *t = &tabs[k];
        if (ns_csv_read_table(files[k], t, err, errlen)) goto done;
        warn_torn(t);
        if (t->ncol < 2 || !t->names || strcmp(t->names[0], "f_hz")) {
            snprintf(err, errlen, "%s: expected a header f_hz,... and at least one column", files[k]);
            goto done;
        }
        double *x = cols[nc++] = malloc((size_t)t->nrow * sizeof *x);
        if (!x) goto oom;
        for (long r = 0; r < t->nrow; r++) x[r] = t->v[r * t->ncol];
        for (long c = 1; c < t->ncol && ns < MAX_SERIES; c++, ns++) {
            double *y = cols[nc++] = malloc((size_t)t->nrow * sizeof *y);
            if (!y) goto oom;
            for (long r = 0; r < t->nrow; r++) y[r] = t->v[r * t->ncol + c];
            if (nfiles > 1) snprintf(names[ns], sizeof names[0], "%s: %s", shortname[k], t->names[c]);
            else snprintf(names[ns], sizeof names[0], "%s", t->names[c]);
            series[ns] = (ns_plot_series){names[ns], x, y, t->nrow, 0};
        }
    }
    const ns_plot_band *bands;
    int nbands = ns_plot_standard_bands(&bands);
    ns_plot_opts po = {.title = o->title ? o->title : "Power spectrum", .x_label = "frequency (Hz)",
                       .y_label = "PSD (Hz²/Hz)", .x_log = 1, .y_log = 1, .bands = bands, .n_bands = nbands};
    ns_runinfo_text tx;
    ns_runinfo_text_source(&tx, files[0]);
    rc = ns_plot_lines(o->out, series, ns, &po, tx.keys, tx.vals, tx.n, err, errlen);
    goto done;
oom:
    snprintf(err, errlen, "out of memory");
done:
    for (int k = 0; k < nc; k++) free(cols[k]);
    for (int k = 0; k < nfiles; k++) ns_csv_table_free(&tabs[k]);
    return rc;
}

/* nsim plot heatmap MATRIX.csv: row r of the file is y = r (the first row at the bottom, as on a
 * y axis), column c is x = c; the table is already the row-major layout ns_plot_heatmap reads. */
static int plot_heatmap(const char *file, const cli_opts *o, char *err, size_t errlen)
{
    ns_csv_table t;
    if (ns_csv_read_table(file, &t, err, errlen)) return -1;
    warn_torn(&t);
    ns_plot_opts po = {.title = o->title ? o->title : file, .x_label = "column", .y_label = "row",
                       .z_label = "value", .x_lo = 0, .x_hi = (double)t.ncol, .y_lo = 0, .y_hi = (double)t.nrow};
    ns_runinfo_text tx;
    ns_runinfo_text_source(&tx, file);
    int rc = ns_plot_heatmap(o->out, t.v, t.ncol, t.nrow, &po, tx.keys, tx.vals, tx.n, err, errlen);
    ns_csv_table_free(&t);
    return rc;
}

/* nsim plot spacetime MOVIE.csv --nx --ny --dt --dx [--m --c] [--row]: a lattice movie (a row per
 * frame, nx*ny sites, site k at column k % nx and row k / nx) as power against |k| (or kx of one
 * row) and frequency, the figure of a dispersion relation, with the lattice Klein-Gordon curve for
 * --m and --c drawn over it when --c is given. */
static int plot_spacetime(const char *file, const cli_opts *o, int nx, int ny, double dt_ms, double dx_um, char *err,
                          size_t errlen)
{
    ns_csv_table t;
    if (ns_csv_read_table(file, &t, err, errlen)) return -1;
    warn_torn(&t);
    int rc = -1;
    if (nx < 2 || ny < 1 || t.ncol != (long)nx * ny || t.nrow < 4) {
        snprintf(err, errlen, "%s: %ld columns of %ld frames, expected nx*ny = %d columns and 4 frames or more", file,
                 t.ncol, t.nrow, nx * ny);
        goto done;
    }
    if (o->row > ny) {
        snprintf(err, errlen, "--row %d is not a row of the lattice: 0 to %d", o->row - 1, ny - 1);
        goto done;
    }
    ns_runinfo_text tx;
    ns_runinfo_text_source(&tx, file);
    rc = ns_lattice_plot_spacetime(NULL, o->out, t.v, t.nrow, nx, ny, dt_ms, dx_um, o->row - 1, o->kg_m, o->kg_c,
                                   o->title, tx.keys, tx.vals, tx.n, err, errlen);
done:
    ns_csv_table_free(&t);
    return rc;
}

/* nsim plot weights FILE: the histogram of a weight record's weight column (net:record_weights):
 * every row of a matrix file, the rows of the last time of a sample file (it has t_ms). */
static int plot_weights(const char *file, const cli_opts *o, char *err, size_t errlen)
{
    double *w, t_ms;
    long n;
    char warn[320], title[300];
    if (ns_weight_file_read(file, &w, &n, &t_ms, warn, sizeof warn, err, errlen)) return -1;
    if (warn[0]) fprintf(stderr, "nsim: warning: %s\n", warn);
    if (!isnan(t_ms)) snprintf(title, sizeof title, "Weights at %g ms", t_ms);
    ns_runinfo_text tx;
    ns_runinfo_text_source(&tx, file);
    int rc = ns_plot_weights(o->out, w, n, 30, o->title ? o->title : !isnan(t_ms) ? title : "Weights", "weight",
                             tx.keys, tx.vals, tx.n, err, errlen);
    free(w);
    return rc;
}

static int is_psd_table(const char *file)
{
    FILE *fp = fopen(file, "r");
    char head[8] = "";
    if (fp) {
        if (!fgets(head, sizeof head, fp)) head[0] = '\0';
        fclose(fp);
    }
    return !strncmp(head, "f_hz,", 5);
}

/* 1, after saying so, when path exists: no command replaces a file that a run, or an earlier
 * command, made. */
static int exists_already(const char *path)
{
    if (access(path, F_OK) != 0) return 0;
    fprintf(stderr, "nsim: %s exists already: nsim does not replace a file an earlier run or command made; "
                    "give another --out, or remove it\n", path);
    return 1;
}

static int cmd_plot(int argc, char **argv)
{
    if (argc < 1) return bad_usage("plot needs a kind: raster, summary, psd, rate_hist, isi_hist, heatmap or spacetime");
    const char *kind = argv[0], *files[16];
    int nfiles;
    cli_opts o = {0};
    int rc = parse_analysis_opts(argc - 1, argv + 1, files, &nfiles, &o);
    if (rc) return rc;
    if (!nfiles || !o.out) return bad_usage("plot needs FILE and --out PNG");
    if (exists_already(o.out)) return 2;
    char err[1200];
    if (!strcmp(kind, "heatmap")) rc = plot_heatmap(files[0], &o, err, sizeof err);
    else if (!strcmp(kind, "weights")) rc = plot_weights(files[0], &o, err, sizeof err);
    else if (!strcmp(kind, "spacetime")) {
        if (o.nx < 2 || o.ny < 1 || !(o.dt > 0) || !(o.dx > 0))
            return bad_usage("plot spacetime needs --nx, --ny, --dt (ms) and --dx (um)");
        rc = plot_spacetime(files[0], &o, o.nx, o.ny, o.dt, o.dx, err, sizeof err);
    }
    else if (!strcmp(kind, "psd") && is_psd_table(files[0])) rc = plot_psd_tables(files, nfiles, &o, err, sizeof err);
    else {
        int fk = ns_fig_kind_parse(kind);
        if (fk < 0 && strcmp(kind, "raster"))
            return bad_usage("plot knows raster, summary, psd, rate_hist, isi_hist, heatmap, spacetime, weights");
        ns_spike_table tab;
        if (load_spikes(files[0], &o, &tab)) return 2;
        ns_runinfo_text tx;
        ns_runinfo_text_source(&tx, files[0]);
        if (fk < 0)
            rc = ns_analyze_raster(&tab, o.title ? o.title : files[0], o.out, tx.keys, tx.vals, tx.n, files[0], err,
                                   sizeof err);
        else rc = ns_analyze_figure(&tab, (ns_fig_kind)fk, &o.psd, o.rate_bin, o.title, o.out, tx.keys, tx.vals, tx.n, err, sizeof err);
        ns_spike_table_free(&tab);
    }
    if (rc) {
        fprintf(stderr, "nsim: %s\n", err);
        return 2;
    }
    printf("%s\n", o.out);
    return 0;
}

/* The path of name in the context's output folder, made if need be: 0, or -1 with the message in err. */
static int output_path(ns_ctx *ctx, const char *name, char *path, int len, char *err, size_t errlen)
{
    if (!ns_ctx_output_path(ctx, name, path, len)) return 0;
    snprintf(err, errlen, "%s", ns_ctx_errmsg(ctx));
    return -1;
}

static int cmd_analyze(int argc, char **argv)
{
    const char *files[16];
    int nfiles;
    cli_opts o = {0};
    int rc = parse_analysis_opts(argc, argv, files, &nfiles, &o);
    if (rc) return rc;
    if (nfiles != 1) return bad_usage("analyze takes one spikes.csv");
    if (!o.want_psd && !o.want_stats) o.want_psd = o.want_stats = 1;
    char dir[4096], path[4200], err[1200], written[8500] = "";
    if (o.out) snprintf(dir, sizeof dir, "%s", o.out);
    else ns_path_dir(files[0], dir, sizeof dir);
    ns_ctx *ctx = ns_ctx_create();
    if (!ctx) return fprintf(stderr, "nsim: out of memory\n"), 1;
    if (ns_ctx_set_outdir(ctx, dir)) { /* the same rule as for nsim run's folder */
        fprintf(stderr, "nsim: %s\n", ns_ctx_errmsg(ctx));
        ns_ctx_free(ctx);
        return 2;
    }
    const char *targets[2] = {o.want_stats ? "stats.csv" : NULL, o.want_psd ? "psd.csv" : NULL};
    for (int k = 0; k < 2; k++) {
        if (!targets[k]) continue;
        snprintf(path, sizeof path, "%s/%s", dir, targets[k]);
        if (exists_already(path)) {
            ns_ctx_free(ctx);
            return 2;
        }
    }
    ns_spike_table tab;
    if (load_spikes(files[0], &o, &tab)) {
        ns_ctx_free(ctx);
        return 2;
    }
    if (o.want_stats) {
        ns_stats_summary rows[NS_MAX_GROUPS];
        rc = output_path(ctx, "stats.csv", path, (int)sizeof path, err, sizeof err);
        if (!rc && (rc = ns_analyze_stats_sd(&tab, &o.stats, o.cv_sd, rows, path, err, sizeof err)))
            ns_errmsg_prefix(err, sizeof err, files[0]); /* what the record could not give */
        if (!rc) snprintf(written, sizeof written, "%s\n", path);
    }
    if (!rc && o.want_psd) {
        double *f = NULL, *p = NULL;
        long nf;
        rc = output_path(ctx, "psd.csv", path, (int)sizeof path, err, sizeof err);
        if (!rc && (rc = ns_analyze_psd(&tab, &o.psd, &f, &p, &nf, path, err, sizeof err)))
            ns_errmsg_prefix(err, sizeof err, files[0]);
        free(f);
        free(p);
        if (!rc) snprintf(written + strlen(written), sizeof written - strlen(written), "%s\n", path);
    }
    ns_spike_table_free(&tab);
    if (rc) ns_ctx_discard_outputs(ctx); /* no stats.csv without the psd.csv that failed */
    ns_ctx_free(ctx);
    if (rc) {
        fprintf(stderr, "nsim: %s\n", err);
        return 2;
    }
    fputs(written, stdout); /* the files, once both are in place */
    return 0;
}

#ifdef NS_HAVE_MPI
/* ---- one of several MPI ranks (mpirun): the same script on every rank; rank 0 prints and writes
 * the output folder, the others write into a scratch folder of their own (their scripts read
 * their records as rank 0's do) that is removed at the end, and print nothing. A failure on any
 * rank ends every rank with one line from rank 0. ---- */

/* Started by mpirun (Open MPI's or another PMIx launcher's variables): only then is MPI started,
 * so a plain `nsim run` neither waits for nor prints anything of MPI's. */
static int under_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* Wait for request r, reading failure notices meanwhile (the first one's text into notice,
 * "STATUS MESSAGE"), at most limit_s seconds (< 0: no limit); 1 when it completed. */
static int wait_end(MPI_Request *r, char *notice, size_t len, double limit_s)
{
    const double t0 = ns_wall_seconds();
    for (;;) {
        int done = 0, got = 0;
        MPI_Test(r, &done, MPI_STATUS_IGNORE);
        if (done) return 1;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, NS_TRANSPORT_FAIL_TAG, MPI_COMM_WORLD, &got, &st);
        if (got) {
            char text[NS_TRANSPORT_NOTICE_LEN];
            MPI_Recv(text, (int)sizeof text, MPI_CHAR, st.MPI_SOURCE, NS_TRANSPORT_FAIL_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            text[sizeof text - 1] = '\0';
            if (!notice[0]) snprintf(notice, len, "%s", text);
        }
        if (limit_s >= 0 && ns_wall_seconds() - t0 > limit_s) return 0;
        usleep(1000);
    }
}

/* The run on one of several ranks; returns the exit status every rank agrees on. */
static int run_ranks(int argc, char **argv, int rank, int ranks)
{
    MPI_Comm end;
    MPI_Comm_dup(MPI_COMM_WORLD, &end); /* the end's barrier, apart from the runs' collectives */
    run_opts ro = {0};
    char scratch[4096] = "";
    if (rank) { /* a scratch folder, and silence */
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/nsim-rank%d-XXXXXX", tmp && *tmp ? tmp : "/tmp", rank);
        if (!mkdtemp(scratch)) snprintf(scratch, sizeof scratch, "/tmp/nsim-rank%d-%ld", rank, (long)getpid());
        snprintf(scratch + strlen(scratch), sizeof scratch - strlen(scratch), "/out");
        ro.out = scratch;
        ro.quiet = 1;
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) ro.quiet = 1;
    }
    int rc = cmd_run(argc, argv, &ro);
    if (rank) { /* the scratch folder goes, whatever happened */
        char *slash = strrchr(scratch, '/');
        if (slash) *slash = '\0';
        nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    char mine[NS_TRANSPORT_NOTICE_LEN], notice[NS_TRANSPORT_NOTICE_LEN] = "";
    MPI_Request *sent = calloc((size_t)ranks, sizeof *sent);
    if (rc) { /* tell every rank: one still inside a run stops at its next collective call */
        snprintf(mine, sizeof mine, "%d rank %d: %s", rc, rank, ro.msg[0] ? ro.msg : "failed");
        for (int r = 0; sent && r < ranks; r++)
            if (r != rank) MPI_Isend(mine, (int)sizeof mine, MPI_CHAR, r, NS_TRANSPORT_FAIL_TAG, MPI_COMM_WORLD, &sent[r]);
    }
    /* every rank at the end: then all agree on the status (the lowest failing rank's) */
    MPI_Request r;
    MPI_Ibarrier(end, &r);
    const int met = wait_end(&r, notice, sizeof notice, rc || notice[0] ? 30.0 : -1.0);
    int status = rc;
    if (!status && notice[0]) status = atoi(notice);
    int all = 0;
    if (met) {
        int in = status ? status : 0;
        MPI_Allreduce(&in, &all, 1, MPI_INT, MPI_MAX, end);
    }
    if (rank == 0 && !rc && (all || !met)) { /* failed elsewhere: rank 0 says what and where */
        const char *text = notice[0] ? strchr(notice, ' ') : NULL;
        fprintf(stderr, "nsim: %s\n", text ? text + 1 : "another rank failed");
    }
    if (!met) { /* a rank did not come to the end: stop them all */
        fflush(NULL);
        MPI_Abort(MPI_COMM_WORLD, status ? status : 1);
    }
    if (!status) status = all;
    /* notices sent to ranks that were already at the end are read here, so nothing is left over */
    for (int got = 1; got;) {
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, NS_TRANSPORT_FAIL_TAG, MPI_COMM_WORLD, &got, &st);
        if (got) MPI_Recv(notice, (int)sizeof notice, MPI_CHAR, st.MPI_SOURCE, NS_TRANSPORT_FAIL_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    MPI_Barrier(end);
    for (int q = 0; sent && rc && q < ranks; q++)
        if (q != rank) MPI_Wait(&sent[q], MPI_STATUS_IGNORE);
    free(sent);
    MPI_Comm_free(&end);
    return status;
}
#endif

int main(int argc, char **argv)
{
    /* a reader that closes our stdout early (nsim run ... | head) must not kill a run before its
     * records and run.json are complete: the write fails, the run goes on */
    signal(SIGPIPE, SIG_IGN);
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
    if (!strcmp(cmd, "run")) {
#ifdef NS_HAVE_MPI
        if (under_mpirun()) {
            int level, rank, ranks;
            MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &level); /* only a run's thread 0 calls MPI */
            MPI_Comm_rank(MPI_COMM_WORLD, &rank);
            MPI_Comm_size(MPI_COMM_WORLD, &ranks);
            run_opts ro = {0};
            int rc = ranks > 1 ? run_ranks(argc - 2, argv + 2, rank, ranks) : cmd_run(argc - 2, argv + 2, &ro);
#if defined(__SANITIZE_ADDRESS__)
            /* the leak check while Open MPI's components are still loaded (MPI_Finalize unloads
             * them, and what they keep would then read as leaks of unknown modules); ours are all
             * freed by now */
            __lsan_do_leak_check();
#endif
            MPI_Finalize();
            return rc;
        }
#endif
        run_opts ro = {0};
        return cmd_run(argc - 2, argv + 2, &ro);
    }
    if (!strcmp(cmd, "models")) return cmd_models(argc - 2, argv + 2);
    if (!strcmp(cmd, "plot")) return cmd_plot(argc - 2, argv + 2);
    if (!strcmp(cmd, "analyze")) return cmd_analyze(argc - 2, argv + 2);
    char msg[256];
    snprintf(msg, sizeof msg, "unknown command '%s'", cmd);
    return bad_usage(msg);
}
