/* sim/checkpoint.h — checkpoints: a network's whole state between runs in one file, and resuming
 * from it in a network the same script built, so that the resumed run equals the run that wrote
 * the checkpoint byte for byte, for any thread and rank count (docs/formats.md has the layout). */
#ifndef NS_CHECKPOINT_H
#define NS_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/net.h"

/* The file's first 8 bytes and the layout's version (a reader refuses any other). */
#define NS_CHECKPOINT_MAGIC "NSIMCKPT"
#define NS_CHECKPOINT_VERSION 1

/* Write net's state (between runs: at a window boundary, after ns_net_run returned) to path:
 * under PATH.tmp, renamed into place when complete (base/files.h). An existing path is refused
 * unless overwrite is 1. Also refused: a network never run (nothing to save: resume from the
 * script instead) and one with a population whose model keeps private state without checkpoint
 * hooks (ns_model.state_size). Saving may make a solver that carries its history across windows
 * restart at this time (ltc), as it will in the resumed run. Under several MPI ranks every rank
 * calls it: what each rank holds only for its own units is gathered on rank 0, which alone writes
 * path (the same bytes as one process writes), and every rank returns rank 0's outcome. Also
 * refused there: a population split over ranks whose private state is not per unit. 0, or an
 * ns_status code with one line on the context: NS_EINVAL / NS_ESTATE (refused), NS_EIO,
 * NS_ENOMEM, NS_ERUN (the transport failed). */
int ns_checkpoint_save(ns_net *net, const char *path, int overwrite);

/* Replace the state of net (built by the same script, not yet run) by the checkpoint at path:
 * net is prepared for running (ns_net_prepare: its populations file and records open), the
 * whole file is checked before anything changes (a bad or foreign file changes nothing), then
 * the state, parameters, input rings, spikes in flight (replayed for this run's thread split),
 * plastic weights and traces, private model state and recorder state are restored and the
 * clock set to the checkpoint's time. 0, or NS_EINVAL with "PATH: what is wrong" on the
 * context (NS_EIO when it cannot be read, NS_ENOMEM). */
int ns_checkpoint_load(ns_net *net, const char *path);

/* The same from len bytes in memory; name stands for the file in messages. */
int ns_checkpoint_load_buffer(ns_net *net, const void *buf, size_t len, const char *name);

/* Check len bytes as a checkpoint without a network: the header (magic, version, byte order,
 * length), the checksum and every section's lengths. 0, or -1 with one line (no file name) in
 * err. Reads nothing outside buf for any input: the entry for a fuzz harness of the reader. */
int ns_checkpoint_check_buffer(const void *buf, size_t len, char *err, size_t errlen);

/* The model time (ms) of the checkpoint in buf, or -1 when its header is not a checkpoint's. */
double ns_checkpoint_time_ms(const void *buf, size_t len, double dt_ms);

/* ---- for the engine (sim/net.c) and sim/plastic.c ---- */

/* The window's spikes that may still be in flight at a later window boundary (held runs and
 * event lists point into per-block tables, so a checkpoint keeps the spikes themselves): called
 * once per window after the exchange, with net->step the window's start. 0, or -1 out of memory. */
struct ns_ckpt_hist;
int ns_checkpoint_note_window(ns_net *net, int nsteps);
void ns_checkpoint_hist_free(struct ns_ckpt_hist *h);

/* A checkpoint being written, in memory: the bytes this rank provides. Under several ranks the
 * body is a sequence of segments, each held by one rank (its owner) or by every rank alike
 * (owner -1, provided by rank 0); the save gathers every owner's segments on rank 0, which
 * writes them in order. The segments' owners are the same on every rank; only the owner's bytes
 * of a segment are kept (its length may differ from what other ranks would have made). */
typedef struct {
    unsigned char *buf;
    size_t len, cap;
    int rank, nranks;  /* this rank, the ranks of the run */
    int owner;         /* the current segment's owner (-1: every rank alike) */
    uint64_t *seg;     /* per segment: its owner + 1 and its length here (0 unless held here) */
    size_t nseg, segcap;
    int failed;        /* out of memory */
} ns_ckpt_w;

/* Append n bytes to the current segment (dropped unless this rank provides it). */
void ns_ckpt_put(ns_ckpt_w *w, const void *p, size_t n);
/* Start a segment owned by rank owner (-1: every rank holds the same bytes) unless the current
 * one has that owner already. Every rank makes the same calls in the same order. */
void ns_ckpt_owner(ns_ckpt_w *w, int owner);

/* A checkpoint being read from memory: each get checks that the bytes are there. */
typedef struct {
    const unsigned char *p;
    size_t len, at;
    int bad;          /* a read ran past the end or a count was impossible */
    char what[1024];  /* what was wrong (the first thing) */
} ns_ckpt_r;

/* Copy n bytes (or skip them when dst is NULL); 0, or -1 (and r->bad) when fewer are left. */
int ns_ckpt_get(ns_ckpt_r *r, void *dst, size_t n);
/* A count of items of `size` bytes that must fit in what is left: 0, or -1 (r->bad, the message). */
int ns_ckpt_get_count(ns_ckpt_r *r, uint64_t *n, size_t size, const char *what);

/* Plastic projections (sim/plastic.c): the traces, post spikes and weights of pr in a global
 * order (by source unit, then target unit, then table order), independent of the blocks; each
 * part owned by the rank that holds it (the per-source traces by the rank of target block ref,
 * the lowest block holding synapses, which the caller finds over ranks). Read checks only, or
 * with apply 1 also sets them (after a read that checked). */
void ns_plastic_ckpt_write(const void *proj, ns_ckpt_w *w, int ref);
int ns_plastic_ckpt_read(void *proj, ns_ckpt_r *r, int apply);

#endif
