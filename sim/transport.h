/* sim/transport.h — the one exchange point of a run: at each window's end, what every thread
 * (and, later, every rank) emitted becomes the window's spike list of each population. The
 * engine calls it through this table of functions; a local transport does it in memory, an MPI
 * transport would gather the lists over ranks — neither the models nor the delivery change. */
#ifndef NS_TRANSPORT_H
#define NS_TRANSPORT_H

typedef struct ns_net ns_net;
typedef struct ns_transport ns_transport;

struct ns_transport {
    const char *name;
    int rank, nranks;
    /* After the threads stepped nsteps: fill every population's window list with all spikes
     * emitted anywhere in the window, sorted by (step, unit); 0, or an ns_status code with a
     * message on the network's context. Called by one thread (the window's serial phase). */
    int (*exchange)(ns_transport *t, ns_net *net, int nsteps);
    /* Combine a flag over ranks (1 when it is 1 on any): failures and stop requests end the run
     * at the same window on every rank. */
    int (*any)(ns_transport *t, int flag);
    void (*free)(ns_transport *t);
    void *impl; /* the transport's own state */
};

/* The in-process transport: one rank, threads merged in memory. NULL when memory runs out. */
ns_transport *ns_transport_local(void);
/* Free a transport; NULL is harmless. */
void ns_transport_free(ns_transport *t);

#endif
