/* models/ode_pop.c — a population of ODE units as one system with a block-diagonal Jacobian
 * (see ode_pop.h). The state lives in the engine's arrays between calls and in one contiguous
 * vector (unit by unit) during a call; every jump in the system (arriving spikes, a reset, a new
 * device current, the end of a refractory clamp) restarts the solver at that time. */
#include "models/ode_pop.h"
#include "models/input.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solvers/ode_driver.h"

typedef struct {
    const ns_model *m;
    const ns_ode_unit *u;
    size_t n;
    int nv;
    double dt;
    ns_solver_opts o;
    const void *params;      /* the population's parameters, as of the current call */
    double *y, *drive;
    unsigned char *clamped, *fired;
    int *root_hit;
    ns_ode_driver *drv;
    long resets;
} ode_pop;

/* The solvers' names, in ns_solver_kind order. */
static const char *const solver_names[] = {
    [NS_SOLVER_CVODE_BDF] = "cvode_bdf", [NS_SOLVER_CVODE_ADAMS] = "cvode_adams", [NS_SOLVER_RK4] = "rk4",
    [NS_SOLVER_EULER] = "euler", [NS_SOLVER_RK8PD] = "rk8pd", [NS_SOLVER_FUSED] = "fused"};
enum { N_SOLVERS = sizeof solver_names / sizeof solver_names[0] };

int ns_solver_parse(const char *name)
{
    for (int k = 0; k < N_SOLVERS; k++)
        if (!strcmp(name, solver_names[k])) return k;
    return -1;
}

const char *ns_solver_name(ns_solver_kind k) { return (unsigned)k < N_SOLVERS ? solver_names[k] : "?"; }

int ns_ode_pop_init_consts(void *consts, double t_ref_ms, double dt_ms)
{
    ((ns_ode_consts *)consts)->ref_steps = round(t_ref_ms / dt_ms);
    return 0;
}

static int pop_rhs(double t, const double *y, double *ydot, void *user)
{
    (void)t;
    ode_pop *p = user;
    const int nv = p->nv, cv = p->u->clamp_var;
    for (size_t u = 0; u < p->n; u++) {
        p->u->rhs(p->params, y + u * (size_t)nv, p->drive[u], ydot + u * (size_t)nv);
        if (p->clamped[u] && cv >= 0) ydot[u * (size_t)nv + (size_t)cv] = 0.0;
    }
    return 0;
}

static int pop_jac(double t, const double *y, double *J, void *user)
{
    (void)t;
    ode_pop *p = user;
    const int nv = p->nv, cv = p->u->clamp_var;
    const size_t bb = (size_t)nv * (size_t)nv;
    for (size_t u = 0; u < p->n; u++) {
        double *Ju = J + u * bb;
        p->u->jac(p->params, y + u * (size_t)nv, Ju);
        if (p->clamped[u] && cv >= 0)
            for (int c = 0; c < nv; c++) Ju[c * nv + cv] = 0.0; /* a clamped variable does not move */
    }
    return 0;
}

static int pop_roots(double t, const double *y, double *g, void *user)
{
    (void)t;
    ode_pop *p = user;
    for (size_t u = 0; u < p->n; u++)
        g[u] = p->clamped[u] ? -1.0 : p->u->threshold(p->params, y + u * (size_t)p->nv);
    return 0;
}

ns_ode_driver *ns_solver_driver_create(const ns_ode_system *sys, const ns_solver_opts *o, char *err, size_t errlen)
{
    static const ns_ode_driver_method method[] = {
        [NS_SOLVER_CVODE_BDF] = NS_ODE_DRIVER_CVODE_BDF, [NS_SOLVER_CVODE_ADAMS] = NS_ODE_DRIVER_CVODE_ADAMS,
        [NS_SOLVER_RK4] = NS_ODE_DRIVER_RK4, [NS_SOLVER_EULER] = NS_ODE_DRIVER_EULER,
        [NS_SOLVER_RK8PD] = NS_ODE_DRIVER_RK8PD};
    if ((unsigned)o->kind >= sizeof method / sizeof method[0]) {
        snprintf(err, errlen, "the %s solver is not an ODE integrator", ns_solver_name(o->kind));
        return NULL;
    }
    return ns_ode_driver_create(sys, method[o->kind], o->rtol, o->atol, err, errlen);
}

void *ns_ode_pop_create(const ns_model *m, const void *params, size_t n, double dt, const ns_solver_opts *o,
                        char *err, size_t errlen)
{
    (void)params;
    ode_pop *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->m = m;
    p->u = m->ode;
    p->n = n;
    p->nv = m->ode->n_vars;
    p->dt = dt;
    p->o = *o;
    size_t neq = n * (size_t)p->nv;
    p->y = calloc(neq, sizeof *p->y);
    p->drive = calloc(n, sizeof *p->drive);
    p->clamped = calloc(n, 1);
    p->fired = calloc(n, 1);
    p->root_hit = calloc(n, sizeof *p->root_hit);
    if (!p->y || !p->drive || !p->clamped || !p->fired || !p->root_hit) goto oom;
    if (o->kind == NS_SOLVER_FUSED) {
        snprintf(err, errlen, "the fused solver is for ltc populations");
        goto fail;
    }
    /* the fixed-step methods ignore the root functions; the step checks the threshold instead */
    int roots = p->u->threshold && p->u->rule == NS_SPIKE_AT_ROOT;
    ns_ode_system sys = {.n = (int)neq, .rhs = pop_rhs, .jac = p->u->jac ? pop_jac : NULL,
                         .roots = roots ? pop_roots : NULL, .nroots = roots ? (int)n : 0, .block = p->nv, .user = p};
    if (!(p->drv = ns_solver_driver_create(&sys, o, err, errlen))) goto fail;
    return p;
oom:
    snprintf(err, errlen, "out of memory for %zu units of %s", n, m->name);
fail:
    ns_ode_pop_free(p);
    return NULL;
}

void ns_ode_pop_free(void *data)
{
    ode_pop *p = data;
    if (!p) return;
    ns_ode_driver_free(p->drv);
    free(p->y);
    free(p->drive);
    free(p->clamped);
    free(p->fired);
    free(p->root_hit);
    free(p);
}

/* A spike of unit u: reset it, mark it, and count its refractory steps from the next step on.
 * A spike at a root is also clamped for the rest of its own step, as NEST's aeif models hold V
 * from the spike on; a spike found at a step's end has no rest of step. */
static void fire(ode_pop *p, size_t u, double *r, double ref_steps)
{
    p->u->reset(p->params, p->y + u * (size_t)p->nv);
    p->fired[u] = 1;
    p->resets++;
    if (r) r[u] = ref_steps;
    if (r && ref_steps > 0) p->clamped[u] = 1;
}

int ns_ode_pop_step(const ns_step_args *a)
{
    ode_pop *p = a->data;
    const ns_model *m = p->m;
    const size_t n = p->n, nv = (size_t)p->nv;
    const double ref_steps = ((const ns_ode_consts *)a->consts)->ref_steps;
    double *r = m->n_state > p->nv ? a->state[p->nv] : NULL; /* the refractory counter follows the ODE state */
    char *err = a->err;
    size_t errlen = a->errlen;
    p->params = a->params;
    for (size_t u = 0; u < n; u++)
        for (size_t v = 0; v < nv; v++) p->y[u * nv + v] = a->state[v][u];
    int jumped = 1; /* the engine's state may have changed between calls */
    for (int k = 0; k < a->nsteps; k++) {
        const int64_t s = a->step0 + k;
        const double t0 = (double)s * p->dt, t1 = t0 + p->dt; /* the driver's step end is t0 + dt too */
        double *cur = ns_input_row(a, NS_PSC_CURRENT, k);
        for (size_t u = 0; u < n; u++) {
            double d = cur ? cur[u] : 0.0;
            if (cur) cur[u] = 0.0;
            jumped |= d != p->drive[u];
            p->drive[u] = d;
            int c = r && r[u] > 0.0;
            jumped |= c != p->clamped[u];
            p->clamped[u] = (unsigned char)c;
            if (c) r[u] -= 1.0;
        }
        memset(p->fired, 0, n);
        if (jumped && ns_ode_driver_restart(p->drv, t0, p->y, err, errlen)) return NS_STEP_FAILED;
        /* a fixed-step method takes the step in one; an adaptive one may stop at roots */
        double t = t0;
        while (t < t1) {
            int rc = ns_ode_driver_advance(p->drv, t0, p->dt, &t, p->y, p->root_hit, err, errlen);
            if (rc < 0) return NS_STEP_FAILED;
            if (rc == NS_ODE_ROOT) {
                int any = 0;
                for (size_t u = 0; u < n; u++)
                    if (p->root_hit[u] > 0 && !p->fired[u]) { /* upward: a spike */
                        fire(p, u, r, ref_steps);
                        any = 1;
                    }
                if (any && ns_ode_driver_restart(p->drv, t, p->y, err, errlen)) return NS_STEP_FAILED;
            }
        }
        jumped = 0;
        if (p->u->threshold && (p->u->rule == NS_SPIKE_AT_STEP || !ns_ode_driver_adaptive(p->drv)))
            for (size_t u = 0; u < n; u++)
                if (!p->clamped[u] && !p->fired[u] && p->u->threshold(p->params, p->y + u * nv) >= 0.0) {
                    fire(p, u, r, ref_steps);
                    jumped = 1;
                }
        for (size_t u = 0; u < n && !jumped; u++) jumped = p->fired[u];
        /* spikes arriving in this step enter the synaptic variables at its end */
        double *ex = ns_input_row(a, NS_PSC_EX, k), *in = ns_input_row(a, NS_PSC_IN, k);
        for (size_t u = 0; u < n; u++) {
            if (ex[u] != 0.0) {
                p->y[u * nv + (size_t)p->u->ex_var] += ex[u];
                ex[u] = 0.0;
                jumped = 1;
            }
            if (in != ex && in[u] != 0.0) {
                p->y[u * nv + (size_t)p->u->in_var] += p->u->in_magnitude ? -in[u] : in[u];
                in[u] = 0.0;
                jumped = 1;
            }
        }
        for (size_t u = 0; u < n; u++)
            if (p->fired[u] && ns_spikebuf_push(a->out, k, (uint32_t)u)) return -1;
    }
    for (size_t u = 0; u < n; u++)
        for (size_t v = 0; v < nv; v++) a->state[v][u] = p->y[u * nv + v];
    return 0;
}

/* Checkpoints: what the solver carries across the restart at every window's start (rk8pd's step
 * size; CVODE keeps nothing) and the reset count run.json reports. The rest is rebuilt each call. */
size_t ns_ode_pop_state_size(const void *data)
{
    (void)data;
    return sizeof(double) + sizeof(int64_t);
}

void ns_ode_pop_state_save(void *data, unsigned char *buf)
{
    const ode_pop *p = data;
    const double h = ns_ode_driver_carry(p->drv);
    const int64_t r = p->resets;
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, &r, sizeof r);
}

int ns_ode_pop_state_load(void *data, const unsigned char *buf, size_t len, char *err, size_t errlen)
{
    ode_pop *p = data;
    if (len != ns_ode_pop_state_size(data)) return snprintf(err, errlen, "%s: %zu bytes of solver state", p->m->name, len), -1;
    double h;
    int64_t r;
    memcpy(&h, buf, sizeof h);
    memcpy(&r, buf + sizeof h, sizeof r);
    ns_ode_driver_set_carry(p->drv, h);
    p->resets = (long)r;
    return 0;
}

void ns_ode_fill_stats(const ns_ode_driver *drv, ns_solver_stats *st)
{
    ns_ode_driver_stats d;
    ns_ode_driver_get_stats(drv, &d);
    st->steps = d.steps;
    st->rhs_evals = d.rhs_evals;
    st->err_test_fails = d.err_test_fails;
    st->conv_fails = d.conv_fails;
    st->jac_evals = d.jac_evals;
    st->reinits = d.reinits;
}

void ns_ode_pop_stats(const void *data, ns_solver_stats *st)
{
    const ode_pop *p = data;
    memset(st, 0, sizeof *st);
    st->solver = ns_solver_name(p->o.kind);
    st->roots = p->resets;
    ns_ode_fill_stats(p->drv, st);
}
