/* models/model.h — the model descriptor: the one thing a new model provides.
 * A model is const data plus hooks; its parameter table drives validation, `nsim models` and
 * the docs. Nothing here knows about the engine: hooks see plain arrays and a unit range. */
#ifndef NS_MODEL_H
#define NS_MODEL_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "models/ode_unit.h"

#define NS_MODEL_VERSION 1

typedef enum {
    NS_KIND_SPIKING,    /* point neurons that emit spikes */
    NS_KIND_CONTINUOUS, /* rate / continuous-time units */
    NS_KIND_FIELD,      /* lattice fields */
    NS_KIND_SOURCE      /* units that only emit given spikes */
} ns_model_kind;

/* One state variable: a double array of length n in the population. */
typedef struct {
    const char *name;
    const char *unit;
    const char *doc;
    int internal; /* 1: bookkeeping (refractory counter), not shown or settable */
    double bound; /* in the variable's unit: a value with |value| above it, or a NaN, stops the run
                     as a blow-up (the engine looks every NS_STATE_CHECK_MS of model time). Every
                     row declares one (a test refuses 0): a physical limit (1e4 mV for a membrane),
                     NS_BOUND_FINITE, or NS_BOUND_ANY for a variable infinite by design */
} ns_state_var;

/* A state bound that allows any finite value, and one that allows any value but a NaN. */
#define NS_BOUND_FINITE DBL_MAX
#define NS_BOUND_ANY HUGE_VAL
/* A membrane potential in mV beyond this is a blow-up, not a neuron. */
#define NS_BOUND_MV 1e4
/* Model time (ms) between two checks of a population's state against its bounds. */
#define NS_STATE_CHECK_MS 5.0

/* The engine's limit on the state variables a model may declare (its input ports: NS_MAX_INPUTS
 * below). A population of a model beyond either is refused (ns_model_check_limits). */
#define NS_MODEL_MAX_STATE 64

/* One parameter: a double field at `offset` in the model's parameter struct. */
typedef struct {
    const char *name;
    const char *unit;
    const char *doc;
    double def, min, max; /* valid range [min, max]; use +-HUGE_VAL for none */
    size_t offset;
} ns_param;

/* An input port: where a projection or a device delivers into a population. Events (spikes,
 * weights added once at their arrival step) or a continuous value (a current, a graded value, a
 * sampled signal: added for one step each step). */
typedef enum { NS_PORT_EVENT, NS_PORT_CONTINUOUS } ns_port_kind;

typedef struct {
    const char *name;
    const char *unit;        /* the unit of a weight onto it (pA, mV, 1) */
    ns_port_kind kind;
    int sign;                /* events: +1 takes weights >= 0, -1 weights < 0, 0 both. A projection
                                onto a model's events goes to the port of the weight's sign: ex and
                                in currents decay with their own time constants */
    const char *count_param; /* NULL: one value per unit. Else the port is that parameter's number of
                                input channels of the whole population (a cell's inputs) */
    int width;               /* values per unit and step (0 means 1): a graded projection from an output
                                of this width delivers component c into component c (a Kuramoto
                                unit's input takes the (sin, cos) sums: 2). Read with ns_input_comp */
} ns_in_port;

/* An output port: spikes, or graded values (width of them per unit and step: an oscillator's
 * sin and cos are width 2). */
typedef enum { NS_OUT_SPIKES, NS_OUT_GRADED } ns_out_kind;

typedef struct {
    const char *name;
    const char *unit;
    ns_out_kind kind;
    int width;              /* graded: values per unit and step (0 means 1), written with ns_output_comp */
    const char *components; /* their names, comma-separated ("sin,cos"), for scripts that pick one; or NULL */
} ns_out_port;

/* Growable list of spikes emitted by one thread: step in the window and unit index, and each
 * spike's offset inside its step: ms from the step's start, in [0, dt], for spikes at a precise
 * time (precise models, a spike_source driving one). offset stays NULL while only grid spikes
 * are pushed: a grid spike is at its step's end (offset dt, its time stamp (step + 1) dt). A
 * buffer takes one kind: ns_spikebuf_push or ns_spikebuf_push_at for all its spikes. */
typedef struct {
    uint32_t *unit;
    int32_t *step;
    double *offset;
    size_t n, cap;
} ns_spikebuf;

/* Append a spike; returns 0, or -1 when memory runs out. */
int ns_spikebuf_push(ns_spikebuf *b, int32_t step, uint32_t unit);
/* Append a spike at offset ms (in [0, dt]) from its step's start; 0, or -1 out of memory. */
int ns_spikebuf_push_at(ns_spikebuf *b, int32_t step, uint32_t unit, double offset);
/* Free the buffer's arrays and leave it empty (reusable); a zeroed buffer is harmless. */
void ns_spikebuf_release(ns_spikebuf *b);
/* Append the units of [lo, hi) whose value in mark equals marker (count of them known), in unit
 * order. Models mark a spike in a state array (a refractory counter) so that the vectorized
 * update loop needs no extra store to flag it. */
int ns_spikebuf_push_marked(ns_spikebuf *b, int32_t step, const double *mark, double marker, size_t lo,
                            size_t hi, size_t count);

/* Spikes that arrive in one step, as a list instead of a dense row: for populations whose
 * units receive few inputs per step, this spares the step loop a read and a clear of every
 * unit's input slot. A run is one source spike's synapses onto this step: units base + tgt[k]
 * with weights w[k] (or all w0), pointing into the projection's own tables, so delivering a
 * spike costs one entry whatever its fan-out. A negative weight goes to neg_receptor. */
typedef struct {
    const uint32_t *tgt;
    const float *w;     /* NULL: every weight is w0 */
    float w0;
    uint32_t base, n;
} ns_event_run;

typedef struct {
    ns_event_run *run;
    size_t n, cap;
    double *off;  /* off[j]: ms from the step's start at which run j arrives, in [0, dt]; NULL
                     while only grid spikes came (each at the step's end, dt). Filled once a
                     precise source delivers into the list (sim/proj.c), capacity cap */
} ns_events;

/* What an ODE population's solver did (run.json). */
typedef struct {
    const char *solver;
    long steps, rhs_evals, err_test_fails, conv_fails, jac_evals, reinits, roots;
    char extra[256]; /* more members for the population's entry, as JSON ("\"regime\": ..."), or "" */
} ns_solver_stats;

/* What a step hook sees: advance units [lo, hi) over steps step0 .. step0+nsteps-1. */
typedef struct {
    const void *params;    /* the model's parameter struct */
    const void *consts;    /* what init derived from it (propagators, step counts) */
    void *data;            /* population-private data (spike lists of a source), or NULL */
    double *const *state;  /* state[k][i]: variable k of unit i */
    size_t n;              /* population size: the stride of an input slot */
    size_t lo, hi;
    int64_t step0;
    int nsteps;
    double dt;             /* ms */
    double *const *input;  /* per input port, its ring; read through models/input.h only. NULL for
                              a continuous per-unit port nothing drives */
    const size_t *stride;  /* per input port: its values per step (n, or its channels) */
    int n_channels;        /* the channel port's width (cells), else 0 */
    const ns_events *events; /* events[slot], or NULL when spikes arrive in the dense rows; the
                              hook applies them as they would enter from the rows, and the engine
                              clears them */
    int lag;               /* with events, 1 when the window's last step may get more events after
                              the window (the model's sparse_lag): the hook applies that step's
                              list at the start of its next call instead, where the list of step
                              step0 - 1 waits; a call with nsteps 0 just applies it */
    size_t ring_len;       /* for models/input.h */
    ns_spikebuf *out;      /* spikes emitted, in (step, unit) order */
    double *graded;        /* graded[(k * graded_width + c) * n + i]: component c of unit i's output in
                              step k of the window, for graded projections (models with graded
                              output write it through models/input.h), or NULL */
    int graded_width;      /* the graded output's components per unit (1 unless the port says more) */
    char *err;             /* for a failure's one-line message (NS_STEP_FAILED), errlen bytes */
    size_t errlen;
    const void *unit_consts; /* per-unit constants (the model's init_units), or NULL: then every
                              unit of [lo, hi) has params and consts */
    /* A team step (ns_model.team): the hook runs on every thread of the population at once, each
     * with its own block [lo, hi) of the n units (possibly empty), over the same window. barrier
     * (barrier_ctx) returns when every thread of the team has reached it (at once with one
     * thread). NULL for other models. */
    void (*barrier)(void *barrier_ctx);
    void *barrier_ctx;
} ns_step_args;

/* A step hook's return: 0 ok, -1 out of memory, NS_STEP_FAILED a failure described in err. */
enum { NS_STEP_FAILED = -5 };

typedef struct ns_model {
    int version;            /* NS_MODEL_VERSION */
    const char *name;
    const char *doc;        /* one line */
    ns_model_kind kind;
    const ns_state_var *state;
    int n_state;
    const ns_param *params;
    int n_params;
    size_t params_size;     /* sizeof the parameter struct */
    size_t consts_size;     /* sizeof the derived-constants struct; 0 when init derives none */
    const ns_in_port *inputs;   /* input ports, at most NS_MAX_INPUTS */
    int n_inputs;
    const ns_out_port *outputs; /* output ports (none: the population sends nothing) */
    int n_outputs;
    int sparse_input;       /* 1: step can take its event ports' spikes as lists (models/input.h
                               ns_input_events) instead of dense rows. A capability, not a must:
                               the engine picks lists when few events arrive per step */
    const ns_ode_unit *ode; /* units that follow ODEs (step = ns_ode_pop_step), or NULL */
    int whole;              /* 1: the units are coupled inside a step (a cell's recurrent synapses,
                               one ODE system under one solver): the population cannot be cut by
                               units within a window, so one thread steps it (sim/partition.h) */
    int team;               /* 1 (with whole): the step can split a coupled population by units over
                               every thread, results identical for any thread count: it updates
                               only its block [lo, hi), reads other blocks' values only between
                               two a->barrier calls and only values of the previous phase (a double
                               buffer), and every thread makes the same barrier calls, even after a
                               failure (a hook notes it and returns it at the window's end). The
                               engine then cuts the population like any other (a thread's block,
                               its input and its spikes); CVODE populations are not teams */
    int fused_solver;       /* 1: a model with its own fused solver that also runs on the solvers
                               of solvers/ (ltc): `fused` is a valid solver name and its default */
    /* Continuous models: write the population's weights to a file (the format data_create reads). */
    int (*data_save)(const void *data, const char *path, char *err, size_t errlen);
    int precise;            /* 1 (with sparse_input): takes spikes at their offsets inside a step
                               (ns_events.off; the engine always gives it lists) and emits its own
                               with ns_spikebuf_push_at (lif_ps) */
    int sparse_lag;         /* with lists: steps after its arrival step that an event may come and still be
                              exact (1 when input enters after the membrane update: it first
                              moves the membrane a step later); lets windows be that much longer */

    /* Check cross-parameter constraints and derive constants for step dt (ms).
     * Returns 0, or -1 with a one-line message in err. */
    int (*init)(const void *params, void *consts, double dt, char *err, size_t errlen);
    /* Default initial state of units [0, n). */
    void (*init_state)(const void *params, double *const *state, size_t n);
    /* Advance a range of units over a window of fixed steps; 0 or -1 (out of memory). */
    int (*step)(const ns_step_args *a);
    /* Lagging populations may keep state in another form (lif's scaled currents): copy the
     * public state variables into that form (into_model 1) or back (0), for units [lo, hi) at
     * the time of step step0. NULL when the public variables are always current. */
    void (*sync)(const ns_step_args *a, int into_model);
    /* Make population-private data (an ODE population's solver) at the first run: n units, step
     * dt (ms), the population's solver settings. NULL with a message in err. */
    void *(*data_create)(const struct ns_model *m, const void *params, size_t n, double dt, const ns_solver_opts *o,
                         char *err, size_t errlen);
    /* Counters of the population's solver (run.json), or NULL. */
    void (*data_stats)(const void *data, ns_solver_stats *st);
    /* Free population-private data. */
    void (*data_free)(void *data);
    /* Per-unit parameters (optional): derive the constants of n units from their parameter
     * structs (unit_params[i * params_size], each already accepted by init) for step dt (ms), in
     * one allocation the engine frees with free(); NULL with a message. The step then gets them
     * as unit_consts, with input as dense rows. Models without it step each run of units with
     * equal parameters on its own. */
    void *(*init_units)(const void *unit_params, size_t n, double dt, char *err, size_t errlen);
    /* What parameters give, in one line into buf (len bytes), for `nsim models NAME` with the
     * defaults (ei_lattice: its regime, m and c); NULL for none. */
    void (*describe)(const void *params, char *buf, size_t len);
    /* Bit k (NS_STATE_SUMMED(k)) set: the sum of state variable k over the population is an
     * observable (kg_field's sites' shares of its energy H): scripts record the sum
     * (ns_net_record_sum) and run.json reports how far it drifted. */
    uint64_t summed;
    /* Checkpoints (sim/checkpoint.h) of population-private data (data_create's, a spike_source's
     * lists): a model whose data holds anything a run changes gives all three, one whose data
     * holds nothing a run changes gives state_size = ns_model_state_none (a population of a model
     * with data and no state_size is refused by a checkpoint). state_size: the bytes of that state
     * (0: none); state_save writes them into buf and may also make a solver that carries history
     * across windows restart at this time, as the resumed run's will (ltc); state_load takes them
     * back (len bytes, as state_save wrote them; the data was made for the same network): 0, or -1
     * with a message in err. */
    size_t (*state_size)(const void *data);
    void (*state_save)(void *data, unsigned char *buf);
    int (*state_load)(void *data, const unsigned char *buf, size_t len, char *err, size_t errlen);
} ns_model;

/* A state_size for models whose private data a run does not change: 0. */
size_t ns_model_state_none(const void *data);

/* The bit of state variable k in ns_model.summed (k < NS_MODEL_MAX_STATE). */
#define NS_STATE_SUMMED(k) ((uint64_t)1 << (k))

/* The most input ports a model may declare. */
#define NS_MAX_INPUTS 8

/* The ports of point neurons with current synapses (lif, lif_ode, adex): events "ex" (weights
 * >= 0) and "in" (weights < 0), pA, and the continuous "current" (pA: devices, graded
 * projections); one spike output. ports.c holds them. */
enum { NS_PSC_EX, NS_PSC_IN, NS_PSC_CURRENT };
extern const ns_in_port ns_psc_inputs[3];
extern const ns_out_port ns_spike_output[1];
#define NS_PSC_PORTS .inputs = ns_psc_inputs, .n_inputs = 3, .outputs = ns_spike_output, .n_outputs = 1

/* The ns_model fields of a population driven by sampled signals (cfc, ltc): continuous units on
 * the `inputs` channels (one port), a graded output given by the model, stepped whole. */
extern const ns_in_port ns_signal_inputs[1];
#define NS_SIGNAL_MODEL .kind = NS_KIND_CONTINUOUS, .inputs = ns_signal_inputs, .n_inputs = 1, .whole = 1

/* Ports by role, or -1: the event port that takes weights of this sign (sign 0 where one port
 * takes both), the per-unit continuous port (currents), the channel port (cells), the first
 * output port. */
int ns_model_event_port(const ns_model *m, double weight);
int ns_model_current_port(const ns_model *m);
int ns_model_channel_port(const ns_model *m);
const ns_out_port *ns_model_output(const ns_model *m);
/* Widths of a port (1 when it declares 0): values per unit and step. */
int ns_in_port_width(const ns_in_port *p);
int ns_out_port_width(const ns_out_port *p);
/* The input port a graded projection of `width` components per unit lands on, or -1: width 1 goes
 * to a cell's channels, else an event port of both signs, else the continuous per-unit port (a
 * current); a wider one to an event port of both signs or a continuous per-unit port of exactly
 * that width. */
int ns_model_graded_port(const ns_model *m, int width);
/* The index of the output component called name (out->components), or -1. */
int ns_out_port_component(const ns_out_port *out, const char *name);

/* The registry (models/models.def): how many models, the i-th (NULL outside [0, count)), and
 * the model called name (NULL when there is none). */
int ns_model_count(void);
const ns_model *ns_model_at(int i);
const ns_model *ns_model_find(const char *name);

/* Check a descriptor against NS_MAX_INPUTS and NS_MODEL_MAX_STATE: 0, or -1 with one
 * line naming the model, its count and the limit. */
int ns_model_check_limits(const ns_model *m, char *err, size_t errlen);

/* Index of a parameter or state variable by name, or -1. */
int ns_model_param_index(const ns_model *m, const char *name);
int ns_model_state_index(const ns_model *m, const char *name);

/* Fill a parameter struct with the defaults. */
void ns_model_defaults(const ns_model *m, void *params);
/* Check one value (in the row's unit) against its row (finite, within [min, max]); 0, or -1
 * with a message. */
int ns_model_check_param(const ns_model *m, int idx, double value, char *err, size_t errlen);
/* Read and write a parameter by index. */
double ns_model_get_param(const ns_model *m, const void *params, int idx);
void ns_model_set_param(const ns_model *m, void *params, int idx, double value);

#endif
