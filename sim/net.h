/* sim/net.h — the network: populations, projections, devices and recorders on a grid of dt,
 * built first and then run any number of times (runs continue where the last one stopped).
 * The run advances in windows of d_min steps (the smallest delay), as NEST does. */
#ifndef NS_NET_H
#define NS_NET_H

#include <stddef.h>
#include <stdint.h>

#include "models/model.h"
#include "sim/ctx.h"
#include "base/rng.h"
#include "sim/geometry.h"

typedef struct ns_net ns_net;
typedef struct ns_pop ns_pop;

typedef enum {
    NS_RULE_ALL_TO_ALL,
    NS_RULE_ONE_TO_ONE,
    NS_RULE_BERNOULLI,       /* each pair with probability p */
    NS_RULE_FIXED_INDEGREE,  /* each target draws K sources (with replacement unless unique) */
    NS_RULE_FIXED_OUTDEGREE, /* each source draws K targets (with replacement unless unique) */
    NS_RULE_LIST,            /* the given pairs (pre[k], post[k]), as Brian2's connect(i=, j=) */
    /* sim/rules.c: */
    NS_RULE_FIXED_TOTAL,     /* N pairs drawn from all source x target pairs (NEST's fixed_total_number) */
    NS_RULE_LATTICE,         /* grid or ring neighbours (neighbours 2, 4, 8), or all within radius µm */
    NS_RULE_DISTANCE,        /* each pair with probability p0 kernel(distance) */
    NS_RULE_SITE             /* each unit to (or from) the grid site it lies on */
} ns_rule;

/* Distance kernels: p0 exp(-d^2 / (2 scale^2)), p0 exp(-d / scale). */
enum { NS_KERNEL_GAUSSIAN, NS_KERNEL_EXPONENTIAL };

typedef struct {
    ns_rule rule;
    double p;       /* bernoulli */
    long K;         /* fixed_indegree, fixed_outdegree */
    ns_dist weight; /* in the target model's weight unit (pA for lif, mV for lif_delta) */
    ns_dist delay;  /* ms, at least dt (a redrawn normal's least: dt / 2, which rounds to a step);
                       a plain normal's draws are clipped to [1, 65535] steps */
    int autapses;   /* 1: a unit may connect to itself when source and target are one population */
    int unique;     /* fixed_indegree, fixed_outdegree, fixed_total: each pair at most once (no
                       multapses; PyNN's default), else drawn with replacement (NEST's default) */
    long N;         /* fixed_total: synapses in all, at most 2^32 - 1 */
    /* lattice: neighbours 2 (ring), 4 or 8 (grid), or 0 and radius (µm, inclusive) */
    int neighbours;
    double radius;
    /* distance: p(d) = p0 kernel(d / scale), 0 beyond cutoff (µm; 0: no cutoff) */
    int kernel;     /* NS_KERNEL_GAUSSIAN (scale = sigma) or NS_KERNEL_EXPONENTIAL (scale = lambda) */
    double p0, scale, cutoff;
    int sites_post; /* site: 1 when the target is the grid of sites, 0 the source */
    /* list: n_pairs pairs of 0-based unit indices, and optionally a weight (the target's weight
     * unit) and a delay (ms) per pair in place of `weight` and `delay`; read during the call only.
     * A listed pair is made even when it connects a unit to itself. */
    size_t n_pairs;
    const uint32_t *pre, *post;
    const double *weights, *delays; /* NULL: every pair takes weight / delay */
    const struct ns_stdp *synapse;  /* a plastic synapse model (sim/plastic.h), copied; NULL: static */
} ns_conn_spec;

/* The range of dt (ms): records stamp times in whole units of 1e-9 ms at the finest. */
#define NS_DT_MIN_MS 1e-6
#define NS_DT_MAX_MS 1e6

/* A network on a time grid of dt ms (within [NS_DT_MIN_MS, NS_DT_MAX_MS]), using ctx for errors,
 * seed and threads. NULL on error. Every time given later (spike times, device times, run
 * lengths, record intervals) must map to at most (2^63 / 4) / (dt in units of 1e-9 ms or
 * coarser) steps: beyond it, it is refused with its range. */
ns_net *ns_net_create(ns_ctx *ctx, double dt_ms);
/* Free the network with its populations, projections, devices and recorders (closing their
 * files); NULL is harmless. */
void ns_net_free(ns_net *net);

double ns_net_dt(const ns_net *net);        /* ms */
ns_ctx *ns_net_ctx(const ns_net *net);      /* the context it reports errors on */
double ns_net_time(const ns_net *net);      /* ms simulated so far */
size_t ns_net_n_units(const ns_net *net);    /* units of all populations */
size_t ns_net_n_synapses(const ns_net *net); /* connections made (a graded projection: its weights) */
int64_t ns_net_n_spikes(const ns_net *net); /* emitted by all populations so far */
double ns_net_build_seconds(const ns_net *net);    /* wall time spent connecting */
double ns_net_simulate_seconds(const ns_net *net); /* wall time spent in ns_net_run */
/* The exchange between MPI ranks so far (all zero on one rank): wall seconds spent in it, bytes
 * this rank sent, windows exchanged. */
void ns_net_exchange_stats(const ns_net *net, double *seconds, int64_t *bytes, int64_t *windows);
size_t ns_net_synapse_bytes(const ns_net *net);    /* memory of the connection tables */
/* The name of the populations file of network ordinal k (0, 1, ... in the order the context made
 * them; see ns_ctx_next_network): populations.csv, then populations_2.csv, populations_3.csv ... */
void ns_net_populations_file(int network, char *buf, size_t len);

/* Add a population of n units of a registered model; name may be NULL (then model name and
 * index). Returns NULL with a message on the context. */
ns_pop *ns_net_add_population(ns_net *net, const char *model, size_t n, const char *name);
/* A population of spike sources: unit i fires at times_ms[offset[i] .. offset[i+1]) (ms, each
 * at least dt, rounded to the grid). */
ns_pop *ns_net_add_spike_source(ns_net *net, size_t n, const size_t *offset, const double *times_ms,
                                const char *name);

/* A population's name, model, number of units, first global id and spikes emitted so far. */
const char *ns_pop_name(const ns_pop *pop);
const ns_model *ns_pop_model(const ns_pop *pop);
size_t ns_pop_size(const ns_pop *pop);
size_t ns_pop_first_id(const ns_pop *pop); /* global id of unit 0 (ids are 0-based, in order) */
int64_t ns_pop_n_spikes(const ns_pop *pop);

/* Set several parameters at once: copy, validate (ranges and the model's own checks), commit;
 * a bad value leaves the old parameters in force. */
int ns_pop_set_params(ns_net *net, ns_pop *pop, const char *const *names, const double *values, int n);
/* One value of parameter `name` per unit (values[n], in the parameter's unit), as NEST's and
 * Brian2's per-neuron parameters; other parameters keep their population value, which later
 * ns_pop_set_params calls still set for every unit. Each value is checked against the range and
 * each unit's parameter set against the model's own checks (the message names the unit); units
 * with equal parameters step together, so the cost grows with the number of distinct sets. Before
 * the first run only; not for models stepped as one system (ODE populations, cells) or with
 * private data (spike sources). */
int ns_pop_set_param_array(ns_net *net, ns_pop *pop, const char *name, const double *values);
/* The same with each unit's value drawn from a distribution (seeded per population, unit and
 * parameter, so the same for any thread count). */
int ns_pop_draw_param(ns_net *net, ns_pop *pop, const char *name, const ns_dist *value);
/* Set a state variable of every unit from a constant or a distribution (seeded per unit). */
int ns_pop_init_state(ns_net *net, ns_pop *pop, const char *var, const ns_dist *value);
/* Set a state variable from one value per unit (n of them, finite). */
int ns_pop_set_state_array(ns_net *net, ns_pop *pop, const char *var, const double *values);
/* The population's value of parameter `name` (in its unit; per-unit values aside), NAN if the
 * model has no such parameter. */
double ns_pop_get_param(const ns_pop *pop, const char *name);
/* Read state variable var of unit i (for tests and scripts), in the unit the model gives it
 * (`nsim models NAME`: mV, pA, ...); NAN if unknown. */
double ns_pop_get_state(const ns_pop *pop, const char *var, size_t i);

/* The solver of an ODE population (cvode_bdf, cvode_adams, rk4, euler, rk8pd; fused too for a
 * model with its own, ltc; NULL keeps the model's default) and its relative and absolute
 * tolerances (adaptive methods; atol in the state variables' units); before the first run. */
int ns_pop_set_solver(ns_net *net, ns_pop *pop, const char *name, double rtol, double atol);
/* Cells (ltc, cfc): load the weights from a file (the format models/cell_file.h describes)
 * instead of the seeded initialisation; before the first run. Save them after a run. */
int ns_pop_set_weights(ns_net *net, ns_pop *pop, const char *path);
int ns_pop_save_weights(ns_net *net, ns_pop *pop, const char *path);
/* Cells: the seed of their initialisation (default: from the run's seed and the population). */
int ns_pop_set_seed(ns_net *net, ns_pop *pop, unsigned long long seed);
/* An ODE population's solver counters so far into *st; 0 when pop has none. */
int ns_pop_solver_stats(const ns_pop *pop, ns_solver_stats *st);

/* Place pop's units (see sim/geometry.h): the network takes g (of ns_pop_size(pop) units),
 * freeing it on error too (g NULL: NS_EINVAL, the message its maker left stays); before the
 * first run, once per population. */
int ns_pop_set_geometry(ns_net *net, ns_pop *pop, ns_geom *g);
/* The population's geometry, or NULL when it has none. */
const ns_geom *ns_pop_geometry(const ns_pop *pop);
/* The name of network k's positions file (as ns_net_populations_file): positions.csv, then
 * positions_2.csv ... It holds "neuron,x_um,y_um,z_um" for the units of every population with
 * a geometry and is written at the first run when one has. */
void ns_net_positions_file(int network, char *buf, size_t len);

/* Connect src to tgt by a rule. The rules of sim/rules.c need geometries on both populations
 * (site: a grid on one side), except fixed_total. Spikes into a model without a spike input (a
 * lattice field: kg_field) go to its one-wide graded input (kg_field's source s), weight per spike. */
int ns_net_connect(ns_net *net, ns_pop *src, ns_pop *tgt, const ns_conn_spec *spec);

/* A graded projection: every step, target input i receives sum_j w[i * src_n + j] out_j(t - delay),
 * out_j the source's graded output (a spike is 1 for a spiking model; the state after the step
 * for cfc and ltc). The target's inputs are its units (into its spike receptor) or, for a cell
 * with input channels (cfc, ltc), those channels (added to any signal, as projected spikes are),
 * so cells stack. Dense weights (copied; ns_pop_inputs(tgt) rows), in the target model's weight
 * unit (dimensionless for the trainer's neurons and the cells), delay in ms (at least dt). For
 * networks trained by train/ and scripts' net:connect_graded. */
int ns_net_connect_graded(ns_net *net, ns_pop *src, ns_pop *tgt, const double *w, double delay_ms);

/* A graded projection in full: dense weights (w) or a sparse list of edges, and which components of
 * a wide output (ns_out_port.width: an oscillator's sin and cos) it carries. */
typedef struct {
    const double *w;          /* dense: ns_pop_inputs(tgt) rows of src_n weights; NULL for edges */
    double delay_ms;          /* the delay (ms, at least dt) of every weight, or of edges without their own */
    size_t n_edges;           /* edges: source unit pre[k] to target input post[k] (0-based) */
    const uint32_t *pre, *post;
    const double *weights;    /* per edge, the target's weight unit (NULL: every weight 1) */
    const double *delays;     /* per edge, ms, each at least dt (NULL: delay_ms) */
    int pick;                 /* 0: every component of the source's output, component c into component
                                 c of a target port as wide; 1: component `component` alone, into a
                                 one-wide port */
    int component;
    const ns_conn_spec *rule; /* instead of w and edges: a rule of sim/rules.c (site: a field's sites
                                 onto the neurons on them), its weight constant (rule->weight.a) */
} ns_graded_spec;

/* Connect by a graded spec (what ns_net_connect_graded does with dense weights and pick 0). Edges
 * keep their weight in double and, where delays vary, a delay each; a value sent in step s by
 * source unit j reaches input i of edge (j, i) in step s + delay steps, times its weight. */
int ns_net_connect_graded_spec(ns_net *net, ns_pop *src, ns_pop *tgt, const ns_graded_spec *spec);
/* Add a population of a model that is not in the registry (a test's own descriptor); as
 * ns_net_add_population otherwise. */
ns_pop *ns_net_add_population_of(ns_net *net, const ns_model *m, size_t n, const char *name);
/* How many inputs a projection onto pop addresses: its input channels for a cell, else its units. */
size_t ns_pop_inputs(const ns_pop *pop);

/* Devices. Poisson: an independent train of rate_hz for every target unit, each event of
 * `weight` (the target model's weight unit: pA for lif, mV for lif_delta), active for
 * start_ms <= t < stop_ms. Current: piecewise-constant current (pA) that
 * becomes amps[k] at times_ms[k]; a DC source is one step up and one down. */
int ns_net_add_poisson(ns_net *net, ns_pop *tgt, double rate_hz, double weight, double start_ms,
                       double stop_ms);
int ns_net_add_current(ns_net *net, ns_pop *tgt, int n, const double *times_ms, const double *amps_pa);

/* A sinusoidal current (NEST's ac_generator, PyNN's ACSource): during step s, which starts at
 * t = s dt (ms from time 0), every unit fed gets offset_pa + amplitude_pa sin(2 pi frequency_hz t /
 * 1000 + phase_deg pi / 180) pA, while start_ms <= t < stop_ms (start and stop rounded to the
 * grid as Poisson's; stop INFINITY: no end). frequency >= 0; every number finite. */
int ns_net_add_ac(ns_net *net, ns_pop *tgt, double amplitude_pa, double offset_pa, double frequency_hz,
                  double phase_deg, double start_ms, double stop_ms);
/* A Gaussian noise current (NEST's noise_generator, PyNN's NoisyCurrentSource): each unit fed
 * holds its own draw mean_pa + std_pa N (pA, N standard normal) through every interval
 * [j dt_ms, (j + 1) dt_ms) (j = 0, 1, ... from time 0), within start_ms <= t < stop_ms as an ac's.
 * dt_ms must be a whole multiple of the network's dt; std >= 0. N comes from the counter
 * (device, j, unit) of the run's seed, so any thread or rank count, and a resumed checkpoint,
 * give the same currents. */
int ns_net_add_noise(ns_net *net, ns_pop *tgt, double mean_pa, double std_pa, double dt_ms, double start_ms,
                     double stop_ms);
/* Restrict the device added last (Poisson, current, ac or noise) to units[0 .. n-1] of its target
 * (0-based, each inside the population, none twice, n >= 1; PyNN's PopulationView.inject): the
 * other units get nothing from it, and each listed unit gets what it would get from the device
 * on the whole population (the same Poisson train, the same noise). Before the first run. On a
 * bad list the device is removed again, so the network is as before it was added. */
int ns_net_device_units(ns_net *net, const size_t *units, size_t n);

/* A signal into a continuous population's input channels: from times_ms[k] on, channel c holds
 * values[k * channels + c] (sample and hold; 0 before the first sample). channels must equal
 * the population's inputs. */
int ns_net_add_signal(ns_net *net, ns_pop *tgt, int n, const double *times_ms, const double *values, int channels);

/* Recorders; each writes one CSV file in the output folder (file is its name there).
 * Spikes: "t_ms,neuron" (t stamped at the end of the step, neuron the global id). */
int ns_net_record_spikes(ns_net *net, ns_pop *const *pops, int n, const char *file);
/* State: "t_ms,neuron,VAR..." every interval_ms (ms), neuron the global id, for the units of
 * each population (units: indices within every population, each inside all of them; NULL: every
 * unit), the populations in order of their first global id and each one's units in the order
 * given. Every population's model must have every variable of vars. At most 256 populations. */
int ns_net_record_states(ns_net *net, ns_pop *const *pops, int npops, const char *const *vars, int nvars,
                         const size_t *units, size_t nunits, double interval_ms, const char *file);
/* The same for one population. */
int ns_net_record_state(ns_net *net, ns_pop *pop, const char *const *vars, int nvars,
                        const size_t *units, size_t nunits, double interval_ms, const char *file);
/* Rate: "t_ms,POP..." mean rate (Hz) of each population in bins of bin_ms, t the bin start. */
int ns_net_record_rate(ns_net *net, ns_pop *const *pops, int n, double bin_ms, const char *file);

/* Sum: "t_ms,POP..." every interval_ms (ms, a multiple of dt), the sum over each population's
 * units of its state variable var, one its model flags NS_STATE_SUMMED (kg_field's energy: the
 * sum is H). Summed in unit order by one thread, so the same for any thread count; written with
 * 17 significant digits (a double read back is the one summed). The first row is at t = interval. */
int ns_net_record_sum(ns_net *net, ns_pop *const *pops, int n, const char *var, double interval_ms, const char *file);
/* What a sum record saw of one population: samples written, the first and the last sum and their
 * times (ms), and the largest |sum - first| / |first| over the samples (NaN while first is 0). */
typedef struct {
    const char *pop, *var, *file;
    int64_t samples;
    double first_t_ms, first, last_t_ms, last, max_rel_dev;
} ns_sum_summary;
/* The (record, population) pairs of the sum records, k = 0 .. n - 1 in the order recorded; 0, or
 * -1 when k is out of range. */
int ns_net_n_sums(const ns_net *net);
int ns_net_sum_summary(const ns_net *net, int k, ns_sum_summary *out);

/* Spike recorders, for figures: the file path and the populations recorded. */
int ns_net_n_spike_recorders(const ns_net *net);
const char *ns_net_spike_recorder_path(const ns_net *net, int k);
int ns_net_spike_recorder_pops(const ns_net *net, int k, ns_pop *const **pops);
/* The populations, k = 0 .. n - 1 in the order they were added. */
int ns_net_n_populations(const ns_net *net);
ns_pop *ns_net_population(const ns_net *net, int k);

/* Advance by t_ms (a whole number of steps). Status NS_ERUN on a failure during the run, after
 * which what was recorded is on disk. */
int ns_net_run(ns_net *net, double t_ms);
/* Write buffered records to disk. */
int ns_net_flush(ns_net *net);

/* How spikes reach their targets' input: dense rows (one slot per unit and step, best when
 * most units get input every step) or event lists (best when few do); auto picks per population
 * from its mean in-degree. Set before the first run; results agree up to rounding. */
enum { NS_INPUT_AUTO, NS_INPUT_DENSE, NS_INPUT_SPARSE };
int ns_net_set_input_mode(ns_net *net, int mode);

/* A population of a team model (kg_field, ei_lattice, s2net_phase, ultradlif: every thread steps
 * its block, meeting at barriers every step) with fewer than `units` units is stepped whole by one
 * thread instead: below some size the barriers cost more than the work they share, and badly so
 * when another process holds a CPU. Results are the same either way. Default 0 (every team
 * population is split); set before the populations it should govern are made. */
int ns_net_set_team_min(ns_net *net, double units);
/* What scripts get (nsim.network's team_min): a 128 x 128 lattice and larger is split. */
#define NS_TEAM_MIN_UNITS 16384

/* How the threads of a rank share the populations that are neither teams nor stepped as one
 * system: NS_SPLIT_UNITS (the default) cuts each into a block per thread; NS_SPLIT_POPULATIONS
 * gives each whole to one thread (a block per rank under MPI), the populations balanced over
 * the threads by their units and incoming synapses before the first run. With many populations
 * the second makes each spike's table rows one per target population instead of one per
 * population and thread, which costs less to deliver; with few it leaves threads idle. Results
 * are the same either way. Set before the populations are made. */
enum { NS_SPLIT_UNITS, NS_SPLIT_POPULATIONS };
int ns_net_set_split(ns_net *net, int split);
/* With split = populations and more than one thread, the engine times each population's work
 * (its step, its input devices and the deliveries into it) in one window of every 8, and every
 * `windows` windows hands the populations to threads afresh, largest measured work first to the
 * least loaded thread, when that lowers the busiest thread's load by 3 % or more: the work of a
 * population depends on the rates it is driven at, which are known only once it runs. Default
 * NS_REBALANCE_WINDOWS; 0 keeps the first choice. Results are the same either way. */
int ns_net_set_rebalance(ns_net *net, int windows);
#define NS_REBALANCE_WINDOWS 512

/* Steps of a window: the smallest delay (plus the lag sparse targets allow), or about 1 ms
 * when no projection sets one. Valid after the first run. */
int ns_net_window_steps(const ns_net *net);

#endif
