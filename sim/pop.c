/* sim/pop.c — populations: structure-of-arrays state, parameters set by copy-validate-commit,
 * per-thread stepping over contiguous unit ranges and the merge of their spikes into one
 * window list sorted by (step, unit), which makes records independent of the thread count. */
#include "sim/net_types.h"
#include "base/bigmem.h"

#include "models/ode_pop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ns_pop *ns_pop_new(ns_net *net, const ns_model *m, size_t n, const char *name)
{
    ns_pop *pop = calloc(1, sizeof *pop);
    if (!pop) return NULL;
    pop->model = m;
    pop->n = n;
    pop->params = calloc(1, m->params_size ? m->params_size : 1);
    pop->consts = calloc(1, m->consts_size ? m->consts_size : 1);
    pop->state = calloc((size_t)(m->n_state ? m->n_state : 1), sizeof *pop->state);
    pop->tout = calloc((size_t)net->threads, sizeof *pop->tout);
    if (!pop->params || !pop->consts || !pop->state || !pop->tout) goto fail;
    pop->team = m->team && n >= net->team_min && net->threads > 1; /* a team is cut by units */
    const ns_part_kind kind = pop->team ? NS_PART_TEAM : m->whole ? NS_PART_WHOLE
                              : net->split == NS_SPLIT_POPULATIONS ? NS_PART_RANKS : NS_PART_SPLIT;
    if (ns_partition_init(&pop->part, n, net->threads, net->transport->nranks, net->transport->rank, kind))
        goto fail;
    for (int k = 0; k < m->n_state; k++)
        if (!(pop->state[k] = ns_big_calloc(n, sizeof(double)))) goto fail; /* aligned for vector loads */
    ns_model_defaults(m, pop->params);
    pop->solver = (ns_solver_opts){.kind = m->ode ? NS_SOLVER_CVODE_BDF : NS_SOLVER_FUSED, .rtol = 1e-6, .atol = 1e-8};
    if (m->init_state) m->init_state(pop->params, pop->state, n);
    snprintf(pop->name, sizeof pop->name, "%s", name);
    return pop;
fail:
    ns_pop_delete(pop, net->threads);
    return NULL;
}

void ns_pop_delete(ns_pop *pop, int threads)
{
    if (!pop) return;
    const ns_model *m = pop->model;
    if (pop->state)
        for (int k = 0; k < m->n_state; k++) free(pop->state[k]);
    if (pop->input)
        for (int r = 0; r < m->n_inputs; r++) free(pop->input[r]);
    if (pop->tout)
        for (int t = 0; t < threads; t++) ns_spikebuf_release(&pop->tout[t]);
    if (pop->ev) {
        for (int t = 0; t < pop->part.nblocks; t++) {
            for (size_t s = 0; pop->ev[t] && s < pop->ring_len; s++) {
                free(pop->ev[t][s].run);
                free(pop->ev[t][s].off);
            }
            free(pop->ev[t]);
        }
        free(pop->ev);
    }
    if (pop->held) {
        for (int t = 0; t < pop->part.nblocks; t++) {
            for (size_t s = 0; pop->held[t] && s < pop->held_len; s++) free(pop->held[t][s].run);
            free(pop->held[t]);
        }
        free(pop->held);
    }
    if (m->data_free) m->data_free(pop->data);
    ns_geom_free(pop->geom);
    ns_spikebuf_release(&pop->win);
    free(pop->state);
    free(pop->input);
    free(pop->tout);
    free(pop->params);
    free(pop->consts);
    free(pop->step_count);
    free(pop->graded);
    free(pop->unit_params);
    free(pop->run_lo);
    free(pop->run_params);
    free(pop->run_consts);
    free(pop->unit_consts);
    ns_partition_release(&pop->part);
    free(pop);
}

const char *ns_pop_name(const ns_pop *pop) { return pop->name; }
const ns_model *ns_pop_model(const ns_pop *pop) { return pop->model; }
size_t ns_pop_size(const ns_pop *pop) { return pop->n; }
size_t ns_pop_first_id(const ns_pop *pop) { return pop->first_id; }
int64_t ns_pop_n_spikes(const ns_pop *pop) { return pop->n_spikes; }

/* Take units[n x params_size] (owned from here on success) as the population's per-unit
 * parameters: find the runs of equal sets, check each with the model's init (the message naming
 * the run's first unit) and keep its constants, or have the model derive every unit's constants
 * at once (init_units); before the first run, set the default state of each run from its
 * parameters. On failure nothing changes. */
static int set_unit_params(ns_net *net, ns_pop *pop, unsigned char *units)
{
    const ns_model *m = pop->model;
    const size_t ps = m->params_size, cs = m->consts_size ? m->consts_size : 1;
    size_t runs = pop->n ? 1 : 0;
    for (size_t u = 1; u < pop->n; u++) runs += memcmp(units + u * ps, units + (u - 1) * ps, ps) != 0;
    const int keep_consts = m->init_units == NULL;
    size_t *lo = malloc((runs + 1) * sizeof *lo);
    unsigned char *rp = malloc(runs * ps + 1), *rc = calloc(keep_consts ? runs + 1 : 1, cs);
    void *uc = NULL;
    char err[512];
    if (!lo || !rp || !rc) {
        free(lo), free(rp), free(rc);
        return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    }
    for (size_t u = 0, r = 0; u < pop->n; u++) {
        if (u && !memcmp(units + u * ps, units + (u - 1) * ps, ps)) continue;
        lo[r] = u;
        memcpy(rp + r * ps, units + u * ps, ps);
        if (m->init && m->init(rp + r * ps, rc + (keep_consts ? r * cs : 0), net->dt, err, sizeof err)) {
            free(lo), free(rp), free(rc);
            return ns_error(net->ctx, NS_EINVAL, "population %s, unit %zu: %s", pop->name, u, err);
        }
        r++;
    }
    lo[runs] = pop->n;
    if (!keep_consts) {
        free(rc);
        rc = NULL;
        if (!(uc = m->init_units(units, pop->n, net->dt, err, sizeof err))) {
            free(lo), free(rp);
            return ns_error(net->ctx, NS_EINVAL, "population %s: %s", pop->name, err);
        }
    }
    free(pop->run_lo), free(pop->run_params), free(pop->run_consts), free(pop->unit_consts);
    if (pop->unit_params != units) free(pop->unit_params);
    pop->unit_params = units;
    pop->run_lo = lo;
    pop->run_params = rp;
    pop->run_consts = rc;
    pop->unit_consts = uc;
    pop->n_runs = runs;
    if (m->init_state && !net->finalized)
        for (size_t r = 0; r < runs; r++) {
            double *st[NS_MODEL_MAX_STATE]; /* add_pop refused more */
            for (int k = 0; k < m->n_state; k++) st[k] = pop->state[k] + lo[r];
            m->init_state(rp + r * ps, st, lo[r + 1] - lo[r]);
        }
    return NS_OK;
}

static int unknown_param(ns_net *net, const ns_model *m, const char *name)
{
    return ns_error(net->ctx, NS_EINVAL, "model %s has no parameter '%s' (see: nsim models %s)", m->name, name, m->name);
}

int ns_pop_set_param_array(ns_net *net, ns_pop *pop, const char *name, const double *values)
{
    const ns_model *m = pop->model;
    int idx = ns_model_param_index(m, name);
    if (idx < 0) return unknown_param(net, m, name);
    if (net->finalized)
        return ns_error(net->ctx, NS_EINVAL, "population %s: per-unit %s must be set before the first run", pop->name,
                        name);
    if (m->whole || m->data_create || m->n_state > NS_MODEL_MAX_STATE)
        return ns_error(net->ctx, NS_EINVAL, "population %s: model %s takes its parameters per population, not per unit",
                        pop->name, m->name);
    char err[512];
    for (size_t u = 0; u < pop->n; u++)
        if (ns_model_check_param(m, idx, values[u], err, sizeof err))
            return ns_error(net->ctx, NS_EINVAL, "population %s, unit %zu: %s", pop->name, u, err);
    const size_t ps = m->params_size;
    unsigned char *units = malloc(pop->n * ps + 1);
    if (!units) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    for (size_t u = 0; u < pop->n; u++) {
        memcpy(units + u * ps, pop->unit_params ? pop->unit_params + u * ps : pop->params, ps);
        ns_model_set_param(m, units + u * ps, idx, values[u]);
    }
    int rc = set_unit_params(net, pop, units);
    if (rc) free(units);
    return rc;
}

int ns_pop_draw_param(ns_net *net, ns_pop *pop, const char *name, const ns_dist *value)
{
    int idx = ns_model_param_index(pop->model, name);
    if (idx < 0) return unknown_param(net, pop->model, name); /* before any draw */
    double *v = malloc(pop->n * sizeof *v + 1);
    if (!v) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    uint64_t seed = ns_ctx_seed(net->ctx);
    for (size_t i = 0; i < pop->n; i++) {
        double u[4] = {0.5, 0.5, 0.5, 0.5};
        if (value->kind != NS_DIST_CONST)
            ns_rng_u01x4(seed, NS_STREAM_PARAM, (uint32_t)pop->id, (uint32_t)i, (uint32_t)idx, u);
        v[i] = ns_dist_draw(value, u[0], u[1]);
    }
    int rc = ns_pop_set_param_array(net, pop, name, v);
    free(v);
    return rc;
}

int ns_pop_set_params(ns_net *net, ns_pop *pop, const char *const *names, const double *values, int n)
{
    const ns_model *m = pop->model;
    char err[512];
    void *copy = malloc(m->params_size ? m->params_size : 1);
    void *consts = malloc(m->consts_size ? m->consts_size : 1);
    int rc = NS_OK;
    if (!copy || !consts) {
        rc = ns_error(net->ctx, NS_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(copy, pop->params, m->params_size);
    for (int i = 0; i < n; i++) {
        int idx = ns_model_param_index(m, names[i]);
        if (idx < 0) {
            rc = unknown_param(net, m, names[i]);
            goto done;
        }
        if (ns_model_check_param(m, idx, values[i], err, sizeof err)) {
            rc = ns_error(net->ctx, NS_EINVAL, "%s", err);
            goto done;
        }
        ns_model_set_param(m, copy, idx, values[i]);
    }
    if (m->init && m->init(copy, consts, net->dt, err, sizeof err)) {
        rc = ns_error(net->ctx, NS_EINVAL, "%s", err);
        goto done;
    }
    if (pop->unit_params) { /* the values hold for every unit, beside its own arrays */
        unsigned char *units = malloc(pop->n * m->params_size);
        if (!units) {
            rc = ns_error(net->ctx, NS_ENOMEM, "out of memory");
            goto done;
        }
        memcpy(units, pop->unit_params, pop->n * m->params_size);
        for (int i = 0; i < n; i++) { /* one look-up per name, not per unit */
            const int idx = ns_model_param_index(m, names[i]);
            for (size_t u = 0; u < pop->n; u++) ns_model_set_param(m, units + u * m->params_size, idx, values[i]);
        }
        if ((rc = set_unit_params(net, pop, units))) {
            free(units);
            goto done;
        }
    }
    if (net->finalized) ns_pop_sync(net, pop, 0); /* state out of the old form */
    memcpy(pop->params, copy, m->params_size);
    if (net->finalized) { /* the new propagators take effect with the next step */
        memcpy(pop->consts, consts, m->consts_size);
        ns_pop_sync(net, pop, 1);
    }
    if (m->init_state && !net->finalized && !pop->unit_params) {
        /* Defaults of the state follow the parameters (V_m starts at E_L) until the first run;
         * explicit initial values are set after the parameters. */
        m->init_state(pop->params, pop->state, pop->n);
    }
done:
    free(copy);
    free(consts);
    return rc;
}

int ns_pop_init_state(ns_net *net, ns_pop *pop, const char *var, const ns_dist *value)
{
    int k = ns_model_state_index(pop->model, var);
    if (k < 0)
        return ns_error(net->ctx, NS_EINVAL, "model %s has no state variable '%s'", pop->model->name, var);
    if (!isfinite(value->a) || !isfinite(value->b))
        return ns_error(net->ctx, NS_EINVAL, "initial value of %s must be finite", var);
    uint64_t seed = ns_ctx_seed(net->ctx);
    for (size_t i = 0; i < pop->n; i++) {
        double u[4] = {0.5, 0.5, 0.5, 0.5};
        if (value->kind != NS_DIST_CONST)
            ns_rng_u01x4(seed, NS_STREAM_INIT, (uint32_t)pop->id, (uint32_t)i, (uint32_t)k, u);
        pop->state[k][i] = ns_dist_draw(value, u[0], u[1]);
    }
    if (net->finalized) ns_pop_sync(net, pop, 1);
    return NS_OK;
}

int ns_pop_set_state_array(ns_net *net, ns_pop *pop, const char *var, const double *values)
{
    int k = ns_model_state_index(pop->model, var);
    if (k < 0)
        return ns_error(net->ctx, NS_EINVAL, "model %s has no state variable '%s'", pop->model->name, var);
    for (size_t i = 0; i < pop->n; i++)
        if (!isfinite(values[i])) return ns_error(net->ctx, NS_EINVAL, "%s of unit %zu is not a finite number", var, i);
    memcpy(pop->state[k], values, pop->n * sizeof *values);
    if (net->finalized) ns_pop_sync(net, pop, 1);
    return NS_OK;
}

double ns_pop_get_param(const ns_pop *pop, const char *name)
{
    int k = ns_model_param_index(pop->model, name);
    return k < 0 ? NAN : ns_model_get_param(pop->model, pop->params, k);
}

double ns_pop_get_state(const ns_pop *pop, const char *var, size_t i)
{
    int k = ns_model_state_index(pop->model, var);
    if (k < 0 || i >= pop->n) return NAN;
    return pop->state[k][i];
}

int ns_pop_finalize(ns_net *net, ns_pop *pop)
{
    const ns_model *m = pop->model;
    char err[512];
    if (m->init && m->init(pop->params, pop->consts, net->dt, err, sizeof err))
        return ns_error(net->ctx, NS_EINVAL, "population %s: %s", pop->name, err);
    if (ns_model_channel_port(m) >= 0) pop->n_channels = (int)ns_pop_inputs(pop); /* a cell's input channels */
    if (m->n_inputs) { /* a ring per input port: a value per unit, or per channel, and step */
        pop->input = calloc((size_t)m->n_inputs, sizeof *pop->input);
        if (!pop->input) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
        for (int r = 0; r < m->n_inputs; r++) {
            pop->stride[r] = m->inputs[r].count_param ? (size_t)pop->n_channels
                                                      : pop->n * (size_t)ns_in_port_width(&m->inputs[r]);
            if (!(pop->input[r] = ns_big_calloc(pop->ring_len * pop->stride[r] + 1, sizeof(double))))
                return ns_error(net->ctx, NS_ENOMEM, "out of memory for input buffers of %s", pop->name);
        }
    }
    if (pop->sparse) {
        if (!(pop->ev = calloc((size_t)pop->part.nblocks, sizeof *pop->ev))) /* a ring of lists per block */
            return ns_error(net->ctx, NS_ENOMEM, "out of memory");
        for (int t = 0; t < pop->part.nblocks; t++)
            if (!(pop->ev[t] = calloc(pop->ring_len, sizeof **pop->ev)))
                return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    }
    if (!pop->sparse && m->n_inputs) {
        if (!(pop->held = calloc((size_t)pop->part.nblocks, sizeof *pop->held)))
            return ns_error(net->ctx, NS_ENOMEM, "out of memory");
        for (int t = 0; t < pop->part.nblocks; t++)
            if (!(pop->held[t] = calloc(pop->held_len, sizeof **pop->held)))
                return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    }
    pop->step_count = calloc((size_t)net->window + 1, sizeof *pop->step_count);
    if (!pop->step_count) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    if (m->data_create && !pop->data) {
        if (!pop->solver.seed_set) pop->solver.seed = ns_ctx_seed(net->ctx) * 1000003ull + (unsigned long long)pop->id;
        err[0] = '\0';
        if (!(pop->data = m->data_create(m, pop->params, pop->n, net->dt, &pop->solver, err, sizeof err)))
            return ns_error(net->ctx, NS_EINVAL, "population %s: %s", pop->name, err);
        if (err[0]) ns_ctx_log(net->ctx, "population %s: %s", pop->name, err); /* made, with a note (ltc) */
    }
    return NS_OK;
}

int ns_pop_set_solver(ns_net *net, ns_pop *pop, const char *name, double rtol, double atol)
{
    const int fused = pop->model->fused_solver;
    if (!pop->model->ode && !fused)
        return ns_error(net->ctx, NS_EINVAL, "population %s (%s) has no ODEs to solve", pop->name, pop->model->name);
    if (net->finalized) return ns_error(net->ctx, NS_ESTATE, "the solver of %s is fixed after the first run", pop->name);
    int kind = name ? ns_solver_parse(name) : (int)pop->solver.kind; /* NULL: keep the model's default */
    if (kind < 0 || (kind == NS_SOLVER_FUSED && !fused))
        return ns_error(net->ctx, NS_EINVAL, "unknown solver '%s' for %s (cvode_bdf, cvode_adams, rk4, euler, rk8pd%s)",
                        name, pop->model->name, fused ? ", fused" : "");
    if (!(rtol > 0 && rtol < 1) || !(atol > 0) || !isfinite(atol))
        return ns_error(net->ctx, NS_EINVAL, "tolerances must be positive (rtol below 1): rtol %g, atol %g", rtol, atol);
    pop->solver.kind = (ns_solver_kind)kind;
    pop->solver.rtol = rtol;
    pop->solver.atol = atol;
    return NS_OK;
}

int ns_pop_set_weights(ns_net *net, ns_pop *pop, const char *path)
{
    if (!pop->model->data_save)
        return ns_error(net->ctx, NS_EINVAL, "population %s (%s) has no weights to load", pop->name, pop->model->name);
    if (net->finalized) return ns_error(net->ctx, NS_ESTATE, "the weights of %s are fixed after the first run", pop->name);
    if (strlen(path) >= sizeof pop->solver.weights) return ns_error(net->ctx, NS_EINVAL, "weights path too long");
    snprintf(pop->solver.weights, sizeof pop->solver.weights, "%s", path);
    return NS_OK;
}

int ns_pop_save_weights(ns_net *net, ns_pop *pop, const char *path)
{
    char err[512];
    if (!pop->model->data_save)
        return ns_error(net->ctx, NS_EINVAL, "population %s (%s) has no weights to save", pop->name, pop->model->name);
    if (!pop->data) return ns_error(net->ctx, NS_ESTATE, "population %s has no weights before the first run", pop->name);
    if (pop->model->data_save(pop->data, path, err, sizeof err)) return ns_error(net->ctx, NS_EIO, "%s", err);
    return NS_OK;
}

int ns_pop_solver_stats(const ns_pop *pop, ns_solver_stats *st)
{
    if (!pop->model->data_stats || !pop->data) return 0;
    pop->model->data_stats(pop->data, st);
    return 1;
}

int ns_pop_set_seed(ns_net *net, ns_pop *pop, unsigned long long seed)
{
    if (net->finalized) return ns_error(net->ctx, NS_ESTATE, "the seed of %s is fixed after the first run", pop->name);
    pop->solver.seed = seed;
    pop->solver.seed_set = 1;
    return NS_OK;
}

/* ns_pop_sync for units [lo, hi), at the time the next step is step0. */
static void sync_units(const ns_net *net, ns_pop *pop, int into_model, size_t lo, size_t hi, int64_t step0)
{
    if (!pop->lag || !pop->model->sync) return;
    ns_step_args a = {.params = pop->params, .consts = pop->consts, .data = pop->data, .state = pop->state,
                      .n = pop->n, .lo = lo, .hi = hi, .step0 = step0, .dt = net->dt};
    pop->model->sync(&a, into_model);
}

void ns_pop_sync(ns_net *net, ns_pop *pop, int into_model)
{
    sync_units(net, pop, into_model, 0, pop->n, net->step);
}

/* Units [lo, hi) against the bounds their model declares per state variable (ns_state_var.bound):
 * 0, or NS_STEP_FAILED with the first offending unit and variable in pop->err (the first thread
 * to find one writes it). The state is that at the end of the window just stepped. */
static int check_state(ns_pop *pop, size_t lo, size_t hi)
{
    const ns_model *m = pop->model;
    for (int k = 0; k < m->n_state; k++) {
        const ns_state_var *v = &m->state[k];
        const double b = v->bound, *x = pop->state[k];
        int within = 1; /* a branch-free pass the compiler vectorizes; the search only on a failure */
        for (size_t j = lo; j < hi; j++) within &= fabs(x[j]) <= b; /* false for a NaN */
        if (within) continue;
        size_t i = lo;
        while (i < hi && fabs(x[i]) <= b) i++;
        char msg[sizeof pop->err];
        if (isfinite(x[i]))
            snprintf(msg, sizeof msg, "unit %zu: %s = %g %s, beyond the bound |%s| <= %g %s that %s declares", i,
                     v->name, x[i], v->unit, v->name, b, v->unit, m->name);
        else
            snprintf(msg, sizeof msg, "unit %zu: %s is %s (a state must be a finite number)", i, v->name,
                     isnan(x[i]) ? "NaN" : x[i] > 0 ? "+inf" : "-inf");
#pragma omp critical(ns_pop_err)
        if (!pop->err[0]) memcpy(pop->err, msg, sizeof msg);
        return NS_STEP_FAILED;
    }
    return 0;
}

/* Runs ahead of the one being added whose table lines are asked for: they lie anywhere in the
 * synapse tables; far enough to hide a memory access, near enough not to push the row being
 * added to out of the caches. */
enum { HELD_PREFETCH_RUNS = 8 };

/* Both always inlined: GCC finds a function made of nothing but prefetches free of effects and
 * drops the calls to it (gcc 12 at -O1 and above); inlined first, the prefetches stay. */
__attribute__((always_inline)) static inline void prefetch_span(const void *p, size_t bytes)
{
    const char *y = p;
    for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch(y + b);
    __builtin_prefetch(y + bytes - 1); /* the last line, when the run straddles one more */
}

__attribute__((always_inline)) static inline void prefetch_run(const ns_held_run *r)
{
    const ns_held_src *s = r->src;
    if (s->syn16) {
        prefetch_span(s->syn16 + r->j, r->n * sizeof *s->syn16);
        return;
    }
    prefetch_span(s->tgt + r->j, r->n * sizeof *s->tgt);
    if (s->w) prefetch_span(s->w + r->j, r->n * sizeof *s->w);
}

/* The held runs (ns_pop.held) of one block that arrive in steps step0 .. step0 + nsteps - 1,
 * added to their rows in the order they were delivered, and the lists emptied. */
static void release_held(ns_pop *pop, ns_held *held, int64_t step0, int nsteps)
{
    for (int k = 0; k < nsteps; k++) {
        const size_t slot = (size_t)((step0 + k) % (int64_t)pop->ring_len);
        ns_held *h = &held[(step0 + k) % (int64_t)pop->held_len];
        for (size_t q = 0; q < h->n && q < HELD_PREFETCH_RUNS; q++) prefetch_run(&h->run[q]);
        for (size_t q = 0; q < h->n; q++) {
            if (q + HELD_PREFETCH_RUNS < h->n) prefetch_run(&h->run[q + HELD_PREFETCH_RUNS]);
            const ns_held_run *r = &h->run[q];
            const ns_held_src *src = r->src;
            double *pos = pop->input[src->pos] + slot * pop->stride[src->pos] + src->base,
                   *neg = pop->input[src->neg] + slot * pop->stride[src->neg] + src->base;
            if (src->syn16) {
                const ns_held_syn16 *restrict y = src->syn16 + r->j;
                for (uint32_t j = 0; j < r->n; j++) {
                    const double w = y[j].w;
                    (w < 0 ? neg : pos)[y[j].tgt] += w;
                }
            } else if (src->w) {
                const uint32_t *restrict tg = src->tgt + r->j;
                const float *restrict wr = src->w + r->j;
                for (uint32_t j = 0; j < r->n; j++) {
                    const double w = wr[j];
                    (w < 0 ? neg : pos)[tg[j]] += w;
                }
            } else {
                const uint32_t *restrict tg = src->tgt + r->j;
                double *restrict row = src->w0 < 0 ? neg : pos;
                const double w0 = src->w0;
                for (uint32_t j = 0; j < r->n; j++) row[tg[j]] += w0;
            }
        }
        h->n = 0;
    }
}

/* A team step's barrier: every thread of the run (all of them step a team population). */
static void team_barrier(void *ctx)
{
    const ns_net *net = ctx;
    if (net->threads > 1) {
#pragma omp barrier
    }
}

int ns_pop_step(ns_net *net, ns_pop *pop, int tid, int nsteps)
{
    ns_spikebuf *out = &pop->tout[tid];
    out->n = 0;
    double *input[NS_MAX_INPUTS] = {0};
    for (int r = 0; r < pop->model->n_inputs && r < NS_MAX_INPUTS; r++) input[r] = pop->input[r];
    for (int r = 0; r < pop->model->n_inputs && r < NS_MAX_INPUTS; r++) { /* spares the hook rows of zeros */
        const ns_in_port *in = &pop->model->inputs[r];
        if (in->kind == NS_PORT_CONTINUOUS && !in->count_param && !(pop->driven >> r & 1u)) input[r] = NULL;
    }
    ns_step_args a = {
        .params = pop->params,
        .consts = pop->consts,
        .data = pop->data,
        .state = pop->state,
        .n = pop->n,
        .err = pop->err,
        .errlen = sizeof pop->err,
        .step0 = net->step,
        .nsteps = nsteps,
        .dt = net->dt,
        .input = input,
        .events = NULL,
        .lag = pop->lag,
        .ring_len = pop->ring_len,
        .out = out,
    };
    a.stride = pop->stride;
    a.graded = pop->model->n_outputs && pop->model->outputs[0].kind == NS_OUT_GRADED ? pop->graded : NULL;
    a.graded_width = pop->model->n_outputs ? ns_out_port_width(&pop->model->outputs[0]) : 1;
    a.n_channels = pop->n_channels;
    const int b = ns_partition_range(&pop->part, tid, &a.lo, &a.hi);
    if (b >= 0 && pop->sparse) a.events = pop->ev[b];
    if (pop->team) { /* every thread calls the hook, an empty block too: it meets the barriers */
        a.barrier = team_barrier;
        a.barrier_ctx = net;
    }
    if (b >= 0 && pop->held) release_held(pop, pop->held[b], net->step, nsteps);
    if ((a.lo >= a.hi && !pop->team) || !pop->model->step || (nsteps == 0 && !pop->lag)) return 0;
    const size_t own_lo = a.lo, own_hi = a.hi;
    int rc = 0;
    if (!pop->n_runs || pop->unit_consts) {
        a.unit_consts = pop->unit_consts;
        rc = pop->model->step(&a);
    } else { /* each run of equal parameters within [lo, hi) with its own (dense input only) */
        const size_t lo = a.lo, hi = a.hi, ps = pop->model->params_size,
                     cs = pop->model->consts_size ? pop->model->consts_size : 1;
        size_t r = 0;
        while (pop->run_lo[r + 1] <= lo) r++;
        for (; !rc && r < pop->n_runs && pop->run_lo[r] < hi; r++) {
            a.lo = pop->run_lo[r] > lo ? pop->run_lo[r] : lo;
            a.hi = pop->run_lo[r + 1] < hi ? pop->run_lo[r + 1] : hi;
            a.params = pop->run_params + r * ps;
            a.consts = pop->run_consts + r * cs;
            rc = pop->model->step(&a);
        }
    }
    const int chan = ns_model_channel_port(pop->model);
    if (chan >= 0) /* a cell reads its channels without clearing them: consumed here, as rows are */
        for (int k = 0; k < nsteps; k++)
            memset(pop->input[chan] + (size_t)((net->step + k) % (int64_t)pop->ring_len) * (size_t)pop->n_channels, 0,
                   (size_t)pop->n_channels * sizeof(double));
    if (pop->sparse) { /* clear the lists the hook applied; a lagging last one waits */
        const int64_t L = (int64_t)pop->ring_len, upto = nsteps > pop->lag ? nsteps - pop->lag : 0;
        for (int64_t s = net->step - pop->lag; s < net->step + upto; s++)
            pop->ev[b][(size_t)((s + L) % L)].n = 0;
    }
    /* the state against its bounds when the window reaches a multiple of the check period */
    const int64_t every = (int64_t)fmax(1.0, round(NS_STATE_CHECK_MS / net->dt));
    if (!rc && nsteps > 0 && (net->step + nsteps) / every > net->step / every) {
        sync_units(net, pop, 0, own_lo, own_hi, net->step + nsteps); /* a lagging one's public state, current */
        rc = check_state(pop, own_lo, own_hi);
    }
    return rc;
}

void ns_pop_merge(ns_net *net, ns_pop *pop, int nsteps)
{
    size_t total = 0;
    size_t *cnt = pop->step_count;
    int offsets = 0; /* a precise population's spikes carry their offsets */
    memset(cnt, 0, ((size_t)nsteps + 1) * sizeof *cnt);
    for (int t = 0; t < net->threads; t++) {
        const ns_spikebuf *b = &pop->tout[t];
        for (size_t j = 0; j < b->n; j++) cnt[b->step[j] + 1]++;
        total += b->n;
        offsets |= b->n && b->offset;
    }
    pop->win.n = 0;
    if (!total) return;
    if (!offsets && pop->win.offset) { /* consumers take offset != NULL for precise spikes */
        free(pop->win.offset);
        pop->win.offset = NULL;
    }
    if (total > pop->win.cap || (offsets && !pop->win.offset)) {
        const size_t cap = total > pop->win.cap ? total : pop->win.cap;
        ns_spikebuf_release(&pop->win);
        pop->win.unit = malloc(cap * sizeof *pop->win.unit);
        pop->win.step = malloc(cap * sizeof *pop->win.step);
        if (offsets) pop->win.offset = malloc(cap * sizeof *pop->win.offset);
        if (!pop->win.unit || !pop->win.step || (offsets && !pop->win.offset)) {
            ns_spikebuf_release(&pop->win);
            return; /* spikes of this window are lost; ns_net_run reports it */
        }
        pop->win.cap = cap;
    }
    for (int k = 0; k < nsteps; k++) cnt[k + 1] += cnt[k];
    /* Threads own ascending unit ranges and emit in (step, unit) order, so a stable counting
     * sort by step, taking threads in order, yields (step, unit) order. */
    for (int t = 0; t < net->threads; t++) {
        const ns_spikebuf *b = &pop->tout[t];
        for (size_t j = 0; j < b->n; j++) {
            size_t at = cnt[b->step[j]]++;
            pop->win.unit[at] = b->unit[j];
            pop->win.step[at] = b->step[j];
            if (offsets) pop->win.offset[at] = b->offset ? b->offset[j] : net->dt;
        }
    }
    pop->win.n = total;
    pop->n_spikes += (int64_t)total;
}

size_t ns_pop_inputs(const ns_pop *pop)
{
    const ns_model *m = pop->model;
    const int port = ns_model_channel_port(m);
    if (port < 0) return pop->n;
    size_t n = (size_t)ns_model_get_param(m, pop->params, ns_model_param_index(m, m->inputs[port].count_param));
    /* a cell stepped by its signal's own time stamps (cfc, ltc: timespans = 1) reads them in one more channel */
    int ts = ns_model_param_index(m, "timespans");
    return n + (ts >= 0 && ns_model_get_param(m, pop->params, ts) != 0);
}
