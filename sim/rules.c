/* sim/rules.c — the connection rules that use geometry or counts (sim/rules.h). Every draw comes
 * from the connect stream keyed by (projection, unit or synapse, counter), as sim/proj.c's rules
 * do: a rule is a pure function of the seed, visited in a fixed order, whatever the threads. */
#include "sim/rules.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"

int ns_rules_owns(const ns_conn_spec *s)
{
    switch (s->rule) {
    case NS_RULE_FIXED_INDEGREE:
    case NS_RULE_FIXED_OUTDEGREE: return s->unique != 0;
    case NS_RULE_FIXED_TOTAL:
    case NS_RULE_LATTICE:
    case NS_RULE_DISTANCE:
    case NS_RULE_SITE: return 1;
    default: return 0;
    }
}

const char *ns_rules_name(ns_rule r)
{
    switch (r) {
    case NS_RULE_ALL_TO_ALL: return "all_to_all";
    case NS_RULE_ONE_TO_ONE: return "one_to_one";
    case NS_RULE_BERNOULLI: return "bernoulli";
    case NS_RULE_FIXED_INDEGREE: return "fixed_indegree";
    case NS_RULE_FIXED_OUTDEGREE: return "fixed_outdegree";
    case NS_RULE_LIST: return "list";
    case NS_RULE_FIXED_TOTAL: return "fixed_total";
    case NS_RULE_LATTICE: return "lattice";
    case NS_RULE_DISTANCE: return "distance";
    case NS_RULE_SITE: return "site";
    }
    return "?";
}

/* A uniform index in [0, n). */
static size_t pick(ns_rule_seq *q, size_t n)
{
    size_t v = (size_t)(ns_rule_seq_next(q) * (double)n);
    return v < n ? v : n - 1;
}

/* The site grid and the population placed on it, for the site rule. */
static void site_sides(const ns_rule_job *j, const ns_geom **grid, const ns_geom **other)
{
    *grid = j->spec->sites_post ? j->tgt_geom : j->src_geom;
    *other = j->spec->sites_post ? j->src_geom : j->tgt_geom;
}

static int no_self(const ns_rule_job *j) { return j->same && !j->spec->autapses; }

/* ---- checks ---- */

static int need_geometry(ns_ctx *ctx, const ns_rule_job *j, const char *rule)
{
    if (!j->src_geom || !j->tgt_geom)
        return ns_error(ctx, NS_EINVAL, "rule %s needs a geometry (ring, grid or positions) on %s", rule,
                        !j->src_geom ? j->src_name : j->tgt_name);
    if (j->src_geom->n != j->n_src || j->tgt_geom->n != j->n_tgt)
        return ns_error(ctx, NS_EINVAL, "rule %s needs units as targets, not the %zu input channels of %s", rule,
                        j->n_tgt, j->tgt_name);
    return NS_OK;
}

static int check_lattice(ns_ctx *ctx, const ns_rule_job *j)
{
    const ns_conn_spec *s = j->spec;
    const ns_geom *a = j->src_geom, *b = j->tgt_geom;
    ns_metric m;
    if (s->neighbours == 0) {
        if (!(isfinite(s->radius) && s->radius > 0))
            return ns_error(ctx, NS_EINVAL, "lattice radius = %g µm is outside (0, inf)", s->radius);
        return ns_geom_metric(ctx, a, j->src_name, b, j->tgt_name, &m);
    }
    if (s->neighbours == 2) {
        if (a->kind != NS_GEOM_RING || b->kind != NS_GEOM_RING || a->n != b->n)
            return ns_error(ctx, NS_EINVAL, "lattice neighbours = 2 joins two rings of one size, not %s %s (%zu) and %s %s (%zu)",
                            ns_geom_kind_name(a), j->src_name, a->n, ns_geom_kind_name(b), j->tgt_name, b->n);
        if (a->n < 3)
            return ns_error(ctx, NS_EINVAL, "lattice neighbours = 2 needs a ring of at least 3 units, %s has %zu",
                            j->src_name, a->n);
        return NS_OK;
    }
    if (s->neighbours != 4 && s->neighbours != 8)
        return ns_error(ctx, NS_EINVAL, "lattice neighbours = %d is not 2 (ring), 4 or 8 (grid), or 0 with a radius",
                        s->neighbours);
    if (a->kind != NS_GEOM_GRID || b->kind != NS_GEOM_GRID || a->nx != b->nx || a->ny != b->ny ||
        a->periodic != b->periodic)
        return ns_error(ctx, NS_EINVAL,
                        "lattice neighbours = %d joins two grids of one shape (nx, ny, periodic), not %s %s and %s %s",
                        s->neighbours, ns_geom_kind_name(a), j->src_name, ns_geom_kind_name(b), j->tgt_name);
    if (a->periodic && (a->nx < 3 || a->ny < 3))
        return ns_error(ctx, NS_EINVAL,
                        "lattice neighbours = %d on a periodic grid needs nx and ny of at least 3 (%s is %zu x %zu): a "
                        "smaller one meets the same neighbour twice",
                        s->neighbours, j->src_name, a->nx, a->ny);
    return NS_OK;
}

static int check_distance(ns_ctx *ctx, const ns_rule_job *j)
{
    const ns_conn_spec *s = j->spec;
    if (s->kernel != NS_KERNEL_GAUSSIAN && s->kernel != NS_KERNEL_EXPONENTIAL)
        return ns_error(ctx, NS_EINVAL, "distance kernel %d is not gaussian or exponential", s->kernel);
    if (!(s->p0 >= 0 && s->p0 <= 1)) return ns_error(ctx, NS_EINVAL, "distance p0 = %g is outside [0, 1]", s->p0);
    if (!(isfinite(s->scale) && s->scale > 0))
        return ns_error(ctx, NS_EINVAL, "distance %s = %g µm is outside (0, inf)",
                        s->kernel == NS_KERNEL_GAUSSIAN ? "sigma" : "lambda", s->scale);
    if (!(isfinite(s->cutoff) && s->cutoff >= 0))
        return ns_error(ctx, NS_EINVAL, "distance cutoff = %g µm is outside (0, inf)", s->cutoff);
    ns_metric m;
    return ns_geom_metric(ctx, j->src_geom, j->src_name, j->tgt_geom, j->tgt_name, &m);
}

static int check_site(ns_ctx *ctx, const ns_rule_job *j)
{
    const ns_geom *g, *o;
    site_sides(j, &g, &o);
    const char *gname = j->spec->sites_post ? j->tgt_name : j->src_name;
    const char *oname = j->spec->sites_post ? j->src_name : j->tgt_name;
    if (g->kind != NS_GEOM_GRID)
        return ns_error(ctx, NS_EINVAL, "rule site needs a grid of sites: %s is a %s (sites = \"%s\")", gname,
                        ns_geom_kind_name(g), j->spec->sites_post ? "post" : "pre");
    if (o->kind == NS_GEOM_RING)
        return ns_error(ctx, NS_EINVAL, "rule site places units by their x, y: %s is a ring", oname);
    for (size_t k = 0; k < o->n; k++) {
        const double *p = o->pos + 3 * k;
        if (ns_geom_cell(g, p[0], p[1]) < 0)
            return ns_error(ctx, NS_EINVAL,
                            "rule site: unit %zu of %s at (%g, %g) µm lies outside the grid %s, [0, %g) x [0, %g) µm",
                            k, oname, p[0], p[1], gname, (double)g->nx * g->spacing, (double)g->ny * g->spacing);
    }
    return NS_OK;
}

int ns_rules_check(ns_ctx *ctx, const ns_rule_job *j)
{
    const ns_conn_spec *s = j->spec;
    const int self = no_self(j);
    int rc;
    switch (s->rule) {
    case NS_RULE_FIXED_INDEGREE:
    case NS_RULE_FIXED_OUTDEGREE: {
        if (!s->unique) return NS_OK;
        const int in = s->rule == NS_RULE_FIXED_INDEGREE;
        size_t avail = (in ? j->n_src : j->n_tgt) - (size_t)self;
        if ((size_t)s->K > avail)
            return ns_error(ctx, NS_EINVAL,
                            "%s K = %ld without multapses is outside [0, %zu]: each %s has %zu distinct %s in %s%s",
                            ns_rules_name(s->rule), s->K, avail, in ? "target" : "source", avail,
                            in ? "sources" : "targets", in ? j->src_name : j->tgt_name,
                            self ? " (autapses off)" : "");
        return NS_OK;
    }
    case NS_RULE_FIXED_TOTAL: {
        if (s->N < 0 || s->N > (long)UINT32_MAX)
            return ns_error(ctx, NS_EINVAL, "fixed_total N = %ld synapses is outside [0, %u]", s->N, UINT32_MAX);
        double pairs = (double)j->n_src * (double)j->n_tgt - (self ? (double)j->n_src : 0);
        if (s->N > 0 && pairs < 1)
            return ns_error(ctx, NS_EINVAL, "fixed_total N = %ld: %s has no pair to draw without autapses", s->N,
                            j->src_name);
        if (s->unique && (double)s->N > pairs)
            return ns_error(ctx, NS_EINVAL,
                            "fixed_total N = %ld without multapses is outside [0, %.0f], the distinct pairs from %s to %s%s",
                            s->N, pairs, j->src_name, j->tgt_name, self ? " (autapses off)" : "");
        return NS_OK;
    }
    case NS_RULE_LATTICE:
        if ((rc = need_geometry(ctx, j, "lattice"))) return rc;
        return check_lattice(ctx, j);
    case NS_RULE_DISTANCE:
        if ((rc = need_geometry(ctx, j, "distance"))) return rc;
        return check_distance(ctx, j);
    case NS_RULE_SITE:
        if ((rc = need_geometry(ctx, j, "site"))) return rc;
        return check_site(ctx, j);
    default: return NS_OK;
    }
}

/* ---- estimates ---- */

double ns_rules_estimate(const ns_rule_job *j, int *exact)
{
    const ns_conn_spec *s = j->spec;
    const double ns = (double)j->n_src, nt = (double)j->n_tgt;
    *exact = 1;
    switch (s->rule) {
    case NS_RULE_FIXED_INDEGREE: return nt * (double)s->K;
    case NS_RULE_FIXED_OUTDEGREE: return ns * (double)s->K;
    case NS_RULE_FIXED_TOTAL: return (double)s->N;
    case NS_RULE_SITE: return j->spec->sites_post ? ns : nt;
    case NS_RULE_LATTICE:
    case NS_RULE_DISTANCE: {
        *exact = 0;
        if (s->rule == NS_RULE_LATTICE && s->neighbours) return ns * s->neighbours;
        const ns_geom *t = j->tgt_geom;
        double per = nt; /* without a density: every target */
        double reach = s->rule == NS_RULE_LATTICE ? s->radius : s->cutoff > 0 ? s->cutoff : HUGE_VAL;
        if (t && t->kind == NS_GEOM_GRID) { /* targets within reach, and the kernel's mass on them */
            double r = reach + t->spacing;
            per = fmin(per, 3.141592653589793 * r * r / (t->spacing * t->spacing));
            if (s->rule == NS_RULE_DISTANCE)
                per = fmin(per, 6.283185307179586 * (s->scale + t->spacing) * (s->scale + t->spacing) /
                                    (t->spacing * t->spacing) * (s->kernel == NS_KERNEL_EXPONENTIAL ? 2 : 1));
        } else if (t && t->kind == NS_GEOM_RING) {
            per = fmin(per, 2 * reach / t->spacing + 1);
        }
        return ns * per * (s->rule == NS_RULE_DISTANCE ? s->p0 : 1);
    }
    default: return 0;
    }
}

/* ---- rules ---- */

/* Each unit u of n_gen draws K distinct partners from [0, n_pick) (itself excluded when no_self),
 * by Floyd's sampling: K draws, a uniform K-subset. mark is n_pick bytes of 0, left so. */
static void degree_unique(const ns_rule_job *j, ns_rule_emit emit, void *user, unsigned char *mark, uint32_t *chosen)
{
    const ns_conn_spec *s = j->spec;
    const int in = s->rule == NS_RULE_FIXED_INDEGREE, self = no_self(j);
    const size_t n_gen = in ? j->n_tgt : j->n_src, n_pick = in ? j->n_src : j->n_tgt;
    const size_t m = n_pick - (size_t)self, K = (size_t)s->K;
    ns_rule_seq q = {.seed = j->seed, .proj = j->proj};
    for (size_t u = 0; u < n_gen; u++) {
        ns_rule_seq_start(&q, (uint32_t)u);
        for (size_t c = m - K, k = 0; c < m; c++, k++) {
            size_t t = pick(&q, c + 1);
            if (mark[t]) t = c;
            mark[t] = 1;
            chosen[k] = (uint32_t)t;
        }
        for (size_t k = 0; k < K; k++) {
            size_t v = chosen[k];
            mark[v] = 0;
            if (self && v >= u) v++; /* the candidates skip u itself */
            if (in) emit(user, (uint32_t)v, (uint32_t)u, (uint32_t)u, (uint32_t)k);
            else emit(user, (uint32_t)u, (uint32_t)v, (uint32_t)u, (uint32_t)k);
        }
    }
}

/* N pairs, each uniform over the allowed pairs: with replacement, draw k from key (proj, k)
 * (a self pair drawn again when autapses are off); without, selection sampling over the pairs in
 * order (Knuth's algorithm S), source i's draws from key (proj, i). */
static void fixed_total(const ns_rule_job *j, ns_rule_emit emit, void *user)
{
    const ns_conn_spec *s = j->spec;
    const int self = no_self(j);
    const size_t ns = j->n_src, nt = j->n_tgt;
    ns_rule_seq q = {.seed = j->seed, .proj = j->proj};
    if (!s->unique) {
        /* N pairs, each uniform over the allowed ones: their sources are N uniform draws, made
         * here in sorted order as order statistics, U_(k) = S_k / S_(N+1) with S the running
         * sums of N + 1 exponential draws, so that the synapses come out source by source and
         * the tables fill front to back instead of at random places in gigabytes. Each pair's
         * target is uniform (over the source's others without autapses). */
        if (s->N <= 0) return;
        double total = 0.0, sum = 0.0;
        for (long k = 0; k <= s->N; k++) {
            ns_rule_seq_start(&q, (uint32_t)k);
            total -= log(ns_rule_seq_next(&q));
        }
        const double scale = (double)ns / total;
        for (long k = 0; k < s->N; k++) {
            ns_rule_seq_start(&q, (uint32_t)k);
            sum -= log(ns_rule_seq_next(&q));
            size_t i = (size_t)(sum * scale), t;
            if (i >= ns) i = ns - 1;
            if (self) {
                t = pick(&q, nt - 1);
                t += t >= i;
            } else t = pick(&q, nt);
            emit(user, (uint32_t)i, (uint32_t)t, (uint32_t)k, 0);
        }
        return;
    }
    double left = (double)ns * (double)nt - (self ? (double)ns : 0), need = (double)s->N;
    for (size_t i = 0; i < ns && need > 0; i++) {
        ns_rule_seq_start(&q, (uint32_t)i);
        uint32_t made = 0;
        for (size_t t = 0; t < nt && need > 0; t++) {
            if (self && i == t) continue;
            if (ns_rule_seq_next(&q) * left < need) {
                emit(user, (uint32_t)i, (uint32_t)t, (uint32_t)i, made++);
                need--;
            }
            left--;
        }
    }
}

static void lattice(const ns_rule_job *j, ns_rule_emit emit, void *user)
{
    const ns_conn_spec *s = j->spec;
    const ns_geom *a = j->src_geom, *b = j->tgt_geom;
    const int self = no_self(j);
    if (s->neighbours == 2) {
        const size_t n = a->n;
        for (size_t i = 0; i < n; i++) {
            emit(user, (uint32_t)i, (uint32_t)((i + n - 1) % n), (uint32_t)i, 0);
            emit(user, (uint32_t)i, (uint32_t)((i + 1) % n), (uint32_t)i, 1);
        }
        return;
    }
    if (s->neighbours) {
        static const int off[8][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}, {-1, -1}, {1, -1}, {-1, 1}, {1, 1}};
        const long nx = (long)a->nx, ny = (long)a->ny;
        for (size_t i = 0; i < a->n; i++) {
            long x = (long)i % nx, y = (long)i / nx;
            uint32_t made = 0;
            for (int k = 0; k < s->neighbours; k++) {
                long tx = x + off[k][0], ty = y + off[k][1];
                if (a->periodic) {
                    tx = (tx + nx) % nx;
                    ty = (ty + ny) % ny;
                } else if (tx < 0 || tx >= nx || ty < 0 || ty >= ny) {
                    continue;
                }
                emit(user, (uint32_t)i, (uint32_t)(ty * nx + tx), (uint32_t)i, made++);
            }
        }
        return;
    }
    ns_metric m;
    ns_geom_metric(NULL, a, "", b, "", &m); /* checked before */
    const double r = s->radius * (1 + 1e-12);
    for (size_t i = 0; i < a->n; i++) {
        uint32_t made = 0;
        for (size_t t = 0; t < b->n; t++)
            if (!(self && i == t) && ns_geom_distance(&m, a, i, b, t) <= r)
                emit(user, (uint32_t)i, (uint32_t)t, (uint32_t)i, made++);
    }
}

static void distance(const ns_rule_job *j, ns_rule_emit emit, void *user)
{
    const ns_conn_spec *s = j->spec;
    const ns_geom *a = j->src_geom, *b = j->tgt_geom;
    const int self = no_self(j), gauss = s->kernel == NS_KERNEL_GAUSSIAN;
    const double cut = s->cutoff > 0 ? s->cutoff : HUGE_VAL, L = s->scale;
    ns_metric m;
    ns_geom_metric(NULL, a, "", b, "", &m);
    ns_rule_seq q = {.seed = j->seed, .proj = j->proj};
    for (size_t i = 0; i < a->n; i++) {
        ns_rule_seq_start(&q, (uint32_t)i);
        uint32_t made = 0;
        for (size_t t = 0; t < b->n; t++) {
            double u = ns_rule_seq_next(&q); /* one draw per pair, used or not: pair (i, t) keeps its draw */
            if (self && i == t) continue;
            double d = ns_geom_distance(&m, a, i, b, t);
            if (d > cut) continue;
            double p = s->p0 * (gauss ? exp(-0.5 * (d / L) * (d / L)) : exp(-d / L));
            if (u < p) emit(user, (uint32_t)i, (uint32_t)t, (uint32_t)i, made++);
        }
    }
}

static void site(const ns_rule_job *j, ns_rule_emit emit, void *user)
{
    const ns_geom *g, *o;
    site_sides(j, &g, &o);
    for (size_t k = 0; k < o->n; k++) {
        uint32_t c = (uint32_t)ns_geom_cell(g, o->pos[3 * k], o->pos[3 * k + 1]);
        if (j->spec->sites_post) emit(user, (uint32_t)k, c, (uint32_t)k, c);
        else emit(user, c, (uint32_t)k, c, (uint32_t)k);
    }
}

int ns_rules_run(ns_ctx *ctx, const ns_rule_job *j, ns_rule_emit emit, void *user)
{
    const ns_conn_spec *s = j->spec;
    switch (s->rule) {
    case NS_RULE_FIXED_INDEGREE:
    case NS_RULE_FIXED_OUTDEGREE: {
        size_t n_pick = s->rule == NS_RULE_FIXED_INDEGREE ? j->n_src : j->n_tgt;
        unsigned char *mark = calloc(n_pick + 1, 1);
        uint32_t *chosen = malloc(((size_t)s->K + 1) * sizeof *chosen);
        if (!mark || !chosen) {
            free(mark);
            free(chosen);
            return ns_error(ctx, NS_ENOMEM, "out of memory drawing %ld partners among %zu", s->K, n_pick);
        }
        degree_unique(j, emit, user, mark, chosen);
        free(mark);
        free(chosen);
        return NS_OK;
    }
    case NS_RULE_FIXED_TOTAL: fixed_total(j, emit, user); return NS_OK;
    case NS_RULE_LATTICE: lattice(j, emit, user); return NS_OK;
    case NS_RULE_DISTANCE: distance(j, emit, user); return NS_OK;
    case NS_RULE_SITE: site(j, emit, user); return NS_OK;
    default: return NS_OK;
    }
}
