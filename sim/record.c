/* sim/record.c — recorders stream CSV while the run goes on: memory stays bounded by one window,
 * and files are flushed at least once per wall second, so what was recorded before a failure is
 * on disk. Spikes are written in (time, neuron) order, whatever the thread count. */
#include "sim/net_types.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

/* A time given in ticks of 10^-dec ms, printed with dec decimals. */
static char *put_ticks(char *p, int64_t ticks, int dec)
{
    int64_t scale = 1;
    for (int i = 0; i < dec; i++) scale *= 10;
    p = put_u64(p, (uint64_t)(ticks / scale));
    if (dec) {
        *p++ = '.';
        int64_t frac = ticks % scale;
        for (int64_t d = scale / 10; d; d /= 10) *p++ = (char)('0' + (frac / d) % 10);
    }
    return p;
}

int ns_recorder_open(ns_net *net, ns_recorder *rec)
{
    int rc = ns_ctx_output_path(net->ctx, rec->file, rec->path, (int)sizeof rec->path);
    if (!rc) rc = ns_ctx_note_record(net->ctx, rec->file, net->ordinal);
    if (rc) return rc;
    if (!(rec->fp = fopen(rec->path, "w")))
        return ns_error(net->ctx, NS_EIO, "%s: cannot write: %s", rec->path, strerror(errno));
    setvbuf(rec->fp, NULL, _IOFBF, 1 << 20);
    switch (rec->kind) {
    case NS_REC_SPIKES:
        fputs("t_ms,neuron\n", rec->fp);
        break;
    case NS_REC_STATE:
        fputs("t_ms,neuron", rec->fp);
        for (int v = 0; v < rec->nvars; v++)
            fprintf(rec->fp, ",%s", rec->pops[0]->model->state[rec->vars[v]].name);
        fputc('\n', rec->fp);
        break;
    case NS_REC_RATE:
        fputs("t_ms", rec->fp);
        for (int k = 0; k < rec->npops; k++) fprintf(rec->fp, ",%s", rec->pops[k]->name);
        fputc('\n', rec->fp);
        rec->cur_bin = net->step / rec->bin;
        break;
    }
    return ferror(rec->fp) ? ns_error(net->ctx, NS_EIO, "%s: write failed", rec->path) : NS_OK;
}

static void write_spikes(ns_net *net, ns_recorder *rec, int nsteps)
{
    size_t at[rec->npops > 0 ? rec->npops : 1];
    memset(at, 0, sizeof at);
    char line[64];
    for (int k = 0; k < nsteps; k++) {
        int64_t ticks = (net->step + k + 1) * net->time_tick;
        for (int p = 0; p < rec->npops; p++) {
            const ns_pop *pop = rec->pops[p];
            while (at[p] < pop->win.n && pop->win.step[at[p]] == k) {
                char *e = put_ticks(line, ticks, net->time_decimals);
                *e++ = ',';
                e = put_u64(e, pop->first_id + pop->win.unit[at[p]]);
                *e++ = '\n';
                fwrite(line, 1, (size_t)(e - line), rec->fp);
                at[p]++;
            }
        }
    }
}

static void write_rate_rows(ns_net *net, ns_recorder *rec, int64_t upto_bin)
{
    double bin_s = (double)rec->bin * net->dt * 1e-3;
    char line[64];
    for (; rec->cur_bin < upto_bin; rec->cur_bin++) {
        char *e = put_ticks(line, rec->cur_bin * rec->bin * net->time_tick, net->time_decimals);
        fwrite(line, 1, (size_t)(e - line), rec->fp);
        for (int p = 0; p < rec->npops; p++) {
            fprintf(rec->fp, ",%.6g", (double)rec->counts[p] / ((double)rec->pops[p]->n * bin_s));
            rec->counts[p] = 0;
        }
        fputc('\n', rec->fp);
    }
}

static void count_rates(ns_net *net, ns_recorder *rec, int nsteps)
{
    for (int p = 0; p < rec->npops; p++) {
        const ns_pop *pop = rec->pops[p];
        for (size_t j = 0; j < pop->win.n; j++) {
            int64_t b = (net->step + pop->win.step[j] + 1) / rec->bin; /* by time stamp, as spikes.csv */
            if (b > rec->cur_bin) write_rate_rows(net, rec, b);
            rec->counts[p]++;
        }
    }
    write_rate_rows(net, rec, (net->step + nsteps) / rec->bin);
}

static void write_state(ns_net *net, ns_recorder *rec, int nsteps)
{
    int64_t end = net->step + nsteps;
    if (end % rec->interval) return;
    char line[64];
    for (size_t u = 0; u < rec->nunits; u++) {
        const int p = rec->unit_pop[u];
        const ns_pop *pop = rec->pops[p];
        char *e = put_ticks(line, end * net->time_tick, net->time_decimals);
        *e++ = ',';
        e = put_u64(e, pop->first_id + rec->units[u]);
        fwrite(line, 1, (size_t)(e - line), rec->fp);
        for (int v = 0; v < rec->nvars; v++)
            fprintf(rec->fp, ",%.10g", pop->state[rec->vars[p * rec->nvars + v]][rec->units[u]]);
        fputc('\n', rec->fp);
    }
}

int ns_recorder_window(ns_net *net, ns_recorder *rec, int nsteps)
{
    if (!rec->fp) return NS_OK;
    switch (rec->kind) {
    case NS_REC_SPIKES: write_spikes(net, rec, nsteps); break;
    case NS_REC_STATE: write_state(net, rec, nsteps); break;
    case NS_REC_RATE: count_rates(net, rec, nsteps); break;
    }
    if (ferror(rec->fp)) return ns_error(net->ctx, NS_EIO, "%s: write failed", rec->path);
    return NS_OK;
}

void ns_recorder_close(ns_recorder *rec)
{
    if (!rec) return;
    if (rec->fp) fclose(rec->fp);
    free(rec->pops);
    free(rec->vars);
    free(rec->units);
    free(rec->unit_pop);
    free(rec->counts);
    free(rec);
}
