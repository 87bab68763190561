/* tests/test_registry.c — a sweep over every model of models/models.def: its tables are complete
 * and its defaults valid, a short driven run stays finite, an ODE model's Jacobian equals central
 * differences of its right-hand side, and docs/models.md's tables are what the descriptor says. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "models/model.h"
#include "cli/model_docs.h"
#include "base/rng.h"
#include "tests/harness.h"
#include "tests/testlib.h"

/* The parameter and state tables: every row named, with a unit and a meaning; defaults finite and
 * inside their range; offsets inside the struct; the engine's limits kept. */
static void tables(const ns_model *m)
{
    char err[256];
    NS_CHECK(m->version == NS_MODEL_VERSION, "%s: version %d", m->name, m->version);
    NS_CHECK(m->doc && *m->doc, "%s: no doc line", m->name);
    NS_CHECK(ns_model_check_limits(m, err, sizeof err) == 0, "%s", err);
    for (int i = 0; i < m->n_params; i++) {
        const ns_param *p = &m->params[i];
        NS_CHECK(p->name && *p->name && p->unit && *p->unit && p->doc && *p->doc,
                 "%s: parameter %d lacks a name, unit or doc", m->name, i);
        NS_CHECK(isfinite(p->def) && p->min <= p->def && p->def <= p->max, "%s.%s: default %g outside [%g, %g]",
                 m->name, p->name, p->def, p->min, p->max);
        NS_CHECK(ns_model_check_param(m, i, p->def, err, sizeof err) == 0, "%s", err);
        NS_CHECK(p->offset + sizeof(double) <= m->params_size, "%s.%s: offset %zu beyond the struct (%zu bytes)",
                 m->name, p->name, p->offset, m->params_size);
        NS_CHECK(ns_model_param_index(m, p->name) == i, "%s.%s: named twice", m->name, p->name);
    }
    for (int k = 0; k < m->n_state; k++) {
        const ns_state_var *v = &m->state[k];
        NS_CHECK(v->name && *v->name && v->unit && *v->unit && v->doc && *v->doc,
                 "%s: state variable %d lacks a name, unit or doc", m->name, k);
        NS_CHECK(v->bound > 0, "%s.%s: bound %g", m->name, v->name, v->bound);
        for (int j = 0; j < k; j++) NS_CHECK(strcmp(m->state[j].name, v->name), "%s.%s: named twice", m->name, v->name);
    }
    for (int j = 0; j < ns_model_count(); j++)
        if (ns_model_at(j) != m) NS_CHECK(strcmp(ns_model_at(j)->name, m->name), "model %s registered twice", m->name);
    NS_CHECK(m->n_inputs == 0 || m->inputs != NULL, "%s: %d input ports but no table", m->name, m->n_inputs);
    for (int k = 0; k < m->n_inputs; k++) {
        const ns_in_port *in = &m->inputs[k];
        NS_CHECK(in->name && in->unit, "%s: input port %d has no name or unit", m->name, k);
        NS_CHECK(!in->count_param || ns_model_param_index(m, in->count_param) >= 0,
                 "%s: input port %d counts its channels by an unknown parameter", m->name, k);
    }
}

/* The default parameters pass the model's own checks at dt 0.1 and 0.01 ms. */
static void defaults_validate(const ns_model *m)
{
    void *params = calloc(1, m->params_size + 1), *consts = calloc(1, m->consts_size + 1);
    ns_model_defaults(m, params);
    const double dts[] = {0.1, 0.01};
    for (int d = 0; d < 2; d++) {
        char err[512] = "";
        NS_CHECK(!m->init || m->init(params, consts, dts[d], err, sizeof err) == 0, "%s at dt %g: %s", m->name,
                 dts[d], err);
    }
    free(params);
    free(consts);
}

enum { N = 8, CHUNKS = 10 }; /* units of a swept population; runs of a sweep */
#define X(x, c, k, i) (x)[((size_t)(c) * NS_MODEL_MAX_STATE + (size_t)(k)) * N + (size_t)(i)]

/* A run of N units of m with default parameters for t_ms, driven (driven 1) as its kind allows:
 * spike times for a source, a signal for cells, a DC current where there is a current receptor,
 * else Poisson spikes; or left alone (0). The run goes in CHUNKS runs of t_ms / CHUNKS (runs
 * continue); the public state after chunk c goes to X(x, c, k, i) (a model with a strongly
 * attracting rest may forget its input within a few steps), the spike count to *spikes, the
 * drive's name to *how. 0, or -1 after a failed check. */
static int run_once(const ns_model *m, double dt, double t_ms, int driven, double *x, int64_t *spikes,
                    const char **how)
{
    ns_ctx *ctx = test_ctx(11, 1);
    ns_net *net = ns_net_create(ctx, dt);
    ns_pop *p = NULL;
    int rc = 0;
    *how = "";
    if (m->kind == NS_KIND_SOURCE) {
        size_t offset[N + 1];
        double times[3 * N];
        for (int i = 0; i <= N; i++) offset[i] = driven ? 3 * (size_t)i : 0;
        for (int i = 0; i < 3 * N; i++) times[i] = (1 + i % 3) * t_ms / 4;
        p = ns_net_add_spike_source(net, N, offset, times, "swept");
        *how = "spike times";
    } else {
        p = ns_net_add_population(net, m->name, N, "swept");
    }
    NS_CHECK(p != NULL, "%s: %s", m->name, ns_ctx_errmsg(ctx));
    if (!p) rc = -1;
    else if (m->kind == NS_KIND_SOURCE) {
    } else if (ns_model_channel_port(m) >= 0) {
        void *params = calloc(1, m->params_size + 1);
        ns_model_defaults(m, params);
        int ch = (int)ns_model_get_param(m, params, ns_model_param_index(m, m->inputs[ns_model_channel_port(m)].count_param));
        free(params);
        enum { S = 10 };
        double times[S], *values = malloc((size_t)(S * ch) * sizeof *values);
        for (int s = 0; s < S; s++) {
            times[s] = s * t_ms / S;
            for (int c = 0; c < ch; c++) values[s * ch + c] = sin(1.0 + s + 0.7 * c);
        }
        if (driven) rc = ns_net_add_signal(net, p, S, times, values, ch);
        free(values);
        *how = "a signal";
    } else if (ns_model_current_port(m) >= 0) {
        const double times[] = {0.0, t_ms}, amps[] = {1000.0, 0.0};
        if (driven) rc = ns_net_add_current(net, p, 2, times, amps);
        *how = "a DC current of 1000 pA";
    } else if (ns_model_event_port(m, 1.0) >= 0) {
        if (driven) rc = ns_net_add_poisson(net, p, 2000.0, 0.5, 0.0, HUGE_VAL);
        *how = "Poisson spikes";
    }
    NS_CHECK(**how, "%s: the sweep knows no way to drive this model", m->name);
    NS_CHECK(rc == 0, "%s: %s", m->name, ns_ctx_errmsg(ctx));
    for (int c = 0; c < CHUNKS && !rc; c++) {
        rc = ns_net_run(net, t_ms / CHUNKS);
        NS_CHECK(rc == 0, "%s %s by %s, dt %g: %s", m->name, driven ? "driven" : "not driven", *how, dt,
                 ns_ctx_errmsg(ctx));
        for (int k = 0; k < m->n_state; k++)
            for (int i = 0; i < N; i++)
                X(x, c, k, i) = m->state[k].internal ? 0 : ns_pop_get_state(p, m->state[k].name, (size_t)i);
    }
    if (!rc) *spikes = ns_pop_n_spikes(p);
    ns_net_free(net);
    test_ctx_free(ctx);
    return rc ? -1 : 0;
}

/* A short driven run of every model succeeds and keeps every public state variable within its
 * bound (so finite) all along, and the drive reached the units: the state or the spike count
 * differs from the same run without it. */
static void short_run(const ns_model *m, double dt, double t_ms)
{
    const size_t len = (size_t)CHUNKS * NS_MODEL_MAX_STATE * N;
    double *x = calloc(len, sizeof *x), *x0 = calloc(len, sizeof *x0);
    int64_t spikes = 0, spikes0 = 0;
    const char *how;
    if (run_once(m, dt, t_ms, 1, x, &spikes, &how) || run_once(m, dt, t_ms, 0, x0, &spikes0, &how)) {
        free(x), free(x0);
        return;
    }
    int finite = 1, moved = spikes != spikes0;
    for (int c = 0; c < CHUNKS; c++)
        for (int k = 0; k < m->n_state; k++) {
            if (m->state[k].internal) continue;
            for (int i = 0; i < N; i++) {
                if (!(fabs(X(x, c, k, i)) <= m->state[k].bound)) {
                    if (finite) printf("%s: unit %d: %s = %g\n", m->name, i, m->state[k].name, X(x, c, k, i));
                    finite = 0;
                }
                if (X(x, c, k, i) != X(x0, c, k, i)) moved = 1;
            }
        }
    free(x), free(x0);
    NS_CHECK(finite, "%s driven by %s, dt %g: every state variable within its bound", m->name, how, dt);
    NS_CHECK(moved, "%s driven by %s, dt %g: the same state and spikes as without the drive", m->name, how, dt);
    if (m->kind == NS_KIND_SOURCE) NS_CHECK(spikes == 3 * N, "%s: %lld spikes, want %d", m->name, (long long)spikes, 3 * N);
}

/* An ODE model's analytic Jacobian against central differences of its right-hand side at random
 * states around its default initial state (default parameters, a random drive). */
static void jacobian(const ns_model *m, int *checked)
{
    if (!m->ode || !m->ode->jac) return;
    ++*checked;
    const ns_ode_unit *u = m->ode;
    const int nv = u->n_vars;
    void *params = calloc(1, m->params_size + 1);
    ns_model_defaults(m, params);
    double *y0 = calloc((size_t)m->n_state, sizeof *y0), *st[NS_MODEL_MAX_STATE];
    for (int k = 0; k < m->n_state; k++) st[k] = &y0[k];
    if (m->init_state) m->init_state(params, st, 1);
    double y[NS_MODEL_MAX_STATE], J[NS_MODEL_MAX_STATE * NS_MODEL_MAX_STATE], fp[NS_MODEL_MAX_STATE],
        fm[NS_MODEL_MAX_STATE];
    double worst = 0;
    for (uint32_t trial = 0; trial < 5; trial++) {
        double r[4];
        for (int c = 0; c < nv; c++) {
            ns_rng_u01x4(99, 7, trial, (uint32_t)c, 0, r);
            y[c] = y0[c] + (2 * r[0] - 1) * (10 + 0.3 * fabs(y0[c]));
        }
        ns_rng_u01x4(99, 8, trial, 0, 0, r);
        const double drive = 1000 * (2 * r[0] - 1);
        memset(J, 0, sizeof J);
        u->jac(params, y, J);
        for (int c = 0; c < nv; c++) {
            const double h = 1e-6 * fmax(1.0, fabs(y[c])), yc = y[c];
            y[c] = yc + h;
            u->rhs(params, y, drive, fp);
            y[c] = yc - h;
            u->rhs(params, y, drive, fm);
            y[c] = yc;
            for (int row = 0; row < nv; row++) {
                double rowmax = 0;
                for (int cc = 0; cc < nv; cc++) rowmax = fmax(rowmax, fabs(J[cc * nv + row]));
                const double fd = (fp[row] - fm[row]) / (2 * h), an = J[c * nv + row];
                const double err = fabs(fd - an) / fmax(fabs(an), 1e-6 * rowmax + 1e-300);
                worst = fmax(worst, err);
                NS_CHECK(err <= 1e-5, "%s: J[d %s/dt, %s] = %.10g, central differences %.10g (state %d)", m->name,
                         m->state[row].name, m->state[c].name, an, fd, trial);
            }
        }
    }
    printf("%s: largest relative difference of the Jacobian from central differences: %.2g\n", m->name, worst);
    free(y0);
    free(params);
}

/* The engine's limits are refusals naming the model and the limit; at the limit is accepted. */
static void limits(void)
{
    char err[256] = "";
    ns_model fake = {.version = NS_MODEL_VERSION, .name = "fake", .n_inputs = NS_MAX_INPUTS,
                     .n_state = NS_MODEL_MAX_STATE};
    NS_CHECK(ns_model_check_limits(&fake, err, sizeof err) == 0, "%s", err);
    fake.n_inputs = NS_MAX_INPUTS + 1;
    NS_CHECK(ns_model_check_limits(&fake, err, sizeof err) == -1, "9 input ports refused");
    NS_CHECK(!strcmp(err, "model fake declares 9 input ports; the engine takes 0 to 8"), "%s", err);
    fake.n_inputs = 3;
    fake.n_state = NS_MODEL_MAX_STATE + 1;
    NS_CHECK(ns_model_check_limits(&fake, err, sizeof err) == -1, "65 state variables refused");
    NS_CHECK(!strcmp(err, "model fake declares 65 state variables; the engine takes 0 to 64"), "%s", err);
}

/* The whole of a file, or NULL. */
static char *slurp(FILE *fp)
{
    size_t n = 0, cap = 4096;
    char *s = malloc(cap);
    for (size_t k; s && (k = fread(s + n, 1, cap - n - 1, fp)) > 0;) {
        n += k;
        if (n + 1 == cap) s = realloc(s, cap *= 2);
    }
    if (s) s[n] = 0;
    return s;
}

/* `nsim models --markdown ARGS` (stderr too): its output, and its exit status in *status. */
static char *run_nsim(const char *args, int *status)
{
    const char *nsim = getenv("NSIM");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' models --markdown %s 2>&1", nsim, args);
    FILE *fp = popen(cmd, "r");
    if (!fp) return NULL;
    char *out = slurp(fp);
    int st = pclose(fp);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

/* docs/models.md holds every model's tables between its markers, exactly as the descriptor makes
 * them, and names no model that is not registered; the command prints the same. */
static void docs(void)
{
    const char *root = getenv("NSIM_SOURCE_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/models.md", root ? root : ".");
    FILE *fp = fopen(path, "r");
    NS_CHECK(fp != NULL, "cannot read %s", path);
    if (!fp) return;
    char *doc = slurp(fp);
    fclose(fp);
    int status = -1;
    NS_CHECK(getenv("NSIM") != NULL, "NSIM names no nsim command to check (meson test sets it)");
    char *all = getenv("NSIM") ? run_nsim("", &status) : NULL;
    NS_CHECK(all && status == 0, "nsim models --markdown: status %d", all ? status : -1);
    for (int i = 0; i < ns_model_count(); i++) {
        const ns_model *m = ns_model_at(i);
        char begin[256], end[256];
        ns_model_docs_marker(m->name, 0, begin, sizeof begin);
        ns_model_docs_marker(m->name, 1, end, sizeof end);
        strcat(begin, "\n");
        char *want = ns_model_docs_tables(m), *b = strstr(doc, begin), *e = b ? strstr(b, end) : NULL;
        NS_CHECK(b && e, "docs/models.md has no block '%s' ... '%s' (add one, then sh tools/gen_model_docs.sh)",
                 begin, end);
        if (b && e) {
            b += strlen(begin);
            NS_CHECK(strlen(want) == (size_t)(e - b) && !memcmp(want, b, strlen(want)),
                     "docs/models.md: the tables of %s differ from nsim models --markdown %s "
                     "(sh tools/gen_model_docs.sh refreshes them)",
                     m->name, m->name);
            NS_CHECK(!strstr(e, begin), "docs/models.md: a second block of %s", m->name);
        }
        if (getenv("NSIM")) {
            char *one = run_nsim(m->name, &status);
            NS_CHECK(one && status == 0 && !strcmp(one, want), "nsim models --markdown %s: status %d, output:\n%s",
                     m->name, status, one ? one : "");
            NS_CHECK(all && strstr(all, want), "nsim models --markdown lacks the tables of %s", m->name);
            free(one);
        }
        free(want);
    }
    /* every marker names a registered model */
    const char *tag = "<!-- nsim models --markdown ";
    for (const char *p = strstr(doc, tag); p; p = strstr(p + 1, tag)) {
        char name[128] = "";
        sscanf(p + strlen(tag), "%127[A-Za-z0-9_]", name);
        NS_CHECK(ns_model_find(name) != NULL, "docs/models.md: a block of '%s', which is no model", name);
    }
    if (getenv("NSIM")) {
        char *bad = run_nsim("nosuch", &status);
        NS_CHECK(status == 2 && bad && !strcmp(bad, "nsim: unknown model 'nosuch' (nsim models lists them)\n"),
                 "unknown model: status %d, '%s'", status, bad ? bad : "");
        free(bad);
    }
    free(all);
    free(doc);
}

int main(void)
{
    int jacobians = 0;
    NS_CHECK(ns_model_count() > 0, "an empty registry");
    for (int i = 0; i < ns_model_count(); i++) {
        const ns_model *m = ns_model_at(i);
        tables(m);
        defaults_validate(m);
        short_run(m, 0.1, 20.0);
        short_run(m, 0.01, 2.0);
        jacobian(m, &jacobians);
    }
    NS_CHECK(jacobians >= 2, "only %d ODE models with a Jacobian (adex and lif_ode have one)", jacobians);
    limits();
    docs();
    NS_TEST_MAIN_END();
}
