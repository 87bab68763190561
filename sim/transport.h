/* sim/transport.h — the one exchange point of a run: at each window's end, what every thread
 * and every rank emitted becomes the window's spike list of each population. The engine calls it
 * through this table of functions; the local transport does it in memory, the MPI transport
 * (transport_mpi.c) gathers the lists over ranks — neither the models nor the delivery change. */
#ifndef NS_TRANSPORT_H
#define NS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct ns_net ns_net;
typedef struct ns_ctx ns_ctx;
typedef struct ns_transport ns_transport;

enum { NS_REDUCE_SUM, NS_REDUCE_MAX };

struct ns_transport {
    const char *name;
    int rank, nranks;
    /* After the threads stepped nsteps: fill every population's window list with all spikes
     * emitted anywhere in the window, sorted by (step, unit), and make every graded output of
     * the window whole on every rank; 0, or an ns_status code with a message on the network's
     * context. rc is this rank's failure of the window's step (0, or a status with its message on
     * the context): when any rank failed, nothing is exchanged and every rank returns the lowest
     * failing rank's status and message, as agree does. Called by one thread (the window's
     * serial phase), by every rank. */
    int (*exchange)(ns_transport *t, ns_net *net, int nsteps, int rc);
    /* Agree on a failure and a stop: rc is this rank's status (0 or an ns_status code, its
     * message on ctx); returns the status of the lowest rank that failed (0: none), whose message
     * every rank's ctx then holds ("rank R: ..." on the others). With stop (NULL: none), *stop
     * becomes 1 when it is 1 on any rank. */
    int (*agree)(ns_transport *t, ns_ctx *ctx, int rc, int *stop);
    /* v[0 .. n) combined element-wise over ranks (NS_REDUCE_SUM or _MAX), in place; 0, or -1
     * (the transport failed: a rank is gone, with a message on ctx). */
    int (*reduce)(ns_transport *t, ns_ctx *ctx, int64_t *v, int n, int op);
    /* x is `rows` rows of one value per unit of population net->pops[pop], each rank holding the
     * values of its own units (ns_partition_rank_range); afterwards every rank holds every row
     * whole. 0, or an ns_status code with a message on the network's context. */
    int (*share)(ns_transport *t, ns_net *net, int pop, double *x, int rows);
    /* buf (len bytes) of every rank to rank 0: there *all becomes the ranks' parts one after the
     * other (malloc'd; the caller frees it) and lens[r] the length of rank r's part (lens has
     * nranks entries); elsewhere *all stays NULL. Every rank calls it. 0, or an ns_status code
     * with a message on ctx (NS_ERUN: the transport failed, NS_ENOMEM). */
    int (*gather)(ns_transport *t, ns_ctx *ctx, const void *buf, size_t len, unsigned char **all, size_t *lens);
    /* What the exchanges cost this rank (the MPI transport's; 0 for the local one): wall seconds
     * inside exchange, bytes this rank sent, windows exchanged. */
    double exchange_s;
    int64_t bytes_sent, windows;
    void (*free)(ns_transport *t);
    void *impl; /* the transport's own state */
};

/* The in-process transport: one rank, threads merged in memory. NULL when memory runs out. */
ns_transport *ns_transport_local(void);
/* The transport a new network takes: the MPI one when the program runs as one of several MPI
 * ranks (built with MPI, started by mpirun), else the local one. NULL when memory runs out. */
ns_transport *ns_transport_default(void);
/* This process's rank and the number of ranks (0 and 1 without MPI or outside mpirun). */
void ns_transport_world(int *rank, int *ranks);
/* The tag of a failure notice: a rank that fails on its own (outside the collective calls
 * above) sends "STATUS MESSAGE" with it to every other rank; the MPI transport's calls look for
 * one while they wait and fail when one came, so no rank waits for a rank that has stopped. */
enum { NS_TRANSPORT_FAIL_TAG = 4217, NS_TRANSPORT_NOTICE_LEN = 1280 };
/* Free a transport; NULL is harmless. */
void ns_transport_free(ns_transport *t);

#endif
