/* models/ode_unit.h — what a model whose units follow ODEs provides: the right-hand side of one
 * unit, its Jacobian, a threshold and a reset. models/ode_pop.c turns it into a population step
 * on CVODE (or fixed-step RK4 / Euler, or GSL's rk8pd), so any spiking ODE model plugs in the
 * same way: the population is one system with a block-diagonal Jacobian. */
#ifndef NS_ODE_UNIT_H
#define NS_ODE_UNIT_H

#include <stddef.h>

typedef enum {
    NS_SPIKE_AT_ROOT,  /* a spike where threshold() crosses 0, found by root finding; reset there */
    NS_SPIKE_AT_STEP   /* threshold() >= 0 at a step's end, reset then (the grid rule of lif) */
} ns_spike_rule;

typedef struct {
    int n_vars; /* the first n_vars state variables of the model are the unit's ODE state */
    /* dy/dt (per ms) of one unit; drive is the device current into it (pA), constant over a step */
    void (*rhs)(const void *params, const double *y, double drive, double *dydt);
    /* J[c * n_vars + r] = d(dydt_r)/d(y_c) of one unit (J zeroed by the caller); NULL: numerical */
    void (*jac)(const void *params, const double *y, double *J);
    /* a spike where this crosses 0 upwards (V - V_th); NULL: the units never spike */
    double (*threshold)(const void *params, const double *y);
    /* the unit's state after a spike */
    void (*reset)(const void *params, double *y);
    ns_spike_rule rule;
    int clamp_var;  /* held at its value (the reset) for t_ref steps after a spike, or -1 */
    int ex_var, in_var; /* where an arriving spike of weight >= 0 / < 0 adds its weight */
    int in_magnitude;   /* 1: a weight < 0 adds its magnitude to in_var (a conductance kept >= 0) */
} ns_ode_unit;

/* Numerical settings of an ODE population (`solver`, `rtol`, `atol` in a script). */
typedef enum {
    NS_SOLVER_CVODE_BDF, NS_SOLVER_CVODE_ADAMS, NS_SOLVER_RK4, NS_SOLVER_EULER, NS_SOLVER_RK8PD,
    NS_SOLVER_FUSED /* ncps's semi-implicit unfolds (ltc) */
} ns_solver_kind;

/* How a population's private data is made: its solver, and for cells their weights. */
typedef struct {
    ns_solver_kind kind;
    double rtol, atol;     /* adaptive methods */
    char weights[1024];    /* a weights file to load, or "" for seeded initialisation */
    unsigned long long seed; /* seeded initialisation: the run's seed and the population, or given */
    int seed_set;
} ns_solver_opts;

/* Parse a solver name (cvode_bdf, cvode_adams, rk4, euler, rk8pd, fused); -1 when unknown. */
int ns_solver_parse(const char *name);
/* The name of solver k (as ns_solver_parse reads it), or "?" for no solver. */
const char *ns_solver_name(ns_solver_kind k);

#endif
