/* sim/ctx.c — the run context (see ctx.h). It also remembers which output files the run made,
 * so that input refused before or during set-up leaves no half-written folder behind, and moves
 * an earlier run out of a run's folder (to DIR.N) instead of mixing the two or deleting either. */
#define _POSIX_C_SOURCE 200809L
#include "sim/ctx.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ns_ctx {
    char errmsg[1024];
    uint64_t seed;
    int threads;
    ns_progress_fn progress;
    void *progress_user;
    char *outdir;
    int made_outdir; /* 1 once this run created the folder itself */
    int fresh;       /* a run's folder not yet checked: an earlier run there is moved aside first */
    char *moved_to;  /* where the earlier run went (DIR.N), or NULL */
    const volatile sig_atomic_t *stop; /* nonzero: stop at the next chance (a signal came) */
    char **made;     /* files made in it */
    int n_made, cap_made;
    int networks;
    struct {
        char *name;
        int network;
        double t_ms;
    } *recs;         /* the records, in the order they were first noted */
    int n_recs, cap_recs;
    struct {
        char *name, *from, *by;
    } *derived;      /* tables made from records by analysis functions, in the order noted */
    int n_derived, cap_derived;
    ns_log_fn log;
    void *log_user;
};

ns_ctx *ns_ctx_create(void)
{
    ns_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    ctx->seed = 1;
    ctx->threads = 1;
    return ctx;
}

void ns_ctx_free(ns_ctx *ctx)
{
    if (!ctx) return;
    for (int i = 0; i < ctx->n_made; i++) free(ctx->made[i]);
    free(ctx->made);
    for (int i = 0; i < ctx->n_recs; i++) free(ctx->recs[i].name);
    free(ctx->recs);
    for (int i = 0; i < ctx->n_derived; i++) {
        free(ctx->derived[i].name);
        free(ctx->derived[i].from);
        free(ctx->derived[i].by);
    }
    free(ctx->derived);
    free(ctx->outdir);
    free(ctx->moved_to);
    free(ctx);
}

int ns_error(ns_ctx *ctx, int code, const char *fmt, ...)
{
    char msg[sizeof ctx->errmsg]; /* an argument may be the old message (a prefix added to it) */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(ctx->errmsg, msg, sizeof msg);
    return code;
}

const char *ns_ctx_errmsg(const ns_ctx *ctx) { return ctx->errmsg; }
void ns_ctx_set_seed(ns_ctx *ctx, uint64_t seed) { ctx->seed = seed; }
uint64_t ns_ctx_seed(const ns_ctx *ctx) { return ctx->seed; }
void ns_ctx_set_threads(ns_ctx *ctx, int n) { ctx->threads = n < 1 ? 1 : n; }
int ns_ctx_threads(const ns_ctx *ctx) { return ctx->threads; }

void ns_ctx_set_progress(ns_ctx *ctx, ns_progress_fn fn, void *user)
{
    ctx->progress = fn;
    ctx->progress_user = user;
}

void ns_ctx_progress(ns_ctx *ctx, double done_ms, double total_ms, double wall_s)
{
    if (ctx->progress) ctx->progress(ctx->progress_user, done_ms, total_ms, wall_s);
}

/* A folder files can be made in: writing into it needs write and search permission. */
static int folder_writable(const char *dir) { return access(dir, W_OK | X_OK) == 0; }

/* Whether dir can be the output folder: a writable folder, or one that can be made (its nearest
 * existing ancestor is a writable folder). *exists tells which. */
static int check_outdir(ns_ctx *ctx, const char *dir, int *exists)
{
    struct stat st;
    *exists = stat(dir, &st) == 0;
    if (*exists) {
        if (!S_ISDIR(st.st_mode)) return ns_error(ctx, NS_EIO, "%s: output folder exists and is not a folder", dir);
        if (!folder_writable(dir))
            return ns_error(ctx, NS_EIO, "%s: output folder is not writable: %s", dir, strerror(errno));
        return NS_OK;
    }
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    for (;;) {
        char *slash = strrchr(parent, '/');
        if (!slash) snprintf(parent, sizeof parent, ".");
        else if (slash == parent) parent[1] = '\0';
        else *slash = '\0';
        if (stat(parent, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return ns_error(ctx, NS_EIO, "%s: output folder cannot be made (%s is not a folder)", dir, parent);
            break;
        }
        if (!strcmp(parent, ".") || !strcmp(parent, "/")) break;
    }
    if (!folder_writable(parent))
        return ns_error(ctx, NS_EIO, "%s: output folder cannot be made (%s is not writable)", dir, parent);
    return NS_OK;
}

int ns_ctx_set_outdir(ns_ctx *ctx, const char *dir)
{
    int exists, rc = check_outdir(ctx, dir, &exists);
    if (rc) return rc;
    char *copy = strdup(dir);
    if (!copy) return ns_error(ctx, NS_ENOMEM, "out of memory");
    free(ctx->outdir);
    ctx->outdir = copy;
    return NS_OK;
}

/* 1 when dir has an entry besides . and .., 0 when it is empty, -1 when it cannot be listed. */
static int folder_has_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int any = 0;
    while (!any && (e = readdir(d)))
        any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return any;
}

int ns_ctx_set_run_outdir(ns_ctx *ctx, const char *dir)
{
    int rc = ns_ctx_set_outdir(ctx, dir);
    if (rc) return rc;
    struct stat st;
    if (stat(dir, &st) == 0) {
        int has = folder_has_files(dir);
        if (has < 0) return ns_error(ctx, NS_EIO, "%s: output folder cannot be read: %s", dir, strerror(errno));
        char runjson[4200];
        snprintf(runjson, sizeof runjson, "%s/run.json", dir);
        if (has && access(runjson, F_OK) != 0)
            return ns_error(ctx, NS_EIO,
                            "%s: output folder holds files that no nsim run wrote (it has no run.json); "
                            "give a new or empty folder with --out", dir);
    }
    ctx->fresh = 1;
    return NS_OK;
}

const char *ns_ctx_outdir(const ns_ctx *ctx) { return ctx->outdir ? ctx->outdir : "."; }

const char *ns_ctx_previous_run(const ns_ctx *ctx) { return ctx->moved_to; }

/* A run's folder that still holds an earlier run: rename it to DIR.N, the first N >= 1 free. */
static int move_earlier_run(ns_ctx *ctx, const char *dir)
{
    int has = folder_has_files(dir);
    if (has <= 0) return NS_OK; /* empty: nothing to keep apart */
    char to[4200];
    for (int n = 1; n < 100000; n++) {
        snprintf(to, sizeof to, "%s.%d", dir, n);
        struct stat st;
        if (lstat(to, &st) == 0) continue;
        if (rename(dir, to) != 0)
            return ns_error(ctx, NS_EIO, "%s: cannot move the earlier run aside to %s: %s", dir, to, strerror(errno));
        if (!(ctx->moved_to = strdup(to))) return ns_error(ctx, NS_ENOMEM, "out of memory");
        return NS_OK;
    }
    return ns_error(ctx, NS_EIO, "%s: cannot move the earlier run aside: %s.1 to %s.99999 all exist", dir, dir, dir);
}

/* mkdir -p; records whether the leaf folder was made here. A run's folder that holds an earlier
 * run is first moved aside, on the first call only: later calls find this run's own files there
 * (an empty folder given with --out holds them after the first), which must stay. */
static int make_dirs(ns_ctx *ctx, const char *dir)
{
    int exists, rc = check_outdir(ctx, dir, &exists);
    if (!rc && ctx->fresh) {
        if (exists) { /* a refused move leaves fresh set: a later call (after a pcall) tries again */
            if ((rc = move_earlier_run(ctx, dir))) return rc;
            rc = check_outdir(ctx, dir, &exists);
        }
        ctx->fresh = 0;
    }
    if (rc || exists) return rc;
    char *path = strdup(dir);
    if (!path) return ns_error(ctx, NS_ENOMEM, "out of memory");
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            free(path);
            return ns_error(ctx, NS_EIO, "%s: output folder cannot be made: %s", dir, strerror(e));
        }
        *p = '/';
    }
    free(path);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ns_error(ctx, NS_EIO, "%s: output folder cannot be made: %s", dir, strerror(errno));
    ctx->made_outdir = 1;
    return NS_OK;
}

int ns_ctx_output_path(ns_ctx *ctx, const char *name, char *buf, int buflen)
{
    if (!name || !*name || strchr(name, '/'))
        return ns_error(ctx, NS_EINVAL, "'%s' must be a plain file name (it goes in the output folder)", name ? name : "");
    const char *dir = ns_ctx_outdir(ctx);
    int rc = make_dirs(ctx, dir);
    if (rc) return rc;
    if (snprintf(buf, (size_t)buflen, "%s/%s", dir, name) >= buflen)
        return ns_error(ctx, NS_EINVAL, "output path %s/%s is too long", dir, name);
    for (int i = 0; i < ctx->n_made; i++)
        if (strcmp(ctx->made[i], buf) == 0) return NS_OK;
    if (ctx->n_made == ctx->cap_made) {
        int cap = ctx->cap_made ? 2 * ctx->cap_made : 16;
        char **m = realloc(ctx->made, (size_t)cap * sizeof *m);
        if (!m) return ns_error(ctx, NS_ENOMEM, "out of memory");
        ctx->made = m;
        ctx->cap_made = cap;
    }
    if (!(ctx->made[ctx->n_made] = strdup(buf))) return ns_error(ctx, NS_ENOMEM, "out of memory");
    ctx->n_made++;
    return NS_OK;
}

void ns_ctx_discard_outputs(ns_ctx *ctx)
{
    for (int i = 0; i < ctx->n_made; i++) {
        remove(ctx->made[i]);
        free(ctx->made[i]);
    }
    ctx->n_made = 0;
    if (ctx->made_outdir && ctx->outdir) rmdir(ctx->outdir);
    ctx->made_outdir = 0;
    if (ctx->moved_to && ctx->outdir && rename(ctx->moved_to, ctx->outdir) == 0) { /* the earlier run back */
        free(ctx->moved_to);
        ctx->moved_to = NULL;
    }
}

void ns_ctx_set_stop_flag(ns_ctx *ctx, const volatile sig_atomic_t *flag) { ctx->stop = flag; }

int ns_ctx_stop_requested(const ns_ctx *ctx) { return ctx->stop ? (int)*ctx->stop : 0; }

int ns_ctx_next_network(ns_ctx *ctx) { return ctx->networks++; }

int ns_ctx_note_record(ns_ctx *ctx, const char *name, int network)
{
    for (int i = 0; i < ctx->n_recs; i++)
        if (strcmp(ctx->recs[i].name, name) == 0) {
            ctx->recs[i].network = network;
            ctx->recs[i].t_ms = 0;
            return NS_OK;
        }
    if (ctx->n_recs == ctx->cap_recs) {
        int cap = ctx->cap_recs ? 2 * ctx->cap_recs : 8;
        void *r = realloc(ctx->recs, (size_t)cap * sizeof *ctx->recs);
        if (!r) return ns_error(ctx, NS_ENOMEM, "out of memory");
        ctx->recs = r;
        ctx->cap_recs = cap;
    }
    if (!(ctx->recs[ctx->n_recs].name = strdup(name))) return ns_error(ctx, NS_ENOMEM, "out of memory");
    ctx->recs[ctx->n_recs].network = network;
    ctx->recs[ctx->n_recs++].t_ms = 0;
    return NS_OK;
}

int ns_ctx_note_derived(ns_ctx *ctx, const char *name, const char *from, const char *by)
{
    int k = 0;
    while (k < ctx->n_derived && strcmp(ctx->derived[k].name, name)) k++;
    if (k == ctx->n_derived) {
        if (ctx->n_derived == ctx->cap_derived) {
            int cap = ctx->cap_derived ? 2 * ctx->cap_derived : 4;
            void *d = realloc(ctx->derived, (size_t)cap * sizeof *ctx->derived);
            if (!d) return ns_error(ctx, NS_ENOMEM, "out of memory");
            ctx->derived = d;
            ctx->cap_derived = cap;
        }
        if (!(ctx->derived[k].name = strdup(name))) return ns_error(ctx, NS_ENOMEM, "out of memory");
        ctx->derived[k].from = ctx->derived[k].by = NULL;
        ctx->n_derived++;
    }
    char *f = strdup(from), *b = strdup(by);
    if (!f || !b) {
        free(f);
        free(b);
        return ns_error(ctx, NS_ENOMEM, "out of memory");
    }
    free(ctx->derived[k].from);
    free(ctx->derived[k].by);
    ctx->derived[k].from = f;
    ctx->derived[k].by = b;
    return NS_OK;
}

int ns_ctx_n_derived(const ns_ctx *ctx) { return ctx->n_derived; }

const char *ns_ctx_derived(const ns_ctx *ctx, int k, const char **from, const char **by)
{
    if (k < 0 || k >= ctx->n_derived) return NULL;
    if (from) *from = ctx->derived[k].from;
    if (by) *by = ctx->derived[k].by;
    return ctx->derived[k].name;
}

void ns_ctx_note_time(ns_ctx *ctx, int network, double t_ms)
{
    for (int i = 0; i < ctx->n_recs; i++)
        if (ctx->recs[i].network == network) ctx->recs[i].t_ms = t_ms;
}

int ns_ctx_n_records(const ns_ctx *ctx) { return ctx->n_recs; }

const char *ns_ctx_record(const ns_ctx *ctx, int k, int *network, double *t_ms)
{
    *network = ctx->recs[k].network;
    *t_ms = ctx->recs[k].t_ms;
    return ctx->recs[k].name;
}

void ns_ctx_set_log(ns_ctx *ctx, ns_log_fn fn, void *user)
{
    ctx->log = fn;
    ctx->log_user = user;
}

void ns_ctx_log(ns_ctx *ctx, const char *fmt, ...)
{
    if (!ctx->log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_user, line);
}

double ns_wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
