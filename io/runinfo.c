/* io/runinfo.c — writes run.json (see runinfo.h) with proper JSON string escaping; written to a
 * temporary name and renamed, so a reader never sees half a file. It also reads back the one
 * thing the analysis commands need from it: which network wrote a record. */
#include "io/runinfo.h"
#include "sim/transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/files.h"
#include "sim/net.h"

/* One character as it appears inside a JSON string. */
static void escape_char(unsigned char c, char out[8])
{
    if (c == '"' || c == '\\') snprintf(out, 8, "\\%c", c);
    else if (c < 0x20) snprintf(out, 8, "\\u%04x", c);
    else out[0] = (char)c, out[1] = '\0';
}

void ns_runinfo_escape(const char *s, char *out, size_t len)
{
    size_t used = 0;
    char e[8];
    if (len) out[0] = '\0';
    for (; s && *s; s++) {
        escape_char((unsigned char)*s, e);
        const size_t k = strlen(e);
        if (used + k + 1 > len) break;
        memcpy(out + used, e, k + 1);
        used += k;
    }
}

static void put_string(FILE *fp, const char *s)
{
    char e[8];
    fputc('"', fp);
    for (; *s; s++) {
        escape_char((unsigned char)*s, e);
        fputs(e, fp);
    }
    fputc('"', fp);
}

/* If text starts with s as put_string writes it, the text after it; else NULL. */
static const char *match_string(const char *text, const char *s)
{
    char e[8];
    if (*text++ != '"') return NULL;
    for (; *s; s++) {
        escape_char((unsigned char)*s, e);
        size_t n = strlen(e);
        if (strncmp(text, e, n) != 0) return NULL;
        text += n;
    }
    return *text == '"' ? text + 1 : NULL;
}

/* One record per line, so that a reader can find its line. */
static void put_records(FILE *fp, const ns_ctx *ctx)
{
    fputs("  \"records\": {", fp);
    for (int k = 0; k < ns_ctx_n_records(ctx); k++) {
        int network;
        double t_ms;
        const char *name = ns_ctx_record(ctx, k, &network, &t_ms);
        char pops[64];
        ns_net_populations_file(network, pops, sizeof pops);
        fputs(k ? ",\n    " : "\n    ", fp);
        put_string(fp, name);
        fprintf(fp, ": {\"network\": %d, \"populations\": ", network + 1);
        put_string(fp, pops);
        fprintf(fp, ", \"simulated_ms\": %.17g}", t_ms);
    }
    fputs(ns_ctx_n_records(ctx) ? "\n  },\n" : "},\n", fp);
}

int ns_runinfo_write(ns_ctx *ctx, const ns_script *s, const char *status, double wall_s)
{
    char path[4096], tmp[4200], err[4400];
    int rc = ns_ctx_output_path(ctx, "run.json", path, (int)sizeof path);
    if (rc) return rc;
    FILE *fp = ns_file_start(path, tmp, sizeof tmp, err, sizeof err);
    if (!fp) return ns_error(ctx, NS_EIO, "%s", err);
    fprintf(fp, "{\n  \"nsim_version\": \"%s\",\n  \"script\": ", NS_VERSION);
    put_string(fp, s->script);
    fprintf(fp, ",\n  \"status\": ");
    put_string(fp, status);
    if (strcmp(status, "ok") && strcmp(status, "running") && s->errmsg[0]) {
        fprintf(fp, ",\n  \"error\": ");
        put_string(fp, s->errmsg);
    }
    if (ns_ctx_previous_run(ctx)) {
        fprintf(fp, ",\n  \"previous_run\": ");
        put_string(fp, ns_ctx_previous_run(ctx));
    }
    int rank, ranks;
    ns_transport_world(&rank, &ranks); /* MPI ranks (1 without mpirun); threads are per rank */
    fprintf(fp, ",\n  \"seed\": %llu,\n  \"ranks\": %d,\n  \"threads\": %d,\n", (unsigned long long)ns_ctx_seed(ctx),
            ranks, ns_ctx_threads(ctx));
    fprintf(fp, "  \"parameters\": {");
    for (int i = 0; i < s->nparams; i++) {
        fprintf(fp, "%s\n    ", i ? "," : "");
        put_string(fp, s->params[i].name);
        fputs(": ", fp);
        put_string(fp, s->params[i].value);
    }
    fprintf(fp, "%s},\n", s->nparams ? "\n  " : "");
    fprintf(fp, "  \"networks\": %d,\n  \"dt_ms\": %g,\n  \"simulated_ms\": %.17g,\n  \"window_steps\": %d,\n",
            s->networks, s->dt, s->t_ms, s->window_steps);
    fprintf(fp, "  \"neurons\": %zu,\n  \"synapses\": %zu,\n  \"synapse_bytes\": %zu,\n  \"spikes\": %lld,\n",
            s->units, s->synapses, s->synapse_bytes, (long long)s->spikes);
    put_records(fp, ctx);
    fputs("  \"derived\": {", fp);
    for (int k = 0; k < ns_ctx_n_derived(ctx); k++) {
        const char *from, *by, *name = ns_ctx_derived(ctx, k, &from, &by);
        fprintf(fp, "%s\n    ", k ? "," : "");
        put_string(fp, name);
        fputs(": {\"from\": ", fp);
        put_string(fp, from);
        fputs(", \"by\": ", fp);
        put_string(fp, by);
        fputc('}', fp);
    }
    fputs(ns_ctx_n_derived(ctx) ? "\n  },\n" : "},\n", fp);
    fprintf(fp, "  \"solvers\": {%s%s},\n", s->solvers, s->solvers[0] ? "\n  " : "");
    fprintf(fp, "  \"sums\": {%s%s},\n", s->sums, s->sums[0] ? "\n  " : "");
    if (ranks > 1) /* what the exchange between ranks cost rank 0 */
        fprintf(fp, "  \"exchange\": {\"seconds\": %.6f, \"bytes_sent\": %lld, \"windows\": %lld},\n", s->exchange_s,
                (long long)s->exchange_bytes, (long long)s->windows);
    fprintf(fp, "  \"build_s\": %.6f,\n  \"simulate_s\": %.6f,\n  \"wall_s\": %.6f\n}\n", s->build_s, s->simulate_s,
            wall_s);
    return ns_file_finish(fp, tmp, path, err, sizeof err) ? ns_error(ctx, NS_EIO, "%s", err) : NS_OK;
}

void ns_runinfo_origin(const char *record, char *populations, size_t len, double *t_ms)
{
    const char *base = ns_path_base(record);
    char path[4096], pops[256] = "populations.csv";
    *t_ms = 0;
    char *json = ns_path_beside(record, "run.json", path, sizeof path) ? NULL : ns_file_read_all(path);
    const char *at = json ? strstr(json, "\n  \"simulated_ms\": ") : NULL;
    if (at) *t_ms = atof(at + 19); /* the whole run's, when the record is not listed */
    const char *recs = json ? strstr(json, "\n  \"records\": {\n") : NULL;
    for (const char *line = recs ? strchr(recs + 1, '\n') : NULL; line && !strncmp(line, "\n    \"", 6);
         line = strchr(line + 1, '\n')) {
        const char *after = match_string(line + 5, base);
        if (!after || strncmp(after, ": {", 3) != 0) continue;
        const char *end = strchr(after, '\n');
        size_t n = end ? (size_t)(end - after) : strlen(after);
        char entry[512];
        snprintf(entry, sizeof entry, "%.*s", (int)(n < sizeof entry ? n : sizeof entry - 1), after);
        const char *p = strstr(entry, "\"populations\": \"");
        const char *t = strstr(entry, "\"simulated_ms\": ");
        if (p) sscanf(p + 16, "%255[^\"]", pops);
        if (t) *t_ms = atof(t + 16);
    }
    free(json);
    ns_path_beside(record, pops, populations, len);
}

static void add_text(ns_runinfo_text *t, const char *key, const char *value)
{
    t->keys[t->n] = key;
    t->vals[t->n++] = value;
}

void ns_runinfo_text_source(ns_runinfo_text *t, const char *source)
{
    t->n = 0;
    add_text(t, "Software", "nsim " NS_VERSION);
    add_text(t, "Source", source);
}

void ns_runinfo_text_script(ns_runinfo_text *t, const ns_script *s, const char *title, double dt_ms)
{
    size_t used = 0;
    t->params[0] = '\0';
    for (int i = 0; i < s->nparams && used < sizeof t->params; i++)
        used += (size_t)snprintf(t->params + used, sizeof t->params - used, "%s%s=%s", i ? " " : "",
                                 s->params[i].name, s->params[i].value);
    snprintf(t->seed, sizeof t->seed, "%llu", (unsigned long long)ns_ctx_seed(s->ctx));
    snprintf(t->dt, sizeof t->dt, "%g", dt_ms);
    t->n = 0;
    if (title) add_text(t, "Title", title);
    add_text(t, "Software", "nsim " NS_VERSION);
    add_text(t, "Script", s->script);
    add_text(t, "Seed", t->seed);
    if (dt_ms > 0) add_text(t, "dt_ms", t->dt);
    add_text(t, "Parameters", t->params);
}
