/* sim/net.c — the network and the engine loop. The run advances in windows of d_min steps (the
 * smallest delay): inside a window no population can affect another, so each thread steps its
 * own units of every population; at the window's end spikes are merged, delivered into ring
 * buffers at t + delay (each thread writes only its own targets) and recorded. One parallel
 * region spans the whole run; barriers separate the phases. */
#include "sim/net_types.h"
#include "sim/plastic.h"

#include "models/spike_source.h"
#include "base/files.h"
#include "sim/rules.h"
#include "sim/checkpoint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define GROW(net, arr, count)                                                       \
    do {                                                                            \
        void *grown_ = realloc((arr), ((size_t)(count) + 1) * sizeof *(arr));      \
        if (!grown_) return ns_error((net)->ctx, NS_ENOMEM, "out of memory");       \
        (arr) = grown_;                                                             \
    } while (0)

ns_net *ns_net_create(ns_ctx *ctx, double dt_ms)
{
    if (!(dt_ms >= NS_DT_MIN_MS && dt_ms <= NS_DT_MAX_MS)) { /* time stamps need dt >= 1e-9 ms */
        ns_error(ctx, NS_EINVAL, "dt must be within [%g, %g] ms, got %g", NS_DT_MIN_MS, NS_DT_MAX_MS, dt_ms);
        return NULL;
    }
    ns_net *net = calloc(1, sizeof *net);
    if (!net) {
        ns_error(ctx, NS_ENOMEM, "out of memory");
        return NULL;
    }
    net->ctx = ctx;
    if (!(net->transport = ns_transport_default())) { /* MPI's when run as several ranks */
        free(net);
        ns_error(ctx, NS_ENOMEM, "out of memory");
        return NULL;
    }
    net->ordinal = ns_ctx_next_network(ctx);
    net->dt = dt_ms;
    net->threads = ns_ctx_threads(ctx);
    net->rebalance_every = NS_REBALANCE_WINDOWS;
    /* Record times as integers of 10^-d ms, d the decimals dt needs (at most 9). */
    net->time_decimals = 9;
    for (int d = 0; d <= 9; d++) {
        double scaled = dt_ms * pow(10.0, d);
        if (fabs(scaled - round(scaled)) < 1e-6 * scaled) {
            net->time_decimals = d;
            break;
        }
    }
    net->time_tick = (int64_t)llround(dt_ms * pow(10.0, net->time_decimals));
    return net;
}

void ns_net_free(ns_net *net)
{
    if (!net) return;
    for (int k = 0; k < net->nrecs; k++) ns_recorder_close(net->recs[k]);
    for (int k = 0; k < net->ndevs; k++) ns_device_delete(net->devs[k]);
    for (int k = 0; k < net->nprojs; k++) ns_proj_delete(net->projs[k]);
    for (int k = 0; k < net->npops; k++) ns_pop_delete(net->pops[k], net->threads);
    free(net->recs);
    free(net->devs);
    free(net->projs);
    free(net->pops);
    ns_transport_free(net->transport);
    ns_checkpoint_hist_free(net->ckpt_hist);
    free(net);
}

double ns_net_dt(const ns_net *net) { return net->dt; }
ns_ctx *ns_net_ctx(const ns_net *net) { return net->ctx; }
double ns_net_time(const ns_net *net) { return (double)net->step * net->dt; }
size_t ns_net_n_units(const ns_net *net) { return net->n_units; }
double ns_net_build_seconds(const ns_net *net) { return net->build_s; }
double ns_net_simulate_seconds(const ns_net *net) { return net->simulate_s; }
void ns_net_exchange_stats(const ns_net *net, double *seconds, int64_t *bytes, int64_t *windows)
{
    *seconds = net->transport->exchange_s;
    *bytes = net->transport->bytes_sent;
    *windows = net->transport->windows;
}
int ns_net_window_steps(const ns_net *net) { return net->window; }
int ns_net_n_populations(const ns_net *net) { return net->npops; }
ns_pop *ns_net_population(const ns_net *net, int k) { return net->pops[k]; }

size_t ns_net_n_synapses(const ns_net *net)
{
    size_t n = 0;
    for (int k = 0; k < net->nprojs; k++) n += net->projs[k]->n_syn;
    return n;
}

size_t ns_net_synapse_bytes(const ns_net *net)
{
    size_t bytes = 0;
    for (int k = 0; k < net->nprojs; k++) {
        const ns_proj *pr = net->projs[k];
        const ns_csr *c = &pr->block[0];
        for (int b = 1; !c->row && b < pr->tgt_blocks; b++) c = &pr->block[b]; /* one this rank keeps */
        size_t per = (c->syn16 ? sizeof(uint16_t) : sizeof(uint32_t)) + (ns_csr_has_weights(c) ? sizeof(float) : 0) + (c->wd ? sizeof(double) : 0) + (c->d ? sizeof(uint16_t) : c->d8 ? sizeof(uint8_t) : 0);
        bytes += pr->n_syn * per + (size_t)pr->tgt_blocks * (pr->src->n + 1) * sizeof(size_t);
    }
    return bytes + net->run_bytes; /* the held projections' runs, every rank's */
}

int64_t ns_net_n_spikes(const ns_net *net)
{
    int64_t n = 0;
    for (int k = 0; k < net->npops; k++) n += net->pops[k]->n_spikes;
    return n;
}

/* The most steps a time may stand for: a record's time stamp (steps times time_tick) and the
 * step counter plus a window and the longest delay must fit in an int64_t, with room to spare. */
static int64_t max_steps(const ns_net *net) { return (INT64_MAX / 4) / net->time_tick; }

/* The longest time (ms) that max_steps allows: the upper end of every time's range. */
static double max_ms(const ns_net *net) { return (double)max_steps(net) * net->dt; }

/* Steps of a time t_ms >= 0 (ms), rounded to the grid of dt; -1 when it is not finite, negative
 * or beyond max_ms (so that no conversion overflows). */
static int64_t time_steps(const ns_net *net, double t_ms)
{
    double steps = t_ms / net->dt;
    if (!(steps >= 0) || !(steps <= (double)max_steps(net))) return -1;
    return (int64_t)llround(steps);
}

/* Steps of a time in ms on the grid of dt; -1 when it is not within 1e-6 of a grid point, -2
 * when it is beyond max_ms (or below -max_ms). */
static int64_t ns_net_steps_exact(const ns_net *net, double t_ms)
{
    double steps = t_ms / net->dt;
    if (!isfinite(steps) || fabs(steps - round(steps)) > 1e-6 * fmax(1.0, fabs(steps))) return -1;
    if (fabs(steps) > (double)max_steps(net)) return -2;
    return (int64_t)llround(steps);
}

int64_t ns_net_steps_of(const ns_net *net, double t_ms) { return ns_net_steps_exact(net, t_ms); }

static int check_open(ns_net *net, const char *what)
{
    if (net->finalized)
        return ns_error(net->ctx, NS_ESTATE, "cannot add %s after the first run: the network is fixed then", what);
    return NS_OK;
}

static ns_pop *add_pop(ns_net *net, const ns_model *m, size_t n, const char *name)
{
    if (check_open(net, "a population")) return NULL;
    if (n == 0 || n > UINT32_MAX) {
        ns_error(net->ctx, NS_EINVAL, "population size must be between 1 and %u, got %zu", UINT32_MAX, n);
        return NULL;
    }
    char defname[64], lim[256];
    if (ns_model_check_limits(m, lim, sizeof lim)) {
        ns_error(net->ctx, NS_EINVAL, "%s", lim);
        return NULL;
    }
    if (!name || !*name) {
        snprintf(defname, sizeof defname, "%s%d", m->name, net->npops);
        name = defname;
    }
    for (int k = 0; k < net->npops; k++)
        if (strcmp(net->pops[k]->name, name) == 0) {
            ns_error(net->ctx, NS_EINVAL, "a population named '%s' exists already", name);
            return NULL;
        }
    ns_pop **grown = realloc(net->pops, (size_t)(net->npops + 1) * sizeof *grown);
    if (!grown) {
        ns_error(net->ctx, NS_ENOMEM, "out of memory");
        return NULL;
    }
    net->pops = grown;
    ns_pop *pop = ns_pop_new(net, m, n, name);
    if (!pop) {
        ns_error(net->ctx, NS_ENOMEM, "out of memory for %zu units of %s", n, m->name);
        return NULL;
    }
    pop->id = net->npops;
    pop->first_id = net->n_units;
    net->n_units += n;
    net->pops[net->npops++] = pop;
    return pop;
}

ns_pop *ns_net_add_population_of(ns_net *net, const ns_model *m, size_t n, const char *name)
{
    if (!m || m->version != NS_MODEL_VERSION) {
        ns_error(net->ctx, NS_EINVAL, "a model descriptor of version %d is needed", NS_MODEL_VERSION);
        return NULL;
    }
    return add_pop(net, m, n, name);
}

ns_pop *ns_net_add_population(ns_net *net, const char *model, size_t n, const char *name)
{
    const ns_model *m = ns_model_find(model);
    if (!m) {
        ns_error(net->ctx, NS_EINVAL, "unknown model '%s' (nsim models lists them)", model);
        return NULL;
    }
    if (m->kind == NS_KIND_SOURCE) {
        ns_error(net->ctx, NS_EINVAL, "model '%s' is made with spike_source{...}", model);
        return NULL;
    }
    return add_pop(net, m, n, name);
}

ns_pop *ns_net_add_spike_source(ns_net *net, size_t n, const size_t *offset, const double *times_ms,
                                const char *name)
{
    size_t total = offset[n];
    int64_t *steps = malloc((total ? total : 1) * sizeof *steps);
    if (!steps) {
        ns_error(net->ctx, NS_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t j = 0; j < total; j++) {
        double t = times_ms[j];
        if (t >= 0 && t < net->dt * (1 - 1e-9)) {
            ns_error(net->ctx, NS_EINVAL,
                     "spike time %g ms is before dt (%g ms): nsim stamps a spike at the end of the step that emits "
                     "it (as NEST does); add dt to times stamped at the step's start (as Brian2's are)",
                     t, net->dt);
            free(steps);
            return NULL;
        }
        if (!(t >= net->dt * (1 - 1e-9) && t <= max_ms(net))) {
            ns_error(net->ctx, NS_EINVAL, "spike time %g ms is outside [%g, %g] ms (from dt to the longest time "
                     "the step counter holds)", t, net->dt, max_ms(net));
            free(steps);
            return NULL;
        }
        steps[j] = time_steps(net, t) - 1; /* emitted in that step, stamped at its end */
    }
    ns_spike_source_data *data = ns_spike_source_data_create(n, offset, steps, times_ms);
    free(steps);
    if (!data) {
        ns_error(net->ctx, NS_ENOMEM, "out of memory");
        return NULL;
    }
    ns_pop *pop = add_pop(net, ns_model_find("spike_source"), n, name);
    if (!pop) {
        ns_spike_source_data_free(data);
        return NULL;
    }
    pop->data = data;
    return pop;
}

static int check_delay(ns_net *net, const ns_dist *d)
{
    double lo = ns_dist_min(d), hi = ns_dist_max(d), least = net->dt;
    if (d->kind == NS_DIST_NORMAL) lo = hi = d->a; /* its draws are clipped to [1, 65535] steps */
    if (d->kind == NS_DIST_NORMAL_REDRAW) {
        least = 0.5 * net->dt;          /* a draw from dt/2 up rounds to one step or more */
        if (!isfinite(hi)) hi = d->a;   /* the rare draws beyond 65535 steps are clipped */
    }
    if (!isfinite(d->a) || !isfinite(d->b) || !(lo >= least * (1 - 1e-9)))
        return ns_error(net->ctx, NS_EINVAL, "delay %g ms is shorter than %s (%g ms)", lo,
                        least < net->dt ? "dt/2, a redrawn normal's least" : "dt", least);
    if (hi / net->dt > 65535)
        return ns_error(net->ctx, NS_EINVAL, "delay %g ms is longer than 65535 steps (%g ms at dt = %g ms)", hi,
                        65535 * net->dt, net->dt);
    return NS_OK;
}

/* A list rule's pairs: indices inside the populations (pair numbers 0-based, as the indices),
 * finite weights, delays of at least dt. */
static int check_pairs(ns_net *net, const ns_pop *src, const ns_pop *tgt, size_t tgt_n, const ns_conn_spec *s)
{
    if (s->n_pairs && (!s->pre || !s->post)) return ns_error(net->ctx, NS_EINVAL, "connection list without its units");
    for (size_t k = 0; k < s->n_pairs; k++) {
        if (s->pre[k] >= src->n)
            return ns_error(net->ctx, NS_EINVAL, "connection %zu: pre %u is outside %s (%zu units)", k, s->pre[k],
                            src->name, src->n);
        if (s->post[k] >= tgt_n)
            return ns_error(net->ctx, NS_EINVAL, "connection %zu: post %u is outside %s (%zu %s)", k, s->post[k],
                            tgt->name, tgt_n, ns_model_channel_port(tgt->model) >= 0 ? "input channels" : "units");
        if (s->weights && !isfinite(s->weights[k]))
            return ns_error(net->ctx, NS_EINVAL, "connection %zu: weight is not a finite number", k);
        if (s->delays) {
            ns_dist d = {.kind = NS_DIST_CONST, .a = s->delays[k], .b = 0};
            int rc = check_delay(net, &d);
            if (rc) return ns_error(net->ctx, rc, "connection %zu: %s", k, ns_ctx_errmsg(net->ctx));
        }
    }
    return NS_OK;
}

int ns_pop_set_geometry(ns_net *net, ns_pop *pop, ns_geom *g)
{
    if (!g) return NS_EINVAL; /* its maker left the message */
    int rc = check_open(net, "a geometry");
    if (!rc && pop->geom) rc = ns_error(net->ctx, NS_EINVAL, "population %s has a geometry already", pop->name);
    if (!rc && g->n != pop->n)
        rc = ns_error(net->ctx, NS_EINVAL, "a %s of %zu units for population %s of %zu", ns_geom_kind_name(g), g->n,
                      pop->name, pop->n);
    if (rc) {
        ns_geom_free(g);
        return rc;
    }
    pop->geom = g;
    return NS_OK;
}

const ns_geom *ns_pop_geometry(const ns_pop *pop) { return pop->geom; }

/* Build pr's table from its spec; the caller's lists in the spec are read by the build only and
 * forgotten after it. On failure pr is deleted. */
static int build_table(ns_net *net, ns_proj *pr)
{
    int rc = ns_proj_build(net, pr);
    pr->spec.pre = pr->spec.post = NULL;
    pr->spec.weights = pr->spec.delays = NULL;
    if (rc) ns_proj_delete(pr);
    return rc;
}

int ns_net_connect(ns_net *net, ns_pop *src, ns_pop *tgt, const ns_conn_spec *spec)
{
    int rc = check_open(net, "a projection");
    if (rc) return rc;
    size_t tgt_n = ns_pop_inputs(tgt); /* spikes into a continuous population go to its input channels */
    /* spikes go to the event port of the weight's sign, or a cell's channels */
    const int chan = ns_model_channel_port(tgt->model);
    int pos = chan >= 0 ? chan : ns_model_event_port(tgt->model, +1);
    int neg = chan >= 0 ? chan : ns_model_event_port(tgt->model, -1);
    if (chan < 0 && pos < 0 && neg < 0) /* a field: each spike adds its weight to the source of its site */
        pos = neg = ns_model_graded_port(tgt->model, 1);
    if (pos < 0 || neg < 0)
        return ns_error(net->ctx, NS_EINVAL, "population %s (%s) cannot receive spikes", tgt->name, tgt->model->name);
    const ns_out_port *out = ns_model_output(src->model);
    if (!out || out->kind != NS_OUT_SPIKES)
        return ns_error(net->ctx, NS_EINVAL, "population %s (%s) emits no spikes%s", src->name, src->model->name,
                        out ? ": its output projects through a graded projection" : "");
    if (spec->rule == NS_RULE_BERNOULLI && !(spec->p >= 0.0 && spec->p <= 1.0))
        return ns_error(net->ctx, NS_EINVAL, "connection probability p = %g is outside [0, 1]", spec->p);
    if ((spec->rule == NS_RULE_FIXED_INDEGREE || spec->rule == NS_RULE_FIXED_OUTDEGREE) &&
        (spec->K < 0 || spec->K > UINT32_MAX))
        return ns_error(net->ctx, NS_EINVAL, "K = %ld partners per unit is outside [0, %u]", spec->K, UINT32_MAX);
    if ((spec->rule == NS_RULE_FIXED_INDEGREE || spec->rule == NS_RULE_FIXED_OUTDEGREE) && spec->K > 0 &&
        !spec->autapses && src == tgt && src->n < 2)
        return ns_error(net->ctx, NS_EINVAL, "K = %ld partners without autapses need at least 2 units in %s", spec->K,
                        src->name);
    if (spec->rule == NS_RULE_ONE_TO_ONE && src->n != tgt_n)
        return ns_error(net->ctx, NS_EINVAL, "one_to_one needs equal sizes, got %zu and %zu%s", src->n, tgt_n,
                        ns_model_channel_port(tgt->model) >= 0 ? " input channels" : "");
    if (!isfinite(spec->weight.a) || !isfinite(spec->weight.b))
        return ns_error(net->ctx, NS_EINVAL, "weight must be finite");
    if ((rc = check_delay(net, &spec->delay))) return rc;
    if (spec->rule == NS_RULE_LIST && (rc = check_pairs(net, src, tgt, tgt_n, spec))) return rc;
    if (ns_rules_owns(spec)) { /* sim/rules.c: shapes and counts */
        ns_rule_job job = {spec, src->n, tgt_n, src->geom, tgt->geom, src->name, tgt->name, src == tgt, 0, 0};
        if ((rc = ns_rules_check(net->ctx, &job))) return rc;
    }
    double t0 = ns_wall_seconds();
    GROW(net, net->projs, net->nprojs); /* before pr exists, so that a failure leaks nothing */
    ns_proj *pr = calloc(1, sizeof *pr);
    if (!pr) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    pr->id = net->nprojs;
    pr->src = src;
    pr->tgt = tgt;
    pr->spec = *spec;
    pr->delay_const = (int)llround(spec->delay.a / net->dt);
    pr->tgt_n = tgt_n;
    pr->tgt_blocks = tgt->part.nblocks; /* a table per block of the target */
    pr->port_pos = pos;
    pr->port_neg = neg;
    pr->plastic = NULL;
    if (spec->synapse) { /* plastic: weights stored per synapse, the rule set up once they are drawn */
        if ((rc = ns_stdp_check(net->ctx, spec->synapse))) {
            free(pr);
            return rc;
        }
    }
    if ((rc = build_table(net, pr))) return rc;
    if (spec->synapse && (rc = ns_plastic_new(net, pr, spec->synapse))) {
        ns_proj_delete(pr);
        return rc;
    }
    pr->spec.synapse = NULL; /* the caller's; pr->plastic holds its copy */
    net->projs[net->nprojs++] = pr;
    net->build_s += ns_wall_seconds() - t0;
    return NS_OK;
}

int ns_net_connect_graded(ns_net *net, ns_pop *src, ns_pop *tgt, const double *w, double delay_ms)
{
    ns_graded_spec spec = {.w = w, .delay_ms = delay_ms};
    return ns_net_connect_graded_spec(net, src, tgt, &spec);
}

/* The dense table of a graded projection: every target of each block in every row, the weights
 * (w[i * src_n + j], target i from source j) in double. 0, or -1 when memory runs out. */
static int dense_graded_table(ns_proj *pr, const double *w)
{
    const ns_pop *src = pr->src, *tgt = pr->tgt;
    if (!(pr->block = calloc((size_t)pr->tgt_blocks, sizeof *pr->block))) return -1;
    for (int b = 0; b < pr->tgt_blocks; b++) {
        ns_csr *c = &pr->block[b];
        if (!ns_partition_keeps(&tgt->part, b)) continue; /* another rank's block */
        const size_t lo = pr->tgt_blocks == 1 ? 0 : tgt->part.lo[b], hi = pr->tgt_blocks == 1 ? pr->tgt_n : tgt->part.lo[b + 1];
        const size_t m = hi - lo;
        if (!(c->row = malloc((src->n + 1) * sizeof *c->row)) || !(c->tgt = malloc((src->n * m + 1) * sizeof *c->tgt)) ||
            !(c->wd = malloc((src->n * m + 1) * sizeof *c->wd)))
            return -1;
        for (size_t j = 0; j <= src->n; j++) c->row[j] = j * m;
        for (size_t j = 0; j < src->n; j++)
            for (size_t i = lo; i < hi; i++) {
                c->tgt[j * m + i - lo] = (uint32_t)(i - lo);
                c->wd[j * m + i - lo] = w[i * src->n + j];
            }
    }
    pr->n_syn = pr->tgt_n * src->n;
    return 0;
}

int ns_net_connect_graded_spec(ns_net *net, ns_pop *src, ns_pop *tgt, const ns_graded_spec *gs)
{
    int rc = check_open(net, "a projection");
    if (rc) return rc;
    const ns_out_port *out = ns_model_output(src->model);
    if (!out)
        return ns_error(net->ctx, NS_EINVAL, "population %s (%s) has no output for a graded projection", src->name,
                        src->model->name);
    /* the components carried: all of them into a port as wide, or one picked into a one-wide port */
    const int src_w = out->kind == NS_OUT_GRADED ? ns_out_port_width(out) : 1;
    if (gs->pick && !(gs->component >= 0 && gs->component < src_w))
        return ns_error(net->ctx, NS_EINVAL, "component %d of %s's output %s is outside [0, %d]", gs->component,
                        src->name, out->name, src_w - 1);
    const int width = gs->pick ? 1 : src_w;
    const ns_model *tm = tgt->model;
    const int port = ns_model_graded_port(tm, width);
    if (port < 0 && width > 1)
        return ns_error(net->ctx, NS_EINVAL, "population %s (%s) has no input %d values wide for the %d components of "
                        "%s's output %s (pick one with a component)", tgt->name, tm->name, width, width, src->name,
                        out->name);
    if (port < 0)
        return ns_error(net->ctx, NS_EINVAL, "population %s (%s) cannot receive a graded projection", tgt->name, tm->name);
    ns_dist d = {.kind = NS_DIST_CONST, .a = gs->delay_ms, .b = 0};
    if ((rc = check_delay(net, &d))) return rc;
    const size_t tgt_n = ns_pop_inputs(tgt), nw = tgt_n * src->n;
    ns_conn_spec list = {.rule = NS_RULE_LIST, .weight = {NS_DIST_CONST, 1.0, 0}, .delay = d, .n_pairs = gs->n_edges,
                         .pre = gs->pre, .post = gs->post, .weights = gs->weights, .delays = gs->delays};
    if (gs->rule) {
        if (!ns_rules_owns(gs->rule) || gs->rule->weight.kind != NS_DIST_CONST || !isfinite(gs->rule->weight.a))
            return ns_error(net->ctx, NS_EINVAL, "a graded projection by rule %s takes one finite weight",
                            ns_rules_name(gs->rule->rule));
        ns_rule_job job = {gs->rule, src->n, tgt_n, src->geom, tgt->geom, src->name, tgt->name, src == tgt, 0, 0};
        if ((rc = ns_rules_check(net->ctx, &job))) return rc;
        list = *gs->rule;
        list.delay = d;
    } else if (gs->w) {
        for (size_t k = 0; k < nw; k++)
            if (!isfinite(gs->w[k])) return ns_error(net->ctx, NS_EINVAL, "graded weight %zu is not a finite number", k);
    } else if ((rc = check_pairs(net, src, tgt, tgt_n, &list))) {
        return rc;
    }
    GROW(net, net->projs, net->nprojs);
    ns_proj *pr = calloc(1, sizeof *pr);
    if (!pr) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    pr->graded = 1;
    pr->port_pos = pr->port_neg = port;
    pr->src_comp = gs->pick ? gs->component : 0;
    pr->n_comp = width;
    pr->id = net->nprojs;
    pr->src = src;
    pr->tgt = tgt;
    pr->tgt_n = tgt_n;
    pr->tgt_blocks = tgt->part.nblocks;
    pr->delay_const = (int)llround(gs->delay_ms / net->dt);
    pr->dmin = pr->dmax = pr->delay_const;
    if (gs->w) {
        if (dense_graded_table(pr, gs->w)) {
            ns_proj_delete(pr);
            return ns_error(net->ctx, NS_ENOMEM, "out of memory");
        }
    } else { /* the edges (or the rule) through the rule builder, as a list rule's pairs; weights in double */
        pr->spec = list;
        if ((rc = build_table(net, pr))) return rc;
        if (!pr->n_syn) pr->dmin = pr->dmax = pr->delay_const;
    }
    net->projs[net->nprojs++] = pr;
    return NS_OK;
}

static int add_device(ns_net *net, ns_device *dev)
{
    GROW(net, net->devs, net->ndevs);
    dev->id = net->ndevs;
    net->devs[net->ndevs++] = dev;
    return NS_OK;
}

int ns_net_add_poisson(ns_net *net, ns_pop *tgt, double rate_hz, double weight, double start_ms,
                       double stop_ms)
{
    int rc = check_open(net, "a device");
    if (rc) return rc;
    if (ns_model_event_port(tgt->model, weight) < 0)
        return ns_error(net->ctx, NS_EINVAL, "population %s cannot receive spikes", tgt->name);
    if (!isfinite(rate_hz) || rate_hz < 0 || rate_hz * net->dt * 1e-3 > 500)
        return ns_error(net->ctx, NS_EINVAL, "Poisson rate %g Hz must be >= 0 and below %g Hz at this dt",
                        rate_hz, 500 / (net->dt * 1e-3));
    if (!isfinite(weight)) return ns_error(net->ctx, NS_EINVAL, "Poisson weight must be finite");
    if (!(start_ms >= 0) || !(stop_ms >= start_ms))
        return ns_error(net->ctx, NS_EINVAL, "Poisson start %g and stop %g ms must satisfy 0 <= start <= stop",
                        start_ms, stop_ms);
    if (time_steps(net, start_ms) < 0 || (!isinf(stop_ms) && time_steps(net, stop_ms) < 0))
        return ns_error(net->ctx, NS_EINVAL, "Poisson start %g and stop %g ms must be within [0, %g] ms (the longest "
                        "time the step counter holds; leave stop out for no end)", start_ms, stop_ms, max_ms(net));
    ns_device *dev = calloc(1, sizeof *dev);
    if (!dev) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    dev->kind = NS_DEV_POISSON;
    dev->tgt = tgt;
    dev->rate_hz = rate_hz;
    dev->weight = weight;
    dev->start = time_steps(net, start_ms);
    dev->stop = isinf(stop_ms) ? INT64_MAX : time_steps(net, stop_ms);
    if (ns_device_plan_poisson(dev, net->dt)) rc = ns_error(net->ctx, NS_ENOMEM, "out of memory");
    if (rc || (rc = add_device(net, dev))) ns_device_delete(dev);
    return rc;
}

/* A device of piecewise-constant input: n changes, each a step and `values` numbers (amps).
 * NULL with a message when memory runs out. */
static ns_device *new_changes(ns_net *net, ns_dev_kind kind, ns_pop *tgt, int n, int values)
{
    ns_device *dev = calloc(1, sizeof *dev);
    if (dev) {
        dev->kind = kind;
        dev->tgt = tgt;
        dev->n = n;
        dev->steps = malloc((size_t)(n ? n : 1) * sizeof *dev->steps);
        dev->amps = malloc((size_t)(n ? n : 1) * (size_t)values * sizeof *dev->amps);
    }
    if (!dev || !dev->steps || !dev->amps) {
        ns_device_delete(dev);
        ns_error(net->ctx, NS_ENOMEM, "out of memory");
        return NULL;
    }
    return dev;
}

int ns_net_add_current(ns_net *net, ns_pop *tgt, int n, const double *times_ms, const double *amps_pa)
{
    int rc = check_open(net, "a device");
    if (rc) return rc;
    if (ns_model_current_port(tgt->model) < 0)
        return ns_error(net->ctx, NS_EINVAL, "population %s (%s) takes no current", tgt->name, tgt->model->name);
    ns_device *dev = new_changes(net, NS_DEV_CURRENT, tgt, n, 1);
    if (!dev) return NS_ENOMEM;
    for (int k = 0; k < n; k++) {
        if (time_steps(net, times_ms[k]) < 0 || !isfinite(amps_pa[k]) || (k && times_ms[k] < times_ms[k - 1])) {
            ns_device_delete(dev);
            return ns_error(net->ctx, NS_EINVAL,
                            "current change %d (t = %g ms, %g pA): times must be within [0, %g] ms and increasing, "
                            "amplitudes finite", k + 1, times_ms[k], amps_pa[k], max_ms(net));
        }
        dev->steps[k] = time_steps(net, times_ms[k]);
        dev->amps[k] = amps_pa[k];
    }
    if ((rc = add_device(net, dev))) ns_device_delete(dev);
    return rc;
}

int ns_net_add_signal(ns_net *net, ns_pop *tgt, int n, const double *times_ms, const double *values, int channels)
{
    int rc = check_open(net, "a device");
    if (rc) return rc;
    const ns_model *m = tgt->model;
    if (ns_model_channel_port(m) < 0)
        return ns_error(net->ctx, NS_EINVAL, "population %s (%s) takes no signal", tgt->name, m->name);
    int want = (int)ns_pop_inputs(tgt);
    if (channels != want)
        return ns_error(net->ctx, NS_EINVAL, "signal of %d channels into %s, which has %d inputs", channels, tgt->name, want);
    if (n < 1) return ns_error(net->ctx, NS_EINVAL, "a signal needs at least one sample");
    for (int k = 0; k < net->ndevs; k++)
        if (net->devs[k]->kind == NS_DEV_SIGNAL && net->devs[k]->tgt == tgt)
            return ns_error(net->ctx, NS_EINVAL, "population %s has a signal already", tgt->name);
    ns_device *dev = new_changes(net, NS_DEV_SIGNAL, tgt, n, channels);
    if (!dev) return NS_ENOMEM;
    dev->channels = channels;
    for (int k = 0; k < n; k++) {
        if (time_steps(net, times_ms[k]) < 0 || (k && times_ms[k] < times_ms[k - 1])) {
            ns_device_delete(dev);
            return ns_error(net->ctx, NS_EINVAL, "signal sample %d: time %g ms must be within [0, %g] ms and not "
                            "before the sample before it", k + 1, times_ms[k], max_ms(net));
        }
        for (int c = 0; c < channels; c++)
            if (!isfinite(values[(size_t)k * (size_t)channels + (size_t)c])) {
                ns_device_delete(dev);
                return ns_error(net->ctx, NS_EINVAL, "signal sample %d, channel %d is not a finite number", k + 1, c + 1);
            }
        dev->steps[k] = time_steps(net, times_ms[k]);
    }
    memcpy(dev->amps, values, (size_t)n * (size_t)channels * sizeof *values);
    if ((rc = add_device(net, dev))) ns_device_delete(dev);
    return rc;
}

int ns_net_device_add(ns_net *net, ns_device *dev)
{
    int rc = check_open(net, "a device");
    return rc ? rc : add_device(net, dev);
}

int64_t ns_net_time_steps(const ns_net *net, double t_ms) { return time_steps(net, t_ms); }
double ns_net_max_ms(const ns_net *net) { return max_ms(net); }

ns_recorder *ns_recorder_new(ns_net *net, ns_rec_kind kind, ns_pop *const *pops, int n, const char *file)
{
    if (check_open(net, "a recorder")) return NULL;
    if (!file || !*file || strchr(file, '/') || strlen(file) >= sizeof((ns_recorder *)0)->file) {
        ns_error(net->ctx, NS_EINVAL, "recorder file name '%s' must be a plain file name", file ? file : "");
        return NULL;
    }
    for (int k = 0; k < net->nrecs; k++)
        if (strcmp(net->recs[k]->file, file) == 0 || ns_plastic_rec_writes(net->recs[k]->wrec, file)) {
            ns_error(net->ctx, NS_EINVAL, "two recorders write %s", file);
            return NULL;
        }
    if (n < 1) {
        ns_error(net->ctx, NS_EINVAL, "a recorder needs at least one population");
        return NULL;
    }
    ns_recorder *rec = calloc(1, sizeof *rec);
    ns_recorder **grown = realloc(net->recs, (size_t)(net->nrecs + 1) * sizeof *grown);
    if (grown) net->recs = grown;
    if (rec) rec->pops = malloc((size_t)n * sizeof *rec->pops);
    if (!rec || !grown || !rec->pops) {
        if (rec) free(rec->pops);
        free(rec);
        ns_error(net->ctx, NS_ENOMEM, "out of memory");
        return NULL;
    }
    rec->kind = kind;
    snprintf(rec->file, sizeof rec->file, "%s", file);
    memcpy(rec->pops, pops, (size_t)n * sizeof *pops);
    rec->npops = n;
    net->recs[net->nrecs++] = rec;
    return rec;
}

static int cmp_pop_id(const void *a, const void *b)
{
    const ns_pop *x = *(ns_pop *const *)a, *y = *(ns_pop *const *)b;
    return (x->first_id > y->first_id) - (x->first_id < y->first_id);
}

int ns_net_record_spikes(ns_net *net, ns_pop *const *pops, int n, const char *file)
{
    for (int k = 0; k < n; k++)
        for (int j = 0; j < k; j++)
            if (pops[j] == pops[k])
                return ns_error(net->ctx, NS_EINVAL, "population %s is listed twice", pops[k]->name);
    ns_recorder *rec = ns_recorder_new(net, NS_REC_SPIKES, pops, n, file);
    if (!rec) return NS_EINVAL;
    qsort(rec->pops, (size_t)n, sizeof *rec->pops, cmp_pop_id);
    return NS_OK;
}

int ns_net_record_states(ns_net *net, ns_pop *const *pops, int npops, const char *const *vars, int nvars,
                         const size_t *units, size_t nunits, double interval_ms, const char *file)
{
    int64_t every = ns_net_steps_exact(net, interval_ms);
    if (every < 1)
        return ns_error(net->ctx, NS_EINVAL, "interval %g ms must be a positive multiple of dt (%g ms), at most %g ms",
                        interval_ms, net->dt, max_ms(net));
    if (nvars < 1) return ns_error(net->ctx, NS_EINVAL, "record_state needs at least one variable");
    if (npops < 1) return ns_error(net->ctx, NS_EINVAL, "a recorder needs at least one population");
    for (int k = 0; k < npops; k++)
        for (int j = 0; j < k; j++)
            if (pops[j] == pops[k]) return ns_error(net->ctx, NS_EINVAL, "population %s is listed twice", pops[k]->name);
    ns_pop *sorted[256];
    if (npops > (int)(sizeof sorted / sizeof sorted[0]))
        return ns_error(net->ctx, NS_EINVAL, "record_state takes at most %d populations, got %d",
                        (int)(sizeof sorted / sizeof sorted[0]), npops);
    memcpy(sorted, pops, (size_t)npops * sizeof *pops);
    qsort(sorted, (size_t)npops, sizeof *sorted, cmp_pop_id);
    size_t rows = 0;
    for (int k = 0; k < npops; k++) {
        for (size_t u = 0; units && u < nunits; u++)
            if (units[u] >= sorted[k]->n)
                return ns_error(net->ctx, NS_EINVAL, "unit %zu is outside population %s (0 .. %zu)", units[u],
                                sorted[k]->name, sorted[k]->n - 1);
        rows += units ? nunits : sorted[k]->n;
    }
    int *vi = malloc((size_t)npops * (size_t)nvars * sizeof *vi);
    size_t *ui = malloc((rows ? rows : 1) * sizeof *ui);
    int *up = malloc((rows ? rows : 1) * sizeof *up);
    if (!vi || !ui || !up) {
        free(vi);
        free(ui);
        free(up);
        return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    }
    size_t r = 0;
    for (int k = 0; k < npops; k++) {
        for (int v = 0; v < nvars; v++)
            if ((vi[k * nvars + v] = ns_model_state_index(sorted[k]->model, vars[v])) < 0) {
                free(vi);
                free(ui);
                free(up);
                return ns_error(net->ctx, NS_EINVAL, "population %s: model %s has no state variable '%s'",
                                sorted[k]->name, sorted[k]->model->name, vars[v]);
            }
        for (size_t u = 0; u < (units ? nunits : sorted[k]->n); u++, r++) {
            ui[r] = units ? units[u] : u;
            up[r] = k;
        }
    }
    ns_recorder *rec = ns_recorder_new(net, NS_REC_STATE, sorted, npops, file);
    if (!rec) {
        free(vi);
        free(ui);
        free(up);
        return NS_EINVAL;
    }
    rec->vars = vi;
    rec->nvars = nvars;
    rec->units = ui;
    rec->unit_pop = up;
    rec->nunits = rows;
    rec->interval = every;
    return NS_OK;
}

int ns_net_record_state(ns_net *net, ns_pop *pop, const char *const *vars, int nvars,
                        const size_t *units, size_t nunits, double interval_ms, const char *file)
{
    return ns_net_record_states(net, &pop, 1, vars, nvars, units, nunits, interval_ms, file);
}

int ns_net_record_rate(ns_net *net, ns_pop *const *pops, int n, double bin_ms, const char *file)
{
    int64_t bin = ns_net_steps_exact(net, bin_ms);
    if (bin < 1)
        return ns_error(net->ctx, NS_EINVAL, "bin %g ms must be a positive multiple of dt (%g ms), at most %g ms", bin_ms,
                        net->dt, max_ms(net));
    int64_t *counts = calloc((size_t)(n > 0 ? n : 1), sizeof *counts);
    if (!counts) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    ns_recorder *rec = ns_recorder_new(net, NS_REC_RATE, pops, n, file);
    if (!rec) {
        free(counts);
        return NS_EINVAL;
    }
    rec->bin = bin;
    rec->counts = counts;
    return NS_OK;
}

int ns_net_record_sum(ns_net *net, ns_pop *const *pops, int n, const char *var, double interval_ms, const char *file)
{
    int64_t every = ns_net_steps_exact(net, interval_ms);
    if (every < 1)
        return ns_error(net->ctx, NS_EINVAL, "interval %g ms must be a positive multiple of dt (%g ms), at most %g ms",
                        interval_ms, net->dt, max_ms(net));
    if (!var) return ns_error(net->ctx, NS_EINVAL, "record_sum needs a state variable");
    for (int k = 0; k < n; k++) {
        for (int j = 0; j < k; j++)
            if (pops[j] == pops[k]) return ns_error(net->ctx, NS_EINVAL, "population %s is listed twice", pops[k]->name);
        const ns_model *m = pops[k]->model;
        int v = ns_model_state_index(m, var);
        if (v < 0 || !(m->summed & NS_STATE_SUMMED(v))) {
            char names[256] = "";
            for (int s = 0; s < m->n_state; s++)
                if (m->summed & NS_STATE_SUMMED(s))
                    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "",
                             m->state[s].name);
            return ns_error(net->ctx, NS_EINVAL, "population %s: model %s has no summed state variable '%s' (%s)",
                            pops[k]->name, m->name, var, names[0] ? names : "it has none");
        }
    }
    size_t np = (size_t)(n > 0 ? n : 1);
    int *vi = malloc(np * sizeof *vi);
    double *first = calloc(3 * np, sizeof *first);
    if (!vi || !first) {
        free(vi);
        free(first);
        return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    }
    ns_recorder *rec = ns_recorder_new(net, NS_REC_SUM, pops, n, file);
    if (!rec) {
        free(vi);
        free(first);
        return NS_EINVAL;
    }
    for (int k = 0; k < n; k++) vi[k] = ns_model_state_index(pops[k]->model, var);
    rec->vars = vi;
    rec->nvars = 1;
    rec->interval = every;
    rec->sum_first = first;
    rec->sum_last = first + np;
    rec->sum_dev = first + 2 * np;
    return NS_OK;
}

int ns_net_n_sums(const ns_net *net)
{
    int n = 0;
    for (int k = 0; k < net->nrecs; k++)
        if (net->recs[k]->kind == NS_REC_SUM) n += net->recs[k]->npops;
    return n;
}

int ns_net_sum_summary(const ns_net *net, int k, ns_sum_summary *out)
{
    for (int j = 0; j < net->nrecs; j++) {
        const ns_recorder *rec = net->recs[j];
        if (rec->kind != NS_REC_SUM) continue;
        if (k >= rec->npops) {
            k -= rec->npops;
            continue;
        }
        const double scale = pow(10.0, net->time_decimals); /* times as the record stamps them */
        *out = (ns_sum_summary){rec->pops[k]->name, rec->pops[k]->model->state[rec->vars[k]].name, rec->file,
                                rec->sum_samples, (double)(rec->sum_step0 * net->time_tick) / scale, rec->sum_first[k],
                                (double)(rec->sum_step1 * net->time_tick) / scale, rec->sum_last[k], rec->sum_dev[k]};
        return 0;
    }
    return -1;
}

int ns_net_n_spike_recorders(const ns_net *net)
{
    int n = 0;
    for (int k = 0; k < net->nrecs; k++) n += net->recs[k]->kind == NS_REC_SPIKES;
    return n;
}

static ns_recorder *spike_recorder(const ns_net *net, int k)
{
    for (int j = 0; j < net->nrecs; j++)
        if (net->recs[j]->kind == NS_REC_SPIKES && k-- == 0) return net->recs[j];
    return NULL;
}

const char *ns_net_spike_recorder_path(const ns_net *net, int k)
{
    ns_recorder *rec = spike_recorder(net, k);
    return rec ? rec->path : NULL;
}

int ns_net_spike_recorder_pops(const ns_net *net, int k, ns_pop *const **pops)
{
    ns_recorder *rec = spike_recorder(net, k);
    if (!rec) return 0;
    *pops = rec->pops;
    return rec->npops;
}

void ns_net_populations_file(int network, char *buf, size_t len)
{
    if (network) snprintf(buf, len, "populations_%d.csv", network + 1);
    else snprintf(buf, len, "populations.csv");
}

void ns_net_positions_file(int network, char *buf, size_t len)
{
    if (network) snprintf(buf, len, "positions_%d.csv", network + 1);
    else snprintf(buf, len, "positions.csv");
}

/* The positions of every population with a geometry, when one has. */
static int write_positions(ns_net *net)
{
    int any = 0;
    for (int k = 0; k < net->npops; k++) any |= net->pops[k]->geom != NULL;
    if (!any) return NS_OK;
    char path[4096], tmp[4200], err[4400], name[64];
    ns_net_positions_file(net->ordinal, name, sizeof name);
    int rc = ns_ctx_output_path(net->ctx, name, path, (int)sizeof path);
    if (rc) return rc;
    FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, sizeof err);
    if (!fp) return ns_error(net->ctx, NS_EIO, "%s", err);
    fputs("neuron,x_um,y_um,z_um\n", fp);
    for (int k = 0; k < net->npops; k++)
        if (net->pops[k]->geom) ns_geom_write_csv(fp, net->pops[k]->geom, net->pops[k]->first_id);
    return ns_file_finish(fp, tmp, path, err, sizeof err) ? ns_error(net->ctx, NS_EIO, "%s", err) : NS_OK;
}

static int write_populations(ns_net *net)
{
    char path[4096], tmp[4200], err[4400], name[64];
    ns_net_populations_file(net->ordinal, name, sizeof name);
    int rc = ns_ctx_output_path(net->ctx, name, path, (int)sizeof path);
    if (rc) return rc;
    FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, sizeof err);
    if (!fp) return ns_error(net->ctx, NS_EIO, "%s", err);
    fputs("population,model,first,last,size\n", fp);
    for (int k = 0; k < net->npops; k++) {
        const ns_pop *p = net->pops[k];
        fprintf(fp, "%s,%s,%zu,%zu,%zu\n", p->name, p->model->name, p->first_id, p->first_id + p->n - 1, p->n);
    }
    return ns_file_finish(fp, tmp, path, err, sizeof err) ? ns_error(net->ctx, NS_EIO, "%s", err) : NS_OK;
}

int ns_net_set_team_min(ns_net *net, double units)
{
    if (!(units >= 0) || units > 1e15 || units != floor(units))
        return ns_error(net->ctx, NS_EINVAL, "team_min %g: a whole number of units, 0 or more", units);
    net->team_min = (size_t)units;
    return NS_OK;
}

int ns_net_set_rebalance(ns_net *net, int windows)
{
    if (windows < 0) return ns_error(net->ctx, NS_EINVAL, "rebalance every %d windows: 0 or more", windows);
    net->rebalance_every = windows;
    return NS_OK;
}

int ns_net_set_split(ns_net *net, int split)
{
    if (split != NS_SPLIT_UNITS && split != NS_SPLIT_POPULATIONS)
        return ns_error(net->ctx, NS_EINVAL, "unknown split %d", split);
    if (net->npops)
        return ns_error(net->ctx, NS_EINVAL, "split: set before the first population is made (%d made)", net->npops);
    net->split = split;
    return NS_OK;
}

int ns_net_set_input_mode(ns_net *net, int mode)
{
    int rc = check_open(net, "an input mode");
    if (rc) return rc;
    if (mode < NS_INPUT_AUTO || mode > NS_INPUT_SPARSE) return ns_error(net->ctx, NS_EINVAL, "unknown input mode %d", mode);
    net->input_mode = mode;
    return NS_OK;
}

/* Above this many expected inputs per unit and step, dense rows win. */
#define SPARSE_MAX_INPUTS_PER_STEP 0.25
#define ASSUMED_RATE_HZ 10.0

/* Choose each population's input representation (see ns_net_set_input_mode). */
static void choose_inputs(ns_net *net)
{
    for (int k = 0; k < net->npops; k++) {
        ns_pop *pop = net->pops[k];
        int poisson = 0;
        for (int d = 0; d < net->ndevs; d++) {
            const ns_dev_kind dk = net->devs[d]->kind;
            if (net->devs[d]->tgt == pop && (dk == NS_DEV_CURRENT || dk == NS_DEV_AC || dk == NS_DEV_NOISE) &&
                ns_model_current_port(pop->model) >= 0)
                pop->driven |= 1u << ns_model_current_port(pop->model);
            poisson |= net->devs[d]->tgt == pop && net->devs[d]->kind == NS_DEV_POISSON;
        }
        double syn = 0;
        int graded = 0; /* a graded projection writes the dense input rows; so does a plastic one, whose
                           spikes carry the weight of their pre spike's time (a list would read it later) */
        for (int j = 0; j < net->nprojs; j++)
            if (net->projs[j]->tgt == pop) {
                syn += (double)net->projs[j]->n_syn;
                graded |= net->projs[j]->graded || net->projs[j]->plastic;
                if (net->projs[j]->port_pos >= 0) pop->driven |= 1u << net->projs[j]->port_pos;
                if (net->projs[j]->port_neg >= 0) pop->driven |= 1u << net->projs[j]->port_neg;
            }
        double per_step = syn / (double)pop->n * ASSUMED_RATE_HZ * net->dt * 1e-3;
        if (pop->model->precise) pop->sparse = 1; /* offsets come in lists only */
        else if (!pop->model->sparse_input || graded || pop->unit_params || net->input_mode == NS_INPUT_DENSE) pop->sparse = 0;
        /* a Poisson device writes the dense rows of its target's event port: a population it
         * drives keeps them whatever was asked (lists would never see its spikes) */
        else if (net->input_mode == NS_INPUT_SPARSE) pop->sparse = !poisson;
        else pop->sparse = !poisson && per_step < SPARSE_MAX_INPUTS_PER_STEP;
        /* a state record must see every event of its step, so recorded populations do not lag */
        int recorded = 0;
        for (int r = 0; r < net->nrecs; r++)
            for (int q = 0; q < net->recs[r]->npops; q++)
                recorded |= (net->recs[r]->kind == NS_REC_STATE || net->recs[r]->kind == NS_REC_SUM) &&
                            net->recs[r]->pops[q] == pop;
        pop->lag = pop->sparse && !recorded ? pop->model->sparse_lag : 0;
    }
}

/* The work of stepping a population and delivering its input, for sharing populations out: its
 * units and its incoming synapses (a unit's step costs about what 1,000 synapses' events cost at
 * the rates of cortical models; the measure only needs to rank and add up). */
static double pop_work(const ns_net *net, const ns_pop *pop)
{
    double syn = 0;
    for (int j = 0; j < net->nprojs; j++)
        if (net->projs[j]->tgt == pop) syn += (double)net->projs[j]->n_syn;
    return (double)pop->n + syn / 1000.0;
}

/* Hand each population kept whole on one rank (stepped as one system, or a team) to a rank, and
 * each one stepped as one system, or split by ranks, to a thread: largest first to the least
 * loaded (units and incoming synapses as the measure of work, pop_work; populations split by
 * units load every rank and thread alike), so that such populations step side by side. Which
 * rank or thread steps a population does not change its results. Every rank makes the same
 * choice. */
static void balance_whole(ns_net *net)
{
    const int R = net->transport->nranks, T = net->threads;
    if (R == 1 && T == 1) return;
    double *rload = calloc((size_t)R, sizeof *rload), *tload = calloc((size_t)R * (size_t)T, sizeof *tload);
    double *work = calloc((size_t)net->npops + 1, sizeof *work);
    char *done = calloc((size_t)net->npops + 1, 1);
    if (rload && tload && done && work) {
        for (int k = 0; k < net->npops; k++) work[k] = pop_work(net, net->pops[k]);
        for (;;) {
            int pick = -1;
            for (int k = 0; k < net->npops; k++) {
                const ns_partition *p = &net->pops[k]->part;
                const int movable = !p->placed || (ns_partition_by_ranks(p) && T > 1);
                if (!done[k] && movable && (pick < 0 || work[k] > work[pick])) pick = k;
            }
            if (pick < 0) break;
            ns_pop *pop = net->pops[pick];
            if (ns_partition_by_ranks(&pop->part)) { /* a block on each rank, all on one thread */
                int t = 0;
                for (int j = 1; j < T; j++)
                    if (tload[j] < tload[t]) t = j;
                for (int r = 0; r < R; r++) tload[(size_t)r * (size_t)T + (size_t)t] += work[pick] / R;
                ns_partition_set_thread(&pop->part, t);
                done[pick] = 1;
                continue;
            }
            int r = 0, t = 0;
            for (int j = 1; j < R; j++)
                if (rload[j] < rload[r]) r = j;
            if (pop->part.nblocks == 1) {
                for (int j = 1; j < T; j++)
                    if (tload[(size_t)r * (size_t)T + (size_t)j] < tload[(size_t)r * (size_t)T + (size_t)t]) t = j;
                tload[(size_t)r * (size_t)T + (size_t)t] += work[pick];
            }
            ns_partition_set_owner(&pop->part, r, t);
            rload[r] += work[pick];
            done[pick] = 1;
        }
    }
    free(rload);
    free(tload);
    free(work);
    free(done);
}

static int finalize(ns_net *net)
{
    int rc;
    balance_whole(net);
    choose_inputs(net);
    for (int k = 0; k < net->npops; k++) net->pops[k]->precise_out = net->pops[k]->model->precise;
    for (int k = 0; k < net->nprojs; k++) { /* a spike_source driving a precise target sends exact times */
        ns_pop *src = net->projs[k]->src;
        if (!net->projs[k]->tgt->model->precise || src->model != ns_model_find("spike_source")) continue;
        if (ns_spike_source_set_precise(src->data, net->dt)) return ns_error(net->ctx, NS_ENOMEM, "out of memory");
        src->precise_out = 1;
    }
    net->window = 0;
    net->dmax = 0;
    for (int k = 0; k < net->nprojs; k++) {
        const ns_proj *pr = net->projs[k];
        if (!pr->n_syn) continue;
        /* a target that takes late events lets the window be that much longer than the delay */
        int reach = pr->dmin + pr->tgt->lag;
        if (!net->window || reach < net->window) net->window = reach;
        if (pr->dmax > net->dmax) net->dmax = pr->dmax;
    }
    if (!net->window) { /* no delays to respect: windows of about 1 ms */
        net->window = (int)fmax(1.0, round(1.0 / net->dt));
    }
    net->ring_len = (size_t)(net->dmax + net->window + 1); /* + the slot of a late step */
    int64_t runs[2] = {0, 0}; /* a rank out of memory; the runs' bytes */
    for (int k = 0; k < net->nprojs && !runs[0]; k++) {
        ns_proj *pr = net->projs[k];
        pr->held = ns_proj_held(pr);
        free(pr->hsrc);
        pr->hsrc = NULL;
        if (pr->held && (!(pr->hsrc = calloc((size_t)pr->tgt_blocks, sizeof *pr->hsrc)) || ns_proj_make_runs(pr)))
            runs[0] = 1;
        else runs[1] += (int64_t)ns_proj_run_bytes(pr);
    }
    const int out_here = (int)runs[0]; /* every rank takes part in the sum, whatever it met */
    if (net->transport->nranks > 1 && net->transport->reduce(net->transport, net->ctx, runs, 2, NS_REDUCE_SUM))
        return NS_ERUN;
    if (runs[0]) return ns_error(net->ctx, NS_ENOMEM, out_here ? "out of memory" : "another rank ran out of memory");
    net->run_bytes = (size_t)runs[1];
    for (int k = 0; k < net->npops; k++) {
        /* rings only as long as the delays that write them directly: held spikes enter as their
         * window starts, so a population reached by held spikes alone needs the window's rows */
        ns_pop *pop = net->pops[k];
        int reach = 0;
        for (int j = 0; j < net->nprojs; j++)
            if (net->projs[j]->tgt == pop && net->projs[j]->n_syn && !net->projs[j]->held &&
                net->projs[j]->dmax > reach)
                reach = net->projs[j]->dmax;
        pop->ring_len = pop->sparse ? net->ring_len : (size_t)(reach + net->window + 1);
        pop->held_len = net->ring_len;
        if ((rc = ns_pop_finalize(net, net->pops[k]))) return rc;
        ns_pop_sync(net, net->pops[k], 1);
    }
    for (int k = 0; k < net->nprojs; k++) { /* graded outputs for one window */
        ns_pop *src = net->projs[k]->src;
        const ns_out_port *out = ns_model_output(src->model);
        if (net->projs[k]->graded && out->kind == NS_OUT_GRADED && !src->graded &&
            !(src->graded = calloc((size_t)net->window * (size_t)ns_out_port_width(out) * src->n + 1, sizeof *src->graded)))
            return ns_error(net->ctx, NS_ENOMEM, "out of memory");
    }
    if ((rc = write_populations(net)) || (rc = write_positions(net))) return rc;
    for (int k = 0; k < net->nrecs; k++)
        if ((rc = ns_recorder_open(net, net->recs[k]))) return rc;
    net->finalized = 1;
    net->last_flush = ns_wall_seconds();
    return NS_OK;
}

int ns_net_prepare(ns_net *net) { return net->finalized ? NS_OK : finalize(net); }

int ns_net_flush(ns_net *net)
{
    for (int k = 0; k < net->nrecs; k++)
        if (net->recs[k]->fp && fflush(net->recs[k]->fp))
            return ns_error(net->ctx, NS_EIO, "%s: write failed", net->recs[k]->path);
    return NS_OK;
}

/* Steps of the next window: up to d_min, cut so that state samples fall on window ends. */
static int next_window(const ns_net *net, int64_t left)
{
    int64_t w = net->window < left ? net->window : left;
    for (int k = 0; k < net->nrecs; k++) {
        const ns_recorder *rec = net->recs[k];
        if (rec->kind != NS_REC_STATE && rec->kind != NS_REC_SUM && rec->kind != NS_REC_WEIGHT) continue;
        int64_t to_sample = rec->interval - net->step % rec->interval;
        if (to_sample < w) w = to_sample;
    }
    return (int)w;
}

/* Make the recorded variables of every population whole on every rank at a window end where a
 * state or sum record samples them (ranks step only their own units). Every rank makes the same
 * calls: the records are the same on every rank. */
static int share_recorded(ns_net *net, int nsteps)
{
    ns_transport *tr = net->transport;
    if (tr->nranks == 1) return NS_OK;
    int rc = NS_OK;
    const int64_t end = net->step + nsteps;
    for (int k = 0; k < net->nrecs; k++) {
        const ns_recorder *rec = net->recs[k];
        if ((rec->kind != NS_REC_STATE && rec->kind != NS_REC_SUM) || end % rec->interval) continue;
        for (int p = 0; p < rec->npops; p++)
            for (int v = 0; v < (rec->kind == NS_REC_SUM ? 1 : rec->nvars); v++) {
                const ns_pop *pop = rec->pops[p];
                const int var = rec->kind == NS_REC_SUM ? rec->vars[p] : rec->vars[p * rec->nvars + v];
                int r = tr->share(tr, net, pop->id, pop->state[var], 1);
                if (!rc) rc = r;
            }
    }
    return rc;
}

/* Make every population's state whole on every rank after a run, so scripts and the next run's
 * records read the same values everywhere. */
static int share_state(ns_net *net)
{
    ns_transport *tr = net->transport;
    int rc = NS_OK;
    for (int k = 0; tr->nranks > 1 && k < net->npops; k++)
        for (int v = 0; v < net->pops[k]->model->n_state; v++) {
            int r = tr->share(tr, net, k, net->pops[k]->state[v], 1);
            if (!rc) rc = r;
        }
    return rc;
}

/* After the threads stepped: exchange spikes (threads and ranks) and record (one thread). A step
 * that failed (rc) on any rank stops every rank here, before anything is exchanged. */
static int window_serial(ns_net *net, int nsteps, int rc)
{
    rc = net->transport->exchange(net->transport, net, nsteps, rc); /* the one exchange point */
    if (rc && net->transport->nranks == 1) return rc;
    int shared = share_recorded(net, nsteps); /* made by every rank, whatever the exchange said */
    if (rc || (rc = shared)) return rc;
    if (ns_checkpoint_note_window(net, nsteps)) return ns_error(net->ctx, NS_ENOMEM, "out of memory for spikes in flight");
    for (int k = 0; k < net->nrecs; k++) {
        int rc = ns_recorder_window(net, net->recs[k], nsteps);
        if (rc) return rc;
    }
    return NS_OK;
}

/* The message of a population whose step failed. */
static int step_failure(ns_net *net)
{
    for (int k = 0; k < net->npops; k++)
        if (net->pops[k]->err[0]) return ns_error(net->ctx, NS_ERUN, "population %s: %s", net->pops[k]->name, net->pops[k]->err);
    return ns_error(net->ctx, NS_ENOMEM, "out of memory for spikes");
}

/* What the threads of one run share. */
typedef struct {
    int64_t total, end;
    double t_start, last_report;
    int nsteps;
    int failed;
    int stopped; /* a stop was asked for (a signal): the run ends after the current window */
} run_state;

/* Windows of which one is timed for rebalancing (see ns_net_set_rebalance). */
enum { BALANCE_SAMPLE = 8 };

/* 1 when thread tid steps pop, a population split by ranks whose thread rebalancing may change. */
static int movable_here(const ns_pop *pop, int tid)
{
    return ns_partition_by_ranks(&pop->part) && pop->part.block_of_thread[tid] >= 0;
}

/* Hand this rank's populations split by ranks to its threads afresh by their measured work
 * (ns_net_set_rebalance), and start measuring again. Thread 0, while the others wait. */
static void rebalance_threads(ns_net *net)
{
    const int T = net->threads;
    double *load = calloc(2 * (size_t)T, sizeof *load), *before = load + T;
    int *pick = malloc(((size_t)net->npops + 1) * sizeof *pick), n = 0;
    if (!pick || !load) { /* the assignment stays: a choice of speed only */
        free(pick);
        free(load);
        return;
    }
    for (int k = 0; k < net->npops; k++) {
        ns_pop *pop = net->pops[k];
        if (!ns_partition_by_ranks(&pop->part)) continue;
        const int b = pop->part.my_rank, t = pop->part.thread[b];
        before[t] += pop->busy_s;
        pick[n++] = k;
    }
    for (int i = 1; i < n; i++) /* largest work first (insertion sort: a handful of populations) */
        for (int j = i; j > 0 && net->pops[pick[j]]->busy_s > net->pops[pick[j - 1]]->busy_s; j--) {
            int x = pick[j];
            pick[j] = pick[j - 1];
            pick[j - 1] = x;
        }
    int *to = malloc(((size_t)n + 1) * sizeof *to);
    if (!to) {
        free(pick);
        free(load);
        return;
    }
    for (int i = 0; i < n; i++) {
        int t = 0;
        for (int j = 1; j < T; j++)
            if (load[j] < load[t]) t = j;
        to[i] = t;
        load[t] += net->pops[pick[i]]->busy_s;
    }
    double max_before = 0, max_after = 0;
    for (int t = 0; t < T; t++) {
        max_before = fmax(max_before, before[t]);
        max_after = fmax(max_after, load[t]);
    }
    if (max_before > 0 && max_after < 0.97 * max_before)
        for (int i = 0; i < n; i++) {
            ns_pop *pop = net->pops[pick[i]];
            if (pop->part.thread[pop->part.my_rank] != to[i]) net->moves++;
            ns_partition_set_thread(&pop->part, to[i]);
        }
    for (int i = 0; i < n; i++) net->pops[pick[i]]->busy_s = 0;
    free(pick);
    free(to);
    free(load);
}

/* Wait for the other threads (nothing to wait for with one). */
static void sync_threads(const ns_net *net)
{
    if (net->threads > 1) {
#pragma omp barrier
    }
}

/* The engine loop as thread tid runs it; thread 0 also does the serial parts. */
static void engine_loop(ns_net *net, run_state *rs, int tid)
{
    for (;;) {
        if (tid == 0) { /* every rank ends the run at the same window, with the first failing rank's message */
            rs->stopped = rs->stopped || ns_ctx_stop_requested(net->ctx);
            if (net->transport->agree(net->transport, net->ctx, rs->failed ? NS_ERUN : 0, &rs->stopped)) rs->failed = 1;
            rs->nsteps = (net->step < rs->end && !rs->failed && !rs->stopped) ? next_window(net, rs->end - net->step) : 0;
            if (rs->nsteps && net->threads > 1 && net->rebalance_every && net->windows > 0 &&
                net->windows % net->rebalance_every == 0)
                rebalance_threads(net);
        }
        sync_threads(net);
        const int nsteps = rs->nsteps;
        if (!nsteps) break;
        if (tid == 0) net->window_now = nsteps; /* read after the barrier below */
        /* a window of every BALANCE_SAMPLE times the work of each population rebalancing may move */
        const int timed = net->threads > 1 && net->rebalance_every && net->windows % BALANCE_SAMPLE == 0;
        for (int k = 0; k < net->ndevs; k++) {
            ns_pop *tgt = net->devs[k]->tgt;
            const double t0 = timed && movable_here(tgt, tid) ? ns_wall_seconds() : 0;
            ns_device_inject(net, net->devs[k], tid, nsteps);
            if (t0) tgt->busy_s += ns_wall_seconds() - t0;
        }
        for (int k = 0; k < net->npops; k++) {
            const double t0 = timed && movable_here(net->pops[k], tid) ? ns_wall_seconds() : 0;
            int rc = ns_pop_step(net, net->pops[k], tid, nsteps);
            if (t0) net->pops[k]->busy_s += ns_wall_seconds() - t0;
            if (rc) {
                if (rc != NS_STEP_FAILED) snprintf(net->pops[k]->err, sizeof net->pops[k]->err, "out of memory");
#pragma omp atomic write
                rs->failed = 1;
            }
        }
        sync_threads(net);
        if (tid == 0 && window_serial(net, nsteps, rs->failed ? step_failure(net) : 0)) rs->failed = 1;
        sync_threads(net);
        if (!rs->failed) {
            /* the rows of a window's spikes lie anywhere in tables far larger than the caches and
             * each projection has few of them: their offsets are asked for first, every
             * projection's, then each projection's rows two projections ahead of its delivery */
            enum { ROWS_AHEAD = 2 };
            for (int k = 0; k < net->nprojs; k++) ns_proj_prefetch(net->projs[k], tid, 0);
            for (int k = 0; k < ROWS_AHEAD && k < net->nprojs; k++) ns_proj_prefetch(net->projs[k], tid, 1);
            for (int k = 0; k < net->nprojs; k++) {
                if (k + ROWS_AHEAD < net->nprojs) ns_proj_prefetch(net->projs[k + ROWS_AHEAD], tid, 1);
                ns_pop *tgt = net->projs[k]->tgt;
                const double t0 = timed && movable_here(tgt, tid) ? ns_wall_seconds() : 0;
                const int rc = ns_proj_deliver(net, net->projs[k], tid);
                if (t0) tgt->busy_s += ns_wall_seconds() - t0;
                if (rc) {
#pragma omp atomic write
                    rs->failed = 1;
                }
            }
        }
        sync_threads(net); /* delivery done before the clock moves and the next window starts */
        if (tid == 0) {
            net->step += nsteps;
            net->windows++;
            double now = ns_wall_seconds();
            if (now - rs->last_report >= 0.1) {
                ns_ctx_progress(net->ctx, (double)(rs->total - (rs->end - net->step)) * net->dt,
                                (double)rs->total * net->dt, now - rs->t_start);
                rs->last_report = now;
            }
            if (now - net->last_flush >= 1.0) {
                if (ns_net_flush(net)) rs->failed = 1;
                net->last_flush = now;
            }
        }
    }
}

/* At the end of a run, the events of its last step that came after it (see ns_step_args.lag),
 * so that the state the run leaves is complete. */
static void apply_late(ns_net *net, run_state *rs, int tid)
{
    for (int k = 0; k < net->npops; k++)
        if (net->pops[k]->lag && ns_pop_step(net, net->pops[k], tid, 0)) {
#pragma omp atomic write
            rs->failed = 1;
        }
}

int ns_net_run(ns_net *net, double t_ms)
{
    int64_t total = ns_net_steps_exact(net, t_ms);
    if (total < 0 || t_ms < 0)
        return ns_error(net->ctx, NS_EINVAL, "run time %g ms must be a non-negative multiple of dt (%g ms), at most %g ms",
                        t_ms, net->dt, max_ms(net));
    if (total > max_steps(net) - net->step)
        return ns_error(net->ctx, NS_EINVAL, "run time %g ms would take the network past %g ms, the longest time the "
                        "step counter holds (it is at %g ms)", t_ms, max_ms(net), ns_net_time(net));
    int rc;
    if (!net->finalized && (rc = finalize(net))) return rc;
    run_state rs = {.total = total, .end = net->step + total, .t_start = ns_wall_seconds()};
    rs.last_report = rs.t_start;
    if (net->threads == 1) {
        engine_loop(net, &rs, 0);
        apply_late(net, &rs, 0);
    } else {
#pragma omp parallel num_threads(net->threads)
        {
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            engine_loop(net, &rs, tid);
            apply_late(net, &rs, tid);
        }
    }
    for (int k = 0; k < net->npops; k++) ns_pop_sync(net, net->pops[k], 0); /* public state current */
    if (net->transport->nranks > 1) { /* every rank: the same failure, then the whole state */
        if (net->transport->agree(net->transport, net->ctx, rs.failed ? NS_ERUN : 0, NULL)) rs.failed = 1;
        if (!rs.failed && share_state(net)) rs.failed = 1;
    }
    for (int k = 0; k < net->nrecs; k++) /* weights: the last sample and the matrix */
        if (net->recs[k]->kind == NS_REC_WEIGHT && ns_plastic_rec_end(net, net->recs[k])) rs.failed = 1;
    net->simulate_s += ns_wall_seconds() - rs.t_start;
    ns_ctx_note_time(net->ctx, net->ordinal, ns_net_time(net));
    ns_ctx_progress(net->ctx, (double)total * net->dt, (double)total * net->dt, ns_wall_seconds() - rs.t_start);
    if (ns_net_flush(net)) rs.failed = 1;
    if (rs.failed) return ns_error(net->ctx, NS_ERUN, "at t = %g ms: %s", ns_net_time(net), ns_ctx_errmsg(net->ctx));
    if (rs.stopped && net->step < rs.end)
        return ns_error(net->ctx, NS_EINTR, "interrupted at t = %g ms of %g ms", ns_net_time(net),
                        (double)rs.end * net->dt);
    return NS_OK;
}
