/* sim/ctx.h — the run context: last error message, master seed, thread count, output folder,
 * progress callback. No globals: everything a run shares hangs off one ns_ctx. */
#ifndef NS_CTX_H
#define NS_CTX_H

#include <signal.h>
#include <stdint.h>

#include "base/status.h"

typedef struct ns_ctx ns_ctx;

/* Progress: done and total in simulated ms, wall seconds since the run call began. */
typedef void (*ns_progress_fn)(void *user, double done_ms, double total_ms, double wall_s);

/* A context: no error, seed 1, one thread, no output folder, no progress. NULL if out of memory. */
ns_ctx *ns_ctx_create(void);
void ns_ctx_free(ns_ctx *ctx); /* NULL is harmless */

/* Record an error message (printf format) and return code, so callers can `return ns_error(...)`. */
int ns_error(ns_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The last error message (one line, no trailing newline), "" if none. */
const char *ns_ctx_errmsg(const ns_ctx *ctx);

/* The master seed every random stream of a run derives from. */
void ns_ctx_set_seed(ns_ctx *ctx, uint64_t seed);
uint64_t ns_ctx_seed(const ns_ctx *ctx);
/* Threads for population updates and spike delivery (>= 1). */
void ns_ctx_set_threads(ns_ctx *ctx, int n);
int ns_ctx_threads(const ns_ctx *ctx);
/* Install the progress callback (fn NULL: none); ns_ctx_progress calls it (times in ms, wall s). */
void ns_ctx_set_progress(ns_ctx *ctx, ns_progress_fn fn, void *user);
void ns_ctx_progress(ns_ctx *ctx, double done_ms, double total_ms, double wall_s);

/* Output folder for records and figures; created on first use (ns_ctx_output_path). Refused,
 * NS_EIO with "DIR: output folder ..." (is not a folder, is not writable, cannot be made), when
 * it is not a folder this process can write into and none can be made there. */
int ns_ctx_set_outdir(ns_ctx *ctx, const char *dir);
const char *ns_ctx_outdir(const ns_ctx *ctx);
/* The output folder of a run (`nsim run`): as ns_ctx_set_outdir, and records of two runs are
 * never mixed nor an earlier one deleted. A folder that holds an earlier run (it has run.json)
 * is renamed to DIR.N (the first free N >= 1) when this run makes its first file, and renamed
 * back if this run's outputs are discarded; a non-empty folder without run.json is refused. */
int ns_ctx_set_run_outdir(ns_ctx *ctx, const char *dir);
/* Where the earlier run in the output folder was moved (DIR.N), or NULL if none was. */
const char *ns_ctx_previous_run(const ns_ctx *ctx);
/* Make the output folder if needed and return the full path of `name` (a plain file name, no
 * folders: else NS_EINVAL) inside it in buf.
 * Every file made this way is remembered, so a run refused for bad input can remove them. */
int ns_ctx_output_path(ns_ctx *ctx, const char *name, char *buf, int buflen);
/* Remove the files made through ns_ctx_output_path, and the folder if this run made it; an
 * earlier run moved aside goes back in its place. If it cannot go back (the folder could not be
 * removed, or the rename failed), it stays where it was moved and ns_ctx_previous_run still
 * names it, so the caller can say where it is. */
void ns_ctx_discard_outputs(ns_ctx *ctx);

/* A flag (set by a signal handler, owned by the caller) that asks a run to stop at its next
 * window; NULL: none. ns_ctx_stop_requested says whether it is set. */
void ns_ctx_set_stop_flag(ns_ctx *ctx, const volatile sig_atomic_t *flag);
int ns_ctx_stop_requested(const ns_ctx *ctx);

/* A line of news for the user (a training epoch); the command prints it on stderr unless quiet. */
typedef void (*ns_log_fn)(void *user, const char *line);
void ns_ctx_set_log(ns_ctx *ctx, ns_log_fn fn, void *user);
void ns_ctx_log(ns_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Number the networks of a run: 0 for the first made with this context, then 1, 2, ... */
int ns_ctx_next_network(ns_ctx *ctx);

/* The records of a run and the network (0, 1, ... as above) that writes each, for run.json. A
 * name noted again belongs from then on to the later network, whose file replaced the first. */
int ns_ctx_note_record(ns_ctx *ctx, const char *name, int network);
/* The time (ms) network has simulated, for its records. */
void ns_ctx_note_time(ns_ctx *ctx, int network, double t_ms);
/* How many records were noted; the k-th one's file name, with its network and simulated time (ms). */
int ns_ctx_n_records(const ns_ctx *ctx);
const char *ns_ctx_record(const ns_ctx *ctx, int k, int *network, double *t_ms);

/* A table an analysis function made from a record (file names in the output folder; by: the
 * function, e.g. "nsim.order_parameter"), for run.json's "derived". A name noted again takes the
 * later origin. NS_ENOMEM when memory runs out. */
int ns_ctx_note_derived(ns_ctx *ctx, const char *name, const char *from, const char *by);
/* How many derived tables were noted; the k-th one's name, with its record and function. */
int ns_ctx_n_derived(const ns_ctx *ctx);
const char *ns_ctx_derived(const ns_ctx *ctx, int k, const char **from, const char **by);

/* Wall-clock seconds (monotonic). */
double ns_wall_seconds(void);

#endif
