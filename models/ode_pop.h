/* models/ode_pop.h — a population of ODE units (models/ode_unit.h) as one system: the step hook,
 * its solver data and the statistics that go into run.json. Spikes come from roots (CVODE,
 * rk8pd) or from the threshold at step ends (the fixed-step methods, and NS_SPIKE_AT_STEP). */
#ifndef NS_ODE_POP_H
#define NS_ODE_POP_H

#include "models/model.h"
#include "models/ode_unit.h"
#include "solvers/ode_driver.h"

/* Derived constants every ODE model keeps (its consts struct is this one). */
typedef struct {
    double ref_steps; /* refractory period in steps */
} ns_ode_consts;

/* Fill the constants for t_ref (ms) at step dt (ms); returns 0. */
int ns_ode_pop_init_consts(void *consts, double t_ref_ms, double dt_ms);

/* Solver data of a population of n units of model m (m->ode set). NULL with a message. */
void *ns_ode_pop_create(const ns_model *m, const void *params, size_t n, double dt_ms, const ns_solver_opts *o,
                        char *err, size_t errlen);
/* Release what ns_ode_pop_create made; NULL is harmless. */
void ns_ode_pop_free(void *data);

/* The step hook of every ODE model: the whole population advances on the thread given units
 * [0, n) (the engine gives an ODE population to one thread). */
int ns_ode_pop_step(const ns_step_args *a);

/* The integrator of solver o->kind (any but fused) for sys, with o's tolerances (rtol relative,
 * atol in the variables' units); NULL with a message. */
ns_ode_driver *ns_solver_driver_create(const ns_ode_system *sys, const ns_solver_opts *o, char *err, size_t errlen);

/* Fill st's counters (steps, right-hand-side and Jacobian evaluations, failures, restarts) from
 * the driver; st->solver and st->roots are the caller's. */
void ns_ode_fill_stats(const ns_ode_driver *drv, ns_solver_stats *st);

/* Counters of the population's solver so far. */
void ns_ode_pop_stats(const void *data, ns_solver_stats *st);

/* The ns_model fields every ODE point neuron with current synapses shares (adex, lif_ode): one
 * system per population on the solvers of solvers/, stepped by ns_ode_pop_step. */
/* Checkpoint hooks of an ODE population (ns_model.state_size, state_save, state_load). */
size_t ns_ode_pop_state_size(const void *data);
void ns_ode_pop_state_save(void *data, unsigned char *buf);
int ns_ode_pop_state_load(void *data, const unsigned char *buf, size_t len, char *err, size_t errlen);

#define NS_ODE_PSC_MODEL                                                                          \
    .kind = NS_KIND_SPIKING, .consts_size = sizeof(ns_ode_consts), NS_PSC_PORTS, .whole = 1,   \
    .step = ns_ode_pop_step, .data_create = ns_ode_pop_create, .data_free = ns_ode_pop_free,       \
    .data_stats = ns_ode_pop_stats, .state_size = ns_ode_pop_state_size, .state_save = ns_ode_pop_state_save, \
    .state_load = ns_ode_pop_state_load

#endif
