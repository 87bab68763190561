/* sim/runinfo.c — writes run.json (see runinfo.h) with proper JSON string escaping; written to a
 * temporary name and renamed, so a reader never sees half a file. */
#include "sim/runinfo.h"

#include <stdio.h>
#include <string.h>

static void put_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(fp, "\\%c", c);
        else if (c < 0x20) fprintf(fp, "\\u%04x", c);
        else fputc(c, fp);
    }
    fputc('"', fp);
}

int ns_runinfo_write(ns_ctx *ctx, const ns_script *s, const char *status, double wall_s)
{
    char path[4096], tmp[4200];
    int rc = ns_ctx_output_path(ctx, "run.json", path, (int)sizeof path);
    if (rc) return rc;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp) return ns_error(ctx, NS_EIO, "%s: cannot write", path);
    fprintf(fp, "{\n  \"nsim_version\": \"%s\",\n  \"script\": ", NS_VERSION);
    put_string(fp, s->script);
    fprintf(fp, ",\n  \"status\": ");
    put_string(fp, status);
    fprintf(fp, ",\n  \"seed\": %llu,\n  \"threads\": %d,\n", (unsigned long long)ns_ctx_seed(ctx), ns_ctx_threads(ctx));
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
    fprintf(fp, "  \"solvers\": {%s%s},\n", s->solvers, s->solvers[0] ? "\n  " : "");
    fprintf(fp, "  \"build_s\": %.6f,\n  \"simulate_s\": %.6f,\n  \"wall_s\": %.6f\n}\n", s->build_s, s->simulate_s,
            wall_s);
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return ns_error(ctx, NS_EIO, "%s: write failed", path);
    }
    return NS_OK;
}
